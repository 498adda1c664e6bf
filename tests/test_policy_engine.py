"""The engine around the rules: waivers, profiles, ordering, text and JSON reports."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubegen._errors import PolicyError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._origin import Origin
from kubegen._policy import (
    PROFILES,
    Severity,
    UnknownRuleError,
    Waiver,
    annotate_waivers,
    get_rule,
    lint,
)
from kubegen._policy.waivers import object_waivers
from tests.policy_factories import del_in, find, good_stack, objects, pod_of, set_in

P = "spec.template.spec"


def no_cpu_limit() -> list[ManifestObject]:
    stack = good_stack()
    del_in(find(stack, "Deployment"), f"{P}.containers[0].resources.limits.cpu")
    return stack


# --- waivers -------------------------------------------------------------------------------


def test_unwaived_error_blocks() -> None:
    report = lint(no_cpu_limit())
    assert [f.rule_id for f in report.errors] == ["KG204"]
    assert not report.ok
    with pytest.raises(PolicyError, match="KG204"):
        report.raise_for_errors()


def test_stack_waiver_keeps_the_finding_but_does_not_block() -> None:
    waiver = Waiver("kg204", reason="CFS throttling hurts p99; requests sized for peak")
    report = lint(no_cpu_limit(), waivers=[waiver])
    assert report.ok and report.errors == ()
    (finding,) = report.findings
    assert finding.rule_id == "KG204" and finding.waived and not finding.blocking
    assert finding.waiver_reason == "CFS throttling hurts p99; requests sized for peak"
    assert "waived  KG204" in report.to_text()
    assert "reason: CFS throttling" in report.to_text()


def test_waiver_target_narrows_to_matching_objects() -> None:
    report = lint(no_cpu_limit(), waivers=[Waiver("KG204", "legacy", target="Deployment */web")])
    assert not report.ok
    report = lint(no_cpu_limit(), waivers=[Waiver("KG204", "ok", target="Deployment shop/api")])
    assert report.ok


def test_object_level_waiver() -> None:
    stack = no_cpu_limit()
    next(o for o in stack if o.kind == "Deployment").waivers["KG204"] = "burst at startup"
    report = lint(stack)
    assert report.ok and report.findings[0].waiver_reason == "burst at startup"


@pytest.mark.parametrize("reason", ["", "   "])
def test_empty_reason_is_refused(reason: str) -> None:
    with pytest.raises(ValidationError, match="reason is empty"):
        Waiver("KG204", reason)
    stack = no_cpu_limit()
    stack[3].waivers["KG204"] = reason
    with pytest.raises(ValidationError, match="reason is empty"):
        lint(stack)
    with pytest.raises(ValidationError, match="reason is empty"):
        annotate_waivers(stack, [])


def test_waiver_for_unknown_rule_is_refused_with_suggestions() -> None:
    with pytest.raises(ValidationError, match="KG"):
        Waiver("cpu-limit", "because")
    with pytest.raises(UnknownRuleError) as info:
        lint(good_stack(), waivers=[Waiver("KG205", "x"), Waiver("KG299", "typo")])
    assert "'KG299'" in str(info.value) and "did you mean KG209" in str(info.value)


def test_annotate_waivers_writes_reviewable_annotations() -> None:
    stack = no_cpu_limit()
    stack[3].waivers["KG201"] = "nginx writes its pid file to /run"
    annotate_waivers(stack, [Waiver("KG204", "latency-sensitive"), Waiver("KG503", "public lb")])
    deployment = find(stack, "Deployment")
    assert deployment["metadata"]["annotations"] == {
        "kubegen.dev/waive-kg201": "nginx writes its pid file to /run",
        "kubegen.dev/waive-kg204": "latency-sensitive",
    }
    service = find(stack, "Service")
    assert service["metadata"]["annotations"] == {"kubegen.dev/waive-kg503": "public lb"}
    assert "annotations" not in find(stack, "Namespace")["metadata"]  # KG204 is not for Namespaces
    for key in deployment["metadata"]["annotations"]:
        _, name = key.split("/")
        assert len(name) <= 63 and name.replace("-", "").isalnum()


def test_annotations_are_read_back_as_waivers() -> None:
    stack = no_cpu_limit()
    annotate_waivers(stack, [Waiver("KG204", "latency-sensitive")])
    reread = [ManifestObject(o.body, o.origin) for o in stack]  # as if loaded from YAML
    assert object_waivers(reread[3]) == {"KG204": "latency-sensitive"}
    assert lint(reread).ok
    # and the annotations themselves are valid against the strict schema
    assert not [f for f in lint(reread).findings if f.rule_id == "KG001"]


# --- profiles ------------------------------------------------------------------------------


def test_profile_changes_severity_not_findings() -> None:
    stack = good_stack()
    set_in(find(stack, "Deployment"), f"{P}.containers[0].image", "ghcr.io/acme/api:2.3.1")
    set_in(find(stack, "Deployment"), "spec.replicas", 1)
    set_in(find(stack, "Deployment"), f"{P}.hostIPC", True)
    by_profile = {
        p: {f.rule_id: f.severity for f in lint(stack, profile=p).findings} for p in PROFILES
    }
    assert {frozenset(v) for v in by_profile.values()} == {frozenset(by_profile["prod"])}
    assert by_profile["baseline"]["KG101"] is Severity.ERROR  # PSS baseline: error everywhere
    assert by_profile["baseline"]["KG208"] is Severity.INFO
    assert by_profile["restricted"]["KG208"] is Severity.INFO
    assert by_profile["prod"]["KG208"] is Severity.ERROR  # digest pinning only blocks prod
    assert by_profile["restricted"]["KG701"] is Severity.INFO
    assert by_profile["prod"]["KG701"] is Severity.ERROR


def test_baseline_profile_makes_only_pss_baseline_and_correctness_errors() -> None:
    for info in (get_rule(i) for i in ("KG122", "KG201", "KG204", "KG501", "KG801")):
        assert info.severity("baseline") is Severity.WARNING
        assert info.severity("restricted") is Severity.ERROR
    for rule_id in ("KG101", "KG105", "KG112", "KG001", "KG003"):
        assert get_rule(rule_id).severity("baseline") is Severity.ERROR


def test_baseline_profile_lets_restricted_only_problems_through() -> None:
    stack = good_stack()
    del_in(find(stack, "Deployment"), f"{P}.containers[0].securityContext")
    assert lint(stack, profile="baseline").ok
    assert not lint(stack, profile="restricted").ok


def test_unknown_profile_and_version_are_refused() -> None:
    with pytest.raises(ValidationError, match="profile"):
        lint(good_stack(), profile="strict")
    with pytest.raises(ValidationError, match=r"MAJOR\.MINOR"):
        lint(good_stack(), kubernetes_version="latest")
    with pytest.raises(ValidationError, match=r"1\.25"):
        lint(good_stack(), kubernetes_version="1.20")


# --- ordering and reports ------------------------------------------------------------------


def noisy_stack() -> list[ManifestObject]:
    stack = good_stack()
    dep = find(stack, "Deployment")
    pod = pod_of(dep)
    pod["hostNetwork"] = True
    pod["containers"][0]["image"] = "nginx:latest"
    del pod["containers"][0]["resources"]
    find(stack, "Service")["spec"]["type"] = "NodePort"
    find(stack, "Role")["rules"][0]["verbs"] = ["*"]
    extra = objects(
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "db", "namespace": "shop"},
                "data": {"p": "eA=="},
            }
        ],
        file="stacks/db.py",
    )
    extra.append(
        ManifestObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}})
    )
    return stack + extra


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_findings_order_does_not_depend_on_input_order(rnd: random.Random) -> None:
    expected = lint(noisy_stack()).findings
    shuffled = noisy_stack()
    rnd.shuffle(shuffled)
    assert lint(shuffled).findings == expected


def test_findings_sorted_by_origin_then_rule() -> None:
    findings = lint(noisy_stack()).findings
    keys = [f.sort_key() for f in findings]
    assert keys == sorted(keys)
    assert findings[-1].origin is None  # objects without origin last
    assert next(f.origin.file for f in findings if f.origin) == "stacks/db.py"


def test_text_report_groups_by_object_with_origin() -> None:
    text = lint(noisy_stack()).to_text()
    assert "Deployment shop/api  (stacks/shop.py:4)\n  error   KG101  spec.template.spec." in text
    assert "hostNetwork is true" in text and "fix: Remove hostNetwork" in text
    assert text.count("Deployment shop/api  (") == 1
    assert text.endswith(
        "\n\n9 errors, 2 warnings, 2 notes, 0 waived in 10 objects "
        "(profile restricted, Kubernetes 1.33)\n"
    )
    assert "ConfigMap cfg\n" in text  # no origin, no location suffix


def test_json_report_is_stable_and_complete() -> None:
    report = lint(noisy_stack())
    document = json.loads(report.to_json())
    assert document["ok"] is False and document["profile"] == "restricted"
    assert document["kubernetesVersion"] == "1.33"
    assert len(document["findings"]) == len(report.findings)
    first = document["findings"][0]
    assert set(first) >= {"ruleId", "severity", "resource", "path", "message", "fix", "origin"}
    assert report.to_json() == lint(noisy_stack()).to_json()
    assert document["summary"]["error"] == len(report.errors)


def test_lint_does_not_modify_objects() -> None:
    stack = noisy_stack()
    before = json.dumps([o.body for o in stack], sort_keys=True)
    lint(stack, profile="prod", waivers=[Waiver("KG204", "x")])
    assert json.dumps([o.body for o in stack], sort_keys=True) == before


def test_finding_str_names_object_field_value_and_fix() -> None:
    (finding,) = [f for f in lint(noisy_stack()).findings if f.rule_id == "KG207"]
    text = str(finding)
    assert "Deployment shop/api" in text and "containers[0].image" in text
    assert '"nginx:latest"' in text and "Fix:" in text
    assert finding.location == "stacks/shop.py:4"


def test_origin_is_reported_for_cross_object_rules() -> None:
    stack = good_stack()
    stack = [o for o in stack if o.kind != "NetworkPolicy"]
    stack[2] = ManifestObject(stack[2].body, Origin("stacks/other.py", 42))
    findings = [f for f in lint(stack).findings if f.rule_id in ("KG501", "KG502")]
    assert {f.resource for f in findings} == {"Deployment shop/api"}


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


JUNK = st.one_of(  # fresh containers each draw, so no subtree is shared
    st.none(),
    st.booleans(),
    st.integers(-1, 3),
    st.text(max_size=3),
    st.builds(list),
    st.builds(dict),
    st.builds(lambda: ["ALL", None]),
    st.builds(lambda: {"x": None}),
)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_malformed_objects_give_findings_not_crashes(data: st.DataObject) -> None:
    stack = good_stack()
    for _ in range(3):
        obj = data.draw(st.sampled_from(stack))
        path = data.draw(st.sampled_from(_paths(obj.body)))
        node: Any = obj.body
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = data.draw(JUNK)
    report = lint(stack, profile="prod")
    assert all(f.message and f.rule_id for f in report.findings)
    report.to_text(), report.to_json(), report.to_sarif()
