"""Objects a workload derives, and their names (kubegen/_builders/workloads/derived.py).

A migrated app keeps the names it had upstream: the ServiceAccount (``service_account=``, or a
``ServiceAccount`` of the user's, shared by several workloads), the PodDisruptionBudget and the
NetworkPolicies (``names=``), and the RBAC objects of a grant (``grant(name=)``).
"""

from __future__ import annotations

import pytest
from workload_support import TAGGED

from kubegen import (
    ApiServer,
    Cluster,
    ClusterRole,
    ConflictError,
    Deployment,
    KubegenError,
    Port,
    Rule,
    ServiceAccount,
    Stack,
    TcpProbe,
    ValidationError,
)

SERVING = {"port": Port(8080, name="http"), "readiness": TcpProbe(), "liveness": TcpProbe()}


def _kinds(stack: Stack) -> list[tuple[str, str]]:
    return [(o.kind, o.name) for o in stack.objects() if o.kind != "NetworkPolicy"]


def test_a_service_account_of_the_stack_is_used_not_defined_twice() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(ServiceAccount("puller", image_pull_secrets=["registry"]))
    stack.add(Deployment("api", image=TAGGED, service_account="puller"))
    stack.add(Deployment("worker", image=TAGGED, service_account="puller"))
    assert _kinds(stack) == [("Namespace", "shop"), ("ServiceAccount", "puller"),
                             ("Deployment", "api"), ("Deployment", "worker")]
    bodies = {(o.kind, o.name): o.body for o in stack.objects()}
    assert bodies[("ServiceAccount", "puller")]["imagePullSecrets"] == [{"name": "registry"}]
    pod = bodies[("Deployment", "api")]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "puller"
    assert pod["automountServiceAccountToken"] is False


def test_a_service_account_object_is_rendered_with_the_workload() -> None:
    stack = Stack("shop", namespace="shop")
    shared = ServiceAccount("shop-runner")
    stack.add(Deployment("api", image=TAGGED, service_account=shared))
    stack.add(Deployment("worker", image=TAGGED, service_account=shared))
    assert _kinds(stack) == [("Namespace", "shop"), ("Deployment", "api"),
                             ("Deployment", "worker"), ("ServiceAccount", "shop-runner")]


def test_a_named_account_the_stack_lacks_is_still_derived() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=TAGGED, service_account="api-sa"))
    assert ("ServiceAccount", "api-sa") in _kinds(stack)


def test_an_account_of_another_namespace_is_refused() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=TAGGED,
                         service_account=ServiceAccount("robot", namespace="tools")))
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert caught.value.field == "service_account"
    assert "pods can only use an account of their own namespace (shop)" in caught.value.message


def test_without_a_shared_account_two_workloads_still_conflict() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(ServiceAccount("api"))
    stack.add(Deployment("api", image=TAGGED))  # derives its own "api" account
    with pytest.raises(ConflictError, match="is defined twice"):
        stack.objects()


def test_derived_object_names_can_be_the_upstream_ones() -> None:
    stack = Stack("monitoring", namespace="monitoring")
    ksm = stack.add(Deployment(
        "kube-state-metrics", image=TAGGED, replicas=2, **SERVING,
        names={"disruption-budget": "ksm", "ingress-policy": "ksm-in", "egress-policy": "ksm"},
    ))
    web = stack.add(Deployment("grafana", image=TAGGED, **SERVING))
    web.connect_to(ksm)
    names = {(o.kind, o.name) for o in stack.objects()}
    assert {("PodDisruptionBudget", "ksm"), ("NetworkPolicy", "ksm-in"),
            ("NetworkPolicy", "grafana-egress")} <= names
    ksm.allow_to(cidr="10.0.0.1/32", port=443)
    assert ("NetworkPolicy", "ksm") in {(o.kind, o.name) for o in stack.objects()}


def test_names_are_checked() -> None:
    with pytest.raises(ValidationError) as caught:
        Deployment("api", image=TAGGED, names={"pdb": "api"})  # type: ignore[dict-item]
    assert caught.value.field == "names.pdb.[key]"
    with pytest.raises(ValidationError, match="DNS-1123"):
        Deployment("api", image=TAGGED, names={"ingress-policy": "Not Valid"})


def test_grant_name_keeps_the_upstream_binding_name() -> None:
    cluster = Cluster("prod", api_server=ApiServer(addresses=["10.0.0.10/32"]))
    stack = Stack("kube-state-metrics", namespace="kube-state-metrics", cluster=cluster)
    ksm = stack.add(Deployment("kube-state-metrics", image=TAGGED, **SERVING))
    role = stack.add(ClusterRole("kube-state-metrics", rules=[Rule.read("pods", "nodes")]))
    ksm.grant(role, cluster_wide=True, name="kube-state-metrics")
    ksm.grant(Rule.read("configmaps"), name="ksm-config")
    names = {(o.kind, o.name) for o in stack.objects()}
    assert ("ClusterRoleBinding", "kube-state-metrics") in names
    assert {("Role", "ksm-config"), ("RoleBinding", "ksm-config")} <= names
    assert not any("kube-state-metrics-kube-state-metrics" in name for _, name in names)


def test_grant_name_names_one_thing() -> None:
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", image=TAGGED))
    with pytest.raises(KubegenError) as caught:
        api.grant(Rule.read("configmaps"), Rule.read("secrets"),
                  ClusterRole("x", rules=[Rule.read("nodes")]), cluster_wide=True, name="api")
    assert caught.value.field == "name"
    with pytest.raises(KubegenError, match="name= and purpose= both name"):
        api.grant(Rule.read("configmaps"), purpose="flags", name="api-flags")
    with pytest.raises(KubegenError, match="DNS-1123"):
        api.grant(Rule.read("configmaps"), name="API")
