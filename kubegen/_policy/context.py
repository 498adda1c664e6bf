"""What a rule check sees: the object set, the target version, and views of the pods inside it.

Policy works on rendered manifests as plain dicts, so the same checks apply to objects built by
kubegen and to YAML read back from ``output/``. The pod and container views live in
:mod:`kubegen._coherence.pods` (coherence reads pods the same way) and are re-exported here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from kubegen._coherence.pods import (
    CONTAINER_LISTS,
    POD_KINDS,
    POD_TEMPLATE_PATHS,
    ContainerView,
    PodView,
    as_dict,
    as_list,
    pod_view,
)
from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject, is_cluster_scoped

if TYPE_CHECKING:
    from kubegen._coherence.facts import StackFacts
    from kubegen._coherence.namespaces import NamespacePolicy

__all__ = [
    "CONTAINER_LISTS",
    "POD_KINDS",
    "POD_TEMPLATE_PATHS",
    "ContainerView",
    "LintContext",
    "PodView",
    "as_dict",
    "as_list",
    "parse_version",
    "pod_view",
]

_VERSION = re.compile(r"v?([0-9]+)\.([0-9]+)(?:\.[0-9]+)?\Z")  # ASCII digits only


def parse_version(version: str) -> tuple[int, int]:
    """``"1.33"``, ``"v1.33.2"`` → ``(1, 33)``.

    Raises:
        ValidationError: not a Kubernetes version.
    """
    match = _VERSION.match(version.strip())
    if match is None:
        raise ValidationError(
            "Unable to use the Kubernetes version: it is not MAJOR.MINOR",
            field="kubernetes_version",
            value=version,
            fix='give a Kubernetes minor version such as "1.33"',
        )
    return int(match.group(1)), int(match.group(2))


@dataclass
class LintContext:
    """The input of every check: the whole object set (cross-object rules need it) and options.

    Args:
        objects: rendered objects, in the order given.
        kubernetes_version: target ``(major, minor)``.
        profile: the active profile name (checks rarely need it; severities come from levels).
        schema: whether schema validation (KG001, KG002) runs.
        facts: what the stack knows beyond its objects (see :mod:`kubegen._coherence.facts`).
    """

    objects: tuple[ManifestObject, ...]
    kubernetes_version: tuple[int, int]
    profile: str
    schema: bool = True
    facts: StackFacts | None = None

    @cached_property
    def namespace_policies(self) -> dict[str, NamespacePolicy]:
        """The Pod Security policy of every namespace known from the objects and the facts."""
        from kubegen._coherence.namespaces import namespace_policies

        facts = self.facts
        if facts is None:
            return namespace_policies(self.objects)
        return namespace_policies(self.objects, facts.namespaces, facts.cluster)

    @cached_property
    def pods(self) -> tuple[PodView, ...]:
        """Every pod-bearing object's pod, in input order."""
        views = (pod_view(obj) for obj in self.objects)
        return tuple(view for view in views if view is not None)

    @cached_property
    def _positions_by_kind(self) -> dict[str, list[int]]:
        index: dict[str, list[int]] = {}
        for position, obj in enumerate(self.objects):
            index.setdefault(obj.kind, []).append(position)
        return index

    def of_kind(self, *kinds: str) -> Iterator[ManifestObject]:
        """Objects whose kind is one of ``kinds``, in input order (indexed: dozens of rules ask)."""
        index = self._positions_by_kind
        found = [p for kind in dict.fromkeys(kinds) for p in index.get(kind, ())]
        if len(kinds) > 1:
            found.sort()
        return (self.objects[p] for p in found)

    def namespaced(self, obj: ManifestObject) -> bool:
        """Whether ``obj`` lives in a namespace (unknown kinds count as namespaced)."""
        return not is_cluster_scoped(obj.api_version, obj.kind)

    def at_least(self, major: int, minor: int) -> bool:
        """Whether the target Kubernetes version is ``major.minor`` or newer."""
        return self.kubernetes_version >= (major, minor)
