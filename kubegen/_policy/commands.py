"""What the ``kubegen lint | explain | rules`` commands print and how they exit.

The typer app in ``kubegen/_cli`` loads stacks and calls these plain functions, so the formatting
and exit-code rules are tested without a CLI and stay in the policy package that owns them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from kubegen._errors import ValidationError
from kubegen._policy.engine import Report
from kubegen._policy.registry import explain, rules_table

__all__ = ["FORMATS", "explain_text", "format_reports", "lint_exit_code", "rules_text"]

#: Output formats of ``kubegen lint --format``.
FORMATS = ("text", "json", "sarif")


def lint_exit_code(reports: Sequence[Report]) -> int:
    """1 when any report has an unwaived error-level finding, else 0 (warnings never fail)."""
    return 1 if any(not report.ok for report in reports) else 0


def format_reports(named: Sequence[tuple[str, Report]], fmt: str) -> str:
    """Render the reports of several stacks (``(env, report)`` pairs) as one document.

    ``text`` prints each stack's report under a ``== env ==`` heading (no heading for a single
    stack); ``json`` gives one document, or a list of ``{"stack": env, ...}`` documents for
    several; ``sarif`` gives one log with a run per stack.

    Raises:
        ValidationError: unknown format.
    """
    if fmt not in FORMATS:
        raise ValidationError(
            "Unable to print the lint report: unknown format",
            field="--format",
            value=fmt,
            fix=f"use one of {', '.join(FORMATS)}",
        )
    if fmt == "text":
        if len(named) == 1:
            return named[0][1].to_text()
        return "\n".join(f"== {env} ==\n{report.to_text()}" for env, report in named)
    if fmt == "json":
        documents = [{"stack": env, **json.loads(report.to_json())} for env, report in named]
        data = documents[0] if len(documents) == 1 else documents
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    logs = [json.loads(report.to_sarif()) for _, report in named]
    merged = logs[0]
    for (env, _), log in zip(named, logs, strict=True):
        log["runs"][0]["automationDetails"] = {"id": f"kubegen/{env}/"}
    merged["runs"] = [log["runs"][0] for log in logs]
    return json.dumps(merged, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def explain_text(rule_id: str) -> str:
    """What ``kubegen explain <id>`` prints; an unknown id raises ``UnknownRuleError``."""
    return explain(rule_id)


def rules_text() -> str:
    """What ``kubegen rules`` prints: one line per rule with its levels per profile."""
    return rules_table()
