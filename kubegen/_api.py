"""The library API: what the ``kubegen`` commands do, callable from Python.

Tests, notebooks and other tools get the CLI's gate whichever function they call: every one of
:func:`render`, :func:`check` and :func:`write` builds the stack, refuses what the cluster would
refuse (:class:`~kubegen.CoherenceError`), lints it with the stack's own profile, target version
and waivers, refuses it on an unwaived error (:class:`~kubegen.PolicyError`) before anything else
happens, and works on the exact bytes ``kubegen render`` would write. :func:`lint` reports
policy findings without refusing them. ``Stack.objects()`` is the ungated build step underneath:
it returns the manifests as built, before any check.

    from kubegen import check, load_stack, write

    stack = load_stack("stacks/prod")
    if not check(stack, "output/prod").ok:
        write(stack, "output/prod")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kubegen._analysis.gitops_paths import refuse_self_deploy
from kubegen._errors import StackLoadError
from kubegen._files.diff import unified_diff
from kubegen._files.tree import compare
from kubegen._files.writer import read_env, write_env
from kubegen._loader import load_stack as _load
from kubegen._loader import stack_parts
from kubegen._origin import Origin
from kubegen._pipeline import (
    Part,
    check_coherence,
    check_parts,
    lint_objects,
    merged_reports,
    raise_for_errors,
    render_objects,
)
from kubegen._policy import Report
from kubegen._project import find_project
from kubegen._stack import Profile, Stack

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class _FolderChanges:
    """The four groups of files both results report, and their one-line summary."""

    folder: Path
    created: tuple[str, ...]
    changed: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]
    report: Report

    def summary(self) -> str:
        """``0 created, 1 changed, 0 removed, 38 unchanged``."""
        counts = (len(self.created), len(self.changed), len(self.removed), len(self.unchanged))
        return "{} created, {} changed, {} removed, {} unchanged".format(*counts)


@dataclass(frozen=True, slots=True)
class CheckResult(_FolderChanges):
    """How a folder differs from what a stack renders: what ``kubegen check`` reports.

    Attributes:
        folder: the env folder compared.
        created: files the stack renders that the folder lacks.
        changed: files kubegen wrote whose content differs.
        removed: files kubegen wrote that the stack no longer renders.
        unchanged: files that are exactly what the stack renders.
        report: the lint report of the stack (it passed the gate; notes and warnings remain).
        diff: a unified diff from the folder to the rendered files (``""`` when ``ok``).
    """

    diff: str

    @property
    def ok(self) -> bool:
        """True when the folder holds exactly what the stack renders (``kubegen check`` exit 0)."""
        return not (self.created or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class WriteResult(_FolderChanges):
    """What :func:`write` did to the folder (the line ``kubegen render`` prints per stack).

    Attributes:
        folder: the env folder written.
        created: files written that did not exist.
        changed: files kubegen had written before, now replaced.
        removed: files kubegen had written that the stack no longer renders, now deleted.
        unchanged: files left as they were (never rewritten).
        report: the lint report of the stack (it passed the gate; notes and warnings remain).
    """

    @property
    def wrote(self) -> bool:
        """True when any file was created, replaced or removed."""
        return bool(self.created or self.changed or self.removed)


def load_stack(path: PathLike) -> Stack:
    """Import the stack at ``path`` and return the ``Stack`` its ``build()`` returns.

    Args:
        path: a stack package (``stacks/prod``, holding ``__init__.py``) or module
            (``stacks/prod.py``), as ``kubegen render`` takes it. Its parent folder goes on
            ``sys.path`` so it imports shared code from siblings (``stacks/shop``).

    Raises:
        StackLoadError: the path is not a stack, the module fails to import, or it has no
            ``build()`` returning a ``Stack``; the message names the file and line.
    """
    return _load(Path(path)).stack


def load_stacks(path: PathLike) -> list[Stack]:
    """Import the stack at ``path`` and return every ``Stack`` its ``build()`` returns: one,
    or one per cluster for an environment on several (each rendered into
    ``output/<env>/<cluster>/``, named by its ``stack.cluster``).

    Raises:
        StackLoadError: as :func:`load_stack`, or the list's Stacks do not name one cluster each.
    """
    return [part.stack for part in _load(Path(path)).parts]


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
    if not isinstance(stack, Stack):
        raise StackLoadError(
            f"lint() was given {type(stack).__name__}, not a Stack",
            fix="call lint(stack) with the Stack that build() returns (lint each Stack of a "
            "list of clusters on its own)",
        )
    objects = stack.objects()
    check_coherence(stack, objects)
    return lint_objects(stack, objects, profile=profile, kubernetes_version=kubernetes_version)


#: One Stack, or what ``build()`` of an environment on several clusters returns: one Stack per
#: cluster, each rendered into the env folder's ``<cluster>/`` (see :func:`load_stacks`).
Stacks = Stack | Sequence[Stack]


def _gated(stacks: Stacks, env_dir: Path | None = None) -> tuple[dict[str, bytes], Report]:
    """Build, check coherence, lint (refusing unwaived errors) and render in memory: the gate
    of ``kubegen render``, for one Stack or one per cluster, in its order (every cluster's
    coherence before any lint; an error names its cluster). ``env_dir``: where the files go,
    which GitOps objects must not deploy (as ``kubegen render`` refuses)."""
    parts = [
        Part(part.folder, part.stack, part.stack.objects(), part.folder)
        for part in stack_parts(stacks, _where(stacks), given="given")
    ]
    check_parts(parts)
    reports = [lint_objects(part.stack, part.objects) for part in parts]
    raise_for_errors(parts, reports)
    files: dict[str, bytes] = {}
    root = None if env_dir is None else find_project(env_dir).root
    for part, report in zip(parts, reports, strict=True):
        if env_dir is not None and root is not None:
            refuse_self_deploy(part.objects, env_dir=env_dir / part.folder, project_root=root)
        rendered = render_objects(part.stack, part.objects, report=report,
                                  nested=len(parts) > 1)
        prefix = f"{part.folder}/" if part.folder else ""
        files.update((prefix + path, data) for path, data in rendered.items())
    return dict(sorted(files.items())), merged_reports(reports)


def _where(stacks: Stacks) -> Origin | None:
    """The line an error about the list itself points at: the first Stack's."""
    if isinstance(stacks, Stack):
        first: object = stacks
    else:
        first = stacks[0] if isinstance(stacks, Sequence) and stacks else None
    return first.origin if isinstance(first, Stack) else None


def render(stack: Stacks) -> dict[str, str]:
    """Relative path → YAML text of every file ``kubegen render`` would write for ``stack``.

    Paths are relative to the env folder (``shop/deployment-api.yaml``), sorted, with
    ``kustomization.yaml`` among them. Nothing touches disk. ``stack`` may also be the list of
    one Stack per cluster that :func:`load_stacks` returns: each cluster's files are then under
    its folder (``eu/shop/deployment-api.yaml``), as ``kubegen render`` writes them.

    Raises:
        CoherenceError: the cluster would refuse an object or never run it.
        PolicyError: unwaived error-level findings; its message lists them.
        KubegenError: any other user error, located at the stack line that caused it.
    """
    files, _ = _gated(stack)
    return {path: data.decode() for path, data in files.items()}


def check(stack: Stacks, folder: PathLike) -> CheckResult:
    """Compare ``folder`` with what ``stack`` renders, as ``kubegen check`` does; write nothing.

    Args:
        stack: the stack, built in Python or by :func:`load_stack`; or the Stacks of an
            environment on several clusters (:func:`load_stacks`), one folder each inside it.
        folder: its env folder (``output/prod``); a missing folder is empty.

    Raises:
        CoherenceError: the cluster would refuse an object or never run it.
        PolicyError: the stack would not render (checked before any file is read).
        OutputError: a rendered path hits a file kubegen did not write, or the folder is
            unreadable.
    """
    env_dir = Path(folder)
    files, report = _gated(stack, env_dir)
    tree = read_env(env_dir)
    changes = compare(tree, files, env_dir)
    diff = unified_diff(env_dir.as_posix(), tree, files, changes) if changes.any else ""
    return CheckResult(
        env_dir,
        tuple(changes.created),
        tuple(changes.changed),
        tuple(changes.removed),
        tuple(changes.unchanged),
        diff=diff,
        report=report,
    )


def write(stack: Stacks, folder: PathLike) -> WriteResult:
    """Make ``folder`` hold exactly what ``stack`` renders, atomically, as ``kubegen render``.

    Files kubegen did not write are never touched; files it wrote and no longer renders are
    removed; unchanged files are not rewritten. The new set replaces the old one in one step:
    a failure leaves the folder as it was.

    Args:
        stack: the stack, built in Python or by :func:`load_stack`; or the Stacks of an
            environment on several clusters (:func:`load_stacks`), one folder each inside it.
        folder: its env folder (``output/prod``), created if missing.

    Raises:
        CoherenceError: the cluster would refuse an object or never run it (nothing is written).
        PolicyError: the stack would not render (nothing is written).
        OutputError: a rendered path hits a file kubegen did not write, or the disk refused.
    """
    env_dir = Path(folder)
    files, report = _gated(stack, env_dir)
    changes = write_env(env_dir, files)
    return WriteResult(
        env_dir,
        tuple(changes.created),
        tuple(changes.changed),
        tuple(changes.removed),
        tuple(changes.unchanged),
        report=report,
    )


__all__ = ["CheckResult", "WriteResult", "check", "lint", "load_stack", "render", "write"]
