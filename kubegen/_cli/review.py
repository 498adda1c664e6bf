"""``kubegen review PATH…``: the security and availability changes against a base commit.

Exit codes: 0, or 1 when ``--fail-on`` names a category the changes trigger (the categories
are listed by ``kubegen review --help`` and in docs/review.md); 2 for a user error.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from kubegen._cli.app import Paths, _guard, app
from kubegen._errors import KubegenError
from kubegen._review.model import CATEGORIES


class Format(StrEnum):
    """Output formats of ``kubegen review``."""

    text = "text"
    markdown = "markdown"
    json = "json"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-f",
        help="text (terminal), markdown (pull-request comment, GitHub job summary) or json.",
    ),
]
BaseOption = Annotated[
    str | None,
    typer.Option(
        "--base",
        help="Compare with the merge base of HEAD and this ref (default: the merge base with "
        "the default branch).",
        show_default=False,
    ),
]
FailOnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 if a change falls in one of these comma-separated categories: "
        + ", ".join(CATEGORIES) + ".",
        show_default=False,
    ),
]


def parse_fail_on(values: list[str] | None) -> set[str]:
    """``["new-egress,opt-out", "deletion"]`` → the set of categories; unknown ones refused."""
    wanted = {part.strip() for value in values or [] for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(CATEGORIES))
    if unknown:
        raise KubegenError(
            f"unknown --fail-on categor{'y' if len(unknown) == 1 else 'ies'}: "
            + ", ".join(unknown),
            fix=f"use any of {', '.join(CATEGORIES)}",
        )
    return wanted


@app.command()
def review(
    paths: Paths,
    base: BaseOption = None,
    fmt: FormatOption = Format.text,
    fail_on: FailOnOption = None,
) -> None:
    """Show what the change does to each stack: flows, permissions, opt-outs, workloads."""

    def run() -> int:
        from kubegen._review.jsondoc import json_report
        from kubegen._review.markdown import markdown_report
        from kubegen._review.run import review as review_stacks
        from kubegen._review.text import text_report

        wanted = parse_fail_on(fail_on)
        result = review_stacks(paths, base)
        present = {Format.text: text_report, Format.markdown: markdown_report,
                   Format.json: json_report}[fmt]
        sys.stdout.write(present(result))
        sys.stdout.flush()
        hit = sorted(wanted & result.categories())
        if hit:
            typer.echo(f"review: changes in {', '.join(hit)} (--fail-on)", err=True)
            return 1
        return 0

    _guard(run)
