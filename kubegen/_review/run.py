"""``kubegen review``'s work for each stack: render now, read the committed base, compare.

The head side is the pipeline's plan (built, linted and rendered in memory, as for ``check``).
The base side is ``output/<env>`` at the base commit, read from git objects: a committed file
whose blob id equals that of the rendered bytes is the same object, so it is not read at all and
both sides share the one Python object; only the differing files are read (one ``git cat-file
--batch``) and parsed by :mod:`kubegen._render.reader`. The base is linted with the stack's
profile and target version, unless nothing differs; for a large stack in a forked child, while
this process compares flows, grants and workloads (:mod:`kubegen._background`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kubegen._background import Background
from kubegen._errors import KubegenError
from kubegen._manifests import ManifestObject
from kubegen._pipeline import PARALLEL_FROM, Plan, plan
from kubegen._policy import Report, lint
from kubegen._render.layout import HEADER, KUSTOMIZATION, object_paths
from kubegen._render.reader import UnreadableYaml, read_document
from kubegen._review.compare import Side, compare
from kubegen._review.git import Repo, find_base
from kubegen._review.model import Base, Review, StackReview

__all__ = ["review"]

_HEADER = HEADER.encode()


def review(paths: Sequence[Path], base_ref: str | None = None) -> Review:
    """Review every stack in ``paths`` against one base commit."""
    plans = [plan(path) for path in paths]  # a stack error is reported before any git work
    repo = Repo.find(_existing(plans[0].env_dir) if plans else Path.cwd())
    base = find_base(repo, base_ref)
    return Review(base, [_review_stack(repo, base, item) for item in plans])


def _existing(path: Path) -> Path:
    """The nearest folder of ``path`` that exists (the env folder may not, yet)."""
    path = path.resolve()
    while not path.is_dir() and path != path.parent:
        path = path.parent
    return path


def _relative(repo: Repo, env_dir: Path) -> str:
    try:
        return env_dir.resolve().relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        raise KubegenError(
            f"Unable to review: the output folder {env_dir} is outside the git repository "
            f"{repo.root}",
            fix="keep the output folder inside the repository ([tool.kubegen] output)",
        ) from None


def _review_stack(repo: Repo, base: Base, item: Plan) -> StackReview:
    output = _relative(repo, item.env_dir)
    head_items = list(zip(object_paths(item.objects), item.objects, strict=True))
    base_items, differ = _base_items(repo, base, output, item, dict(head_items))
    fork = differ and len(base_items) >= PARALLEL_FROM  # lint on the other core meanwhile
    with Background(lambda: _lint_base(base_items, item.report, base, output), fork=fork) as job:

        def reports() -> tuple[Report, Report]:
            return (job.result() if differ else item.report), item.report

        review = compare(
            item.env,
            item.loaded.stack.name,
            output,
            Side.of(base_items),
            Side.of(head_items),
            reports,
        )
    if base.commit is not None and not base_items:
        review.notes.append(
            f"{output} holds no kubegen files at the base commit: everything is added"
        )
    return review


def _base_items(
    repo: Repo, base: Base, output: str, item: Plan, head: dict[str, ManifestObject]
) -> tuple[list[tuple[str, ManifestObject]], bool]:
    """The base's objects with their paths, and whether any file differs from the head's."""
    committed = repo.files(base.commit, output) if base.commit else {}
    committed.pop(KUSTOMIZATION, None)
    shared: list[tuple[str, ManifestObject]] = []
    to_read: dict[str, str] = {}
    for path, oid in sorted(committed.items()):
        data = item.files.get(path)
        if data is not None and path in head and repo.blob_id(data) == oid:
            shared.append((path, head[path]))
        else:
            to_read[path] = oid
    blobs = repo.blobs(sorted(set(to_read.values())))
    for path, oid in to_read.items():
        data = blobs[oid]
        if data.startswith(_HEADER):  # kubegen's own file; others are left alone, as by render
            shared.append((path, ManifestObject(_parse(data, output, path, base))))
    differ = bool(to_read) or len(shared) != len(head)
    return shared, differ


def _parse(data: bytes, output: str, path: str, base: Base) -> dict[str, object]:
    try:
        return read_document(data)
    except UnreadableYaml as exc:
        raise KubegenError(
            f"Unable to read {output}/{path} at the base commit {(base.commit or '')[:12]}: {exc}",
            fix="compare with another commit (--base REF); that file is not valid kubegen output",
        ) from None


def _lint_base(
    items: list[tuple[str, ManifestObject]], head: Report, base: Base, output: str
) -> Report:
    """Lint the base with the head's profile and version; waivers come from its annotations."""
    try:
        return lint(
            [obj for _, obj in items], profile=head.profile,
            kubernetes_version=head.kubernetes_version,
        )
    except KubegenError as exc:
        raise KubegenError(
            f"Unable to lint {output} at the base commit {(base.commit or '')[:12]}: {exc}",
            fix="compare with another commit (--base REF)",
        ) from None
