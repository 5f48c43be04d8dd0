"""Build the learner and instructor notebooks from one jupytext percent-format source.

Sources live in ``notebooks/src/**/NAME.py`` (jupytext "percent" format, which JupyterLab opens
as a notebook when jupytext is installed). One source gives two builds:

* **learner** -> ``notebooks/**/NAME.ipynb``: every region between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION`` (the nbgrader convention) is replaced by
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the same indentation;
* **instructor** -> ``instructor/**/NAME.ipynb``: the source as written (markers kept, so the
  instructor notebook is also a valid nbgrader *source* notebook). Written only for sources that
  contain at least one solution region.

Cells tagged ``answer:<exercise_id>`` get nbgrader metadata (``solution: true``, ``grade_id``);
cells tagged ``check:<exercise_id>`` get nbgrader test-cell metadata (``grade: true``,
``points`` from :data:`pruninglab.grading.EXERCISES`). Both builds are executed (per-cell time
limit; cells tagged ``raises-exception`` may raise) and saved with outputs, which nbval
validates.

Usage::

    python tools/nbbuild.py notebooks/src/01_pruning_fundamentals.py   # both builds, executed
    python tools/nbbuild.py --all                                      # every source
    python tools/nbbuild.py --no-execute SRC                           # structure only
    python tools/nbbuild.py --only learner|instructor SRC
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
OUT = {"learner": ROOT / "notebooks", "instructor": ROOT / "instructor"}
BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")
STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]


def strip_solutions(code: str) -> str:
    """The learner version of a cell's code: each solution region becomes a stub."""
    out, inside, indent = [], False, ""
    for line in code.split("\n"):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise ValueError("nested '### BEGIN SOLUTION'")
            inside, indent = True, m.group("indent")
            out += [indent + s for s in STUB]
            continue
        if END.match(line):
            if not inside:
                raise ValueError("'### END SOLUTION' without BEGIN")
            inside = False
            continue
        if not inside:
            out.append(line)
    if inside:
        raise ValueError("'### BEGIN SOLUTION' without END")
    return "\n".join(out)


def has_solutions(nb) -> bool:
    return any(c.cell_type == "code" and any(BEGIN.match(l) for l in c.source.split("\n"))
               for c in nb.cells)


def _points(exercise_id: str) -> int:
    try:
        from pruninglab.grading import EXERCISES
        return int(EXERCISES[exercise_id].points)
    except Exception:  # noqa: BLE001 - unknown id: the grading tests report it
        return 0


def parse(text: str):
    """Read a percent-format source into a notebook (instructor version)."""
    nb = jupytext.reads(text, fmt="py:percent")
    nb.metadata = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                  "name": "python3"},
                   "language_info": {"name": "python"}}
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        tags = cell.metadata.get("tags", [])
        for t in tags:
            kind, _, ex = t.partition(":")
            if kind == "answer" and ex:
                cell.metadata["nbgrader"] = {"grade": False, "grade_id": f"answer_{ex}",
                                             "locked": False, "schema_version": 3,
                                             "solution": True, "task": False}
            elif kind == "check" and ex:
                cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"check_{ex}",
                                             "locked": True, "points": _points(ex),
                                             "schema_version": 3, "solution": False,
                                             "task": False}
    return nb


def learner_version(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
    return nb


def execute(nb, path: Path, timeout: int = 300):
    from nbclient import NotebookClient
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def _progress_shown(cell) -> bool:
    """Does a cell's output show progress: a tqdm bar (widget or text) or a progress line?"""
    for o in cell.get("outputs", []):
        data = o.get("data", {})
        if "application/vnd.jupyter.widget-view+json" in data:
            return True
        text = o.get("text", "") or data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        if "it/s]" in text or "s/it]" in text or "%|" in text:
            return True
    return False


def cell_times(nb) -> list[dict]:
    """Wall time of every executed code cell (nbclient's ``metadata.execution`` timestamps: from
    ``execute_input`` to ``execute_reply``) and whether its output shows progress."""
    from datetime import datetime
    rows = []
    for i, cell in enumerate(nb.cells):
        ex = cell.get("metadata", {}).get("execution", {})
        a, b = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
        if cell.cell_type != "code" or not a or not b:
            continue
        dt = (datetime.fromisoformat(b.replace("Z", "+00:00")) - datetime.fromisoformat(a.replace("Z", "+00:00")))
        rows.append({"cell": i, "seconds": round(dt.total_seconds(), 2), "progress": _progress_shown(cell),
                     "first_line": next((ln for ln in cell.source.splitlines() if ln.strip()), "")[:80]})
    return rows


def _write(nb, dst: Path, run: bool) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if run:
        execute(nb, dst)
        out = os.environ.get("PRUNINGLAB_CELL_TIMES")  # a folder: one JSON per built notebook
        if out:
            rel = dst.relative_to(ROOT)
            f = Path(out) / (str(rel).replace("/", "__") + ".json")
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps({"notebook": str(rel), "cells": cell_times(nb)}, indent=1))
    for cell in nb.cells:  # strip volatile metadata
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    dst.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(f"built {dst.relative_to(ROOT)} ({len(nb.cells)} cells, {time.perf_counter() - t0:.1f} s)")


def build(src: Path, run: bool = True, only: str | None = None) -> list[Path]:
    rel = src.resolve().relative_to(SRC).with_suffix(".ipynb")
    nb = parse(src.read_text(encoding="utf-8"))
    done = []
    if only in (None, "instructor") and has_solutions(nb):
        dst = OUT["instructor"] / rel
        # the instructor notebook runs next to the learner ones (same relative data paths)
        _write(copy.deepcopy(nb), dst, run)
        done.append(dst)
    if only in (None, "learner"):
        dst = OUT["learner"] / rel
        _write(learner_version(nb), dst, run)
        done.append(dst)
    return done


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="build and execute workbook notebooks")
    p.add_argument("sources", nargs="*", type=Path)
    p.add_argument("--all", action="store_true")
    p.add_argument("--no-execute", action="store_true")
    p.add_argument("--only", choices=["learner", "instructor"])
    a = p.parse_args(argv)
    srcs = sorted(SRC.rglob("*.py")) if a.all else a.sources
    if not srcs:
        p.error("name sources or --all")
    for s in srcs:
        build(s, run=not a.no_execute, only=a.only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
