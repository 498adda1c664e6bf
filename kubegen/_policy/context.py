"""What a rule check sees: the object set, the target version, and views of the pods inside it.

Policy works on rendered manifests as plain dicts, so the same checks apply to objects built by
kubegen and to YAML read back from ``output/``. The pod views hide where each kind keeps its pod
template (a Pod's ``spec``, a Deployment's ``spec.template.spec``, a CronJob's
``spec.jobTemplate.spec.template.spec``), and the container views walk ``containers``,
``initContainers`` and ``ephemeralContainers`` with the field path a message needs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject, is_cluster_scoped

__all__ = [
    "CONTAINER_LISTS",
    "POD_TEMPLATE_PATHS",
    "ContainerView",
    "LintContext",
    "PodView",
    "as_dict",
    "as_list",
    "parse_version",
]

#: Where each pod-bearing kind keeps its pod spec, as a key path.
POD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
POD_KINDS = frozenset(POD_TEMPLATE_PATHS)

#: The three container lists of a pod spec, in the order Pod Security Admission visits them.
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

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


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a mapping, else ``{}``: manifests may hold ``None`` or junk anywhere."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else ``[]``."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True, slots=True)
class ContainerView:
    """One container of a pod with its field path (``spec.template.spec.containers[0]``)."""

    list_name: str
    index: int
    body: dict[str, Any]
    path: str

    @property
    def name(self) -> str:
        return str(self.body.get("name", f"#{self.index}"))

    @property
    def label(self) -> str:
        """How messages name it: ``container 'api'`` or ``init container 'migrate'``."""
        kind = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}
        return f"{kind.get(self.list_name, 'container')} {self.name!r}"

    @property
    def security_context(self) -> dict[str, Any]:
        return as_dict(self.body.get("securityContext"))

    @property
    def is_sidecar(self) -> bool:
        """An init container with ``restartPolicy: Always`` runs for the pod's life (a sidecar)."""
        return self.list_name == "initContainers" and self.body.get("restartPolicy") == "Always"


@dataclass(frozen=True, slots=True)
class PodView:
    """The pod spec inside a pod-bearing object, with its template metadata and field path."""

    obj: ManifestObject
    spec: dict[str, Any]
    metadata: dict[str, Any]
    path: str
    # containers() per list selection: a dozen rules walk every pod's containers.
    _containers: dict[tuple[str, ...], tuple[ContainerView, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def labels(self) -> dict[str, Any]:
        return as_dict(self.metadata.get("labels"))

    @property
    def namespace(self) -> str:
        """The namespace the pods will run in (``default`` when the object names none)."""
        return self.obj.namespace or "default"

    @property
    def security_context(self) -> dict[str, Any]:
        return as_dict(self.spec.get("securityContext"))

    @property
    def host_users(self) -> bool:
        """False only when the pod asks for a user namespace (``hostUsers: false``)."""
        return self.spec.get("hostUsers") is not False

    @property
    def is_windows(self) -> bool:
        return as_dict(self.spec.get("os")).get("name") == "windows"

    def containers(self, lists: Sequence[str] = CONTAINER_LISTS) -> Iterator[ContainerView]:
        """Containers of the named lists, each with its field path (computed once per pod)."""
        key = tuple(lists)
        found = self._containers.get(key)
        if found is None:
            found = self._containers[key] = tuple(self._walk_containers(key))
        return iter(found)

    def _walk_containers(self, lists: tuple[str, ...]) -> Iterator[ContainerView]:
        for list_name in lists:
            for index, body in enumerate(as_list(self.spec.get(list_name))):
                if isinstance(body, dict):
                    path = f"{self.path}.{list_name}[{index}]"
                    yield ContainerView(list_name, index, body, path)

    def field(self, name: str) -> str:
        """The path of a pod-spec field, e.g. ``spec.template.spec.hostNetwork``."""
        return f"{self.path}.{name}"


def pod_view(obj: ManifestObject) -> PodView | None:
    """The pod inside ``obj``, or ``None`` for kinds that carry no pod template."""
    keys = POD_TEMPLATE_PATHS.get(obj.kind)
    if keys is None:
        return None
    node: Any = obj.body
    for key in keys:
        node = as_dict(node).get(key)
    if not isinstance(node, dict):
        return None
    if obj.kind == "Pod":
        metadata = obj.metadata
    else:
        template = as_dict(obj.body)
        for key in keys[:-1]:
            template = as_dict(template.get(key))
        metadata = as_dict(template.get("metadata"))
    return PodView(obj=obj, spec=node, metadata=metadata, path=".".join(keys))


@dataclass
class LintContext:
    """The input of every check: the whole object set (cross-object rules need it) and options.

    Args:
        objects: rendered objects, in the order given.
        kubernetes_version: target ``(major, minor)``.
        profile: the active profile name (checks rarely need it; severities come from levels).
        schema: whether schema validation (KG001, KG002) runs.
    """

    objects: tuple[ManifestObject, ...]
    kubernetes_version: tuple[int, int]
    profile: str
    schema: bool = True

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
