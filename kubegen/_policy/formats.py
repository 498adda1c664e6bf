"""Text and JSON renderings of a lint report (SARIF lives in :mod:`kubegen._policy.sarif`).

The text form is for people at a terminal: findings grouped under the object they concern, with
the stack line that built it, so the fix is one jump away. The JSON form is for scripts and is
stable (sorted keys), so it can be snapshotted or diffed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from kubegen._policy.model import ALWAYS_GATING, Finding, Severity

if TYPE_CHECKING:
    from kubegen._policy.engine import Report

__all__ = ["finding_dict", "json_document", "source_summaries", "summary", "text"]

_NOUNS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary(report: Report) -> str:
    """One line: counts per severity, waived count, profile and target version.

    Findings of vendored sources that do not gate are left out of the counts and summed up in
    one clause; :func:`source_summaries` details them per source.
    """
    counts = [_plural(report.count(s), _NOUNS[s]) for s in Severity]
    counts.append(f"{sum(1 for f in report.waived if f.gating)} waived")
    line = (
        f"{', '.join(counts)} in {_plural(report.objects, 'object')} "
        f"(profile {report.profile}, Kubernetes {report.kubernetes_version})"
    )
    quiet = [f for f in report.findings if not f.gating]
    if quiet:
        sources = len({f.source for f in quiet})
        line += (
            f"; {_plural(len(quiet), 'finding')} in {_plural(sources, 'vendored source')} "
            "not gating"
        )
    return line


def source_summaries(report: Report) -> list[str]:
    """``vendored cert-manager v1.16.2: 2 errors, 5 warnings, 0 notes, 1 waived (not gating)``."""
    by_source: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.source is not None:
            by_source.setdefault(finding.source, []).append(finding)
    lines = []
    for source, found in sorted(by_source.items()):
        open_ = [f for f in found if not f.waived]
        counts = [
            _plural(sum(1 for f in open_ if f.severity is s), _NOUNS[s]) for s in Severity
        ]
        counts.append(f"{len(found) - len(open_)} waived")
        rules = sorted({f.rule_id for f in open_})
        chosen = [f for f in found if f.rule_id not in ALWAYS_GATING] or found
        gate = "gating" if chosen[0].gating else "not gating"
        more = f"; rules {', '.join(rules)}" if rules else ""
        lines.append(f"vendored {source}: {', '.join(counts)} ({gate}{more})")
    return lines


def _line(finding: Finding) -> list[str]:
    label = "waived" if finding.waived else str(finding.severity)
    lines = [f"  {label:<7} {finding.rule_id}  {finding.path}: {finding.message}"]
    if finding.waived:
        lines.append(f"{'':17}reason: {finding.waiver_reason}")
    elif finding.severity is not Severity.INFO:
        lines.append(f"{'':17}fix: {finding.fix}")
    return lines


def text(report: Report) -> str:
    """Findings grouped by object in report order, then the summary line."""
    lines: list[str] = []
    current: tuple[object, ...] | None = None
    for finding in report.findings:
        group = (finding.object_key, finding.origin)
        if group != current:
            current = group
            where = f"  ({finding.location})" if finding.location else ""
            if finding.source is not None:
                gate = "" if finding.gating else ", not gating"
                where += f"  [vendored: {finding.source}{gate}]"
            if lines:
                lines.append("")
            lines.append(f"{finding.resource}{where}")
        lines.extend(_line(finding))
    if not lines:
        lines.append("No findings.")
    lines += ["", *source_summaries(report), summary(report)]
    return "\n".join(lines) + "\n"


def finding_dict(finding: Finding) -> dict[str, Any]:
    """A finding as JSON-ready data (camelCase keys, like the Kubernetes objects it is about)."""
    origin = finding.origin
    return {
        "ruleId": finding.rule_id,
        "severity": str(finding.severity),
        "resource": finding.resource,
        "path": finding.path,
        "message": finding.message,
        "fix": finding.fix,
        "origin": None if origin is None else {"file": origin.file, "line": origin.line},
        "waived": finding.waived,
        "waiverReason": finding.waiver_reason,
        "blocking": finding.blocking,
        "source": finding.source,
    }


def json_document(report: Report) -> str:
    """The whole report as a JSON document with sorted keys and a trailing newline."""
    document = {
        "profile": report.profile,
        "kubernetesVersion": report.kubernetes_version,
        "objects": report.objects,
        "ok": report.ok,
        "summary": {
            **{str(s): report.count(s) for s in Severity},
            "waived": len(report.waived),
        },
        "sources": source_summaries(report),
        "findings": [finding_dict(f) for f in report.findings],
    }
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
