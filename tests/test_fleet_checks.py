"""Checks across the stacks of one run: one owner per object per cluster, GitOps paths exist."""

from __future__ import annotations

import re
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from kubegen import (
    ArgoApplication,
    ArgoApplicationSet,
    Cluster,
    ConfigMap,
    ConflictError,
    Environment,
    Fleet,
    FluxGitRepository,
    FluxKubeConfig,
    FluxKustomization,
    Manifest,
    Stack,
)
from kubegen._analysis.deliveries import ARGO, FLUX, deliveries
from kubegen._analysis.fleet import (
    RenderedFolder,
    RenderedPart,
    check_fleet,
    repo_key,
    repository_remotes,
)
from kubegen._pipeline import render_objects
from tests.helpers import run_cli, write_stack

REPO = "https://github.com/acme/platform.git"
EU = Cluster("prod-eu", argocd_server="https://prod-eu.k8s.example.com",
             flux_kubeconfig=FluxKubeConfig(secret="prod-eu-kubeconfig"),
             labels={"acme.dev/cluster": "prod-eu"})
DEV = Cluster("nonprod", argocd_server="https://nonprod.k8s.example.com",
              flux_kubeconfig=FluxKubeConfig(secret="nonprod-kubeconfig"),
              labels={"acme.dev/cluster": "nonprod"})


def shop(cluster: Cluster | None = None, *, namespace: str = "shop",
         layers: tuple[str, ...] = ()) -> Stack:
    stack = Stack("shop", namespace=namespace, cluster=cluster, layers=layers)
    stack.add(ConfigMap("settings", data={"a": "b"}))
    return stack


def gitops(*resources: object) -> Stack:
    stack = Stack("gitops")
    for resource in resources:
        stack.add(resource)  # type: ignore[arg-type]
    return stack


class Run:
    """What ``kubegen render`` hands the fleet checks: stacks by folder, in one repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.parts: list[RenderedPart] = []
        self.folders: list[RenderedFolder] = []

    def add(self, folder: str, *stacks: Stack, label: str | None = None) -> Run:
        files: list[str] = []
        for stack in stacks:
            sub = f"{stack.cluster.name}/" if len(stacks) > 1 and stack.cluster else ""
            objects = stack.objects()
            files += [sub + p for p in render_objects(stack, objects)]
            cluster = stack.cluster
            self.parts.append(RenderedPart(
                stack=label or f"stacks/{folder.rsplit('/', 1)[-1]}",
                folder=folder + ("/" + sub.rstrip("/") if sub else ""),
                cluster=cluster.name if cluster else None,
                addresses=() if cluster is None else ((ARGO, cluster.argocd_address()),
                                                      (FLUX, cluster.flux_address())),
                layers=tuple(layer.name for layer in stack.layers), objects=objects))
        self.folders.append(RenderedFolder(folder, files))
        return self

    def check(self, remotes: frozenset[str] = frozenset()) -> None:
        check_fleet(self.parts, self.folders, self.root, remotes=remotes)

    def error(self) -> str:
        with pytest.raises(ConflictError) as err:
            self.check()
        return str(err.value)


# -- one owner per object ---------------------------------------------------------------------


def test_the_old_bootstrap_sent_dev_and_prod_to_one_cluster_and_is_refused(tmp_path: Path):
    appset = ArgoApplicationSet("environments", repo_url=REPO, exclude=["output/gitops"])
    text = (Run(tmp_path).add("output/dev", shop()).add("output/prod", shop())
            .add("output/gitops", gitops(appset)).error())
    assert re.fullmatch(r".*test_fleet_checks\.py:\d+", text.split(": ")[0]), text
    assert "Namespace shop: is rendered by stacks/dev (output/dev, at " in text
    assert "and by stacks/prod (output/prod, at " in text
    assert ("both go to the cluster Argo CD reaches at server https://kubernetes.default.svc "
            "(ApplicationSet argocd/environments)") in text
    assert "removing either environment would delete it from the other" in text
    assert "Fix: render the shared object in one stack only" in text


def test_flux_kustomizations_to_the_same_cluster_are_refused_too(tmp_path: Path):
    repo = FluxGitRepository("platform", url=REPO)
    boot = gitops(repo, FluxKustomization("dev", source=repo, path="output/dev"),
                  FluxKustomization("prod", source=repo, path="output/prod"))
    text = (Run(tmp_path).add("output/dev", shop()).add("output/prod", shop())
            .add("output/gitops", boot).error())
    assert "the cluster Flux reaches at in-cluster (Kustomization flux-system/prod)" in text


def test_stacks_built_for_the_same_cluster_overlap_without_any_gitops_object(tmp_path: Path):
    text = Run(tmp_path).add("output/dev", shop(EU)).add("output/prod", shop(EU)).error()
    assert "both go to cluster prod-eu (stacks/prod is built with Stack(cluster='prod-eu'))" in text


def test_environments_may_share_a_cluster_when_they_share_no_object(tmp_path: Path):
    Run(tmp_path).add("output/dev", shop(EU, namespace="shop-dev")).add(
        "output/prod", shop(EU)).check()


def test_the_fleet_map_delivers_each_environment_to_its_own_cluster(tmp_path: Path):
    fleet = Fleet(environments=[Environment("dev", clusters=[DEV]),
                                Environment("prod", clusters=[EU])])
    boot = gitops(*fleet.argocd(repo_url=REPO), *fleet.flux(url=REPO))
    Run(tmp_path).add("output/dev", shop(DEV)).add("output/prod", shop(EU)).add(
        "output/gitops", boot).check()
    shared = Fleet(environments=[Environment("dev", clusters=[EU]),
                                 Environment("prod", clusters=[EU])])
    boot = gitops(*shared.argocd(repo_url=REPO, generator="clusters"))
    text = (Run(tmp_path).add("output/dev", shop()).add("output/prod", shop())
            .add("output/gitops", boot).error())
    assert "both go to cluster prod-eu (ApplicationSet argocd/prod" in text


def test_fleet_applications_are_read_like_the_application_sets(tmp_path: Path):
    fleet = Fleet(environments=[Environment("dev", clusters=[DEV]),
                                Environment("prod", clusters=[EU])])
    boot = gitops(*fleet.argocd(repo_url=REPO, generator="applications"))
    Run(tmp_path).add("output/dev", shop(DEV)).add("output/prod", shop(EU)).add(
        "output/gitops", boot).check()
    shared = Fleet(environments=[Environment("dev", clusters=[EU]),
                                 Environment("prod", clusters=[EU])])
    boot = gitops(*shared.argocd(repo_url=REPO, generator="applications"))
    text = (Run(tmp_path).add("output/dev", shop()).add("output/prod", shop())
            .add("output/gitops", boot).error())
    assert "both go to cluster prod-eu (Application argocd/prod-prod-eu" in text


# -- every path exists ------------------------------------------------------------------------


def test_a_gitops_path_that_nothing_renders_is_an_error(tmp_path: Path):
    repo = FluxGitRepository("platform", url=REPO)
    boot = gitops(repo, FluxKustomization("staging", source=repo, path="output/staging"))
    text = Run(tmp_path).add("output/dev", shop()).add("output/gitops", boot).error()
    assert "Kustomization flux-system/staging" in text
    assert "spec.path = 'output/staging' is a folder that no stack of this run renders" in text
    assert "Fix: render the stack of that folder in the same run" in text
    assert "folders rendered here: output/dev" in text


def test_a_folder_already_in_the_repository_counts_unless_this_run_replaces_it(tmp_path: Path):
    (tmp_path / "output/staging/shop").mkdir(parents=True)
    (tmp_path / "output/staging/shop/configmap-x.yaml").write_text("kind: ConfigMap\n")
    def app() -> ArgoApplication:
        return ArgoApplication("staging", repo_url=REPO, path="output/staging/shop")

    Run(tmp_path).add("output/gitops", gitops(app())).check()
    replaced = Run(tmp_path).add("output/staging", Stack("empty")).add("output/gitops",
                                                                        gitops(app()))
    assert "is a folder that no stack of this run renders" in replaced.error()


def test_a_directory_generator_that_matches_nothing_is_an_error(tmp_path: Path):
    appset = ArgoApplicationSet("envs", repo_url=REPO, directory="deploy/*",
                                exclude=["output/gitops"])
    text = Run(tmp_path).add("output/dev", shop()).add("output/gitops", gitops(appset)).error()
    assert "spec.generators[0].git.directories[0].path = 'deploy/*' matches no folder" in text


def test_objects_reading_another_repository_are_not_checked(tmp_path: Path):
    app = ArgoApplication("chart", repo_url="https://github.com/other/charts.git",
                          path="charts/x")
    run = Run(tmp_path).add("output/gitops", gitops(app))
    run.check(remotes=frozenset({repo_key("git@github.com:acme/platform.git")}))
    with pytest.raises(ConflictError):
        run.check()  # no remote known: every object reads this repository


# -- delivered once, to the cluster it was built for, layer by layer ---------------------------


def test_a_folder_delivered_to_another_cluster_than_its_stack_was_built_for(tmp_path: Path):
    fleet = Fleet(environments=[Environment("prod", clusters=[EU])])
    text = (Run(tmp_path).add("output/prod", shop(DEV))
            .add("output/gitops", gitops(*fleet.argocd(repo_url=REPO))).error())
    assert ("ApplicationSet argocd/prod (spec.generators[0].list.elements[0]: Application "
            "prod-prod-eu) delivers output/prod to cluster prod-eu, but stacks/prod renders "
            "output/prod for cluster nonprod") in text
    assert "Fix: make the Fleet and the stack agree" in text


def test_one_folder_delivered_twice_to_one_cluster_by_one_tool(tmp_path: Path):
    twice = gitops(ArgoApplication("prod", repo_url=REPO, path="output/prod", cluster=EU),
                   ArgoApplication("prod-shop", repo_url=REPO, path="output/prod/shop",
                                   server="https://prod-eu.k8s.example.com"))
    text = Run(tmp_path).add("output/prod", shop(EU)).add("output/gitops", twice).error()
    assert ("Application argocd/prod-shop delivers output/prod/shop to cluster prod-eu, and "
            "Application argocd/prod already delivers output/prod there") in text


def test_argo_cd_and_flux_for_one_cluster_are_alternatives_not_two_owners(tmp_path: Path):
    fleet = Fleet(environments=[Environment("prod", clusters=[EU])])
    both = gitops(*fleet.argocd(repo_url=REPO), *fleet.flux(url=REPO))
    Run(tmp_path).add("output/prod", shop(EU)).add("output/gitops", both).check()


def test_flux_cannot_apply_several_layers_in_one_kustomization(tmp_path: Path):
    unlayered = Fleet(environments=[Environment("prod", clusters=[EU])])
    text = (Run(tmp_path).add("output/prod", shop(EU, layers=("data", "app")))
            .add("output/gitops", gitops(*unlayered.flux(url=REPO))).error())
    assert ("Kustomization flux-system/prod-prod-eu applies output/prod, which holds the layers "
            "data, app of stacks/prod") in text
    assert "Environment(..., layers=...)" in text
    layered = Fleet(environments=[Environment("prod", clusters=[EU], layers=["data", "app"])])
    both = gitops(*layered.argocd(repo_url=REPO), *layered.flux(url=REPO))
    Run(tmp_path).add("output/prod", shop(EU, layers=("data", "app"))).add(
        "output/gitops", both).check()


def test_an_environment_on_two_clusters_with_a_folder_each(tmp_path: Path):
    fleet = Fleet(environments=[Environment("prod", clusters=[EU, DEV], layers=["data", "app"])])
    boot = gitops(*fleet.argocd(repo_url=REPO), *fleet.flux(url=REPO))
    stacks = [shop(c, layers=("data", "app")) for c in (EU, DEV)]
    Run(tmp_path).add("output/prod", *stacks).add("output/gitops", boot).check()
    run = Run(tmp_path).add("output/prod", *stacks).add("output/gitops", boot)
    run.parts[1] = replace(run.parts[1], cluster="prod-eu")  # a stack built for the wrong one
    assert "(spec.generators[0].list.elements[1]: Application prod-nonprod) delivers " \
        "output/prod/nonprod to cluster nonprod, but stacks/prod renders output/prod/nonprod " \
        "for cluster prod-eu" in run.error()


# -- reading deliveries ------------------------------------------------------------------------


def test_deliveries_read_hand_written_objects_too():
    raw = Manifest({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
        "metadata": {"name": "raw", "namespace": "argocd"},
        "spec": {"generators": [{"list": {"elements": [
            {"env": "dev", "url": "https://dev.example.com/"},
            {"env": "qa", "url": "https://qa.example.com"},
        ]}}], "template": {"metadata": {"name": "{{ .env }}"}, "spec": {
            "source": {"repoURL": REPO, "path": "output/{{.env}}"},
            "destination": {"server": "{{.url}}"}}}},
    })
    found = list(deliveries(gitops(raw).objects()))
    assert [(d.path, d.address, d.recurse) for d in found] == [
        ("output/dev", "server https://dev.example.com", False),
        ("output/qa", "server https://qa.example.com", False),
    ]
    templated = Manifest({
        "apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
        "metadata": {"name": "t", "namespace": "argocd"},
        "spec": {"source": {"repoURL": REPO, "path": "{{ env }}"}, "destination": {}}})
    assert list(deliveries(gitops(templated).objects())) == []


def test_repository_urls_compare_across_spellings(tmp_path: Path):
    assert {repo_key(u) for u in ("https://github.com/Acme/Platform.git",
                                  "git@github.com:acme/platform.git",
                                  "ssh://git@github.com:22/acme/platform/")} == {
        "github.com/acme/platform"}
    assert repo_key("not a url") == ""
    git = tmp_path / "repo" / ".git"
    git.mkdir(parents=True)
    (git / "config").write_text(textwrap.dedent("""
        [remote "origin"]
            url = git@github.com:acme/platform.git
            fetch = +refs/heads/*:refs/remotes/origin/*
    """))
    assert repository_remotes(tmp_path / "repo") == {"github.com/acme/platform"}
    worktree = tmp_path / "wt"
    (git / "worktrees" / "wt").mkdir(parents=True)
    (git / "worktrees" / "wt" / "commondir").write_text("../..\n")
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {git / 'worktrees' / 'wt'}\n")
    assert repository_remotes(worktree) == {"github.com/acme/platform"}
    assert repository_remotes(tmp_path / "none") == frozenset()


# -- through the CLI ---------------------------------------------------------------------------


def test_render_refuses_an_overlap_before_writing_anything(tmp_path: Path):
    for env in ("dev", "prod"):
        write_stack(tmp_path, env, """
            from kubegen import ConfigMap, Stack

            def build():
                stack = Stack("shop", namespace="shop")
                stack.add(ConfigMap("settings"))
                return stack
        """)
    write_stack(tmp_path, "gitops", f"""
        from kubegen import ArgoApplicationSet, Stack

        def build():
            stack = Stack("gitops")
            stack.add(ArgoApplicationSet("envs", repo_url="{REPO}", exclude=["output/gitops"]))
            return stack
    """)
    done = run_cli("render", "stacks/dev", "stacks/prod", "stacks/gitops", cwd=tmp_path)
    assert done.returncode == 2
    assert "Namespace shop: is rendered by stacks/dev (output/dev" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "output").exists()
    check = run_cli("check", "stacks/dev", "stacks/prod", "stacks/gitops", cwd=tmp_path)
    assert check.returncode == 2 and "two owners of one object" in check.stderr
    alone = run_cli("render", "stacks/dev", "stacks/prod", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr  # nothing says they share a cluster


def test_a_fleet_of_twenty_clusters_and_three_environments(tmp_path: Path):
    """The shape of bench/fleet.py, small services: every env on every cluster, side by side."""
    clusters = [Cluster(f"c{i:02d}", argocd_server=f"https://c{i:02d}.example.com",
                        labels={"bench.dev/cluster": f"c{i:02d}"},
                        flux_kubeconfig=FluxKubeConfig(secret=f"c{i:02d}-kubeconfig"))
                for i in range(20)]
    envs = ("dev", "staging", "prod")
    fleet = Fleet(environments=[Environment(env, clusters=clusters, layers=["base", "app"])
                                for env in envs])
    boot = gitops(*fleet.argocd(repo_url=REPO), *fleet.flux(url=REPO))
    assert len([o for o in boot.objects() if o.kind == "Kustomization"]) == 120
    run = Run(tmp_path)
    for env in envs:
        run.add(f"output/{env}", *[shop(c, namespace=f"svc-{env}", layers=("base", "app"))
                                   for c in clusters])
    run.add("output/gitops", boot)
    run.check()
    assert len(run.parts) == 61
    clash = Run(tmp_path)
    for env in envs:
        clash.add(f"output/{env}", *[shop(c, namespace="svc-dev" if env != "prod" else "svc",
                                          layers=("base", "app")) for c in clusters])
    clash.add("output/gitops", gitops(*fleet.argocd(repo_url=REPO), *fleet.flux(url=REPO)))
    assert "both go to cluster c00" in clash.error()
