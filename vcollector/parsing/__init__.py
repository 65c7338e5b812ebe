"""Structured output: TextFSM templates (ntc-templates) chosen by platform and command."""

from __future__ import annotations

from vcollector.parsing.templates import Parsed, find_template, meets, ntc_platform, parse_output, preload
from vcollector.parsing.validation import CommandCheck, Span, TfsmValidation, Verdict, validate

__all__ = [
    "CommandCheck",
    "Parsed",
    "Span",
    "TfsmValidation",
    "Verdict",
    "find_template",
    "meets",
    "ntc_platform",
    "parse_output",
    "preload",
    "validate",
]
