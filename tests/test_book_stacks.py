"""One stack per chapter of *Kubernetes in Action*, written as a new user writes them.

``tests/book/chNN_<topic>.py`` holds each chapter's canonical example (kubia, the fortune pod
with its html-generator sidecar, the MongoDB StatefulSet, the pod that talks to the API server,
ssd-monitor, batch jobs, an HPA, ...) using only the public API and what README.md and docs/
teach. Each is rendered, linted (no errors), built by ``kubectl kustomize``, snapshotted (read
the snapshot like code) and checked for the facts that make the chapter's example work on a
real cluster: the objects the cluster must admit, the routes and permissions the app needs.

Refresh the snapshots with ``pytest tests/test_book_stacks.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion

from kubegen import Severity, lint, load_stack, render
from tests.whole_stacks import Docs, assert_kustomize_builds, documents

BOOK = Path(__file__).parent / "book"
CHAPTERS = sorted(path.stem for path in BOOK.glob("ch*.py"))


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, str]]:
    return {chapter: render(load_stack(BOOK / f"{chapter}.py")) for chapter in CHAPTERS}


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    spec = doc["spec"]
    job = spec.get("jobTemplate", {}).get("spec", spec)
    template = job["template"]
    return template["spec"]  # type: ignore[no-any-return]


def _container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    every = [*pod.get("initContainers", []), *pod["containers"]]
    return next(c for c in every if c["name"] == name)


def _mounts(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["mountPath"]: m for m in container.get("volumeMounts", [])}


def _rules(docs: Docs, path: str) -> list[dict[str, Any]]:
    return docs[path]["rules"]  # type: ignore[no-any-return]


def _peers(policy: dict[str, Any], direction: str) -> list[tuple[dict[str, Any], list[Any]]]:
    key = "from" if direction == "ingress" else "to"
    return [(peer, rule.get("ports", [])) for rule in policy["spec"].get(direction, [])
            for peer in rule[key]]


def _selects(name: str, instance: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": instance,
                                            "app.kubernetes.io/name": name}}}


def _api_route(docs: Docs, namespace: str, workload: str) -> list[Any]:
    policy = docs[f"{namespace}/networkpolicy-{workload}-api-server.yaml"]
    return [(peer["ipBlock"]["cidr"], ports) for peer, ports in _peers(policy, "egress")]


# --- the facts each chapter's example depends on ---------------------------------------------


def ch03_pods(docs: Docs) -> None:
    manual = docs["custom-namespace/pod-kubia-manual.yaml"]
    assert {"creation_method": "manual", "env": "prod"}.items() <= manual["metadata"][
        "labels"].items()
    assert manual["spec"]["securityContext"]["runAsNonRoot"] is True
    assert manual["spec"]["serviceAccountName"] == "kubia-manual"
    assert docs["custom-namespace/pod-kubia-gpu.yaml"]["spec"]["nodeSelector"] == {
        "gpu": "true"}


def ch04_replication(docs: Docs) -> None:
    assert docs["kubia/deployment-kubia.yaml"]["spec"]["replicas"] == 3
    assert "kubia/poddisruptionbudget-kubia.yaml" in docs
    assert _pod(docs["kubia/daemonset-ssd-monitor.yaml"])["nodeSelector"] == {"disk": "ssd"}
    job = docs["kubia/job-multi-completion-batch-job.yaml"]["spec"]
    assert (job["completions"], job["parallelism"]) == (5, 2)
    assert _pod(docs["kubia/job-batch-job.yaml"])["restartPolicy"] == "Never"
    cron = docs["kubia/cronjob-batch-job-every-fifteen-minutes.yaml"]["spec"]
    assert (cron["schedule"], cron["startingDeadlineSeconds"], cron["concurrencyPolicy"]) == (
        "0,15,30,45 * * * *", 15, "Forbid")


def ch05_services(docs: Docs) -> None:
    service = docs["kubia/service-kubia.yaml"]["spec"]
    assert [(p["port"], p["targetPort"]) for p in service["ports"]] == [
        (80, "http"), (443, "https")]
    assert service["sessionAffinity"] == "ClientIP"
    nodeport = docs["kubia/service-kubia-nodeport.yaml"]["spec"]
    assert (nodeport["type"], nodeport["ports"][0]["nodePort"]) == ("NodePort", 30123)
    assert docs["kubia/service-kubia-loadbalancer.yaml"]["spec"]["type"] == "LoadBalancer"
    assert docs["kubia/service-kubia-headless.yaml"]["spec"]["clusterIP"] == "None"
    assert docs["kubia/service-external-service.yaml"]["spec"] == {
        "type": "ExternalName", "externalName": "api.somecompany.com"}
    egress = _peers(docs["kubia/networkpolicy-kubia-egress.yaml"], "egress")
    assert [peer["ipBlock"]["cidr"] for peer, _ in egress] == ["0.0.0.0/0", "::/0"]
    kubia = _container(_pod(docs["kubia/deployment-kubia.yaml"]), "kubia")
    assert kubia["readinessProbe"] == {"exec": {"command": ["ls", "/tmp/ready"]}}
    assert _mounts(kubia)["/tmp"]["name"] == "kubia-tmp"  # where `touch /tmp/ready` can write
    backend = docs["kubia/ingress-kubia.yaml"]["spec"]["rules"][0]["http"]["paths"][0]
    assert backend["backend"]["service"] == {"name": "kubia", "port": {"number": 80}}
    # the ingress controller's pods, and clients of the NodePort and LoadBalancer Services
    # (outside every pod selector: an ipBlock), reach kubia on the Service's target port
    ingress = _peers(docs["kubia/networkpolicy-kubia-ingress.yaml"], "ingress")
    http = [{"protocol": "TCP", "port": "http"}]
    assert ingress == [({
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
    }, http), ({"ipBlock": {"cidr": "0.0.0.0/0"}}, http)]


def ch06_volumes(docs: Docs) -> None:
    pod = _pod(docs["fortune/deployment-fortune.yaml"])
    generator = _mounts(_container(pod, "html-generator"))["/var/htdocs"]
    server = _mounts(_container(pod, "web-server"))["/usr/share/nginx/html"]
    assert generator["name"] == server["name"] == "html"  # one emptyDir, shared
    assert "readOnly" not in generator and server["readOnly"] is True
    assert {"name": "html", "emptyDir": {}} in pod["volumes"]
    claim = docs["fortune/persistentvolumeclaim-mongodb-pvc.yaml"]["spec"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    mongodb = docs["fortune/deployment-mongodb.yaml"]["spec"]
    assert mongodb["strategy"] == {"type": "Recreate"}  # one RWO claim: never two pods
    volumes = {v["name"]: v for v in mongodb["template"]["spec"]["volumes"]}
    data = _mounts(mongodb["template"]["spec"]["containers"][0])["/data/db"]
    assert volumes[data["name"]]["persistentVolumeClaim"] == {"claimName": "mongodb-pvc"}


def ch07_config(docs: Docs) -> None:
    template = docs["fortune/deployment-fortune-https.yaml"]["spec"]["template"]
    assert "configmap.checksum.kubegen.dev/fortune-config" in template["metadata"]["annotations"]
    pod = template["spec"]
    generator = _container(pod, "html-generator")
    assert generator["env"] == [{"name": "INTERVAL", "valueFrom": {"configMapKeyRef": {
        "name": "fortune-config", "key": "sleep-interval"}}}]
    mounts = _mounts(_container(pod, "web-server"))
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/nginx/conf.d"]["name"]]["configMap"]["items"] == [
        {"key": "my-nginx-config.conf", "path": "https.conf"}]
    assert volumes[mounts["/etc/nginx/certs"]["name"]]["secret"]["secretName"] == "fortune-https"
    config = docs["fortune/configmap-fortune-config.yaml"]["data"]
    assert config["sleep-interval"] == "25" and "listen              8443 ssl;" in config[
        "my-nginx-config.conf"]


def ch08_downward(docs: Docs) -> None:
    pod = _pod(docs["downward/deployment-downward.yaml"])
    env = {e["name"]: e["valueFrom"] for e in pod["containers"][0]["env"]}
    assert env["POD_IP"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    assert env["SERVICE_ACCOUNT"] == {"fieldRef": {"fieldPath": "spec.serviceAccountName"}}
    assert env["CONTAINER_MEMORY_LIMIT_KIBIBYTES"] == {"resourceFieldRef": {
        "resource": "limits.memory", "divisor": "1Ki"}}
    (volume,) = [v for v in pod["volumes"] if "downwardAPI" in v]
    assert [item["path"] for item in volume["downwardAPI"]["items"]] == [
        "labels", "annotations", "podName", "podNamespace", "containerCpuRequestMilliCores",
        "containerMemoryLimitBytes"]
    # the ambassador calls the API server with the pod's token: exactly `list pods`, a route
    curl = _pod(docs["downward/deployment-curl-with-ambassador.yaml"])
    assert curl["serviceAccountName"] == "curl-with-ambassador"
    for container in curl["containers"]:
        assert "/var/run/secrets/kubernetes.io/serviceaccount" in _mounts(container)
    assert _rules(docs, "downward/role-curl-with-ambassador-access.yaml") == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}]
    assert docs["downward/rolebinding-curl-with-ambassador-access.yaml"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "curl-with-ambassador", "namespace": "downward"}]
    assert _api_route(docs, "downward", "curl-with-ambassador") == [
        ("172.18.0.2/32", [{"protocol": "TCP", "port": 6443}])]
    assert "downward/networkpolicy-downward-api-server.yaml" not in docs  # no grant, no route


def ch09_deployments(docs: Docs) -> None:
    spec = docs["kubia/deployment-kubia.yaml"]["spec"]
    assert spec["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    assert spec["minReadySeconds"] == 10
    assert _pod(docs["kubia/deployment-kubia.yaml"])["containers"][0]["readinessProbe"][
        "periodSeconds"] == 1


def ch10_statefulsets(docs: Docs) -> None:
    kubia = docs["kubia/statefulset-kubia.yaml"]["spec"]
    assert kubia["serviceName"] == "kubia"
    assert docs["kubia/service-kubia.yaml"]["spec"]["clusterIP"] == "None"
    (claim,) = kubia["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Mi"
    assert _mounts(kubia["template"]["spec"]["containers"][0])["/var/data"]["name"] == claim[
        "metadata"]["name"]
    # the pets find and reach each other (SRV records of the headless Service, then http)
    peers = docs["kubia/networkpolicy-kubia-peers.yaml"]
    assert _peers(peers, "ingress") == _peers(peers, "egress") == [
        (_selects("kubia", "kubia"), [{"protocol": "TCP", "port": "http"}])]
    assert docs["kubia/service-kubia-public.yaml"]["spec"].get("clusterIP") != "None"
    mongo = docs["kubia/statefulset-mongodb.yaml"]["spec"]
    assert mongo["replicas"] == 3 and mongo["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    assert _peers(docs["kubia/networkpolicy-mongodb-peers.yaml"], "egress") == [
        (_selects("mongodb", "kubia"), [{"protocol": "TCP", "port": "mongodb"}])]


def ch11_internals(docs: Docs) -> None:
    assert _rules(docs, "controllers/role-pod-watcher-leader-election.yaml") == [{
        "apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
        "verbs": ["get", "create", "update"]}]
    assert _rules(docs, "controllers/role-pod-watcher-access.yaml") == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]}]
    assert _api_route(docs, "controllers", "pod-watcher")


def ch12_api_security(docs: Docs) -> None:
    foo = {"kind": "ServiceAccount", "name": "foo", "namespace": "foo"}
    for namespace in ("foo", "bar"):
        assert _rules(docs, f"{namespace}/role-service-reader.yaml") == [
            {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list"]}]
    assert docs["bar/rolebinding-test.yaml"]["subjects"] == [foo]
    assert docs["foo/rolebinding-curl-custom-sa-service-reader.yaml"]["subjects"] == [foo]
    binding = docs["_cluster/clusterrolebinding-pv-test.yaml"]
    assert (binding["roleRef"]["name"], binding["subjects"]) == ("pv-reader", [foo])
    assert docs["foo/rolebinding-view-test.yaml"]["roleRef"]["kind"] == "ClusterRole"
    pod = _pod(docs["foo/deployment-curl-custom-sa.yaml"])
    assert pod["serviceAccountName"] == "foo"
    assert "/var/run/secrets/kubernetes.io/serviceaccount" in _mounts(
        _container(pod, "ambassador"))
    assert _api_route(docs, "foo", "curl-custom-sa")


def ch13_node_security(docs: Docs) -> None:
    labels = docs["_cluster/namespace-node-agents.yaml"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert docs["_cluster/namespace-shop.yaml"]["metadata"]["labels"][
        "pod-security.kubernetes.io/enforce"] == "restricted"
    assert _pod(docs["node-agents/daemonset-pod-with-host-network.yaml"])["hostNetwork"] is True
    pid_ipc = _pod(docs["node-agents/daemonset-pod-with-host-pid-and-ipc.yaml"])
    assert (pid_ipc["hostPID"], pid_ipc["hostIPC"]) == (True, True)
    port = _pod(docs["node-agents/daemonset-kubia-hostport.yaml"])["containers"][0]["ports"][0]
    assert (port["containerPort"], port["hostPort"]) == (8080, 9000)
    assert _peers(docs["node-agents/networkpolicy-kubia-hostport-ingress.yaml"], "ingress") == [
        ({"ipBlock": {"cidr": "192.168.0.0/16"}}, [{"protocol": "TCP", "port": "http"}])]
    privileged = _pod(docs["node-agents/daemonset-pod-privileged.yaml"])["containers"][0]
    assert privileged["securityContext"]["privileged"] is True
    settime = _pod(docs["node-agents/daemonset-pod-add-settime-capability.yaml"])
    assert settime["containers"][0]["securityContext"]["capabilities"] == {
        "add": ["SYS_TIME"], "drop": ["ALL"]}
    guest = _pod(docs["shop/deployment-pod-as-user-guest.yaml"])["securityContext"]
    assert guest["runAsUser"] == 405
    shared = _pod(docs["shop/deployment-pod-with-shared-volume-fsgroup.yaml"])
    assert (shared["securityContext"]["fsGroup"],
            shared["securityContext"]["supplementalGroups"]) == (555, [666, 777])
    assert [c["securityContext"]["runAsUser"] for c in shared["containers"]] == [1111, 2222]
    # only the shopping cart reaches the database, on its port; the database reaches nothing
    assert _peers(docs["shop/networkpolicy-postgres-ingress.yaml"], "ingress") == [
        (_selects("shopping-cart", "security"), [{"protocol": "TCP", "port": "pg"}])]
    assert "shop/networkpolicy-postgres-egress.yaml" not in docs
    assert _peers(docs["shop/networkpolicy-shopping-cart-ingress.yaml"], "ingress") == [
        ({"ipBlock": {"cidr": "192.168.1.0/24"}}, [{"protocol": "TCP", "port": "http"}])]


def ch14_resources(docs: Docs) -> None:
    requests = _pod(docs["resources/deployment-requests-pod.yaml"])["containers"][0]
    assert requests["resources"] == {"limits": {"cpu": "400m", "memory": "20Mi"},
                                     "requests": {"cpu": "200m", "memory": "10Mi"}}
    limits = docs["resources/limitrange-example.yaml"]["spec"]["limits"]
    assert [limit["type"] for limit in limits] == ["Pod", "Container", "PersistentVolumeClaim"]
    quota = docs["resources/resourcequota-cpu-and-mem.yaml"]["spec"]["hard"]
    assert quota["requests.cpu"] == "1"
    assert docs["resources/resourcequota-besteffort-notterminating-pods.yaml"]["spec"][
        "scopes"] == ["BestEffort", "NotTerminating"]


def ch15_autoscaling(docs: Docs) -> None:
    deployment = docs["kubia/deployment-kubia.yaml"]
    assert "replicas" not in deployment["spec"]  # the HPA owns the count
    container = _pod(deployment)["containers"][0]
    assert container["resources"]["requests"]["cpu"] == "100m"
    hpa = docs["kubia/horizontalpodautoscaler-kubia.yaml"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 5)
    assert hpa["metrics"][0]["resource"] == {"name": "cpu", "target": {
        "type": "Utilization", "averageUtilization": 30}}


def ch16_scheduling(docs: Docs) -> None:
    assert _pod(docs["scheduling/deployment-prod.yaml"])["tolerations"] == [
        {"key": "node-type", "operator": "Equal", "value": "production", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300}]
    gpu = _pod(docs["scheduling/deployment-kubia-gpu.yaml"])["affinity"]["nodeAffinity"]
    assert gpu["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["true"]}]}]
    pref = _pod(docs["scheduling/deployment-pref.yaml"])["affinity"]["nodeAffinity"]
    assert [t["weight"] for t in pref["preferredDuringSchedulingIgnoredDuringExecution"]] == [
        80, 20]
    frontend = _pod(docs["scheduling/deployment-frontend.yaml"])["affinity"]["podAffinity"]
    (term,) = frontend["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["labelSelector"] == {"matchLabels": _selects("backend", "scheduling")[
        "podSelector"]["matchLabels"]}
    assert term["topologyKey"] == "kubernetes.io/hostname"
    # one pod per node: the rollout lets an old pod go before the new one needs its node
    assert docs["scheduling/deployment-frontend-spread.yaml"]["spec"]["strategy"][
        "rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    spread = _pod(docs["scheduling/deployment-frontend-spread.yaml"])["affinity"]
    assert spread["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0][
        "topologyKey"] == "kubernetes.io/hostname"


def ch17_lifecycle(docs: Docs) -> None:
    client = _pod(docs["fortune/deployment-fortune-client.yaml"])
    assert "wget http://fortune:8080" in client["initContainers"][0]["command"][2]
    assert client["terminationGracePeriodSeconds"] == 10
    main = client["containers"][0]
    assert main["lifecycle"]["postStart"]["exec"]["command"][0] == "sh"
    # the init container's wget has a way to the fortune pods, and they accept it
    assert _peers(docs["fortune/networkpolicy-fortune-client-egress.yaml"], "egress") == [
        (_selects("fortune", "fortune"), [{"protocol": "TCP", "port": "http"}])]
    assert _peers(docs["fortune/networkpolicy-fortune-ingress.yaml"], "ingress") == [
        (_selects("fortune-client", "fortune"), [{"protocol": "TCP", "port": "http"}])]
    assert docs["fortune/service-fortune.yaml"]["spec"]["ports"][0]["port"] == 8080
    web = _container(_pod(docs["fortune/deployment-fortune.yaml"]), "web-server")
    assert web["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}


def ch18_extending(docs: Docs) -> None:
    crd = docs["_cluster/customresourcedefinition-websites.extensions.example.com.yaml"]
    assert crd["spec"]["names"]["kind"] == "Website"
    assert docs["website/website-kubia.yaml"]["spec"]["gitRepo"].endswith(".git")
    assert _rules(docs, "website/role-website-controller-access.yaml") == [
        {"apiGroups": ["extensions.example.com"], "resources": ["websites"],
         "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create", "delete"]},
        {"apiGroups": [""], "resources": ["services"], "verbs": ["create", "delete"]}]
    assert _api_route(docs, "website", "website-controller")


FACTS: dict[str, Callable[[Docs], None]] = {
    name: check for name, check in globals().items() if name.startswith("ch") and callable(check)
}


def test_every_chapter_has_its_facts() -> None:
    assert sorted(FACTS) == CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_stack(chapter: str, rendered: dict[str, dict[str, str]],
                       snapshot: SnapshotAssertion) -> None:
    stack = load_stack(BOOK / f"{chapter}.py")
    report = lint(stack)
    assert report.ok, [f for f in report.findings if f.severity is Severity.ERROR and not f.waived]
    files = rendered[chapter]
    FACTS[chapter](documents(files))
    assert files == snapshot


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_kubectl_kustomize_builds_the_chapter(chapter: str, tmp_path: Path) -> None:
    assert_kustomize_builds(BOOK / f"{chapter}.py", tmp_path / chapter)
