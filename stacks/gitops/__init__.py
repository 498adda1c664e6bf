"""Bootstrap: the Argo CD and Flux objects that deliver every environment to its clusters.

Generated from the fleet map in ``stacks/fleet``: per environment an Argo CD AppProject and an
ApplicationSet (one Application per cluster), and Flux's GitRepository with one Kustomization per
cluster and layer, each layer waiting for the one before. Apply once, by hand, in the management
cluster where the controllers run (`kubectl apply -k output/gitops`, or one tool's folder:
`kubectl apply -f output/gitops/argocd/` or `-f output/gitops/flux-system/`); from then on the
controllers follow git. Pick one tool per cluster: both sets are rendered to show both.
"""

from fleet import FLEET

from kubegen import Stack

REPO_URL = "https://github.com/acme/platform.git"  # the repository holding output/
BRANCH = "main"


def build() -> Stack:
    # No stack namespace: argocd and flux-system belong to the tools' installations, and a
    # bootstrap that rendered them would let a prune delete the controllers themselves.
    stack = Stack("gitops", labels={"app.kubernetes.io/part-of": "gitops"})
    for resource in FLEET.argocd(repo_url=REPO_URL, revision=BRANCH):
        stack.add(resource)
    for resource in FLEET.flux(url=REPO_URL, branch=BRANCH):
        stack.add(resource)
    return stack
