"""GitOps builders: rendered fields, every validation message, and opt-outs with reasons."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubegen import (
    ArgoApplication,
    ArgoApplicationSet,
    ArgoAppProject,
    Cluster,
    FluxGitRepository,
    FluxHealthCheck,
    FluxKubeConfig,
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
            "directory": {
                "recurse": True,
                "exclude": "{kustomization.yaml,*/kustomization.yaml}",
            },
        },
        "destination": {"server": "https://kubernetes.default.svc"},
        "syncPolicy": {
            "automated": {"prune": True, "selfHeal": True},
            "syncOptions": [
                "CreateNamespace=false",
                "ServerSideApply=true",
                "PruneLast=true",
                "FailOnSharedResource=true",
            ],
            "retry": {
                "limit": 5,
                "backoff": {"duration": "5s", "factor": 2, "maxDuration": "3m"},
                "refresh": True,
            },
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
    assert spec["source"]["directory"] == {"exclude": "{kustomization.yaml,*/kustomization.yaml}"}
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
        "interval": "60m",
        "retryInterval": "2m",
        "timeout": "3m",
        "sourceRef": {"kind": "GitRepository", "name": "platform"},
        "path": "./output/dev",
        "prune": True,
        "wait": True,
        "deletionPolicy": "Orphan",
    }
    assert "annotations" not in ks["metadata"]


def test_kustomization_names_the_source_namespace_only_when_it_differs():
    repo = FluxGitRepository("platform", namespace="sources", url=REPO)
    ks = FluxKustomization("dev", source=repo, path="output/dev", retry_interval=None)
    spec = ks.manifests()[0].body["spec"]
    assert spec["sourceRef"] == {
        "kind": "GitRepository",
        "name": "platform",
        "namespace": "sources",
    }
    assert "retryInterval" not in spec
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


# --- destinations, retries, AppProject, Flux remote clusters ----------------------------------

EU = Cluster("prod-eu", argocd_server="https://prod-eu.k8s.example.com/",
             labels={"acme.dev/cluster": "prod-eu"},
             flux_kubeconfig=FluxKubeConfig(secret="prod-eu-kubeconfig"))
US = Cluster("prod-us", argocd_name="prod-us", labels={"acme.dev/cluster": "prod-us"},
             flux_kubeconfig=FluxKubeConfig(config_map="prod-us"))


def test_application_deploys_to_its_cluster_and_is_labelled_with_it():
    app = ArgoApplication("prod-eu", repo_url=REPO, path="output/prod", cluster=EU)
    body = app.manifests()[0].body
    assert body["spec"]["destination"] == {"server": "https://prod-eu.k8s.example.com"}
    assert body["metadata"]["labels"]["kubegen.dev/cluster"] == "prod-eu"
    by_name = ArgoApplication("prod-us", repo_url=REPO, path="output/prod", cluster=US)
    assert by_name.manifests()[0].body["spec"]["destination"] == {"name": "prod-us"}
    text = _error(lambda: ArgoApplication("a", repo_url=REPO, path="o", cluster=EU,
                                          server="https://x.example.com"))
    assert "server= and cluster= both name the destination" in text


def test_retry_limit_zero_renders_no_retry_and_negative_means_forever():
    never = ArgoApplication("a", repo_url=REPO, path="o", retry_limit=0)
    assert "retry" not in never.manifests()[0].body["spec"]["syncPolicy"]
    forever = ArgoApplication("a", repo_url=REPO, path="o", retry_limit=-1)
    assert forever.manifests()[0].body["spec"]["syncPolicy"]["retry"]["limit"] == -1
    assert "must be at least -1" in _error(
        lambda: ArgoApplication("a", repo_url=REPO, path="o", retry_limit=-2))


def test_applicationset_list_generator_has_one_element_per_target_cluster():
    other = Cluster("prod-us", argocd_server="https://prod-us.k8s.example.com")
    appset = ArgoApplicationSet(
        "prod", repo_url=REPO, revision="main", project="prod", name_prefix="prod-",
        labels={"kubegen.dev/env": "prod"},
        targets={"output/prod/prod-eu": EU, "./output/prod/prod-us/": other},
    )
    spec = appset.manifests()[0].body["spec"]
    assert spec["generators"] == [{"list": {"elements": [
        {"cluster": "prod-eu", "path": "output/prod/prod-eu",
         "server": "https://prod-eu.k8s.example.com"},
        {"cluster": "prod-us", "path": "output/prod/prod-us",
         "server": "https://prod-us.k8s.example.com"},
    ]}}]
    template = spec["template"]
    assert template["metadata"] == {
        "name": "prod-{{.cluster}}",
        "labels": {"kubegen.dev/cluster": "{{.cluster}}", "kubegen.dev/env": "prod"},
    }
    assert template["spec"]["project"] == "prod"
    assert template["spec"]["source"]["path"] == "{{.path}}"
    assert template["spec"]["destination"] == {"server": "{{.server}}"}


def test_applicationset_list_generator_addresses_clusters_by_name_too():
    named = ArgoApplicationSet("prod", repo_url=REPO, targets={"output/prod": US})
    spec = named.manifests()[0].body["spec"]
    assert spec["generators"][0]["list"]["elements"] == [
        {"cluster": "prod-us", "path": "output/prod", "destinationName": "prod-us"}
    ]
    assert spec["template"]["spec"]["destination"] == {"name": "{{.destinationName}}"}
    text = _error(lambda: ArgoApplicationSet(
        "prod", repo_url=REPO, targets={"output/prod/eu": EU, "output/prod/us": US}))
    assert "mix argocd_server= and argocd_name=" in text
    assert "generator='clusters'" in text


def test_applicationset_cluster_generator_selects_each_cluster_by_its_labels():
    appset = ArgoApplicationSet(
        "prod", repo_url=REPO, generator="clusters", name_prefix="prod-",
        targets={"output/prod/prod-eu": EU, "output/prod/prod-us": US},
    )
    spec = appset.manifests()[0].body["spec"]
    assert spec["generators"] == [
        {"clusters": {"selector": {"matchLabels": {"acme.dev/cluster": "prod-eu"}},
                      "values": {"cluster": "prod-eu", "path": "output/prod/prod-eu"}}},
        {"clusters": {"selector": {"matchLabels": {"acme.dev/cluster": "prod-us"}},
                      "values": {"cluster": "prod-us", "path": "output/prod/prod-us"}}},
    ]
    assert spec["template"]["metadata"]["name"] == "prod-{{.values.cluster}}"
    assert spec["template"]["spec"]["destination"] == {"server": "{{.server}}"}
    bare = Cluster("bare", argocd_server="https://bare.example.com")
    text = _error(lambda: ArgoApplicationSet("p", repo_url=REPO, generator="clusters",
                                             targets={"output/p": bare}))
    assert "cluster 'bare' has no labels for the cluster generator to select" in text
    twin = Cluster("twin", argocd_server="https://twin.example.com",
                   labels={"acme.dev/cluster": "prod-eu"})
    text = _error(lambda: ArgoApplicationSet("p", repo_url=REPO, generator="clusters",
                                             targets={"output/p/a": EU, "output/p/b": twin}))
    assert "clusters 'prod-eu' and 'twin' have the same labels" in text


def test_applicationset_targets_refuse_other_generators_and_long_names():
    text = _error(lambda: ArgoApplicationSet("p", repo_url=REPO, targets={"output/p": EU},
                                             exclude=["output/gitops"]))
    assert "targets= and directory=/exclude= are two different generators" in text
    text = _error(lambda: ArgoApplicationSet("p", repo_url=REPO, targets={"output/p": EU},
                                             name_prefix="x" * 60 + "-"))
    assert "is not a DNS-1123 label (at most 63 characters)" in text
    text = _error(lambda: ArgoApplicationSet("p", repo_url=REPO,
                                             targets={"output/a": EU, "output/b": EU}))
    assert "cluster 'prod-eu' is the target of two folders" in text


def test_app_project_fences_sources_and_destinations():
    project = ArgoAppProject("prod", source_repos=[REPO], clusters=[EU, US],
                             description="production")
    body = project.manifests()[0].body
    assert body["metadata"]["namespace"] == "argocd"
    assert body["spec"] == {
        "description": "production",
        "sourceRepos": [REPO],
        "destinations": [
            {"server": "https://prod-eu.k8s.example.com", "namespace": "*"},
            {"name": "prod-us", "namespace": "*"},
        ],
        "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
    }
    assert "at least 1 item" in _error(lambda: ArgoAppProject("p", source_repos=[REPO],
                                                              clusters=[]))


def test_kustomization_reaches_a_remote_cluster_after_its_dependencies():
    data = FluxKustomization("prod-eu-data", source="platform", path="output/prod/data",
                             cluster=EU)
    app = FluxKustomization("prod-eu-app", source="platform", path="output/prod/app",
                            cluster=US, depends_on=[data, "shared-crds"],
                            deletion_policy="MirrorPrune")
    spec = app.manifests()[0].body["spec"]
    assert spec["dependsOn"] == [{"name": "prod-eu-data"}, {"name": "shared-crds"}]
    assert spec["kubeConfig"] == {"configMapRef": {"name": "prod-us"}}
    assert spec["deletionPolicy"] == "MirrorPrune"
    assert data.manifests()[0].body["spec"]["kubeConfig"] == {
        "secretRef": {"name": "prod-eu-kubeconfig"}
    }
    assert app.manifests()[0].body["metadata"]["labels"]["kubegen.dev/cluster"] == "prod-us"
    in_cluster = FluxKustomization("dev", source="platform", path="output/dev",
                                   cluster=Cluster("mgmt"))
    assert "kubeConfig" not in in_cluster.manifests()[0].body["spec"]


def test_kustomization_names_fit_the_label_flux_writes_and_depend_on_others():
    text = _error(lambda: FluxKustomization("k" * 64, source="s", path="o"))
    assert "a Kustomization name is at most 63 characters" in text
    other_ns = FluxKustomization("b", namespace="apps", source="s", path="o", depends_on=[
        FluxKustomization("c", source="s", path="o")])
    assert other_ns.manifests()[0].body["spec"]["dependsOn"] == [
        {"name": "c", "namespace": "flux-system"}
    ]
