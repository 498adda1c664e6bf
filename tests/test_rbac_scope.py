"""RBAC scope is exact: a binding never claims what it cannot grant (guard ``out-of-namespace``)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from rbac_support import CLUSTER, by_key, deployment
from typer.testing import CliRunner

from kubegen import (
    ClusterRole,
    Group,
    Manifest,
    Role,
    RoleBinding,
    RoleRef,
    Rule,
    Stack,
    ValidationError,
)
from kubegen._cli.app import app
from tests.helpers import run_cli, write_stack

GROUP = "rbac.authorization.k8s.io"
NODES = Rule.read("nodes")
URLS = Rule(non_resource_urls=["/metrics"], verbs=["get"])


def _next_line() -> int:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


def _stack() -> Stack:
    return Stack("shop", namespace="shop", cluster=CLUSTER)


def test_granting_a_cluster_role_of_cluster_scoped_rules_needs_cluster_wide() -> None:
    stack = _stack()
    api = stack.add(deployment("api"))
    mixed = stack.add(ClusterRole("mixed", rules=[Rule.read("pods"), NODES, URLS]))
    line = _next_line()
    api.grant(mixed)
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    error = caught.value
    assert error.origin is not None and error.origin.line == line
    assert (error.field, error.value) == ("cluster_wide", False)
    assert error.resource == "RoleBinding shop/api-mixed"
    assert "binds ClusterRole mixed in namespace shop, but its rules name cluster-scoped nodes, " \
           "non-resource URL /metrics, which a RoleBinding can never grant" in error.message
    assert "Fix: pass cluster_wide=True to grant()" in str(error)


def test_the_fixed_grant_renders_a_cluster_role_binding() -> None:
    stack = _stack()
    api = stack.add(deployment("api"))
    mixed = stack.add(ClusterRole("mixed", rules=[Rule.read("pods"), NODES]))
    api.grant(mixed, cluster_wide=True)
    objects = by_key(stack)
    assert objects[("ClusterRoleBinding", "", "shop-api-mixed")]["roleRef"]["name"] == "mixed"
    assert not [key for key in objects if key[0] == "RoleBinding"]


def test_binding_only_the_namespaced_part_is_an_opt_out_with_a_reason() -> None:
    stack = _stack()
    api = stack.add(deployment("api"))
    mixed = stack.add(ClusterRole("mixed", rules=[Rule.read("pods"), NODES]))
    api.grant(mixed, allow={"out-of-namespace": "reuses the platform role for its pod part"})
    binding = by_key(stack)[("RoleBinding", "shop", "api-mixed")]
    assert binding["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-rbac-out-of-namespace": "reuses the platform role for its pod part"}


def test_aggregated_and_referenced_cluster_roles_are_expanded() -> None:
    stack = _stack()
    api = stack.add(deployment("api"))
    label = {"acme.dev/aggregate-to-ops": "true"}
    stack.add(ClusterRole("ops-nodes", labels=label, rules=[NODES]))
    stack.add(ClusterRole("ops", aggregate_from=[label]))
    api.grant(RoleRef("ops", kind="ClusterRole"))
    with pytest.raises(ValidationError, match="cluster-scoped nodes"):
        stack.objects()


def test_roles_outside_the_stack_and_namespaced_roles_pass() -> None:
    stack = _stack()
    api = stack.add(deployment("api"))
    reader = stack.add(ClusterRole("reader", rules=[Rule.read("pods", "configmaps")]))
    api.grant(reader, RoleRef("node-viewer", external=True))  # its rules are not known here
    api.grant(reader, namespace="monitoring")
    api.grant(Rule(resources=["namespaces"], verbs=["get", "patch"]))  # its own namespace
    objects = by_key(stack)
    assert ("RoleBinding", "shop", "api-node-viewer") in objects
    assert objects[("Role", "shop", "api-access")]["rules"][0]["resources"] == ["namespaces"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (NODES, "names cluster-scoped nodes"),
        (Rule.read("namespaces"), "grants list, watch on namespaces"),
        (Rule.read("clusterroles", api_groups=[GROUP]), "names cluster-scoped clusterroles"),
        (URLS, "names non-resource URLs"),
    ],
)
def test_namespaced_grants_of_what_a_role_cannot_grant_fail_at_the_grant(rule, message) -> None:
    api = _stack().add(deployment("api"))
    with pytest.raises(ValidationError, match=message) as caught:
        api.grant(rule)
    assert "Fix: pass cluster_wide=True to grant()" in str(caught.value)


def test_hand_built_role_binding_of_cluster_scoped_rules_names_its_fix() -> None:
    stack = _stack()
    viewer = stack.add(ClusterRole("node-viewer", rules=[NODES]))
    stack.add(RoleBinding("oncall-nodes", role=viewer, subjects=[Group("oncall")]))
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert (caught.value.resource, caught.value.field) == ("RoleBinding shop/oncall-nodes",
                                                           "role")
    assert "bind it with a ClusterRoleBinding for cluster-wide access" in str(caught.value)
    assert "pass allow={'out-of-namespace': '<why>'} to RoleBinding(…)" in str(caught.value)


def test_an_allow_nothing_needs_is_refused() -> None:
    stack = _stack()
    reader = stack.add(ClusterRole("reader", rules=[Rule.read("pods")]))
    stack.add(RoleBinding("oncall", role=reader, subjects=[Group("oncall")],
                          allow={"out-of-namespace": "stale"}))
    stack.add(RoleBinding("oncall", namespace="web", role=reader, subjects=[Group("oncall")]))
    with pytest.raises(ValidationError, match="'out-of-namespace' guard"):
        stack.objects()


def _raw(kind: str, name: str, **body: Any) -> Manifest:
    meta = {"name": name, "namespace": "shop", **body.pop("meta", {})}
    return Manifest({"apiVersion": f"{GROUP}/v1", "kind": kind, "metadata": meta, **body})


def test_raw_manifests_are_checked_and_opt_out_by_annotation() -> None:
    stack = _stack()
    stack.add(ClusterRole("node-viewer", rules=[NODES]))
    stack.add(_raw("RoleBinding", "raw", roleRef={"apiGroup": GROUP, "kind": "ClusterRole",
                                                  "name": "node-viewer"},
                   subjects=[{"kind": "Group", "name": "oncall", "apiGroup": GROUP}]))
    with pytest.raises(ValidationError, match="cluster-scoped nodes") as caught:
        stack.objects()
    assert "kubegen.dev/opt-out-rbac-out-of-namespace" in str(caught.value)

    role_stack = _stack()
    role_stack.add(_raw("Role", "raw-role", rules=[{"apiGroups": [""], "resources": ["nodes"],
                                                    "verbs": ["get"]}]))
    with pytest.raises(ValidationError) as caught:
        role_stack.objects()
    assert caught.value.field == "rules[0]"
    assert "which a Role can never grant" in caught.value.message

    allowed = _stack()
    allowed.add(_raw("Role", "raw-role", meta={"annotations": {
        "kubegen.dev/opt-out-rbac-out-of-namespace": "kept from the upstream chart"}},
        rules=[{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]))
    assert [obj.name for obj in allowed.objects() if obj.kind == "Role"] == ["raw-role"]


def test_the_role_builder_refuses_them_outright() -> None:
    with pytest.raises(ValidationError, match="only a ClusterRole can grant"):
        Role("urls", rules=[URLS])


VIOLATION = """
from kubegen import ApiServer, Cluster, ClusterRole, Deployment, Rule, Stack

CLUSTER = Cluster("prod", api_server=ApiServer(addresses=["10.0.0.10/32"], port=6443))

def build():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(Deployment("api", image="ghcr.io/acme/api:1.0.0"))
    nodes = stack.add(ClusterRole("node-reader", rules=[Rule.read("nodes")]))
    api.grant(nodes)
    return stack
"""


def test_violation_exits_2_with_the_grant_line_and_the_fix_renders(tmp_path: Path) -> None:
    write_stack(tmp_path, "prod", VIOLATION)
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 2
    assert "stacks/prod/__init__.py:9: RoleBinding shop/api-node-reader: field 'cluster_wide' " \
           "= False" in result.stderr
    assert "Fix: pass cluster_wide=True to grant()" in result.stderr
    assert "Traceback" not in result.stderr
    write_stack(tmp_path, "prod", VIOLATION.replace("api.grant(nodes)",
                                                    "api.grant(nodes, cluster_wide=True)"))
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "output/prod/_cluster/clusterrolebinding-shop-api-node-reader.yaml").exists()


OPTED_OUT = VIOLATION.replace(
    'rules=[Rule.read("nodes")]', 'rules=[Rule.read("nodes"), Rule.read("pods")]'
).replace("api.grant(nodes)", "api.grant(nodes, allow={'out-of-namespace': 'the pod part'})")


def test_access_lists_what_a_role_binding_cannot_grant_apart(tmp_path: Path, snapshot) -> None:
    write_stack(tmp_path, "prod", OPTED_OUT)
    result = CliRunner().invoke(app, ["access", str(tmp_path / "stacks/prod")])
    assert result.exit_code == 0, result.output
    assert result.output == snapshot
    granted, refused = result.output.split("Bound but not granted")
    assert "pods" in granted and "nodes" not in granted
    assert "nodes" in refused and "cluster-scoped: a RoleBinding grants only inside" in refused
