"""The Pod Security policy of each namespace, as the cluster will read it.

A namespace's ``pod-security.kubernetes.io/<mode>`` and ``<mode>-version`` labels (``enforce``,
``audit``, ``warn``) decide what Pod Security Admission does with its pods. kubegen knows them for
the Namespace objects a stack renders, and for the namespaces a :class:`~kubegen.Cluster`
declares (``Cluster(namespaces={"ingress-nginx": "baseline"})``: their enforce level). Labels are
read the way the admission controller reads them (``k8s.io/pod-security-admission/api``):

- an unknown ``enforce`` level counts as ``restricted`` (it fails closed); an unknown ``audit``
  or ``warn`` level as ``privileged`` (they fail open);
- an unknown or missing version is ``latest``: the cluster's own version;
- ``warn`` follows a stricter ``enforce`` when it is not labelled itself.

A namespace neither rendered nor declared, or a rendered one without an ``enforce`` label (the
cluster's configured default applies), is *unknown*: lint says so (KG132) rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubegen._coherence.pod_security import LEVELS, Level, Version
from kubegen._coherence.pods import as_dict
from kubegen._manifests import ManifestObject

__all__ = ["PREFIX", "Mode", "NamespacePolicy", "namespace_policies"]

PREFIX = "pod-security.kubernetes.io/"
_VERSION = re.compile(r"v1\.(0|[1-9][0-9]*)\Z")


@dataclass(frozen=True, slots=True)
class Mode:
    """One mode's level and version; ``version`` None means ``latest`` (the cluster's)."""

    level: Level
    version: Version | None = None

    def effective(self, cluster: Version) -> Version:
        """The version admission evaluates on a cluster of version ``cluster``."""
        return cluster if self.version is None else min(self.version, cluster)

    def shown(self, cluster: Version) -> str:
        """``restricted (v1.33)`` or ``restricted (latest = v1.33)``."""
        version = self.effective(cluster)
        label = "latest = " if self.version is None else ""
        return f"{self.level} ({label}v{version[0]}.{version[1]})"


@dataclass(frozen=True, slots=True)
class NamespacePolicy:
    """What Pod Security Admission will do in one namespace.

    Args:
        name: the namespace.
        enforce / audit / warn: each mode, or None when the cluster's default applies (unknown).
        source: where kubegen learnt it, for messages (``the stack's Namespace shop``).
        namespace_object: the rendered Namespace, if the stack renders it.
    """

    name: str
    enforce: Mode | None
    audit: Mode | None
    warn: Mode | None
    source: str
    namespace_object: ManifestObject | None = None


def _level(value: object, fallback: Level) -> Level:
    for level in LEVELS:
        if value == level:
            return level
    return fallback


def _version(value: object) -> Version | None:
    match = _VERSION.match(value) if isinstance(value, str) else None
    return (1, int(match.group(1))) if match else None


def _mode(labels: Mapping[str, object], mode: str, invalid: Level) -> Mode | None:
    key = PREFIX + mode
    if key not in labels:
        return None
    return Mode(_level(labels[key], invalid), _version(labels.get(f"{key}-version")))


def _from_labels(obj: ManifestObject) -> NamespacePolicy:
    labels = as_dict(obj.metadata.get("labels"))
    enforce = _mode(labels, "enforce", "restricted")
    audit = _mode(labels, "audit", "privileged")
    warn = _mode(labels, "warn", "privileged")
    if warn is None and enforce is not None and enforce.level != "privileged":
        # Admission warns at the enforce level when warn is not labelled (and enforce is
        # stricter than the default privileged).
        version = _version(labels.get(f"{PREFIX}warn-version"))
        warn = Mode(enforce.level, version if f"{PREFIX}warn-version" in labels
                    else enforce.version)
    where = f" ({obj.origin})" if obj.origin is not None else ""
    return NamespacePolicy(obj.name, enforce, audit, warn,
                           f"the stack's Namespace {obj.name}{where}", obj)


def namespace_policies(
    objects: Iterable[ManifestObject],
    declared: Mapping[str, Level] | None = None,
    cluster: str | None = None,
) -> dict[str, NamespacePolicy]:
    """The policy of every namespace kubegen knows: rendered ones, then declared ones.

    Args:
        objects: the stack's rendered objects (its Namespace objects are read).
        declared: ``Cluster.namespaces``: namespaces the cluster has, with their enforce level.
        cluster: the Cluster's name, for messages.
    """
    found: dict[str, NamespacePolicy] = {}
    for name, level in (declared or {}).items():
        where = f"Cluster {cluster!r}" if cluster else "the stack's Cluster"
        found[name] = NamespacePolicy(name, Mode(level), None, None,
                                      f"{where} (namespaces={{{name!r}: {level!r}}})")
    for obj in objects:
        if obj.kind == "Namespace" and obj.api_version == "v1":
            found[obj.name] = _from_labels(obj)  # what the stack applies wins
    return found
