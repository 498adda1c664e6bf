"""Property: a workload gets an API token and appears in a binding if and only if it was granted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rbac_support import deployment, job

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
    stack = Stack("shop", namespace="shop")
    for i, spec in enumerate(specs):
        make = deployment if spec.kind == "deployment" else job
        workload = stack.add(make(f"w{i}"))
        for n, grant in enumerate(spec.grants):
            workload.grant(*(RULES[r] for r in grant.rules), namespace=grant.namespace,
                           purpose=grant.purpose, **(spec.token if n == 0 else {}))
    return stack


def _pod_spec(body: dict[str, Any]) -> dict[str, Any]:
    return body["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _projected_tokens(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        source["serviceAccountToken"]
        for volume in pod.get("volumes", [])
        for source in volume.get("projected", {}).get("sources", [])
        if "serviceAccountToken" in source
    ]


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
        tokens = _projected_tokens(pod)
        if not spec.grants:
            assert pod["automountServiceAccountToken"] is False
            assert tokens == []
            assert ("shop", name) not in bound
            continue
        assert ("shop", name) in bound
        if spec.token:
            assert pod["automountServiceAccountToken"] is False
            (token,) = tokens
            assert token.get("audience") == spec.token.get("audience")
            if "expiration_seconds" in spec.token:
                assert token["expirationSeconds"] == spec.token["expiration_seconds"]
        else:
            assert pod["automountServiceAccountToken"] is True
            assert tokens == []
    assert bound <= {("shop", f"w{i}") for i, spec in enumerate(specs) if spec.grants}
