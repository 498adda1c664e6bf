"""StatefulSets reach their peers: ``<name>-peers`` opens their ports between their replicas."""

from __future__ import annotations

from typing import Any

from network_semantics import Cluster as Evaluator
from network_semantics import pods_of

from kubegen import (
    Deployment,
    HttpProbe,
    Namespace,
    Port,
    Stack,
    StatefulSet,
    TcpProbe,
    render,
)
from kubegen._analysis.flows import flow_graph

IMAGE = "ghcr.io/acme/store:1.0.0"


def _store(name: str = "store", **fields: Any) -> StatefulSet:
    fields.setdefault("ports", [Port(7000, name="client"), Port(7001, name="gossip"),
                                Port(7002, name="gossip-udp", protocol="UDP")])
    return StatefulSet(name, image=IMAGE, replicas=3, storage="1Gi",
                       readiness=TcpProbe(port="client"), liveness=TcpProbe(port="client"),
                       **fields)


def _web() -> Deployment:
    return Deployment("web", image=IMAGE, port=Port(8080, name="http"),
                      readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"))


def _bodies(stack: Stack) -> list[dict[str, Any]]:
    return [obj.body for obj in stack.objects()]


def test_peers_policy_snapshot(snapshot) -> None:
    stack = Stack("data", namespace="data")
    stack.add(_store())
    assert render(stack)["data/networkpolicy-store-peers.yaml"] == snapshot


def test_replicas_reach_each_other_on_their_ports_and_nothing_else() -> None:
    """The independent evaluator: two pods of the StatefulSet, as a CNI would see them."""
    stack = Stack("data", namespace="data")
    stack.add(_store())
    web = stack.add(_web())
    bodies = _bodies(stack)
    evaluator = Evaluator.of(bodies)
    pods = {pod.name: pod for pod in pods_of(bodies)}
    store, other_replica = pods["store"], pods["store"].__class__(
        **{**pods["store"].__dict__, "ip": "10.244.9.9"})
    assert evaluator.allows(store, other_replica, 7000)
    assert evaluator.allows(other_replica, store, 7001)
    assert evaluator.allows(store, other_replica, 7002, "UDP")
    assert not evaluator.allows(store, other_replica, 7002)  # TCP on the UDP port
    assert not evaluator.allows(store, other_replica, 22)
    assert not evaluator.allows(pods["web"], store, 7000)  # only declared flows
    assert not evaluator.allows(store, pods["web"], 8080)
    web.connect_to(stack.add(_store("cache")), port="client")
    bodies = _bodies(stack)
    pods = {pod.name: pod for pod in pods_of(bodies)}
    assert Evaluator.of(bodies).allows(pods["web"], pods["cache"], 7000)


def test_graph_draws_the_peer_flow() -> None:
    stack = Stack("data", namespace="data")
    stack.add(_store())
    flows = {(f.source.label, f.target.label): f.ports for f in flow_graph(stack.objects()).flows}
    assert flows[("store", "store")] == ("client 7000/TCP", "gossip 7001/TCP",
                                         "gossip-udp 7002/UDP")


def test_peers_false_leaves_them_closed() -> None:
    stack = Stack("data", namespace="data")
    stack.add(_store(peers=False))
    assert not [b for b in _bodies(stack) if b["metadata"]["name"] == "store-peers"]
    assert "store" not in {f.source.label for f in flow_graph(stack.objects()).flows
                           if f.target.label == "store"}


def test_a_statefulset_without_ports_needs_no_peers_policy() -> None:
    stack = Stack("data", namespace="data")
    stack.add(StatefulSet("batch", image=IMAGE, storage="1Gi"))
    assert not [b for b in _bodies(stack) if b["metadata"]["name"] == "batch-peers"]


def test_outside_owned_namespaces_only_isolated_directions_are_opened() -> None:
    stack = Stack("data", namespace="data")
    stack.add(Namespace("owned"))
    lone = stack.add(_store("lone", namespace="elsewhere"))
    fed = stack.add(_store("fed", namespace="elsewhere"))
    stack.add(_web()).connect_to(fed, port="client")  # isolates fed for ingress only
    names = {b["metadata"]["name"]: b for b in _bodies(stack) if b["kind"] == "NetworkPolicy"}
    assert "lone-peers" not in names
    assert names["fed-peers"]["spec"]["policyTypes"] == ["Ingress"]
    bodies = _bodies(stack)
    pods = {pod.name: pod for pod in pods_of(bodies)}
    evaluator = Evaluator.of(bodies)
    for name in ("lone", "fed"):
        pod = pods[name]
        replica = pod.__class__(**{**pod.__dict__, "ip": "10.244.9.8"})
        assert evaluator.allows(pod, replica, 7001), name
    assert lone.namespace == "elsewhere"
