"""Routes that intents imply under default-deny: a grant needs the API server.

*Kubernetes in Action*, "Securing the API server": a pod that is granted API access talks to the
API server, and a default-deny egress policy would silently cut it off. So a workload that
mounts an API token (``grant``) gets ``<workload>-api-server``: egress to the API server's
endpoints (the cluster's :class:`~kubegen.ApiServer`) on their port, nothing else. The rule names
the endpoints, not the ``kubernetes`` Service's cluster IP: NetworkPolicies see traffic after the
Service address is translated (https://kubernetes.io/docs/concepts/services-networking/
network-policies/#behavior-of-ipblock-selectors).

The policy carries :data:`IP_BLOCK_NAME` so ``kubegen graph`` draws its peer as "Kubernetes API".

In a namespace the stack does not own (no default-deny of ours), a workload is only given these
routes when kubegen's own policies already isolate it for egress: a derived route must never be
what isolates a pod in a namespace kubegen does not manage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from kubegen._builders.network.policy import (
    EgressRule,
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
)
from kubegen._errors import ValidationError

if TYPE_CHECKING:
    from kubegen._builders.cluster import ApiServer
    from kubegen._builders.workloads.base import Workload
    from kubegen._relations import Grant
    from kubegen._stack import Stack

API_SERVER_SUFFIX = "api-server"
#: Annotation naming what the ipBlock peers of a policy are, for ``kubegen graph``.
IP_BLOCK_NAME = "kubegen.dev/ip-block-name"
API_SERVER_NAME = "Kubernetes API"


def api_server_policies(
    stack: Stack,
    owned: Iterable[str],
    egress_isolated: set[int],
    self_peer: Callable[[Workload], NetworkPolicyPeer],
) -> list[NetworkPolicy]:
    """``<workload>-api-server`` for each workload of ``stack`` that mounts an API token.

    ``egress_isolated``: ids of workloads kubegen's own policies isolate for egress (they get
    the route in namespaces the stack does not own too). ``self_peer(workload)``: the peer
    selecting the workload's pods in its own namespace (its selector is the policy's).
    """
    granted = _granted(stack)
    if not granted:
        return []
    cluster = stack.cluster
    if cluster is not None and cluster.api_egress_elsewhere is not None:
        return []
    api = cluster.api_server if cluster is not None else None
    if api is None:
        raise _unknown_api_server(stack, granted[0])
    owned_set = set(owned)
    out: list[NetworkPolicy] = []
    for workload, _ in granted:
        if workload.namespace not in owned_set and id(workload) not in egress_isolated:
            continue
        out.append(_policy(stack, workload, api, self_peer(workload)))
    return out


def _granted(stack: Stack) -> list[tuple[Workload, Grant]]:
    """Workloads of ``stack`` that mount an API token, each with its first grant, in order."""
    seen: dict[int, tuple[Workload, Grant]] = {}
    for grant in stack.grants:
        workload = grant.workload
        access = workload.api_access
        if workload._stack is stack and access is not None and access.api:
            seen.setdefault(id(workload), (workload, grant))
    return list(seen.values())


def _unknown_api_server(stack: Stack, first: tuple[Workload, Grant]) -> ValidationError:
    workload, grant = first
    where = "the stack has no cluster" if stack.cluster is None else (
        f"Cluster {stack.cluster.name} declares no api_server")
    return ValidationError(
        f"is granted API access, but {where}: under default-deny egress its pods could not "
        "reach the API server, and kubegen cannot derive the route without its endpoints",
        origin=grant.origin,
        resource=workload.display,
        field="cluster.api_server",
        fix="declare the API server's endpoints (kubectl get endpointslices -n default -l "
        "kubernetes.io/service-name=kubernetes): Stack(..., cluster=Cluster('prod', "
        "api_server=ApiServer(addresses=['10.0.0.10/32'], port=6443))); or, when the network "
        "plugin or a policy of your own allows it, Cluster(..., api_egress_elsewhere='why')",
    )


def _policy(
    stack: Stack, workload: Workload, api: ApiServer, own: NetworkPolicyPeer
) -> NetworkPolicy:
    """The egress policy, built without revalidation from validated values. Its name is
    valid: a workload's name is a label value (its pods' ``app.kubernetes.io/name``), at most
    63 characters."""
    name = f"{workload.name}-{API_SERVER_SUFFIX}"
    origin = workload.origin
    addresses = list(dict.fromkeys(api.addresses))
    rule = EgressRule.trusted(
        origin,
        to=[NetworkPolicyPeer.trusted(origin, ip_block=IPBlock.trusted(origin, cidr=cidr))
            for cidr in addresses],
        ports=[NetworkPolicyPort.trusted(origin, port=api.port, protocol="TCP")],
    )
    policy = NetworkPolicy.trusted(
        origin,
        name=name,
        namespace=workload.namespace,
        pod_selector=own.pod_selector,
        policy_types=["Egress"],
        egress=[rule],
        annotations={IP_BLOCK_NAME: API_SERVER_NAME},
    )
    policy.attach(stack)
    return policy
