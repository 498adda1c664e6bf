"""Render or check the Jsonnet benchmark peer with go-jsonnet (the ``gojsonnet`` package).

Usage (with the peer venv's Python, see bench/peers/setup.sh)::

    python run.py render N OUTDIR   # evaluate, write every file whose bytes changed
    python run.py check N OUTDIR    # evaluate, compare with OUTDIR; exit 1 on any difference

What ``jsonnet -S -m OUTDIR`` does (it too skips files whose content is unchanged), plus the
comparison ``kubegen check`` makes, so both tools do the same work per file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import _gojsonnet

HERE = Path(__file__).resolve().parent


def evaluate(n: int) -> dict[str, str]:
    text = _gojsonnet.evaluate_file(str(HERE / "bench.jsonnet"), ext_vars={"n": str(n)})
    files: dict[str, str] = json.loads(text)
    return files


def main() -> int:
    mode, n, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    files = evaluate(n)
    stale = 0
    for rel, text in files.items():
        path = out / rel
        data = text.encode()
        try:
            same = path.read_bytes() == data
        except FileNotFoundError:
            same = False
        if same:
            continue
        stale += 1
        if mode == "render":
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            os.write(fd, data)
            os.close(fd)
    if mode == "check":
        print("up to date" if not stale else f"{stale} files differ")
        return 1 if stale else 0
    print(f"{len(files)} files, {stale} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
