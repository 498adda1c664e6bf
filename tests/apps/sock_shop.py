"""Weaveworks' "Sock Shop", from its deploy/kubernetes/complete-demo.yaml.

Upstream: github.com/microservices-demo/microservices-demo (Apache-2.0), the manifest in
tests/data/apps/ (its source, commit and the image facts below: tests/data/README.md).
Fourteen containers: a Node.js front end behind a NodePort, Go and Spring Boot services on port
80, three MongoDBs, a MySQL, a Redis session store, RabbitMQ with its exporter, and the
queue-master that consumes shipping's queue. Written from README.md and docs/*.md only.

Who calls whom is upstream's own deploy/kubernetes/manifests-policy/ (front-end to catalogue,
carts, orders and user; orders to carts, user, payment and shipping; each service to its
database; shipping and queue-master to RabbitMQ), plus the front end's session store that
``SESSION_REDIS`` turns on (front-end config.js: ``RedisStore({host: "session-db"})``).

Where upstream runs a container as root to let its entrypoint ``chown`` and drop to the image's
user (the CHOWN/SETGID/SETUID capabilities of the databases), this stack runs it as that user
from the start, with the image's data paths writable: the namespace stays ``restricted``.
"""
from typing import Any

from kubegen import (
    Container,
    Deployment,
    EmptyDir,
    HttpProbe,
    Port,
    Resources,
    SecretKey,
    SecretRef,
    Service,
    ServicePort,
    Stack,
    TcpProbe,
)

JAVA_OPTS = ("-Xms64m -Xmx128m -XX:+UseG1GC -Djava.security.egd=file:/dev/urandom"
             " -Dspring.zipkin.enabled=false")
# the weaveworksdemos images' own user: SERVICE_UID/SERVICE_GID 10001 in their Dockerfiles
SERVICE_USER: dict[str, Any] = {"run_as_user": 10001, "run_as_group": 10001, "fs_group": 10001}
# mongo:3.x, mysql:5.7 and rabbitmq:3.6 create their user as the first system user, uid/gid 999
DB_USER: dict[str, Any] = {"run_as_user": 999, "run_as_group": 999, "fs_group": 999}


def _health(ready: int, live: int) -> dict[str, Any]:
    return {"readiness": HttpProbe("/health", period=3, initial_delay=ready),
            "liveness": HttpProbe("/health", period=3, initial_delay=live)}


def _service(stack: Stack, name: str, image: str, resources: Resources,
             probes: dict[str, Any], *, java: bool = False,
             env: dict[str, str] | None = None, **options: Any) -> Deployment:
    """A weaveworksdemos service on port 80 (its own user binds it with NET_BIND_SERVICE);
    the Spring Boot ones get their JVM options and a writable /tmp."""
    env = {**(env or {}), **({"JAVA_OPTS": JAVA_OPTS} if java else {})}
    workload = stack.add(Deployment(
        name, image=f"weaveworksdemos/{image}", port=Port(80, name="http"), env=env,
        capabilities=["NET_BIND_SERVICE"], resources=resources, writable=["/tmp"] if java else [],
        **probes, **SERVICE_USER, **options))
    workload.expose()
    return workload


def _mongo(stack: Stack, name: str, image: str, resources: Resources,
           writable: tuple[str, ...] = ("/data/db",), **options: Any) -> Deployment:
    workload = stack.add(Deployment(
        name, image=image, port=Port(27017, name="mongo"),
        readiness=TcpProbe(), liveness=TcpProbe(), resources=resources,
        writable=[*writable, "/data/configdb", "/tmp"], **DB_USER, **options))
    workload.expose()
    return workload


def build() -> Stack:
    stack = Stack("sock-shop", namespace="sock-shop")

    front_end = stack.add(Deployment(
        "front-end", image="weaveworksdemos/front-end:0.3.12", port=Port(8079, name="http"),
        env={"SESSION_REDIS": "true"},
        resources=Resources(cpu="100m", memory="300Mi", cpu_limit="300m", memory_limit="1000Mi"),
        readiness=HttpProbe("/", period=3, initial_delay=30),
        liveness=HttpProbe("/", period=3, initial_delay=300), **SERVICE_USER))
    stack.add(Service("front-end", target=front_end, type="NodePort",
                      ports=[ServicePort("http", port=80, node_port=30001)],
                      allow_external="the shop's entry point on every node, as upstream"))
    front_end.allow_from(cidr="0.0.0.0/0", port="http",
                         reason="shoppers reach the NodePort from outside the cluster")

    catalogue = _service(
        stack, "catalogue", "catalogue:0.3.5",
        Resources(cpu="100m", memory="100Mi", cpu_limit="200m", memory_limit="200Mi"),
        _health(180, 300), command=["/app"], args=["-port=80"])
    carts = _service(
        stack, "carts", "carts:0.4.8",
        Resources(cpu="100m", memory="200Mi", cpu_limit="300m", memory_limit="500Mi"),
        _health(360, 420), java=True)
    orders = _service(
        stack, "orders", "orders:0.4.7",
        Resources(cpu="100m", memory="300Mi", cpu_limit="500m", memory_limit="500Mi"),
        _health(180, 300), java=True)
    payment = _service(
        stack, "payment", "payment:0.4.3",
        Resources(cpu="99m", memory="100Mi", cpu_limit="200m", memory_limit="200Mi"),
        _health(180, 300))
    shipping = _service(
        stack, "shipping", "shipping:0.4.8",
        Resources(cpu="100m", memory="300Mi", cpu_limit="300m", memory_limit="500Mi"),
        _health(360, 420), java=True, env={"ZIPKIN": "zipkin.jaeger.svc.cluster.local"})
    queue_master = _service(
        stack, "queue-master", "queue-master:0.3.1",
        Resources(cpu="100m", memory="300Mi", cpu_limit="300m", memory_limit="500Mi"),
        _health(180, 300), java=True)
    user = _service(
        stack, "user", "user:0.4.7",
        Resources(cpu="100m", memory="100Mi", cpu_limit="300m", memory_limit="200Mi"),
        _health(180, 300), env={"mongo": "user-db:27017"})

    # sizes upstream leaves unset come from its Helm chart's values.yaml
    carts_db = _mongo(stack, "carts-db", "mongo:3.4", Resources(cpu="500m", memory="512Mi"))
    orders_db = _mongo(stack, "orders-db", "mongo:3.4", Resources(cpu="500m", memory="512Mi"))
    # user-db's image holds its seeded accounts in /data/db-users: an init container copies
    # them into the writable volume that mongod then opens
    seeded = EmptyDir(name="users")
    user_db = _mongo(
        stack, "user-db", "weaveworksdemos/user-db:0.3.0",
        Resources(cpu="100m", memory="300Mi", cpu_limit="300m", memory_limit="1000Mi"),
        writable=(),
        mounts={"/data/db-users": seeded},
        init_containers=[Container(
            name="seed", image="weaveworksdemos/user-db:0.3.0",
            command=["cp", "-a", "/data/db-users/.", "/seed/"], mounts={"/seed": seeded},
            resources=Resources(cpu="50m", memory="32Mi"))])

    catalogue_db = stack.add(Deployment(
        "catalogue-db", image="weaveworksdemos/catalogue-db:0.3.0",
        port=Port(3306, name="mysql"),
        env={"MYSQL_ROOT_PASSWORD": SecretKey(SecretRef("catalogue-db"), "root-password"),
             "MYSQL_DATABASE": "socksdb"},
        allow_secret_env="the mysql image reads the root password from its environment",
        readiness=TcpProbe(), liveness=TcpProbe(),
        resources=Resources(cpu="100m", memory="300Mi", cpu_limit="300m",
                            memory_limit="1000Mi"),
        writable=["/var/lib/mysql", "/var/run/mysqld", "/tmp"], **DB_USER))
    catalogue_db.expose()

    session_db = stack.add(Deployment(
        "session-db", image="redis:7.4.1-alpine", port=Port(6379, name="redis"),
        readiness=TcpProbe(), liveness=TcpProbe(),
        resources=Resources(cpu="250m", memory="256Mi"),
        writable=["/data"], run_as_user=999, run_as_group=1000, fs_group=1000))
    session_db.expose()

    rabbitmq = stack.add(Deployment(
        "rabbitmq", pod_annotations={"prometheus.io/scrape": "false"},
        containers=[
            Container(
                image="rabbitmq:3.6.8-management",
                ports=[Port(15672, name="management"), Port(5672, name="rabbitmq")],
                readiness=TcpProbe(port="rabbitmq"), liveness=TcpProbe(port="rabbitmq"),
                resources=Resources(cpu="350m", memory="256Mi", cpu_limit="1",
                                    memory_limit="512Mi"),
                writable=["/var/lib/rabbitmq"]),
            Container(
                name="rabbitmq-exporter", image="kbudde/rabbitmq-exporter:v0.29.0",
                ports=[Port(9090, name="exporter")], env={"PUBLISH_PORT": "9090"},
                readiness=TcpProbe(port="exporter"), liveness=TcpProbe(port="exporter"),
                resources=Resources(cpu="50m", memory="32Mi", memory_limit="64Mi")),
        ], **DB_USER))
    rabbitmq.expose("rabbitmq", "exporter")

    for caller, callees in ((front_end, (catalogue, carts, orders, user)),
                            (orders, (carts, user, payment, shipping))):
        for callee in callees:
            caller.connect_to(callee, port="http")
    front_end.connect_to(session_db, port="redis")
    catalogue.connect_to(catalogue_db, port="mysql")
    for service, database in ((carts, carts_db), (orders, orders_db), (user, user_db)):
        service.connect_to(database, port="mongo")
    for producer in (shipping, queue_master):
        producer.connect_to(rabbitmq, port="rabbitmq")
    return stack
