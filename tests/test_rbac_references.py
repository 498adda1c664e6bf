"""References inside a stack: roles and ServiceAccounts must exist, or be marked external."""

from __future__ import annotations

import pytest
from rbac_support import CLUSTER, by_key, deployment

from kubegen import (
    ClusterRole,
    ClusterRoleBinding,
    ConflictError,
    Group,
    Manifest,
    Role,
    RoleBinding,
    RoleRef,
    Rule,
    ServiceAccount,
    ServiceAccountRef,
    Stack,
)


def _stack() -> Stack:
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    stack.add(ServiceAccount("ci"))
    return stack


def _refused(stack: Stack) -> ConflictError:
    with pytest.raises(ConflictError) as caught:
        stack.objects()
    return caught.value


def test_binding_to_an_undefined_role_is_refused_with_a_suggestion_and_the_marker():
    stack = _stack()
    stack.add(Role("readers", rules=[Rule.read("configmaps")]))
    stack.add(RoleBinding("b", role=RoleRef("reader", kind="Role"),
                          subjects=[ServiceAccountRef("ci")]))
    error = _refused(stack)
    assert error.resource == "RoleBinding shop/b"
    assert "test_rbac_references.py:" in str(error)
    assert (error.field, error.value) == ("role", "reader")
    assert error.message == "binds Role reader, which the stack does not define in namespace shop"
    assert "did you mean 'readers'?" in (error.fix or "")
    assert "RoleRef('reader', kind='Role', external=True)" in (error.fix or "")


def test_roles_marked_external_are_not_checked():
    stack = _stack()
    stack.add(RoleBinding("b", role=RoleRef("view", external=True),
                          subjects=[ServiceAccountRef("ci")]))
    assert by_key(stack)[("RoleBinding", "shop", "b")]["roleRef"]["name"] == "view"


def test_the_external_marker_must_be_true():
    stack = _stack()
    stack.add(ClusterRole("reader", rules=[Rule.read("nodes")]))
    stack.add(RoleBinding("b", role=RoleRef("reader", external=True),
                          subjects=[ServiceAccountRef("ci")]))
    error = _refused(stack)
    assert "marks ClusterRole reader as external, but the stack defines it" in error.message


def test_roles_by_name_resolve_in_the_binding_namespace():
    stack = _stack()
    stack.add(Role("reader", namespace="other", rules=[Rule.read("configmaps")]))
    stack.add(RoleBinding("b", role=RoleRef("reader", kind="Role"),
                          subjects=[ServiceAccountRef("ci")]))
    assert "does not define in namespace shop" in _refused(stack).message

    stack = _stack()
    stack.add(Role("reader", rules=[Rule.read("configmaps")]))
    stack.add(RoleBinding("b", role=RoleRef("reader", kind="Role"),
                          subjects=[ServiceAccountRef("ci")]))
    assert ("RoleBinding", "shop", "b") in by_key(stack)


def test_a_role_builder_must_be_part_of_the_stack():
    stack = _stack()
    loose = Role("reader", rules=[Rule.read("configmaps")])
    stack.add(RoleBinding("b", role=loose, subjects=[ServiceAccountRef("ci")]))
    error = _refused(stack)
    assert error.message == "binds Role reader, which was never added to the stack"


def test_raw_manifests_define_roles_and_service_accounts():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    stack.add(Manifest({"apiVersion": "v1", "kind": "ServiceAccount",
                        "metadata": {"name": "raw-sa"}}))
    stack.add(Manifest({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                        "metadata": {"name": "raw-role"},
                        "rules": [{"apiGroups": [""], "resources": ["nodes"],
                                   "verbs": ["get"]}]}))
    stack.add(ClusterRoleBinding("b", role=RoleRef("raw-role"),
                                 subjects=[ServiceAccountRef("raw-sa")]))
    assert by_key(stack)[("ClusterRoleBinding", "", "b")]["subjects"] == [
        {"kind": "ServiceAccount", "name": "raw-sa", "namespace": "shop"}]


def test_undefined_service_account_is_refused_unless_external():
    stack = _stack()
    stack.add(RoleBinding("b", role=RoleRef("view", external=True),
                          subjects=[Group("devs"), ServiceAccountRef("cj")]))
    error = _refused(stack)
    assert (error.field, error.value) == ("subjects[1]", "cj")
    assert error.message == "binds ServiceAccount shop/cj, which the stack does not define"
    assert "did you mean 'ci'?" in (error.fix or "")
    assert "ServiceAccountRef('cj', namespace='shop', external=True)" in (error.fix or "")

    stack = _stack()
    stack.add(RoleBinding("b", role=RoleRef("view", external=True),
                          subjects=[ServiceAccountRef("deployer", namespace="ci",
                                                      external=True)]))
    assert by_key(stack)[("RoleBinding", "shop", "b")]["subjects"] == [
        {"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]


def test_service_account_marked_external_but_defined_is_refused():
    stack = _stack()
    stack.add(RoleBinding("b", role=RoleRef("view", external=True),
                          subjects=[ServiceAccountRef("ci", external=True)]))
    assert "marks ServiceAccount shop/ci as external" in _refused(stack).message


def test_service_account_builder_must_be_part_of_the_stack():
    stack = _stack()
    stack.add(RoleBinding("b", role=RoleRef("view", external=True),
                          subjects=[ServiceAccount("loose")]))
    assert "never added to the stack" in _refused(stack).message


def test_cluster_binding_of_a_service_account_needs_a_namespace():
    stack = Stack("cluster-tools")
    stack.add(ServiceAccount("ci", namespace="tools"))
    stack.add(ClusterRoleBinding("b", role=RoleRef("system:auth-delegator", external=True),
                                 subjects=[ServiceAccountRef("ci")]))
    error = _refused(stack)
    assert error.message == "ServiceAccount ci has no namespace"
    assert "ServiceAccountRef(name, namespace='…')" in (error.fix or "")


def test_a_granted_workload_service_account_may_be_bound_explicitly():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"))
    stack.add(RoleBinding("api-view", role=RoleRef("view", external=True),
                          subjects=[ServiceAccountRef("api")]))
    assert ("RoleBinding", "shop", "api-view") in by_key(stack)


def test_binding_the_account_of_a_workload_without_grants_is_refused():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    stack.add(deployment("web"))
    stack.add(RoleBinding("web-view", role=RoleRef("view", external=True),
                          subjects=[ServiceAccountRef("web")]))
    error = _refused(stack)
    assert error.message.startswith(
        "binds ServiceAccount shop/web, which Deployment shop/web runs as without any grant")
    assert "web.grant(...)" in (error.fix or "")


def test_a_granted_workload_cannot_share_its_account_with_an_ungranted_one():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api", service_account="shared"))
    stack.add(deployment("web", service_account="shared"))
    api.grant(Rule.read("configmaps"))
    with pytest.raises(ConflictError) as caught:
        stack.objects()
    assert "which Deployment shop/web runs as without any grant" in caught.value.message
    assert caught.value.resource == "RoleBinding shop/api-access"
