"""Examples that start: every example workload meets what its real image needs.

``tests/data/image_needs.yaml`` lists, with sources, the user, group, writable paths, env and
ports each image of the examples needs under a read-only root and a non-root user. This test
renders every workload of ``stacks/``, the README tour and the ``docs/`` examples, reads each
container's image from the rendered pod, and checks the pod against that image's entry.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import kubegen._stack
from kubegen._builders.workloads.pod import PodWorkload
from kubegen._coherence.pods import ContainerView, PodView, as_dict, as_list, pod_view
from kubegen._errors import KubegenError
from kubegen._loader import load_stack
from kubegen._manifests import ManifestObject
from kubegen._values import ImageRef
from tests.helpers import REPO
from tests.test_docs import EXAMPLES, _run
from tests.test_readme import _tour_example

NEEDS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "data" / "image_needs.yaml").read_text(encoding="utf-8"))["images"]
WRITABLE_VOLUMES = ("emptyDir", "persistentVolumeClaim", "ephemeral")


@dataclass(frozen=True)
class Workload:
    where: str  # stacks/prod, README.md, docs/workloads.md:312
    obj: ManifestObject


def need_of(image: str) -> dict[str, Any] | None:
    ref = ImageRef.parse(image)
    for need in NEEDS:
        if re.fullmatch(need["image"], ref.repository) and re.search(need["tags"], ref.tag or ""):
            return need
    return None


def _claim_templates(obj: ManifestObject) -> set[str]:
    spec = as_dict(obj.body.get("spec"))
    return {as_dict(t.get("metadata")).get("name", "")
            for t in map(as_dict, as_list(spec.get("volumeClaimTemplates")))}


def _writable_mounts(pod: PodView, c: ContainerView) -> list[str]:
    """Mount paths of the container's writable volumes (emptyDir, claims)."""
    volumes = {as_dict(v).get("name"): as_dict(v) for v in as_list(pod.spec.get("volumes"))}
    templates = _claim_templates(pod.obj)
    found = []
    for mount in map(as_dict, as_list(c.body.get("volumeMounts"))):
        volume = volumes.get(mount.get("name"), {})
        writable = mount.get("name") in templates or any(k in volume for k in WRITABLE_VOLUMES)
        if writable and not mount.get("readOnly"):
            found.append(str(mount.get("mountPath")))
    return found


def _below(path: str, mounts: list[str], *, strictly: bool) -> bool:
    return any(path.startswith(m.rstrip("/") + "/") or (not strictly and path == m)
               for m in mounts)


def _mounts_claim(pod: PodView, c: ContainerView) -> bool:
    volumes = {as_dict(v).get("name"): as_dict(v) for v in as_list(pod.spec.get("volumes"))}
    templates = _claim_templates(pod.obj)
    return any(m.get("name") in templates or "persistentVolumeClaim" in volumes.get(
        m.get("name"), {}) for m in map(as_dict, as_list(c.body.get("volumeMounts"))))


def problems(pod: PodView, c: ContainerView, need: dict[str, Any]) -> Iterator[str]:
    """What ``c`` lacks of ``need``."""
    pod_context, context = pod.security_context, c.security_context
    uid = context.get("runAsUser", pod_context.get("runAsUser"))
    gid = context.get("runAsGroup", pod_context.get("runAsGroup"))
    host_paths = [str(as_dict(as_dict(v).get("hostPath")).get("path"))
                  for v in as_list(pod.spec.get("volumes")) if as_dict(v).get("hostPath")]
    if any(_below(p, need.get("root_for", []), strictly=False) for p in host_paths):
        if uid != 0:
            yield f"reads root-owned {need['root_for']} on the node: runs as uid {uid}, needs 0"
    elif need["uid"] != "any" and uid != need["uid"]:
        yield f"runs as uid {uid}, the image's user is {need['uid']}"
    if need["gid"] != "any" and gid != need["gid"]:
        yield f"runs as gid {gid}, the image's group is {need['gid']}"
    fs_group = pod_context.get("fsGroup")
    if need["gid"] != "any" and _mounts_claim(pod, c) and fs_group != need["gid"]:
        yield f"fsGroup {fs_group}: its claim is not writable by gid {need['gid']}"
    writable = _writable_mounts(pod, c)
    read_only_root = context.get("readOnlyRootFilesystem") is not False
    for path in need.get("writable", []):
        if read_only_root and not _below(path, writable, strictly=False):
            yield f"writes {path}, which is on the read-only root filesystem"
    env = {as_dict(e).get("name"): as_dict(e).get("value") for e in as_list(c.body.get("env"))}
    one_of = need.get("env_one_of")
    if one_of and not set(one_of) & set(env):
        yield f"needs one of the env vars {', '.join(one_of)}"
    for name in need.get("below_mount", []):
        value = env.get(name)
        if not isinstance(value, str) or not _below(value, writable, strictly=True):
            yield f"{name}={value!r} must be a folder below a writable volume, not its root"
    declared = {as_dict(p).get("containerPort") for p in as_list(c.body.get("ports"))}
    for port in need.get("listens", []):
        if port not in declared:
            yield f"listens on {port}, which the container does not declare"


def _from_stacks() -> Iterator[Workload]:
    for env in ("dev", "prod"):
        for obj in load_stack(REPO / "stacks" / env).stack.objects():
            yield Workload(f"stacks/{env}", obj)


def _recording(run: Any) -> list[kubegen._stack.Stack]:
    """Every Stack created while ``run()`` runs."""
    made: list[kubegen._stack.Stack] = []
    original = kubegen._stack.Stack.__init__

    def record(self: kubegen._stack.Stack, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    kubegen._stack.Stack.__init__ = record  # type: ignore[method-assign]
    try:
        run()
    finally:
        kubegen._stack.Stack.__init__ = original  # type: ignore[method-assign]
    return made


def _workloads_of(stacks: list[kubegen._stack.Stack], where: str) -> Iterator[Workload]:
    for stack in stacks:
        for res in stack:
            if not isinstance(res, PodWorkload):
                continue
            try:
                objects = res.manifests()
            except KubegenError:  # an example that shows an error
                continue
            for obj in objects:
                yield Workload(where, obj)


def _from_readme() -> Iterator[Workload]:
    def run() -> None:
        namespace: dict[str, Any] = {}
        exec(compile(_tour_example(), "README.md", "exec"), namespace)
        namespace["build"]()

    yield from _workloads_of(_recording(run), "README.md")


def _from_docs() -> Iterator[Workload]:
    for example in EXAMPLES:
        def run(example: Any = example) -> None:
            with contextlib.suppress(Exception):  # a broken example is test_docs' finding
                _run(example)

        yield from _workloads_of(_recording(run), f"docs/{example.id}")


def _checked(workloads: Iterator[Workload]) -> tuple[list[str], set[str]]:
    wrong, images = [], set()
    for workload in workloads:
        pod = pod_view(workload.obj)
        if pod is None:
            continue
        for c in pod.containers():
            image = str(c.body.get("image"))
            images.add(image)
            need = need_of(image)
            if need is None:
                wrong.append(f"{workload.where}: {image}: no entry in image_needs.yaml")
                continue
            if c.body.get("command") is not None:
                continue  # not the image's entrypoint
            wrong += [f"{workload.where}: {workload.obj.display} {c.label} ({image}): {text}"
                      for text in problems(pod, c, need)]
    return wrong, images


def test_every_source_is_cited():
    for need in NEEDS:
        assert need["source"].strip(), need["image"]


def test_the_example_stacks_meet_their_images_needs():
    wrong, images = _checked(_from_stacks())
    assert wrong == []
    assert any(i.startswith("postgres:") for i in images) and any(
        i.startswith("redis:") for i in images)


def test_the_readme_tour_meets_its_images_needs():
    wrong, images = _checked(_from_readme())
    assert wrong == []
    assert any(i.startswith("postgres:16.4@") for i in images)


def test_the_docs_examples_meet_their_images_needs(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    wrong, images = _checked(_from_docs())
    assert wrong == []
    assert len(images) > 5


# -- the checker itself: each need fails a pod that lacks it -----------------------------------

def _pod(**changes: Any) -> PodView:
    container = {"name": "db", "image": "postgres:16.4-alpine",
                 "env": [{"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
                         {"name": "POSTGRES_PASSWORD_FILE", "value": "/run/secrets/pw"}],
                 "securityContext": {"readOnlyRootFilesystem": True},
                 "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                                  {"name": "run", "mountPath": "/var/run/postgresql"},
                                  {"name": "data", "mountPath": "/var/lib/postgresql/data"}]}
    spec = {"securityContext": {"runAsUser": 70, "runAsGroup": 70, "fsGroup": 70},
            "containers": [container],
            "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "run", "emptyDir": {}}]}
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"template": {"spec": spec},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}}]}}
    for path, value in changes.items():
        node: Any = body
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is None:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    view = pod_view(ManifestObject(body))
    assert view is not None
    return view


C0 = "spec.template.spec.containers.0"


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"spec.template.spec.securityContext.runAsUser": 10001}, ["runs as uid 10001"]),
    ({"spec.template.spec.securityContext.fsGroup": 10001}, ["fsGroup 10001"]),
    ({f"{C0}.volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]},
     ["writes /var/run/postgresql", "writes /tmp"]),
    ({f"{C0}.env": [{"name": "POSTGRES_PASSWORD_FILE", "value": "/p"},
                    {"name": "PGDATA", "value": "/var/lib/postgresql/data"}]},
     ["PGDATA='/var/lib/postgresql/data' must be a folder below"]),
    ({f"{C0}.env": [{"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}]},
     ["needs one of the env vars"]),
])
def test_the_checker_finds_what_a_pod_lacks(changes: dict[str, Any], expected: list[str]):
    pod = _pod(**changes)
    (container,) = pod.containers()
    need = need_of("postgres:16.4-alpine")
    assert need is not None and need["uid"] == 70
    found = list(problems(pod, container, need))
    assert len(found) == len(expected) and all(
        text.startswith(start) or start in text for text, start in zip(found, expected,
                                                                        strict=True)), found


def test_variants_and_unknown_images():
    assert need_of("postgres:16.4@sha256:" + "ab" * 32)["uid"] == 999  # type: ignore[index]
    assert need_of("redis:7.4.1-alpine")["gid"] == 1000  # type: ignore[index]
    assert need_of("docker.io/library/mysql:8.4") is None
