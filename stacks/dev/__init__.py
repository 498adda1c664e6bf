"""Development: one replica of everything, small volumes, tagged images, verbose logs."""

from fleet import FLEET
from shop import Env, Images, build_shop

from kubegen import Cluster, Resources, Stack

IMAGES = Images(
    web="nginxinc/nginx-unprivileged:1.27.2-alpine",
    api="ghcr.io/acme/shop-api:2.4.0-rc.1",
    postgres="postgres:16.4-alpine",
    redis="redis:7.4.1-alpine",
)


def build() -> list[Stack]:
    """One shop per cluster the fleet runs dev on."""
    return [_shop(cluster) for cluster in FLEET.clusters("dev")]


def _shop(cluster: Cluster) -> Stack:
    return build_shop(Env(
        name="dev",
        cluster=cluster,
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
