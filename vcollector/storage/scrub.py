"""Replace secrets in device output with ``<removed>`` before anything is written.

Sources of the rules: Oxidized's per-model ``cmd :secret`` blocks (github.com/ytti/oxidized,
``lib/oxidized/model/{ios,nxos,eos,junos,iosxr}.rb``, current versions and older ones with rules
since dropped) and the recorded transcripts of its model tests (``tests/fixtures/oxidized``, from
its commit 687ed42), extended with forms those models miss: keys in ``tacacs``/``radius``
server blocks, WLC PSKs and AP credentials, RADIUS CoA ``server-key``, IS-IS/NTP/OSPFv3 keys,
SNMPv3 user keys for every platform, Junos keywords without the ``## SECRET-DATA`` marker, and
passwords inside URLs.

Unlike Oxidized, which often drops the rest of the line, only the secret value itself is replaced:
every other byte (line endings, trailing spaces, blank lines, the ``RO`` after a community) stays,
because the result is a configuration backup. Each rule is one regex whose capturing groups are
exactly the secrets, plus keywords a line must contain for the rule to apply; a ``str.find`` per
keyword picks the few candidate lines, so a large configuration costs a handful of C-speed scans,
not a regex per rule per line. Patterns start with their literal where they can (the word boundary
is a lookbehind after it) because ``re`` then skips ahead with a fast substring search.
An unknown platform gets the union of all rule sets: over-scrubbing is acceptable, leaking is not.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass

SCRUBBED = "<removed>"

# Value shapes. A quoted value is taken whole (NX-OS quotes keys and puts options after them);
# otherwise IOS lets a plain-text secret run to the end of the line, spaces included. An earlier
# marker is one token, so scrubbing scrubbed text changes nothing.
_DONE = re.escape(SCRUBBED) + r"(?![^\s;])"
_TO_EOL = rf"({_DONE}|\S(?:.*\S)?)"
_QUOTED_OR_EOL = rf'({_DONE}|"[^"]*"|\S(?:.*\S)?)'
_ONE_WORD = r'("[^"]*"|\S+)'
# Encryption-type words that precede a value and are not part of it.
_TYPE = r"(?: (?:[0-9]{1,2}|8a|encrypted|clear|sha512|md5))?"


def _w(word: str) -> str:
    """``word`` as a whole word: "authentication-key 1 md5 X" is NTP's, not a "key 1"."""
    return re.escape(word) + r"(?<![\w-]" + re.escape(word) + ")"


@dataclass(frozen=True)
class _Rule:
    """One secret form: every capturing group of ``pattern`` is a secret value."""

    note: str
    keywords: tuple[str, ...]  # the line must contain one of these for ``pattern`` to match
    pattern: re.Pattern[str]
    block: re.Pattern[str] | None = None  # the enclosing block's header must match this


def _rule(note: str, keywords: str | tuple[str, ...], pattern: str, block: str | None = None) -> _Rule:
    kws = (keywords,) if isinstance(keywords, str) else keywords
    return _Rule(note, kws, re.compile(pattern), re.compile(block) if block else None)


# fmt: off
# Each row: what it is and where it comes from; the keywords a line needs; the regex.
_COMMON = (
    _rule("credentials in a URL (archive paths, Junos archive-sites)", "://",
          r"://[^\s/:@\"']*:([^\s@\"'/]+)@"),
)

# Shared by IOS, IOS-XE, IOS-XR, NX-OS and EOS, which print these lines the same way.
_CISCO = (
    _rule("SNMP community (all Cisco models, EOS); keeps view/RO/RW/ACL", "snmp-server community",
          r"^snmp-server community (?:(?:clear|encrypted) )?" + _ONE_WORD),
    _rule("SNMP trap/inform host community (v3: the user name, as Oxidized does)", "snmp-server host",
          r"^snmp-server host \S+(?: vrf \S+)?(?: (?:informs?|traps?))?"
          r"(?: version (?:1|2c|3(?: (?:auth|noauth|priv))?))?(?: (?:clear|encrypted))? "
          r"(?!(?:vrf|informs?|traps?|version|use-vrf|source-interface|filter-vrf|udp-port|clear"
          r"|encrypted)\b)(\S+)"),
    _rule("SNMPv3 user auth and priv keys (IOS, XR, NX-OS 0x… and localizedV2key, EOS)",
          "snmp-server user",
          r"^snmp-server user \S+.*? auth (?:md5|sha\S*)(?: (?:clear|encrypted))? (\S+)"
          r"(?:.*? priv(?: (?:3des|des|aes(?:-?(?:128|192|256))?)(?: (?:128|192|256))?)?"
          r"(?: (?:clear|encrypted))? (\S+))?"),
    _rule("SNMP community map (NX-OS mib community-map, XR community-map)", "community-map",
          r"^snmp(?:-server)? (?:mib )?community-map (\S+)"),
    _rule("enable password/secret [level N] [type] X (IOS, NX-OS, EOS 'sha512')", ("password", "secret"),
          r"^enable (?:password|secret)(?: level \d+)?" + _TYPE + " " + _QUOTED_OR_EOL),
    _rule("any typed password (NX-OS/EOS 'password \\d+ X' anywhere, LDP, LDAP, ip ftp)", "password",
          _w("password") + r" (?:[1-9][0-9]?|encrypted) " + _ONE_WORD),
    _rule("any clear-text typed password", "password", _w("password") + r" (?:0|clear) " + _ONE_WORD),
    _rule("any typed secret (XR 'secret \\d+ X', EOS 'secret sha512 X')", "secret",
          _w("secret") + r" (?:[1-9][0-9]?|sha512|md5) " + _ONE_WORD),
    _rule("any clear-text typed secret", "secret", _w("secret") + r" 0 " + _ONE_WORD),
    _rule("any 'key 7 X' (Oxidized's '.*key 7'); not MACsec 'key 1 7 X', WEP 'key 1 size', 'key 1 {'",
          "key", _w("key") + r" (?:[1-9]|8a) (?![0-9] |size |\{)" + _ONE_WORD),
    _rule("any clear-text 'key 0 X'", "key", _w("key") + r"(?<!isakmp key) 0 " + _ONE_WORD),
    _rule("indented password: line vty, XR username and neighbor blocks", "password",
          r"^\s+password" + _TYPE + r" (?!(?:minimum|encryption|policy|required|option|fallback)\b)"
          + _TO_EOL),
    _rule("indented secret: XR username block", "secret", r"^\s+secret" + _TYPE + " " + _TO_EOL),
    _rule("TACACS+/RADIUS global and per-host keys (IOS rest of line, NX-OS quoted)", "key",
          r"^(?:tacacs|radius)-server (?:.*? )?key(?: (?:[0-9]|8a))? " + _QUOTED_OR_EOL),
    _rule("key in a tacacs/radius server block, IOS-XR host block or ISAKMP client group", "key",
          r"^\s+key(?: (?:[0-9]|8a))? (?![0-9]+\s*$)" + _QUOTED_OR_EOL,
          block=r"^(?:(?:tacacs|radius)(?:-server| server)\b|aaa group server |crypto isakmp client"
                r" configuration group )"),
    _rule("RADIUS dynamic-author client and aaa pod server-key", "server-key",
          _w("server-key") + r"(?: (?:[0-9]|8a))? " + _QUOTED_OR_EOL),
    _rule("server-private key in an aaa group server block", "key",
          r"^\s*server-private \S+.*? key(?: (?:[0-9]|8a))? " + _QUOTED_OR_EOL),
    _rule("BGP/LDP neighbor password (IOS, EOS, mpls ldp)", "password",
          _w("neighbor") + r" \S+(?: vrf \S+)? password(?: (?:[0-9]|encrypted|clear))? " + _TO_EOL),
    _rule("OSPF/virtual-link authentication-key (not NTP's, which has its own rule)", "key",
          _w("authentication-key") + r"(?<!ntp authentication-key)(?: (?:[0-9]|8a|encrypted|clear))? "
          + _TO_EOL),
    _rule("OSPF message-digest-key N md5 X", "key",
          _w("message-digest-key") + r" \d+ md5(?: (?:[0-9]|8a|encrypted|clear))? " + _TO_EOL),
    _rule("NTP authentication-key N md5 X [7]; keeps the trailing type", "key",
          r"^\s*ntp authentication-key \d+ \S+(?: (?:[0-9]|8a|encrypted|clear)(?= \S))? (\S+)"),
    _rule("OSPFv3 / IPv6 OSPF IPsec authentication key", "ipsec spi",
          r"ipsec spi \d+ (?:md5|sha1|sha-1)(?: passphrase)?(?: (?:[0-9]|8a))? (\S+)"),
    _rule("IS-IS passwords (isis, area, domain, XR lsp/hello)", "password",
          r"password(?:(?<=isis password)|(?<=area-password)|(?<=domain-password)"
          r"|(?<=lsp-password)|(?<=hello-password))(?: (?:hmac-md5|text))?(?: (?:[0-9]|encrypted|clear))?"
          r" (\S+)"),
    _rule("HSRP/GLBP plain-text authentication (Oxidized: standby N authentication X)", ("standby", "glbp"),
          r"(?<![\w-])(?:standby|glbp)(?: \d+)? authentication (?:text )?(?!(?:md5|text)\b)(\S+)"),
    _rule("authentication text X: VRRP, NX-OS hsrp/vrrp blocks, EOS vrrp peer", "authentication text",
          _w("authentication text") + " " + _TO_EOL),
    _rule("XR VRRP text-authentication", "text-authentication", _w("text-authentication") + " " + _ONE_WORD),
    _rule("key-string in key chains and HSRP/VRRP md5 (keeps 'timeout N')", "key",
          _w("key-string") + r"(?: (?:[0-9]|password|clear|encrypted))* (\S(?:.*?\S)?)"
          r"(?: timeout \d+(?: \d+)?)?\s*$"),
    _rule("pre-shared keys: IOS keyrings, IKEv2 local/remote, ASA, Junos ascii-text", "key",
          _w("pre-shared-key") + r"(?: (?:address \S+(?: (?!key\b)\S+)?|hostname \S+|local|remote"
          r"|ascii-text|hexadecimal|hex))*(?: key)?(?: [0-9])? " + _QUOTED_OR_EOL),
)

_IOS = (
    _rule("username … password/secret [type] X; IOS allows spaces, so to the end of line",
          ("password", "secret"), r"^username \S+ (?:.*? )?(?:password|secret)" + _TYPE + " " + _TO_EOL),
    _rule("crypto isakmp key X address …", "key", r"^\s*crypto isakmp key(?: [0-9])? (\S+)"),
    _rule("ppp chap/pap password", "password",
          _w("ppp") + r" (?:chap|pap)(?: sent-username \S+)? password(?: [0-9])? " + _TO_EOL),
    _rule("autonomous AP wpa-psk ascii/hex", "psk", _w("wpa-psk") + r" (?:ascii|hex)(?: [0-9])? " + _TO_EOL),
    _rule("C9800 WLAN security wpa psk set-key ascii/hex (may contain spaces)", "psk",
          r"psk set-key (?:ascii|hex)(?: [0-9])? " + _TO_EOL),
    _rule("C9800 AP profile mgmtuser password and secret", "password",
          r"^\s*mgmtuser username \S+ password(?: [0-9])? (\S(?:.*?\S)?)"
          r"(?: secret(?: [0-9])? (\S(?:.*\S)?))?\s*$"),
    _rule("C9800 AP profile dot1x credentials", "password",
          r"^\s*(?:ap )?dot1x username \S+ password(?: [0-9])? " + _TO_EOL),
    _rule("WEP keys on autonomous APs", "key",
          _w("encryption") + r"(?: vlan \d+)? key \d+ size \S+(?: [0-9])? (\S+)"),
    _rule("ip ftp / ip http client passwords", "password",
          r"^ip (?:ftp|http client) password(?: [0-9])? " + _TO_EOL),
    _rule("VPDN l2tp tunnel password", "password", _w("l2tp tunnel password") + r"(?: [0-9])? " + _TO_EOL),
    _rule("DMVPN ip nhrp authentication", "nhrp authentication", _w("ip nhrp authentication") + r" (\S+)"),
)

_NXOS = (
    _rule("username … password 5 X role …: one word, the role stays", "password",
          r"^username \S+ password(?: \d+)? " + _ONE_WORD),
)

_IOSXR: tuple[_Rule, ...] = ()  # XR puts secrets on the indented lines the Cisco rules cover.

_EOS = (
    _rule("username … secret sha512 X", ("password", "secret"),
          r"^username \S+ (?:.*? )?(?:password|secret)" + _TYPE + " " + _ONE_WORD),
    _rule("MACsec profile 'key <ckn> 7 <cak>' (Oxidized eos ' {6}key')", "key",
          r"^\s+key [0-9a-fA-F]+ 7 (\S+)"),
    _rule("unsupported-transceiver license key (Oxidized eos)", "unsupported-transceiver",
          r"^service unsupported-transceiver \S+ (\S+)"),
    _rule("SNMPv3 user localized engine ID (Oxidized eos scrubs it)", "localized ",
          r"^snmp-server user .*? localized (\S+)"),
)

_JUNOS_WORDS = (
    "encrypted-password|plain-text-password-value|secret|authentication-key|authentication-password"
    "|privacy-password|simple-password|hello-authentication-key|community-name|chap-secret"
    "|shared-secret|ascii-text|hexadecimal|key|password|psk"
)
_JUNOS = (
    _rule("any value marked '## SECRET-DATA' (Oxidized junos; ssh keys too)", "SECRET-DATA",
          r'("[^"]*"|[^\s;"]+)\s*;?\s*## SECRET-DATA'),
    _rule("quoted $9$ (reversible) and $1$/$5$/$6$/$8$ strings, marker or not", '"$',
          r'("\$[15689]\$[^"]*")'),
    _rule("secret keywords without the marker (display set); a bare number is a key ID",
          ("password", "secret", "key", "community", "-text", "hexadecimal", "psk"),
          r"(?:^|\s)(?:" + _JUNOS_WORDS + r')\s+("[^"]*"|(?![0-9]+(?:\s|;|$))[^\s;"{}]+)(?=\s*(?:;|$|##))'),
    _rule("SNMP community block or leaf (Oxidized junos 'community X {')", "community",
          r'^\s*community ("[^"]*"|[^\s;{]+)\s*[{;]'),
    _rule("SNMP community in set format", "community", r'^set snmp community ("[^"]*"|\S+)'),
)

_FAMILIES: dict[str, tuple[_Rule, ...]] = {
    "ios": _COMMON + _CISCO + _IOS,
    "iosxr": _COMMON + _CISCO + _IOSXR,
    "nxos": _COMMON + _CISCO + _NXOS,
    "eos": _COMMON + _CISCO + _EOS,
    "junos": _COMMON + _JUNOS,
}
_PLATFORM_FAMILY = {
    "cisco_ios": "ios", "cisco_xe": "ios", "cisco_xr": "iosxr", "cisco_nxos": "nxos",
    "arista_eos": "eos", "juniper_junos": "junos", "juniper": "junos",
}
# fmt: on


def platform_family(platform: str | None) -> str | None:
    """The rule family (``ios``, ``iosxr``, ``nxos``, ``eos``, ``junos``) of a Netmiko device type.

    ``None`` for an unknown or missing platform; a family name is accepted as its own platform.
    """
    if not platform:
        return None
    name = platform.strip().lower()
    for suffix in ("_ssh", "_telnet", "_serial"):
        name = name.removesuffix(suffix)
    if name in _FAMILIES:
        return name
    return _PLATFORM_FAMILY.get(name)


class _RuleSet:
    """A family's rules, indexed by the keywords that let a line be skipped without a regex."""

    _MAX_COMBINATIONS = 4096  # of keywords seen together on one line; real configs have dozens

    def __init__(self, rules: tuple[_Rule, ...]) -> None:
        self.rules = rules
        self.keywords = tuple(sorted({kw for rule in rules for kw in rule.keywords}))
        # A line holding "snmp-server community" also holds "community": one search finds both.
        self.search_words = tuple(
            kw for kw in self.keywords if not any(other != kw and other in kw for other in self.keywords)
        )
        self._by_present: dict[tuple[str, ...], tuple[_Rule, ...]] = {}

    def rules_for(self, line: str) -> tuple[_Rule, ...]:
        present = tuple([kw for kw in self.keywords if kw in line])
        rules = self._by_present.get(present)
        if rules is None:
            rules = tuple(r for r in self.rules if any(kw in present for kw in r.keywords))
            if len(self._by_present) < self._MAX_COMBINATIONS:
                self._by_present[present] = rules
        return rules


def lines_containing(text: str, words: Iterable[str]) -> list[int]:
    """Start offsets, in order, of the lines of ``text`` that contain one of ``words``.

    One ``str.find`` scan per word: far cheaper than any regex tried at every line.
    """
    starts: set[int] = set()
    for word in words:
        at = text.find(word)
        while at >= 0:
            starts.add(text.rfind("\n", 0, at) + 1)
            line_end = text.find("\n", at)
            if line_end < 0:
                break
            at = text.find(word, line_end)
    return sorted(starts)


def _dedupe(rules: Iterable[_Rule]) -> tuple[_Rule, ...]:
    seen: dict[tuple[str, str | None], _Rule] = {}
    for rule in rules:
        seen.setdefault((rule.pattern.pattern, rule.block.pattern if rule.block else None), rule)
    return tuple(seen.values())


@functools.cache
def _ruleset(family: str | None) -> _RuleSet:
    if family is None:
        return _RuleSet(_dedupe(rule for rules in _FAMILIES.values() for rule in rules))
    return _RuleSet(_FAMILIES[family])


class _Blocks:
    """Finds the header of the block a line is indented under, walking back at most once per line.

    A key chain's thousands of ``key N`` lines would otherwise each walk back to the same header.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._known_from = -1  # every line start in [_known_from, _known_to] has _header
        self._known_to = -1
        self._header = ""

    def header(self, line_start: int) -> str:
        text, pos = self._text, line_start
        while pos > 0:
            if self._known_from <= pos <= self._known_to:
                break
            prev = text.rfind("\n", 0, pos - 1) + 1
            if text[prev : prev + 1] not in (" ", "\t"):
                self._header = text[prev : pos - 1].rstrip("\r")
                self._known_from = pos
                break
            pos = prev
        else:
            self._header, self._known_from = "", 0
        self._known_to = line_start
        return self._header


def _scrub_line(body: str, line_start: int, ruleset: _RuleSet, blocks: _Blocks) -> str | None:
    spans: list[tuple[int, int]] = []
    for rule in ruleset.rules_for(body):
        match = rule.pattern.search(body)
        while match is not None:
            if rule.block is None or rule.block.match(blocks.header(line_start)):
                groups = range(1, rule.pattern.groups + 1)
                spans.extend(match.span(g) for g in groups if match.end(g) > match.start(g))
            match = rule.pattern.search(body, max(match.end(), match.start() + 1))
    if not spans:
        return None
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:  # two rules saw the same secret: one marker
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces: list[str] = []
    copied = 0
    for start, end in merged:
        pieces += (body[copied:start], SCRUBBED)
        copied = end
    pieces.append(body[copied:])
    return "".join(pieces)


def scrub_secrets(text: str, platform: str | None) -> str:
    """Return ``text`` with each secret value replaced by :data:`SCRUBBED`, all else byte-for-byte.

    ``platform`` is a Netmiko device type (``cisco_ios``, ``cisco_xe``, ``cisco_xr``,
    ``cisco_nxos``, ``arista_eos``, ``juniper_junos``); unknown or ``None`` applies every rule set.
    Deterministic and idempotent, so change detection sees no spurious differences.
    """
    ruleset = _ruleset(platform_family(platform))
    blocks = _Blocks(text)
    pieces: list[str] = []
    copied = 0
    for start in lines_containing(text, ruleset.search_words):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        # Patterns end at "$"/"\s*$", which a trailing "\r" of a CRLF line would defeat.
        if end > start and text[end - 1] == "\r":
            end -= 1
        scrubbed = _scrub_line(text[start:end], start, ruleset, blocks)
        if scrubbed is not None:
            pieces += (text[copied:start], scrubbed)
            copied = end
    if not pieces:
        return text
    pieces.append(text[copied:])
    return "".join(pieces)
