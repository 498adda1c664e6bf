"""KiA ch. 13: Securing cluster nodes and the network — host namespaces, a host port, users,
capabilities, a read-only root with a writable volume, fsGroup and supplemental groups (in a
namespace weakened with a reason); and NetworkPolicies: only the shopping cart reaches the
database, and the database reaches nothing."""
from kubegen import (
    Container,
    DaemonSet,
    Deployment,
    EmptyDir,
    HttpProbe,
    Namespace,
    Port,
    SecretFiles,
    Stack,
    StatefulSet,
    TcpProbe,
)


def build() -> Stack:
    stack = Stack("security", namespace="shop")
    stack.add(Namespace("node-agents", pod_security="privileged",
                        reason="the book's host-namespace and privileged examples"))
    sleeper = {"image": "alpine:3.20.3", "command": ["sleep", "999999"]}
    stack.add(DaemonSet("pod-with-host-network", namespace="node-agents", **sleeper,
                        allow_host_network="inspects the node's network interfaces"))
    stack.add(DaemonSet("pod-with-host-pid-and-ipc", namespace="node-agents", **sleeper,
                        allow_host_pid="lists the node's processes",
                        allow_host_ipc="inspects the node's IPC objects"))
    hostport = stack.add(DaemonSet(
                        "kubia-hostport", namespace="node-agents", image="luksa/kubia:v1",
                        port=Port(8080, name="http", host_port=9000),
                        readiness=HttpProbe("/"), liveness=HttpProbe("/"),
                        allow_host_ports="the book's hostPort example: reachable on :9000 of "
                                         "every node"))
    hostport.allow_from(cidr="192.168.0.0/16", port="http")  # the LAN, to :9000 of each node
    stack.add(DaemonSet("pod-privileged", namespace="node-agents", **sleeper,
                        allow_privileged="needs the node's devices"))
    stack.add(DaemonSet("pod-add-settime-capability", namespace="node-agents", **sleeper,
                        capabilities=["SYS_TIME"],
                        allow_capabilities="sets the node's clock",
                        # a capability reaches only a root process (KG211)
                        run_as_user=0, allow_run_as_root="date -s needs CAP_SYS_TIME as root"))
    # in the restricted namespace: a user, a read-only root with one writable folder, groups
    stack.add(Deployment("pod-as-user-guest", **sleeper, run_as_user=405, run_as_group=100,
                         fs_group=100))
    stack.add(Deployment("pod-with-readonly-filesystem", **sleeper,
                         mounts={"/volume": EmptyDir(name="my-volume")}))
    shared = EmptyDir(name="shared-volume")
    stack.add(Deployment(
        "pod-with-shared-volume-fsgroup", fs_group=555, supplemental_groups=[666, 777],
        containers=[
            Container(name="first", **sleeper, run_as_user=1111,
                      mounts={"/volume": shared}),
            Container(name="second", **sleeper, run_as_user=2222,
                      mounts={"/volume": shared}),
        ]))
    # NetworkPolicies: the database accepts the shopping cart only, on 5432
    db = stack.add(StatefulSet(
        "postgres", image="postgres:16.4-alpine", port=Port(5432, name="pg"),
        readiness=TcpProbe(), liveness=TcpProbe(),
        storage="10Gi", storage_path="/var/lib/postgresql/data",
        env={"PGDATA": "/var/lib/postgresql/data/pgdata",
             "POSTGRES_PASSWORD_FILE": "/run/secrets/postgres/password"},
        mounts={"/run/secrets/postgres": SecretFiles("postgres")},
        writable=["/tmp", "/var/run/postgresql"],
        run_as_user=70, run_as_group=70, fs_group=70, peers=False))
    cart = stack.add(Deployment("shopping-cart", image="ghcr.io/acme/shopping-cart:1.0.0",
                                port=Port(8080, name="http"),
                                readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz")))
    cart.connect_to(db, port="pg")
    cart.allow_from(cidr="192.168.1.0/24", port="http")
    return stack
