"""Bootstrap: the objects that hand output/<env>/ to Argo CD or Flux.

Apply once by hand (`kubectl apply -k output/gitops`, or only one tool's folder:
`kubectl apply -f output/gitops/argocd/` or `-f output/gitops/flux-system/`); from then on the
controller follows git. This stack renders into output/gitops, so it never deploys that folder:
the ApplicationSet excludes it and each Flux Kustomization names one env folder.
"""

from kubegen import ArgoApplicationSet, FluxGitRepository, FluxKustomization, Stack

REPO_URL = "https://github.com/acme/platform.git"  # the repository holding output/
BRANCH = "main"
ENVS = ("dev", "prod")


def build() -> Stack:
    # No stack namespace: argocd and flux-system belong to the tools' installations, and a
    # bootstrap that rendered them would let a prune delete the controllers themselves.
    stack = Stack("gitops", labels={"app.kubernetes.io/part-of": "gitops"})

    # Argo CD: one Application per env folder, found in git (adding output/staging adds an app).
    stack.add(
        ArgoApplicationSet(
            "environments",
            repo_url=REPO_URL,
            revision=BRANCH,
            directory="output/*",
            exclude=["output/gitops"],
        )
    )

    # Flux: the repository, then one Kustomization per env folder.
    repo = stack.add(FluxGitRepository("platform", url=REPO_URL, branch=BRANCH))
    for env in ENVS:
        stack.add(FluxKustomization(env, source=repo, path=f"./output/{env}"))
    return stack
