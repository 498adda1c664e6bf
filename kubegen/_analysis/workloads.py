"""What a reviewer checks on a pod-running object, read from its manifest.

:func:`workload_facts` flattens a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob
or Pod into the fields whose change matters to availability: the images of its containers (tag
and digest), replicas, requests and limits, probes, the rollout strategy and, for a StatefulSet,
its volume claim templates. Each fact is a short readable string keyed by a stable name
(``image``, ``resources.limits.cpu``, ``probe.readiness``…), so two versions compare as two
dicts and ``kubegen review`` can say "replicas 3 → 5" without knowing the kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubegen._analysis.flows import _TEMPLATE_PATHS
from kubegen._manifests import ManifestObject, group_of

__all__ = ["WorkloadFacts", "autoscalers", "image_parts", "workload_facts"]

_PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
_PROBE_TIMING = (  # (field, label, unit)
    ("initialDelaySeconds", "delay", "s"),
    ("periodSeconds", "period", "s"),
    ("timeoutSeconds", "timeout", "s"),
    ("failureThreshold", "failures", ""),
    ("successThreshold", "successes", ""),
)


@dataclass(frozen=True, slots=True)
class WorkloadFacts:
    """The reviewable facts of one workload.

    ``pod`` holds pod-level facts (``replicas``, ``strategy``, ``serviceAccount``, ``token``…);
    ``containers`` the facts of each container by name (init containers prefixed ``init:``), in
    manifest order; ``claims`` the StatefulSet's volume claim templates by name (size, access
    modes, storage class).
    """

    pod: dict[str, str] = field(default_factory=dict)
    containers: dict[str, dict[str, str]] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    return str(value)


def workload_facts(obj: ManifestObject, autoscaler: str | None = None) -> WorkloadFacts | None:
    """The facts of a pod-running object; None for any other object.

    ``autoscaler``: what a HorizontalPodAutoscaler targeting ``obj`` makes of its replicas (see
    :func:`autoscalers`); it replaces ``spec.replicas``, which the autoscaler overrides.
    """
    if obj.kind not in _TEMPLATE_PATHS or obj.group not in ("", "apps", "batch"):
        return None
    template: Any = obj.body
    for key in _TEMPLATE_PATHS[obj.kind]:
        template = _dict(template).get(key)
    spec = _dict(_dict(template).get("spec"))
    facts = WorkloadFacts(pod=_pod_facts(obj))
    if autoscaler is not None:
        facts.pod["replicas"] = autoscaler
    if "serviceAccountName" in spec:
        facts.pod["serviceAccount"] = _text(spec["serviceAccountName"])
    facts.pod["token"] = _tokens(spec)
    for prefix, key in (("init:", "initContainers"), ("", "containers")):
        for container in _list(spec.get(key)):
            container = _dict(container)
            facts.containers[prefix + str(container.get("name", "?"))] = _container(container)
    if obj.kind == "StatefulSet":
        for claim in _list(_dict(obj.body.get("spec")).get("volumeClaimTemplates")):
            claim = _dict(claim)
            name = str(_dict(claim.get("metadata")).get("name", "?"))
            facts.claims[name] = _claim(_dict(claim.get("spec")))
    return facts


def _pod_facts(obj: ManifestObject) -> dict[str, str]:
    spec = _dict(obj.body.get("spec"))
    facts: dict[str, str] = {}
    if obj.kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        replicas = spec.get("replicas")
        facts["replicas"] = "1 (default)" if replicas is None else _text(replicas)
    strategy = spec.get("strategy") if obj.kind == "Deployment" else spec.get("updateStrategy")
    if strategy is not None:
        facts["strategy"] = _strategy(_dict(strategy))
    for key, name in (
        ("minReadySeconds", "minReadySeconds"),
        ("podManagementPolicy", "podManagementPolicy"),
        ("schedule", "schedule"),
        ("suspend", "suspend"),
        ("parallelism", "parallelism"),
        ("completions", "completions"),
    ):
        if key in spec:
            facts[name] = _text(spec[key])
    return facts


def _tokens(spec: Mapping[str, Any]) -> str:
    """The API credentials the pods get: ``none``, ``automounted`` (the ServiceAccount's
    default, unless the pod says false) and projected tokens with audience and lifetime."""
    found: list[str] = []
    if spec.get("automountServiceAccountToken") is not False:
        found.append("automounted unless the ServiceAccount says false")
    if spec.get("automountServiceAccountToken") is True:
        found[-1] = "automounted"
    for volume in _list(spec.get("volumes")):
        for source in _list(_dict(_dict(volume).get("projected")).get("sources")):
            token = _dict(_dict(source).get("serviceAccountToken"))
            if token:
                audience = token.get("audience")
                text = f"projected token for {audience}" if audience else "projected token"
                if "expirationSeconds" in token:
                    text += f" (expires after {token['expirationSeconds']} s)"
                found.append(text)
    return "; ".join(found) or "none"


def _strategy(strategy: Mapping[str, Any]) -> str:
    kind = str(strategy.get("type", "RollingUpdate"))
    details = _dict(strategy.get("rollingUpdate"))
    if not details:
        return kind
    return f"{kind} ({_text(details)})"


def _container(container: Mapping[str, Any]) -> dict[str, str]:
    facts: dict[str, str] = {}
    if "image" in container:
        facts["image"] = _text(container["image"])
    resources = _dict(container.get("resources"))
    for part in ("requests", "limits"):
        for name, value in _dict(resources.get(part)).items():
            facts[f"resources.{part}.{name}"] = _text(value)
    for key in _PROBES:
        if key in container:
            facts[f"probe.{key.removesuffix('Probe')}"] = probe_text(_dict(container[key]))
    return facts


def probe_text(probe: Mapping[str, Any]) -> str:
    """``http GET /ready on http, period 10, failures 3``: the handler, then the timings set."""
    if "httpGet" in probe:
        get = _dict(probe["httpGet"])
        scheme = str(get.get("scheme", "HTTP")).lower()
        handler = f"{scheme} GET {get.get('path', '/')} on {get.get('port')}"
    elif "tcpSocket" in probe:
        handler = f"tcp {_dict(probe['tcpSocket']).get('port')}"
    elif "grpc" in probe:
        handler = f"grpc {_dict(probe['grpc']).get('port')}"
    elif "exec" in probe:
        handler = f"exec {_text(_dict(probe['exec']).get('command', []))}"
    else:
        handler = "no handler"
    timing = [f"{label} {probe[key]}{unit}" for key, label, unit in _PROBE_TIMING if key in probe]
    return ", ".join([handler, *timing])


def _claim(spec: Mapping[str, Any]) -> str:
    size = _dict(_dict(spec.get("resources")).get("requests")).get("storage", "?")
    parts = [str(size), ",".join(str(m) for m in _list(spec.get("accessModes")))]
    if "storageClassName" in spec:
        parts.append(f"class {spec['storageClassName']}")
    return " ".join(p for p in parts if p)


def autoscalers(objects: Iterable[ManifestObject]) -> dict[tuple[str, str, str, str], str]:
    """The replicas each HorizontalPodAutoscaler sets, by its target's key (group, kind,
    namespace, name): ``3 to 12 (HorizontalPodAutoscaler api: cpu 70%)``.

    Kubernetes docs, "Horizontal Pod Autoscaling": the autoscaler owns the target's replicas
    between ``minReplicas`` (default 1) and ``maxReplicas``.
    """
    found: dict[tuple[str, str, str, str], str] = {}
    for obj in objects:
        if obj.kind != "HorizontalPodAutoscaler" or obj.group != "autoscaling":
            continue
        spec = _dict(obj.body.get("spec"))
        ref = _dict(spec.get("scaleTargetRef"))
        target = (group_of(_text(ref.get("apiVersion", ""))), _text(ref.get("kind", "")),
                  obj.namespace or "", _text(ref.get("name", "")))
        low, high = _text(spec.get("minReplicas", 1)), _text(spec.get("maxReplicas", "?"))
        on = _scaling_metrics(spec)
        scaler = f"HorizontalPodAutoscaler {obj.name}" + (f": {on}" if on else "")
        found[target] = f"{low} to {high} ({scaler})"
    return found


def _scaling_metrics(spec: Mapping[str, Any]) -> str:
    """``cpu 70%, memory 500Mi``; ``autoscaling/v1``'s ``targetCPUUtilizationPercentage``."""
    if "targetCPUUtilizationPercentage" in spec:
        return f"cpu {_text(spec['targetCPUUtilizationPercentage'])}%"
    parts = []
    for metric in _list(spec.get("metrics")):
        metric = _dict(metric)
        kind = _text(metric.get("type", "?"))
        body = _dict(metric.get(kind[:1].lower() + kind[1:]))
        target = _dict(body.get("target"))
        name = _text(body.get("name") or _dict(body.get("metric")).get("name") or kind)
        if "averageUtilization" in target:
            value = f"{_text(target['averageUtilization'])}%"
        else:
            value = _text(target.get("averageValue", target.get("value", "?")))
        parts.append(f"{name} {value}")
    return ", ".join(parts)


def image_parts(image: str) -> tuple[str, str, str]:
    """``registry/repo:tag@sha256:…`` → (repository, tag, digest); missing parts are ``""``."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest
