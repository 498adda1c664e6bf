"""KiA ch. 10: StatefulSets — kubia-pet with a claim per replica behind its headless Service,
finding its peers through DNS SRV records; and a MongoDB replica set."""
from kubegen import ExecProbe, HttpProbe, Port, Resources, Service, Stack, StatefulSet, TcpProbe


def build() -> Stack:
    stack = Stack("kubia", namespace="kubia")
    kubia = stack.add(StatefulSet(
        "kubia", image="luksa/kubia-pet-peers@sha256:" + "9e" * 32, replicas=2,
        port=Port(8080, name="http"), readiness=HttpProbe("/"), liveness=HttpProbe("/"),
        storage="1Mi", storage_path="/var/data",
    ))
    stack.add(Service("kubia-public", target=kubia))
    stack.add(StatefulSet(
        "mongodb", image="mongo:7.0.14", replicas=3,
        args=["--replSet", "rs0", "--bind_ip_all"],
        port=Port(27017, name="mongodb"),
        readiness=ExecProbe(["mongosh", "--quiet", "--eval", "db.adminCommand('ping')"]),
        liveness=TcpProbe(),
        storage="10Gi", storage_path="/data/db",
        writable=["/tmp", "/data/configdb"],
        run_as_user=999, run_as_group=999, fs_group=999,
        resources=Resources(cpu="500m", memory="1Gi"),
    ))
    return stack
