"""KiA ch. 9: Deployments — kubia v3 rolled out one pod at a time, held back by a readiness
probe and minReadySeconds (a bad version never becomes available)."""
from kubegen import Deployment, HttpProbe, Port, Stack


def build() -> Stack:
    stack = Stack("kubia", namespace="kubia")
    kubia = stack.add(Deployment(
        "kubia", image="luksa/kubia:v3", replicas=3,
        port=Port(8080, name="http"),
        readiness=HttpProbe("/", period="1s"), liveness=HttpProbe("/"),
        min_ready="10s", max_surge=1, max_unavailable=0,
    ))
    kubia.expose()
    return stack
