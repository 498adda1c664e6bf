"""Ingress and HTTPRoute, and the policies they derive (network/http_routes.py)."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from workload_support import TAGGED, objects_by_kind

from kubegen import (
    Cluster,
    ClusterGateway,
    ConflictError,
    Deployment,
    HTTPRoute,
    Ingress,
    IngressController,
    KubegenError,
    Port,
    RoutePath,
    Service,
    ServicePort,
    Stack,
    TcpProbe,
    ValidationError,
    Vendored,
    lint,
    register_crd,
)

kv = pytest.importorskip("kubernetes_validate")
DATA = Path(__file__).parent / "data"
HTTPROUTE_CRD = DATA / "gateway-api" / "gateway.networking.k8s.io_httproutes.yaml"
NGINX = IngressController(namespace="ingress-nginx", pods={"app.kubernetes.io/name":
                                                           "ingress-nginx"}, class_name="nginx")
ENVOY = ClusterGateway("public", namespace="gateway", pods_namespace="envoy-gateway-system",
                       pods={"gateway.envoyproxy.io/owning-gateway-name": "public"},
                       section="https")
CLUSTER = Cluster("prod", ingress=NGINX, gateways=[ENVOY])
SERVING: dict[str, Any] = {"port": Port(8080, name="http"), "readiness": TcpProbe(),
                           "liveness": TcpProbe()}


def _shop(cluster: Cluster | None = CLUSTER) -> tuple[Stack, Service, Service]:
    stack = Stack("shop", namespace="shop", cluster=cluster)
    web = stack.add(Deployment("web", image=TAGGED, **SERVING))
    api = stack.add(Deployment("api", image=TAGGED, **SERVING, ports=[Port(9090, name="metrics")]))
    return stack, web.expose(), api.expose()


def _ingress_from(objects: dict[Any, Any], workload: str) -> list[Any]:
    return objects[("NetworkPolicy", f"{workload}-ingress")]["spec"]["ingress"]  # type: ignore[no-any-return]


NGINX_PEER = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
              "namespaceSelector": {"matchLabels": {
                  "kubernetes.io/metadata.name": "ingress-nginx"}}}


def test_ingress_with_cert_manager_renders_tls_and_derives_the_policy() -> None:
    stack, web, api = _shop()
    stack.add(Ingress("shop", hosts=["shop.example.com", "www.shop.example.com"], paths=[
        RoutePath("/api", service=api, port="http"), RoutePath("/", service=web),
        RoutePath("/healthz", service="web", exact=True)], cert_manager="letsencrypt-prod"))
    objects = objects_by_kind(stack)
    ingress = objects[("Ingress", "shop")]
    assert ingress["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt-prod"}
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"hosts": ["shop.example.com", "www.shop.example.com"],
                            "secretName": "shop-tls"}]
    assert [r["host"] for r in spec["rules"]] == ["shop.example.com", "www.shop.example.com"]
    assert spec["rules"][0]["http"]["paths"] == [
        {"path": "/api", "pathType": "Prefix",
         "backend": {"service": {"name": "api", "port": {"number": 8080}}}},
        {"path": "/", "pathType": "Prefix",
         "backend": {"service": {"name": "web", "port": {"number": 8080}}}},
        {"path": "/healthz", "pathType": "Exact",
         "backend": {"service": {"name": "web", "port": {"number": 8080}}}},
    ]
    for workload in ("web", "api"):  # only the routed port, from the controller's pods
        assert _ingress_from(objects, workload) == [
            {"from": [NGINX_PEER], "ports": [{"protocol": "TCP", "port": "http"}]}]


def test_tls_secret_issuer_kind_and_a_controller_per_ingress() -> None:
    stack, web, _ = _shop(cluster=None)
    traefik = IngressController(namespace="traefik", pods={"app": "traefik"})
    stack.add(Ingress("shop", hosts=["*.shop.example.com"], service=web, tls_secret="wildcard",
                      cert_manager="shop-ca", cert_manager_kind="Issuer", controller=traefik))
    objects = objects_by_kind(stack)
    ingress = objects[("Ingress", "shop")]
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/issuer": "shop-ca"}
    assert "ingressClassName" not in ingress["spec"]
    assert ingress["spec"]["tls"][0]["secretName"] == "wildcard"
    peer = _ingress_from(objects, "web")[0]["from"][0]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "traefik"}


def test_plain_http_needs_a_reason_rendered_as_an_opt_out() -> None:
    stack, web, _ = _shop()
    with pytest.raises(ValidationError) as caught:
        Ingress("shop", hosts=["shop.example.com"], service=web)
    assert "serves plain HTTP" in caught.value.message
    assert "cert_manager='letsencrypt-prod'" in str(caught.value.fix)
    stack.add(Ingress("shop", hosts=["shop.internal.example.com"], service=web,
                      allow_plain_http="internal tools network, TLS ends at the VPN"))
    ingress = objects_by_kind(stack)[("Ingress", "shop")]
    assert ingress["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-plain-http": "internal tools network, TLS ends at the VPN"}
    assert "tls" not in ingress["spec"]


def test_a_vendored_controller_gets_egress_and_the_backend_ingress() -> None:
    stack, web, _ = _shop(cluster=None)
    nginx = stack.add(Vendored(DATA / "vendor" / "ingress-nginx-controller-v1.15.1-deploy.yaml",
                               source="https://github.com/kubernetes/ingress-nginx",
                               version="controller-v1.15.1"))
    controller = nginx.workload("ingress-nginx-controller")
    stack.add(Ingress("shop", hosts=["shop.example.com"], service=web, tls_secret="shop-tls",
                      controller=controller))
    names = {(o.kind, o.namespace, o.name) for o in stack.objects()}
    assert ("NetworkPolicy", "shop", "web-ingress") in names
    assert ("NetworkPolicy", "ingress-nginx", "ingress-nginx-controller-egress") in names


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (lambda web: Ingress("x", hosts=["10.0.0.1"], service=web, tls_secret="t"), "hosts",
         "must be a DNS name"),
        (lambda web: Ingress("x", hosts=["https://shop.example.com"], service=web,
                             tls_secret="t"), "hosts", "must be a DNS name"),
        (lambda web: Ingress("x", hosts=["shop"], service=web, tls_secret="t"), "hosts",
         "not a fully qualified"),
        (lambda web: Ingress("x", hosts=[], service=web, tls_secret="t"), "hosts",
         "at least 1 item"),
        (lambda web: Ingress("x", hosts=["a.example.com"], tls_secret="t"), None,
         "exactly one of service="),
        (lambda web: Ingress("x", hosts=["a.example.com"], service=web, tls_secret="t",
                             cert_manager_kind="Issuer"), "cert_manager_kind", "goes with"),
        (lambda web: RoutePath("api", service=web), "path", "absolute URL path"),
        (lambda web: HTTPRoute("x", hostnames=[f"h{i}.example.com" for i in range(17)],
                               service=web), "hostnames", "at most 16 hostnames"),
    ],
)
def test_routes_refuse(build: Any, field: str | None, message: str) -> None:
    _, web, _ = _shop()
    with pytest.raises(ValidationError) as caught:
        build(web)
    assert caught.value.field == field
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ({"service": "nope"}, "no Service shop/nope in this stack"),
        ({"paths": [RoutePath("/", service="api")]}, "has 2 ports (http, metrics); say which"),
        ({"service": "api", "port": "grpc"}, "has no port 'grpc' (ports: http=8080, "
                                             "metrics=9090)"),
        ({"service": "labels"}, "selects pods by labels, not a workload of the stack"),
    ],
)
def test_backends_are_resolved_when_the_stack_renders(route: dict[str, Any], message: str):
    stack, _, _ = _shop()
    stack.add(Service("labels", selector={"app": "legacy"}, ports=[ServicePort("http", port=80)]))
    stack.add(Ingress("shop", hosts=["shop.example.com"], tls_secret="t", **route))
    with pytest.raises(KubegenError) as caught:
        stack.objects()
    assert message in str(caught.value)
    assert "Ingress shop/shop" in str(caught.value)


def test_a_service_of_another_namespace_is_refused() -> None:
    stack, web, _ = _shop()
    stack.add(Ingress("shop", hosts=["shop.example.com"], service=web, tls_secret="t",
                      namespace="edge"))
    with pytest.raises(KubegenError, match="reaches only Services of its own"):
        stack.objects()


def test_without_a_known_controller_the_policy_cannot_be_derived() -> None:
    stack, web, _ = _shop(cluster=None)
    stack.add(Ingress("shop", hosts=["shop.example.com"], service=web, tls_secret="t"))
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert "no ingress controller is known" in caught.value.message
    assert "ingress=IngressController(" in str(caught.value.fix)


def test_httproute_attaches_to_the_clusters_gateway() -> None:
    stack, web, api = _shop()
    stack.add(HTTPRoute("shop", hostnames=["shop.example.com"], paths=[
        RoutePath("/api", service=api, port=8080), RoutePath("/", service=web)]))
    objects = objects_by_kind(stack)
    spec = objects[("HTTPRoute", "shop")]["spec"]
    assert spec["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                   "name": "public", "namespace": "gateway",
                                   "sectionName": "https"}]
    assert spec["rules"][0] == {"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                                "backendRefs": [{"name": "api", "port": 8080}]}
    peer = _ingress_from(objects, "api")[0]["from"][0]
    assert peer == {"podSelector": {"matchLabels": {
        "gateway.envoyproxy.io/owning-gateway-name": "public"}}, "namespaceSelector": {
        "matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}}


def test_httproute_gateway_by_name_object_or_missing() -> None:
    internal = ClusterGateway("internal", namespace="shop", pods={"app": "internal-gw"})
    stack, web, _ = _shop(cluster=Cluster("prod", gateways=[ENVOY, internal]))
    stack.add(HTTPRoute("by-name", service=web, gateway="internal"))
    stack.add(HTTPRoute("by-object", service=web, gateway=internal))
    objects = objects_by_kind(stack)
    for name in ("by-name", "by-object"):
        assert objects[("HTTPRoute", name)]["spec"]["parentRefs"] == [
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "internal"}]
    stack.add(HTTPRoute("unnamed", service=web))
    with pytest.raises(KubegenError, match=r"name the gateway to attach to \(its gateways: "
                                           r"gateway/public, shop/internal\)"):
        stack.objects()


def test_graph_and_lint_see_the_derived_flows() -> None:
    stack, web, _ = _shop()
    stack.add(Ingress("shop", hosts=["shop.example.com"], service=web, cert_manager="le"))
    report = lint(stack, profile="restricted")
    assert report.ok, report.findings


def test_rendered_routes_match_the_upstream_schemas() -> None:
    assert "gateway.networking.k8s.io/v1 HTTPRoute" in register_crd(HTTPROUTE_CRD)
    stack, web, api = _shop()
    stack.add(Ingress("shop", hosts=["shop.example.com"], paths=[
        RoutePath("/api", service=api, port="http"), RoutePath("/", service=web, exact=True)],
        cert_manager="le"))
    stack.add(HTTPRoute("shop", hostnames=["shop.example.com", "*.example.com"], paths=[
        RoutePath("/api", service=api, port="http"), RoutePath("/", service=web, exact=True)]))
    ingress = next(o for o in stack.objects() if o.kind == "Ingress")
    kv.validate(ingress.body, "1.33", strict=True)
    report = lint(stack, profile="restricted")
    assert [f for f in report.findings if f.rule_id in ("KG001", "KG002")] == []
    route = next(o for o in stack.objects() if o.kind == "HTTPRoute")
    route.body["spec"]["rules"][0]["backendRefs"][0]["port"] = "http"  # must be a number
    broken = Stack("x", namespace="shop")
    from kubegen import Manifest

    broken.add(Manifest(route.body))
    findings = lint(broken, profile="restricted").findings
    assert any(f.rule_id == "KG001" and "backendRefs[0].port" in f.path for f in findings)


def test_a_conflicting_name_is_still_a_conflict() -> None:
    stack, web, _ = _shop()
    stack.add(Ingress("shop", hosts=["a.example.com"], service=web, tls_secret="t"))
    stack.add(Ingress("shop", hosts=["b.example.com"], service=web, tls_secret="t"))
    with pytest.raises(ConflictError, match="is defined twice"):
        stack.objects()


# -- paths the API server refuses ---------------------------------------------------------

# A bad path → the message of the Gateway API CRD's CEL rule that refuses it (the rule itself
# is not evaluated by KG001, so kubegen checks it; Kubernetes' Ingress validation refuses the
# same sequences and suffixes).
REFUSED_PATHS = {
    "/a//b": "must not contain '//'",
    "/a/./b": "must not contain '/./'",
    "/a/../b": "must not contain '/../'",
    "/a%2fb": "must not contain '%2f'",
    "/a%2Fb": "must not contain '%2F'",
    "/a/..": "must not end with '/..'",
    "/a/.": "must not end with '/.'",
    "/a#top": "must only contain valid characters",
    "/a b": "must only contain valid characters",
}


@pytest.mark.parametrize(("path", "rule"), sorted(REFUSED_PATHS.items()))
def test_a_path_the_api_server_refuses_is_refused_with_a_valid_fix(path: str, rule: str) -> None:
    crd = " ".join(HTTPROUTE_CRD.read_text(encoding="utf-8").split())
    assert f"message: {rule}" in crd  # the upstream rule this case stands for
    with pytest.raises(ValidationError) as caught:
        RoutePath(path, service="web")
    assert (caught.value.field, caught.value.value) == ("path", path)
    fix = caught.value.fix or ""
    suggested = fix.rsplit(" ", 1)[-1].strip("'")
    assert RoutePath(suggested, service="web").path == suggested, fix


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_path_is_accepted_valid_or_refused_with_a_valid_suggestion(text: str) -> None:
    path = "/" + text
    try:
        route = RoutePath(path, service="web")
    except ValidationError as error:
        # the suggestion is a Python literal: "…" when the path holds a quote
        suggested = ast.literal_eval((error.fix or "").rsplit(" e.g. ", 1)[-1])
        assert RoutePath(suggested, service="web").path == suggested
        return
    assert route.path == path
    assert _PATH_RULE.match(path) and not any(bad in path for bad in REFUSED_SEQUENCES)
    assert not path.endswith(("/..", "/."))


# The CRD's character rule, and the sequences both APIs refuse, restated for the property.
_PATH_RULE = re.compile(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
REFUSED_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F", "#")


def test_odd_but_valid_paths_render_and_match_the_schemas() -> None:
    register_crd(HTTPROUTE_CRD)
    stack, web, _ = _shop()
    paths = [RoutePath("/a%20b/~user/", service=web), RoutePath("/v1:batch", service=web,
                                                                exact=True)]
    stack.add(Ingress("odd", hosts=["*.example.com"], paths=paths, cert_manager="le"))
    stack.add(HTTPRoute("odd", hostnames=["*.example.com"], paths=paths))
    ingress = next(o for o in stack.objects() if o.kind == "Ingress")
    kv.validate(ingress.body, "1.33", strict=True)
    report = lint(stack, profile="restricted")
    assert [f for f in report.findings if f.rule_id in ("KG001", "KG002")] == []
