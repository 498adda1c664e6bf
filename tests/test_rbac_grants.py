"""``workload.grant``: derived Role + RoleBinding, merging, namespaces, roles, token options."""

from __future__ import annotations

import inspect

import pytest
from rbac_support import CLUSTER, by_key, deployment, job

from kubegen import (
    ClusterRole,
    ConflictError,
    Role,
    RoleRef,
    Rule,
    Stack,
    ValidationError,
)
from kubegen._relations import ApiAccess, Grant

GROUP = "rbac.authorization.k8s.io"


def _next_line() -> int:
    """The line after the caller's current line."""
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


def _pod(body: dict) -> dict:
    return body["spec"]["template"]["spec"]


def test_grant_derives_role_and_binding_to_the_workload_account_and_mounts_its_token():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    stack.add(deployment("web"))
    grant = api.grant(Rule.read("configmaps"))
    assert isinstance(grant, Grant) and stack.grants == [grant]
    assert grant.rules == (Rule.read("configmaps"),) and grant.namespace is None
    objects = by_key(stack)
    role = objects[("Role", "shop", "api-access")]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["configmaps"],
                              "verbs": ["get", "list", "watch"]}]
    assert role["metadata"]["labels"] == {
        "app.kubernetes.io/instance": "shop", "app.kubernetes.io/managed-by": "kubegen",
        "app.kubernetes.io/name": "api"}
    binding = objects[("RoleBinding", "shop", "api-access")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "api", "namespace": "shop"}]
    assert binding["roleRef"] == {"kind": "Role", "name": "api-access", "apiGroup": GROUP}
    api_pod, web_pod = (_pod(objects[("Deployment", "shop", n)]) for n in ("api", "web"))
    assert api_pod["automountServiceAccountToken"] is False  # a projected token instead
    assert [v["name"] for v in api_pod["volumes"]] == ["kube-api-access"]
    assert web_pod["automountServiceAccountToken"] is False and "volumes" not in web_pod
    assert objects[("ServiceAccount", "shop", "api")]["automountServiceAccountToken"] is False


def test_derived_objects_point_at_the_grant_line():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    line = _next_line()
    api.grant(Rule.read("configmaps"))
    origins = {o.display: o.origin for o in stack.objects() if o.kind in ("Role", "RoleBinding")}
    assert {str(o) for o in origins.values()} == {f"tests/test_rbac_grants.py:{line}"}


def test_grants_into_one_namespace_merge_in_author_order_without_repeats():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"), Rule.read("pods/log"))
    api.grant(Rule.read("leases", api_groups=["coordination.k8s.io"]), Rule.read("configmaps"))
    api.grant(Rule.read("pods/log"))
    objects = by_key(stack)
    assert [r["resources"] for r in objects[("Role", "shop", "api-access")]["rules"]] == [
        ["configmaps"], ["pods/log"], ["leases"]]
    assert [k for k in objects if k[0] in ("Role", "RoleBinding")] == [
        ("Role", "shop", "api-access"), ("RoleBinding", "shop", "api-access")]


def test_purposes_keep_grants_apart_with_readable_names():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"), purpose="read-config")
    api.grant(Rule.read_write("leases", api_groups=["coordination.k8s.io"]), purpose="leader")
    names = sorted(k[2] for k in by_key(stack) if k[0] == "Role")
    assert names == ["api-leader", "api-read-config"]


def test_cross_namespace_grant_lives_there_and_binds_the_home_account():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"))
    api.grant(Rule.read("services", "endpoints"), namespace="monitoring")
    objects = by_key(stack)
    assert ("Role", "monitoring", "shop-api-access") in objects
    binding = objects[("RoleBinding", "monitoring", "shop-api-access")]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "api", "namespace": "shop"}]
    assert objects[("Role", "shop", "api-access")]["rules"][0]["resources"] == ["configmaps"]


def test_granting_roles_binds_them_as_they_are():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    reader = stack.add(Role("reader", rules=[Rule.read("configmaps")]))
    nodes = stack.add(ClusterRole("node-reader", rules=[Rule.read("nodes")]))
    api.grant(reader, RoleRef("view", external=True))
    api.grant(nodes, RoleRef("system:auth-delegator", external=True), cluster_wide=True)
    objects = by_key(stack)
    assert objects[("RoleBinding", "shop", "api-reader")]["roleRef"]["name"] == "reader"
    assert objects[("RoleBinding", "shop", "api-view")]["roleRef"]["kind"] == "ClusterRole"
    assert objects[("ClusterRoleBinding", "", "shop-api-node-reader")]["roleRef"]["name"] == (
        "node-reader")
    crb = objects[("ClusterRoleBinding", "", "shop-api-system-auth-delegator")]
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": "api", "namespace": "shop"}]
    assert not [k for k in objects if k[0] == "Role" and k[2].startswith("api")]


def _tokens(pod: dict) -> dict[str, list[dict]]:
    return {v["name"]: [s["serviceAccountToken"] for s in v["projected"]["sources"]
                        if "serviceAccountToken" in s]
            for v in pod["volumes"] if "projected" in v}


def test_audience_tokens_are_mounted_beside_the_api_token_never_instead():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    worker = stack.add(job("sync"))
    worker.grant(Rule.read("configmaps"), expiration_seconds=3600)
    worker.grant(Rule.read("pods/log"), audience="vault")
    worker.grant(Rule.read("pods"), audience="https://sts.acme.dev")
    assert worker.api_access == ApiAccess(
        api=True, expiration_seconds=3600, audiences=("vault", "https://sts.acme.dev"))
    pod = by_key(stack)[("Job", "shop", "sync")]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert _tokens(pod) == {
        "kube-api-access": [{"expirationSeconds": 3600, "path": "token"}],
        "audience-tokens": [
            {"audience": "vault", "expirationSeconds": 3600, "path": "vault"},
            {"audience": "https://sts.acme.dev", "expirationSeconds": 3600,
             "path": "https-sts.acme.dev"},
        ],
    }
    assert pod["containers"][0]["volumeMounts"][-2:] == [
        {"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
         "readOnly": True},
        {"name": "audience-tokens", "mountPath": "/var/run/secrets/tokens", "readOnly": True},
    ]


def test_a_token_without_rbac_needs_a_reason_and_mounts_no_api_token():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    app = stack.add(deployment("app"))
    with pytest.raises(ValidationError) as caught:
        app.mount_token("vault", reason=" ")
    assert (caught.value.field, caught.value.resource) == ("reason", "Deployment shop/app")
    assert "Fix: say why the workload needs it" in str(caught.value)
    app.mount_token("vault", reason="logs in to Vault (Kubernetes auth)")
    objects = by_key(stack)
    body = objects[("Deployment", "shop", "app")]
    assert body["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-service-account-token": "vault: logs in to Vault (Kubernetes auth)"}
    assert _tokens(_pod(body)) == {
        "audience-tokens": [{"audience": "vault", "expirationSeconds": 3607, "path": "vault"}]}
    assert not [k for k in objects if k[0] in ("Role", "RoleBinding")]
    assert not [k for k in objects if k[0] == "NetworkPolicy" and "app" in k[2]]


def test_token_lifetimes_of_one_workload_must_agree_and_files_must_not_clash():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"), audience="vault", expiration_seconds=3600)
    api.grant(Rule.read("pods/log"), audience="vault")
    with pytest.raises(ConflictError) as caught:
        api.grant(Rule.read("secrets", resource_names=["x"]), expiration_seconds=7200)
    assert (caught.value.field, caught.value.value) == ("expiration_seconds", 7200)
    assert "an earlier grant set expiration_seconds=3600" in caught.value.message
    with pytest.raises(ConflictError) as caught:
        api.mount_token("vault:", reason="another spelling")
    assert "audiences 'vault' and 'vault:' would share the token file 'vault'" in (
        caught.value.message)
    assert len(stack.grants) == 2 and api.api_access is not None
    assert api.api_access.audiences == ("vault",)


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"expiration_seconds": 60}, "expiration_seconds", "at least 600 seconds"),
        ({"audience": "my audience"}, "audience", "non-empty word"),
    ],
)
def test_token_options_are_validated(options, field, message):
    api = Stack("shop", namespace="shop", cluster=CLUSTER).add(deployment("api"))
    with pytest.raises(ValidationError, match=message) as caught:
        api.grant(Rule.read("configmaps"), **options)
    assert caught.value.field == field
    assert api.api_access is None


@pytest.mark.parametrize(
    ("args", "options", "field", "message"),
    [
        ((), {}, "access", "needs at least one Rule or role"),
        (("configmaps",), {}, "access", "'configmaps' is neither a Rule nor a role"),
        ((Rule.read("configmaps"),), {"namespace": "Other"}, "namespace", "DNS-1123 label"),
        ((Rule.read("configmaps"),), {"purpose": "read config"}, "purpose", "DNS-1123 label"),
        ((Rule.read("nodes"),), {}, "rules[0]", "cluster-scoped nodes"),
        ((Rule(non_resource_urls=["/metrics"], verbs=["get"]),), {}, "rules[0]",
         "non-resource URLs"),
        ((Rule.read("configmaps"),), {"cluster_wide": True, "namespace": "x"}, "namespace",
         "contradicts"),
        ((RoleRef("r", kind="Role"),), {"cluster_wide": True}, "access",
         "a Role cannot be granted cluster-wide"),
    ],
    ids=["empty", "string", "namespace", "purpose", "nodes", "urls", "both", "role-wide"],
)
def test_grant_arguments_are_checked_at_the_grant_line(args, options, field, message):
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    with pytest.raises(ValidationError) as caught:
        api.grant(*args, **options)
    error = caught.value
    assert (error.field, error.resource) == (field, "Deployment shop/api")
    assert message in error.message
    assert "test_rbac_grants.py:" in str(error)
    assert stack.grants == [] and api.api_access is None


def test_cluster_scoped_rules_suggest_cluster_wide():
    api = Stack("shop", namespace="shop", cluster=CLUSTER).add(deployment("api"))
    with pytest.raises(ValidationError) as caught:
        api.grant(Rule.read("nodes"))
    assert "pass cluster_wide=True to grant()" in (caught.value.fix or "")


def test_granting_before_adding_to_a_stack_is_refused():
    with pytest.raises(ValidationError, match="is not part of a Stack yet"):
        deployment("api").grant(Rule.read("configmaps"))


def test_workload_without_namespace_cannot_be_granted():
    stack = Stack("shop")
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"))
    with pytest.raises(ValidationError, match=r"Deployment api: field 'namespace': has no"):
        stack.objects()


def test_role_of_another_namespace_cannot_be_granted_there():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    reader = stack.add(Role("reader", namespace="other", rules=[Rule.read("configmaps")]))
    line = _next_line()
    api.grant(reader)
    with pytest.raises(ValidationError, match="only reference a Role of its own namespace") as e:
        stack.objects()
    assert e.value.resource == "Deployment shop/api"
    assert str(e.value.origin) == f"tests/test_rbac_grants.py:{line}"
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    reader = stack.add(Role("reader", namespace="other", rules=[Rule.read("configmaps")]))
    api.grant(reader, namespace="other")
    assert ("RoleBinding", "other", "shop-api-reader") in by_key(stack)


def test_a_derived_name_that_is_too_long_is_reported_at_the_grant():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(RoleRef("r" * 250, external=True))
    with pytest.raises(ValidationError, match="the derived name 'api-rrr") as caught:
        stack.objects()
    assert "test_rbac_grants.py:" in str(caught.value)
    assert "shorter role name" in (caught.value.fix or "")
