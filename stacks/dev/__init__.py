"""Development: one replica of everything, small volumes, tagged images, verbose logs."""

from shop import INGRESS_NGINX, Env, Images, build_shop

from kubegen import ApiServer, Cluster, Resources, Stack

IMAGES = Images(
    web="nginxinc/nginx-unprivileged:1.27.2-alpine",
    api="ghcr.io/acme/shop-api:2.4.0-rc.1",
    postgres="postgres:16.4-alpine",
    redis="redis:7.4.1-alpine",
)

# A kind cluster: the API server answers on the control-plane node, port 6443. The address is
# the `kubernetes` Service's endpoint, which NetworkPolicies see after the Service address is
# translated: kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes
CLUSTER = Cluster("dev", ingress=INGRESS_NGINX,
                  api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443))


def build() -> Stack:
    return build_shop(Env(
        name="dev",
        cluster=CLUSTER,
        images=IMAGES,
        replicas=1,
        log_level="debug",
        web=Resources(cpu="50m", memory="64Mi"),
        api=Resources(cpu="100m", memory="256Mi"),
        postgres=Resources(cpu="250m", memory="512Mi"),
        postgres_storage="5Gi",
        host="dev.shop.example.com",
        cert_issuer="letsencrypt-staging",
        redis_storage="1Gi",
    ))
