"""The test evaluator against hand-written cases, then kubegen's policies against the evaluator.

The property tests build random stacks (1-3 namespaces, 2-6 workloads, random connections, some
declared twice) and check, with the evaluator over the *rendered* manifests, that exactly the
declared connections (plus DNS to kube-system) are allowed and everything else is denied. They
also check that ``kubegen graph``'s flow model agrees with the evaluator.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from network_semantics import Cluster, External, Pod, label_selector_matches
from network_support import KINDS, workload

from kubegen import Namespace, Stack
from kubegen._analysis.flows import flow_graph


def _pod(ns: str, name: str, ports: tuple[tuple[str, int, str], ...] = (), ip: str = "10.244.0.9"):
    return Pod(ns, name, (("app", name),), ports, ip)


def _policy(ns: str, spec: dict[str, Any], name: str = "p") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


WEB = _pod("a", "web", ip="10.244.0.2")
API = _pod("a", "api", (("http", 8080, "TCP"), ("metrics", 9090, "TCP")), ip="10.244.0.3")
OTHER = _pod("b", "other", (("http", 8080, "TCP"),), ip="10.244.0.4")
PODS = [WEB, API, OTHER]


def _cluster(*policies: dict[str, Any], ns_labels: dict[str, dict[str, str]] | None = None):
    return Cluster(namespace_labels=ns_labels or {}, pods=list(PODS), policies=list(policies))


# --- the evaluator itself ------------------------------------------------------------------


def test_no_policy_allows_everything() -> None:
    cluster = _cluster()
    assert cluster.allows(WEB, API, 1234)
    assert cluster.allows(External("203.0.113.5"), OTHER, 22)


def test_policy_types_absent_means_ingress_only_without_egress_rules() -> None:
    cluster = _cluster(_policy("a", {"podSelector": {}}))
    assert not cluster.allows(WEB, API, 8080)  # API isolated for ingress
    assert cluster.allows(API, OTHER, 8080)  # egress untouched
    assert not cluster.isolated(API, "Egress")


def test_policy_types_absent_with_egress_rules_isolates_egress_too() -> None:
    spec = {
        "podSelector": {},
        "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}]}],
    }
    cluster = _cluster(_policy("a", spec))
    assert cluster.isolated(WEB, "Egress") and cluster.isolated(WEB, "Ingress")
    assert not cluster.allows(WEB, OTHER, 8080)
    empty = _cluster(_policy("a", {"podSelector": {}, "egress": []}))
    assert not empty.isolated(WEB, "Egress")


def test_egress_only_policy_leaves_ingress_open() -> None:
    cluster = _cluster(_policy("a", {"podSelector": {}, "policyTypes": ["Egress"]}))
    assert cluster.allows(OTHER, API, 8080)
    assert not cluster.allows(API, OTHER, 8080)


def test_both_sides_must_allow_and_policies_union() -> None:
    deny = _policy("a", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, "deny")
    out = _policy(
        "a",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "api"}}}]}],
        },
        "out",
    )
    into = _policy(
        "a",
        {
            "podSelector": {"matchLabels": {"app": "api"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
        },
        "in",
    )
    assert not _cluster(deny, out).allows(WEB, API, 8080)  # receiver still denies
    assert not _cluster(deny, into).allows(WEB, API, 8080)  # sender still denies
    assert _cluster(deny, out, into).allows(WEB, API, 8080)
    assert not _cluster(deny, out, into).allows(API, WEB, 8080)


def test_named_port_resolves_on_the_receiver() -> None:
    spec = {
        "podSelector": {"matchLabels": {"app": "api"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"ports": [{"port": "http"}]}],
    }
    cluster = _cluster(_policy("a", spec))
    assert cluster.allows(WEB, API, 8080)
    assert not cluster.allows(WEB, API, 9090)
    assert not cluster.allows(WEB, API, 8080, "UDP")


def test_port_ranges_and_protocols() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [{"ports": [{"port": 8000, "endPort": 8100}, {"protocol": "UDP"}]}],
    }
    cluster = _cluster(_policy("a", spec))
    assert cluster.allows(WEB, OTHER, 8000) and cluster.allows(WEB, OTHER, 8100)
    assert not cluster.allows(WEB, OTHER, 8101)
    assert cluster.allows(WEB, OTHER, 5353, "UDP")
    assert not cluster.allows(WEB, OTHER, 5353, "SCTP")


def test_pod_selector_alone_means_the_policy_namespace() -> None:
    spec = {
        "podSelector": {},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
    }
    cluster = _cluster(_policy("a", spec))
    assert cluster.allows(WEB, API, 8080)
    assert not cluster.allows(OTHER, API, 8080)


def test_namespace_selector_matches_name_label_and_custom_labels() -> None:
    by_name = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}
    by_team = {"namespaceSelector": {"matchLabels": {"team": "x"}}}
    for peer, labels in ((by_name, {}), (by_team, {"b": {"team": "x"}})):
        spec = {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [peer]}]}
        cluster = _cluster(_policy("a", spec), ns_labels=labels)
        assert cluster.allows(OTHER, API, 8080)
        assert not cluster.allows(WEB, API, 8080)


def test_ip_block_with_except_and_pod_addresses() -> None:
    block = {"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [block]}]}
    cluster = _cluster(_policy("a", spec))
    assert cluster.allows(WEB, External("93.184.216.34"), 443)
    assert not cluster.allows(WEB, External("10.1.2.3"), 443)
    assert not cluster.allows(WEB, OTHER, 8080)  # pod address 10.244.0.4 is excepted
    wide = {"ipBlock": {"cidr": "0.0.0.0/0"}}
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [wide]}]}
    assert _cluster(_policy("a", spec)).allows(WEB, OTHER, 8080)


def _expr(op: str, *values: str) -> dict[str, Any]:
    return {"matchExpressions": [{"key": "tier", "operator": op, "values": list(values)}]}


def test_match_expressions() -> None:
    labels = {"app": "api", "tier": "back"}
    assert label_selector_matches(_expr("In", "back", "x"), labels)
    assert not label_selector_matches(_expr("In", "front"), labels)
    assert label_selector_matches(_expr("NotIn", "front"), labels)
    assert label_selector_matches(_expr("NotIn", "front"), {"app": "api"})
    assert not label_selector_matches(_expr("NotIn", "back"), labels)
    assert label_selector_matches(_expr("Exists"), labels)
    assert not label_selector_matches(_expr("DoesNotExist"), labels)
    assert not label_selector_matches(_expr("In", "back"), {"app": "api"})


# --- kubegen's policies under the evaluator ------------------------------------------------

PORT_POOL = [
    ("http", 8080, "TCP"),
    ("grpc", 9090, "TCP"),
    ("metrics", 9100, "TCP"),
    ("gossip", 7946, "UDP"),
]
KUBE_DNS = Pod(
    "kube-system",
    "coredns",
    (("k8s-app", "kube-dns"),),
    (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")),
    "10.244.9.1",
)
KUBE_OTHER = Pod(
    "kube-system",
    "metrics-server",
    (("k8s-app", "metrics-server"),),
    (("https", 443, "TCP"),),
    "10.244.9.2",
)
INGRESS = Pod(
    "ingress-nginx", "controller", (("app.kubernetes.io/name", "ingress-nginx"),), (), "10.244.9.3"
)
INTERNET = External("93.184.216.34")


@st.composite
def topologies(draw: st.DrawFn) -> dict[str, Any]:
    n_ns = draw(st.integers(1, 3))
    n_wl = draw(st.integers(2, 6))
    workloads = []
    for i in range(n_wl):
        ports = draw(st.lists(st.sampled_from(PORT_POOL), min_size=1, max_size=3, unique=True))
        kind = draw(st.sampled_from(sorted(KINDS)))
        workloads.append((f"w{i}", f"ns{draw(st.integers(0, n_ns - 1))}", ports, kind))
    edge = st.tuples(
        st.integers(0, n_wl - 1),
        st.integers(0, n_wl - 1),
        st.sampled_from(["name", "number", "all"]),
    )
    declared = draw(st.lists(edge, max_size=10))
    repeated = draw(st.lists(st.sampled_from(declared), max_size=3)) if declared else []
    order = draw(st.permutations(declared + repeated))
    return {"namespaces": n_ns, "workloads": workloads, "connections": order}


def _build(topology: dict[str, Any]) -> tuple[Stack, set[tuple[str, str, int, str]]]:
    stack = Stack("net", namespace="ns0")
    for i in range(1, topology["namespaces"]):
        stack.add(Namespace(f"ns{i}"))
    built = [
        stack.add(workload(kind, name, ports, namespace=ns))
        for name, ns, ports, kind in topology["workloads"]
    ]
    expected: set[tuple[str, str, int, str]] = set()
    for src, dst, how in topology["connections"]:
        ports = topology["workloads"][dst][2]
        chosen = ports[(src + dst) % len(ports)]
        port = {"name": chosen[0], "number": chosen[1], "all": None}[how]
        built[src].connect_to(built[dst], port=port)
        for name, number, proto in ports:
            if port is None or port in (name, number):
                expected.add((built[src].name, built[dst].name, number, proto))
    for name, _, ports, kind in topology["workloads"]:
        if kind == "StatefulSet":  # its replicas reach each other on every port (<name>-peers)
            expected.update((name, name, number, proto) for _, number, proto in ports)
    return stack, expected


@settings(max_examples=40, deadline=None)
@given(topologies())
def test_exactly_the_declared_connections_and_dns_are_allowed(topology: dict[str, Any]) -> None:
    stack, expected = _build(topology)
    bodies = [obj.body for obj in stack.objects()]
    cluster = Cluster.of(bodies, extra_pods=[KUBE_DNS, KUBE_OTHER, INGRESS])
    ours = [pod for pod in cluster.pods if pod.namespace.startswith("ns")]
    assert len(ours) == len(topology["workloads"])
    for src in ours:
        for dst in ours:
            for name, number, proto in [*dst.ports, ("none", 7777, "TCP")]:
                allowed = cluster.allows(src, dst, number, proto)
                assert allowed == ((src.name, dst.name, number, proto) in expected), (
                    f"{src.name} -> {dst.name} {number}/{proto} ({name})"
                )
        assert cluster.allows(src, KUBE_DNS, 53, "UDP") and cluster.allows(src, KUBE_DNS, 53, "TCP")
        assert not cluster.allows(src, KUBE_DNS, 54, "UDP")
        assert not cluster.allows(src, KUBE_OTHER, 443)
        assert not cluster.allows(src, INTERNET, 443)
        assert not cluster.allows(INTERNET, src, 8080)
        assert not cluster.allows(INGRESS, src, 8080)
        assert cluster.isolated(src, "Ingress") and cluster.isolated(src, "Egress")


@settings(max_examples=25, deadline=None)
@given(topologies())
def test_graph_flows_agree_with_the_evaluator(topology: dict[str, Any]) -> None:
    stack, expected = _build(topology)
    graph = flow_graph(stack.objects())
    between = {
        (flow.source.label, flow.target.label)
        for flow in graph.flows
        if flow.source.kind == "workload" and flow.target.kind == "workload"
    }
    assert between == {(src, dst) for src, dst, _, _ in expected}
    dns = {flow.source.label for flow in graph.flows if flow.target.label == "k8s-app=kube-dns"}
    assert dns == {name for name, _, _, _ in topology["workloads"]}
