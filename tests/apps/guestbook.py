"""The Kubernetes "Guestbook": a PHP front end over a Redis leader and its followers.

Upstream: kubernetes/examples, web/guestbook/all-in-one/guestbook-all-in-one.yaml (Apache-2.0;
the file, its commit and the image facts in tests/data/README.md). The front end writes to
``redis-master`` and reads from ``redis-replica`` (guestbook.php, ``GET_HOSTS_FROM=dns``); each
replica follows the leader (``redis-server --slaveof redis-master 6379``, the image's run.sh).
Written from README.md and docs/*.md only.

What a restricted namespace changes: every image runs as its own non-root user; Apache binds
port 80 through the safe sysctl ``net.ipv4.ip_unprivileged_port_start``; the leader is the
docker-library ``redis`` image that upstream's comment offers in place of its e2e test image.
"""
from kubegen import (
    Deployment,
    HttpProbe,
    Port,
    Resources,
    Service,
    ServicePort,
    Stack,
    TcpProbe,
)

SMALL = Resources(cpu="100m", memory="100Mi", memory_limit="200Mi")  # upstream's requests


def build() -> Stack:
    stack = Stack("guestbook", namespace="guestbook")
    leader = stack.add(Deployment(
        "redis-master", image="redis:7.4.1-alpine", port=Port(6379, name="redis"),
        component="backend", resources=SMALL, writable=["/data"],
        readiness=TcpProbe(), liveness=TcpProbe(),
        run_as_user=999, run_as_group=1000, fs_group=1000))  # the alpine image's redis user
    leader.expose()
    followers = stack.add(Deployment(
        "redis-replica", replicas=2, image="gcr.io/google_samples/gb-redisslave:v1",
        port=Port(6379, name="redis"), env={"GET_HOSTS_FROM": "dns"}, component="backend",
        resources=SMALL, writable=["/data"],  # the replicated dump
        readiness=TcpProbe(), liveness=TcpProbe(),
        run_as_user=999, run_as_group=999, fs_group=999))  # redis:3.2.9 (Debian)'s redis user
    followers.expose()
    followers.connect_to(leader, port="redis")

    frontend = stack.add(Deployment(
        "frontend", replicas=3, image="gcr.io/google-samples/gb-frontend:v5",
        port=Port(80, name="http"), env={"GET_HOSTS_FROM": "dns"}, component="frontend",
        resources=SMALL,
        writable=["/var/run/apache2", "/var/lock/apache2", "/tmp"],  # Apache's pid and locks
        sysctls={"net.ipv4.ip_unprivileged_port_start": 0},
        readiness=HttpProbe("/"), liveness=TcpProbe(),
        run_as_user=33, run_as_group=33, fs_group=33))  # www-data of php:5-apache (Debian)
    stack.add(Service("frontend", target=frontend, type="NodePort",
                      ports=[ServicePort("http", port=80)],
                      allow_external="the guestbook on every node's port, as upstream"))
    frontend.allow_from(cidr="0.0.0.0/0", port="http",
                        reason="visitors reach the NodePort from outside the cluster")
    frontend.connect_to(leader, port="redis")  # writes
    frontend.connect_to(followers, port="redis")  # reads
    return stack
