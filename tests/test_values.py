"""Value types: each accepted form normalised, each rejected value explained (field and form)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen import (
    Container,
    Deployment,
    ImageRef,
    Port,
    Resources,
    Service,
    ValidationError,
)
from kubegen._values import (
    InvalidValue,
    check_dns1035_label,
    check_env_name,
    check_label_key,
    check_label_value,
    check_port_name,
    check_port_number,
    check_reason,
    normalize_quantity,
    parse_duration,
    parse_quantity,
)

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("500m", "500m"),
        ("0.5", "500m"),
        (0.5, "500m"),
        (2, "2"),
        ("1000m", "1"),
        ("1500m", "1500m"),
        ("256Mi", "256Mi"),
        ("1024Mi", "1Gi"),
        ("1.5Gi", "1536Mi"),
        ("1Gi", "1Gi"),
        ("2000", "2k"),
        ("1e3", "1k"),
        ("100M", "100M"),
        ("0", "0"),
        ("512Ki", "512Ki"),
        ("0.5Ki", "512"),
        ("1E", "1E"),
        ("3000P", "3E"),
    ],
)
def test_quantity_normalised(given: str | float, canonical: str) -> None:
    assert normalize_quantity(given) == canonical


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "-1", "10 Gi", "1gi", "", "1Zi"])
def test_quantity_rejected_names_valid_form(bad: str) -> None:
    with pytest.raises(InvalidValue) as info:
        normalize_quantity(bad)
    assert "'256Mi'" in str(info.value) and "'500m'" in str(info.value)


def test_quantity_finer_than_milli_rejected() -> None:
    with pytest.raises(InvalidValue, match="finer than the 1m"):
        normalize_quantity("0.0001")


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["m", "", "k", "Mi", "Gi"]))
def test_quantity_normalisation_keeps_amount_and_is_idempotent(number: int, suffix: str) -> None:
    text = f"{number}{suffix}"
    canonical = normalize_quantity(text)
    assert parse_quantity(canonical) == parse_quantity(text)
    assert normalize_quantity(canonical) == canonical


def test_parse_quantity_values() -> None:
    assert parse_quantity("256Mi") == 256 * 2**20
    assert parse_quantity("500m") == Decimal("0.5")


def test_request_above_limit_rejected_with_field() -> None:
    with pytest.raises(ValidationError) as info:
        Resources(cpu="2", memory="1Gi", cpu_limit="1")
    assert "cpu request '2' is more than its limit '1'" in str(info.value)
    assert "request must be ≤ its limit" in str(info.value)


def test_memory_without_unit_rejected() -> None:
    with pytest.raises(ValidationError, match="less than 1Mi") as info:
        Resources(cpu="100m", memory="128")
    assert "memory='128Mi'" in str(info.value)


def test_bad_quantity_in_resources_names_field() -> None:
    with pytest.raises(ValidationError) as info:
        Resources(cpu="lots", memory="1Gi")
    assert info.value.field == "cpu"
    assert "'500m'" in str(info.value)


@pytest.mark.parametrize(
    "ref",
    [
        "postgres:16.4",
        "ghcr.io/acme/api:1.2.3",
        f"ghcr.io/acme/api:1.2.3@{DIGEST}",
        f"ghcr.io/acme/api@{DIGEST}",
        "localhost:5000/team/app:v1",
        "registry.example.com:443/a/b/c:2024.01.02-rc_1",
    ],
)
def test_image_accepted(ref: str) -> None:
    assert str(ImageRef.parse(ref)) == ref


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("nginx", "has no tag"),
        ("ghcr.io/acme/api", "has no tag"),
        ("nginx:latest", "'latest' tag"),
        (f"nginx:latest@{DIGEST}", "'latest' tag"),
        ("Nginx:1.0", "not a valid reference"),
        ("nginx:1.0@sha256:abc", "invalid digest"),
        ("nginx:1.0@md5:" + "a" * 32, "invalid digest"),
        ("nginx:-bad", "not a valid reference"),
    ],
)
def test_image_rejected(ref: str, message: str) -> None:
    with pytest.raises(InvalidValue) as info:
        ImageRef.parse(ref)
    assert message in str(info.value)
    assert "registry/repository:tag" in str(info.value) or "sha256" in str(info.value)


def test_image_rejection_in_container_names_field_and_fix() -> None:
    with pytest.raises(ValidationError) as info:
        Container(image="nginx:latest")
    assert info.value.field == "image"
    assert info.value.fix is not None and "nginx:1.2.3" in info.value.fix


def test_image_digest_pinning_offered() -> None:
    ref = ImageRef.parse("ghcr.io/acme/api:1.2.3")
    assert not ref.pinned
    pinned = ref.with_digest(DIGEST)
    assert pinned.pinned and str(pinned) == f"ghcr.io/acme/api:1.2.3@{DIGEST}"
    assert (pinned.repository, pinned.tag, pinned.digest) == ("ghcr.io/acme/api", "1.2.3", DIGEST)


@pytest.mark.parametrize("name", ["http", "pg", "metrics-9090", "a1", "h2c"])
def test_port_names_accepted(name: str) -> None:
    assert check_port_name(name) == name


@pytest.mark.parametrize(
    "name", ["HTTP", "1234", "-http", "http-", "a--b", "sixteen-chars-xx", "h_1"]
)
def test_port_names_rejected(name: str) -> None:
    with pytest.raises(InvalidValue) as info:
        check_port_name(name)
    assert "IANA service name" in str(info.value) and "15" in str(info.value)


@pytest.mark.parametrize("number", [0, 65536, -1])
def test_port_numbers_rejected(number: int) -> None:
    with pytest.raises(InvalidValue, match="1-65535"):
        check_port_number(number)


def test_port_rejection_names_field() -> None:
    with pytest.raises(ValidationError) as info:
        Port(8080, name="Web_Port")
    assert info.value.field == "name"
    assert "IANA service name" in str(info.value)


def test_dns1035_label_for_services() -> None:
    assert check_dns1035_label("api") == "api"
    with pytest.raises(ValidationError) as info:
        Service("1api", selector={"a": "b"}, ports=[])
    assert info.value.field == "name"
    assert "DNS-1035 label" in str(info.value) and "starting with a letter" in str(info.value)


@pytest.mark.parametrize("name", ["LOG_LEVEL", "_x", "a.b-c", "PATH"])
def test_env_names_accepted(name: str) -> None:
    assert check_env_name(name) == name


@pytest.mark.parametrize("name", ["1ABC", "A B", "A=B", ""])
def test_env_names_rejected(name: str) -> None:
    with pytest.raises(InvalidValue) as info:
        check_env_name(name)
    assert "environment variable name" in str(info.value)
    assert "not starting with a digit" in str(info.value)


def test_env_name_rejection_names_field() -> None:
    with pytest.raises(ValidationError) as info:
        Container(image="a/b:1", env={"1BAD": "x"})
    assert info.value.field is not None and info.value.field.startswith("env")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("2d", 172800),
        (45, 45),
        (timedelta(minutes=2), 120),
    ],
)
def test_durations(given: object, expected: int) -> None:
    assert parse_duration(given) == timedelta(seconds=expected)


@pytest.mark.parametrize("bad", ["30", "1.5s", "5 minutes", -1, timedelta(milliseconds=5), True])
def test_durations_rejected(bad: object) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_duration(bad)
    assert "'30s'" in str(info.value) or "whole" in str(info.value)


@pytest.mark.parametrize("bad", ["", "   ", None, True])
def test_reason_must_be_a_sentence(bad: object) -> None:
    with pytest.raises(InvalidValue, match="reason must be a non-empty sentence"):
        check_reason(bad)


def test_reason_whitespace_collapsed() -> None:
    assert check_reason("  needs\n  host   network ") == "needs host network"


@pytest.mark.parametrize("key", ["app", "app.kubernetes.io/name", "example.com/a_b.c-d"])
def test_label_keys_accepted(key: str) -> None:
    assert check_label_key(key) == key


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("Example.com/app", "invalid prefix"),
        ("/app", "invalid prefix"),
        ("example.com/", "name part must be 1-63"),
        ("-app", "name part must be 1-63"),
        ("a" * 64, "name part must be 1-63"),
    ],
)
def test_label_keys_rejected(key: str, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        check_label_key(key)


@pytest.mark.parametrize("value", ["-x", "x" * 64, "a b"])
def test_label_values_rejected(value: str) -> None:
    with pytest.raises(InvalidValue) as info:
        check_label_value(value)
    assert "at most 63" in str(info.value)


def test_label_rejection_names_field() -> None:
    with pytest.raises(ValidationError) as info:
        Deployment("api", image="a/b:1", allow_no_probes="x", pod_labels={"team": "a b"})
    assert info.value.field == "pod_labels"
    assert "label value 'a b'" in str(info.value)
