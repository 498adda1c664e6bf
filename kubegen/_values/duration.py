"""Durations for fields Kubernetes keeps in whole seconds (``minReadySeconds``, probe periods…).

Accepted: a :class:`datetime.timedelta`, a whole number of seconds, or a Go-style string such as
``'30s'``, ``'5m'``, ``'1h30m'``, ``'2d'`` (d = 24h). The value must be whole seconds and ≥ 0.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator

from kubegen._values.invalid import InvalidValue

_PART_RE = re.compile(r"([0-9]+)(d|h|m|s)")
_WHOLE_RE = re.compile(r"(?:[0-9]+(?:d|h|m|s))+\Z")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_VALID_FORM = "a timedelta, whole seconds (int), or a string like '30s', '5m', '1h30m', '2d'"


def parse_duration(value: Any) -> timedelta:
    """Turn ``value`` into a timedelta of whole, non-negative seconds."""
    if isinstance(value, timedelta):
        delta = value
    elif isinstance(value, int) and not isinstance(value, bool):
        delta = timedelta(seconds=value)
    elif isinstance(value, str) and _WHOLE_RE.match(value.strip()):
        delta = timedelta(
            seconds=sum(int(n) * _UNIT[u] for n, u in _PART_RE.findall(value.strip()))
        )
    else:
        raise InvalidValue(
            f"duration {value!r} is not valid: expected {_VALID_FORM}",
            fix="write e.g. timedelta(seconds=30) or '30s'",
        )
    if delta < timedelta(0) or delta.microseconds:
        raise InvalidValue(
            f"duration {value!r} must be a whole, non-negative number of seconds",
            fix="round it to whole seconds, e.g. '30s'",
        )
    return delta


def seconds(delta: timedelta) -> int:
    """Whole seconds of a validated duration, as Kubernetes fields want them."""
    return int(delta.total_seconds())


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
"""A whole-second, non-negative duration; see the module docstring for accepted forms."""

DurationLike = timedelta | int | str
"""What a ``Duration`` field accepts, as builder signatures spell it for type checkers."""
