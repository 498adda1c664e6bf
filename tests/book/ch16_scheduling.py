"""KiA ch. 16: Advanced scheduling — a pod tolerating the production nodes' taint, node
affinity (required and preferred), and pod affinity / anti-affinity between a frontend and
its backend."""
from kubegen import (
    Deployment,
    HttpProbe,
    NodeAffinity,
    NodeTerm,
    PodAffinity,
    Port,
    Stack,
    Toleration,
)


def build() -> Stack:
    stack = Stack("scheduling", namespace="scheduling")
    web = {"image": "luksa/kubia:v1", "port": Port(8080, name="http"),
           "readiness": HttpProbe("/"), "liveness": HttpProbe("/")}
    stack.add(Deployment(
        "prod", **web,
        tolerations=[Toleration("node-type", value="production", effect="NoSchedule"),
                     Toleration("node.kubernetes.io/unreachable", effect="NoExecute",
                                seconds=300)],
    ))
    stack.add(Deployment(
        "kubia-gpu", **web,
        node_affinity=NodeAffinity(require=[NodeTerm(labels={"gpu": ["true"]})]),
    ))
    stack.add(Deployment(
        "pref", **web, replicas=5,
        node_affinity=NodeAffinity(prefer=[
            NodeTerm(labels={"availability-zone": ["zone1"]}, weight=80),
            NodeTerm(labels={"share-type": ["dedicated"]}, weight=20),
        ]),
    ))
    backend = stack.add(Deployment("backend", **web))
    stack.add(Deployment(
        "frontend", **web, replicas=5,
        near=[PodAffinity(backend, required=True)],   # on the node of a backend pod
    ))
    stack.add(Deployment(
        "frontend-spread", **web, replicas=5,
        avoid=[PodAffinity("self", required=True)],   # never two on one node
        max_unavailable=1, max_surge=0,  # so a rollout frees a node first (KG707)
    ))
    return stack
