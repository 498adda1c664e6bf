"""The Pod Security lint rules (KG1xx) and ``tests/pss_checker.py`` agree with upstream fixtures.

The same fixtures as the evaluator's table test (``tests/data/pod-security-admission``): at every
version, a ``pass`` pod draws no finding from its level's rules, and a ``fail`` pod draws one from
the rule(s) reporting the control it breaks. So lint and the admission check cannot drift apart.
"""

from __future__ import annotations

import copy

import pytest

from kubegen._manifests import ManifestObject
from kubegen._policy import lint
from tests.pss_checker import violations
from tests.test_coherence_pod_security import FIXTURES, GROUPS, Fixture, _control_of

#: The lint rules that report each control of the evaluator.
CONTROL_RULES = {
    "hostNamespaces": {"KG101"},
    "privileged": {"KG102"},
    "capabilities_baseline": {"KG103"},
    "hostPathVolumes": {"KG104"},
    "hostPorts": {"KG105"},
    "hostProbesAndHostLifecycle": {"KG106"},
    "appArmorProfile": {"KG107"},
    "seLinuxOptions": {"KG108"},
    "procMount": {"KG109"},
    "seccompProfile_baseline": {"KG110"},
    "sysctls": {"KG111"},
    "windowsHostProcess": {"KG112"},
    "restrictedVolumes": {"KG121"},
    "allowPrivilegeEscalation": {"KG122"},
    "runAsNonRoot": {"KG123"},
    "runAsUser": {"KG124"},
    "seccompProfile_restricted": {"KG110", "KG125"},
    "capabilities_restricted": {"KG103", "KG126", "KG127"},
    "procMount_restricted": {"KG109", "KG128"},
}
BASELINE_RULES = {f"KG{n}" for n in range(101, 113)}
RESTRICTED_RULES = BASELINE_RULES | {f"KG{n}" for n in range(121, 129)}


def _objects(fixtures: list[Fixture]) -> list[ManifestObject]:
    objects = []
    for index, fixture in enumerate(fixtures):
        body = copy.deepcopy(fixture.pod)
        body["metadata"]["name"] = f"p{index}"
        objects.append(ManifestObject(body))
    return objects


@pytest.mark.parametrize(("level", "version"), GROUPS,
                         ids=[f"{lv}/v{v[0]}.{v[1]}" for lv, v in GROUPS])
def test_lint_rules_report_what_admission_refuses(level: str, version: tuple[int, int]):
    mine = [f for f in FIXTURES if (f.level, f.version) == (level, version)]
    report = lint(_objects(mine), kubernetes_version=f"{version[0]}.{version[1]}", schema=False)
    rules = BASELINE_RULES if level == "baseline" else RESTRICTED_RULES
    fired: dict[str, set[str]] = {}
    for finding in report.findings:
        if finding.rule_id in rules:
            fired.setdefault(finding.object_key[3], set()).add(finding.rule_id)
    wrong = []
    for index, fixture in enumerate(mine):
        got = fired.get(f"p{index}", set())
        if fixture.expect == "pass" and got:
            wrong.append(f"{fixture.id}: {sorted(got)}")
        if fixture.expect == "fail" and not got & CONTROL_RULES[_control_of(fixture)]:
            wrong.append(f"{fixture.id}: only {sorted(got)}")
    assert wrong == []


def test_every_control_has_its_rules():
    from kubegen._coherence.pod_security import CONTROLS

    assert set(CONTROL_RULES) == {c.id for c in CONTROLS}


def test_independent_checker_agrees_at_the_newest_version():
    """``pss_checker`` (the oracle of the builder property tests) knows no versions: it must
    decide like the newest restricted level."""
    newest = max(f.version for f in FIXTURES)
    mine = [f for f in FIXTURES if f.level == "restricted" and f.version == newest]
    wrong = [f.id for f in mine if bool(violations(f.pod)) != (f.expect == "fail")]
    assert wrong == []
