"""``kubegen import manifests`` maps hostPath volumes to typed ``HostPath`` sources
(kubegen/_vendor/host_path_import.py): node agents import as typed DaemonSets.

Each HostPath gets a reason naming the input file and the node path (and ``allow_write`` when a
container mounts it writable); the input's ``type`` is kept (unset: ``type=None``), as are
read-only mounts and mount propagation. The proof is the importer's own (the call must render
the input back); the checks here are the test's: the rendered volume and mount fields, and the
whole object compared with the input with the API's defaults written out.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import yaml
from helpers import write_stack
from typer.testing import CliRunner

from kubegen._cli.app import app
from kubegen._pipeline import build_objects

DATA = Path(__file__).parent / "data" / "vendor"
FLUENT_BIT = DATA / "fluent-bit-kubernetes-logging"
NODE_EXPORTER = DATA / "kube-prometheus-node-exporter"


def _import(root: Path, monkeypatch, source: Path | dict[str, str]) -> tuple[str, str, dict]:
    """Import ``source`` (a folder, or file name → YAML text); the output, the module, and the
    rendered objects by (kind, name)."""
    folder = root / "input"
    if isinstance(source, dict):
        folder.mkdir(parents=True)
        for name, text in source.items():
            (folder / name).write_text(text)
    else:
        shutil.copytree(source, folder)
    write_stack(root, "placeholder", "")
    monkeypatch.chdir(root)
    result = CliRunner().invoke(app, ["import", "manifests", "input", "--stack",
                                      "stacks/imported"])
    assert result.exit_code == 0, result.output
    module = (root / "stacks" / "imported" / "__init__.py").read_text()
    _, objects = build_objects(root / "stacks" / "imported")
    return result.output, module, {(o.kind, o.name): o.body for o in objects}


def _flat(text: str) -> str:
    """Python text on one line however the module wraps it: no space inside brackets, no
    trailing comma, a string split in pieces (in parentheses) as one literal."""
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r",? ?([)\]}])", r"\1", re.sub(r"([(\[{]) ", r"\1", text))
    text = re.sub(r"' '", "", text)
    return re.sub(r"\(('[^']*')\)", r"\1", text)


def _pod(rendered: dict, name: str) -> dict:
    return rendered[("DaemonSet", name)]["spec"]["template"]["spec"]


def _same_pod(rendered_pod: dict, upstream_pod: dict, keys: tuple[str, ...]) -> None:
    """The fields of the pod that carry host access, as the API server stores them."""
    volumes = {v["name"]: v for v in rendered_pod["volumes"]}
    for volume in upstream_pod["volumes"]:
        expected = copy.deepcopy(volume)
        if "configMap" in expected:
            expected["configMap"].setdefault("defaultMode", 0o644)
        assert volumes.pop(volume["name"]) == expected
    assert not volumes
    for upstream, container in zip(upstream_pod["containers"], rendered_pod["containers"],
                                   strict=True):
        mounts = container.get("volumeMounts", [])
        assert mounts == upstream.get("volumeMounts", []), upstream["name"]
    for key in keys:
        assert rendered_pod.get(key) == upstream_pod.get(key), key


def test_fluent_bit_imports_as_a_typed_daemonset_with_one_reason_per_host_path(
        tmp_path, monkeypatch):
    output, module, rendered = _import(tmp_path, monkeypatch, FLUENT_BIT)
    assert "5 typed builders, 0 Manifests" in output
    assert "kept as Manifest" not in output
    # the rules a host path trips are reported as opted out by its own reason
    assert ("DaemonSet logging/fluent-bit: opted out (HostPath(…, reason=…)) of KG104 at "
            "spec.template.spec.volumes[0].hostPath") in output
    flat = _flat(module)
    source = "input/output/elasticsearch/fluent-bit-ds.yaml"  # the file, as the import named it
    assert (f"'/var/log': HostPath('/var/log', type=None, name='varlog', reason='imported from "
            f"{source}: upstream mounts /var/log', allow_write='imported from {source}: upstream "
            "writes to /var/log')") in flat, flat
    # mounted read-only upstream: no allow_write, so the typed mount is read-only
    assert re.search(r"'/var/lib/docker/containers': HostPath\('/var/lib/docker/containers', "
                     r"type=None, name='varlibdockercontainers', reason='[^']*'\)", flat), flat
    upstream = yaml.safe_load((FLUENT_BIT / "output/elasticsearch/fluent-bit-ds.yaml").read_text())
    daemonset = rendered[("DaemonSet", "fluent-bit")]
    pod = daemonset["spec"]["template"]["spec"]
    _same_pod(pod, upstream["spec"]["template"]["spec"],
              ("tolerations", "serviceAccountName", "terminationGracePeriodSeconds"))
    assert {"name": "varlog", "hostPath": {"path": "/var/log"}} in pod["volumes"]  # no type
    notes = daemonset["metadata"]["annotations"]
    assert notes["kubegen.dev/opt-out-host-path.varlog"].endswith("upstream mounts /var/log")
    assert notes["kubegen.dev/opt-out-host-path-write.varlog"].endswith(
        "upstream writes to /var/log")
    assert "kubegen.dev/opt-out-host-path-write.varlibdockercontainers" not in notes


def _node_exporter(without_container_seccomp: bool) -> dict[str, str]:
    files = {path.name: path.read_text() for path in sorted(NODE_EXPORTER.glob("*.yaml"))}
    if without_container_seccomp:
        body = yaml.safe_load(files["nodeExporter-daemonset.yaml"])
        del body["spec"]["template"]["spec"]["containers"][1]["securityContext"]["seccompProfile"]
        files["nodeExporter-daemonset.yaml"] = yaml.safe_dump(body)
    return files


def test_node_exporter_host_paths_are_typed_with_their_propagation(tmp_path, monkeypatch):
    # kube-prometheus's node-exporter as shipped: one container sets its own seccomp profile,
    # which no builder argument does; the reason names that field, not the host paths
    output, _, _ = _import(tmp_path / "as-is", monkeypatch, NODE_EXPORTER)
    assert ("DaemonSet monitoring/node-exporter: a typed DaemonSet would render "
            "spec.template.spec.containers[1].securityContext.seccompProfile.type differently"
            ) in output
    # without it, the DaemonSet is typed: / and /sys read-only, seeing the host's new mounts
    output, module, rendered = _import(tmp_path / "typed", monkeypatch, _node_exporter(True))
    assert "DaemonSet monitoring/node-exporter" not in output.split("hardening")[0], output
    flat = _flat(module)
    assert re.search(r"'/host/root': Mount\(HostPath\('/', type=None, name='root', "
                     r"reason='imported from [^']*nodeExporter-daemonset.yaml: upstream mounts "
                     r"/'\), propagation='HostToContainer'\)", flat), flat
    assert "allow_write" not in flat  # every mount of them is read-only
    assert "dns_policy='ClusterFirst'" in flat  # the API's, where kubegen's own differs
    upstream = yaml.safe_load(_node_exporter(True)["nodeExporter-daemonset.yaml"])
    pod = _pod(rendered, "node-exporter")
    _same_pod(pod, upstream["spec"]["template"]["spec"],
              ("hostNetwork", "hostPID", "nodeSelector", "tolerations", "priorityClassName"))
    assert pod["dnsPolicy"] == "ClusterFirst"


_AGENT = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: agent, namespace: tools}
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: tools}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      serviceAccountName: agent
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000,
                        seccompProfile: {type: RuntimeDefault}}
      initContainers:
      - name: install
        image: registry.example.com/agent:1.0.0
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 10m, memory: 32Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                          capabilities: {drop: [ALL]}}
        volumeMounts:
        - {name: plugins, mountPath: /host/plugins}
      containers:
      - name: agent
        image: registry.example.com/agent:1.0.0
        resources: {requests: {cpu: 10m, memory: 32Mi}, limits: {cpu: 10m, memory: 32Mi}}
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                          capabilities: {drop: [ALL]}}
        volumeMounts:
        - {name: plugins, mountPath: /plugins, readOnly: true}
        - {name: lock, mountPath: /run/xtables.lock}
        - {name: logs, mountPath: /var/log, readOnly: true}
      volumes:
      - {name: plugins, hostPath: {path: /opt/agent/plugins, type: DirectoryOrCreate}}
      - {name: lock, hostPath: {path: /run/xtables.lock, type: FileOrCreate}}
      - {name: logs, hostPath: {path: /var/log, type: Directory}}
"""


def test_types_and_writable_mounts_render_as_upstream_wrote_them(tmp_path, monkeypatch):
    output, module, rendered = _import(tmp_path, monkeypatch, {"agent.yaml": _AGENT})
    assert "kept as Manifest" not in output, output
    flat = _flat(module)
    # written by the init container, read by the agent: one source, writable, read-only there
    assert re.search(r"'/plugins': Mount\(HostPath\('/opt/agent/plugins', "
                     r"type='DirectoryOrCreate', name='plugins', reason='[^']*', "
                     r"allow_write='[^']*upstream writes to /opt/agent/plugins'\), "
                     r"read_only=True\)", flat), flat
    assert "HostPath('/var/log', name='logs', reason=" in flat  # Directory: the builder's default
    upstream = yaml.safe_load_all(_AGENT)
    pod = next(d for d in upstream if d["kind"] == "DaemonSet")["spec"]["template"]["spec"]
    rendered_pod = _pod(rendered, "agent")
    volumes = {v["name"]: v for v in rendered_pod["volumes"]}
    assert volumes == {v["name"]: v for v in pod["volumes"]}
    assert [m for c in rendered_pod["initContainers"] for m in c["volumeMounts"]] == [
        {"name": "plugins", "mountPath": "/host/plugins"}]
    assert rendered_pod["containers"][0]["volumeMounts"] == pod["containers"][0]["volumeMounts"]


def test_what_a_host_path_cannot_render_stays_a_manifest_with_the_reason(tmp_path, monkeypatch):
    cases = {
        "type: Weird": ("type: FileOrCreate", "type: Weird",
                        "spec.template.spec.volumes[lock].hostPath.type has no typed builder"),
        # Bidirectional needs a privileged container: the builder refuses the call
        "Bidirectional": ("{name: lock, mountPath: /run/xtables.lock}",
                          "{name: lock, mountPath: /run/xtables.lock, "
                          "mountPropagation: Bidirectional}",
                          "the typed call is refused: mounts./run/xtables.lock.propagation="
                          "'Bidirectional': mount '/run/xtables.lock': Bidirectional propagation "
                          "is only allowed in privileged containers"),
        "relative": ("path: /run/xtables.lock", "path: run/xtables.lock",
                     "the typed call is refused"),
    }
    for index, (old, new, why) in enumerate(cases.values()):
        assert old in _AGENT
        output, module, _ = _import(tmp_path / str(index), monkeypatch,
                                    {"agent.yaml": _AGENT.replace(old, new)})
        assert f"  DaemonSet tools/agent: {why}" in output, (why, output)
        assert "# kept as a Manifest: " in module


def test_the_type_of_a_host_path_is_part_of_the_object():
    from kubegen._vendor.manifest_import import same_object

    def agent(host: dict) -> dict:
        docs = [d for d in yaml.safe_load_all(_AGENT) if d]
        body = docs[1]
        body["spec"]["template"]["spec"]["volumes"][2]["hostPath"] = host
        return body

    # unset and "" are the same to the API server (SetDefaults_HostPathVolumeSource)
    assert same_object(agent({"path": "/var/log"}), agent({"path": "/var/log", "type": ""}))
    # the checked types are not: a mapping that dropped or invented one must fail the proof
    assert not same_object(agent({"path": "/var/log"}),
                           agent({"path": "/var/log", "type": "Directory"}))
    assert not same_object(agent({"path": "/var/log", "type": "FileOrCreate"}),
                           agent({"path": "/var/log", "type": "File"}))


_HOSTILE = {  # a hostPath volume of another shape: kept as data with a reason, no traceback
    "null": ({"hostPath": None}, "volumes[h].hostPath (not a mapping)"),
    "a string": ({"hostPath": "/var/log"}, "volumes[h].hostPath (not a mapping)"),
    "a numeric path": ({"hostPath": {"path": 5}}, "volumes[h].hostPath.path has no"),
    "a list type": ({"hostPath": {"path": "/x", "type": ["Socket"]}}, "a field has a shape"),
    "an unknown field": ({"hostPath": {"path": "/x", "mode": 1}}, "hostPath.mode has no"),
    "'..'": ({"hostPath": {"path": "/a/../b"}}, "path='/a/../b': host path '/a/../b' contains"),
}


def test_host_paths_of_another_shape_stay_manifests_never_a_traceback(tmp_path):
    from kubegen._vendor.manifest_import import import_manifests

    docs = [d for d in yaml.safe_load_all(_AGENT) if d]
    for index, (what, (volume, why)) in enumerate(_HOSTILE.items()):
        body = copy.deepcopy(docs[1])
        pod = body["spec"]["template"]["spec"]
        pod["volumes"] = [{"name": "h", **volume}]
        pod["initContainers"] = []
        pod["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/h"}]
        path = tmp_path / f"in{index}" / "agent.yaml"
        path.parent.mkdir()
        path.write_text(yaml.safe_dump(body))
        result = import_manifests(path.parent, tmp_path / f"out{index}")
        assert (result.typed, result.raw) == (0, 1), what
        assert why in result.kept[0], (what, result.kept)


# A CSI node plugin, shaped like csi-driver-host-path's (kubernetes-csi): a privileged driver
# that mounts volumes into pods under /var/lib/kubelet/pods and shares them back (Bidirectional).
_CSI = """\
apiVersion: v1
kind: ServiceAccount
metadata: {name: csi-node, namespace: kube-system}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: csi-node, namespace: kube-system}
spec:
  selector: {matchLabels: {app: csi-node}}
  template:
    metadata: {labels: {app: csi-node}}
    spec:
      serviceAccountName: csi-node
      containers:
      - name: driver
        image: registry.k8s.io/sig-storage/hostpathplugin:v1.15.0
        args: ["--endpoint=$(CSI_ENDPOINT)"]
        env:
        - {name: CSI_ENDPOINT, value: "unix:///csi/csi.sock"}
        securityContext: {privileged: true}
        volumeMounts:
        - {name: socket-dir, mountPath: /csi}
        - {name: mountpoint-dir, mountPath: /var/lib/kubelet/pods, mountPropagation: Bidirectional}
        - {name: dev-dir, mountPath: /dev}
      - name: node-driver-registrar
        image: registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.13.0
        args: ["--csi-address=/csi/csi.sock"]
        volumeMounts:
        - {name: socket-dir, mountPath: /csi}
        - {name: registration-dir, mountPath: /registration}
      volumes:
      - name: socket-dir
        hostPath: {path: /var/lib/kubelet/plugins/csi-hostpath, type: DirectoryOrCreate}
      - {name: mountpoint-dir, hostPath: {path: /var/lib/kubelet/pods, type: DirectoryOrCreate}}
      - name: registration-dir
        hostPath: {path: /var/lib/kubelet/plugins_registry, type: Directory}
      - {name: dev-dir, hostPath: {path: /dev, type: Directory}}
"""


def test_a_csi_node_plugin_imports_typed_with_bidirectional_propagation(tmp_path, monkeypatch):
    output, module, rendered = _import(tmp_path, monkeypatch, {"csi.yaml": _CSI})
    assert "2 typed builders, 0 Manifests" in output, output
    flat = _flat(module)
    assert "allow_privileged=REASON" in flat
    assert re.search(r"'/var/lib/kubelet/pods': Mount\(HostPath\('/var/lib/kubelet/pods', "
                     r"type='DirectoryOrCreate', name='mountpoint-dir', reason='[^']*', "
                     r"allow_write='[^']*'\), propagation='Bidirectional'\)", flat), flat
    upstream = [d for d in yaml.safe_load_all(_CSI) if d][1]["spec"]["template"]["spec"]
    _same_pod(_pod(rendered, "csi-node"), upstream, ())
