"""Tolerations, node affinity and pod (anti-)affinity (kubegen/_builders/workloads/scheduling.py).

Each invalid combination is one the API server refuses (pkg/apis/core/validation:
validateTolerations, ValidateNodeSelectorRequirement, validatePodAffinityTerm).
"""

from __future__ import annotations

from typing import Any

import pytest
from workload_support import TAGGED, objects_by_kind, pod_spec

from kubegen import (
    Deployment,
    NodeAffinity,
    NodeRequirement,
    NodeTerm,
    PodAffinity,
    Stack,
    StatefulSet,
    Toleration,
    ValidationError,
)


def _pod(stack: Stack, name: str = "api", kind: str = "Deployment") -> dict[str, Any]:
    return pod_spec(objects_by_kind(stack)[(kind, name)])


# -- tolerations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toleration", "rendered"),
    [
        (Toleration(), {"operator": "Exists"}),
        (Toleration("dedicated", value="batch", effect="NoSchedule"),
         {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}),
        (Toleration("node.kubernetes.io/unreachable", effect="NoExecute", seconds="5m"),
         {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
          "tolerationSeconds": 300}),
        (Toleration("gpu", operator="Equal", value=""),
         {"key": "gpu", "operator": "Equal", "value": ""}),
    ],
)
def test_toleration_renders_as_the_api_writes_it(toleration: Toleration, rendered: Any) -> None:
    assert toleration.render() == rendered


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"value": "x"}, "operator", "a toleration without a key matches every taint"),
        ({"operator": "Equal"}, "operator", "a toleration without a key"),
        ({"key": "a", "operator": "Exists", "value": "b"}, "value", "contradicts it"),
        ({"key": "a", "effect": "NoSchedule", "seconds": 60}, "seconds",
         "applies only to the NoExecute effect"),
        ({"key": "a", "effect": "NoEvict"}, "effect", "expected one of 'NoSchedule'"),
        ({"key": "not a key"}, "key", "label key"),
    ],
)
def test_toleration_combinations_the_api_server_refuses(
    kwargs: dict[str, Any], field: str, message: str
) -> None:
    key = kwargs.pop("key", None)
    with pytest.raises(ValidationError) as caught:
        Toleration(key, **kwargs)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_tolerations_as_kubernetes_mappings_are_validated_too() -> None:
    stack = Stack("s", namespace="s")
    stack.add(Deployment("api", image=TAGGED, tolerations=[
        {"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoExecute",
         "tolerationSeconds": 30},
        Toleration(),
    ]))
    assert _pod(stack)["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoExecute",
         "tolerationSeconds": 30},
        {"operator": "Exists"},
    ]
    with pytest.raises(ValidationError, match="applies only to the NoExecute effect"):
        Deployment("api", image=TAGGED, tolerations=[
            {"key": "a", "effect": "NoSchedule", "tolerationSeconds": 1}])


# -- node affinity --------------------------------------------------------------------------


def test_node_affinity_required_and_preferred_terms() -> None:
    stack = Stack("s", namespace="s")
    stack.add(Deployment("api", image=TAGGED, node_affinity=NodeAffinity(
        require=[
            NodeTerm(labels={"kubernetes.io/arch": ["amd64", "arm64"]},
                     expressions=[NodeRequirement("node-role.kubernetes.io/control-plane",
                                                  "DoesNotExist")]),
            NodeTerm(nodes=["node-7"]),
        ],
        prefer=[NodeTerm(expressions=[NodeRequirement("cpu-generation", "Gt", values=[4])],
                         weight=20)],
    )))
    assert _pod(stack)["affinity"] == {"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
                {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"},
            ]},
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-7"]}]},
        ]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 20, "preference": {"matchExpressions": [
                {"key": "cpu-generation", "operator": "Gt", "values": ["4"]}]}},
        ],
    }}


@pytest.mark.parametrize(
    ("operator", "values", "message"),
    [
        ("In", [], "needs at least one value"),
        ("Exists", ["x"], "takes no values"),
        ("Gt", ["4", "5"], "exactly one integer"),
        ("Lt", ["four"], "exactly one integer"),
        ("In", ["not valid!"], "label value"),
    ],
)
def test_node_requirement_values_must_fit_the_operator(
    operator: Any, values: list[str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        NodeRequirement("zone", operator, values=values)


def test_node_terms_and_affinity_refuse_what_matches_nothing() -> None:
    with pytest.raises(ValidationError, match="an empty node selector term matches no node"):
        NodeTerm()
    with pytest.raises(ValidationError, match="needs require= or prefer="):
        NodeAffinity()
    with pytest.raises(ValidationError) as caught:
        NodeAffinity(require=[NodeTerm(labels={"a": ["b"]}, weight=5)])
    assert caught.value.field == "require.0.weight"
    with pytest.raises(ValidationError, match="must be at most 100"):
        NodeTerm(labels={"a": ["b"]}, weight=101)


# -- pod affinity ---------------------------------------------------------------------------


def test_avoid_self_spreads_replicas_and_near_follows_another_workload() -> None:
    stack = Stack("shop", namespace="shop")
    cache = stack.add(StatefulSet("redis", image=TAGGED))
    stack.add(Deployment("api", image=TAGGED, replicas=3, topology_spread="none",
                         avoid=["self", PodAffinity({"team": "batch"}, topology="zones",
                                                    namespaces=["batch"], required=True)],
                         near=[cache]))
    own = {"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "api"}
    redis = {"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "redis"}
    assert _pod(stack)["affinity"] == {
        "podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": redis},
                                                "topologyKey": "kubernetes.io/hostname"}},
        ]},
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"team": "batch"}}, "namespaces": ["batch"],
                 "topologyKey": "topology.kubernetes.io/zone"},
            ],
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": own},
                                                    "topologyKey": "kubernetes.io/hostname"}},
            ],
        },
    }


def test_a_workload_in_another_namespace_is_named_in_the_term() -> None:
    stack = Stack("shop", namespace="shop")
    cache = stack.add(StatefulSet("redis", image=TAGGED, namespace="cache"))
    stack.add(Deployment("api", image=TAGGED, near=[PodAffinity(cache, weight=50)]))
    term = _pod(stack)["affinity"]["podAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["weight"] == 50
    assert term["podAffinityTerm"]["namespaces"] == ["cache"]


@pytest.mark.parametrize(
    ("pods", "kwargs", "message"),
    [
        ("self", {"required": True, "weight": 10}, "a required rule has no weight"),
        ({}, {}, "empty pod labels would select every pod"),
        ("self", {"namespaces": ["x"]}, "namespaces= goes with pod labels"),
        ("self", {"topology": "Not A Key"}, "label key"),
        ("selff", {}, "expected"),
    ],
)
def test_pod_affinity_refuses(pods: Any, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PodAffinity(pods, **kwargs)


def test_no_affinity_renders_nothing() -> None:
    stack = Stack("s", namespace="s")
    stack.add(Deployment("api", image=TAGGED))
    pod = _pod(stack)
    assert "affinity" not in pod and "tolerations" not in pod
