"""Helpers shared by the workload tests: a pinned image, and finding rendered objects."""

from __future__ import annotations

from typing import Any

from kubegen import Stack

DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"ghcr.io/acme/api:1.2.3@{DIGEST}"
TAGGED = "ghcr.io/acme/api:1.2.3"


def objects_by_kind(stack: Stack) -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, name) → body of every object the stack renders."""
    return {(obj.kind, obj.name): obj.body for obj in stack.objects()}


def pod_spec(body: dict[str, Any]) -> dict[str, Any]:
    """The pod spec inside any pod-bearing object."""
    spec = body["spec"]
    if body["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]  # type: ignore[no-any-return]
