"""``kubegen review --format markdown``: a pull-request comment or a GitHub job summary.

A heading with the base, one summary table (a row per stack with its risk line), then one
collapsible ``<details>`` per stack that changed, holding a table per topic. Every value that
comes from the stacks (names, reasons, messages) is escaped, so a reason cannot inject Markdown
or HTML into the page.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kubegen._review.model import Review, StackReview
from kubegen._review.present import (
    NOT_ENFORCED,
    admission_values,
    base_line,
    field_label,
    field_values,
    node_text,
    permission_text,
    visible,
)

__all__ = ["markdown_report"]

# What GitHub-flavoured Markdown could read as markup inside a line or a table cell: emphasis,
# code, links, HTML and entities, strikethrough, and the cell separator.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
_MARK = {
    "added": "➕ added", "created": "➕ created", "new": "➕ new",
    "removed": "➖ removed", "deleted": "➖ deleted", "fixed": "➖ fixed",
    "changed": "✏️ changed",
}  # fmt: skip


def md(text: str) -> str:
    """``text`` as literal Markdown inline content: specials escaped, hidden characters shown,
    one line."""
    return _SPECIAL.sub(r"\\\1", visible(" ".join(text.split())))


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def markdown_report(review: Review) -> str:
    """The whole review as GitHub-flavoured Markdown, ending in a newline."""
    lines = ["## kubegen review", "", f"Base: {md(base_line(review.base))}", ""]
    lines += [f"> {md(note)}" for note in review.base.notes]
    if review.base.notes:
        lines.append("")
    rows = [(md(s.env), md(s.stack), md(s.risk_line())) for s in review.stacks]
    lines += _table(("env", "stack", "review"), rows)
    for stack in review.stacks:
        if stack.changed:
            lines += ["", *_stack(stack)]
    return "\n".join(lines) + "\n"


def _stack(stack: StackReview) -> list[str]:
    summary = f"<b>{md(stack.env)}</b> ({md(stack.output)}): {md(stack.risk_line())}"
    lines = ["<details>", f"<summary>{summary}</summary>", ""]
    lines += [f"> {md(note)}" for note in stack.notes]
    if stack.notes:
        lines.append("")
    for title, body in (
        ("Network", _network(stack)),
        ("Access", _access(stack)),
        ("Admission", _admission(stack)),
        ("Hardening", _hardening(stack)),
        ("Workloads", _workloads(stack)),
        ("Objects", _objects(stack)),
    ):
        if body:
            lines += [f"#### {title}", "", *body, ""]
    lines.append("</details>")
    return lines


def _network(stack: StackReview) -> list[str]:
    rows = [
        (
            _MARK[f.change],
            md(node_text(f.source)),
            md(node_text(f.target)),
            md(f.port if f.enforced else f"{f.port} ({NOT_ENFORCED})"),
        )
        for f in stack.flows
    ]
    return _table(("", "from", "to", "port"), rows) if rows else []


def _access(stack: StackReview) -> list[str]:
    rows = [
        (_MARK[p.change], md(p.subject), md(permission_text(p)), md(", ".join(p.flags)))
        for p in stack.permissions
    ]
    return _table(("", "subject", "permission", "flags"), rows) if rows else []


def _admission(stack: StackReview) -> list[str]:
    rows = []
    for a in stack.admission:
        before, after = admission_values(a)
        rows.append((md(a.namespace), md(f"Pod Security {a.mode}"), md(before),
                     md(after), "⚠️ weaker" if a.weaker else ""))
    return _table(("namespace", "mode", "before", "after", ""), rows) if rows else []


def _hardening(stack: StackReview) -> list[str]:
    lines: list[str] = []
    rows = []
    for e in stack.exemptions:
        where = e.where
        reason = md(e.reason) if e.change != "changed" else f"{md(e.before or '')} → {md(e.reason)}"
        rows.append((_MARK[e.change], md(e.resource), md(f"{e.kind} {e.name}{where}"), reason))
    if rows:
        lines += _table(("", "object", "exception", "reason"), rows)
    findings = [
        (
            _MARK[f.change],
            md(f.rule_id),
            md(f.severity),
            md(f.resource),
            md(f"{f.path}: {f.message}"),
        )
        for f in stack.findings
    ]
    if findings:
        lines += ([""] if lines else []) + _table(
            ("", "rule", "severity", "object", "finding"), findings
        )
    return lines


def _workloads(stack: StackReview) -> list[str]:
    rows = []
    warnings = []
    for w in stack.workloads:
        for change in w.fields:
            before, after = field_values(change)
            rows.append((md(w.resource), md(field_label(change)), md(before), md(after)))
        warnings += [f"- ⚠️ {md(w.resource)}: {md(text)}" for text in w.warnings]
    lines = _table(("object", "field", "before", "after"), rows) if rows else []
    if warnings:
        lines += ([""] if lines else []) + warnings
    return lines


def _objects(stack: StackReview) -> list[str]:
    rows = [
        (
            _MARK[o.change],
            md(o.resource),
            md(f"{stack.output}/{o.path}"),
            f"⚠️ {md(o.warning)}" if o.warning else "",
        )
        for o in stack.objects
    ]
    return _table(("", "object", "file", "note"), rows) if rows else []
