"""Strict schema validation (KG001/KG002) against the bundled Kubernetes schemas."""

from __future__ import annotations

import pytest

from kubegen._policy import lint, register_schema
from kubegen._policy.schema import schema_version, shipped_versions, validator_for
from tests.policy_factories import deployment, good_bodies, objects


def schema_findings(bodies: list[dict[str, object]], version: str = "1.33") -> list[str]:
    report = lint(objects(bodies), kubernetes_version=version)
    return [
        f"{f.rule_id} {f.severity} {f.path}: {f.message}"
        for f in report.findings
        if f.rule_id in ("KG001", "KG002")
    ]


def test_valid_deployment_is_accepted() -> None:
    assert schema_findings([deployment()]) == []


def test_unknown_field_is_rejected() -> None:
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    body["spec"]["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1},
        "maxUnavailable": 0,
    }
    assert schema_findings([body]) == [
        "KG001 error spec.strategy.maxUnavailable: unknown field 'maxUnavailable' "
        "(schema: Kubernetes 1.33)",
        "KG001 error spec.template.spec.containers[0].imagePullPolcy: unknown field "
        "'imagePullPolcy' (schema: Kubernetes 1.33)",
    ]


def test_wrong_type_is_rejected() -> None:
    body = deployment()
    body["spec"]["replicas"] = "3"
    body["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    body["metadata"]["labels"]["app.kubernetes.io/version"] = 2
    found = schema_findings([body])
    assert 'KG001 error spec.replicas: is "3", expected integer (schema: Kubernetes 1.33)' in found
    assert any('containers[0].ports[0].containerPort: is "http"' in f for f in found)
    assert any(
        "metadata.labels[app.kubernetes.io/version]: is 2, expected string" in f for f in found
    )


def test_int_or_string_and_quantities_accept_both_forms() -> None:
    body = deployment()
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["limits"]["cpu"] = 1
    container["readinessProbe"]["httpGet"]["port"] = 8080
    assert schema_findings([body]) == []
    container["readinessProbe"]["httpGet"]["port"] = [8080]
    assert len(schema_findings([body])) == 1


def test_missing_required_field() -> None:
    body = deployment()
    del body["spec"]["selector"]
    assert schema_findings([body]) == [
        "KG001 error spec.selector: is required (schema: Kubernetes 1.33)"
    ]


def test_custom_resource_without_schema_is_a_note() -> None:
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "shop", "namespace": "argocd"},
        "spec": {"anything": 1},
    }
    external = {
        "apiVersion": "external-secrets.io/v1beta1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db", "namespace": "shop"},
    }
    assert schema_findings([app, external]) == [
        "KG002 info apiVersion: argoproj.io/v1alpha1 Application has no known schema",
        "KG002 info apiVersion: external-secrets.io/v1beta1 ExternalSecret has no known schema",
    ]
    assert lint(objects([app, external])).ok


def test_registered_schema_validates_custom_resources() -> None:
    register_schema(
        "example.dev/v1",
        "Gadget",
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "apiVersion": {},
                "kind": {},
                "metadata": {},
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
            },
        },
    )
    good = {
        "apiVersion": "example.dev/v1",
        "kind": "Gadget",
        "metadata": {"name": "g"},
        "spec": {"size": 1},
    }
    bad = {**good, "spec": {"size": "big"}, "extra": True}
    assert schema_findings([good]) == []
    assert schema_findings([bad]) == [
        "KG001 error extra: unknown field 'extra' (schema: Gadget CRD)",
        'KG001 error spec.size: is "big", expected integer (schema: Gadget CRD)',
    ]


def test_crd_schema_in_the_set_is_strict_unless_preserving_unknown_fields() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.acme.io"},
        "spec": {
            "group": "acme.io",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "properties": {"size": {"type": "integer"}},
                                },
                                "status": {
                                    "type": "object",
                                    "x-kubernetes-preserve-unknown-fields": True,
                                },
                            },
                        }
                    },
                }
            ],
        },
    }
    widget = {
        "apiVersion": "acme.io/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "shop"},
        "spec": {"size": 1, "colour": "red"},
        "status": {"anything": True},
    }
    assert schema_findings([crd, widget]) == [
        "KG001 error spec.colour: unknown field 'colour' (schema: Widget CRD)"
    ]


def test_removed_api_is_reported_once_by_kg003_not_as_unknown_kind() -> None:
    old = {
        "apiVersion": "batch/v1beta1",
        "kind": "CronJob",
        "metadata": {"name": "c", "namespace": "shop"},
    }
    report = lint(objects([old]))
    assert [f.rule_id for f in report.findings if f.rule_id.startswith("KG00")] == ["KG003"]


def test_schema_flag_turns_validation_off() -> None:
    body = deployment()
    body["spec"]["replicas"] = "three"
    assert not [f for f in lint(objects([body]), schema=False).findings if f.rule_id == "KG001"]


def test_version_selection() -> None:
    versions = shipped_versions()
    assert (1, 33) in versions and versions == tuple(sorted(versions))
    assert schema_version((1, 33)) == (1, 33)
    assert schema_version((99, 0)) == versions[-1]
    with pytest.raises(Exception, match="no schemas"):
        schema_version((1, 10))


def test_validators_are_cached_per_api_version_and_kind() -> None:
    first = validator_for((1, 33), "apps/v1", "Deployment")
    assert first is validator_for((1, 33), "apps/v1", "Deployment")
    assert validator_for((1, 33), "apps/v1", "Nope") is None


def test_thousands_of_objects_compile_each_kind_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation cost must not grow with objects × schema size: each kind's schema is
    compiled once per process, however many objects of that kind are linted (no timing here;
    bench/run.py measures speed)."""
    from kubegen._policy import schema

    bodies = []
    for index in range(300):  # 2,100 objects in 30 namespaces, one in seven pod-bearing
        for body in good_bodies()[1:]:
            body["metadata"]["name"] += f"-{index}"
            body["metadata"]["namespace"] = f"ns{index % 30}"
            if body["kind"] == "Deployment":
                body["spec"]["template"]["spec"]["serviceAccountName"] = f"api-{index}"
            bodies.append(body)
    compiled: list[int] = []
    real = schema.compile_schema

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    schema._load.cache_clear()
    monkeypatch.setattr(schema, "compile_schema", counting)
    report = lint(objects(bodies))
    kinds = {(body["apiVersion"], body["kind"]) for body in bodies}
    assert report.objects == 2100
    assert not report.errors
    assert 0 < len(compiled) <= len(kinds)
