"""A NetworkPolicy evaluator for tests, written from the Kubernetes documentation.

It answers "may this packet flow?" for rendered manifests, independently of kubegen's own flow
model (kubegen/_analysis/flows.py), so tests can check the derived policies against
the semantics a CNI plugin enforces:

- a pod is isolated for a direction once any policy in its namespace selects it with that
  direction in ``policyTypes``; absent ``policyTypes`` means ``Ingress``, plus ``Egress`` when
  the policy has egress rules (SetDefaults_NetworkPolicy);
- traffic an isolated pod allows is the union of the rules of every policy that selects it;
- a connection needs the sender's egress and the receiver's ingress to allow it;
- a rule's peers: missing/empty ``from``/``to`` means everyone; ``podSelector`` alone means the
  policy's namespace; ``namespaceSelector`` is matched against namespace labels, which always
  include ``kubernetes.io/metadata.name``; ``ipBlock`` matches addresses in ``cidr`` outside
  every ``except`` (pods have addresses too: 10.244.0.0/16 here, so a wide ipBlock that does
  not exclude 10.0.0.0/8 would match them);
- a rule's ports: missing/empty means all; ``protocol`` defaults to TCP; ``port`` absent means
  every port; numbers with ``endPort`` are ranges; a name matches the receiving pod's container
  port of that name and protocol.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, int, str], ...] = ()  # (name, number, protocol)
    ip: str = "10.244.0.1"

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)


@dataclass(frozen=True)
class External:
    """An address outside the cluster."""

    ip: str


Endpoint = Pod | External

WORKLOAD_TEMPLATES = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def pods_of(manifests: Iterable[Mapping[str, Any]]) -> list[Pod]:
    """One representative pod per workload manifest, with template labels and container ports."""
    pods: list[Pod] = []
    for n, body in enumerate(manifests):
        path = WORKLOAD_TEMPLATES.get(body.get("kind", ""))
        if path is None:
            continue
        template: Any = body
        for key in path:
            template = template[key]
        ports = tuple(
            (p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
            for c in template["spec"]["containers"]
            for p in c.get("ports", [])
        )
        labels = tuple(sorted(template["metadata"]["labels"].items()))
        ip = f"10.244.{n // 200}.{n % 200 + 2}"
        pods.append(Pod(body["metadata"]["namespace"], body["metadata"]["name"], labels, ports, ip))
    return pods


@dataclass
class Cluster:
    """Namespaces (with labels), pods and NetworkPolicies as the API server would hold them."""

    namespace_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    pods: list[Pod] = field(default_factory=list)
    policies: list[Mapping[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, manifests: Iterable[Mapping[str, Any]], extra_pods: Iterable[Pod] = ()) -> Cluster:
        bodies = list(manifests)
        cluster = cls()
        for body in bodies:
            if body.get("kind") == "Namespace":
                meta = body["metadata"]
                cluster.namespace_labels[meta["name"]] = dict(meta.get("labels") or {})
            if body.get("kind") == "NetworkPolicy":
                cluster.policies.append(body)
        cluster.pods = pods_of(bodies) + list(extra_pods)
        return cluster

    def labels_of_namespace(self, name: str) -> dict[str, str]:
        labels = dict(self.namespace_labels.get(name, {}))
        labels[NAME_LABEL] = name  # set by the API server on every namespace
        return labels

    # -- the question ---------------------------------------------------------------------

    def allows(self, src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP") -> bool:
        """May ``src`` open a connection to ``dst`` on ``port``/``protocol``?"""
        if isinstance(src, Pod) and not self._side_allows(src, "Egress", dst, port, protocol):
            return False
        return not isinstance(dst, Pod) or self._side_allows(dst, "Ingress", src, port, protocol)

    def isolated(self, pod: Pod, direction: str) -> bool:
        return bool(self._selecting(pod, direction))

    # -- one side ---------------------------------------------------------------------------

    def _selecting(self, pod: Pod, direction: str) -> list[Mapping[str, Any]]:
        found = []
        for policy in self.policies:
            meta, spec = policy["metadata"], policy.get("spec", {})
            if meta.get("namespace") != pod.namespace:
                continue
            if direction not in _types(spec):
                continue
            if label_selector_matches(spec.get("podSelector", {}), pod.label_map):
                found.append(policy)
        return found

    def _side_allows(
        self, pod: Pod, direction: str, other: Endpoint, port: int, protocol: str
    ) -> bool:
        policies = self._selecting(pod, direction)
        if not policies:
            return True  # not isolated for this direction
        receiver = pod if direction == "Ingress" else other
        for policy in policies:
            namespace = policy["metadata"]["namespace"]
            for rule in policy["spec"].get(direction.lower()) or []:
                peers = rule.get("from" if direction == "Ingress" else "to") or []
                if peers and not any(self._peer_matches(p, namespace, other) for p in peers):
                    continue
                if _ports_match(rule.get("ports") or [], port, protocol, receiver):
                    return True
        return False

    def _peer_matches(self, peer: Mapping[str, Any], namespace: str, other: Endpoint) -> bool:
        if "ipBlock" in peer:
            block = peer["ipBlock"]
            address = ipaddress.ip_address(other.ip)
            inside = _in(address, block["cidr"])
            return inside and not any(_in(address, e) for e in block.get("except", []))
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            ns_labels = self.labels_of_namespace(other.namespace)
            if not label_selector_matches(peer["namespaceSelector"], ns_labels):
                return False
        elif other.namespace != namespace:
            return False
        if "podSelector" in peer:
            return label_selector_matches(peer["podSelector"], other.label_map)
        return True


def _types(spec: Mapping[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    types = ["Ingress"]
    if len(spec.get("egress") or []) != 0:
        types.append("Egress")
    return types


def _in(address: ipaddress.IPv4Address | ipaddress.IPv6Address, cidr: str) -> bool:
    network = ipaddress.ip_network(cidr)
    return address.version == network.version and address in network


def _ports_match(
    entries: list[Mapping[str, Any]], port: int, protocol: str, receiver: Endpoint
) -> bool:
    if not entries:
        return True
    for entry in entries:
        if entry.get("protocol", "TCP") != protocol:
            continue
        wanted = entry.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, int) and wanted <= port <= entry.get("endPort", wanted):
            return True
        if isinstance(wanted, str) and _serves(receiver, wanted, port, protocol):
            return True
    return False


def _serves(receiver: Endpoint, name: str, port: int, protocol: str) -> bool:
    """A named port matches when the receiving pod declares that name on that number."""
    if not isinstance(receiver, Pod):
        return False
    return any(n == name and p == port and pr == protocol for n, p, pr in receiver.ports)


def label_selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector: all matchLabels and all matchExpressions must hold."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator = requirement["key"], requirement["operator"]
        values = requirement.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True
