"""Kubernetes label selectors, evaluated the way the API server does.

NetworkPolicy and PodDisruptionBudget coverage rules ask "does this selector pick these pod
labels?". A hand-rolled ``matchLabels`` comparison would miss ``matchExpressions`` and get
``NotIn`` wrong (it matches pods that lack the key), so the semantics live here, once.
See https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["selector_matches"]


def selector_matches(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a ``LabelSelector`` dict selects an object with ``labels``.

    An empty selector (``{}``) selects everything, as in ``NetworkPolicy.spec.podSelector`` and
    ``policy/v1`` PodDisruptionBudgets. ``None`` (no selector at all) selects nothing. An
    expression with an unknown operator selects nothing, which is what the API server would do
    after rejecting it.
    """
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        return False
    for key, value in match_labels.items():
        if key not in labels or str(labels[key]) != str(value):
            return False
    expressions = selector.get("matchExpressions") or []
    if not isinstance(expressions, list):
        return False
    return all(_expression_matches(expr, labels) for expr in expressions)


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
