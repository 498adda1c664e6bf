"""A throwaway git repository with one stack whose every reviewable fact is a setting.

``ReviewRepo.write(**changes)`` rewrites the stack with some settings changed; ``commit`` renders
(optionally) and commits. Tests then review the code against a commit, the way a pull request
would, with real ``git`` in a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

DIGEST = "sha256:" + "0123456789abcdef" * 4

DEFAULTS: dict[str, Any] = {
    "api_image": f"ghcr.io/acme/api:1.0.0@{DIGEST}",
    "api_replicas": 2,
    "api_autoscale": None,  # (min, max) replicas on CPU instead of api_replicas
    "api_port": 8080,
    "api_cpu": "100m",
    "api_readiness": "/ready",
    "api_strategy": "RollingUpdate",
    "api_sidecar": False,
    "api_grants": [],  # ("read", resource) or ("read-names", resource, name)
    "api_cluster_grant": False,
    "api_view_role": False,
    "api_wildcard": False,  # get on every core resource (allowed with a reason)
    "api_escalation": False,  # bind and escalate on roles (allowed with a reason)
    "api_internet": None,  # the reason, when allowed
    "api_cidr_ingress": None,  # (cidr, reason or None)
    "web_to_api": True,
    "web_writable_root": None,  # the opt-out's reason
    "web_host": None,  # the reason for web's hostPID and /proc hostPath (namespace privileged)
    "waive_kg701": None,  # a stack-level waiver's reason
    "db": True,
    "db_storage": "1Gi",
    "db_replicas": 2,
    "config": "one",
    "extra_namespace": False,
    "tools_pss": "restricted",  # the Pod Security level of namespace tools
    "web_tag_only": False,  # web's image without a digest: a KG208 finding (info)
}

STACK = '''
from kubegen import (ApiServer, Cluster, ConfigMap, Container, Deployment, HostPath, HttpProbe,
                     Namespace, Port, Resources, RoleRef, Rule, Stack, StatefulSet, TcpProbe)

S = {settings!r}
DIGEST = "sha256:" + "0123456789abcdef" * 4


def build():
    cluster = Cluster("test", api_server=ApiServer(addresses=["10.0.0.10/32"], port=6443))
    stack = Stack("app", namespace="app", cluster=cluster)
    if S["waive_kg701"]:
        stack.waive("KG701", S["waive_kg701"])
    stack.add(ConfigMap("settings", data={{"MODE": S["config"]}}))
    if S["extra_namespace"]:
        level = S["tools_pss"]
        stack.add(Namespace("tools", pod_security=level,
                            reason=None if level == "restricted" else "node debugging pods"))
    api = stack.add(Deployment(
        "api", image=S["api_image"], replicas=None if S["api_autoscale"] else S["api_replicas"],
        port=Port(S["api_port"], name="http"),
        readiness=HttpProbe(S["api_readiness"]), liveness=HttpProbe("/healthz"),
        resources=Resources(cpu=S["api_cpu"], memory="128Mi"), strategy=S["api_strategy"],
        sidecars=[Container(name="proxy", image="ghcr.io/acme/proxy:2.0.0@" + DIGEST,
                       resources=Resources(cpu="50m", memory="64Mi"))]
        if S["api_sidecar"] else []))
    web_image = "ghcr.io/acme/web:3.1.0" + ("" if S["web_tag_only"] else "@" + DIGEST)
    web = stack.add(Deployment(
        "web", image=web_image, replicas=2, port=Port(8080, name="http"),
        readiness=HttpProbe("/ready"), liveness=HttpProbe("/healthz"),
        resources=Resources(cpu="100m", memory="128Mi"),
        allow_writable_root=S["web_writable_root"],
        allow_host_pid=S["web_host"],
        mounts={{"/host/proc": HostPath("/proc", reason=S["web_host"])}}
        if S["web_host"] else {{}}))
    if S["web_host"]:
        stack.add(Namespace("app", pod_security="privileged", reason=S["web_host"]))
    api.expose()
    if S["api_autoscale"]:
        api.autoscale(min=S["api_autoscale"][0], max=S["api_autoscale"][1], cpu=70)
    if S["web_to_api"]:
        web.connect_to(api, port="http")
    for grant in S["api_grants"]:
        if grant[0] == "read":
            api.grant(Rule.read(grant[1]))
        else:
            api.grant(Rule.read(grant[1], resource_names=[grant[2]]))
    if S["api_cluster_grant"]:
        api.grant(Rule.read("nodes"), cluster_wide=True, purpose="nodes")
    if S["api_wildcard"]:
        api.grant(Rule(api_groups=[""], resources=["*"], verbs=["get"]), purpose="all",
                  allow={{"wildcard": "a debugging console"}})
    if S["api_escalation"]:
        api.grant(Rule(api_groups=["rbac.authorization.k8s.io"], resources=["roles"],
                       verbs=["bind", "escalate"]), purpose="rbac",
                  allow={{"escalation-verbs": "it manages tenants' roles"}})
    if S["api_view_role"]:
        api.grant(RoleRef("view", kind="ClusterRole", external=True), purpose="view")
    if S["api_internet"]:
        api.allow_to_internet(port=443, reason=S["api_internet"])
    if S["api_cidr_ingress"]:
        cidr, reason = S["api_cidr_ingress"]
        api.allow_from(cidr=cidr, port="http", reason=reason)
    if S["db"]:
        db = stack.add(StatefulSet(
            "db", image="postgres:16.4@" + DIGEST, port=Port(5432, name="pg"),
            readiness=TcpProbe(), liveness=TcpProbe(), storage=S["db_storage"],
            resources=Resources(cpu="100m", memory="128Mi"), replicas=S["db_replicas"]))
        api.connect_to(db, port="pg")
    return stack
'''


class ReviewRepo:
    """A git repository in ``root`` holding ``stacks/app`` and its rendered ``output/app``."""

    def __init__(self, root: Path, *, branch: str = "main", init: bool = True) -> None:
        self.root = root
        self.settings = dict(DEFAULTS)
        root.mkdir(parents=True, exist_ok=True)
        (root / "pyproject.toml").write_text('[project]\nname = "demo"\n', encoding="utf-8")
        if init:
            self.git("init", "-q", "-b", branch)
        self.write()

    @property
    def stack(self) -> Path:
        return self.root / "stacks" / "app"

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
               "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
        env.pop("GITHUB_BASE_REF", None)
        done = subprocess.run(
            ["git", *args], cwd=cwd or self.root, env=env, capture_output=True, text=True,
            check=False,
        )
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout

    def write(self, **changes: Any) -> None:
        """Rewrite the stack with ``changes`` applied to the current settings."""
        unknown = set(changes) - set(DEFAULTS)
        assert not unknown, unknown
        self.settings.update(changes)
        self.stack.mkdir(parents=True, exist_ok=True)
        (self.stack / "__init__.py").write_text(
            STACK.format(settings=self.settings), encoding="utf-8"
        )
        shutil.rmtree(self.stack / "__pycache__", ignore_errors=True)  # never a stale .pyc

    def render(self) -> None:
        from kubegen._files.writer import write_env
        from kubegen._pipeline import plan

        item = plan(self.stack)
        write_env(item.env_dir, item.files)

    def commit(self, message: str = "change", *, render: bool = True) -> str:
        if render:
            self.render()
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


def no_bytecode() -> None:
    """Tests rewrite stack files within one second: never cache their bytecode."""
    sys.dont_write_bytecode = True
