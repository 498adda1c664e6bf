"""Secrets never plaintext in git: SecretRef, ExternalSecret, SealedSecret, guarded Secret."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from workload_support import TAGGED, objects_by_kind, pod_spec

from kubegen import (
    ConfigMap,
    Container,
    ExternalSecret,
    Job,
    RemoteKey,
    SealedSecret,
    Secret,
    SecretFiles,
    SecretKey,
    SecretRef,
    Stack,
    ValidationError,
)

SEALED = base64.b64encode(b"\x02\x00" + bytes(range(256)) * 3).decode()  # kubeseal shape


def test_plain_secret_with_data_refused() -> None:
    with pytest.raises(ValidationError) as info:
        Secret("db", data={"password": "hunter2"})
    text = str(info.value)
    assert "plaintext" in text and "SealedSecret" in text and "allow_plaintext" in text


def test_plain_secret_allowed_with_reason() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Secret("dev-db", data={"password": "dev"}, allow_plaintext="local dev only"))
    body = objects_by_kind(stack)[("Secret", "dev-db")]
    assert body["data"] == {"password": base64.b64encode(b"dev").decode()}
    assert body["type"] == "Opaque"
    assert body["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-plaintext-secret": "local dev only"
    }


def test_empty_secret_needs_no_reason() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Secret("tls", type="kubernetes.io/tls"))
    assert "data" not in objects_by_kind(stack)[("Secret", "tls")]


def test_external_secret() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(ExternalSecret(
        "db",
        store="vault",
        store_kind="ClusterSecretStore",
        data={"password": "prod/db#password",
              "user": RemoteKey("prod/db", property="user", version="3")},
        extract=["prod/common"],
        refresh="90m",
        target="db-credentials",
    ))
    body = objects_by_kind(stack)[("ExternalSecret", "db")]
    assert body["apiVersion"] == "external-secrets.io/v1"
    assert body["spec"] == {
        "refreshInterval": "1h30m",
        "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
        "target": {"name": "db-credentials", "creationPolicy": "Owner"},
        "data": [
            {"secretKey": "password", "remoteRef": {"key": "prod/db#password"}},
            {"secretKey": "user",
             "remoteRef": {"key": "prod/db", "property": "user", "version": "3"}},
        ],
        "dataFrom": [{"extract": {"key": "prod/common"}}],
    }


def test_external_secret_needs_data() -> None:
    with pytest.raises(ValidationError, match="needs data or extract") as info:
        ExternalSecret("db", store="vault")
    # '#' would be rendered literally into remoteRef.key: a field is RemoteKey(property=).
    assert "RemoteKey('prod/db', property='password')" in (info.value.fix or "")
    assert "#" not in (info.value.fix or "")


def test_sealed_secret() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(SealedSecret("db", encrypted_data={"password": SEALED}, scope="namespace-wide"))
    body = objects_by_kind(stack)[("SealedSecret", "db")]
    assert body["apiVersion"] == "bitnami.com/v1alpha1"
    assert body["metadata"]["annotations"] == {"sealedsecrets.bitnami.com/namespace-wide": "true"}
    assert body["spec"]["encryptedData"] == {"password": SEALED}
    assert body["spec"]["template"]["metadata"]["name"] == "db"
    assert body["spec"]["template"]["type"] == "Opaque"


@pytest.mark.parametrize("value", ["hunter2", "cGFzc3dvcmQ=", "not base64!!"])
def test_sealed_secret_refuses_plaintext(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        SealedSecret("db", encrypted_data={"password": value})
    assert "does not look like kubeseal output" in str(info.value)
    assert "kubeseal --raw" in str(info.value)


def test_secrets_mount_as_files_from_every_source() -> None:
    stack = Stack("shop", namespace="shop")
    external = ExternalSecret("ext", store="vault", data={"k": "path"}, target="synced")
    stack.add(Job("task", image=TAGGED, mounts={
        "/run/a": SecretFiles(SecretRef("managed")),
        "/run/b": SecretFiles(external),
        "/run/c": SecretFiles(SealedSecret("sealed", encrypted_data={"k": SEALED}),
                              items={"k": "key.pem"}),
    }))
    volumes = pod_spec(objects_by_kind(stack)[("Job", "task")])["volumes"]
    assert [v["secret"]["secretName"] for v in volumes] == ["managed", "synced", "sealed"]
    assert volumes[2]["secret"]["items"] == [{"key": "k", "path": "key.pem"}]
    assert all(v["secret"]["defaultMode"] == 0o440 for v in volumes)


def test_secret_key_names_secret() -> None:
    assert SecretKey(ExternalSecret("e", store="s", data={"k": "p"}), "k").secret_name == "e"
    assert SecretKey("plain-name", "k").render() == {
        "secretKeyRef": {"name": "plain-name", "key": "k"}
    }


# --- secret values never appear in errors or repr() ----------------------------------------

PLAIN = "hunter2-do-not-print"


def _error_of(build: Callable[[], object]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        build()
    return info.value


def test_sealed_secret_error_redacts_values_keeps_keys() -> None:
    error = _error_of(lambda: SealedSecret("db", encrypted_data={"password": PLAIN}))
    text = str(error)
    assert PLAIN not in text and PLAIN not in repr(error.value)
    assert "field 'encrypted_data' = {'password': '<redacted>'}" in text
    assert "encrypted_data['password'] does not look like kubeseal output" in text


def test_secret_errors_redact_values() -> None:
    refused = _error_of(lambda: Secret("db", data={"password": PLAIN}))
    assert refused.value == {"name": "db", "data": {"password": "<redacted>"}}
    wrong_type = _error_of(
        lambda: Secret("db", data={"password": PLAIN, "pin": 1234}, allow_plaintext="test")
    )
    assert "field 'data.pin' = '<redacted>'" in str(wrong_type)
    assert "1234" not in str(wrong_type)


def test_secret_inside_another_builder_is_redacted() -> None:
    secret = Secret("db", data={"password": PLAIN}, allow_plaintext="test")
    assert PLAIN not in repr(secret) and "data={'password': '<redacted>'}" in repr(secret)
    error = _error_of(lambda: Container(image=TAGGED, env={"DB": secret}))  # type: ignore[dict-item]
    assert PLAIN not in str(error) and PLAIN not in repr(error.value)


def test_assignment_errors_are_kubegen_errors_and_redacted() -> None:
    secret = Secret("db", data={"password": "x"}, allow_plaintext="test")
    error = _error_of(lambda: setattr(secret, "data", {"password": PLAIN, "pin": 1234}))
    assert "Secret db: field 'data.pin' = '<redacted>'" in str(error)
    assert secret.data == {"password": "x"}


def test_non_secret_fields_still_show_their_value() -> None:
    error = _error_of(lambda: Secret("db", type=5))  # type: ignore[arg-type]
    assert "field 'type' = 5" in str(error)


# --- Secret keys follow the ConfigMap key rule -------------------------------------------------


@pytest.mark.parametrize("key", ["bad key", "a/b", ".", "..", "x" * 254, "", "pass:word"])
def test_secret_keys_are_checked_like_configmap_keys(key: str) -> None:
    builders: list[Callable[[], object]] = [
        lambda: Secret("db", data={key: PLAIN}, allow_plaintext="test"),
        lambda: SealedSecret("db", encrypted_data={key: SEALED}),
        lambda: ExternalSecret("db", store="vault", data={key: "prod/db"}),
        lambda: SecretKey(SecretRef("db"), key),
    ]
    for build in builders:
        error = _error_of(build)
        assert f"key {key!r} is not a valid Secret key" in error.message
        assert "rename the key" in (error.fix or "")
        assert PLAIN not in str(error)
    configmap = _error_of(lambda: ConfigMap("app", data={key: "x"}))
    assert f"key {key!r} is not a valid ConfigMap key" in configmap.message


def test_valid_secret_keys_are_accepted() -> None:
    keys = {"password": SEALED, "tls.crt": SEALED, "DB_PASSWORD": SEALED, "-._x9": SEALED}
    assert SealedSecret("db", encrypted_data=keys).encrypted_data == keys
    assert Secret("db", data=dict.fromkeys(keys, "v"), allow_plaintext="test").data.keys() == \
        keys.keys()
    assert SecretKey("db", "tls.crt").render() == {"secretKeyRef": {"name": "db", "key": "tls.crt"}}


def test_key_fix_never_suggests_an_invalid_key() -> None:
    assert _error_of(lambda: ConfigMap("app", data={"..": "x"})).fix == (
        "rename the key, e.g. 'config'"
    )
