"""The values the policy engine passes around: severities, per-profile levels, hits and findings.

A rule's check yields :class:`Hit` records (which object, which field, what is wrong); the engine
turns each into a :class:`Finding` by adding the severity the active profile gives the rule, the
rule's fix, and any waiver. Keeping the two apart lets a check stay ignorant of profiles and
waivers, so the same check serves every profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubegen._manifests import ManifestObject
    from kubegen._origin import Origin

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "DEFAULT_PROFILE",
    "PROFILES",
    "Finding",
    "Hit",
    "Levels",
    "Severity",
]

#: The Kubernetes minor version manifests are checked against unless a stack says otherwise.
DEFAULT_KUBERNETES_VERSION = "1.33"

#: Profiles in increasing strictness. ``restricted`` is the default; see :class:`Levels`.
PROFILES: tuple[str, ...] = ("baseline", "restricted", "prod")
DEFAULT_PROFILE = "restricted"


class Severity(StrEnum):
    """How much a finding matters. Only unwaived ``error`` findings block a render."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for error, 1 for warning, 2 for info: the order reports list them in."""
        return _RANKS[self]


_RANKS = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Levels:
    """The severity a rule has in each profile.

    Profiles differ only in these levels, never in what a check looks at, so
    ``kubegen explain`` can show one table per rule and a profile switch never hides a finding.
    """

    baseline: Severity
    restricted: Severity
    prod: Severity

    def for_profile(self, profile: str) -> Severity:
        """The severity under ``profile`` (one of :data:`PROFILES`)."""
        value: Severity = getattr(self, profile)
        return value

    def items(self) -> tuple[tuple[str, Severity], ...]:
        """``(profile, severity)`` pairs in :data:`PROFILES` order."""
        return tuple((name, self.for_profile(name)) for name in PROFILES)


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule check reports: the object, the field path, and a message naming the bad value.

    Args:
        obj: the offending object (for cross-object rules, the one a user would edit).
        path: dotted field path inside the object, e.g. ``spec.template.spec.hostNetwork``.
        message: what is wrong, with the bad value, e.g. ``hostNetwork is true``.
        fix: a fix specific to this hit; the rule's general fix is used when ``None``.
    """

    obj: ManifestObject
    path: str
    message: str
    fix: str | None = None


#: Rules whose findings gate for vendored sources too: an object the API server would refuse
#: (KG001, schema) breaks the sync whoever wrote it; waive it per source, with a reason.
ALWAYS_GATING = frozenset({"KG001"})


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule violation on one object, as reported to users.

    ``source`` names the vendored source of the object (None for the stack's own objects);
    ``gating`` is False for findings of a vendored source that does not gate (schema errors,
    :data:`ALWAYS_GATING`, gate all the same). ``waived``
    findings stay in the report with the waiver's reason so that every exception is
    visible, but never block (see :attr:`blocking`).
    """

    rule_id: str
    severity: Severity
    resource: str
    path: str
    message: str
    fix: str
    origin: Origin | None
    object_key: tuple[str, str, str, str]
    waived: bool = False
    waiver_reason: str | None = None
    source: str | None = None
    gating: bool = True

    @property
    def blocking(self) -> bool:
        """True for an unwaived error that gates: the kind that stops ``kubegen render``.

        Findings on vendored objects (``source`` set) gate only when their source asks for it
        (``Vendored(..., gate=True)``); otherwise they are reported and summarised per source.
        """
        return self.severity is Severity.ERROR and not self.waived and self.gating

    @property
    def location(self) -> str:
        """``file:line`` of the stack code that built the object, or ``""`` when unknown."""
        return str(self.origin) if self.origin is not None else ""

    def sort_key(self) -> tuple[int, str, int, tuple[str, str, str, str], str, str, str]:
        """Deterministic order: origin file and line, object identity, rule id, path, message.

        Independent of the order objects were given in, so shuffled input yields the same report.
        Objects without an origin sort after those with one.
        """
        origin = self.origin
        missing = 1 if origin is None else 0
        file = origin.file if origin is not None else ""
        line = origin.line if origin is not None else 0
        return (missing, file, line, self.object_key, self.rule_id, self.path, self.message)

    def __str__(self) -> str:
        text = f"{self.rule_id} {self.severity}: {self.resource}: {self.path}: {self.message}"
        if self.waived:
            return f"{text} (waived: {self.waiver_reason})"
        return f"{text}\n  Fix: {self.fix}"
