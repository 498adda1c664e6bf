"""Draw a :class:`~kubegen._analysis.flows.FlowGraph` as Mermaid or Graphviz DOT.

Namespaces are boxes (Mermaid ``subgraph``, DOT ``cluster_…``); workloads are rectangles, pods
outside the manifests are rounded, IP blocks and "anywhere" are hexagons; each edge carries its
ports. Workloads with hostNetwork are labelled so, and their flows are dashed with a note: most
network plugins do not enforce NetworkPolicies for hostNetwork pods, so the edge shows what the
policies say, not what the cluster does. Node ids are ``[a-z0-9_]`` slugs with a kind prefix
(``w_``, ``p_``, ``x_``, ``any_``, ``ns_``), valid in both syntaxes and never a keyword of
either; the output depends only on the graph, so it diffs cleanly in review.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from kubegen._analysis.flows import Flow, FlowGraph, Node

GraphFormat = Literal["mermaid", "dot"]
FORMATS: tuple[str, ...] = ("mermaid", "dot")

_PREFIX = {"workload": "w", "pods": "p", "ipblock": "x", "anywhere": "any"}
_MAX_SLUG = 48


def slug(text: str, limit: int = _MAX_SLUG) -> str:
    """Lowercase ``[a-z0-9_]`` form of ``text``, at most ``limit`` (default 48) characters."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:limit].strip("_")


def node_ids(nodes: Iterable[Node]) -> dict[Node, str]:
    """A unique, syntax-safe id per node; clashes get ``_2``, ``_3``… in the nodes' order."""
    used: set[str] = set()
    out: dict[Node, str] = {}
    for node in nodes:
        parts = [_PREFIX[node.kind], slug(node.namespace or ""), slug(node.label)]
        base = "_".join(part for part in parts if part)
        ident, n = base, 2
        while ident in used:
            ident, n = f"{base}_{n}", n + 1
        used.add(ident)
        out[node] = ident
    return out


def _namespaces(graph: FlowGraph) -> list[str]:
    return sorted({node.namespace for node in graph.nodes if node.namespace})


def render_graph(graph: FlowGraph, fmt: GraphFormat = "mermaid", title: str = "") -> str:
    """The graph as Mermaid ``flowchart LR`` (default) or a DOT ``digraph``, ending in newline."""
    if fmt == "dot":
        return _dot(graph, title)
    return _mermaid(graph, title)


def _mermaid_text(text: str) -> str:
    return '"' + text.replace('"', "#quot;").replace("\n", "<br>") + '"'


_MERMAID_SHAPE = {
    "workload": ("[", "]"),
    "pods": ("([", "])"),
    "ipblock": ("{{", "}}"),
    "anywhere": ("{{", "}}"),
}


HOST_NETWORK_NOTE = "hostNetwork: not enforced by most network plugins"


def node_label(node: Node) -> str:
    """The node's label, with ``(hostNetwork)`` for a workload on its node's network."""
    return f"{node.label} (hostNetwork)" if node.host_network else node.label


def flow_label(flow: Flow) -> str:
    """The edge's ports, and a note when a side runs with hostNetwork."""
    ports = ", ".join(flow.ports)
    return ports if flow.enforced else f"{ports} ({HOST_NETWORK_NOTE})"


def _mermaid_node(node: Node, ident: str) -> str:
    opening, closing = _MERMAID_SHAPE[node.kind]
    return f"{ident}{opening}{_mermaid_text(node_label(node))}{closing}"


def _mermaid(graph: FlowGraph, title: str) -> str:
    ids = node_ids(graph.nodes)
    lines = ["flowchart LR"]
    if title:  # after the diagram type: some renderers want that on the first line
        lines.append(f"  %% {title}")
    for namespace in _namespaces(graph):
        box = _mermaid_text(f"namespace {namespace}")
        lines.append(f"  subgraph ns_{slug(namespace, 63)}[{box}]")
        lines.extend(
            f"    {_mermaid_node(node, ids[node])}"
            for node in graph.nodes
            if node.namespace == namespace
        )
        lines.append("  end")
    lines.extend(
        f"  {_mermaid_node(node, ids[node])}" for node in graph.nodes if not node.namespace
    )
    for flow in graph.flows:
        arrow = "-->" if flow.enforced else "-.->"
        lines.append(f"  {ids[flow.source]} {arrow}|{_mermaid_text(flow_label(flow))}| "
                     f"{ids[flow.target]}")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_DOT_SHAPE = {"workload": "box", "pods": "box", "ipblock": "hexagon", "anywhere": "hexagon"}


def _dot_node(node: Node, ident: str) -> str:
    style = ', style="rounded,dashed"' if node.kind == "pods" else ""
    return f"{ident} [label={_dot_text(node_label(node))}, shape={_DOT_SHAPE[node.kind]}{style}];"


def _dot(graph: FlowGraph, title: str) -> str:
    ids = node_ids(graph.nodes)
    lines = [f"// {title}"] if title else []
    lines += ["digraph network {", "  rankdir=LR;"]
    for namespace in _namespaces(graph):
        lines.append(f"  subgraph cluster_ns_{slug(namespace, 63)} {{")
        lines.append(f"    label={_dot_text(f'namespace {namespace}')};")
        lines.extend(
            f"    {_dot_node(node, ids[node])}"
            for node in graph.nodes
            if node.namespace == namespace
        )
        lines.append("  }")
    lines.extend(f"  {_dot_node(node, ids[node])}" for node in graph.nodes if not node.namespace)
    for flow in graph.flows:
        style = "" if flow.enforced else ", style=dashed"
        label = _dot_text(flow_label(flow))
        lines.append(f"  {ids[flow.source]} -> {ids[flow.target]} [label={label}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
