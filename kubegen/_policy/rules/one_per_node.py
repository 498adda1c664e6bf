"""Rollouts of pods that forbid a neighbour of their own kind (KG707).

A Deployment whose pods require anti-affinity to each other on ``kubernetes.io/hostname``
(``avoid=[PodAffinity("self", required=True)]``) runs at most one pod per node. Its
RollingUpdate with ``maxUnavailable: 0`` (kubegen's default) keeps every old pod until a new one
is ready, and the new pod needs a node without any of them: with as many schedulable nodes as
replicas, it stays Pending and the rollout never finishes (*Kubernetes in Action*, "Deployments"
and "Advanced scheduling"). The node count is the cluster's, so this is a warning: it holds
whenever the cluster has no spare node.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kubegen._policy.context import LintContext, PodView, as_dict, as_list
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import W, rule
from kubegen._policy.selectors import selector_matches

_HOSTNAME = "kubernetes.io/hostname"


def _resolve(value: Any, replicas: int, *, up: bool) -> int | None:
    """A maxSurge (rounded up) or maxUnavailable (rounded down) as a pod count."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        scaled = int(value[:-1]) * replicas
        return -(-scaled // 100) if up else scaled // 100
    return None


def _overlapping(spec: dict[str, Any]) -> str | None:
    """The maxSurge of a RollingUpdate that keeps every old pod while it starts new ones."""
    strategy = as_dict(spec.get("strategy"))
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    rolling = as_dict(strategy.get("rollingUpdate"))
    replicas = spec.get("replicas", 1)
    replicas = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    surge_value = rolling.get("maxSurge", "25%")
    surge = _resolve(surge_value, replicas, up=True)
    unavailable = _resolve(rolling.get("maxUnavailable", "25%"), replicas, up=False)
    if surge is None or unavailable is None or unavailable > 0 or surge == 0:
        return None  # Kubernetes makes 0/0 maxUnavailable 1
    return str(surge_value)


def _self_exclusive(pod: PodView) -> int | None:
    """Index of a required anti-affinity term that keeps the pod's own kind off its node."""
    anti = as_dict(as_dict(pod.spec.get("affinity")).get("podAntiAffinity"))
    terms = as_list(anti.get("requiredDuringSchedulingIgnoredDuringExecution"))
    for index, term in enumerate(terms):
        term = as_dict(term)
        if term.get("topologyKey") != _HOSTNAME or term.get("namespaceSelector"):
            continue
        namespaces = as_list(term.get("namespaces"))
        if namespaces and pod.namespace not in namespaces:
            continue
        if "labelSelector" in term and selector_matches(term.get("labelSelector"), pod.labels):
            return index
    return None


@rule(
    "KG707",
    per_object=True,
    name="one-pod-per-node-rollout",
    title="Deployments that keep one pod per node can roll out without a spare node",
    levels=Levels(baseline=W, restricted=W, prod=W),
    reason="Required anti-affinity to its own pods allows one pod per node; a RollingUpdate "
    "that keeps every old pod (maxUnavailable 0) starts the new one first, which then needs a "
    "node holding none of them. Without a spare node it stays Pending and the rollout hangs "
    "until its progress deadline.",
    sources=(
        "Kubernetes docs, 'Deployments' (maxSurge, maxUnavailable)",
        "Kubernetes docs, 'Assigning Pods to Nodes' (inter-pod anti-affinity)",
        "Kubernetes in Action (2nd ed.), 'Advanced scheduling'",
    ),
    fix="Let one old pod go first: max_unavailable=1 (with max_surge=0), or make the "
    "anti-affinity preferred (avoid=['self']) so two pods may share a node during a rollout.",
    scanners=(),
    tags=("availability",),
    kinds=("Deployment",),
)
def one_pod_per_node_rollout(ctx: LintContext) -> Iterator[Hit]:
    for pod in ctx.pods:
        if pod.obj.kind != "Deployment":
            continue
        surge = _overlapping(as_dict(pod.obj.body.get("spec")))
        if surge is None:
            continue
        index = _self_exclusive(pod)
        if index is None:
            continue
        path = pod.field("affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution")
        yield Hit(
            pod.obj,
            f"{path}[{index}]",
            "its pods require a node of their own, and its RollingUpdate (no pod unavailable, "
            f"maxSurge {surge}) starts a new pod before an old one stops: without a node free "
            "of its pods the rollout never finishes",
        )
