"""Defaults made visible (KG210): a container never runs on resources nobody chose.

A container without ``resources`` gets the stack's ``StackDefaults.resources``, and when the stack
did not set those either, kubegen's built-in ``cpu: 100m, memory: 128Mi`` (limits equal to the
requests). That guess is right for a small web process and wrong for a database or a JVM (OOM
kills at 128Mi, CPU throttling at 100m). So the guess is never silent: a note in every profile,
an error in ``prod``. What the stack knows about its builders comes from the lint facts
(:mod:`kubegen._coherence.facts`); YAML read back without them draws no finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubegen._policy.context import POD_KINDS, LintContext, PodView, as_dict
from kubegen._policy.model import Hit, Levels
from kubegen._policy.registry import E, I, rule

KIA = "Kubernetes in Action (2nd ed.), 'Managing the pod's computational resources'"
DOCS = "Kubernetes docs, 'Resource Management for Pods and Containers'"


def _shown(resources: dict[str, object]) -> str:
    requests = as_dict(resources.get("requests"))
    limits = as_dict(resources.get("limits"))
    parts = [f"requests {', '.join(f'{k} {v}' for k, v in requests.items())}"]
    if limits:
        parts.append(f"limits {', '.join(f'{k} {v}' for k, v in limits.items())}")
    return "; ".join(parts)


def _hits(pod: PodView, names: set[str]) -> Iterator[Hit]:
    for c in pod.containers(("initContainers", "containers")):
        if c.name in names:
            yield Hit(
                pod.obj,
                f"{c.path}.resources",
                f"{c.label} sets no resources and the stack no StackDefaults(resources=...): "
                f"it runs on kubegen's guess ({_shown(as_dict(c.body.get('resources')))})",
            )


@rule(
    "KG210",
    name="resources-defaulted",
    title="Every container's resources were chosen (its own or the stack's defaults)",
    levels=Levels(baseline=I, restricted=I, prod=E),
    reason="Requests decide where a pod is scheduled and limits when it is throttled or "
    "OOM-killed. kubegen's built-in 100m CPU / 128Mi memory keeps an unsized container "
    "schedulable and the scanners' 'limits set' checks green, but a database or a JVM under "
    "them is killed or crawls: production workloads are sized on purpose.",
    sources=(DOCS, KIA),
    fix="Size the container from its real usage: resources=Resources(cpu='500m', "
    "memory='1Gi'), or set the stack's defaults on purpose: Stack(..., "
    "defaults=StackDefaults(resources=Resources(...))).",
    scanners=(),
    tags=("reliability",),
    kinds=POD_KINDS,
)
def resources_defaulted(ctx: LintContext) -> Iterator[Hit]:
    facts = ctx.facts
    if facts is None or facts.explicit_defaults:
        return
    workloads = facts.workloads
    if not workloads:
        return
    for pod in ctx.pods:
        obj = pod.obj
        known = workloads.get((obj.kind, obj.namespace or "", obj.name))
        if known is not None and known.defaulted:
            yield from _hits(pod, set(known.defaulted))
