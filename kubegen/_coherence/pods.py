"""Pods inside rendered manifests: where each kind keeps its pod template, and views of it.

Coherence (what the cluster will enforce) and policy (hardening rules) both read pods from plain
manifest dicts, so the same code serves objects kubegen built and YAML read back from
``output/``. A :class:`PodView` hides where each kind keeps its pod spec (a Pod's ``spec``, a
Deployment's ``spec.template.spec``, a CronJob's ``spec.jobTemplate.spec.template.spec``); a
:class:`ContainerView` walks ``initContainers``, ``containers`` and ``ephemeralContainers`` with
the field path a message needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubegen._manifests import ManifestObject

__all__ = [
    "CONTAINER_LISTS",
    "POD_KINDS",
    "POD_TEMPLATE_PATHS",
    "ContainerView",
    "PodView",
    "as_dict",
    "as_list",
    "pod_view",
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
    #: ``body["securityContext"]`` as a dict (``{}`` when missing): read by most controls.
    security_context: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def name(self) -> str:
        return str(self.body.get("name", f"#{self.index}"))

    @property
    def label(self) -> str:
        """How messages name it: ``container 'api'`` or ``init container 'migrate'``."""
        kind = {"initContainers": "init container", "ephemeralContainers": "ephemeral container"}
        return f"{kind.get(self.list_name, 'container')} {self.name!r}"

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
    #: ``spec["securityContext"]`` as a dict (``{}`` when missing).
    security_context: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # containers() per list selection: a dozen rules walk every pod's containers.
    _containers: dict[tuple[str, ...], tuple[ContainerView, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _contexts: list[tuple[tuple[dict[str, Any], str, str], ...]] = field(
        default_factory=list, compare=False, repr=False
    )
    #: Values derived from the pod once for every check that asks (``restricted_clean``).
    memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def labels(self) -> dict[str, Any]:
        return as_dict(self.metadata.get("labels"))

    @property
    def namespace(self) -> str:
        """The namespace the pods will run in (``default`` when the object names none)."""
        return self.obj.namespace or "default"

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
                    context = as_dict(body.get("securityContext"))
                    yield ContainerView(list_name, index, body, path, context)

    def security_contexts(self) -> tuple[tuple[dict[str, Any], str, str], ...]:
        """(securityContext, its path, who) of the pod, then of every container (made once)."""
        if not self._contexts:
            found = [(self.security_context, self.field("securityContext"), "pod")]
            found += [(c.security_context, f"{c.path}.securityContext", c.label)
                      for c in self.containers()]
            self._contexts.append(tuple(found))
        return self._contexts[0]

    @property
    def metadata_path(self) -> str:
        """The path of the pod (template) metadata: ``metadata`` or ``spec.template.metadata``."""
        if self.obj.kind == "Pod":
            return "metadata"
        return self.path.rpartition(".")[0] + ".metadata"

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
    context = as_dict(node.get("securityContext"))
    return PodView(obj=obj, spec=node, metadata=metadata, path=".".join(keys),
                   security_context=context)
