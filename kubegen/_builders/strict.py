"""Scalar fields take their own type only: ``replicas=True`` is not 1, ``port="8080"`` is not
8080, ``name=b"api"`` is not ``"api"``.

pydantic's lax mode converts such values quietly; a typed stack wants the mistake named (a
boolean where a count goes is a bug in the caller's code, and Kubernetes' own API refuses
``replicas: true``). Containers keep their lax conversions (a tuple where a list goes), and
other fields keep theirs.
"""

from __future__ import annotations

from typing import Any

from pydantic.fields import FieldInfo
from pydantic.types import Strict

_SCALARS = (int, str, int | None, str | None)


def make_scalars_strict(fields: dict[str, FieldInfo]) -> None:
    """Mark every ``int`` and ``str`` field (optional or not) of a model strict; called before
    pydantic builds the model's schema (builders defer it to their first use)."""
    for field in fields.values():
        if _is_scalar(field.annotation) and not any(isinstance(m, Strict) for m in field.metadata):
            field.metadata.append(Strict())


def _is_scalar(annotation: Any) -> bool:
    try:
        return annotation in _SCALARS
    except TypeError:  # an unhashable annotation: not one of them
        return False
