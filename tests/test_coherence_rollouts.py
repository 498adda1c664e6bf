"""Rollouts that can finish: single-node volumes and host ports never need two pods at once.

A Deployment that runs several replicas, or whose RollingUpdate surges, needs two pods at once;
with a ReadWriteOnce claim or a host port one of them waits forever. Each violating stack fails
(exit 2) naming the stack line, the workload, the field and the fix; the fixed one renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import kubegen
from kubegen import (
    Claim,
    CoherenceError,
    Container,
    DaemonSet,
    Deployment,
    HttpProbe,
    Manifest,
    Namespace,
    Port,
    Stack,
    StatefulSet,
)
from tests.helpers import run_cli, write_stack

IMAGE = "ghcr.io/acme/app:1.0"
R = "binds the node's port for the legacy load balancer"
PROBES: dict[str, Any] = {"readiness": HttpProbe("/ready"), "liveness": HttpProbe("/healthz")}

UPLOADS = """
from kubegen import Claim, Deployment, Stack

def build() -> Stack:
    stack = Stack("media", namespace="media")
    stack.add(Deployment("uploader", image="ghcr.io/acme/uploader:1.0",
                         mounts={{"/srv/uploads": Claim("uploads")}}{strategy}))
    return stack
"""


def test_a_surging_rollout_onto_a_read_write_once_claim_fails_the_render(tmp_path: Path):
    write_stack(tmp_path, "media", UPLOADS.format(strategy=""))
    result = run_cli("render", "stacks/media", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    error = result.stderr
    assert error.startswith(
        "error: stacks/media/__init__.py:5: Deployment media/uploader: field "
        "'spec.template.spec.volumes[0].persistentVolumeClaim': its rollout can never finish: "
        "claim 'uploads' is ReadWriteOnce (its access mode is unknown: ReadWriteOnce assumed), "
        "and RollingUpdate with maxSurge 25% starts the new pod before the old one stops"
    )
    assert 'Fix: use replicas=1 with strategy="Recreate"' in error
    assert "StatefulSet with storage=" in error
    assert not (tmp_path / "output").exists()


def test_the_recreate_strategy_fixes_it(tmp_path: Path):
    write_stack(tmp_path, "media", UPLOADS.format(strategy=', strategy="Recreate"'))
    result = run_cli("render", "stacks/media", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    body = yaml.safe_load((tmp_path / "output/media/media/deployment-uploader.yaml").read_text())
    assert body["spec"]["strategy"] == {"type": "Recreate"}


def _error(stack: Stack) -> str:
    with pytest.raises(CoherenceError) as caught:
        kubegen.render(stack)
    return str(caught.value)


def _stack(*resources: Any, privileged: bool = False) -> Stack:
    stack = Stack("app", namespace="app")
    if privileged:
        stack.add(Namespace("app", pod_security="privileged", reason="host ports for the LB"))
    for resource in resources:
        stack.add(resource)
    return stack


def test_replicas_sharing_a_read_write_once_claim_need_a_stateful_set():
    stack = _stack(Deployment("api", image=IMAGE, replicas=3, strategy="Recreate",
                              mounts={"/data": Claim("data")}))
    message = _error(stack)
    assert "its 3 pods cannot all run: claim 'data' is ReadWriteOnce" in message
    assert "StatefulSet with storage=" in message and "ReadWriteMany" in message


def test_a_shared_claim_declared_read_write_many_renders():
    stack = _stack(Deployment("api", image=IMAGE, replicas=3,
                              mounts={"/data": Claim("data", access_mode="ReadWriteMany")}))
    assert "app/deployment-api.yaml" in kubegen.render(stack)
    once = _stack(Deployment("api", image=IMAGE, mounts={
        "/data": Claim("data", access_mode="ReadWriteOncePod")}))
    assert "claim 'data' is ReadWriteOncePod, and RollingUpdate" in _error(once)


def _claim(name: str, *modes: str) -> Manifest:
    return Manifest({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": name},
                     "spec": {"accessModes": list(modes),
                              "resources": {"requests": {"storage": "1Gi"}}}})


def test_a_rendered_claim_is_read_for_its_access_modes():
    shared = _stack(_claim("data", "ReadWriteMany"),
                    Deployment("api", image=IMAGE, replicas=2, mounts={"/data": Claim("data")}))
    assert "app/deployment-api.yaml" in kubegen.render(shared)
    single = _stack(_claim("data", "ReadWriteOnce"),
                    Deployment("api", image=IMAGE, replicas=2,
                               mounts={"/data": Claim("data", access_mode="ReadWriteMany")}))
    assert "claim 'data' is ReadWriteOnce" in _error(single)  # the object wins


def _raw_deployment(replicas: int) -> Manifest:
    pod = kubegen.render(_stack(Deployment("x", image=IMAGE, strategy="Recreate",
                                           mounts={"/data": Claim("data")})))
    body = yaml.safe_load(pod["app/deployment-x.yaml"])
    body["metadata"] = {"name": "raw"}
    body["spec"]["replicas"] = replicas
    return Manifest(body)


def test_raw_workloads_are_checked_only_against_claims_the_stack_knows():
    assert "app/deployment-raw.yaml" in kubegen.render(_stack(_raw_deployment(3)))
    known = _stack(_claim("data", "ReadWriteOnce"), _raw_deployment(3))
    assert "Deployment app/raw: " in _error(known)


def _host_port_api(**options: Any) -> Deployment:
    return Deployment("api", container=Container(
        image=IMAGE, ports=[Port(8080, name="http", host_port=8080)], allow_host_ports=R,
        **PROBES), **options)


def test_host_ports_need_one_pod_at_a_time():
    message = _error(_stack(_host_port_api(), privileged=True))
    assert "its rollout can never finish: container 'api' binds hostPort 8080" in message
    assert "field 'spec.template.spec.containers[0].ports[0].hostPort'" in message
    assert "a DaemonSet for one pod per node" in message
    assert "app/deployment-api.yaml" in kubegen.render(
        _stack(_host_port_api(strategy="Recreate"), privileged=True))
    assert "its 2 pods cannot all run" in _error(
        _stack(_host_port_api(strategy="Recreate", replicas=2), privileged=True))


def test_a_host_network_pod_binds_its_container_ports():
    stack = _stack(Deployment("api", image=IMAGE, port=Port(9100, name="metrics"),
                              allow_host_network=R, **PROBES), privileged=True)
    message = _error(stack)
    assert "container 'api' listens on port 9100 of the node (hostNetwork)" in message


def test_no_surge_means_one_pod_at_a_time():
    stack = _stack(Deployment("api", image=IMAGE, max_surge=0, max_unavailable=1,
                              mounts={"/data": Claim("data")}))
    assert "app/deployment-api.yaml" in kubegen.render(stack)


def _agent(**options: Any) -> DaemonSet:
    return DaemonSet("agent", container=Container(
        image=IMAGE, ports=[Port(9100, name="metrics", host_port=9100)], allow_host_ports=R,
        **PROBES), **options)


def test_a_daemon_set_surge_cannot_bind_the_host_port_of_its_old_pod():
    message = _error(_stack(_agent(max_surge=1, max_unavailable=0), privileged=True))
    assert "RollingUpdate with maxSurge 1 starts the new pod before the old one stops" in message
    assert "keep max_surge=0" in message
    assert "app/daemonset-agent.yaml" in kubegen.render(_stack(_agent(), privileged=True))


def test_stateful_set_replicas_need_their_own_claims():
    shared = _stack(StatefulSet("db", image=IMAGE, replicas=2,
                                mounts={"/var/lib/db": Claim("shared")}))
    assert "give each replica its own claim" in _error(shared)
    own = _stack(StatefulSet("db", image=IMAGE, replicas=2, storage="1Gi"))
    assert "app/statefulset-db.yaml" in kubegen.render(own)


def test_all_problems_are_reported_together():
    stack = _stack(Deployment("first", image=IMAGE, mounts={"/d": Claim("d")}),
                   Deployment("second", image=IMAGE, mounts={"/d": Claim("e")}))
    assert _error(stack).startswith("2 objects the cluster would refuse or never run:")
