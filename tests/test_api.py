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
    load_stacks,
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


@pytest.mark.parametrize("given", [None, 3, "stacks/prod", [Stack("a", namespace="a")]])
def test_lint_of_something_that_is_not_a_stack_says_so(given):
    with pytest.raises(StackLoadError) as err:
        lint(given)
    assert str(err.value).startswith(f"lint() was given {type(given).__name__}, not a Stack")
    assert err.value.fix is not None and "lint(stack)" in err.value.fix


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
    edited = folder / "app" / "shop" / "configmap-api.yaml"
    edited.write_text(edited.read_text().replace("  namespace: shop\n", "  namespace: sh0p\n"))
    (folder / "app" / "shop" / "notes.txt").write_text("mine\n")  # not kubegen's: ignored
    (folder / "data" / "_cluster" / "namespace-shop.yaml").unlink()
    before = snapshot_tree(folder)
    result = check(load_stack(ROOT / "stacks" / "prod"), folder)
    assert not result.ok
    assert result.changed == ("app/shop/configmap-api.yaml",)
    assert result.created == ("data/_cluster/namespace-shop.yaml",)
    assert result.removed == ()
    assert f"--- a/{folder.as_posix()}/app/shop/configmap-api.yaml" in result.diff
    assert "\n-  namespace: sh0p\n+  namespace: shop\n" in result.diff
    assert snapshot_tree(folder) == before
    missing = check(_stack(), tmp_path / "nowhere")
    assert not missing.ok and "shop/deployment-api.yaml" in missing.created


def test_load_stacks_returns_one_stack_per_cluster(tmp_path: Path):
    assert [s.name for s in load_stacks(ROOT / "stacks" / "prod")] == ["shop"]
    pkg = tmp_path / "stacks" / "multi"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(
        "from kubegen import Cluster, Stack\n\n"
        "def build():\n"
        "    return [Stack('a', cluster=Cluster('eu', argocd_name='eu')),\n"
        "            Stack('a', cluster=Cluster('us', argocd_name='us'))]\n"
    )
    stacks = load_stacks(pkg)
    assert [s.cluster.name for s in stacks if s.cluster] == ["eu", "us"]
    with pytest.raises(StackLoadError, match=r"kubegen.load_stacks\(path\)"):
        load_stack(pkg)


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


EDGE = """
from kubegen import Cluster, ConfigMap, Deployment, Stack

def build() -> list[Stack]:
    stacks = []
    for region in ("eu", "us"):
        stack = Stack("edge", namespace="edge", cluster=Cluster(region, argocd_name=region))
        stack.add(ConfigMap("region", data={"REGION": region}))
        stack.add(Deployment("api", image="ghcr.io/acme/api:1.0@sha256:" + "0" * 64))
        stacks.append(stack)
    return stacks
"""


def test_an_environment_on_several_clusters_renders_and_writes_as_the_cli_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The list load_stacks returns renders into one folder per cluster, each marked as part
    of the env folder: `kubegen check` finds what write() wrote up to date."""
    path = write_stack(tmp_path, "edge", EDGE)
    monkeypatch.chdir(tmp_path)
    stacks = kubegen.load_stacks(path)
    files = kubegen.render(stacks)
    assert files == {name: data.decode() for name, data in plan(path).files.items()}
    assert {name.split("/")[0] for name in files} == {"eu", "us"}
    assert files["eu/kustomization.yaml"].splitlines()[1].startswith("# Part of the env folder")
    written = kubegen.write(stacks, tmp_path / "output" / "edge")
    assert written.created and not written.changed
    assert kubegen.check(stacks, tmp_path / "output" / "edge").ok
    result = run_cli("check", "stacks/edge", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "up to date: 1 stack\n"), result.stderr


def test_a_list_of_stacks_without_clusters_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    stacks = [Stack("a", namespace="a"), Stack("b", namespace="b")]
    with pytest.raises(StackLoadError, match="given 2 Stacks and Stack a has no cluster") as caught:
        kubegen.write(stacks, tmp_path / "out")
    assert "pass cluster=" in (caught.value.fix or "")
    assert not (tmp_path / "out").exists()
