"""KiA ch. 11: Internals — a controller that watches pods and elects a leader with a Lease,
as the Controller Manager and the Scheduler do (two replicas, one active)."""
from kubegen import ApiServer, Cluster, Deployment, Rule, Stack

CLUSTER = Cluster("book", api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443))


def build() -> Stack:
    stack = Stack("controllers", namespace="controllers", cluster=CLUSTER)
    ctl = stack.add(Deployment("pod-watcher", image="ghcr.io/acme/pod-watcher:1.0.0",
                               replicas=2, args=["--leader-elect=true"]))
    ctl.grant(Rule.read("pods"), Rule(resources=["events"], verbs=["create", "patch"]))
    ctl.grant(Rule(api_groups=["coordination.k8s.io"], resources=["leases"],
                   verbs=["get", "create", "update"]), purpose="leader-election")
    return stack
