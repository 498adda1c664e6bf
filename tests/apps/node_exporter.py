"""Prometheus node-exporter on every node, as the prometheus-community Helm chart deploys it.

Upstream: github.com/prometheus-community/helm-charts, charts/prometheus-node-exporter (v4.x
defaults, Apache-2.0): hostNetwork and hostPID, the node's /proc, /sys and / mounted read-only
under /host (the root with HostToContainer propagation), uid 65534, every taint tolerated, port
9100 on the node's address, a ClusterIP Service Prometheus discovers the pods through.
"""
from kubegen import (
    DaemonSet,
    HostPath,
    HttpProbe,
    Mount,
    Namespace,
    Port,
    Resources,
    Service,
    ServicePort,
    Stack,
    Toleration,
)


def build() -> Stack:
    stack = Stack("node-exporter", namespace="monitoring")
    stack.add(Namespace("monitoring", pod_security="privileged",
                        reason="node-exporter shares the nodes' network and process namespaces "
                               "and reads their filesystems"))
    exporter = stack.add(DaemonSet(
        "node-exporter",
        image="quay.io/prometheus/node-exporter:v1.8.2",
        args=["--path.procfs=/host/proc", "--path.sysfs=/host/sys", "--path.rootfs=/host/root",
              "--path.udev.data=/host/root/run/udev/data",
              "--web.listen-address=[$(HOST_IP)]:9100"],
        env={"HOST_IP": "0.0.0.0"},
        port=Port(9100, name="metrics"),
        readiness=HttpProbe("/"), liveness=HttpProbe("/"),
        resources=Resources(cpu="50m", memory="64Mi", cpu_limit="250m", memory_limit="128Mi"),
        mounts={
            "/host/proc": HostPath("/proc", reason="reads the node's kernel and process stats"),
            "/host/sys": HostPath("/sys", reason="reads the node's hardware and cgroup stats"),
            "/host/root": Mount(HostPath("/", reason="reports every filesystem of the node"),
                                propagation="HostToContainer"),
        },
        allow_host_network="reports the node's network interfaces, on the node's address",
        allow_host_pid="sees every process of the node",
        run_as_user=65534, run_as_group=65534, fs_group=65534,  # nobody, as the image's USER
        tolerations=[Toleration()],  # every node, tainted or not
        priority_class="system-node-critical",
    ))
    stack.add(Service("node-exporter", target=exporter, ports=[ServicePort("metrics")]))
    # Prometheus scrapes each node's address (hostNetwork: pod selectors do not match it)
    exporter.allow_from(cidr="10.0.0.0/16", port="metrics")  # the node subnet
    return stack
