"""What the tests of whole example stacks (tests/book, tests/apps) share: their rendered files
as YAML documents, and the proof that ``kubectl kustomize`` builds what ``write`` writes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubegen import load_stack, write

Docs = dict[str, dict[str, Any]]


def documents(files: dict[str, str]) -> Docs:
    """Every rendered object file by path, parsed (the kustomization left out)."""
    return {path: yaml.safe_load(text) for path, text in files.items()
            if path != "kustomization.yaml"}


def assert_kustomize_builds(stack_file: Path, folder: Path) -> None:
    """``write`` the stack into ``folder``; ``kubectl kustomize`` must build one object per
    object file."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed on this machine")
    written = write(load_stack(stack_file), folder)
    assert written.created
    result = subprocess.run([kubectl, "kustomize", str(folder)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert len(built) == len(list(folder.rglob("*.yaml"))) - 1
