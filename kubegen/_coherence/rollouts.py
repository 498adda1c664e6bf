"""Rollouts that can finish: volumes and host ports that two pods cannot hold at once.

A ReadWriteOnce volume attaches to one node (a ReadWriteOncePod one to one pod), and a host port
can be bound once per node. A Deployment that needs two pods at once, because it runs several
replicas or because its RollingUpdate surges (``maxSurge`` > 0 starts the new pod before the
old one stops), deadlocks on either: the new pod waits for the volume ("Multi-Attach error") or
for a node with the port free, while ``maxUnavailable: 0`` keeps the old pod running, until
``progressDeadlineSeconds`` marks the rollout failed. The same holds for a DaemonSet whose
``maxSurge`` starts the new pod on the same node as the old one, and for a StatefulSet whose
replicas share one claim (a StatefulSet's own ``volumeClaimTemplates`` give each pod its claim).

A host port is any ``hostPort``, and any container port of a ``hostNetwork`` pod (the API
server defaults their ``hostPort`` to the container port). A claim's access modes come from a
PersistentVolumeClaim the stack renders, or from ``Claim(name, access_mode=...)``; a claim of a
kubegen workload known by neither counts as ReadWriteOnce, what most StorageClasses provision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from kubegen._coherence.facts import StackFacts
from kubegen._coherence.pods import PodView, as_dict, as_list
from kubegen._errors import KubegenError
from kubegen._manifests import ManifestObject

__all__ = ["stuck_rollouts"]

#: Access modes under which pods on different nodes can share a volume.
SHARED_MODES = frozenset({"ReadWriteMany", "ReadOnlyMany"})
_PERCENT = re.compile(r"(\d+)%\Z")


@dataclass(frozen=True, slots=True)
class Rollout:
    """How many pods of a workload may run at once, and why."""

    replicas: int
    surge: str | None  # "RollingUpdate with maxSurge 25%" when the update overlaps pods
    field: str  # where to change it


def _is_zero(value: object) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value == 0
    match = _PERCENT.match(value) if isinstance(value, str) else None
    return match is not None and int(match.group(1)) == 0


def _rollout(obj: ManifestObject) -> Rollout | None:
    spec = as_dict(obj.body.get("spec"))
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or isinstance(replicas, bool):
        return None
    if obj.kind == "Deployment":
        strategy = as_dict(spec.get("strategy"))
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return Rollout(replicas, None, "spec.strategy")
        surge = as_dict(strategy.get("rollingUpdate")).get("maxSurge", "25%")
        shown = None if _is_zero(surge) else f"RollingUpdate with maxSurge {surge}"
        return Rollout(replicas, shown, "spec.strategy")
    if obj.kind == "DaemonSet":
        strategy = as_dict(spec.get("updateStrategy"))
        surge = as_dict(strategy.get("rollingUpdate")).get("maxSurge", 0)
        overlaps = strategy.get("type", "RollingUpdate") == "RollingUpdate" and not _is_zero(surge)
        shown = f"RollingUpdate with maxSurge {surge}" if overlaps else None
        return Rollout(1, shown, "spec.updateStrategy.rollingUpdate.maxSurge")
    if obj.kind == "StatefulSet":
        return Rollout(replicas, None, "spec.replicas")
    return None


def _host_ports(pod: PodView) -> Iterator[tuple[str, str]]:
    """(field path, what) of every port the pod binds on its node."""
    host_network = pod.spec.get("hostNetwork") is True
    for c in pod.containers(("initContainers", "containers")):
        for index, port in enumerate(as_list(c.body.get("ports"))):
            port = as_dict(port)
            bound = port.get("hostPort")
            if bound in (None, 0) and host_network:
                bound = port.get("containerPort")
                path = f"{c.path}.ports[{index}].containerPort"
                yield path, f"{c.label} listens on port {bound} of the node (hostNetwork)"
            elif bound not in (None, 0):
                yield f"{c.path}.ports[{index}].hostPort", f"{c.label} binds hostPort {bound}"


def _claim_modes(objects: Sequence[ManifestObject]) -> dict[tuple[str, str], frozenset[str]]:
    found: dict[tuple[str, str], frozenset[str]] = {}
    for obj in objects:
        if obj.kind == "PersistentVolumeClaim":
            modes = as_list(as_dict(obj.body.get("spec")).get("accessModes"))
            key = (obj.namespace or "", obj.name)
            found[key] = frozenset(m for m in modes if isinstance(m, str))
    return found


def _single_node_claims(
    pod: PodView, rendered: dict[tuple[str, str], frozenset[str]], facts: StackFacts
) -> Iterator[tuple[str, str]]:
    """(field path, what) of every claim the pod mounts that only one node can use."""
    spec = as_dict(pod.obj.body.get("spec"))
    templates = {
        as_dict(as_dict(t).get("metadata")).get("name")
        for t in as_list(spec.get("volumeClaimTemplates"))
    }
    known = None
    for index, volume in enumerate(as_list(pod.spec.get("volumes"))):
        claim = as_dict(as_dict(volume).get("persistentVolumeClaim")).get("claimName")
        if not isinstance(claim, str) or claim in templates:
            continue
        modes = rendered.get((pod.obj.namespace or "", claim))
        assumed = ""
        if modes is None:
            if known is None:
                known = facts.workloads.get((pod.obj.kind, pod.obj.namespace or "", pod.obj.name))
            declared = known.claims.get(claim) if known is not None else None
            if known is None:
                continue  # not a kubegen workload and no claim object: nothing is known
            modes = frozenset({declared or "ReadWriteOnce"})
            assumed = "" if declared else " (its access mode is unknown: ReadWriteOnce assumed)"
        if not modes & SHARED_MODES:
            mode = "ReadWriteOncePod" if "ReadWriteOncePod" in modes else "ReadWriteOnce"
            path = pod.field(f"volumes[{index}].persistentVolumeClaim")
            yield path, f"claim {claim!r} is {mode}{assumed}"


def stuck_rollouts(
    pods: Sequence[PodView], objects: Sequence[ManifestObject], facts: StackFacts
) -> list[KubegenError]:
    """One located error per workload whose pods could never all run, or never roll out."""
    problems: list[KubegenError] = []
    rendered: dict[tuple[str, str], frozenset[str]] | None = None
    for pod in pods:
        rollout = _rollout(pod.obj)
        if rollout is None or (rollout.replicas <= 1 and rollout.surge is None):
            continue
        if rendered is None:
            rendered = _claim_modes(objects)
        claims = list(_single_node_claims(pod, rendered, facts))
        ports = list(_host_ports(pod))
        if claims or ports:
            problems.append(_stuck(pod, rollout, claims + ports, ports=bool(ports)))
    return problems


def _stuck(
    pod: PodView, rollout: Rollout, held: list[tuple[str, str]], *, ports: bool
) -> KubegenError:
    what = "; ".join(text for _, text in held)
    if rollout.surge is not None and rollout.replicas <= 1:
        why = (
            f"its rollout can never finish: {what}, and {rollout.surge} starts the new pod "
            "before the old one stops, so the new pod waits for it forever"
        )
    else:
        why = (
            f"its {rollout.replicas} pods cannot all run: {what}, which pods on different nodes "
            "cannot share" + (" (nor two on one node)" if ports else "")
        )
    return KubegenError(
        why,
        fix=_fix(pod, rollout, ports),
        origin=pod.obj.origin,
        resource=pod.obj.display,
        field=held[0][0],
    )


def _fix(pod: PodView, rollout: Rollout, ports: bool) -> str:
    kind = pod.obj.kind
    if kind == "DaemonSet":
        return "keep max_surge=0 (the default) so each node's old pod stops before its new one " \
            "starts (max_unavailable=1)"
    recreate = "replicas=1 with strategy=\"Recreate\" (the old pod stops before the new one starts)"
    if kind == "StatefulSet":
        return "give each replica its own claim: storage=… or claims=[VolumeClaim(…)] " \
            "(volumeClaimTemplates), or run one replica"
    if ports:
        return f"use {recreate}, or a DaemonSet for one pod per node"
    return (
        f"use {recreate}, or a StatefulSet with storage=… (a claim per replica), or a "
        f"ReadWriteMany claim (Claim(name, access_mode=\"ReadWriteMany\"))"
    )
