"""kubegen against its peers and the floor, on one synthetic stack, in one interleaved run.

The stack is bench/run.py's: N services of 7 objects each (a hardened Deployment with its
ServiceAccount and PodDisruptionBudget, a mounted ConfigMap, a Service, the two NetworkPolicies of
a connection) plus the Namespace and its two default policies, one file per object. Each tool
builds the same objects its own way:

* kubegen: ``kubegen check`` / ``kubegen render`` of ``stacks/bench`` (every check kept);
* go-jsonnet (the engine Tanka uses, from PyPI's ``gojsonnet``): bench/peers/jsonnet;
* cdk8s + cdk8s-plus (Node.js): bench/peers/cdk8s (``synth`` rewrites every file, it has no
  check);
* the floor: bench/peers/floor.py, plain dicts and a trivial emitter in a bare ``python -S``:
  what any tool must at least spend.

Modes, each a whole fresh process as in CI: ``check`` (render in memory and compare with the
files), ``unchanged`` (render over an up-to-date folder), ``empty`` (render into a folder deleted
just before). For ``empty`` the floor writes *kubegen's own files* with bare ``os`` calls after the
same delay since the delete as kubegen's process needs to start writing, so the disk's behaviour
after a mass delete (slow on this VM) weighs on both alike.

Rounds interleave every tool, mode and N (the order rotates each round), so a noisy moment hits
everyone; figures are medians over rounds, with the best run and CPU seconds beside them. Peers
install with ``bench/peers/setup.sh`` into bench/.work/peers (never a project dependency); a peer
that is not installed is left out and said so.

Run from the repository root::

    bench/peers/setup.sh                              # once
    python bench/compare.py                           # N = 100, 1,000, 3,000; 5 rounds
    python bench/compare.py --sizes 100 --rounds 2 --out -   # a quick look
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as kb  # bench/run.py: the stack, the process measurement

ROOT = kb.ROOT
PEERS = ROOT / "bench" / "peers"
WORK = ROOT / "bench" / ".work" / "peers"
JSONNET_PY = WORK / "jsonnet-venv" / "bin" / "python"
NODE_MODULES = WORK / "node" / "node_modules"
DEFAULT_SIZES = (100, 1000, 3000)

# Targets of issue 20 at N = 1,000 (whole process, every check kept).
ABS_TARGET_S = 0.45  # check and unchanged re-render
FLOOR_RATIO = 1.6  # check and unchanged re-render against the floor's check
EMPTY_RATIO = 1.3  # render into an empty folder against the floor writing the same files
RSS_TARGET_MB = 100.0
LINEAR_TARGET = 3.1  # N = 3,000 against N = 1,000


@dataclass
class Cell:
    """Every run of one tool in one mode at one N."""

    runs: list[kb.Run] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def best(self) -> float:
        return min(r.seconds for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu for r in self.runs)

    @property
    def rss(self) -> float:
        return max(r.rss_mb for r in self.runs)


@dataclass
class Size:
    """One N: its projects and the cells measured."""

    n: int
    project: Path
    work: Path
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)

    def add(self, tool: str, mode: str, run: kb.Run) -> None:
        self.cells.setdefault((tool, mode), Cell()).runs.append(run)

    def get(self, tool: str, mode: str) -> Cell | None:
        return self.cells.get((tool, mode))


def ok(run: kb.Run, what: str) -> kb.Run:
    if run.code != 0:
        sys.exit(f"{what} failed (exit {run.code}):\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    return run


def peers_available() -> dict[str, bool]:
    return {
        "jsonnet": JSONNET_PY.exists(),
        "cdk8s": (NODE_MODULES / "cdk8s-plus-32").is_dir() and shutil.which("node") is not None,
    }


def prepare(parent: Path, n: int, peers: dict[str, bool]) -> Size:
    """Projects and folders for one N, each tool's output rendered once (warm caches, .pyc)."""
    project = kb.make_project(parent, n)
    work = parent / f"peers-{n}"
    work.mkdir()
    size = Size(n, project, work)
    ok(kb.measure(kb.kubegen("render", "stacks/bench"), project), "kubegen warm-up")
    ok(kb.measure(floor_cmd("render", n, work / "floor"), ROOT), "floor warm-up")
    if peers["jsonnet"]:
        ok(kb.measure(jsonnet_cmd("render", n, work / "jsonnet"), ROOT), "jsonnet warm-up")
    if peers["cdk8s"]:
        ok(kb.measure(cdk8s_cmd(n, work / "cdk8s"), ROOT), "cdk8s warm-up")
    return size


def floor_cmd(mode: str, n: int, out: Path) -> list[str]:
    return [sys.executable, "-S", "-E", str(PEERS / "floor.py"), mode, str(n), str(out)]


def jsonnet_cmd(mode: str, n: int, out: Path) -> list[str]:
    return [str(JSONNET_PY), str(PEERS / "jsonnet" / "run.py"), mode, str(n), str(out)]


def cdk8s_cmd(n: int, out: Path) -> list[str]:
    return ["env", f"NODE_PATH={NODE_MODULES}", "node", str(PEERS / "cdk8s" / "main.js"),
            str(n), str(out)]


def kubegen_round(size: Size) -> None:
    project = size.project
    size.add("kubegen", "check", ok(kb.measure(kb.kubegen("check", "stacks/bench"), project),
                                    "kubegen check"))
    size.add("kubegen", "unchanged",
             ok(kb.measure(kb.kubegen("render", "stacks/bench"), project), "kubegen render"))
    output = project / "output" / "bench"
    files = {p.relative_to(output): p.read_bytes() for p in output.rglob("*") if p.is_file()}
    shutil.rmtree(project / "output")
    size.add("kubegen", "empty",
             ok(kb.measure(kb.kubegen("render", "stacks/bench"), project), "kubegen render"))
    # The floor writes the same files after the same delay since their delete.
    delay = statistics.median(r.seconds for r in size.cells[("kubegen", "unchanged")].runs)
    target = size.work / "floor-write"
    shutil.rmtree(target, ignore_errors=True)
    write_files(target, files)
    shutil.rmtree(target)
    time.sleep(delay)
    start = time.perf_counter()
    write_files(target, files)
    seconds = time.perf_counter() - start
    size.add("floor", "empty", kb.Run(seconds, seconds, 0.0, 0, "", ""))


def write_files(target: Path, files: dict[Path, bytes]) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    for folder in sorted({rel.parent for rel in files}):
        (target / folder).mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        fd = os.open(target / rel, flags, 0o644)
        os.write(fd, data)
        os.close(fd)


def peer_round(size: Size, tool: str) -> None:
    n, work = size.n, size.work
    if tool == "floor":
        size.add("floor", "check", ok(kb.measure(floor_cmd("check", n, work / "floor"), ROOT),
                                      "floor check"))
    elif tool == "jsonnet":
        out = work / "jsonnet"
        size.add("jsonnet", "check", ok(kb.measure(jsonnet_cmd("check", n, out), ROOT),
                                        "jsonnet check"))
        size.add("jsonnet", "unchanged", ok(kb.measure(jsonnet_cmd("render", n, out), ROOT),
                                            "jsonnet render"))
    elif tool == "cdk8s":
        size.add("cdk8s", "unchanged", ok(kb.measure(cdk8s_cmd(n, work / "cdk8s"), ROOT),
                                          "cdk8s synth"))
    else:
        kubegen_round(size)


def run_all(sizes: list[Size], rounds: int, tools: list[str]) -> None:
    for r in range(rounds):
        order = tools[r % len(tools):] + tools[: r % len(tools)]
        for size in sizes:
            for tool in order:
                peer_round(size, tool)
        print(f"round {r + 1}/{rounds} done", flush=True)


def fmt(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    return f"{cell.median:.2f} ({cell.best:.2f}, {cell.cpu:.2f})"


def ratio(a: Cell | None, b: Cell | None) -> float | None:
    if a is None or b is None or b.median <= 0:
        return None
    return a.median / b.median


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


TOOLS = ("kubegen", "jsonnet", "cdk8s", "floor")


def figures_table(sizes: list[Size]) -> str:
    rows = [
        "| N | tool | check (s) | unchanged re-render (s) | into an empty folder (s) "
        "| peak RSS (MB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for tool in TOOLS:
            cells = [size.get(tool, mode) for mode in ("check", "unchanged", "empty")]
            if not any(cells):
                continue
            rss = max((c.rss for c in cells if c is not None), default=0.0)
            shown_rss = f"{rss:.0f}" if rss else "—"
            rows.append(f"| {size.n:,} | {tool} | {' | '.join(map(fmt, cells))} | {shown_rss} |")
    return "\n".join(rows)


def ratio_table(sizes: list[Size]) -> str:
    rows = [
        "| N | kubegen check / floor | kubegen unchanged / floor | kubegen empty / floor write "
        "| jsonnet check / kubegen | jsonnet unchanged / kubegen | cdk8s synth / kubegen |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in sizes:
        floor = s.get("floor", "check")
        k_check, k_same = s.get("kubegen", "check"), s.get("kubegen", "unchanged")
        cells = [
            ratio(k_check, floor),
            ratio(k_same, floor),
            ratio(s.get("kubegen", "empty"), s.get("floor", "empty")),
            ratio(s.get("jsonnet", "check"), k_check),
            ratio(s.get("jsonnet", "unchanged"), k_same),
            ratio(s.get("cdk8s", "unchanged"), k_same),
        ]
        rows.append(f"| {s.n:,} | {' | '.join(map(fmt_ratio, cells))} |")
    return "\n".join(rows)


def verdict(good: bool) -> str:
    return "met" if good else "**not met**"


def targets(sizes: list[Size]) -> str:
    by_n = {s.n: s for s in sizes}
    k = by_n.get(1000)
    if k is None:
        return "(the targets are stated at N = 1,000; run with it to see them)"
    rows = ["| target at N = 1,000 | measured | |", "|---|---|---|"]
    floor = k.get("floor", "check")
    for mode, label in (("check", "`kubegen check`"), ("unchanged", "unchanged re-render")):
        cell = k.get("kubegen", mode)
        assert cell is not None and floor is not None
        rows.append(f"| {label} ≤ {ABS_TARGET_S} s | {cell.median:.2f} s "
                    f"| {verdict(cell.median <= ABS_TARGET_S)} |")
        rel = cell.median / floor.median
        rows.append(f"| {label} ≤ {FLOOR_RATIO}× the floor ({floor.median:.2f} s) | {rel:.2f}× "
                    f"| {verdict(rel <= FLOOR_RATIO)} |")
    empty, write = k.get("kubegen", "empty"), k.get("floor", "empty")
    if empty is not None and write is not None:
        rel = empty.median / write.median
        rows.append(f"| into an empty folder ≤ {EMPTY_RATIO}× the floor writing the same files "
                    f"({write.median:.2f} s) | {empty.median:.2f} s, {rel:.2f}× "
                    f"| {verdict(rel <= EMPTY_RATIO)} |")
    rss = max(c.rss for (tool, _), c in k.cells.items() if tool == "kubegen")
    rows.append(f"| peak RSS ≤ {RSS_TARGET_MB:.0f} MB | {rss:.0f} MB "
                f"| {verdict(rss <= RSS_TARGET_MB)} |")
    big = by_n.get(3000)
    if big is not None:
        growth = {
            mode: big.cells[("kubegen", mode)].median / k.cells[("kubegen", mode)].median
            for mode in ("check", "unchanged")
        }
        worst = max(growth.values())
        shown = ", ".join(f"{mode} {value:.2f}×" for mode, value in growth.items())
        rows.append(f"| N = 3,000 ≤ {LINEAR_TARGET}× N = 1,000 | {shown} "
                    f"| {verdict(worst <= LINEAR_TARGET)} |")
    return "\n".join(rows)


def versions(peers: dict[str, bool]) -> str:
    out = [f"kubegen {kb.git_commit()} on Python {sys.version.split()[0]}"]
    if peers["jsonnet"]:
        text = subprocess.run(
            [str(JSONNET_PY), "-c", "import importlib.metadata as m; "
             "print(m.version('gojsonnet'))"], capture_output=True, text=True).stdout.strip()
        out.append(f"go-jsonnet (gojsonnet) {text}")
    if peers["cdk8s"]:
        for package in ("cdk8s", "cdk8s-plus-32"):
            meta = NODE_MODULES / package / "package.json"
            out.append(f"{package} {json.loads(meta.read_text())['version']}")
        node = subprocess.run(["node", "--version"], capture_output=True, text=True)
        out.append(f"Node.js {node.stdout.strip()}")
    return ", ".join(out)


def report(sizes: list[Size], peers: dict[str, bool], argv: str, load: str, rounds: int) -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    missing = [name for name, here in peers.items() if not here]
    left_out = (f"\n- Left out (not installed; run `bench/peers/setup.sh`): {', '.join(missing)}"
                if missing else "")
    return f"""# kubegen against its peers

Generated by `bench/compare.py` (issue 20): the same synthetic stack (7 objects per service plus
3, one file each) built by each tool, every measurement a whole fresh process, {rounds} rounds
interleaving tools, modes and sizes.

- Machine: {kb.cpu_model()}, {os.cpu_count()} cores; load average before / after: {load} /
  {kb.load_average()}
- Tools: {versions(peers)}{left_out}
- Date: {now}; reproduce: `bench/peers/setup.sh && {argv}`

## Figures

Median wall seconds (best run, median CPU seconds user + system, a forked lint child included).

{figures_table(sizes)}

## Ratios

{ratio_table(sizes)}

## Against the targets

{targets(sizes)}
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "peers.md"),
                        help="Markdown report path, '-' for none (default: bench/peers.md)")
    parser.add_argument("--keep", action="store_true", help="keep the generated projects")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    peers = peers_available()
    for name, here in peers.items():
        if not here:
            print(f"{name}: not installed (bench/peers/setup.sh); left out", file=sys.stderr)
    tools = ["kubegen", "floor", *(name for name, here in peers.items() if here)]
    parent = Path(tempfile.mkdtemp(prefix="kubegen-compare-"))
    load = kb.load_average()
    try:
        sizes = [prepare(parent, int(n), peers) for n in args.sizes.split(",") if n.strip()]
        run_all(sizes, args.rounds, tools)
    finally:
        if args.keep:
            print(f"projects kept in {parent}")
        else:
            shutil.rmtree(parent, ignore_errors=True)
    argv = "python bench/compare.py" + "".join(f" {a}" for a in sys.argv[1:])
    text = report(sizes, peers, argv, load, args.rounds)
    print(text)
    if args.out != "-":
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
