"""Which granted accounts' pods can reach the API server, read from rendered NetworkPolicies.

A Role is useless to a pod that cannot open a connection to the API server. ``kubegen access``
therefore says, for each ServiceAccount that is bound to something, whether the pods running as
it may connect to every address of the cluster's :class:`~kubegen.ApiServer` on its port, and
through which policies: the egress side only (the API server is outside every policy), with the
semantics of :mod:`kubegen._analysis.flows` (a pod no Egress policy selects may go anywhere; an
``ipBlock`` matches an address inside ``cidr`` and outside every ``except``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubegen._analysis.access import Subject
from kubegen._analysis.flows import read_topology, rule_ports, selecting
from kubegen._manifests import ManifestObject

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ApiReach:
    """Whether the pods of ``workload`` (running as ``account``) reach the API server.

    ``via``: the NetworkPolicies (``namespace/name``) whose egress rules allow it; empty when
    no policy isolates the pods for egress, or when they cannot reach it. ``host_network``: the
    pods share the node's network, where most network plugins enforce no NetworkPolicy at all.
    """

    account: Subject
    workload: str
    reachable: bool
    via: tuple[str, ...]
    host_network: bool = False


def api_reach(
    objects: Sequence[ManifestObject],
    accounts: Iterable[Subject],
    addresses: Sequence[str],
    port: int,
) -> list[ApiReach]:
    """One :class:`ApiReach` per pod-running object whose account is in ``accounts``."""
    wanted = {(a.namespace, a.name) for a in accounts if a.kind == "ServiceAccount"}
    networks = [ipaddress.ip_network(a, strict=False) for a in addresses]
    topology = read_topology(objects)
    out: list[ApiReach] = []
    for pod in topology.pods:
        if (pod.namespace, pod.service_account) not in wanted:
            continue
        account = Subject("ServiceAccount", pod.service_account, pod.namespace)
        policies = selecting(topology, pod, "Egress")
        via = _allowing(policies, networks, port) if policies else {}
        reachable = not policies or all(net in via for net in networks)
        names = sorted({name for found in via.values() for name in found}) if reachable else []
        out.append(ApiReach(account, f"{pod.node.namespace}/{pod.node.label}", reachable,
                            tuple(names), pod.host_network))
    return sorted(out, key=lambda r: (r.account.sort_key(), r.workload))


def _allowing(
    policies: Sequence[Mapping[str, Any]], networks: Sequence[Network], port: int
) -> dict[Network, set[str]]:
    """For each API network, the policies with an egress rule allowing all of it on ``port``."""
    found: dict[Network, set[str]] = {}
    for policy in policies:
        meta = policy.get("metadata") or {}
        name = f"{meta.get('namespace', 'default')}/{meta.get('name', '')}"
        for rule in (policy.get("spec") or {}).get("egress") or []:
            if not _port_allowed(rule, port):
                continue
            peers = rule.get("to") or []
            for network in networks:
                if not peers or any(_covers(peer, network) for peer in peers):
                    found.setdefault(network, set()).add(name)
    return found


def _port_allowed(rule: Mapping[str, Any], port: int) -> bool:
    for atom in rule_ports(rule, None):
        if len(atom) == 3 and atom[0] in ("TCP", "*") and atom[1] <= port <= atom[2]:
            return True
    return False


def _covers(peer: Mapping[str, Any], network: Network) -> bool:
    """An ``ipBlock`` peer containing all of ``network`` (and excluding none of it)."""
    block = peer.get("ipBlock")
    if not isinstance(block, Mapping):
        return False
    try:
        outer = ipaddress.ip_network(str(block.get("cidr")), strict=False)
        excluded = [ipaddress.ip_network(str(e), strict=False) for e in block.get("except") or []]
    except ValueError:
        return False
    if outer.version != network.version or not network.subnet_of(outer):  # type: ignore[arg-type]
        return False
    return not any(network.overlaps(e) for e in excluded)


@dataclass(frozen=True, slots=True)
class ApiSection:
    """What ``kubegen access`` says about the API server of a stack's cluster.

    ``addresses``/``port`` when the cluster declares its :class:`~kubegen.ApiServer`;
    ``elsewhere`` when it says something else allows the traffic (``api_egress_elsewhere``);
    neither when the stack has no such facts. ``reach`` is empty unless addresses are known.
    """

    cluster: str | None
    addresses: tuple[str, ...] = ()
    port: int | None = None
    elsewhere: str | None = None
    reach: tuple[ApiReach, ...] = ()


def api_section(
    objects: Sequence[ManifestObject], cluster: Any, accounts: Iterable[Subject]
) -> ApiSection | None:
    """The API-server section for ``accounts`` (ServiceAccounts bound to something); None
    when there are none. ``cluster`` is the stack's :class:`~kubegen.Cluster` or None."""
    accounts = [a for a in accounts if a.kind == "ServiceAccount"]
    if not accounts:
        return None
    if cluster is None:
        return ApiSection(None)
    if cluster.api_egress_elsewhere is not None:
        return ApiSection(cluster.name, elsewhere=cluster.api_egress_elsewhere)
    server = cluster.api_server
    if server is None:
        return ApiSection(cluster.name)
    reach = api_reach(objects, accounts, server.addresses, server.port)
    return ApiSection(cluster.name, tuple(server.addresses), server.port, reach=tuple(reach))
