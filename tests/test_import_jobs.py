"""``kubegen import manifests`` for Jobs, CronJobs, DaemonSets and HorizontalPodAutoscalers.

Each becomes a typed call (``Job``, ``CronJob``, ``DaemonSet``, ``HorizontalPodAutoscaler``
after its target's call) when the call renders the input object back; the comparison here is
the test's own: the API server's documented defaults written out on both sides (a Job's
``backoffLimit`` 6, a CronJob's ``concurrencyPolicy: Allow``, a DaemonSet's ``maxSurge: 0``,
an HPA's ``minReplicas`` 1), kubegen's own metadata ignored. What no builder expresses stays a
``Manifest`` with the reason in the report and the module; IngressClass and admission webhook
configurations have no builder and say so.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import yaml
from helpers import write_stack
from typer.testing import CliRunner

from kubegen import (
    Container,
    CronJob,
    DaemonSet,
    Deployment,
    HttpProbe,
    Job,
    Port,
    Resources,
    ScalingPolicy,
    ScalingRules,
    Stack,
    render,
)
from kubegen._cli.app import app
from kubegen._pipeline import build_objects
from kubegen._vendor.api_defaults import with_api_defaults

DATA = Path(__file__).parent / "data" / "vendor"
IMAGE = "ghcr.io/acme/tool:1.4.0@sha256:" + "a" * 64


def _stripped(body: dict) -> dict:
    """The object as the API server stores it, without kubegen's own metadata."""
    out = with_api_defaults(copy.deepcopy(body))
    out = {k: v for k, v in out.items() if v not in (None, {}, [])}  # the API stores neither
    meta = out["metadata"]
    for key, keep in (("labels", lambda k, v: (k, v) != ("app.kubernetes.io/managed-by",
                                                         "kubegen")),
                      ("annotations", lambda k, v: not k.startswith("kubegen.dev/"))):
        kept = {k: v for k, v in (meta.get(key) or {}).items() if keep(k, v)}
        meta.pop(key, None)
        if kept:
            meta[key] = kept
    template = (out.get("spec") or {}).get("template") or (
        (out.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template")
    if template:
        labels = template["metadata"]["labels"]
        labels.pop("app.kubernetes.io/managed-by", None) if labels.get(
            "app.kubernetes.io/managed-by") == "kubegen" else None
    return out


def _flat(text: str) -> str:
    """Python text without whitespace and trailing commas (however the module wraps calls)."""
    return re.sub(r",([)\]}])", r"\1", re.sub(r"\s+", "", text))


def _import(tmp_path: Path, monkeypatch, text: str, *args: str,
            kinds: tuple[str, ...] = ()) -> tuple[str, str, dict]:
    """Import ``text``; every object (of ``kinds``, if given) must render back as it was (the
    other kinds' round trip is tests/test_import_manifests.py's)."""
    (tmp_path / "input.yaml").write_text(text)
    write_stack(tmp_path, "placeholder", "")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["import", "manifests", "input.yaml", "--stack",
                                      "stacks/imported", *args])
    assert result.exit_code == 0, result.output
    module = (tmp_path / "stacks" / "imported" / "__init__.py").read_text()
    _, objects = build_objects(tmp_path / "stacks" / "imported")
    rendered = {(o.kind, o.name): o.body for o in objects}
    upstream = [d for d in yaml.safe_load_all(text) if d]
    assert len(rendered) == len(upstream), sorted(rendered)
    for doc in upstream:
        if kinds and doc["kind"] not in kinds:
            continue
        namespace = rendered[(doc["kind"], doc["metadata"]["name"])]["metadata"].get("namespace")
        if namespace:
            doc["metadata"].setdefault("namespace", namespace)
        assert _stripped(rendered[(doc["kind"], doc["metadata"]["name"])]) == _stripped(doc), (
            doc["kind"], doc["metadata"]["name"])
    return result.output, module, rendered


def _kubegen_batch() -> str:
    stack = Stack("batch", namespace="batch")
    tool = Container(image=IMAGE, resources=Resources(cpu="100m", memory="64Mi",
                                                     memory_limit="64Mi", cpu_limit="1"))
    stack.add(Job("migrate", container=tool, backoff_limit=1, active_deadline="10m",
                  completions=2, parallelism=2))
    stack.add(CronJob("report", container=tool, schedule="0 3 * * *", time_zone="Etc/UTC",
                      concurrency="Replace", successful_history=5, restart="OnFailure"))
    stack.add(DaemonSet("agent", container=tool, max_unavailable="10%", min_ready="5s"))
    api = stack.add(Deployment(
        "api", image=IMAGE, port=Port(8080, name="http"),
        resources=Resources(cpu="250m", memory="128Mi", memory_limit="128Mi", cpu_limit="1"),
        readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz")))
    api.autoscale(min=1, max=5, cpu=70, memory=80,
                  scale_down=ScalingRules(stabilization="2m",
                                          policies=[ScalingPolicy(pods=1, period="30s")]))
    return "---\n".join(text for path, text in render(stack).items()  # its Namespace aside
                        if not path.endswith(("kustomization.yaml", "namespace-batch.yaml")))


def test_kubegen_shaped_jobs_cronjobs_and_autoscalers_import_typed(tmp_path, monkeypatch):
    output, module, _ = _import(tmp_path, monkeypatch, _kubegen_batch())
    assert "kept as Manifest" not in output
    assert "stack.add(Manifest(" not in module
    assert re.search(r"stack\.add\(Job\(\s*'migrate'", module)
    assert re.search(r"stack\.add\(CronJob\(\s*'report'", module)
    assert re.search(r"stack\.add\(DaemonSet\(\s*'agent'", module)
    # the HPA follows its target's call and names its variable; the target renders no replicas
    hpa = re.search(r"deployment_api = stack\.add\(Deployment\((?:(?!stack\.add).)*?\)\)\n"
                    r"    # [^\n]*\n    stack\.add\(HorizontalPodAutoscaler\(\s*'api',\s*"
                    r"target=deployment_api,", module, re.S)
    assert hpa, module
    assert "replicas=" not in hpa.group(0).split("HorizontalPodAutoscaler")[0]
    for text in ("backoff_limit=1", "active_deadline='600s'", "completions=2",
                 "concurrency='Replace'", "time_zone='Etc/UTC'", "successful_history=5",
                 "restart='OnFailure'", "cpu=70", "memory=80",
                 "max_surge=0, max_unavailable='10%', min_ready='5s', revision_history=5",
                 "scale_down=ScalingRules(stabilization='120s', policies=[ScalingPolicy("
                 "pods=1, period='30s')])"):
        assert _flat(text) in _flat(module), text
    assert "from kubegen import (" in module and "    HorizontalPodAutoscaler,\n" in module


UPSTREAM = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: db-init
  namespace: tools
  labels: {app.kubernetes.io/name: tools, app.kubernetes.io/instance: rel,
           app.kubernetes.io/version: 2.1.0, helm.sh/chart: tools-2.1.0,
           app.kubernetes.io/managed-by: Helm}
  annotations: {helm.sh/hook: pre-install}
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/name: tools, app.kubernetes.io/instance: rel,
               app.kubernetes.io/component: db-init, app.kubernetes.io/version: 2.1.0,
               helm.sh/chart: tools-2.1.0, app.kubernetes.io/managed-by: Helm}
    spec:
      restartPolicy: Never
      serviceAccountName: db-init
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000,
                        seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: init
        image: registry.example.com/tools:2.1.0
        args: [init]
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 32Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                          capabilities: {drop: [ALL]}}
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: cleanup
  namespace: tools
  labels: {app.kubernetes.io/name: tools, app.kubernetes.io/instance: rel}
spec:
  schedule: "*/15 * * * *"
  jobTemplate:
    metadata:
      labels: {app.kubernetes.io/name: tools, app.kubernetes.io/instance: rel,
               app.kubernetes.io/component: cleanup}
    spec:
      template:
        metadata:
          labels: {app.kubernetes.io/name: tools, app.kubernetes.io/instance: rel,
                   app.kubernetes.io/component: cleanup}
        spec:
          restartPolicy: OnFailure
          serviceAccountName: db-init
          automountServiceAccountToken: false
          securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000,
                            fsGroup: 1000, seccompProfile: {type: RuntimeDefault}}
          containers:
          - name: cleanup
            image: registry.example.com/tools:2.1.0
            args: [cleanup]
            resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 32Mi}}
            securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                              capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: db-init, namespace: tools}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: tools
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/instance: rel,
           app.kubernetes.io/version: 2.1.0, helm.sh/chart: tools-2.1.0}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: web, app.kubernetes.io/instance: rel}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web, app.kubernetes.io/instance: rel,
               app.kubernetes.io/version: 2.1.0}
    spec:
      serviceAccountName: db-init
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000,
                        seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: web
        image: registry.example.com/web:2.1.0
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}}
        livenessProbe: {httpGet: {path: /, port: http}}
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 32Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                          capabilities: {drop: [ALL]}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
  namespace: tools
  labels: {app.kubernetes.io/name: web, app.kubernetes.io/instance: rel,
           helm.sh/chart: tools-2.1.0}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 3
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  behavior:
    scaleUp:
      selectPolicy: Max
      policies: [{type: Percent, value: 50, periodSeconds: 60}]
"""


def test_upstream_jobs_cronjobs_and_autoscalers_import_typed(tmp_path, monkeypatch):
    output, module, rendered = _import(tmp_path, monkeypatch, UPSTREAM)
    assert "kept as Manifest" not in output, output
    flat = _flat(module)
    # the API's defaults, written out: the builders' own differ
    assert "backoff_limit=6" in flat and "ttl_after_finished=None" in flat
    assert "concurrency='Allow'" in flat and "starting_deadline=None" in flat
    assert "min=1,max=3,cpu=60" in flat
    # a Job's pods are selected by their stable labels; the release's stay on the pods
    job = rendered[("Job", "db-init")]
    assert job["spec"]["backoffLimit"] == 6 and "ttlSecondsAfterFinished" not in job["spec"]
    assert _flat("Job('db-init', selector={'app.kubernetes.io/name': 'tools', "
                 "'app.kubernetes.io/instance': 'rel', 'app.kubernetes.io/component': "
                 "'db-init'}") in flat, flat
    assert job["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    cron = rendered[("CronJob", "cleanup")]
    assert cron["spec"]["concurrencyPolicy"] == "Allow"
    assert "replicas" not in rendered[("Deployment", "web")]["spec"]  # the HPA's to set


def _one(tmp_path, monkeypatch, kind: str, mutate) -> tuple[str, str]:
    docs = [d for d in yaml.safe_load_all(UPSTREAM) if d]
    for doc in docs:
        if doc["kind"] == kind:
            mutate(doc)
    output, module, _ = _import(tmp_path, monkeypatch, yaml.safe_dump_all(docs))
    return output, module


def test_what_no_builder_expresses_stays_a_manifest_with_its_reason(tmp_path, monkeypatch):
    cases = [
        ("Job", lambda d: d["spec"].__setitem__("podFailurePolicy", {"rules": []}),
         "Job tools/db-init: spec.podFailurePolicy has no typed builder equivalent"),
        ("Job", lambda d: d["spec"]["template"]["metadata"].__setitem__("name", "x"),
         "Job tools/db-init: spec.template.metadata.name has no typed builder equivalent"),
        ("CronJob", lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"].__setitem__(
            "hostAliases", []),
         "CronJob tools/cleanup: spec.jobTemplate.spec.template.spec.hostAliases has no typed"),
        ("HorizontalPodAutoscaler", lambda d: d["spec"]["metrics"].append(
            {"type": "External", "external": {}}),
         "HorizontalPodAutoscaler tools/web: spec.metrics[1].external has no typed builder"),
        ("HorizontalPodAutoscaler", lambda d: d["spec"]["metrics"][0]["resource"].__setitem__(
            "name", "ephemeral-storage"),
         "HorizontalPodAutoscaler tools/web: spec.metrics[0] (kubegen scales on CPU and memory"),
        ("Deployment", lambda d: d["spec"].__setitem__("replicas", 2),
         "HorizontalPodAutoscaler tools/web: its target's spec.replicas (an autoscaled typed"),
        # the HPA's labels must hold its target's selector labels (kubegen labels it so)
        ("HorizontalPodAutoscaler", lambda d: d["metadata"].pop("labels"),
         "HorizontalPodAutoscaler tools/web: a typed HorizontalPodAutoscaler would render "
         "metadata.labels"),
    ]
    for index, (kind, mutate, why) in enumerate(cases):
        root = tmp_path / str(index)
        root.mkdir()
        output, module = _one(root, monkeypatch, kind, mutate)
        assert f"  {why}" in output, (why, output)
        assert "# kept as a Manifest: " in module
    # the workload an HPA cannot be typed with stays typed on its own
    assert re.search(r"stack\.add\(Deployment\(\s*'web'", module)


_NGINX = ("Job", "IngressClass", "ValidatingWebhookConfiguration")


def test_ingress_class_and_webhook_configurations_say_why(tmp_path, monkeypatch):
    source = DATA / "ingress-nginx-controller-v1.15.1-deploy.yaml"
    output, module, _ = _import(tmp_path, monkeypatch, source.read_text(), kinds=_NGINX)
    for line in ("IngressClass nginx: kubegen has no typed IngressClass builder",
                 "ValidatingWebhookConfiguration ingress-nginx-admission: kubegen has no "
                 "typed ValidatingWebhookConfiguration builder"):
        assert f"  {line}" in output
    assert "# kept as a Manifest: kubegen has no typed IngressClass builder" in module
    # its two admission Jobs name their pod template (metadata.name): no builder sets that
    assert module.count("# kept as a Manifest: spec.template.metadata.name") == 2


def test_ingress_nginx_admission_jobs_without_the_template_name_import_typed(
        tmp_path, monkeypatch):
    docs = [d for d in yaml.safe_load_all(
        (DATA / "ingress-nginx-controller-v1.15.1-deploy.yaml").read_text()) if d]
    for doc in docs:
        if doc["kind"] == "Job":
            del doc["spec"]["template"]["metadata"]["name"]
    _, module, rendered = _import(tmp_path, monkeypatch, yaml.safe_dump_all(docs), kinds=_NGINX)
    assert len(re.findall(r"stack\.add\(Job\(", module)) == 2
    job = rendered[("Job", "ingress-nginx-admission-create")]
    assert job["spec"]["ttlSecondsAfterFinished"] == 0 and job["spec"]["backoffLimit"] == 6


DAEMONSET = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent, namespace: tools}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: tools, labels: {app: agent}}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      serviceAccountName: agent
      automountServiceAccountToken: false
      tolerations: [{operator: Exists}]
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000,
                        seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: agent
        image: registry.example.com/agent:1.0.0
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {memory: 32Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                          capabilities: {drop: [ALL]}}
"""


def test_upstream_daemonsets_import_typed_with_the_api_defaults(tmp_path, monkeypatch):
    output, module, rendered = _import(tmp_path, monkeypatch, DAEMONSET)
    flat = _flat(module)
    assert "kept as Manifest" not in output, output
    # the API's rollout defaults (maxUnavailable 1, maxSurge 0, 10 revisions, 0s), not kubegen's
    assert "max_surge=0,max_unavailable=1,min_ready='0s',revision_history=10" in flat, flat
    assert "topology_spread" not in flat  # no DaemonSet argument
    spec = rendered[("DaemonSet", "agent")]["spec"]
    assert spec["revisionHistoryLimit"] == 10 and spec["minReadySeconds"] == 0
    # a DaemonSet's pods are not spread by kubegen: constraints of its own stay a Manifest
    docs = [d for d in yaml.safe_load_all(DAEMONSET) if d]
    docs[1]["spec"]["template"]["spec"]["topologySpreadConstraints"] = [{
        "maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
        "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "agent"}}}]
    root = tmp_path / "spread"
    root.mkdir()
    output, _, _ = _import(root, monkeypatch, yaml.safe_dump_all(docs))
    assert "DaemonSet tools/agent: spec.template.spec.topologySpreadConstraints (kubegen " \
        "spreads the pods of Deployments and StatefulSets only)" in output


def _unlabelled_cronjob(pod_labels: dict) -> str:
    docs = [d for d in yaml.safe_load_all(UPSTREAM) if d and d["kind"] in (
        "CronJob", "ServiceAccount")]
    cron = next(d for d in docs if d["kind"] == "CronJob")
    del cron["spec"]["jobTemplate"]["metadata"]  # as most upstream CronJobs: no labels there
    cron["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] = pod_labels
    return yaml.safe_dump_all(docs)


def test_a_cronjob_whose_job_template_has_no_labels_imports_typed(tmp_path, monkeypatch):
    """Each Job a CronJob creates gets its jobTemplate's labels; with none there, the API server
    labels the Job like its pods (SetDefaults_Job). A typed CronJob labels its jobTemplate with
    its selector labels: so the selector is all the pods' labels, release labels included, and
    the Jobs are labelled as they would be from the input."""
    helm = {"app.kubernetes.io/name": "tools", "app.kubernetes.io/instance": "rel",
            "app.kubernetes.io/component": "cleanup", "app.kubernetes.io/version": "2.1.0",
            "app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "tools-2.1.0"}
    for index, labels in enumerate(({"app": "cleanup"}, helm, {  # kubegen's own, stack 'rel'
            "app.kubernetes.io/name": "cleanup", "app.kubernetes.io/instance": "rel"})):
        root = tmp_path / str(index)
        root.mkdir()
        output, module, rendered = _import(root, monkeypatch, _unlabelled_cronjob(labels),
                                           "--namespace", "tools")
        assert "kept as Manifest" not in output, output
        selector = dict(sorted(labels.items()))  # as the YAML above lists them
        assert _flat(f"CronJob('cleanup', selector={selector!r}") in _flat(module), module
        spec = rendered[("CronJob", "cleanup")]["spec"]
        pods = spec["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
        # what each Job is labelled with: the same as from the input (its pods' labels)
        assert spec["jobTemplate"]["metadata"]["labels"] == labels
        assert {k: v for k, v in pods.items() if k != "app.kubernetes.io/managed-by"} == {
            k: v for k, v in labels.items() if k != "app.kubernetes.io/managed-by"}


def test_job_template_labels_default_to_the_pods_labels():
    from kubegen._vendor.manifest_import import same_object

    docs = [d for d in yaml.safe_load_all(_unlabelled_cronjob({"app": "cleanup"})) if d]
    cron = next(d for d in docs if d["kind"] == "CronJob")
    labelled = copy.deepcopy(cron)
    labelled["spec"]["jobTemplate"]["metadata"] = {"labels": {"app": "cleanup"}}
    assert same_object(cron, labelled)  # the same Jobs
    labelled["spec"]["jobTemplate"]["metadata"] = {"labels": {"app": "other"}}
    assert not same_object(cron, labelled)  # Jobs labelled otherwise
    labelled["spec"]["jobTemplate"]["metadata"] = {"labels": {"app": "cleanup", "x": "y"}}
    assert not same_object(cron, labelled)
