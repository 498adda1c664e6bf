"""The whole flow for one stack path: load → build → manifests → (policy) → files.

Everything happens in memory; only :func:`kubegen._files.writer.write_env` touches disk, and only
after every step succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubegen._errors import KubegenError
from kubegen._files.tree import Changes
from kubegen._loader import LoadedStack, guarded, load_stack
from kubegen._manifests import ManifestObject
from kubegen._project import find_project
from kubegen._render.files import render_files


@dataclass(slots=True)
class Plan:
    """A stack rendered in memory, ready to be compared with or written to ``env_dir``."""

    loaded: LoadedStack
    env_dir: Path
    objects: list[ManifestObject]
    files: dict[str, bytes]

    @property
    def env(self) -> str:
        return self.loaded.env


def build_objects(path: Path) -> tuple[LoadedStack, list[ManifestObject]]:
    """Load the stack at ``path`` and build its manifests."""
    loaded = load_stack(path)
    stack = loaded.stack
    objects = guarded(stack.objects, loaded.module_file, "building objects", fallback=stack.origin)
    return loaded, objects


def plan(path: Path, *, out: Path | None = None) -> Plan:
    """Render the stack at ``path`` into file contents, touching nothing on disk."""
    loaded, objects = build_objects(path)
    files = render_files(objects)
    env_dir = out if out is not None else find_project(path).env_dir(loaded.env)
    return Plan(loaded=loaded, env_dir=env_dir, objects=objects, files=files)


def describe(plan: Plan, changes: Changes) -> str:
    """One line per stack for the CLI: where it went and what changed."""
    return f"{plan.env}: {_shown(plan.env_dir)}: {changes.summary()}"


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


__all__ = ["KubegenError", "Plan", "build_objects", "describe", "plan"]
