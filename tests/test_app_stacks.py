"""Real upstream apps re-written as stacks, from README.md and docs/ only.

``tests/apps/<app>.py`` holds each: Google's Online Boutique (microservices-demo), Weaveworks'
Sock Shop, the Kubernetes tutorial's WordPress and MySQL, the Kubernetes Guestbook, Prometheus
node-exporter as a DaemonSet, a Redis primary as a StatefulSet with a client. Each is rendered,
linted (no errors), built by ``kubectl kustomize``, snapshotted (read the snapshot like code)
and checked for what makes it run on a real cluster: Pod Security of its namespace, a
NetworkPolicy route for every call it makes, and, for the four upstream apps, every field
that matters to run (ports, env, probes, resources, commands, users, writable paths) against
upstream's own manifests (tests/data/apps/).

Refresh the snapshots with ``pytest tests/test_app_stacks.py --snapshot-update``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from syrupy.assertion import SnapshotAssertion

from kubegen import Severity, lint, load_stack, render
from tests.whole_stacks import Docs, assert_kustomize_builds, documents

APPS_DIR = Path(__file__).parent / "apps"
APPS = sorted(path.stem for path in APPS_DIR.glob("*.py"))
UPSTREAM = (Path(__file__).parent / "data" / "apps"
            / "online-boutique-v0.10.6-kubernetes-manifests.yaml")


@pytest.fixture(scope="module")
def rendered() -> dict[str, dict[str, str]]:
    return {app: render(load_stack(APPS_DIR / f"{app}.py")) for app in APPS}


def _by_kind(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs.values() if doc["kind"] == kind}


def _pod(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]  # type: ignore[no-any-return]


def _rules(policy: dict[str, Any] | None, direction: str) -> list[tuple[dict[str, Any], Any]]:
    if policy is None:
        return []
    key = "from" if direction == "ingress" else "to"
    return [(peer, port["port"]) for rule in policy["spec"].get(direction, [])
            for peer in rule[key] for port in rule.get("ports", [])]


def _selector(workload: dict[str, Any]) -> dict[str, Any]:
    return {"podSelector": workload["spec"]["selector"]}


# --- Online Boutique against its upstream manifest -------------------------------------------

def _port_number(container: dict[str, Any], port: Any) -> Any:
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    return named.get(port, port)


def _probe(container: dict[str, Any], kind: str) -> dict[str, Any] | None:
    probe = container.get(kind)
    if probe is None:
        return None
    out = dict(probe)
    for handler in ("httpGet", "grpc", "tcpSocket"):
        if handler in out:
            out[handler] = {**out[handler],
                            "port": _port_number(container, out[handler]["port"])}
    return out


def _runs(container: dict[str, Any]) -> dict[str, Any]:
    """What a container needs to run, with names and hardening defaults left out."""
    return {
        "image": container["image"].split("@")[0],
        "command": container.get("command"), "args": container.get("args"),
        "ports": sorted(p["containerPort"] for p in container.get("ports", [])),
        "env": {e["name"]: e["value"] for e in container.get("env", [])},
        "resources": container.get("resources"),
        "readiness": _probe(container, "readinessProbe"),
        "liveness": _probe(container, "livenessProbe"),
        "writable": sorted(m["mountPath"] for m in container.get("volumeMounts", [])
                           if not m.get("readOnly")),
    }


def _upstream() -> Docs:
    return {f"{doc['kind']}/{doc['metadata']['name']}": doc
            for doc in yaml.safe_load_all(UPSTREAM.read_text()) if doc}


def test_online_boutique_runs_what_upstream_runs(rendered: dict[str, dict[str, str]]) -> None:
    ours = documents(rendered["online_boutique"])
    deployments, services = _by_kind(ours, "Deployment"), _by_kind(ours, "Service")
    upstream = _upstream()
    theirs = {key.split("/")[1]: doc for key, doc in upstream.items()
              if key.startswith("Deployment/")}
    assert sorted(deployments) == sorted(theirs)
    for name, their in theirs.items():
        pod, their_pod = _pod(deployments[name]), _pod(their)
        for field in ("runAsUser", "runAsGroup", "fsGroup"):
            assert pod["securityContext"][field] == their_pod["securityContext"][field], name
        assert pod.get("terminationGracePeriodSeconds") == their_pod.get(
            "terminationGracePeriodSeconds"), name
        pairs = [*zip(pod.get("initContainers", []), their_pod.get("initContainers", []),
                      strict=True), *zip(pod["containers"], their_pod["containers"], strict=True)]
        for mine, original in pairs:
            expected = _runs(original)
            if name == "redis-cart":  # upstream's floating redis:alpine, pinned to a release
                assert (expected["image"], _runs(mine)["image"]) == (
                    "redis:alpine", "redis:7.4.1-alpine")
                expected["image"] = "redis:7.4.1-alpine"
            if expected["resources"] is None:  # upstream left it unsized; ours is bounded
                assert set(mine["resources"]) == {"requests", "limits"}, name
                expected["resources"] = mine["resources"]
            assert _runs(mine) == expected, name
    for key, their in upstream.items():
        if not key.startswith("Service/"):
            continue
        mine = services[key.split("/")[1]]
        assert mine["spec"]["type"] == their["spec"]["type"], key
        target = deployments[their["spec"]["selector"]["app"]]
        container = _pod(target)["containers"][0]
        assert [(p["port"], _port_number(container, p["targetPort"]))
                for p in mine["spec"]["ports"]] == [
            (p["port"], p["targetPort"]) for p in their["spec"]["ports"]], key


def test_online_boutique_routes_every_address_it_is_given(
        rendered: dict[str, dict[str, str]]) -> None:
    """Each ``*_ADDR`` names a Service and port: the caller may reach it, the callee admits it."""
    docs = documents(rendered["online_boutique"])
    deployments, services = _by_kind(docs, "Deployment"), _by_kind(docs, "Service")
    policies = _by_kind(docs, "NetworkPolicy")
    routed, unrouted = [], []
    for caller, workload in deployments.items():
        for container in [*_pod(workload).get("initContainers", []),
                          *_pod(workload)["containers"]]:
            for env in container.get("env", []):
                match = re.fullmatch(r"([a-z-]+):(\d+)", env["value"])
                if not env["name"].endswith("_ADDR") or match is None:
                    continue
                host, port = match[1], int(match[2])
                if host not in services:
                    unrouted.append(env["value"])
                    continue
                service_port = next(p for p in services[host]["spec"]["ports"]
                                    if p["port"] == port)
                callee = next(d for d in deployments.values() if d["spec"]["selector"][
                    "matchLabels"] == services[host]["spec"]["selector"])
                target = service_port["targetPort"]
                egress = _rules(policies.get(f"{caller}-egress"), "egress")
                ingress = _rules(policies.get(f"{callee['metadata']['name']}-ingress"), "ingress")
                assert (_selector(callee), target) in egress, (caller, env["value"])
                assert (_selector(workload), target) in ingress, (caller, env["value"])
                routed.append((caller, host))
    assert unrouted == ["shoppingassistantservice:80"]  # an optional service, not deployed
    assert len(set(routed)) == 16  # 14 gRPC calls, cart -> redis, loadgenerator -> frontend
    namespace = docs["_cluster/namespace-boutique.yaml"]["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"
    # the LoadBalancer's clients come from outside the cluster; the ingress controller from its pods
    frontend_in = _rules(policies["frontend-ingress"], "ingress")
    assert ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "http") in frontend_in
    assert any("namespaceSelector" in peer for peer, _ in frontend_in)


# --- Sock Shop against its upstream manifest and network policies ---------------------------

SOCK_SHOP = Path(__file__).parent / "data" / "apps" / "sock-shop-complete-demo.yaml"
SOCK_SHOP_POLICY = Path(__file__).parent / "data" / "apps" / "sock-shop-manifests-policy.yaml"
# upstream's floating tags, pinned (mongo:3.4 is upstream's docker-compose.yml; the exporter's
# 1.0 moved its default port off upstream's 9090)
SOCK_IMAGES = {"mongo": "mongo:3.4", "redis:alpine": "redis:7.4.1-alpine",
               "kbudde/rabbitmq-exporter": "kbudde/rabbitmq-exporter:v0.29.0"}
# upstream runs these as root so their entrypoints chown and drop to the image's user: ours run
# as that user (tests/data/README.md cites the Dockerfiles) with its data paths writable (by
# container: the read-only root needs them, upstream's runtime gave them as image VOLUMEs)
SOCK_IMAGE_USERS = {"carts-db": 999, "orders-db": 999, "user-db": 999, "catalogue-db": 999,
                    "session-db": 999, "rabbitmq": 999,
                    "queue-master": 10001}  # its Dockerfile's USER, upstream sets none
SOCK_DATA_PATHS = {"carts-db": ["/data/configdb", "/data/db"],
                   "orders-db": ["/data/configdb", "/data/db"],
                   "user-db": ["/data/configdb", "/data/db-users"],
                   "catalogue-db": ["/tmp", "/var/lib/mysql", "/var/run/mysqld"],
                   "session-db": ["/data"], "rabbitmq": ["/var/lib/rabbitmq"],
                   "queue-master": ["/tmp"]}  # docker-compose.yml: read_only with a /tmp tmpfs


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def _writable(container: dict[str, Any]) -> list[str]:
    return sorted(m["mountPath"] for m in container.get("volumeMounts", [])
                  if not m.get("readOnly"))


def _caps(container: dict[str, Any]) -> list[str]:
    return sorted(container.get("securityContext", {}).get("capabilities", {}).get("add", []))


def _port_of_probe(container: dict[str, Any], kind: str) -> Any:
    probe = container[kind]
    handler = probe.get("httpGet") or probe.get("tcpSocket")
    return _port_number(container, handler["port"])


def test_sock_shop_runs_what_upstream_runs(rendered: dict[str, dict[str, str]]) -> None:
    ours = documents(rendered["sock_shop"])
    deployments, services = _by_kind(ours, "Deployment"), _by_kind(ours, "Service")
    upstream = [doc for doc in yaml.safe_load_all(SOCK_SHOP.read_text()) if doc]
    theirs = {doc["metadata"]["name"]: doc for doc in upstream if doc["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(theirs)
    for name, their in theirs.items():
        pod, their_pod = _pod(deployments[name]), _pod(their)
        for mine, original in zip(pod["containers"], their_pod["containers"], strict=True):
            where = (name, original["name"])
            assert mine["name"] == original["name"], where
            assert mine["image"] == SOCK_IMAGES.get(original["image"], original["image"]), where
            assert (mine.get("command"), mine.get("args")) == (
                original.get("command"), original.get("args")), where
            assert sorted(p["containerPort"] for p in mine["ports"]) == sorted(
                p["containerPort"] for p in original["ports"]), where
            env = _env(mine)
            if name == "catalogue-db":  # the root password from a Secret, not from git
                assert env.pop("MYSQL_ROOT_PASSWORD") == {"secretKeyRef": {
                    "name": "catalogue-db", "key": "root-password"}}
                assert _env(original).pop("MYSQL_ROOT_PASSWORD") == "fake_password"
            if original["name"] == "rabbitmq-exporter":  # upstream's port, whatever the tag
                assert env.pop("PUBLISH_PORT") == "9090"
            assert env == {k: v for k, v in _env(original).items()
                           if k != "MYSQL_ROOT_PASSWORD"}, where
            if "resources" in original:
                assert mine["resources"] == original["resources"], where
            else:  # upstream left it unsized; ours is bounded
                assert set(mine["resources"]["limits"]) == {"cpu", "memory"}, where
            # every probe upstream gives is kept; the rest probe a port the container declares
            for kind in ("readinessProbe", "livenessProbe"):
                if kind in original:
                    assert _probe(mine, kind) == _probe(original, kind), where
                assert _port_of_probe(mine, kind) in {
                    p["containerPort"] for p in mine["ports"]}, where
            security = original.get("securityContext", {})
            assert _writable(mine) == sorted(
                {*_writable(original), *SOCK_DATA_PATHS.get(original["name"], [])}), where
            # NET_BIND_SERVICE for port 80 is kept (a container without a securityContext has
            # it from the runtime's default set); CHOWN/SETUID/... only served root
            low = any(p["containerPort"] < 1024 for p in original["ports"])
            binds = "NET_BIND_SERVICE" in _caps(original) or (not security and low)
            assert _caps(mine) == (["NET_BIND_SERVICE"] if binds else []), where
            assert mine["securityContext"]["readOnlyRootFilesystem"] is True, where
            user = security.get("runAsUser", SOCK_IMAGE_USERS.get(name))
            if user is not None:
                assert pod["securityContext"]["runAsUser"] == user, where
    for their in upstream:
        if their["kind"] != "Service":
            continue
        mine = services[their["metadata"]["name"]]
        assert mine["spec"].get("type", "ClusterIP") == their["spec"].get("type", "ClusterIP")
        container = _pod(deployments[their["spec"]["selector"]["name"]])["containers"]
        by_name = {p["name"]: p["containerPort"] for c in container for p in c["ports"]}
        assert [(p["port"], by_name[p["targetPort"]], p.get("nodePort"))
                for p in mine["spec"]["ports"]] == [
            (p["port"], by_name.get(p["targetPort"], p["targetPort"]), p.get("nodePort"))
            for p in their["spec"]["ports"]], their["metadata"]["name"]


def test_sock_shop_user_db_keeps_its_seeded_accounts(
        rendered: dict[str, dict[str, str]]) -> None:
    """The image's VOLUME /data/db-users holds the accounts; an emptyDir would hide them, so an
    init container of the same image copies them onto the volume mongod then opens."""
    pod = _pod(documents(rendered["sock_shop"])["sock-shop/deployment-user-db.yaml"])
    seed, = pod["initContainers"]
    mongod, = pod["containers"]
    assert seed["image"] == mongod["image"]
    assert seed["command"] == ["cp", "-a", "/data/db-users/.", "/seed/"]
    volume = {m["mountPath"]: m["name"] for m in seed["volumeMounts"]}["/seed"]
    assert {m["mountPath"]: m["name"] for m in mongod["volumeMounts"]}[
        "/data/db-users"] == volume
    assert {"name": volume, "emptyDir": {}} in pod["volumes"]


def _upstream_calls() -> set[tuple[str, str, int]]:
    """(caller, callee, port) from upstream's NetworkPolicies; their ``name: cart`` selects no
    pod (the label is ``carts``), a typo fixed here."""
    def fixed(name: str) -> str:
        return "carts" if name == "cart" else name

    calls = set()
    for policy in yaml.safe_load_all(SOCK_SHOP_POLICY.read_text()):
        if not policy or policy["kind"] != "NetworkPolicy":
            continue
        callee = (policy["spec"]["podSelector"].get("matchLabels") or {}).get("name")
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                caller = peer["podSelector"]["matchLabels"]["name"]
                for port in rule.get("ports", []):
                    calls.add((fixed(caller), fixed(callee), port["port"]))
    return calls


def test_sock_shop_routes_exactly_upstreams_calls(rendered: dict[str, dict[str, str]]) -> None:
    """Every pod-to-pod call of upstream's policies (plus the session store) has an egress rule
    at the caller and an ingress rule at the callee, on the callee's port, and nothing else."""
    docs = documents(rendered["sock_shop"])
    deployments, policies = _by_kind(docs, "Deployment"), _by_kind(docs, "NetworkPolicy")
    upstream = _upstream_calls()
    assert len(upstream) == 14  # cortex (Weave Cloud's agent, not deployed) names no port
    # front-end's config.js: RedisStore({host: "session-db"}) when SESSION_REDIS is set
    expected = upstream | {("front-end", "session-db", 6379)}
    by_selector = {str(_selector(d)): name for name, d in deployments.items()}
    routed = set()
    for name, workload in deployments.items():
        ports = {p["name"]: p["containerPort"] for c in _pod(workload)["containers"]
                 for p in c["ports"]}
        for peer, port in _rules(policies.get(f"{name}-ingress"), "ingress"):
            if "podSelector" in peer:
                routed.add((by_selector[str(peer)], name, ports[port]))
    assert routed == expected
    for caller, callee, number in expected:
        port = next(p["name"] for c in _pod(deployments[callee])["containers"]
                    for p in c["ports"] if p["containerPort"] == number)
        assert (_selector(deployments[callee]), port) in _rules(
            policies.get(f"{caller}-egress"), "egress"), (caller, callee)
    # only the NodePort's clients come from outside; the namespace keeps restricted
    assert _rules(policies["front-end-ingress"], "ingress") == [
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "http")]
    namespace = docs["_cluster/namespace-sock-shop.yaml"]["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"


# --- WordPress and MySQL against the Kubernetes tutorial --------------------------------------

WORDPRESS = [Path(__file__).parent / "data" / "apps" / f"wordpress-{name}-deployment.yaml"
             for name in ("mysql", "wordpress")]
# the tutorial's wordpress:4.8-apache only starts as root (its entrypoint predates non-root
# support, docker-library/wordpress 5af0b0c): the current release, whose wp-config then needs
# the database user that MySQL creates
WORDPRESS_IMAGES = {"wordpress:4.8-apache": "wordpress:7.1.0-php8.3-apache"}
WORDPRESS_USERS = {"wordpress-mysql": 999, "wordpress": 33}  # mysql, Debian's www-data
WORDPRESS_WRITABLE = {"wordpress-mysql": ["/tmp", "/var/run/mysqld"],
                      "wordpress": ["/tmp", "/var/lock/apache2", "/var/run/apache2"]}


def _secret_files(pod: dict[str, Any], container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Path of each secret key a container can read → (Secret, key)."""
    secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    return {f"{m['mountPath']}/{key}": (secrets[m["name"]], key)
            for m in container["volumeMounts"] if m["name"] in secrets
            for key in ("password",)}


def test_wordpress_runs_what_the_tutorial_runs(rendered: dict[str, dict[str, str]]) -> None:
    ours = documents(rendered["wordpress"])
    deployments, services = _by_kind(ours, "Deployment"), _by_kind(ours, "Service")
    claims = _by_kind(ours, "PersistentVolumeClaim")
    upstream = [doc for path in WORDPRESS for doc in yaml.safe_load_all(path.read_text())]
    theirs = {doc["metadata"]["name"]: doc for doc in upstream if doc["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(theirs)
    for name, their in theirs.items():
        # one pod on a ReadWriteOnce claim: Recreate, or the rollout could never finish
        assert deployments[name]["spec"]["strategy"] == their["spec"]["strategy"] == {
            "type": "Recreate"}
        pod, their_pod = _pod(deployments[name]), _pod(their)
        (mine,), (original,) = pod["containers"], their_pod["containers"]
        assert mine["image"] == WORDPRESS_IMAGES.get(original["image"], original["image"])
        assert [p["containerPort"] for p in mine["ports"]] == [
            p["containerPort"] for p in original["ports"]], name
        env, files = _env(mine), _secret_files(pod, mine)
        for var in original["env"]:
            if "value" in var:
                assert env.pop(var["name"]) == var["value"], (name, var)
            else:  # the same Secret key, read from a file instead of the environment
                ref = var["valueFrom"]["secretKeyRef"]
                assert files[env.pop(var["name"] + "_FILE")] == (ref["name"], ref["key"])
        assert env == ({"WORDPRESS_DB_USER": "wordpress"} if name == "wordpress" else {}), name
        volumes = {v["name"]: v for v in pod["volumes"]}
        their_volumes = {v["name"]: v for v in their_pod["volumes"]}
        claimed = {m["mountPath"]: volumes[m["name"]]["persistentVolumeClaim"]["claimName"]
                   for m in mine["volumeMounts"]
                   if "persistentVolumeClaim" in volumes[m["name"]]}
        assert claimed == {
            m["mountPath"]: their_volumes[m["name"]]["persistentVolumeClaim"]["claimName"]
            for m in original["volumeMounts"]}, name
        assert sorted(set(_writable(mine)) - set(claimed)) == WORDPRESS_WRITABLE[name]
        assert pod["securityContext"]["runAsUser"] == WORDPRESS_USERS[name]
        assert pod["securityContext"]["fsGroup"] == WORDPRESS_USERS[name]  # claims writable
        assert "capabilities" not in mine["securityContext"] or mine["securityContext"][
            "capabilities"] == {"drop": ["ALL"]}
        # a non-root process binds a port below 1024 only where the pod opens them
        low = min(p["containerPort"] for p in mine["ports"])
        sysctls = {s["name"]: int(s["value"]) for s in pod["securityContext"].get("sysctls", [])}
        assert sysctls.get("net.ipv4.ip_unprivileged_port_start", 1024) <= low, name
    assert _env(_pod(deployments["wordpress"])["containers"][0])["WORDPRESS_DB_USER"] == _env(
        _pod(deployments["wordpress-mysql"])["containers"][0])["MYSQL_USER"]
    for their in upstream:
        name = their["metadata"]["name"]
        if their["kind"] == "PersistentVolumeClaim":
            assert claims[name]["spec"] == their["spec"], name
        if their["kind"] == "Service":
            mine = services[name]
            assert mine["spec"].get("type", "ClusterIP") == their["spec"].get(
                "type", "ClusterIP"), name
            container = _pod(deployments[name])["containers"][0]
            assert [(p["port"], _port_number(container, p["targetPort"]))
                    for p in mine["spec"]["ports"]] == [
                (p["port"], p.get("targetPort", p["port"])) for p in their["spec"]["ports"]]


def test_wordpress_reaches_its_database_and_readers_reach_it(
        rendered: dict[str, dict[str, str]]) -> None:
    docs = documents(rendered["wordpress"])
    deployments, services = _by_kind(docs, "Deployment"), _by_kind(docs, "Service")
    policies = _by_kind(docs, "NetworkPolicy")
    wordpress, mysql = deployments["wordpress"], deployments["wordpress-mysql"]
    host = _env(_pod(wordpress)["containers"][0])["WORDPRESS_DB_HOST"]
    assert services[host]["spec"]["selector"] == mysql["spec"]["selector"]["matchLabels"]
    assert (_selector(mysql), "mysql") in _rules(policies["wordpress-egress"], "egress")
    assert _rules(policies["wordpress-mysql-ingress"], "ingress") == [
        (_selector(wordpress), "mysql")]
    assert ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "http") in _rules(
        policies["wordpress-ingress"], "ingress")
    namespace = docs["_cluster/namespace-wordpress.yaml"]["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"


# --- Guestbook against kubernetes/examples ---------------------------------------------------

GUESTBOOK = Path(__file__).parent / "data" / "apps" / "guestbook-all-in-one.yaml"
# the e2e test image, replaced by what upstream's own comment offers ("or just image: redis")
GUESTBOOK_IMAGES = {"registry.k8s.io/redis:e2e": "redis:7.4.1-alpine"}
GUESTBOOK_WRITABLE = {"redis-master": ["/data"], "redis-replica": ["/data"],
                      "frontend": ["/tmp", "/var/lock/apache2", "/var/run/apache2"]}
# who calls whom: guestbook.php (set on redis-master, get on redis-replica) and the follower
# image's run.sh (redis-server --slaveof redis-master 6379), all on 6379
GUESTBOOK_CALLS = {("frontend", "redis-master"), ("frontend", "redis-replica"),
                   ("redis-replica", "redis-master")}


def test_guestbook_runs_what_upstream_runs(rendered: dict[str, dict[str, str]]) -> None:
    ours = documents(rendered["guestbook"])
    deployments, services = _by_kind(ours, "Deployment"), _by_kind(ours, "Service")
    upstream = [doc for doc in yaml.safe_load_all(GUESTBOOK.read_text()) if doc]
    theirs = {doc["metadata"]["name"]: doc for doc in upstream if doc["kind"] == "Deployment"}
    assert sorted(deployments) == sorted(theirs)
    for name, their in theirs.items():
        assert deployments[name]["spec"]["replicas"] == their["spec"]["replicas"], name
        pod = _pod(deployments[name])
        (mine,), (original,) = pod["containers"], _pod(their)["containers"]
        assert mine["image"] == GUESTBOOK_IMAGES.get(original["image"], original["image"])
        assert [p["containerPort"] for p in mine["ports"]] == [
            p["containerPort"] for p in original["ports"]], name
        assert _env(mine) == _env(original), name
        assert mine["resources"]["requests"] == original["resources"]["requests"], name
        assert _writable(mine) == GUESTBOOK_WRITABLE[name], name
        for kind in ("readinessProbe", "livenessProbe"):  # upstream has none
            assert _port_of_probe(mine, kind) == original["ports"][0]["containerPort"], name
        low = min(p["containerPort"] for p in mine["ports"])
        sysctls = {s["name"]: int(s["value"]) for s in pod["securityContext"].get("sysctls", [])}
        assert sysctls.get("net.ipv4.ip_unprivileged_port_start", 1024) <= low, name
        assert pod["securityContext"]["runAsNonRoot"] is True, name
    for their in upstream:
        if their["kind"] != "Service":
            continue
        name = their["metadata"]["name"]
        mine = services[name]
        assert mine["spec"].get("type", "ClusterIP") == their["spec"].get("type", "ClusterIP")
        container = _pod(deployments[name])["containers"][0]
        assert [(p["port"], _port_number(container, p["targetPort"]))
                for p in mine["spec"]["ports"]] == [
            (p["port"], p.get("targetPort", p["port"])) for p in their["spec"]["ports"]], name


def test_guestbook_routes_its_reads_writes_and_replication(
        rendered: dict[str, dict[str, str]]) -> None:
    docs = documents(rendered["guestbook"])
    deployments, policies = _by_kind(docs, "Deployment"), _by_kind(docs, "NetworkPolicy")
    by_selector = {str(_selector(d)): name for name, d in deployments.items()}
    routed = {(by_selector[str(peer)], name)
              for name in deployments
              for peer, port in _rules(policies.get(f"{name}-ingress"), "ingress")
              if "podSelector" in peer and port == "redis"}
    assert routed == GUESTBOOK_CALLS
    for caller, callee in GUESTBOOK_CALLS:
        assert (_selector(deployments[callee]), "redis") in _rules(
            policies[f"{caller}-egress"], "egress"), (caller, callee)
    assert _rules(policies["frontend-ingress"], "ingress") == [
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "http")]
    namespace = docs["_cluster/namespace-guestbook.yaml"]["metadata"]["labels"]
    assert namespace["pod-security.kubernetes.io/enforce"] == "restricted"


# --- node-exporter and the Redis primary -----------------------------------------------------

def test_node_exporter_gets_the_node_and_a_privileged_namespace(
        rendered: dict[str, dict[str, str]]) -> None:
    docs = documents(rendered["node_exporter"])
    namespace = docs["_cluster/namespace-monitoring.yaml"]["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    assert "reads their filesystems" in namespace["annotations"][
        "kubegen.dev/opt-out-pod-security"]
    daemonset = docs["monitoring/daemonset-node-exporter.yaml"]
    pod = _pod(daemonset)
    assert (pod["hostNetwork"], pod["hostPID"], pod["dnsPolicy"]) == (
        True, True, "ClusterFirstWithHostNet")
    assert pod["tolerations"] == [{"operator": "Exists"}]
    container = pod["containers"][0]
    volumes = {v["name"]: v["hostPath"]["path"] for v in pod["volumes"]}
    mounts = {m["mountPath"]: (volumes[m["name"]], m["readOnly"], m.get("mountPropagation"))
              for m in container["volumeMounts"]}
    assert mounts == {"/host/proc": ("/proc", True, None), "/host/sys": ("/sys", True, None),
                      "/host/root": ("/", True, "HostToContainer")}
    for flag, path in (("procfs", "/host/proc"), ("sysfs", "/host/sys"),
                       ("rootfs", "/host/root")):
        assert f"--path.{flag}={path}" in container["args"]
    # a node port can hold one pod per node: the rollout must replace, never surge
    assert daemonset["spec"]["updateStrategy"]["rollingUpdate"] == {
        "maxSurge": 0, "maxUnavailable": 1}
    service = docs["monitoring/service-node-exporter.yaml"]["spec"]
    assert service["ports"] == [
        {"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"}]


def test_redis_primary_keeps_its_data_and_admits_its_client(
        rendered: dict[str, dict[str, str]]) -> None:
    docs = documents(rendered["redis_primary"])
    statefulset = docs["cache/statefulset-redis.yaml"]["spec"]
    assert statefulset["serviceName"] == "redis"
    claim = statefulset["volumeClaimTemplates"][0]
    assert (claim["metadata"]["name"], claim["spec"]["resources"]["requests"]["storage"]) == (
        "data", "10Gi")
    pod = statefulset["template"]["spec"]
    assert {"name": "data", "mountPath": "/data"} in pod["containers"][0]["volumeMounts"]
    assert (pod["securityContext"]["runAsUser"], pod["securityContext"]["fsGroup"]) == (999, 999)
    headless = docs["cache/service-redis.yaml"]["spec"]
    assert headless["clusterIP"] == "None"
    worker = docs["cache/deployment-worker.yaml"]
    env = {e["name"]: e["value"] for e in _pod(worker)["containers"][0]["env"]}
    assert env["REDIS_ADDR"] == "redis-0.redis.cache.svc.cluster.local:6379"
    redis = {"podSelector": {"matchLabels": statefulset["selector"]["matchLabels"]}}
    policies = _by_kind(docs, "NetworkPolicy")
    assert (redis, "redis") in _rules(policies["worker-egress"], "egress")
    assert (_selector(worker), "redis") in _rules(policies["redis-ingress"], "ingress")


# --- every app --------------------------------------------------------------------------------

@pytest.mark.parametrize("app", APPS)
def test_app_stack(app: str, rendered: dict[str, dict[str, str]],
                   snapshot: SnapshotAssertion) -> None:
    report = lint(load_stack(APPS_DIR / f"{app}.py"))
    assert report.ok, [f for f in report.findings if f.severity is Severity.ERROR and not f.waived]
    assert rendered[app] == snapshot


@pytest.mark.parametrize("app", APPS)
def test_kubectl_kustomize_builds_the_app(app: str, tmp_path: Path) -> None:
    assert_kustomize_builds(APPS_DIR / f"{app}.py", tmp_path / app)
