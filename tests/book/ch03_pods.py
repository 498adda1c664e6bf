"""KiA ch. 3: Pods — kubia-manual with labels, a pod scheduled by a node selector, in a
namespace of their own."""
from kubegen import HttpProbe, Pod, Port, Stack


def build() -> Stack:
    stack = Stack("kubia", namespace="custom-namespace")
    kubia = {"image": "luksa/kubia:v1", "port": Port(8080, name="http"),
             "readiness": HttpProbe("/"), "liveness": HttpProbe("/")}
    stack.add(Pod("kubia-manual", **kubia,
                  pod_labels={"creation_method": "manual", "env": "prod"}))
    stack.add(Pod("kubia-gpu", **kubia, node_selector={"gpu": "true"}))
    return stack
