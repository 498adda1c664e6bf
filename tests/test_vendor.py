"""Vendored upstream manifests: read as they are, rendered stably, linted per source, patched."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest
import yaml

from kubegen import (
    Deployment,
    HttpProbe,
    Manifest,
    Namespace,
    PolicyError,
    Port,
    Resources,
    Stack,
    ValidationError,
    Vendored,
    lint,
    render,
)
from kubegen._vendor.files import digest, header

DATA = Path(__file__).parent / "data" / "vendor"
ARGO = DATA / "argo-cd-v3.5.1-install.yaml"
NGINX = DATA / "ingress-nginx-controller-v1.15.1-deploy.yaml"
ARGO_URL = "https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/install.yaml"
IMAGE = "ghcr.io/acme/api:1.0@sha256:" + "a" * 64


@functools.cache
def _parsed(path: Path) -> tuple[dict, ...]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(d for d in yaml.load_all(path.read_text(), Loader=loader) if d)


def _upstream(path: Path) -> list[dict]:
    return copy.deepcopy(list(_parsed(path)))


def _load(text: str) -> dict:
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


# Argo CD's workloads whose ServiceAccounts are bound to roles: under the namespace's
# default-deny they reach the API server only through a declared egress rule (KG506).
ARGO_API_CLIENTS = ("argocd-application-controller", "argocd-applicationset-controller",
                    "argocd-dex-server", "argocd-notifications-controller", "argocd-redis",
                    "argocd-server")


@pytest.fixture(scope="module")
def argo_files() -> dict[str, str]:
    return render(_argo()[0])


def _argo(**kwargs) -> tuple[Stack, Vendored]:
    stack = Stack("argocd", namespace="argocd")
    vendored = stack.add(
        Vendored(ARGO, name="argo-cd", source=ARGO_URL, version="v3.5.1", **kwargs)
    )
    for name in ARGO_API_CLIENTS:
        vendored.workload(name).allow_to(cidr="10.0.0.1/32", port=6443)
    return stack, vendored


def test_argo_cd_through_manifest_is_refused_but_vendored_renders_every_object(argo_files):
    stack = Stack("argocd", namespace="argocd")
    for doc in _upstream(ARGO):
        stack.add(Manifest(doc))
    with pytest.raises(ValidationError, match="least-privilege guard"):
        stack.objects()
    objects = [f for f in argo_files if f.startswith("argocd/") or f.startswith("_cluster/")]
    upstream = _upstream(ARGO)
    assert len(upstream) == 59
    # 59 upstream objects + the stack's Namespace, default-deny, allow-dns and the egress
    # policies that let six of Argo CD's workloads reach the API server
    assert len(objects) == 62 + len(ARGO_API_CLIENTS)
    egress = _load(argo_files["argocd/networkpolicy-argocd-server-egress.yaml"])["spec"]
    assert {"to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
            "ports": [{"protocol": "TCP", "port": 6443}]} in egress["egress"]
    # without them, kubegen's default-deny would cut Argo CD off the API server
    bare = Stack("argocd", namespace="argocd")
    bare.add(Vendored(ARGO, name="argo-cd", source=ARGO_URL, version="v3.5.1"))
    cut = {f.resource for f in lint(bare).findings if f.rule_id == "KG506"}
    assert cut == {"NetworkPolicy argocd/default-deny"}
    assert sorted(f.message.split(" for egress")[0].rsplit(" ", 1)[1]
                  for f in lint(bare).findings if f.rule_id == "KG506") == sorted(
        ARGO_API_CLIENTS)
    assert "argocd/statefulset-argocd-application-controller.yaml" in argo_files
    assert "_cluster/customresourcedefinition-applications.argoproj.io.yaml" in argo_files


def test_vendored_objects_are_upstream_objects_with_their_namespace(argo_files):
    rendered = {}
    for path, text in argo_files.items():
        body = _load(text)
        if path != "kustomization.yaml":
            rendered[(body["kind"], body["metadata"]["name"])] = body
    for doc in _upstream(ARGO):
        if doc["kind"] not in ("CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"):
            doc["metadata"]["namespace"] = "argocd"
        assert rendered[(doc["kind"], doc["metadata"]["name"])] == doc
    # nothing of kubegen's is written into upstream objects
    assert "managed-by: kubegen" not in argo_files["argocd/deployment-argocd-server.yaml"]


def test_vendored_render_is_byte_stable(argo_files):
    stack, _ = _argo()
    assert render(stack) == argo_files


def test_findings_are_summarised_per_source_and_do_not_gate():
    stack, _ = _argo()
    report = lint(stack)
    assert report.ok
    vendored = report.vendored
    assert {f.rule_id for f in vendored} >= {"KG202", "KG401", "KG405"}
    assert all(f.source == "argo-cd v3.5.1" and not f.blocking for f in vendored)
    (line,) = report.source_summaries()
    assert line.startswith("vendored argo-cd v3.5.1: ")
    assert "not gating" in line and "KG401" in line
    assert "vendored source not gating" in report.summary()
    assert "[vendored: argo-cd v3.5.1, not gating]" in report.to_text()
    # each finding points into the vendored file
    origin = next(f.origin for f in vendored if f.resource.endswith("argocd-server"))
    assert origin.file.endswith("argo-cd-v3.5.1-install.yaml") and origin.line > 1


def test_a_gating_source_blocks_the_render():
    stack, _ = _argo(gate=True)
    assert not lint(stack).ok
    with pytest.raises(PolicyError, match="KG202"):
        render(stack)


def test_waivers_apply_per_source_and_leave_the_bytes_alone(argo_files):
    stack, vendored = _argo()
    vendored.waive("KG202", reason="sized by upstream's defaults; reviewed in INFRA-12")
    report = lint(stack)
    waived = [f for f in report.findings if f.rule_id == "KG202"]
    assert waived and all(f.waived and f.waiver_reason.startswith("sized") for f in waived)
    assert render(stack) == argo_files


def test_typed_patches_change_only_what_they_name(argo_files):
    stack, argo = _argo()
    argo.set_image("argocd-server", "quay.io/argoproj/argocd:v3.5.2")
    argo.pin_digest("public.ecr.aws/docker/library/redis", "sha256:" + "b" * 64)
    argo.set_resources("argocd-repo-server", Resources(cpu="250m", memory="512Mi"))
    argo.set_replicas("argocd-server", 2)
    argo.set_labels({"team": "platform"}, kind="Service")
    argo.set_annotations({"owner": "platform"}, kind="ConfigMap", name="argocd-cm")
    argo.patch("Deployment", "argocd-server", {"spec": {"template": {"spec": {"containers": [
        {"name": "argocd-server", "env": [{"name": "EXTRA", "value": "1"}]}]}}}})
    argo.json_patch("Deployment", "argocd-dex-server",
                    [{"op": "add", "path": "/spec/revisionHistoryLimit", "value": 3}])
    files = render(stack)
    server = yaml.safe_load(files["argocd/deployment-argocd-server.yaml"])
    container = server["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "quay.io/argoproj/argocd:v3.5.2"
    assert container["env"][-1] == {"name": "EXTRA", "value": "1"}
    assert len(container["env"]) > 1  # merged by name, not replaced
    assert server["spec"]["replicas"] == 2
    redis = yaml.safe_load(files["argocd/deployment-argocd-redis.yaml"])
    assert redis["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "public.ecr.aws/docker/library/redis:8.2.3-alpine@sha256:" + "b" * 64
    )
    repo = yaml.safe_load(files["argocd/deployment-argocd-repo-server.yaml"])
    assert repo["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "250m", "memory": "512Mi"}
    dex = yaml.safe_load(files["argocd/deployment-argocd-dex-server.yaml"])
    assert dex["spec"]["revisionHistoryLimit"] == 3
    assert yaml.safe_load(files["argocd/service-argocd-server.yaml"])["metadata"]["labels"][
        "team"] == "platform"
    assert yaml.safe_load(files["argocd/configmap-argocd-cm.yaml"])["metadata"]["annotations"] == {
        "owner": "platform"}
    changed = {p for p in files if files[p] != argo_files[p]}
    assert changed == {
        "argocd/deployment-argocd-server.yaml", "argocd/deployment-argocd-redis.yaml",
        "argocd/deployment-argocd-repo-server.yaml", "argocd/deployment-argocd-dex-server.yaml",
        "argocd/configmap-argocd-cm.yaml",
    } | {p for p in argo_files if p.startswith("argocd/service-")}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda v: v.set_image("argocd-srver", "x:1"), "did you mean 'argocd-server'"),
        (lambda v: v.set_replicas("argocd-cm", 2), r"set_replicas\(\) matches nothing"),
        (lambda v: v.pin_digest("docker.io/redis", "sha256:" + "c" * 64), "matches nothing"),
        (lambda v: v.patch("Deployment", "nope", {"spec": {}}), "matches nothing"),
        (lambda v: v.json_patch("Deployment", "argocd-server",
                                [{"op": "remove", "path": "/spec/nothing"}]), "does not exist"),
        (lambda v: v.set_resources("argocd-application-controller",
                                   Resources(cpu="1", memory="1Gi"), container="x"),
         "has no container 'x'"),
    ],
)
def test_a_patch_that_matches_nothing_is_an_error_at_its_line(call, message):
    _, argo = _argo()
    with pytest.raises(ValidationError, match=message) as info:
        call(argo)
    assert info.value.origin is not None and info.value.origin.file.endswith("test_vendor.py")


def test_a_failing_patch_leaves_the_object_unchanged(argo_files):
    stack, argo = _argo()
    with pytest.raises(ValidationError):
        argo.json_patch("Deployment", "argocd-server", [
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            {"op": "test", "path": "/spec/revisionHistoryLimit", "value": 99},
        ])
    assert render(stack) == argo_files


def test_vendored_workloads_are_peers_of_the_stacks_workloads():
    stack = Stack("shop", namespace="shop")
    nginx = stack.add(Vendored(NGINX, source="https://github.com/kubernetes/ingress-nginx",
                               version="controller-v1.15.1"))
    nginx.drop("Namespace", "ingress-nginx")
    web = stack.add(Deployment("web", image=IMAGE, port=Port(8080, name="http"),
                               readiness=HttpProbe("/ready"), liveness=HttpProbe("/live")))
    controller = nginx.workload("ingress-nginx-controller")
    controller.connect_to(web, port="http")
    controller.disruption_budget(max_unavailable=1)
    # its egress policy isolates it: it watches Ingresses, so the API server is a flow too
    with pytest.raises(PolicyError, match="KG506"):
        render(stack)
    controller.allow_to(cidr="10.0.0.1/32", port=6443)
    files = render(stack)
    egress = _load(files["ingress-nginx/networkpolicy-ingress-nginx-controller-egress.yaml"])
    assert egress["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/component": "controller",
        "app.kubernetes.io/instance": "ingress-nginx",
        "app.kubernetes.io/name": "ingress-nginx",
    }
    ingress = yaml.safe_load(files["shop/networkpolicy-web-ingress.yaml"])
    peer = ingress["spec"]["ingress"][0]["from"][0]
    assert peer["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "ingress-nginx"}
    assert peer["podSelector"] == egress["spec"]["podSelector"]
    pdb = yaml.safe_load(files["ingress-nginx/poddisruptionbudget-ingress-nginx-controller.yaml"])
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": egress["spec"]["podSelector"]}
    # and the stack's workloads can reach a vendored one on its named ports; isolating its
    # pods for ingress cuts the API server off their admission webhook unless it is let in
    web.connect_to(controller, port="https")
    with pytest.raises(PolicyError, match="KG505"):
        render(stack)
    controller.allow_from(cidr="10.0.0.0/28", port="webhook")
    rule = yaml.safe_load(render(stack)["shop/networkpolicy-web-egress.yaml"])["spec"]["egress"]
    assert rule[0]["ports"] == [{"port": "https", "protocol": "TCP"}]


def test_unknown_vendored_workload_names_what_exists():
    stack = Stack("shop", namespace="shop")
    nginx = stack.add(Vendored(NGINX, source="x", version="1"))
    with pytest.raises(ValidationError, match="did you mean 'ingress-nginx-controller'"):
        nginx.workload("ingress-nginx-controler")


def test_schema_errors_in_vendored_objects_block_unless_waived_per_source(tmp_path):
    path = tmp_path / "app.yaml"
    path.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n"
        "  replicaz: 2\n  selector: {matchLabels: {app: a}}\n  template:\n"
        "    metadata: {labels: {app: a}}\n    spec:\n      containers: [{name: a, image: 'a:1'}]\n"
    )
    stack = Stack("s", namespace="s")
    stack.add(Namespace("s", pod_security="privileged", reason="an unhardened upstream fixture"))
    source = stack.add(Vendored(path, source="local", version="1"))
    (typo,) = [f for f in lint(stack).findings if f.rule_id == "KG001"]
    # the API server would refuse the object: it blocks although the source does not gate
    assert typo.path == "spec.replicaz" and typo.source == "app 1" and typo.blocking
    assert str(typo.origin).endswith("app.yaml:1")
    with pytest.raises(PolicyError, match="KG001"):
        render(stack)
    source.waive("KG001", reason="the cluster's API server prunes it (known upstream bug)")
    (typo,) = [f for f in lint(stack).findings if f.rule_id == "KG001"]
    assert typo.waived and not typo.blocking
    assert "replicaz: 2" in render(stack)["s/deployment-app.yaml"]


def test_yaml_is_read_as_kubectl_reads_it(tmp_path):
    path = tmp_path / "cm.yaml"
    path.write_text(
        "# upstream\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
        "  metadata: {name: a}\n  data: {when: '2001-12-14', mode: '0755'}\n"
        "---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"
        "data: {at: 2001-12-14}\nbinaryData: {k: !!binary aGVs\n  bG8=}\n"
    )
    stack = Stack("s", namespace="s")
    stack.add(Vendored(path, source="local", version="1"))
    files = render(stack)
    assert yaml.safe_load(files["s/configmap-a.yaml"])["data"] == {
        "when": "2001-12-14", "mode": "0755"}
    b = yaml.safe_load(files["s/configmap-b.yaml"])
    assert b["data"] == {"at": "2001-12-14"} and b["binaryData"] == {"k": "aGVsbG8="}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: 1, x: 2}\n",
         "bad.yaml: line 4: found duplicate key"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n", "bad.yaml:1: "),
        ("- a\n- b\n", "is a list, not a Kubernetes object"),
        ("key: [1\n", "bad.yaml: line 2"),
    ],
)
def test_unreadable_vendored_files_are_located_errors(tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ValidationError, match=message) as info:
        Vendored(tmp_path / "bad.yaml", source="x", version="1")
    assert info.value.origin.file.endswith("test_vendor.py")


def test_folders_are_read_in_path_order_and_hand_edits_to_helm_output_are_caught(tmp_path):
    folder = tmp_path / "vendor" / "app"
    (folder / "b").mkdir(parents=True)
    body = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\n"
    (folder / "b" / "one.yaml").write_text(body % "one")
    (folder / "a.yml").write_text(body % "two")
    (folder / "kustomization.yaml").write_text("resources: [a.yml]\n")
    vendored = Vendored(folder, source="x", version="1", namespace="ns")
    assert [d.name for d in vendored._docs] == ["two", "one"]
    assert vendored.name == "app"

    text = body % "three"
    provenance = {"chart": "demo", "content": digest(text), "values": digest("")}
    stamped = tmp_path / "helm"
    stamped.mkdir()
    (stamped / "manifests.yaml").write_text(header(provenance) + text)
    assert Vendored(stamped, source="x", version="1").provenance == provenance
    (stamped / "manifests.yaml").write_text(header(provenance) + text.replace("three", "four"))
    with pytest.raises(ValidationError, match="edited by hand"):
        Vendored(stamped, source="x", version="1")
    (stamped / "manifests.yaml").write_text(header(provenance) + text)
    (stamped / "extra.yaml").write_text(body % "five")
    with pytest.raises(ValidationError, match="added by hand"):
        Vendored(stamped, source="x", version="1")


def test_relative_paths_are_relative_to_the_project_root(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.kubegen]\n")
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "x.yaml").write_text(NGINX.read_text())
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "prod.py").write_text(
        "from kubegen import Stack, Vendored\n\ndef build():\n    s = Stack('p', namespace='p')\n"
        "    s.add(Vendored('vendor/x.yaml', source='u', version='1'))\n    return s\n"
    )
    monkeypatch.chdir(tmp_path / "stacks")
    from kubegen._pipeline import build_objects

    _, objects = build_objects(stacks / "prod.py")
    assert any(o.name == "ingress-nginx-controller" for o in objects)


def test_lint_formats_carry_the_source(tmp_path):
    import json

    stack, _ = _argo()
    report = lint(stack)
    document = json.loads(report.to_json())
    assert document["ok"] is True
    assert document["sources"] == report.source_summaries()
    assert {f["source"] for f in document["findings"]} == {"argo-cd v3.5.1"}
    sarif = json.loads(report.to_sarif())
    results = sarif["runs"][0]["results"]
    assert results and all(r["level"] != "error" for r in results)
    assert {r["properties"]["vendoredSource"] for r in results} == {"argo-cd v3.5.1"}


def test_render_prints_one_line_per_source(tmp_path):
    from helpers import run_cli, write_stack

    write_stack(tmp_path, "edge", f"""
        from kubegen import Stack, Vendored

        def build():
            stack = Stack("edge", namespace="edge")
            stack.add(Vendored({str(NGINX)!r}, name="ingress-nginx", source="u", version="1.15.1"))
            return stack
        """)
    result = run_cli("render", "stacks/edge", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "edge: vendored ingress-nginx 1.15.1: " in result.stderr
    output = tmp_path / "output" / "edge" / "ingress-nginx"
    assert (output / "deployment-ingress-nginx-controller.yaml").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [x, x, x, x, x, x, x, x, x, x]\n"
         + "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
                   for p, c in zip("abcdefgh", "bcdefghi", strict=True))
         + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n",
         "aliases expand to more than"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: loop}\ndata: &d {a: *d}\n",
         "cycle"),
    ],
)
def test_hostile_yaml_is_refused_quickly(tmp_path, text, message):
    (tmp_path / "bomb.yaml").write_text(text)
    with pytest.raises(ValidationError, match=message):
        Vendored(tmp_path / "bomb.yaml", source="x", version="1")


def test_absurdly_deep_yaml_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ValidationError, match="nested deeper"):
        Vendored(tmp_path / "deep.yaml", source="x", version="1")
