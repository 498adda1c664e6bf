"""Ownership and pruning: kubegen removes only what it wrote, never touches hand-made files,
does not rewrite unchanged files, and leaves output untouched when a render fails.
"""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reliability_support import (
    inodes,
    leftovers,
    make_project,
    run_kubegen,
    snapshot,
    write_stack,
)

from kubegen import ConfigMap, OutputError, Stack
from kubegen._files import tree as tree_module
from kubegen._files.diff import unified_diff
from kubegen._files.tree import compare
from kubegen._files.writer import read_env, write_env
from kubegen._render.files import render_files
from kubegen._render.layout import HEADER, KUSTOMIZATION


def _rendered(objects: dict[tuple[str, str], str]) -> dict[str, bytes]:
    """Render ConfigMaps keyed by (namespace, name) holding the given text."""
    stack = Stack("own", create_namespace=False)
    for (namespace, name), text in sorted(objects.items()):
        stack.add(ConfigMap(name, namespace=namespace, data={"text": text}))
    return render_files(stack.objects())


def test_prune_removes_the_file_and_the_folders_it_leaves_empty(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered({("a", "one"): "1", ("b", "two"): "2", ("b", "three"): "3"}))
    changes = write_env(env_dir, _rendered({("b", "two"): "2"}))
    assert sorted(changes.removed) == ["a/configmap-one.yaml", "b/configmap-three.yaml"]
    assert changes.unchanged == ["b/configmap-two.yaml"]
    assert sorted(snapshot(env_dir)) == ["b/configmap-two.yaml", KUSTOMIZATION]
    assert not (env_dir / "a").exists()


def test_hand_made_files_are_never_deleted(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered({("a", "one"): "1"}))
    (env_dir / "a" / "notes.md").write_text("my notes\n")
    (env_dir / "a" / "configmap-zzz.yaml").write_text("kind: ConfigMap  # hand-made\n")
    (env_dir / "empty-by-hand").mkdir()
    write_env(env_dir, _rendered({("b", "two"): "2"}))  # everything kubegen wrote in a/ goes
    assert (env_dir / "a" / "notes.md").read_text() == "my notes\n"
    assert (env_dir / "a" / "configmap-zzz.yaml").read_text() == "kind: ConfigMap  # hand-made\n"
    assert (env_dir / "empty-by-hand").is_dir()
    assert not (env_dir / "a" / "configmap-one.yaml").exists()


def test_object_rendering_onto_a_hand_made_file_is_refused(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered({("a", "one"): "1"}))
    (env_dir / "a" / "configmap-two.yaml").write_text("hand-made\n")
    before, marks = snapshot(env_dir), inodes(env_dir)
    with pytest.raises(OutputError) as caught:
        write_env(env_dir, _rendered({("a", "one"): "changed", ("a", "two"): "2"}))
    assert str(env_dir / "a" / "configmap-two.yaml") in str(caught.value)
    assert "did not write" in str(caught.value)
    assert snapshot(env_dir) == before
    assert inodes(env_dir) == marks


def test_hand_made_file_where_a_folder_must_go_is_refused(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    env_dir.mkdir(parents=True)
    (env_dir / "a").write_text("a file named like a namespace\n")
    with pytest.raises(OutputError, match="did not write"):
        write_env(env_dir, _rendered({("a", "one"): "1"}))
    assert snapshot(env_dir) == {"a": b"a file named like a namespace\n"}


def test_unchanged_files_keep_inode_and_mtime(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    objects = {("a", f"cm-{i}"): str(i) for i in range(5)}
    write_env(env_dir, _rendered(objects))
    marks = inodes(env_dir)
    write_env(env_dir, _rendered(objects))  # nothing changed: nothing touched at all
    assert inodes(env_dir) == marks
    objects[("a", "cm-0")] = "changed"
    changes = write_env(env_dir, _rendered(objects))
    assert changes.changed == ["a/configmap-cm-0.yaml"]
    after = inodes(env_dir)
    for path in [f"a/configmap-cm-{i}.yaml" for i in range(1, 5)]:
        assert after[path] == marks[path]
    assert after["a/configmap-cm-0.yaml"] != marks["a/configmap-cm-0.yaml"]


def test_fifo_in_output_is_foreign_and_never_opened(tmp_path):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered({("a", "one"): "1"}))
    os.mkfifo(env_dir / "a" / "pipe")
    os.mkfifo(env_dir / "a" / "configmap-two.yaml")
    outcome: list[object] = []

    def render() -> None:
        try:
            outcome.append(write_env(env_dir, _rendered({("a", "x"): "x"})))
        except Exception as exc:  # reported below
            outcome.append(exc)

    worker = threading.Thread(target=render, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "scan blocked on a FIFO"
    [changes] = outcome
    assert not isinstance(changes, Exception), changes
    assert (env_dir / "a" / "pipe").is_fifo()
    assert (env_dir / "a" / "configmap-two.yaml").is_fifo()
    with pytest.raises(OutputError, match="did not write"):
        write_env(env_dir, _rendered({("a", "two"): "2"}))


def test_unreadable_file_is_a_clear_error(tmp_path, monkeypatch):
    env_dir = tmp_path / "output" / "dev"
    write_env(env_dir, _rendered({("a", "one"): "1"}))
    real_open = os.open

    def deny(path, *args, **kwargs):
        if str(path).endswith("configmap-one.yaml"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(tree_module.os, "open", deny)
    with pytest.raises(OutputError, match="Permission denied") as caught:
        write_env(env_dir, _rendered({("a", "two"): "2"}))
    assert "configmap-one.yaml" in str(caught.value)


def test_check_sees_what_render_would_do_and_never_writes(tmp_path):
    project = make_project(tmp_path / "proj")
    write_stack(project, "dev", _STACK.format(names=["one", "two"], fail=False))
    assert run_kubegen("render", "stacks/dev", cwd=project).returncode == 0
    write_stack(project, "dev", _STACK.format(names=["two", "three"], fail=False))
    env_dir = project / "output" / "dev"
    before, marks = snapshot(env_dir), inodes(env_dir)
    checked = run_kubegen("check", "stacks/dev", cwd=project)
    assert checked.returncode == 1, checked.stderr
    assert "+++ b/" in checked.stdout and "configmap-three.yaml" in checked.stdout
    assert "--- a/" in checked.stdout and "configmap-one.yaml" in checked.stdout
    assert snapshot(env_dir) == before and inodes(env_dir) == marks
    assert run_kubegen("diff", "stacks/dev", cwd=project).returncode == 0
    assert snapshot(env_dir) == before and inodes(env_dir) == marks


_STACK = """
from kubegen import ConfigMap, Stack

def build():
    stack = Stack("dev", namespace="dev")
    for name in {names!r}:
        stack.add(ConfigMap(name, data={{"name": name}}))
    if {fail!r}:
        raise RuntimeError("the stack broke after adding objects")
    return stack
"""


def test_exception_after_adding_objects_leaves_output_untouched(tmp_path):
    project = make_project(tmp_path / "proj")
    write_stack(project, "dev", _STACK.format(names=["one", "two"], fail=False))
    assert run_kubegen("render", "stacks/dev", cwd=project).returncode == 0
    (project / "output" / "dev" / "notes.md").write_text("hand-made\n")
    before, marks = snapshot(project / "output"), inodes(project / "output")
    write_stack(project, "dev", _STACK.format(names=["three", "four", "five"], fail=True))
    failed = run_kubegen("render", "stacks/dev", cwd=project)
    assert failed.returncode == 2
    assert "the stack broke after adding objects" in failed.stderr
    assert snapshot(project / "output") == before
    assert inodes(project / "output") == marks
    assert leftovers(project / "output") == []


# --- the invariants over random sequences of renders ---------------------------------------------

object_sets = st.dictionaries(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.sampled_from(["p", "q", "r", "s"])),
    st.sampled_from(["1", "2"]),
    max_size=6,
)
foreign_files = st.dictionaries(
    st.sampled_from(["a/notes.md", "b/configmap-q.yaml", "readme.txt", "c/deep/x.txt", "d/y"]),
    st.sampled_from([b"mine\n", b"# not the header\n", b""]),
    max_size=3,
)


@settings(max_examples=40)
@given(steps=st.lists(st.tuples(object_sets, foreign_files), min_size=1, max_size=4))
def test_render_sequences_keep_every_invariant(tmp_path_factory, steps):
    env_dir = tmp_path_factory.mktemp("seq") / "output" / "dev"
    foreign: dict[str, bytes] = {}
    for objects, new_foreign in steps:
        for rel, data in new_foreign.items():
            path = env_dir / rel
            if rel in foreign or path.exists() or _blocked(env_dir, rel):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            foreign[rel] = data
        rendered = _rendered(objects)
        before = snapshot(env_dir)
        marks = inodes(env_dir) if env_dir.exists() else {}
        try:
            changes = write_env(env_dir, rendered)
        except OutputError as exc:
            clash = [
                p for p in rendered if p in foreign or any(p.startswith(f + "/") for f in foreign)
            ]
            owned_before = any(
                isinstance(v, bytes) and v.startswith(HEADER.encode()) for v in before.values()
            )
            adopting = foreign and not owned_before and "not an output folder" in str(exc)
            assert clash or adopting, f"refused without a reason: {exc}"
            assert snapshot(env_dir) == before
            continue
        after = snapshot(env_dir)
        owned = {
            k: v for k, v in after.items() if isinstance(v, bytes) and v.startswith(HEADER.encode())
        }
        assert owned == rendered
        assert {k: after[k] for k in foreign} == foreign
        empty = {k for k, v in after.items() if v == ("dir",)}
        assert empty == set(), f"folders left empty: {empty}"
        for path in changes.unchanged:
            assert inodes(env_dir)[path] == marks[path]
        for path in foreign:
            assert inodes(env_dir)[path][0] == marks.get(path, inodes(env_dir)[path])[0]
        old_owned = {
            k for k, v in before.items() if isinstance(v, bytes) and v.startswith(HEADER.encode())
        }
        assert set(changes.removed) == old_owned - set(rendered)
        assert set(changes.created) == set(rendered) - old_owned
        tree = read_env(env_dir)
        assert not compare(tree, rendered, env_dir).any
        assert unified_diff("dev", tree, rendered, compare(tree, rendered, env_dir)) == ""


def _blocked(env_dir: Path, rel: str) -> bool:
    """A foreign file cannot be created where a folder or file is in the way."""
    parts = rel.split("/")
    return any((env_dir / "/".join(parts[:i])).is_file() for i in range(1, len(parts)))


def test_files_checked_out_with_crlf_line_endings_are_still_kubegens(tmp_path):
    """``core.autocrlf`` (git on Windows) or an editor turns ``\\n`` into ``\\r\\n``: the files
    are still kubegen's, so check reports them as changed and render rewrites them as they
    were, rather than refusing them as hand-made."""
    env_dir = tmp_path / "output" / "dev"
    rendered = _rendered({("a", "one"): "1", ("a", "two"): "2"})
    write_env(env_dir, rendered)
    for rel in ("a/configmap-one.yaml", KUSTOMIZATION):
        path = env_dir / rel
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert sorted(compare(read_env(env_dir), rendered, env_dir).changed) == [
        "a/configmap-one.yaml", KUSTOMIZATION,
    ]  # fmt: skip
    changes = write_env(env_dir, rendered)
    assert sorted(changes.changed) == ["a/configmap-one.yaml", KUSTOMIZATION]
    assert snapshot(env_dir) == rendered
