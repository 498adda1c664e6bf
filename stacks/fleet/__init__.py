"""The platform's clusters and which environment runs on which: one map for stacks and GitOps.

``stacks/dev`` and ``stacks/prod`` build one Stack per cluster of their environment
(``FLEET.clusters("prod")``), so a cluster's facts (API server, namespaces, Kubernetes version)
reach the objects rendered for it; ``stacks/gitops`` generates the Argo CD and Flux objects that
deliver each environment's folder to its clusters from the same map. Argo CD and Flux run in a
management cluster of their own; ``output/gitops`` is applied there.
"""

from kubegen import (
    ApiServer,
    Cluster,
    Environment,
    Fleet,
    FluxKubeConfig,
    IngressController,
    Layer,
)

# The shop's rollout order on every cluster (stacks/shop places each object in one): the data
# layer (namespace, guards, databases) is healthy before migrations run, and the application
# rolls out only after they succeeded. Flux waits for each layer up to its timeout: volumes
# are provisioned on a first install, and migrations may use their 15 minute deadline.
SHOP_LAYERS = (Layer("data", timeout="10m"), Layer("migrations", timeout="20m"), Layer("app"))

# The platform's ingress-nginx, the same in every cluster: its pods may reach the web pods.
INGRESS_NGINX = IngressController(namespace="ingress-nginx", class_name="nginx",
                                  pods={"app.kubernetes.io/name": "ingress-nginx"})

# A kubeadm-built cluster: the API server answers on the control-plane node, port 6443. The
# address is the `kubernetes` Service's endpoint, which NetworkPolicies see after the Service
# address is translated (kubectl get endpointslices -n default
# -l kubernetes.io/service-name=kubernetes).
NONPROD_EU = Cluster(
    "nonprod-eu",
    kubernetes_version="1.33",
    api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443),
    namespaces={"ingress-nginx": "baseline"},
    ingress=INGRESS_NGINX,
    argocd_server="https://nonprod-eu.k8s.acme.dev",
    labels={"acme.dev/cluster": "nonprod-eu"},
    flux_kubeconfig=FluxKubeConfig(secret="nonprod-eu-kubeconfig"),
)

# A managed cluster: the control plane's private endpoints answer on 443 (what NetworkPolicies
# see, not the `kubernetes` Service address).
PROD_EU = Cluster(
    "prod-eu",
    kubernetes_version="1.33",
    api_server=ApiServer(addresses=["10.20.0.10/32", "10.20.1.10/32"]),
    namespaces={"ingress-nginx": "baseline"},
    ingress=INGRESS_NGINX,
    argocd_server="https://prod-eu.k8s.acme.dev",
    labels={"acme.dev/cluster": "prod-eu"},
    flux_kubeconfig=FluxKubeConfig(secret="prod-eu-kubeconfig"),
)

FLEET = Fleet(environments=[
    Environment("dev", clusters=[NONPROD_EU], layers=SHOP_LAYERS),
    Environment("prod", clusters=[PROD_EU], layers=SHOP_LAYERS),
])
