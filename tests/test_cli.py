"""The CLI end to end: render, check, diff, and every user error, through real processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from kubegen._cli.app import app
from tests.helpers import run_cli, snapshot_tree, write_stack

GOOD = """
from kubegen import ConfigMap, Stack

def build():
    stack = Stack("demo", namespace="demo")
    stack.add(ConfigMap("settings", data={"MODE": "{mode}"}))
    stack.add(ConfigMap("extra", data={"X": "1"}))
    return stack
"""


def _good(mode: str = "fast", extra: bool = True) -> str:
    body = GOOD.replace("{mode}", mode)
    extra_line = '    stack.add(ConfigMap("extra", data={"X": "1"}))\n'
    return body if extra else body.replace(extra_line, "")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_stack(tmp_path, "prod", _good())
    return tmp_path


def test_render_writes_files_and_reports_each_stack(project: Path):
    result = run_cli("render", "stacks/prod", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "prod: output/prod: 6 created, 0 changed, 0 removed, 0 unchanged\n"
    assert sorted(snapshot_tree(project / "output/prod")) == [
        "_cluster/namespace-demo.yaml",
        "demo/configmap-extra.yaml",
        "demo/configmap-settings.yaml",
        "demo/networkpolicy-allow-dns.yaml",
        "demo/networkpolicy-default-deny.yaml",
        "kustomization.yaml",
    ]
    again = run_cli("render", "stacks/prod", cwd=project)
    assert again.stdout == "prod: output/prod: 0 created, 0 changed, 0 removed, 6 unchanged\n"


def test_check_and_diff_report_drift(project: Path):
    assert run_cli("render", "stacks/prod", cwd=project).returncode == 0
    ok = run_cli("check", "stacks/prod", cwd=project)
    assert (ok.returncode, ok.stdout) == (0, "up to date: 1 stack\n")

    write_stack(project, "prod", _good(mode="slow", extra=False))
    stale = run_cli("check", "stacks/prod", cwd=project)
    assert stale.returncode == 1
    assert "-  MODE: fast\n+  MODE: slow\n" in stale.stdout
    assert "--- a/output/prod/demo/configmap-settings.yaml\n" in stale.stdout  # git-apply paths
    assert "--- a/output/prod/demo/configmap-extra.yaml\n+++ /dev/null\n" in stale.stdout
    assert (
        "prod: output/prod is not what stacks/prod renders: 2 changed "
        "(demo/configmap-settings.yaml, kustomization.yaml), 1 no longer rendered "
        "(demo/configmap-extra.yaml); "
    ) in stale.stderr
    diff = run_cli("diff", "stacks/prod", cwd=project)
    assert (diff.returncode, diff.stdout) == (0, stale.stdout)
    # neither check nor diff wrote anything
    assert b"MODE: fast" in (project / "output/prod/demo/configmap-settings.yaml").read_bytes()


def test_prune_removes_only_what_kubegen_wrote(project: Path):
    run_cli("render", "stacks/prod", cwd=project)
    hand_made = project / "output/prod/demo/notes.yaml"
    hand_made.write_text("kind: Note\n")
    write_stack(project, "prod", _good(extra=False))
    result = run_cli("render", "stacks/prod", cwd=project)
    assert result.stdout == "prod: output/prod: 0 created, 1 changed, 1 removed, 4 unchanged\n"
    assert not (project / "output/prod/demo/configmap-extra.yaml").exists()
    assert hand_made.read_text() == "kind: Note\n"


def test_prune_removes_folders_it_empties(tmp_path: Path):
    write_stack(tmp_path, "prod", _good().replace(
        'stack.add(ConfigMap("extra", data={"X": "1"}))',
        'stack.add(ConfigMap("extra", namespace="other", data={"X": "1"}))'))
    run_cli("render", "stacks/prod", cwd=tmp_path)
    assert (tmp_path / "output/prod/other").is_dir()
    write_stack(tmp_path, "prod", _good(extra=False))
    run_cli("render", "stacks/prod", cwd=tmp_path)
    assert not (tmp_path / "output/prod/other").exists()


def test_object_rendering_onto_a_hand_made_file_is_refused(project: Path):
    (project / "output/prod/demo").mkdir(parents=True)
    mine = project / "output/prod/demo/configmap-settings.yaml"
    mine.write_text("# mine\n")
    result = run_cli("render", "stacks/prod", cwd=project)
    assert result.returncode == 2
    said = "output/prod/demo/configmap-settings.yaml is a file kubegen did not write"
    assert said in result.stderr and "kubegen never writes over it" in result.stderr
    assert mine.read_text() == "# mine\n"
    assert not (project / "output/prod/kustomization.yaml").exists()
    checked = run_cli("check", "stacks/prod", cwd=project)  # says the same, never "refusing"
    assert checked.returncode == 2 and said in checked.stderr
    assert "refus" not in checked.stderr and "Fix: move or delete it" in checked.stderr
    assert mine.read_text() == "# mine\n"


def test_failing_stack_leaves_output_byte_for_byte(project: Path):
    run_cli("render", "stacks/prod", cwd=project)
    before = snapshot_tree(project / "output")
    write_stack(project, "prod", _good().replace(
        "    return stack", "    stack.add(ConfigMap('late'))\n    raise RuntimeError('boom')"))
    result = run_cli("render", "stacks/prod", cwd=project)
    assert result.returncode == 2
    assert "stacks/prod/__init__.py:8: build() raised: RuntimeError: boom" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot_tree(project / "output") == before


def test_all_stacks_build_before_any_is_written(project: Path):
    write_stack(project, "broken", "def build():\n    return 42\n")
    result = run_cli("render", "stacks/prod", "stacks/broken", cwd=project)
    assert result.returncode == 2
    assert "build() returned int, not a Stack" in result.stderr
    assert "stacks/broken/__init__.py:1" in result.stderr
    assert not (project / "output").exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("def build(:\n    pass\n", "stacks/bad/__init__.py:1: syntax error"),
        ("import not_a_module_anywhere\n", "stacks/bad/__init__.py:1: importing the stack raised:"
         " ModuleNotFoundError: No module named 'not_a_module_anywhere'"),
        ("x = 1\n", "defines no build() function"),
        ("def build():\n    return build()\n", "stacks/bad/__init__.py:2: build() recursed too"),
        ("from kubegen import ConfigMap, Stack\n\ndef build():\n    s = Stack('s')\n"
         "    s.add(ConfigMap('Nope!'))\n    return s\n",
         "stacks/bad/__init__.py:5: ConfigMap Nope!: field 'name' = 'Nope!': must be a DNS-1123"),
        ("from kubegen import ConfigMap, Stack\n\ndef build():\n    s = Stack('s', namespace='s')\n"
         "    s.add(ConfigMap('a'))\n    s.add(ConfigMap('a'))\n    return s\n",
         "stacks/bad/__init__.py:6: ConfigMap s/a: is defined twice (first defined at "
         "stacks/bad/__init__.py:5)"),
    ],
    ids=["syntax", "import", "no-build", "recursion", "invalid-name", "duplicate"],
)
def test_user_errors_are_one_message_with_file_and_line(tmp_path: Path, body: str, expected: str):
    write_stack(tmp_path, "bad", body)
    result = run_cli("render", "stacks/bad", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "Fix: " in result.stderr


def test_missing_stack_path_lists_the_stacks_that_exist(project: Path):
    result = run_cli("check", "stacks/prd", cwd=project)
    assert result.returncode == 2
    assert "stack path stacks/prd does not exist; stacks in stacks: prod" in result.stderr


def test_debug_shows_the_traceback(tmp_path: Path):
    write_stack(tmp_path, "bad", "def build():\n    return 1\n")
    result = run_cli("--debug", "render", "stacks/bad", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback (most recent call last)" in result.stderr


def test_out_overrides_the_folder_for_one_stack(project: Path):
    result = run_cli("render", "stacks/prod", "--out", "elsewhere", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (project / "elsewhere/kustomization.yaml").is_file()
    assert not (project / "output").exists()
    both = run_cli("render", "stacks/prod", "stacks/prod", "--out", "x", cwd=project)
    assert both.returncode == 2 and "--out names one folder" in both.stderr


def test_tool_kubegen_output_setting_and_project_root(project: Path):
    (project / "pyproject.toml").write_text('[tool.kubegen]\noutput = "deploy"\n')
    sub = project / "stacks"
    result = run_cli("render", "prod", cwd=sub)  # run from a subfolder: root is found upward
    assert result.returncode == 0, result.stderr
    assert (project / "deploy/prod/kustomization.yaml").is_file()


def test_stack_file_module_and_sibling_imports(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("")
    stacks = tmp_path / "stacks"
    (stacks / "common").mkdir(parents=True)
    (stacks / "common/__init__.py").write_text(
        "from kubegen import ConfigMap\n\ndef settings(env):\n"
        "    return ConfigMap('settings', data={'ENV': env})\n")
    (stacks / "staging.py").write_text(
        "from common import settings\nfrom kubegen import Stack\n\ndef build():\n"
        "    s = Stack('app', namespace='app')\n    s.add(settings('staging'))\n    return s\n")
    result = run_cli("render", "stacks/staging.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"ENV: staging" in (tmp_path / "output/staging/app/configmap-settings.yaml").read_bytes()


def test_cli_runner_in_process(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)
    runner = CliRunner()
    result = runner.invoke(app, ["render", "stacks/prod"])
    assert result.exit_code == 0, result.output
    assert "6 created" in result.output
    result = runner.invoke(app, ["check", "stacks/prod"])
    assert result.exit_code == 0
    result = runner.invoke(app, ["check", "stacks/nope"])
    assert result.exit_code == 2


def test_two_stacks_rendering_into_one_folder_are_refused(tmp_path: Path):
    write_stack(tmp_path, "prod", _good())
    other = tmp_path / "other"
    other.mkdir()
    write_stack(other, "prod", _good(mode="other"))
    (other / "pyproject.toml").unlink()  # same project root: both would go to output/prod
    result = run_cli("render", "stacks/prod", "other/stacks/prod", cwd=tmp_path)
    assert result.returncode == 2
    assert "both render into" in result.stderr
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize(
    ("args", "message", "fix"),
    [
        (("render", "--bogus", "stacks/prod"), "No such option: --bogus",
         "run `kubegen render --help` for its options and arguments"),
        (("lint", "stacks/prod", "--format"), "Option '--format' requires an argument.",
         "run `kubegen lint --help` for its options and arguments"),
        (("rendr", "stacks/prod"), "No such command 'rendr'.",
         "run `kubegen --help` for its options and arguments"),
        (("render",), "Missing argument 'paths'.",
         "run `kubegen render --help` for its options and arguments"),
    ],
)  # fmt: skip
def test_a_usage_mistake_is_one_error_line_with_a_fix(project: Path, args, message, fix):
    """Like every other failure: ``error: ...`` and ``Fix: ...``, exit 2, no usage dump."""
    result = run_cli(*args, cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {message}"), result.stderr
    assert result.stderr.endswith(f"\n  Fix: {fix}\n"), result.stderr
    assert len(result.stderr.splitlines()) == 2 and result.stdout == ""
    assert not (project / "output").exists()
