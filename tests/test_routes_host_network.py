"""hostNetwork pods: policies on them get a lint note (KG504); the graph marks their flows."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubegen import DaemonSet, Deployment, HttpProbe, Namespace, Port, Stack, lint
from kubegen._analysis.diagram import render_graph
from kubegen._analysis.flows import flow_graph
from kubegen._cli.app import app
from tests.helpers import run_cli, write_stack

PROBES = {"readiness": HttpProbe("/"), "liveness": HttpProbe("/")}


def _monitoring() -> Stack:
    stack = Stack("mon", namespace="mon")
    stack.add(Namespace("mon", pod_security="privileged", reason="node-exporter: host network"))
    exporter = stack.add(DaemonSet(
        "node-exporter", image="quay.io/prometheus/node-exporter:v1.8.2",
        port=Port(9100, name="metrics"), allow_host_network="reads the node's network stats",
        **PROBES))
    prometheus = stack.add(Deployment(
        "prometheus", image="quay.io/prometheus/prometheus:v2.53.0", port=Port(9090, name="web"),
        **PROBES))
    prometheus.connect_to(exporter, port="metrics")
    return stack


def test_policies_selecting_host_network_pods_get_a_note() -> None:
    report = lint(_monitoring())
    notes = sorted((f.resource, f.path, f.severity.value) for f in report.findings
                   if f.rule_id == "KG504")
    assert notes == [
        ("NetworkPolicy mon/allow-dns", "spec.podSelector", "info"),
        ("NetworkPolicy mon/default-deny", "spec.podSelector", "info"),
        ("NetworkPolicy mon/node-exporter-ingress", "spec.podSelector", "info"),
        ("NetworkPolicy mon/prometheus-egress", "spec.egress[0].to[0]", "info"),
    ]
    peer = next(f for f in report.findings if f.path == "spec.egress[0].to[0]")
    assert "names DaemonSet mon/node-exporter as a peer, whose pods run with hostNetwork: " \
           "their traffic goes to the node's address" in peer.message
    assert "allow_to(cidr='<node subnet>', port=…)" in peer.fix
    assert report.ok  # a note never blocks a render


def test_no_note_without_host_network_pods() -> None:
    stack = Stack("mon", namespace="mon")
    stack.add(Deployment("prometheus", image="quay.io/prometheus/prometheus:v2.53.0",
                         port=Port(9090, name="web"), **PROBES))
    assert not [f for f in lint(stack).findings if f.rule_id == "KG504"]


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_graph_marks_host_network_flows_deterministically(fmt: str, snapshot) -> None:
    text = render_graph(flow_graph(_monitoring().objects()), fmt)  # type: ignore[arg-type]
    assert text == render_graph(flow_graph(_monitoring().objects()), fmt)  # type: ignore[arg-type]
    assert text == snapshot
    marked = [line for line in text.splitlines() if "not enforced by most network plugins" in line]
    assert len(marked) == 2  # prometheus -> node-exporter, node-exporter -> DNS
    if fmt == "mermaid":
        assert all(" -.->|" in line for line in marked)
        assert '"prometheus"' in text and '"node-exporter (hostNetwork)"' in text
    else:
        assert all("style=dashed" in line for line in marked)
    plain = [line for line in text.splitlines() if "w_mon_prometheus" in line
             and "kube_dns" in line]
    assert plain and "not enforced" not in plain[0]


def test_graph_flow_model_knows_which_flows_are_enforced() -> None:
    flows = {(f.source.label, f.target.label): f.enforced
             for f in flow_graph(_monitoring().objects()).flows}
    assert flows[("prometheus", "node-exporter")] is False
    assert flows[("prometheus", "k8s-app=kube-dns")] is True


STACK = '''
from kubegen import DaemonSet, HttpProbe, Namespace, Port, Stack

def build():
    stack = Stack("mon", namespace="mon")
    stack.add(Namespace("mon", pod_security="privileged", reason="node-exporter: host network"))
    stack.add(DaemonSet("node-exporter", image="quay.io/prometheus/node-exporter:v1.8.2",
                        port=Port(9100, name="metrics"), allow_host_network="node stats",
                        readiness=HttpProbe("/"), liveness=HttpProbe("/")))
    return stack
'''


def test_lint_and_explain_through_the_cli(tmp_path: Path) -> None:
    write_stack(tmp_path, "prod", STACK)
    result = CliRunner().invoke(app, ["lint", str(tmp_path / "stacks/prod")])
    assert result.exit_code == 0, result.output
    assert "KG504" in result.output and "whose pods run with hostNetwork" in result.output
    explain = run_cli("explain", "KG504", cwd=tmp_path)
    assert explain.returncode == 0, explain.stderr
    assert "NetworkPolicies are not relied on for hostNetwork pods" in explain.stdout
    assert "#networkpolicy-and-hostnetwork-pods" in explain.stdout
