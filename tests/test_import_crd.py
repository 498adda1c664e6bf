"""Typed custom resources: ``kubegen import crd`` models and ``register_crd`` validation."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pydantic
import pytest
from typer.testing import CliRunner

from kubegen import Manifest, PolicyError, Stack, ValidationError, lint, register_crd, render
from kubegen._cli.app import app

CRDS = Path(__file__).parent / "data" / "vendor" / "cert-manager-v1.16.2-crds"
SMALL = [CRDS / "crd-certificates.yaml", CRDS / "crd-certificaterequests.yaml",
         CRDS / "crd-orders.yaml"]


def _certificate(spec: dict) -> Manifest:
    return Manifest({"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
                     "metadata": {"name": "web"}, "spec": spec})


GOOD = {"secretName": "web-tls", "dnsNames": ["shop.example.com"],
        "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}}


def test_a_certificate_typo_passes_unchecked_until_its_crd_is_registered():
    stack = Stack("shop", namespace="shop")
    stack.add(_certificate({**GOOD, "dnsNamez": ["x"]}))
    assert lint(stack).ok  # KG002 note only: nothing knows the schema
    assert any(f.rule_id == "KG002" for f in lint(stack).findings)
    assert register_crd(CRDS / "crd-certificates.yaml") == ["cert-manager.io/v1 Certificate"]
    with pytest.raises(PolicyError, match=r"KG001.*unknown field 'dnsNamez'"):
        render(stack)
    fine = Stack("shop", namespace="shop")
    fine.add(_certificate(GOOD))
    assert "shop/certificate-web.yaml" in render(fine)


def test_register_crd_knows_the_scope_and_refuses_what_is_no_crd():
    register_crd(CRDS / "crd-clusterissuers.yaml")
    stack = Stack("shop", namespace="shop")
    stack.add(Manifest({"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                        "metadata": {"name": "letsencrypt"}, "spec": {"selfSigned": {}}}))
    assert "_cluster/clusterissuer-letsencrypt.yaml" in render(stack)
    with pytest.raises(ValidationError, match="not a CustomResourceDefinition") as info:
        register_crd({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    assert info.value.origin.file.endswith("test_import_crd.py")
    with pytest.raises(ValidationError, match="holds no CustomResourceDefinition"):
        register_crd(Path(__file__).parent / "data" / "vendor" / "podinfo-6.14.1")


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("crds")
    result = CliRunner().invoke(app, ["import", "crd", *map(str, SMALL), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_one_module_per_group_version_regenerated_byte_for_byte(generated, tmp_path):
    assert sorted(p.name for p in generated.iterdir()) == [
        "acme_cert_manager_io_v1.py", "cert_manager_io_v1.py"]
    again = tmp_path / "again"
    CliRunner().invoke(app, ["import", "crd", *map(str, reversed(SMALL)), "--out", str(again)])
    for module in generated.iterdir():
        assert (again / module.name).read_bytes() == module.read_bytes()
    text = (generated / "cert_manager_io_v1.py").read_text()
    assert "class Certificate(BaseModel)" in text and "class CertificateRequest(BaseModel)" in text
    assert "class CertificateSpec(BaseModel)" in text
    assert "class CertificateSpecIssuerRef(BaseModel)" in text  # Kind + field path, no Spec1


def test_typed_models_render_and_register_their_crd_on_import(generated):
    models = _load(generated / "cert_manager_io_v1.py", "cert_manager_io_v1_test")
    cert = models.Certificate(
        metadata=models.CertificateMetadata(name="web"),
        spec=models.CertificateSpec(
            secret_name="web-tls", dns_names=["shop.example.com"],
            issuer_ref=models.CertificateSpecIssuerRef(name="letsencrypt", kind="ClusterIssuer"),
        ),
    )
    stack = Stack("shop", namespace="shop")
    stack.add(Manifest(cert))
    text = render(stack)["shop/certificate-web.yaml"]
    assert "apiVersion: cert-manager.io/v1\nkind: Certificate\n" in text
    assert "  dnsNames:\n  - shop.example.com\n" in text and "secretName: web-tls" in text
    # the typed model refuses the typo itself ...
    with pytest.raises(pydantic.ValidationError, match=r"dns_namez|dnsNamez"):
        models.CertificateSpec(secret_name="x", issuer_ref={"name": "i"}, dns_namez=["x"])
    # ... and importing the module registered the CRD: untyped objects are checked strictly
    typo = Stack("shop", namespace="shop")
    typo.add(_certificate({**GOOD, "dnsNamez": ["x"]}))
    (finding,) = [f for f in lint(typo).errors if f.rule_id == "KG001"]
    assert finding.path == "spec.dnsNamez"


def test_import_crd_without_crds_is_a_located_error(tmp_path):
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = CliRunner().invoke(app, ["import", "crd", str(tmp_path / "cm.yaml")])
    assert result.exit_code == 2 and "no CustomResourceDefinition" in result.output


def test_a_malformed_crd_schema_is_refused():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.acme.io"},
           "spec": {"group": "acme.io", "names": {"kind": "Widget"}, "scope": "Namespaced",
                    "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "objekt"}}}}}]}}
    with pytest.raises(ValidationError, match=r"spec.type 'objekt' is no JSON type"):
        register_crd(crd)
