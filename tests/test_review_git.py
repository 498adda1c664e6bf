"""Which commit ``kubegen review`` compares with, and how it reads the committed output.

Real git in temporary folders: first commits, branches without commits, the default branch
itself, shallow CI clones (fetching what they lack, or saying how), explicit refs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from kubegen._errors import KubegenError
from kubegen._render.layout import HEADER
from kubegen._review import review
from kubegen._review import run as review_run
from tests.review_support import ReviewRepo, no_bytecode


@pytest.fixture(autouse=True)
def _setup(monkeypatch: pytest.MonkeyPatch) -> None:
    no_bytecode()
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)


def _created(result) -> set[str]:
    (stack,) = result.stacks
    return {o.change for o in stack.objects}


def test_an_empty_repository_has_no_base(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    result = review([repo.stack])
    assert result.base.commit is None
    assert result.base.notes == ("no commits yet: everything is added",)
    assert _created(result) == {"created"}
    assert len(result.stacks[0].objects) == 20


def test_the_first_commit_on_the_default_branch_adds_everything(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    repo.commit("first")
    result = review([repo.stack])
    assert result.base.commit is None
    assert result.base.notes == ("HEAD is the repository's first commit: everything is added",)
    assert _created(result) == {"created"}


def test_on_the_default_branch_the_base_is_heads_parent(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    first = repo.commit("first")
    repo.write(api_replicas=4)
    repo.commit("scale")
    result = review([repo.stack])
    assert (result.base.commit, result.base.ref) == (first, "HEAD~1")
    assert "--base HEAD" in result.base.notes[0]
    assert [w.resource for w in result.stacks[0].workloads] == ["Deployment app/api"]
    only_uncommitted = review([repo.stack], "HEAD")
    assert not only_uncommitted.stacks[0].changed


def test_a_branch_without_commits_shows_what_is_not_committed(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    base = repo.commit("first")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(api_replicas=4)
    result = review([repo.stack])
    assert (result.base.commit, result.base.how) == (base, "merge base of HEAD and main")
    assert result.stacks[0].workloads


def test_the_merge_base_not_the_tip_of_main(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    base = repo.commit("first")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(api_replicas=4)
    repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    repo.write(api_replicas=2, config="moved on")
    repo.commit("main moves on")
    repo.git("checkout", "-q", "feature")
    repo.write(api_replicas=4, config="one")
    result = review([repo.stack])
    assert result.base.commit == base
    (stack,) = result.stacks
    assert [o.resource for o in stack.objects] == ["Deployment app/api"]  # not main's config


def test_no_default_branch_adds_everything_and_says_how(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo", branch="trunk")
    repo.commit("first")
    repo.git("checkout", "-q", "-b", "feature")
    result = review([repo.stack])
    assert result.base.commit is None
    assert "pass --base REF" in result.base.notes[0]


def test_a_base_without_the_output_adds_everything_and_says_so(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    repo.commit("stacks only, output not committed yet", render=False)
    repo.git("checkout", "-q", "-b", "feature")
    result = review([repo.stack])
    (stack,) = result.stacks
    assert result.base.commit is not None
    assert stack.notes == [
        "output/app holds no kubegen files at the base commit: everything is added"
    ]
    assert {o.change for o in stack.objects} == {"created"}


def test_explicit_base_ref(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    first = repo.commit("first")
    repo.git("tag", "v1")
    repo.write(api_replicas=4)
    repo.commit("scale")
    repo.write(api_replicas=5)
    result = review([repo.stack], "v1")
    assert (result.base.commit, result.base.how) == (first, "v1")
    (change,) = [c for w in result.stacks[0].workloads for c in w.fields]
    assert (change.before, change.after) == ("2", "5")


def test_an_unknown_base_says_how_to_get_it(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    repo.commit("first")
    with pytest.raises(KubegenError, match="there is no remote 'origin'") as info:
        review([repo.stack], "nope")
    assert "git fetch --depth=1 origin nope" in str(info.value)


def test_outside_a_repository_is_an_error(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo", init=False)
    with pytest.raises(KubegenError, match="not inside a git repository"):
        review([repo.stack])


# --- shallow CI clones ---------------------------------------------------------------------


def _origin_and_shallow_clone(tmp_path: Path) -> tuple[ReviewRepo, ReviewRepo, str]:
    """An origin with ``main`` and a ``feature`` branch one commit ahead, and a depth-1 clone
    of ``feature`` only (what actions/checkout makes)."""
    origin = ReviewRepo(tmp_path / "origin")
    base = origin.commit("first")
    origin.git("checkout", "-q", "-b", "feature")
    origin.write(api_internet="payment provider")
    origin.commit("egress")
    origin.git("checkout", "-q", "main")
    clone = tmp_path / "clone"
    origin.git("clone", "-q", "--depth=1", "--branch", "feature", f"file://{origin.root}",
               str(clone))
    cloned = ReviewRepo.__new__(ReviewRepo)
    cloned.root, cloned.settings = clone, dict(origin.settings)
    assert cloned.git("rev-parse", "--is-shallow-repository").strip() == "true"
    assert "origin/main" not in cloned.git("branch", "-r")
    return origin, cloned, base


def test_a_shallow_clone_fetches_the_default_branch(tmp_path: Path) -> None:
    _, clone, base = _origin_and_shallow_clone(tmp_path)
    result = review([clone.stack])
    assert (result.base.commit, result.base.ref) == (base, "origin/main")
    assert result.base.notes and result.base.notes[0].startswith("shallow clone:")
    assert "fetch-depth: 0" in result.base.notes[0]
    assert "new-egress" in result.categories()
    assert clone.git("rev-parse", "--is-shallow-repository").strip() == "true"


def test_a_pull_request_compares_with_its_target_branch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, clone, _ = _origin_and_shallow_clone(tmp_path)
    origin.git("branch", "release", "feature~1")
    monkeypatch.setenv("GITHUB_BASE_REF", "release")
    result = review([clone.stack])
    assert result.base.ref == "origin/release"
    assert "new-egress" in result.categories()


def test_a_shallow_clone_fetches_an_explicit_base(tmp_path: Path) -> None:
    _, clone, base = _origin_and_shallow_clone(tmp_path)
    result = review([clone.stack], "origin/main")
    assert result.base.commit == base


def test_a_base_that_cannot_be_fetched_says_how_in_one_line(tmp_path: Path) -> None:
    _, clone, _ = _origin_and_shallow_clone(tmp_path)
    with pytest.raises(KubegenError) as info:
        review([clone.stack], "origin/nope")
    message = str(info.value)
    assert "`git fetch --depth=1 origin nope` failed" in message
    assert "fetch-depth: 0" in message


def test_a_push_to_main_in_a_shallow_clone_fetches_heads_parent(tmp_path: Path) -> None:
    origin = ReviewRepo(tmp_path / "origin")
    first = origin.commit("first")
    origin.write(api_replicas=3)
    origin.commit("scale")
    clone = tmp_path / "clone"
    origin.git("clone", "-q", "--depth=1", f"file://{origin.root}", str(clone))
    origin.git("checkout", "-q", "--detach", cwd=clone)  # CI checks out the pushed commit
    result = review([clone / "stacks" / "app"])
    assert (result.base.commit, result.base.ref) == (first, "HEAD~1")
    assert [w.resource for w in result.stacks[0].workloads] == ["Deployment app/api"]


# --- reading the committed files -----------------------------------------------------------


def test_only_the_files_that_differ_are_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    repo = ReviewRepo(tmp_path / "repo")
    repo.commit("first")
    repo.git("checkout", "-q", "-b", "feature")
    repo.write(config="two")
    parsed: list[int] = []
    real = review_run.read_document
    monkeypatch.setattr(review_run, "read_document", lambda data: parsed.append(1) or real(data))
    result = review([repo.stack])
    assert len(parsed) == 1
    assert [o.resource for o in result.stacks[0].objects] == ["ConfigMap app/settings"]


def test_foreign_and_hand_formatted_files_at_the_base(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    repo.render()
    out = repo.root / "output" / "app"
    (out / "README.md").write_text("not kubegen's\n")
    (out / "app" / "notes.yaml").write_text("kind: ConfigMap\n")
    path = out / "app" / "configmap-settings.yaml"
    data = yaml.safe_load(path.read_text())
    path.write_text(HEADER + yaml.safe_dump(data, default_flow_style=True))  # another style
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "first")
    repo.git("checkout", "-q", "-b", "feature")
    (stack,) = review([repo.stack]).stacks
    assert [(o.change, o.resource) for o in stack.objects] == [
        ("changed", "ConfigMap app/settings")  # the bytes differ, the meaning does not
    ]
    assert stack.risk_line() == "no new permissions, flows, exceptions or findings; nothing deleted"


def test_a_broken_committed_file_is_named(tmp_path: Path) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    repo.render()
    path = repo.root / "output" / "app" / "app" / "configmap-settings.yaml"
    path.write_text(HEADER + "data: [unclosed\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "first")
    repo.git("checkout", "-q", "-b", "feature")
    with pytest.raises(KubegenError, match=r"output/app/app/configmap-settings.yaml at the base"):
        review([repo.stack])


def test_git_must_be_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = ReviewRepo(tmp_path / "repo")
    repo.commit("first")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert shutil.which("git") is None
    with pytest.raises(KubegenError, match="git command is not installed"):
        review([repo.stack])
    assert os.environ["PATH"]
