"""KiA ch. 15: Automatic scaling — kubia scaled by a HorizontalPodAutoscaler on CPU (30% of
its 100m request, 1 to 5 replicas)."""
from kubegen import Deployment, HttpProbe, Port, Resources, Stack


def build() -> Stack:
    stack = Stack("kubia", namespace="kubia")
    kubia = stack.add(Deployment(
        "kubia", image="luksa/kubia:v1", port=Port(8080, name="http"),
        readiness=HttpProbe("/"), liveness=HttpProbe("/"),
        resources=Resources(cpu="100m", memory="64Mi"),
    ))
    kubia.autoscale(min=1, max=5, cpu=30)
    kubia.expose()
    return stack
