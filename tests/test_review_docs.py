"""docs/review.md shows a real review of the example platform, and the shipped workflow posts it.

The page's ```diff block is applied with ``git apply`` to this repository's example platform
(stacks/, output/, pyproject.toml) committed in a temporary repository; the ```console block
starting with ``$ kubegen review stacks/prod`` and the ```markdown block must be exactly what
``kubegen review`` prints for that change (the base commit's id aside, which depends on the
temporary repository). The workflow's review step then runs, as GitHub would run it, in a
depth-1 clone of the pull request's branch.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, run_cli

PAGE = REPO / "docs" / "review.md"
WORKFLOWS = [
    REPO / ".github/workflows/kubegen.yml",
    REPO / "kubegen/_cli/scaffold/kubegen.yml.tmpl",
]


def _block(lang: str, first_line: str = "") -> str:
    text = PAGE.read_text(encoding="utf-8")
    pattern = rf"^```{lang}\n({re.escape(first_line)}.*?)^```$"
    found = re.findall(pattern, text, re.M | re.S)
    assert len(found) == 1, f"docs/review.md needs exactly one ```{lang} block {first_line!r}"
    return str(found[0])


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "docs", "GIT_AUTHOR_EMAIL": "docs@example.com",
           "GIT_COMMITTER_NAME": "docs", "GIT_COMMITTER_EMAIL": "docs@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example platform on ``main``, and branch ``payments`` with the page's diff."""
    root = tmp_path_factory.mktemp("platform")
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("stacks", "output"):
        shutil.copytree(REPO / name, root / name, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "the example platform")
    _git(root, "checkout", "-q", "-b", "payments")
    (root / "change.diff").write_text(_block("diff"), encoding="utf-8")
    _git(root, "apply", "change.diff")
    (root / "change.diff").unlink()
    _git(root, "commit", "-q", "-am", "card payments")
    return root


def _shown_base(shown: str) -> str:
    match = re.search(r"[Bb]ase:? ([0-9a-f]{12}) ", shown)
    assert match, "the shown review names its base commit"
    return match.group(1)


def _review(platform: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("GITHUB_BASE_REF", raising=False)
    done = run_cli("review", *args, cwd=platform)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_shown_text_review_is_what_kubegen_prints(platform, monkeypatch) -> None:
    shown = _block("console", "$ kubegen review stacks/prod\n")
    printed = _review(platform, "stacks/prod", monkeypatch=monkeypatch)
    base = _git(platform, "rev-parse", "main").strip()[:12]
    assert "$ kubegen review stacks/prod\n" + printed.replace(base, _shown_base(shown)) == shown, (
        "docs/review.md: the review of the example change is not what kubegen prints now; "
        "paste the current output"
    )


def test_the_shown_markdown_review_is_what_kubegen_prints(platform, monkeypatch, snapshot):
    shown = _block("markdown")
    printed = _review(platform, "--format", "markdown", "stacks/prod", monkeypatch=monkeypatch)
    base = _git(platform, "rev-parse", "main").strip()[:12]
    assert printed.replace(base, _shown_base(shown)) == shown
    assert printed.replace(base, "<base>") == snapshot


def _review_step(workflow: Path) -> dict[str, str]:
    (job,) = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"].values()
    (step,) = [s for s in job["steps"] if s.get("id") == "review"]
    return dict(step)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_the_workflow_reviews_pull_requests_into_the_job_summary(workflow: Path) -> None:
    step = _review_step(workflow)
    assert step["run"].splitlines() == [  # written once: the summary, then the comment step
        "kubegen review $STACKS --format markdown > kubegen-review.md || status=$?",
        'cat kubegen-review.md >> "$GITHUB_STEP_SUMMARY"',
        'exit "${status:-0}"',
    ]
    assert "github.event_name == 'pull_request'" in step["if"]
    assert "steps.install.outcome == 'success'" in step["if"]
    shown = _block("yaml", "      - name: Review (pull requests)\n")
    assert yaml.safe_load(shown) == [step], "docs/review.md shows another review step"


def test_the_review_step_runs_in_a_shallow_pull_request_checkout(platform, tmp_path) -> None:
    """What actions/checkout leaves (a depth-1 clone of the branch), then the step's shell."""
    clone = tmp_path / "checkout"
    _git(tmp_path, "clone", "-q", "--depth=1", "--branch", "payments", f"file://{platform}",
         str(clone))
    shim = tmp_path / "bin" / "kubegen"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m kubegen "$@"\n')
    shim.chmod(0o755)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier steps' summary\n")
    workflow = yaml.safe_load(WORKFLOWS[0].read_text(encoding="utf-8"))
    env = {
        **os.environ,
        "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),
        "STACKS": workflow["env"]["STACKS"],
        "GITHUB_BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _review_step(WORKFLOWS[0])["run"]],
        cwd=clone, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    assert text.startswith("earlier steps' summary\n## kubegen review\n")
    assert "> shallow clone: the merge base of HEAD and origin/main is not in it" in text
    assert "| prod | shop | 1 new permission (1 on secrets), 1 new egress to the internet" in text
    assert "| gitops | gitops | no changes |" in text
    assert text.count("<details>") == 2  # dev and prod changed


def test_the_review_names_a_real_change_in_a_real_process(platform) -> None:
    done = run_cli("review", "stacks/prod", "--fail-on", "new-egress", cwd=platform)
    assert done.returncode == 1
    assert "review: changes in new-egress (--fail-on)" in done.stderr


def test_every_fail_on_category_is_documented() -> None:
    from kubegen._review.model import CATEGORIES

    text = PAGE.read_text(encoding="utf-8")
    documented = re.findall(r"^\| `([a-z-]+)` \| ", text, re.M)
    assert documented == list(CATEGORIES)
