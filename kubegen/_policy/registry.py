"""The rule catalogue: every rule's id, title, levels, reason, source, fix and scanner ids.

Rules register themselves with the :func:`rule` decorator when their module is imported;
:func:`all_rules` imports the rule modules once, so the catalogue is complete whatever was imported
first. Ids are stable: ``KG0xx`` schema and API versions, ``KG1xx`` Pod Security Standards
(``KG10x``/``KG11x`` baseline, ``KG12x`` restricted, ``KG13x`` Pod Security Admission of the
target namespace), ``KG2xx`` containers, ``KG3xx`` service
accounts, ``KG4xx`` RBAC, ``KG5xx`` network exposure, ``KG6xx`` namespaces, ``KG7xx``
availability and jobs, ``KG8xx`` secrets.
"""

from __future__ import annotations

import difflib
import importlib
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubegen._errors import ValidationError
from kubegen._policy.model import PROFILES, Levels, Severity
from kubegen._policy.opt_outs import OPT_OUT_PREFIX, OPT_OUTS

if TYPE_CHECKING:
    from kubegen._policy.context import LintContext
    from kubegen._policy.model import Hit

__all__ = [
    "Check",
    "E",
    "I",
    "RuleInfo",
    "UnknownRuleError",
    "W",
    "all_rules",
    "explain",
    "get_rule",
    "rule",
]

Check = Callable[["LintContext"], Iterable["Hit"]]

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - table shorthand

_RULE_MODULES = (
    "kubegen._policy.schema",
    "kubegen._policy.deprecations",
    "kubegen._policy.rules.pss_baseline",
    "kubegen._policy.rules.pss_restricted",
    "kubegen._policy.rules.admission",
    "kubegen._policy.rules.containers",
    "kubegen._policy.rules.capabilities",
    "kubegen._policy.rules.defaults",
    "kubegen._policy.rules.identity",
    "kubegen._policy.rules.rbac",
    "kubegen._policy.rules.network",
    "kubegen._policy.rules.api_server",
    "kubegen._policy.rules.exposure",
    "kubegen._policy.rules.namespaces",
    "kubegen._policy.rules.availability",
    "kubegen._policy.rules.one_per_node",
    "kubegen._policy.rules.secrets",
)


class UnknownRuleError(ValidationError):
    """A rule id (in ``explain``, a waiver or an annotation) names no kubegen rule."""


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """Everything known about one rule.

    Args:
        id: stable id, ``KG`` and three digits.
        name: short kebab-case name (SARIF ``rule.name``), e.g. ``host-namespaces``.
        title: one line saying what the rule wants.
        levels: severity per profile.
        reason: why it matters, in a sentence or two.
        sources: where the reason comes from (PSS control, NSA/CISA section, book chapter).
        fix: what to change in the stack.
        scanners: ids of the same check in common scanners (Polaris, kube-score, kube-linter,
            kubescape, Checkov), so a finding can be matched with what a user's scanner reports.
        tags: SARIF tags (``security``, ``pss-baseline``, ``reliability``…).
        kinds: kinds the rule can fire on; ``None`` for any. Waiver annotations are written only
            on objects of these kinds.
        check: the function that yields hits.
        per_object: the rule's hits on an object depend on that object alone (and the target
            version), never on the other objects, the profile or the stack's facts; such rules
            may skip an object whose unchanged file records that none of them hit it (see
            :mod:`kubegen._render.cache`). Cross-object rules always see every object.
    """

    id: str
    name: str
    title: str
    levels: Levels
    reason: str
    sources: tuple[str, ...]
    fix: str
    scanners: tuple[str, ...]
    tags: tuple[str, ...]
    kinds: frozenset[str] | None
    check: Check
    per_object: bool = False

    def severity(self, profile: str) -> Severity:
        """The severity this rule has under ``profile``."""
        return self.levels.for_profile(profile)

    def applies_to(self, kind: str) -> bool:
        """Whether the rule can fire on objects of ``kind``."""
        return self.kinds is None or kind in self.kinds


_RULES: dict[str, RuleInfo] = {}
_loaded = False


def rule(
    id: str,
    *,
    name: str,
    title: str,
    levels: Levels,
    reason: str,
    sources: Iterable[str],
    fix: str,
    scanners: Iterable[str] = (),
    tags: Iterable[str] = ("security",),
    kinds: Iterable[str] | None = None,
    per_object: bool = False,
) -> Callable[[Check], Check]:
    """Register the decorated check function as rule ``id`` (see :class:`RuleInfo`)."""

    def register(check: Check) -> Check:
        if id in _RULES:
            raise RuntimeError(f"rule id {id} registered twice")  # a programming error
        _RULES[id] = RuleInfo(
            id=id,
            name=name,
            title=title,
            levels=levels,
            reason=reason,
            sources=tuple(sources),
            fix=fix,
            scanners=tuple(scanners),
            tags=tuple(tags),
            kinds=frozenset(kinds) if kinds is not None else None,
            check=check,
            per_object=per_object,
        )
        return check

    return register


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in _RULE_MODULES:
            importlib.import_module(module)
        _loaded = True


def all_rules() -> tuple[RuleInfo, ...]:
    """Every registered rule, ordered by id."""
    _load()
    return tuple(_RULES[key] for key in sorted(_RULES))


def get_rule(rule_id: str) -> RuleInfo:
    """The rule with ``rule_id`` (case-insensitive).

    Raises:
        UnknownRuleError: no such rule; the message lists the closest ids.
    """
    _load()
    key = rule_id.strip().upper()
    found = _RULES.get(key)
    if found is None:
        raise UnknownRuleError(
            f"Unable to find policy rule {rule_id!r}: no rule has that id",
            fix=_suggest(key),
            value=rule_id,
        )
    return found


def _suggest(key: str) -> str:
    close = difflib.get_close_matches(key, sorted(_RULES), n=5, cutoff=0.6)
    if close:
        return f"did you mean {', '.join(close)}? `kubegen rules` lists every rule"
    return "`kubegen rules` lists every rule id"


def explain(rule_id: str) -> str:
    """A plain-text page about one rule: what ``kubegen explain KG105`` prints."""
    info = get_rule(rule_id)
    lines = [f"{info.id} {info.name}: {info.title}", ""]
    lines.append("Severity by profile: " + ", ".join(f"{p} {s}" for p, s in info.levels.items()))
    lines += ["", "Why:", *_indent(info.reason)]
    lines += ["", "Sources:", *(f"  - {s}" for s in info.sources)]
    lines += ["", "Fix:", *_indent(info.fix)]
    lines += ["", "Same check in other scanners:"]
    lines += [f"  - {s}" for s in info.scanners] or ["  (none)"]
    if info.kinds is not None:
        lines += ["", "Applies to: " + ", ".join(sorted(info.kinds))]
    lines += ["", f"Waive with a reason: stack.waive({info.id!r}, reason=...) or obj.waive(...)"]
    opt_outs = [what for what, implies in OPT_OUTS.items() if info.id in implies.rules]
    if opt_outs:
        names = ", ".join(OPT_OUT_PREFIX + what for what in opt_outs)
        lines.append(f"Waived by a builder's opt-out with a reason, rendered as: {names}")
    return "\n".join(lines) + "\n"


def _indent(text: str) -> Iterator[str]:
    yield from textwrap.wrap(
        text, width=96, initial_indent="  ", subsequent_indent="  ", break_on_hyphens=False
    )


def rules_table() -> str:
    """One line per rule (id, levels per profile, title): what ``kubegen rules`` prints."""
    header = f"{'ID':<6} {'/'.join(PROFILES):<26} TITLE"
    rows = [header]
    for info in all_rules():
        levels = "/".join(s.value for _, s in info.levels.items())
        rows.append(f"{info.id:<6} {levels:<26} {info.title}")
    return "\n".join(rows) + "\n"
