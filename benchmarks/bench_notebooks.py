"""Suite time: execution time of every notebook (fresh kernel each, nbclient), 2 threads max.

    python -m benchmarks.bench_notebooks [--repeat 1]

Goal (issue 4): each notebook runs top to bottom in < 60 s on 2 CPU cores. The figure is the
wall time of ``NotebookClient.execute()`` (kernel start included).
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def time_notebook(path: Path) -> float:
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    rows = []
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        ts = [time_notebook(path) for _ in range(a.repeat)]
        rows.append({"notebook": path.relative_to(ROOT / "notebooks").as_posix(),
                     "seconds": statistics.median(ts), "goal_s": 60})
        print(f"{rows[-1]['notebook']:45s} {rows[-1]['seconds']:6.1f} s {'ok' if rows[-1]['seconds'] < 60 else 'OVER 60 s'}",
              flush=True)
    total = sum(r["seconds"] for r in rows)
    print(f"total {total:.1f} s over {len(rows)} notebooks; slowest {max(r['seconds'] for r in rows):.1f} s")
    out = {"rows": rows, "total_s": total}
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
