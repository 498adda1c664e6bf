"""The real cert-manager v1.16.2 chart, vendored with ``kubegen vendor helm`` and a real helm.

``tests/data/vendor/cert-manager-v1.16.2-helm/`` is what ``kubegen vendor helm`` wrote with
Helm v3.17.3 (see tests/data/README.md for how the chart was built and the command line). No
helm runs here: a fake ``helm`` prints the recorded output back, and the folder must come out
byte for byte. The figures asserted (52 objects, findings per rule) are the chart's own.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections import Counter
from pathlib import Path

import pytest
import yaml
from helpers import run_cli, write_stack

from kubegen import (
    Cluster,
    Deployment,
    HttpProbe,
    PolicyError,
    Port,
    Resources,
    Stack,
    ValidationError,
    Vendored,
    lint,
    render,
)
from kubegen._vendor.files import PROVENANCE_PREFIX, digest
from kubegen._vendor.helm import values_digest

CHART = Path(__file__).parent / "data" / "vendor" / "cert-manager-v1.16.2-helm"
MANIFESTS = CHART / "manifests.yaml"
VALUES = CHART / "values.yaml"
SOURCE = "https://charts.jetstack.io"
DIGEST = "sha256:" + "b" * 64
IMAGE = "ghcr.io/acme/prometheus:3.1.0@sha256:" + "c" * 64


def _helm_output() -> str:
    """What ``helm template`` printed: the file after kubegen's two header lines."""
    return MANIFESTS.read_text(encoding="utf-8").split("\n", 2)[2]


def _upstream() -> list[dict]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(_helm_output(), Loader=loader) if d]


def _stack(namespace: str = "apps", **kwargs) -> tuple[Stack, Vendored]:
    stack = Stack("platform", namespace=namespace)
    source = stack.add(
        Vendored(CHART, name="cert-manager", source=SOURCE, version="v1.16.2",
                 licence="Apache-2.0", **kwargs)
    )
    return stack, source


def test_the_vendored_chart_renders_as_it_is_and_byte_stable() -> None:
    stack, source = _stack()
    assert source.provenance == {
        "chart": "jetstack/cert-manager", "version": "v1.16.2", "release": "cert-manager",
        "namespace": "cert-manager", "repo": None, "tool": "helm template",
        "values": values_digest([VALUES]), "content": digest(_helm_output()),
        "values_files": ["values.yaml"],
    }
    before = repr([doc.body for doc in source._docs])
    first = render(stack)
    assert render(stack) == first == render(_stack()[0])  # the cache lines included
    # rendering reads the objects and never reorders them (the CRDs' schemas have properties
    # named `labels` and `annotations`, which the emitter sorts in its copy only)
    assert repr([doc.body for doc in source._docs]) == before
    upstream = _upstream()
    assert len(upstream) == 52
    assert Counter(d["kind"] for d in upstream) == {
        "ClusterRole": 13, "ClusterRoleBinding": 10, "CustomResourceDefinition": 6,
        "Deployment": 3, "Job": 1, "MutatingWebhookConfiguration": 1, "Role": 5,
        "RoleBinding": 5, "Service": 3, "ServiceAccount": 4, "ValidatingWebhookConfiguration": 1,
    }
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rendered = {
        (d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d
        for path, text in first.items() if path != "kustomization.yaml"
        for d in [yaml.load(text, Loader=loader)]
    }
    for obj in upstream:  # every object as upstream wrote it: nothing added, nothing lost
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        assert rendered[key] == obj, key
    # 52 upstream objects + the stack's Namespace, default-deny and DNS policies
    assert len(rendered) == 55
    # RBAC names are path segments (`:`), as the API server takes them; files name them with `_`
    approve = first["_cluster/clusterrole-cert-manager-controller-approve_cert-manager-io.yaml"]
    assert "name: cert-manager-controller-approve:cert-manager-io\n" in approve
    assert "kube-system/role-cert-manager_leaderelection.yaml" in first


def test_every_object_is_schema_validated() -> None:
    stack, source = _stack()
    assert not [f for f in lint(stack).findings if f.rule_id == "KG001"]
    source.patch("Deployment", "cert-manager-webhook", {"spec": {"replicas": "two"}})
    with pytest.raises(PolicyError) as caught:
        render(stack)
    assert "KG001" in str(caught.value) and "spec.replicas" in str(caught.value)
    assert "Deployment cert-manager/cert-manager-webhook" in str(caught.value)
    # an object the API server would refuse blocks even a source that does not gate
    source.waive("KG001", reason="test: the schema error is known")
    assert "replicas: two" in render(stack)["cert-manager/deployment-cert-manager-webhook.yaml"]


RULES = {
    "KG132": 4, "KG202": 8, "KG203": 4, "KG204": 4, "KG205": 2, "KG206": 1, "KG208": 4,
    "KG209": 4, "KG405": 7, "KG501": 4, "KG502": 4, "KG701": 1, "KG702": 2, "KG703": 2,
    "KG704": 1, "KG705": 1,
}


def test_vendored_lint_reports_the_charts_findings_per_source_without_gating() -> None:
    stack, _ = _stack()
    report = lint(stack)
    assert report.ok
    assert Counter(f.rule_id for f in report.findings) == RULES
    assert all(f.source == "cert-manager v1.16.2" and not f.gating for f in report.findings)
    assert report.source_summaries() == [
        "vendored cert-manager v1.16.2: 34 errors, 12 warnings, 7 notes, 0 waived (not gating; "
        "rules " + ", ".join(sorted(RULES)) + ")"
    ]
    # each finding points into the vendored file, at the object's document
    webhook = next(f for f in report.findings
                   if f.rule_id == "KG204" and "webhook" in f.resource)
    assert webhook.origin is not None and webhook.origin.file.endswith("manifests.yaml")
    lines = MANIFESTS.read_text().splitlines()
    assert any("name: cert-manager-webhook" in line
               for line in lines[webhook.origin.line - 1: webhook.origin.line + 8])
    # a waiver per source, with its reason; gate=True makes the rest block
    stack, source = _stack(gate=True)
    source.waive("KG202", reason="sized after a week of metrics (PLAT-42)")
    report = lint(stack)
    waived = [f for f in report.findings if f.waived]
    assert len(waived) == 8 and {f.waiver_reason for f in waived} == {
        "sized after a week of metrics (PLAT-42)"}
    assert not report.ok and len(report.errors) == 34 - 8
    with pytest.raises(PolicyError):
        render(stack)


def test_typed_patches_change_the_chart_and_its_findings() -> None:
    stack, source = _stack()
    source.pin_digest("quay.io/jetstack/cert-manager-webhook", DIGEST)
    source.set_resources("cert-manager", Resources(cpu="100m", memory="256Mi"))
    source.set_replicas("cert-manager-webhook", 3)
    source.set_image("cert-manager-cainjector", "quay.io/jetstack/cert-manager-cainjector:v1.16.3")
    files = render(stack)
    webhook = yaml.safe_load(files["cert-manager/deployment-cert-manager-webhook.yaml"])
    assert webhook["spec"]["replicas"] == 3
    (container,) = webhook["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"quay.io/jetstack/cert-manager-webhook:v1.16.2@{DIGEST}"
    controller = yaml.safe_load(files["cert-manager/deployment-cert-manager.yaml"])
    (container,) = controller["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "100m", "memory": "256Mi"},
    }
    assert "cert-manager-cainjector:v1.16.3" in files[
        "cert-manager/deployment-cert-manager-cainjector.yaml"]
    found = Counter(f.rule_id for f in lint(stack).findings)
    # the controller's requests and limits are set (4 fewer), the webhook's image is pinned
    # (KG208 and KG209 gone for it)
    assert found == {**RULES, "KG202": 6, "KG203": 3, "KG204": 3, "KG208": 3, "KG209": 3}


def test_a_patch_that_matches_nothing_is_a_located_error() -> None:
    stack, source = _stack()
    before = render(stack)
    with pytest.raises(ValidationError) as caught:
        source.set_replicas("cert-manager-webhok", 3)
    message = str(caught.value)
    assert f"{Path(__file__).name}:" in message
    assert "set_replicas() matches nothing" in message
    assert "did you mean 'cert-manager-webhook'?" in message
    with pytest.raises(ValidationError) as caught:
        source.pin_digest("quay.io/jetstack/cert-manager-webhooks", DIGEST)
    assert ("use one of: quay.io/jetstack/cert-manager-cainjector, "
            "quay.io/jetstack/cert-manager-controller, "
            "quay.io/jetstack/cert-manager-startupapicheck, "
            "quay.io/jetstack/cert-manager-webhook") in str(caught.value)
    with pytest.raises(ValidationError):
        source.patch("Service", "cert-manager-webhok", {"spec": {"type": "ClusterIP"}})
    assert render(stack) == before  # nothing changed


def test_kubegen_workloads_reach_vendored_ones_as_peers() -> None:
    stack, source = _stack()
    prometheus = stack.add(Deployment(
        "prometheus", image=IMAGE, port=Port(9090, name="http"),
        readiness=HttpProbe("/-/ready"), liveness=HttpProbe("/-/healthy")))
    controller = source.workload("cert-manager")
    prometheus.connect_to(controller, port="http-metrics")
    controller.disruption_budget(max_unavailable=1)
    files = render(stack)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    selector = {"app.kubernetes.io/component": "controller",
                "app.kubernetes.io/instance": "cert-manager",
                "app.kubernetes.io/name": "cert-manager"}
    egress = yaml.load(files["apps/networkpolicy-prometheus-egress.yaml"], Loader=loader)
    assert {"to": [{"podSelector": {"matchLabels": selector}, "namespaceSelector": {
        "matchLabels": {"kubernetes.io/metadata.name": "cert-manager"}}}],
        "ports": [{"protocol": "TCP", "port": "http-metrics"}]} in egress["spec"]["egress"]
    ingress = yaml.load(files["cert-manager/networkpolicy-cert-manager-ingress.yaml"],
                        Loader=loader)
    assert ingress["spec"]["podSelector"] == {"matchLabels": selector}
    assert ingress["spec"]["ingress"] == [{"from": [{
        "podSelector": {"matchLabels": {"app.kubernetes.io/instance": "platform",
                                        "app.kubernetes.io/name": "prometheus"}},
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}],
        "ports": [{"protocol": "TCP", "port": "http-metrics"}]}]
    pdb = yaml.load(files["cert-manager/poddisruptionbudget-cert-manager.yaml"], Loader=loader)
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
    # the chart's pods matched by the derived policies and budget: KG501/KG502/KG702 fewer
    found = Counter(f.rule_id for f in lint(stack).findings if f.source)
    assert found["KG501"] == 3 and found["KG702"] == 1
    with pytest.raises(ValidationError) as caught:
        prometheus.connect_to(controller, port="metrics")
        render(stack)
    assert "metrics" in str(caught.value)


def test_a_namespace_the_stack_creates_puts_the_chart_under_its_default_deny() -> None:
    stack = Stack("cert-manager", namespace="cert-manager")
    source = stack.add(Vendored(CHART, name="cert-manager", source=SOURCE, version="v1.16.2"))
    # the default-deny would cut the API server off the admission webhook (KG505, ours: gates)
    with pytest.raises(PolicyError) as caught:
        render(stack)
    text = str(caught.value)
    assert "NetworkPolicy cert-manager/default-deny" in text and "KG505" in text
    assert ("admission webhook Service cert-manager/cert-manager-webhook (MutatingWebhook"
            "Configuration cert-manager-webhook webhooks[0], ValidatingWebhookConfiguration "
            "cert-manager-webhook webhooks[0])") in text
    assert "on port 'https' (10250)" in text
    assert "source.workload('cert-manager-webhook')" in text
    source.workload("cert-manager-webhook").allow_from(cidr="10.0.0.0/28", port="https")
    # ...and every pod granted API access off the API server (KG506): the controller, the
    # cainjector, the webhook (its serving certificate) and the startupapicheck hook Job
    with pytest.raises(PolicyError) as caught:
        render(stack)
    cut = sorted(f.message.split(" for egress")[0].rsplit(" ", 1)[1]
                 for f in lint(stack).findings if f.rule_id == "KG506")
    assert cut == ["cert-manager", "cert-manager-cainjector", "cert-manager-startupapicheck",
                   "cert-manager-webhook"]
    for name in cut:
        source.workload(name).allow_to(cidr="10.0.0.1/32", port=6443)
    files = render(stack)
    job = yaml.safe_load(
        files["cert-manager/networkpolicy-cert-manager-startupapicheck-egress.yaml"])
    assert job["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "startupapicheck"
    assert "_cluster/namespace-cert-manager.yaml" in files
    assert "cert-manager/networkpolicy-default-deny.yaml" in files
    assert "cert-manager/networkpolicy-allow-dns.yaml" in files
    found = Counter(f.rule_id for f in lint(stack).findings)
    # every vendored pod is now selected (default-deny), and PSS `restricted` admits them all
    assert not {"KG501", "KG502", "KG132"} & set(found)
    assert not [rule for rule in found if rule.startswith("KG1")]
    # in a namespace the cluster has (a Cluster fact), KG132 has its answer too
    other = Stack("platform", namespace="apps",
                  cluster=Cluster("prod", namespaces={"cert-manager": "restricted"}))
    other.add(Vendored(CHART, name="cert-manager", source=SOURCE, version="v1.16.2"))
    assert "KG132" not in {f.rule_id for f in lint(other).findings}


def test_a_client_of_the_vendored_webhook_must_leave_the_api_server_a_way_in() -> None:
    """``connect_to`` a vendored admission webhook isolates its pods for ingress: unless the
    control plane is allowed too, the API server's admission calls fail (KG505 stops it)."""
    stack, source = _stack()
    api = stack.add(Deployment(
        "api", image=IMAGE, port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz")))
    webhook = source.workload("cert-manager-webhook")
    api.connect_to(webhook, port="https")
    with pytest.raises(PolicyError) as caught:
        render(stack)
    assert "NetworkPolicy cert-manager/cert-manager-webhook-ingress" in str(caught.value)
    assert "KG505" in str(caught.value)
    webhook.allow_from(cidr="10.0.0.0/28", port="https")
    policy = yaml.safe_load(render(stack)[
        "cert-manager/networkpolicy-cert-manager-webhook-ingress.yaml"])
    assert policy["spec"]["ingress"][0]["from"][1] == {"ipBlock": {"cidr": "10.0.0.0/28"}}
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "https"}]


def _fake_helm(folder: Path) -> Path:
    """A ``helm`` that records its arguments and prints the recorded chart output."""
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / "helm-template-output.yaml"
    output.write_text(_helm_output(), encoding="utf-8")
    script = folder / "helm"
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$@\" > '{folder}/args'\ncat '{output}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return folder


def _project(tmp_path: Path) -> Path:
    write_stack(tmp_path, "platform", """
        from kubegen import Stack, Vendored

        def build():
            stack = Stack("platform", namespace="apps")
            stack.add(Vendored("vendor/cert-manager", source="https://charts.jetstack.io",
                               version="v1.16.2", licence="Apache-2.0"))
            return stack
        """)
    (tmp_path / "vendor" / "cert-manager").mkdir(parents=True)
    shutil.copy(VALUES, tmp_path / "vendor" / "cert-manager" / "values.yaml")
    return tmp_path


def test_vendor_helm_reproduces_the_committed_folder_byte_for_byte(tmp_path, monkeypatch):
    project = _project(tmp_path)
    bin_dir = _fake_helm(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = run_cli(
        "vendor", "helm", "jetstack/cert-manager", "--version", "v1.16.2",
        "--values", "vendor/cert-manager/values.yaml", "--namespace", "cert-manager",
        "--out", "vendor/cert-manager", cwd=project,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("vendored jetstack/cert-manager v1.16.2: 52 objects -> ")
    assert (bin_dir / "args").read_text().split("\n")[:-1] == [
        "template", "cert-manager", "jetstack/cert-manager", "--version", "v1.16.2",
        "--include-crds", "--namespace", "cert-manager",
        "--values", "vendor/cert-manager/values.yaml",
    ]
    written = project / "vendor" / "cert-manager" / "manifests.yaml"
    assert written.read_bytes() == MANIFESTS.read_bytes()
    provenance = json.loads(written.read_text().split("\n")[1][len(PROVENANCE_PREFIX):])
    assert (provenance["chart"], provenance["version"], provenance["values"]) == (
        "jetstack/cert-manager", "v1.16.2", values_digest([VALUES]))


def test_render_check_and_a_hand_edit_of_the_vendored_chart_is_drift(tmp_path):
    project = _project(tmp_path)
    shutil.copy(MANIFESTS, project / "vendor" / "cert-manager" / "manifests.yaml")
    rendered = run_cli("render", "stacks/platform", cwd=project)
    assert rendered.returncode == 0, rendered.stderr
    out = project / "output" / "platform"
    assert len(list(out.rglob("*.yaml"))) == 56  # 55 objects and the kustomization
    assert run_cli("check", "stacks/platform", cwd=project).returncode == 0
    manifests = project / "vendor" / "cert-manager" / "manifests.yaml"
    text = manifests.read_text()
    assert text.count("replicas: 2\n") == 2
    manifests.write_text(text.replace("replicas: 2\n", "replicas: 3\n", 1))
    checked = run_cli("check", "stacks/platform", cwd=project)
    assert checked.returncode == 1, checked.stderr
    assert "stale: vendored input edited by hand in stacks/platform" in checked.stderr
    assert "manifests.yaml was edited by hand after kubegen vendored it" in checked.stderr
    assert "Traceback" not in checked.stderr
    # the values file kept beside the output is part of it: edited, the output is stale
    manifests.write_text(text)
    assert run_cli("check", "stacks/platform", cwd=project).returncode == 0
    values = project / "vendor" / "cert-manager" / "values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 2", "replicaCount: 3", 1))
    checked = run_cli("check", "stacks/platform", cwd=project)
    assert checked.returncode == 1, checked.stderr
    assert "stale: vendored input edited by hand in stacks/platform" in checked.stderr
    assert "values.yaml changed (or went) after kubegen vendored" in checked.stderr
    assert "vendor again with `kubegen vendor helm" in checked.stderr
    values.unlink()
    assert run_cli("check", "stacks/platform", cwd=project).returncode == 1


def test_without_helm_on_path_a_real_process_says_so_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no helm there (python is found by its path)
    project = _project(tmp_path)
    result = run_cli("vendor", "helm", "jetstack/cert-manager", "--version", "v1.16.2",
                     "--out", "vendor/cert-manager", cwd=project)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "helm is not installed" in result.stderr and "Traceback" not in result.stderr
    assert not (project / "vendor" / "cert-manager" / "manifests.yaml").exists()


RBAC = "rbac.authorization.k8s.io/v1"


@pytest.mark.parametrize(("kind", "api", "name", "file"), [
    ("ClusterRole", RBAC, "system:controller:Approve",
     "_cluster/clusterrole-system_controller_approve.yaml"),
    ("RoleBinding", RBAC, "a_b:c", "s/rolebinding-a_b_c.yaml"),
    ("ClusterRole", RBAC, "a/b", None),
    ("Role", RBAC, "..", None),
    ("Role", RBAC, "100%", None),
    ("ConfigMap", "v1", "a:b", None),  # only RBAC names are path segments
])
def test_rbac_names_are_path_segments_as_the_api_server_takes_them(
    tmp_path: Path, kind: str, api: str, name: str, file: str | None
) -> None:
    path = tmp_path / "rbac.yaml"
    body = {"apiVersion": api, "kind": kind, "metadata": {"name": name}}
    if kind.endswith("Binding"):
        body["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"}
    path.write_text(yaml.safe_dump(body))
    stack = Stack("s", namespace="s")
    if file is None:
        with pytest.raises(ValidationError) as caught:
            stack.add(Vendored(path, source="local", version="1"))
        assert "rbac.yaml:1" in str(caught.value)
        return
    stack.add(Vendored(path, source="local", version="1"))
    files = render(stack)
    assert f"name: {name}\n" in files[file]


def test_the_docs_show_the_command_values_and_header_of_this_folder() -> None:
    """docs/third-party.md's Helm section is this fixture: the values file, the command line the
    byte-for-byte test above runs (and what it prints), the provenance header."""
    page = (Path(__file__).parent.parent / "docs" / "third-party.md").read_text()
    assert f"```yaml\n{VALUES.read_text()}```" in page
    assert (
        "$ kubegen vendor helm jetstack/cert-manager --version v1.16.2 \\\n"
        "    --values vendor/cert-manager/values.yaml --namespace cert-manager "
        "--out vendor/cert-manager\n"
        "vendored jetstack/cert-manager v1.16.2: 52 objects -> vendor/cert-manager/manifests.yaml\n"
    ) in page
    header = "".join(MANIFESTS.read_text().splitlines(keepends=True)[:2])
    assert f"```text\n{header}```" in page
