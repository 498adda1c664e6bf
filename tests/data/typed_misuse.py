"""Calls a type checker must refuse: proof that builder signatures are real, not ``**Any``.

Each line ending in ``# E: <codes>`` must get exactly those mypy error codes, and no other line
any (``tests/test_typing.py``). This file is only type-checked, never run.
"""

from kubegen import (
    ConfigMap,
    Container,
    CronJob,
    Deployment,
    Hook,
    HttpProbe,
    Ingress,
    Port,
    Resources,
    Rule,
    StatefulSet,
    Toleration,
)

Deployment("api", imagee="ghcr.io/acme/api:1.2.3")  # E: call-arg
Deployment("api", image="ghcr.io/acme/api:1.2.3", replicas="3")  # E: arg-type
Deployment("api", image="ghcr.io/acme/api:1.2.3", port="http")  # E: arg-type
Deployment(name="api", image="ghcr.io/acme/api:1.2.3")  # E: call-arg
StatefulSet("db", image="postgres:16.4", topology_spread="region")  # E: arg-type
CronJob("backup", image="postgres:16.4")  # E: call-arg
Container(args=["serve"])  # E: call-arg
Container(image="ghcr.io/acme/api:1.2.3", command="serve")  # E: arg-type
Rule(resources=["pods"], verbs="get")  # E: arg-type
HttpProbe("/ready", period=1.5)  # E: arg-type
Resources(cpu="100m", memory=["128Mi"])  # E: arg-type
ConfigMap("settings", {"LOG_LEVEL": "info"})  # E: call-arg, arg-type
Port("8080")  # E: arg-type
Toleration("dedicated", effect="NoEvict")  # E: arg-type
Deployment("api", image="ghcr.io/acme/api:1.2.3", names={"pdb": "api"})  # E: dict-item
Deployment("api", image="ghcr.io/acme/api:1.2.3", pre_stop=Hook(sleep=[5]))  # E: arg-type
Ingress("shop", service="web", tls_secret="shop-tls")  # E: call-arg
Deployment("api", image="ghcr.io/acme/api:1.2.3").autoscale(max=4, cpu=70)  # E: call-arg
