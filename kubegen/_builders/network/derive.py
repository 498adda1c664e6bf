"""Objects the network layer derives from a Stack: default-deny policies, connection policies.

Output, per namespace the stack owns: ``default-deny`` and ``allow-dns`` (see
:mod:`~kubegen._builders.network.defaults`). Per workload with declared flows: one
``<workload>-ingress`` policy (who may connect to it) and one ``<workload>-egress`` policy (where
it may connect), each selecting the workload's pods by its stable selector labels. Per workload
granted API access: ``<workload>-api-server``; per StatefulSet: ``<name>-peers`` (see
:mod:`~kubegen._builders.network.routes`).

Within a policy there is one rule per peer, peers sorted (same-namespace pods, then other
namespaces, then IP blocks), each with its ports sorted; a flow declared twice renders once. The
YAML therefore depends on the set of declared flows, not on the order they were declared in.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from kubegen._builders import base
from kubegen._builders.network.defaults import (
    dns_for,
    dns_settings,
    namespace_policies,
    owned_namespaces,
)
from kubegen._builders.network.peers import OPT_OUT_PREFIX, Direction, ExternalPeer, workload_peer
from kubegen._builders.network.policy import (
    PROTOCOLS,
    EgressRule,
    IngressRule,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    check_policy_port_name,
)
from kubegen._builders.network.routes import api_server_policies, peer_policies
from kubegen._builders.network.selectors import LabelSelector
from kubegen._errors import ConflictError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._relations import Connection
from kubegen._values import InvalidValue, check_annotations, check_dns_subdomain

if TYPE_CHECKING:
    from kubegen._builders.workloads.base import Workload
    from kubegen._origin import Origin
    from kubegen._stack import Stack
    from kubegen._values import Protocol


def policy_name(workload_name: str, direction: Direction) -> str:
    """``api`` → ``api-ingress`` / ``api-egress``: readable, stable, never hashed."""
    return f"{workload_name}-{direction}"


def workload_policy_name(workload: Workload, direction: Direction) -> str:
    """The workload's policy name: from its ``names=``, else :func:`policy_name`."""
    default = policy_name(workload.name, direction)
    if direction == "ingress":
        return workload.derived_name("ingress-policy", default)
    return workload.derived_name("egress-policy", default)


class _Rule(NamedTuple):
    """One allowed (peer, port) on one workload's side, before grouping into policies."""

    direction: Direction
    workload: Workload
    peer: NetworkPolicyPeer
    port: NetworkPolicyPort
    reason: tuple[str, str, str] | None = None  # (category, peer label, reason)


def derive_network(stack: Stack) -> list[ManifestObject]:
    """NetworkPolicies for ``stack``'s namespaces and recorded connections."""
    settings = dns_settings(stack)
    owned = owned_namespaces(stack)
    policies: list[NetworkPolicy | ManifestObject] = []
    for namespace in owned:
        policies.extend(namespace_policies(stack, namespace, dns_for(settings, namespace)))
    peers: _PeerCache = {}
    ports: _PortCache = {}
    connections = stack.connections
    if any(res.derives_connections for res in stack):
        from kubegen._builders.network.http_routes import route_connections

        connections = [*connections, *route_connections(stack)]
    rules = [rule for conn in connections for rule in _rules(stack, conn, peers, ports)]
    rules.extend(_dns_outside_owned(rules, owned, settings))
    policies.extend(_workload_policies(stack, rules, peers))
    isolated: dict[int, set[str]] = {}
    for rule in rules:
        isolated.setdefault(id(rule.workload), set()).add(rule.direction)
    own = lambda w: _peer_of(w, w.namespace, peers)  # noqa: E731 - the workload's own pods
    policies.extend(peer_policies(stack, owned, isolated, own))
    if stack.grants:
        egress = {key for key, directions in isolated.items() if "egress" in directions}
        policies.extend(api_server_policies(stack, owned, egress, own))
    out: list[ManifestObject] = []
    for policy in policies:
        if isinstance(policy, ManifestObject):
            out.append(policy)
        else:
            out.extend(policy.manifests())
    return out


# --- connections → rules -------------------------------------------------------------------


# (id(workload), policy namespace) -> that workload's pods as a peer, shared by every rule of
# one derivation (the workloads stay referenced by the stack meanwhile).
_PeerCache = dict[tuple[int, str | None], NetworkPolicyPeer]
# (port name, protocol) -> its policy port, shared by every rule of one derivation (ports are
# only rendered; a thousand connections to "http" need one).
_PortCache = dict[tuple[str, str], NetworkPolicyPort]


def _rules(stack: Stack, conn: Connection, peers: _PeerCache, ports: _PortCache) -> list[_Rule]:
    if isinstance(conn.source, ExternalPeer):
        return _ingress_from_outside(conn, ports)
    if isinstance(conn.target, ExternalPeer):
        return _egress_to_outside(conn)
    return _between_workloads(stack, conn, peers, ports)


def _peer_of(
    workload: Workload, policy_namespace: str | None, peers: _PeerCache
) -> NetworkPolicyPeer:
    key = (id(workload), policy_namespace)
    peer = peers.get(key)
    if peer is None:
        peer = peers[key] = workload_peer(workload, policy_namespace, workload.origin)
    return peer


def _between_workloads(
    stack: Stack, conn: Connection, peers: _PeerCache, cache: _PortCache
) -> list[_Rule]:
    source, target = conn.source, conn.target
    if target._stack is not stack:
        raise ConflictError(
            f"Unable to connect {source.display} to {target.display}: {target.display} is not "
            "part of this stack",
            origin=conn.origin,
            resource=source.display,
            fix=f"add it with stack.add(...) before rendering; for a peer outside the stack use "
            f"{source.name}.allow_to(namespace=..., pods=..., port=...)",
        )
    _same_or_named_namespaces(source, target, conn)
    ports = _resolve_ports(
        target, conn, lambda: f"connect {source.display} to {target.display}", cache
    )
    out: list[_Rule] = []
    for port in ports:
        out.append(_Rule("egress", source, _peer_of(target, source.namespace, peers), port))
        out.append(_Rule("ingress", target, _peer_of(source, target.namespace, peers), port))
    return out


def _same_or_named_namespaces(source: Workload, target: Workload, conn: Connection) -> None:
    if (source.namespace is None) != (target.namespace is None):
        raise ValidationError(
            f"Unable to connect {source.display} to {target.display}: only one of them has a "
            "namespace, so no namespaceSelector can name the other",
            origin=conn.origin,
            resource=source.display,
            fix="give the stack a namespace, or set namespace= on both workloads",
        )


def _ingress_from_outside(conn: Connection, cache: _PortCache) -> list[_Rule]:
    peer: ExternalPeer = conn.source
    target: Workload = conn.target
    what = f"allow ingress to {target.display} from {peer.describe(target.namespace)}"
    ports = _resolve_ports(target, conn, lambda: what, cache)
    reason = _reason(peer, "ingress", conn, target.namespace)
    return [
        _Rule("ingress", target, rendered, port, reason)
        for rendered in peer.peers(target.namespace)
        for port in ports
    ]


def _egress_to_outside(conn: Connection) -> list[_Rule]:
    source: Workload = conn.source
    peer: ExternalPeer = conn.target
    port = NetworkPolicyPort(
        port=conn.port,
        end_port=conn.options.get("end_port"),
        protocol=conn.options.get("protocol", "TCP"),
    )
    reason = _reason(peer, "egress", conn, source.namespace)
    return [
        _Rule("egress", source, rendered, port, reason) for rendered in peer.peers(source.namespace)
    ]


def _reason(
    peer: ExternalPeer, direction: Direction, conn: Connection, namespace: str | None
) -> tuple[str, str, str] | None:
    category = peer.broad_category(direction)
    if category is None:
        return None
    return (category, peer.describe(namespace), str(conn.options.get("reason", "")))


def _resolve_ports(
    target: Workload, conn: Connection, what: Callable[[], str], cache: _PortCache
) -> list[NetworkPolicyPort]:
    """The target's ports that ``conn.port`` names, as named policy ports (protocol explicit)."""
    exposed = target.named_ports()
    wanted = conn.port
    if wanted is None:
        found = sorted(exposed.items())
    elif isinstance(wanted, str):
        found = [(wanted, exposed[wanted])] if wanted in exposed else []
    else:
        found = sorted((name, spec) for name, spec in exposed.items() if spec[0] == wanted)
    if not found:
        raise _unknown_port(target, conn, what, exposed)
    out = []
    for name, (_, proto) in found:
        if type(name) is not str or type(proto) is not str:  # a user's Workload subclass
            out.append(_policy_port(name, proto, conn))  # refuses it like the constructor
            continue
        port = cache.get((name, proto))
        if port is None:
            port = cache[(name, proto)] = _policy_port(name, proto, conn)
        out.append(port)
    return out


def _policy_port(name: str, protocol: str, conn: Connection) -> NetworkPolicyPort:
    """A named policy port; pydantic runs only when the name or protocol would be refused.

    A container's port names are validated already, but a user's own Workload subclass may
    report anything from named_ports(), so the two checks the field would make run here.
    """
    try:
        if protocol not in PROTOCOLS:
            raise InvalidValue(f"unknown protocol {protocol!r}")
        check_policy_port_name(name)
    except (InvalidValue, AttributeError, TypeError):
        return NetworkPolicyPort(port=name, protocol=cast("Protocol", protocol))
    return NetworkPolicyPort.trusted(conn.origin, port=name, protocol=protocol)


def _unnamed_ports(target: Workload) -> set[int]:
    """The numbers of the ports a kubegen workload declares with ``Port(n, unnamed=True)``."""
    containers = getattr(target, "pod_containers", None)
    if containers is None:
        return set()
    return {port.number for _, _, container in containers() for port in container.ports
            if port.unnamed}


def _unknown_port(
    target: Workload, conn: Connection, what: Callable[[], str], exposed: dict[str, tuple[int, str]]
) -> ValidationError:
    listed = ", ".join(f"{n} ({num}/{proto})" for n, (num, proto) in sorted(exposed.items()))
    if conn.port is None:
        why = f"{target.display} declares no ports"
        fix = f"add a named port to {target.name}'s container"
    else:
        kind = "named" if isinstance(conn.port, str) else "numbered"
        why = (
            f"{target.display} exposes no port {kind} {conn.port!r}; it exposes {listed or 'none'}"
        )
        fix = (
            f"use one of its ports ({', '.join(repr(n) for n in sorted(exposed))}), or add the "
            f"port to {target.name}'s container"
            if exposed
            else f"add a named port to {target.name}'s container"
        )
    if isinstance(conn.port, int) and conn.port in _unnamed_ports(target):
        why += f" (it declares port {conn.port} without a name; policies refer to ports by name)"
        fix = f"name it in {target.name}'s container: Port({conn.port}, name='...')"
    resource = conn.source.display if not isinstance(conn.source, ExternalPeer) else target.display
    return ValidationError(
        f"Unable to {what()}: {why}",
        origin=conn.origin,
        resource=resource,
        field="port",
        value=conn.port,
        fix=fix,
    )


def _dns_outside_owned(
    rules: list[_Rule], owned: list[str], settings: dict[str | None, Any]
) -> Iterator[_Rule]:
    """Workloads in namespaces the stack does not own keep DNS in their own egress policy.

    Their ``<name>-egress`` policy isolates them for egress, and no ``allow-dns`` of ours
    covers their namespace.
    """
    seen: set[int] = set()
    for rule in rules:
        ns = rule.workload.namespace
        if rule.direction != "egress" or ns in owned or id(rule.workload) in seen:
            continue
        seen.add(id(rule.workload))
        dns = dns_for(settings, None)
        if dns is None:
            continue
        for port in dns.rule(ns).ports:
            yield _Rule("egress", rule.workload, dns.peer(ns), port)


# --- rules → policies ----------------------------------------------------------------------


# json.dumps(..., sort_keys=True) would build a new encoder per call.
_encode = json.JSONEncoder(sort_keys=True).encode


def _key(model: NetworkPolicyPeer | NetworkPolicyPort) -> str:
    return _encode(model.render())


def _peer_rank(peer: NetworkPolicyPeer, key: str) -> tuple[int, str]:
    """Same-namespace pods first, then other namespaces, then IP blocks; then by content.

    ``key`` is ``_key(peer)``, computed once when the rules were grouped.
    """
    rank = 2 if peer.ip_block is not None else (1 if peer.namespace_selector is not None else 0)
    return (rank, key)


def _port_rank(port: NetworkPolicyPort) -> tuple[int, int, str, int, str]:
    number = port.port if isinstance(port.port, int) else 0
    name = port.port if isinstance(port.port, str) else ""
    return (isinstance(port.port, str), number, name, port.end_port or 0, port.protocol)


@dataclass(slots=True)
class _Group:
    """Everything one policy (one workload, one direction) will hold."""

    workload: Workload
    peers: dict[str, NetworkPolicyPeer]
    ports: dict[str, dict[str, NetworkPolicyPort]]
    reasons: dict[str, dict[str, set[str]]]


def _workload_policies(
    stack: Stack, rules: list[_Rule], peers: _PeerCache
) -> list[NetworkPolicy | ManifestObject]:
    groups: dict[tuple[str, str, Direction], _Group] = {}
    keys: dict[int, str] = {}  # id(peer) -> _key(peer); the rules keep the peers alive
    port_keys: dict[tuple[int | str | None, int | None, str], str] = {}  # by what renders
    for rule in rules:
        key = (rule.workload.namespace or "", rule.workload.name, rule.direction)
        group = groups.get(key)
        if group is None:  # not setdefault: that would build a _Group for every rule
            group = groups[key] = _Group(rule.workload, {}, defaultdict(dict), {})
        peer_key = keys.get(id(rule.peer))
        if peer_key is None:
            peer_key = keys[id(rule.peer)] = _key(rule.peer)
        port = rule.port
        port_key = port_keys.get((port.port, port.end_port, port.protocol))
        if port_key is None:
            port_key = port_keys[(port.port, port.end_port, port.protocol)] = _key(port)
        group.peers[peer_key] = rule.peer
        group.ports[peer_key][port_key] = rule.port
        if rule.reason is not None:
            category, label, text = rule.reason
            group.reasons.setdefault(category, {}).setdefault(label, set()).add(text)
    return [_policy(stack, key[2], groups[key], peers) for key in sorted(groups)]


def _policy(
    stack: Stack, direction: Direction, group: _Group, peers: _PeerCache
) -> NetworkPolicy | ManifestObject:
    """The workload's policy for ``direction``, built without revalidating derived values.

    Everything in it was validated where it came from except three derived values: the
    selector labels (checked by :func:`labels_selector`), the name (``<workload>-<direction>``
    may outgrow 253 characters) and the reason annotations; when one of those would be
    refused, :func:`_validated_policy` builds it the validating way, raising the same error.
    The usual policy is its object right away, written as ``NetworkPolicy.manifests()``
    writes it (:func:`_policy_object`); with ``TRUST_DERIVED`` off, or for a workload
    without a namespace (whose error its manifests() raises), it is the builder.
    """
    workload = group.workload
    rules = _merged_rules(group)
    name = workload_policy_name(workload, direction)
    annotations = _annotations(group.reasons)
    origin = workload.origin
    try:
        check_dns_subdomain(name)
        check_annotations(annotations)
    except InvalidValue:
        return _validated_policy(stack, direction, group)
    # the workload's own pods: the selector its peer entry in its own namespace has
    selector = _peer_of(workload, workload.namespace, peers).pod_selector
    if base.TRUST_DERIVED and workload.namespace and selector is not None:
        meta = _policy_metadata(stack, name, workload.namespace, annotations)
        return _policy_object(direction, meta, selector, rules, origin)
    body: dict[str, Any]
    if direction == "ingress":
        body = {
            "ingress": [
                IngressRule.trusted(origin, from_=peers, ports=ports) for peers, ports in rules
            ]
        }
    else:
        body = {
            "egress": [EgressRule.trusted(origin, to=peers, ports=ports) for peers, ports in rules]
        }
    policy = NetworkPolicy.trusted(
        origin,
        name=name,
        namespace=workload.namespace,
        pod_selector=selector,
        policy_types=["Ingress" if direction == "ingress" else "Egress"],
        annotations=annotations,
        **body,
    )
    policy.attach(stack)
    return policy


def _policy_metadata(
    stack: Stack, name: str, namespace: str, annotations: dict[str, str]
) -> dict[str, Any]:
    """``Resource.metadata()`` of a derived policy: the stack's labels, no opt-outs."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if stack.labels:
        meta["labels"] = dict(stack.labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def _policy_object(
    direction: Direction,
    meta: dict[str, Any],
    selector: LabelSelector,
    rules: list[tuple[list[NetworkPolicyPeer], list[NetworkPolicyPort]]],
    origin: Origin | None,
) -> ManifestObject:
    """The object ``NetworkPolicy.manifests()`` makes of the policy :func:`_policy` would
    build, without building it: a stack has two per connected workload, and the builders
    (policy, rules) would only be rendered once and dropped. ``tests/test_perf_build.py``
    compares the two ways on every kind of flow."""
    side = "from" if direction == "ingress" else "to"
    spec: dict[str, Any] = {
        "podSelector": selector.render(),
        "policyTypes": ["Ingress" if direction == "ingress" else "Egress"],
    }
    if rules:
        spec[direction] = [_rule_body(side, peers, ports) for peers, ports in rules]
    body = {
        "apiVersion": NetworkPolicy.api_version,
        "kind": NetworkPolicy.kind,
        "metadata": meta,
        "spec": spec,
    }
    return ManifestObject(body=body, origin=origin, waivers={})


def _rule_body(
    side: str, peers: list[NetworkPolicyPeer], ports: list[NetworkPolicyPort]
) -> dict[str, Any]:
    """``IngressRule.render()`` (``side`` "from") or ``EgressRule.render()`` ("to")."""
    out: dict[str, Any] = {}
    if peers:
        out[side] = [peer.render() for peer in peers]
    if ports:
        out["ports"] = [port.render() for port in ports]
    return out


def _validated_policy(stack: Stack, direction: Direction, group: _Group) -> NetworkPolicy:
    workload = group.workload
    rules = _merged_rules(group)
    body: dict[str, Any]
    if direction == "ingress":
        body = {"ingress": [IngressRule(from_=peers, ports=ports) for peers, ports in rules]}
    else:
        body = {"egress": [EgressRule(to=peers, ports=ports) for peers, ports in rules]}
    policy = NetworkPolicy(
        workload_policy_name(workload, direction),
        namespace=workload.namespace,
        pod_selector=LabelSelector(match_labels=workload.selector_labels()),
        policy_types=["Ingress" if direction == "ingress" else "Egress"],
        annotations=_annotations(group.reasons),
        **body,
    )
    policy.attach(stack)
    policy._origin = workload.origin
    return policy


def _merged_rules(
    group: _Group,
) -> list[tuple[list[NetworkPolicyPeer], list[NetworkPolicyPort]]]:
    """One rule per distinct port set, listing every peer allowed on exactly those ports.

    Rules are ordered by their first peer, peers and ports within a rule are sorted: the
    result depends only on the set of (peer, port) pairs.
    """
    if len(group.peers) == 1:  # the usual case: one peer, so one rule
        ((peer_key, peer),) = group.peers.items()
        by_key = group.ports[peer_key]
        if len(by_key) == 1:
            return [([peer], list(by_key.values()))]
        return [([peer], sorted(by_key.values(), key=_port_rank))]
    by_ports: dict[tuple[str, ...], list[NetworkPolicyPeer]] = {}
    port_models: dict[tuple[str, ...], list[NetworkPolicyPort]] = {}
    for peer_key, peer in sorted(
        group.peers.items(), key=lambda item: _peer_rank(item[1], item[0])
    ):
        ordered = sorted(group.ports[peer_key].items(), key=lambda item: _port_rank(item[1]))
        ports_key = tuple(port_key for port_key, _ in ordered)
        by_ports.setdefault(ports_key, []).append(peer)
        port_models.setdefault(ports_key, [port for _, port in ordered])
    return [(peers, port_models[key]) for key, peers in by_ports.items()]


def _annotations(reasons: dict[str, dict[str, set[str]]]) -> dict[str, str]:
    """``kubegen.dev/opt-out-<category>``: why each broad peer is allowed, one line per peer."""
    out: dict[str, str] = {}
    for category, by_peer in sorted(reasons.items()):
        if category == "egress-internet":
            out[OPT_OUT_PREFIX + category] = "; ".join(sorted(set().union(*by_peer.values())))
            continue
        lines = [f"{label}: {'; '.join(sorted(texts))}" for label, texts in sorted(by_peer.items())]
        out[OPT_OUT_PREFIX + category] = "\n".join(lines)
    return out
