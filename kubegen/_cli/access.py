"""``kubegen access PATH…``: which ServiceAccount may do what, where — what a reviewer reads.

The table is resolved from the *rendered* objects (the manifests ``render`` would write), not
from builders: every RoleBinding and ClusterRoleBinding, its role's rules (aggregated
ClusterRoles expanded over the ClusterRoles in the output), one row per subject, namespace,
resource and resourceNames. A role the output does not hold (a built-in such as ``view``) shows
as ``?``: its rules live in the cluster. What a role names but its binding can never grant (a
RoleBinding's cluster-scoped resources and non-resource URLs) is listed apart, with why, never
as granted. ServiceAccounts without any access are listed after the tables. Rows are sorted, so
the output is byte-identical between runs.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from kubegen._analysis.access import (
    AccessRow,
    Subject,
    access_rows,
    not_granted_reason,
    service_accounts,
)
from kubegen._analysis.api_reach import ApiReach, ApiSection, api_section
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
        from kubegen._pipeline import build_objects

        reports = []
        for path in paths:
            loaded, objects = build_objects(path)
            bodies = [obj.body for obj in objects]
            rows = access_rows(bodies)
            granted = {row.subject for row in rows}
            idle = [sa for sa in service_accounts(bodies) if sa not in granted]
            bound = sorted({row.subject for row in rows if row.granted}, key=Subject.sort_key)
            api = api_section(objects, loaded.stack.cluster, bound)
            reports.append(Report(loaded.env, loaded.stack.name, rows, idle, api))
        text = _json(reports) if format is Format.json else _tables(reports)
        sys.stdout.write(text)
        return 0

    _guard(run)


@dataclass(frozen=True, slots=True)
class Report:
    """One stack's access: its rows, idle accounts, and its API server section."""

    env: str
    stack: str
    rows: list[AccessRow]
    idle: list[Subject]
    api: ApiSection | None


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


def table(rows: list[AccessRow], why: bool = False) -> str:
    """Aligned columns, one line per row, no trailing spaces (``why``: a WHY column)."""
    headers = (*_HEADERS, "WHY") if why else _HEADERS
    lines = [headers, *(_cells(row) + ((not_granted_reason(row),) if why else ()) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    return "".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        + "\n"
        for line in lines
    )


def _tables(reports: list[Report]) -> str:
    parts = []
    for env, stack, rows, idle, api in (
        (r.env, r.stack, r.rows, r.idle, r.api) for r in reports
    ):
        text = f"{env}: stack {stack}\n"
        granted = [row for row in rows if row.granted]
        refused = [row for row in rows if not row.granted]
        if not rows:
            text += "No RBAC bindings.\n"
        else:
            text += table(granted) if granted else "Nothing granted.\n"
        if refused:
            text += "Bound but not granted (a RoleBinding grants only inside its namespace):\n"
            text += table(refused, why=True)
        if api is not None:
            text += _api_text(api)
        if idle:
            text += "No API access: " + ", ".join(str(sa) for sa in idle) + "\n"
        parts.append(text)
    return "\n".join(parts)


def _api_text(api: ApiSection) -> str:
    """Whether the bound accounts' pods can reach the API server, one line each."""
    where = f" (Cluster {api.cluster})" if api.cluster else ""
    if api.elsewhere is not None:
        return f"API server{where}: egress allowed outside kubegen: {api.elsewhere}\n"
    if api.port is None:
        return (f"API server{where}: not declared, so reachability is not checked "
                "(Cluster(api_server=ApiServer(...)))\n")
    text = f"API server {', '.join(api.addresses)} port {api.port}{where}:\n"
    for reach in api.reach:
        text += f"  {_reach_text(reach)}\n"
    return text


def _reach_text(reach: ApiReach) -> str:
    who = f"{reach.workload} ({reach.account})"
    if not reach.reachable:
        line = f"NOT reachable from {who}: no egress rule allows it"
    elif reach.via:
        line = f"reachable from {who} via NetworkPolicy {', '.join(reach.via)}"
    else:
        line = f"reachable from {who}: its egress is not isolated"
    if reach.host_network:
        line += " (hostNetwork: most network plugins apply no NetworkPolicy to it)"
    return line


def _api_json(api: ApiSection | None) -> dict[str, Any] | None:
    if api is None:
        return None
    return {
        "cluster": api.cluster,
        "addresses": list(api.addresses),
        "port": api.port,
        "elsewhere": api.elsewhere,
        "reach": [
            {
                "serviceAccount": {"name": r.account.name, "namespace": r.account.namespace},
                "workload": r.workload,
                "reachable": r.reachable,
                "via": list(r.via),
                "hostNetwork": r.host_network,
            }
            for r in api.reach
        ],
    }


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
                "access": [row_json(row) for row in rows if row.granted],
                "notGranted": [
                    {**row_json(row), "why": not_granted_reason(row)}
                    for row in rows
                    if not row.granted
                ],
                "apiServer": _api_json(api),
                "noAccess": [
                    {"kind": sa.kind, "name": sa.name, "namespace": sa.namespace} for sa in idle
                ],
            }
            for env, stack, rows, idle, api in (
                (r.env, r.stack, r.rows, r.idle, r.api) for r in reports
            )
        ]
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
