"""The flow model's index gives exactly what scanning every policy for every pair gives.

``kubegen graph`` and ``kubegen review`` read thousands of pods; the index pairs a sender only
with the pods its egress rules can reach. Here random hand-written policies (selectors with
labels and expressions, namespace selectors, IP blocks, named and numbered ports, every
``policyTypes`` shape) are checked against a plain scan written from the same API rules.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen._analysis.flows import (
    Topology,
    allowed_ports,
    describe_ports,
    flows,
    intersect,
    peer_matches_pod,
    policy_types,
    read_topology,
    selecting,
    selector_matches,
)
from kubegen._manifests import ManifestObject

NAMESPACES = ("a", "b")
LABELS = st.dictionaries(
    st.sampled_from(["app", "tier"]), st.sampled_from(["x", "y", "z"]), max_size=2
)
PORTS = [("http", 8080, "TCP"), ("dns", 53, "UDP"), ("metrics", 9100, "TCP")]


def _selector() -> st.SearchStrategy[dict[str, Any]]:
    expression = st.fixed_dictionaries(
        {
            "key": st.sampled_from(["app", "tier"]),
            "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
        },
        optional={"values": st.lists(st.sampled_from(["x", "y", "z"]), max_size=2)},
    )
    return st.fixed_dictionaries(
        {}, optional={"matchLabels": LABELS, "matchExpressions": st.lists(expression, max_size=2)}
    )


def _peer() -> st.SearchStrategy[dict[str, Any]]:
    namespace_selector = st.one_of(
        st.just({}),
        st.sampled_from(NAMESPACES).map(
            lambda n: {"matchLabels": {"kubernetes.io/metadata.name": n}}
        ),
        st.just({"matchLabels": {"team": "red"}}),
    )
    return st.one_of(
        st.fixed_dictionaries({"podSelector": _selector()}),
        st.fixed_dictionaries(
            {"namespaceSelector": namespace_selector}, optional={"podSelector": _selector()}
        ),
        st.just({"ipBlock": {"cidr": "10.0.0.0/8"}}),
    )


def _port() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.sampled_from(PORTS).map(lambda p: {"port": p[0], "protocol": p[2]}),
        st.sampled_from(PORTS).map(lambda p: {"port": p[1], "protocol": p[2]}),
        st.just({"port": 8000, "endPort": 9000}),
        st.just({"protocol": "UDP"}),
    )


def _rule(direction: str) -> st.SearchStrategy[dict[str, Any]]:
    peers = "from" if direction == "ingress" else "to"
    return st.fixed_dictionaries(
        {},
        optional={peers: st.lists(_peer(), max_size=2), "ports": st.lists(_port(), max_size=2)},
    )


@st.composite
def objects(draw: st.DrawFn) -> list[ManifestObject]:
    found: list[ManifestObject] = []
    for name in NAMESPACES:
        labels = draw(st.sampled_from([{}, {"team": "red"}]))
        found.append(ManifestObject({"apiVersion": "v1", "kind": "Namespace",
                                     "metadata": {"name": name, "labels": labels}}))
    for i in range(draw(st.integers(1, 6))):
        ports = draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))
        found.append(ManifestObject({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"w{i}", "namespace": draw(st.sampled_from(NAMESPACES))},
            "spec": {"template": {"metadata": {"labels": draw(LABELS)}, "spec": {"containers": [
                {"name": "c", "ports": [
                    {"name": n, "containerPort": p, "protocol": proto} for n, p, proto in ports
                ]}]}}},
        }))
    for i in range(draw(st.integers(0, 5))):
        spec: dict[str, Any] = {"podSelector": draw(_selector())}
        types = draw(st.sampled_from([None, ["Ingress"], ["Egress"], ["Ingress", "Egress"]]))
        if types is not None:
            spec["policyTypes"] = types
        for direction in ("ingress", "egress"):
            if draw(st.booleans()):
                spec[direction] = draw(st.lists(_rule(direction), max_size=2))
        found.append(ManifestObject({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": f"p{i}", "namespace": draw(st.sampled_from(NAMESPACES))},
            "spec": spec,
        }))
    return found


def _scan_selecting(topology: Topology, pod: Any, direction: str) -> list[dict[str, Any]]:
    return [
        policy
        for policy in topology.policies
        if policy["metadata"]["namespace"] == pod.namespace
        and direction in policy_types(policy)
        and selector_matches(policy["spec"].get("podSelector"), pod.labels)
    ]


def _scan_pairs(topology: Topology) -> set[tuple[str, str, tuple[str, ...]]]:
    out = set()
    for src in topology.pods:
        for dst in topology.pods:
            ports = intersect(
                allowed_ports(topology, "Egress", src, dst),
                allowed_ports(topology, "Ingress", dst, src),
            )
            if ports:
                out.add((src.node.label, dst.node.label, describe_ports(ports, dst)))
    return out


@settings(max_examples=150, deadline=None)
@given(objects())
def test_index_agrees_with_scanning(found: list[ManifestObject]) -> None:
    topology = read_topology(found)
    index = topology.index()
    for pod in topology.pods:
        for direction in ("Ingress", "Egress"):
            assert selecting(topology, pod, direction) == _scan_selecting(topology, pod, direction)
    for policy in topology.policies:
        namespace = policy["metadata"]["namespace"]
        for key, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(key) or []:
                for peer in rule.get(peers_key) or []:
                    expected = {
                        i
                        for i, pod in enumerate(topology.pods)
                        if peer_matches_pod(topology, peer, namespace, pod)
                    }
                    assert index.peer_pods(peer, namespace) == expected
    between = {
        (f.source.label, f.target.label, f.ports)
        for f in flows(topology)
        if f.source.kind == "workload" and f.target.kind == "workload"
    }
    assert between == _scan_pairs(topology)
