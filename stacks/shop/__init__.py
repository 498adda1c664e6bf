"""The shop platform, shared by every environment.

``stacks/dev`` and ``stacks/prod`` call :func:`build_shop` with an :class:`Env`; everything that
differs between environments is a field of ``Env``, so a reviewer sees the differences in one
place. The flows (worker → postgres/redis, web → api → postgres/redis, migrate and backup →
postgres) are declared with ``connect_to``; the ingress controller → web flow follows from the
``Ingress`` and the cluster's ingress controller (``INGRESS_NGINX``, a fact of each env's
``Cluster``). The NetworkPolicies follow from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kubegen import (
    Cluster,
    ConfigFiles,
    ConfigMap,
    CronJob,
    Deployment,
    ExecProbe,
    HttpProbe,
    Ingress,
    IngressController,
    Job,
    Port,
    Resources,
    Rule,
    SealedSecret,
    SecretFiles,
    Stack,
    StackDefaults,
    StatefulSet,
    TcpProbe,
    Template,
)

TEMPLATES = Path(__file__).parent / "templates"
# The platform's ingress-nginx, the same in every cluster: its pods may reach the web pods.
INGRESS_NGINX = IngressController(namespace="ingress-nginx", class_name="nginx",
                                  pods={"app.kubernetes.io/name": "ingress-nginx"})
# Sealed with the cluster's sealed-secrets key; only the controller in the cluster can open it.
POSTGRES_PASSWORD_SEALED = "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + "Qx7m" * 180


@dataclass(frozen=True)
class Images:
    """Container images; prod pins every one by digest."""

    web: str
    api: str
    postgres: str
    redis: str


@dataclass(frozen=True)
class Env:
    """What differs between environments."""

    name: str
    cluster: Cluster  # where it runs: the API server the api's grant needs a route to
    images: Images
    replicas: int
    log_level: str
    web: Resources
    api: Resources
    postgres: Resources
    postgres_storage: str
    redis_storage: str
    host: str  # where the shop is served, with a certificate from cert_issuer
    cert_issuer: str  # a cert-manager ClusterIssuer
    api_autoscale: tuple[int, int] | None = None  # (min, max) replicas, on CPU, or fixed
    spread: Literal["nodes", "zones"] = "nodes"  # topology spread of replicated workloads
    profile: str = "restricted"


def build_shop(env: Env) -> Stack:
    """The whole shop for one environment."""
    shop = Stack(
        "shop",
        namespace="shop",
        labels={"app.kubernetes.io/part-of": "shop", "shop.acme.dev/env": env.name},
        profile=env.profile,  # type: ignore[arg-type]
        cluster=env.cluster,
        defaults=StackDefaults(resources=Resources(cpu="100m", memory="128Mi"),
                               replicas=env.replicas),
    )
    password = shop.add(
        SealedSecret("postgres", encrypted_data={"password": POSTGRES_PASSWORD_SEALED}))
    postgres = shop.add(_postgres(env, password))
    redis = shop.add(_redis(env))
    api = shop.add(_api(env, shop.add(_api_config(env))))
    web = shop.add(_web(env, shop.add(_nginx_config(env))))
    worker = shop.add(_worker(env))
    migrate = shop.add(_migrate(env))
    backup = shop.add(_backup(env, postgres))

    api.expose()
    shop.add(Ingress("shop", hosts=[env.host], service=web.expose(), cert_manager=env.cert_issuer))
    if env.api_autoscale is not None:
        least, most = env.api_autoscale
        api.autoscale(min=least, max=most, cpu=70)
    web.connect_to(api, port="http")
    for client in (api, worker):
        client.connect_to(postgres, port="pg")
        client.connect_to(redis, port="redis")
    for job in (migrate, backup):
        job.connect_to(postgres, port="pg")
    # The API watches its feature flags: a Role, a projected token, and egress to the API server.
    api.grant(Rule.read("configmaps"))
    return shop


def _postgres(env: Env, password: SealedSecret) -> StatefulSet:
    db = StatefulSet(
        "postgres",
        image=env.images.postgres,
        port=Port(5432, name="pg"),
        readiness=ExecProbe(["pg_isready", "-U", "postgres"], period="5s"),
        liveness=TcpProbe(period="20s"),
        resources=env.postgres,
        # The root filesystem is read-only: the image writes its socket and lock file to
        # /var/run/postgresql, and initdb's temporary passwd entry (nss_wrapper) to /tmp.
        writable=["/tmp", "/var/run/postgresql"],
        env={
            # A subfolder of the claim: the volume's root may hold lost+found, which initdb
            # refuses, and the entrypoint sets the folder's mode 0700 itself.
            "PGDATA": "/var/lib/postgresql/data/pgdata",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres/password",
            "POSTGRES_DB": "shop",  # the database the api, worker, migrate and backup use
        },
        mounts={"/run/secrets/postgres": SecretFiles(password)},
        storage=env.postgres_storage,
        storage_path="/var/lib/postgresql/data",
        # The image's postgres user and group: 70 in the alpine variants (999 in the Debian
        # ones); fsGroup makes the claim theirs (tests/data/image_needs.yaml cites the
        # Dockerfile).
        run_as_user=70,
        run_as_group=70,
        fs_group=70,
        replicas=1,
        component="database",
    )
    db.waive("KG701", "a single primary; replication arrives with the Postgres operator")
    return db


def _redis(env: Env) -> StatefulSet:
    cache = StatefulSet(
        "redis",
        image=env.images.redis,
        args=["--save", "60", "1", "--dir", "/data"],
        port=Port(6379, name="redis"),
        readiness=ExecProbe(["redis-cli", "ping"], period="5s"),
        liveness=TcpProbe(period="20s"),
        resources=Resources(cpu="100m", memory="256Mi"),
        storage=env.redis_storage,
        storage_path="/data",  # the dump files, on the claim (the root filesystem is read-only)
        # The image's redis user, uid 999 in group 1000 (alpine; Debian: 999/999).
        run_as_user=999,
        run_as_group=1000,
        fs_group=1000,
        replicas=1,
        component="cache",
    )
    cache.waive("KG701", "a cache: losing it costs latency, not data")
    return cache


def _api_config(env: Env) -> ConfigMap:
    return ConfigMap("api", templates=[Template(TEMPLATES / "api.yaml.j2", values={
        "env": env.name,
        "port": 8080,
        "db_host": "postgres.shop.svc.cluster.local",
        "redis_host": "redis.shop.svc.cluster.local",
        "log_level": env.log_level,
    })], data={"FEATURE_FLAGS": "checkout-v2" if env.name == "dev" else ""})


def _api(env: Env, config: ConfigMap) -> Deployment:
    return Deployment(
        "api",
        image=env.images.api,
        args=["serve", "--config", "/etc/api/api.yaml"],
        port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz", failure_threshold=6),
        startup=HttpProbe("/healthz", period="2s", failure_threshold=30),
        resources=env.api,
        mounts={"/etc/api": ConfigFiles(config),
                "/run/secrets/postgres": SecretFiles(postgres_secret_ref())},
        writable=["/tmp"],
        component="api",
        topology_spread=env.spread,
    )


def postgres_secret_ref() -> str:
    """The Secret the sealed-secrets controller creates from ``SealedSecret("postgres")``."""
    return "postgres"


def _nginx_config(env: Env) -> ConfigMap:
    return ConfigMap("web", templates=[Template(TEMPLATES / "nginx.conf.j2", key="default.conf",
                                                 values={
        "env": env.name,
        "port": 8080,
        "api_host": "api.shop.svc.cluster.local",
        "api_port": 8080,
        "api_timeout_seconds": 30,
    })])


def _web(env: Env, nginx: ConfigMap) -> Deployment:
    return Deployment(
        "web",
        image=env.images.web,
        port=Port(8080, name="http"),  # nginx-unprivileged listens above 1024, as non-root
        readiness=HttpProbe("/healthz"),
        liveness=HttpProbe("/healthz"),
        resources=env.web,
        mounts={"/etc/nginx/conf.d": ConfigFiles(nginx)},
        # The image keeps its pid file and temp files in /tmp and its cache in /var/cache/nginx,
        # as its user, uid/gid 101.
        writable=["/tmp", "/var/cache/nginx"],
        run_as_user=101,
        run_as_group=101,
        fs_group=101,
        component="frontend",
        topology_spread=env.spread,
    )


def _worker(env: Env) -> Deployment:
    return Deployment(
        "worker",
        image=env.images.api,
        args=["worker", "--queues", "orders,emails"],
        resources=env.api,
        mounts={"/run/secrets/postgres": SecretFiles(postgres_secret_ref())},
        writable=["/tmp"],
        component="worker",
        topology_spread=env.spread,
    )


def _migrate(env: Env) -> Job:
    return Job(
        "migrate",
        image=env.images.api,
        args=["migrate", "--to", "latest"],
        mounts={"/run/secrets/postgres": SecretFiles(postgres_secret_ref())},
        active_deadline="15m",
        backoff_limit=2,
        component="migrations",
    )


def _backup(env: Env, postgres: StatefulSet) -> CronJob:
    return CronJob(
        "backup",
        schedule="30 2 * * *",
        time_zone="Etc/UTC",
        image=env.images.postgres,
        # The password file is group-readable (fsGroup), which libpq refuses as a .pgpass:
        # read it into the one process that needs it instead of the pod's env.
        command=["sh", "-c", 'PGPASSWORD="$(cat /run/secrets/postgres/password)" '
                 'pg_dump -h "$DB_HOST" -U postgres shop > /backup/shop.sql'],
        env={"DB_HOST": postgres.pod_dns_name(0)},
        mounts={"/run/secrets/postgres": SecretFiles(postgres_secret_ref())},
        writable=["/backup"],
        active_deadline="1h",
        component="backup",
    )
