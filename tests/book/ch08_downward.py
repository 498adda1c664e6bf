"""KiA ch. 8: the Downward API, and a pod that talks to the API server (curl through a
kubectl-proxy ambassador, with its ServiceAccount's token)."""
from kubegen import (
    ApiServer,
    Cluster,
    Container,
    Deployment,
    Downward,
    DownwardFiles,
    ResourceRef,
    Resources,
    Rule,
    Stack,
)

CLUSTER = Cluster("book", api_server=ApiServer(addresses=["172.18.0.2/32"], port=6443))


def build() -> Stack:
    stack = Stack("downward", namespace="downward", cluster=CLUSTER)
    stack.add(Deployment(
        "downward",
        image="busybox:1.36.1",
        command=["sleep", "9999999"],
        resources=Resources(cpu="15m", memory="1Mi", cpu_limit="100m", memory_limit="4Mi"),
        env={
            "POD_NAME": Downward.pod_name(),
            "POD_NAMESPACE": Downward.namespace(),
            "POD_IP": Downward.pod_ip(),
            "NODE_NAME": Downward.node_name(),
            "SERVICE_ACCOUNT": Downward.service_account(),
            "CONTAINER_CPU_REQUEST_MILLICORES": Downward.cpu_request(divisor="1m"),
            "CONTAINER_MEMORY_LIMIT_KIBIBYTES": Downward.memory_limit(divisor="1Ki"),
        },
        pod_labels={"foo": "bar"},
        pod_annotations={"key1": "value1", "key2": "multi\nline\nvalue\n"},
        mounts={"/etc/downward": DownwardFiles(labels=True, annotations=True, items={
            "podName": Downward.pod_name(),
            "podNamespace": Downward.namespace(),
            "containerCpuRequestMilliCores": ResourceRef("requests.cpu", container="downward",
                                                         divisor="1m"),
            "containerMemoryLimitBytes": ResourceRef("limits.memory", container="downward",
                                                     divisor="1"),
        })},
    ))
    curl = stack.add(Deployment(
        "curl-with-ambassador",
        containers=[
            Container(name="main", image="curlimages/curl:8.10.1",
                      command=["sleep", "9999999"]),
            Container(name="ambassador", image="luksa/kubectl-proxy:1.6.2"),
        ],
    ))
    # `curl localhost:8001/api/v1/namespaces/downward/pods` through the ambassador
    curl.grant(Rule(resources=["pods"], verbs=["list"]))
    return stack
