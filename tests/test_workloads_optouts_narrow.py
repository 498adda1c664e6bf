"""Opt-outs render coherently and narrowly: what a privileged container really runs with, and one
reason per host path (a second one to write to it), so no reason covers more than it says."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import kubegen
from kubegen import (
    CoherenceError,
    Container,
    DaemonSet,
    HostPath,
    Mount,
    Namespace,
    Stack,
    ValidationError,
)
from kubegen._manifests import ManifestObject
from kubegen._policy import lint

IMAGE = "ghcr.io/acme/agent:1.0"
NODE = "node agents share the host"


def _stack(*resources: Any) -> Stack:
    stack = Stack("agents", namespace="agents")
    stack.add(Namespace("agents", pod_security="privileged", reason=NODE))
    for resource in resources:
        stack.add(resource)
    return stack


def _daemonset(stack: Stack) -> dict[str, Any]:
    return yaml.safe_load(kubegen.render(stack)["agents/daemonset-agent.yaml"])  # type: ignore[no-any-return]


def test_a_privileged_container_renders_what_the_runtime_applies():
    stack = _stack(DaemonSet("agent", containers=[
        Container(image=IMAGE, allow_privileged="loads kernel modules"),
        Container(name="exporter", image=IMAGE),
    ]))
    pod = _daemonset(stack)["spec"]["template"]["spec"]
    privileged, exporter = (c["securityContext"] for c in pod["containers"])
    assert privileged == {
        "allowPrivilegeEscalation": True,
        "privileged": True,
        "readOnlyRootFilesystem": True,  # still applies
        "runAsNonRoot": True,  # still applies, as the pod's runAsUser does
        "seccompProfile": {"type": "Unconfined"},  # the runtime applies no filter to it
    }
    assert "capabilities" not in privileged  # it has them all; drop: [ALL] would be ignored
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert exporter["capabilities"] == {"drop": ["ALL"]} and "seccompProfile" not in exporter
    report = kubegen.lint(stack)
    assert report.ok
    waived = {(f.rule_id, f.path.split(".securityContext")[0][-13:]) for f in report.waived}
    assert {rule for rule, _ in waived} >= {"KG102", "KG110", "KG122", "KG126"}
    assert {where for rule, where in waived if rule != "KG603"} == {"containers[0]"}


@pytest.mark.parametrize(("extra", "field"), [
    ({"capabilities": ["SYS_ADMIN"], "allow_capabilities": "mounts"}, "capabilities"),
    ({"allow_privilege_escalation": "setuid helper"}, "allow_privilege_escalation"),
])
def test_a_privileged_container_refuses_what_it_already_has(extra: dict[str, Any], field: str):
    with pytest.raises(ValidationError) as caught:
        Container(image=IMAGE, allow_privileged="loads kernel modules", **extra)
    assert caught.value.field == field
    assert "Fix: drop" in str(caught.value)


def test_each_host_path_carries_its_own_reason_and_read_only_flag():
    stack = _stack(DaemonSet("agent", image=IMAGE, mounts={
        "/var/log": HostPath("/var/log", reason="ships the node's logs"),
        "/run/containerd/containerd.sock": HostPath(
            "/run/containerd/containerd.sock", type="Socket", reason="lists containers",
            allow_write="the CRI API is a socket: connecting needs write access"),
    }))
    body = _daemonset(stack)
    assert body["metadata"]["annotations"] == {
        "kubegen.dev/opt-out-host-path.host-var-log": "ships the node's logs",
        "kubegen.dev/opt-out-host-path.host-run-containerd-containerd-sock": "lists containers",
        "kubegen.dev/opt-out-host-path-write.host-run-containerd-containerd-sock":
            "the CRI API is a socket: connecting needs write access",
    }
    mounts = body["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert [(m["mountPath"], m.get("readOnly", False)) for m in mounts] == [
        ("/var/log", True), ("/run/containerd/containerd.sock", False)]
    waived = [(f.rule_id, f.path, f.waiver_reason) for f in kubegen.lint(stack).waived
              if f.rule_id == "KG104"]
    assert waived == [
        ("KG104", "spec.template.spec.volumes[0].hostPath", "ships the node's logs"),
        ("KG104", "spec.template.spec.volumes[1].hostPath", "lists containers"),
    ]


def test_a_host_path_checks_its_type_unless_told_not_to():
    body = _daemonset(_stack(DaemonSet("agent", image=IMAGE, mounts={
        "/var/log": HostPath("/var/log", reason="ships the node's logs"),
        "/run/xtables.lock": HostPath("/run/xtables.lock", type="FileOrCreate", reason="iptables",
                                      allow_write="takes the iptables lock"),
        "/host": HostPath("/", type=None, reason="reads every filesystem of the node"),
    })))
    volumes = {v["name"]: v["hostPath"] for v in body["spec"]["template"]["spec"]["volumes"]}
    assert volumes == {
        "host-var-log": {"path": "/var/log", "type": "Directory"},  # it must exist
        "host-run-xtables-lock": {"path": "/run/xtables.lock", "type": "FileOrCreate"},
        "host": {"path": "/"},  # Kubernetes' default (""): no check before mounting
    }


def test_a_writable_host_path_needs_its_own_reason():
    with pytest.raises(ValidationError) as caught:
        Mount(HostPath("/run/containerd/containerd.sock", reason="lists containers"),
              read_only=False)
    assert caught.value.field == "read_only"
    assert "needs its own reason" in str(caught.value)
    assert "allow_write='why a container writes to the node'" in str(caught.value)
    unused = HostPath("/var/log", reason="ships logs", allow_write="rotates them")
    with pytest.raises(ValidationError, match="every mount of it is read-only"):
        DaemonSet("agent", image=IMAGE, mounts={"/var/log": Mount(unused, read_only=True)})


def test_an_older_reason_never_covers_a_new_mount():
    body = yaml.safe_load(kubegen.render(_stack(DaemonSet("agent", image=IMAGE, mounts={
        "/var/log": HostPath("/var/log", reason="ships the node's logs")})))
        ["agents/daemonset-agent.yaml"])
    pod = body["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "host-root", "hostPath": {"path": "/"}})
    pod["containers"][0]["volumeMounts"].append({"name": "host-root", "mountPath": "/host"})
    findings = lint([ManifestObject(body)], schema=False).findings
    host_paths = {(f.path, f.waived) for f in findings if f.rule_id == "KG104"}
    assert host_paths == {("spec.template.spec.volumes[0].hostPath", True),
                          ("spec.template.spec.volumes[1].hostPath", False)}


def test_the_old_single_reason_is_refused_with_the_new_way():
    with pytest.raises(ValidationError) as caught:
        DaemonSet("agent", image=IMAGE, allow_host_path="reads logs",  # type: ignore[call-arg]
                  mounts={"/var/log": HostPath("/var/log", reason="reads logs")})
    assert caught.value.field == "allow_host_path"
    assert "HostPath('/var/log', reason='why')" in str(caught.value)


def test_admission_names_the_host_path_volume_that_needs_the_level():
    stack = Stack("agents", namespace="agents")
    stack.add(DaemonSet("agent", image=IMAGE, mounts={
        "/var/log": HostPath("/var/log", reason="ships the node's logs")}))
    with pytest.raises(CoherenceError) as caught:
        kubegen.render(stack)
    assert "set by HostPath(..., reason=...) on volume 'host-var-log'" in str(caught.value)
    assert "pod_security='baseline'" not in str(caught.value)  # baseline forbids hostPath too
