"""ServiceAccount, Role, ClusterRole and bindings: rendered shape, defaults, refused misuse."""

from __future__ import annotations

import pytest
from rbac_support import annotations, rendered

from kubegen import (
    ClusterRole,
    ClusterRoleBinding,
    Group,
    Role,
    RoleBinding,
    RoleRef,
    Rule,
    ServiceAccount,
    ServiceAccountRef,
    Stack,
    User,
    ValidationError,
)

RBAC_V1 = "rbac.authorization.k8s.io/v1"
GROUP = "rbac.authorization.k8s.io"


def test_service_account_mounts_no_token_by_default_and_lists_pull_secrets():
    stack = Stack("shop", namespace="shop")
    stack.add(ServiceAccount("ci", image_pull_secrets=["registry", "mirror"]))
    body = rendered(stack)["shop/serviceaccount-ci.yaml"]
    assert body["automountServiceAccountToken"] is False
    assert body["imagePullSecrets"] == [{"name": "registry"}, {"name": "mirror"}]
    assert "annotations" not in body["metadata"]


def test_service_account_token_automount_needs_a_reason_that_is_rendered():
    with pytest.raises(ValidationError, match="needs a reason"):
        ServiceAccount("legacy", allow={"token-automount": " "})
    with pytest.raises(ValidationError) as caught:
        ServiceAccount("legacy", allow={"automount": "x"})
    assert caught.value.field == "allow.automount.[key]"
    stack = Stack("shop", namespace="shop")
    account = stack.add(ServiceAccount("legacy", allow={"token-automount": "vendor pods"}))
    assert account.automount_token
    body = rendered(stack)["shop/serviceaccount-legacy.yaml"]
    assert body["automountServiceAccountToken"] is True
    assert annotations(body) == {"kubegen.dev/opt-out-token-automount": "vendor pods"}


def test_role_renders_rules_in_author_order_in_the_stack_namespace():
    stack = Stack("shop", namespace="shop")
    stack.add(Role("reader", rules=[Rule.read("pods/log"), Rule.read("configmaps")]))
    body = rendered(stack)["shop/role-reader.yaml"]
    assert body["apiVersion"] == RBAC_V1
    assert body["metadata"]["namespace"] == "shop"
    assert body["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kubegen"}
    assert [r["resources"] for r in body["rules"]] == [["pods/log"], ["configmaps"]]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (Rule(non_resource_urls=["/metrics"], verbs=["get"]), "only a ClusterRole can grant"),
        (Rule.read("nodes"), "cluster-scoped nodes, which a Role cannot grant"),
        (Rule.read("storageclasses", api_groups=["storage.k8s.io"]), "cluster-scoped"),
    ],
)
def test_a_role_refuses_what_only_a_cluster_role_grants(rule, message):
    with pytest.raises(ValidationError, match=message) as caught:
        Role("r", rules=[rule])
    assert caught.value.field == "rules"
    assert "ClusterRoleBinding" in (caught.value.fix or "")


def test_a_role_may_name_its_own_namespace_object():
    assert Role("r", rules=[Rule(resources=["namespaces"], verbs=["get"])]).rules


def test_roles_need_rules():
    with pytest.raises(ValidationError, match="a Role needs at least one rule"):
        Role("r")
    with pytest.raises(ValidationError, match="a ClusterRole needs rules or aggregate_from"):
        ClusterRole("r")


def test_aggregated_cluster_role_renders_selectors_and_leaves_rules_to_the_controller():
    stack = Stack("shop", namespace="shop")
    stack.add(ClusterRole("monitoring", aggregate_from=[{"example.com/monitoring": "true"}]))
    body = rendered(stack)["_cluster/clusterrole-monitoring.yaml"]
    assert "namespace" not in body["metadata"]
    assert body["aggregationRule"] == {
        "clusterRoleSelectors": [{"matchLabels": {"example.com/monitoring": "true"}}]}
    assert "rules" not in body


def test_aggregation_refuses_rules_and_empty_selectors():
    with pytest.raises(ValidationError, match="would be overwritten by the controller"):
        ClusterRole("m", rules=[Rule.read("pods")], aggregate_from=[{"a": "b"}])
    with pytest.raises(ValidationError, match="empty selector matches every ClusterRole"):
        ClusterRole("m", aggregate_from=[{}])


def test_role_binding_renders_subjects_then_role_ref():
    stack = Stack("shop", namespace="shop")
    role = stack.add(Role("reader", rules=[Rule.read("configmaps")]))
    ci = stack.add(ServiceAccount("ci"))
    stack.add(ServiceAccount("bot", namespace="tools"))
    stack.add(RoleBinding("reader", role=role, subjects=[
        ci, ServiceAccountRef("bot", namespace="tools"), User("jane@example.com"), Group("devs"),
    ]))
    (manifest,) = [o for o in stack.objects() if o.kind == "RoleBinding"]
    assert list(manifest.body) == ["apiVersion", "kind", "metadata", "subjects", "roleRef"]
    body = rendered(stack)["shop/rolebinding-reader.yaml"]
    assert body["subjects"] == [
        {"kind": "ServiceAccount", "name": "ci", "namespace": "shop"},
        {"kind": "ServiceAccount", "name": "bot", "namespace": "tools"},
        {"kind": "User", "name": "jane@example.com", "apiGroup": GROUP},
        {"kind": "Group", "name": "devs", "apiGroup": GROUP},
    ]
    assert body["roleRef"] == {"kind": "Role", "name": "reader", "apiGroup": GROUP}


def test_cluster_role_binding_puts_service_accounts_in_the_stack_namespace():
    stack = Stack("shop", namespace="shop")
    stack.add(ServiceAccount("ci"))
    role = stack.add(ClusterRole("nodes", rules=[Rule.read("nodes")]))
    stack.add(ClusterRoleBinding("ci-nodes", role=role, subjects=[ServiceAccountRef("ci")]))
    body = rendered(stack)["_cluster/clusterrolebinding-ci-nodes.yaml"]
    assert body["subjects"] == [{"kind": "ServiceAccount", "name": "ci", "namespace": "shop"}]
    assert body["roleRef"]["kind"] == "ClusterRole"


def test_cluster_role_binding_cannot_reference_a_role():
    with pytest.raises(ValidationError, match="can only reference a ClusterRole"):
        ClusterRoleBinding("b", role=RoleRef("r", kind="Role"), subjects=[Group("g")])
    with pytest.raises(ValidationError, match="can only reference a ClusterRole"):
        ClusterRoleBinding("b", role=Role("r", rules=[Rule.read("pods")]), subjects=[Group("g")])


def test_role_binding_refuses_a_role_of_another_namespace():
    role = Role("r", namespace="a", rules=[Rule.read("pods")])
    with pytest.raises(ValidationError, match="only reference a Role of its own namespace"):
        RoleBinding("b", namespace="b", role=role, subjects=[Group("g")])


def test_bindings_need_real_subjects():
    with pytest.raises(ValidationError, match="'api' is not a subject") as caught:
        RoleBinding("b", role=RoleRef("view", external=True), subjects=["api"])
    assert "ServiceAccountRef('name')" in (caught.value.fix or "")
    with pytest.raises(ValidationError, match="at least one subject"):
        RoleBinding("b", role=RoleRef("view", external=True), subjects=[])


@pytest.mark.parametrize("name", ["", "a/b", "..", "50%"])
def test_references_need_valid_names(name):
    with pytest.raises(ValidationError, match="is not a valid name"):
        RoleRef(name)


def test_rbac_names_may_contain_colons():
    assert RoleRef("system:auth-delegator", external=True).as_dict()["name"] == (
        "system:auth-delegator")
