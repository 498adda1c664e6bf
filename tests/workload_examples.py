"""Example stacks built with the workload builders: a web Deployment, an API with config from a
template, a PostgreSQL StatefulSet and a backup CronJob (issue 3's examples, kept in the tests
because ``stacks/`` belongs to the lead)."""

from __future__ import annotations

from pathlib import Path

from kubegen import (
    ConfigFiles,
    ConfigMap,
    ConfigMapKey,
    CronJob,
    Deployment,
    Downward,
    DownwardFiles,
    ExecProbe,
    ExternalSecret,
    HttpProbe,
    Port,
    Resources,
    SealedSecret,
    SecretFiles,
    Stack,
    StackDefaults,
    StatefulSet,
    TcpProbe,
    Template,
)

HERE = Path(__file__).parent / "data" / "workload_examples"
PINNED = "@sha256:" + "3f" * 32
SEALED = "AgB" + "x7Qz" * 180 + "Q"


def build_shop(env: str = "prod") -> Stack:
    """The shop: web, api, postgres and a nightly backup."""
    prod = env == "prod"
    shop = Stack(
        "shop",
        namespace="shop",
        labels={"app.kubernetes.io/part-of": "shop"},
        defaults=StackDefaults(resources=Resources(cpu="250m", memory="256Mi"),
                               replicas=3 if prod else 1),
    )
    db = shop.add(StatefulSet(
        "postgres",
        image=f"postgres:16.4{PINNED}",
        port=Port(5432, name="pg"),
        readiness=ExecProbe(["pg_isready", "-U", "postgres"], period="5s"),
        liveness=TcpProbe(period="20s"),
        resources=Resources(cpu="500m", memory="1Gi"),
        writable=["/tmp", "/var/run/postgresql"],
        env={"PGDATA": "/var/lib/postgresql/data/pgdata",
             "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres/password"},
        mounts={"/run/secrets/postgres": SecretFiles(
            SealedSecret("postgres", encrypted_data={"password": SEALED}))},
        storage="20Gi",
        storage_path="/var/lib/postgresql/data",
        replicas=1,
        component="database",
    ))
    config = shop.add(ConfigMap("api", data={"FEATURE_CHECKOUT_V2": "off"}, templates=[
        Template(HERE / "api-config.yaml.j2", values={
            "env": env, "port": 8080, "db_hosts": db.pod_dns_names(), "log_level": "info",
        }),
    ]))
    api = shop.add(Deployment(
        "api",
        image=f"ghcr.io/acme/api:2.3.1{PINNED}",
        args=["--config", "/etc/api/api-config.yaml"],
        port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"),
        liveness=HttpProbe("/healthz", failure_threshold=6),
        startup=HttpProbe("/healthz", period="2s", failure_threshold=30),
        env={"FEATURE_CHECKOUT_V2": ConfigMapKey(config, "FEATURE_CHECKOUT_V2"),
             "POD_NAME": Downward.pod_name(), "GOMAXPROCS": Downward.cpu_limit()},
        mounts={"/etc/api": ConfigFiles(config), "/etc/podinfo": DownwardFiles(),
                "/run/secrets/stripe": SecretFiles(ExternalSecret(
                    "stripe", store="vault", data={"api-key": "shop/stripe#key"}))},
        writable=["/tmp"],
        component="api",
        topology_spread="zones",
    ))
    api.expose()
    web = shop.add(Deployment(
        "web",
        image="ghcr.io/acme/web:5.0.2",
        port=Port(8080, name="http"),
        readiness=HttpProbe("/"),
        liveness=HttpProbe("/"),
        writable=["/tmp", "/var/cache/nginx"],
        component="frontend",
    ))
    web.expose()
    shop.add(CronJob(
        "backup",
        schedule="30 2 * * *",
        time_zone="Etc/UTC",
        image=f"postgres:16.4{PINNED}",
        command=["sh", "-c", "pg_dump -h \"$DB_HOST\" -U postgres shop > /backup/shop.sql"],
        env={"DB_HOST": db.pod_dns_name(0), "PGPASSFILE": "/run/secrets/postgres/pgpass"},
        mounts={"/run/secrets/postgres": SecretFiles("postgres-backup")},
        writable=["/backup"],
        active_deadline="1h",
    ))
    return shop
