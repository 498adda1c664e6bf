"""Rule modules, one concept each; importing a module registers its rules in the registry.

Shared helpers for messages live here: :func:`show` prints a manifest value the way it appears
in YAML (``true``, ``"latest"``, ``[NET_RAW]``), so messages quote what the user will see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["show", "show_labels"]


def show(value: Any) -> str:
    """A manifest value as compact JSON (close to how YAML shows it), cut at 80 characters."""
    try:
        text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def show_labels(labels: Mapping[str, Any]) -> str:
    """``app=api,tier=web``: labels in full (selectors fail on the one a cut would hide)."""
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items())) or "(no labels)"
