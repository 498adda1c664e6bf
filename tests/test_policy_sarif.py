"""SARIF 2.1.0 output fit for GitHub code scanning, validated against the official OASIS schema.

The schema is vendored unchanged in tests/data/sarif-schema-2.1.0.json from
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json
(see tests/data/README.md). What GitHub reads beyond the schema (one run per upload at most 20,
``security-severity``, ``primaryLocationLineHash``, repository-relative URIs, waived findings as
notes) is from GitHub's "SARIF support for code scanning" page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kubegen._manifests import ManifestObject
from kubegen._origin import Origin
from kubegen._policy import Waiver, all_rules, lint
from kubegen._policy.sarif import StackReport, repository_root, sarif_log, security_severity
from tests.policy_factories import find, good_stack, objects, pod_of

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
RULES = {info.id: info for info in all_rules()}


def validated(text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log


def sarif_for(stack: list[ManifestObject], **options: Any) -> dict[str, Any]:
    return validated(lint(stack, **options).to_sarif())


def broken_stack(file: str = "stacks/shop.py") -> list[ManifestObject]:
    stack = objects([o.body for o in good_stack()], file=file)
    pod = pod_of(find(stack, "Deployment"))
    pod["hostPID"] = True
    del pod["containers"][0]["resources"]["limits"]["cpu"]
    stack.append(
        ManifestObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "orphan"}})
    )
    return stack


def by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (run,) = log["runs"]
    return {r["ruleId"]: r for r in run["results"]}


def test_vendored_schema_is_the_official_one() -> None:
    assert SCHEMA["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_clean_stack_gives_a_valid_log_with_every_rule() -> None:
    log = sarif_for(good_stack())
    (run,) = log["runs"]
    assert log["version"] == "2.1.0" and run["results"] == []
    driver = run["tool"]["driver"]
    assert driver["name"] == "kubegen" and driver["semanticVersion"] == driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    kg105 = next(r for r in rules if r["id"] == "KG105")
    assert kg105["name"] == "host-ports"
    assert kg105["shortDescription"]["text"] and kg105["fullDescription"]["text"]
    assert "hostPort" in kg105["help"]["text"] and "**Fix:**" in kg105["help"]["markdown"]
    assert kg105["properties"]["severity"] == "error"
    assert kg105["properties"]["precision"] == "very-high"
    assert "pss-baseline" in kg105["properties"]["tags"]
    assert "Checkov CKV_K8S_26" in kg105["properties"]["scanners"]
    # GitHub's limits: names up to 255 characters, descriptions up to 1024
    assert all(len(r["name"]) <= 255 for r in rules)
    assert all(len(r["fullDescription"]["text"]) <= 1024 for r in rules)
    assert all(len(r["shortDescription"]["text"]) <= 1024 for r in rules)


def test_results_carry_rule_level_message_and_location() -> None:
    log = sarif_for(broken_stack())
    host_pid = by_rule(log)["KG101"]
    assert host_pid["level"] == "error"
    assert "hostPID is true" in host_pid["message"]["text"]
    assert "Fix: " in host_pid["message"]["text"]
    physical = host_pid["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "stacks/shop.py"
    assert physical["region"]["startLine"] == 4
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[host_pid["ruleIndex"]]["id"] == "KG101"
    orphan = by_rule(log)["KG601"]  # no origin and no stack: logical location only
    assert "physicalLocation" not in orphan["locations"][0]
    assert orphan["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
        "ConfigMap orphan"
    )


def test_waived_findings_are_notes_with_their_reason_and_a_suppression() -> None:
    log = sarif_for(broken_stack(), waivers=[Waiver("KG204", "latency-sensitive")])
    results = log["runs"][0]["results"]
    (cpu,) = [r for r in results if r["ruleId"] == "KG204"]
    # GitHub keeps an alert open for any error or warning, suppressed or not
    assert cpu["level"] == "note"
    assert cpu["message"]["text"].endswith("(waived: latency-sensitive)")
    assert cpu["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": "latency-sensitive"}
    ]
    assert cpu["properties"] == {"severity": "error", "waived": True}
    others = [r for r in results if r["ruleId"] != "KG204"]
    assert others and all("suppressions" not in r for r in others)
    assert by_rule(log)["KG101"]["level"] == "error"


def test_levels_follow_the_profile() -> None:
    stack = good_stack()
    find(stack, "Deployment")["spec"]["replicas"] = 1
    prod = sarif_for(stack, profile="prod")["runs"][0]
    restricted = sarif_for(stack, profile="restricted")["runs"][0]
    assert {r["ruleId"]: r["level"] for r in prod["results"]}["KG701"] == "error"
    assert {r["ruleId"]: r["level"] for r in restricted["results"]}["KG701"] == "note"
    assert prod["properties"]["stacks"][0]["profile"] == "prod"


@pytest.mark.parametrize(
    ("rule_id", "profiles", "score"),
    [
        ("KG101", ["baseline"], "9.5"),  # an error even in baseline: critical
        ("KG102", ["prod"], "9.5"),
        ("KG201", ["restricted"], "8.0"),  # an error here: high
        ("KG201", ["baseline"], "5.0"),  # a warning: medium
        ("KG201", ["baseline", "prod"], "8.0"),  # the strictest profile of the run decides
        ("KG208", ["restricted"], "2.0"),  # info: low
        ("KG208", ["prod"], "8.0"),
        ("KG701", ["prod"], None),  # reliability, not security: no security severity
        ("KG001", ["prod"], None),
    ],
)
def test_security_severity_is_derived_from_the_rules_severity(
    rule_id: str, profiles: list[str], score: str | None
) -> None:
    assert security_severity(RULES[rule_id], profiles) == score


def test_rules_carry_security_severity_and_problem_severity() -> None:
    rules = {r["id"]: r for r in sarif_for(good_stack())["runs"][0]["tool"]["driver"]["rules"]}
    for rule_id, rule in rules.items():
        properties = rule["properties"]
        assert properties["problem.severity"] in ("error", "warning", "recommendation")
        if "security" in properties["tags"]:
            assert 0.0 < float(properties["security-severity"]) <= 10.0, rule_id
        else:
            assert "security-severity" not in properties, rule_id
    assert rules["KG701"]["properties"]["problem.severity"] == "recommendation"  # info
    assert rules["KG101"]["properties"]["security-severity"] == "9.5"


def test_many_stacks_make_one_run_with_each_stack_named() -> None:
    items = [
        StackReport(f"env{n:02}", lint(broken_stack(), profile="prod"), f"stacks/env{n:02}")
        for n in range(25)  # GitHub rejects an upload with more than 20 runs
    ]
    log = validated(sarif_log(items, root=Path.cwd()))
    (run,) = log["runs"]
    stacks = run["properties"]["stacks"]
    assert [s["name"] for s in stacks] == [f"env{n:02}" for n in range(25)]
    assert stacks[3]["path"] == "stacks/env03" and stacks[3]["profile"] == "prod"
    assert stacks[3]["ok"] is False and "errors" in stacks[3]["summary"]
    per_stack = len(items[0].report.findings)
    assert len(run["results"]) == 25 * per_stack
    assert {r["properties"]["stack"] for r in run["results"]} == {s["name"] for s in stacks}
    # the same finding in two envs is two alerts
    fingerprints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in run["results"]]
    assert len(set(fingerprints)) == len(fingerprints)


def test_fingerprints_ignore_the_source_line_and_keep_the_object() -> None:
    def fingerprints(stack: list[ManifestObject]) -> dict[str, str]:
        log = validated(sarif_log([StackReport("prod", lint(stack))], root=Path.cwd()))
        return {
            r["ruleId"]: r["partialFingerprints"]["primaryLocationLineHash"]
            for r in log["runs"][0]["results"]
        }

    before = fingerprints(broken_stack())
    moved = broken_stack()
    for obj in moved:
        if obj.origin is not None:
            obj.origin = Origin("stacks/other.py", obj.origin.line + 40)
    assert fingerprints(moved) == before  # code moved: the same alerts
    renamed = broken_stack()
    find(renamed, "Deployment")["metadata"]["name"] = "api-v2"
    changed = fingerprints(renamed)
    assert changed["KG101"] != before["KG101"]  # another object: another alert


def test_uris_are_relative_to_the_git_root_of_a_monorepo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    source = repo / "platform" / "stacks" / "prod" / "__init__.py"
    source.parent.mkdir(parents=True)
    line = "    stack.add(Deployment('api'))  # \U0001f680"
    source.write_text(f"from kubegen import Stack\n\n\n{line}\n", encoding="utf-8")  # line 4
    assert repository_root(source.parent) == repo
    stack = broken_stack(file=str(source))  # an absolute origin: as seen from any cwd
    log = validated(sarif_log([StackReport("prod", lint(stack), str(source.parent))]))
    physical = by_rule(log)["KG101"]["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {
        "uri": "platform/stacks/prod/__init__.py",
        "uriBaseId": "%SRCROOT%",
    }
    assert physical["region"] == {  # columns count UTF-16 code units: the rocket is two
        "startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": len(line) + 2,
    }


def test_uris_are_percent_encoded_and_files_outside_the_repo_absolute(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".git").write_text("gitdir: ../real.git\n")  # a worktree or submodule
    inside = repo / "my stacks" / "a#b%.py"
    outside = tmp_path / "shared" / "lib.py"
    log = validated(sarif_log([
        StackReport("a", lint(broken_stack(file=str(inside)))),
        StackReport("b", lint(broken_stack(file=str(outside)))),
    ], root=repository_root(inside)))
    uris = {
        r["properties"]["stack"]: r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in log["runs"][0]["results"] if r["ruleId"] == "KG101"
    }
    assert uris["a"] == {"uri": "my%20stacks/a%23b%25.py", "uriBaseId": "%SRCROOT%"}
    assert uris["b"] == {"uri": outside.resolve().as_uri()}


def test_objects_without_an_origin_point_at_the_stack() -> None:
    stack = broken_stack()
    origin = Origin("stacks/prod/__init__.py", 7)
    log = validated(sarif_log([StackReport("prod", lint(stack), "stacks/prod", origin)],
                              root=Path.cwd()))
    orphan = by_rule(log)["KG601"]["locations"][0]
    assert orphan["physicalLocation"]["artifactLocation"]["uri"] == "stacks/prod/__init__.py"
    assert orphan["physicalLocation"]["region"]["startLine"] == 7
