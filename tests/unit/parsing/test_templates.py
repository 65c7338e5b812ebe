"""vcollector.parsing: template choice and parsing, on real device outputs from ntc-templates' tests."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import typer
from ntc_templates.parse import parse_output as ntc_parse_output
from typer.testing import CliRunner

from vcollector.cli.parse import parse
from vcollector.parsing import Parsed, find_template, meets, ntc_platform, parse_output, preload
from vcollector.parsing import templates as templates_module

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "textfsm"
INVALID = "% Invalid input detected at '^' marker.\n"


def raw(platform: str, command: str) -> str:
    return (FIXTURES / platform / f"{command.replace(' ', '_')}.raw").read_text(encoding="utf-8")


# (platform, command, template, records in the file, a record's fields as read in the raw file)
CASES: list[tuple[str, str, str, int, dict[str, Any]]] = [
    ("cisco_ios", "show version", "cisco_ios_show_version", 1,
     {"hostname": "router1", "version": "12.2(54)SG1", "serial": ["CAT1451S15C"], "hardware": ["WS-C4948E"]}),
    ("cisco_ios", "show ip arp", "cisco_ios_show_ip_arp", 7,
     {"ip_address": "172.16.168.254", "age": "9", "mac_address": "0000.0c36.6965", "interface": "Ethernet0/0"}),
    ("cisco_ios", "show ip bgp summary", "cisco_ios_show_ip_bgp_summary", 10,
     {"bgp_neighbor": "10.0.0.10", "neighbor_as": "65009", "state_or_prefixes_received": "Idle (Admin)"}),
    ("cisco_ios", "show ip bgp", "cisco_ios_show_ip_bgp", 12,
     {"network": "192.168.13.0", "next_hop": "192.168.3.2", "as_path": "10 10"}),
    ("cisco_ios", "show ip interface brief", "cisco_ios_show_ip_interface_brief", 6,
     {"interface": "Ethernet0/2", "status": "administratively down", "proto": "down"}),
    ("cisco_ios", "show interfaces status", "cisco_ios_show_interfaces_status", 23,
     {"port": "Gi1/0/16", "name": "Multi Space to the", "status": "err-disabled", "vlan_id": "16"}),
    ("cisco_ios", "show lldp neighbors", "cisco_ios_show_lldp_neighbors", 4,
     {"neighbor_name": "Juniper-switch1", "local_interface": "Gi2/0/1", "neighbor_interface": "666"}),
    ("cisco_ios", "show inventory", "cisco_ios_show_inventory", 4,
     {"name": "3640 chassis", "vid": "0xFF", "sn": "FF1045C5"}),
    ("cisco_ios", "show ip ospf neighbor", "cisco_ios_show_ip_ospf_neighbor", 3,
     {"neighbor_id": "10.0.0.3", "ip_address": "10.0.3.1", "interface": "Vlan1000"}),
    ("cisco_ios", "show mac address-table", "cisco_ios_show_mac-address-table", 8,
     {"destination_address": "0000.30a3.0167", "type": "static", "vlan_id": "777", "destination_port": ["Router"]}),
    ("cisco_ios", "show ip route", "cisco_ios_show_ip_route", 2,
     {"protocol": "L", "network": "192.168.1.1", "prefix_length": "32", "nexthop_if": "vasileft1"}),
    ("cisco_nxos", "show version", "cisco_nxos_show_version", 1,
     {"hostname": "N9K1", "os": "6.1(2)I3(1)", "serial": "SAL1819S6LU", "platform": "C9396PX"}),
    ("cisco_nxos", "show ip arp", "cisco_nxos_show_ip_arp", 22,
     {"ip_address": "10.215.51.250", "age": "-", "mac_address": "0000.0c9f.f9d3", "interface": "Vlan2515"}),
    ("cisco_nxos", "show ip ospf neighbor", "cisco_nxos_show_ip_ospf_neighbor", 3,
     {"ospf_pid": "DC_UNDERLAY", "neighbor_id": "192.168.1.4", "interface": "Eth1/2"}),
    ("cisco_nxos", "show lldp neighbors", "cisco_nxos_show_lldp_neighbors", 4,
     {"neighbor_name": "PERIMETER.cisco.com", "local_interface": "mgmt0", "neighbor_interface": "Fa1/0/10"}),
    ("cisco_nxos", "show ip bgp summary", "cisco_nxos_show_ip_bgp_summary", 12,
     {"router_id": "2.2.2.3", "local_as": "102", "bgp_neigh": "10.0.0.100", "state_pfxrcd": "Idle"}),
    ("arista_eos", "show version", "arista_eos_show_version", 1,
     {"model": "vEOS", "image": "4.14.7M", "sys_mac": "2803.829a.1347"}),
    ("arista_eos", "show ip arp", "arista_eos_show_ip_arp", 3,
     {"ip_address": "172.22.0.2", "mac_address": "004c.6219.a0f3", "interface": "Ethernet1"}),
    ("arista_eos", "show ip bgp summary", "arista_eos_show_ip_bgp_summary", 2,
     {"bgp_neigh": "10.17.254.78", "neigh_as": "65534", "state_pfxrcd": "7", "router_id": "10.26.0.22"}),
    ("arista_eos", "show lldp neighbors", "arista_eos_show_lldp_neighbors", 4,
     {"local_interface": "Et3/1", "neighbor_name": "tg104.sjc.aristanetworks.com", "neighbor_interface": "Ethernet3/2"}),
    ("arista_eos", "show interfaces status", "arista_eos_show_interfaces_status", 4,
     {"port": "Et3/2/2", "name": "I am a 10G port", "status": "errdisabled", "vlan_id": "10"}),
    ("arista_eos", "show ip interface brief", "arista_eos_show_ip_interface_brief", 5,
     {"interface": "Ethernet5", "ip_address": "10.0.0.1/24", "mtu": "1500"}),
    ("arista_eos", "show mac address-table", "arista_eos_show_mac_address-table", 23,
     {"vlan_id": "3912", "mac_address": "001c.822b.033e", "destination_port": ["Et11"]}),
    ("arista_eos", "show ip route", "arista_eos_show_ip_route", 19,
     {"network": "10.100.233.192", "next_hop": ["10.63.255.10"], "interface": ["Ethernet20"]}),
    ("arista_eos", "show inventory", "arista_eos_show_inventory", 13,
     {"pid": "DCS-7150S-52-CL", "sn": "JPE13120702"}),
    ("juniper_junos", "show version", "juniper_junos_show_version", 1,
     {"hostname": "lab", "model": "mx240", "junos_version": "13.3R1.4"}),
    ("juniper_junos", "show arp no-resolve", "juniper_junos_show_arp_no-resolve", 9,
     {"ip_address": "10.1.13.13", "mac_address": "00:00:00:00:13:13", "interface": "vlan.20"}),
    ("juniper_junos", "show lldp neighbors", "juniper_junos_show_lldp_neighbors", 2,
     {"local_interface": "ge-0/0/0", "neighbor_name": "vmx3", "chassis_id": "2c:6b:f5:a2:08:c0"}),
    ("juniper_junos", "show ospf neighbor", "juniper_junos_show_ospf_neighbor", 2,
     {"ip_address": "10.1.3.3", "neighbor_id": "3.3.3.3", "interface": "ge-0/0/3.0"}),
    ("juniper_junos", "show bgp summary", "juniper_junos_show_bgp_summary", 6,
     {"peer_ip": "198.51.100.200", "flaps": "47", "state": "Establ"}),
]  # fmt: skip


def test_every_fixture_is_covered() -> None:
    on_disk = {(path.parent.name, path.stem) for path in FIXTURES.glob("*/*.raw")}
    covered = {(platform, command.replace(" ", "_")) for platform, command, *_ in CASES}
    assert on_disk == covered | {("cisco_ios", "show_switch_detail")}
    assert len(on_disk) >= 12


@pytest.mark.parametrize(("platform", "command", "template", "count", "fields"), CASES)
def test_real_output_parses(
    platform: str, command: str, template: str, count: int, fields: dict[str, Any]
) -> None:
    assert find_template(platform, command) == f"{template}.textfsm"
    parsed = parse_output(platform, command, raw(platform, command))
    assert parsed is not None
    assert parsed.template == f"{template}.textfsm"
    assert len(parsed.records) == count
    assert any(all(record.get(key) == value for key, value in fields.items()) for record in parsed.records)
    assert meets(parsed, 1)


@pytest.mark.parametrize(("platform", "command", "template", "count", "fields"), CASES[:6])
def test_same_records_as_ntc_templates_itself(
    platform: str, command: str, template: str, count: int, fields: dict[str, Any]
) -> None:
    text = raw(platform, command)
    parsed = parse_output(platform, command, text)
    assert parsed is not None
    assert parsed.records == ntc_parse_output(platform=platform, command=command, data=text)


def test_index_entry_of_two_templates_merges_their_columns() -> None:
    text = raw("cisco_ios", "show switch detail")
    parsed = parse_output("cisco_ios", "show switch detail", text)
    assert parsed is not None
    assert (
        parsed.template
        == "cisco_ios_show_switch_detail.textfsm:cisco_ios_show_switch_detail_stack_ports.textfsm"
    )
    # One stack member: its role from the first template, its stack ports from the second.
    assert [(r["switch"], r["role"], r["status1"], r["neighbor2"]) for r in parsed.records] == [
        ("1", "Master", "Down", "None")
    ]
    assert parsed.records == ntc_parse_output(platform="cisco_ios", command="show switch detail", data=text)


def test_cisco_xe_uses_the_ios_templates() -> None:
    assert ntc_platform("cisco_xe") == "cisco_ios"
    text = raw("cisco_ios", "show ip interface brief")
    xe = parse_output("cisco_xe", "show ip interface brief", text)
    ios = parse_output("cisco_ios", "show ip interface brief", text)
    assert xe is not None and ios is not None
    assert xe == ios
    assert xe.template == "cisco_ios_show_ip_interface_brief.textfsm"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cisco_xe", "cisco_ios"),
        ("cisco_ios_telnet", "cisco_ios"),
        ("arista_eos_ssh", "arista_eos"),
        ("juniper", "juniper_junos"),
        ("cisco-nxos", "cisco_nxos"),
        ("Cisco_NXOS", "cisco_nxos"),
        ("cisco_wlc_ssh", "cisco_wlc_ssh"),  # an ntc-templates platform of its own
        ("cisco_xr", "cisco_xr"),
    ],
)
def test_ntc_platform(given: str, expected: str) -> None:
    assert ntc_platform(given) == expected


def test_abbreviated_command_uses_the_index_completion() -> None:
    assert find_template("cisco_ios", "sh ip int br") == "cisco_ios_show_ip_interface_brief.textfsm"
    assert find_template("arista_eos", "sh ip bgp sum") == "arista_eos_show_ip_bgp_summary.textfsm"


def test_pipe_modifier_still_finds_the_command() -> None:
    assert find_template("cisco_ios", "show ip bgp | begin Network") == "cisco_ios_show_ip_bgp.textfsm"
    assert (
        find_template("cisco_ios", "show ip bgp summary | i 10.0.0")
        == "cisco_ios_show_ip_bgp_summary.textfsm"
    )
    assert find_template("juniper_junos", "show version | no-more") == "juniper_junos_show_version.textfsm"
    assert (
        find_template("juniper_junos", "show arp no-resolve | display xml")
        == "juniper_junos_show_arp_no-resolve.textfsm"
    )
    # NX-OS' index pattern for this one ends in "$": only the modifier-free command finds it
    # (CliTable's own start-of-command rule would give the longer output's show_ip_interface).
    assert (
        find_template("cisco_nxos", "show ip interface brief | no-more")
        == "cisco_nxos_show_ip_interface_brief.textfsm"
    )
    assert find_template("cisco_nxos", "sh ip int br | json") == "cisco_nxos_show_ip_interface_brief.textfsm"
    # The output of "show ip bgp | begin Network" is the table without its header lines.
    table = raw("cisco_ios", "show ip bgp")
    body = table[table.index("    Network") :]
    parsed = parse_output("cisco_ios", "show ip bgp | begin Network", body)
    assert parsed is not None and len(parsed.records) == 12


def test_command_arguments_keep_the_command_template() -> None:
    assert find_template("cisco_ios", "show ip route vrf MGMT") == "cisco_ios_show_ip_route.textfsm"
    assert find_template("cisco_nxos", "show ip arp vrf all") == "cisco_nxos_show_ip_arp.textfsm"


def test_no_template() -> None:
    # ntc-templates 9.3.0 has no NTP template for IOS, and none for "show logging".
    assert find_template("cisco_ios", "show ntp status") is None
    assert parse_output("cisco_ios", "show ntp status", "Clock is synchronized, stratum 3\n") is None
    assert parse_output("arista_eos", "show logging", "Syslog logging: enabled\n") is None
    assert find_template("no_such_platform", "show version") is None


def test_rejected_output_gives_zero_records_not_an_exception() -> None:
    # ntc-templates itself raises here: the template ends in "^. -> Error".
    with pytest.raises(Exception, match="State Error raised"):
        ntc_parse_output(platform="cisco_ios", command="show ip arp", data=INVALID)
    parsed = parse_output("cisco_ios", "show ip arp", INVALID)
    assert parsed == Parsed(template="cisco_ios_show_ip_arp.textfsm", records=[])
    assert not meets(parsed, 1)
    # The pooled template is still good for the next, valid output.
    again = parse_output("cisco_ios", "show ip arp", raw("cisco_ios", "show ip arp"))
    assert again is not None and len(again.records) == 7


@pytest.mark.parametrize(
    ("platform", "command"), [("cisco_ios", "show version"), ("arista_eos", "show ip arp")]
)
def test_garbage_output_does_not_meet_min_score(platform: str, command: str) -> None:
    parsed = parse_output(platform, command, INVALID)
    assert parsed is not None
    assert parsed.records == []
    assert not meets(parsed, 1)


def test_meets_counts_records() -> None:
    three = Parsed(template="t.textfsm", records=[{"a": "1"}, {"a": "2"}, {"a": "3"}])
    assert meets(three, 1) and meets(three, 3) and meets(three, 2.5)
    assert not meets(three, 4) and not meets(three, 3.5)
    assert meets(Parsed(template="t.textfsm", records=[]), 0)


def test_hint_finds_what_the_index_does_not() -> None:
    # The index wants at least "inven" for IOS' inventory; "sh inv" is a valid abbreviation.
    assert find_template("cisco_ios", "sh inv") is None
    assert find_template("cisco_ios", "sh inv", hint="show_inventory") == "cisco_ios_show_inventory.textfsm"
    parsed = parse_output("cisco_ios", "sh inv", raw("cisco_ios", "show inventory"), hint="inventory")
    assert parsed is not None and len(parsed.records) == 4
    # Platform words in the hint are dropped: a job's full template name works as a hint.
    assert (
        find_template("cisco_ios", "sh inv", hint="cisco_ios_show_inventory")
        == "cisco_ios_show_inventory.textfsm"
    )
    for hint in ("cisco_ios_show_inventory", "cisco_xe_show_inventory"):
        assert find_template("cisco_xe", "sh inv", hint=hint) == "cisco_ios_show_inventory.textfsm"


def test_hint_of_another_platform_is_ignored() -> None:
    # arista_eos_show_inventory exists, but never for a cisco_ios device.
    assert find_template("cisco_ios", "sh inv", hint="arista_eos_show_inventory") is None
    assert find_template("cisco_ios", "sh inv", hint="arista_eos_inventory") is None
    # Nor does such a hint change what the index found.
    assert (
        find_template("cisco_ios", "show ip arp vrf MGMT", hint="arista_eos_show_ip_arp")
        == "cisco_ios_show_ip_arp.textfsm"
    )
    assert (
        find_template("cisco_ios", "show ip arp", hint="cisco_nxos_show_ip_arp_detail")
        == "cisco_ios_show_ip_arp.textfsm"
    )


def test_vague_hint_does_not_pick_another_command() -> None:
    # A real job: "show ntp status" with tfsm_filter "status"; show_interfaces_status is not it.
    assert find_template("cisco_ios", "show ntp status", hint="status") is None
    # Another: "show ip ospf neighbors" with "neighbors" — not show_ipv6_neighbors ("ip" is not "ipv6").
    assert (
        find_template("cisco_ios", "show ip ospf neighbors", hint="neighbors")
        == "cisco_ios_show_ip_ospf_neighbor.textfsm"
    )
    # When only the hint can answer ("sh ip nei" is no index row), "ip" does not abbreviate "ipv6",
    # a keyword other templates spell in full: show_ipv6_neighbors is not "sh ip nei".
    assert find_template("cisco_ios", "sh ip nei") is None
    assert find_template("cisco_ios", "sh ip nei", hint="neighbors") is None
    # A hint naming only the platform says nothing (real job: juniper "show arp no-resolve").
    assert (
        find_template("juniper_junos", "show arp no-resolve", hint="juniper_junos")
        == "juniper_junos_show_arp_no-resolve.textfsm"
    )


def test_hint_drops_a_shorter_commands_template() -> None:
    # Real jobs: the index only knows "show ip bgp" / "show interfaces"; their templates would
    # reject these outputs, so with the job's hint there is no template rather than a wrong one.
    assert find_template("arista_eos", "show ip bgp neighbors") == "arista_eos_show_ip_bgp.textfsm"
    assert find_template("arista_eos", "show ip bgp neighbors", hint="show_ip_bgp_neighbors") is None
    assert find_template("juniper_junos", "show interfaces terse", hint="terse") is None
    # A hint the start-of-command template agrees with keeps it.
    assert (
        find_template("cisco_ios", "show ip route vrf MGMT", hint="show_ip_route")
        == "cisco_ios_show_ip_route.textfsm"
    )


def test_exact_index_match_wins_over_the_hint() -> None:
    assert find_template("cisco_ios", "show ip arp", hint="show_version") == "cisco_ios_show_ip_arp.textfsm"


def test_concurrent_parses_of_the_same_output() -> None:
    preload()
    text = raw("cisco_nxos", "show ip arp")
    expected = parse_output("cisco_nxos", "show ip arp", text)
    assert expected is not None and len(expected.records) == 22
    results: list[Parsed | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work() -> None:
        try:
            start.wait()
            for _ in range(25):
                got = parse_output("cisco_nxos", "show ip arp", text)
                with lock:
                    results.append(got)
        except BaseException as exc:  # reported below, with the test's failure
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len(results) == 200
    assert all(result == expected for result in results)


def test_index_is_loaded_once() -> None:
    preload()
    first = templates_module._load_index()
    preload()
    assert templates_module._load_index() is first


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(parse)
    return app


def test_cli_prints_records(tmp_path: Path) -> None:
    capture = tmp_path / "sw1.txt"
    capture.write_text(raw("cisco_ios", "show ip interface brief"), encoding="utf-8")
    result = CliRunner().invoke(
        _app(), [str(capture), "--platform", "cisco_xe", "--command", "show ip int brief"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["INTERFACE", "IP_ADDRESS", "STATUS", "PROTO"]
    assert any(line.split()[:2] == ["Ethernet0/0.11", "10.0.1.38"] for line in lines)
    assert lines[-1] == "6 record(s) with cisco_ios_show_ip_interface_brief.textfsm"


def test_cli_json(tmp_path: Path) -> None:
    capture = tmp_path / "r1.txt"
    capture.write_text(raw("juniper_junos", "show ospf neighbor"), encoding="utf-8")
    args = [str(capture), "--platform", "juniper_junos", "--command", "show ospf neighbor", "--json"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert [record["neighbor_id"] for record in json.loads(result.output)] == ["2.2.2.2", "3.3.3.3"]


def test_cli_no_template(tmp_path: Path) -> None:
    capture = tmp_path / "r1.txt"
    capture.write_text("Clock is synchronized, stratum 3\n", encoding="utf-8")
    result = CliRunner().invoke(
        _app(), [str(capture), "--platform", "cisco_ios", "--command", "show ntp status"]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == ["Error: no template for cisco_ios 'show ntp status'"]


def test_cli_zero_records(tmp_path: Path) -> None:
    capture = tmp_path / "r1.txt"
    capture.write_text(INVALID, encoding="utf-8")
    result = CliRunner().invoke(_app(), [str(capture), "--platform", "cisco_ios", "--command", "show ip arp"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: parsed 0 records with cisco_ios_show_ip_arp.textfsm"
    ]


def test_cli_hint(tmp_path: Path) -> None:
    capture = tmp_path / "r1.txt"
    capture.write_text(raw("cisco_ios", "show inventory"), encoding="utf-8")
    base = [str(capture), "--platform", "cisco_ios", "--command", "sh inv"]
    assert CliRunner().invoke(_app(), base).exit_code == 1
    result = CliRunner().invoke(_app(), [*base, "--hint", "show_inventory"])
    assert result.exit_code == 0, result.output
    assert "FF1045C5" in result.output
