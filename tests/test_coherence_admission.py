"""Pod Security Admission of the target namespace: refused pods are render errors, not findings.

A pod that the ``enforce`` level of its namespace rejects fails the render (exit 2) with a
message naming the stack line, the workload, the field, the opt-out, the namespace and its level,
and both fixes; opt-outs and waivers do not change that. ``warn``/``audit`` levels and unknown
namespaces are lint warnings (KG130–KG132).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import kubegen
from kubegen import (
    Cluster,
    CoherenceError,
    Container,
    DaemonSet,
    Deployment,
    Manifest,
    Namespace,
    Port,
    Stack,
)
from kubegen._cli.app import app
from tests.helpers import run_cli, snapshot_tree, write_stack

IMAGE = "ghcr.io/acme/agent:1.0"
R = "reads node metrics"

AGENT = """
from kubegen import DaemonSet, Namespace, Stack

def build() -> Stack:
    stack = Stack("agents", namespace="monitoring")
{namespace}    stack.add(DaemonSet("node-agent", image="ghcr.io/acme/agent:1.0",
                        allow_host_network="reads node metrics"))
    return stack
"""
FIXED_NAMESPACE = (
    "    stack.add(Namespace('monitoring', pod_security='privileged',\n"
    "                        reason='node agents share the host network'))\n"
)


def test_a_refused_pod_fails_the_render_with_both_fixes(tmp_path: Path):
    write_stack(tmp_path, "agents", AGENT.format(namespace=""))
    (tmp_path / "output" / "agents").mkdir(parents=True)
    (tmp_path / "output" / "agents" / "keep.txt").write_text("mine\n")
    before = snapshot_tree(tmp_path / "output")
    result = run_cli("render", "stacks/agents", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    error = result.stderr
    assert "Traceback" not in error
    assert error.startswith(
        "error: stacks/agents/__init__.py:5: DaemonSet monitoring/node-agent: "
        "field 'spec.template.spec.hostNetwork': Pod Security Admission would reject its pods: "
        "namespace 'monitoring' enforces restricted (v1.33; the stack's Namespace monitoring "
        "(stacks/agents/__init__.py:4))"
    )
    assert "host namespaces (hostNetwork is true), set by allow_host_network" in error
    assert "never the cluster's admission" in error
    fix = error.split("Fix: ", 1)[1]
    assert "Namespace('node-agents', pod_security='privileged', reason=" in fix
    assert "Cluster(..., namespaces={'node-agents': 'privileged'})" in fix
    assert "namespace='node-agents'" in fix
    # the stack renders 'monitoring': raising its own level is the other fix (FIXED_NAMESPACE)
    assert "or, if every pod of 'monitoring' may run at that level, raise it there: " \
           "stack.add(Namespace('monitoring', pod_security='privileged', reason=" in fix
    assert "or drop allow_host_network" in fix
    assert snapshot_tree(tmp_path / "output") == before


def test_the_fixed_stack_renders_with_the_namespace_reason(tmp_path: Path):
    write_stack(tmp_path, "agents", AGENT.format(namespace=FIXED_NAMESPACE))
    result = run_cli("render", "stacks/agents", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    namespace = yaml.safe_load(
        (tmp_path / "output" / "agents" / "_cluster" / "namespace-monitoring.yaml").read_text())
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert namespace["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-pod-security": "node agents share the host network"}


@pytest.mark.parametrize("command", ["lint", "check", "diff", "graph", "access"])
def test_every_command_refuses_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str):
    write_stack(tmp_path, "agents", AGENT.format(namespace=""))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, [command, "stacks/agents"])
    assert result.exit_code == 2
    assert "Pod Security Admission would reject its pods" in result.output


def _rendered(stack: Stack) -> dict[str, Any]:
    return {path: yaml.safe_load(text) for path, text in kubegen.render(stack).items()}


def _refusal(stack: Stack) -> str:
    with pytest.raises(CoherenceError) as caught:
        kubegen.render(stack)
    with pytest.raises(CoherenceError):
        kubegen.lint(stack)  # the library's lint refuses it too
    return str(caught.value)


# opt-out → (workload keywords, the argument the message names)
OPT_OUTS: dict[str, tuple[dict[str, Any], str]] = {
    "host-network": ({"allow_host_network": R}, "allow_host_network"),
    "host-pid": ({"allow_host_pid": R}, "allow_host_pid"),
    "host-ipc": ({"allow_host_ipc": R}, "allow_host_ipc"),
    "run-as-root": ({"run_as_user": 0, "allow_run_as_root": R}, "allow_run_as_root"),
    "unconfined-seccomp": ({"allow_unconfined_seccomp": R}, "allow_unconfined_seccomp"),
    "privileged": ({"allow_privileged": R}, "allow_privileged on container 'agent'"),
    "privilege-escalation": ({"allow_privilege_escalation": R},
                             "allow_privilege_escalation on container 'agent'"),
    "capabilities": ({"capabilities": ["NET_ADMIN"], "allow_capabilities": R},
                     "allow_capabilities on container 'agent'"),
    "host-ports": ({"ports": [Port(9100, name="metrics", host_port=9100)],
                    "allow_host_ports": R, "allow_no_probes": R},
                   "allow_host_ports on container 'agent'"),
}


@pytest.mark.parametrize("what", sorted(OPT_OUTS))
def test_each_pod_security_opt_out_is_refused_in_a_restricted_namespace(what: str):
    keywords, argument = OPT_OUTS[what]
    stack = Stack("agents", namespace="shop")
    stack.add(DaemonSet("agent", image=IMAGE, **keywords))
    stack.waive("KG101", reason="waivers do not reach the cluster either")
    message = _refusal(stack)
    assert f"set by {argument}" in message and f"drop {argument}" in message
    assert "namespace 'shop' enforces restricted" in message


@pytest.mark.parametrize("what", sorted(OPT_OUTS))
def test_each_opt_out_renders_in_a_namespace_that_admits_it(what: str):
    keywords, _ = OPT_OUTS[what]
    stack = Stack("agents", namespace="shop")
    stack.add(Namespace("shop", pod_security="privileged", reason="node agents"))
    stack.add(DaemonSet("agent", image=IMAGE, **keywords))
    assert "shop/daemonset-agent.yaml" in _rendered(stack)
    assert not [f for f in kubegen.lint(stack).findings if f.rule_id.startswith("KG13")]


def test_the_lowest_level_that_admits_the_pod_is_suggested():
    stack = Stack("agents", namespace="shop")
    stack.add(DaemonSet("agent", image=IMAGE, allow_run_as_root=R, run_as_user=0))
    message = _refusal(stack)
    assert "pod_security='baseline'" in message  # runAsUser 0 is only restricted's concern
    line = inspect.currentframe().f_lineno - 3  # type: ignore[union-attr]
    assert message.startswith(f"tests/test_coherence_admission.py:{line}: DaemonSet shop/agent: ")


def test_a_cluster_namespace_is_checked_at_its_declared_level():
    stack = Stack("agents", namespace="ingress", create_namespace=False,
                  cluster=Cluster("prod-eu", namespaces={"ingress": "baseline"}))
    stack.add(DaemonSet("agent", image=IMAGE, allow_host_network=R))
    message = _refusal(stack)
    assert ("namespace 'ingress' enforces baseline (v1.33; Cluster 'prod-eu' "
            "(namespaces={'ingress': 'baseline'}))") in message
    admitted = Stack("agents", namespace="ingress", create_namespace=False,
                     cluster=Cluster("prod-eu", namespaces={"ingress": "baseline"}))
    admitted.add(DaemonSet("agent", image=IMAGE, run_as_user=0, allow_run_as_root=R))
    report = kubegen.lint(admitted)  # no CoherenceError: baseline admits runAsUser 0
    assert not [f for f in report.findings if f.rule_id.startswith("KG1") and not f.waived]


def _labelled_namespace(**labels: str) -> Manifest:
    return Manifest({"apiVersion": "v1", "kind": "Namespace", "metadata": {
        "name": "shop", "labels": {f"pod-security.kubernetes.io/{k.replace('_', '-')}": v
                                   for k, v in labels.items()}}})


def _rmem_pod(stack: Stack) -> None:
    """A pod using a sysctl that only Kubernetes 1.32+ counts as safe."""
    stack.add(Manifest({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tuned"},
                        "spec": {"securityContext": {"sysctls": [
                            {"name": "net.ipv4.tcp_rmem", "value": "4096 87380 6291456"}]},
                            "containers": [{"name": "app", "image": IMAGE}]}}))


def test_the_enforce_version_label_is_honoured():
    pinned = Stack("tuned", namespace="shop", kubernetes_version="1.33")
    pinned.add(_labelled_namespace(enforce="baseline", enforce_version="v1.31"))
    _rmem_pod(pinned)
    with pytest.raises(CoherenceError, match=r"enforces baseline \(v1\.31;.*sysctls \(sysctl "
                       r'"net.ipv4.tcp_rmem" is safe only from 1.32\)'):
        pinned.objects() and kubegen.lint(pinned)
    latest = Stack("tuned", namespace="shop", kubernetes_version="1.33")
    latest.add(_labelled_namespace(enforce="baseline", enforce_version="latest"))
    _rmem_pod(latest)
    assert {f.rule_id for f in kubegen.lint(latest).findings} >= {"KG123"}  # lint, not admission


def test_an_unknown_level_fails_closed_like_the_admission_controller():
    stack = Stack("tuned", namespace="shop")
    stack.add(_labelled_namespace(enforce="strict"))  # not a level: restricted applies
    stack.add(DaemonSet("agent", image=IMAGE, run_as_user=0, allow_run_as_root=R))
    assert "enforces restricted" in _refusal(stack)


def test_warn_and_audit_mismatches_are_warnings():
    stack = Stack("agents", namespace="shop")
    stack.add(_labelled_namespace(enforce="baseline", warn="restricted", audit="restricted"))
    stack.waive("KG603", reason="moving to restricted: warn and audit first")
    stack.add(DaemonSet("agent", image=IMAGE, run_as_user=0, allow_run_as_root=R))
    report = kubegen.lint(stack)
    found = {f.rule_id: f for f in report.findings if f.rule_id in ("KG130", "KG131")}
    assert set(found) == {"KG130", "KG131"}
    assert found["KG130"].severity == "warning" and not found["KG130"].waived
    assert found["KG130"].message.startswith(
        "namespace 'shop' warns at restricted (latest = v1.33) (the stack's Namespace shop")
    assert "running as non-root user (pod has runAsUser 0)" in found["KG130"].message
    assert "shop/daemonset-agent.yaml" in kubegen.render(stack)


def test_a_namespace_of_unknown_level_is_a_warning_not_silence():
    stack = Stack("agents", namespace="elsewhere", create_namespace=False)
    stack.add(Deployment("api", image=IMAGE))
    (finding,) = [f for f in kubegen.lint(stack).findings if f.rule_id == "KG132"]
    assert (finding.severity, finding.path) == ("warning", "metadata.namespace")
    assert "namespace 'elsewhere' is neither rendered by the stack nor declared" in (
        finding.message)
    declared = Stack("agents", namespace="elsewhere", create_namespace=False,
                     cluster=Cluster("lab", namespaces={"elsewhere": "restricted"}))
    declared.add(Deployment("api", image=IMAGE))
    assert not [f for f in kubegen.lint(declared).findings if f.rule_id == "KG132"]


def test_every_refused_pod_is_listed_in_stack_order():
    stack = Stack("agents", namespace="shop")
    stack.add(DaemonSet("second", image=IMAGE, allow_host_pid=R))
    stack.add(Deployment("first", container=Container(image=IMAGE, allow_privileged=R)))
    message = _refusal(stack)
    head, *problems = message.splitlines()
    assert head == "2 objects the cluster would refuse or never run:"
    located = [line for line in problems if not line.startswith("  Fix:")]
    assert [line.split(": ")[1] for line in located] == [
        "DaemonSet shop/second", "Deployment shop/first"]


def test_a_compliant_stack_passes_untouched():
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image=IMAGE))
    stack.add(Namespace("tools", pod_security="baseline", reason="debug pods"))
    assert "shop/deployment-api.yaml" in kubegen.render(stack)
