"""``kubegen review --format json``: the review for tools, in a stable, versioned schema.

The schema is documented in docs/review.md ("JSON"); ``schema`` is its version, raised only when
a field changes meaning or goes away (new fields may be added). Lists keep the order of the
text report; values are complete (full image references and digests, full flag lists).
"""

from __future__ import annotations

import json
from typing import Any

from kubegen._analysis.flows import Node
from kubegen._review.model import Review, StackReview

__all__ = ["SCHEMA_VERSION", "json_report"]

SCHEMA_VERSION = 1


def json_report(review: Review) -> str:
    """The review as one JSON document (two-space indent, trailing newline)."""
    base = review.base
    data = {
        "schema": SCHEMA_VERSION,
        "base": {
            "commit": base.commit, "ref": base.ref, "how": base.how, "notes": list(base.notes),
        },
        "categories": sorted(review.categories()),
        "stacks": [_stack(stack) for stack in review.stacks],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _node(node: Node) -> dict[str, Any]:
    return {
        "kind": node.kind,
        "namespace": node.namespace,
        "label": node.label,
        "hostNetwork": node.host_network,
    }


def _stack(stack: StackReview) -> dict[str, Any]:
    return {
        "env": stack.env,
        "stack": stack.stack,
        "output": stack.output,
        "notes": list(stack.notes),
        "risk": stack.risk_line(),
        "risks": [
            {"category": category, "count": count, "text": text}
            for category, count, text in stack.risks()
        ],
        "categories": sorted(stack.categories()),
        "network": [
            {
                "change": f.change,
                "from": _node(f.source),
                "to": _node(f.target),
                "port": f.port,
                "egress": f.egress,
                "ingress": f.ingress,
                "enforced": f.enforced,
            }
            for f in stack.flows
        ],
        "access": [
            {
                "change": p.change,
                "subject": p.subject,
                "namespace": p.namespace,
                "resource": p.resource,
                "resourceNames": list(p.names),
                "verbs": list(p.verbs),
                "flags": list(p.flags),
                "via": list(p.via),
            }
            for p in stack.permissions
        ],
        "admission": [
            {
                "namespace": a.namespace,
                "mode": a.mode,
                "before": a.before,
                "after": a.after,
                "weaker": a.weaker,
            }
            for a in stack.admission
        ],
        "exemptions": [
            {
                "change": e.change,
                "object": e.resource,
                "kind": e.kind,
                "name": e.name,
                "container": None if e.volume else e.container,
                "volume": e.volume,
                "reason": e.reason,
                "previousReason": e.before,
            }
            for e in stack.exemptions
        ],
        "findings": [
            {
                "change": f.change,
                "rule": f.rule_id,
                "severity": f.severity,
                "object": f.resource,
                "path": f.path,
                "message": f.message,
                "location": f.location or None,
            }
            for f in stack.findings
        ],
        "workloads": [
            {
                "object": w.resource,
                "fields": [
                    {"field": c.field, "part": c.part, "before": c.before, "after": c.after}
                    for c in w.fields
                ],
                "warnings": list(w.warnings),
            }
            for w in stack.workloads
        ],
        "objects": [
            {
                "change": o.change,
                "kind": o.kind,
                "namespace": o.namespace,
                "name": o.name,
                "path": f"{stack.output}/{o.path}",
                "warning": o.warning,
            }
            for o in stack.objects
        ],
    }
