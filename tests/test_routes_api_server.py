"""A grant implies a route: ``<workload>-api-server`` egress to the cluster's API endpoints."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml
from network_semantics import Cluster as Evaluator
from network_semantics import External, pods_of
from rbac_support import deployment, job

from kubegen import (
    ApiServer,
    Cluster,
    Namespace,
    Rule,
    Stack,
    ValidationError,
    render,
)
from tests.helpers import run_cli, write_stack

KIND = Cluster("kind", api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443))
MANAGED = Cluster("eks", api_server=ApiServer(addresses=["10.20.0.10/32", "10.20.1.10/32"]))


def _next_line() -> int:
    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno + 1


def _bodies(stack: Stack) -> list[dict[str, Any]]:
    return [obj.body for obj in stack.objects()]


def _policy(stack: Stack, name: str) -> dict[str, Any] | None:
    found = [b for b in _bodies(stack) if b["kind"] == "NetworkPolicy"
             and b["metadata"]["name"] == name]
    return found[0] if found else None


def test_granted_workload_gets_the_api_server_route_snapshot(snapshot) -> None:
    stack = Stack("shop", namespace="shop", cluster=MANAGED)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"))
    api.grant(Rule.read("leases", api_groups=["coordination.k8s.io"]), purpose="leader")
    files = render(stack)
    assert [p for p in files if "api-server" in p] == ["shop/networkpolicy-api-api-server.yaml"]
    assert files["shop/networkpolicy-api-api-server.yaml"] == snapshot


def test_the_route_reaches_the_endpoints_on_their_port_and_nothing_else() -> None:
    """Checked with the independent evaluator, as a CNI would enforce the policies."""
    stack = Stack("shop", namespace="shop", cluster=MANAGED)
    api = stack.add(deployment("api"))
    stack.add(deployment("web"))
    worker = stack.add(job("worker"))
    api.grant(Rule.read("configmaps"))
    worker.mount_token("vault", reason="logs in to Vault")  # a token, but no API access
    bodies = _bodies(stack)
    evaluator = Evaluator.of(bodies)
    pods = {pod.name: pod for pod in pods_of(bodies)}
    for address in ("10.20.0.10", "10.20.1.10"):
        assert evaluator.allows(pods["api"], External(address), 443)
        assert not evaluator.allows(pods["api"], External(address), 6443)
        assert not evaluator.allows(pods["web"], External(address), 443)
        assert not evaluator.allows(pods["worker"], External(address), 443)
    assert not evaluator.allows(pods["api"], External("10.96.0.1"), 443)  # the Service IP
    assert not evaluator.allows(pods["api"], External("10.20.0.11"), 443)
    assert not evaluator.allows(pods["api"], pods["web"], 8080)  # no other egress gained


def test_policy_names_the_peer_for_the_graph_and_uses_the_workload_selector() -> None:
    stack = Stack("shop", namespace="shop", cluster=KIND)
    stack.add(deployment("operator")).grant(Rule.read("pods"))
    policy = _policy(stack, "operator-api-server")
    assert policy is not None
    assert policy["metadata"]["annotations"] == {"kubegen.dev/ip-block-name": "Kubernetes API"}
    assert policy["spec"]["podSelector"] == {"matchLabels": {
        "app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "operator"}}
    assert policy["spec"]["egress"] == [{"to": [{"ipBlock": {"cidr": "172.18.0.2/32"}}],
                                         "ports": [{"protocol": "TCP", "port": 6443}]}]


@pytest.mark.parametrize("cluster", [None, Cluster("bare")], ids=["no cluster", "no api_server"])
def test_a_grant_without_a_known_api_server_is_an_error_at_the_grant(cluster) -> None:
    stack = Stack("shop", namespace="shop", cluster=cluster)
    api = stack.add(deployment("api"))
    line = _next_line()
    api.grant(Rule.read("configmaps"))
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    error = caught.value
    assert (error.resource, error.field) == ("Deployment shop/api", "cluster.api_server")
    assert error.origin is not None and error.origin.line == line
    assert Path(error.origin.file).name == "test_routes_api_server.py"
    assert "is granted API access, but" in error.message
    assert "Fix: declare the API server's endpoints" in str(error)
    assert "api_egress_elsewhere='why'" in str(error)


def test_api_egress_elsewhere_derives_no_route_and_needs_a_reason() -> None:
    cilium = Cluster("lab", api_egress_elsewhere="Cilium: toEntities kube-apiserver for all pods")
    stack = Stack("shop", namespace="shop", cluster=cilium)
    stack.add(deployment("api")).grant(Rule.read("configmaps"))
    assert not [p for p in render(stack) if "api-server" in p]
    with pytest.raises(ValidationError, match="api_egress_elsewhere needs a reason"):
        Cluster("lab", api_egress_elsewhere=" ")
    with pytest.raises(ValidationError, match="not both") as caught:
        Cluster("lab", api_server=ApiServer(addresses=["10.0.0.1/32"]), api_egress_elsewhere="x")
    assert caught.value.field == "api_egress_elsewhere"


def test_stacks_without_api_access_need_no_api_server() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(deployment("web"))
    stack.add(job("sync")).mount_token("vault", reason="logs in to Vault")
    assert not [b for b in _bodies(stack) if b["metadata"]["name"].endswith("api-server")]


def test_outside_owned_namespaces_only_isolated_workloads_get_the_route() -> None:
    stack = Stack("shop", namespace="shop", create_namespace=False, cluster=KIND)
    stack.add(Namespace("batch"))
    lone = stack.add(job("lone"))  # namespace shop is not the stack's: nothing isolates it
    linked = stack.add(job("linked"))
    inside = stack.add(job("inside", namespace="batch"))
    for workload in (lone, linked, inside):
        workload.grant(Rule.read("configmaps"))
    linked.allow_to(cidr="10.30.0.0/16", port=5432)  # kubegen isolates its egress
    names = {b["metadata"]["name"] for b in _bodies(stack) if b["kind"] == "NetworkPolicy"}
    assert {"linked-api-server", "inside-api-server"} <= names
    assert "lone-api-server" not in names
    evaluator = Evaluator.of(_bodies(stack))
    pods = {pod.name: pod for pod in pods_of(_bodies(stack))}
    for name in ("lone", "linked", "inside"):
        assert evaluator.allows(pods[name], External("172.18.0.2"), 6443), name


MISSING = """
from kubegen import Deployment, Rule, Stack

def build():
    stack = Stack("shop", namespace="shop")
    api = stack.add(Deployment("api", image="ghcr.io/acme/api:1.0.0"))
    api.grant(Rule.read("configmaps"))
    return stack
"""


def test_missing_api_server_exits_2_naming_the_grant_line(tmp_path: Path) -> None:
    write_stack(tmp_path, "prod", MISSING)
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 2
    assert "stacks/prod/__init__.py:6: Deployment shop/api: field 'cluster.api_server'" in (
        result.stderr)
    assert "Fix: declare the API server's endpoints" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "output").exists()
    fixed = MISSING.replace("import Deployment", "import ApiServer, Cluster, Deployment").replace(
        'namespace="shop")',
        'namespace="shop",\n                  cluster=Cluster("prod", api_server=ApiServer('
        'addresses=["10.0.0.10/32"], port=6443)))')
    write_stack(tmp_path, "prod", fixed)
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    route = yaml.safe_load(
        (tmp_path / "output/prod/shop/networkpolicy-api-api-server.yaml").read_text())
    assert route["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 6443}]
