"""The shipped CI files follow their published schemas, run the commands they claim, and name
stacks that exist.

Schemas: SchemaStore's github-workflow.json, pre-commit-hooks.json and pre-commit-config.json,
vendored in tests/data/schemastore/ (source and commit in tests/data/README.md). Files are read as
YAML 1.2, as GitHub and pre-commit read them (PyYAML's YAML 1.1 turns the key ``on`` into True).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from ruamel.yaml import YAML

from tests.helpers import REPO, run_cli, write_stack

SCAFFOLD = REPO / "kubegen/_cli/scaffold"
WORKFLOWS = [REPO / ".github/workflows/kubegen.yml", SCAFFOLD / "kubegen.yml.tmpl"]
SCHEMAS = REPO / "tests/data/schemastore"
# The current major of each action kubegen's workflows use (their repositories' tags, 2026-07:
# checkout v7.0.1 and setup-python v7.0.0 run on node24; codeql-action v4 replaced v3, which
# GitHub deprecated with Node 20).
ACTIONS = {
    "actions/checkout": "v7",
    "actions/setup-python": "v7",
    "github/codeql-action/upload-sarif": "v4",
}


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return schema


def _validator(name: str) -> jsonschema.protocols.Validator:
    """A validator for one SchemaStore schema, resolving references between the vendored ones."""
    registry: Registry[Any] = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema))
        for schema in map(_schema, sorted(p.name for p in SCHEMAS.glob("*.json")))
    )
    schema = _schema(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry)  # type: ignore[call-arg]


def _yaml12(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def _errors(name: str, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in _validator(name).iter_errors(document)
    ]


@pytest.mark.parametrize(
    "path",
    [*sorted((REPO / ".github/workflows").glob("*.y*ml")), SCAFFOLD / "kubegen.yml.tmpl"],
    ids=lambda p: p.relative_to(REPO).as_posix(),
)
def test_workflows_follow_the_github_workflow_schema(path: Path):
    assert _errors("github-workflow.json", _yaml12(path)) == []


def test_pre_commit_hooks_follow_the_pre_commit_hooks_schema():
    assert _errors("pre-commit-hooks.json", _yaml12(REPO / ".pre-commit-hooks.yaml")) == []


def test_scaffold_pre_commit_config_follows_the_pre_commit_config_schema():
    config = _yaml12(SCAFFOLD / "pre-commit-config.yaml.tmpl")
    assert _errors("pre-commit-config.json", config) == []


def test_the_schemas_catch_mistakes():
    """The validators are live: the misspellings users make are refused."""
    workflow = _yaml12(WORKFLOWS[0])
    (job,) = workflow["jobs"].values()
    job["runs_on"] = job.pop("runs-on")
    assert _errors("github-workflow.json", workflow)
    hooks = _yaml12(REPO / ".pre-commit-hooks.yaml")
    hooks[0]["pass_filenames"] = "no"
    assert _errors("pre-commit-hooks.json", hooks)
    del hooks[0]["entry"]
    assert any("'entry' is a required property" in e for e in _errors("pre-commit-hooks.json",
                                                                       hooks))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_use_the_current_major_of_each_action(path: Path):
    uses = [step["uses"] for step in _steps(_load(path)) if "uses" in step]
    assert set(ACTIONS) <= {use.split("@")[0] for use in uses}
    for use in uses:  # a new action joins ACTIONS with its current major, checked upstream
        name, _, ref = use.partition("@")
        assert ACTIONS.get(name) == ref, f"{path.name}: {use} is not the current {ACTIONS}"


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
    assert uses[:2] == ["actions/checkout@v7", "actions/setup-python@v7"]
    runs = _runs(workflow)
    assert runs[0] == "python -m pip install ."
    assert "kubegen check --full $STACKS" in runs  # a pull request can forge cache digests
    assert "kubegen lint $STACKS --format sarif > kubegen.sarif" in runs
    upload = next(s for s in _steps(workflow) if "upload-sarif" in s.get("uses", ""))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
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
    files = re.compile(hook["files"])  # pre-commit: re.search on paths from the repo root
    for path in ("stacks/prod/__init__.py", "output/prod/x.yaml", "pyproject.toml",
                 "platform/stacks/prod/__init__.py", "deploy/k8s/output/prod/a.yaml",
                 "platform/pyproject.toml"):
        assert files.search(path), path
    for path in ("README.md", "src/mystacks.py", "docs/output.md", "pyproject.toml.bak"):
        assert not files.search(path), path


@pytest.mark.slow
def test_pre_commit_hook_checks_a_project_in_a_subfolder(tmp_path: Path):
    """What pre-commit does with the hook in a monorepo: from the repository root, run the
    entry with the args when a staged path matches ``files``."""
    (hook,) = _load(REPO / ".pre-commit-hooks.yaml")
    project = tmp_path / "platform"
    project.mkdir()
    write_stack(project, "prod", """
        from kubegen import ConfigMap, Stack

        def build():
            stack = Stack("shop", namespace="shop")
            stack.add(ConfigMap("settings", data={"LOG_LEVEL": "info"}))
            return stack
    """)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    args = ["platform/stacks/prod"]
    command, *entry_args = shlex.split(hook["entry"])
    assert command == "kubegen"
    rendered = run_cli("render", *args, cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert (project / "output/prod/kustomization.yaml").is_file()
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    staged = subprocess.run(["git", "-C", str(tmp_path), "diff", "--cached", "--name-only"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert any(re.search(hook["files"], path) for path in staged)  # the hook is not skipped
    current = run_cli(*entry_args, *args, cwd=tmp_path)
    assert current.returncode == 0, current.stdout + current.stderr
    stack_file = project / "stacks/prod/__init__.py"
    stack_file.write_text(stack_file.read_text().replace('"info"', '"debug"'))
    stale = run_cli(*entry_args, *args, cwd=tmp_path)
    assert stale.returncode == 1
    assert "platform/output/prod/shop/configmap-settings.yaml" in stale.stdout


def test_scaffold_pre_commit_config_runs_the_same_check():
    config = _load(SCAFFOLD / "pre-commit-config.yaml.tmpl")
    (repo,) = config["repos"]
    (hook,) = repo["hooks"]
    shipped = _load(REPO / ".pre-commit-hooks.yaml")[0]
    assert hook["id"] == shipped["id"] and hook["files"] == shipped["files"]
    assert hook["entry"] == "kubegen check stacks/dev stacks/prod"
    assert hook["pass_filenames"] is False


FAKE_GH = r'''#!/usr/bin/env python3
"""A stand-in for the GitHub CLI: logs each call; `gh api .../comments --jq ...` answers from
comments.json, applying the step's startswith() filter."""
import json, re, sys
from pathlib import Path
args = sys.argv[1:]
with open("gh-calls.log", "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] == ["api"] and args[1].endswith("/comments") and "--jq" in args:
    marker = re.search(r'startswith\("(.*?)"\)', args[args.index("--jq") + 1]).group(1)
    for comment in json.loads(Path("comments.json").read_text()):
        if comment["body"].startswith(marker):
            print(comment["id"])
'''


def _comment_step(path: Path) -> dict[str, Any]:
    name = "Review comment on the pull request"
    return next(step for step in _steps(_load(path)) if step.get("name") == name)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
@pytest.mark.parametrize("existing", ["none", "ours", "others"])
def test_the_review_comment_is_one_comment_kept_up_to_date(
    path: Path, existing: str, tmp_path: Path
) -> None:
    step = _comment_step(path)
    assert step["continue-on-error"] is True  # a fork's read-only token must not fail the job
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    (job,) = _load(path)["jobs"].values()
    assert job["permissions"]["pull-requests"] == "write"
    comments = {
        "none": [],
        "ours": [{"id": 7, "body": "looks good"},
                 {"id": 42, "body": "<!-- kubegen review -->\nold"}],
        "others": [{"id": 9, "body": "## Coverage report"}],
    }[existing]
    (tmp_path / "comments.json").write_text(json.dumps(comments))
    (tmp_path / "kubegen-review.md").write_text("## kubegen review\n\nprod: 1 new flow\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PR": "12",
           "GITHUB_REPOSITORY": "acme/platform", "GH_TOKEN": "token"}
    subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env, check=True)
    calls = [json.loads(line) for line in (tmp_path / "gh-calls.log").read_text().splitlines()]
    assert calls[0][:2] == ["api", "repos/acme/platform/issues/12/comments"]
    if existing == "ours":
        assert calls[1][:4] == [
            "api", "--method", "PATCH", "repos/acme/platform/issues/comments/42"]
    else:
        assert calls[1] == ["pr", "comment", "12", "--body-file", "kubegen-comment.md"]
    assert len(calls) == 2
    body = (tmp_path / "kubegen-comment.md").read_text()
    assert body == "<!-- kubegen review -->\n## kubegen review\n\nprod: 1 new flow\n"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_comment_when_the_review_itself_failed(path: Path, tmp_path: Path) -> None:
    (tmp_path / "kubegen-review.md").write_text("")
    env = {**os.environ, "PATH": "/nonexistent", "PR": "12"}  # no gh: it must not be called
    subprocess.run(["/bin/bash", "-e", "-c", _comment_step(path)["run"]], cwd=tmp_path, env=env,
                   check=True)
    assert not (tmp_path / "kubegen-comment.md").exists()


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_review_step_keeps_its_exit_code_and_fills_the_summary(
    path: Path, tmp_path: Path
) -> None:
    step = next(s for s in _steps(_load(path)) if s.get("id") == "review")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubegen").write_text("#!/bin/sh\necho '## review'\nexit 1\n")  # --fail-on hit
    (bin_dir / "kubegen").chmod(0o755)
    summary = tmp_path / "summary.md"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "GITHUB_STEP_SUMMARY": str(summary), "STACKS": "stacks/prod"}
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert summary.read_text() == "## review\n"
