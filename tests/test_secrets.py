"""Secrets never plaintext in git: SecretRef, ExternalSecret, SealedSecret, guarded Secret."""

from __future__ import annotations

import base64

import pytest
from workload_support import TAGGED, objects_by_kind, pod_spec

from kubegen import (
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

SEALED = base64.b64encode(bytes(range(256))).decode()


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
    with pytest.raises(ValidationError, match="needs data or extract"):
        ExternalSecret("db", store="vault")


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
