"""The whole flow for one stack path: load → build → manifests → policy → files.

Everything happens in memory; only :func:`kubegen._files.writer.write_env` touches disk, and only
after every step succeeded. The policy gate runs before rendering: an unwaived error-level finding
raises :class:`~kubegen._errors.PolicyError` (carrying the findings), so ``render`` writes nothing
and ``check``/``diff`` compare nothing for a stack that would be refused. Waivers that apply are
then written into the objects as ``kubegen.dev/waive-<rule>`` annotations.

An environment on several clusters builds one Stack per cluster (its *parts*); each is linted
with its own profile and waivers and rendered into ``<env folder>/<cluster>/``, and the plan
holds the files of all of them, so the env folder is still written (and pruned) as one.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from kubegen._analysis.gitops_paths import refuse_self_deploy, repository_root
from kubegen._background import Background
from kubegen._coherence.facts import stack_facts
from kubegen._errors import KubegenError, PolicyError, StackLoadError
from kubegen._files.tree import Changes, EnvTree
from kubegen._loader import LoadedStack, guarded, isolated, line_of, load_stack
from kubegen._manifests import ManifestObject
from kubegen._policy import DEFAULT_KUBERNETES_VERSION, Report, Waiver, annotate_waivers, lint
from kubegen._policy.context import parse_version
from kubegen._policy.engine import Scope, joined, lint_clean
from kubegen._project import find_project
from kubegen._render.cache import CacheFields, lint_key
from kubegen._render.files import PlannedFiles, plan_files, render_files
from kubegen._stack import Stack
from kubegen._stack_path import resolve_env_dir

#: From this many objects lint runs in a forked child beside rendering (see
#: :mod:`kubegen._background`); below it the fork costs more than the overlap saves.
PARALLEL_FROM = 1000

T = TypeVar("T")


@dataclass(slots=True)
class Part:
    """One built Stack of an environment: the folder under the env folder it renders into
    (``""``, or the cluster's name), its objects, and how commands name it (``prod/eu-1``)."""

    folder: str
    stack: Stack
    objects: list[ManifestObject]
    label: str


@dataclass(slots=True)
class Plan:
    """A stack rendered in memory, ready to be compared with or written to ``env_dir``."""

    loaded: LoadedStack
    env_dir: Path
    objects: list[ManifestObject]
    files: dict[str, bytes]
    report: Report
    parts: list[Part]
    part_reports: list[Report]

    @property
    def env(self) -> str:
        return self.loaded.env

    def reports_by_label(self) -> list[tuple[str, Report]]:
        """Each part's report with how commands name it (``prod``, or ``prod/eu-1`` for each
        cluster of an environment): a cluster's summary names its own Kubernetes version."""
        return [(part.label, report) for part, report in zip(self.parts, self.part_reports,
                                                             strict=True)]


def build_parts(path: Path, *, coherent: bool = True) -> tuple[LoadedStack, list[Part]]:
    """Load the stack at ``path``, build the manifests of each of its Stacks and refuse what
    the cluster would (``coherent=False``: the caller runs :func:`check_parts` itself).

    The stack's code runs isolated (see :func:`kubegen._loader.isolated`).

    Raises:
        CoherenceError: the cluster would refuse an object or never run it (see
            :func:`check_coherence`).
    """
    with isolated():
        loaded = load_stack(path)
        built = [
            (part, guarded(part.stack.objects, loaded.module_file, "building objects",
                           fallback=part.stack.origin))
            for part in loaded.parts
        ]
    parts = []
    for part, made in built:
        objects = _checked_objects(made, part.stack)
        label = f"{loaded.env}/{part.folder}" if part.folder else loaded.env
        parts.append(Part(part.folder, part.stack, objects, label))
    if coherent:
        check_parts(parts)
    return loaded, parts


def check_parts(parts: list[Part]) -> None:
    """:func:`check_coherence` for each part, naming the cluster when there are several."""
    for part in parts:
        try:
            check_coherence(part.stack, part.objects)
        except KubegenError as exc:
            if len(parts) > 1:  # one line of code built it for every cluster: say which
                _name_the_cluster(exc, part.folder)
            raise


def _name_the_cluster(exc: KubegenError, cluster: str) -> None:
    for problem in {id(p): p for p in [exc, *exc.problems]}.values():
        where = f"on cluster {cluster}"
        problem.resource = f"{problem.resource} {where}" if problem.resource else where


def build_objects(path: Path) -> tuple[LoadedStack, list[ManifestObject]]:
    """Load the stack at ``path`` and build its manifests (an environment of one Stack); see
    :func:`build_parts`."""
    loaded, parts = build_parts(path)
    if len(parts) != 1:
        loaded.stack  # noqa: B018 (raises: one Stack per cluster is not one Stack)
    return loaded, parts[0].objects


def _checked_objects(objects: object, stack: Stack) -> list[ManifestObject]:
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
    stack_class = type(stack)
    method = getattr(stack_class, "objects", None)
    origin = line_of(method) or stack.origin
    raise StackLoadError(
        f"{stack_class.__name__}.objects() returned {what}, not a list of manifest objects",
        origin=origin,
        fix="return super().objects() (objects added with self.add(...)), or the list it gives",
    )


def check_coherence(stack: Stack, objects: list[ManifestObject]) -> None:
    """Raise :class:`~kubegen.CoherenceError` for what the cluster would refuse or never run
    (Pod Security Admission of each pod's namespace, …), at the stack's target version."""
    from kubegen._coherence.gate import check_objects  # a large check runs in the lint child

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
    known_clean: Collection[ManifestObject] = (),
    scope: Scope = "all",
) -> Report:
    """Lint a built stack with its own profile, target version and waivers (or overrides);
    ``known_clean`` and ``scope`` as in :func:`kubegen._policy.lint`."""
    return lint(
        objects,
        profile=profile or stack.profile,
        kubernetes_version=kubernetes_version
        or stack.kubernetes_version
        or DEFAULT_KUBERNETES_VERSION,
        waivers=stack_waivers(stack),
        facts=stack_facts(stack),
        known_clean=known_clean,
        scope=scope,
    )


def stack_lint_key(stack: Stack) -> str:
    """The lint key of the stack's files (see :mod:`kubegen._render.cache`)."""
    from kubegen._policy.schema import schema_identity

    version = parse_version(stack.kubernetes_version or DEFAULT_KUBERNETES_VERSION)
    return lint_key(version, schema_identity(version))


def plan(
    path: Path,
    *,
    out: Path | None = None,
    previous: Mapping[str, bytes] | None = None,
    checked: Mapping[str, CacheFields] | None = None,
) -> Plan:
    """Render the stack at ``path`` into file contents, touching nothing on disk.

    ``previous``: the env folder's files on disk, by relative path; a file whose cache line
    still matches is reused, and its lint skipped where it was clean (see
    :mod:`kubegen._render.cache`). ``checked``: their cache lines, checked ahead
    (:func:`~kubegen._render.cache.checked_lines` of the same files).

    Raises:
        PolicyError: error-level policy findings remain; the message lists them.
    """
    _, env_dir, project = resolve_env_dir(path, out)
    loaded, parts = build_parts(path, coherent=False)
    objects = [obj for part in parts for obj in part.objects]
    old = previous or {}
    # Most files on disk: most objects will be reused and skip their per-object lint, so a
    # child runs the rules across objects meanwhile; else a child runs the whole lint while
    # this process emits (objects it may skip are not known before the child starts).
    warm = 2 * len(old) >= len(objects)
    parallel = len(objects) >= PARALLEL_FROM
    planned: list[PlannedFiles] = []
    own: list[Report] | None = None
    emitted = False
    render_error: KubegenError | None = None
    child_scope: Scope = "cross" if warm else "all"

    def coherent_then_lint() -> list[Report]:  # what the cluster refuses is reported first
        check_parts(parts)
        return _lint_parts(parts, None, child_scope)

    with Background(coherent_then_lint, fork=parallel) as linting:
        if linting.forked:  # plan and emit on this core meanwhile; the child lints its own copy
            try:
                planned = [_plan_part(part, parts, old, checked) for part in parts]
                if warm:
                    own = _lint_parts(parts, [p.known_clean() for p in planned], "per_object")
                _emit(planned)
                emitted = True
            except KubegenError as exc:  # reported after any policy error, as when serial
                render_error = exc
            reports = linting.result()
            if warm:  # the other half (all of it when planning failed: its errors come first)
                if own is None:
                    own = _lint_parts(parts, None, "per_object")
                reports = [joined(a, b) for a, b in zip(reports, own, strict=True)]
        else:
            check_parts(parts)
            try:
                planned = [_plan_part(part, parts, old, checked) for part in parts]
            except KubegenError as exc:
                render_error = exc
            known = [p.known_clean() for p in planned] if render_error is None else None
            reports = _lint_parts(parts, known, "all")
    raise_for_errors(parts, reports)
    if render_error is not None:
        raise render_error
    if not emitted:
        _emit(planned)
    files = _files_of(parts, planned, reports)
    for part in parts:
        part_dir = env_dir / part.folder if part.folder else env_dir
        refuse_self_deploy(part.objects, env_dir=part_dir, project_root=project.root)
    return Plan(loaded=loaded, env_dir=env_dir, objects=objects, files=files,
                report=merged_reports(reports), parts=parts, part_reports=reports)


def _plan_part(
    part: Part,
    parts: list[Part],
    previous: Mapping[str, bytes],
    checked: Mapping[str, CacheFields] | None = None,
) -> PlannedFiles:
    """Write the part's waivers into its objects, then plan its files against the files on
    disk under its folder."""
    annotate_waivers(part.objects, stack_waivers(part.stack))
    nested = len(parts) > 1 or bool(part.folder)
    if nested:
        previous = _under(previous, f"{part.folder}/")
        checked = None if checked is None else _under(checked, f"{part.folder}/")
    layers = [layer.name for layer in part.stack.layers]
    return plan_files(part.objects, layers, nested=nested, previous=previous,
                      lint_key=stack_lint_key(part.stack), checked=checked)


def _under(files: Mapping[str, T], prefix: str) -> dict[str, T]:
    """The entries of ``files`` under the folder ``prefix``, by their path inside it."""
    return {path[len(prefix):]: value for path, value in files.items() if path.startswith(prefix)}


def _emit(planned: list[PlannedFiles]) -> None:
    for item in planned:
        item.emit()


def _files_of(
    parts: list[Part], planned: list[PlannedFiles], reports: list[Report]
) -> dict[str, bytes]:
    """Every part's files, under its folder (the cluster's name) when there are several."""
    if len(parts) == 1 and not parts[0].folder:
        return planned[0].files(lint_clean(parts[0].objects, reports[0]))
    files: dict[str, bytes] = {}
    for part, item, report in zip(parts, planned, reports, strict=True):
        for name, data in item.files(lint_clean(part.objects, report)).items():
            files[f"{part.folder}/{name}"] = data
    return dict(sorted(files.items()))


def _lint_parts(
    parts: list[Part], known: list[list[ManifestObject]] | None, scope: Scope
) -> list[Report]:
    clean: list[list[ManifestObject]] = known or [[] for _ in parts]
    return [
        lint_objects(part.stack, part.objects, known_clean=objects, scope=scope)
        for part, objects in zip(parts, clean, strict=True)
    ]


def raise_for_errors(parts: list[Part], reports: list[Report]) -> None:
    """Raise the first part's :class:`PolicyError`, naming its cluster when there are several."""
    for part, report in zip(parts, reports, strict=True):
        try:
            report.raise_for_errors()
        except PolicyError as exc:
            if len(parts) > 1:  # say which cluster's Stack it is
                exc.message = f"{part.label}: {exc.message}"
                exc.args = (exc.message,)
            raise


def merged_reports(reports: list[Report]) -> Report:
    """One report for the environment: every part's findings (profile and version of the
    first part, which the parts of one environment normally share)."""
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    return Report(
        findings=tuple(f for report in reports for f in report.findings),
        profile=first.profile,
        kubernetes_version=first.kubernetes_version,
        objects=sum(report.objects for report in reports),
    )


def render_objects(
    stack: Stack,
    objects: list[ManifestObject],
    *,
    nested: bool = False,
    report: Report | None = None,
) -> dict[str, bytes]:
    """Write the stack's waivers into its objects, then render them into file contents
    (``nested``: into a cluster's folder inside the env folder). ``report``: the stack's lint
    report, which says which files are lint-clean (linted here when not given)."""
    annotate_waivers(objects, stack_waivers(stack))
    if report is None:
        report = lint_objects(stack, objects)
    layers = [layer.name for layer in stack.layers]
    return render_files(objects, layers, nested=nested, clean=lint_clean(objects, report),
                        lint_key=stack_lint_key(stack))


def check_plans(plans: list[Plan]) -> None:
    """The checks across every stack of one run (:mod:`kubegen._analysis.fleet`): GitOps paths
    exist, each folder goes to the cluster it was built for, one owner per object per cluster."""
    from kubegen._analysis.deliveries import ARGO, FLUX
    from kubegen._analysis.fleet import (
        RenderedFolder,
        RenderedPart,
        check_fleet,
        repository_remotes,
    )

    if not plans:
        return
    root = repository_root(find_project(plans[0].loaded.path).root)
    parts: list[RenderedPart] = []
    folders: list[RenderedFolder] = []
    for item in plans:
        env = _inside(item.env_dir, root)
        if env is not None:
            folders.append(RenderedFolder(env, item.files.keys()))
        for part in item.parts:
            cluster = part.stack.cluster
            addresses = () if cluster is None else (
                (ARGO, cluster.argocd_address()), (FLUX, cluster.flux_address()))
            folder = None if env is None else (f"{env}/{part.folder}" if part.folder else env)
            parts.append(RenderedPart(
                stack=item.loaded.path.as_posix(), folder=folder,
                cluster=None if cluster is None else cluster.name, addresses=addresses,
                layers=tuple(layer.name for layer in part.stack.layers), objects=part.objects,
            ))
    check_fleet(parts, folders, root, remotes=repository_remotes(root))


def _inside(folder: Path, root: Path) -> str | None:
    """``folder`` relative to the repository ``root``; None outside it, or when it cannot be
    resolved (a symlink loop: reading or writing the folder reports that, located)."""
    try:
        return folder.resolve().relative_to(root).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None


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
    "Part",
    "Plan",
    "build_objects",
    "build_parts",
    "check_coherence",
    "check_parts",
    "check_plans",
    "describe",
    "describe_stale",
    "lint_objects",
    "lint_stack",
    "merged_reports",
    "plan",
    "raise_for_errors",
    "render_objects",
    "resolve_env_dir",
]
