"""Structured output: TextFSM templates (ntc-templates) chosen by platform and command."""

from __future__ import annotations

from vcollector.parsing.templates import Parsed, find_template, meets, ntc_platform, parse_output, preload

__all__ = ["Parsed", "find_template", "meets", "ntc_platform", "parse_output", "preload"]
