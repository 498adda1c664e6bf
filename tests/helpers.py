"""Shared test helpers: write throwaway stacks and run the CLI as a real process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def write_stack(root: Path, name: str, body: str) -> Path:
    """Create ``root/stacks/<name>/__init__.py`` (and a pyproject.toml at root) from ``body``."""
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        pyproject.write_text('[project]\nname = "demo"\n', encoding="utf-8")
    pkg = root / "stacks" / name
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    shutil.rmtree(pkg / "__pycache__", ignore_errors=True)  # see reliability_support.write_stack
    return pkg


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kubegen`` in a subprocess with this checkout first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "kubegen", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot_tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by relative POSIX path."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }
