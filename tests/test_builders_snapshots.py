"""Golden files: the rendered YAML of the builders issue 15 added, as users will review it.

Refresh with ``python -m pytest tests/test_builders_snapshots.py --snapshot-update`` and read the
diff like code.
"""

from __future__ import annotations

import pytest
from syrupy.assertion import SnapshotAssertion

from kubegen import (
    Cluster,
    ClusterGateway,
    DaemonSet,
    Deployment,
    DNSConfig,
    Downward,
    DownwardFiles,
    Hook,
    HostPath,
    HttpProbe,
    HTTPRoute,
    Ingress,
    IngressController,
    Mount,
    Namespace,
    NodeAffinity,
    NodeTerm,
    Port,
    ResourceRef,
    RoutePath,
    ScalingPolicy,
    ScalingRules,
    Stack,
    Toleration,
    render,
)

IMAGE = "ghcr.io/acme/shop:2.3.1@sha256:" + "9b2c0d7f" * 8
CLUSTER = Cluster(
    "prod",
    ingress=IngressController(namespace="ingress-nginx", class_name="nginx",
                              pods={"app.kubernetes.io/name": "ingress-nginx"}),
    gateways=[ClusterGateway("public", namespace="gateway", pods_namespace="envoy-gateway-system",
                             pods={"gateway.envoyproxy.io/owning-gateway-name": "public"})],
)


def _files() -> dict[str, str]:
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    web = stack.add(Deployment(
        "web", image=IMAGE, port=Port(8080, name="http"), readiness=HttpProbe("/healthz"),
        liveness=HttpProbe("/healthz"), avoid=["self"], pre_stop=Hook(sleep="5s"),
        node_affinity=NodeAffinity(require=[NodeTerm(labels={"kubernetes.io/arch": ["amd64"]})]),
        image_pull_secrets=["registry"], dns_config=DNSConfig(options={"ndots": "2"}),
        mounts={"/etc/podinfo": DownwardFiles(items={
            "name": Downward.pod_name(),
            "memory_mb": ResourceRef("limits.memory", container="web", divisor="1Mi")})},
    ))
    api = stack.add(Deployment("api", image=IMAGE, port=Port(8080, name="http"),
                               readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz")))
    web.autoscale(min=2, max=10, cpu=70, scale_down=ScalingRules(
        stabilization="10m", policies=[ScalingPolicy(percent=20, period="1m")]))
    web_svc, api_svc = web.expose(), api.expose()
    stack.add(Ingress("shop", hosts=["shop.example.com"], service=web_svc,
                      cert_manager="letsencrypt-prod"))
    stack.add(HTTPRoute("shop-api", hostnames=["api.shop.example.com"],
                        paths=[RoutePath("/v1", service=api_svc)]))
    stack.add(Namespace("monitoring", pod_security="privileged",
                        reason="node-exporter reads the host's filesystems"))
    stack.add(DaemonSet(
        "node-exporter", namespace="monitoring", image="quay.io/prometheus/node-exporter:v1.8.2",
        args=["--path.rootfs=/host"], port=Port(9100, name="metrics"),
        readiness=HttpProbe("/"), liveness=HttpProbe("/"), tolerations=[Toleration()],
        mounts={"/host": Mount(HostPath("/", reason="reads every filesystem of the node"),
                               propagation="HostToContainer")},
        allow_host_network="reports the node's network interfaces",
        allow_host_pid="reads the node's processes", priority_class="system-node-critical",
        strategy="OnDelete",
    ))
    return render(stack)


SNAPSHOTTED = (
    "shop/deployment-web.yaml",
    "shop/horizontalpodautoscaler-web.yaml",
    "shop/ingress-shop.yaml",
    "shop/httproute-shop-api.yaml",
    "shop/networkpolicy-web-ingress.yaml",
    "shop/networkpolicy-api-ingress.yaml",
    "monitoring/daemonset-node-exporter.yaml",
)


@pytest.mark.parametrize("path", SNAPSHOTTED)
def test_new_builders_render(path: str, snapshot: SnapshotAssertion) -> None:
    assert _files()[path] == snapshot


def test_render_is_deterministic() -> None:
    assert _files() == _files()
