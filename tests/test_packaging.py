"""kubegen installs by its PyPI name, from a wheel or an sdist, into a clean environment.

The distribution is ``kubegen-stacks`` (``kubegen`` on PyPI is an unrelated 2020 project, so a
repository whose CI ran ``pip install kubegen`` would run someone else's code); the import name
and the command stay ``kubegen``. The slow test builds both archives with ``python -m build``,
installs each into a fresh venv and renders and checks a ``kubegen init`` scaffold with the
installed command; ``.ci/run`` also runs the test suite from the unpacked sdist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from email.parser import Parser
from pathlib import Path
from typing import Any

import pytest

import kubegen
from kubegen._cli.init import render_scaffold
from tests.helpers import REPO

DIST = "kubegen-stacks"
PYPROJECT: dict[str, Any] = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT: dict[str, Any] = PYPROJECT["project"]
PYTHONS = ("3.11", "3.12", "3.13", "3.14")
# Files `python -m build` adds to an sdist; everything else comes from the source tree.
GENERATED = re.compile(r"PKG-INFO|setup\.cfg|[^/]+\.egg-info/.*")


def test_distribution_name_is_not_the_unrelated_kubegen() -> None:
    assert PROJECT["name"] == DIST
    assert PROJECT["scripts"] == {"kubegen": "kubegen._cli.commands:run"}
    assert PROJECT["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "kubegen.__version__"}


def test_license_is_a_pep_639_expression_with_its_file() -> None:
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    # PEP 639: a license expression replaces the License :: classifiers (setuptools refuses both)
    assert not [c for c in PROJECT["classifiers"] if c.startswith("License ::")]
    # setuptools reads `license = "<SPDX>"` and `license-files` from 77.0.0 (fixed in 77.0.3)
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77.0.3"]


def test_classifiers_and_urls_describe_the_project() -> None:
    classifiers = set(PROJECT["classifiers"])
    assert {f"Programming Language :: Python :: {v}" for v in PYTHONS} <= classifiers
    assert PROJECT["requires-python"] == f">={PYTHONS[0]}"
    assert {"Typing :: Typed", "Programming Language :: Python :: 3 :: Only"} <= classifiers
    assert (REPO / "kubegen" / "py.typed").is_file()
    urls = PROJECT["urls"]
    assert set(urls) == {"Homepage", "Documentation", "Repository", "Issues"}
    assert all(url.startswith(urls["Repository"]) for url in urls.values())


def test_scaffold_pins_the_version_that_made_it(tmp_path: Path) -> None:
    files = render_scaffold(tmp_path / "platform")
    pyproject = tomllib.loads(files["pyproject.toml"])
    assert pyproject["project"]["dependencies"] == [f"{DIST}=={kubegen.__version__}"]
    assert f"kubegen-stacks=={kubegen.__version__}" in files["README.md"]
    assert "https://pypi.org/project/kubegen-stacks/" in files["README.md"]


def _markdown_and_templates() -> dict[str, str]:
    paths = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    paths += sorted((REPO / "kubegen/_cli/scaffold").rglob("*.tmpl"))
    return {p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8") for p in paths}


_PIP_INSTALL = re.compile(r"pip install ([^\n&;|]*)")
# `kubegen`, `kubegen==0.1`, `'kubegen[x]>=1'`: what would fetch the unrelated project
_WRONG_NAME = re.compile(r"['\"]?kubegen(\[[^\]]*\])?([=<>!~][^\s'\"]*)?['\"]?")


def test_docs_install_kubegen_by_its_distribution_name() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "pip install kubegen-stacks\n" in readme
    assert f"`kubegen-stacks=={kubegen.__version__}`" in readme  # the version init pins today
    for name, text in _markdown_and_templates().items():
        for args in _PIP_INSTALL.findall(text):
            assert not [a for a in args.split() if _WRONG_NAME.fullmatch(a)], (name, args)
        assert "pypi.org/project/kubegen/" not in text, name


def _source_files() -> set[str]:
    """What the sdist must hold: the files git tracks, or in an unpacked sdist (no .git, and
    maybe build/ from installing it) the files its SOURCES.txt lists."""
    if (REPO / ".git").exists() and shutil.which("git"):
        command = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
        listed = subprocess.run(command, cwd=REPO, capture_output=True, check=True).stdout.decode()
        return {path for path in listed.split("\0") if path and (REPO / path).is_file()}
    (sources,) = REPO.glob("*.egg-info/SOURCES.txt")
    listed = sources.read_text(encoding="utf-8").splitlines()
    return {path for path in listed if path and not GENERATED.fullmatch(path)}


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A folder in memory when the host has one: a venv with kubernetes-validate's schemas is
    ~20,000 files, which this VM's disk creates 3-5 times slower than tmpfs."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="kubegen-packaging-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def built(scratch: Path) -> tuple[Path, Path]:
    """``python -m build`` (isolated, as a release would) of a copy of the source tree."""
    source = scratch / "source" / "kubegen"
    for rel in sorted(_source_files()):
        (source / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, source / rel)
    out = scratch / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "TMPDIR": str(scratch)},  # build's isolated environments
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


def _venv(folder: Path) -> Path:
    """A fresh venv without pip (this interpreter's pip installs into it: faster)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    return folder / ("Scripts" if os.name == "nt" else "bin")


def _pip_install(bin_dir: Path, *args: str) -> None:
    python = bin_dir / "python"
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    result = subprocess.run(
        [*command, "--no-compile", *args],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def _smoke(bin_dir: Path, work: Path) -> None:
    """`kubegen init`, render, check, from the installed command, outside the source tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(bin_dir), env.get("PATH", "")])
    kubegen_cmd = str(bin_dir / "kubegen")

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kubegen_cmd, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300, check=False)

    work.mkdir(parents=True, exist_ok=True)
    repo = work / "platform"
    for args, cwd in [
        (("init", str(repo)), work),
        (("render", "stacks/dev", "stacks/prod"), repo),
        (("check", "stacks/dev", "stacks/prod"), repo),
        (("lint", "stacks/dev", "stacks/prod", "--format", "sarif"), repo),
    ]:
        result = run(*args, cwd=cwd)
        assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-2000:])
    assert result.stdout.startswith("{")
    assert (repo / "output/prod/kustomization.yaml").is_file()
    probe = subprocess.run(
        [str(bin_dir / "python"), "-c",
         "import importlib.metadata as m, kubegen; d = m.distribution('kubegen-stacks'); "
         "print(d.version, kubegen.__version__, d.metadata['License-Expression'], "
         "kubegen.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    )
    version, module_version, license_expression, module_file = probe.stdout.split()
    assert version == module_version == kubegen.__version__
    assert license_expression == "Apache-2.0"
    assert not Path(module_file).is_relative_to(REPO)  # the installed copy, not this checkout


@pytest.mark.slow
def test_sdist_ships_every_source_file_and_its_metadata(built: tuple[Path, Path]) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = [m.name.split("/", 1)[1] for m in archive.getmembers() if m.isfile()]
        root = archive.getmembers()[0].name.split("/", 1)[0]
        info = archive.extractfile(f"{root}/PKG-INFO")
        assert info is not None
        metadata = Parser().parsestr(info.read().decode())
    shipped = {name for name in names if not GENERATED.fullmatch(name)}
    assert shipped == _source_files()  # tests read stacks/, docs/, output/, .github, bench/…
    assert metadata["Name"] == DIST and metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Version"] == kubegen.__version__


@pytest.mark.slow
def test_wheel_holds_the_package_data_and_the_license(built: tuple[Path, Path]) -> None:
    _, wheel = built
    names = set(zipfile.ZipFile(wheel).namelist())
    dist_info = f"kubegen_stacks-{kubegen.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names
    assert "kubegen/py.typed" in names
    scaffold = {n for n in names if n.startswith("kubegen/_cli/scaffold/")}
    assert len(scaffold) == len(list((REPO / "kubegen/_cli/scaffold").rglob("*.tmpl")))
    assert not [n for n in names if n.startswith(("tests/", "stacks/", "output/"))]


@pytest.mark.slow
def test_wheel_and_sdist_install_into_a_clean_venv_and_render_a_scaffold(
    built: tuple[Path, Path], scratch: Path
) -> None:
    sdist, wheel = built
    bin_dir = _venv(scratch / "venv")
    _pip_install(bin_dir, str(wheel))  # with its dependencies, from the index
    _smoke(bin_dir, scratch / "from-wheel")
    _pip_install(bin_dir, "--force-reinstall", "--no-deps", str(sdist))  # built from source
    _smoke(bin_dir, scratch / "from-sdist")
