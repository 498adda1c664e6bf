"""Label selectors (``matchLabels`` + ``matchExpressions``), validated like the API server does.

See https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Required, TypedDict, Unpack

from pydantic import Field, field_validator, model_validator

from kubegen._builders.base import Builder
from kubegen._origin import Origin
from kubegen._values import (
    InvalidValue,
    LabelMap,
    check_label_key,
    check_label_value,
    check_labels,
)

Operator = Literal["In", "NotIn", "Exists", "DoesNotExist"]


class LabelSelectorRequirementArgs(TypedDict, total=False):
    key: Required[str]
    operator: Required[Operator]
    values: list[str] | tuple[str, ...]


class LabelSelectorRequirement(Builder):
    """One ``matchExpressions`` entry: ``key`` ``operator`` ``values``.

    Args:
        key: a label key (``app.kubernetes.io/name``).
        operator: ``In``, ``NotIn``, ``Exists`` or ``DoesNotExist``.
        values: label values; required (non-empty) for ``In``/``NotIn``, and must be empty for
            ``Exists``/``DoesNotExist``. Rendered in the order given.
    """

    key: str
    operator: Operator
    values: list[str] = Field(default_factory=lambda: [])  # not list: see base.empty_list

    def __init__(self, /, **data: Unpack[LabelSelectorRequirementArgs]) -> None:
        super().__init__(**data)

    @field_validator("key")
    @classmethod
    def _check_key(cls, key: str) -> str:
        return check_label_key(key)

    @field_validator("values")
    @classmethod
    def _check_values(cls, values: list[str]) -> list[str]:
        for value in values:
            check_label_value(value)
        return values

    @model_validator(mode="after")
    def _values_fit_operator(self) -> LabelSelectorRequirement:
        needs_values = self.operator in ("In", "NotIn")
        if needs_values and not self.values:
            raise InvalidValue(
                f"operator {self.operator} on key {self.key!r} needs at least one value",
                fix="pass values=[...], or use operator='Exists' to match any value",
            )
        if not needs_values and self.values:
            raise InvalidValue(
                f"operator {self.operator} on key {self.key!r} takes no values",
                fix="drop values=..., or use operator='In' to match those values",
            )
        return self

    def render(self) -> dict[str, Any]:
        """The requirement as the API writes it."""
        out: dict[str, Any] = {"key": self.key, "operator": self.operator}
        if self.values:
            out["values"] = list(self.values)
        return out


class LabelSelectorArgs(TypedDict, total=False):
    match_labels: Mapping[str, str]
    match_expressions: Sequence[LabelSelectorRequirement]


class LabelSelector(Builder):
    """Selects objects by labels; the empty selector (the default) selects everything.

    Args:
        match_labels: labels that must all be present with these values. Rendered sorted.
        match_expressions: further requirements, all of which must hold. Defaults to none.
    """

    match_labels: LabelMap = Field(default_factory=dict)
    # not the builtin list: see base.empty_list
    match_expressions: list[LabelSelectorRequirement] = Field(default_factory=lambda: [])

    def __init__(self, /, **data: Unpack[LabelSelectorArgs]) -> None:
        super().__init__(**data)

    def render(self) -> dict[str, Any]:
        """``{matchLabels, matchExpressions}`` with empty parts left out (``{}`` selects all)."""
        out: dict[str, Any] = {}
        if self.match_labels:
            out["matchLabels"] = dict(sorted(self.match_labels.items()))
        if self.match_expressions:
            out["matchExpressions"] = [req.render() for req in self.match_expressions]
        return out

    @property
    def is_empty(self) -> bool:
        """True when this selector matches every object."""
        return not self.match_labels and not self.match_expressions


def labels_selector(labels: Mapping[str, str], origin: Origin | None = None) -> LabelSelector:
    """``LabelSelector(match_labels=labels)`` for labels kubegen derived, without pydantic.

    The labels are checked with the validator the field uses; when one is invalid the
    validating constructor runs instead, so the error (and its origin) is the constructor's.
    ``origin``: the user object or call the selector derives from.
    """
    try:
        checked = check_labels(labels)
    except InvalidValue:
        return LabelSelector(match_labels=dict(labels))
    return LabelSelector.trusted(origin, match_labels=checked)
