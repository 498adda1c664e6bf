"""Helpers shared by the RBAC and access tests: workloads to grant to, rendered objects."""

from __future__ import annotations

from typing import Any

import yaml

from kubegen import ApiServer, Cluster, Deployment, HttpProbe, Job, Port, Stack
from kubegen._render.files import render_files

IMAGE = "ghcr.io/acme/api:1.2.3@sha256:" + "0123456789abcdef" * 4
# A granted workload needs a route to the API server, so stacks that grant declare where it is.
CLUSTER = Cluster("test", api_server=ApiServer(addresses=["10.0.0.10/32"], port=6443))


def deployment(name: str, **fields: Any) -> Deployment:
    """A Deployment that passes every workload check, to grant API access to."""
    return Deployment(
        name,
        image=IMAGE,
        port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz"),
        **fields,
    )


def job(name: str, **fields: Any) -> Job:
    """A Job (a non-serving workload) to grant API access to."""
    return Job(name, image=IMAGE, **fields)


def rendered(stack: Stack) -> dict[str, dict[str, Any]]:
    """Path → parsed YAML document of every file ``kubegen render`` would write."""
    return {
        path: yaml.safe_load(content)
        for path, content in render_files(stack.objects()).items()
        if path != "kustomization.yaml"
    }


def by_key(stack: Stack) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(kind, namespace or "", name) → body of every object the stack renders."""
    return {(obj.kind, obj.namespace or "", obj.name): obj.body for obj in stack.objects()}


def annotations(body: dict[str, Any]) -> dict[str, str]:
    return dict(body["metadata"].get("annotations") or {})
