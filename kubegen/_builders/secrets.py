"""Secrets without plaintext in git: references, External Secrets, Sealed Secrets.

* :class:`SecretRef` points at a Secret managed elsewhere (by hand, an operator, Vault…).
* :class:`ExternalSecret` renders an External Secrets Operator object that syncs a Secret from a
  secret store; git holds only the remote key.
* :class:`SealedSecret` renders a Bitnami Sealed Secret: ciphertext from ``kubeseal``.
* :class:`Secret` is a plain Secret; one with data is refused unless ``allow_plaintext`` says why.

Every one of them can be mounted with :class:`~kubegen.SecretFiles` (the default way: files, not
environment variables) or read with :class:`~kubegen.SecretKey`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar, Literal, Required, TypedDict, TypeVar, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder, NoArgs, Resource, ResourceArgs, empty_list
from kubegen._manifests import ManifestObject
from kubegen._values import (
    DNSSubdomain,
    Duration,
    DurationLike,
    InvalidValue,
    Reason,
    check_data_key,
    seconds,
)
from kubegen._values.credentials import sealed_problem

_Data = TypeVar("_Data", bound=dict[str, Any])


class SecretRef(Builder):
    """A Secret that exists in the cluster but is not rendered by this stack.

    Args:
        name: the Secret's name (DNS-1123 subdomain).
    """

    name: DNSSubdomain

    def __init__(self, name: str, /, **data: Unpack[NoArgs]) -> None:
        super().__init__(name=name, **data)

    @property
    def secret_name(self) -> str:
        """The name of the Secret object pods read."""
        return self.name

    def checksum(self) -> str | None:
        """No checksum: the content is unknown to kubegen."""
        return None


class SecretArgs(ResourceArgs, total=False):
    data: Mapping[str, str]
    type: str
    immutable: bool
    allow_plaintext: str | None


class Secret(Resource):
    """A plain Secret. With data it is plaintext in git, so it needs ``allow_plaintext``.

    Args:
        name: DNS-1123 subdomain.
        data: key → plaintext value; rendered base64-encoded under ``data``, keys sorted.
        type: the Secret type (defaults to ``Opaque``).
        immutable: mark it immutable (defaults to False).
        allow_plaintext: why this secret may live in git (rendered as an annotation).
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Secret"
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"data"})

    data: dict[str, str] = Field(default_factory=dict)
    type: str = "Opaque"
    immutable: bool = False
    allow_plaintext: Reason | None = None

    def __init__(self, name: str, /, **data: Unpack[SecretArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("data")
    @classmethod
    def _check_keys(cls, data: dict[str, str]) -> dict[str, str]:
        return _check_keys(data, "Secret")

    @model_validator(mode="after")
    def _refuse_plaintext(self) -> Secret:
        if self.data and self.allow_plaintext is None:
            raise InvalidValue(
                "a Secret with data would put plaintext secrets in git",
                fix="use SealedSecret or ExternalSecret, reference it with SecretRef, or pass "
                "allow_plaintext='why this is not sensitive'",
            )
        return self

    @property
    def secret_name(self) -> str:
        return self.name

    def checksum(self) -> str:
        """Digest of the data, for the pod-template annotation that rolls pods on change."""
        return _digest(self.data)

    def manifests(self) -> list[ManifestObject]:
        if self.allow_plaintext is not None:
            self.opt_out("plaintext-secret", self.allow_plaintext)
        body: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata(),
        }
        if self.immutable:
            body["immutable"] = True
        if self.data:
            body["data"] = {
                k: base64.b64encode(v.encode()).decode() for k, v in sorted(self.data.items())
            }
        body["type"] = self.type
        return [self.manifest(body)]


class RemoteKeyArgs(TypedDict, total=False):
    property: str | None
    version: str | None


class RemoteKey(Builder):
    """Where an ExternalSecret finds one value in the store.

    Args:
        key: the remote key (a path in Vault, a secret name in AWS Secrets Manager…).
        property: a field inside a structured remote secret; unset by default.
        version: a pinned version; unset means the latest.
    """

    key: str = Field(min_length=1)
    property: str | None = None
    version: str | None = None

    def __init__(self, key: str, /, **data: Unpack[RemoteKeyArgs]) -> None:
        super().__init__(key=key, **data)

    def render(self) -> dict[str, str]:
        out = {"key": self.key}
        if self.property is not None:
            out["property"] = self.property
        if self.version is not None:
            out["version"] = self.version
        return out


class ExternalSecretArgs(ResourceArgs, total=False):
    store: Required[str]
    store_kind: Literal["SecretStore", "ClusterSecretStore"]
    data: Mapping[str, str | RemoteKey]
    extract: list[str] | tuple[str, ...]
    refresh: DurationLike
    target: str | None


class ExternalSecret(Resource):
    """An External Secrets Operator ``ExternalSecret`` (``external-secrets.io/v1``).

    Args:
        name: the ExternalSecret's name; also the synced Secret's name unless ``target`` is set.
        store: name of the SecretStore or ClusterSecretStore.
        store_kind: ``SecretStore`` (default) or ``ClusterSecretStore``.
        data: Secret key → remote key (a string or a :class:`RemoteKey`), in author order.
        extract: remote keys whose every property becomes a Secret key (``dataFrom.extract``).
        refresh: how often to re-read the store (defaults to 1h).
        target: name of the Secret to create (defaults to ``name``).
    """

    api_version: ClassVar[str] = "external-secrets.io/v1"
    kind: ClassVar[str] = "ExternalSecret"

    store: DNSSubdomain
    store_kind: Literal["SecretStore", "ClusterSecretStore"] = "SecretStore"
    data: dict[str, str | RemoteKey] = Field(default_factory=dict)
    extract: list[str] = Field(default_factory=empty_list)
    refresh: Duration = timedelta(hours=1)
    target: DNSSubdomain | None = None

    def __init__(self, name: str, /, **data: Unpack[ExternalSecretArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("data")
    @classmethod
    def _check_keys(cls, data: dict[str, str | RemoteKey]) -> dict[str, str | RemoteKey]:
        return _check_keys(data, "Secret")  # the keys of the Secret the operator creates

    @model_validator(mode="after")
    def _needs_data(self) -> ExternalSecret:
        if not self.data and not self.extract:
            raise InvalidValue(
                "an ExternalSecret needs data or extract, or it syncs an empty Secret",
                fix="pass data={'password': RemoteKey('prod/db', property='password')} (one "
                "field of a remote secret) or extract=['prod/db'] (all of its fields)",
            )
        return self

    @property
    def secret_name(self) -> str:
        return self.target or self.name

    def checksum(self) -> None:
        """No checksum: the values live in the store and change without a render."""
        return None

    def manifests(self) -> list[ManifestObject]:
        spec: dict[str, Any] = {
            "refreshInterval": go_duration(self.refresh),
            "secretStoreRef": {"kind": self.store_kind, "name": self.store},
            "target": {"name": self.secret_name, "creationPolicy": "Owner"},
        }
        if self.data:
            spec["data"] = [
                {
                    "secretKey": key,
                    "remoteRef": (ref if isinstance(ref, RemoteKey) else RemoteKey(ref)).render(),
                }
                for key, ref in self.data.items()
            ]
        if self.extract:
            spec["dataFrom"] = [{"extract": {"key": key}} for key in self.extract]
        return self.spec_manifests(spec)


class SealedSecretArgs(ResourceArgs, total=False):
    encrypted_data: Required[Mapping[str, str]]
    type: str
    scope: Literal["strict", "namespace-wide", "cluster-wide"]


class SealedSecret(Resource):
    """A Bitnami ``SealedSecret`` (``bitnami.com/v1alpha1``): only ciphertext is in git.

    Args:
        name: the SealedSecret's and the unsealed Secret's name.
        encrypted_data: key → ciphertext from ``kubeseal --raw`` (base64); checked to look
            sealed, so plaintext pasted by mistake is refused.
        type: the unsealed Secret's type (defaults to ``Opaque``).
        scope: ``strict`` (default: sealed for this name and namespace), ``namespace-wide`` or
            ``cluster-wide``, matching how the values were sealed.
    """

    api_version: ClassVar[str] = "bitnami.com/v1alpha1"
    kind: ClassVar[str] = "SealedSecret"
    # Meant to hold ciphertext, but a mistake pastes plaintext here: never echo it.
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"encrypted_data"})

    encrypted_data: dict[str, str] = Field(min_length=1)
    type: str = "Opaque"
    scope: Literal["strict", "namespace-wide", "cluster-wide"] = "strict"

    def __init__(self, name: str, /, **data: Unpack[SealedSecretArgs]) -> None:
        super().__init__(name, **data)

    @field_validator("encrypted_data")
    @classmethod
    def _looks_sealed(cls, data: dict[str, str]) -> dict[str, str]:
        _check_keys(data, "Secret")  # the keys of the unsealed Secret
        for key, value in data.items():
            problem = sealed_problem(value)
            if problem is not None:
                raise InvalidValue(
                    f"encrypted_data[{key!r}] does not look like kubeseal output ({problem}); "
                    "is it plaintext?",
                    fix="seal it: `kubeseal --raw --name <name> --namespace <ns> "
                    "--from-file=/dev/stdin`",
                )
        return data

    @property
    def secret_name(self) -> str:
        return self.name

    def checksum(self) -> str:
        """Digest of the ciphertext: a re-sealed value rolls the pods that use it."""
        return _digest(self.encrypted_data)

    def manifests(self) -> list[ManifestObject]:
        annotations = {}
        if self.scope != "strict":
            annotations[f"sealedsecrets.bitnami.com/{self.scope}"] = "true"
        meta = self.metadata()
        if annotations:
            meta["annotations"] = {**meta.get("annotations", {}), **annotations}
        template_meta = {k: v for k, v in meta.items() if k in ("name", "namespace", "labels")}
        spec = {
            "encryptedData": dict(sorted(self.encrypted_data.items())),
            "template": {"metadata": template_meta, "type": self.type},
        }
        body = {"apiVersion": self.api_version, "kind": self.kind, "metadata": meta, "spec": spec}
        return [self.manifest(body)]


SecretSource = SecretRef | Secret | ExternalSecret | SealedSecret
"""Anything that names a Secret pods can read."""


def go_duration(delta: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` → ``'1h30m'``: the form Go-based controllers parse."""
    total = seconds(delta)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    return text + (f"{secs}s" if secs or not text else "")


def _check_keys(data: _Data, kind: str) -> _Data:
    """Every key is a valid data key of ``kind`` (the same rule as ConfigMap keys)."""
    for key in data:
        check_data_key(key, kind)
    return data


def _digest(data: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode() + b"\0" + data[key].encode() + b"\0")
    return digest.hexdigest()
