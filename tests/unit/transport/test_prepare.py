"""The lean preparation's reading of prompts (the sessions themselves: integration tests)."""

from __future__ import annotations

import pytest

from vcollector.transport.prepare import _PROMPT, _ended, _last_line, _prompt_lines


@pytest.mark.parametrize(
    ("line", "base", "end"),
    [("r1>", "r1", ">"), ("r1#", "r1", "#"), ("admin@mx1> ", "admin@mx1", ">"), ("leaf-01#", "leaf-01", "#")],
)
def test_a_prompt_line_gives_its_name_and_mode(line: str, base: str, end: str) -> None:
    match = _PROMPT.match(line)
    assert match is not None and match.group("base") == base and match.group("end") == end


@pytest.mark.parametrize("line", ["Password: ", "% Access denied", "r1 uptime is 1 week", "", "[edit]"])
def test_what_is_not_a_prompt(line: str) -> None:
    assert _PROMPT.match(line) is None


def test_a_configuration_mode_is_seen() -> None:
    match = _PROMPT.match("r1(config)#")
    assert match is not None and match.group("mode") == "(config)"


def test_the_last_line_is_what_a_terminal_shows() -> None:
    assert _last_line("banner\r\n\x1b[1mr1>\x1b[0m") == "r1>"
    assert _last_line("abc\rr1#") == "r1#"


def test_the_answer_ends_with_a_prompt_after_every_line() -> None:
    done = _ended("r1", 3, enabling=False)
    assert not done("r1>terminal width 511\r\nr1>")
    assert not done("r1>terminal width 511\r\nr1>terminal length 0\r\n")
    assert done("r1>terminal width 511\r\nr1>terminal length 0\r\nr1>")
    assert not done("r1>terminal width 511\r\nr1>terminal length 0\r\nother>")


def test_enable_asking_for_its_secret_ends_the_answer_too() -> None:
    text = "r1>terminal width 511\r\nr1>terminal length 0\r\nr1>enable\r\nPassword: "
    assert _ended("r1", 4, enabling=True)(text)
    assert not _ended("r1", 4, enabling=False)(text)


def test_prompts_are_counted_with_their_modes_and_escapes() -> None:
    assert _prompt_lines("r1>en\r\n\x1b[Kr1#\r\nr1(config)#\r\nr10>", "r1") == 3
