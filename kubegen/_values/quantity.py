"""Resource quantities (``500m``, ``0.5``, ``256Mi``, ``1Gi``), parsed and normalised.

Kubernetes' ``resource.Quantity`` grammar: a non-negative decimal number followed by a binary
suffix (Ki, Mi, Gi, Ti, Pi, Ei), a decimal suffix (m, k, M, G, T, P, E; n and u are accepted and
must amount to whole millis), or an exponent (``1e3``). kubegen normalises to the shortest exact
form Kubernetes itself would print (``0.5`` → ``500m``, ``1024Mi`` → ``1Gi``, ``2000`` → ``2k``),
so the same amount always renders the same bytes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

from kubegen._values.invalid import InvalidValue

_RE = re.compile(
    r"(?P<num>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?\Z"
)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
    "P": Decimal("1e15"), "E": Decimal("1e18"),
}
_VALID_FORM = "a number with an optional suffix: '500m', '0.5', '2', '256Mi', '1Gi', '10G'"
_QUANTITY_FIX = (
    "write a number with an optional unit, e.g. '500m' or '2' (CPU), '256Mi' (memory), "
    "'10Gi' (storage)"
)


# Valid str and int quantities seen, keyed by (type, value) so 1 and "1" stay apart (floats are
# not cached: 0.0 == -0.0); values are immutable (Decimal, str). Stacks repeat a few quantities
# many times. Cleared when full.
_AMOUNTS: dict[tuple[type, object], Decimal] = {}
_NORMALIZED: dict[tuple[type, object], str] = {}
_CACHE_MAX = 4096


def _remember(cache: dict[tuple[type, object], Any], key: tuple[type, object], value: Any) -> None:
    if key[0] is str or key[0] is int:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[key] = value


def parse_quantity(value: str | int | float) -> Decimal:
    """The amount a quantity stands for (``'256Mi'`` → 268435456, ``'500m'`` → 0.5)."""
    key = (type(value), value)
    try:
        return _AMOUNTS[key]
    except (KeyError, TypeError):  # TypeError: unhashable, refused below
        pass
    amount = _parse_quantity(value)
    _remember(_AMOUNTS, key, amount)
    return amount


def _parse_quantity(value: str | int | float) -> Decimal:
    text = _text(value)
    match = _RE.match(text)
    if match is None:
        raise InvalidValue(
            f"quantity {value!r} is not valid: expected {_VALID_FORM}",
            fix=_QUANTITY_FIX,
        )
    number = Decimal(match["num"])
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if len(suffix) > 1 and suffix[0] in "eE":
        return number.scaleb(int(suffix[1:]))
    return number * _DECIMAL[suffix]


def _text(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidValue(
            f"quantity {value!r} must be a string or number: {_VALID_FORM}",
            fix=_QUANTITY_FIX,
        )
    if isinstance(value, float):
        try:
            return format(Decimal(repr(value)), "f")
        except InvalidOperation:  # pragma: no cover - nan/inf
            return repr(value)
    return str(value).strip()


def normalize_quantity(value: str | int | float) -> str:
    """The canonical text of a quantity: exact, shortest, binary suffixes kept when given."""
    key = (type(value), value)
    try:
        return _NORMALIZED[key]
    except (KeyError, TypeError):
        pass
    text = _normalize_quantity(value)
    _remember(_NORMALIZED, key, text)
    return text


def _normalize_quantity(value: str | int | float) -> str:
    amount = parse_quantity(value)
    binary = isinstance(value, str) and value.strip()[-2:] in _BINARY
    if binary and amount == amount.to_integral_value():
        for suffix, factor in sorted(_BINARY.items(), key=lambda kv: -kv[1]):
            if amount % factor == 0:
                return f"{int(amount // factor)}{suffix}"
        return str(int(amount))
    if (amount * 1000) != (amount * 1000).to_integral_value():
        raise InvalidValue(
            f"quantity {value!r} is finer than the 1m (one thousandth) Kubernetes keeps",
            fix="round it to whole millis, e.g. '1m' or '0.001'",
        )
    for suffix in ("E", "P", "T", "G", "M", "k", "", "m"):
        scaled = amount / _DECIMAL[suffix]
        if scaled == scaled.to_integral_value() and (scaled != 0 or suffix == ""):
            return f"{int(scaled)}{suffix}"
    raise AssertionError("unreachable: every milli amount has a decimal form")  # pragma: no cover


def _validate(value: Any) -> str:
    return normalize_quantity(value)


Quantity = Annotated[str, BeforeValidator(_validate)]
"""A normalised quantity; accepts ``'500m'``, ``0.5``, ``2``, ``'256Mi'``…"""

QuantityLike = str | int | float
"""What a ``Quantity`` field accepts, as builder signatures spell it for type checkers."""
