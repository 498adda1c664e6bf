"""Property: a workload gets an API token and appears in a binding if and only if it was granted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rbac_support import CLUSTER, deployment, job

from kubegen import Rule, Stack

RULES = [
    Rule.read("configmaps"),
    Rule.read("pods/log"),
    Rule.read("secrets", resource_names=["db"]),
    Rule.read_write("leases", api_groups=["coordination.k8s.io"]),
]


@dataclass(frozen=True)
class GrantSpec:
    rules: tuple[int, ...]
    namespace: str | None
    purpose: str | None


@dataclass(frozen=True)
class WorkloadSpec:
    kind: str  # "deployment" or "job"
    grants: tuple[GrantSpec, ...]
    token: dict[str, Any]  # options of the first grant: none, expiry and/or audience


grant_specs = st.builds(
    GrantSpec,
    rules=st.lists(st.integers(0, len(RULES) - 1), min_size=1, max_size=3).map(tuple),
    namespace=st.sampled_from([None, "monitoring"]),
    purpose=st.sampled_from([None, "sync"]),
)
workload_specs = st.builds(
    WorkloadSpec,
    kind=st.sampled_from(["deployment", "job"]),
    grants=st.lists(grant_specs, max_size=2).map(tuple),
    token=st.sampled_from([{}, {"expiration_seconds": 3600}, {"audience": "vault"},
                           {"expiration_seconds": 7200, "audience": "sts"}]),
)


def _build(specs: list[WorkloadSpec]) -> Stack:
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    for i, spec in enumerate(specs):
        make = deployment if spec.kind == "deployment" else job
        workload = stack.add(make(f"w{i}"))
        for n, grant in enumerate(spec.grants):
            workload.grant(*(RULES[r] for r in grant.rules), namespace=grant.namespace,
                           purpose=grant.purpose, **(spec.token if n == 0 else {}))
    return stack


def _pod_spec(body: dict[str, Any]) -> dict[str, Any]:
    return body["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _projected_tokens(pod: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Volume name → the serviceAccountToken sources it projects."""
    return {
        volume["name"]: [
            source["serviceAccountToken"]
            for source in volume.get("projected", {}).get("sources", [])
            if "serviceAccountToken" in source
        ]
        for volume in pod.get("volumes", [])
        if "projected" in volume
    }


def _mounts(pod: dict[str, Any]) -> list[tuple[str, str]]:
    return [(m["name"], m["mountPath"]) for c in pod["containers"]
            for m in c.get("volumeMounts", [])]


@settings(max_examples=40, deadline=None)
@given(st.lists(workload_specs, min_size=1, max_size=4))
def test_only_granted_workloads_get_tokens_and_bindings(specs: list[WorkloadSpec]):
    objects = {(o.kind, o.name): o.body for o in _build(specs).objects()}
    bound = {
        (s.get("namespace"), s["name"])
        for (kind, _), body in objects.items()
        if kind in ("RoleBinding", "ClusterRoleBinding")
        for s in body["subjects"]
        if s["kind"] == "ServiceAccount"
    }
    for i, spec in enumerate(specs):
        name = f"w{i}"
        kind = "Deployment" if spec.kind == "deployment" else "Job"
        pod = _pod_spec(objects[(kind, name)])
        assert pod["serviceAccountName"] == name
        assert objects[("ServiceAccount", name)]["automountServiceAccountToken"] is False
        assert pod["automountServiceAccountToken"] is False  # never automounted (CKV_K8S_38)
        tokens = _projected_tokens(pod)
        if not spec.grants:
            assert tokens == {}
            assert ("shop", name) not in bound
            continue
        assert ("shop", name) in bound
        seconds = spec.token.get("expiration_seconds", 3607)
        # the API token is always there, never replaced by an audience's
        assert tokens["kube-api-access"] == [{"expirationSeconds": seconds, "path": "token"}]
        assert ("kube-api-access", "/var/run/secrets/kubernetes.io/serviceaccount") in _mounts(pod)
        if "audience" in spec.token:
            audience = spec.token["audience"]
            assert tokens["audience-tokens"] == [
                {"audience": audience, "expirationSeconds": seconds, "path": audience}
            ]
            assert ("audience-tokens", "/var/run/secrets/tokens") in _mounts(pod)
        else:
            assert "audience-tokens" not in tokens
    assert bound <= {("shop", f"w{i}") for i, spec in enumerate(specs) if spec.grants}
