"""``kubegen review`` for the terminal: one block per stack, its risk line first.

Lines start with ``+`` (added, created, new), ``-`` (removed, deleted, fixed), ``~`` (changed)
or ``!`` (a warning), so the output greps like a diff.
"""

from __future__ import annotations

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

__all__ = ["text_report"]

_SIGN = {
    "added": "+", "created": "+", "new": "+",
    "removed": "-", "deleted": "-", "fixed": "-",
    "changed": "~",
}  # fmt: skip


def text_report(review: Review) -> str:
    """The whole review as plain text, ending in a newline."""
    lines = [f"kubegen review: base {base_line(review.base)}"]
    lines += [f"note: {note}" for note in review.base.notes]
    for stack in review.stacks:
        lines.append("")
        lines += _stack(stack)
    return "".join(visible(line) + "\n" for line in lines)


def _stack(stack: StackReview) -> list[str]:
    head = f"{stack.env} (stack {stack.stack}, {stack.output}): {stack.risk_line()}"
    lines = [head, *(f"  note: {note}" for note in stack.notes)]
    if not stack.changed:
        return lines
    for title, body in (
        ("network", _network(stack)),
        ("access", _access(stack)),
        ("admission", _admission(stack)),
        ("hardening", _hardening(stack)),
        ("workloads", _workloads(stack)),
        (_objects_title(stack), _objects(stack)),
    ):
        if body:
            lines.append(f"  {title}")
            lines += [f"    {line}" for line in body]
    return lines


def _network(stack: StackReview) -> list[str]:
    return [
        f"{_SIGN[f.change]} {node_text(f.source)} → {node_text(f.target)}  {f.port}"
        + ("" if f.enforced else f"  ({NOT_ENFORCED})")
        for f in stack.flows
    ]


def _access(stack: StackReview) -> list[str]:
    lines = []
    for p in stack.permissions:
        flags = f"  [{', '.join(p.flags)}]" if p.flags else ""
        lines.append(f"{_SIGN[p.change]} {p.subject}: {permission_text(p)}{flags}")
    return lines


def _admission(stack: StackReview) -> list[str]:
    lines = []
    for a in stack.admission:
        before, after = admission_values(a)
        weaker = "  [weaker]" if a.weaker else ""
        sign = "+" if a.before is None else "~"
        lines.append(f"{sign} Namespace {a.namespace} {a.mode}: {before} → {after}{weaker}")
    return lines


def _hardening(stack: StackReview) -> list[str]:
    lines = []
    for e in stack.exemptions:
        where = e.where
        reason = f'"{e.before}" → "{e.reason}"' if e.change == "changed" else f'"{e.reason}"'
        lines.append(f"{_SIGN[e.change]} {e.kind} {e.name}{where} on {e.resource}: {reason}")
    for f in stack.findings:
        at = f" ({f.location})" if f.location else ""
        lines.append(
            f"{_SIGN[f.change]} {f.change} finding {f.rule_id} {f.severity}: {f.resource}: "
            f"{f.path}: {f.message}{at}"
        )
    return lines


def _workloads(stack: StackReview) -> list[str]:
    lines = []
    for w in stack.workloads:
        lines.append(w.resource)
        for change in w.fields:
            before, after = field_values(change)
            lines.append(f"  ~ {field_label(change)}: {before} → {after}")
        lines += [f"  ! {warning}" for warning in w.warnings]
    return lines


def _objects_title(stack: StackReview) -> str:
    counts = {"created": 0, "deleted": 0, "changed": 0}
    for o in stack.objects:
        counts[o.change] += 1
    return "objects: " + ", ".join(f"{n} {change}" for change, n in counts.items())


def _objects(stack: StackReview) -> list[str]:
    lines = []
    for o in stack.objects:
        lines.append(f"{_SIGN[o.change]} {o.resource}  {stack.output}/{o.path}")
        if o.warning:
            lines.append(f"  ! {o.warning}")
    return lines
