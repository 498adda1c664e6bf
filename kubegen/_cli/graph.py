"""``kubegen graph PATH…``: the network flows the rendered NetworkPolicies allow, as a diagram.

Reads the manifests a render would write (not the declared connections), so the picture is what
the cluster enforces: workloads grouped by namespace, external peers (other namespaces' pods, IP
blocks, the internet), and one edge per allowed flow labelled with its ports. Mermaid (default)
pastes into Markdown; ``--format dot`` feeds Graphviz (``kubegen graph stacks/prod -f dot | dot
-Tsvg``). Output is deterministic.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kubegen._cli.app import Paths, _guard, app


class Format(StrEnum):
    """Diagram syntaxes ``kubegen graph`` writes."""

    mermaid = "mermaid"
    dot = "dot"


FormatOption = Annotated[
    Format,
    typer.Option("--format", "-f", help="Diagram syntax: mermaid (default) or dot (Graphviz)."),
]


def graph_text(paths: list[Path], fmt: Format) -> str:
    """One diagram per stack path, each headed by a comment naming the environment."""
    from kubegen._analysis.diagram import render_graph
    from kubegen._analysis.flows import flow_graph
    from kubegen._pipeline import build_parts

    texts: list[str] = []
    for path in paths:
        for part in build_parts(path)[1]:
            title = f"kubegen graph: {part.label}"
            texts.append(render_graph(flow_graph(part.objects), fmt.value, title=title))
    return "\n".join(texts)


@app.command()
def graph(paths: Paths, fmt: FormatOption = Format.mermaid) -> None:
    """Draw the flows the stacks' NetworkPolicies allow, as Mermaid or Graphviz DOT."""

    def run() -> int:
        typer.echo(graph_text(paths, fmt), nl=False)
        return 0

    _guard(run)
