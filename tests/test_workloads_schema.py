"""Every object the workload builders render is valid for the Kubernetes API (strict schema)."""

from __future__ import annotations

from typing import Any

import pytest
from rbac_support import CLUSTER
from workload_examples import build_shop
from workload_support import IMAGE, TAGGED

from kubegen import (
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    DownwardFiles,
    HostPath,
    HttpProbe,
    Job,
    Port,
    Rule,
    Service,
    ServicePort,
    Stack,
)

kv = pytest.importorskip("kubernetes_validate")
VERSION = "1.33"
CRD_GROUPS = ("external-secrets.io", "bitnami.com")


def _validate(stack: Stack) -> list[str]:
    problems = []
    for obj in stack.objects():
        if obj.group in CRD_GROUPS:
            continue
        try:
            kv.validate(obj.body, VERSION, strict=True)
        except kv.ValidationError as exc:
            problems.append(f"{obj.display}: {exc}")
    return problems


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_example_shop_is_schema_valid(env: str) -> None:
    assert _validate(build_shop(env)) == []


def _variants(stack: Stack) -> None:
    probes: dict[str, Any] = {"readiness": HttpProbe("/"), "liveness": HttpProbe("/")}
    api = stack.add(Deployment(
        "api", image=IMAGE, port=Port(8080, name="http"), replicas=2, strategy="Recreate",
        sidecars=[Container(name="proxy", image=TAGGED, ports=[Port(15000, name="admin")],
                            **probes)],
        init_containers=[Container(name="init", image=TAGGED)], **probes,
    ))
    api.grant(Rule.read("configmaps"), expiration_seconds=3600, audience="vault")
    stack.add(Service("api-lb", target=api, type="LoadBalancer", allow_external="public edge",
                      ports=[ServicePort("http", port=443, node_port=30443)]))
    stack.add(DaemonSet("agent", image=TAGGED, allow_host_network="node metrics",
                        mounts={"/host": HostPath("/var/log", reason="reads node logs"),
                                "/info": DownwardFiles()},
                        tolerations=[{"operator": "Exists"}]))
    stack.add(Job("once", image=TAGGED, completions=3, parallelism=3, active_deadline="5m",
                  restart="OnFailure"))
    stack.add(CronJob("tick", schedule="@hourly", image=TAGGED, suspend=True,
                      concurrency="Replace"))


def test_variants_are_schema_valid() -> None:
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    _variants(stack)
    assert _validate(stack) == []


def test_schema_check_is_not_vacuous() -> None:
    stack = Stack("shop", namespace="shop")
    stack.add(Job("once", image=TAGGED))
    (job,) = [o for o in stack.objects() if o.kind == "Job"]
    job.body["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = "no"
    with pytest.raises(kv.ValidationError):
        kv.validate(job.body, VERSION, strict=True)


def test_example_shop_passes_the_hardening_rules() -> None:
    """No policy rule fires on the defaults; only network isolation (its own issue) may."""
    from kubegen._policy.engine import lint

    report = lint(build_shop("prod").objects(), profile="restricted")
    network_rules = {"KG501", "KG502"}
    blocking = {f.rule_id for f in report.findings if f.severity != "info"}
    assert blocking <= network_rules
