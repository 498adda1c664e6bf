"""Helpers shared by the network tests: real Deployments with given ports, and rendered bodies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubegen import DaemonSet, Deployment, Port, Stack, StatefulSet
from kubegen._builders.workloads.base import Workload
from kubegen._render.yaml_emitter import dump

IMAGE = "ghcr.io/acme/app:1.2.3@sha256:" + "0123456789abcdef" * 4

PortSpec = tuple[str, int, str]  # (name, number, protocol)
HTTP: PortSpec = ("http", 8080, "TCP")


KINDS = {"Deployment": Deployment, "StatefulSet": StatefulSet, "DaemonSet": DaemonSet}


def workload(
    kind: str, name: str, ports: Iterable[PortSpec] = (HTTP,), namespace: str | None = None
) -> Workload:
    """A ``kind`` workload serving ``ports`` (probes waived: these tests are about networks)."""
    built: Workload = KINDS[kind](
        name,
        namespace=namespace,
        image=IMAGE,
        ports=[Port(number, name=port_name, protocol=proto) for port_name, number, proto in ports],
        allow_no_probes="network test double",
    )
    return built


def deployment(
    name: str, ports: Iterable[PortSpec] = (HTTP,), namespace: str | None = None
) -> Deployment:
    """A Deployment serving ``ports``."""
    built = workload("Deployment", name, ports, namespace)
    assert isinstance(built, Deployment)
    return built


def bodies(stack: Stack) -> list[dict[str, Any]]:
    return [obj.body for obj in stack.objects()]


def policies(stack: Stack) -> dict[tuple[str | None, str], dict[str, Any]]:
    """(namespace, name) → NetworkPolicy body."""
    return {
        (obj.namespace, obj.name): obj.body
        for obj in stack.objects()
        if obj.kind == "NetworkPolicy"
    }


def policy_yaml(stack: Stack) -> str:
    """Every NetworkPolicy as YAML, in render order: what a determinism test compares."""
    return "---\n".join(dump(obj.body) for obj in stack.objects() if obj.kind == "NetworkPolicy")
