"""Waivers: a rule switched off for some objects, always with a written reason.

A waived finding stays in the report, marked with its reason, and never blocks a render. Two
sources feed the same mechanism:

- object-level waivers, ``ManifestObject.waivers`` (``{"KG204": "reason"}``), set by builders;
- stack-level :class:`Waiver` values passed to ``lint(...)``, optionally narrowed to some objects
  with a glob over ``Kind namespace/name``.

:func:`annotate_waivers` writes each applicable waiver into the object as
``kubegen.dev/waive-<rule id>: <reason>``, so reviewers see every exception in the YAML diff, and
``kubegen lint`` over rendered YAML honours the same waivers when it reads them back.

A builder's opt-out annotation (``kubegen.dev/opt-out-*``) waives the rules it implies without
any of this: see :mod:`kubegen._policy.opt_outs`; nothing here writes a waiver annotation for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from kubegen._analysis.opt_outs import WAIVER_PREFIX
from kubegen._errors import ValidationError
from kubegen._manifests import ManifestObject
from kubegen._policy.registry import get_rule

__all__ = [
    "ANNOTATION_PREFIX",
    "Waiver",
    "annotate_waivers",
    "annotation_key",
    "object_waivers",
]

#: Annotation key prefix; the rule id follows in lower case (``kubegen.dev/waive-kg204``).
ANNOTATION_PREFIX = WAIVER_PREFIX
_RULE_ID = re.compile(r"KG[0-9]{3}\Z")
_NAME_PART = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$")


@dataclass(frozen=True, slots=True)
class Waiver:
    """Accept findings of one rule, for a stated reason.

    Args:
        rule_id: the rule, e.g. ``"KG204"`` (case-insensitive).
        reason: why the exception is acceptable; required, shown in reports and annotations.
        target: optional glob over the object as ``Kind namespace/name`` (``Kind name`` for
            cluster-scoped objects), e.g. ``"Deployment shop/api"`` or ``"StatefulSet */*"``.
        kind: optional exact kind the waiver is limited to (what ``Stack.waive(kind=...)`` gives).
        name: optional exact object name the waiver is limited to.

    With no filter at all (the default) the rule is waived for every object.

    Raises:
        ValidationError: the reason is empty or the rule id is not ``KG`` and three digits.
    """

    rule_id: str
    reason: str
    target: str | None = None
    kind: str | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        normal = self.rule_id.strip().upper()
        if not _RULE_ID.match(normal):
            raise ValidationError(
                "Unable to waive a policy rule: the rule id is not KG and three digits",
                field="rule_id",
                value=self.rule_id,
                fix="name a rule id from `kubegen rules`, e.g. Waiver('KG204', reason=...)",
            )
        object.__setattr__(self, "rule_id", normal)
        _check_reason(self.reason, f"waiver of {normal}")
        object.__setattr__(self, "reason", self.reason.strip())

    def matches(self, obj: ManifestObject) -> bool:
        """Whether this waiver covers ``obj``."""
        return (
            (self.target is None or fnmatchcase(obj.display, self.target))
            and (self.kind is None or obj.kind == self.kind)
            and (self.name is None or obj.name == self.name)
        )


def _check_reason(reason: object, what: str) -> None:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError(
            f"Unable to accept the {what}: the reason is empty",
            field="reason",
            value=reason,
            fix="say why the exception is acceptable, e.g. reason='CFS throttling hurts latency'",
        )


def annotation_key(rule_id: str) -> str:
    """``KG204`` → ``kubegen.dev/waive-kg204``, checked against the annotation key syntax."""
    key = ANNOTATION_PREFIX + rule_id.lower()
    name = key.partition("/")[2]
    if len(name) > 63 or not _NAME_PART.match(name):  # pragma: no cover - ids are KG + 3 digits
        raise ValidationError("invalid waiver annotation key", value=key)
    return key


def object_waivers(obj: ManifestObject) -> dict[str, str]:
    """The object's own waivers: ``obj.waivers`` plus ``kubegen.dev/waive-*`` annotations.

    Raises:
        ValidationError: a waiver has an empty reason.
        UnknownRuleError: a waiver names no rule.
    """
    found: dict[str, str] = {}
    annotations = obj.metadata.get("annotations")
    if type(annotations) is dict or isinstance(annotations, Mapping):
        for key, value in annotations.items():
            if isinstance(key, str) and key.startswith(ANNOTATION_PREFIX):
                found[key[len(ANNOTATION_PREFIX) :].upper()] = value
    for rule_id, reason in obj.waivers.items():
        found[rule_id.strip().upper()] = reason
    if not found:  # most objects: nothing to check
        return found
    for rule_id, reason in found.items():
        get_rule(rule_id)
        _check_reason(reason, f"waiver of {rule_id} on {obj.display}")
    return {rule_id: str(reason).strip() for rule_id, reason in found.items()}


def validate_waivers(waivers: Iterable[Waiver]) -> tuple[Waiver, ...]:
    """Check every stack-level waiver names a real rule (a typo would silently waive nothing)."""
    checked = tuple(waivers)
    for waiver in checked:
        if not isinstance(waiver, Waiver):
            raise ValidationError(
                "Unable to use a policy waiver: it is not a Waiver",
                value=waiver,
                fix="pass Waiver(rule_id, reason, target=None) values",
            )
        get_rule(waiver.rule_id)
    return checked


def waiver_for(
    obj: ManifestObject, rule_id: str, own: Mapping[str, str], stack: Sequence[Waiver]
) -> str | None:
    """The reason ``rule_id`` is waived on ``obj``, or ``None``. Object-level waivers win."""
    if rule_id in own:
        return own[rule_id]
    for waiver in stack:
        if waiver.rule_id == rule_id and waiver.matches(obj):
            return waiver.reason
    return None


def annotate_waivers(objects: Sequence[ManifestObject], stack_waivers: Sequence[Waiver]) -> None:
    """Write every waiver that applies to an object into its ``metadata.annotations``.

    Object-level waivers are always written; a stack-level waiver is written on each object its
    target matches and whose kind its rule can fire on (a CPU-limit waiver lands on workloads,
    not on ConfigMaps). Keys are ``kubegen.dev/waive-<rule id lower case>``, values the reasons.
    Vendored objects are left as upstream wrote them: their waivers are per source, in the
    stack's code and the lint report.

    Raises:
        ValidationError: a waiver has an empty reason.
        UnknownRuleError: a waiver names no rule.
    """
    stack = validate_waivers(stack_waivers)
    for obj in objects:
        if obj.vendor is not None:
            continue
        reasons = object_waivers(obj)
        for waiver in stack:
            if waiver.rule_id in reasons or not waiver.matches(obj):
                continue
            if get_rule(waiver.rule_id).applies_to(obj.kind):
                reasons[waiver.rule_id] = waiver.reason
        if reasons:
            _write(obj, reasons)


def _write(obj: ManifestObject, reasons: Mapping[str, str]) -> None:
    metadata = obj.body.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
        obj.body["metadata"] = metadata
    annotations: Any = metadata.get("annotations")
    if not isinstance(annotations, dict):
        annotations = {}
    for rule_id, reason in reasons.items():
        annotations[annotation_key(rule_id)] = reason
    metadata["annotations"] = dict(sorted(annotations.items()))
