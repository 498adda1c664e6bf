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
from kubegen._policy.sarif import StackReport, sarif_log

__all__ = [
    "FORMATS",
    "StackReport",
    "explain_text",
    "format_reports",
    "lint_exit_code",
    "rules_text",
]

#: Output formats of ``kubegen lint --format``.
FORMATS = ("text", "json", "sarif")


def lint_exit_code(reports: Sequence[Report]) -> int:
    """1 when any report has an unwaived error-level finding, else 0 (warnings never fail)."""
    return 1 if any(not report.ok for report in reports) else 0


def format_reports(stacks: Sequence[StackReport], fmt: str) -> str:
    """Render the reports of several stacks as one document.

    ``text`` prints each stack's report under a ``== env ==`` heading (no heading for a single
    stack); ``json`` gives one document, or a list of ``{"stack": env, ...}`` documents for
    several; ``sarif`` gives one log with one run for all of them (GitHub takes at most 20
    runs per upload), each result naming its stack.

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
        if len(stacks) == 1:
            return stacks[0].report.to_text()
        return "\n".join(f"== {item.name} ==\n{item.report.to_text()}" for item in stacks)
    if fmt == "json":
        documents = [{"stack": s.name, **json.loads(s.report.to_json())} for s in stacks]
        data = documents[0] if len(documents) == 1 else documents
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return sarif_log(stacks)


def explain_text(rule_id: str) -> str:
    """What ``kubegen explain <id>`` prints; an unknown id raises ``UnknownRuleError``."""
    return explain(rule_id)


def rules_text() -> str:
    """What ``kubegen rules`` prints: one line per rule with its levels per profile."""
    return rules_table()
