"""Path safety: no name, namespace or kind makes kubegen write or delete outside output/<env>."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from reliability_support import hostile_text, snapshot

from kubegen import ConfigMap, KubegenError, Manifest, OutputError, Resource, Stack
from kubegen._files.writer import read_env, write_env
from kubegen._manifests import ManifestObject
from kubegen._render.files import render_files
from kubegen._render.layout import HEADER

TRAVERSALS = [
    "..", "../x", "../../etc/passwd", "/etc/passwd", "/", "a/b", "a/../b", ".", "./x", "~",
    "x/..", "..\\x", "C:\\x", "a\x00b", "\u2024\u2024", "%2e%2e", "\u2215etc", "-", "_cluster/../x",
]  # fmt: skip
part = st.one_of(st.sampled_from(TRAVERSALS), hostile_text)


def _outside_world(tmp: Path) -> Path:
    """A folder beside the output with files a traversal would hit."""
    victim = tmp / "victim"
    (victim / "etc").mkdir(parents=True)
    (victim / "etc" / "passwd").write_text("root:x:0:0\n")
    return victim


def _render_and_write(objects: list[ManifestObject], env_dir: Path) -> None:
    write_env(env_dir, render_files(objects))


def _assert_inside(tmp: Path, env_dir: Path, before: dict[str, Any]) -> None:
    """Everything outside ``env_dir`` (and the output folder's lock) is as it was."""
    after = snapshot(tmp)
    prefix = env_dir.relative_to(tmp).as_posix() + "/"
    assert {k: v for k, v in after.items() if not k.startswith(prefix)} == {
        k: v for k, v in before.items() if not k.startswith(prefix)
    }


@given(kind=part, name=part, namespace=st.one_of(st.none(), part))
def test_manifest_identity_cannot_escape(tmp_path_factory, kind, name, namespace):
    tmp = tmp_path_factory.mktemp("paths")
    _outside_world(tmp)
    env_dir = tmp / "out" / "output" / "dev"
    before = snapshot(tmp)
    meta = {"name": name} if namespace is None else {"name": name, "namespace": namespace}
    stack = Stack("dev", namespace="dev")
    try:
        stack.add(Manifest({"apiVersion": "v1", "kind": kind, "metadata": meta}))
        _render_and_write(stack.objects(), env_dir)
    except KubegenError:
        assert snapshot(tmp) == before
        return
    _assert_inside(tmp, env_dir, before)


class _Raw(Resource):
    """A user-written resource that returns whatever body it was given (no validation)."""

    kind = "Raw"
    api_version = "v1"
    raw: dict[str, Any]

    def manifests(self) -> list[ManifestObject]:
        return [self.manifest(self.raw)]


@given(kind=part, name=part, namespace=st.one_of(st.none(), part))
def test_unvalidated_objects_cannot_escape(tmp_path_factory, kind, name, namespace):
    """Even an object no builder validated (a user's Resource subclass) is caught at render."""
    tmp = tmp_path_factory.mktemp("raw")
    _outside_world(tmp)
    env_dir = tmp / "out" / "output" / "dev"
    before = snapshot(tmp)
    meta = {"name": name, "namespace": namespace}
    stack = Stack("dev", namespace="dev", create_namespace=False)
    stack.add(_Raw("raw", raw={"apiVersion": "v1", "kind": kind, "metadata": meta}))
    try:
        _render_and_write(stack.objects(), env_dir)
    except KubegenError:
        assert snapshot(tmp) == before
        return
    _assert_inside(tmp, env_dir, before)
    for path in snapshot(env_dir):
        assert ".." not in path.split("/")


def _rendered(*names: str) -> dict[str, bytes]:
    stack = Stack("dev", namespace="dev")
    for name in names:
        stack.add(ConfigMap(name, data={"k": name}))
    return render_files(stack.objects())


def test_env_folder_that_is_a_symlink_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n")
    output = tmp_path / "output"
    output.mkdir()
    (output / "dev").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="symlink"):
        write_env(output / "dev", _rendered("a"))
    with pytest.raises(OutputError, match="symlink"):
        read_env(output / "dev")
    assert snapshot(elsewhere) == {"keep.txt": b"mine\n"}
    assert os.readlink(output / "dev") == str(elsewhere)


def test_symlinked_folder_inside_env_is_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered("a"))
    (env_dir / "other").symlink_to(elsewhere)  # a foreign link: kept, never followed
    write_env(env_dir, _rendered("b"))
    assert os.readlink(env_dir / "other") == str(elsewhere)
    assert list(elsewhere.iterdir()) == []
    # now the rendered namespace folder itself is a link to elsewhere: refused
    rendered = _rendered("c")
    (env_dir / "dev").rename(tmp_path / "moved")
    (env_dir / "dev").symlink_to(elsewhere)
    with pytest.raises(OutputError, match="symlink") as caught:
        write_env(env_dir, rendered)
    assert str(env_dir / "dev") in str(caught.value)
    assert list(elsewhere.iterdir()) == []


def test_symlinked_file_is_never_overwritten_or_followed(tmp_path):
    target = tmp_path / "precious.yaml"
    target.write_bytes(HEADER.encode() + b"kind: Precious\n")  # looks owned, but is elsewhere
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered("a"))
    link = env_dir / "dev" / "configmap-b.yaml"
    link.symlink_to(target)
    with pytest.raises(OutputError, match="symlink"):
        write_env(env_dir, _rendered("a", "b"))
    # not rendered: the link is kept as it is, not pruned, and its target untouched
    write_env(env_dir, _rendered("c"))
    assert os.readlink(link) == str(target)
    assert target.read_bytes() == HEADER.encode() + b"kind: Precious\n"


@pytest.mark.parametrize("what", ["new", "old"])
@pytest.mark.parametrize("shape", ["symlink", "file"])
def test_reserved_names_are_refused_not_followed(tmp_path, what, shape):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine\n")
    output = tmp_path / "output"
    write_env(output / "dev", _rendered("a"))
    before = snapshot(output / "dev")
    planted = output / f".dev.kubegen-{what}"
    if shape == "symlink":
        planted.symlink_to(elsewhere)
    else:
        planted.write_text("not kubegen's\n")
    with pytest.raises(OutputError, match="reserved"):
        write_env(output / "dev", _rendered("b"))
    assert snapshot(output / "dev") == before
    assert snapshot(elsewhere) == {"keep.txt": b"mine\n"}
    assert os.path.lexists(planted)


@pytest.mark.parametrize("target", ["cwd", "parent-of-cwd", "home", "repo-root", "project-root"])
def test_output_folder_that_holds_other_things_is_refused(tmp_path, monkeypatch, target):
    """``--out .``, ``--out ~``, ``--out <repo>``: a render replaces the whole folder, so never."""
    home, work = tmp_path / "home", tmp_path / "home" / "work"
    (work / "src").mkdir(parents=True)
    (work / "src" / "main.py").write_text("print('mine')\n")
    (home / ".bashrc").write_text("export X=1\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    folder = {
        "cwd": work,
        "parent-of-cwd": home,
        "home": home,
        "repo-root": tmp_path / "repo",
        "project-root": tmp_path / "project",
    }[target]
    folder.mkdir(exist_ok=True)
    (tmp_path / "repo" / ".git").mkdir(parents=True, exist_ok=True)
    (tmp_path / "project").mkdir(exist_ok=True)
    (tmp_path / "project" / "pyproject.toml").write_text("[project]\n")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="refusing to use"):
        write_env(folder, _rendered("a"))
    assert snapshot(tmp_path) == before


def test_existing_folder_without_kubegen_files_is_not_adopted(tmp_path):
    folder = tmp_path / "someone-elses"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "data.txt").write_text("keep\n")
    before = snapshot(tmp_path)
    with pytest.raises(OutputError, match="not an output folder"):
        write_env(folder, _rendered("a"))
    assert snapshot(tmp_path) == before
    write_env(tmp_path / "fresh", _rendered("a"))  # a new or empty folder is fine
    (tmp_path / "empty").mkdir()
    write_env(tmp_path / "empty", _rendered("a"))
    assert sorted(snapshot(tmp_path / "empty")) == sorted(snapshot(tmp_path / "fresh"))
