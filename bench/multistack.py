"""Whole-process benchmark of a fleet-sized repository: many stacks rendered and checked at once.

The fleet case of issue 20 (20 clusters x 3 environments x 100 services) as plain stacks:
``--clusters`` x ``--envs`` stack packages (``stacks/c00-dev`` ... ``stacks/c19-prod``), each
``--services`` services of ``bench/run.py`` (a hardened Deployment with probes and resources, its
ServiceAccount and PodDisruptionBudget, a mounted ConfigMap, a Service from ``expose()``, a
``connect_to`` the next service: 7 objects per service, 3 more per stack) in a namespace of its
own, each rendering into ``output/<stack>``. One ``kubegen`` process renders or checks them all,
as a repository's CI does:

* ``render`` of every stack into an empty output folder (deleted just before),
* ``render`` again with nothing changed,
* ``check`` of every stack.

Reported: median wall and CPU (user + system) seconds over ``--runs``, the best run, peak RSS,
and the objects and files. (The fleet GitOps issue adds ``bench/fleet.py`` with clusters and
ApplicationSets; this one needs nothing but stacks.)

Run from the repository root (stdlib only)::

    python bench/multistack.py                                   # 20 x 3 x 100: 42,180 objects
    python bench/multistack.py --clusters 2 --services 10 --runs 1   # a quick look
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # bench/ is not a package: its folder on the path
    OBJECTS_PER_SERVICE,
    STACK_TEMPLATE,
    Run,
    expect,
    kubegen,
    measure,
)

ENVS = ("dev", "staging", "prod")


def make_repository(parent: Path, clusters: int, envs: tuple[str, ...], services: int) -> list[str]:
    """A project with one stack package per (cluster, env); returns the stack paths."""
    project = parent / "fleet"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[project]\nname = "fleet"\nversion = "0"\n\n[tool.kubegen]\noutput = "output"\n'
    )
    paths = []
    for cluster in range(clusters):
        for env in envs:
            name = f"c{cluster:02d}-{env}"
            package = project / "stacks" / name
            package.mkdir(parents=True)
            text = STACK_TEMPLATE.format(n=services, changed=0).replace(
                'Stack("bench", namespace="bench")', f'Stack("{name}", namespace="{name}")'
            )
            if name not in text:
                sys.exit("bench/run.py's stack template changed: update bench/multistack.py")
            (package / "__init__.py").write_text(text)
            paths.append(f"stacks/{name}")
    return paths


def summary(name: str, runs: list[Run]) -> str:
    wall = statistics.median(r.seconds for r in runs)
    cpu = statistics.median(r.cpu for r in runs)
    best = min(r.seconds for r in runs)
    rss = max(r.rss_mb for r in runs)
    return f"| {name} | {wall:.2f} | {best:.2f} | {cpu:.2f} | {rss:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20, help="clusters (default: 20)")
    parser.add_argument("--envs", type=int, default=3, choices=(1, 2, 3), help="(default: 3)")
    parser.add_argument("--services", type=int, default=100, help="per stack (default: 100)")
    parser.add_argument("--runs", type=int, default=3, help="runs per command (default: 3)")
    args = parser.parse_args()
    parent = Path(tempfile.mkdtemp(prefix="kubegen-multistack-"))
    try:
        paths = make_repository(parent, args.clusters, ENVS[: args.envs], args.services)
        project = parent / "fleet"
        render, check = kubegen("render", *paths), kubegen("check", *paths)
        expect(measure(render, project), "warm-up render", r"created")  # writes the .pyc files
        runs: dict[str, list[Run]] = {"render, empty folder": [], "render, unchanged": [],
                                      "check": []}
        for _ in range(args.runs):
            shutil.rmtree(project / "output")
            run = measure(render, project)
            expect(run, "render", r"created, 0 changed, 0 removed, 0 unchanged")
            runs["render, empty folder"].append(run)
            run = measure(render, project)
            expect(run, "unchanged render", r"0 created, 0 changed, 0 removed, \d+ unchanged")
            runs["render, unchanged"].append(run)
            run = measure(check, project)
            expect(run, "check", rf"up to date: {len(paths)} stacks")
            runs["check"].append(run)
        files = [p for p in (project / "output").rglob("*") if p.is_file()]
        objects = len(files) - len(paths)  # one kustomization.yaml per stack
        expected = len(paths) * (OBJECTS_PER_SERVICE * args.services + 3)
        if objects != expected:
            sys.exit(f"expected {expected} objects, got {objects}")
    finally:
        shutil.rmtree(parent, ignore_errors=True)
    print(f"{len(paths)} stacks ({args.clusters} clusters x {args.envs} envs), "
          f"{args.services} services each: {objects:,} objects in {len(files):,} files, "
          f"{args.runs} runs")
    print()
    print("| command | wall, median (s) | best (s) | CPU, median (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|---:|")
    for name, items in runs.items():
        print(summary(name, items))


if __name__ == "__main__":
    main()
