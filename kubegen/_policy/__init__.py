"""Policy: hardening rules over rendered manifests, with ids, reasons, profiles and waivers.

The engine works on plain dicts (:class:`~kubegen._manifests.ManifestObject`), so it depends on
no builder and checks YAML read back from ``output/`` the same way as freshly built objects::

    report = lint(objects, profile="prod", waivers=[Waiver("KG204", reason="…")])
    if not report.ok:
        print(report.to_text())

``kubegen rules`` lists every rule, ``kubegen explain KG105`` tells why one exists.
"""

from __future__ import annotations

from kubegen._policy.engine import Finding, Report, Severity, Waiver, lint
from kubegen._policy.model import DEFAULT_KUBERNETES_VERSION, DEFAULT_PROFILE, PROFILES
from kubegen._policy.registry import RuleInfo, UnknownRuleError, all_rules, explain, get_rule
from kubegen._policy.schema import register_schema
from kubegen._policy.waivers import annotate_waivers

__all__ = [
    "DEFAULT_KUBERNETES_VERSION",
    "DEFAULT_PROFILE",
    "PROFILES",
    "Finding",
    "Report",
    "RuleInfo",
    "Severity",
    "UnknownRuleError",
    "Waiver",
    "all_rules",
    "annotate_waivers",
    "explain",
    "get_rule",
    "lint",
    "register_schema",
]
