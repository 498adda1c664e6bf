"""Reading rendered objects: what the manifests a render writes *mean*.

Builders author objects; this package reads them back, as plain manifests, the way a cluster
would: which network flows the NetworkPolicies allow (:mod:`.flows`, drawn by :mod:`.diagram`),
what each RBAC binding really grants (:mod:`.access`), which folders GitOps objects deploy
(:mod:`.gitops_paths`). ``kubegen graph``, ``kubegen access`` and ``kubegen review`` share these
models, so what a reviewer is shown is computed once, from the same objects that are committed.
Nothing here imports a builder class: only manifests and value tables.
"""
