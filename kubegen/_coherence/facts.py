"""What a stack knows beyond its rendered objects, gathered for coherence and lint.

Rendered manifests do not say everything the cluster's behaviour depends on: the namespaces the
cluster has that the stack does not render (``Stack(cluster=Cluster(namespaces=...))``), the
access mode of an existing claim a workload mounts (``Claim("uploads",
access_mode="ReadWriteMany")``), or which containers got kubegen's built-in resources. The
:class:`StackFacts` of a stack reads them from its builders on first use (most renders never
ask), so the checks stay functions of data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from kubegen._coherence.pod_security import Level
from kubegen._stack import Stack

__all__ = ["StackFacts", "WorkloadFacts", "stack_facts"]

#: (kind, namespace, name) of an object, as the coherence checks look workloads up.
Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class WorkloadFacts:
    """What a kubegen workload builder knows that its manifest does not show.

    Args:
        claims: claim name → declared access mode (None: unknown) of the Claims it mounts.
        defaulted: containers without resources of their own, given the stack's defaults.
    """

    claims: Mapping[str, str | None]
    defaulted: tuple[str, ...]


class StackFacts:
    """Facts about a stack that its objects do not carry.

    Attributes:
        namespaces: namespaces the cluster has that the stack does not render, with their
            Pod Security ``enforce`` level (``Cluster.namespaces``).
        cluster: the Cluster's name, for messages (None without a Cluster).
        explicit_defaults: whether the stack set ``StackDefaults(resources=...)`` itself.
    """

    def __init__(self, stack: Stack | None = None) -> None:
        self._stack = stack
        cluster = stack.cluster if stack is not None else None
        self.namespaces: Mapping[str, Level] = dict(cluster.namespaces) if cluster else {}
        self.cluster: str | None = cluster.name if cluster else None
        #: The cluster lets pods reach the API server by a policy kubegen does not render
        #: (``Cluster.api_egress_elsewhere``): KG506 has nothing to check.
        self.api_egress_elsewhere = bool(cluster and cluster.api_egress_elsewhere)
        #: The API server's endpoint addresses (CIDRs) and port, when the Cluster declares
        #: them (``Cluster.api_server``): KG505/KG506 match ipBlocks against them.
        self.api_server: tuple[tuple[str, ...], int] | None = None
        if cluster is not None and cluster.api_server is not None:
            self.api_server = (tuple(cluster.api_server.addresses), cluster.api_server.port)
        self.explicit_defaults = (
            stack is not None and "resources" in stack.defaults.model_fields_set
        )

    @cached_property
    def workloads(self) -> dict[Key, WorkloadFacts]:
        """The facts of every workload a kubegen builder renders, by its object's identity."""
        from kubegen._builders.workloads.pod import PodWorkload
        from kubegen._builders.workloads.volumes import Claim

        found: dict[Key, WorkloadFacts] = {}
        for res in self._stack or ():
            if not isinstance(res, PodWorkload):
                continue
            claims: dict[str, str | None] = {}
            defaulted: list[str] = []
            for _, name, container in res.pod_containers():
                for mount in container.planned_mounts(name):
                    if isinstance(mount.source, Claim):
                        claims[mount.source.claim] = mount.source.access_mode
                if container.resources is None:
                    defaulted.append(name)
            namespace = res.namespace or ""
            found[(res.kind, namespace, res.name)] = WorkloadFacts(claims, tuple(defaulted))
        return found


def stack_facts(stack: Stack) -> StackFacts:
    """The facts of ``stack`` (its Cluster's namespaces, its workloads' declarations, …)."""
    return StackFacts(stack)
