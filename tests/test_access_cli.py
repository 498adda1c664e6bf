"""``kubegen access``: the reviewer's table (text and JSON), through typer and a real process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubegen._cli.app import app
from tests.helpers import run_cli, write_stack

SHOP = """
from kubegen import (ApiServer, Cluster, ClusterRole, ClusterRoleBinding, Deployment, Group,
                     HttpProbe, Job, Port, RoleBinding, RoleRef, Rule, Stack)

CLUSTER = Cluster("prod", api_server=ApiServer(addresses=["10.0.0.10/32"], port=6443))
IMAGE = "ghcr.io/acme/api:1.2.3@sha256:" + "0123456789abcdef" * 4
OBSERVE = {"shop.example.com/aggregate-to-observer": "true"}


def serving(name):
    return Deployment(name, image=IMAGE, port=Port(8080, name="http"),
                      readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"))


def build():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(serving("api"))
    stack.add(serving("web"))
    sync = stack.add(Job("sync", image=IMAGE))
    api.grant(Rule.read("configmaps"))
    api.grant(Rule.read("endpoints"), namespace="monitoring")
    sync.grant(Rule.read_write("leases", api_groups=["coordination.k8s.io"]),
               Rule.read("secrets", resource_names=["sync-token"]), audience="vault")
    observer = stack.add(ClusterRole("observer", aggregate_from=[OBSERVE]))
    stack.add(ClusterRole("observe-pods", labels=OBSERVE, rules=[Rule.read("pods", "pods/log")]))
    stack.add(ClusterRole("observe-metrics", labels=OBSERVE,
                          rules=[Rule(non_resource_urls=["/metrics"], verbs=["get"])]))
    stack.add(ClusterRoleBinding("sre-observer", role=observer, subjects=[Group("sre")]))
    stack.add(RoleBinding("oncall-view", role=RoleRef("view", external=True),
                          subjects=[Group("oncall")]))
    return stack
"""

BROKEN = """
from kubegen import Group, Role, RoleBinding, Rule, Stack

def build():
    stack = Stack("shop", namespace="shop")
    role = stack.add(Role("reader", rules=[Rule.read("configmaps")]))
    stack.add(RoleBinding("everyone", role=role, subjects=[Group("system:authenticated")]))
    return stack
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_stack(tmp_path, "prod", SHOP)
    return tmp_path


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["access", *args])
    return result.exit_code, result.output


def test_table_snapshot(project: Path, snapshot):
    code, output = _invoke(str(project / "stacks/prod"))
    assert code == 0, output
    assert output == snapshot
    lines = output.splitlines()
    assert lines[0] == "prod: stack shop"
    assert lines[-1] == "No API access: ServiceAccount shop/web"
    assert all(line == line.rstrip() for line in lines)


def test_json_snapshot(project: Path, snapshot):
    code, output = _invoke(str(project / "stacks/prod"), "--format", "json")
    assert code == 0, output
    data = json.loads(output)
    assert output == snapshot
    (stack,) = data["stacks"]
    assert stack["noAccess"] == [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]
    sre = [r for r in stack["access"] if r["subject"]["name"] == "sre"]
    assert {r["resource"] or r["nonResourceURL"] for r in sre} == {"pods", "pods/log", "/metrics"}
    assert all(r["namespace"] == "*" for r in sre)
    assert sre[0]["via"] == [["ClusterRoleBinding sre-observer", "ClusterRole observer",
                              "ClusterRole observe-pods"]]


def test_json_rows_name_granted_workloads_only(project: Path):
    _, output = _invoke(str(project / "stacks/prod"), "--format", "json")
    rows = json.loads(output)["stacks"][0]["access"]
    accounts = {r["subject"]["name"] for r in rows if r["subject"]["kind"] == "ServiceAccount"}
    assert accounts == {"api", "sync"}
    api_monitoring = [r for r in rows if r["subject"]["name"] == "api"
                      and r["namespace"] == "monitoring"]
    assert [(r["resource"], r["verbs"]) for r in api_monitoring] == [
        ("endpoints", ["get", "list", "watch"])]


def test_several_stacks_print_one_section_each(project: Path):
    write_stack(project, "dev", "from kubegen import Stack\n\ndef build():\n"
                "    return Stack('shop', namespace='shop')\n")
    code, output = _invoke(str(project / "stacks/dev"), str(project / "stacks/prod"))
    assert code == 0
    assert output.startswith("dev: stack shop\nNo RBAC bindings.\n\nprod: stack shop\n")


def test_guard_errors_exit_2_without_traceback(tmp_path: Path):
    write_stack(tmp_path, "bad", BROKEN)
    code, output = _invoke(str(tmp_path / "stacks/bad"))
    assert code == 2
    assert "error: " in output and "'system:authenticated' stands for every caller" in output
    assert "Traceback" not in output


@pytest.mark.slow
def test_real_process_prints_the_same_table(project: Path):
    _, expected = _invoke(str(project / "stacks/prod"))
    result = run_cli("access", "stacks/prod", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
    as_json = run_cli("access", "--format", "json", "stacks/prod", cwd=project)
    assert json.loads(as_json.stdout)["stacks"][0]["env"] == "prod"
    bad = run_cli("access", "--format", "yaml", "stacks/prod", cwd=project)
    assert bad.returncode == 2 and "'yaml' is not one of 'table', 'json'" in bad.stderr
