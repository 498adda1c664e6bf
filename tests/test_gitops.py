"""GitOps builders: rendered fields, every validation message, and opt-outs with reasons."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubegen import (
    ArgoApplication,
    ArgoApplicationSet,
    FluxGitRepository,
    FluxHealthCheck,
    FluxKustomization,
    Stack,
    ValidationError,
)
from kubegen._builders.gitops_values import check_duration, duration_seconds
from kubegen._render.files import render_files

REPO = "https://github.com/acme/platform.git"


def _rendered(*resources: Any) -> dict[str, Any]:
    """Render resources in a namespace-less stack; parse every file back (path → object)."""
    stack = Stack("gitops")
    for resource in resources:
        stack.add(resource)
    files = render_files(stack.objects())
    return {path: yaml.safe_load(data) for path, data in files.items()}


def _error(build: Any) -> str:
    with pytest.raises(ValidationError) as info:
        build()
    return str(info.value)


# --- Argo CD Application -------------------------------------------------------------------


def test_application_defaults_sync_automatically_with_prune_and_self_heal():
    app = _rendered(ArgoApplication("prod", repo_url=REPO, path="output/prod"))[
        "argocd/application-prod.yaml"
    ]
    assert app["apiVersion"] == "argoproj.io/v1alpha1"
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"] == {
        "project": "default",
        "source": {
            "repoURL": REPO,
            "targetRevision": "HEAD",
            "path": "output/prod",
            "directory": {"recurse": True, "exclude": "kustomization.yaml"},
        },
        "destination": {"server": "https://kubernetes.default.svc"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": ["CreateNamespace=false", "ServerSideApply=true", "PruneLast=true"],
        },
    }


def test_application_options_and_path_normalisation():
    app = _rendered(
        ArgoApplication(
            "dev",
            namespace="gitops",
            repo_url="git@github.com:acme/platform.git",
            path="./output/dev/",
            revision="release/1.2",
            project="platform",
            destination_namespace="shop",
            recurse=False,
            sync_options=["ServerSideApply=true"],
        )
    )["gitops/application-dev.yaml"]
    spec = app["spec"]
    assert spec["source"]["path"] == "output/dev"
    assert spec["source"]["repoURL"] == "git@github.com:acme/platform.git"
    assert spec["source"]["targetRevision"] == "release/1.2"
    assert spec["source"]["directory"] == {"exclude": "kustomization.yaml"}
    assert spec["project"] == "platform"
    assert spec["destination"]["namespace"] == "shop"
    assert spec["syncPolicy"]["syncOptions"] == ["ServerSideApply=true"]


def test_application_accepts_a_commit_sha_as_revision():
    sha = "a" * 40
    app = _rendered(ArgoApplication("prod", repo_url=REPO, path="output/prod", revision=sha))
    assert app["argocd/application-prod.yaml"]["spec"]["source"]["targetRevision"] == sha


def test_disabling_prune_or_self_heal_needs_a_reason_rendered_as_annotation():
    text = _error(lambda: ArgoApplication("prod", repo_url=REPO, path="o/p", self_heal=False))
    assert "self_heal=False weakens kubegen's GitOps defaults" in text
    assert "Fix: pass reason=" in text
    assert "test_gitops.py:" in text and "ArgoApplication prod" in text

    app = _rendered(
        ArgoApplication("prod", repo_url=REPO, path="o/p", prune=False, reason="manual cleanup")
    )["argocd/application-prod.yaml"]
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": False, "selfHeal": True}
    assert app["metadata"]["annotations"] == {"kubegen.dev/opt-out-auto-prune": "manual cleanup"}


# --- Argo CD ApplicationSet ----------------------------------------------------------------


def test_applicationset_generates_one_application_per_env_folder():
    appset = _rendered(
        ArgoApplicationSet(
            "envs", repo_url=REPO, revision="main", exclude=["output/gitops"], name_prefix="shop-"
        )
    )["argocd/applicationset-envs.yaml"]
    spec = appset["spec"]
    assert spec["goTemplate"] is True
    assert spec["goTemplateOptions"] == ["missingkey=error"]
    assert spec["generators"] == [
        {
            "git": {
                "repoURL": REPO,
                "revision": "main",
                "directories": [
                    {"path": "output/*"},
                    {"path": "output/gitops", "exclude": True},
                ],
            }
        }
    ]
    # The Go template placeholders survive YAML emission literally (they start with '{').
    assert spec["template"]["metadata"] == {"name": "shop-{{.path.basenameNormalized}}"}
    source = spec["template"]["spec"]["source"]
    assert source["path"] == "{{.path.path}}"
    assert source["targetRevision"] == "main"
    assert spec["template"]["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}


def test_applicationset_rejects_bad_prefix_and_root_directory():
    text = _error(lambda: ArgoApplicationSet("envs", repo_url=REPO, name_prefix="Shop_"))
    assert "prefix 'Shop_' would not make valid Application names" in text
    assert "field 'name_prefix'" in text
    text = _error(lambda: ArgoApplicationSet("envs", repo_url=REPO, directory="./"))
    assert "the repository root is not an env folder" in text


# --- Flux ----------------------------------------------------------------------------------


def test_git_repository_defaults_to_branch_main():
    repo = _rendered(FluxGitRepository("platform", url=REPO))[
        "flux-system/gitrepository-platform.yaml"
    ]
    assert repo["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert repo["spec"] == {"interval": "1m", "url": REPO, "ref": {"branch": "main"}}


@pytest.mark.parametrize(
    ("kwargs", "ref"),
    [
        ({"branch": "release/2"}, {"branch": "release/2"}),
        ({"tag": "v1.2.3"}, {"tag": "v1.2.3"}),
        ({"commit": "0" * 40}, {"commit": "0" * 40}),
    ],
)
def test_git_repository_follows_exactly_the_given_ref(kwargs: dict[str, str], ref: dict[str, str]):
    repo = FluxGitRepository("platform", url=REPO, secret_ref="git-auth", **kwargs)
    body = repo.manifests()[0].body
    assert body["spec"]["ref"] == ref
    assert body["spec"]["secretRef"] == {"name": "git-auth"}


def test_git_repository_refuses_two_refs_and_scp_urls():
    text = _error(lambda: FluxGitRepository("p", url=REPO, branch="main", tag="v1"))
    assert "branch and tag are both set" in text and "keep exactly one" in text
    text = _error(lambda: FluxGitRepository("p", url="git@gitlab.example.com:ops/infra.git"))
    assert "is not a git repository URL (https://, http:// or ssh://)" in text
    assert "Fix: write it as 'ssh://git@gitlab.example.com/ops/infra.git'" in text
    text = _error(lambda: FluxGitRepository("p", url=REPO, commit="abc123"))
    assert "'abc123' is not a full commit SHA" in text


def test_kustomization_defaults_prune_wait_and_source_ref():
    repo = FluxGitRepository("platform", url=REPO)
    files = _rendered(repo, FluxKustomization("dev", source=repo, path="output/dev"))
    ks = files["flux-system/kustomization-dev.yaml"]
    assert ks["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"
    assert ks["spec"] == {
        "interval": "10m",
        "timeout": "5m",
        "sourceRef": {"kind": "GitRepository", "name": "platform"},
        "path": "./output/dev",
        "prune": True,
        "wait": True,
    }
    assert "annotations" not in ks["metadata"]


def test_kustomization_names_the_source_namespace_only_when_it_differs():
    repo = FluxGitRepository("platform", namespace="sources", url=REPO)
    ks = FluxKustomization("dev", source=repo, path="output/dev", retry_interval="2m")
    spec = ks.manifests()[0].body["spec"]
    assert spec["sourceRef"] == {
        "kind": "GitRepository",
        "name": "platform",
        "namespace": "sources",
    }
    assert spec["retryInterval"] == "2m"
    by_name = FluxKustomization("dev", source="flux-system", path="./output/dev")
    assert by_name.manifests()[0].body["spec"]["sourceRef"] == {
        "kind": "GitRepository",
        "name": "flux-system",
    }


def test_health_checks_need_wait_false_because_flux_ignores_them_otherwise():
    check = FluxHealthCheck(api_version="apps/v1", kind="Deployment", name="api", namespace="shop")
    text = _error(
        lambda: FluxKustomization("dev", source="s", path="output/dev", health_checks=[check])
    )
    assert "health_checks are ignored by Flux while wait=True" in text
    assert "pass wait=False" in text

    ks = FluxKustomization("dev", source="s", path="output/dev", wait=False, health_checks=[check])
    spec = ks.manifests()[0].body["spec"]
    assert spec["wait"] is False
    assert spec["healthChecks"] == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api", "namespace": "shop"}
    ]


def test_kustomization_weakening_needs_a_reason():
    text = _error(lambda: FluxKustomization("dev", source="s", path="output/dev", wait=False))
    assert "wait=False without health_checks weakens kubegen's GitOps defaults" in text
    text = _error(lambda: FluxKustomization("dev", source="s", path="output/dev", prune=False))
    assert "prune=False weakens" in text
    ks = FluxKustomization(
        "dev", source="s", path="output/dev", prune=False, wait=False, reason="shared namespace"
    )
    meta = ks.manifests()[0].body["metadata"]
    assert meta["annotations"] == {
        "kubegen.dev/opt-out-prune": "shared namespace",
        "kubegen.dev/opt-out-wait": "shared namespace",
    }


def test_health_check_validates_api_version_and_kind():
    text = _error(lambda: FluxHealthCheck(api_version="apps", kind="Deployment", name="x"))
    assert "apiVersion 'apps' is not of the form 'v1' or 'group/v1'" in text
    text = _error(lambda: FluxHealthCheck(api_version="v1", kind="service", name="x"))
    assert "kind 'service' must be a CamelCase word" in text


# --- value validation, one message each -----------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (
            lambda: FluxKustomization("d", source="s", path="o/d", interval="10 minutes"),
            "interval",
            "'10 minutes' is not a duration: use digits followed by h, m, s or ms",
        ),
        (
            lambda: FluxKustomization("d", source="s", path="o/d", timeout="0s"),
            "timeout",
            "a duration of zero would reconcile in a busy loop",
        ),
        (
            lambda: FluxGitRepository("p", url=REPO, interval="1d"),
            "interval",
            "'1d' is not a duration",
        ),
        (
            lambda: ArgoApplication("a", repo_url="ftp://example.com/r.git", path="o"),
            "repo_url",
            "'ftp://example.com/r.git' is not a git repository URL",
        ),
        (
            lambda: ArgoApplication("a", repo_url="github.com/acme/r", path="o"),
            "repo_url",
            "is not a git repository URL (https://, http:// or ssh:// or git@host:path)",
        ),
        (
            lambda: ArgoApplication("a", repo_url=REPO, path="o", revision="feature branch"),
            "revision",
            "'feature branch' is not a valid git branch or tag name",
        ),
        (
            lambda: FluxGitRepository("p", url=REPO, branch="main.lock"),
            "branch",
            "'main.lock' is not a valid git branch or tag name",
        ),
        (
            lambda: FluxGitRepository("p", url=REPO, tag="v1..2"),
            "tag",
            "'v1..2' is not a valid git branch or tag name",
        ),
        (
            lambda: ArgoApplication("a", repo_url=REPO, path="../elsewhere"),
            "path",
            "'../elsewhere' is not a folder inside the repository",
        ),
        (
            lambda: FluxKustomization("d", source="s", path="/output/dev"),
            "path",
            "'/output/dev' is not a folder inside the repository",
        ),
        (
            lambda: ArgoApplication("a", repo_url=REPO, path="o", server="http://k8s:6443"),
            "server",
            "'http://k8s:6443' is not the https:// address of a Kubernetes API server",
        ),
        (
            lambda: ArgoApplication("a", repo_url=REPO, path="o", sync_options=["PruneLast"]),
            "sync_options",
            "sync option 'PruneLast' is not of the form 'Name=value'",
        ),
        (
            lambda: ArgoApplicationSet("s", repo_url=REPO, exclude=["../x"]),
            "exclude",
            "'../x' is not a folder inside the repository",
        ),
    ],
)
def test_invalid_values_name_field_value_and_fix(build: Any, field: str, message: str):
    text = _error(build)
    assert f"field '{field}" in text
    assert message in text
    assert "\n  Fix: " in text


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1m", 60), ("10m0s", 600), ("1h30m", 5400), ("1.5h", 5400), ("500ms", 0.5)],
)
def test_durations_in_go_format(value: str, seconds: float):
    assert check_duration(value) == value
    assert duration_seconds(value) == pytest.approx(seconds)


def test_git_refs_that_git_accepts_are_accepted():
    for ref in ("main", "release/1.2", "feature-x_y", "v1.2.3", "HEAD"):
        repo = FluxGitRepository("p", url=REPO, branch=ref)
        assert repo.ref() == {"branch": ref}
