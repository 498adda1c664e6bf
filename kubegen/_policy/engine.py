"""The policy engine: run every rule over rendered objects and collect a :class:`Report`.

``lint`` is what ``kubegen render`` calls before writing (an unwaived error-level finding stops the
render and leaves ``output/`` untouched) and what ``kubegen lint`` prints. It never modifies the
objects; :func:`~kubegen._policy.waivers.annotate_waivers` is the separate step that records
waivers in the YAML.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from kubegen._errors import PolicyError, ValidationError
from kubegen._manifests import ManifestObject
from kubegen._policy import formats
from kubegen._policy.context import LintContext, parse_version
from kubegen._policy.model import (
    ALWAYS_GATING,
    DEFAULT_KUBERNETES_VERSION,
    PROFILES,
    Finding,
    Severity,
)
from kubegen._policy.opt_outs import OptOutIndex
from kubegen._policy.registry import all_rules
from kubegen._policy.waivers import Waiver, object_waivers, validate_waivers, waiver_for

if TYPE_CHECKING:
    from kubegen._coherence.facts import StackFacts

__all__ = ["Finding", "Report", "Scope", "Severity", "Waiver", "joined", "lint", "lint_clean"]

#: Which rules one lint runs (see :func:`lint`).
Scope = Literal["all", "per_object", "cross"]


@dataclass(frozen=True, slots=True)
class Report:
    """The findings of one ``lint`` run, sorted deterministically.

    Attributes:
        findings: every finding, waived ones included, ordered by the object's origin (stack
            file and line), the object's identity, then rule id and field path.
        profile: the profile the severities come from.
        kubernetes_version: the target version, ``MAJOR.MINOR``.
        objects: how many objects were checked.
    """

    findings: tuple[Finding, ...]
    profile: str
    kubernetes_version: str
    objects: int = 0

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Unwaived error-level findings: the ones that block a render."""
        return tuple(f for f in self.findings if f.blocking)

    @property
    def waived(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.waived)

    @property
    def vendored(self) -> tuple[Finding, ...]:
        """Findings on objects of vendored sources (gating or not)."""
        return tuple(f for f in self.findings if f.source is not None)

    def source_summaries(self) -> list[str]:
        """One line per vendored source: its unwaived counts, waived count and whether it gates."""
        return formats.source_summaries(self)

    @property
    def ok(self) -> bool:
        """True when nothing blocks (warnings, notes and waived errors are fine)."""
        return not self.errors

    def count(self, severity: Severity) -> int:
        """Unwaived findings of ``severity`` on the stack's own objects and gating sources.

        Findings of vendored sources that do not gate are counted by :meth:`source_summaries`.
        """
        return sum(
            1 for f in self.findings if f.severity is severity and not f.waived and f.gating
        )

    def summary(self) -> str:
        """``3 errors, 1 warning, 2 notes, 1 waived (profile restricted, Kubernetes 1.33)``."""
        return formats.summary(self)

    def to_text(self) -> str:
        """Findings grouped by object, each with rule id, field, message, fix and origin."""
        return formats.text(self)

    def to_json(self) -> str:
        """A stable JSON document (sorted keys, two-space indent, trailing newline)."""
        return formats.json_document(self)

    def to_sarif(self) -> str:
        """A SARIF 2.1.0 log for code-scanning tools (GitHub, GitLab, Azure DevOps)."""
        from kubegen._policy import sarif  # only for --format sarif

        return sarif.sarif_log([sarif.StackReport(None, self)])

    def raise_for_errors(self) -> None:
        """Raise :class:`PolicyError` carrying the text report if anything blocks."""
        if not self.ok:
            raise PolicyError(
                f"Unable to render: {len(self.errors)} error-level policy finding"
                f"{'s' if len(self.errors) != 1 else ''} remain\n{self.to_text()}",
                fix="fix the fields named above, or waive a rule with a reason "
                "(stack.waive('KG204', reason=...) or obj.waive(...)); "
                "`kubegen explain <id>` says why each rule exists",
            )


def _check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValidationError(
            "Unable to lint: unknown policy profile",
            field="profile",
            value=profile,
            fix=f"use one of {', '.join(PROFILES)}",
        )
    return profile


def lint(
    objects: Sequence[ManifestObject],
    *,
    profile: str = "restricted",
    kubernetes_version: str = DEFAULT_KUBERNETES_VERSION,
    waivers: Sequence[Waiver] = (),
    schema: bool = True,
    facts: StackFacts | None = None,
    known_clean: Collection[ManifestObject] = (),
    scope: Scope = "all",
) -> Report:
    """Check rendered objects against every rule and return the findings.

    Args:
        objects: the rendered objects of one stack (cross-object rules such as NetworkPolicy
            coverage only see this set).
        profile: ``baseline``, ``restricted`` (default) or ``prod``; decides each rule's severity.
        kubernetes_version: target ``MAJOR.MINOR`` for schemas, API removals and
            version-dependent Pod Security controls; defaults to ``"1.33"``.
        waivers: stack-level waivers; object-level ones come from ``ManifestObject.waivers``
            and ``kubegen.dev/waive-*`` annotations, and each ``kubegen.dev/opt-out-*``
            annotation waives the rules its opt-out implies (see :mod:`kubegen._policy.opt_outs`).
        schema: run strict schema validation (KG001/KG002); turn off only for speed in tests.
        facts: what the stack knows beyond its objects (its Cluster's namespaces, …); rules
            that need them (KG13x) assume nothing is known without them.
        known_clean: objects no per-object rule hits at this target version, as their unchanged
            files record (:mod:`kubegen._render.cache`): per-object rules skip them, rules
            across objects still see them.
        scope: ``"per_object"`` or ``"cross"`` runs only those rules (two processes can share a
            lint: :func:`joined` puts the halves together), ``"all"`` every rule.

    Raises:
        ValidationError: unknown profile, malformed version, or a waiver with an empty reason.
        UnknownRuleError: a waiver names no rule.
    """
    _check_profile(profile)
    version = parse_version(kubernetes_version)
    stack = validate_waivers(waivers)
    objs = tuple(objects)
    ctx = LintContext(
        objects=objs, kubernetes_version=version, profile=profile, schema=schema, facts=facts
    )
    opt_outs = OptOutIndex(objs, pods=lambda: ctx.pods)
    own_ctx = ctx
    if known_clean:
        skipped = {id(obj) for obj in known_clean}
        own_ctx = replace(ctx, objects=tuple(obj for obj in objs if id(obj) not in skipped))
    # Every object's own waivers are checked (a bad one raises); the per-object half of a
    # split lint hits only what it lints, and the other half checks them all.
    own = {
        id(obj): object_waivers(obj)
        for obj in (own_ctx.objects if scope == "per_object" else objs)
    }
    findings: list[Finding] = []
    for info in all_rules() if own_ctx.objects or scope != "per_object" else ():
        if scope != "all" and info.per_object != (scope == "per_object"):
            continue
        if info.per_object and not own_ctx.objects:
            continue  # nothing to lint one by one: every object was clean before
        severity = info.severity(profile)
        for hit in info.check(own_ctx if info.per_object else ctx):
            reason = opt_outs.reason(hit.obj, info.id, hit.path)
            if reason is None:
                reason = waiver_for(hit.obj, info.id, own.get(id(hit.obj), {}), stack)
            vendor = hit.obj.vendor
            findings.append(
                Finding(
                    rule_id=info.id,
                    severity=severity,
                    resource=hit.obj.display,
                    path=hit.path,
                    message=hit.message,
                    fix=hit.fix or info.fix,
                    origin=hit.obj.origin,
                    object_key=hit.obj.key,
                    waived=reason is not None,
                    waiver_reason=reason,
                    source=None if vendor is None else vendor.source,
                    gating=vendor is None or vendor.gate or info.id in ALWAYS_GATING,
                )
            )
    findings.sort(key=Finding.sort_key)
    return Report(
        findings=tuple(findings),
        profile=profile,
        kubernetes_version=f"{version[0]}.{version[1]}",
        objects=len(objs),
    )


def joined(first: Report, second: Report) -> Report:
    """One report of the two halves of a lint split by ``scope``."""
    return Report(
        findings=tuple(sorted((*first.findings, *second.findings), key=Finding.sort_key)),
        profile=first.profile,
        kubernetes_version=first.kubernetes_version,
        objects=first.objects,
    )


def lint_clean(objects: Sequence[ManifestObject], report: Report) -> list[ManifestObject]:
    """The objects of a built-in API group that no per-object rule hit in ``report`` (waived
    hits count): their files may say so, and the next lint at the same key skips them (see
    :mod:`kubegen._render.cache`). Custom resources are left out: their schema comes from CRDs
    elsewhere in the stack or registered, which may change while the object does not."""
    from kubegen._policy.registry import get_rule
    from kubegen._policy.rules.namespaces import BUILTIN_GROUPS

    hit = {f.object_key for f in report.findings if get_rule(f.rule_id).per_object}
    return [  # a key's first part is the group: the body is read once per object
        obj for obj in objects if (key := obj.key)[0] in BUILTIN_GROUPS and key not in hit
    ]
