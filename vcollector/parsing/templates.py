"""TextFSM templates from ntc-templates chosen by platform and command, and the parse that validates output.

Template selection (:func:`find_template`) reads ntc-templates' own ``index`` (the CliTable index:
Template, Hostname, Platform, Command, with ``sh[[ow]]``-style abbreviations) through textfsm's
``clitable``, looks only at rows of the device's platform (:func:`ntc_platform`), and tries in
order; the first answer wins:

1. the whole command (whitespace collapsed) as a full match of a row's Command pattern;
2. the same with output modifiers removed (``| begin …``, ``| include …``, ``| section …``,
   ``| no-more``, Junos ``| display …``/``| match …``, NX-OS ``| json``/``| grep …``; abbreviated too);
3. textfsm's own CliTable rule on the modifier-free command: the first row whose pattern matches
   the *start* of the command (what ``ntc_templates.parse`` and Netmiko do), which lets
   ``show interfaces Gi1/0/1`` or ``show ip route vrf X`` find their template — unless a hint is
   given and the template's name lacks one of the hint's words: then the index only knows a shorter
   command (``show ip bgp`` for Arista's ``show ip bgp neighbors``, ``show interfaces`` for Junos'
   ``show interfaces terse``), whose template would reject the output, and the match is dropped;
4. the hint (a job's ``tfsm_filter``), only when 1-3 found nothing.

The hint is split on ``_``, ``-`` and spaces, and leading words that spell this platform are dropped
(``arista_eos_show_ip_arp`` → ``show ip arp``). A hint that starts with another platform's name is
ignored, and so is one with nothing left (``juniper_junos``). In step 4 the candidates are this
platform's templates only, never another platform's, whose file-name words contain every hint word
and are the command's leading words, each whole or abbreviated (``sh inv`` spells ``show
inventory``, whose index pattern wants at least ``inven``; ``ip`` never abbreviates ``ipv6``, a
word other templates have in full). That guard keeps a vague hint (``status``) from choosing
``show interfaces status`` for ``show ntp status``. Of several candidates the longest name wins.
Words are compared allowing a plural (``neighbor``/``neighbors``).

Loading the index compiles ~1,000 regular expressions (0.16 s warm, ~0.3 s cold); it happens once per
process, on first use or through :func:`preload` (call it before forking workers so that they
inherit it). Compiled templates are pooled per template: a TextFSM object holds parse state, so
one object serves one parse at a time and concurrent device threads each take their own.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

# textfsm ships no type hints; pyproject needs a [[tool.mypy.overrides]] entry for it. "unused-ignore"
# keeps this line valid once that entry exists.
from textfsm import Error as TextFSMBaseError
from textfsm import TextFSM, clitable

__all__ = ["Parsed", "find_template", "meets", "ntc_platform", "parse_output", "preload"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Parsed:
    """The outcome of parsing one output: the template used and the records it produced.

    ``records`` are keyed by the template's value names in lower case, as ``ntc_templates.parse``
    returns them; values are strings, or lists of strings for ``List`` values. ``template`` is the
    index's Template entry (``a.textfsm:b.textfsm`` when the index merges several).
    """

    template: str
    records: list[dict[str, Any]]


# Netmiko device types whose templates live under another ntc-templates platform name, and the
# vendor names job files carry ("vendor": "cisco-nxos"). ntc-templates 9.3.0's index has no cisco_xe
# row at all: IOS-XE output is parsed by the cisco_ios templates, Netmiko's own fallback too.
_ALIASES = {
    "cisco_xe": "cisco_ios",
    "juniper": "juniper_junos",
    "cisco": "cisco_ios",
    "cisco-nxos": "cisco_nxos",
    "arista": "arista_eos",
}
# Netmiko's transport suffixes (cisco_ios_telnet, arista_eos_ssh …) select a connection class, not a
# CLI. cisco_wlc_ssh is an ntc-templates platform name of its own and keeps its suffix.
_TRANSPORT_SUFFIX = re.compile(r"_(ssh|telnet|serial)$")
_KEEP_SUFFIX = frozenset({"cisco_wlc_ssh"})


def ntc_platform(netmiko_platform: str) -> str:
    """The ntc-templates platform name for a Netmiko device type (``cisco_xe`` → ``cisco_ios``)."""
    name = netmiko_platform.strip().lower()
    if name not in _KEEP_SUFFIX:
        name = _TRANSPORT_SUFFIX.sub("", name)
    return _ALIASES.get(name, name)


# Output modifiers after a pipe, on IOS/IOS-XE, NX-OS, EOS and Junos. A modifier may be abbreviated
# (``| i``, ``| inc``, ``| sec``), so the word after the pipe need only start one of these.
_MODIFIERS = (
    "append", "begin", "compare", "count", "display", "egrep", "except", "exclude", "find", "format",
    "grep", "head", "hold", "include", "json", "last", "match", "no-more", "nz", "redirect", "refresh",
    "resolve", "save", "section", "sort", "tail", "tee", "trim", "uniq", "wc", "xml",
)  # fmt: skip
_PIPE = re.compile(r"\s*\|\s*([a-z][a-z-]*)", re.IGNORECASE)
_WORD_SPLIT = re.compile(r"[\s_-]+")


def _strip_modifiers(command: str) -> str:
    for match in _PIPE.finditer(command):
        word = match.group(1).lower()
        if any(modifier.startswith(word) for modifier in _MODIFIERS):
            return command[: match.start()].strip()
    return command


def _words(text: str) -> list[str]:
    return [word for word in _WORD_SPLIT.split(text.lower()) if word]


@dataclass(frozen=True)
class _Row:
    templates: str
    platform: re.Pattern[str]
    command: re.Pattern[str]


@dataclass(frozen=True)
class _Index:
    directory: Path
    rows: tuple[_Row, ...]
    # Plain platform names in the index, to recognise a hint written for another platform.
    platforms: frozenset[str]

    def rows_for(self, platform: str) -> list[_Row]:
        return [row for row in self.rows if row.platform.fullmatch(platform)]


_index: _Index | None = None
_index_lock = threading.Lock()


def _template_dir() -> Path:
    # NTC_TEMPLATES_DIR is ntc-templates' own switch for a custom template set (with its own index).
    custom = os.environ.get("NTC_TEMPLATES_DIR")
    if custom:
        return Path(custom)
    spec = find_spec("ntc_templates")
    if spec is None or spec.origin is None:
        raise RuntimeError("ntc_templates is not installed")
    return Path(spec.origin).parent / "templates"


def _load_index() -> _Index:
    global _index
    if _index is not None:
        return _index
    with _index_lock:
        if _index is None:
            directory = _template_dir()
            # CliTable expands the [[...]] abbreviations and compiles each column once.
            table = clitable.CliTable("index", str(directory)).index
            rows = tuple(
                _Row(templates=raw["Template"], platform=compiled["Platform"], command=compiled["Command"])
                for raw, compiled in zip(table.index, table.compiled, strict=True)
            )
            plain = (row["Platform"] for row in table.index)
            platforms = frozenset(name for name in plain if re.fullmatch(r"[a-z0-9_]+", name))
            _index = _Index(directory=directory, rows=rows, platforms=platforms)
        return _index


def preload() -> None:
    """Load the ntc-templates index now rather than on the first parse (once per process)."""
    _load_index()


def _template_words(template_file: str, platform: str) -> list[str]:
    stem = template_file.split(":")[0].removesuffix(".textfsm")
    if stem.startswith(platform + "_"):
        return _words(stem[len(platform) + 1 :])
    # Rows with a platform pattern ((hp|aruba)_procurve) still name files <platform>_<command>.
    return _words(stem)[len(platform.split("_")) :]


def _same(one: str, other: str) -> bool:
    """The same word, allowing a plural (``neighbor``/``neighbors``, ``interface``/``interfaces``)."""
    return one == other or one == other + "s" or other == one + "s"


def _hint_terms(hint: str | None, platform: str, given_platform: str, index: _Index) -> list[str]:
    """The hint's words without this platform's name; none for a hint naming another platform."""
    terms = _words(hint or "")
    joined = "_".join(terms)
    if any(joined == name or joined.startswith(name + "_") for name in index.platforms - {platform}):
        return []
    # The device's own name for its platform counts too: "cisco_xe_show_version" on a cisco_xe.
    own = {*platform.split("_"), *_words(given_platform)}
    while terms and terms[0] in own:
        terms.pop(0)
    return terms


def _has_terms(words: list[str], terms: list[str]) -> bool:
    return all(any(_same(term, word) for word in words) for term in terms)


def _by_hint(rows: list[_Row], platform: str, command: str, terms: list[str]) -> str | None:
    """This platform's most specific template that carries the hint's words and spells the command."""
    named = [(row.templates, _template_words(row.templates, platform)) for row in rows]
    # A word some template has at this position is a keyword in full, not an abbreviation: "ip" must
    # not stand for "ipv6".
    keywords = {(position, word) for _name, words in named for position, word in enumerate(words)}
    given = _words(command)

    def spells(words: list[str]) -> bool:
        # The template's words are the command's leading words, each whole or abbreviated; any
        # words after them are arguments (an interface, a VRF, a neighbour address).
        return len(words) <= len(given) and all(
            _same(said, word) or ((position, said) not in keywords and word.startswith(said))
            for position, (said, word) in enumerate(zip(given, words, strict=False))
        )

    best: tuple[int, str] | None = None
    for name, words in named:
        if _has_terms(words, terms) and spells(words) and (best is None or len(words) > best[0]):
            best = (len(words), name)
    return best[1] if best else None


@lru_cache(maxsize=4096)
def find_template(platform: str, command: str, hint: str | None = None) -> str | None:
    """The ntc-templates template file for this platform and command, or ``None``.

    ``platform`` is a Netmiko device type (mapped by :func:`ntc_platform`); ``hint`` is a job's
    ``tfsm_filter``. The rule is in the module docstring: the index's whole-command match, then
    without output modifiers, then its start-of-command match unless the hint contradicts it, then
    the hint (this platform's templates only). A multi-template entry comes back as
    ``a.textfsm:b.textfsm``.
    """
    index = _load_index()
    name = ntc_platform(platform)
    rows = index.rows_for(name)
    given = " ".join(command.split())
    bare = _strip_modifiers(given)
    for candidate in dict.fromkeys((given, bare)):
        for row in rows:
            if row.command.fullmatch(candidate):
                return row.templates
    terms = _hint_terms(hint, name, platform, index)
    prefix = next((row.templates for row in rows if row.command.match(bare)), None)
    if prefix is not None and _has_terms(_template_words(prefix, name), terms):
        return prefix
    return _by_hint(rows, name, bare, terms) if terms else None


class _Pool:
    """Compiled templates, reused: each parse takes one object and gives it back when it is done."""

    _KEEP = 32  # idle objects kept per template; more than the busiest run has device threads

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[str, list[Any]] = {}
        self._source: dict[str, str] = {}

    def take(self, directory: Path, name: str) -> Any:
        with self._lock:
            idle = self._idle.get(name)
            if idle:
                return idle.pop()
            source = self._source.get(name)
        if source is None:
            source = (directory / name).read_text(encoding="utf-8")
            with self._lock:
                self._source[name] = source
        return TextFSM(io.StringIO(source))

    def give(self, name: str, fsm: Any) -> None:
        with self._lock:
            idle = self._idle.setdefault(name, [])
            if len(idle) < self._KEEP:
                idle.append(fsm)


_pool = _Pool()


def _run(directory: Path, name: str, text: str) -> tuple[list[str], list[str], list[list[Any]]]:
    fsm = _pool.take(directory, name)
    fsm.Reset()
    rows = fsm.ParseText(text)
    # List values may share list objects with the FSM's state; the records must outlive it.
    copied = [[list(value) if isinstance(value, list) else value for value in row] for row in rows]
    result = (list(fsm.header), list(fsm.GetValuesByAttrib("Key")), copied)
    # Only an object that finished cleanly goes back; one that raised is dropped with its state.
    _pool.give(name, fsm)
    return result


def _merge(records: list[dict[str, Any]], keys: list[str], header: list[str], rows: list[list[Any]]) -> None:
    """Add a further template's columns to the records, as CliTable does (rows paired by Key)."""
    new = [column for column in header if not records or column not in records[0]]
    others = [dict(zip(header, row, strict=True)) for row in rows]
    for number, record in enumerate(records):
        for column in new:
            record.setdefault(column, "")
        if keys:
            match = next((o for o in others if all(o.get(k) == record.get(k) for k in keys)), None)
        else:
            match = others[number] if number < len(others) else None
        if match is not None:
            record.update({column: match[column] for column in new})


def _parse(directory: Path, templates: str, text: str) -> list[dict[str, Any]]:
    first, *more = templates.split(":")
    try:
        header, keys, rows = _run(directory, first, text)
        records = [dict(zip(header, row, strict=True)) for row in rows]
        for name in more:
            extra_header, _keys, extra_rows = _run(directory, name, text)
            _merge(records, keys, extra_header, extra_rows)
    except TextFSMBaseError as exc:
        # Templates end in "^. -> Error" for lines they do not expect: the output is not what the
        # template describes (an error message, another command's output), so it has no records.
        log.debug("%s rejected the output: %s", templates, exc)
        return []
    return [{key.lower(): value for key, value in record.items()} for record in records]


def parse_output(platform: str, command: str, text: str, hint: str | None = None) -> Parsed | None:
    """Parse a command's output with its ntc-templates template.

    ``None`` when no template fits (see :func:`find_template`); otherwise a :class:`Parsed`, whose
    records may be empty: output the template rejects (TextFSM raised) gives zero records rather
    than an exception, and the caller treats it as invalid. Safe to call from many threads at once.
    """
    templates = find_template(platform, command, hint)
    if templates is None:
        return None
    return Parsed(template=templates, records=_parse(_load_index().directory, templates, text))


def meets(parsed: Parsed, min_score: int | float) -> bool:
    """Whether the parse produced at least ``min_score`` records.

    The original tool's ``min_score`` was a heuristic score over the parsed fields; here the score
    is simply the record count, so the job files' ``min_score: 1`` means "at least one record".
    """
    return len(parsed.records) >= min_score
