"""What a stack knows beyond its rendered objects, gathered once for coherence and lint.

Rendered manifests do not say everything the cluster's behaviour depends on: the namespaces the
cluster has that the stack does not render (``Stack(cluster=Cluster(namespaces=...))``), or which
of a workload's settings came from kubegen's built-in defaults. :func:`stack_facts` reads them
from the :class:`~kubegen.Stack` into plain data, so the checks stay functions of data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubegen._coherence.pod_security import Level
from kubegen._stack import Stack

__all__ = ["StackFacts", "stack_facts"]


@dataclass(frozen=True, slots=True)
class StackFacts:
    """Facts about a stack that its objects do not carry.

    Args:
        namespaces: namespaces the cluster has that the stack does not render, with their
            Pod Security ``enforce`` level (``Cluster.namespaces``).
        cluster: the Cluster's name, for messages (None without a Cluster).
    """

    namespaces: Mapping[str, Level] = field(default_factory=dict)
    cluster: str | None = None


def stack_facts(stack: Stack) -> StackFacts:
    """The facts of ``stack`` (its Cluster's namespaces, …)."""
    cluster = stack.cluster
    if cluster is None:
        return StackFacts()
    return StackFacts(namespaces=dict(cluster.namespaces), cluster=cluster.name)
