"""Google's microservices-demo "Online Boutique", from its release/kubernetes-manifests.yaml.

Upstream: github.com/GoogleCloudPlatform/microservices-demo, release v0.10.6 (Apache-2.0).
Eleven services speaking gRPC to each other, redis-cart for the carts, the frontend behind a
ClusterIP Service and a LoadBalancer, and a load generator that waits for the frontend.
Written from README.md and docs/*.md only; ports, env, probes and sizes are upstream's.
"""
from kubegen import (
    Cluster,
    Container,
    Deployment,
    GrpcProbe,
    HttpProbe,
    Ingress,
    IngressController,
    Port,
    Resources,
    Service,
    ServicePort,
    Stack,
    TcpProbe,
)

CLUSTER = Cluster("demo", ingress=IngressController(
    namespace="ingress-nginx", class_name="nginx",
    pods={"app.kubernetes.io/name": "ingress-nginx"}))
REGISTRY = "us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo"
VERSION = "v0.10.6"
SMALL = Resources(cpu="100m", memory="64Mi", cpu_limit="200m", memory_limit="128Mi")

# name: (port, Service port, requests/limits, probe period, probe delay, grace, extra env)
GRPC: dict[str, tuple[int, int, Resources, int | None, int | None, int | None,
                      dict[str, str]]] = {
    "adservice": (9555, 9555, Resources(cpu="200m", memory="180Mi", cpu_limit="300m",
                                        memory_limit="300Mi"), 15, 20, 5, {}),
    "cartservice": (7070, 7070, Resources(cpu="200m", memory="64Mi", cpu_limit="300m",
                                          memory_limit="128Mi"), None, 15, 5,
                    {"REDIS_ADDR": "redis-cart:6379"}),
    "checkoutservice": (5050, 5050, SMALL, None, None, None, {
        "PRODUCT_CATALOG_SERVICE_ADDR": "productcatalogservice:3550",
        "SHIPPING_SERVICE_ADDR": "shippingservice:50051",
        "PAYMENT_SERVICE_ADDR": "paymentservice:50051",
        "EMAIL_SERVICE_ADDR": "emailservice:5000",
        "CURRENCY_SERVICE_ADDR": "currencyservice:7000",
        "CART_SERVICE_ADDR": "cartservice:7070"}),
    "currencyservice": (7000, 7000, SMALL, None, None, 5, {"DISABLE_PROFILER": "1"}),
    "emailservice": (8080, 5000, SMALL, 5, None, 5, {"DISABLE_PROFILER": "1"}),
    "paymentservice": (50051, 50051, SMALL, None, None, 5, {"DISABLE_PROFILER": "1"}),
    "productcatalogservice": (3550, 3550, SMALL, None, None, 5, {"DISABLE_PROFILER": "1"}),
    "recommendationservice": (8080, 8080, Resources(cpu="100m", memory="220Mi",
                                                    cpu_limit="200m", memory_limit="450Mi"),
                              5, None, 5, {
                                  "PRODUCT_CATALOG_SERVICE_ADDR": "productcatalogservice:3550",
                                  "DISABLE_PROFILER": "1"}),
    "shippingservice": (50051, 50051, SMALL, 5, None, None, {"DISABLE_PROFILER": "1"}),
}
# where upstream's liveness period differs from the readiness one
LIVENESS_PERIOD = {"cartservice": 10, "shippingservice": None}
# who calls whom (from the *_ADDR variables)
CALLS = {
    "frontend": ["productcatalogservice", "currencyservice", "cartservice",
                 "recommendationservice", "shippingservice", "checkoutservice", "adservice"],
    "checkoutservice": ["productcatalogservice", "shippingservice", "paymentservice",
                        "emailservice", "currencyservice", "cartservice"],
    "recommendationservice": ["productcatalogservice"],
}
# the images run as uid/gid 1000 upstream (the distroless and python images' own user)
USER = {"run_as_user": 1000, "run_as_group": 1000, "fs_group": 1000}


def _image(name: str) -> str:
    return f"{REGISTRY}/{name}:{VERSION}"


def build() -> Stack:
    stack = Stack("boutique", namespace="boutique", cluster=CLUSTER)
    services: dict[str, Deployment] = {}
    for name, (port, service_port, resources, period, delay, grace, env) in GRPC.items():
        probe = GrpcProbe(period=period, initial_delay=delay)
        own_port = {} if name == "cartservice" else {"PORT": str(port)}  # cart: ASP.NET default
        workload = stack.add(Deployment(
            name, image=_image(name), port=Port(port, name="grpc"),
            env={**own_port, **env}, resources=resources, readiness=probe,
            liveness=GrpcProbe(period=LIVENESS_PERIOD.get(name, period), initial_delay=delay),
            termination_grace=grace, **USER))
        workload.expose(ServicePort("grpc", port=service_port))
        services[name] = workload

    frontend_env = {
        "PORT": "8080",
        "PRODUCT_CATALOG_SERVICE_ADDR": "productcatalogservice:3550",
        "CURRENCY_SERVICE_ADDR": "currencyservice:7000",
        "CART_SERVICE_ADDR": "cartservice:7070",
        "RECOMMENDATION_SERVICE_ADDR": "recommendationservice:8080",
        "SHIPPING_SERVICE_ADDR": "shippingservice:50051",
        "CHECKOUT_SERVICE_ADDR": "checkoutservice:5050",
        "AD_SERVICE_ADDR": "adservice:9555",
        "SHOPPING_ASSISTANT_SERVICE_ADDR": "shoppingassistantservice:80",  # not deployed
        "ENABLE_PROFILER": "0",
    }
    frontend = stack.add(Deployment(
        "frontend", image=_image("frontend"), port=Port(8080, name="http"), env=frontend_env,
        readiness=HttpProbe("/_healthz", initial_delay=10,
                            headers={"Cookie": "shop_session-id=x-readiness-probe"}),
        liveness=HttpProbe("/_healthz", initial_delay=10,
                           headers={"Cookie": "shop_session-id=x-liveness-probe"}),
        resources=SMALL, **USER))
    frontend_service = frontend.expose(ServicePort("http", port=80))
    stack.add(Service("frontend-external", target=frontend, type="LoadBalancer",
                      ports=[ServicePort("http", port=80)],
                      allow_external="the shop's public entry point, as upstream"))
    # a LoadBalancer's traffic comes from outside every pod selector (KG507)
    frontend.allow_from(cidr="0.0.0.0/0", port="http",
                        reason="the public shop, through the cloud load balancer")
    stack.add(Ingress("boutique", hosts=["boutique.example.com"], service=frontend_service,
                      cert_manager="letsencrypt-prod"))
    services["frontend"] = frontend

    redis = stack.add(Deployment(
        "redis-cart", image="redis:7.4.1-alpine", port=Port(6379, name="tcp-redis"),
        readiness=TcpProbe(period=5), liveness=TcpProbe(period=5),
        resources=Resources(cpu="70m", memory="200Mi", cpu_limit="125m", memory_limit="256Mi"),
        writable=["/data"], **USER))
    redis.expose()

    for caller, callees in CALLS.items():
        for callee in callees:
            services[caller].connect_to(services[callee], port="grpc")
    services["cartservice"].connect_to(redis, port="tcp-redis")

    loadgenerator = stack.add(Deployment(
        "loadgenerator", image=_image("loadgenerator"), termination_grace=5,
        env={"FRONTEND_ADDR": "frontend:80", "USERS": "10", "RATE": "1"},
        resources=Resources(cpu="300m", memory="256Mi", cpu_limit="500m", memory_limit="512Mi"),
        init_containers=[Container(
            name="frontend-check",
            image="busybox:1.38.0@sha256:"
                  "fd8d9aa63ba2f0982b5304e1ee8d3b90a210bc1ffb5314d980eb6962f1a9715d",
            command=["/bin/sh", "-exc", WAIT_FOR_FRONTEND],
            env={"FRONTEND_ADDR": "frontend:80"},
            resources=Resources(cpu="10m", memory="16Mi"))],
        **USER))
    loadgenerator.connect_to(frontend, port="http")
    return stack


WAIT_FOR_FRONTEND = """\
MAX_RETRIES=12
RETRY_INTERVAL=10
for i in $(seq 1 $MAX_RETRIES); do
  echo "Attempt $i: Pinging frontend: ${FRONTEND_ADDR}..."
  STATUSCODE=$(wget --server-response http://${FRONTEND_ADDR} 2>&1 | awk '/^  HTTP/{print $2}')
  if [ $STATUSCODE -eq 200 ]; then
      echo "Frontend is reachable."
      exit 0
  fi
  echo "Error: Could not reach frontend - Status code: ${STATUSCODE}"
  sleep $RETRY_INTERVAL
done
echo "Failed to reach frontend after $MAX_RETRIES attempts."
exit 1
"""
