"""Least-privilege guards: each refused with its message, then accepted with a reason in YAML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rbac_support import CLUSTER, annotations, deployment, rendered

from kubegen import (
    ClusterRole,
    ClusterRoleBinding,
    Group,
    Manifest,
    Role,
    RoleBinding,
    RoleRef,
    Rule,
    ServiceAccount,
    ServiceAccountRef,
    Stack,
    User,
    ValidationError,
)

Allow = dict[str, str]


@dataclass(frozen=True)
class Case:
    """``build`` adds objects to a stack (passing ``allow`` to the guarded one) and returns the
    path of the file that must carry the opt-out annotation."""

    id: str
    guard: str
    build: Callable[[Stack, Allow], str]
    field: str
    message: str


def _role(rule: Rule) -> Callable[[Stack, Allow], str]:
    def build(stack: Stack, allow: Allow) -> str:
        stack.add(Role("r", rules=[rule], allow=allow))
        return "shop/role-r.yaml"

    return build


def _cluster_role(rule: Rule) -> Callable[[Stack, Allow], str]:
    def build(stack: Stack, allow: Allow) -> str:
        stack.add(ClusterRole("r", rules=[rule], allow=allow))
        return "_cluster/clusterrole-r.yaml"

    return build


def _admin(name: str) -> Callable[[Stack, Allow], str]:
    def build(stack: Stack, allow: Allow) -> str:
        stack.add(ServiceAccount("ci"))
        stack.add(RoleBinding("b", role=RoleRef(name, external=True),
                              subjects=[ServiceAccountRef("ci")], allow=allow))
        return "shop/rolebinding-b.yaml"

    return build


def _public(subject: User | Group) -> Callable[[Stack, Allow], str]:
    def build(stack: Stack, allow: Allow) -> str:
        role = stack.add(Role("reader", rules=[Rule.read("configmaps")]))
        stack.add(RoleBinding("b", role=role, subjects=[subject], allow=allow))
        return "shop/rolebinding-b.yaml"

    return build


def _cluster_binding(role: str) -> Callable[[Stack, Allow], str]:
    def build(stack: Stack, allow: Allow) -> str:
        stack.add(ServiceAccount("ci"))
        ref: ClusterRole | RoleRef = RoleRef("view", external=True)
        if role == "own":
            ref = stack.add(ClusterRole("reader", rules=[Rule.read("configmaps", "pods/log")]))
        stack.add(ClusterRoleBinding("b", role=ref, subjects=[ServiceAccountRef("ci")],
                                     allow=allow))
        return "_cluster/clusterrolebinding-b.yaml"

    return build


def _cluster_role_one_namespace(stack: Stack, allow: Allow) -> str:
    stack.add(ServiceAccount("ci"))
    role = stack.add(ClusterRole("reader", rules=[Rule.read("configmaps")], allow=allow))
    stack.add(RoleBinding("reader", role=role, subjects=[ServiceAccountRef("ci")]))
    return "_cluster/clusterrole-reader.yaml"


RBAC = ["rbac.authorization.k8s.io"]
CASES = [
    Case("verbs-star", "wildcard", _role(Rule(resources=["configmaps"], verbs=["*"])),
         "rules[0].verbs", "'*' grants every verb"),
    Case("resources-star", "wildcard", _role(Rule(resources=["*"], verbs=["get"])),
         "rules[0].resources", "'*' grants every resource"),
    Case("scale-of-all", "wildcard",
         _role(Rule(api_groups=["apps"], resources=["*/scale"], verbs=["get"])),
         "rules[0].resources", "'*' grants every resource"),
    Case("groups-star", "wildcard",
         _role(Rule(api_groups=["*"], resources=["configmaps"], verbs=["get"])),
         "rules[0].api_groups", "'*' grants every API group"),
    Case("urls-star", "wildcard", _cluster_role(Rule(non_resource_urls=["*"], verbs=["get"])),
         "rules[0].non_resource_urls", "every non-resource URL"),
    Case("cluster-admin", "admin-role", _admin("cluster-admin"), "role",
         "the built-in ClusterRole 'cluster-admin' grants broad power"),
    Case("admin", "admin-role", _admin("admin"), "role", "the built-in ClusterRole 'admin'"),
    Case("edit", "admin-role", _admin("edit"), "role", "the built-in ClusterRole 'edit'"),
    Case("escalate", "escalation-verbs",
         _role(Rule(api_groups=RBAC, resources=["roles"], verbs=["get", "escalate"])),
         "rules[0].verbs", "escalate: the subject could grant itself more than it has"),
    Case("bind", "escalation-verbs", _role(Rule(api_groups=RBAC, resources=["roles"],
                                                 verbs=["bind"])),
         "rules[0].verbs", "bind: the subject could grant itself"),
    Case("impersonate", "escalation-verbs",
         _role(Rule(resources=["serviceaccounts"], verbs=["impersonate"])),
         "rules[0].verbs", "impersonate: the subject could grant itself more than it has, or act"),
    Case("exec", "pod-exec", _role(Rule(resources=["pods", "pods/exec"], verbs=["create"])),
         "rules[0].resources", "pods/exec: a shell or a tunnel into running containers"),
    Case("attach", "pod-exec", _role(Rule(resources=["pods/attach"], verbs=["create"])),
         "rules[0].resources", "pods/attach: a shell"),
    Case("portforward", "pod-exec", _role(Rule(resources=["pods/portforward"], verbs=["create"])),
         "rules[0].resources", "pods/portforward: a shell or a tunnel"),
    Case("exec-websocket-get", "pod-exec", _role(Rule(resources=["pods/exec"], verbs=["get"])),
         "rules[0].resources", "get over websockets"),
    Case("secrets", "secrets-read", _role(Rule.read("secrets")), "rules[0].resource_names",
         "reads every Secret in scope"),
    Case("secrets-list-only", "secrets-read", _role(Rule(resources=["secrets"], verbs=["list"])),
         "rules[0].resource_names", "reads every Secret in scope"),
    Case("crb-own-role", "cluster-scope", _cluster_binding("own"), "role",
         "grants ClusterRole reader in every namespace, but its rules name only namespaced"),
    Case("crb-builtin-view", "cluster-scope", _cluster_binding("view"), "role",
         "grants ClusterRole view in every namespace"),
    Case("clusterrole-one-namespace", "cluster-scope", _cluster_role_one_namespace, "kind",
         "only RoleBindings in namespace shop use it"),
    Case("anonymous", "public-subject", _public(User("system:anonymous")), "subjects[0].name",
         "'system:anonymous' stands for every caller"),
    Case("unauthenticated", "public-subject", _public(Group("system:unauthenticated")),
         "subjects[0].name", "'system:unauthenticated' stands for every caller"),
    Case("authenticated", "public-subject", _public(Group("system:authenticated")),
         "subjects[0].name", "every caller that presents any credential"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_guard_refuses_then_accepts_with_reason_in_yaml(case: Case):
    refused = Stack("shop", namespace="shop", cluster=CLUSTER)
    with pytest.raises(ValidationError) as caught:
        case.build(refused, {})  # builder guards raise here,
        rendered(refused)  # stack guards (cluster-scope) when the stack renders
    error = caught.value
    assert case.message in error.message
    assert f"(least-privilege guard '{case.guard}')" in error.message
    assert error.field == case.field
    assert f"pass allow={{'{case.guard}': '<why>'}}" in (error.fix or "")
    assert f"kubegen.dev/opt-out-rbac-{case.guard}" in (error.fix or "")
    assert "test_rbac_guards.py:" in str(error)

    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    reason = f"accepted in test {case.id}"
    path = case.build(stack, {case.guard: reason})
    files = rendered(stack)
    assert annotations(files[path])[f"kubegen.dev/opt-out-rbac-{case.guard}"] == reason


def test_grant_guard_points_at_the_grant_line_and_opts_out_on_the_derived_role():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    with pytest.raises(ValidationError) as caught:
        api.grant(Rule.read("configmaps"), Rule.read("secrets"))
    error = caught.value
    assert error.resource == "Deployment shop/api"
    assert error.field == "rules[1].resource_names"
    assert "pass allow={'secrets-read': '<why>'} to grant(…)" in (error.fix or "")
    assert "test_rbac_guards.py:" in str(error)
    assert stack.grants == [] and api.api_access is None  # a refused grant records nothing

    api.grant(Rule.read("secrets"), allow={"secrets-read": "reads every tenant's TLS secret"})
    role = rendered(stack)["shop/role-api-access.yaml"]
    assert annotations(role)["kubegen.dev/opt-out-rbac-secrets-read"] == (
        "reads every tenant's TLS secret")


def test_granting_an_admin_role_is_guarded_and_opted_out_on_the_binding():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    with pytest.raises(ValidationError, match="built-in ClusterRole 'edit'") as caught:
        api.grant(RoleRef("edit", external=True))
    assert caught.value.field == "role"
    api.grant(RoleRef("edit", external=True), allow={"admin-role": "deploys the tenant apps"})
    files = rendered(stack)
    binding = files["shop/rolebinding-api-edit.yaml"]
    assert binding["roleRef"] == {"kind": "ClusterRole", "name": "edit",
                                  "apiGroup": "rbac.authorization.k8s.io"}
    assert annotations(binding) == {
        "kubegen.dev/opt-out-rbac-admin-role": "deploys the tenant apps"}


def test_cluster_wide_grant_of_namespaced_rules_is_guarded_at_render():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"), cluster_wide=True)
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    error = caught.value
    assert (error.field, error.value) == ("cluster_wide", True)
    assert "grants ClusterRole shop-api-access in every namespace" in error.message
    assert "to grant(…)" in (error.fix or "")

    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("configmaps"), cluster_wide=True,
              allow={"cluster-scope": "watches configmaps of every tenant namespace"})
    files = rendered(stack)
    binding = files["_cluster/clusterrolebinding-shop-api-access.yaml"]
    assert annotations(binding)["kubegen.dev/opt-out-rbac-cluster-scope"].startswith("watches")
    assert "kubegen.dev/opt-out-rbac-cluster-scope" not in annotations(
        files["_cluster/clusterrole-shop-api-access.yaml"])


def test_cluster_wide_grant_of_cluster_scoped_resources_needs_no_opt_out():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    api = stack.add(deployment("api"))
    api.grant(Rule.read("nodes"), cluster_wide=True)
    files = rendered(stack)
    assert files["_cluster/clusterrole-shop-api-access.yaml"]["rules"] == [
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}]


def _raw_role(notes: dict[str, str]) -> Manifest:
    return Manifest({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "raw", "annotations": notes},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}],
    })


def test_raw_manifest_roles_pass_the_same_guards_and_opt_out_by_annotation():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    stack.add(_raw_role({}))
    with pytest.raises(ValidationError) as caught:
        stack.objects()
    error = caught.value
    assert (error.resource, error.field) == ("Role shop/raw", "rules[0].verbs")
    assert "add the annotation kubegen.dev/opt-out-rbac-wildcard: '<why>' to its metadata" in (
        error.fix or "")

    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    stack.add(_raw_role({"kubegen.dev/opt-out-rbac-wildcard": "legacy operator"}))
    assert rendered(stack)["shop/role-raw.yaml"]["rules"][0]["verbs"] == ["*"]


def test_raw_manifest_binding_to_cluster_admin_is_guarded():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    stack.add(Manifest({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "root"},
        "subjects": [{"kind": "Group", "name": "ops", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "ClusterRole", "name": "cluster-admin",
                    "apiGroup": "rbac.authorization.k8s.io"},
    }))
    with pytest.raises(ValidationError, match="'cluster-admin' grants broad power") as caught:
        stack.objects()
    assert caught.value.field == "roleRef.name"


@pytest.mark.parametrize(
    ("build", "guard"),
    [
        (lambda s: s.add(Role("r", rules=[Rule.read("configmaps")], allow={"wildcard": "x"})),
         "wildcard"),
        (lambda s: s.add(Role("r", rules=[Rule.read("configmaps")], allow={"admin-role": "x"})),
         "admin-role"),
        (lambda s: s.add(ClusterRoleBinding("b", role=s.add(ClusterRole(
            "n", rules=[Rule.read("nodes")])), subjects=[Group("ops")],
            allow={"cluster-scope": "x"})), "cluster-scope"),
        (lambda s: s.add(deployment("api")).grant(Rule.read("configmaps"),
                                                   allow={"secrets-read": "x"}), "secrets-read"),
        (lambda s: s.add(deployment("api")).grant(Rule.read("configmaps"),
                                                   allow={"cluster-scope": "x"}), "cluster-scope"),
    ],
    ids=["role-wildcard", "role-admin", "crb-cluster-scope", "grant-secrets", "grant-scope"],
)
def test_an_opt_out_nothing_needs_is_refused_so_annotations_stay_true(build, guard):
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    with pytest.raises(ValidationError) as caught:
        build(stack)
        stack.objects()
    assert caught.value.field == "allow"
    assert f"allow={{'{guard}': …}} is not needed" in caught.value.message


@pytest.mark.parametrize(
    ("allow", "message"),
    [({"wildcards": "x"}, "'wildcards' is not a guard id"),
     ({"wildcard": "  "}, "allowing 'wildcard' needs a reason")],
)
def test_allow_takes_known_guard_ids_with_reasons(allow, message):
    with pytest.raises(ValidationError, match=message) as caught:
        Role("r", rules=[Rule(resources=["*"], verbs=["get"])], allow=allow)
    assert caught.value.field == "allow"


def test_a_wildcard_opt_out_covers_what_the_wildcard_matches():
    everything = Rule(api_groups=["*"], resources=["*"], verbs=["*"])
    role = Role("r", namespace="ops", rules=[everything], allow={"wildcard": "break-glass role"})
    assert annotations(role.manifests()[0].body) == {
        "kubegen.dev/opt-out-rbac-wildcard": "break-glass role"}


def test_guards_run_again_when_the_rules_change_after_construction():
    stack = Stack("shop", namespace="shop", cluster=CLUSTER)
    role = stack.add(Role("r", rules=[Rule.read("configmaps")]))
    role.rules = (Rule.read("secrets"),)
    with pytest.raises(ValidationError, match="reads every Secret"):
        stack.objects()


def test_malformed_raw_rbac_is_refused_by_the_schema_not_a_traceback():
    """Hostile YAML in a Manifest (rules: 1.5, a string roleRef, a rule's resources: -1) never
    reaches the guards, which read the API's shapes: the schema check refuses it, located."""
    from kubegen import Manifest, PolicyError, Stack, render

    group = "rbac.authorization.k8s.io/v1"
    stack = Stack("shop", namespace="shop")
    stack.add(Manifest({"apiVersion": group, "kind": "ClusterRole", "metadata": {"name": "a"},
                        "rules": 1.5}))
    stack.add(Manifest({"apiVersion": group, "kind": "Role", "metadata": {"name": "b"},
                        "rules": [{"apiGroups": [""], "resources": -1, "verbs": ["get"]}]}))
    stack.add(Manifest({"apiVersion": group, "kind": "RoleBinding", "metadata": {"name": "c"},
                        "roleRef": "1", "subjects": -1}))
    with pytest.raises(PolicyError) as caught:
        render(stack)
    text = str(caught.value)
    for where in ("rules: is 1.5, expected array", "roleRef: is \"1\", expected object",
                  "subjects: is -1, expected array", "resources: is -1, expected array"):
        assert where in text, where
    assert "test_rbac_guards.py:" in text
