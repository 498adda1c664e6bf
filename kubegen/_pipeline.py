"""The whole flow for one stack path: load → build → manifests → policy → files.

Everything happens in memory; only :func:`kubegen._files.writer.write_env` touches disk, and only
after every step succeeded. The policy gate runs before rendering: an unwaived error-level finding
raises :class:`~kubegen._errors.PolicyError` (carrying the findings), so ``render`` writes nothing
and ``check``/``diff`` compare nothing for a stack that would be refused. Waivers that apply are
then written into the objects as ``kubegen.dev/waive-<rule>`` annotations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from kubegen._analysis.gitops_paths import refuse_self_deploy
from kubegen._background import Background
from kubegen._coherence.facts import stack_facts
from kubegen._coherence.gate import check_objects
from kubegen._errors import KubegenError, StackLoadError
from kubegen._files.tree import Changes, EnvTree
from kubegen._loader import LoadedStack, guarded, isolated, line_of, load_stack, locate
from kubegen._manifests import ManifestObject
from kubegen._policy import DEFAULT_KUBERNETES_VERSION, Report, Waiver, annotate_waivers, lint
from kubegen._policy.context import parse_version
from kubegen._project import Project, find_project
from kubegen._render.files import render_files
from kubegen._stack import Stack

#: From this many objects lint runs in a forked child beside rendering (see
#: :mod:`kubegen._background`); below it the fork costs more than the overlap saves.
PARALLEL_FROM = 1000


@dataclass(slots=True)
class Plan:
    """A stack rendered in memory, ready to be compared with or written to ``env_dir``."""

    loaded: LoadedStack
    env_dir: Path
    objects: list[ManifestObject]
    files: dict[str, bytes]
    report: Report

    @property
    def env(self) -> str:
        return self.loaded.env


def build_objects(path: Path) -> tuple[LoadedStack, list[ManifestObject]]:
    """Load the stack at ``path``, build its manifests and refuse what the cluster would.

    The stack's code runs isolated (see :func:`kubegen._loader.isolated`).

    Raises:
        CoherenceError: the cluster would refuse an object or never run it (see
            :func:`check_coherence`).
    """
    with isolated():
        loaded = load_stack(path)
        stack = loaded.stack
        objects = guarded(
            stack.objects, loaded.module_file, "building objects", fallback=stack.origin
        )
    objects = _checked_objects(objects, loaded)
    check_coherence(stack, objects)
    return loaded, objects


def _checked_objects(objects: object, loaded: LoadedStack) -> list[ManifestObject]:
    """What ``objects()`` returned, refused unless it is a list of manifest objects (a Stack
    subclass may override it)."""
    items = list(objects) if isinstance(objects, (list, tuple)) else None
    bad = next(
        (
            item
            for item in items or ()
            if not isinstance(item, ManifestObject) or not isinstance(item.body, dict)
        ),
        None,
    )
    if items is not None and bad is None:
        return items
    what = type(objects).__name__ if items is None else f"a list holding {type(bad).__name__}"
    stack_class = type(loaded.stack)
    method = getattr(stack_class, "objects", None)
    origin = line_of(method) or loaded.stack.origin
    raise StackLoadError(
        f"{stack_class.__name__}.objects() returned {what}, not a list of manifest objects",
        origin=origin,
        fix="return super().objects() (objects added with self.add(...)), or the list it gives",
    )


def resolve_env_dir(path: Path, out: Path | None) -> tuple[str, Path, Project]:
    """The env name and folder the stack at ``path`` renders into, and its project: decided
    from the path and the project root before any of the stack's code runs."""
    _, env = locate(path)
    project = find_project(path)
    env_dir = project.out_dir(out, env) if out is not None else project.env_dir(env)
    return env, env_dir, project


def check_coherence(stack: Stack, objects: list[ManifestObject]) -> None:
    """Raise :class:`~kubegen.CoherenceError` for what the cluster would refuse or never run
    (Pod Security Admission of each pod's namespace, …), at the stack's target version."""
    version = parse_version(stack.kubernetes_version or DEFAULT_KUBERNETES_VERSION)
    check_objects(objects, stack_facts(stack), version)


def stack_waivers(stack: Stack) -> list[Waiver]:
    """The stack's ``waive(...)`` calls as policy waivers."""
    return [Waiver(w.rule_id, w.reason, kind=w.kind, name=w.name) for w in stack.waivers]


def lint_stack(
    loaded: LoadedStack,
    objects: list[ManifestObject],
    *,
    profile: str | None = None,
    kubernetes_version: str | None = None,
) -> Report:
    """Lint a loaded stack's objects (see :func:`lint_objects`)."""
    return lint_objects(
        loaded.stack, objects, profile=profile, kubernetes_version=kubernetes_version
    )


def lint_objects(
    stack: Stack,
    objects: list[ManifestObject],
    *,
    profile: str | None = None,
    kubernetes_version: str | None = None,
) -> Report:
    """Lint a built stack with its own profile, target version and waivers (or overrides)."""
    return lint(
        objects,
        profile=profile or stack.profile,
        kubernetes_version=kubernetes_version
        or stack.kubernetes_version
        or DEFAULT_KUBERNETES_VERSION,
        waivers=stack_waivers(stack),
        facts=stack_facts(stack),
    )


def plan(path: Path, *, out: Path | None = None) -> Plan:
    """Render the stack at ``path`` into file contents, touching nothing on disk.

    Raises:
        PolicyError: error-level policy findings remain; the message lists them.
    """
    _, env_dir, project = resolve_env_dir(path, out)
    loaded, objects = build_objects(path)
    parallel = len(objects) >= PARALLEL_FROM
    files: dict[str, bytes] | None = None
    render_error: KubegenError | None = None
    with Background(lambda: lint_stack(loaded, objects), fork=parallel) as linting:
        if linting.forked:  # render on this core meanwhile; the child lints its own copy
            try:
                files = _render(loaded, objects)
            except KubegenError as exc:  # reported after any policy error, as when serial
                render_error = exc
        report = linting.result()
    report.raise_for_errors()
    if render_error is not None:
        raise render_error
    if files is None:
        files = _render(loaded, objects)
    refuse_self_deploy(objects, env_dir=env_dir, project_root=project.root)
    return Plan(loaded=loaded, env_dir=env_dir, objects=objects, files=files, report=report)


def _render(loaded: LoadedStack, objects: list[ManifestObject]) -> dict[str, bytes]:
    return render_objects(loaded.stack, objects)


def render_objects(stack: Stack, objects: list[ManifestObject]) -> dict[str, bytes]:
    """Write the stack's waivers into its objects, then render them into file contents."""
    annotate_waivers(objects, stack_waivers(stack))
    return render_files(objects)


def describe(plan: Plan, changes: Changes) -> str:
    """One line per stack for the CLI: where it went and what changed."""
    return f"{plan.env}: {_shown(plan.env_dir)}: {changes.summary()}"


def describe_stale(plan: Plan, tree: EnvTree, changes: Changes) -> str:
    """What ``check`` found wrong with one stack's folder, naming the files (the first few)."""
    where = _shown(plan.env_dir)
    stack = _shown(plan.loaded.path)
    if not tree.exists:
        return f"{plan.env}: {where} does not exist; {stack} renders {len(plan.files)} files"
    parts = [
        f"{len(names)} {what} ({_first(names)})"
        for names, what in (
            (changes.created, "missing"),
            (changes.changed, "changed"),
            (changes.removed, "no longer rendered"),
        )
        if names
    ]
    return (
        f"{plan.env}: {where} is not what {stack} renders: {', '.join(parts)}; "
        f"{len(changes.unchanged)} unchanged"
    )


def _first(names: list[str], count: int = 3) -> str:
    shown = ", ".join(sorted(names)[:count])
    return shown + (f", … {len(names) - count} more" if len(names) > count else "")


def _shown(path: Path) -> str:
    try:
        return str(Path(os.path.realpath(path)).relative_to(os.path.realpath(Path.cwd())))
    except ValueError:
        return str(path)


__all__ = [
    "Plan",
    "build_objects",
    "check_coherence",
    "describe",
    "describe_stale",
    "lint_objects",
    "lint_stack",
    "plan",
    "render_objects",
    "resolve_env_dir",
]
