"""``kubegen graph``: flows read back from rendered policies, Mermaid/DOT output, the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubegen import ManifestObject
from kubegen._analysis.diagram import node_ids, render_graph
from kubegen._analysis.flows import Node, flow_graph
from kubegen._cli.app import app
from kubegen._loader import load_stack

ROOT = Path(__file__).resolve().parents[1]

STACK = '''
from kubegen import Deployment, Namespace, Port, Stack

IMAGE = "ghcr.io/acme/app:1.2.3@sha256:" + "0123456789abcdef" * 4


def app(name, *ports, namespace=None):
    return Deployment(name, namespace=namespace, image=IMAGE, ports=list(ports),
                      allow_no_probes="example")


def build():
    shop = Stack("shop", namespace="shop")
    shop.add(Namespace("data"))
    web = shop.add(app("web", Port(8080, name="http")))
    api = shop.add(app("api", Port(8080, name="http"), Port(9090, name="metrics")))
    db = shop.add(app("db", Port(5432, name="pg"), namespace="data"))
    web.allow_from(namespace="ingress-nginx",
                   pods={"app.kubernetes.io/name": "ingress-nginx"}, port="http")
    web.connect_to(api, port="http")
    api.connect_to(db, port="pg")
    api.allow_from(namespace="monitoring", pods={"app": "prometheus"}, port="metrics")
    api.allow_to_internet(port=443, reason="payment provider")
    return shop
'''


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    package = tmp_path / "stacks" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(STACK))
    return package


def _objects(stack_dir: Path) -> list[ManifestObject]:
    return load_stack(stack_dir).stack.objects()


def test_mermaid_snapshot(stack_dir: Path, snapshot) -> None:
    text = render_graph(flow_graph(_objects(stack_dir)), "mermaid", title="kubegen graph: demo")
    assert text == snapshot


def test_dot_snapshot(stack_dir: Path, snapshot) -> None:
    text = render_graph(flow_graph(_objects(stack_dir)), "dot", title="kubegen graph: demo")
    assert text == snapshot


def test_flows_of_the_example(stack_dir: Path) -> None:
    graph = flow_graph(_objects(stack_dir))
    edges = {(f.source.label, f.target.label): f.ports for f in graph.flows}
    assert edges[("web", "api")] == ("http 8080/TCP",)
    assert edges[("api", "db")] == ("pg 5432/TCP",)
    assert edges[("app.kubernetes.io/name=ingress-nginx", "web")] == ("http 8080/TCP",)
    assert edges[("app=prometheus", "api")] == ("metrics 9090/TCP",)
    assert edges[("api", "internet (IPv4)")] == ("443/TCP",)
    assert edges[("db", "k8s-app=kube-dns")] == ("53/TCP", "53/UDP")
    assert ("api", "web") not in edges and ("web", "db") not in edges
    assert ("web", "internet (IPv4)") not in edges
    assert {n.label for n in graph.nodes if n.kind == "anywhere"} == set()


def _workload(name: str, labels: dict[str, str], ports: list[dict[str, object]]) -> ManifestObject:
    return ManifestObject(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": "app"},
            "spec": {
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "ports": ports}]},
                }
            },
        }
    )


def test_flows_follow_api_semantics_for_hand_written_policies() -> None:
    front = _workload("front", {"app": "front"}, [])
    back = _workload("back", {"app": "back"}, [{"name": "http", "containerPort": 80}])
    policy = ManifestObject(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "back", "namespace": "app"},
            # no policyTypes: Ingress only, since there are no egress rules
            "spec": {
                "podSelector": {"matchLabels": {"app": "back"}},
                "ingress": [
                    {
                        "from": [{"podSelector": {"matchLabels": {"app": "front"}}}],
                        "ports": [{"port": "http"}, {"port": 9000, "endPort": 9010}],
                    }
                ],
            },
        }
    )
    graph = flow_graph([front, back, policy])
    edges = {(f.source.label, f.target.label): f.ports for f in graph.flows}
    assert edges[("front", "back")] == ("http 80/TCP", "9000-9010/TCP")
    assert ("back", "front") in edges  # front is not isolated at all
    assert edges[("back", "anywhere (not isolated)")] == ("any port",)
    assert edges[("anywhere (not isolated)", "front")] == ("any port",)
    assert ("anywhere (not isolated)", "back") not in edges


def test_node_ids_are_safe_unique_and_stable() -> None:
    nodes = [
        Node("workload", "a-b", "ns"),
        Node("workload", "a.b", "ns"),
        Node("pods", "end", "graph"),
        Node("ipblock", "0.0.0.0/0 except 10.0.0.0/8"),
        Node("anywhere", "anywhere (not isolated)"),
    ]
    ids = node_ids(nodes)
    assert list(ids.values()) == [
        "w_ns_a_b",
        "w_ns_a_b_2",
        "p_graph_end",
        "x_0_0_0_0_0_except_10_0_0_0_8",
        "any_anywhere_not_isolated",
    ]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", ident) for ident in ids.values())


def test_labels_are_escaped_for_both_syntaxes() -> None:
    tricky = ManifestObject(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "p", "namespace": "app"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [
                            {
                                "namespaceSelector": {},
                                "podSelector": {
                                    "matchExpressions": [
                                        {"key": "q", "operator": "In", "values": ['a"b\\c']}
                                    ]
                                },
                            }
                        ]
                    }
                ],
            },
        }
    )
    graph = flow_graph([_workload("w", {"app": "w"}, []), tricky])
    mermaid = render_graph(graph, "mermaid")
    assert '#quot;' in mermaid and 'a"b' not in mermaid
    dot = render_graph(graph, "dot")
    assert 'a\\"b\\\\c' in dot


def test_cli_prints_the_graph(stack_dir: Path) -> None:
    runner = CliRunner()
    mermaid = runner.invoke(app, ["graph", str(stack_dir)])
    assert mermaid.exit_code == 0, mermaid.output
    expected = render_graph(flow_graph(_objects(stack_dir)), "mermaid", title="kubegen graph: demo")
    assert mermaid.stdout == expected
    dot = runner.invoke(app, ["graph", "--format", "dot", str(stack_dir)])
    assert dot.exit_code == 0 and dot.stdout.startswith("// kubegen graph: demo\ndigraph network {")
    both = runner.invoke(app, ["graph", str(stack_dir), str(stack_dir)])
    assert both.stdout == expected + "\n" + expected


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["graph", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    bad = CliRunner().invoke(app, ["graph", "--format", "svg", str(tmp_path)])
    assert bad.exit_code == 2 and "svg" in bad.stderr


@pytest.mark.slow
def test_cli_in_a_real_process(stack_dir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "kubegen", "graph", "-f", "dot", str(stack_dir)],
        capture_output=True,
        text=True,
        env=env,
        cwd=stack_dir.parent.parent,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    expected = render_graph(flow_graph(_objects(stack_dir)), "dot", title="kubegen graph: demo")
    assert run.stdout == expected
