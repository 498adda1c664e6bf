"""``kubegen render | check | diff | lint | explain | rules``: the commands a team runs every day.

Exit codes: 0 success; 1 ``check`` found drift (or ``lint`` found errors); 2 a user error
(bad stack, invalid value, unsafe output), printed as one message without a traceback unless
``--debug`` is given.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from kubegen._cli import commands
from kubegen._cli.init import init
from kubegen._errors import KubegenError

app = typer.Typer(
    name="kubegen",
    help="Render typed Python stacks into deterministic, hardened Kubernetes YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_state = {"debug": False}

Paths = Annotated[
    list[Path],
    typer.Argument(
        help="Stack packages (stacks/prod) or modules (stacks/prod.py).", show_default=False
    ),
]
Out = Annotated[
    Path | None,
    typer.Option("--out", help="Write to this folder instead of output/<env> (one stack only)."),
]
Full = Annotated[
    bool,
    typer.Option(
        "--full",
        help="Emit and lint every object, ignoring the digests in the files on disk (the "
        "cache speeds up unchanged files; a deliberately forged digest is caught only so).",
    ),
]


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    _state["debug"] = debug


def _guard(action: Callable[[], int]) -> None:
    """Run a command body, turning kubegen errors into one message and exit code 2."""
    raise typer.Exit(commands.guard(action, debug=_state["debug"]))


@app.command()
def render(paths: Paths, out: Out = None, full: Full = False) -> None:
    """Render stacks into output/<env>/, atomically; prints what changed per stack."""
    _guard(lambda: commands.render(paths, out, full=full))


@app.command()
def check(paths: Paths, out: Out = None, full: Full = False) -> None:
    """Exit 1 with a diff when the files on disk differ from what the code renders."""
    _guard(lambda: commands.check(paths, out, full=full))


@app.command()
def diff(paths: Paths, out: Out = None, full: Full = False) -> None:
    """Print the diff between the files on disk and what the code renders; exit 0."""
    _guard(lambda: commands.diff(paths, out, full=full))


Format = Annotated[str, typer.Option("--format", "-f", help="Output format: text, json or sarif.")]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile", help="Override the stacks' policy profile: baseline, restricted, prod."
    ),
]
VersionOpt = Annotated[
    str | None,
    typer.Option("--kubernetes-version", help="Override the target Kubernetes version (1.33)."),
]


@app.command()
def lint(
    paths: Paths, fmt: Format = "text", profile: ProfileOpt = None, version: VersionOpt = None
) -> None:
    """Check stacks against the hardening rules; exit 1 if an error-level finding remains."""

    def run() -> int:
        from kubegen._pipeline import build_parts, lint_objects
        from kubegen._policy.commands import (
            FORMATS,
            StackReport,
            format_reports,
            lint_exit_code,
        )

        if fmt not in FORMATS:
            raise KubegenError(f"unknown --format {fmt!r}", fix=f"use one of {', '.join(FORMATS)}")
        stacks = []
        for path in paths:
            for part in build_parts(path)[1]:
                report = lint_objects(
                    part.stack, part.objects, profile=profile, kubernetes_version=version
                )
                stacks.append(StackReport(part.label, report, str(path), part.stack.origin))
        sys.stdout.write(format_reports(stacks, fmt))
        return lint_exit_code([item.report for item in stacks])

    _guard(run)


@app.command()
def explain(
    rule_id: Annotated[str, typer.Argument(help="A rule id such as KG105.", show_default=False)],
) -> None:
    """Explain one policy rule: severity per profile, why, sources, fix, scanner ids."""

    def run() -> int:
        from kubegen._policy.commands import explain_text

        sys.stdout.write(explain_text(rule_id))
        return 0

    _guard(run)


@app.command()
def rules() -> None:
    """List every policy rule with its severity in the baseline/restricted/prod profiles."""

    def run() -> int:
        from kubegen._policy.commands import rules_text

        sys.stdout.write(rules_text())
        return 0

    _guard(run)


app.command()(init)


def run_app() -> None:
    """Run the typer app; a usage mistake (an unknown option or command, a missing argument)
    is one ``error:`` line with its fix and exit code 2, like every other failure, instead of
    click's usage block. (typer may bundle its own click: its exceptions are matched by what
    they offer, ``format_message()`` and ``exit_code``.)"""
    try:
        code = app(standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except Exception as exc:
        message, status = getattr(exc, "format_message", None), getattr(exc, "exit_code", None)
        if message is None or not isinstance(status, int):
            raise
        if type(exc).__name__ == "NoArgsIsHelpError":  # `kubegen` alone: click's help
            exc.show()  # type: ignore[attr-defined]
            sys.exit(status)
        fix = f"\n  Fix: run `{_command_of(exc)} --help` for its options and arguments"
        commands.echo(f"error: {message()}" + (fix if hasattr(exc, "ctx") else ""), err=True)
        sys.exit(status)
    sys.exit(code if isinstance(code, int) else 0)


def _command_of(exc: Exception) -> str:
    """``kubegen render``: the (sub)command a usage error is about, without the program name
    click shows (``python -m kubegen``)."""
    names: list[str] = []
    ctx = getattr(exc, "ctx", None)
    while ctx is not None and ctx.parent is not None:
        names.insert(0, ctx.info_name or "")
        ctx = ctx.parent
    if ctx is None:  # an option's missing value: no context, the command is in argv
        known = {info.name or getattr(info.callback, "__name__", "")
                 for info in app.registered_commands}  # fmt: skip
        known |= {info.name or "" for info in app.registered_groups}
        names = [arg for arg in sys.argv[1:] if arg in known][:1]
    return " ".join(["kubegen", *names])


def main() -> None:
    """Console-script entry point (see :func:`kubegen._cli.commands.main`)."""
    commands.main()


from kubegen._cli import access as _access  # noqa: E402, F401  (registers `kubegen access`)
from kubegen._cli import graph as _graph  # noqa: E402, F401  (registers `kubegen graph`)
from kubegen._cli import review as _review  # noqa: E402, F401  (registers `kubegen review`)
from kubegen._cli import vendor as _vendor  # noqa: E402, F401  (registers `kubegen vendor`, `import`)
