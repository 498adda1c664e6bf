"""A GitOps object is never rendered into the folder it deploys: unit cases and the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubegen import (
    ArgoApplication,
    ArgoApplicationSet,
    FluxKustomization,
    Manifest,
    OutputError,
    Stack,
)
from kubegen._analysis.gitops_paths import go_path_match, refuse_self_deploy, repository_root
from tests.helpers import run_cli, write_stack

REPO = "https://github.com/acme/platform.git"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    return tmp_path


def _check(resource: Any, repo: Path, env: str = "output/gitops") -> None:
    stack = Stack("gitops")
    stack.add(resource)
    refuse_self_deploy(stack.objects(), env_dir=repo / env, project_root=repo)


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("./output/gitops", "./output/gitops"),
        ("output/gitops/", "./output/gitops"),
        ("./output", "./output"),
        (".", "./"),
    ],
)
def test_flux_kustomization_inside_its_own_path_is_refused(repo: Path, path: str, shown: str):
    with pytest.raises(OutputError) as info:
        _check(FluxKustomization("boot", source="flux-system", path=path), repo)
    text = str(info.value)
    assert "Kustomization flux-system/boot" in text
    assert "would be rendered into output/gitops" in text
    assert f"(spec.path = {shown!r})" in text
    assert "Flux would apply this object from its own folder" in text
    assert "test_gitops_paths.py:" in text  # the line that built it


def test_flux_kustomization_of_another_env_is_fine(repo: Path):
    _check(FluxKustomization("prod", source="flux-system", path="./output/prod"), repo)
    _check(FluxKustomization("near", source="flux-system", path="./output/gitops-old"), repo)


def test_argo_application_recursing_from_a_parent_folder_is_refused(repo: Path):
    with pytest.raises(OutputError) as info:
        _check(ArgoApplication("all", repo_url=REPO, path="output"), repo)
    assert "it deploys output, which holds it (spec.source.path = 'output')" in str(info.value)
    # Without recursion Argo CD reads only output/'s own files: not the gitops folder.
    _check(ArgoApplication("all", repo_url=REPO, path="output", recurse=False), repo)
    with pytest.raises(OutputError):
        _check(ArgoApplication("self", repo_url=REPO, path="output/gitops", recurse=False), repo)


def test_applicationset_must_exclude_the_folder_it_is_rendered_into(repo: Path):
    with pytest.raises(OutputError) as info:
        _check(ArgoApplicationSet("envs", repo_url=REPO), repo)
    text = str(info.value)
    assert "its git generator matches that folder" in text
    assert "spec.generators[0].git.directories[0].path = 'output/*'" in text
    assert "Fix: exclude the folder: exclude=['output/gitops']" in text
    _check(ArgoApplicationSet("envs", repo_url=REPO, exclude=["output/gitops"]), repo)
    _check(ArgoApplicationSet("envs", repo_url=REPO, exclude=["output/[g]*"]), repo)
    _check(ArgoApplicationSet("envs", repo_url=REPO, directory="output/[^g]*"), repo)


def test_objects_given_as_raw_manifests_are_checked_too(repo: Path):
    raw = Manifest(
        {
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {"name": "raw", "namespace": "flux-system"},
            "spec": {"path": "output/gitops", "prune": True},
        }
    )
    with pytest.raises(OutputError, match="Kustomization flux-system/raw"):
        _check(raw, repo)


def test_folders_outside_the_repository_are_not_checked(repo: Path, tmp_path_factory: Any):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    stack = Stack("gitops")
    stack.add(FluxKustomization("boot", source="s", path="./output/gitops"))
    refuse_self_deploy(stack.objects(), env_dir=elsewhere / "output/gitops", project_root=repo)


def test_paths_are_relative_to_the_git_root_above_the_project(repo: Path):
    project = repo / "platform"
    project.mkdir()
    assert repository_root(project) == repo.resolve()
    stack = Stack("gitops")
    stack.add(FluxKustomization("boot", source="s", path="./platform/output/gitops"))
    with pytest.raises(OutputError, match="rendered into platform/output/gitops"):
        refuse_self_deploy(
            stack.objects(), env_dir=project / "output/gitops", project_root=project
        )


@pytest.mark.parametrize(
    ("pattern", "path", "match"),
    [
        ("output/*", "output/dev", True),
        ("output/*", "output/dev/shop", False),  # '*' never crosses '/'
        ("output/*", "output", False),
        ("*", "output", True),
        ("output/[^g]*", "output/gitops", False),
        ("output/[^g]*", "output/dev", True),
        ("output/d?v", "output/dev", True),
    ],
)
def test_go_path_match(pattern: str, path: str, match: bool):
    assert go_path_match(pattern, path) is match


def test_cli_refuses_to_render_a_self_deploying_bootstrap(tmp_path: Path):
    write_stack(
        tmp_path,
        "gitops",
        """
        from kubegen import FluxKustomization, Stack

        def build():
            stack = Stack("gitops")
            stack.add(FluxKustomization("gitops", source="flux-system", path="./output/gitops"))
            return stack
        """,
    )
    result = run_cli("render", "stacks/gitops", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: stacks/gitops/__init__.py:5: Kustomization flux-system/gitops: would be rendered "
        "into output/gitops, and it deploys that folder (spec.path = './output/gitops')"
    )
    assert not (tmp_path / "output").exists()
    assert run_cli("check", "stacks/gitops", cwd=tmp_path).returncode == 2
