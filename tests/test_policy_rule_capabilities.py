"""KG211: an added capability reaches a container's process only when it runs as root.
KG212: a non-root process binds a port below 1024 only where the pod's sysctl opens it.

capabilities(7): on execve a non-root process keeps only ambient and file capabilities, and
Kubernetes sets no ambient ones (kubernetes/kubernetes#56374); ip(7): binding below
``ip_unprivileged_port_start`` needs CAP_NET_BIND_SERVICE.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubegen import Container, DaemonSet, Deployment, Namespace, Port, Stack, TcpProbe, lint

SLEEP: dict[str, Any] = {"image": "alpine:3.20.3", "command": ["sleep", "999999"]}


def _kg211(stack: Stack) -> list[tuple[str, str, str]]:
    return [(f.resource, f.path, f.message) for f in lint(stack).findings if f.rule_id == "KG211"]


def _stack(**options: Any) -> Stack:
    stack = Stack("nodes", namespace="nodes")
    stack.add(Namespace("nodes", pod_security="privileged", reason="sets the node's clock"))
    stack.add(DaemonSet("settime", **SLEEP, capabilities=["SYS_TIME"],
                        allow_capabilities="sets the node's clock", **options))
    return stack


def test_a_capability_added_to_a_non_root_container_is_a_warning() -> None:
    (hit,) = _kg211(_stack())
    assert hit == (
        "DaemonSet nodes/settime",
        "spec.template.spec.containers[0].securityContext.capabilities.add",
        "container 'settime' adds SYS_TIME but runs as uid 10001: the process gets none of "
        "them unless its binary carries them as file capabilities",
    )
    assert lint(_stack()).ok  # a warning: it never blocks a render


def test_root_containers_and_the_image_s_own_user_draw_nothing() -> None:
    assert _kg211(_stack(run_as_user=0, allow_run_as_root="date -s needs it")) == []
    stack = Stack("nodes", namespace="nodes")
    stack.add(Namespace("nodes", pod_security="privileged", reason="sets the node's clock"))
    stack.add(DaemonSet("settime", containers=[
        Container(name="as-root", **SLEEP, capabilities=["SYS_TIME"], run_as_user=0,
                  allow_capabilities="sets the node's clock"),
        Container(name="net", **SLEEP, capabilities=["NET_BIND_SERVICE"]),
    ], allow_run_as_root="date -s needs it"))
    assert [message.split(":")[0] for _, _, message in _kg211(stack)] == [
        "container 'net' adds NET_BIND_SERVICE but runs as uid 10001"]


def test_junk_users_ports_and_targets_draw_no_guess() -> None:
    """KG211 and KG507 leave malformed values to the schema check (KG001)."""
    from kubegen import Manifest

    stack = Stack("h", namespace="h")
    stack.add(Namespace("h", pod_security="privileged", reason="hostile input"))
    stack.add(Manifest({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": "p", "labels": {"a": "b"}},
                        "spec": {"securityContext": None, "containers": [
                            {"name": "c", "image": "x:1", "ports": [
                                {"hostPort": "x", "containerPort": None}, "junk"],
                             "securityContext": {"capabilities": {"add": ["SYS_TIME"]},
                                                 "runAsUser": "5"}}, "junk"]}}))
    stack.add(Manifest({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                        "spec": {"type": "NodePort", "selector": {"a": "b"},
                                 "ports": ["junk", {"targetPort": None}]}}))
    found = {f.rule_id for f in lint(stack).findings}
    assert "KG001" in found and not {"KG211", "KG212", "KG507"} & found


APACHE: dict[str, Any] = {"image": "httpd:2.4.62", "readiness": TcpProbe(),
                          "liveness": TcpProbe()}


def _kg212(**options: Any) -> list[tuple[str, str]]:
    stack = Stack("web", namespace="web")
    if "allow_run_as_root" in options:
        stack.add(Namespace("web", pod_security="baseline", reason="Apache starts as root"))
    stack.add(Deployment("web", **APACHE, **options))
    return [(f.path, f.message) for f in lint(stack).findings if f.rule_id == "KG212"]


def test_a_non_root_server_on_port_80_is_a_warning_naming_the_port() -> None:
    assert _kg212(ports=[Port(8080, name="alt"), Port(80, name="http")]) == [(
        "spec.template.spec.containers[0].ports[1].containerPort",
        "container 'web' listens on port 80 as uid 10001: the bind fails where the runtime "
        "keeps the kernel's default (containerd 1.x)")]
    assert _kg212(port=80, sysctls={"net.ipv4.ip_unprivileged_port_start": 443}) == [(
        "spec.template.spec.containers[0].ports[0].containerPort",
        "container 'web' listens on port 80 as uid 10001: the bind fails since the pod's "
        "net.ipv4.ip_unprivileged_port_start is 443")]


@pytest.mark.parametrize("options", [
    {"port": 80, "sysctls": {"net.ipv4.ip_unprivileged_port_start": 0}},
    {"port": 80, "sysctls": {"net.ipv4.ip_unprivileged_port_start": "80"}},
    {"port": 8080},
    {"port": 80, "run_as_user": 0, "allow_run_as_root": "Apache starts as root"},
    {"port": 80, "capabilities": ["NET_BIND_SERVICE"]},  # KG211's case instead
])
def test_opened_ports_root_high_ports_and_the_capability_draw_nothing(
        options: dict[str, Any]) -> None:
    assert _kg212(**options) == []


def test_a_host_network_pod_keeps_the_node_s_setting() -> None:
    stack = Stack("web", namespace="web")
    stack.add(Namespace("web", pod_security="privileged", reason="node-level proxy"))
    stack.add(DaemonSet("proxy", **APACHE, port=80, allow_host_network="serves on the node"))
    assert [f.path for f in lint(stack).findings if f.rule_id == "KG212"] == [
        "spec.template.spec.containers[0].ports[0].containerPort"]
