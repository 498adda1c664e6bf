"""Production: three replicas spread over zones, digest-pinned images, the ``prod`` profile."""

from shop import INGRESS_NGINX, Env, Images, build_shop

from kubegen import ApiServer, Cluster, Resources, Stack

IMAGES = Images(
    web="nginxinc/nginx-unprivileged:1.27.2-alpine"
    "@sha256:65e3e85dbaed8ba248841d9d58a899b6197106c23cb0ff1a132b7bfe0547e4c0",
    api="ghcr.io/acme/shop-api:2.3.1"
    "@sha256:9b2c0d7f5e1a4c3b8d6e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e",
    postgres="postgres:16.4-alpine"
    "@sha256:d898b0b78a2627cb4ee63464a14efc9d296884f1b28c841b0ab7d7c42f1fffdf",
    redis="redis:7.4.1-alpine"
    "@sha256:c1e88455c85225310bbea54816e9c3f4b5295815e6dbf80c34d40afc6df28275",
)

# A managed cluster: the control plane's private endpoints answer on 443. NetworkPolicies see
# them, not the `kubernetes` Service address (kubectl get endpointslices -n default -l
# kubernetes.io/service-name=kubernetes).
CLUSTER = Cluster("prod", ingress=INGRESS_NGINX,
                  api_server=ApiServer(addresses=["10.20.0.10/32", "10.20.1.10/32"]))


def build() -> Stack:
    return build_shop(Env(
        name="prod",
        cluster=CLUSTER,
        images=IMAGES,
        replicas=3,
        log_level="info",
        web=Resources(cpu="100m", memory="128Mi"),
        api=Resources(cpu="500m", memory="512Mi", cpu_limit="1"),
        postgres=Resources(cpu="1", memory="2Gi"),
        postgres_storage="100Gi",
        host="shop.example.com",
        cert_issuer="letsencrypt-prod",
        api_autoscale=(3, 12),
        redis_storage="10Gi",
        spread="zones",
        profile="prod",
    ))
