"""Cells that run longer than 3 s without showing progress (issue 15: "no silent waits").

Record the cell times while building: ``tools/nbbuild.py`` writes one JSON per built notebook into
the folder named by ``PRUNINGLAB_CELL_TIMES`` (wall time of each code cell from nbclient's
execution timestamps, and whether its output shows a progress bar)::

    PRUNINGLAB_CELL_TIMES=build/cell-times .venv/bin/python tools/nbbuild.py --all
    .venv/bin/python -m benchmarks.slow_cells build/cell-times [--limit 3]

Build with an empty ``build/cache`` to see the first run a learner gets (the slow case); the
second run of a cached notebook is reported the same way. Exit status 1 when a silent slow cell
is found. Timings depend on the machine and its load: state both with the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def silent_slow(folder: Path, limit: float = 3.0) -> tuple[list[dict], list[dict]]:
    """(slow cells without progress, all cells over ``limit``) across the JSON files in ``folder``."""
    slow = []
    for f in sorted(Path(folder).glob("*.json")):
        d = json.loads(f.read_text())
        for c in d["cells"]:
            if c["seconds"] > limit:
                slow.append({"notebook": d["notebook"], **c})
    return [c for c in slow if not c["progress"]], slow


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--limit", type=float, default=3.0)
    a = p.parse_args(argv)
    silent, slow = silent_slow(a.folder, a.limit)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"cells over {a.limit:g} s: {len(slow)} ({len(silent)} without progress); load now {load}")
    for c in sorted(slow, key=lambda c: -c["seconds"]):
        flag = "progress" if c["progress"] else "SILENT  "
        print(f"  {c['seconds']:6.1f} s  {flag}  {c['notebook']} cell {c['cell']}: {c['first_line']}")
    return 1 if silent else 0


if __name__ == "__main__":
    sys.exit(main())
