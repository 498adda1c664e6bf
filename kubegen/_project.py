"""The project a stack belongs to: its root (nearest pyproject.toml) and ``[tool.kubegen]``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from kubegen._errors import StackLoadError

DEFAULT_OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Project:
    """Where output goes: ``<root>/<output>/<env>/``."""

    root: Path
    output: Path

    def env_dir(self, env: str) -> Path:
        return self.output / env


def find_project(start: Path) -> Project:
    """Walk up from ``start`` to the nearest folder with a pyproject.toml (else the cwd)."""
    here = start.resolve()
    for folder in (here, *here.parents) if here.is_dir() else here.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return Project(folder, folder / _output_setting(candidate))
    cwd = Path.cwd().resolve()
    return Project(cwd, cwd / DEFAULT_OUTPUT)


def git_root(start: Path) -> Path | None:
    """The git working tree holding ``start``: the nearest folder at or above it with a ``.git``
    entry (a folder in a clone, a file in a worktree or submodule), or ``None``."""
    here = start.resolve()
    folder = here if here.is_dir() else here.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def _output_setting(pyproject: Path) -> str:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise StackLoadError(
            f"Unable to read {pyproject}: {exc}", fix="fix the TOML syntax of pyproject.toml"
        ) from None
    setting = data.get("tool", {}).get("kubegen", {}).get("output", DEFAULT_OUTPUT)
    if not isinstance(setting, str) or not setting or Path(setting).is_absolute():
        raise StackLoadError(
            f"[tool.kubegen] output = {setting!r} in {pyproject} is not a relative folder",
            fix='set output = "output" (relative to the project root)',
        )
    return setting
