"""The coherence gate: run every "what the cluster will do" check on a stack's objects.

Called wherever a stack is built (``kubegen render/check/diff/lint/graph/access`` through
:func:`kubegen._pipeline.build_objects`, and the library's ``kubegen.render``/``kubegen.lint``),
right after the objects are built and before lint: a problem here is a
:class:`~kubegen.CoherenceError` (exit code 2) that no waiver or opt-out can silence, because the
cluster would refuse the object, or accept it and never run it.
"""

from __future__ import annotations

from collections.abc import Sequence

from kubegen._coherence.admission import rejections
from kubegen._coherence.facts import StackFacts, stack_facts
from kubegen._coherence.limits import refused_by_limits
from kubegen._coherence.namespaces import namespace_policies
from kubegen._coherence.pod_security import Version
from kubegen._coherence.pods import pod_view
from kubegen._coherence.rollouts import stuck_rollouts
from kubegen._errors import CoherenceError, KubegenError
from kubegen._manifests import ManifestObject
from kubegen._stack import Stack

__all__ = ["check", "check_objects"]


def check(stack: Stack, objects: Sequence[ManifestObject], version: Version) -> StackFacts:
    """Refuse what the cluster would refuse; return the stack's facts for lint.

    Args:
        stack: the stack (its Cluster and builders are facts not found in the objects).
        objects: the stack's rendered objects.
        version: the target Kubernetes ``(major, minor)`` version.

    Raises:
        CoherenceError: every pod the namespace's enforce level rejects, every workload whose
            pods could never all run or roll out, every pod or claim the namespace's LimitRanges
            or ResourceQuotas refuse; sorted by stack line.
    """
    facts = stack_facts(stack)
    check_objects(objects, facts, version)
    return facts


def check_objects(objects: Sequence[ManifestObject], facts: StackFacts, version: Version) -> None:
    """:func:`check` for objects and facts already at hand."""
    pods = [view for view in map(pod_view, objects) if view is not None]
    policies = namespace_policies(objects, facts.namespaces, facts.cluster)
    problems: list[KubegenError] = rejections(pods, policies, version)
    problems += stuck_rollouts(pods, objects, facts)
    problems += refused_by_limits(pods, objects)
    if problems:
        problems.sort(key=_order)
        raise CoherenceError(problems)


def _order(problem: KubegenError) -> tuple[int, str, int, str]:
    origin = problem.origin
    if origin is None:
        return (1, "", 0, problem.resource or "")
    return (0, origin.file, origin.line, problem.resource or "")
