"""vcollector.parsing.validation: each data command's output checked against its template, on
real device outputs (ntc-templates' test data, Oxidized's recordings of a Catalyst 9200L)."""

from __future__ import annotations

from pathlib import Path

from vcollector.parsing import TfsmValidation, validate
from vcollector_sim.transcripts import load_simulation

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
C9200L = FIXTURES / "oxidized" / "ios__C9200L-24P-4G_17.09.04a__simulation.yaml"
NOT_A_VERSION = "Nothing here looks like a show version.\n"


def raw(platform: str, command: str) -> str:
    return (FIXTURES / "textfsm" / platform / f"{command.replace(' ', '_')}.raw").read_text(encoding="utf-8")


def recorded(command: str) -> str:
    """What the C9200L printed for ``command`` (its echo and the next prompt left out)."""
    lines = load_simulation(C9200L).commands[command].replace("\r\n", "\n").split("\n")
    return "\n".join(lines[1:-1]) + "\n"


def joined(*pieces: tuple[str, str]) -> tuple[str, list[tuple[str, int, int]]]:
    """Outputs joined as the command loop joins them, with their spans."""
    text, spans = "", []
    for command, output in pieces:
        if text and not text.endswith("\n"):
            text += "\n"
        spans.append((command, len(text), len(text) + len(output)))
        text += output
    return text, spans


def test_one_command_that_parses_is_valid_and_its_records_are_a_list() -> None:
    output = raw("cisco_ios", "show version")
    verdict = validate("cisco_ios", output, [("show version", 0, len(output))], TfsmValidation())
    assert verdict.valid and verdict.untemplated == () and verdict.record_count == 1
    document = verdict.document
    assert isinstance(document, list)
    assert document[0]["hostname"] == "router1" and document[0]["version"] == "12.2(54)SG1"


def test_too_few_records_is_invalid_and_says_how_many_from_which_template() -> None:
    output = NOT_A_VERSION
    verdict = validate("cisco_ios", output, [("show version", 0, len(output))], TfsmValidation())
    assert not verdict.valid
    assert verdict.reason == "0 records from template cisco_ios_show_version (min_score 1)"
    assert verdict.document == []
    arp = raw("cisco_ios", "show ip arp")  # 7 entries
    strict = validate("cisco_ios", arp, [("show ip arp", 0, len(arp))], TfsmValidation(min_score=8))
    assert strict.reason == "7 records from template cisco_ios_show_ip_arp (min_score 8)"
    assert validate("cisco_ios", arp, [("show ip arp", 0, len(arp))], TfsmValidation(min_score=7)).valid


def test_min_score_zero_accepts_even_an_empty_parse() -> None:
    verdict = validate("cisco_ios", NOT_A_VERSION, [("show version", 0, 41)], TfsmValidation(min_score=0))
    assert verdict.valid and verdict.document == []


def test_no_template_is_not_validated_and_has_no_records() -> None:
    text = "Clock is synchronized, stratum 3, reference is 10.0.0.1\n"
    verdict = validate("cisco_ios", text, [("show ntp status", 0, len(text))], TfsmValidation(hint="status"))
    assert verdict.valid and verdict.untemplated == ("show ntp status",) and verdict.document is None
    assert validate(None, text, [("show version", 0, len(text))], TfsmValidation()).untemplated == (
        "show version",
    )


def test_the_jobs_tfsm_filter_is_the_hint() -> None:
    # job_312 (arista, "show ip bgp neighbors"): the index only knows "show ip bgp", whose template
    # would reject every neighbour listing; the job's tfsm_filter says which template it meant.
    text = "BGP neighbor is 10.0.0.1, remote AS 65001, external link\n"
    spans = [("show ip bgp neighbors", 0, len(text))]
    without = validate("arista_eos", text, spans, TfsmValidation())
    assert without.checks[0].template == "arista_eos_show_ip_bgp.textfsm"
    hinted = validate("arista_eos", text, spans, TfsmValidation(hint="show_ip_bgp_neighbors"))
    assert hinted.valid and hinted.untemplated == ("show ip bgp neighbors",)


def test_several_commands_each_with_its_own_template_keyed_by_command() -> None:
    text, spans = joined(
        ("show version", recorded("show version")),
        ("show inventory", recorded("show inventory")),
        ("show vtp status", recorded("show vtp status")),
    )
    verdict = validate("cisco_xe", text, spans, TfsmValidation())
    assert verdict.valid and verdict.record_count == 1 + 3 + 1
    document = verdict.document
    assert isinstance(document, dict) and list(document) == [
        "show version",
        "show inventory",
        "show vtp status",
    ]
    assert document["show version"][0]["hostname"] == "LAB-SW123_9200L"  # type: ignore[index]
    assert [item["sn"] for item in document["show inventory"]][:2] == ["JAE24FFFFFF", "JAE24FFFFFF"]  # type: ignore[union-attr]
    assert document["show vtp status"][0]["domain"] == "Oxidized"  # type: ignore[index]


def test_one_bad_command_of_several_makes_the_output_invalid_and_is_named() -> None:
    text, spans = joined(
        ("show version", recorded("show version")),
        ("show inventory", "no inventory today\n"),
        ("show ntp status", "Clock is synchronized\n"),
    )
    verdict = validate("cisco_xe", text, spans, TfsmValidation())
    assert not verdict.valid
    assert (
        verdict.reason == "'show inventory': 0 records from template cisco_ios_show_inventory (min_score 1)"
    )
    assert verdict.untemplated == ("show ntp status",)
    assert verdict.document == {
        "show version": verdict.checks[0].records,
        "show inventory": [],
        "show ntp status": None,
    }


def test_the_same_command_twice_keeps_both_records() -> None:
    clock = "*10:00:00.000 UTC Sun Nov 29 2026\n"
    text, spans = joined(("show clock", clock), ("show clock", clock))
    document = validate("cisco_ios", text, spans, TfsmValidation()).document
    assert isinstance(document, dict) and list(document) == ["show clock", "show clock (2)"]


def test_no_data_command_has_nothing_to_check() -> None:
    verdict = validate("cisco_ios", "", [], TfsmValidation())
    assert verdict.valid and verdict.document is None


def test_spans_that_point_outside_the_output_are_bounded() -> None:
    # Spans may have crossed a broker; they never slice outside the text.
    output = raw("cisco_ios", "show version")
    verdict = validate("cisco_ios", output, [("show version", -5, len(output) + 100)], TfsmValidation())
    assert verdict.valid
    empty = validate("cisco_ios", output, [("show version", 10**9, 10**9 + 1)], TfsmValidation())
    assert empty.document == []
