"""Which flows rendered NetworkPolicies allow: the model behind ``kubegen graph``.

It reads manifests only (Namespaces, pod-running objects, NetworkPolicies), never the stack's
declared connections, so the graph shows what the cluster would enforce. Semantics, from
https://kubernetes.io/docs/concepts/services-networking/network-policies/:

- a pod is isolated for a direction once a policy selects it with that direction in its
  ``policyTypes`` (absent ``policyTypes`` means Ingress, plus Egress if ``egress`` has rules);
- an isolated pod allows the union of the rules of the policies that select it; a flow between
  two pods needs the sender's egress *and* the receiver's ingress;
- a named port matches the receiving pod's container port of that name and protocol.

Peers the manifests do not define (other namespaces' pods, IP blocks, "anywhere" for pods that
are not isolated) become external nodes; their own policies are unknown, so only our side counts.
The ipBlock peers of a policy annotated ``kubegen.dev/ip-block-name`` are one node of that name
(``Kubernetes API`` for the ``<workload>-api-server`` policies a grant implies).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kubegen._builders.network.cidrs import ANY_V4, ANY_V6, PRIVATE_V4, PRIVATE_V6
from kubegen._builders.network.peers import NAMESPACE_NAME_LABEL
from kubegen._builders.network.routes import IP_BLOCK_NAME
from kubegen._manifests import ManifestObject

NodeKind = Literal["workload", "pods", "ipblock", "anywhere"]
Atom = tuple[str, int, int] | tuple[str, str]  # (protocol, first, last) or (protocol, port name)

_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Pod": (),
}

#: The kinds :func:`read_topology` reads: a change to any other object cannot change the flows.
INPUT_KINDS: frozenset[str] = frozenset({"Namespace", "NetworkPolicy", *_TEMPLATE_PATHS})


@dataclass(frozen=True, slots=True)
class Node:
    """A box in the graph: a workload of the manifests, or a peer outside them.

    ``host_network``: a workload whose pods share their node's network; most network plugins
    enforce no NetworkPolicy for them (Kubernetes docs, "NetworkPolicy and hostNetwork pods").
    """

    kind: NodeKind
    label: str
    namespace: str | None = None  # the namespace box it is drawn in, if any
    host_network: bool = False


@dataclass(frozen=True, slots=True)
class Flow:
    """``source`` may connect to ``target`` on ``ports`` (labels like ``http 8080/TCP``)."""

    source: Node
    target: Node
    ports: tuple[str, ...]

    @property
    def enforced(self) -> bool:
        """False when a side runs with hostNetwork: the policies drawn are not what most
        network plugins enforce for it (its traffic is the node's)."""
        return not (self.source.host_network or self.target.host_network)


@dataclass(slots=True)
class Pod:
    """The pods of one workload: where they run, their labels and declared ports.

    ``service_account``: the account they run as. ``host_network``: they share the node's
    network namespace, where most network plugins do not apply NetworkPolicies.
    """

    node: Node
    namespace: str
    labels: dict[str, str]
    ports: list[tuple[str, int, str]]  # (name, number, protocol)
    service_account: str = "default"
    host_network: bool = False


@dataclass(slots=True)
class Topology:
    """What the manifests say about namespaces, pods and policies.

    Queries go through an index built on the first one (:meth:`index`); fill the fields first.
    """

    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    _index: _Index | None = field(default=None, repr=False, compare=False)

    def namespace_labels(self, name: str) -> dict[str, str]:
        return {**self.namespaces.get(name, {}), NAMESPACE_NAME_LABEL: name}

    def index(self) -> _Index:
        """Pods by namespace and label, and the policies selecting each pod, made once."""
        if self._index is None:
            self._index = _Index(self)
        return self._index


class _Index:
    """Lookups that keep :func:`flows` near-linear in the number of pods and policies.

    Without it every (sender, receiver) pair would scan every policy; with it a sender is paired
    only with the pods its egress rules can reach, and each selector is matched once.
    """

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.position = {id(pod): i for i, pod in enumerate(topology.pods)}
        self.by_namespace: dict[str, list[int]] = {}
        self.by_label: dict[tuple[str, str, str], list[int]] = {}
        for i, pod in enumerate(topology.pods):
            self.by_namespace.setdefault(pod.namespace, []).append(i)
            for key, value in pod.labels.items():
                self.by_label.setdefault((pod.namespace, key, value), []).append(i)
        self.selected: dict[tuple[int, str], list[dict[str, Any]]] = {}
        for policy in topology.policies:
            namespace = (policy.get("metadata") or {}).get("namespace", "default")
            selector = (policy.get("spec") or {}).get("podSelector")
            types = policy_types(policy)
            for i in self.select(namespace, selector):
                for direction in types:
                    self.selected.setdefault((i, direction), []).append(policy)
        self._peers: dict[int, tuple[Mapping[str, Any], frozenset[int]]] = {}

    def select(self, namespace: str, selector: Mapping[str, Any] | None) -> list[int]:
        """Positions of the pods in ``namespace`` that ``selector`` selects (``None``: all)."""
        pods = self.topology.pods
        candidates = self.by_namespace.get(namespace, [])
        for key, value in ((selector or {}).get("matchLabels") or {}).items():
            narrower = self.by_label.get((namespace, key, value), [])
            if len(narrower) < len(candidates):
                candidates = narrower
        return [i for i in candidates if selector_matches(selector, pods[i].labels)]

    def peer_pods(self, peer: Mapping[str, Any], namespace: str) -> frozenset[int]:
        """Positions of the pods a ``from``/``to`` entry of a policy in ``namespace`` selects."""
        cached = self._peers.get(id(peer))
        if cached is not None and cached[0] is peer:
            return cached[1]
        found: set[int] = set()
        if "ipBlock" not in peer:
            if "namespaceSelector" in peer:
                namespaces = [
                    name
                    for name in self.topology.namespaces
                    if selector_matches(
                        peer["namespaceSelector"], self.topology.namespace_labels(name)
                    )
                ]
            else:
                namespaces = [namespace]
            for name in namespaces:
                found.update(self.select(name, peer.get("podSelector")))
        result = frozenset(found)
        self._peers[id(peer)] = (peer, result)
        return result


ALL: frozenset[Atom] = frozenset({("*", 1, 65535)})


# --- reading manifests ---------------------------------------------------------------------


def read_topology(objects: Sequence[ManifestObject]) -> Topology:
    """Collect namespaces, pod-running workloads and NetworkPolicies from ``objects``."""
    topology = Topology()
    for obj in objects:
        if obj.kind == "Namespace" and obj.group == "":
            topology.namespaces[obj.name] = dict(obj.metadata.get("labels") or {})
        elif obj.kind == "NetworkPolicy" and obj.group == "networking.k8s.io":
            topology.policies.append(obj.body)
        elif obj.kind in _TEMPLATE_PATHS and obj.group in ("", "apps", "batch"):
            pod = _pod(obj)
            if pod is not None:
                topology.pods.append(pod)
    for pod in topology.pods:
        topology.namespaces.setdefault(pod.namespace, {})
    return topology


def _pod(obj: ManifestObject) -> Pod | None:
    template: Any = obj.body
    for key in _TEMPLATE_PATHS[obj.kind]:
        template = template.get(key) if isinstance(template, Mapping) else None
    if not isinstance(template, Mapping):
        return None
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    spec = template.get("spec") or {}
    ports = [
        (str(p.get("name", "")), int(p["containerPort"]), str(p.get("protocol", "TCP")))
        for container in spec.get("containers") or []
        for p in container.get("ports") or []
        if "containerPort" in p
    ]
    namespace = obj.namespace or "default"
    account = str(spec.get("serviceAccountName") or "default")
    host = spec.get("hostNetwork") is True
    return Pod(Node("workload", obj.name, namespace, host), namespace, labels, ports, account,
               host)


# --- selector and peer matching ------------------------------------------------------------


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """``matchLabels`` and ``matchExpressions`` against ``labels``; ``{}`` matches all."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def peer_matches_pod(
    topology: Topology, peer: Mapping[str, Any], policy_namespace: str, pod: Pod
) -> bool:
    """Does a ``from``/``to`` entry of a policy in ``policy_namespace`` select ``pod``?"""
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        labels = topology.namespace_labels(pod.namespace)
        if not selector_matches(peer["namespaceSelector"], labels):
            return False
    elif pod.namespace != policy_namespace:
        return False
    return "podSelector" not in peer or selector_matches(peer["podSelector"], pod.labels)


def policy_types(policy: Mapping[str, Any]) -> list[str]:
    """``policyTypes``, or the API's default: Ingress, plus Egress when egress rules exist.

    The default is SetDefaults_NetworkPolicy's: an empty ``egress`` list does not imply Egress.
    """
    spec = policy.get("spec") or {}
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def selecting(topology: Topology, pod: Pod, direction: str) -> list[dict[str, Any]]:
    """The policies that isolate ``pod`` for ``direction`` (``Ingress`` or ``Egress``)."""
    index = topology.index()
    position = index.position.get(id(pod))
    if position is None:  # a pod that is not part of the topology: match by scanning
        return [
            policy
            for policy in topology.policies
            if (policy.get("metadata") or {}).get("namespace", "default") == pod.namespace
            and direction in policy_types(policy)
            and selector_matches((policy.get("spec") or {}).get("podSelector"), pod.labels)
        ]
    return index.selected.get((position, direction), [])


# --- port sets -----------------------------------------------------------------------------


def rule_ports(rule: Mapping[str, Any], receiver: Pod | None) -> frozenset[Atom]:
    """The ports a rule allows; names resolve against ``receiver`` (kept as names if None)."""
    entries = rule.get("ports") or []
    if not entries:
        return ALL
    atoms: set[Atom] = set()
    for entry in entries:
        proto = str(entry.get("protocol", "TCP"))
        port = entry.get("port")
        if port is None:
            atoms.add((proto, 1, 65535))
        elif isinstance(port, int):
            atoms.add((proto, port, int(entry.get("endPort", port))))
        elif receiver is None:
            atoms.add((proto, str(port)))
        else:
            atoms.update(
                (proto, num, num) for name, num, p in receiver.ports if name == port and p == proto
            )
    return frozenset(atoms)


def intersect(a: frozenset[Atom], b: frozenset[Atom]) -> frozenset[Atom]:
    """Ports in both sets (named atoms only occur for external receivers, never intersected)."""
    if a == ALL:
        return b
    if b == ALL:
        return a
    out: set[Atom] = set()
    for x in a:
        for y in b:
            if len(x) == 3 and len(y) == 3 and x[0] == y[0]:
                lo, hi = max(x[1], y[1]), min(x[2], y[2])
                if lo <= hi:
                    out.add((x[0], lo, hi))
    return frozenset(out)


def describe_ports(atoms: Iterable[Atom], receiver: Pod | None) -> tuple[str, ...]:
    """``http 8080/TCP``, ``8000-8100/TCP``, ``all UDP``, ``any port``: sorted, readable."""
    atoms = frozenset(atoms)
    if atoms == ALL:
        return ("any port",)
    names = {(proto, num): name for name, num, proto in (receiver.ports if receiver else [])}
    out: list[tuple[tuple[Any, ...], str]] = []
    for atom in atoms:
        if len(atom) == 2:
            out.append(((1, atom[1], 0, atom[0]), f"{atom[1]}/{atom[0]}"))
            continue
        proto, lo, hi = atom
        if (lo, hi) == (1, 65535):
            text = f"all {proto}"
        elif lo == hi:
            name = names.get((proto, lo))
            text = f"{name} {lo}/{proto}" if name else f"{lo}/{proto}"
        else:
            text = f"{lo}-{hi}/{proto}"
        out.append(((0, "", lo, proto), text))
    return tuple(text for _, text in sorted(out))


# --- flows ---------------------------------------------------------------------------------


def allowed_ports(topology: Topology, direction: str, pod: Pod, other: Pod) -> frozenset[Atom]:
    """Ports ``pod``'s own policies allow to (Egress) or from (Ingress) ``other``."""
    policies = selecting(topology, pod, direction)
    if not policies:
        return ALL
    receiver = other if direction == "Egress" else pod
    atoms: set[Atom] = set()
    for policy in policies:
        namespace = (policy.get("metadata") or {}).get("namespace", "default")
        for rule in _rules(policy, direction):
            peers = _peers(rule, direction)
            if not peers or any(peer_matches_pod(topology, p, namespace, other) for p in peers):
                atoms |= rule_ports(rule, receiver)
    return ALL if atoms >= ALL else frozenset(atoms)


def _rules(policy: Mapping[str, Any], direction: str) -> list[dict[str, Any]]:
    return list((policy.get("spec") or {}).get(direction.lower()) or [])


def _peers(rule: Mapping[str, Any], direction: str) -> list[dict[str, Any]]:
    return list(rule.get("from" if direction == "Ingress" else "to") or [])


@dataclass(frozen=True, slots=True)
class FlowGraph:
    """Every workload (flows or not) and external peer, and the allowed flows, sorted."""

    nodes: tuple[Node, ...]
    flows: tuple[Flow, ...]


def flow_graph(objects: Sequence[ManifestObject]) -> FlowGraph:
    """The allowed flows of ``objects`` with every workload, each in a stable order."""
    topology = read_topology(objects)
    found = flows(topology)
    nodes = {pod.node for pod in topology.pods}
    nodes.update(node for flow in found for node in (flow.source, flow.target))
    return FlowGraph(tuple(sorted(nodes, key=_node_key)), tuple(found))


def flows(topology: Topology) -> list[Flow]:
    """Every allowed flow among the workloads of ``topology`` and to/from external peers."""
    out: list[Flow] = []
    pods = topology.pods
    for src in pods:
        for dst in (pods[i] for i in sorted(_reachable(topology, src))):
            egress = allowed_ports(topology, "Egress", src, dst)
            ports = intersect(egress, allowed_ports(topology, "Ingress", dst, src))
            if ports:
                out.append(Flow(src.node, dst.node, describe_ports(ports, dst)))
    out.extend(_external_flows(topology))
    return sorted(set(out), key=_flow_key)


def _reachable(topology: Topology, src: Pod) -> set[int] | range:
    """Positions of the pods ``src``'s egress policies allow some traffic to (all if open)."""
    index = topology.index()
    everyone = range(len(topology.pods))
    policies = selecting(topology, src, "Egress")
    if not policies:
        return everyone
    found: set[int] = set()
    for policy in policies:
        namespace = (policy.get("metadata") or {}).get("namespace", "default")
        for rule in _rules(policy, "Egress"):
            peers = _peers(rule, "Egress")
            if not peers:
                return everyone
            for peer in peers:
                found |= index.peer_pods(peer, namespace)
    return found


def _flow_key(flow: Flow) -> tuple[Any, ...]:
    return (_node_key(flow.source), _node_key(flow.target), flow.ports)


_KIND_ORDER: dict[str, int] = {"workload": 0, "pods": 1, "ipblock": 2, "anywhere": 3}


def _node_key(node: Node) -> tuple[str, int, str]:
    """Namespaced nodes by namespace first; workloads before external peers; then by label."""
    return (node.namespace or "~", _KIND_ORDER[node.kind], node.label)


ANYWHERE = Node("anywhere", "anywhere (not isolated)")


def _external_flows(topology: Topology) -> list[Flow]:
    out: list[Flow] = []
    for pod in topology.pods:
        for direction in ("Ingress", "Egress"):
            per_peer = _external_ports(topology, pod, direction)
            for node, atoms in per_peer.items():
                receiver = pod if direction == "Ingress" else None
                ports = describe_ports(atoms, receiver)
                out.append(
                    Flow(node, pod.node, ports)
                    if direction == "Ingress"
                    else Flow(pod.node, node, ports)
                )
    return out


def _external_ports(topology: Topology, pod: Pod, direction: str) -> dict[Node, frozenset[Atom]]:
    policies = selecting(topology, pod, direction)
    if not policies:
        return {ANYWHERE: ALL}
    receiver = pod if direction == "Ingress" else None
    found: dict[Node, set[Atom]] = {}
    for policy in policies:
        meta = policy.get("metadata") or {}
        namespace = meta.get("namespace", "default")
        name = (meta.get("annotations") or {}).get(IP_BLOCK_NAME)
        for rule in _rules(policy, direction):
            peers = _peers(rule, direction)
            nodes = [ANYWHERE] if not peers else _external_nodes(topology, peers, namespace, name)
            for node in nodes:
                found.setdefault(node, set()).update(rule_ports(rule, receiver))
    return {node: ALL if atoms >= ALL else frozenset(atoms) for node, atoms in found.items()}


def _external_nodes(
    topology: Topology, peers: Iterable[Mapping[str, Any]], namespace: str, name: Any = None
) -> list[Node]:
    """``name``: the policy's :data:`IP_BLOCK_NAME` annotation, naming its ipBlock peers."""
    nodes: list[Node] = []
    for peer in peers:
        if "ipBlock" in peer:
            label = str(name) if name else ip_block_label(peer["ipBlock"])
            nodes.append(Node("ipblock", label))
        elif _reaches_outside(topology, peer, namespace):
            nodes.append(_selector_node(peer, namespace))
    return nodes


def _reaches_outside(topology: Topology, peer: Mapping[str, Any], namespace: str) -> bool:
    """A selector peer may select pods the manifests do not define."""
    matched = bool(topology.index().peer_pods(peer, namespace))
    pinned = _pinned_namespace(peer, namespace)
    return not matched or pinned is None or pinned not in topology.namespaces


def _pinned_namespace(peer: Mapping[str, Any], namespace: str) -> str | None:
    """The one namespace a peer can select, when its selectors say so."""
    selector = peer.get("namespaceSelector")
    if selector is None:
        return namespace
    labels = selector.get("matchLabels") or {}
    if NAMESPACE_NAME_LABEL in labels:
        return str(labels[NAMESPACE_NAME_LABEL])
    return None


def _selector_node(peer: Mapping[str, Any], namespace: str) -> Node:
    pinned = _pinned_namespace(peer, namespace)
    pods = "all pods" if "podSelector" not in peer else _selector_text(peer["podSelector"], "pods")
    if pinned is not None:
        return Node("pods", pods, pinned)
    where = _selector_text(peer["namespaceSelector"], "namespaces")
    return Node("pods", f"{pods} in {where}")


def _selector_text(selector: Mapping[str, Any], noun: str) -> str:
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        values = ",".join(expr.get("values") or [])
        parts.append(f"{expr['key']} {expr['operator']} {values}".rstrip())
    return ", ".join(parts) if parts else f"all {noun}"


def ip_block_label(block: Mapping[str, Any]) -> str:
    """``internet (IPv4)`` for kubegen's internet block, else ``cidr except a, b``."""
    cidr = str(block.get("cidr"))
    excluded = [str(x) for x in block.get("except") or []]
    if (cidr, excluded) == (ANY_V4, list(PRIVATE_V4)):
        return "internet (IPv4)"
    if (cidr, excluded) == (ANY_V6, list(PRIVATE_V6)):
        return "internet (IPv6)"
    return f"{cidr} except {', '.join(excluded)}" if excluded else cidr
