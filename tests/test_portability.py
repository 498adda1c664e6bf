"""Inputs are decided the same way on every supported Python (3.11 to 3.14) and every host.

CI runs the whole suite on the default interpreter and on the newest one installed (`.ci/run`),
so each expectation here is checked on several versions. The inputs are those whose fate the
standard library changes between releases: base64 padding (3.13 refuses excess ``=``), Unicode
digits and letters (each release adds some, and ``\\d``, ``\\w``, ``str.isdigit`` follow), the
spelling of IPv4-mapped IPv6 addresses (3.13 prints ``::ffff:10.0.0.0``), and time zone names
(``zoneinfo`` reads whatever files the host has).
"""

from __future__ import annotations

import base64
import zoneinfo
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubegen import CronJob, Deployment, IPBlock, SealedSecret, Stack, ValidationError, lint
from kubegen._builders.network.cidrs import check_cidr, check_except
from kubegen._builders.network.policy import check_policy_port_name
from kubegen._values import InvalidValue, check_image
from kubegen._values.encoding import decode_base64

# Digits and letters that only newer Unicode versions know (unicodedata 14.0 in 3.11, 15.0 in
# 3.12, 15.1 in 3.13, 16.0 in 3.14), so \d, \w and str.isdigit() decide them by Python version.
KAWI_DIGITS = "\U00011f50\U00011f51\U00011f53"  # Unicode 15.0
GARAY_DIGITS = "\U00010d40\U00010d41\U00010d43"  # Unicode 16.0
KAWI_LETTER = "\U00011f04"  # Unicode 15.0
GARAY_LETTER = "\U00010d4a"  # Unicode 16.0
SEALED = "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + "Qx7m" * 180  # kubeseal shape (558 bytes)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("YWJj", b"abc"),
        ("YWI=", b"ab"),
        ("YQ==", b"a"),
        ("", b""),
        ("YWJ=", b"ab"),  # non-zero trailing bits: Go's StdEncoding accepts them too
        ("YWJj==", None),  # excess padding: 3.11/3.12 accept it, 3.13+ and Go refuse
        ("YWJj=", None),
        ("YWI==", None),
        ("YWI", None),  # missing padding
        ("YW=I", None),
        ("YW Jj", None),
        ("YWJj\n", None),
        ("YW\nJj", None),
        ("-_8=", None),  # URL-safe alphabet
        ("YWJj" + KAWI_DIGITS[0], None),
    ],
)
def test_base64_is_go_std_encoding_on_every_python(text: str, expected: bytes | None) -> None:
    assert decode_base64(text) == expected


@given(st.binary(max_size=200))
def test_base64_round_trips_whatever_was_encoded(data: bytes) -> None:
    encoded = base64.b64encode(data).decode()
    assert decode_base64(encoded) == data
    assert decode_base64(encoded + "=") is None


def test_sealed_value_with_excess_padding_is_refused_everywhere() -> None:
    assert SealedSecret("db", encrypted_data={"password": SEALED}).encrypted_data
    with pytest.raises(ValidationError) as info:
        SealedSecret("db", encrypted_data={"password": SEALED + "=="})
    assert "does not look like kubeseal output" in str(info.value)


@pytest.mark.parametrize("digits", [KAWI_DIGITS, GARAY_DIGITS, "\u0661\u0660\u0661"])
def test_rule_ids_take_ascii_digits_only(digits: str) -> None:
    stack = Stack("shop", namespace="shop")
    with pytest.raises(ValidationError, match="KG"):
        stack.waive(f"KG{digits}", reason="a non-ASCII rule id names no rule")
        lint(stack)


@pytest.mark.parametrize("minor", [KAWI_DIGITS[:2], GARAY_DIGITS[:2], "\u0663\u0663"])
def test_kubernetes_versions_take_ascii_digits_only(minor: str) -> None:
    stack = Stack("shop", namespace="shop", kubernetes_version=f"1.{minor}")
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))
    with pytest.raises(ValidationError, match=r"MAJOR\.MINOR"):
        lint(stack)


@pytest.mark.parametrize("tag", [f"1.{KAWI_DIGITS}", f"v{KAWI_LETTER}", f"v{GARAY_LETTER}", "é1"])
def test_image_tags_are_ascii(tag: str) -> None:
    with pytest.raises(InvalidValue):
        check_image(f"nginx:{tag}")
    assert check_image("nginx:1.27_b-2") == "nginx:1.27_b-2"


@pytest.mark.parametrize("name", ["²", KAWI_DIGITS, GARAY_DIGITS])
def test_non_ascii_digit_port_names_are_refused_not_crashed_on(name: str) -> None:
    with pytest.raises(InvalidValue):
        check_policy_port_name(name)


@pytest.mark.parametrize(
    ("cidr", "spelled"),
    [
        ("::ffff:10.0.0.0/104", "::ffff:a00:0/104"),
        ("::FFFF:1.2.3.4/128", "::ffff:102:304/128"),
        ("::ffff:0.0.0.0/96", "::ffff:0:0/96"),
        ("2001:DB8::/32", "2001:db8::/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
    ],
)
def test_ipv4_mapped_networks_are_spelled_the_same_everywhere(cidr: str, spelled: str) -> None:
    assert check_cidr(cidr) == spelled
    assert IPBlock(cidr=cidr).cidr == spelled


def test_except_entries_are_spelled_the_same_everywhere() -> None:
    assert check_except("::ffff:0:0/96", ["::ffff:10.0.0.0/104"]) == ["::ffff:a00:0/104"]


@pytest.fixture
def no_host_time_zones() -> Iterator[None]:
    """A host without a time zone database (Windows, slim images)."""
    zoneinfo.reset_tzpath([])
    try:
        yield
    finally:
        zoneinfo.reset_tzpath()


def _cronjob(zone: str) -> CronJob:
    return CronJob("backup", image="ghcr.io/acme/backup:1.0", schedule="@daily", time_zone=zone)


@pytest.mark.parametrize("zone", ["Etc/UTC", "UTC", "Europe/Berlin", "Europe/Kyiv", "Europe/Kiev"])
def test_iana_zones_are_accepted_whatever_the_host_has(zone: str, no_host_time_zones: None):
    assert _cronjob(zone).time_zone == zone


@pytest.mark.parametrize(
    "zone", ["localtime", "posixrules", "right/UTC", "posix/Etc/UTC", "Local", "Etc/UTC\n", ""]
)
def test_host_files_that_are_not_zones_are_refused(zone: str) -> None:
    with pytest.raises(ValidationError) as info:
        _cronjob(zone)
    assert "IANA" in str(info.value)
