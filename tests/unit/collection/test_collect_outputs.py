"""collect_outputs: each data command's place in the joined output (for TextFSM validation),
on a scripted session answering with real device outputs (no sockets)."""

from __future__ import annotations

from typing import Any

from tests.unit.parsing.test_validation import raw
from vcollector.collection.commands import collect_outputs, run_commands
from vcollector.transport.session import DEFAULT_MAX_OUTPUT_BYTES, Session


class _Connection:
    """What the command loop asks of a Netmiko connection besides running commands."""

    device_type = "cisco_ios"
    base_prompt = "r1"
    read_timeout_override = None

    def enable(self) -> None:
        pass

    def check_enable_mode(self) -> bool:
        return True

    def exit_enable_mode(self, exit_command: str = "disable") -> None:
        pass


class _Scripted(Session):
    def __init__(self, answers: dict[str, str]) -> None:
        super().__init__(_Connection(), None, owned=True)
        self.answers = answers
        self.sent: list[str] = []

    def run(self, command: str, timeout: float, max_bytes: int = DEFAULT_MAX_OUTPUT_BYTES) -> Any:
        self.sent.append(command)
        return self.answers[command]


VERSION = raw("cisco_ios", "show version")
ARP = raw("cisco_ios", "show ip arp")
CLOCK = "*10:00:00.000 UTC Sun Nov 29 2026"  # no final newline: the next output starts on a new line


def test_each_data_commands_output_is_where_its_span_says() -> None:
    session = _Scripted({"show version": VERSION, "show clock": CLOCK, "show ip arp": ARP})
    commands = ["enable", "terminal length 0", "show version", "show clock", "disable", "show ip arp"]
    collected = collect_outputs(session, commands, 10, 0)
    assert session.sent == ["show version", "show clock", "show ip arp"]  # paging done by Netmiko
    assert [span[0] for span in collected.spans] == ["show version", "show clock", "show ip arp"]
    pieces = [collected.text[start:end] for _command, start, end in collected.spans]
    assert pieces == [VERSION, CLOCK, ARP]
    assert collected.text == VERSION + CLOCK + "\n" + ARP  # joined as run_commands always joined them
    assert run_commands(_Scripted(dict(session.answers)), commands, 10, 0) == collected.text


def test_spans_describe_the_text_after_secrets_are_removed() -> None:
    secret = "s3cret-password"
    session = _Scripted({"show version": VERSION, "show run": f"username a password 0 {secret}\n"})
    collected = collect_outputs(
        session, ["show run", "show version"], 10, 0, finish=lambda text: text.replace(secret, "<removed>")
    )
    (_, start, end), (_, start2, end2) = collected.spans
    assert collected.text[start:end] == "username a password 0 <removed>\n"
    assert collected.text[start2:end2] == VERSION


def test_no_data_command_no_span() -> None:
    collected = collect_outputs(_Scripted({}), ["enable", "terminal length 0"], 10, 0)
    assert collected.text == "" and collected.spans == ()
