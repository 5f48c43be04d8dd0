"""Test-suite wall time: ``make test`` (install excluded), and its parts.

    python -m benchmarks.bench_suite            # whole suite only
    python -m benchmarks.bench_suite --parts    # also unit / notebooks / browser on their own

The environment must already be installed (``make install``): the install stamp is up to date,
so ``make test`` goes straight to pytest and the time measured is the test time alone.
Ratios printed: each part's share of the whole, and the whole against CI's 90-minute limit.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI_LIMIT_S = 90 * 60


def _run(target: str) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.run(["make", "-s", target], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ))
    wall = time.perf_counter() - t0
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    m = re.search(r"(\d+) passed", tail[0])
    return {"target": target, "wall_s": round(wall, 1), "rc": proc.returncode,
            "passed": int(m.group(1)) if m else None, "summary": tail[0]}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", action="store_true", help="also time test-unit/test-notebooks/test-browser")
    args = p.parse_args(argv)
    if not (ROOT / ".venv" / ".pruninglab-installed").exists():
        sys.exit("run `make install` first: the suite time must exclude the install")
    runs = [_run("test")]
    if args.parts:
        runs += [_run(t) for t in ("test-unit", "test-notebooks", "test-browser")]
    whole = runs[0]["wall_s"]
    print(f"{'target':16s} {'wall s':>8s} {'share':>7s}  result")
    for r in runs:
        print(f"{r['target']:16s} {r['wall_s']:8.1f} {r['wall_s'] / whole:7.2f}  {r['summary']}")
    print(f"make test = {whole:.0f} s = {whole / CI_LIMIT_S:.3f} of CI's 90-minute limit")
    return {"runs": runs, "ci_fraction": whole / CI_LIMIT_S}


if __name__ == "__main__":
    main()
