"""``kubegen import manifests`` maps Services with ``ClientIP`` session affinity, ExternalName
Services and bare Pods to the typed builders (kubegen/_vendor/service_import.py,
pod_import.py), proved like every typed call: the imported stack must render the input back.
What no builder argument sets keeps the object a ``Manifest``, with the reason for a Pod.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from helpers import write_stack
from typer.testing import CliRunner

from kubegen import HttpProbe, Pod, Port, Service, ServicePort, Stack, render
from kubegen._cli.app import app
from kubegen._pipeline import build_objects

_SERVICES = """\
apiVersion: v1
kind: Service
metadata: {name: kubia, namespace: demo}
spec:
  sessionAffinity: ClientIP
  selector: {app: kubia}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: kubia-sticky, namespace: demo}
spec:
  type: ClusterIP
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 10800}}
  selector: {app: kubia}
  ports: [{name: http, port: 80, targetPort: http, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: external-service, namespace: demo, labels: {team: edge}}
spec:
  type: ExternalName
  externalName: api.somecompany.com
---
apiVersion: v1
kind: Service
metadata: {name: external-https, namespace: demo}
spec:
  type: ExternalName
  externalName: api.example.com
  ports: [{name: https, port: 443, targetPort: https}]
"""

_KUBIA = """\
apiVersion: v1
kind: Pod
metadata:
  name: kubia-manual
  namespace: demo
  labels: {app: kubia}
spec:
  containers:
  - image: luksa/kubia:v1
    name: kubia
    ports: [{containerPort: 8080, protocol: TCP}]
"""


def _import(tmp_path: Path, files: dict[str, str], monkeypatch) -> tuple[str, str]:
    source = tmp_path / "input"
    for path, text in files.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(text)
    write_stack(tmp_path, "placeholder", "")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", "manifests", str(source), "--stack",
                                      "stacks/imported", "--namespace", "demo"])
    assert result.exit_code == 0, result.output
    return result.output, (tmp_path / "stacks" / "imported" / "__init__.py").read_text()


def _rendered(tmp_path: Path) -> dict[tuple[str, str], dict]:
    _, objects = build_objects(tmp_path / "stacks" / "imported")
    return {(o.kind, o.name): o.body for o in objects}


def _plain(body: dict) -> dict:
    """``body`` without kubegen's own metadata (its managed-by label, kubegen.dev notes)."""
    meta = dict(body["metadata"])
    labels = {k: v for k, v in (meta.pop("labels", None) or {}).items()
              if k != "app.kubernetes.io/managed-by"}
    notes = {k: v for k, v in (meta.pop("annotations", None) or {}).items()
             if not k.startswith("kubegen.dev/")}
    meta.update({k: v for k, v in (("labels", labels), ("annotations", notes)) if v})
    return {**body, "metadata": meta}


def test_client_ip_and_external_name_services_import_typed(tmp_path, monkeypatch):
    output, module = _import(tmp_path, {"services.yaml": _SERVICES}, monkeypatch)
    assert "wrote stacks/imported/__init__.py: 4 typed builders, 0 Manifests" in output
    assert "Manifest(" not in module
    assert len(re.findall(r"session_affinity='ClientIP'", module)) == 2
    assert re.search(r"Service\(\s*'external-service',\s*labels=\{'team': 'edge'\},\s*"
                     r"type='ExternalName',\s*external_name='api.somecompany.com',?\s*\)", module)
    assert re.search(r"external_name='api.example.com',\s*ports=\[ServicePort\('https', "
                     r"port=443, name='https'\)\]", module)
    rendered = _rendered(tmp_path)
    assert rendered[("Service", "kubia")]["spec"] == {
        "type": "ClusterIP", "selector": {"app": "kubia"}, "sessionAffinity": "ClientIP",
        "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}
    # the explicit default timeout is what the API server stores for the one left out
    assert rendered[("Service", "kubia-sticky")]["spec"]["sessionAffinity"] == "ClientIP"
    assert _plain(rendered[("Service", "external-service")]) == yaml.safe_load(
        _SERVICES.split("---\n")[2])
    assert rendered[("Service", "external-https")]["spec"] == {
        "type": "ExternalName", "externalName": "api.example.com",
        "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}


def test_an_affinity_timeout_no_builder_sets_keeps_the_service_a_manifest(tmp_path, monkeypatch):
    text = _SERVICES.split("---\n")[1].replace("10800", "60")
    _, module = _import(tmp_path, {"svc.yaml": text}, monkeypatch)
    assert "Manifest(" in module and "Service(" not in module
    spec = _rendered(tmp_path)[("Service", "kubia-sticky")]["spec"]
    assert spec["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 60}}


def _kubia_stack() -> Stack:
    stack = Stack("shop", namespace="demo")
    pod = stack.add(Pod("kubia", image="luksa/kubia:1.0", port=Port(8080, name="http"),
                        readiness=HttpProbe("/", port="http"),
                        liveness=HttpProbe("/healthz", port="http"),
                        pod_annotations={"acme.dev/owner": "web"}))
    stack.add(Service("kubia", target=pod, session_affinity="ClientIP",
                      ports=[ServicePort("http", port=80)]))
    return stack


def test_a_kubegen_rendered_pod_imports_as_a_typed_pod(tmp_path, monkeypatch):
    files = {Path(p).name: t for p, t in render(_kubia_stack()).items()
             if not p.endswith("kustomization.yaml")}
    output, module = _import(tmp_path, files, monkeypatch)
    assert re.search(r"stack\.add\(Pod\(\s*'kubia',", module), module
    assert "selector=" not in module.split("Pod(")[1].split("Service(")[0]  # kubegen's own
    # the account is the stack's typed ServiceAccount the Pod runs as, not a second one
    assert re.search(r"stack\.add\(ServiceAccount\(\s*'kubia'", module)
    assert "service_account='kubia'" in module
    assert ("kept as Manifest, no exact typed builder (1):\n  Namespace demo: kubegen import "
            "maps no Namespace (v1) to a typed builder\n") in output
    upstream = [d for text in files.values() for d in yaml.safe_load_all(text) if d]
    rendered = _rendered(tmp_path)
    assert len(rendered) == len(upstream)
    for doc in upstream:
        assert _plain(rendered[(doc["kind"], doc["metadata"]["name"])]) == _plain(doc), doc


def test_an_upstream_pod_imports_typed_with_its_weakened_defaults(tmp_path, monkeypatch):
    output, module = _import(tmp_path, {"pod.yaml": _KUBIA}, monkeypatch)
    assert re.search(r"stack\.add\(Pod\(\s*'kubia-manual',\s*selector=\{'app': 'kubia'\}",
                     module), module
    for opt_out in ("allow_default_service_account", "allow_token_automount",
                    "allow_run_as_root", "allow_writable_root", "allow_no_resources"):
        assert f"{opt_out}=REASON" in module, opt_out
    assert "Port(8080, unnamed=True)" in module
    assert re.search(r"Pod demo/kubia-manual: opted out \(allow_…=REASON\) of KG\d{3} at spec\.",
                     output), output
    pod = _rendered(tmp_path)[("Pod", "kubia-manual")]
    assert pod["metadata"]["labels"] == {"app": "kubia", "app.kubernetes.io/managed-by":
                                         "kubegen"}
    container = pod["spec"]["containers"][0]
    assert container["image"] == "luksa/kubia:v1" and "resources" not in container
    context = container.get("securityContext") or {}  # not hardened behind the team's back
    assert context.get("readOnlyRootFilesystem") is not True
    assert context.get("allowPrivilegeEscalation") is not False


def test_a_pod_with_a_field_no_builder_sets_stays_a_manifest_with_the_reason(
        tmp_path, monkeypatch):
    text = _KUBIA.replace("spec:\n", "spec:\n  nodeName: node-1\n", 1)
    output, module = _import(tmp_path, {"pod.yaml": text}, monkeypatch)
    assert "Pod demo/kubia-manual: spec.nodeName has no typed builder equivalent" in output
    assert "# kept as a Manifest: spec.nodeName has no typed builder equivalent" in module
    assert "Pod(" not in module
    assert _rendered(tmp_path)[("Pod", "kubia-manual")]["spec"]["nodeName"] == "node-1"


def test_a_pod_a_typed_call_would_change_or_refuses_stays_a_manifest(tmp_path, monkeypatch):
    files = {Path(p).name: t for p, t in render(_kubia_stack()).items()
             if not p.endswith("kustomization.yaml")}
    body = yaml.safe_load(files["pod-kubia.yaml"])
    body["metadata"]["labels"]["app.kubernetes.io/version"] = "old"  # kubegen's: the tag
    files["pod-kubia.yaml"] = yaml.safe_dump(body)
    output, module = _import(tmp_path, files, monkeypatch)
    assert re.search(r"Pod demo/kubia: a typed Pod would render [^\n]*"
                     r"metadata\.labels\.app\.kubernetes\.io/version", output), output
    assert "Pod(" not in module
    assert _rendered(tmp_path)[("Pod", "kubia")]["metadata"]["labels"][
        "app.kubernetes.io/version"] == "old"


def test_a_pod_whose_image_the_builders_refuse_stays_a_manifest(tmp_path, monkeypatch):
    output, module = _import(tmp_path, {"pod.yaml": _KUBIA.replace(":v1", "")}, monkeypatch)
    assert re.search(r"Pod demo/kubia-manual: a typed builder refuses a value: image "
                     r"'luksa/kubia' has no tag", output), output
    assert "Pod(" not in module


_HOSTILE = {
    "pod labels a list": (_KUBIA, lambda d: d["metadata"].__setitem__("labels", ["a"])),
    "pod spec a list": (_KUBIA, lambda d: d.__setitem__("spec", [1])),
    "pod containers a number": (_KUBIA, lambda d: d["spec"].__setitem__("containers", 3)),
    "pod context a string": (_KUBIA, lambda d: d["spec"].__setitem__("securityContext", "x")),
    "external name a number": (_SERVICES.split("---\n")[2],
                               lambda d: d["spec"].__setitem__("externalName", 5)),
    "affinity config a list": (_SERVICES.split("---\n")[0],
                               lambda d: d["spec"].__setitem__("sessionAffinityConfig", [1])),
    "service ports a string": (_SERVICES.split("---\n")[3],
                               lambda d: d["spec"].__setitem__("ports", "443")),
}


def test_malformed_pods_and_services_stay_manifests_or_are_refused_never_a_traceback(tmp_path):
    from kubegen._errors import KubegenError
    from kubegen._vendor.manifest_import import import_manifests

    for index, (what, (text, mutate)) in enumerate(_HOSTILE.items()):
        doc = yaml.safe_load(text)
        mutate(doc)
        path = tmp_path / f"in{index}" / "object.yaml"
        path.parent.mkdir()
        path.write_text(yaml.safe_dump(doc))
        try:
            result = import_manifests(path.parent, tmp_path / f"out{index}")
        except KubegenError as exc:
            assert doc["metadata"]["name"] in str(exc) or "object.yaml" in str(exc), what
            continue
        assert (result.typed, result.raw) == (0, 1), what


_NUMBERED = """\
apiVersion: v1
kind: Service
metadata: {name: legacy-db, namespace: demo}
spec:
  type: ExternalName
  externalName: db.example.com
  ports: [{port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: legacy-web, namespace: demo}
spec:
  type: ExternalName
  externalName: web.example.com
  ports: [{name: http, port: 80, targetPort: 8080}, {name: https, port: 443}]
"""


def test_external_name_ports_by_number_import_typed(tmp_path, monkeypatch):
    output, module = _import(tmp_path, {"services.yaml": _NUMBERED}, monkeypatch)
    assert "2 typed builders, 0 Manifests" in output, output
    assert "ports=[ServicePort(5432)]" in module
    assert re.search(r"ServicePort\(8080, port=80, name='http'\),\s*ServicePort\(443, "
                     r"name='https'\)", module), module
    rendered = _rendered(tmp_path)
    # what the API server stores for `- port: 5432`: TCP, targetPort the same number, no name
    assert rendered[("Service", "legacy-db")]["spec"]["ports"] == [
        {"port": 5432, "targetPort": 5432, "protocol": "TCP"}]
    assert rendered[("Service", "legacy-web")]["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"},
        {"name": "https", "port": 443, "targetPort": 443, "protocol": "TCP"}]


_KEPT = {  # a Service no typed call renders, and the reason its module and report give
    "fixed cluster IP": ("clusterIP: 10.96.0.10", "spec.clusterIP (a fixed cluster IP)"),
    "numeric target": ("ports: [{name: dns, port: 53, targetPort: 5353}]",
                       "spec.ports[0].targetPort (5353: a typed ServicePort forwards to a named "
                       "container port)"),
    "UDP": ("ports: [{name: dns, port: 53, targetPort: dns, protocol: UDP}]",
            "spec.ports[0].protocol (UDP: a typed ServicePort is TCP)"),
    "external IPs": ("externalIPs: [192.0.2.10]", "spec.externalIPs"),
    "affinity timeout": ("sessionAffinity: ClientIP\n  sessionAffinityConfig: "
                         "{clientIP: {timeoutSeconds: 60}}", "spec.sessionAffinityConfig"),
}


def test_every_service_kept_as_a_manifest_says_why(tmp_path, monkeypatch):
    base = ("apiVersion: v1\nkind: Service\nmetadata: {name: dns, namespace: demo}\nspec:\n"
            "  selector: {app: dns}\n  {line}\n")
    for index, (line, why) in enumerate(_KEPT.values()):
        text = base.replace("{line}", line)
        if "ports:" not in line:
            text += "  ports: [{name: dns, port: 53, targetPort: dns}]\n"
        root = tmp_path / str(index)
        root.mkdir()
        output, module = _import(root, {"svc.yaml": text}, monkeypatch)
        assert f"  Service demo/dns: {why} has no typed builder equivalent" in output, output
        assert f"# kept as a Manifest: {why}" in re.sub(r"\n *# {3}", " ", module), module
    # an ExternalName port the API server does not take over TCP stays data, saying so
    root = tmp_path / "udp"
    root.mkdir()
    output, _ = _import(root, {"svc.yaml": _NUMBERED.split("---\n")[0].replace(
        "{port: 5432}", "{port: 5432, protocol: UDP}")}, monkeypatch)
    assert "Service demo/legacy-db: spec.ports[0].protocol (UDP: a typed ServicePort is TCP)" \
        in output


def test_a_network_policy_port_is_tcp_unless_it_says_otherwise():
    from kubegen._vendor.manifest_import import same_object

    def policy(port: dict) -> dict:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "p", "namespace": "demo"},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"],
                         "ingress": [{"ports": [port]}]}}

    assert same_object(policy({"port": 80}), policy({"port": 80, "protocol": "TCP"}))
    assert not same_object(policy({"port": 80}), policy({"port": 80, "protocol": "UDP"}))
