"""The exceptions an object records: its opt-outs and waivers, read from its annotations.

Every weakened default is rendered as ``kubegen.dev/opt-out-<what>`` (or
``kubegen.dev/opt-out-<what>.<container>`` for one container of a pod) and every waived rule as
``kubegen.dev/waive-<rule id>``, each with its reason, so the committed YAML alone says which
exceptions are in force. The policy engine reads opt-outs through :func:`read_opt_outs` to waive
the rules they imply (:mod:`kubegen._policy.opt_outs`); ``kubegen review`` reads both kinds
through :func:`exemptions` to show which were added or removed, with their reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kubegen._manifests import ManifestObject

__all__ = [
    "OPT_OUT_PREFIX",
    "WAIVER_PREFIX",
    "Exemption",
    "OptOut",
    "exemptions",
    "read_opt_outs",
]

#: Annotation prefix of a weakened default (the builders' ``Resource.opt_out``).
OPT_OUT_PREFIX = "kubegen.dev/opt-out-"
#: Annotation prefix of a waived rule; the rule id follows in lower case (``…/waive-kg204``).
WAIVER_PREFIX = "kubegen.dev/waive-"


@dataclass(frozen=True, slots=True)
class OptOut:
    """One opt-out annotation: its name, the container it is limited to (if any), its reason."""

    what: str
    container: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class Exemption:
    """An opt-out (``name`` such as ``host-network``) or a waiver (``name`` a rule id)."""

    kind: Literal["opt-out", "waiver"]
    name: str
    container: str | None
    reason: str

    @property
    def label(self) -> str:
        """``opt-out writable-root (container api)`` or ``waiver KG204``."""
        where = f" (container {self.container})" if self.container else ""
        return f"{self.kind} {self.name}{where}"


def _annotations(obj: ManifestObject) -> Mapping[Any, Any]:
    notes = obj.metadata.get("annotations")
    return notes if isinstance(notes, Mapping) else {}


def read_opt_outs(obj: ManifestObject) -> list[OptOut]:
    """Every ``kubegen.dev/opt-out-*`` annotation of ``obj`` with a non-blank reason."""
    found: list[OptOut] = []
    for key, value in _annotations(obj).items():
        if not isinstance(key, str) or not key.startswith(OPT_OUT_PREFIX):
            continue
        what, dot, container = key[len(OPT_OUT_PREFIX) :].partition(".")
        if isinstance(value, str) and value.strip():
            found.append(OptOut(what, container if dot else None, value.strip()))
    return found


def exemptions(obj: ManifestObject) -> list[Exemption]:
    """The opt-outs and waivers ``obj`` records, in annotation order."""
    found = [
        Exemption("opt-out", o.what, o.container, o.reason) for o in read_opt_outs(obj)
    ]
    for key, value in _annotations(obj).items():
        if isinstance(key, str) and key.startswith(WAIVER_PREFIX) and isinstance(value, str):
            rule = key[len(WAIVER_PREFIX) :].upper()
            found.append(Exemption("waiver", rule, None, value.strip()))
    return found
