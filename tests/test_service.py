"""Service: ports by name, ClusterIP/headless, external types only with a reason, expose()."""

from __future__ import annotations

import pytest
from workload_support import IMAGE, objects_by_kind

from kubegen import (
    Deployment,
    HttpProbe,
    Port,
    Service,
    ServicePort,
    Stack,
    ValidationError,
)


def _api() -> Deployment:
    return Deployment(
        "api",
        image=IMAGE,
        ports=[Port(8080, name="http"), Port(9090, name="metrics")],
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz"),
    )


def test_expose_all_named_ports() -> None:
    stack = Stack("shop", namespace="shop")
    api = stack.add(_api())
    service = api.expose()
    assert service in list(stack)
    spec = objects_by_kind(stack)[("Service", "api")]["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"},
        {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"},
    ]
    assert spec["selector"] == api.selector_labels()


def test_expose_some_ports_remapped() -> None:
    stack = Stack("shop", namespace="shop")
    api = stack.add(_api())
    api.expose(ServicePort("http", port=80), name="web")
    spec = objects_by_kind(stack)[("Service", "web")]["spec"]
    assert spec["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]


def test_expose_needs_a_stack() -> None:
    with pytest.raises(ValidationError, match="not part of a Stack"):
        _api().expose()


def test_unknown_port_name_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        Service("api", target=_api(), ports=["grpc"])
    assert "not a named port" in str(info.value) and "http, metrics" in str(info.value)


def test_external_types_need_reason() -> None:
    with pytest.raises(ValidationError) as info:
        Service("api", target=_api(), type="LoadBalancer")
    assert "allow_external" in str(info.value)
    stack = Stack("shop", namespace="shop")
    stack.add(Service("api", target=_api(), type="NodePort", allow_external="lab cluster",
                      ports=[ServicePort("http", node_port=30080)]))
    body = objects_by_kind(stack)[("Service", "api")]
    assert body["spec"]["type"] == "NodePort"
    assert body["spec"]["ports"][0]["nodePort"] == 30080
    assert body["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-external-service": "lab cluster"
    }


def test_allow_external_without_external_type_rejected() -> None:
    with pytest.raises(ValidationError, match="is not external"):
        Service("api", target=_api(), allow_external="why")


def test_headless_by_selector() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Service("peers", selector={"app": "x"}, type="Headless",
                      ports=[ServicePort("gossip", port=7946)]))
    spec = objects_by_kind(stack)[("Service", "peers")]["spec"]
    assert spec["clusterIP"] == "None"
    assert spec["ports"][0] == {"name": "gossip", "port": 7946, "targetPort": "gossip",
                                "protocol": "TCP"}


def test_selector_service_needs_port_numbers() -> None:
    with pytest.raises(ValidationError, match="needs a number"):
        Service("peers", selector={"app": "x"}, ports=["gossip"])


def test_target_or_selector() -> None:
    with pytest.raises(ValidationError, match="exactly one of target"):
        Service("api")


def test_portless_target_needs_headless() -> None:
    worker = Deployment("worker", image=IMAGE, allow_no_probes="batch worker")
    with pytest.raises(ValidationError, match="needs at least one port"):
        Service("worker", target=worker)
    assert Service("worker", target=worker, type="Headless").service_ports() == []


def test_expose_keeps_the_workload_namespace() -> None:
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", namespace="other", image=IMAGE, port=Port(80, name="http"),
                               readiness=HttpProbe("/"), liveness=HttpProbe("/")))
    assert api.expose().namespace == "other"
