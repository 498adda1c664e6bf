"""The packages import in one direction only (design.md: values → builders → Stack → manifests
→ policy / analysis → render → files → pipeline → review → CLI): no cycles between layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kubegen"

# package → kubegen packages it must never import (at module level or inside functions)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "_analysis": ("_policy", "_render", "_files", "_pipeline", "_loader", "_review", "_cli"),
    "_policy": ("_render", "_files", "_pipeline", "_loader", "_review", "_cli"),
    "_render": ("_pipeline", "_loader", "_review", "_cli"),
    "_review": ("_cli",),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_lower_layers(package: str) -> None:
    bad = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] == "kubegen" and len(parts) > 1 and parts[1] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(PACKAGE.parent)} imports {module}")
    assert not bad, "\n".join(bad)
