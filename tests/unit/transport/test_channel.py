"""Where a command's output ends: the prompt twice, never prompt-like text alone."""

from __future__ import annotations

import pytest

from vcollector.transport.channel import TAIL_CHARS, _assemble, _strip_echo, prompt_block_start, prompt_regex


@pytest.mark.parametrize(
    ("tail", "count", "end"),
    [
        ("out\r\nr1#\r\nr1#", 2, 5),  # the output, the prompt, our RETURN's prompt
        ("out\r\nr1#\r\n", 2, None),  # the device has not printed the second prompt yet
        ("out\r\nr1#", 2, None),
        ("outr1#\r\nr1#", 2, 3),  # output without a final newline
        ("description r1#", 2, None),  # a config line that ends like a prompt, then a pause
        ("description r1#", 1, None),
        ("  description core1#uplink\r\n", 2, None),
        ("x\r\nr1#\r\nmore\r\nr1#\r\nr1#", 2, 14),  # a prompt-only line inside the output
        ("x\r\nr1#\r\nr1#\r\nr1#", 3, 3),  # three RETURNs sent: three prompts end it
        ("x\r\nr1#\r\nr1#\r\nr1#", 2, 8),
        ("end\nr1#r1#", 2, 4),  # a device that echoed our RETURN early: prompts glued
        ("end\nr1#r1#r1#", 2, 7),
        ("endr1#r1#", 2, 3),
        ("end\nr1#\nr1#r1#", 3, 4),
        ("end\nr1(config)#\nr1(config)#", 2, 4),
        ("end\nr1>\nr1>", 2, 4),
        ("end\nrr1#\nrr1#", 2, None),  # another host's prompt
        ("end\r\n\r\n\rr1# \r\n\rr1# ", 2, 8),  # NX-OS: a carriage return before each prompt
    ],
)
def test_prompt_block(tail: str, count: int, end: int | None) -> None:
    assert prompt_block_start(tail, prompt_regex("r1"), count) == end


def test_junos_context_lines_belong_to_the_prompt() -> None:
    tail = "set version 21\n\n{master:0}\nadmin@mx1> \n\n{master:0}\nadmin@mx1> "
    end = prompt_block_start(tail, prompt_regex("admin@mx1"), 2)
    assert tail[:end] == "set version 21\n\n"


def test_the_echo_is_dropped_only_when_it_is_the_command() -> None:
    assert _strip_echo("show version\r\nCisco IOS\r\n", "show version") == "Cisco IOS\r\n"
    assert _strip_echo("\x1b[Kshow version\r\nx\r\n", "show version") == "x\r\n"
    assert _strip_echo("Cisco IOS\r\n", "show version") == "Cisco IOS\r\n"


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_the_echo_is_dropped_however_the_device_splits_it_into_reads(size: int) -> None:
    # fakenos echoes one character per read: the echo can span many more reads than lines.
    command = "show configuration | display set"
    printed = f"mx1> {command}\r\nset version 21\r\nset system host-name mx1\r\nmx1> \r\nmx1> "
    chunks = [printed[i : i + size] for i in range(0, len(printed), size)]
    end = prompt_block_start(printed[-TAIL_CHARS:], prompt_regex("mx1"), 2)
    assert _assemble(chunks, printed[-TAIL_CHARS:], end or 0, command) == (
        "set version 21\r\nset system host-name mx1\r\n"
    )


@pytest.mark.parametrize("lead_in", ["", "\r\n", "\r\nmx1> ", "\r\n{master:0}\r\nmx1> ", "mx1> \r\n"])
def test_a_late_prompt_before_the_echo_is_not_output(lead_in: str) -> None:
    # A busy device prints the previous prompt again after our drain, before the echo.
    command = "show configuration | display set"
    printed = f"{lead_in}mx1> {command}\r\nset version 21\r\nmx1> \r\nmx1> "
    chunks = [printed[i : i + 2] for i in range(0, len(printed), 2)]
    end = prompt_block_start(printed[-TAIL_CHARS:], prompt_regex("mx1"), 2)
    assert (
        _assemble(chunks, printed[-TAIL_CHARS:], end or 0, command, prompt_regex("mx1"))
        == "set version 21\r\n"
    )


def test_output_that_only_looks_like_a_lead_in_is_kept() -> None:
    text = "Cisco IOS\r\nshow version\r\n"
    assert _strip_echo(text, "show version", prompt_regex("r1")) == text
    assert (
        _strip_echo("\r\nr1#\r\nno echo here\r\n", "show clock", prompt_regex("r1"))
        == "\r\nr1#\r\nno echo here\r\n"
    )


def test_a_long_ios_hostname_is_matched_from_its_first_16_characters() -> None:
    # Netmiko's IOS base prompt is the hostname cut at 16 characters; the prompt is whole.
    truncated = prompt_regex("nyc-core-router-", truncated=True)
    tail = "end\r\nnyc-core-router-01-long-name#\r\nnyc-core-router-01-long-name#"
    assert prompt_block_start(tail, truncated, 2) == 5
    assert prompt_block_start(tail, prompt_regex("nyc-core-router-"), 2) is None
    assert prompt_block_start("x\r\nnyc-core-router-01 desc#\r\nnyc-core-router-01 desc#", truncated, 2) is None
