"""The shipped CI files parse, run the commands they claim, and name stacks that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import REPO, run_cli

SCAFFOLD = REPO / "kubegen/_cli/scaffold"
WORKFLOWS = [REPO / ".github/workflows/kubegen.yml", SCAFFOLD / "kubegen.yml.tmpl"]


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return list(job["steps"])


def _runs(workflow: dict[str, Any]) -> list[str]:
    return [step["run"] for step in _steps(workflow) if "run" in step]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_checks_lints_and_uploads_sarif(path: Path):
    workflow = _load(path)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert set(triggers) == {"push", "pull_request"}
    uses = [step.get("uses", "") for step in _steps(workflow)]
    assert uses[:2] == ["actions/checkout@v4", "actions/setup-python@v5"]
    runs = _runs(workflow)
    assert runs[0] == "python -m pip install ."
    assert "kubegen check $STACKS" in runs
    assert "kubegen lint $STACKS --format sarif > kubegen.sarif" in runs
    upload = next(s for s in _steps(workflow) if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v3"
    assert upload["with"]["sarif_file"] == "kubegen.sarif"
    assert "hashFiles('kubegen.sarif')" in upload["if"]  # uploads even when lint failed
    (job,) = workflow["jobs"].values()
    assert job["permissions"]["security-events"] == "write"


def test_repository_workflow_checks_every_env_stack_and_they_are_current():
    stacks = shlex.split(_load(WORKFLOWS[0])["env"]["STACKS"])
    env_stacks = sorted(
        f"stacks/{p.parent.name}"
        for p in (REPO / "stacks").glob("*/__init__.py")
        if re.search(r"^def build\(", p.read_text(encoding="utf-8"), re.M)
    )
    assert sorted(stacks) == env_stacks
    result = run_cli("check", *stacks, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr


def test_scaffold_workflow_checks_the_scaffolded_stacks():
    assert _load(WORKFLOWS[1])["env"]["STACKS"] == "stacks/dev stacks/prod"


def test_pre_commit_hook_definition():
    (hook,) = _load(REPO / ".pre-commit-hooks.yaml")
    assert hook["id"] == "kubegen-check"
    assert hook["entry"] == "kubegen check"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("stacks/prod/__init__.py") and files.search("output/prod/x.yaml")
    assert not files.search("README.md") and not files.search("docs/stacks/x.md")


def test_scaffold_pre_commit_config_runs_the_same_check():
    config = _load(SCAFFOLD / "pre-commit-config.yaml.tmpl")
    (repo,) = config["repos"]
    (hook,) = repo["hooks"]
    shipped = _load(REPO / ".pre-commit-hooks.yaml")[0]
    assert hook["id"] == shipped["id"] and hook["files"] == shipped["files"]
    assert hook["entry"] == "kubegen check stacks/dev stacks/prod"
    assert hook["pass_filenames"] is False
