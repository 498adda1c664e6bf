"""HorizontalPodAutoscaler and autoscale() (kubegen/_builders/workloads/autoscaling.py)."""

from __future__ import annotations

from typing import Any

import pytest
from workload_support import TAGGED, objects_by_kind, pod_spec

from kubegen import (
    DaemonSet,
    Deployment,
    HorizontalPodAutoscaler,
    KubegenError,
    Port,
    ScalingPolicy,
    ScalingRules,
    Stack,
    StackDefaults,
    StatefulSet,
    TcpProbe,
    ValidationError,
    lint,
)
from kubegen._builders.errors import MissingAttributeError

kv = pytest.importorskip("kubernetes_validate")
SERVING: dict[str, Any] = {"port": Port(8080, name="http"), "readiness": TcpProbe(),
                           "liveness": TcpProbe()}


def _api(stack: Stack, **kwargs: Any) -> Deployment:
    return stack.add(Deployment("api", image=TAGGED, **SERVING, **kwargs))


def test_autoscaled_deployment_renders_no_replicas_and_the_hpa() -> None:
    stack = Stack("shop", namespace="shop")
    api = _api(stack)
    hpa = api.autoscale(min=2, max=10, cpu=70)
    assert isinstance(hpa, HorizontalPodAutoscaler) and hpa.namespace == "shop"
    objects = objects_by_kind(stack)
    deployment = objects[("Deployment", "api")]
    assert "replicas" not in deployment["spec"]
    assert ("PodDisruptionBudget", "api") in objects  # follows min=2
    assert pod_spec(deployment)["topologySpreadConstraints"]
    assert objects[("HorizontalPodAutoscaler", "api")]["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
        "minReplicas": 2,
        "maxReplicas": 10,
        "metrics": [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
    }


def test_min_one_has_no_budget_but_spreads_what_can_scale_out() -> None:
    stack = Stack("shop", namespace="shop")
    _api(stack).autoscale(min=1, max=4, memory=80, name="api-memory")
    objects = objects_by_kind(stack)
    assert ("PodDisruptionBudget", "api") not in objects
    assert pod_spec(objects[("Deployment", "api")])["topologySpreadConstraints"]
    metric = objects[("HorizontalPodAutoscaler", "api-memory")]["spec"]["metrics"][0]
    assert metric["resource"]["name"] == "memory"
    fixed = Stack("shop", namespace="shop")
    _api(fixed).autoscale(min=1, max=1, cpu=50)
    assert "topologySpreadConstraints" not in pod_spec(objects_by_kind(fixed)[(
        "Deployment", "api")])


def test_statefulset_can_be_autoscaled_with_behaviour() -> None:
    stack = Stack("shop", namespace="shop")
    db = stack.add(StatefulSet("db", image=TAGGED, **SERVING))
    db.autoscale(min=3, max=5, cpu=60, memory=75,
                 scale_up=ScalingRules(policies=[ScalingPolicy(pods=1, period="2m")]),
                 scale_down=ScalingRules(stabilization="10m", select="Min",
                                         policies=[ScalingPolicy(percent=10)]))
    objects = objects_by_kind(stack)
    assert "replicas" not in objects[("StatefulSet", "db")]["spec"]
    spec = objects[("HorizontalPodAutoscaler", "db")]["spec"]
    assert spec["scaleTargetRef"]["kind"] == "StatefulSet"
    assert [m["resource"]["name"] for m in spec["metrics"]] == ["cpu", "memory"]
    assert spec["behavior"] == {
        "scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]},
        "scaleDown": {"stabilizationWindowSeconds": 600, "selectPolicy": "Min",
                      "policies": [{"type": "Percent", "value": 10, "periodSeconds": 60}]},
    }
    for obj in stack.objects():
        kv.validate(obj.body, "1.33", strict=True)


def test_fixed_replicas_and_an_autoscaler_contradict() -> None:
    stack = Stack("shop", namespace="shop")
    _api(stack, replicas=3).autoscale(min=2, max=10, cpu=70)
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert (caught.value.field, caught.value.value) == ("replicas", 3)
    assert "HorizontalPodAutoscaler shop/api scales this workload" in caught.value.message
    assert caught.value.fix == "drop replicas= (the autoscaler's min= is the floor)"


def test_min_below_the_stack_floor_points_at_autoscale() -> None:
    stack = Stack("shop", namespace="shop", defaults=StackDefaults(replicas=2, min_replicas=2))
    _api(stack).autoscale(min=1, max=4, cpu=70)
    line = test_min_below_the_stack_floor_points_at_autoscale.__code__.co_firstlineno + 2
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert caught.value.field == "min" and caught.value.origin is not None
    assert caught.value.origin.line == line
    assert caught.value.resource == "HorizontalPodAutoscaler shop/api"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"min": 2, "max": 10}, None, "needs a target: cpu= and/or memory="),
        ({"min": 5, "max": 3, "cpu": 70}, "max", "max=3 is below min=5"),
        ({"min": 0, "max": 3, "cpu": 70}, "min", "must be at least 1"),
        ({"min": 1, "max": 3, "cpu": 0}, "cpu", "must be at least 1"),
    ],
)
def test_autoscale_arguments_are_checked(kwargs: dict[str, Any], field: str | None,
                                         message: str) -> None:
    stack = Stack("shop", namespace="shop")
    with pytest.raises(ValidationError) as caught:
        _api(stack).autoscale(**kwargs)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_only_deployments_and_statefulsets_scale() -> None:
    stack = Stack("shop", namespace="shop")
    agent = stack.add(DaemonSet("agent", image=TAGGED))
    with pytest.raises(MissingAttributeError) as caught:
        agent.autoscale(min=1, max=2, cpu=50)  # type: ignore[attr-defined]
    assert caught.value.message == (
        "DaemonSet has no autoscale(): only Deployment and StatefulSet have it")
    assert "cannot be scaled" in str(caught.value.fix)
    with pytest.raises(ValidationError, match="a DaemonSet cannot be autoscaled"):
        HorizontalPodAutoscaler("agent", target=agent, max=3, cpu=50)


def test_an_autoscaler_of_a_workload_elsewhere_is_refused() -> None:
    stack = Stack("shop", namespace="shop")
    api = _api(stack)
    stack.add(HorizontalPodAutoscaler("api", target=api, max=4, cpu=70, namespace="other"))
    with pytest.raises(KubegenError, match="is not in this stack and namespace"):
        stack.objects()


def test_the_hpa_checks_its_target_requests_what_it_measures() -> None:
    stack = Stack("shop", namespace="shop")
    api = _api(stack)
    api.autoscale(min=2, max=4, cpu=70)
    assert api.container is not None
    object.__setattr__(api.container, "resources", None)
    object.__setattr__(stack.defaults.resources, "cpu", None)  # no request anywhere
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert caught.value.field == "cpu"
    assert "container api of Deployment shop/api requests no cpu" in caught.value.message


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: ScalingPolicy(), "either pods= or percent="),
        (lambda: ScalingPolicy(pods=1, percent=5), "either pods= or percent="),
        (lambda: ScalingPolicy(pods=1, period="31m"), "period must be 1s to 30m"),
        (lambda: ScalingRules(stabilization="2h"), "stabilization is at most 1h"),
        (lambda: ScalingRules(), "empty scaling rules change nothing"),
    ],
)
def test_behaviour_is_checked_as_the_api_server_does(build: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        build()


def test_prod_lint_counts_the_autoscaler_minimum() -> None:
    stack = Stack("shop", namespace="shop", profile="prod")
    _api(stack).autoscale(min=2, max=6, cpu=70)
    report = lint(stack, profile="prod")
    assert not [f for f in report.findings if f.rule_id in ("KG701", "KG702", "KG703", "KG706")]


def test_two_autoscalers_of_one_workload_are_refused() -> None:
    stack = Stack("shop", namespace="shop")
    api = _api(stack)
    api.autoscale(min=2, max=4, cpu=70)
    api.autoscale(min=2, max=4, memory=70, name="api-memory")
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    assert "is scaled by HorizontalPodAutoscaler shop/api already" in caught.value.message
    assert caught.value.resource == "HorizontalPodAutoscaler shop/api-memory"
