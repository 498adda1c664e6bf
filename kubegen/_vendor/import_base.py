"""What the importer's call writers share: the :class:`Unmapped` signal and small helpers
that spell Python call text (``kubegen import manifests``)."""

from __future__ import annotations

from typing import Any

MANAGED = "app.kubernetes.io/managed-by"


class Unmapped(Exception):
    """A field of the object no builder argument expresses: ``str(exc)`` says which."""


def r(value: Any) -> str:
    return repr(value)


def call(cls: str, args: list[str]) -> str:
    return f"{cls}({', '.join(args)})"


def only(mapping: dict[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(mapping) - allowed)
    if extra:
        raise Unmapped(f"{where}.{extra[0]}")


def seconds(value: Any, where: str) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        raise Unmapped(where)
    return r(f"{value}s")
