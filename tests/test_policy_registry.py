"""The rule catalogue: complete documentation per rule, explain, lookups, public API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kubegen._policy as policy
from kubegen._errors import KubegenError
from kubegen._policy import PROFILES, Severity, UnknownRuleError, all_rules, explain, get_rule
from kubegen._policy.deprecations import API_CHANGES
from kubegen._policy.registry import rules_table


def test_public_api_is_sorted_and_complete() -> None:
    def isort_style(name: str) -> tuple[int, str]:  # ruff RUF022: CONSTANTS, Classes, functions
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert policy.__all__ == sorted(policy.__all__, key=isort_style)
    for name in policy.__all__:
        assert hasattr(policy, name)
    for name in (
        "lint",
        "Report",
        "Finding",
        "Waiver",
        "Severity",
        "all_rules",
        "get_rule",
        "RuleInfo",
        "explain",
        "annotate_waivers",
        "DEFAULT_KUBERNETES_VERSION",
    ):
        assert name in policy.__all__
    assert policy.DEFAULT_KUBERNETES_VERSION == "1.33"


def test_every_rule_is_documented() -> None:
    rules = all_rules()
    assert len(rules) >= 50
    names = [r.name for r in rules]
    assert len(set(names)) == len(names)
    for info in rules:
        assert re.fullmatch(r"KG\d{3}", info.id)
        assert re.fullmatch(r"[a-z0-9-]+", info.name)
        assert info.title and info.reason.endswith((".", ")")) and info.fix
        assert info.sources, info.id
        assert {p for p, _ in info.levels.items()} == set(PROFILES)


def test_pss_rules_are_errors_in_every_profile_and_restricted_in_restricted() -> None:
    for info in all_rules():
        if "pss-baseline" in info.tags:
            assert {s for _, s in info.levels.items()} == {Severity.ERROR}, info.id
        if "pss-restricted" in info.tags:
            assert info.severity("restricted") is Severity.ERROR, info.id
            assert info.severity("baseline") is Severity.WARNING, info.id


def test_profiles_never_loosen() -> None:
    order = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}
    for info in all_rules():
        levels = [order[info.severity(p)] for p in PROFILES]
        assert levels == sorted(levels), info.id


def test_explain_shows_everything_about_a_rule() -> None:
    text = explain("kg105")
    assert text.startswith("KG105 host-ports: Containers bind no host port\n")
    assert "baseline error, restricted error, prod error" in text
    assert "Pod Security Standards, baseline: Host Ports" in text
    assert "Fix:" in text and "Polaris hostPortSet" in text and "Checkov CKV_K8S_26" in text


def test_unknown_rule_lists_close_ids() -> None:
    with pytest.raises(UnknownRuleError) as info:
        get_rule("KG15")
    assert isinstance(info.value, KubegenError)
    assert "did you mean" in str(info.value) and "KG105" in str(info.value)
    with pytest.raises(UnknownRuleError, match="kubegen rules"):
        explain("nothing-like-it")


def test_rules_table_lists_every_rule_once() -> None:
    table = rules_table().splitlines()
    assert table[0].startswith("ID")
    assert [line.split()[0] for line in table[1:]] == [r.id for r in all_rules()]
    assert "error/error/error" in next(line for line in table if line.startswith("KG101"))


def test_deprecation_table_is_consistent() -> None:
    for change in API_CHANGES:
        assert "/" in change.api_version or change.api_version == "v1"
        if change.removed_in is not None:
            assert change.deprecated_in < change.removed_in, change


def test_docs_list_every_rule_as_kubegen_rules_prints_it() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text()
    assert f"```text\n{rules_table()}```" in doc, "regenerate the table in docs/policy.md"
