"""The manifest layer: plain dicts in canonical key order, each with where it was built.

Builders produce :class:`ManifestObject` records; policy and render read them and know nothing of
builders. Canonical order is ``apiVersion, kind, metadata (name, namespace, labels, annotations,
rest), then the kind's fields in author order``; label and annotation maps are sorted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from kubegen._origin import Origin

__all__ = [
    "CLUSTER_SCOPED_KINDS",
    "SORTED_MAPS",
    "ManifestObject",
    "VendorTag",
    "canonical",
    "canonical_order",
    "is_cluster_scoped",
]

# Built-in kinds without a namespace (kubectl api-resources --namespaced=false).
CLUSTER_SCOPED_KINDS: frozenset[tuple[str, str]] = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
    }
)


def group_of(api_version: str) -> str:
    """``apps/v1`` → ``apps``; ``v1`` → ``""`` (the core group)."""
    return api_version.rpartition("/")[0]


#: (group, kind) of custom resources registered as cluster-scoped (``kubegen.register_crd``).
CUSTOM_CLUSTER_SCOPED: set[tuple[str, str]] = set()


def is_cluster_scoped(api_version: str, kind: str) -> bool:
    """Whether objects of this kind have no namespace: built-in kinds, registered CRDs."""
    key = (group_of(api_version), kind)
    return key in CLUSTER_SCOPED_KINDS or key in CUSTOM_CLUSTER_SCOPED


_TOP_ORDER = ("apiVersion", "kind", "metadata")
_META_ORDER = ("name", "namespace", "labels", "annotations")
# Maps whose order carries no meaning: rendered sorted wherever they appear (pod templates,
# selectors), so the order a user built them in never shows in the output.
SORTED_MAPS = frozenset({"labels", "annotations", "matchLabels", "nodeSelector"})


def canonical(body: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``body`` in canonical order: ``apiVersion, kind, metadata (name, namespace, labels,
    annotations, rest)``, then the other fields in author order, with label-like maps sorted."""
    return _sort_label_maps(_ordered_copy(body))


def canonical_order(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """:func:`canonical` without sorting the label-like maps (:data:`SORTED_MAPS`): what the
    renderer passes to ``dump(..., SORTED_MAPS)``, which sorts them as it writes.

    Returns ``body`` itself when it is a dict already in that order with a dict (or no)
    ``metadata`` in its order, as builders make them; a reordered copy otherwise. Read it,
    do not modify it.
    """
    if type(body) is dict and _starts_with(body, _TOP_ORDER):
        meta = body.get("metadata")
        if type(meta) is dict:
            if _starts_with(meta, _META_ORDER):
                return body
        elif not isinstance(meta, Mapping):  # None or junk: left as it is
            return body
    return _ordered_copy(body)


def _starts_with(d: dict[str, Any], order: tuple[str, ...]) -> bool:
    """Whether the keys of ``d`` begin with those of ``order`` it has, in that order."""
    present = [key for key in order if key in d]
    return present == list(islice(d, len(present)))


def _ordered_copy(body: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in _TOP_ORDER:
        if key in body:
            out[key] = body[key]
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        ordered: dict[str, Any] = {}
        for key in _META_ORDER:
            if key in meta:
                ordered[key] = meta[key]
        for key, value in meta.items():
            if key not in ordered:
                ordered[key] = value
        out["metadata"] = ordered
    for key, value in body.items():
        if key not in out:
            out[key] = value
    return out


def _sort_label_maps(node: dict[str, Any]) -> dict[str, Any]:
    for key, value in node.items():
        if isinstance(value, dict):
            if key in SORTED_MAPS:
                node[key] = dict(sorted(value.items()))
            else:
                _sort_label_maps(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    _sort_label_maps(item)
    return node


@dataclass(frozen=True, slots=True)
class VendorTag:
    """Marks an object brought in as it is from upstream (``Vendored``).

    ``source`` names it in reports (``cert-manager v1.16.2``); its findings gate a render only
    when ``gate`` is set, and kubegen writes nothing into its metadata (no waiver annotations).
    """

    source: str
    gate: bool = False


@dataclass(slots=True)
class ManifestObject:
    """One Kubernetes object as data, plus the stack line that built it.

    ``waivers`` maps a policy rule id to the reason a user gave for waiving it on this object.
    ``layer`` is the stack layer it belongs to (the folder it is rendered under), or None when
    the stack has no layers.
    ``vendor`` is set on objects of a vendored source (see :class:`VendorTag`).
    """

    body: dict[str, Any]
    origin: Origin | None = None
    waivers: dict[str, str] = field(default_factory=dict)
    layer: str | None = None
    vendor: VendorTag | None = None

    # The accessors below run ~100,000 times per lint of a thousand services: each reads the
    # body directly and converts with str() only what is not already a str.

    @property
    def api_version(self) -> str:
        value = self.body.get("apiVersion", "")
        return value if value.__class__ is str else str(value)

    @property
    def kind(self) -> str:
        value = self.body.get("kind", "")
        return value if value.__class__ is str else str(value)

    @property
    def group(self) -> str:
        return group_of(self.api_version)

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.body.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def name(self) -> str:
        meta = self.body.get("metadata")
        value = meta.get("name", "") if isinstance(meta, dict) else ""
        return value if value.__class__ is str else str(value)

    @property
    def namespace(self) -> str | None:
        meta = self.body.get("metadata")
        ns = meta.get("namespace") if isinstance(meta, dict) else None
        return ns if ns is None or ns.__class__ is str else str(ns)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity inside a cluster: (group, kind, namespace or "", name).

        What ``(self.group, self.kind, self.namespace or "", self.name)`` says, reading the
        body once: every object's key is taken when a stack is built (duplicates).
        """
        body = self.body
        api = body.get("apiVersion", "")
        kind = body.get("kind", "")
        meta = body.get("metadata")
        if isinstance(meta, dict):
            namespace, name = meta.get("namespace"), meta.get("name", "")
        else:
            namespace, name = None, ""
        return (
            (api if api.__class__ is str else str(api)).rpartition("/")[0],
            kind if kind.__class__ is str else str(kind),
            "" if namespace is None else (
                namespace if namespace.__class__ is str else str(namespace)
            ),
            name if name.__class__ is str else str(name),
        )

    @property
    def display(self) -> str:
        """``Deployment shop/api`` or ``ClusterRole reader``: how errors and findings name it."""
        ns = self.namespace
        return f"{self.kind} {ns}/{self.name}" if ns else f"{self.kind} {self.name}"
