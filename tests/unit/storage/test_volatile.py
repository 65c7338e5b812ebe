"""Volatile lines and change counting: Oxidized's transcripts, hand-written lines, diff cases."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.unit.storage.test_scrub import FIXTURES, SIMULATIONS, load, outputs, platform_of, simulation_for
from vcollector.storage.volatile import count_changes, significant_text

SIGNIFICANT = sorted(FIXTURES.glob("*__significant_changes.yaml"))

# What significant_text drops from each recorded device, exactly: nothing more, nothing less.
DROPPED = {
    "eos__DCS-7050SX3-48YC8_4.29.2F": [],
    "ios__C9200L-24P-4G_17.09.04a": [
        "LAB-SW123_9200L uptime is 44 weeks, 4 days, 1 hour, 16 minutes",
        "Uptime for this control processor is 44 weeks, 4 days, 1 hour, 17 minutes",
        "System returned to ROM by Reload Command at 11:29:34 CET Thu Nov 2 2023",
        "System restarted at 11:41:27 CET Thu Nov 2 2023",
        "Configuration last modified by 0.0.0.0 at 0-0-00 00:00:00",
        "Current configuration : 20546 bytes",
        "! Last configuration change at 09:37:40 CEST Tue Aug 20 2024 by oxidized",
        "! NVRAM config last updated at 09:37:37 CEST Tue Aug 20 2024 by oxidized",
    ],
    "ios__C9800-L-F-K9_17.06.05": [
        "OXIDIZED-WLC1 uptime is 25 weeks, 5 days, 22 hours, 52 minutes",
        "Uptime for this control processor is 25 weeks, 5 days, 22 hours, 53 minutes",
        "System returned to ROM by Reload Command at 13:53:05 CET Wed Mar 13 2024",
        "System restarted at 13:56:37 CET Wed Mar 13 2024",
        "Configuration last modified by 0.0.0.0 at 0-0-00 00:00:00",
        "Current configuration : 19796 bytes",
        "! Last configuration change at 13:57:08 CET Wed Mar 13 2024",
        "! NVRAM config last updated at 15:26:39 CET Wed Mar 13 2024 by oxidized",
    ],
    "ios__asr920_16.8.1b": [
        "hostname uptime is 20 weeks, 1 day, 1 hour, 40 minutes",
        "Uptime for this control processor is 20 weeks, 1 day, 1 hour, 44 minutes",
        "System returned to ROM by reload",
        "System restarted at 12:47:37 UTC Mon Jun 17 2024",
        "Current configuration : 16734 bytes",
        "! Last configuration change at 11:54:34 UTC Thu Aug 29 2024 by 123456",
    ],
    "junos__srx300_22.4": ["## Last commit: 2024-12-06 11:41:05 UTC by root"],
    "junos__srx300_22.4_wo_cluster": ["## Last commit: 2024-12-06 11:41:05 UTC by root"],
    "nxos__C93180YC-FX3J_10.4.5": [
        "Kernel uptime is 217 day(s), 3 hour(s), 52 minute(s), 47 second(s)",
        "!Running configuration last done at: Tue Sep 30 09:02:26 2025",
        "!Time: Mon Dec  1 14:37:04 2025",
    ],
    "nxos__N5548_7.3.13": [
        "Kernel uptime is 68 day(s), 19 hour(s), 44 minute(s), 42 second(s)",
        "!Time: Sat Mar 28 20:40:06 2026",
    ],
    "nxos__dummy_no_show_inventory_all": [],
}


def dropped_lines(text: str, platform: str | None) -> list[str]:
    kept = significant_text(text, platform).split("\n")
    return [line.rstrip("\r") for line in text.split("\n") if line not in kept]


# --- the recorded devices ------------------------------------------------------------------------


@pytest.mark.parametrize("simulation", SIMULATIONS, ids=lambda p: p.name)
@pytest.mark.parametrize("use_platform", [True, False], ids=["own-platform", "unknown-platform"])
def test_fixture_drops_exactly_the_volatile_lines(simulation: Path, use_platform: bool) -> None:
    platform = platform_of(simulation) if use_platform else None
    dropped = [line for text in outputs(simulation) for line in dropped_lines(text, platform)]
    assert dropped == DROPPED[simulation.name.removesuffix("__simulation.yaml")]


@pytest.mark.parametrize("changes_file", SIGNIFICANT, ids=lambda p: p.name)
def test_fixture_significant_changes(changes_file: Path) -> None:
    simulation = simulation_for(changes_file, "significant_changes")
    stored = simulation.with_name(simulation.name.replace("__simulation.yaml", "__output.txt"))
    # The capture as vcollector stores it, plus Oxidized's own stored output with its comments.
    text = "\n".join([*outputs(simulation), stored.read_text(encoding="utf-8")])
    lines = text.split("\n")
    significant = significant_text(text, platform_of(simulation)).split("\n")
    expected = load(changes_file)
    for fail in expected["fail"]:
        assert fail in lines, f"{fail!r} is not in the transcript"
        assert fail not in significant
    for wanted in expected["pass"]:
        assert wanted in lines, f"{wanted!r} is not in the transcript"
        assert wanted in significant


def test_fixture_only_volatile_lines_differ_means_no_change() -> None:
    simulation = FIXTURES / "ios__C9200L-24P-4G_17.09.04a__simulation.yaml"
    before = "\n".join(outputs(simulation))
    after = (
        before.replace("44 weeks, 4 days, 1 hour, 16 minutes", "44 weeks, 5 days, 2 hours, 1 minute")
        .replace("09:37:40 CEST Tue Aug 20 2024", "10:00:00 CEST Wed Aug 21 2024")
        .replace("Current configuration : 20546 bytes", "Current configuration : 20547 bytes")
    )
    assert after != before
    assert count_changes(significant_text(before, "cisco_ios"), significant_text(after, "cisco_ios")) == (
        0,
        0,
    )
    changed = after.replace("hostname LAB-SW123_9200L", "hostname LAB-SW124_9200L")
    assert count_changes(significant_text(before, "cisco_ios"), significant_text(changed, "cisco_ios")) == (
        1,
        1,
    )


# --- one line per rule ---------------------------------------------------------------------------

VOLATILE = [
    ("cisco_ios", "! Last configuration change at 13:57:08 CET Wed Mar 13 2024 by admin"),
    ("cisco_ios", "! NVRAM config last updated at 15:26:39 CET Wed Mar 13 2024 by oxidized"),
    ("cisco_ios", "! No configuration change since last restart"),
    ("cisco_ios", "ntp clock-period 17179865"),
    ("cisco_ios", "Current configuration : 20546 bytes"),
    ("cisco_ios", "Configuration last modified by 10.1.1.1 at 3-4-24 10:12:13"),
    ("cisco_xe", "R1 uptime is 44 weeks, 4 days, 1 hour, 16 minutes"),
    ("cisco_xe", "Uptime for this control processor is 44 weeks, 4 days"),
    ("cisco_ios", "System returned to ROM by power-on"),
    ("cisco_ios", "System restarted at 11:41:27 CET Thu Nov 2 2023"),
    ("cisco_ios", "Load for five secs: 5%/0%; one minute: 4%; five minutes: 4%"),
    ("cisco_ios", "Time source is NTP, 10:12:13.456 UTC Mon Mar 4 2024"),
    ("cisco_ios", "No time source, *10:12:13.456 UTC Mon Mar 4 2024"),
    ("cisco_ios", "*10:12:13.456 UTC Mon Mar 4 2024"),
    ("cisco_xr", "Mon Mar  4 10:12:13.456 UTC"),
    ("cisco_xr", "!! Last configuration change at Mon Mar  4 10:12:13 2024 by admin"),
    ("cisco_xr", "System uptime is 1 week 2 days 3 hours"),
    ("cisco_nxos", "!Time: Mon Dec  1 14:37:04 2025"),
    ("cisco_nxos", "!Running configuration last done at: Tue Sep 30 09:02:26 2025"),
    ("cisco_nxos", "Kernel uptime is 217 day(s), 3 hour(s), 52 minute(s), 47 second(s)"),
    ("cisco_nxos", "10:12:13.456 UTC Mon Mar 04 2024"),
    ("arista_eos", "! Time: Fri Dec  6 11:32:31 2024"),
    ("arista_eos", "! Startup-config last modified at  Fri Dec  6 11:32:31 2024 by admin"),
    ("arista_eos", "Uptime: 1 week, 2 days, 3 hours and 4 minutes"),
    ("arista_eos", "Free memory: 5404124 kB"),
    ("arista_eos", "Mon Mar  4 10:12:13 2024"),
    ("juniper_junos", "## Last commit: 2024-12-06 11:41:05 UTC by root"),
    ("juniper_junos", "## Last changed: 2024-12-06 11:41:05 UTC"),
    ("juniper_junos", "System booted: 2024-12-01 10:00:00 UTC (5d 01:32 ago)"),
    ("juniper_junos", "Protocols started: 2024-12-01 10:01:00 UTC (5d 01:31 ago)"),
    ("juniper_junos", "Last configured: 2024-12-06 11:41:05 UTC (00:01:02 ago) by root"),
    ("juniper_junos", "Current time: 2024-12-06 11:42:07 UTC"),
    ("juniper_junos", "  scale-subscriber                  12        1000       0    permanent"),
]


@pytest.mark.parametrize(("platform", "line"), VOLATILE, ids=[f"{p}:{line[:40]}" for p, line in VOLATILE])
def test_volatile_line_is_dropped(platform: str, line: str) -> None:
    for eol in ("\n", "\r\n"):
        assert (
            significant_text(f"hostname R1{eol}{line}{eol}end{eol}", platform) == f"hostname R1{eol}end{eol}"
        )
    assert significant_text(f"a\n{line}\nb\n", None) == "a\nb\n"  # the union drops every family's lines


ORDINARY = [
    ("cisco_ios", "hostname R1"),
    ("cisco_ios", " description uptime is great"),
    ("cisco_ios", " description Uptime: 5 nines"),
    ("cisco_ios", "! Processor ID: FCL2XXXXXXX"),
    ("cisco_ios", "Building configuration..."),
    ("cisco_ios", "ntp server 10.0.0.1"),
    ("cisco_ios", "clock timezone CET 1 0"),
    ("cisco_ios", "Configuration register is 0x2102"),
    ("cisco_ios", "Processor board ID JAE24FFFFFF"),
    ("cisco_nxos", "!Command: show running-config"),
    ("arista_eos", "! device: eos-test-01 (DCS-7050SX3-48YC8, EOS-4.29.2F)"),
    ("juniper_junos", "version 22.4R3-S2.11;"),
    ("juniper_junos", '    description "failover (two days ago"'),
]


@pytest.mark.parametrize(("platform", "line"), ORDINARY, ids=[f"{p}:{line[:40]}" for p, line in ORDINARY])
def test_ordinary_line_is_kept(platform: str, line: str) -> None:
    text = f"a\n{line}\nb\n"
    assert significant_text(text, platform) == text
    assert significant_text(text, None) == text


def test_platform_sets_differ_and_unknown_is_the_union() -> None:
    text = "## Last commit: 2024-12-06 11:41:05 UTC by root\n!Time: Mon Dec  1 14:37:04 2025\nhostname R1\n"
    assert significant_text(text, "cisco_ios") == text  # neither is an IOS line
    assert significant_text(text, "juniper_junos") == "!Time: Mon Dec  1 14:37:04 2025\nhostname R1\n"
    assert (
        significant_text(text, "cisco_nxos")
        == "## Last commit: 2024-12-06 11:41:05 UTC by root\nhostname R1\n"
    )
    for platform in (None, "cisco_asa"):
        assert significant_text(text, platform) == "hostname R1\n"


def test_auto_bandwidth_line_only_where_auto_bw_is_on() -> None:
    text = (
        "interface Tunnel1\n tunnel mpls traffic-eng bandwidth 1000\n tunnel mpls traffic-eng path-option 1 dynamic\n"
        " tunnel mpls traffic-eng auto-bw frequency 300\n!\n"
        "interface Tunnel2\n tunnel mpls traffic-eng bandwidth 2000\n tunnel mpls traffic-eng path-option 1 dynamic\n!\n"
    )
    assert significant_text(text, "cisco_ios") == text.replace(
        " tunnel mpls traffic-eng bandwidth 1000\n", ""
    )


def test_last_line_and_empty_text() -> None:
    assert significant_text("hostname R1\n!Time: Mon Dec  1 14:37:04 2025", "cisco_nxos") == "hostname R1\n"
    assert significant_text("", None) == ""


# --- count_changes -------------------------------------------------------------------------------

CONFIG = "".join(
    f"interface Gi1/0/{n}\n description port {n}\n switchport access vlan {n % 7 + 1}\n no shutdown\n!\n"
    for n in range(40)
)


def test_count_identical() -> None:
    assert count_changes(CONFIG, CONFIG) == (0, 0)
    assert count_changes("", "") == (0, 0)


def test_count_one_line_changed() -> None:
    assert count_changes(CONFIG, CONFIG.replace(" description port 7\n", " description uplink\n")) == (1, 1)


def test_count_added_only_and_removed_only() -> None:
    added = CONFIG.replace("interface Gi1/0/3\n", "interface Gi1/0/3\n shutdown\n spanning-tree portfast\n")
    assert count_changes(CONFIG, added) == (2, 0)
    assert count_changes(added, CONFIG) == (0, 2)
    assert count_changes("", CONFIG) == (CONFIG.count("\n"), 0)
    assert count_changes(CONFIG, "") == (0, CONFIG.count("\n"))


def test_count_moved_line() -> None:
    lines = CONFIG.splitlines()
    moved = lines[:]
    moved.insert(150, moved.pop(6))  # " description port 1" goes elsewhere: removed there, added here
    assert count_changes(CONFIG, "\n".join(moved) + "\n") == (1, 1)


def test_count_ignores_line_ending_style() -> None:
    assert count_changes(CONFIG, CONFIG.replace("\n", "\r\n")) == (0, 0)


def _lcs(a: list[str], b: list[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        diagonal = 0
        for j, y in enumerate(b, 1):
            diagonal, row[j] = row[j], diagonal + 1 if x == y else max(row[j], row[j - 1])
    return row[-1]


@pytest.mark.parametrize("seed", range(6))
def test_count_large_texts_match_a_true_diff(seed: int) -> None:
    # Over 250,000 line pairs: the patience (unique-line anchor) path, not plain difflib.
    rng = random.Random(seed)
    old = CONFIG.splitlines() * 4
    old = [f"{line} {i}" if rng.random() < 0.5 else line for i, line in enumerate(old)]
    new = old[:]
    for _ in range(rng.randint(1, 12)):
        at = rng.randrange(len(new))
        choice = rng.random()
        if choice < 0.4:
            new[at] = f"changed {rng.random()}"
        elif choice < 0.7:
            new.insert(at, " no cdp enable")
        else:
            del new[at]
    assert len(old) * len(new) > 250_000
    added, removed = count_changes("\n".join(old), "\n".join(new))
    common = _lcs(old, new)
    assert (added, removed) == (len(new) - common, len(old) - common)


def test_count_never_reports_fewer_changes_than_a_true_diff() -> None:
    rng = random.Random(7)
    old = CONFIG.splitlines() * 3
    new = old[:]
    rng.shuffle(new)
    added, removed = count_changes("\n".join(old), "\n".join(new))
    assert added == removed > 0
    assert added >= len(new) - _lcs(old, new)


def test_count_small_texts_are_minimal_or_close() -> None:
    rng = random.Random(3)
    for _ in range(300):
        old = [rng.choice("abcde!") for _ in range(rng.randint(0, 30))]
        new = [rng.choice("abcde!") for _ in range(rng.randint(0, 30))]
        added, removed = count_changes("\n".join(old), "\n".join(new))
        assert added - removed == len(new) - len(old)
        assert added >= len(new) - _lcs(old, new)  # never hides a change
