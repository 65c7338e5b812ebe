from __future__ import annotations

import pytest

from vcollector.inventory.filters import DeviceFilterSpec, wildcard_regex
from vcollector.inventory.records import DeviceRecord


def device(name: str = "eng-leaf-1", **overrides: object) -> DeviceRecord:
    values: dict[str, object] = {
        "id": 1,
        "name": name,
        "normalized_name": name.lower(),
        "address": "127.0.0.2",
        "port": 22,
        "platform": "cisco_ios",
        "site": "IAD2",
        "vendor": "Cisco Systems",
        "vendor_short_name": "CISCO",
        "role": "access",
        "model": "C9300",
    }
    values.update(overrides)
    return DeviceRecord(**values)  # type: ignore[arg-type]


def spec(**options: str) -> DeviceFilterSpec:
    return DeviceFilterSpec.from_mapping(options)


@pytest.mark.parametrize("vendor", ["cisco", "CISCO", "Systems", "sco sys"])
def test_vendor_is_a_case_insensitive_substring_of_the_name(vendor: str) -> None:
    assert spec(vendor=vendor).matches(device())


def test_vendor_also_matches_the_short_name() -> None:
    assert spec(vendor="jnpr").matches(device(vendor="Juniper Networks", vendor_short_name="JNPR"))
    assert not spec(vendor="arista").matches(device())


def test_site_is_exact_but_case_insensitive() -> None:
    assert spec(site="iad2").matches(device())
    assert not spec(site="IAD").matches(device())


def test_role_is_a_substring() -> None:
    assert spec(role="ACC").matches(device())
    assert not spec(role="core").matches(device())


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("eng-*", True),
        ("ENG-LEAF-?", True),
        ("*leaf*", True),
        ("leaf*", False),  # anchored at the start
        ("eng-leaf", False),  # anchored at the end
        ("eng_leaf_1", False),  # _ is literal
        ("eng%", False),  # % is literal
        ("eng-leaf-1", True),
    ],
)
def test_name_pattern_wildcards_are_anchored_and_literal_otherwise(pattern: str, expected: bool) -> None:
    assert spec(name_pattern=pattern).matches(device()) is expected


def test_name_pattern_also_tries_the_normalized_name() -> None:
    record = device(name="TOR412", normalized_name="tor412.iad2")
    assert spec(name_pattern="*.iad2").matches(record)


def test_platform_is_exact() -> None:
    assert spec(platform="cisco_ios").matches(device())
    assert not spec(platform="cisco").matches(device())
    assert not spec(platform="cisco_ios").matches(device(platform="cisco_nxos"))


def test_filters_are_anded_and_blank_means_any() -> None:
    assert spec(vendor="cisco", site="IAD2", role="", name_pattern="  ").matches(device())
    assert not spec(vendor="cisco", site="FRA1").matches(device())


def test_non_text_filter_is_refused() -> None:
    with pytest.raises(TypeError, match="device_filter.site"):
        DeviceFilterSpec.from_mapping({"site": 5})


def test_wildcard_regex_escapes_regex_characters() -> None:
    assert wildcard_regex("a.b+c*").fullmatch("a.b+cXYZ")
    assert not wildcard_regex("a.b").fullmatch("axb")
