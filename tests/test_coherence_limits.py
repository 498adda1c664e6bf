"""LimitRanges and ResourceQuotas the stack renders: pods and claims the cluster would refuse.

The cases follow the admission plugins' code (``plugin/pkg/admission/limitranger``: min, max
and maxLimitRequestRatio per Container and per Pod, storage per claim, defaults filled in first;
the ResourceQuota evaluator: every tracked resource stated, totals within ``hard``), with the
values of *Kubernetes in Action*'s chapter "Managing pods' computational resources".
"""

from __future__ import annotations

from typing import Any

import pytest

from kubegen import (
    CoherenceError,
    Container,
    Deployment,
    Job,
    Manifest,
    Resources,
    Stack,
    StatefulSet,
    TcpProbe,
    render,
)

DD = {"image": "busybox:1.36.1", "command": ["dd", "if=/dev/zero", "of=/dev/null"]}


def limit_range(*limits: dict[str, Any], namespace: str | None = None) -> Manifest:
    return Manifest({"apiVersion": "v1", "kind": "LimitRange",
                     "metadata": {"name": "example", **({"namespace": namespace} if namespace
                                                        else {})},
                     "spec": {"limits": list(limits)}})


def quota(name: str, spec: dict[str, Any]) -> Manifest:
    return Manifest({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
                     "spec": spec})


def refusal(stack: Stack) -> str:
    with pytest.raises(CoherenceError) as caught:
        render(stack)
    return str(caught.value)


BOOK_CONTAINER = {"type": "Container", "min": {"cpu": "50m", "memory": "5Mi"},
                  "max": {"cpu": "1", "memory": "1Gi"},
                  "maxLimitRequestRatio": {"cpu": "4", "memory": "10"}}


def test_a_container_bursting_beyond_the_ratio_is_refused_at_its_line() -> None:
    stack = Stack("resources", namespace="resources")
    stack.add(limit_range(BOOK_CONTAINER))
    stack.add(Deployment("requests-pod", **DD, resources=Resources(
        cpu="200m", memory="10Mi", cpu_limit="1", memory_limit="20Mi")))
    message = refusal(stack)
    assert "test_coherence_limits.py:" in message
    assert "Deployment resources/requests-pod: field 'spec.template.spec.containers[0]." \
           "resources': LimitRange resources/example refuses it (container 'requests-pod': " \
           "cpu limit/request ratio per Container is at most 4, this has 5 (1 / 200m))" in message
    assert "Fix: set resources within the LimitRange" in message

    fixed = Stack("resources", namespace="resources")
    fixed.add(limit_range(BOOK_CONTAINER))
    fixed.add(Deployment("requests-pod", **DD, resources=Resources(
        cpu="200m", memory="10Mi", cpu_limit="800m", memory_limit="20Mi")))
    assert "resources/deployment-requests-pod.yaml" in render(fixed)


def test_min_and_max_per_container_and_per_pod() -> None:
    stack = Stack("resources", namespace="resources")
    stack.add(limit_range(BOOK_CONTAINER, {"type": "Pod", "max": {"memory": "1Gi"}}))
    stack.add(Deployment("tiny", **DD, resources=Resources(cpu="10m", memory="10Mi")))
    stack.add(Deployment("pair", containers=[
        Container(name="a", **DD, resources=Resources(cpu="100m", memory="768Mi")),
        Container(name="b", **DD, resources=Resources(cpu="100m", memory="768Mi")),
    ]))
    message = refusal(stack)
    assert "container 'tiny': minimum cpu per Container is 50m, this has 10m" in message
    assert "the pod's sum: maximum memory per Pod is 1Gi, this has 1536Mi" in message


def test_defaults_are_filled_in_before_the_rules_apply() -> None:
    # A container without resources gets defaultRequest/default; max alone defaults both.
    stack = Stack("resources", namespace="resources")
    stack.add(limit_range({"type": "Container", "max": {"cpu": "1", "memory": "1Gi"},
                           "maxLimitRequestRatio": {"cpu": "4"}}))
    stack.add(Deployment("besteffort", **DD, allow_no_resources="the LimitRange sizes it"))
    assert "resources/deployment-besteffort.yaml" in render(stack)

    # without any default, a minimum needs a request the container does not state
    stack = Stack("resources", namespace="resources")
    stack.add(limit_range({"type": "Container", "min": {"cpu": "50m"}},
                          {"type": "Pod", "max": {"cpu": "2"}}))
    stack.add(Deployment("besteffort", **DD, allow_no_resources="the LimitRange sizes it"))
    message = refusal(stack)
    assert "minimum cpu per Container is 50m but no request is set" not in message  # min defaults
    assert "maximum cpu per Pod is 2 but no limit is set" in message


def test_a_limit_range_applies_to_its_own_namespace_only() -> None:
    stack = Stack("resources", namespace="resources")
    stack.add(limit_range(BOOK_CONTAINER, namespace="elsewhere"))
    stack.add(Deployment("tiny", **DD, resources=Resources(cpu="10m", memory="10Mi")))
    assert "resources/deployment-tiny.yaml" in render(stack)


def test_claims_outside_the_storage_bounds_are_refused() -> None:
    stack = Stack("data", namespace="data")
    stack.add(limit_range({"type": "PersistentVolumeClaim", "min": {"storage": "1Gi"},
                           "max": {"storage": "10Gi"}}))
    stack.add(StatefulSet("kubia", image="luksa/kubia-pet:v1", storage="1Mi",
                          storage_path="/var/data"))
    stack.add(Manifest({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "big"},
                        "spec": {"accessModes": ["ReadWriteOnce"],
                                 "resources": {"requests": {"storage": "20Gi"}}}}))
    message = refusal(stack)
    assert "StatefulSet data/kubia: field 'spec.volumeClaimTemplates[0].spec.resources." \
           "requests.storage': LimitRange data/example refuses it (minimum storage per claim " \
           "is 1Gi, this claim requests 1Mi): the cluster's LimitRanger admission rejects " \
           "every such claim" in message
    assert "PersistentVolumeClaim data/big: field 'spec.resources.requests.storage'" in message
    assert "maximum storage per claim is 10Gi, this claim requests 20Gi" in message


def test_a_quota_needs_every_pod_to_state_what_it_tracks() -> None:
    stack = Stack("resources", namespace="resources")
    stack.add(quota("cpu-and-mem", {"hard": {"limits.cpu": "4", "requests.memory": "1Gi"}}))
    stack.add(Job("report", **DD, resources=Resources(
        cpu="100m", memory="64Mi", allow_no_cpu_limit="bursts into idle CPU")))
    message = refusal(stack)
    assert "Job resources/report: field 'spec.template.spec.containers[0].resources.limits': " \
           "ResourceQuota resources/cpu-and-mem tracks requests.memory, limits.cpu, so every " \
           "pod must state it, and container 'report' sets no limits.cpu" in message

    # a LimitRange default fills the missing limit in before the quota looks
    stack.add(limit_range({"type": "Container", "default": {"cpu": "500m"}}))
    assert "resources/job-report.yaml" in render(stack)

    # quotas with scopes apply to some pods only: not checked
    scoped = Stack("resources", namespace="resources")
    scoped.add(quota("terminating", {"hard": {"limits.cpu": "4"}, "scopes": ["Terminating"]}))
    scoped.add(Job("report", **DD, resources=Resources(
        cpu="100m", memory="64Mi", allow_no_cpu_limit="bursts into idle CPU")))
    assert "resources/job-report.yaml" in render(scoped)


def test_pods_beyond_the_quota_total_are_refused() -> None:
    def stack(replicas: int) -> Stack:
        built = Stack("resources", namespace="resources")
        built.add(quota("cpu-and-mem", {"hard": {"requests.cpu": "400m", "pods": "5"}}))
        built.add(Deployment("requests-pod", **DD, replicas=replicas,
                             resources=Resources(cpu="200m", memory="10Mi")))
        built.add(StatefulSet("db", image="postgres:16.4-alpine", port=5432, replicas=1,
                              readiness=TcpProbe(), liveness=TcpProbe(), storage="1Gi",
                              resources=Resources(cpu="100m", memory="64Mi")))
        return built

    assert "resources/deployment-requests-pod.yaml" in render(stack(1))
    message = refusal(stack(2))
    assert "ResourceQuota resources/cpu-and-mem: field 'spec.hard.requests.cpu' = '400m': the " \
           "stack's pods in namespace resources need requests.cpu 500m (requests-pod 2x200m, " \
           "db 1x100m) but the quota allows 400m" in message
    assert "Fix: raise the quota, or lower the requests, limits or replicas" in message
    assert "spec.hard.pods" not in message
    assert "need pods 6 (requests-pod 5, db 1)" in refusal(stack(5))


def test_malformed_ranges_and_quotas_are_left_to_the_schema_check() -> None:
    """Junk where quantities belong never crashes the check (KG001 reports it)."""
    stack = Stack("resources", namespace="resources")
    stack.add(limit_range({"type": "Container", "max": {"cpu": "-1", "memory": []},
                           "min": None, "maxLimitRequestRatio": {"cpu": "NaN"}}, "junk",
                          {"type": "PersistentVolumeClaim", "max": {"storage": {}}}))
    stack.add(quota("broken", {"hard": {"limits.cpu": "lots", "pods": None}, "scopes": None}))
    stack.add(Manifest({"apiVersion": "v1", "kind": "ResourceQuota",
                        "metadata": {"name": "empty"}, "spec": None}))
    stack.add(Deployment("requests-pod", **DD, resources=Resources(cpu="200m", memory="10Mi")))
    assert "resources/deployment-requests-pod.yaml" in render_unchecked(stack)


def render_unchecked(stack: Stack) -> list[str]:
    """The objects' files, past the coherence gate (the schema errors stop only lint)."""
    from kubegen._coherence.gate import check

    objects = stack.objects()
    check(stack, objects, (1, 33))
    return [f"{o.namespace}/{o.kind.lower()}-{o.name}.yaml" for o in objects]
