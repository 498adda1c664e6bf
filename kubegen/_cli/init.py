"""``kubegen init DIR``: scaffold a platform repository that renders and checks clean.

The files come from templates shipped as package data in ``kubegen/_cli/scaffold/`` (all named
``*.tmpl``, so dotfiles and Python files are data, not code). Templates marked for substitution
go through :class:`string.Template` (``$project``, ``$namespace``, ``$kubegen_version``); the rest,
such as the GitHub workflow full of ``${{ … }}``, are copied verbatim. Existing files are never
overwritten: if any target exists (or anything else is in the way), nothing is written and
the error lists every problem; a write that still fails removes what was written.
"""

from __future__ import annotations

import contextlib
import os
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

    base = Path(os.path.realpath(folder)).name
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

    All or nothing: every target is checked before anything is written (an existing file, even
    a dangling symlink, or a file where a folder must go, is refused), and if a write still
    fails (permissions, a full disk) the files and folders made so far are removed again.

    Raises:
        OutputError: ``folder`` is not a folder, a target is taken, or a write failed; nothing
            is then left behind.
    """
    files = render_scaffold(folder)
    problems = _blocked(folder, list(files))
    if problems:
        raise OutputError(
            f"Unable to scaffold into {folder}: {'; '.join(problems)}",
            fix="choose a new or empty folder, or move those files away first; "
            "kubegen init never overwrites and writes nothing unless it can write everything",
        )
    made_dirs: list[Path] = []
    made_files: list[Path] = []
    try:
        for target, text in files.items():
            path = folder / target
            _make_parents(path.parent, made_dirs)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
            made_files.append(path)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
    except OSError as exc:
        _undo(made_files, made_dirs)
        raise OutputError(
            f"Unable to scaffold into {folder}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
            + "; nothing was left behind",
            fix="check the folder's permissions and free space, then run kubegen init again",
        ) from None
    return list(files)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _blocked(folder: Path, targets: list[str]) -> list[str]:
    """Why the targets cannot be created (nothing is written while any is blocked)."""
    if str(folder).startswith("~"):
        return ["it starts with '~', which the shell did not expand (it was quoted), so it "
                "would make a folder named '~'"]  # fmt: skip
    where, home = Path(os.path.abspath(folder)), None
    if where.resolve() == Path(where.anchor).resolve():
        return ["it is the root of the file system; a repository goes into a folder of its own"]
    with contextlib.suppress(RuntimeError, KeyError):  # no home folder known: none to refuse
        home = Path.home().resolve()
    if where.resolve() == home:
        return ["it is the home folder; a repository goes into a folder of its own"]
    if os.path.lexists(folder) and not folder.is_dir():
        return [f"it is {'a broken symlink' if folder.is_symlink() else 'a file'}, not a folder"]
    existing: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    for target in targets:
        parts = target.split("/")
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent not in seen:
                seen.add(parent)
                path = folder / parent
                if os.path.lexists(path) and not path.is_dir():
                    problems.append(f"{parent} is a file where a folder must go")
        path = folder / target
        if os.path.islink(path) and not path.exists():
            problems.append(f"{target} is a broken symlink")
        elif os.path.lexists(path):
            existing.append(target)
    if existing:
        count = f"{len(existing)} file{'s' if len(existing) > 1 else ''}"
        problems.insert(0, f"{count} already exist: {', '.join(sorted(existing))}")
    return problems


def _make_parents(folder: Path, made: list[Path]) -> None:
    """Make ``folder`` and its missing parents, remembering each one made (to undo)."""
    missing: list[Path] = []
    here = folder
    while not os.path.lexists(here):
        missing.append(here)
        here = here.parent
    for path in reversed(missing):
        os.mkdir(path)
        made.append(path)


def _undo(files: list[Path], folders: list[Path]) -> None:
    for path in reversed(files):
        with contextlib.suppress(OSError):
            os.unlink(path)
    for path in reversed(folders):
        with contextlib.suppress(OSError):
            os.rmdir(path)


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
