"""SARIF 2.1.0 output for code scanning (GitHub, GitLab, Azure DevOps): one run per invocation.

What GitHub code scanning reads, and how kubegen fills it (GitHub docs, "SARIF support for code
scanning"; spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html):

- **One run**, whatever the number of stacks: an upload holds at most 20 runs, so a run per stack
  broke at 21 stacks. Each stack's name, path, profile and target version are listed in
  ``run.properties.stacks``; each result names its stack in ``result.properties.stack``.
- **Locations** relative to the repository root, found by walking up to ``.git`` (the checkout
  GitHub analyses), so a kubegen project in a subfolder of a monorepo annotates the right files.
  The region is the stack line that built the object (start and end column included).
- **Fingerprints**: GitHub reads only ``partialFingerprints.primaryLocationLineHash``. kubegen
  derives it from stack, object, rule and field, never from the source line, so an alert keeps its
  identity when code around the line changes, and the same object in two envs stays two alerts.
- **Waived findings**: GitHub ignores ``suppressions`` when it decides an alert's state, so a
  waived finding is reported at level ``note`` with the waiver's reason in its message; it still
  carries ``suppressions`` (external, accepted, with the reason) for tools that read them.
- **Rules**: every rule, with ``help`` (the fix), ``precision`` and ``problem.severity``; rules
  tagged ``security`` carry a ``security-severity`` score derived from their severity, which
  GitHub shows as critical / high / medium / low.
"""

from __future__ import annotations

import hashlib
import json
import linecache
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kubegen._origin import Origin, absolute_path
from kubegen._policy.model import DEFAULT_PROFILE, Finding, Severity
from kubegen._policy.registry import RuleInfo, all_rules
from kubegen._project import git_root

if TYPE_CHECKING:
    from kubegen._policy.engine import Report

__all__ = ["SARIF_SCHEMA", "StackReport", "repository_root", "sarif_log", "security_severity"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_PROBLEM = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "recommendation"}
# GitHub's bands: > 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
_SCORES = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}
_CRITICAL = "9.5"


@dataclass(frozen=True, slots=True)
class StackReport:
    """One stack's lint report with what locates it.

    Args:
        name: the env name (``prod``), or ``None`` for a report of loose objects.
        report: its findings.
        path: the stack path as given (``stacks/prod``), shown in the run's properties.
        origin: where the ``Stack`` was created: the location of findings on objects that have
            no origin of their own.
    """

    name: str | None
    report: Report
    path: str | None = None
    origin: Origin | None = None


def repository_root(*starts: Path) -> Path:
    """The git working tree holding the first of ``starts`` that is in one, else the cwd.

    The root is the nearest folder with a ``.git`` entry: a folder in a clone, a file in a
    worktree or submodule. GitHub resolves relative URIs against it.
    """
    for start in (*starts, Path.cwd()):
        root = git_root(start)
        if root is not None:
            return root
    return Path.cwd().resolve()


def security_severity(info: RuleInfo, profiles: Sequence[str]) -> str | None:
    """GitHub's ``security-severity`` for a rule tagged ``security``, else ``None``.

    The score follows the rule's severity in the strictest of ``profiles``: error → 8.0 (high),
    warning → 5.0 (medium), info → 2.0 (low); a rule that is an error in every profile, even
    ``baseline`` (host namespaces, privileged containers: the Pod Security baseline), → 9.5
    (critical).
    """
    if "security" not in info.tags:
        return None
    severity = _strictest(info, profiles)
    if all(level is Severity.ERROR for _, level in info.levels.items()):
        return _CRITICAL
    return _SCORES[severity]


def _strictest(info: RuleInfo, profiles: Sequence[str]) -> Severity:
    return min((info.severity(p) for p in profiles), key=lambda s: s.rank)


def _rule(info: RuleInfo, profiles: Sequence[str]) -> dict[str, Any]:
    severity = _strictest(info, profiles)
    help_text = f"{info.fix}\n\nRun `kubegen explain {info.id}` for details."
    if info.scanners:
        help_text += f" Same check: {'; '.join(info.scanners)}."
    properties: dict[str, Any] = {
        "tags": list(info.tags),
        "precision": "very-high",  # exact checks of rendered objects, no heuristics
        "problem.severity": _PROBLEM[severity],
        "severity": str(severity),
        "severityByProfile": {name: str(level) for name, level in info.levels.items()},
        "scanners": list(info.scanners),
    }
    score = security_severity(info, profiles)
    if score is not None:
        properties["security-severity"] = score
    return {
        "id": info.id,
        "name": info.name,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": f"{info.reason} Sources: {'; '.join(info.sources)}."},
        "help": {"text": help_text, "markdown": _markdown_help(info)},
        "defaultConfiguration": {"level": _LEVELS[severity]},
        "properties": properties,
    }


def _markdown_help(info: RuleInfo) -> str:
    lines = [f"**{info.title}**", "", info.reason, "", f"**Fix:** {info.fix}", ""]
    lines.append(f"Sources: {'; '.join(info.sources)}.")
    if info.scanners:
        lines.append(f"Same check: {'; '.join(info.scanners)}.")
    lines.append(f"Run `kubegen explain {info.id}` for details.")
    return "\n".join(lines)


class _Locator:
    """Turns origins into SARIF physical locations relative to the repository root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._uris: dict[str, str] = {}

    def uri(self, file: str) -> tuple[str, Path]:
        path = absolute_path(file).resolve()  # code scanning cannot show results in symlinks
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_uri(), path  # outside the repository: an absolute file URI
        return quote(relative, safe="/"), path

    def physical(self, origin: Origin) -> dict[str, Any]:
        uri, path = self.uri(origin.file)
        line = max(origin.line, 1)
        location: dict[str, Any] = {"uri": uri}
        if not uri.startswith("file:"):
            location["uriBaseId"] = "%SRCROOT%"
        return {"artifactLocation": location, "region": _region(path, line)}


def _region(path: Path, line: int) -> dict[str, int]:
    """The source line, from its first non-blank character to its end (UTF-16 columns)."""
    text = linecache.getline(os.fspath(path), line).rstrip("\r\n")
    code = text.lstrip()
    start = _utf16_length(text[: len(text) - len(code)]) + 1
    end = start + _utf16_length(code.rstrip()) if code.strip() else start
    return {"startLine": line, "startColumn": start, "endLine": line, "endColumn": end}


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fingerprint(stack: str | None, finding: Finding) -> str:
    """Stable identity of a finding: stack, object, rule and field; never the source line."""
    key = "\0".join((stack or "", *finding.object_key, finding.rule_id, finding.path))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _result(
    item: StackReport, finding: Finding, index: dict[str, int], locator: _Locator
) -> dict[str, Any]:
    text = f"{finding.resource}: {finding.path}: {finding.message}"
    text += f" (waived: {finding.waiver_reason})" if finding.waived else f". Fix: {finding.fix}"
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": index[finding.rule_id],
        # GitHub opens an alert for any error or warning: a waived one is only a note.
        "level": "note" if finding.waived else _LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [_location(item, finding, locator)],
        "partialFingerprints": {
            "primaryLocationLineHash": _fingerprint(item.name, finding),
            "kubegenObjectPath/v1": "|".join(
                (item.name or "", *finding.object_key, finding.path)
            ),
        },
        "properties": {"severity": str(finding.severity), "waived": finding.waived},
    }
    if item.name is not None:
        result["properties"]["stack"] = item.name
    if finding.waived:
        result["suppressions"] = [
            {"kind": "external", "status": "accepted", "justification": finding.waiver_reason or ""}
        ]
    if finding.source is not None:  # upstream's object: code scanning must not fail on it
        result["properties"] = {"vendoredSource": finding.source, "gating": finding.gating}
        if not finding.gating and result["level"] == "error":
            result["level"] = "warning"
    return result


def _location(item: StackReport, finding: Finding, locator: _Locator) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {"fullyQualifiedName": f"{finding.resource}#{finding.path}", "kind": "object"}
        ]
    }
    origin = finding.origin or item.origin  # objects kubegen derived: the Stack(...) line
    if origin is not None:
        location["physicalLocation"] = locator.physical(origin)
    return location


def _stack_properties(item: StackReport) -> dict[str, Any]:
    report = item.report
    return {
        "name": item.name,
        "path": item.path,
        "profile": report.profile,
        "kubernetesVersion": report.kubernetes_version,
        "objects": report.objects,
        "ok": report.ok,
        "summary": report.summary(),
    }


def sarif_log(stacks: Sequence[StackReport], *, root: Path | None = None) -> str:
    """Every stack's findings as one SARIF 2.1.0 run (JSON text with a trailing newline).

    Args:
        stacks: the reports, in command-line order.
        root: the folder URIs are relative to; by default the git repository holding the
            stacks' paths (else the working directory's, else the working directory).
    """
    if root is None:
        root = repository_root(*(Path(item.path) for item in stacks if item.path))
    from kubegen import __version__

    rules = all_rules()
    index = {info.id: position for position, info in enumerate(rules)}
    profiles = sorted({item.report.profile for item in stacks} or {DEFAULT_PROFILE})
    locator = _Locator(root)
    run = {
        "tool": {
            "driver": {
                "name": "kubegen",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(info, profiles) for info in rules],
            }
        },
        "columnKind": "utf16CodeUnits",
        "originalUriBaseIds": {
            "%SRCROOT%": {"description": {"text": "the root of the git repository"}}
        },
        "properties": {"stacks": [_stack_properties(item) for item in stacks]},
        "results": [
            _result(item, finding, index, locator)
            for item in stacks
            for finding in item.report.findings
        ],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
