"""Rule: presets, the shape Kubernetes reads, and every malformed input refused with a fix."""

from __future__ import annotations

import pytest

from kubegen import Rule, ValidationError


def test_read_preset_is_get_list_watch_in_the_core_group():
    assert Rule.read("configmaps", "pods/log").as_dict() == {
        "apiGroups": [""],
        "resources": ["configmaps", "pods/log"],
        "verbs": ["get", "list", "watch"],
    }


def test_read_write_adds_create_update_patch_delete():
    rule = Rule.read_write("leases", api_groups=["coordination.k8s.io"])
    assert rule.as_dict() == {
        "apiGroups": ["coordination.k8s.io"],
        "resources": ["leases"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    }


def test_read_keeps_resource_names_but_read_write_cannot_limit_create_by_name():
    assert Rule.read("secrets", resource_names=["db"]).as_dict()["resourceNames"] == ["db"]
    with pytest.raises(ValidationError, match="create cannot be limited by resource_names"):
        Rule.read_write("leases", api_groups=["coordination.k8s.io"], resource_names=["lock"])


def test_non_resource_url_rule_has_no_groups():
    rule = Rule(non_resource_urls=["/metrics", "/healthz/*"], verbs=["get"])
    assert rule.is_url_rule
    assert rule.as_dict() == {"nonResourceURLs": ["/metrics", "/healthz/*"], "verbs": ["get"]}


def test_lists_keep_author_order_and_drop_repeats():
    rule = Rule(resources=["pods", "configmaps", "pods"], verbs=["watch", "get", "watch"])
    assert rule.resources == ("pods", "configmaps")
    assert rule.verbs == ("watch", "get")


def test_rules_compare_by_what_they_grant_not_where_they_were_written():
    first = Rule.read("configmaps")
    second = Rule(api_groups=[""], resources=["configmaps"], verbs=["get", "list", "watch"])
    assert first == second and hash(first) == hash(second)
    assert first != Rule.read("secrets", resource_names=["x"])


def test_subresource_wildcard_and_scale_of_everything_are_accepted():
    assert Rule(resources=["*/scale"], api_groups=["apps"], verbs=["get"]).resources == ("*/scale",)


@pytest.mark.parametrize(
    ("fields", "field", "message", "fix"),
    [
        ({"resources": ["pods"], "verbs": ["gets"]}, "verbs", "'gets' is not a RBAC verb",
         "did you mean 'get'?"),
        ({"resources": ["pods"], "verbs": ["post"]}, "verbs", "'post' is not a RBAC verb",
         "did you mean 'create'?"),
        ({"non_resource_urls": ["/metrics"], "verbs": ["list"]}, "verbs",
         "'list' is not a non-resource URL verb", "valid verbs: get, post, put"),
        ({"resources": ["pods"], "verbs": []}, "verbs", "at least one verb", "verbs=['get']"),
        ({"resources": ["ConfigMap"], "verbs": ["get"]}, "resources",
         "'ConfigMap' is not a resource name", "use 'configmaps'"),
        ({"resources": ["Ingress"], "verbs": ["get"], "api_groups": ["networking.k8s.io"]},
         "resources", "'Ingress' is not a resource name", "use 'ingresses'"),
        ({"resources": ["pods/*"], "verbs": ["get"]}, "resources", "'pods/*' matches nothing",
         "'pods/log'"),
        ({"resources": ["pods/log/x"], "verbs": ["get"]}, "resources", "is not a resource name",
         "use 'pods'"),
        ({"resources": ["deployments"], "verbs": ["get"]}, "resources",
         "'deployments' is served by API group 'apps', not \"\" (core)", "api_groups=['apps']"),
        ({"resources": ["configmaps"], "api_groups": ["apps"], "verbs": ["get"]}, "resources",
         "served by API group \"\" (core), not 'apps'", "api_groups=['']"),
        ({"resources": ["deployments"], "api_groups": ["apps/v1"], "verbs": ["get"]},
         "api_groups", "'apps/v1' is not an API group", "api_groups=['apps']"),
        ({"resources": ["pods"], "api_groups": ["core"], "verbs": ["get"]}, "api_groups",
         "'core' is not an API group", "api_groups=['']"),
        ({"resources": ["secrets"], "resource_names": ["*"], "verbs": ["get"]}, "resource_names",
         "'*' is not a wildcard there", "leave resource_names empty"),
        ({"resources": ["secrets"], "resource_names": ["db"], "verbs": ["get", "create"]},
         "verbs", "create cannot be limited by resource_names", "a second Rule"),
        ({"non_resource_urls": ["metrics"], "verbs": ["get"]}, "non_resource_urls",
         "must start with '/'", "'/healthz'"),
        ({"non_resource_urls": ["/a/*/b"], "verbs": ["get"]}, "non_resource_urls",
         "may end in '*'", "'/metrics'"),
        ({"non_resource_urls": ["/metrics"], "resources": ["pods"], "verbs": ["get"]},
         "non_resource_urls", "either resources or non-resource URLs", "two Rules"),
        ({"non_resource_urls": ["/metrics"], "resource_names": ["x"], "verbs": ["get"]},
         "non_resource_urls", "resource_names do not apply", "drop resource_names"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " not in v and len(v) < 20 else None,
)
def test_malformed_rules_name_field_value_and_fix(fields, field, message, fix):
    with pytest.raises(ValidationError) as caught:
        Rule(**fields)
    error = caught.value
    assert error.field == field
    assert message in error.message
    assert fix in (error.fix or "")
    assert "test_rbac_rules.py:" in str(error)  # the line that built the rule


def test_rule_without_target_is_refused():
    with pytest.raises(ValidationError, match=r"needs resources=\[…\] or non_resource_urls"):
        Rule(verbs=["get"])


def test_custom_resources_in_custom_groups_are_accepted_as_written():
    rule = Rule(api_groups=["shop.example.com"], resources=["carts", "carts/status"],
                verbs=["get", "patch"])
    assert rule.as_dict()["resources"] == ["carts", "carts/status"]


@pytest.mark.parametrize(
    ("written", "groups", "meant"),
    [
        ("configmap", [""], "configmaps"),
        ("secret", [""], "secrets"),
        ("pod", [""], "pods"),
        ("pod/log", [""], "pods/log"),
        ("cm", [""], "configmaps"),
        ("deployment", ["apps"], "deployments"),
        ("ingress", ["networking.k8s.io"], "ingresses"),
        ("networkpolicy", ["networking.k8s.io"], "networkpolicies"),
        ("secret", ["*"], "secrets"),
    ],
)
def test_singular_and_short_names_of_builtin_resources_are_refused(written, groups, meant):
    with pytest.raises(ValidationError) as caught:
        Rule.read(written, api_groups=groups)
    error = caught.value
    assert error.field == "resources"
    assert f"{written!r} is not a resource name" in error.message
    assert "would grant nothing" in error.message
    assert f"did you mean {meant!r}?" in error.message
    assert error.fix == f"use {meant!r}"


def test_singular_secret_cannot_slip_past_the_secrets_read_guard():
    with pytest.raises(ValidationError, match="did you mean 'secrets'"):
        Rule(resources=["secret"], verbs=["get", "list"])


def test_singular_names_in_custom_groups_are_custom_resources():
    rule = Rule.read("pod", "widget", api_groups=["shop.example.com"])
    assert rule.resources == ("pod", "widget")


@pytest.mark.parametrize(
    ("verb", "fix"),
    [
        ("read", "use verbs=['get', 'list', 'watch'], which is what Rule.read(...) grants"),
        ("view", "use verbs=['get', 'list', 'watch'], which is what Rule.read(...) grants"),
        ("write", "use verbs=['create', 'update', 'patch', 'delete'] (Rule.read_write(...)"),
        ("remove", "use verbs=['delete']"),
    ],
)
def test_verb_words_point_at_the_verbs_they_mean(verb, fix):
    with pytest.raises(ValidationError) as caught:
        Rule(resources=["configmaps"], verbs=[verb])
    assert (caught.value.fix or "").startswith(fix)
    assert "'create'?" not in (caught.value.fix or "")


def test_read_on_a_url_rule_suggests_get():
    with pytest.raises(ValidationError) as caught:
        Rule(non_resource_urls=["/healthz"], verbs=["read"])
    assert (caught.value.fix or "").startswith("did you mean 'get'?")
