"""Resolving access from rendered RBAC objects: aggregation, scopes, unresolved roles, order."""

from __future__ import annotations

from typing import Any

from kubegen._analysis.access import (
    RoleIndex,
    Subject,
    access_rows,
    namespaced_only,
    not_granted_reason,
    selector_matches,
    service_accounts,
)

V1 = "rbac.authorization.k8s.io/v1"
GROUP = "rbac.authorization.k8s.io"


def cluster_role(name: str, rules: list[dict[str, Any]] | None = None,
                 labels: dict[str, str] | None = None,
                 selectors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"apiVersion": V1, "kind": "ClusterRole",
                            "metadata": {"name": name, "labels": labels or {}}}
    if selectors is not None:
        body["aggregationRule"] = {"clusterRoleSelectors": selectors}
    if rules is not None:
        body["rules"] = rules
    return body


def binding(kind: str, name: str, role_kind: str, role: str, subjects: list[dict[str, Any]],
            namespace: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {"apiVersion": V1, "kind": kind, "metadata": meta, "subjects": subjects,
            "roleRef": {"kind": role_kind, "name": role, "apiGroup": GROUP}}


def sa(name: str, namespace: str | None = "shop") -> dict[str, Any]:
    out = {"kind": "ServiceAccount", "name": name}
    return {**out, "namespace": namespace} if namespace else out


def read(*resources: str, group: str = "", names: list[str] | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"apiGroups": [group], "resources": list(resources),
                            "verbs": ["get", "list", "watch"]}
    if names:
        rule["resourceNames"] = names
    return rule


def test_aggregation_expands_matching_cluster_roles_transitively_by_name():
    bodies = [
        cluster_role("top", selectors=[{"matchLabels": {"agg": "top"}}]),
        cluster_role("mid", labels={"agg": "top"}, selectors=[{"matchLabels": {"agg": "mid"}}]),
        cluster_role("b-leaf", labels={"agg": "mid"}, rules=[read("pods")]),
        cluster_role("a-leaf", labels={"agg": "top"}, rules=[read("configmaps")]),
        cluster_role("other", labels={"agg": "none"}, rules=[read("secrets")]),
    ]
    rules = RoleIndex(bodies).rules("ClusterRole", "top", None)
    assert rules is not None
    assert [(r.rule["resources"], r.path) for r in rules] == [
        (["configmaps"], ("ClusterRole top", "ClusterRole a-leaf")),
        (["pods"], ("ClusterRole top", "ClusterRole mid", "ClusterRole b-leaf")),
    ]


def test_aggregation_cycles_terminate():
    bodies = [
        cluster_role("a", labels={"x": "a"}, selectors=[{"matchLabels": {"x": "b"}}]),
        cluster_role("b", labels={"x": "b"}, selectors=[{"matchLabels": {"x": "a"}}]),
    ]
    assert RoleIndex(bodies).rules("ClusterRole", "a", None) == []


def test_selectors_support_expressions_and_an_empty_selector_matches_everything():
    labels = {"tier": "web", "team": "shop"}
    assert selector_matches({"matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["web", "api"]},
        {"key": "env", "operator": "DoesNotExist"},
        {"key": "team", "operator": "Exists"},
        {"key": "team", "operator": "NotIn", "values": ["ops"]},
    ]}, labels)
    assert not selector_matches({"matchExpressions": [
        {"key": "tier", "operator": "NotIn", "values": ["web"]}]}, labels)
    assert not selector_matches({"matchLabels": {"tier": "api"}}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "x", "operator": "Bogus"}]}, {})
    assert selector_matches({}, labels)


def test_rows_scope_role_bindings_to_their_namespace_and_cluster_bindings_everywhere():
    bodies = [
        cluster_role("reader", rules=[read("configmaps"), {"nonResourceURLs": ["/metrics"],
                                                          "verbs": ["get"]}]),
        binding("RoleBinding", "rb", "ClusterRole", "reader", [sa("api")], namespace="shop"),
        binding("ClusterRoleBinding", "crb", "ClusterRole", "reader",
                [{"kind": "Group", "name": "sre", "apiGroup": GROUP}]),
    ]
    rows = [(str(r.subject), r.namespace, r.api_group, r.resource, r.verbs, r.granted)
            for r in access_rows(bodies)]
    assert rows == [
        ("ServiceAccount shop/api", "shop", "", "configmaps", ("get", "list", "watch"), True),
        ("Group sre", "*", "", "configmaps", ("get", "list", "watch"), True),
        ("Group sre", "*", None, "/metrics", ("get",), True),
        # what the RoleBinding cannot grant is listed apart, never as granted
        ("ServiceAccount shop/api", "shop", None, "/metrics", ("get",), False),
    ]
    (refused,) = [r for r in access_rows(bodies) if not r.granted]
    assert not_granted_reason(refused) == "a non-resource URL: only a ClusterRoleBinding grants it"


def test_a_role_binding_grants_only_namespaced_resources_and_its_own_namespace():
    bodies = [
        cluster_role("mixed", rules=[
            read("pods"), read("nodes"), read("namespaces"),
            {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["shop", "other"],
             "verbs": ["patch"]},
            {"apiGroups": ["acme.dev"], "resources": ["widgets"], "verbs": ["get"]},
        ]),
        binding("RoleBinding", "rb", "ClusterRole", "mixed", [sa("api")], namespace="shop"),
        binding("ClusterRoleBinding", "crb", "ClusterRole", "mixed", [sa("op", "ops")]),
    ]
    rows = access_rows(bodies)
    shop = [(r.resource, r.names, r.verbs, r.granted) for r in rows if r.namespace == "shop"]
    assert shop == [
        ("namespaces", ("shop",), ("get", "patch"), True),  # only itself, by name
        ("pods", (), ("get", "list", "watch"), True),
        ("widgets", (), ("get",), True),  # a custom resource: assumed namespaced
        ("namespaces", (), ("list", "watch"), False),
        ("namespaces", ("other",), ("patch",), False),
        ("nodes", (), ("get", "list", "watch"), False),
    ]
    reasons = [not_granted_reason(r) for r in rows if not r.granted]
    assert reasons == [
        "a RoleBinding grants only get, update, patch, delete of its own namespace",
        "a RoleBinding grants only its own namespace, shop",
        "cluster-scoped: a RoleBinding grants only inside its namespace",
    ]
    everywhere = {(r.resource, r.names): r.verbs for r in rows if r.namespace == "*"}
    assert everywhere[("nodes", ())] == ("get", "list", "watch")
    assert everywhere[("namespaces", ())] == ("get", "list", "watch")
    assert all(r.granted for r in rows if r.namespace == "*")


def test_rows_merge_verbs_per_target_and_keep_resource_names_apart():
    role = {"apiVersion": V1, "kind": "Role", "metadata": {"name": "r", "namespace": "shop"},
            "rules": [read("secrets", names=["db"]),
                      {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["db"],
                       "verbs": ["delete", "update"]},
                      {"apiGroups": ["", "apps"], "resources": ["x"], "verbs": ["patch"]}]}
    bodies = [role, binding("RoleBinding", "r", "Role", "r", [sa("api")], namespace="shop")]
    rows = [(r.api_group, r.resource, r.names, r.verbs) for r in access_rows(bodies)]
    assert rows == [
        ("", "secrets", ("db",), ("get", "list", "watch", "update", "delete")),
        ("", "x", (), ("patch",)),
        ("apps", "x", (), ("patch",)),
    ]


def test_a_role_outside_the_output_is_an_unresolved_row():
    bodies = [binding("RoleBinding", "v", "ClusterRole", "view", [sa("api")], namespace="shop")]
    (row,) = access_rows(bodies)
    assert (row.resolved, row.resource, row.verbs) == (False, None, ())
    assert row.via == (("RoleBinding v", "ClusterRole view"),)


def test_a_role_binding_cannot_see_a_role_of_another_namespace():
    role = {"apiVersion": V1, "kind": "Role", "metadata": {"name": "r", "namespace": "other"},
            "rules": [read("pods")]}
    bodies = [role, binding("RoleBinding", "b", "Role", "r", [sa("api")], namespace="shop")]
    assert [r.resolved for r in access_rows(bodies)] == [False]


def test_rows_are_sorted_by_subject_kind_then_names_and_identical_across_input_order():
    reader = cluster_role("reader", rules=[read("pods")])
    bodies = [
        reader,
        binding("RoleBinding", "b1", "ClusterRole", "reader",
                [{"kind": "Group", "name": "a", "apiGroup": GROUP},
                 {"kind": "User", "name": "z", "apiGroup": GROUP}, sa("web")], namespace="shop"),
        binding("RoleBinding", "b2", "ClusterRole", "reader", [sa("api")], namespace="shop"),
    ]
    rows = access_rows(bodies)
    assert [str(r.subject) for r in rows] == [
        "ServiceAccount shop/api", "ServiceAccount shop/web", "User z", "Group a"]
    assert access_rows(list(reversed(bodies))) == rows


def test_service_account_subjects_without_namespace_take_the_binding_namespace():
    bodies = [cluster_role("reader", rules=[read("pods")]),
              binding("RoleBinding", "b", "ClusterRole", "reader", [sa("api", None)],
                      namespace="shop")]
    assert access_rows(bodies)[0].subject == Subject("ServiceAccount", "api", "shop")


def test_namespaced_only_knows_builtin_scopes_and_distrusts_the_unknown():
    assert namespaced_only([read("configmaps"), read("deployments", group="apps")])
    assert not namespaced_only([read("configmaps"), read("nodes")])
    assert not namespaced_only([read("carts", group="shop.example.com")])
    assert not namespaced_only([{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}])
    assert not namespaced_only([read("*")])
    assert not namespaced_only([])


def test_service_accounts_lists_defined_accounts_sorted():
    bodies = [{"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": n, "namespace": "shop"}} for n in ("web", "api")]
    assert [s.name for s in service_accounts(bodies)] == ["api", "web"]
