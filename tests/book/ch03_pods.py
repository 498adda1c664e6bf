"""KiA ch. 3: Pods — kubia-manual, labels, a node selector, a namespace of its own."""
from kubegen import Deployment, HttpProbe, Port, Stack


def build() -> Stack:
    stack = Stack("kubia", namespace="custom-namespace")
    stack.add(Deployment(
        "kubia-manual",
        image="luksa/kubia:v1",
        port=Port(8080, name="http"),
        readiness=HttpProbe("/"), liveness=HttpProbe("/"),
        pod_labels={"creation_method": "manual", "env": "prod"},
    ))
    stack.add(Deployment(
        "kubia-gpu",
        image="luksa/kubia:v1",
        port=Port(8080, name="http"),
        readiness=HttpProbe("/"), liveness=HttpProbe("/"),
        node_selector={"gpu": "true"},
    ))
    return stack
