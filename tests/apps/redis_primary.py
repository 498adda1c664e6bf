"""A Redis primary as a StatefulSet with its own claim, its headless Service and a client.

Upstream: the docker-library redis image (redis:7.4, Debian; uid/gid 999, WORKDIR and VOLUME
/data) run as Kubernetes' "StatefulSet basics" tutorial runs a database: one pod with a stable
DNS name and a PersistentVolumeClaim from a claim template. The client is a worker that reads
the primary's address from its env.
"""
from kubegen import (
    Deployment,
    ExecProbe,
    Port,
    Resources,
    Stack,
    StatefulSet,
    TcpProbe,
)


def build() -> Stack:
    stack = Stack("cache", namespace="cache", profile="prod")
    redis = stack.add(StatefulSet(
        "redis", image="redis:7.4.1-bookworm@sha256:" + "1f3c5e7a" * 8,
        port=Port(6379, name="redis"),
        args=["redis-server", "--appendonly", "yes"],  # persist every write to the claim
        readiness=ExecProbe(["redis-cli", "ping"], period="5s"),
        liveness=TcpProbe(period="20s"),
        resources=Resources(cpu="250m", memory="512Mi"),
        storage="10Gi", storage_path="/data",  # the dump and append-only files
        run_as_user=999, run_as_group=999, fs_group=999))  # the image's redis user
    redis.waive("KG701", "one primary; replicas and failover come with Sentinel")
    worker = stack.add(Deployment(
        "worker", image="ghcr.io/acme/worker:1.2.0@sha256:" + "0a2b4c6d" * 8, replicas=2,
        env={"REDIS_ADDR": f"{redis.pod_dns_name(0)}:6379"},
        resources=Resources(cpu="100m", memory="128Mi")))
    worker.connect_to(redis, port="redis")
    return stack
