"""Opt-outs waive the rules they imply: one annotation, no second ``waive`` for the same reason.

Each table entry of :data:`kubegen._policy.opt_outs.OPT_OUTS` has a case here: a stack built with
that opt-out goes through ``kubegen._pipeline.plan`` (the render gate of the default
``restricted`` profile) and the findings it trips are listed as waived with the opt-out's reason.
Opt-outs of Pod Security controls run in a namespace declared ``privileged``: a restricted one
refuses them whatever kubegen waives (tests/test_coherence_admission.py). The engine-level
tests use hand-written manifests to pin the limits: container scope, field scope, unrelated
rules, and the ServiceAccount link.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubegen._builders.base import OPT_OUT_PREFIX as BUILDER_PREFIX
from kubegen._manifests import ManifestObject
from kubegen._pipeline import plan
from kubegen._policy import explain, get_rule, lint
from kubegen._policy.opt_outs import OPT_OUT_PREFIX, OPT_OUTS
from tests.helpers import REPO, write_stack
from tests.policy_factories import container, del_in, find, good_stack, set_in

REASON = "vendor image; tracked in OPS-42"
IMAGE = "ghcr.io/acme/api:2.3.1"
PROBES = "readiness=HttpProbe('/ready'), liveness=HttpProbe('/healthz')"
P = "spec.template.spec"

HEADER = f"""
from kubegen import *

R = {REASON!r}
IMAGE = {IMAGE!r}


def build():
    cluster = Cluster("test", api_server=ApiServer(addresses=["10.0.0.10/32"], port=6443))
    stack = Stack("shop", namespace="shop", cluster=cluster)
"""
# Opt-outs Pod Security Admission of a restricted namespace refuses: their case runs in a
# namespace declared privileged (with the same reason, which waives KG603 there).
PRIVILEGED_NAMESPACE = "stack.add(Namespace('shop', pod_security='privileged', reason=R))\n"
ADMISSION = {
    "run-as-root", "host-network", "host-pid", "host-ipc", "host-path", "unconfined-seccomp",
    "privileged", "privilege-escalation", "capabilities", "host-ports", "host-path-write",
    "default-capabilities",
}
# Opt-outs that come with another one: a writable HostPath has its reason to be there too.
ALSO_WAIVED = {"host-path-write": {"KG104", "KG121"}}

# opt-out name -> (lines of build() after `stack = ...`, rules waived on the built objects)
CASES: dict[str, tuple[str, set[str]]] = {
    "run-as-root": (
        "stack.add(Deployment('api', image=IMAGE, run_as_user=0, allow_run_as_root=R))",
        {"KG123", "KG124"},
    ),
    "host-network": (
        "stack.add(Deployment('api', image=IMAGE, allow_host_network=R))",
        {"KG101"},
    ),
    "host-pid": ("stack.add(Deployment('api', image=IMAGE, allow_host_pid=R))", {"KG101"}),
    "host-ipc": ("stack.add(Deployment('api', image=IMAGE, allow_host_ipc=R))", {"KG101"}),
    "host-path": (
        "stack.add(DaemonSet('agent', image=IMAGE,"
        " mounts={'/var/log': HostPath('/var/log', reason=R)}))",
        {"KG104", "KG121"},
    ),
    "host-path-write": (
        "stack.add(DaemonSet('agent', image=IMAGE, mounts={'/var/spool': HostPath("
        "'/var/spool/agent', reason=R, allow_write=R)}))",
        set(),
    ),
    "unconfined-seccomp": (
        "stack.add(Deployment('api', image=IMAGE, allow_unconfined_seccomp=R))",
        {"KG110"},
    ),
    "privileged": (
        "stack.add(Deployment('api', image=IMAGE, allow_privileged=R))",
        {"KG102", "KG110", "KG122", "KG126"},
    ),
    "privilege-escalation": (
        "stack.add(Deployment('api', image=IMAGE, allow_privilege_escalation=R))",
        {"KG122"},
    ),
    "writable-root": (
        "stack.add(Deployment('api', image=IMAGE, allow_writable_root=R))",
        {"KG201"},
    ),
    "capabilities": (
        "stack.add(Deployment('api', image=IMAGE, capabilities=['NET_ADMIN', 'CHOWN'],"
        " allow_capabilities=R))",
        {"KG103", "KG127"},
    ),
    "host-ports": (
        f"stack.add(Deployment('api', image=IMAGE, ports=[Port(8080, name='http',"
        f" host_port=8080)], allow_host_ports=R, strategy='Recreate', {PROBES}))",
        {"KG105"},
    ),
    "no-probes": (
        "stack.add(Deployment('api', image=IMAGE, port=8080, allow_no_probes=R))",
        {"KG205", "KG206"},
    ),
    "secret-env": (
        "stack.add(Deployment('api', image=IMAGE, allow_secret_env=R,"
        " env={'DB_PASSWORD': SecretKey(SecretRef('db'), 'password')}))",
        {"KG802"},
    ),
    "no-cpu-limit": (
        "stack.add(Deployment('api', image=IMAGE,"
        " resources=Resources(cpu='100m', memory='128Mi', allow_no_cpu_limit=R)))",
        {"KG204"},
    ),
    "no-memory-limit": (
        "stack.add(Deployment('api', image=IMAGE,"
        " resources=Resources(cpu='100m', memory='128Mi', allow_no_memory_limit=R)))",
        {"KG203"},
    ),
    "no-resources": (
        "stack.add(Deployment('api', image=IMAGE, allow_no_resources=R))",
        {"KG202", "KG203", "KG204"},
    ),
    "cached-tag": (
        "stack.add(Deployment('api', image=IMAGE, pull_policy='IfNotPresent',"
        " allow_cached_tag=R))",
        {"KG209"},
    ),
    "default-capabilities": (
        "stack.add(Deployment('api', image=IMAGE, allow_default_capabilities=R))",
        {"KG126"},
    ),
    "default-service-account": (
        "stack.add(Deployment('api', image=IMAGE, service_account='default',"
        " allow_default_service_account=R))",
        {"KG301"},
    ),
    "plaintext-secret": (
        "stack.add(Secret('registry', data={'username': 'kind'}, allow_plaintext=R))",
        {"KG801"},
    ),
    "external-service": (
        f"api = stack.add(Deployment('api', image=IMAGE, port=8080, {PROBES}))\n"
        "stack.add(Service('public', target=api, type='LoadBalancer', allow_external=R))",
        {"KG503"},
    ),
    "token-automount": (
        "stack.add(ServiceAccount('legacy', allow={'token-automount': R}))\n"
        "stack.add(Manifest(LEGACY_POD))",
        {"KG302"},
    ),
    "service-account-token": (
        f"api = stack.add(Deployment('api', image=IMAGE, port=8080, {PROBES}))\n"
        "api.mount_token('vault', reason=R)",
        set(),
    ),
    "pod-security": (
        "stack.add(Namespace('shop', pod_security='baseline', reason=R))",
        {"KG603"},
    ),
    "rbac-wildcard": (
        "stack.add(Role('all', rules=[Rule(api_groups=['apps'], resources=['*'],"
        " verbs=['get'])], allow={'wildcard': R}))",
        {"KG401"},
    ),
    "rbac-admin-role": (
        "stack.add(RoleBinding('oncall', role=RoleRef('admin', external=True),"
        " subjects=[Group('oncall')], allow={'admin-role': R}))",
        {"KG402"},
    ),
    "rbac-escalation-verbs": (
        "stack.add(Role('binder', rules=[Rule(api_groups=['rbac.authorization.k8s.io'],"
        " resources=['roles'], verbs=['bind'])], allow={'escalation-verbs': R}))",
        {"KG403"},
    ),
    "rbac-pod-exec": (
        "stack.add(Role('debug', rules=[Rule(resources=['pods/exec'], verbs=['create'])],"
        " allow={'pod-exec': R}))",
        {"KG404"},
    ),
    "rbac-secrets-read": (
        "api = stack.add(Deployment('api', image=IMAGE))\n"
        "api.grant(Rule.read('secrets'), allow={'secrets-read': R})",
        {"KG405"},
    ),
    "rbac-public-subject": (
        "stack.add(RoleBinding('public', role=RoleRef('view', external=True),"
        " subjects=[Group('system:authenticated')], allow={'public-subject': R}))",
        {"KG406"},
    ),
    "rbac-cluster-scope": (
        "api = stack.add(Deployment('api', image=IMAGE))\n"
        "api.grant(Rule.read('configmaps'), cluster_wide=True, allow={'cluster-scope': R})",
        set(),
    ),
    "rbac-out-of-namespace": (
        "api = stack.add(Deployment('api', image=IMAGE))\n"
        "mixed = stack.add(ClusterRole('mixed', rules=[Rule.read('pods'), Rule.read('nodes')]))\n"
        "api.grant(mixed, allow={'out-of-namespace': R})",
        set(),
    ),
    "egress-internet": (
        "api = stack.add(Deployment('api', image=IMAGE))\n"
        "api.allow_to_internet(port=443, reason=R)",
        set(),
    ),
    "egress-cidr": (
        "api = stack.add(Deployment('api', image=IMAGE))\n"
        "api.allow_to(cidr='10.0.0.0/8', port=443, reason=R)",
        set(),
    ),
    "ingress-cidr": (
        f"api = stack.add(Deployment('api', image=IMAGE, port=8080, {PROBES}))\n"
        "api.allow_from(cidr='10.0.0.0/8', port=8080, reason=R)",
        set(),
    ),
    "ingress-namespace": (
        f"api = stack.add(Deployment('api', image=IMAGE, port=8080, {PROBES}))\n"
        "api.allow_from(namespace='monitoring', port=8080, reason=R)",
        set(),
    ),
    "auto-prune": (
        "stack.add(ArgoApplication('shop', repo_url='https://git.example.com/ops.git',"
        " path='output/prod', prune=False, reason=R))",
        set(),
    ),
    "self-heal": (
        "stack.add(ArgoApplication('shop', repo_url='https://git.example.com/ops.git',"
        " path='output/prod', self_heal=False, reason=R))",
        set(),
    ),
    "prune": (
        "stack.add(FluxKustomization('shop', source='flux-system', path='output/prod',"
        " prune=False, reason=R))",
        set(),
    ),
    "wait": (
        "stack.add(FluxKustomization('shop', source='flux-system', path='output/prod',"
        " wait=False, reason=R))",
        set(),
    ),
}

# A hardened raw pod that runs as ServiceAccount legacy and leaves token automount to it.
LEGACY_POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "legacy", "namespace": "shop"},
    "spec": {
        "serviceAccountName": "legacy",
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "legacy",
                "image": IMAGE,
                "imagePullPolicy": "Always",
                "resources": {
                    "requests": {"cpu": "100m", "memory": "128Mi"},
                    "limits": {"cpu": "100m", "memory": "128Mi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": True,
                },
            }
        ],
    },
}


def _stack_source(body: str) -> str:
    lines = "\n".join(f"    {line}" for line in body.splitlines())
    return f"{HEADER}\n    LEGACY_POD = {LEGACY_POD!r}\n{lines}\n    return stack\n"


def _plan(tmp_path: Path, body: str) -> Any:
    return plan(write_stack(tmp_path, "optouts", _stack_source(body)))


def test_every_opt_out_in_the_table_has_a_case() -> None:
    assert set(CASES) == set(OPT_OUTS)
    for what, (_, rules) in CASES.items():
        assert OPT_OUTS[what].rules == rules, what


def test_prefix_is_the_builders() -> None:
    assert OPT_OUT_PREFIX == BUILDER_PREFIX


@pytest.mark.parametrize("what", sorted(CASES))
def test_opt_out_alone_passes_the_render_gate(tmp_path: Path, what: str) -> None:
    body, rules = CASES[what]
    if what in ADMISSION:
        body, rules = PRIVILEGED_NAMESPACE + body, rules | {"KG603"}
    rules = rules | ALSO_WAIVED.get(what, set())
    result = _plan(tmp_path, body)  # raises PolicyError when a finding still blocks
    waived = {f.rule_id for f in result.report.waived}
    assert waived == rules
    assert {f.waiver_reason for f in result.report.waived} <= {REASON}
    annotations: dict[str, str] = {}
    for text in result.files.values():
        document = yaml.safe_load(text)
        if isinstance(document, dict) and document.get("metadata"):
            annotations.update(document["metadata"].get("annotations") or {})
    assert any(key.startswith(OPT_OUT_PREFIX + what) for key in annotations), annotations
    assert not [key for key in annotations if key.startswith("kubegen.dev/waive-")]


def test_stack_default_opt_outs_pass_the_render_gate(tmp_path: Path) -> None:
    body = (
        "stack = Stack('shop', namespace='shop', defaults=StackDefaults("
        "allow_no_cpu_limit=R, allow_no_probes=R))\n"
        "stack.add(Deployment('api', image=IMAGE, port=8080))"
    )
    result = _plan(tmp_path, body)
    assert sorted(f.rule_id for f in result.report.waived) == ["KG204", "KG205", "KG206"]
    assert {f.waiver_reason for f in result.report.waived} == {REASON}


def test_token_automount_on_a_workload_waives_its_pods(tmp_path: Path) -> None:
    result = _plan(tmp_path, "stack.add(Deployment('api', image=IMAGE, allow_token_automount=R))")
    assert [(f.rule_id, f.waiver_reason) for f in result.report.waived] == [("KG302", REASON)]
    deployment = yaml.safe_load(result.files["shop/deployment-api.yaml"])
    assert deployment["spec"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert deployment["metadata"]["annotations"] == {OPT_OUT_PREFIX + "token-automount": REASON}


def test_rendered_yaml_read_back_keeps_the_waivers(tmp_path: Path) -> None:
    result = _plan(tmp_path, CASES["writable-root"][0])
    objects = [
        ManifestObject(document)
        for document in (yaml.safe_load(text) for text in result.files.values())
        if isinstance(document, dict) and "kind" in document and "metadata" in document
    ]
    report = lint(objects)
    assert report.ok
    assert [(f.rule_id, f.waiver_reason) for f in report.waived] == [("KG201", REASON)]


# --- limits, on hand-written manifests ---------------------------------------------------------


def _annotate(body: dict[str, Any], **notes: str) -> None:
    body["metadata"].setdefault("annotations", {}).update(
        {OPT_OUT_PREFIX + key: value for key, value in notes.items()}
    )


def _status(objs: list[ManifestObject]) -> dict[tuple[str, str], str | None]:
    """(rule id, path) → waiver reason (None when the finding is not waived)."""
    return {(f.rule_id, f.path): f.waiver_reason for f in lint(objs).findings}


def _break_unrelated(deployment: dict[str, Any], what: str) -> str:
    """Break a rule the opt-out does not imply; return its id."""
    if "KG204" not in OPT_OUTS[what].rules:
        del_in(deployment, f"{P}.containers[0].resources.limits.cpu")
        return "KG204"
    if "KG203" not in OPT_OUTS[what].rules:
        del_in(deployment, f"{P}.containers[0].resources.limits.memory")
        return "KG203"
    set_in(deployment, f"{P}.containers[0].securityContext.readOnlyRootFilesystem", False)
    return "KG201"


@pytest.mark.parametrize("scope", ["pod", "container"])
@pytest.mark.parametrize("what", sorted(OPT_OUTS))
def test_opt_out_does_not_waive_an_unrelated_rule(what: str, scope: str) -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    rule_id = _break_unrelated(deployment, what)
    _annotate(deployment, **{what if scope == "pod" else f"{what}.api": REASON})
    report = lint(stack)
    (finding,) = [f for f in report.findings if f.rule_id == rule_id]
    assert not finding.waived and finding.blocking


def test_container_opt_out_waives_only_its_container() -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    sidecar = container("side", ports=[{"containerPort": 9090, "name": "metrics"}])
    deployment["spec"]["template"]["spec"]["containers"].append(sidecar)
    for index in (0, 1):
        set_in(deployment, f"{P}.containers[{index}].securityContext.readOnlyRootFilesystem", False)
    _annotate(deployment, **{"writable-root.side": REASON})
    root = "securityContext.readOnlyRootFilesystem"
    assert _status(stack) == {
        ("KG201", f"{P}.containers[0].{root}"): None,
        ("KG201", f"{P}.containers[1].{root}"): REASON,
    }


def test_container_opt_out_resolves_init_containers_by_name() -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    init = container("migrate")
    init["securityContext"]["readOnlyRootFilesystem"] = False
    set_in(deployment, f"{P}.initContainers", [init])
    _annotate(deployment, **{"writable-root.api": REASON})
    path = f"{P}.initContainers[0].securityContext.readOnlyRootFilesystem"
    assert _status(stack) == {("KG201", path): None}
    _annotate(deployment, **{"writable-root.migrate": REASON})
    assert _status(stack) == {("KG201", path): REASON}


def test_container_opt_out_does_not_waive_pod_level_findings() -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    set_in(deployment, f"{P}.securityContext.runAsNonRoot", False)
    set_in(deployment, f"{P}.containers[0].securityContext.runAsNonRoot", False)
    _annotate(deployment, **{"run-as-root.api": REASON})
    assert _status(stack) == {
        ("KG123", f"{P}.securityContext.runAsNonRoot"): None,
        ("KG123", f"{P}.containers[0].securityContext.runAsNonRoot"): REASON,
    }


def test_field_scoped_opt_out_waives_only_its_field() -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    set_in(deployment, f"{P}.hostNetwork", True)
    set_in(deployment, f"{P}.hostPID", True)
    _annotate(deployment, **{"host-network": REASON})
    assert _status(stack) == {
        ("KG101", f"{P}.hostNetwork"): REASON,
        ("KG101", f"{P}.hostPID"): None,
        ("KG504", "spec.podSelector"): None,  # a note on the policy, not the pod's opt-out
    }


def test_opt_out_on_another_object_waives_nothing() -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    del_in(deployment, f"{P}.containers[0].resources.limits.cpu")
    _annotate(find(stack, "ServiceAccount"), **{"no-cpu-limit": REASON, "no-cpu-limit.api": REASON})
    assert _status(stack) == {("KG204", f"{P}.containers[0].resources.limits.cpu"): None}


def test_unknown_or_blank_opt_outs_waive_nothing() -> None:
    stack = good_stack()
    deployment = find(stack, "Deployment")
    del_in(deployment, f"{P}.containers[0].resources.limits.cpu")
    _annotate(deployment, **{"no-cpu-limits": REASON, "no-cpu-limit": " "})
    assert _status(stack) == {("KG204", f"{P}.containers[0].resources.limits.cpu"): None}


def test_token_automount_opt_out_covers_only_pods_of_that_account() -> None:
    legacy = copy.deepcopy(LEGACY_POD)
    other = copy.deepcopy(LEGACY_POD)
    other["metadata"]["name"] = "other"
    other["spec"]["serviceAccountName"] = "other"
    accounts = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": "shop"},
            "automountServiceAccountToken": True,
        }
        for name in ("legacy", "other")
    ]
    _annotate(accounts[0], **{"token-automount": REASON})
    objs = [ManifestObject(body) for body in (legacy, other, *accounts)]
    reasons = {f.resource: f.waiver_reason for f in lint(objs).findings if f.rule_id == "KG302"}
    assert reasons == {"Pod shop/legacy": REASON, "Pod shop/other": None}


def test_policy_docs_list_the_table() -> None:
    text = (REPO / "docs" / "policy.md").read_text(encoding="utf-8")
    section = text.split("## Opt-outs are waivers", 1)[1].split("\n## ", 1)[0]
    shown: dict[str, set[str]] = {}
    for row in re.findall(r"^\| (`.+?) \| (.+?) \|$", section, re.M):
        for name in re.findall(r"`([a-z.-]+)`", row[0]):
            shown[name] = set(re.findall(r"KG\d{3}", row[1]))
    assert shown == {what: set(implies.rules) for what, implies in OPT_OUTS.items()}


def test_table_names_real_rules_and_explain_shows_them() -> None:
    for implies in OPT_OUTS.values():
        for rule_id in implies.rules:
            assert get_rule(rule_id).id == rule_id
    assert "kubegen.dev/opt-out-writable-root" in explain("KG201")
    assert "kubegen.dev/opt-out-writable-root" not in explain("KG204")
    assert "opt-out" not in explain("KG001")
