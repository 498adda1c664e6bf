"""The library API: load a stack, render, lint, check a folder, write atomically; one gate.

Every entry point that produces files (``render``, ``check``, ``write``, the CLI) refuses what
``kubegen render`` refuses, before touching anything; ``lint`` reports; ``Stack.objects()`` is the
ungated build step and says so in its docstring.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kubegen
from kubegen import (
    CheckResult,
    Deployment,
    FluxKustomization,
    OutputError,
    PolicyError,
    Severity,
    Stack,
    StackLoadError,
    WriteResult,
    check,
    lint,
    load_stack,
    render,
    write,
)
from kubegen._pipeline import plan
from tests.helpers import run_cli, snapshot_tree, write_stack

ROOT = Path(__file__).resolve().parents[1]


def _stack() -> Stack:
    stack = Stack("shop", namespace="shop")
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))
    return stack


def _refused() -> Stack:
    stack = Stack("shop", namespace="shop", profile="prod")
    stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))  # prod wants a digest
    return stack


@pytest.mark.parametrize("env", ["dev", "prod", "gitops"])
def test_render_is_what_the_cli_writes(env: str):
    expected = plan(ROOT / "stacks" / env).files
    rendered = render(load_stack(ROOT / "stacks" / env))
    assert list(rendered) == list(expected)
    assert {path: text.encode() for path, text in rendered.items()} == expected


def test_load_stack_takes_str_and_path_and_locates_failures(tmp_path: Path):
    assert isinstance(load_stack(str(ROOT / "stacks" / "prod")), Stack)
    with pytest.raises(StackLoadError, match="does not exist"):
        load_stack(tmp_path / "stacks" / "nowhere")
    write_stack(tmp_path, "broken", "def build():\n    return 42\n")
    with pytest.raises(StackLoadError, match=r"build\(\) returned int, not a Stack"):
        load_stack(tmp_path / "stacks" / "broken")


def test_render_refuses_what_the_gate_refuses():
    assert "shop/deployment-api.yaml" in render(_stack())  # restricted: renders
    with pytest.raises(PolicyError) as err:
        render(_refused())
    assert "Deployment shop/api" in str(err.value)


def test_lint_reports_with_the_stacks_profile_unless_overridden():
    report = lint(_refused())
    assert report.profile == "prod" and not report.ok
    assert any(f.severity is Severity.ERROR for f in report.errors)
    relaxed = lint(_refused(), profile="baseline")
    assert relaxed.profile == "baseline"
    assert len(relaxed.errors) < len(report.errors)


def test_check_of_the_committed_output_is_ok():
    result = check(load_stack(ROOT / "stacks" / "prod"), ROOT / "output" / "prod")
    assert isinstance(result, CheckResult)
    assert result.ok and result.diff == ""
    assert not (result.created or result.changed or result.removed)
    assert "kustomization.yaml" in result.unchanged
    assert result.summary() == f"0 created, 0 changed, 0 removed, {len(result.unchanged)} unchanged"
    assert result.report.profile == "prod" and result.report.ok


def test_check_reports_drift_with_a_diff_and_writes_nothing(tmp_path: Path):
    folder = tmp_path / "output" / "prod"
    shutil.copytree(ROOT / "output" / "prod", folder)
    edited = folder / "shop" / "configmap-api.yaml"
    edited.write_text(edited.read_text().replace("  namespace: shop\n", "  namespace: sh0p\n"))
    (folder / "shop" / "notes.txt").write_text("mine\n")  # not kubegen's: ignored
    (folder / "_cluster" / "namespace-shop.yaml").unlink()
    before = snapshot_tree(folder)
    result = check(load_stack(ROOT / "stacks" / "prod"), folder)
    assert not result.ok
    assert result.changed == ("shop/configmap-api.yaml",)
    assert result.created == ("_cluster/namespace-shop.yaml",)
    assert result.removed == ()
    assert f"--- a/{folder.as_posix()}/shop/configmap-api.yaml" in result.diff
    assert "\n-  namespace: sh0p\n+  namespace: shop\n" in result.diff
    assert snapshot_tree(folder) == before
    missing = check(_stack(), tmp_path / "nowhere")
    assert not missing.ok and "shop/deployment-api.yaml" in missing.created


def test_write_is_render_then_check_is_ok(tmp_path: Path):
    folder = tmp_path / "out"
    first = write(_stack(), folder)
    assert isinstance(first, WriteResult) and first.wrote
    assert set(first.created) == set(render(_stack())) and not first.unchanged
    assert {p: t.encode() for p, t in render(_stack()).items()} == snapshot_tree(folder)
    assert check(_stack(), folder).ok
    again = write(_stack(), folder)
    assert not again.wrote and set(again.unchanged) == set(first.created)
    smaller = Stack("shop", namespace="shop")
    (folder / "keep.txt").write_text("mine\n")
    pruned = write(smaller, folder)
    assert "shop/deployment-api.yaml" in pruned.removed
    assert (folder / "keep.txt").read_text() == "mine\n"  # never touched
    assert not (folder / "shop" / "deployment-api.yaml").exists()


def test_check_and_write_apply_the_gate_before_touching_the_folder(tmp_path: Path):
    folder = tmp_path / "out"
    write(_stack(), folder)
    before = snapshot_tree(folder)
    for call in (check, write):
        with pytest.raises(PolicyError) as err:
            call(_refused(), folder)
        assert "Deployment shop/api" in str(err.value)
    assert snapshot_tree(folder) == before


def test_every_entry_point_applies_the_same_gate(tmp_path: Path):
    """The CLI, render, check and write refuse the same stack; lint says why; objects() is the
    ungated build step."""
    write_stack(tmp_path, "prod", """
        from kubegen import Deployment, Stack

        def build():
            stack = Stack("shop", namespace="shop", profile="prod")
            stack.add(Deployment("api", image="ghcr.io/acme/api:1.0"))
            return stack
    """)
    cli = run_cli("render", "stacks/prod", cwd=tmp_path)
    assert cli.returncode == 2 and "Deployment shop/api" in cli.stderr
    stack = load_stack(tmp_path / "stacks" / "prod")
    assert not lint(stack).ok
    assert any(o.kind == "Deployment" for o in stack.objects())  # built, not checked
    for call in (render, lambda s: check(s, tmp_path / "output/prod"),
                 lambda s: write(s, tmp_path / "output/prod")):
        with pytest.raises(PolicyError):
            call(stack)
    assert not (tmp_path / "output").exists()
    assert "not" in (Stack.objects.__doc__ or "") and "gate" in (Stack.objects.__doc__ or "")


def test_write_refuses_a_gitops_object_that_deploys_its_own_folder(tmp_path: Path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    stack = Stack("gitops")
    stack.add(FluxKustomization("boot", source="flux-system", path="./output/gitops"))
    assert "flux-system/kustomization-boot.yaml" in render(stack)  # no folder, no such check
    for call in (check, write):
        with pytest.raises(OutputError, match="would be rendered into output/gitops"):
            call(stack, tmp_path / "output" / "gitops")
    assert not (tmp_path / "output").exists()


def test_the_api_is_public():
    for name in ("load_stack", "render", "lint", "check", "write", "CheckResult", "WriteResult"):
        assert name in kubegen.__all__
