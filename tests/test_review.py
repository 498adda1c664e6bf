"""``kubegen review``: each kind of change is detected, and nothing is reported when absent.

Every test commits a version of one stack (tests/review_support.py) on ``main`` in a real git
repository, changes settings on a branch, and reviews the code against the merge base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubegen._review import StackReview, review
from tests.review_support import DIGEST, ReviewRepo, no_bytecode


@pytest.fixture
def make(tmp_path: Path):
    """``make(**base)`` → a repository whose ``main`` holds the stack with ``base`` settings,
    checked out on branch ``change``."""
    no_bytecode()
    made: list[ReviewRepo] = []

    def build(**base: Any) -> ReviewRepo:
        repo = ReviewRepo(tmp_path / f"repo{len(made)}")
        made.append(repo)
        repo.write(**base)
        repo.commit("base")
        repo.git("checkout", "-q", "-b", "change")
        return repo

    return build


def _review(repo: ReviewRepo, **changes: Any) -> StackReview:
    repo.write(**changes)
    result = review([repo.stack])
    assert result.base.commit is not None
    (stack,) = result.stacks
    return stack


def _flows(stack: StackReview) -> set[tuple[str, str, str, str]]:
    return {(f.change, f.source.label, f.target.label, f.port) for f in stack.flows}


def test_nothing_changed_reports_nothing(make) -> None:
    stack = _review(make())
    assert not stack.changed
    assert stack.risk_line() == "no changes"
    assert (stack.flows, stack.permissions, stack.exemptions, stack.findings, stack.workloads,
            stack.objects) == ([], [], [], [], [], [])
    assert stack.categories() == set()


def test_a_config_change_is_only_a_changed_object(make) -> None:
    stack = _review(make(), config="two")
    assert [(o.change, o.resource) for o in stack.objects] == [
        ("changed", "ConfigMap app/settings")]
    assert (stack.flows, stack.permissions, stack.exemptions, stack.findings, stack.workloads) == (
        [], [], [], [], [])
    assert stack.risk_line() == "no new permissions, flows, exceptions or findings; nothing deleted"
    assert stack.categories() == {"any"}


# --- network -------------------------------------------------------------------------------


def test_removed_flow(make) -> None:
    stack = _review(make(), web_to_api=False)
    assert _flows(stack) == {("removed", "web", "api", "http 8080/TCP")}
    assert "new-flow" not in stack.categories()


def test_added_flow_between_workloads(make) -> None:
    stack = _review(make(web_to_api=False), web_to_api=True)
    assert _flows(stack) == {("added", "web", "api", "http 8080/TCP")}
    assert stack.risk_line() == "1 new flow"
    assert {"new-flow", "any"} <= stack.categories()
    assert not {"new-egress", "new-ingress"} & stack.categories()


def test_new_egress_to_the_internet(make) -> None:
    stack = _review(make(), api_internet="payment provider")
    assert _flows(stack) == {
        ("added", "api", "internet (IPv4)", "443/TCP"),
        ("added", "api", "internet (IPv6)", "443/TCP"),
    }
    assert all(f.egress and not f.ingress for f in stack.flows)
    assert stack.risk_line() == "1 new egress to the internet, 1 opt-out"
    assert {"new-egress", "new-flow", "opt-out"} <= stack.categories()


def test_new_ingress_from_an_ip_block(make) -> None:
    stack = _review(make(), api_cidr_ingress=("203.0.113.0/24", None))
    assert _flows(stack) == {("added", "203.0.113.0/24", "api", "http 8080/TCP")}
    assert stack.flows[0].ingress
    assert stack.risk_line() == "1 new ingress from 203.0.113.0/24"
    assert "new-ingress" in stack.categories() and "new-egress" not in stack.categories()


def test_a_port_change_moves_the_flows(make) -> None:
    stack = _review(make(), api_port=9090)
    assert _flows(stack) == {
        ("removed", "web", "api", "http 8080/TCP"),
        ("added", "web", "api", "http 9090/TCP"),
    }


@pytest.mark.parametrize(
    ("change", "may_differ"),
    [
        ({"config": "two"}, False),
        ({"api_image": f"ghcr.io/acme/api:1.1.0@{DIGEST}"}, False),  # new version label: unseen
        ({"api_replicas": 5, "api_cpu": "300m"}, False),
        ({"api_grants": [("read", "configmaps")]}, True),  # a grant implies a route
        ({"api_port": 9090}, True),
        ({"web_to_api": False}, True),
    ],
)
def test_flows_are_skipped_only_when_they_cannot_differ(make, change, may_differ) -> None:
    from kubegen._review import compare

    repo = make()
    repo.write(**change)
    decided: list[bool] = []
    real = compare._network_may_differ

    def compute_anyway(*args: Any) -> bool:
        decided.append(real(*args))
        return True

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(compare, "_network_may_differ", compute_anyway)
        (stack,) = review([repo.stack]).stacks
    assert decided == [may_differ]
    assert bool(stack.flows) == may_differ  # skipping loses nothing; computing finds changes


# --- access --------------------------------------------------------------------------------


def _grants(stack: StackReview) -> list[tuple[Any, ...]]:
    return [
        (p.change, p.subject, p.namespace, p.resource, p.names, p.verbs, p.flags)
        for p in stack.permissions
    ]


def test_permission_gained(make) -> None:
    stack = _review(make(), api_grants=[("read", "configmaps")])
    assert _grants(stack) == [
        ("added", "ServiceAccount app/api", "app", "configmaps", (), ("get", "list", "watch"), ())
    ]
    # the grant brings its route to the API server: a flow, not egress to the outside
    assert _flows(stack) == {("added", "api", "Kubernetes API", "6443/TCP")}
    assert stack.risk_line() == "1 new permission, 1 new route to the Kubernetes API"
    assert {"new-permission", "new-flow"} <= stack.categories()
    assert not {"risky-permission", "new-egress"} & stack.categories()


def test_permission_lost(make) -> None:
    stack = _review(make(api_grants=[("read", "configmaps")]), api_grants=[])
    assert _grants(stack) == [
        ("removed", "ServiceAccount app/api", "app", "configmaps", (), ("get", "list", "watch"),
         ())
    ]
    assert "new-permission" not in stack.categories()


def test_secrets_are_flagged(make) -> None:
    stack = _review(make(), api_grants=[("read-names", "secrets", "tls")])
    assert _grants(stack) == [
        ("added", "ServiceAccount app/api", "app", "secrets", ("tls",), ("get", "list", "watch"),
         ("secrets",))
    ]
    assert stack.risk_line() == (
        "1 new permission (1 on secrets), 1 new route to the Kubernetes API")
    assert {"new-permission", "risky-permission"} <= stack.categories()


def test_cluster_wide_grants_are_flagged(make) -> None:
    stack = _review(make(), api_cluster_grant=True)
    assert _grants(stack) == [
        ("added", "ServiceAccount app/api", "*", "nodes", (), ("get", "list", "watch"),
         ("cluster-wide",))
    ]
    assert "risky-permission" in stack.categories()


def test_a_role_outside_the_output_is_flagged(make) -> None:
    stack = _review(make(), api_view_role=True)
    (grant,) = stack.permissions
    assert (grant.change, grant.resource, grant.verbs) == (
        "added", "ClusterRole view (rules not in the output)", ())
    assert grant.flags == ("external-role",)
    assert grant.via == ("RoleBinding api-view > ClusterRole view",)


def test_wildcards_are_flagged(make) -> None:
    stack = _review(make(), api_wildcard=True)
    (grant,) = stack.permissions
    assert (grant.resource, grant.verbs, grant.flags) == ("*", ("get",), ("secrets", "wildcard"))
    assert stack.risk_line().startswith("1 new permission (1 on secrets, 1 with a wildcard)")
    assert ("added", "Role app/api-all", "opt-out", "rbac-wildcard", None,
            "a debugging console", None) in _exemptions(stack)


def test_escalation_verbs_are_flagged(make) -> None:
    stack = _review(make(), api_escalation=True)
    (grant,) = stack.permissions
    assert (grant.resource, grant.verbs, grant.flags) == (
        "roles.rbac.authorization.k8s.io", ("bind", "escalate"), ("escalation",))
    assert "risky-permission" in stack.categories()


def test_what_a_binding_cannot_grant_is_no_permission() -> None:
    from kubegen._analysis.access import AccessRow, Subject
    from kubegen._review.compare import _permissions

    account = Subject("ServiceAccount", "api", "app")
    named_only = AccessRow(account, "app", "", "nodes", (), ("get",),
                           (("RoleBinding api", "Role api"),), granted=False)
    granted = AccessRow(account, "app", "", "configmaps", (), ("get",),
                        (("RoleBinding api", "Role api"),))
    assert [p.resource for p in _permissions([], [named_only, granted])] == ["configmaps"]


def test_verbs_added_to_an_existing_grant_are_the_new_permission(make) -> None:
    repo = make(api_grants=[("read-names", "secrets", "tls")])
    stack = _review(repo, api_grants=[("read-names", "secrets", "tls"), ("read", "configmaps")])
    assert [(p.change, p.resource) for p in stack.permissions] == [("added", "configmaps")]


# --- hardening -----------------------------------------------------------------------------


def _exemptions(stack: StackReview) -> list[tuple[Any, ...]]:
    return [
        (e.change, e.resource, e.kind, e.name, e.container, e.reason, e.before)
        for e in stack.exemptions
    ]


def test_opt_out_added_with_its_reason(make) -> None:
    stack = _review(make(), web_writable_root="the vendor image writes to /app")
    assert _exemptions(stack) == [
        ("added", "Deployment app/web", "opt-out", "writable-root", "web",
         "the vendor image writes to /app", None)
    ]
    assert stack.risk_line() == "1 opt-out"
    assert "opt-out" in stack.categories()
    assert stack.findings == []  # the finding it waives is waived, not new


def test_opt_out_reason_changed_and_removed(make) -> None:
    repo = make(web_writable_root="old reason")
    changed = _review(repo, web_writable_root="new reason")
    assert _exemptions(changed) == [
        ("changed", "Deployment app/web", "opt-out", "writable-root", "web", "new reason",
         "old reason")
    ]
    assert "opt-out" in changed.categories()
    removed = _review(repo, web_writable_root=None)
    assert _exemptions(removed)[0][0] == "removed"
    assert "opt-out" not in removed.categories()


def test_waiver_added_and_its_finding_not_reported_fixed(make) -> None:
    stack = _review(make(db_replicas=1), waive_kg701="a cache, losing it costs latency")
    assert ("added", "StatefulSet app/db", "waiver", "KG701", None,
            "a cache, losing it costs latency", None) in _exemptions(stack)
    assert stack.findings == []
    # a stack-level waiver is written on every object its rule can fire on
    assert {e.resource for e in stack.exemptions} == {
        "Deployment app/api", "Deployment app/web", "StatefulSet app/db"}
    assert stack.risk_line() == "3 waivers"


def test_new_and_fixed_findings(make) -> None:
    stack = _review(make(), web_tag_only=True)
    assert [(f.change, f.rule_id, f.severity, f.resource) for f in stack.findings] == [
        ("new", "KG208", "info", "Deployment app/web")
    ]
    line = _line_of("web = stack.add(Deployment(")
    assert stack.findings[0].location.endswith(f"stacks/app/__init__.py:{line}")
    assert "new-finding" in stack.categories()
    fixed = _review(make(web_tag_only=True), web_tag_only=False)
    assert [(f.change, f.rule_id) for f in fixed.findings] == [("fixed", "KG208")]
    assert "new-finding" not in fixed.categories()


def test_hidden_characters_in_a_reason_are_shown_escaped(make) -> None:
    from kubegen._review.markdown import markdown_report
    from kubegen._review.text import text_report

    repo = make()
    repo.write(web_writable_root="fine\u202e lla\x1b[2J")
    result = review([repo.stack])
    assert result.stacks[0].exemptions[0].reason == "fine\u202e lla\x1b[2J"
    for text in (text_report(result), markdown_report(result)):
        assert "\u202e" not in text and "\x1b" not in text
        assert "fine\\u202e lla\\u001b" in text.replace("\\\\", "\\")


# --- workloads -----------------------------------------------------------------------------


def _line_of(text: str) -> int:
    """The line of the test stack (tests/review_support.py) that holds ``text``."""
    from tests.review_support import STACK

    lines = STACK.format(settings={}).splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _fields(stack: StackReview) -> dict[tuple[str, str, str | None], tuple[Any, Any]]:
    return {
        (w.resource, c.field, c.part): (c.before, c.after)
        for w in stack.workloads
        for c in w.fields
    }


def test_image_replicas_resources_probes_strategy(make) -> None:
    stack = _review(
        make(),
        api_image=f"ghcr.io/acme/api:1.1.0@sha256:{'f' * 64}",
        api_replicas=3,
        api_cpu="200m",
        api_readiness="/ready2",
        api_strategy="Recreate",
    )
    fields = _fields(stack)
    api = "Deployment app/api"
    assert fields[(api, "image", "api")] == (
        f"ghcr.io/acme/api:1.0.0@{DIGEST}", f"ghcr.io/acme/api:1.1.0@sha256:{'f' * 64}")
    assert fields[(api, "replicas", None)] == ("2", "3")
    assert fields[(api, "resources.requests.cpu", "api")] == ("100m", "200m")
    assert fields[(api, "probe.readiness", "api")][1].startswith("http GET /ready2 on http")
    assert fields[(api, "strategy", None)][1] == "Recreate"
    assert {"image", "workload"} <= stack.categories()
    assert "1 image change" in stack.risk_line()


def test_container_added(make) -> None:
    stack = _review(make(), api_sidecar=True)
    assert _fields(stack)[("Deployment app/api", "container", "init:proxy")] == (
        None, f"ghcr.io/acme/proxy:2.0.0@{DIGEST}")


def test_volume_claim_template_change_warns_it_is_immutable(make) -> None:
    stack = _review(make(), db_storage="2Gi")
    (db,) = [w for w in stack.workloads if w.resource == "StatefulSet app/db"]
    assert [(c.field, c.part, c.before, c.after) for c in db.fields] == [
        ("volumeClaimTemplate", "data", "1Gi ReadWriteOnce", "2Gi ReadWriteOnce")
    ]
    assert len(db.warnings) == 1
    assert db.warnings[0].startswith("spec.volumeClaimTemplates is immutable")
    assert "--cascade=orphan" in db.warnings[0]
    assert stack.risk_line() == "1 immutable field change (the sync fails until recreated)"
    assert "workload" in stack.categories()


def test_autoscaled_replicas_are_the_autoscalers(make) -> None:
    api = ("Deployment app/api", "replicas", None)
    rescaled = _review(make(api_autoscale=(2, 10)), api_autoscale=(3, 12))
    hpa = "HorizontalPodAutoscaler api: cpu 70%"
    assert _fields(rescaled) == {api: (f"2 to 10 ({hpa})", f"3 to 12 ({hpa})")}
    assert [o.resource for o in rescaled.objects] == ["HorizontalPodAutoscaler app/api"]
    fixed = _review(make(api_autoscale=(2, 10)), api_autoscale=None, api_replicas=4)
    assert _fields(fixed)[api] == (f"2 to 10 ({hpa})", "4")
    assert "1 deletion" in fixed.risk_line()


def test_autoscaler_metrics_read_from_v2_and_v1() -> None:
    from kubegen._analysis.workloads import autoscalers
    from kubegen._manifests import ManifestObject

    def hpa(api_version: str, spec: dict[str, object]) -> ManifestObject:
        ref = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"}
        return ManifestObject({"apiVersion": api_version, "kind": "HorizontalPodAutoscaler",
                               "metadata": {"name": "db", "namespace": "app"},
                               "spec": {"scaleTargetRef": ref, **spec}})

    target = ("apps", "StatefulSet", "app", "db")
    v2 = hpa("autoscaling/v2", {"maxReplicas": 5, "metrics": [
        {"type": "Resource", "resource": {"name": "memory", "target": {
            "type": "AverageValue", "averageValue": "500Mi"}}},
        {"type": "Pods", "pods": {"metric": {"name": "queue_depth"}, "target": {
            "type": "AverageValue", "averageValue": "30"}}}]})
    assert autoscalers([v2]) == {
        target: "1 to 5 (HorizontalPodAutoscaler db: memory 500Mi, queue_depth 30)"}
    v1 = hpa("autoscaling/v1", {"minReplicas": 2, "maxReplicas": 4,
                                "targetCPUUtilizationPercentage": 60})
    assert autoscalers([v1]) == {target: "2 to 4 (HorizontalPodAutoscaler db: cpu 60%)"}


def test_probe_timings_read_with_their_units() -> None:
    from kubegen._analysis.workloads import workload_facts
    from kubegen._manifests import ManifestObject

    probe = {"httpGet": {"path": "/ready", "port": "http"}, "initialDelaySeconds": 3,
             "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 4}
    pod = {"containers": [{"name": "api", "image": "api:1", "readinessProbe": probe}]}
    facts = workload_facts(ManifestObject({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
        "spec": {"replicas": 2, "template": {"spec": pod}}}))
    assert facts is not None
    assert facts.containers["api"]["probe.readiness"] == (
        "http GET /ready on http, delay 3s, period 5s, timeout 2s, failures 4")


# --- objects -------------------------------------------------------------------------------


def test_statefulset_deletion_warns(make) -> None:
    stack = _review(make(), db=False)
    deleted = {o.resource: o.warning for o in stack.objects if o.change == "deleted"}
    assert "StatefulSet app/db" in deleted and "Service app/db" in deleted
    assert deleted["Service app/db"] is None
    assert "the volumes of its claim templates (data) stay" in str(deleted["StatefulSet app/db"])
    assert {"deletion", "stateful-deletion"} <= stack.categories()
    assert "1 stateful deletion" in stack.risk_line()
    assert _flows(stack) == {
        ("removed", "api", "db", "pg 5432/TCP"),
        ("removed", "db", "db", "pg 5432/TCP"),  # its replicas' peer traffic (db-peers)
        ("removed", "db", "k8s-app=kube-dns", "53/TCP"),
        ("removed", "db", "k8s-app=kube-dns", "53/UDP"),
    }


def test_namespace_created_and_deleted(make) -> None:
    created = _review(make(), extra_namespace=True)
    assert [(o.change, o.resource, o.path) for o in created.objects] == [
        ("created", "Namespace tools", "_cluster/namespace-tools.yaml"),
        ("created", "NetworkPolicy tools/allow-dns", "tools/networkpolicy-allow-dns.yaml"),
        ("created", "NetworkPolicy tools/default-deny", "tools/networkpolicy-default-deny.yaml"),
    ]
    assert "deletion" not in created.categories()
    deleted = _review(make(extra_namespace=True), extra_namespace=False)
    warnings = {o.resource: o.warning for o in deleted.objects if o.change == "deleted"}
    assert "every object in the namespace goes" in str(warnings.pop("Namespace tools"))
    assert set(warnings.values()) == {None}
    assert "stateful-deletion" in deleted.categories()
    assert deleted.risk_line() == "1 stateful deletion, 2 other deletions"
    assert created.admission == deleted.admission == []  # restricted, the default; deleted


def test_host_access_opt_outs_are_named_in_the_risk_line(make) -> None:
    stack = _review(make(), web_host="profiles the node's processes")
    added = {(e.name, e.container, e.volume, e.where) for e in stack.exemptions}
    assert added == {
        ("pod-security", None, None, ""),
        ("host-pid", None, None, ""),
        ("host-path", "host-proc", "host-proc", " (volume host-proc)"),
    }
    assert "3 opt-outs (1 host namespace, 1 hostPath)" in stack.risk_line()
    assert {"host-access", "opt-out", "admission"} <= stack.categories()
    plain = _review(make(), web_writable_root="a cache")
    assert "host-access" not in plain.categories()
    assert plain.exemptions[0].where == " (container web)"


# --- admission -----------------------------------------------------------------------------


def _levels(stack: StackReview) -> list[tuple[str, str, str | None, str | None, bool]]:
    return [(a.namespace, a.mode, a.before, a.after, a.weaker) for a in stack.admission]


def test_a_lowered_pod_security_level_is_weaker(make) -> None:
    stack = _review(make(extra_namespace=True), tools_pss="privileged")
    assert _levels(stack) == [
        ("tools", mode, "restricted", "privileged", True) for mode in ("enforce", "audit", "warn")
    ]
    assert stack.risk_line() == "1 weaker Pod Security level, 1 opt-out"
    assert {"admission", "opt-out"} <= stack.categories()


def test_a_raised_pod_security_level_is_listed_not_counted(make) -> None:
    stack = _review(make(extra_namespace=True, tools_pss="privileged"), tools_pss="baseline")
    assert _levels(stack) == [
        ("tools", mode, "privileged", "baseline", False) for mode in ("enforce", "audit", "warn")
    ]
    assert "admission" not in stack.categories()
    assert "Pod Security" not in stack.risk_line()


def test_a_new_namespace_below_restricted_is_weaker(make) -> None:
    stack = _review(make(), extra_namespace=True, tools_pss="baseline")
    assert _levels(stack) == [
        ("tools", mode, None, "baseline", True) for mode in ("enforce", "audit", "warn")
    ]
    assert "admission" in stack.categories()


def test_admission_reads_labels_as_the_admission_controller() -> None:
    from kubegen._manifests import ManifestObject
    from kubegen._review.compare import Side, _admission

    def namespace(**labels: str) -> ManifestObject:
        meta = {"name": "tools", "labels": {f"pod-security.kubernetes.io/{k.replace('_', '-')}": v
                                            for k, v in labels.items()}}
        return ManifestObject({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})

    def changes(old: ManifestObject, new: ManifestObject) -> list[tuple[str, str, str, bool]]:
        base, head = Side.of([("ns.yaml", old)]), Side.of([("ns.yaml", new)])
        return [(a.mode, str(a.before), str(a.after), a.weaker)
                for a in _admission(base, head, [new.key])]

    # enforce removed: the cluster's default (privileged unless configured) applies
    assert changes(namespace(enforce="restricted", audit="restricted"),
                   namespace(audit="restricted")) == [
        ("enforce", "restricted", "unset", True), ("warn", "restricted", "unset", True)]
    # a version pinned: listed, not weaker; an unknown enforce level fails closed (restricted)
    assert changes(namespace(enforce="restricted"),
                   namespace(enforce="restricted", enforce_version="v1.25")) == [
        ("enforce", "restricted", "restricted v1.25", False),
        ("warn", "restricted", "restricted v1.25", False)]
    assert changes(namespace(enforce="baseline"), namespace(enforce="strict")) == [
        ("enforce", "baseline", "restricted", False), ("warn", "baseline", "restricted", False)]
