"""``kubegen vendor helm``: helm template output kept with provenance; hand edits are caught.

No real helm runs here: a fake ``helm`` on PATH records its arguments and prints a committed
``helm template`` output fixture (ingress-nginx's deploy.yaml, see tests/data/README.md).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from helpers import run_cli, write_stack
from typer.testing import CliRunner

from kubegen._cli.app import app
from kubegen._vendor.files import PROVENANCE_PREFIX, digest
from kubegen._vendor.helm import values_digest

FIXTURE = Path(__file__).parent / "data" / "vendor" / "ingress-nginx-controller-v1.15.1-deploy.yaml"


def _fake_helm(folder: Path, *, fail: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "helm"
    body = (
        "#!/bin/sh\n"
        f"printf '%s\\n' \"$@\" > '{folder}/args'\n"
        + ("echo 'Error: chart \"nope\" not found' >&2\nexit 1\n" if fail
           else f"cat '{FIXTURE}'\n")
    )
    script.write_text(body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "values.yaml").write_text("controller:\n  replicaCount: 2\n")
    write_stack(tmp_path, "edge", """
        from kubegen import Stack, Vendored

        def build():
            stack = Stack("edge", namespace="edge")
            nginx = stack.add(Vendored("vendor/ingress-nginx", source="https://kubernetes.github.io/ingress-nginx",
                                       version="4.15.1"))
            nginx.drop("Namespace", "ingress-nginx")
            return stack
        """)
    return tmp_path


def _env_with(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{path}{os.pathsep}{os.environ['PATH']}")


def test_vendor_helm_runs_helm_template_and_records_provenance(project, monkeypatch):
    bin_dir = _fake_helm(project / "bin")
    _env_with(bin_dir, monkeypatch)
    result = run_cli(
        "vendor", "helm", "ingress-nginx/ingress-nginx", "--version", "4.15.1",
        "--values", "values.yaml", "--out", "vendor/ingress-nginx", "--namespace", "ingress-nginx",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    assert "19 objects" in result.stdout
    args = (bin_dir / "args").read_text().split("\n")[:-1]
    assert args == [
        "template", "ingress-nginx", "ingress-nginx/ingress-nginx", "--version", "4.15.1",
        "--include-crds", "--namespace", "ingress-nginx", "--values", "values.yaml",
    ]
    written = (project / "vendor" / "ingress-nginx" / "manifests.yaml").read_text()
    head, second, body = written.split("\n", 2)
    assert head.startswith("# Vendored by kubegen")
    provenance = json.loads(second[len(PROVENANCE_PREFIX):])
    assert provenance == {
        "chart": "ingress-nginx/ingress-nginx", "version": "4.15.1", "release": "ingress-nginx",
        "namespace": "ingress-nginx", "repo": None, "tool": "helm template",
        "values": values_digest([project / "values.yaml"]), "content": digest(body),
    }
    assert body == FIXTURE.read_text()


def test_render_then_check_then_a_hand_edit_is_caught(project, monkeypatch):
    _env_with(_fake_helm(project / "bin"), monkeypatch)
    assert run_cli("vendor", "helm", "ingress-nginx", "--version", "4.15.1",
                   "--out", "vendor/ingress-nginx", cwd=project).returncode == 0
    rendered = run_cli("render", "stacks/edge", cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    assert (project / "output/edge/ingress-nginx/deployment-ingress-nginx-controller.yaml").exists()
    assert run_cli("check", "stacks/edge", cwd=project).returncode == 0
    manifests = project / "vendor" / "ingress-nginx" / "manifests.yaml"
    manifests.write_text(manifests.read_text().replace("replicas: 1", "replicas: 3", 1)
                         .replace("--election-id=ingress-nginx-leader", "--election-id=x"))
    checked = run_cli("check", "stacks/edge", cwd=project)
    assert checked.returncode == 1, checked.stderr  # drift, like stale output; not an error
    assert "stale: vendored input edited by hand in stacks/edge" in checked.stderr
    assert "manifests.yaml was edited by hand after kubegen vendored it" in checked.stderr
    assert "Fix: restore it (git checkout)" in checked.stderr
    assert "Run `kubegen render`" not in checked.stderr  # rendering would not help
    assert "Traceback" not in checked.stderr
    # render cannot proceed from it: an error (exit 2), as is a diff
    for command in ("render", "diff"):
        refused = run_cli(command, "stacks/edge", cwd=project)
        assert refused.returncode == 2 and "edited by hand" in refused.stderr, command
    # vendoring again is the fix, and so is a file added by hand caught
    assert run_cli("vendor", "helm", "ingress-nginx", "--version", "4.15.1",
                   "--out", "vendor/ingress-nginx", cwd=project).returncode == 0
    assert run_cli("check", "stacks/edge", cwd=project).returncode == 0
    (manifests.parent / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                 "  name: extra\n")
    checked = run_cli("check", "stacks/edge", cwd=project)
    assert checked.returncode == 1 and "was added by hand" in checked.stderr


def test_without_helm_the_command_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm there
    result = CliRunner().invoke(app, ["vendor", "helm", "x", "--version", "1", "--out", "v"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "helm is not installed" in result.output
    assert not (tmp_path / "v").exists()


def test_helm_errors_and_foreign_files_are_reported(tmp_path, monkeypatch):
    _env_with(_fake_helm(tmp_path / "bin", fail=True), monkeypatch)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["vendor", "helm", "nope", "--version", "1", "--out", "v"])
    assert result.exit_code == 2 and 'chart "nope" not found' in result.output
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "app.yaml").write_text("kind: ConfigMap\n")
    _env_with(_fake_helm(tmp_path / "bin2"), monkeypatch)
    result = runner.invoke(app, ["vendor", "helm", "x", "--version", "1", "--out", "mine"])
    assert result.exit_code == 2 and "which `kubegen vendor helm` did not write" in result.output
