"""Class-scale grading throughput: N generated submissions of Exercises 1 (mixed correct / buggy /
hostile) graded by the teacher's CLI with ``-j JOBS``; prints submissions per minute.

    python -m benchmarks.bench_grading [--n 200] [--jobs 2] [--time-limit 2]

Mix (cycled): 45 % correct (reference solutions), 35 % buggy (common mistakes and stubs), 20 %
hostile (infinite loop, fork loop, os._exit, 10**10 allocation, 100 MB print, forged result
files, syntax error). Every answer runs in its own confined process (pruninglab.grading.isolated).
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

IDS = ["magnitude_prune", "threshold_prune", "n_m_prune", "neuron_prune"]
HOSTILE = [
    "def {f}(*a):\n    while True:\n        pass\n",
    "import os\ndef {f}(*a):\n    while True:\n        os.fork()\n",
    "import os\ndef {f}(*a):\n    os._exit(0)\n",
    "def {f}(*a):\n    return np.ones(10**10)\n",
    "print('x' * 10**8)\ndef {f}(*a):\n    return a[0]\n",
    "import os, json\nfor i in range(40):\n    json.dump({{'ok': True}}, open(os.path.join(os.getcwd(), '..', 'out', f'{{i}}.json'), 'w'))\n"
    "def {f}(*a):\n    os._exit(0)\n",
    "def {f}(*a)\n    return 0\n",
]


def make_submissions(folder: Path, n: int) -> list[Path]:
    from solutions import common_bugs as B

    from pruninglab.grading.solutions import solution_source
    learner = json.loads((ROOT / "notebooks" / "exercises" / "ex01_pruning.ipynb").read_text(encoding="utf-8"))
    bugs = [(name, fn) for name, fn in vars(B).items() if callable(fn) and name.startswith(("mp_", "tp_", "nm_", "np_"))]
    paths = []
    for i in range(n):
        nb = json.loads(json.dumps(learner))
        kind = "correct" if i % 20 < 9 else ("buggy" if i % 20 < 16 else "hostile")
        for c in nb["cells"]:
            for t in c.get("metadata", {}).get("tags", []):
                if not t.startswith("answer:"):
                    continue
                e = t[7:]
                if kind == "correct":
                    c["source"] = solution_source(e)
                elif kind == "buggy" and bugs and e == "magnitude_prune":
                    name, fn = bugs[i % len(bugs)]
                    src = inspect.getsource(fn).replace(f"def {name}(", "def magnitude_prune(")
                    ref = solution_source("magnitude_prune").replace("def magnitude_prune(", "def _ref_mp(")
                    c["source"] = ref + "\nclass R:\n    magnitude_prune = staticmethod(_ref_mp)\n\n" + src
                elif kind == "buggy":
                    c["source"] = solution_source(e) if i % 2 else c["source"]
                elif kind == "hostile":
                    c["source"] = HOSTILE[(i + IDS.index(e)) % len(HOSTILE)].format(f=e)
        p = folder / f"student{i:03d}_ex01_pruning.ipynb"
        p.write_text(json.dumps(nb), encoding="utf-8")
        paths.append(p)
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--time-limit", type=float, default=2.0)
    a = ap.parse_args(argv)
    from pruninglab.grading import cli
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        make_submissions(folder, a.n)
        t0 = time.perf_counter()
        c0 = os.times()
        rc = cli.main([str(folder), "-j", str(a.jobs), "--seed", "0", "--time-limit", str(a.time_limit),
                       "--csv", str(folder / "gradebook.csv")])
        wall = time.perf_counter() - t0
        c1 = os.times()
        rows = (folder / "gradebook.csv").read_text(encoding="utf-8").splitlines()[1:]
    cpu = (c1.children_user + c1.children_system + c1.user + c1.system) - \
          (c0.children_user + c0.children_system + c0.user + c0.system)
    res = {"submissions": a.n, "jobs": a.jobs, "time_limit_s": a.time_limit, "wall_s": round(wall, 1),
           "cpu_s": round(cpu, 1), "per_minute": round(a.n / wall * 60, 1), "rows": len(rows),
           "exit": rc, "cores": os.cpu_count()}
    print(json.dumps(res))
    return 0 if len(rows) == a.n else 1


if __name__ == "__main__":
    sys.exit(main())
