"""Helpers shared by the reliability tests: projects on disk, subprocess runs, tree snapshots,
hostile text, and the exact round-trip oracle.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml
from hypothesis import settings
from hypothesis import strategies as st

from kubegen._render.layout import HEADER, KUSTOMIZATION

REPO = Path(__file__).resolve().parents[1]
LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if hasattr(yaml, "CSafeLoader") else [])


def budget(ci: int, long: int) -> int:
    """``ci`` under the default profile, ``long`` under ``--hypothesis-profile=long``."""
    return long if settings.default.max_examples > 100 else ci


# --- projects and processes -------------------------------------------------------------------


def make_project(root: Path) -> Path:
    """A project folder (pyproject.toml with ``[tool.kubegen]``) with an empty stacks/."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.kubegen]\noutput = "output"\n')
    (root / "stacks").mkdir(exist_ok=True)
    return root


def write_stack(project: Path, name: str, source: str) -> Path:
    """Write ``stacks/<name>/__init__.py`` holding ``source`` (dedented); return the folder."""
    folder = project / "stacks" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text(textwrap.dedent(source))
    # Python keys a module's bytecode cache on its mtime in whole seconds and its size: a test
    # rewriting a module with text of the same length within a second would run the old code.
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)
    return folder


def kubegen_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def kubegen_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kubegen", *args]


def run_kubegen(
    *args: str, cwd: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *kubegen_cmd(*args)],
        cwd=cwd,
        env=env or kubegen_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# --- trees on disk -----------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, Any]:
    """Every entry under ``root``: file bytes, ``("link", target)`` or ``("dir",)`` if empty."""
    out: dict[str, Any] = {}
    if not root.exists():
        return out
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        prefix = "" if rel == "." else rel + "/"
        for name in list(dirs):
            if os.path.islink(os.path.join(folder, name)):
                out[prefix + name] = ("link", os.readlink(os.path.join(folder, name)))
        if not dirs and not files and prefix:
            out[prefix.rstrip("/")] = ("dir",)
        for name in files:
            full = os.path.join(folder, name)
            if os.path.islink(full):
                out[prefix + name] = ("link", os.readlink(full))
            else:
                out[prefix + name] = Path(full).read_bytes()
    return out


def inodes(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every regular file under ``root``."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            st_ = path.stat()
            found[path.relative_to(root).as_posix()] = (st_.st_ino, st_.st_mtime_ns)
    return found


def leftovers(output: Path) -> list[str]:
    """What a write left beside the env folders (transaction or 0.1 swap folders)."""
    return (
        sorted(p.name for p in output.iterdir() if ".kubegen-" in p.name) if output.exists() else []
    )


def force_portable(monkeypatch: Any) -> None:
    """Make the writer take its portable path (no ``renameat2``), as on macOS or a filesystem
    without ``RENAME_EXCHANGE``/``RENAME_NOREPLACE``: subprocesses inherit it too."""
    from kubegen._files import fsops

    monkeypatch.setenv("KUBEGEN_RENAMEAT2", "0")
    monkeypatch.setattr(fsops, "_renameat2", False)


PLATFORM_PATHS = ("renameat2", "portable")


def platform_path(monkeypatch: Any, name: str) -> None:
    """Select one of :data:`PLATFORM_PATHS` for this test."""
    from kubegen._files import fsops

    if name == "portable":
        force_portable(monkeypatch)
        return
    monkeypatch.delenv("KUBEGEN_RENAMEAT2", raising=False)
    monkeypatch.setattr(fsops, "_renameat2", None)
    if not fsops._libc_renameat2():
        import pytest

        pytest.skip("this system's libc has no renameat2: only the portable path exists here")


# --- hostile values ----------------------------------------------------------------------------

SPECIALS = [
    "",
    " ",
    "  x",
    "x  ",
    " x ",
    "\t",
    "\tx",
    "x\t",
    "\n",
    "x\n",
    "\nx",
    "\n\n",
    "a\nb",
    "a\n\nb\n",
    "\r",
    "\r\n",
    "a\rb",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\ufeffx",
    "\x85",
    "\u2028",
    "\u2029",
    "\x7f",
    "\x1b[31m",
    "\x9f",
    "\x08",
    "\x0b",
    "\x0c",
    "---",
    "--- x",
    "...",
    "... x",
    "x\n---\ny: 1",
    "x\n...\n",
    "---\n",
    "#",
    "#x",
    " #x",
    "a #b",
    "a#b",
    ": ",
    "a: b",
    "a:b",
    "a:",
    ":a",
    "- ",
    "- a",
    "-",
    "? a",
    "?",
    "&a",
    "*a",
    "!a",
    "!!str x",
    "!!binary",
    "%YAML 1.1",
    "%",
    "@x",
    "`x",
    "|",
    "|-",
    ">",
    ">+",
    "'",
    "''",
    '"',
    '""',
    "\\",
    "\\n",
    "{",
    "}",
    "[",
    "]",
    "{a: b}",
    "[a, b]",
    ",",
    "a, b",
    "<<",
    "=",
    "~",
    "null",
    "Null",
    "NULL",
    "true",
    "True",
    "TRUE",
    "false",
    "yes",
    "Yes",
    "YES",
    "no",
    "No",
    "on",
    "On",
    "ON",
    "off",
    "Off",
    "y",
    "Y",
    "n",
    "N",
    "0",
    "-0",
    "+1",
    "1",
    "0755",
    "0o17",
    "0x1F",
    "0b101",
    "1e3",
    "1E3",
    "-1e-3",
    "1_000",
    "12:30",
    "1:30:00",
    "190:20:30",
    "-12:30",
    ".inf",
    "-.inf",
    "+.inf",
    ".NaN",
    ".nan",
    "1.0",
    "1.",
    ".5",
    "2001-12-14",
    "2001-12-14t21:59:43.10-05:00",
    "é",
    "日本",
    "\U0001f600",
    "\u200b",
    "\u202e",
    "\ud7ff",
    "\ue000",
    "\ufffd",
    "\ufffe",
    "\uffff",
    "\U0010ffff",
    "\u00a0",
    "x\u00a0",
    "\u3000",
]

pieces = st.one_of(st.sampled_from(SPECIALS), st.text(max_size=6))
hostile_text = st.one_of(
    st.sampled_from(SPECIALS),
    st.text(),
    st.lists(pieces, min_size=2, max_size=8).map("".join),
    st.builds(
        lambda s, n: s * n, st.sampled_from([*SPECIALS[1:], "ab", "- x\n"]), st.integers(200, 5000)
    ),
)
dns_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


def mostly(
    valid: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Valid three times in four, so most examples get past validation to the emitter."""
    return st.sampled_from([True, True, True, False]).flatmap(lambda ok: valid if ok else hostile)


maybe_hostile_name = mostly(dns_label, hostile_text)


# --- the oracle --------------------------------------------------------------------------------


def strict_equal(a: Any, b: Any) -> bool:
    """Equal values of exactly the same types (``True != 1``, ``"1" != 1``, ``1 != 1.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(strict_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


class GoLikeLoader(yaml.SafeLoader):
    """PyYAML reading like go-yaml v2 (``sigs.k8s.io/yaml``), which Argo CD runs on what
    ``kustomize build`` prints: no ``=`` value or ``<<`` merge scalars, no timestamps, and a
    number that overflows int64 or float64 stays a string (Go's strconv fails, so it is not
    resolved as a number; kustomize, knowing that, prints such strings unquoted)."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        try:
            value = super().construct_yaml_int(node)
        except ValueError:  # beyond Python's digit limit for int(): far outside int64 too
            return self.construct_scalar(node)
        return value if -(2**63) <= value < 2**63 else self.construct_scalar(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        value = super().construct_yaml_float(node)
        text = str(self.construct_scalar(node))
        special = text.lower().lstrip("+-") in (".inf", ".nan")
        return value if math.isfinite(value) or special else text


GoLikeLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if not tag.endswith((":value", ":merge", ":timestamp"))
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
GoLikeLoader.add_constructor("tag:yaml.org,2002:int", GoLikeLoader.construct_yaml_int)
GoLikeLoader.add_constructor("tag:yaml.org,2002:float", GoLikeLoader.construct_yaml_float)
# go-yaml also reads an exponent without a dot as a float ("1e+20", how Go writes 1e20).
GoLikeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9]+[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def json_equal(a: Any, b: Any) -> bool:
    """Equal as JSON, which is what kustomize and the API server see: strings, booleans and
    nulls exactly (``True != 1``, ``"1" != 1``), numbers by value (``2 == 2.0``, ``-0.0 == 0``)."""
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return set(a) == set(b) and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def parse_documents(data: bytes, loader: Any = yaml.SafeLoader) -> list[Any]:
    """Decode as UTF-8 (which must work) and parse every YAML document in it."""
    return list(yaml.load_all(data.decode("utf-8"), Loader=loader))


def assert_plain_yaml(data: bytes) -> None:
    """No anchors, aliases or explicit tags: what reviewers and every YAML reader see plainly."""
    for event in yaml.parse(data.decode("utf-8"), Loader=yaml.SafeLoader):
        assert not isinstance(event, yaml.AliasEvent), "alias in output"
        assert getattr(event, "anchor", None) is None, f"anchor &{event.anchor} in output"
        assert getattr(event, "tag", None) is None, f"explicit tag {event.tag} in output"


def assert_round_trip(data: bytes, expected: Any) -> None:
    """The file is the header plus exactly one YAML document equal to ``expected``, strictly."""
    assert data.startswith(HEADER.encode()), data[:80]
    assert_plain_yaml(data)
    assert b"\r" not in data, "raw carriage return: line endings must be \\n"
    assert data.endswith(b"\n")
    for loader in LOADERS:
        docs = parse_documents(data, loader)
        assert len(docs) == 1, f"{len(docs)} documents ({loader.__name__})"
        assert strict_equal(docs[0], expected), (loader.__name__, docs[0], expected)


def assert_files_round_trip(files: dict[str, bytes], bodies: dict[str, Any]) -> None:
    """Every rendered object file parses back to its body; kustomization lists exactly them."""
    assert set(files) == {*bodies, KUSTOMIZATION}
    for path, body in bodies.items():
        assert_round_trip(files[path], body)
    listed = parse_documents(files[KUSTOMIZATION])[0]["resources"]
    assert listed == sorted(bodies)


# What Secret(allow_plaintext=...) renders, and a waiver of the policy rule KG801.
ALLOWS = ("kubegen.dev/opt-out-plaintext-secret", "kubegen.dev/waive-kg801")


# The API server's rules (k8s.io/apimachinery/pkg/util/validation), written out independently.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?")


def _qualified_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        return False
    return bool(_QUALIFIED_NAME.fullmatch(name))


def assert_api_server_accepts_metadata(doc: dict[str, Any]) -> None:
    """Name, namespace, label and annotation keys/values pass the API server's validation."""
    meta = doc["metadata"]
    assert len(meta["name"]) <= 253 and _DNS_SUBDOMAIN.fullmatch(meta["name"]), meta["name"]
    if "namespace" in meta:
        assert _DNS_LABEL.fullmatch(meta["namespace"]), meta["namespace"]
    for key, value in (meta.get("labels") or {}).items():
        assert _qualified_key(key) and _LABEL_VALUE.fullmatch(value), (key, value)
    notes = meta.get("annotations") or {}
    assert all(_qualified_key(key) for key in notes), list(notes)
    assert sum(len(k.encode()) + len(v.encode()) for k, v in notes.items()) <= 256 * 1024


def plaintext_secrets(documents: list[Any]) -> list[str]:
    """Names of Secrets (also inside Lists) with data or stringData and no explicit allow."""
    found = []
    for doc in documents:
        if not isinstance(doc, dict):
            continue
        items = doc.get("items") if doc.get("kind") == "List" else [doc]
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or item.get("kind") != "Secret":
                continue
            notes = (item.get("metadata") or {}).get("annotations") or {}
            allowed = any(str(notes.get(key, "")).strip() for key in ALLOWS)
            if (item.get("data") or item.get("stringData")) and not allowed:
                found.append(str(item.get("metadata", {}).get("name")))
    return found
