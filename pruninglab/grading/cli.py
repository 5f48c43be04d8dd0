"""``python -m pruninglab grade PATH...``: execute submitted notebooks and print a score table.

Each notebook is executed top to bottom in a fresh ``python3`` kernel with nbclient
(``allow_errors=True``: a failing learner cell does not stop the run; each cell has a time
limit). The notebook's own ``check(...)``/``grade(...)`` calls record their reports as JSON
lines in a temporary file named by ``PRUNINGLAB_GRADE_RESULTS`` (inherited by the kernel); the
last report per exercise counts. Exit status: 0 when every notebook could be run (whatever the
learners scored), 2 when a path is missing/not a notebook or a kernel could not be started.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from .core import EXERCISES, RESULTS_ENV

__all__ = ["grade_notebook", "expand_paths", "render_table", "main"]


def expand_paths(paths) -> list[Path]:
    """Files as given; folders expand to their ``*.ipynb`` (recursively, sorted, skipping
    ``.ipynb_checkpoints``)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            out.append(p)
    return out


def grade_notebook(path, *, cell_timeout: int = 120) -> dict:
    """Execute one notebook and collect its grader reports.

    Returns ``{"path", "status", "error_cells", "results": {exercise: report dict}, "score",
    "max_score", "tool_error"}``; ``status`` is ``"ok"``, ``"cell timeout"``, ``"kernel died"``
    or an error message (``tool_error`` True when the notebook could not be run at all)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    path = Path(path)
    row = {"path": str(path), "status": "ok", "error_cells": 0, "results": {}, "score": 0,
           "max_score": 0, "tool_error": False}
    if not path.is_file():
        row.update(status="no such file", tool_error=True)
        return row
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as e:  # noqa: BLE001
        row.update(status=f"not a notebook ({type(e).__name__})", tool_error=True)
        return row
    fd, results = tempfile.mkstemp(prefix="pruninglab-grade-", suffix=".jsonl")
    os.close(fd)
    old = os.environ.get(RESULTS_ENV)
    os.environ[RESULTS_ENV] = results
    try:
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3",
                                allow_errors=True,
                                resources={"metadata": {"path": str(path.resolve().parent)}})
        try:
            client.execute()
        except CellTimeoutError:
            row["status"] = "cell timeout"
        except DeadKernelError:
            row["status"] = "kernel died"
        except Exception as e:  # noqa: BLE001 - kernel could not start etc.
            row.update(status=f"could not execute: {type(e).__name__}: {e}"[:200], tool_error=True)
        row["error_cells"] = sum(1 for c in nb.cells if c.get("cell_type") == "code"
                                 for o in c.get("outputs", []) if o.get("output_type") == "error")
        with open(results, encoding="utf-8") as f:
            for line in f:
                try:
                    rep = json.loads(line)
                except json.JSONDecodeError:
                    continue
                row["results"][rep["exercise"]] = rep
    finally:
        if old is None:
            os.environ.pop(RESULTS_ENV, None)
        else:
            os.environ[RESULTS_ENV] = old
        os.unlink(results)
    row["score"] = sum(r["score"] for r in row["results"].values())
    row["max_score"] = sum(r["max_score"] for r in row["results"].values())
    return row


def render_table(rows) -> str:
    """A plain-text table: one row per notebook, one column per exercise seen."""
    seen = {e for r in rows for e in r["results"]}
    cols = [e for e in EXERCISES if e in seen] + sorted(seen - set(EXERCISES))
    header = ["notebook"] + cols + ["total", "status"]
    body = []
    for r in rows:
        cells = [Path(r["path"]).name]
        for e in cols:
            rep = r["results"].get(e)
            if rep is None:
                cells.append("-")
            elif rep["status"] == "not attempted":
                cells.append(f"0/{rep['max_score']} (stub)")
            else:
                cells.append(f"{rep['score']}/{rep['max_score']}" + (" ok" if rep["passed"] else ""))
        cells.append(f"{r['score']}/{r['max_score']}")
        status = r["status"] + (f", {r['error_cells']} cell error(s)" if r["error_cells"] else "")
        cells.append(status)
        body.append(cells)
    widths = [max(len(str(x[i])) for x in [header] + body) for i in range(len(header))]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in body])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pruninglab grade",
                                description="execute submitted notebooks and print their scores")
    add_arguments(p)
    return run(p.parse_args(argv))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="notebooks or folders (folders expand to *.ipynb)")
    p.add_argument("--cell-timeout", type=int, default=120,
                   help="seconds allowed per cell (default 120)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    if args.cell_timeout <= 0:
        print("error: --cell-timeout must be positive", file=sys.stderr)
        return 2
    paths = expand_paths(args.paths)
    if not paths:
        print("error: no notebooks found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    rows = [grade_notebook(p, cell_timeout=args.cell_timeout) for p in paths]
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))
    else:
        print(render_table(rows))
    bad = [r for r in rows if r["tool_error"]]
    for r in bad:
        print(f"error: {r['path']}: {r['status']}", file=sys.stderr)
    return 2 if bad else 0
