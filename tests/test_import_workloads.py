"""``kubegen import manifests`` maps Deployments and StatefulSets to typed builders when exact.

The input here is YAML kubegen rendered from a stack using most pod features (so a typed call
exists); the imported stack must render every object back (the comparison is the test's own:
the API server's defaults filled in, kubegen's metadata ignored). Upstream workloads that no
builder can express stay ``Manifest`` with the reason in the report.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from helpers import write_stack
from typer.testing import CliRunner

from kubegen import (
    Claim,
    ConfigFiles,
    ConfigMap,
    ConfigMapKey,
    Container,
    Deployment,
    EmptyDir,
    ExecProbe,
    FieldRef,
    Hook,
    HttpProbe,
    Mount,
    Port,
    Resources,
    SecretFiles,
    SecretKey,
    Stack,
    StatefulSet,
    TcpProbe,
    VolumeClaim,
    render,
)
from kubegen._cli.app import app
from kubegen._pipeline import build_objects

DATA = Path(__file__).parent / "data" / "vendor"


def _shop() -> Stack:
    stack = Stack("shop", namespace="shop", labels={"acme.dev/team": "payments"})
    config = stack.add(ConfigMap("api", data={"LOG_LEVEL": "info"}))
    stack.add(Deployment(
        "api", image="ghcr.io/acme/api:1.2.3", replicas=3, component="backend",
        port=Port(8080, name="http"), annotations={"acme.dev/owner": "payments"},
        env={"LOG_LEVEL": ConfigMapKey(config, "LOG_LEVEL"), "POD": FieldRef("metadata.name"),
             "TOKEN": SecretKey("api-token", "token")},
        allow_secret_env="the SDK reads it from the environment",
        readiness=HttpProbe("/ready", port="http", period="5s"),
        liveness=HttpProbe("/healthz", port="http", failure_threshold=5),
        resources=Resources(cpu="250m", memory="256Mi", memory_limit="512Mi",
                            allow_no_cpu_limit="latency-sensitive"),
        writable=["/tmp"], mounts={"/etc/api": ConfigFiles(config),
                                   "/run/tls": Mount(SecretFiles("api-tls"), read_only=True)},
        pre_stop=Hook(sleep="5s"), termination_grace="40s",
        sidecars=[Container(name="proxy", image="ghcr.io/acme/proxy:2.0.0",
                            ports=[Port(9901, name="admin")],
                            readiness=TcpProbe(port="admin"), liveness=TcpProbe(port="admin"),
                            capabilities=["NET_BIND_SERVICE"])],
        init_containers=[Container(name="wait", image="ghcr.io/acme/wait:1.0.0",
                                   args=["--for", "db"])],
    ))
    stack.add(StatefulSet(
        "db", image="ghcr.io/acme/db:16.4", replicas=1, port=Port(5432, name="pg"),
        readiness=ExecProbe(["pg_isready"]), liveness=TcpProbe(port="pg", initial_delay="20s"),
        run_as_user=70, run_as_group=70, fs_group=70,
        claims=[VolumeClaim("data", size="10Gi", storage_class="fast")],
        mounts={"/var/lib/postgresql/data": Claim("data"), "/scratch": EmptyDir(name="scratch")},
        allow_writable_root="the image writes its pid file under /var/run",
    ))
    return stack


def _import(tmp_path: Path, files: dict[str, str], monkeypatch, *args: str) -> tuple[str, str]:
    source = tmp_path / "input"
    for path, text in files.items():
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        (source / path).write_text(text)
    write_stack(tmp_path, "placeholder", "")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", "manifests", str(source), "--stack",
                                      "stacks/imported", *args])
    assert result.exit_code == 0, result.output
    return result.output, (tmp_path / "stacks" / "imported" / "__init__.py").read_text()


_PROBE = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}


def _defaulted(body: dict) -> dict:
    """The object as the API server stores it (the defaults the builders may leave out)."""
    out = copy.deepcopy(body)
    meta = out["metadata"]
    meta["labels"] = {k: v for k, v in (meta.get("labels") or {}).items()
                      if k != "app.kubernetes.io/managed-by"}
    meta["annotations"] = {k: v for k, v in (meta.get("annotations") or {}).items()
                           if not k.startswith("kubegen.dev/")}
    pod = (out.get("spec") or {}).get("template", {}).get("spec")
    if pod:
        for container in pod.get("containers", []) + pod.get("initContainers", []):
            for key in ("readinessProbe", "livenessProbe", "startupProbe"):
                if key in container:
                    container[key] = {**_PROBE, **container[key]}
            for port in container.get("ports", []):
                port.setdefault("protocol", "TCP")
        pod["volumes"] = sorted(pod.get("volumes", []), key=lambda v: v["name"])
    return out


def _rendered() -> dict[str, str]:
    return {path: text for path, text in render(_shop()).items()
            if not path.endswith("kustomization.yaml")}


def test_kubegen_shaped_workloads_import_as_typed_builders(tmp_path, monkeypatch):
    files = _rendered()
    output, module = _import(tmp_path, files, monkeypatch)
    assert "wrote stacks/imported/__init__.py" in output
    assert re.search(r"stack\.add\(Deployment\(\s*'api'", module)
    assert re.search(r"stack\.add\(StatefulSet\(\s*'db'", module)
    # the stack is the one the selectors name; its labels are those every object carries
    assert re.search(r"Stack\(\s*'shop',\s*namespace='shop',\s*create_namespace=False,\s*"
                     r"labels=\{'acme.dev/team'", module)
    # derived objects are left to the workloads, each said so in the module
    for file, owner in (("poddisruptionbudget-api", "Deployment shop/api"),
                        ("service-db", "StatefulSet shop/db")):
        assert re.search(rf"{file}\.yaml:\d+: rendered by {owner} \(derived\)", module), file
    # the accounts are typed ServiceAccounts the workloads run as
    assert re.search(r"stack\.add\(ServiceAccount\(\s*'db'", module)
    assert "service_account='db'" in module
    # only the Namespace stays data, saying why (create_namespace=False: the stack leaves it)
    assert module.count("# kept as a Manifest") == 1
    assert "# kept as a Manifest: kubegen import maps no Namespace (v1) to a typed" in module
    # weakened defaults are opt-outs with the TODO reason, reported with their rule ids
    assert "allow_secret_env=REASON" in module and "allow_no_cpu_limit=REASON" in module
    assert "allow_writable_root=REASON" in module
    assert re.search(r"Deployment shop/api: opted out \(allow_…=REASON\) of KG\d{3} at ", output)

    _, objects = build_objects(tmp_path / "stacks" / "imported")
    rendered = {(o.kind, o.namespace, o.name): o.body for o in objects}
    upstream = [d for text in files.values() for d in yaml.safe_load_all(text) if d]
    assert len(rendered) == len(upstream)
    for doc in upstream:
        key = (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"])
        assert _defaulted(rendered[key]) == _defaulted(doc), key


def test_a_field_no_builder_expresses_keeps_the_workload_a_manifest(tmp_path, monkeypatch):
    files = _rendered()
    name = next(p for p in files if p.endswith("deployment-api.yaml"))
    body = yaml.safe_load(files[name])
    body["spec"]["template"]["spec"]["containers"][-1]["envFrom"] = [
        {"configMapRef": {"name": "api"}}]
    files[name] = yaml.safe_dump(body)
    output, module = _import(tmp_path, files, monkeypatch)
    assert re.search(r"Deployment shop/api: spec\.template\.spec\.containers\[0\]\.envFrom "
                     "has no typed builder equivalent", output), output
    assert "# kept as a Manifest: spec.template.spec.containers[0].envFrom" in module
    assert re.search(r"stack\.add\(StatefulSet\(\s*'db'", module)  # the others stay typed
    _, objects = build_objects(tmp_path / "stacks" / "imported")
    rendered = {(o.kind, o.name): o.body for o in objects}
    assert rendered[("Deployment", "api")]["spec"]["template"]["spec"]["containers"][-1][
        "envFrom"] == [{"configMapRef": {"name": "api"}}]
    # its PodDisruptionBudget is an input object again, not derived
    assert ("PodDisruptionBudget", "api") in rendered


def test_a_typed_call_that_would_render_differently_is_not_kept(tmp_path, monkeypatch):
    files = _rendered()
    name = next(p for p in files if p.endswith("deployment-api.yaml"))
    body = yaml.safe_load(files[name])
    # kubegen derives the pods' version label from the image tag: another one cannot be kept
    body["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] = "old"
    files[name] = yaml.safe_dump(body)
    output, _ = _import(tmp_path, files, monkeypatch)
    assert re.search(r"Deployment shop/api: a typed Deployment would render "
                     r"[^\n]*spec\.template\.metadata\.labels\.app\.kubernetes\.io/version",
                     output), output
    _, objects = build_objects(tmp_path / "stacks" / "imported")
    api = next(o.body for o in objects if (o.kind, o.name) == ("Deployment", "api"))
    assert api["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == "old"


# Per upstream source: its workloads (Deployments, StatefulSets, Jobs, CronJobs), and the
# objects of the kinds the importer maps that stay a Manifest, with the reason. Argo CD's
# workloads declare most ports without a name: they import as Port(n, unnamed=True); its
# application controller's StatefulSet names a governing Service (serviceName) the install
# does not ship, which a typed StatefulSet would render. ingress-nginx's admission Jobs name
# their pod template (metadata.name), which no builder sets; kubegen has no IngressClass or
# webhook configuration builder. cert-manager's controller and webhook run 2 replicas, for
# which a typed Deployment derives a PodDisruptionBudget the chart does not hold. podinfo's
# HPA scales from 2 replicas: the same budget.
_NOT_HELD = "which the input does not hold as such"
# source -> (its --namespace, its label in docs/third-party.md's table, the workloads kept as
# Manifests and why); every other object is either typed or kept with a reason of its own
UPSTREAM = {
    "kube-state-metrics-v2.20.0": (None, "kube-state-metrics v2.20.0", {}),
    "podinfo-6.14.1": ("podinfo", "podinfo 6.14.1", {
        "HorizontalPodAutoscaler podinfo/podinfo": "its target Deployment podinfo/podinfo, "
        "autoscaled, would not render as it was: a typed Deployment would also render "
        f"PodDisruptionBudget podinfo/podinfo, {_NOT_HELD}"}),
    "ingress-nginx-controller-v1.15.1-deploy.yaml": (None, "ingress-nginx controller v1.15.1", {
        **{f"Job ingress-nginx/ingress-nginx-admission-{job}": "spec.template.metadata.name "
           "has no typed builder equivalent" for job in ("create", "patch")},
        "IngressClass nginx": "kubegen has no typed IngressClass builder",
        "ValidatingWebhookConfiguration ingress-nginx-admission": "kubegen has no typed "
        "ValidatingWebhookConfiguration builder",
    }),
    "argo-cd-v3.5.1-install.yaml": ("argocd", "Argo CD v3.5.1 `install.yaml`", {
        "StatefulSet argocd/argocd-application-controller": "a typed StatefulSet would also "
        f"render Service argocd/argocd-application-controller, {_NOT_HELD}",
        "Service argocd/argocd-redis": "spec.ports[0].targetPort (6379: a typed ServicePort "
        "forwards to a named container port) has no typed builder equivalent",
    }),
    "cert-manager-v1.16.2-helm": (None, "cert-manager v1.16.2 (Helm output)", {
        **{f"Deployment cert-manager/{name}": "a typed Deployment would also render "
           f"PodDisruptionBudget cert-manager/{name}, {_NOT_HELD}"
           for name in ("cert-manager", "cert-manager-webhook")},
        **{f"{kind}WebhookConfiguration cert-manager-webhook": f"kubegen has no typed {kind}"
           "WebhookConfiguration builder" for kind in ("Mutating", "Validating")},
    }),
    "kube-prometheus-node-exporter": (None, "kube-prometheus node-exporter (1.12.1)", {
        "DaemonSet monitoring/node-exporter": "a typed DaemonSet would render "
        "spec.template.spec.containers[1].securityContext.seccompProfile.type differently",
    }),
    "fluent-bit-kubernetes-logging": (None, "Fluent Bit's example DaemonSet (1.5)", {}),
}
_KINDS = "Deployment|StatefulSet|DaemonSet|Job|CronJob|Pod"
_TABLE = Path(__file__).parent.parent / "docs" / "third-party.md"


def _table_row(label: str) -> list[str]:
    """The cells of ``label``'s row in docs/third-party.md's per-source import table."""
    for line in _TABLE.read_text().splitlines():
        if line.startswith(f"| {label} |"):
            return [cell.strip() for cell in line.strip("|").split(" | ")]
    raise AssertionError(f"docs/third-party.md has no import row for {label}")


@pytest.mark.parametrize("source", sorted(UPSTREAM))
def test_upstream_workloads_import_as_typed_builders(tmp_path, monkeypatch, source):
    """What the importer makes of each shipped upstream source: every kept Manifest says why,
    and docs/third-party.md's table gives these figures (it is written from this run)."""
    namespace, label, kept = UPSTREAM[source]
    write_stack(tmp_path, "placeholder", "")
    monkeypatch.chdir(tmp_path)
    args = ["import", "manifests", str(DATA / source), "--stack", "stacks/up"]
    result = CliRunner().invoke(app, args + (["--namespace", namespace] if namespace else []))
    assert result.exit_code == 0, result.output
    module = (tmp_path / "stacks" / "up" / "__init__.py").read_text()
    found = re.search(r": (\d+) typed builders, (\d+) Manifests", result.output)
    assert found is not None, result.output
    typed_calls, manifests = int(found[1]), int(found[2])
    derived = len(re.findall(r"\(derived\)", module))
    typed = re.findall(rf"stack\.add\((?:{_KINDS})\(\s*'([a-z0-9-]+)'", module)
    section = result.output.split("hardening differences")[0]
    kept_workloads = re.findall(rf"^  (?:{_KINDS}) \S+: ", section, re.M)
    # every Manifest is listed with its reason, in the report and above it in the module
    if manifests:
        assert f"kept as Manifest, no exact typed builder ({manifests}):" in result.output
    else:
        assert "kept as Manifest" not in result.output
    assert module.count("# kept as a Manifest: ") == manifests
    for what, why in kept.items():
        assert f"  {what}: {why}" in result.output
    assert {w for w in kept if re.match(rf"(?:{_KINDS}) ", w)} == {
        line.strip().rstrip(": ") for line in kept_workloads}
    # the docs' table row: objects, typed (derived by a typed workload included), kept,
    # workloads typed
    workloads = len(typed) + len(kept_workloads)
    cells = _table_row(label)
    assert [*cells[1:4], cells[4].split(" (")[0]] == [
        str(typed_calls + derived + manifests), str(typed_calls + derived), str(manifests),
        f"{len(typed)} of {workloads}"], result.output
    if source.startswith("argo-cd"):  # ports declared by number stay so
        assert "ports=[Port(6379, unnamed=True)]" in module  # argocd-redis
        assert "unnamed" not in result.output
    # every weakened default is an opt-out with its rule id in the report
    assert "allow_token_automount=REASON" in module or not typed  # each pod automounts
    for line in result.output.splitlines():
        if "opted out (allow_…=REASON)" in line:
            assert re.search(r" of KG\d{3} at ", line), line


def _pod(container: dict, pod_context: dict | None = None) -> dict:
    spec: dict = {"containers": [{"name": "app", "image": "r/app:1.0", **container}]}
    if pod_context is not None:
        spec["securityContext"] = pod_context
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "app"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}}, "spec": spec}}}


def test_the_same_object_means_the_same_to_the_api_server():
    from kubegen._vendor.manifest_import import same_object

    # what the API server defaults, written out or not
    assert same_object(_pod({"ports": [{"containerPort": 80}]}),
                       _pod({"ports": [{"containerPort": 80, "protocol": "TCP"}],
                             "imagePullPolicy": "IfNotPresent"}))
    probe = {"httpGet": {"path": "/", "port": 80}}
    assert same_object(_pod({"readinessProbe": probe}),
                       _pod({"readinessProbe": {**probe, "periodSeconds": 10}}))
    assert not same_object(_pod({"readinessProbe": probe}),
                           _pod({"readinessProbe": {**probe, "periodSeconds": 5}}))
    # a container inherits the pod's settings; false flags mean unset
    assert same_object(_pod({}, {"runAsNonRoot": True}),
                       _pod({"securityContext": {"runAsNonRoot": True, "privileged": False}}, {}))
    assert not same_object(_pod({}, {"runAsNonRoot": True}), _pod({}, {}))
    assert not same_object(_pod({"securityContext": {"allowPrivilegeEscalation": False}}),
                           _pod({}))
    assert not same_object(_pod({}, {"runAsUser": 1}), _pod({"securityContext": {"runAsUser": 2}},
                                                            {"runAsUser": 1}))
    # quantities as the API server stores them; a probe's named port is its number
    assert same_object(_pod({"resources": {"limits": {"cpu": "2000m"}}}),
                       _pod({"resources": {"limits": {"cpu": "2"}}}))
    assert not same_object(_pod({"resources": {"limits": {"cpu": "200m"}}}),
                           _pod({"resources": {"limits": {"cpu": "2"}}}))
    ports = {"ports": [{"containerPort": 80, "name": "http"}]}
    assert same_object(_pod({**ports, "readinessProbe": {"httpGet": {"path": "/", "port": 80}}}),
                       _pod({**ports, "readinessProbe": {"httpGet": {"path": "/",
                                                                     "port": "http"}}}))
    assert not same_object(
        _pod({**ports, "readinessProbe": {"httpGet": {"path": "/", "port": 81}}}),
        _pod({**ports, "readinessProbe": {"httpGet": {"path": "/", "port": "http"}}}))
    # unset: the namespace's default account, escalation allowed, no seccomp filter
    default = _pod({})
    default["spec"]["template"]["spec"]["serviceAccountName"] = "default"
    assert same_object(_pod({}), default)
    assert same_object(_pod({"securityContext": {"allowPrivilegeEscalation": True}}), _pod({}))
    assert same_object(_pod({}, {"seccompProfile": {"type": "Unconfined"}}), _pod({}))
    assert not same_object(_pod({}, {"seccompProfile": {"type": "RuntimeDefault"}}), _pod({}))
    # the pull policy a tag implies: Always for latest or no tag
    assert not same_object(_pod({"image": "r/app", "imagePullPolicy": "IfNotPresent"}),
                           _pod({"image": "r/app"}))


def test_malformed_workloads_are_kept_as_data_or_refused_never_a_traceback(tmp_path):
    from kubegen._errors import KubegenError
    from kubegen._vendor.manifest_import import import_manifests

    files = _rendered()
    name = next(p for p in files if p.endswith("deployment-api.yaml"))
    mutations = [
        lambda pod, tpl: pod["volumes"].__setitem__(0, None),
        lambda pod, tpl: pod["containers"][-1]["env"][0].__setitem__("valueFrom", [1]),
        lambda pod, tpl: pod["containers"][-1]["env"][0]["valueFrom"]["configMapKeyRef"]
        .__setitem__("name", {"a": 1}),
        lambda pod, tpl: tpl["metadata"].__setitem__("labels", "x"),
        # the shapes the upstream patterns read
        lambda pod, tpl: pod.__setitem__("affinity", [{"podAntiAffinity": 1}]),
        lambda pod, tpl: pod.__setitem__("affinity", {"podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": "x"}]}}),
        lambda pod, tpl: pod.__setitem__("automountServiceAccountToken", "yes"),
        lambda pod, tpl: pod["containers"][-1].__setitem__("resources", ["cpu"]),
        lambda pod, tpl: pod["containers"][-1].__setitem__("imagePullPolicy", 7),
        lambda pod, tpl: pod["containers"][-1]["securityContext"].__setitem__(
            "capabilities", {"drop": "ALL"}),
    ]
    for index, mutate in enumerate(mutations):
        body = yaml.safe_load(files[name])
        mutate(body["spec"]["template"]["spec"], body["spec"]["template"])
        source = tmp_path / str(index)
        for path, text in {**files, name: yaml.safe_dump(body)}.items():
            (source / path).parent.mkdir(parents=True, exist_ok=True)
            (source / path).write_text(text)
        try:
            result = import_manifests(source, source / "stacks" / "x")
        except KubegenError as exc:  # refused, located: fine
            assert "Deployment" in str(exc) or "deployment-api" in str(exc), exc
            continue
        assert any(line.startswith("Deployment shop/api: ") for line in result.kept), index
