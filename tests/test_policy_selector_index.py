"""SelectorIndex: the lookup behind coverage rules answers exactly like trying every selector."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen._manifests import ManifestObject
from kubegen._policy import lint, selectors
from kubegen._policy.context import LintContext
from kubegen._policy.rules.network import selecting_policies
from kubegen._policy.selectors import SelectorIndex, selector_matches
from tests.policy_factories import good_stack

KEYS = ["app", "tier", "team", 1]  # 1: a non-string key a hand-written dict could hold
VALUES = st.one_of(st.sampled_from(["api", "web", "db", "1", ""]), st.just(1), st.none())
LABELS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4)
EXPRESSION = st.fixed_dictionaries(
    {
        "key": st.sampled_from(KEYS),
        "operator": st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Bogus"]),
        "values": st.lists(VALUES, max_size=3),
    }
)
SELECTOR = st.one_of(
    st.none(),
    st.just("junk"),
    st.just({"matchLabels": ["not", "a", "map"]}),
    st.fixed_dictionaries(
        {},
        optional={
            "matchLabels": st.one_of(st.none(), LABELS),
            "matchExpressions": st.one_of(st.none(), st.lists(EXPRESSION, max_size=2)),
        },
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(SELECTOR, max_size=8), st.lists(LABELS, min_size=1, max_size=5))
def test_index_finds_what_every_selector_finds(selectors: list[Any], pods: list[Any]) -> None:
    index = SelectorIndex([(selector, i) for i, selector in enumerate(selectors)])
    for labels in pods:
        expected = [i for i, s in enumerate(selectors) if selector_matches(s, labels)]
        assert index.matching(labels) == expected
        assert index.any_match(labels) == bool(expected)


def test_index_keeps_input_order_across_buckets() -> None:
    entries = [
        ({"matchLabels": {"tier": "api"}}, "by-tier"),
        ({}, "everything"),
        ({"matchLabels": {"app": "shop"}}, "by-app"),
    ]
    labels = {"app": "shop", "tier": "api"}
    assert SelectorIndex(entries).matching(labels) == ["by-tier", "everything", "by-app"]
    assert SelectorIndex(entries).matching({"app": "other"}) == ["everything"]


def test_each_selector_is_filed_under_its_rarest_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    """Selectors that all start with the pair they share (``instance=shop``, as kubegen's own
    workloads write them) are found by their own pair: a lookup tries one selector, not all,
    so coverage rules stay linear whatever order the labels were written in."""
    entries = [
        ({"matchLabels": {"app.kubernetes.io/instance": "shop",
                          "app.kubernetes.io/name": f"svc-{i}"}}, i)
        for i in range(200)
    ]
    index = SelectorIndex(entries)
    tried: list[Any] = []

    def counting(selector: Any, labels: Any) -> bool:
        tried.append(selector)
        return selector_matches(selector, labels)

    monkeypatch.setattr(selectors, "selector_matches", counting)
    pod = {"app.kubernetes.io/instance": "shop", "app.kubernetes.io/name": "svc-7", "x": "y"}
    assert index.matching(pod) == [7]
    assert index.any_match(pod)
    assert len(tried) == 2  # one selector tried by each lookup
    assert index.matching({"app.kubernetes.io/instance": "shop"}) == []


def _policy(name: str, selector: Any, types: list[str] | None) -> ManifestObject:
    spec: dict[str, Any] = {"podSelector": selector}
    if types is not None:
        spec["policyTypes"] = types
    return ManifestObject(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": spec,
        }
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            SELECTOR,
            st.one_of(st.none(), st.lists(st.sampled_from(["Ingress", "Egress"]), max_size=2)),
        ),
        max_size=5,
    )
)
def test_coverage_rules_match_the_per_policy_definition(policies: list[Any]) -> None:
    """KG501/KG502 through the index flag exactly the pods ``selecting_policies`` finds none for."""
    objects = [o for o in good_stack() if o.kind != "NetworkPolicy"]
    objects += [_policy(f"p{i}", sel, types) for i, (sel, types) in enumerate(policies)]
    ctx = LintContext(objects=tuple(objects), kubernetes_version=(1, 33), profile="restricted")
    netpols = [o for o in objects if o.kind == "NetworkPolicy"]
    report = lint(objects, schema=False)
    for rule_id, direction in (("KG501", "Ingress"), ("KG502", "Egress")):
        flagged = {f.object_key for f in report.findings if f.rule_id == rule_id}
        expected = {
            pod.obj.key for pod in ctx.pods if not selecting_policies(netpols, pod, direction)
        }
        assert flagged == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(SELECTOR, max_size=5), st.sampled_from(["shop", "other"]))
def test_budget_rule_matches_the_per_budget_definition(selectors: list[Any], ns: str) -> None:
    """KG702 through the index flags exactly the replicated pods no budget selects."""
    objects = [o for o in good_stack() if o.kind != "PodDisruptionBudget"]
    for i, selector in enumerate(selectors):
        body = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": f"b{i}", "namespace": ns},
            "spec": {"maxUnavailable": 1, "selector": selector},
        }
        objects.append(ManifestObject(body))
    ctx = LintContext(objects=tuple(objects), kubernetes_version=(1, 33), profile="restricted")
    report = lint(objects, schema=False)
    flagged = {f.object_key for f in report.findings if f.rule_id == "KG702"}
    expected = {
        pod.obj.key
        for pod in ctx.pods
        if pod.obj.kind == "Deployment"
        and (pod.obj.body["spec"].get("replicas") or 1) > 1
        and not (ns == pod.namespace and any(selector_matches(s, pod.labels) for s in selectors))
    }
    assert flagged == expected
