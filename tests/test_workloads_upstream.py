"""Keywords for what upstream workloads really do: each weakening an opt-out with its reason,
each neutral fact a plain keyword, and the hardened defaults unchanged when none is used.

(kubegen/_builders/workloads: base.selector / allow_default_service_account, pod.
allow_token_automount, container.allow_no_resources / allow_cached_tag /
allow_default_capabilities, resources.allow_no_memory_limit, probes.undeclared,
volumes.optional.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubegen import (
    ConfigFiles,
    Container,
    Deployment,
    GrpcProbe,
    HttpProbe,
    KubegenError,
    Port,
    Resources,
    Rule,
    SecretFiles,
    Service,
    ServicePort,
    Stack,
    StatefulSet,
    TcpProbe,
    lint,
)

IMAGE = "ghcr.io/acme/api:1.2.3"
PINNED = IMAGE + "@sha256:" + "a" * 64
R = "runs as upstream ships it; OPS-7"
HERE = Path(__file__).name


def _objects(*workloads: Any, name: str = "shop") -> dict[tuple[str, str], dict[str, Any]]:
    stack = Stack(name, namespace="shop")
    for workload in workloads:
        stack.add(workload)
    return {(o.kind, o.name): o.body for o in stack.objects()}


def _pod(body: dict[str, Any]) -> dict[str, Any]:
    return body["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _refused(build: Any, *parts: str) -> KubegenError:
    with pytest.raises(KubegenError) as caught:
        build()
    text = str(caught.value)
    assert f"{HERE}:" in text, text  # located at the call
    for part in parts:
        assert part in text, text
    return caught.value


def test_the_hardened_defaults_stay_when_no_keyword_is_used() -> None:
    objects = _objects(Deployment("api", image=IMAGE, replicas=2))
    body = objects[("Deployment", "api")]
    selector = {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "shop"}
    assert body["spec"]["selector"] == {"matchLabels": selector}
    assert body["metadata"]["labels"]["app.kubernetes.io/version"] == "1.2.3"
    pod = _pod(body)
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == "api"
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "Always"
    assert container["resources"] == {"limits": {"cpu": "100m", "memory": "128Mi"},
                                      "requests": {"cpu": "100m", "memory": "128Mi"}}
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert ("ServiceAccount", "api") in objects
    assert "annotations" not in body["metadata"]


def test_a_selector_of_its_own_is_kept_and_used_by_everything_derived() -> None:
    api = Deployment("podinfo", image=IMAGE, replicas=2, selector={"app": "podinfo"},
                     labels={"team": "web"}, pod_labels={"tier": "front"}, component="api")
    objects = _objects(api)
    body = objects[("Deployment", "podinfo")]
    assert body["spec"]["selector"] == {"matchLabels": {"app": "podinfo"}}
    # the object: labels= and component, none of kubegen's name/instance/version labels
    assert body["metadata"]["labels"] == {"app.kubernetes.io/component": "api",
                                          "app.kubernetes.io/managed-by": "kubegen",
                                          "team": "web"}
    assert body["spec"]["template"]["metadata"]["labels"] == {
        "app": "podinfo", "app.kubernetes.io/component": "api",
        "app.kubernetes.io/managed-by": "kubegen", "tier": "front"}
    budget = objects[("PodDisruptionBudget", "podinfo")]
    assert budget["spec"]["selector"] == {"matchLabels": {"app": "podinfo"}}
    spread = _pod(body)["topologySpreadConstraints"][0]
    assert spread["labelSelector"] == {"matchLabels": {"app": "podinfo"}}


def test_policies_derived_for_a_kept_selector_select_its_pods() -> None:
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", image=IMAGE, port=Port(8080, name="http"),
                               readiness=HttpProbe("/"), liveness=HttpProbe("/"),
                               selector={"app": "api"}))
    web = stack.add(Deployment("web", image=IMAGE))
    web.connect_to(api, port="http")
    policies = [o.body for o in stack.objects() if o.kind == "NetworkPolicy"]
    selectors = [p["spec"]["podSelector"] for p in policies]
    assert {"matchLabels": {"app": "api"}} in selectors
    assert any({"podSelector": {"matchLabels": {"app": "api"}}} in rule.get("to", [])
               for p in policies for rule in p["spec"].get("egress", []))


def test_an_empty_selector_is_refused() -> None:
    _refused(lambda: Deployment("api", image=IMAGE, selector={}),
             "selector", "every pod of the namespace", "Fix:")


def test_the_default_service_account_takes_a_reason_and_is_not_rendered() -> None:
    objects = _objects(Deployment("api", image=IMAGE, service_account="default",
                                  allow_default_service_account=R))
    body = objects[("Deployment", "api")]
    assert _pod(body)["serviceAccountName"] == "default"
    assert not [key for key in objects if key[0] == "ServiceAccount"]
    assert body["metadata"]["annotations"] == {"kubegen.dev/opt-out-default-service-account": R}
    _refused(lambda: Deployment("api", image=IMAGE, service_account="default"),
             "service_account", "'default'", "allow_default_service_account='why'")
    _refused(lambda: Deployment("api", image=IMAGE, allow_default_service_account=R),
             "allow_default_service_account", "does not run as 'default'")


def test_token_automount_takes_a_reason_and_not_beside_a_grant() -> None:
    body = _objects(Deployment("api", image=IMAGE, allow_token_automount=R))[("Deployment", "api")]
    assert _pod(body)["automountServiceAccountToken"] is True
    assert body["metadata"]["annotations"] == {"kubegen.dev/opt-out-token-automount": R}
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", image=IMAGE, allow_token_automount=R))
    api.grant(Rule.read("configmaps"))
    with pytest.raises(KubegenError, match="mounts a projected token already"):
        stack.objects()


def test_no_resources_and_no_memory_limit_take_reasons() -> None:
    objects = _objects(Deployment("api", containers=[
        Container(name="bare", image=IMAGE, allow_no_resources=R),
        Container(name="requests", image=IMAGE,
                  resources=Resources(cpu="100m", memory="90Mi", allow_no_memory_limit=R,
                                      allow_no_cpu_limit=R)),
    ]))
    body = objects[("Deployment", "api")]
    bare, requests = _pod(body)["containers"]
    assert "resources" not in bare
    assert requests["resources"] == {"requests": {"cpu": "100m", "memory": "90Mi"}}
    assert body["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-no-cpu-limit.requests": R,
        "kubegen.dev/opt-out-no-memory-limit.requests": R,
        "kubegen.dev/opt-out-no-resources.bare": R,
    }
    _refused(lambda: Container(image=IMAGE, allow_no_resources=R,
                               resources=Resources(cpu="1", memory="1Gi")),
             "allow_no_resources", "contradict", "Fix:")
    _refused(lambda: Resources(cpu="1", memory="1Gi", memory_limit="2Gi",
                               allow_no_memory_limit=R),
             "allow_no_memory_limit", "contradict")


def test_a_tag_pulled_if_not_present_takes_a_reason() -> None:
    body = _objects(Deployment("api", image=IMAGE, pull_policy="IfNotPresent",
                               allow_cached_tag=R))[("Deployment", "api")]
    assert _pod(body)["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert body["metadata"]["annotations"] == {"kubegen.dev/opt-out-cached-tag.api": R}
    _refused(lambda: Deployment("api", image=IMAGE, pull_policy="Never"),
             "pull_policy", "digest-pinned", "allow_cached_tag='why'")
    for fields in ({"image": PINNED, "pull_policy": "IfNotPresent"}, {"image": IMAGE}):
        _refused(lambda f=fields: Deployment("api", allow_cached_tag=R, **f),  # type: ignore[misc]
                 "allow_cached_tag", "drop allow_cached_tag")


def test_default_capabilities_take_a_reason() -> None:
    body = _objects(Deployment("api", image=IMAGE, allow_default_capabilities=R,
                               capabilities=["NET_BIND_SERVICE"]))[("Deployment", "api")]
    assert _pod(body)["containers"][0]["securityContext"]["capabilities"] == {
        "add": ["NET_BIND_SERVICE"]}
    bare = _objects(Deployment("api", image=IMAGE, allow_default_capabilities=R))
    assert "capabilities" not in _pod(bare[("Deployment", "api")])["containers"][0][
        "securityContext"]
    _refused(lambda: Deployment("api", image=IMAGE, allow_privileged=R,
                                allow_default_capabilities=R),
             "allow_default_capabilities", "privileged")
    # a restricted namespace refuses it whatever kubegen waives, and says which opt-out did it
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=IMAGE, allow_default_capabilities=R))
    with pytest.raises(KubegenError) as caught:
        lint(stack)
    assert "set by allow_default_capabilities on container 'api'" in str(caught.value)


def test_the_other_upstream_opt_outs_pass_a_restricted_namespace() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=IMAGE, pull_policy="IfNotPresent", allow_cached_tag=R,
                         allow_no_resources=R, allow_token_automount=R,
                         service_account="default", allow_default_service_account=R))
    report = lint(stack)
    assert report.ok
    assert {f.rule_id for f in report.waived} >= {"KG202", "KG203", "KG204", "KG209", "KG301",
                                                  "KG302"}


def test_probes_on_an_undeclared_port_render_the_number() -> None:
    body = _objects(Deployment(
        "api", image=IMAGE, port=Port(80, name="http"),
        readiness=HttpProbe("/healthz", port=10254, undeclared=True),
        liveness=TcpProbe(port=10254, undeclared=True),
        startup=GrpcProbe(port=10255, undeclared=True),
    ))[("Deployment", "api")]
    container = _pod(body)["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == 10254
    assert container["livenessProbe"]["tcpSocket"] == {"port": 10254}
    assert container["startupProbe"]["grpc"] == {"port": 10255}
    _refused(lambda: Deployment("api", image=IMAGE, port=Port(80, name="http"),
                                readiness=HttpProbe("/", port=10254), liveness=HttpProbe("/")),
             "port 10254", "undeclared=True")
    _refused(lambda: Deployment("api", image=IMAGE, port=Port(80, name="http"),
                                readiness=HttpProbe("/", port="http", undeclared=True),
                                liveness=HttpProbe("/")),
             "takes a port number")
    _refused(lambda: Deployment("api", image=IMAGE, port=Port(80, name="http"),
                                readiness=HttpProbe("/", port=80, undeclared=True),
                                liveness=HttpProbe("/")),
             "declares port 80", "drop undeclared=True")


def test_optional_volumes() -> None:
    body = _objects(StatefulSet("db", image=IMAGE, mounts={
        "/etc/tls": SecretFiles("db-tls", optional=True, items={"tls.crt": "tls.crt"}),
        "/etc/db": ConfigFiles("db"),
    }))[("StatefulSet", "db")]
    volumes = {v["name"]: v for v in _pod(body)["volumes"]}
    assert volumes["secret-db-tls"]["secret"]["optional"] is True
    assert "optional" not in volumes["config-db"]["configMap"]


def test_a_service_port_names_its_application_protocol() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Service("webhook", selector={"app": "webhook"}, ports=[
        ServicePort("https-webhook", port=443, app_protocol="https"),
        ServicePort("grpc", port=9000, app_protocol="kubernetes.io/h2c")]))
    ports = next(o.body for o in stack.objects() if o.kind == "Service")["spec"]["ports"]
    assert [p.get("appProtocol") for p in ports] == ["https", "kubernetes.io/h2c"]
    _refused(lambda: ServicePort("http", app_protocol="not a protocol"), "app_protocol",
             "IANA service name")


def test_a_service_keeps_its_traffic_policy_and_ip_families() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Service("edge", selector={"app": "edge"}, type="LoadBalancer",
                      allow_external=R, external_traffic_policy="Local", ip_families=["IPv4"],
                      ip_family_policy="SingleStack", ports=[ServicePort("http", port=80)]))
    spec = next(o.body for o in stack.objects() if o.kind == "Service")["spec"]
    assert (spec["externalTrafficPolicy"], spec["ipFamilies"], spec["ipFamilyPolicy"]) == (
        "Local", ["IPv4"], "SingleStack")
    plain = Service("db", selector={"app": "db"}, ports=[ServicePort("pg", port=5432)])
    assert not {"externalTrafficPolicy", "ipFamilies", "ipFamilyPolicy"} & set(
        _objects(plain)[("Service", "db")]["spec"])
    _refused(lambda: Service("db", selector={"app": "db"}, ports=[ServicePort("pg", port=5432)],
                             external_traffic_policy="Local"),
             "external_traffic_policy", "NodePort and LoadBalancer")
    _refused(lambda: Service("db", selector={"app": "db"}, ports=[ServicePort("pg", port=5432)],
                             ip_families=["IPv4", "IPv6"], ip_family_policy="SingleStack"),
             "ip_families", "PreferDualStack")


def test_an_external_name_service_aliases_a_host_outside_the_cluster() -> None:
    # Kubernetes in Action, "Services": external-service -> api.somecompany.com
    alias = Service("external-service", type="ExternalName",
                    external_name="api.somecompany.com")
    assert _objects(alias)[("Service", "external-service")]["spec"] == {
        "type": "ExternalName", "externalName": "api.somecompany.com"}
    _refused(lambda: Service("x", type="ExternalName"), "external_name", "needs the host")
    _refused(lambda: Service("x", type="ExternalName", external_name="10.1.2.3"),
             "external_name", "IPv4", "EndpointSlice")
    _refused(lambda: Service("x", external_name="api.example.com"), "type='ExternalName'")
    _refused(lambda: Service("x", type="ExternalName", external_name="api.example.com",
                             selector={"app": "x"}), "selector", "selects no pods")


def test_an_external_name_service_documents_its_ports_by_number() -> None:
    # it forwards nothing (DNS answers with the external host): `- port: 5432` as upstream
    # writes it, what the API server stores for it (unnamed, targetPort the same number)
    db = Service("db", type="ExternalName", external_name="db.example.com",
                 ports=[ServicePort(5432)])
    assert _objects(db)[("Service", "db")]["spec"]["ports"] == [
        {"port": 5432, "targetPort": 5432, "protocol": "TCP"}]
    both = Service("web", type="ExternalName", external_name="web.example.com",
                   ports=[ServicePort(8080, port=80, name="http"), ServicePort("https", port=443)])
    assert _objects(both)[("Service", "web")]["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]
    _refused(lambda: Service("web", type="ExternalName", external_name="web.example.com",
                             ports=[ServicePort(80), ServicePort(443, name="https")]),
             "ports", "requires one on each port")
    # a Service that forwards to pods names the container port it forwards to
    _refused(lambda: Service("db", selector={"app": "db"}, ports=[ServicePort(5432)]),
             "ports", "named container port", "ServicePort('<its name>', port=5432)")


def test_a_service_keeps_each_client_on_one_pod_with_client_ip_affinity() -> None:
    # Kubernetes in Action, "Services": sessionAffinity: ClientIP on the kubia Service
    sticky = Service("kubia", selector={"app": "kubia"}, session_affinity="ClientIP",
                     ports=[ServicePort("http", port=80)])
    assert _objects(sticky)[("Service", "kubia")]["spec"]["sessionAffinity"] == "ClientIP"
    plain = Service("db", selector={"app": "db"}, ports=[ServicePort("pg", port=5432)])
    assert "sessionAffinity" not in _objects(plain)[("Service", "db")]["spec"]
    _refused(lambda: Service("db", selector={"app": "db"}, type="Headless",
                             session_affinity="ClientIP"), "session_affinity", "virtual IP")
    _refused(lambda: Service("db", selector={"app": "db"}, session_affinity="Sticky"),
             "session_affinity")


@pytest.mark.parametrize(("build", "field"), [
    (lambda: Deployment("api", image=IMAGE, selector={"app": 1}), "selector"),
    (lambda: Deployment("api", image=IMAGE, allow_token_automount=""), "allow_token_automount"),
    (lambda: Container(image=IMAGE, allow_no_resources=3), "allow_no_resources"),
    (lambda: Resources(cpu="1", memory="1Gi", allow_no_memory_limit=""),
     "allow_no_memory_limit"),
    (lambda: HttpProbe("/", undeclared="maybe"), "undeclared"),
    (lambda: ConfigFiles("x", optional="maybe"), "optional"),
    (lambda: Service("x", selector={"a": "b"}, ip_families=["IPv5"]), "ip_families"),
    (lambda: Service("x", selector={"a": "b"}, ip_family_policy="Dual"), "ip_family_policy"),
])
def test_a_wrong_value_is_a_located_error(build: Any, field: str) -> None:
    _refused(build, field)
