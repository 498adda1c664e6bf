"""KiA ch. 4: ReplicaSets, DaemonSets, Jobs."""
from kubegen import CronJob, DaemonSet, Deployment, HttpProbe, Job, Port, Stack


def build() -> Stack:
    stack = Stack("kubia", namespace="kubia")
    stack.add(Deployment(
        "kubia", image="luksa/kubia:v1", replicas=3, port=Port(8080, name="http"),
        readiness=HttpProbe("/"), liveness=HttpProbe("/", initial_delay="15s"),
    ))
    stack.add(DaemonSet(
        "ssd-monitor", image="luksa/ssd-monitor@sha256:" + "5e" * 32,  # only :latest upstream
        node_selector={"disk": "ssd"},
    ))
    stack.add(Job("batch-job", image="luksa/batch-job@sha256:" + "b4" * 32))
    stack.add(Job("multi-completion-batch-job", image="luksa/batch-job@sha256:" + "b4" * 32,
                  completions=5, parallelism=2))
    stack.add(CronJob("batch-job-every-fifteen-minutes", schedule="0,15,30,45 * * * *",
                      image="luksa/batch-job@sha256:" + "b4" * 32, starting_deadline="15s"))
    return stack
