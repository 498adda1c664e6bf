"""``kubegen init DIR``: scaffold a platform repository that renders and checks clean.

The files come from templates shipped as package data in ``kubegen/_cli/scaffold/`` (all named
``*.tmpl``, so dotfiles and Python files are data, not code). Templates marked for substitution
go through :class:`string.Template` (``$project``, ``$namespace``, ``$kubegen_version``); the rest,
such as the GitHub workflow full of ``${{ … }}``, are copied verbatim. Existing files are never
overwritten: if any target exists, nothing is written and the error lists them all.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from kubegen._errors import OutputError
from kubegen._project import git_root


@dataclass(frozen=True, slots=True)
class ScaffoldFile:
    """One file of the scaffold: its template, where it goes, whether ``$names`` are filled."""

    template: str
    target: str
    substitute: bool = False


SCAFFOLD: tuple[ScaffoldFile, ...] = (
    ScaffoldFile("pyproject.toml.tmpl", "pyproject.toml", substitute=True),
    ScaffoldFile("README.md.tmpl", "README.md", substitute=True),
    ScaffoldFile("gitignore.tmpl", ".gitignore"),
    ScaffoldFile("kubegen.yml.tmpl", ".github/workflows/kubegen.yml"),
    ScaffoldFile("pre-commit-config.yaml.tmpl", ".pre-commit-config.yaml"),
    ScaffoldFile("stacks/app.py.tmpl", "stacks/app/__init__.py", substitute=True),
    ScaffoldFile("stacks/dev.py.tmpl", "stacks/dev/__init__.py"),
    ScaffoldFile("stacks/prod.py.tmpl", "stacks/prod/__init__.py"),
)


def project_names(folder: Path) -> dict[str, str]:
    """Template values derived from the folder name: distribution name and namespace."""
    from kubegen import __version__

    base = folder.resolve().name
    namespace = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:63].strip("-") or "platform"
    return {"project": namespace, "namespace": namespace, "kubegen_version": __version__}


def render_scaffold(folder: Path) -> dict[str, str]:
    """Target path → content of every scaffold file, for ``folder``."""
    values = project_names(folder)
    root = resources.files("kubegen._cli") / "scaffold"
    rendered: dict[str, str] = {}
    for item in SCAFFOLD:
        text = (root / item.template).read_text(encoding="utf-8")
        if item.substitute:
            text = string.Template(text).substitute(values)
        rendered[item.target] = text
    return rendered


def scaffold(folder: Path) -> list[str]:
    """Write the scaffold into ``folder`` (created if missing); return the files written.

    Raises:
        OutputError: ``folder`` is a file, or some target files exist (none is then written).
    """
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            f"Unable to scaffold into {folder}: it is a file", fix="pass a folder path"
        )
    files = render_scaffold(folder)
    existing = sorted(target for target in files if (folder / target).exists())
    if existing:
        raise OutputError(
            f"Unable to scaffold into {folder}: {len(existing)} file"
            f"{'s' if len(existing) > 1 else ''} already exist: {', '.join(existing)}",
            fix="choose a new or empty folder, or move those files away first; "
            "kubegen init never overwrites",
        )
    for target, text in files.items():
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return list(files)


def monorepo_note(folder: Path) -> str | None:
    """What to move when ``folder`` is a subfolder of a git repository: GitHub reads workflows
    and pre-commit its config only at the repository's root."""
    root = git_root(folder)
    if root is None or root == folder.resolve():
        return None
    sub = folder.resolve().relative_to(root).as_posix()
    return (
        f"note: {folder} is inside the git repository {root}: GitHub runs workflows and "
        "pre-commit reads its config only from the repository root, so move "
        ".github/workflows/kubegen.yml and .pre-commit-config.yaml there, with paths from the "
        f"root: pip install ./{sub}, STACKS: {sub}/stacks/dev {sub}/stacks/prod"
    )


Folder = Annotated[
    Path, typer.Argument(help="Folder for the new repository (created if missing).")
]


def init(folder: Folder = Path(".")) -> None:
    """Scaffold a repository: pyproject, stacks/dev and stacks/prod, README, CI, pre-commit."""
    from kubegen._cli.app import _guard

    def run() -> int:
        written = scaffold(folder)
        typer.echo(f"created {len(written)} files in {folder}:")
        for target in written:
            typer.echo(f"  {target}")
        typer.echo(f"next: cd {folder} && kubegen render stacks/dev stacks/prod")
        note = monorepo_note(folder)
        if note:
            typer.echo(note)
        return 0

    _guard(run)
