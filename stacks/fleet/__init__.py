"""The platform's clusters and which environment runs on which: one map for stacks and GitOps.

``stacks/dev`` and ``stacks/prod`` build one Stack per cluster of their environment
(``FLEET.clusters("prod")``), so a cluster's facts (API server, namespaces, Kubernetes version)
reach the objects rendered for it; ``stacks/gitops`` generates the Argo CD and Flux objects that
deliver each environment's folder to its clusters from the same map. Argo CD and Flux run in a
management cluster of their own; ``output/gitops`` is applied there.
"""

from kubegen import ApiServer, Cluster, Environment, Fleet, FluxKubeConfig, Layer

# The shop's rollout order on every cluster (stacks/shop places each object in one): the data
# layer (namespace, guards, databases) is healthy before migrations run, and the application
# rolls out only after they succeeded. Flux waits for each layer up to its timeout: volumes
# are provisioned on a first install, and migrations may use their 15 minute deadline.
SHOP_LAYERS = (Layer("data", timeout="10m"), Layer("migrations", timeout="20m"), Layer("app"))

NONPROD_EU = Cluster(
    "nonprod-eu",
    kubernetes_version="1.33",
    api_server=ApiServer(addresses=["10.40.0.2/32", "10.40.0.3/32", "10.40.0.4/32"]),
    namespaces={"ingress-nginx": "baseline"},
    argocd_server="https://nonprod-eu.k8s.acme.dev",
    labels={"acme.dev/cluster": "nonprod-eu"},
    flux_kubeconfig=FluxKubeConfig(secret="nonprod-eu-kubeconfig"),
)

PROD_EU = Cluster(
    "prod-eu",
    kubernetes_version="1.33",
    api_server=ApiServer(addresses=["10.50.0.2/32", "10.50.0.3/32", "10.50.0.4/32"]),
    namespaces={"ingress-nginx": "baseline"},
    argocd_server="https://prod-eu.k8s.acme.dev",
    labels={"acme.dev/cluster": "prod-eu"},
    flux_kubeconfig=FluxKubeConfig(secret="prod-eu-kubeconfig"),
)

FLEET = Fleet(environments=[
    Environment("dev", clusters=[NONPROD_EU], layers=SHOP_LAYERS),
    Environment("prod", clusters=[PROD_EU], layers=SHOP_LAYERS),
])
