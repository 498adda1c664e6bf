"""Routes that intents imply under default-deny: a grant needs the API server, a StatefulSet
needs its peers.

*Kubernetes in Action*, "Securing the API server": a pod that is granted API access talks to the
API server, and a default-deny egress policy would silently cut it off. So a workload that
mounts an API token (``grant``) gets ``<workload>-api-server``: egress to the API server's
endpoints (the cluster's :class:`~kubegen.ApiServer`) on their port, nothing else. The rule names
the endpoints, not the ``kubernetes`` Service's cluster IP: NetworkPolicies see traffic after the
Service address is translated (https://kubernetes.io/docs/concepts/services-networking/
network-policies/#behavior-of-ipblock-selectors).

The policy carries :data:`IP_BLOCK_NAME` so ``kubegen graph`` draws its peer as "Kubernetes API".

*Kubernetes in Action*, "StatefulSets": the replicas of a StatefulSet find each other through its
headless Service and talk to each other (replication, consensus, gossip). So a workload with
:meth:`~kubegen._builders.workloads.base.Workload.peer_ports` (every StatefulSet, unless
``peers=False``) gets ``<name>-peers``: ingress from and egress to its own pods, on exactly
those ports (the ports its headless Service publishes), by name.

In a namespace the stack does not own (no default-deny of ours), a workload is only given these
routes when kubegen's own policies already isolate it for egress: a derived route must never be
what isolates a pod in a namespace kubegen does not manage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from kubegen._builders.network.policy import (
    PROTOCOLS,
    EgressRule,
    IngressRule,
    IPBlock,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    check_policy_port_name,
)
from kubegen._errors import ValidationError
from kubegen._origin import Origin
from kubegen._values import InvalidValue

if TYPE_CHECKING:
    from kubegen._builders.cluster import ApiServer
    from kubegen._builders.workloads.base import Workload
    from kubegen._relations import Grant
    from kubegen._stack import Stack
    from kubegen._values import Protocol

API_SERVER_SUFFIX = "api-server"
PEERS_SUFFIX = "peers"
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


def peer_policies(
    stack: Stack,
    owned: Iterable[str],
    isolated: Mapping[int, set[str]],
    self_peer: Callable[[Workload], NetworkPolicyPeer],
) -> list[NetworkPolicy]:
    """``<name>-peers`` for each workload of ``stack`` whose pods talk to each other.

    ``isolated``: id of a workload → the directions (``ingress``/``egress``) kubegen's own
    policies isolate it for; outside the stack's namespaces only those directions are opened.
    """
    from kubegen._builders.workloads.base import Workload  # workloads import this package

    owned_set = set(owned)
    out: list[NetworkPolicy] = []
    for res in stack:
        if not isinstance(res, Workload):
            continue
        ports = res.peer_ports()
        if not ports:
            continue
        directions = {"ingress", "egress"}
        if res.namespace not in owned_set:
            directions &= isolated.get(id(res), set())
            if not directions:
                continue
        out.append(_peers_policy(stack, res, ports, directions, self_peer(res)))
    return out


def _peers_policy(
    stack: Stack,
    workload: Workload,
    ports: Mapping[str, tuple[int, str]],
    directions: set[str],
    own: NetworkPolicyPeer,
) -> NetworkPolicy:
    origin = workload.origin
    policy_ports = [_named_port(name, protocol, origin) for name, (_, protocol) in sorted(
        ports.items())]
    body: dict[str, Any] = {}
    types: list[str] = []
    if "ingress" in directions:
        types.append("Ingress")
        body["ingress"] = [IngressRule.trusted(origin, from_=[own], ports=policy_ports)]
    if "egress" in directions:
        types.append("Egress")
        body["egress"] = [EgressRule.trusted(origin, to=[own], ports=policy_ports)]
    policy = NetworkPolicy.trusted(
        origin,
        name=f"{workload.name}-{PEERS_SUFFIX}",
        namespace=workload.namespace,
        pod_selector=own.pod_selector,
        policy_types=types,
        **body,
    )
    policy.attach(stack)
    return policy


def _named_port(name: str, protocol: str, origin: Origin | None) -> NetworkPolicyPort:
    """A port by name; validated the usual way when a workload reports an odd one."""
    try:
        if protocol not in PROTOCOLS:
            raise InvalidValue(f"unknown protocol {protocol!r}")
        check_policy_port_name(name)
    except (InvalidValue, AttributeError, TypeError):
        return NetworkPolicyPort(port=name, protocol=cast("Protocol", protocol))
    return NetworkPolicyPort.trusted(origin, port=name, protocol=protocol)
