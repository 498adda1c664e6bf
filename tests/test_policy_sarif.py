"""SARIF 2.1.0 output, validated against the official OASIS schema.

The schema is vendored unchanged in tests/data/sarif-schema-2.1.0.json from
https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json
(see tests/data/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from kubegen._manifests import ManifestObject
from kubegen._policy import Waiver, all_rules, lint
from tests.policy_factories import find, good_stack, pod_of

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def sarif_for(stack: list[ManifestObject], **options: Any) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(lint(stack, **options).to_sarif())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log


def broken_stack() -> list[ManifestObject]:
    stack = good_stack()
    pod = pod_of(find(stack, "Deployment"))
    pod["hostPID"] = True
    del pod["containers"][0]["resources"]["limits"]["cpu"]
    stack.append(
        ManifestObject({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "orphan"}})
    )
    return stack


def test_vendored_schema_is_the_official_one() -> None:
    assert SCHEMA["id"].endswith("/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_clean_stack_gives_a_valid_log_with_every_rule() -> None:
    log = sarif_for(good_stack())
    (run,) = log["runs"]
    assert log["version"] == "2.1.0" and run["results"] == []
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    kg105 = next(r for r in rules if r["id"] == "KG105")
    assert kg105["name"] == "host-ports"
    assert kg105["shortDescription"]["text"] and kg105["fullDescription"]["text"]
    assert "hostPort" in kg105["help"]["text"]
    assert kg105["properties"]["severity"] == "error"
    assert "pss-baseline" in kg105["properties"]["tags"]
    assert "Checkov CKV_K8S_26" in kg105["properties"]["scanners"]


def test_results_carry_rule_level_message_and_location() -> None:
    log = sarif_for(broken_stack())
    results = log["runs"][0]["results"]
    by_rule = {r["ruleId"]: r for r in results}
    host_pid = by_rule["KG101"]
    assert host_pid["level"] == "error"
    assert "hostPID is true" in host_pid["message"]["text"]
    physical = host_pid["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "stacks/shop.py"
    assert physical["region"]["startLine"] == 4
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert rules[host_pid["ruleIndex"]]["id"] == "KG101"
    orphan = by_rule["KG601"]  # no origin: logical location only
    assert "physicalLocation" not in orphan["locations"][0]
    assert orphan["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith(
        "ConfigMap orphan"
    )


def test_waived_results_are_suppressed_with_justification() -> None:
    log = sarif_for(broken_stack(), waivers=[Waiver("KG204", "latency-sensitive")])
    (cpu,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "KG204"]
    assert cpu["suppressions"] == [{"kind": "external", "justification": "latency-sensitive"}]
    assert all("suppressions" not in r for r in log["runs"][0]["results"] if r["ruleId"] != "KG204")


def test_levels_follow_the_profile() -> None:
    stack = good_stack()
    find(stack, "Deployment")["spec"]["replicas"] = 1
    prod = sarif_for(stack, profile="prod")["runs"][0]
    restricted = sarif_for(stack, profile="restricted")["runs"][0]
    assert {r["ruleId"]: r["level"] for r in prod["results"]}["KG701"] == "error"
    assert {r["ruleId"]: r["level"] for r in restricted["results"]}["KG701"] == "note"
    assert prod["properties"]["profile"] == "prod"
