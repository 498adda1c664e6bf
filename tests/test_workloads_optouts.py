"""Every weakened default carries its reason into the YAML, as an annotation reviewers see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from workload_support import IMAGE, TAGGED

from kubegen import (
    Deployment,
    HostPath,
    HttpProbe,
    Port,
    Resources,
    Secret,
    SecretKey,
    Stack,
    StackDefaults,
)
from kubegen._render.files import render_files

REASON = "reviewed by platform team, ticket OPS-42"
PROBES = {"readiness": HttpProbe("/ready"), "liveness": HttpProbe("/healthz")}


def _api(**fields: Any) -> Callable[[Stack], None]:
    def add(stack: Stack) -> None:
        stack.add(Deployment("api", image=IMAGE, port=Port(8080, name="http"),
                             **{**PROBES, **fields}))
    return add


def _service(stack: Stack) -> None:
    api = stack.add(Deployment("api", image=IMAGE, port=Port(8080, name="http"), **PROBES))
    api.expose(type="LoadBalancer", allow_external=REASON)


def _secret(stack: Stack) -> None:
    stack.add(Secret("api", data={"k": "v"}, allow_plaintext=REASON))


CASES: list[tuple[str, Callable[[Stack], None], StackDefaults | None, str]] = [
    ("privilege-escalation.api", _api(allow_privilege_escalation=REASON), None, "deployment"),
    ("privileged.api", _api(allow_privileged=REASON), None, "deployment"),
    ("writable-root.api", _api(allow_writable_root=REASON), None, "deployment"),
    ("capabilities.api", _api(capabilities=["NET_ADMIN"], allow_capabilities=REASON), None,
     "deployment"),
    ("host-ports.api", _api(ports=[Port(9090, name="metrics", host_port=9090)],
                            allow_host_ports=REASON), None, "deployment"),
    ("no-probes.api", lambda s: s.add(Deployment("api", image=IMAGE, port=8080,
                                                 allow_no_probes=REASON)), None, "deployment"),
    ("secret-env.api", _api(env={"P": SecretKey("db", "p")}, allow_secret_env=REASON), None,
     "deployment"),
    ("no-cpu-limit.api", _api(resources=Resources(cpu="1", memory="1Gi",
                                                  allow_no_cpu_limit=REASON)), None,
     "deployment"),
    ("no-cpu-limit.api", _api(), StackDefaults(allow_no_cpu_limit=REASON), "deployment"),
    ("no-probes", lambda s: s.add(Deployment("api", image=IMAGE, port=8080)),
     StackDefaults(allow_no_probes=REASON), "deployment"),
    ("run-as-root", _api(allow_run_as_root=REASON, run_as_user=0), None, "deployment"),
    ("host-network", _api(allow_host_network=REASON), None, "deployment"),
    ("host-pid", _api(allow_host_pid=REASON), None, "deployment"),
    ("host-ipc", _api(allow_host_ipc=REASON), None, "deployment"),
    ("host-path.host-var-log", _api(mounts={"/host": HostPath("/var/log", reason=REASON)}),
     None,
     "deployment"),
    ("unconfined-seccomp", _api(allow_unconfined_seccomp=REASON), None, "deployment"),
    ("external-service", _service, None, "service"),
    ("plaintext-secret", _secret, None, "secret"),
]


@pytest.mark.parametrize(("what", "build", "defaults", "kind"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_opt_out_reason_in_yaml(what: str, build: Callable[[Stack], None],
                                defaults: StackDefaults | None, kind: str) -> None:
    stack = Stack("shop", namespace="shop", defaults=defaults)
    build(stack)
    files = render_files(stack.objects())
    text = files[f"shop/{kind}-api.yaml"].decode()
    body = yaml.safe_load(text)
    assert body["metadata"]["annotations"][f"kubegen.dev/opt-out-{what}"] == REASON
    assert f"kubegen.dev/opt-out-{what}:" in text


def test_no_opt_out_no_annotation() -> None:
    stack = Stack("shop", namespace="shop")
    _api()(stack)
    text = render_files(stack.objects())["shop/deployment-api.yaml"].decode()
    assert "opt-out" not in text


@pytest.mark.parametrize("reason", ["", "   "])
def test_blank_reason_refused(reason: str) -> None:
    from kubegen import ValidationError

    with pytest.raises(ValidationError) as info:
        Deployment("api", image=TAGGED, allow_host_network=reason)
    assert info.value.field == "allow_host_network"
    assert "reason must be a non-empty sentence" in str(info.value)
