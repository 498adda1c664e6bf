"""The library API: what ``kubegen render`` and ``kubegen lint`` do, callable from Python.

Tests, notebooks and other tools get the same gate as the CLI: :func:`render` builds a stack,
refuses what the cluster would refuse (:class:`~kubegen.CoherenceError`), lints it with the
stack's own profile, target version and waivers, refuses it on an unwaived error
(:class:`~kubegen.PolicyError`), and returns the exact text of every file a render would write,
without touching disk.
"""

from __future__ import annotations

from kubegen._pipeline import check_coherence, lint_objects, render_objects
from kubegen._policy import Report
from kubegen._stack import Profile, Stack


def lint(
    stack: Stack, *, profile: Profile | None = None, kubernetes_version: str | None = None
) -> Report:
    """Lint ``stack`` as ``kubegen lint`` does.

    Args:
        stack: the stack to build and check.
        profile: overrides the stack's profile (``baseline``, ``restricted``, ``prod``).
        kubernetes_version: overrides the stack's target ``MAJOR.MINOR`` version.

    Returns:
        Every finding, waived ones included; ``report.ok`` is False when a render would refuse.

    Raises:
        CoherenceError: the cluster would refuse an object (Pod Security Admission of its
            namespace) or never run it, which no waiver changes.
    """
    objects = stack.objects()
    check_coherence(stack, objects)
    return lint_objects(stack, objects, profile=profile, kubernetes_version=kubernetes_version)


def render(stack: Stack) -> dict[str, str]:
    """Relative path → YAML text of every file ``kubegen render`` would write for ``stack``.

    Paths are relative to the env folder (``shop/deployment-api.yaml``), sorted, with
    ``kustomization.yaml`` among them.

    Raises:
        CoherenceError: the cluster would refuse an object or never run it.
        PolicyError: unwaived error-level findings; its message lists them.
        KubegenError: any other user error, located at the stack line that caused it.
    """
    objects = stack.objects()
    check_coherence(stack, objects)
    lint_objects(stack, objects).raise_for_errors()
    return {path: data.decode() for path, data in render_objects(stack, objects).items()}


__all__ = ["lint", "render"]
