from __future__ import annotations

import pytest

from vcollector.collection.output import clean_output, rejection


def test_clean_output_normalises_line_endings_and_strips_escapes() -> None:
    raw = "\r\n\x1b[1mhostname r1\x1b[0m\r\ninterface Gi1 \r\r\n\x07\x1b(B\r\n\r\n"
    assert clean_output(raw) == "\nhostname r1\ninterface Gi1 \n\n\n"


def test_clean_output_keeps_the_devices_bytes() -> None:
    # trailing spaces (a config's "! " lines), tabs, leading/trailing blank lines, no final newline
    assert clean_output("! \r\n\r\na\tb  \r\n\r\n\r\nc") == "! \n\na\tb  \n\n\nc"
    assert clean_output("\r\n \r\n") == "\n \n"


def test_lone_carriage_returns_and_backspaces_go() -> None:
    assert clean_output("abc\rdef\n\rghi\x08\n") == "abcdef\nghi\n"


def test_replacement_characters_survive() -> None:
    assert clean_output(b"caf\xe9 ok".decode("utf-8", errors="replace")) == "caf\ufffd ok"


@pytest.mark.parametrize(
    "output",
    [
        "% Invalid input detected at '^' marker.",
        "        ^\n% Invalid input detected at '^' marker.",
        "% Incomplete command.",
        "% Unknown command or computer name, or unable to find computer address",
        '% Ambiguous command:  "sh i"',
        "                  ^\nunknown command.",
        "syntax error, expecting <command>.",
        "% Invalid command at '^' marker.",
        "error: syntax error: foo",
    ],
)
def test_rejections_are_recognised(output: str) -> None:
    assert rejection(output)


@pytest.mark.parametrize(
    "output",
    [
        "hostname r1\ninterface Gi1\n description % Invalid input is just text here",
        "Cisco IOS Software, Version 15.8",
        "",
        "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\n% Invalid input",  # deep in the output
    ],
)
def test_normal_output_is_not_a_rejection(output: str) -> None:
    assert rejection(output) is None


def test_session_codec_replaces_undecodable_bytes_even_when_asked_to_ignore() -> None:
    from vcollector.transport.encoding import REPLACING_UTF8

    assert b"caf\xe9 \xff ok".decode(REPLACING_UTF8, "ignore") == "caf\ufffd \ufffd ok"
    assert "✓".encode(REPLACING_UTF8) == "✓".encode()
