"""``kubegen lint | explain | rules`` and the render gate, through real processes and CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner, Result

from kubegen._cli.app import app
from kubegen._policy import all_rules
from tests.helpers import run_cli, snapshot_tree, write_stack
from tests.policy_factories import good_bodies

SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())


def stack_source(
    bodies: list[dict[str, Any]], extra: str = "", *, admits_all: bool = False
) -> str:
    """A stack module adding ``bodies`` as raw Manifests (the Stack makes the Namespace).

    ``admits_all``: the Namespace is declared ``privileged`` (KG603, waived by its reason), so
    Pod Security Admission lets any pod in and kubegen's rules alone judge the objects.
    """
    namespace = (
        "    stack.add(Namespace('shop', pod_security='privileged', reason='a lab'))\n"
        if admits_all else ""
    )
    return f"""
import json
from kubegen import Manifest, Namespace, Stack

BODIES = json.loads({json.dumps(json.dumps(bodies))})

def build():
    stack = Stack("shop", namespace="shop")
    for body in BODIES:
        stack.add(Manifest(body))
{namespace}{extra}
    return stack
"""


def good() -> list[dict[str, Any]]:
    """The good objects minus those the Stack derives itself (Namespace, default-deny)."""
    return [b for b in good_bodies() if b["kind"] not in ("Namespace", "NetworkPolicy")]


def privileged() -> list[dict[str, Any]]:
    bodies = good()
    deployment = next(b for b in bodies if b["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = True
    return bodies


def no_cpu_limit() -> list[dict[str, Any]]:
    bodies = good()
    deployment = next(b for b in bodies if b["kind"] == "Deployment")
    del deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"]
    return bodies


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_stack(tmp_path, "good", stack_source(good()))
    write_stack(tmp_path, "bad", stack_source(privileged(), admits_all=True))
    return tmp_path


@pytest.mark.slow
def test_lint_clean_stack_exits_0(project: Path) -> None:
    result = run_cli("lint", "stacks/good", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("No findings.\n")
    assert "(profile restricted, Kubernetes 1.33)" in result.stdout


@pytest.mark.slow
def test_lint_errors_exit_1_with_findings_and_stack_line(project: Path) -> None:
    result = run_cli("lint", "stacks/bad", cwd=project)
    assert result.returncode == 1
    assert "Deployment shop/api  (stacks/bad/__init__.py:9)" in result.stdout
    assert "error   KG102  spec.template.spec.containers[0].securityContext.privileged:" in (
        result.stdout
    )
    assert "fix: Remove securityContext.privileged" in result.stdout


def invoke(project: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """Run the CLI in this process (CliRunner), from the project folder."""
    monkeypatch.chdir(project)
    return CliRunner().invoke(app, list(args))


def test_lint_json_and_sarif_formats(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = invoke(project, monkeypatch, "lint", "--format", "json", "stacks/bad")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["stack"] == "bad" and document["ok"] is False
    assert {f["ruleId"] for f in document["findings"] if not f["waived"]} == {"KG102"}

    result = invoke(project, monkeypatch, "lint", "-f", "sarif", "stacks/good", "stacks/bad")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (run,) = log["runs"]  # one run per invocation, whatever the number of stacks
    assert [s["name"] for s in run["properties"]["stacks"]] == ["good", "bad"]
    assert [s["path"] for s in run["properties"]["stacks"]] == ["stacks/good", "stacks/bad"]
    # bad: KG102 (privileged) open; KG603 (the lab namespace's level) waived by its reason,
    # so reported at note level for code scanning.
    assert sorted((r["properties"]["stack"], r["ruleId"], r["level"]) for r in run["results"]) == [
        ("bad", "KG102", "error"),
        ("bad", "KG603", "note"),
    ]


@pytest.mark.parametrize("cwd", ["repository root", "project folder"])
def test_sarif_uris_are_relative_to_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cwd: str
) -> None:
    """kubegen's project is a subfolder of the git repository (a monorepo)."""
    (tmp_path / ".git").mkdir()
    project = tmp_path / "deploy" / "platform"
    project.mkdir(parents=True)
    write_stack(project, "bad", stack_source(privileged(), admits_all=True))
    if cwd == "repository root":
        result = invoke(tmp_path, monkeypatch, "lint", "-f", "sarif", "deploy/platform/stacks/bad")
    else:
        result = invoke(project, monkeypatch, "lint", "-f", "sarif", "stacks/bad")
    log = json.loads(result.stdout)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)
    (finding,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "KG102"]
    physical = finding["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == "deploy/platform/stacks/bad/__init__.py"
    assert physical["region"]["startLine"] == 9  # stack.add(Manifest(body))


def test_lint_profile_and_version_overrides(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies = good()
    next(b for b in bodies if b["kind"] == "Deployment")["spec"]["replicas"] = 1
    write_stack(project, "single", stack_source(bodies))
    assert invoke(project, monkeypatch, "lint", "stacks/single").exit_code == 0
    prod = invoke(project, monkeypatch, "lint", "--profile", "prod", "stacks/single")
    assert prod.exit_code == 1 and "KG701" in prod.stdout
    old = invoke(project, monkeypatch, "lint", "--kubernetes-version", "1.29", "stacks/good")
    assert old.exit_code == 0 and "Kubernetes 1.29" in old.stdout
    bad = invoke(project, monkeypatch, "lint", "--profile", "strict", "stacks/good")
    assert bad.exit_code == 2 and "unknown policy profile" in bad.output


@pytest.mark.slow
def test_render_refuses_errors_and_leaves_output_untouched(project: Path) -> None:
    assert run_cli("render", "stacks/good", cwd=project).returncode == 0
    before = snapshot_tree(project / "output")
    result = run_cli("render", "stacks/bad", "stacks/good", cwd=project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Unable to render: 1 error-level policy finding remain" in result.stderr
    assert "KG102" in result.stderr and "Fix:" in result.stderr
    assert snapshot_tree(project / "output") == before
    assert not (project / "output" / "bad").exists()


@pytest.mark.slow
def test_render_with_waiver_writes_annotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waive = '    stack.waive("KG204", reason="latency-sensitive; requests sized for peak")'
    write_stack(tmp_path, "prod", stack_source(no_cpu_limit(), waive))
    result = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "policy: 0 errors, 0 warnings, 0 notes, 1 waived" in result.stderr
    deployment = (tmp_path / "output/prod/shop/deployment-api.yaml").read_text()
    assert 'kubegen.dev/waive-kg204: "latency-sensitive; requests sized for peak"' in deployment
    assert invoke(tmp_path, monkeypatch, "check", "stacks/prod").exit_code == 0
    lint = invoke(tmp_path, monkeypatch, "lint", "stacks/prod")
    assert lint.exit_code == 0 and "waived  KG204" in lint.stdout


def test_unwaived_stack_without_cpu_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_stack(tmp_path, "prod", stack_source(no_cpu_limit()))
    result = invoke(tmp_path, monkeypatch, "render", "stacks/prod")
    assert result.exit_code == 2 and "KG204" in result.output
    assert not (tmp_path / "output").exists()


@pytest.mark.slow
def test_explain_in_a_real_process(tmp_path: Path) -> None:
    result = run_cli("explain", "KG105", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith("KG105 host-ports: ")
    assert "Checkov CKV_K8S_26" in result.stdout


def test_explain_and_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = invoke(tmp_path, monkeypatch, "explain", "KG15")
    assert unknown.exit_code == 2
    assert "did you mean" in unknown.output and "KG105" in unknown.output
    listing = invoke(tmp_path, monkeypatch, "rules")
    assert listing.exit_code == 0
    assert len(listing.stdout.splitlines()) == len(all_rules()) + 1


def test_cli_runner_in_process(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    runner = CliRunner()
    result = runner.invoke(app, ["lint", "-f", "json", "stacks/bad"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"]["error"] == 1
    result = runner.invoke(app, ["lint", "--format", "xml", "stacks/bad"])
    assert result.exit_code == 2 and "unknown --format 'xml'" in result.output
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0 and "KG801" in result.stdout
    result = runner.invoke(app, ["explain", "kg204"])
    assert result.exit_code == 0 and "stack.waive('KG204'" in result.stdout
