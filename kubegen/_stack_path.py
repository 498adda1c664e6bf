"""Where a stack path's code is and which env folder it renders into, decided before any of
its code runs (and before kubegen imports its builders: see :mod:`kubegen._cli.prefetch`)."""

from __future__ import annotations

import os
from pathlib import Path

from kubegen._errors import StackLoadError
from kubegen._project import Project, find_project

__all__ = ["locate", "resolve_env_dir"]


def locate(path: Path) -> tuple[Path, str]:
    """The stack's module file (resolved) and its env name, without running any of its code.

    The env is the name of the path as given, not of a symlink's target: a ``stacks/prod``
    that links to ``stacks/shared`` still renders to ``output/prod``.
    """
    try:
        return _locate(path)
    except OSError as exc:  # a symlink loop, an unreadable folder
        raise StackLoadError(
            f"Unable to read stack path {path}: {exc.strerror or exc}",
            fix="pass a stack package (stacks/prod) or module (stacks/prod.py)",
        ) from None


def _given_name(path: Path) -> str:
    """The last part of ``path`` as the user wrote it (``.`` and ``stacks/prod/`` included)."""
    return Path(os.path.abspath(path)).name


def _locate(path: Path) -> tuple[Path, str]:
    if path.name == "__init__.py" and path.is_file():
        path = path.parent  # the package's own file (tab completion): the package, its env
    if path.is_dir():
        init = path / "__init__.py"
        if init.is_file():
            return init.resolve(), _env_name(_given_name(path), path)
        raise StackLoadError(
            f"{path} is a folder without __init__.py, so it is not a stack package",
            fix=f"add {init} with a build() function, or pass the stack's .py file",
        )
    if path.is_file() and path.suffix == ".py":
        return path.resolve(), _env_name(Path(_given_name(path)).stem, path)
    if path.exists():
        raise StackLoadError(
            f"{path} is not a Python file or package",
            fix="pass a stack package (stacks/prod) or module (stacks/prod.py)",
        )
    hint = ""
    parent = path.parent if path.parent.is_dir() else None
    if parent is not None:
        stacks = sorted(
            p.name for p in parent.iterdir()
            if (p / "__init__.py").is_file() or (p.suffix == ".py" and p.stem != "__init__")
        )
        if stacks:
            hint = f"; stacks in {parent}: {', '.join(stacks)}"
    raise StackLoadError(
        f"stack path {path} does not exist{hint}",
        fix="pass a stack package (stacks/prod) or module (stacks/prod.py)",
    )


def _env_name(name: str, path: Path) -> str:
    """The env (output folder) a stack renders to; hidden names clash with kubegen's own."""
    if not name or name.startswith("."):
        raise StackLoadError(
            f"stack {path} would render to output/{name}, a hidden folder",
            fix="rename the stack so its name does not start with '.'",
        )
    return name


def resolve_env_dir(path: Path, out: Path | None) -> tuple[str, Path, Project]:
    """The env name and folder the stack at ``path`` renders into, and its project: decided
    from the path and the project root before any of the stack's code runs."""
    _, env = locate(path)
    project = find_project(path)
    given = path.parent if path.name == "__init__.py" else path
    code = Path(os.path.abspath(given)).parent
    env_dir = project.out_dir(out, env, code) if out is not None else project.env_dir(env)
    return env, env_dir, project
