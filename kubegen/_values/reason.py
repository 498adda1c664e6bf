"""Reasons: the text every weakened default must carry, rendered as an annotation."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from kubegen._values.invalid import InvalidValue


def check_reason(value: Any) -> str:
    """A non-blank sentence saying why a default is weakened; surrounding space is dropped."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(
            f"a reason must be a non-empty sentence, not {value!r}",
            fix="say why, e.g. allow_host_network='node exporter reads host interfaces'",
        )
    return " ".join(value.split())


Reason = Annotated[str, BeforeValidator(check_reason)]
"""Why a secure default is weakened. Whitespace is collapsed so the annotation stays one line."""
