"""Every public builder called the documented way: ``mypy --strict`` must accept all of it.

``tests/test_typing.py`` type-checks this file without the pydantic mypy plugin (as users run
mypy) and with it, and also runs :func:`build`, so each call is valid at run time too. The
calls use the looser input forms the signatures promise: ``'30s'`` durations, numeric
quantities, tuples for lists, prepared ``dict[str, str]`` variables where values may be richer.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from kubegen import (
    ApiServer,
    ArgoApplication,
    ArgoApplicationSet,
    ArgoAppProject,
    Claim,
    Cluster,
    ClusterDNS,
    ClusterGateway,
    ClusterRole,
    ClusterRoleBinding,
    ConfigFiles,
    ConfigMap,
    ConfigMapKey,
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    DNSConfig,
    Downward,
    DownwardFiles,
    EgressRule,
    EmptyDir,
    Environment,
    ExecProbe,
    ExternalSecret,
    FieldRef,
    Fleet,
    FluxGitRepository,
    FluxHealthCheck,
    FluxKubeConfig,
    FluxKustomization,
    Group,
    GrpcProbe,
    Hook,
    HorizontalPodAutoscaler,
    HostPath,
    HttpProbe,
    HTTPRoute,
    Ingress,
    IngressController,
    IngressRule,
    IPBlock,
    Job,
    LabelSelector,
    LabelSelectorRequirement,
    Layer,
    Manifest,
    Mount,
    Namespace,
    NetworkDefaults,
    NetworkPolicy,
    NetworkPolicyPeer,
    NetworkPolicyPort,
    NodeAffinity,
    NodeRequirement,
    NodeTerm,
    Pod,
    PodAffinity,
    Port,
    RemoteKey,
    Resource,
    ResourceRef,
    Resources,
    Role,
    RoleBinding,
    RoleRef,
    RoutePath,
    Rule,
    ScalingPolicy,
    ScalingRules,
    SealedSecret,
    Secret,
    SecretFiles,
    SecretKey,
    SecretRef,
    Service,
    ServiceAccount,
    ServiceAccountRef,
    ServicePort,
    Stack,
    StackDefaults,
    StatefulSet,
    SyncHook,
    TcpProbe,
    Template,
    Toleration,
    User,
    Vendored,
    VolumeClaim,
)

TEMPLATE = Path(__file__).parent / "workload_examples" / "api-config.yaml.j2"
COMMON_ENV = {"LOG_FORMAT": "json"}  # dict[str, str], passed where values may be ConfigMapKey…
TEAM_LABELS = {"team": "shop"}
SEALED = "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq" + "Qx7m" * 180


def build() -> Stack:
    """A stack that uses every builder; returns it so the test can build its objects."""
    stack = Stack(
        "typed",
        namespace="typed",
        defaults=StackDefaults(resources=Resources(cpu=0.1, memory="128Mi"), replicas=1),
        cluster=Cluster(
            "typed-cluster",
            kubernetes_version="1.33",
            api_server=ApiServer(addresses=("10.0.0.10/32",), port=6443),
            namespaces={"kube-system": "privileged"},
            ingress=IngressController(namespace="ingress-nginx", class_name="nginx",
                                      pods={"app.kubernetes.io/name": "ingress-nginx"}),
            gateways=(ClusterGateway("public", namespace="gateway", section="https",
                                     pods={"gateway.networking.k8s.io/gateway-name": "public"}),),
        ),
    )
    config = stack.add(_config())
    api = stack.add(_api(config))
    db = stack.add(_database())
    stack.add(_node_agent())
    stack.add(Pod("debug", image="busybox:1.36", command=["sleep", "3600"],
                  pod_labels={"acme.dev/purpose": "debug"}))
    stack.add(_migrated())
    for resource in (*_jobs(), *_secrets(), *_access(), *_network(), *_platform(), *_fleet()):
        stack.add(resource)
    stack.add(Job("hooked", image="busybox:1.36", args=["true"]),
              hook=SyncHook("PostSync", delete_policy=("HookSucceeded", "BeforeHookCreation")))
    public = stack.add(Service("api-public", target=api, ports=[
        ServicePort("http", port=80, app_protocol="http")], ip_families=("IPv4",),
        ip_family_policy="SingleStack"))
    stack.add(Service("legacy-db", type="ExternalName", external_name="db.example.com",
                      ports=[ServicePort(5432)]))
    stack.add(Service("api-lb", target=api, type="LoadBalancer", external_traffic_policy="Local",
                      allow_external="the partners' load balancer keeps client IPs"))
    stack.add(Ingress("api", hosts=("api.example.com",), service=public, port="http",
                      cert_manager="letsencrypt-prod"))
    stack.add(HTTPRoute("api", hostnames=["api.example.com"], gateway="public",
                        paths=[RoutePath("/v1", service="api-public", port=80, exact=False)]))
    api.connect_to(db, port="pg")
    api.grant(Rule.read("configmaps"), audience="vault", expiration_seconds=3600)
    db.mount_token("vault", reason="logs in to Vault", expiration_seconds=3600)
    db.grant(Rule.read("configmaps"), name="db-config")
    worker = stack.add(Deployment("worker", image="ghcr.io/acme/api:1.2.3", args=["work"]))
    worker.autoscale(min=2, max=5, cpu=80, scale_down=ScalingRules(
        stabilization="5m", policies=[ScalingPolicy(percent=50, period=60)]))
    batch = stack.add(Deployment("batch", image="ghcr.io/acme/api:1.2.3", args=["batch"]))
    stack.add(HorizontalPodAutoscaler("batch", target=batch, min=1, max=3, memory=75,
                                      scale_up=ScalingRules(select="Disabled")))
    nginx = stack.add(
        Vendored(
            Path(__file__).parent / "vendor" / "ingress-nginx-controller-v1.15.1-deploy.yaml",
            source="https://github.com/kubernetes/ingress-nginx",
            version="controller-v1.15.1",
            licence="Apache-2.0",
        )
    )
    nginx.drop("Namespace", "ingress-nginx")
    nginx.set_replicas("ingress-nginx-controller", 2)
    nginx.workload("ingress-nginx-controller").connect_to(api)
    return stack


def _migrated() -> Deployment:
    """A workload kept as upstream ships it (``kubegen import manifests`` writes such calls)."""
    reason = "migrated as upstream ships it; OPS-7"
    return Deployment(
        "podinfo",
        namespace="typed-batch",
        selector={"app": "podinfo"},
        service_account="default",
        allow_default_service_account=reason,
        allow_token_automount=reason,
        containers=(
            Container(
                name="podinfod",
                image="ghcr.io/stefanprodan/podinfo:6.14.1",
                pull_policy="IfNotPresent",
                allow_cached_tag=reason,
                allow_no_resources=reason,
                allow_default_capabilities=reason,
                ports=(Port(9898, name="http"), Port(9797, unnamed=True)),
                readiness=HttpProbe("/readyz", port=10254, undeclared=True),
                liveness=TcpProbe(port=10255, undeclared=True),
                startup=GrpcProbe(port=10256, undeclared=True),
                mounts={"/etc/tls": SecretFiles("podinfo-tls", optional=True),
                        "/etc/podinfo": ConfigFiles("podinfo", optional=True)},
            ),
            Container(
                name="exporter",
                image="ghcr.io/acme/exporter:1.0",
                resources=Resources(cpu="50m", memory="64Mi", allow_no_memory_limit=reason),
            ),
        ),
    )


def _config() -> ConfigMap:
    return ConfigMap(
        "api",
        data={"FEATURE_FLAGS": "checkout-v2"},
        templates=[
            Template(TEMPLATE, values={"env": "dev", "port": 8080, "db_hosts": ["db"],
                                       "log_level": "info"}),
            Template(str(TEMPLATE), key="copy.yaml", values={
                "env": "dev", "port": 8080, "db_hosts": [], "log_level": "debug"}),
        ],
        labels=TEAM_LABELS,
    )


def _api(config: ConfigMap) -> Deployment:
    return Deployment(
        "api",
        image="ghcr.io/acme/api:1.2.3",
        args=("serve", "--port", "8080"),
        port=Port(8080, name="http"),
        readiness=HttpProbe("/ready", period="5s"),
        liveness=HttpProbe("/healthz", port="http", failure_threshold=6),
        startup=HttpProbe("/healthz", period=timedelta(seconds=2), failure_threshold=30),
        resources=Resources(cpu="250m", memory=256 * 2**20, cpu_limit=1),
        env={
            **COMMON_ENV,
            "FLAGS": ConfigMapKey(config, "FEATURE_FLAGS"),
            "POD": Downward.pod_name(),
            "NODE": FieldRef("spec.nodeName"),
            "MEMORY": ResourceRef("limits.memory", divisor="1Mi"),
        },
        mounts={
            "/etc/api": ConfigFiles(config, mode=0o440),
            "/run/secrets/db": SecretFiles(SecretRef("db"), items={"password": "password"}),
            "/etc/podinfo": DownwardFiles(labels=True, annotations=False),
            "/etc/api-copy.yaml": Mount(ConfigFiles("api"), sub_path="copy.yaml"),
            "/srv/uploads": Claim("uploads", access_mode="ReadWriteMany"),
        },
        writable=["/tmp"],
        replicas=2,
        min_ready="10s",
        max_surge="50%",
        topology_spread="zones",
        component="api",
        pod_labels=TEAM_LABELS,
        image_pull_secrets=("registry",),
        supplemental_groups=[20000],
        fs_group_change_policy="OnRootMismatch",
        sysctls={"net.ipv4.ip_unprivileged_port_start": 0},
        node_affinity=NodeAffinity(
            require=[NodeTerm(labels={"kubernetes.io/arch": ["amd64", "arm64"]})],
            prefer=(NodeTerm(expressions=[NodeRequirement("cpu-generation", "Gt",
                                                          values=[4])], weight=20),),
        ),
        avoid=["self", PodAffinity(TEAM_LABELS, topology="zones", namespaces=["batch"])],
        dns_config=DNSConfig(options={"ndots": "2"}),
        pre_stop=Hook(sleep="5s"),
        post_start=Hook(http="/warm", port="http"),
        termination_grace="40s",
        names={"disruption-budget": "api-pdb", "egress-policy": "api-out"},
    )


def _database() -> StatefulSet:
    return StatefulSet(
        "db",
        container=Container(
            image="postgres:16.4",
            ports=[Port(5432, name="pg")],
            readiness=ExecProbe(["pg_isready"]),
            liveness=TcpProbe(port="pg", period=20),
            env={"PGPASSWORD": SecretKey("db", "password")},
            mounts={
                "/var/lib/postgresql": Claim("data"),
                "/scratch": EmptyDir(name="scratch", size_limit="1Gi"),
            },
            allow_secret_env="the image reads no password file",
        ),
        claims=[VolumeClaim("data", size="10Gi", access_modes=["ReadWriteOnce"])],
        replicas=1,
        strategy="OnDelete",
        storage_class="fast",
    )


def _node_agent() -> DaemonSet:
    return DaemonSet(
        "agent",
        image="ghcr.io/acme/agent:0.9.1",
        ports=[9100],
        readiness=GrpcProbe(port=9100),
        liveness=GrpcProbe(port=9100, service="agent"),
        mounts={"/host/proc": Mount(HostPath("/proc", type="Directory",
                                             reason="reads the node's process table"),
                                    propagation="HostToContainer"),
                "/host/sys": HostPath("/sys", type=None, reason="reads the node's devices")},
        max_unavailable="10%",
        tolerations=[Toleration(), {"key": "dedicated", "operator": "Exists"},
                     Toleration("gpu", value="true", effect="NoExecute", seconds="1m")],
        dns_policy="ClusterFirst",
        priority_class="system-node-critical",
    )


def _jobs() -> list[Job | CronJob]:
    migrate = Job(
        "migrate", image="ghcr.io/acme/api:1.2.3", command=["migrate"], active_deadline="15m",
        service_account=ServiceAccount("migrator", image_pull_secrets=("registry",)),
    )
    backup = CronJob(
        "backup",
        schedule="@daily",
        image="postgres:16.4",
        command=["pg_dump"],
        starting_deadline=300,
        writable=("/backup",),
    )
    return [migrate, backup]


def _secrets() -> list[Secret | ExternalSecret | SealedSecret]:
    return [
        Secret("dev-token", data={"token": "not-a-secret"}, allow_plaintext="a dev-only token"),
        ExternalSecret(
            "db",
            store="vault",
            data={"password": RemoteKey("shop/db", property="password"), "user": "shop/db-user"},
            refresh="30m",
        ),
        SealedSecret("api-key", encrypted_data={"key": SEALED}),
    ]


def _access() -> list[ServiceAccount | Role | ClusterRole | RoleBinding | ClusterRoleBinding]:
    reader = Role("config-reader", rules=[Rule.read("configmaps")])
    viewer = ClusterRole(
        "node-viewer", rules=[Rule(resources=["nodes"], verbs=("get", "list", "watch"))]
    )
    ci = ServiceAccount("ci", image_pull_secrets=["registry"])
    return [
        reader,
        viewer,
        ci,
        RoleBinding(
            "ci-reads-config",
            role=reader,
            subjects=[ci, ServiceAccountRef("deployer", namespace="tools", external=True)],
        ),
        RoleBinding(
            "oncall-view",
            role=RoleRef("view", external=True),
            subjects=[User("jane@example.com"), Group("platform-oncall")],
        ),
        ClusterRoleBinding("ops-node-viewer", role=viewer, subjects=[Group("ops")]),
    ]


def _network() -> list[NetworkPolicy | NetworkDefaults]:
    monitoring = NetworkPolicyPeer(
        namespace_selector=LabelSelector(
            match_expressions=[
                LabelSelectorRequirement(key="team", operator="In", values=["observability"])
            ]
        ),
        pod_selector=LabelSelector(match_labels={"app": "prometheus"}),
    )
    return [
        NetworkPolicy(
            "scrape-agent",
            pod_selector=LabelSelector(match_labels={"app.kubernetes.io/name": "agent"}),
            policy_types=["Ingress", "Egress"],
            ingress=[IngressRule(from_=[monitoring], ports=[NetworkPolicyPort(port=9100)])],
            egress=[
                EgressRule(
                    to=[NetworkPolicyPeer(ip_block=IPBlock(cidr="10.0.0.0/8",
                                                           except_=["10.1.0.0/16"]))],
                    ports=[NetworkPolicyPort(port=443, protocol="TCP")],
                )
            ],
        ),
        NetworkDefaults(dns=ClusterDNS(pods={"k8s-app": "coredns"})),
    ]


def _platform() -> list[Namespace | Manifest | ArgoApplication | ArgoApplicationSet
                        | FluxGitRepository | FluxKustomization]:
    repo = FluxGitRepository("platform", url="https://github.com/acme/platform.git", tag="v1.0")
    return [
        Namespace("typed-batch", pod_security="baseline", reason="legacy batch images"),
        Manifest(
            {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "defaults"},
             "spec": {"limits": [{"type": "Container", "default": {"cpu": "500m"}}]}},
        ),
        ArgoApplication("dev", repo_url="https://github.com/acme/platform.git",
                        path="output/dev", revision="main"),
        ArgoApplicationSet("envs", repo_url="git@github.com:acme/platform.git",
                           exclude=["output/gitops"], name_prefix="shop-"),
        repo,
        FluxKustomization(
            "dev",
            source=repo,
            path="./output/dev",
            wait=False,
            health_checks=[FluxHealthCheck(api_version="apps/v1", kind="Deployment",
                                           name="api", namespace="typed")],
            reason="the api rolls out slowly",
        ),
    ]


def _fleet() -> list[Resource]:
    eu = Cluster("eu-1", argocd_server="https://eu-1.k8s.example.com",
                 labels={"acme.dev/cluster": "eu-1"},
                 flux_kubeconfig=FluxKubeConfig(secret="eu-1-kubeconfig", key="value.yaml"))
    us = Cluster("us-1", argocd_server="https://us-1.k8s.example.com",
                 labels={"acme.dev/cluster": "us-1"},
                 flux_kubeconfig=FluxKubeConfig(config_map="us-1"))
    fleet = Fleet(environments=(
        Environment("staging", clusters=(eu,)),
        Environment("live", clusters=[eu, us], layers=(Layer("migrations", timeout="15m"), "app")),
    ))
    project = ArgoAppProject("adhoc", source_repos=("https://github.com/acme/platform.git",),
                             clusters=fleet.clusters("live"))
    return [
        project,
        *fleet.argocd(repo_url="https://github.com/acme/platform.git", generator="clusters"),
        *fleet.flux(url="https://github.com/acme/platform.git", source="fleet-repo"),
    ]
