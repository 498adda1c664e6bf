"""A render reads its env folder twice: without the lock during start-up (signed), and under the
lock before writing, where files whose signature is unchanged are taken from the first read
(:func:`kubegen._files.tree.scan`). Whatever happened in between, the second read must say what
a full read says."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kubegen._files.tree import EnvTree, scan
from kubegen._files.writer import write_env
from kubegen._render.layout import HEADER

SECOND = 1_000_000_000


def _files(count: int = 4) -> dict[str, bytes]:
    return {
        f"shop/configmap-c{i}.yaml": (HEADER + f"kind: ConfigMap\nname: c{i}\n").encode()
        for i in range(count)
    }


def _folder(tmp_path: Path) -> Path:
    env_dir = tmp_path / "output" / "prod"
    write_env(env_dir, _files())
    return env_dir


def _later(tree: EnvTree) -> EnvTree:
    """``tree`` as if it had been read two seconds later: its files' last changes are then
    old enough to be trusted (see scan's racily-clean rule)."""
    tree.read_at += 2 * SECOND
    return tree


def _marked(tree: EnvTree) -> EnvTree:
    """``tree`` with every file's bytes replaced by a marker, to see which ones are taken."""
    tree.owned = {path: b"FROM-THE-FIRST-READ " + path.encode() for path in tree.owned}
    return tree


def _plain(tree: EnvTree) -> tuple[object, ...]:
    return (tree.owned, tree.foreign, tree.foreign_links, tree.empty_dirs, tree.exists)


def test_a_signed_scan_records_each_owned_file_and_reads_the_same(tmp_path: Path) -> None:
    env_dir = _folder(tmp_path)
    (env_dir / "notes.txt").write_text("mine")
    before = time.time_ns()
    signed = scan(env_dir, signed=True)
    assert _plain(signed) == _plain(scan(env_dir))
    assert set(signed.signatures) == set(signed.owned)  # not the foreign notes.txt
    assert before <= signed.read_at <= time.time_ns()
    st = os.lstat(env_dir / "shop" / "configmap-c0.yaml")
    assert signed.signatures["shop/configmap-c0.yaml"] == (
        st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def test_unchanged_files_are_taken_from_the_first_read(tmp_path: Path) -> None:
    env_dir = _folder(tmp_path)
    known = _marked(_later(scan(env_dir, signed=True)))
    again = scan(env_dir, known=known)
    assert again.owned == known.owned  # every file taken, none read


def test_files_changed_just_before_the_first_read_are_read_again(tmp_path: Path) -> None:
    env_dir = _folder(tmp_path)
    known = _marked(scan(env_dir, signed=True))  # written this very second: racily clean
    assert scan(env_dir, known=known).owned == scan(env_dir).owned


@pytest.mark.parametrize("change", ["edit", "same-size-edit", "replace", "delete", "foreign"])
def test_what_changed_after_the_first_read_is_read_again(tmp_path: Path, change: str) -> None:
    env_dir = _folder(tmp_path)
    known = _marked(_later(scan(env_dir, signed=True)))
    target = env_dir / "shop" / "configmap-c1.yaml"
    old = target.read_bytes()
    st = os.lstat(target)
    if change == "edit":
        target.write_bytes(old + b"extra: 1\n")
    elif change == "same-size-edit":  # mtime set back as well: ctime still moves
        target.write_bytes(old.replace(b"c1", b"x1"))
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif change == "replace":  # another file of the same size and mtime under the name
        spare = target.with_name("spare")
        spare.write_bytes(old.replace(b"c1", b"y1"))
        os.utime(spare, ns=(st.st_atime_ns, st.st_mtime_ns))
        os.replace(spare, target)
    elif change == "delete":
        target.unlink()
    else:  # the user's own file in its place: the header gone
        target.write_bytes(b"# mine\n" + old[len(HEADER):])
    full = scan(env_dir)
    again = scan(env_dir, known=known)
    assert _plain(again)[1:] == _plain(full)[1:]
    rel = "shop/configmap-c1.yaml"
    assert again.owned.get(rel) == full.owned.get(rel)
    assert (rel in again.foreign) == (change == "foreign")
    others = {p: d for p, d in again.owned.items() if p != rel}
    assert others == {p: d for p, d in known.owned.items() if p != rel}
