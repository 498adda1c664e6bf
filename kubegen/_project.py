"""The project a stack belongs to: its root (nearest pyproject.toml) and ``[tool.kubegen]``.

Where a stack renders is decided here, once, before any stack code runs: from the stack path as
the user typed it (a symlinked ``stacks/prod`` still renders to ``output/prod``) and the project
root, never from the working directory or environment the stack may change later. Every folder
is absolute and resolved, and each rule below is an error with its fix:

* ``[tool.kubegen] output`` must be a folder inside the project, not the project root;
* ``--out`` must be inside the project; not the project root, not the folder of the stack code
  (``stacks/``) or anything in it, not an unexpanded ``~``, not the output folder (which
  holds every env), not another env's folder or a folder inside one, and not a folder that
  holds the output folder; nor inside another folder kubegen renders (one holding kubegen's
  ``kustomization.yaml``), whose next render would prune it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kubegen._errors import OutputError, StackLoadError
from kubegen._render.layout import HEADER, KUSTOMIZATION

DEFAULT_OUTPUT = "output"


@dataclass(frozen=True, slots=True)
class Project:
    """Where output goes: ``<root>/<output>/<env>/`` (both absolute and resolved)."""

    root: Path
    output: Path

    def env_dir(self, env: str) -> Path:
        return self.output / env

    def out_dir(self, out: Path, env: str, code: Path | None = None) -> Path:
        """The folder ``--out out`` names for the stack ``env`` whose code is in the folder
        ``code`` (``stacks/``), checked (see module doc)."""
        shown = str(out)
        own = f"{_rel(self.output, self.root)}/{env}"
        if shown.startswith("~"):
            raise _out_error(
                f"--out {shown} starts with '~', which the shell did not expand (it was quoted), "
                f"so it would name a folder called '~' in {Path.cwd()}",
                f"write the path out (--out $HOME/...) or pass a folder inside the project, "
                f"e.g. --out build/{env}",
            )
        target = _resolved(Path(os.path.abspath(out)))
        if code is not None and (found := _resolved(code)) != self.root and _inside(target, found):
            raise _out_error(
                f"--out {shown} is inside {_rel(found, self.root)}/, the folder of the stack "
                "code, which would then hold YAML and folders that are not stacks",
                f"pass a folder outside it, e.g. --out build/{env} (or drop --out: {own})",
            )
        if not _inside(target, self.root):
            raise _out_error(
                f"--out {shown} is outside the project {self.root}",
                f"pass a folder inside the project, e.g. --out build/{env} (or drop --out: "
                f"{own})",
            )
        if target == self.root:
            raise _out_error(f"--out {shown} is the project root", f"drop --out to use {own}")
        if target == self.output:
            raise _out_error(
                f"--out {shown} is the output folder itself, which holds every env's folder "
                "(a render there would prune them all)",
                f"drop --out to render into {own}",
            )
        if _inside(target, self.output):
            first = target.relative_to(self.output).parts[0]
            if target == self.output / env:
                return target
            if target.parent == self.output:
                why = f"is the folder of env {first!r}, which stacks/{first} renders"
            else:
                why = f"is inside env {first!r}'s folder, which its next render would prune"
            raise _out_error(
                f"--out {shown} {why}",
                f"drop --out to render into {own}, or name a folder outside "
                f"{_rel(self.output, self.root)}/, e.g. build/{env}",
            )
        if _inside(self.output, target):
            raise _out_error(
                f"--out {shown} holds the output folder {_rel(self.output, self.root)}/, whose "
                "env folders a render there would prune",
                f"name a folder of its own, e.g. build/{env}",
            )
        for folder in target.parents:
            if not _inside(folder, self.root) or folder == self.root:
                break
            if _owned_kustomization(folder / KUSTOMIZATION):
                raise _out_error(
                    f"--out {shown} is inside {_rel(folder, self.root)}/, another folder "
                    "kubegen renders, whose next render would prune it",
                    f"name a folder outside it, e.g. build/{env}",
                )
        return target


def find_project(start: Path) -> Project:
    """Walk up from ``start`` (not resolving symlinks: the path the user gave) to the nearest
    folder with a pyproject.toml (else the working directory) and read its output setting."""
    here = Path(os.path.abspath(start))
    for folder in (here, *here.parents) if here.is_dir() else here.parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            root = _resolved(folder)
            return Project(root, _output_folder(root, _output_setting(candidate), candidate))
    root = _resolved(Path.cwd())
    return Project(root, _output_folder(root, DEFAULT_OUTPUT, None))


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
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StackLoadError(
            f"Unable to read {pyproject}: {exc}", fix="fix the TOML syntax of pyproject.toml"
        ) from None
    tool = data.get("tool", {})
    kubegen = tool.get("kubegen", {}) if isinstance(tool, dict) else {}
    setting = kubegen.get("output", DEFAULT_OUTPUT) if isinstance(kubegen, dict) else None
    if not isinstance(setting, str) or not setting.strip() or Path(setting).is_absolute():
        raise StackLoadError(
            f"[tool.kubegen] output = {setting!r} in {pyproject} is not a relative folder",
            fix='set output = "output" (relative to the project root)',
        )
    return setting


def _output_folder(root: Path, setting: str, pyproject: Path | None) -> Path:
    output = _resolved(root / setting)
    where = f"[tool.kubegen] output = {setting!r} in {pyproject}" if pyproject else "output/"
    if not _inside(output, root):
        raise StackLoadError(
            f"{where} is outside the project {root} (it resolves to {output})",
            fix='set output to a folder inside the project, e.g. output = "output"',
        )
    if output == root:
        raise StackLoadError(
            f"{where} is the project root itself; env folders would mix with the project's "
            "own files and folders",
            fix='set output to a folder of its own, e.g. output = "output"',
        )
    return output


def _resolved(path: Path) -> Path:
    """``path`` with every symlink resolved; a symlink loop is an error with its place."""
    try:
        return Path(os.path.realpath(path, strict=False))
    except (OSError, RuntimeError, ValueError) as exc:
        raise OutputError(
            f"Unable to resolve {path}: {exc}", fix="remove the symlink loop or broken path"
        ) from None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _owned_kustomization(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(len(HEADER) + 1)  # + 1: the "\r" of a CRLF checkout
        return head.startswith((HEADER.encode(), HEADER[:-1].encode() + b"\r\n"))
    except OSError:
        return False


def _out_error(message: str, fix: str) -> OutputError:
    return OutputError(message, fix=fix)
