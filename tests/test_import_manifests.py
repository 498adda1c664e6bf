"""``kubegen import manifests``: the imported stack renders the input objects back, semantically.

Proved on real upstream manifests (tests/data/README.md): kube-state-metrics, podinfo,
ingress-nginx, Argo CD and cert-manager's Helm output. The comparison here is the test's own:
kubegen may add its metadata (the ``managed-by: kubegen`` label, ``kubegen.dev/`` opt-out and
waiver annotations) and leave out null or empty top-level fields; everything else must be
equal. A workload (Deployment, StatefulSet, Job, CronJob) or HorizontalPodAutoscaler imported
as a typed builder is compared as the API server stores it: its defaults filled in
(``with_api_defaults``, tested in test_import_workloads.py), and a pod's unset
``automountServiceAccountToken`` taken from its ServiceAccount in the input.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from helpers import run_cli, write_stack
from typer.testing import CliRunner

from kubegen import lint, render
from kubegen._cli.app import app
from kubegen._loader import load_stack
from kubegen._manifests import is_cluster_scoped
from kubegen._pipeline import build_objects
from kubegen._vendor.api_defaults import pod_template, with_api_defaults

DATA = Path(__file__).parent / "data" / "vendor"
CASES = {
    "kube-state-metrics": (DATA / "kube-state-metrics-v2.20.0", None),
    "podinfo": (DATA / "podinfo-6.14.1", "podinfo"),
    "ingress-nginx": (DATA / "ingress-nginx-controller-v1.15.1-deploy.yaml", None),
    "argo-cd": (DATA / "argo-cd-v3.5.1-install.yaml", "argocd"),
    "cert-manager": (DATA / "cert-manager-v1.16.2-helm", None),
}
WORKLOADS = ("Deployment", "StatefulSet", "Job", "CronJob")


def _input(path: Path, namespace: str | None) -> list[dict]:
    files = sorted(f for f in path.glob("*.yaml") if f.name != "values.yaml") if (
        path.is_dir()) else [path]
    out = []
    for file in files:
        for doc in yaml.safe_load_all(file.read_text()):
            if not doc:
                continue
            meta = doc["metadata"]
            if not meta.get("namespace") and not is_cluster_scoped(doc["apiVersion"], doc["kind"]):
                meta["namespace"] = namespace
            out.append(doc)
    return out


def _meaning(body: dict, accounts: dict[str, dict] | None = None) -> dict:
    if body.get("kind") in WORKLOADS:
        body = copy.deepcopy(body)
        pod = pod_template(body)["spec"]
        if "automountServiceAccountToken" not in pod:  # the account's setting, default true
            account = (accounts or {}).get(pod.get("serviceAccountName") or "default", {})
            pod["automountServiceAccountToken"] = account.get(
                "automountServiceAccountToken", True)
        body = with_api_defaults(body)
        template = pod_template(body)
        template["metadata"] = _meaning(template)["metadata"]  # kubegen's label
    elif body.get("kind") == "HorizontalPodAutoscaler":
        body = with_api_defaults(body)
    out = {k: v for k, v in body.items() if v not in (None, {}, [])}
    if body.get("kind") == "ServiceAccount" and out.get("automountServiceAccountToken") is True:
        del out["automountServiceAccountToken"]  # the API's default
    if body.get("kind") == "Service":  # the API server's defaults
        spec = {k: v for k, v in out["spec"].items() if (k, v) != ("type", "ClusterIP")}
        spec["ports"] = [{k: v for k, v in p.items() if (k, v) != ("protocol", "TCP")}
                         for p in spec.get("ports", [])]
        out["spec"] = spec
    if body.get("kind") == "NetworkPolicy":  # a port's protocol defaults to TCP
        spec = dict(out["spec"])
        for key in ("ingress", "egress"):
            spec[key] = [{**rule, "ports": [{"protocol": "TCP", **port}
                                            for port in rule.get("ports", [])]}
                         for rule in spec.get(key, [])]
        out["spec"] = spec
    meta = dict(out.get("metadata") or {})
    labels = {k: v for k, v in (meta.get("labels") or {}).items()
              if (k, v) != ("app.kubernetes.io/managed-by", "kubegen")}
    notes = {k: v for k, v in (meta.get("annotations") or {}).items()
             if not k.startswith("kubegen.dev/")}
    meta.pop("labels", None)
    meta.pop("annotations", None)
    if labels:
        meta["labels"] = labels
    if notes:
        meta["annotations"] = notes
    out["metadata"] = meta
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write_stack(tmp_path, "placeholder", "")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_imported_stack_renders_the_input_back(project, case, monkeypatch):
    source, namespace = CASES[case]
    monkeypatch.chdir(project)
    args = ["import", "manifests", str(source), "--stack", f"stacks/{case}"]
    if namespace:
        args += ["--namespace", namespace]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    _, objects = build_objects(project / "stacks" / case)
    rendered = {(o.kind, o.namespace, o.name): o.body for o in objects}
    upstream = _input(source, namespace)
    accounts = {d["metadata"]["name"]: d for d in upstream if d["kind"] == "ServiceAccount"}
    assert len(rendered) == len(upstream)
    for doc in upstream:
        key = (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"])
        assert _meaning(rendered[key], accounts) == _meaning(doc, accounts), key

    # every difference kept is reported with its rule id (or guard), and is what lint waives
    lines = result.output.splitlines()
    reported = {m.group(1) for line in lines if (m := re.search(r": (KG\d{3}) ", line))}
    module = (project / "stacks" / case / "__init__.py").read_text()
    waived = set(re.findall(r"\.waive\('(KG\d{3})'", module))
    assert reported == waived
    assert all(f"{rule} " in result.output for rule in waived)


def test_typed_builders_where_the_mapping_is_exact(project, monkeypatch):
    monkeypatch.chdir(project)
    source, _ = CASES["kube-state-metrics"]
    result = CliRunner().invoke(app, ["import", "manifests", str(source), "--stack", "stacks/ksm"])
    assert result.exit_code == 0, result.output
    module = (project / "stacks" / "ksm" / "__init__.py").read_text()
    for kind in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding"):
        assert re.search(rf"stack\.add\({kind}\(\s*'kube-state-metrics'", module), kind
    # the ClusterRole lists secrets: the least-privilege guard is opted out, visibly
    assert "allow={'secrets-read': REASON}" in module
    assert "least-privilege guard 'secrets-read' opted out" in result.output
    # every object is typed: the headless Service too
    assert "stack.add(Manifest(" not in module
    assert re.search(r"stack\.add\(Service\(\s*'kube-state-metrics',[^#]*type='Headless'", module)
    assert "allow_external" not in module


def test_imported_stack_renders_and_checks_through_the_cli(project):
    source, _ = CASES["podinfo"]
    result = run_cli("import", "manifests", str(source), "--stack", "stacks/app",
                     "--namespace", "podinfo", cwd=project)
    assert result.returncode == 0, result.stderr
    module = (project / "stacks/app/__init__.py").read_text()
    assert re.search(r"stack\.add\(Service\(\s*'podinfo'", module)
    assert run_cli("render", "stacks/app", cwd=project).returncode == 0
    assert run_cli("check", "stacks/app", cwd=project).returncode == 0
    stack = load_stack(project / "stacks" / "app").stack
    report = lint(stack)
    assert report.ok and report.waived
    assert render(stack)


def test_objects_without_a_namespace_need_one(project, monkeypatch):
    monkeypatch.chdir(project)
    result = CliRunner().invoke(app, ["import", "manifests", str(CASES["podinfo"][0]),
                                      "--stack", "stacks/x"])
    assert result.exit_code == 2 and "names no namespace" in result.output
    assert "--namespace" in result.output


def test_network_policies_of_argo_cd_map_to_the_typed_builder(project, monkeypatch):
    monkeypatch.chdir(project)
    text = (DATA / "argo-cd-v3.5.1-install.yaml").read_text()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    policies = [d for d in yaml.load_all(text, Loader=loader) if d and d["kind"] == "NetworkPolicy"]
    assert len(policies) == 7
    (project / "policies.yaml").write_text(yaml.safe_dump_all(policies))
    result = CliRunner().invoke(app, ["import", "manifests", "policies.yaml", "--stack",
                                      "stacks/argo", "--namespace", "argocd"])
    assert result.exit_code == 0, result.output
    module = (project / "stacks" / "argo" / "__init__.py").read_text()
    assert module.count("stack.add(NetworkPolicy(") == 7  # two leave the protocol to the API
    _, objects = build_objects(project / "stacks" / "argo")
    rendered = {o.name: o.body for o in objects}
    for doc in policies:
        doc["metadata"]["namespace"] = "argocd"
        assert _meaning(rendered[doc["metadata"]["name"]]) == _meaning(doc)


def test_malformed_objects_of_any_kind_are_kept_or_refused_never_a_traceback(tmp_path):
    """Hostile YAML in the objects the importer types (a Service port that is a list, an RBAC
    rule's resources that are a number, a binding's subjects that are a number…) keeps the
    object a Manifest, or is refused as a KubegenError naming it."""
    from kubegen._errors import KubegenError
    from kubegen._vendor.manifest_import import import_manifests

    source, _ = CASES["ingress-nginx"]
    mutations = {
        "Service": lambda d: d["spec"]["ports"].__setitem__(0, [{"a": None}]),
        "ConfigMap": lambda d: d.__setitem__("data", [1]),
        "ClusterRole": lambda d: d["rules"][0].__setitem__("resources", -1),
        "ClusterRoleBinding": lambda d: d.__setitem__("subjects", -1),
        "RoleBinding": lambda d: d.__setitem__("roleRef", "1"),
        "Role": lambda d: d.__setitem__("rules", 1.5),
    }
    mutations["Service "] = lambda d: d["spec"].__setitem__("ports", -1)
    for kind, mutate in mutations.items():
        docs = [d for d in yaml.safe_load_all(source.read_text()) if d]
        mutate(next(d for d in docs if d["kind"] == kind.strip()))
        path = tmp_path / f"{kind.strip()}{len(kind)}.yaml"
        path.write_text(yaml.safe_dump_all(docs))
        try:
            result = import_manifests(path, tmp_path / path.stem)
        except KubegenError as exc:
            assert kind.strip() in str(exc) or path.name in str(exc), exc
            continue
        assert result.raw > 6, kind  # the malformed object stayed a Manifest
