"""Namespace and the ``Manifest`` escape hatch: the core objects every stack can hold."""

from __future__ import annotations

import math
import re
from typing import Any, ClassVar, Literal, Unpack

from pydantic import BaseModel, Field, model_validator

from kubegen._builders.base import Resource, ResourceArgs
from kubegen._manifests import ManifestObject, canonical, is_cluster_scoped
from kubegen._values import (
    InvalidValue,
    check_annotations,
    check_dns_label,
    check_dns_subdomain,
    check_labels,
    check_path_segment_name,
)

PodSecurityLevel = Literal["restricted", "baseline", "privileged"]
_PSS_PREFIX = "pod-security.kubernetes.io/"


class NamespaceArgs(ResourceArgs, total=False):
    pod_security: PodSecurityLevel
    reason: str | None


class Namespace(Resource):
    """A namespace with the Pod Security Admission labels set.

    Defaults to ``restricted`` for enforce, audit and warn (Pod Security Standards). A weaker
    level needs ``reason=…``, rendered as an annotation.
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Namespace"
    cluster_scoped: ClassVar[bool] = True

    pod_security: PodSecurityLevel = "restricted"
    reason: str | None = None

    def __init__(self, name: str, /, **data: Unpack[NamespaceArgs]) -> None:
        super().__init__(name, **data)

    @model_validator(mode="after")
    def _weakening_needs_reason(self) -> Namespace:
        check_dns_label(self.name)
        if self.pod_security != "restricted" and not (self.reason and self.reason.strip()):
            raise InvalidValue(
                f"pod_security={self.pod_security!r} weakens the restricted default",
                fix="pass reason='why pods here need it' or keep 'restricted'",
            )
        return self

    def manifests(self) -> list[ManifestObject]:
        labels = {
            f"{_PSS_PREFIX}{mode}": self.pod_security for mode in ("enforce", "audit", "warn")
        }
        if self.pod_security != "restricted" and self.reason:
            self._opt_outs.setdefault("pod-security", self.reason)
        body = {"apiVersion": self.api_version, "kind": self.kind, "metadata": self.metadata(
            labels=labels)}
        return [self.manifest(body)]


_MAX_DEPTH = 100  # far deeper than any Kubernetes schema; stops cycles and runaway nesting
_INT64 = 2**63


def _string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidValue(
            f"{where} must map strings to strings, not {value!r:.80}",
            fix="quote numbers and booleans: {'tier': 'backend', 'replicas': '3'}",
        )
    return value


def check_json_value(value: Any, where: str = "body", depth: int = 0) -> None:
    """Refuse what a Kubernetes object (JSON) cannot hold, before the emitter meets it.

    Allowed: ``str`` (encodable as UTF-8), ``bool``, ``int`` within int64, finite ``float``,
    ``None``, ``list``/``tuple``, and ``dict`` with ``str`` keys, nested at most 100 deep (a
    mapping that contains itself is refused).
    """
    if depth > _MAX_DEPTH:
        raise InvalidValue(
            f"{where[:60]}… is nested more than {_MAX_DEPTH} levels deep (or contains itself)",
            fix="build the body from fresh dicts and lists, without cycles",
        )
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode()
            except UnicodeEncodeError:
                raise InvalidValue(
                    f"{where} holds a lone surrogate, which is not valid UTF-8: {value!r:.80}",
                    fix="decode the text properly (bytes.decode('utf-8'))",
                ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidValue(
                    f"{where} has the key {key!r}, which is not a string",
                    fix="use string keys: Kubernetes objects are JSON",
                )
            check_json_value(key, f"{where} key", depth + 1)
            check_json_value(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_json_value(item, f"{where}[{index}]", depth + 1)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        if not -_INT64 <= value < _INT64:
            raise InvalidValue(
                f"{where} = {value} does not fit a 64-bit integer", fix="pass it as a string"
            )
    elif not isinstance(value, float) or not math.isfinite(value):
        raise InvalidValue(
            f"{where} holds {value!r:.80} ({type(value).__name__}), which a Kubernetes object "
            "cannot carry",
            fix="use strings, numbers, booleans, None, lists and dicts with string keys",
        )


_API_VERSION_RE = re.compile(r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]+)?\Z")
_KIND_RE = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
#: Named like path segments by the API server (``system:controller:…``), not as DNS names.
_RBAC_GROUP = "rbac.authorization.k8s.io/"
_RBAC_KINDS = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def check_body(body: dict[str, Any]) -> None:
    """Refuse an object body Kubernetes could not take: identity fields, labels, JSON values.

    Raises:
        InvalidValue: what is wrong and how to fix it.
    """
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not isinstance(api_version, str) or not _API_VERSION_RE.match(api_version):
        raise InvalidValue(
            f"apiVersion {api_version!r} is not of the form 'v1' or 'group/v1beta1'",
            fix="set body['apiVersion'], e.g. 'apps/v1'",
        )
    if not isinstance(kind, str) or not _KIND_RE.match(kind):
        raise InvalidValue(
            f"kind {kind!r} must be a CamelCase word", fix="set body['kind'], e.g. 'ConfigMap'"
        )
    meta = body.get("metadata")
    if not isinstance(meta, dict) or meta.get("name") is None:
        raise InvalidValue(
            "metadata.name is missing", fix="set body['metadata'] = {'name': 'my-object'}"
        )
    if not isinstance(meta["name"], str):
        raise InvalidValue(
            f"metadata.name {meta['name']!r} is a {type(meta['name']).__name__}, not a string",
            fix="quote it (in YAML: name: 'my-object'), or set body['metadata']['name'] to text",
        )
    if api_version.startswith(_RBAC_GROUP) and kind in _RBAC_KINDS:
        check_path_segment_name(meta["name"])
    else:
        check_dns_subdomain(meta["name"])
    namespace = meta.get("namespace")
    if namespace is not None:
        if not isinstance(namespace, str):
            raise InvalidValue(
                f"metadata.namespace {namespace!r} is not a string",
                fix="set body['metadata']['namespace'] to a namespace name, or leave it out",
            )
        check_dns_label(namespace)
    check_labels(_string_map(meta.get("labels"), "metadata.labels"))
    check_annotations(_string_map(meta.get("annotations"), "metadata.annotations"))
    check_json_value(body)


class ManifestArgs(ResourceArgs, total=False):
    scope: Literal["auto", "namespaced", "cluster"]


class Manifest(Resource):
    """Any Kubernetes object given as data: the escape hatch under the typed builders.

    ``Manifest({"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "x"}, ...})``.
    Identity fields are validated like everywhere else; the rest is passed through in author
    order, and the policy engine still checks it. A pydantic model (such as the typed custom
    resources ``kubegen import crd`` generates) is taken as its JSON form by alias, without
    unset (None) fields. Set ``cluster_scoped`` for custom resources
    without a namespace (kinds of the core API are known).
    """

    kind: ClassVar[str] = "Manifest"
    api_version: ClassVar[str] = ""

    body: dict[str, Any]
    scope: Literal["auto", "namespaced", "cluster"] = "auto"
    name: str = Field(default="", exclude=True)

    def __init__(self, body: dict[str, Any] | BaseModel, /, **data: Unpack[ManifestArgs]) -> None:
        if isinstance(body, BaseModel):
            body = body.model_dump(mode="json", by_alias=True, exclude_none=True)
        meta = body.get("metadata") if isinstance(body, dict) else None
        name = meta.get("name", "") if isinstance(meta, dict) else ""
        super(Resource, self).__init__(
            body=body, name=name if isinstance(name, str) else "", **data
        )

    @model_validator(mode="after")
    def _check_identity(self) -> Manifest:
        check_body(self.body)
        return self

    @property
    def is_cluster_scoped(self) -> bool:
        if self.scope != "auto":
            return self.scope == "cluster"
        return is_cluster_scoped(self.body["apiVersion"], self.body["kind"])

    @property
    def display(self) -> str:
        meta = self.body["metadata"]
        ns = self.namespace or meta.get("namespace")
        kind = self.body["kind"]
        if self.is_cluster_scoped or not ns:
            return f"{kind} {meta['name']}"
        return f"{kind} {ns}/{meta['name']}"

    def attach(self, stack: Any) -> None:
        self._stack = stack
        meta = self.body["metadata"]
        if not self.is_cluster_scoped and self.namespace is None:
            self.namespace = meta.get("namespace") or stack.namespace

    def manifests(self) -> list[ManifestObject]:
        body = dict(self.body)
        meta = dict(body["metadata"])
        if self.is_cluster_scoped:
            meta.pop("namespace", None)
        else:
            meta["namespace"] = self.require_namespace()
        labels = dict(self._stack.labels) if self._stack is not None else {}
        labels.update(meta.get("labels") or {})
        if labels:
            meta["labels"] = labels
        body["metadata"] = meta
        return [self.manifest(canonical(body))]
