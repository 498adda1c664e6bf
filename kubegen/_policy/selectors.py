"""Kubernetes label selectors, evaluated the way the API server does.

NetworkPolicy and PodDisruptionBudget coverage rules ask "does this selector pick these pod
labels?". A hand-rolled ``matchLabels`` comparison would miss ``matchExpressions`` and get
``NotIn`` wrong (it matches pods that lack the key), so the semantics live here, once.
See https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

__all__ = ["SelectorIndex", "selector_matches"]

T = TypeVar("T")


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a ``LabelSelector`` dict selects an object with ``labels``.

    An empty selector (``{}``) selects everything, as in ``NetworkPolicy.spec.podSelector`` and
    ``policy/v1`` PodDisruptionBudgets. ``None`` (no selector at all) selects nothing. An
    expression with an unknown operator selects nothing, which is what the API server would do
    after rejecting it.
    """
    # Coverage rules ask this for every pod: plain dicts and str values skip the Mapping ABC
    # check and the str() conversions, with the same answers.
    if type(selector) is not dict and not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if type(match_labels) is not dict and not isinstance(match_labels, Mapping):
        return False
    for key, value in match_labels.items():
        if key not in labels:
            return False
        have = labels[key]
        if have.__class__ is str and value.__class__ is str:
            if have != value:
                return False
        elif str(have) != str(value):
            return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return False
    return not expressions or all(_expression_matches(expr, labels) for expr in expressions)


def _expression_matches(expr: Any, labels: Mapping[str, Any]) -> bool:
    if not isinstance(expr, Mapping):
        return False
    key = str(expr.get("key"))
    operator = expr.get("operator")
    values = {str(v) for v in (expr.get("values") or [])}
    present = key in labels
    if operator == "In":
        return present and str(labels[key]) in values
    if operator == "NotIn":
        return not present or str(labels[key]) not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    return False


class SelectorIndex(Generic[T]):
    """Items with selectors, found by the labels they select without trying every selector.

    Coverage rules ask, for each of N pods, which of M policies or budgets select it: N×M
    selector evaluations, minutes for a few thousand services. The index files each selector
    under one of its ``matchLabels`` pairs (a pod can only match if it has that exact pair), so
    a lookup evaluates only the selectors filed under the pod's own label pairs plus those
    without ``matchLabels``. The answer is exactly :func:`selector_matches` over every item.

    Args:
        entries: ``(selector, item)`` pairs; :meth:`matching` returns items in this order.
    """

    def __init__(self, entries: Sequence[tuple[Any, T]]) -> None:
        self._items = [item for _, item in entries]
        self._selectors = [selector for selector, _ in entries]
        self._unkeyed: list[int] = []  # selectors without matchLabels: always tried
        self._keyed: dict[tuple[Any, str], list[int]] = {}
        pairs: list[tuple[int, list[tuple[Any, str]]]] = []
        shared: dict[tuple[Any, str], int] = {}  # how many selectors name each pair
        for position, selector in enumerate(self._selectors):
            if not isinstance(selector, Mapping):
                continue  # selects nothing
            match_labels = selector.get("matchLabels") or {}
            if not isinstance(match_labels, Mapping):
                continue  # selects nothing
            if not match_labels:
                self._unkeyed.append(position)
                continue
            own = [(key, str(value)) for key, value in match_labels.items()]
            for pair in own:
                shared[pair] = shared.get(pair, 0) + 1
            pairs.append((position, own))
        # Each selector is filed under its rarest pair: filed under a pair every selector
        # shares (``app.kubernetes.io/instance``), each lookup would try them all.
        for position, own in pairs:
            self._keyed.setdefault(min(own, key=shared.__getitem__), []).append(position)

    def matching(self, labels: Mapping[str, Any]) -> list[T]:
        """The items whose selector selects ``labels``, in the order they were given."""
        found = [p for p in self._unkeyed if selector_matches(self._selectors[p], labels)]
        for key, value in labels.items():
            for position in self._keyed.get((key, str(value)), ()):
                if selector_matches(self._selectors[position], labels):
                    found.append(position)
        return [self._items[p] for p in sorted(found)]

    def any_match(self, labels: Mapping[str, Any]) -> bool:
        """Whether any item's selector selects ``labels``."""
        if any(selector_matches(self._selectors[p], labels) for p in self._unkeyed):
            return True
        for key, value in labels.items():
            for position in self._keyed.get((key, str(value)), ()):
                if selector_matches(self._selectors[position], labels):
                    return True
        return False
