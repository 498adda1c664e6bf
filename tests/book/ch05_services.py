"""KiA ch. 5: Services — kubia behind a Service, named ports, NodePort, LoadBalancer, Ingress,
a readiness probe, a headless Service and a Service for something outside the cluster."""
from kubegen import (
    Cluster,
    Deployment,
    ExecProbe,
    HttpProbe,
    Ingress,
    IngressController,
    Port,
    Service,
    ServicePort,
    Stack,
)

CLUSTER = Cluster("book", ingress=IngressController(
    namespace="ingress-nginx", class_name="nginx",
    pods={"app.kubernetes.io/name": "ingress-nginx"}))


def build() -> Stack:
    stack = Stack("kubia", namespace="kubia", cluster=CLUSTER)
    kubia = stack.add(Deployment(
        "kubia", image="luksa/kubia:v1", replicas=3,
        ports=[Port(8080, name="http"), Port(8443, name="https")],
        # the book's readiness probe: ready once `kubectl exec … -- touch /tmp/ready` ran; the
        # root filesystem is read-only, so the file lives on a writable /tmp, not in /var
        readiness=ExecProbe(["ls", "/tmp/ready"]), liveness=HttpProbe("/"), writable=["/tmp"],
    ))
    svc = kubia.expose(ServicePort("http", port=80), ServicePort("https", port=443),
                       session_affinity="ClientIP")  # each client stays on one pod
    stack.add(Service("kubia-nodeport", target=kubia, type="NodePort",
                      ports=[ServicePort("http", port=80, node_port=30123)],
                      allow_external="the book's NodePort example, node port 30123"))
    stack.add(Service("kubia-loadbalancer", target=kubia, type="LoadBalancer",
                      ports=[ServicePort("http", port=80)],
                      allow_external="reachable from the internet through the cloud's LB"))
    stack.add(Service("kubia-headless", target=kubia, type="Headless",
                      ports=[ServicePort("http", port=80)]))
    # NodePort and LoadBalancer traffic comes from outside every pod selector (KG507)
    kubia.allow_from(cidr="0.0.0.0/0", port="http",
                     reason="the NodePort and LoadBalancer Services are public")
    # a DNS alias for an API outside the cluster; kubia may call it over HTTPS
    stack.add(Service("external-service", type="ExternalName",
                      external_name="api.somecompany.com"))
    kubia.allow_to_internet(port=443, reason="calls api.somecompany.com (external-service)")
    stack.add(Ingress("kubia", hosts=["kubia.example.com"], service=svc, port="http",
                      cert_manager="letsencrypt"))
    return stack
