"""SARIF 2.1.0 output, so code-scanning tools (GitHub, GitLab, Azure DevOps) show findings inline.

One run, tool ``kubegen``, every rule in ``tool.driver.rules`` (id, name, descriptions, help =
the fix, tags, severity per profile); one result per finding, located at the stack file and line
that built the object (``physicalLocation``) and naming the object (``logicalLocations``). Waived
findings carry ``suppressions: [{kind: external, justification: <reason>}]``, which code-scanning
tools show as dismissed rather than open.
Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubegen._policy.model import Finding, Severity
from kubegen._policy.registry import RuleInfo, all_rules

if TYPE_CHECKING:
    from kubegen._policy.engine import Report

__all__ = ["SARIF_SCHEMA", "sarif_document"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # ~10 ms; SARIF only

    try:
        return version("kubegen")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


def _rule(info: RuleInfo, profile: str) -> dict[str, Any]:
    full = f"{info.reason} Sources: {'; '.join(info.sources)}."
    help_text = f"{info.fix}\n\nRun `kubegen explain {info.id}` for details."
    if info.scanners:
        help_text += f" Same check: {'; '.join(info.scanners)}."
    return {
        "id": info.id,
        "name": info.name,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": full},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": _LEVELS[info.severity(profile)]},
        "properties": {
            "tags": list(info.tags),
            "severity": str(info.severity(profile)),
            "severityByProfile": {name: str(level) for name, level in info.levels.items()},
            "scanners": list(info.scanners),
        },
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        "level": _LEVELS[finding.severity],
        "message": {"text": f"{finding.resource}: {finding.path}: {finding.message}"},
        "locations": [_location(finding)],
        "partialFingerprints": {
            "kubegenObjectPath/v1": "|".join((*finding.object_key, finding.path)),
        },
    }
    if finding.waived:
        result["suppressions"] = [
            {"kind": "external", "justification": finding.waiver_reason or ""}
        ]
    if finding.source is not None:  # upstream's object: code scanning must not fail on it
        result["properties"] = {"vendoredSource": finding.source, "gating": finding.gating}
        if not finding.gating and result["level"] == "error":
            result["level"] = "warning"
    return result


def _location(finding: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {"fullyQualifiedName": f"{finding.resource}#{finding.path}", "kind": "object"}
        ]
    }
    if finding.origin is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": finding.origin.file, "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": max(finding.origin.line, 1)},
        }
    return location


def sarif_document(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (JSON text with a trailing newline)."""
    rules = all_rules()
    index = {info.id: position for position, info in enumerate(rules)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kubegen",
                        "version": _tool_version(),
                        "rules": [_rule(info, report.profile) for info in rules],
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "project root"}}},
                "properties": {
                    "profile": report.profile,
                    "kubernetesVersion": report.kubernetes_version,
                },
                "results": [_result(f, index) for f in report.findings],
            }
        ],
    }
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
