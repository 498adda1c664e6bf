"""``kubegen access PATH…``: which ServiceAccount may do what, where — what a reviewer reads.

The table is resolved from the *rendered* objects (the manifests ``render`` would write), not
from builders: every RoleBinding and ClusterRoleBinding, its role's rules (aggregated
ClusterRoles expanded over the ClusterRoles in the output), one row per subject, namespace,
resource and resourceNames. A role the output does not hold (a built-in such as ``view``) shows
as ``?``: its rules live in the cluster. ServiceAccounts without any access are listed after
the table. Rows are sorted, so the output is byte-identical between runs.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer

from kubegen._analysis.access import AccessRow, Subject, access_rows, service_accounts
from kubegen._cli.app import Paths, _guard, app

_HEADERS = ("SUBJECT", "NAMESPACE", "RESOURCE", "NAMES", "VERBS", "VIA")


class Format(StrEnum):
    """Output formats of ``kubegen access``."""

    table = "table"
    json = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="table (for people) or json (for tools).")
]


@app.command()
def access(paths: Paths, format: FormatOption = Format.table) -> None:
    """Show which ServiceAccounts (and users, groups) may do which verbs on what, and where."""

    def run() -> int:
        from kubegen._pipeline import build_parts

        reports = []
        for path in paths:
            for part in build_parts(path)[1]:
                bodies = [obj.body for obj in part.objects]
                rows = access_rows(bodies)
                granted = {row.subject for row in rows}
                idle = [sa for sa in service_accounts(bodies) if sa not in granted]
                reports.append((part.label, part.stack.name, rows, idle))
        text = _json(reports) if format is Format.json else _tables(reports)
        sys.stdout.write(text)
        return 0

    _guard(run)


Report = tuple[str, str, list[AccessRow], list[Subject]]


def resource_text(row: AccessRow) -> str:
    """``configmaps``, ``deployments.apps/scale``, ``/metrics``; ``?`` when unresolved."""
    if not row.resolved or row.resource is None:
        return "?"
    if row.api_group is None:
        return row.resource
    base, slash, sub = row.resource.partition("/")
    group = f".{row.api_group}" if row.api_group else ""
    return f"{base}{group}{slash}{sub}"


def _cells(row: AccessRow) -> tuple[str, ...]:
    via = "; ".join(" > ".join(path) for path in row.via)
    if not row.resolved:
        via += " (rules not in the output)"
    return (
        str(row.subject),
        row.namespace,
        resource_text(row),
        (",".join(row.names) or "*") if row.resolved else "?",
        ",".join(row.verbs) if row.resolved else "?",
        via,
    )


def table(rows: list[AccessRow]) -> str:
    """Aligned columns, one line per row, no trailing spaces."""
    lines = [_HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(_HEADERS))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )


def _tables(reports: list[Report]) -> str:
    parts = []
    for env, stack, rows, idle in reports:
        text = f"{env}: stack {stack}\n"
        text += table(rows) if rows else "No RBAC bindings.\n"
        if idle:
            text += "No API access: " + ", ".join(str(sa) for sa in idle) + "\n"
        parts.append(text)
    return "\n".join(parts)


def row_json(row: AccessRow) -> dict[str, Any]:
    """A row as JSON: the subject, where, what (kubectl field names), which verbs, and via."""
    subject = row.subject
    url = row.resolved and row.api_group is None
    return {
        "subject": {"kind": subject.kind, "name": subject.name, "namespace": subject.namespace},
        "namespace": row.namespace,
        "apiGroup": row.api_group,
        "resource": None if url else row.resource,
        "nonResourceURL": row.resource if url else None,
        "resourceNames": list(row.names),
        "verbs": list(row.verbs),
        "via": [list(path) for path in row.via],
        "resolved": row.resolved,
    }


def _json(reports: list[Report]) -> str:
    data = {
        "stacks": [
            {
                "env": env,
                "stack": stack,
                "access": [row_json(row) for row in rows],
                "noAccess": [
                    {"kind": sa.kind, "name": sa.name, "namespace": sa.namespace} for sa in idle
                ],
            }
            for env, stack, rows, idle in reports
        ]
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
