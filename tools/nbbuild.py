"""Build notebooks from percent-format sources, execute them, and save them with outputs.

Notebook sources live in ``tools/notebook_src/**/NAME.py`` (easy to diff and review); the
built notebooks (with outputs, which nbval validates) go to ``notebooks/**/NAME.ipynb``.

Source format (a subset of jupytext's "percent" format)::

    # %% [markdown]
    # # Title
    # Some *markdown*; every line starts with "# " (or is a bare "#").

    # %% tags=["nbval-ignore-output"]
    ui = slider_ui(...)

    # %% tags=["raises-exception", "seed-code:S2-C1"]
    ...

Usage::

    python tools/nbbuild.py tools/notebook_src/01_pruning_fundamentals.py   # build + execute
    python tools/nbbuild.py --all                                          # every source
    python tools/nbbuild.py --no-execute SRC                               # structure only

Execution uses the current interpreter's ``python3`` kernel with a per-cell timeout;
cells tagged ``raises-exception`` may raise (nbclient honours the tag), any other error
aborts the build. Outputs are stored as produced; nbval then re-runs and compares them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "tools" / "notebook_src"
OUT = ROOT / "notebooks"
HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?:\s+tags=(?P<tags>\[.*\]))?\s*$")


def parse(text: str):
    cells, cur, kind, tags = [], None, None, []
    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            if cur is not None:
                cells.append((kind, tags, cur))
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            cur = []
            continue
        if cur is None:
            if line.strip():
                raise ValueError(f"text before the first '# %%' header: {line!r}")
            continue
        cur.append(line)
    if cur is not None:
        cells.append((kind, tags, cur))
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, tags, lines in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        while lines and not lines[0].strip():
            lines.pop(0)
        if kind == "markdown":
            body = []
            for ln in lines:
                if ln == "#":
                    body.append("")
                elif ln.startswith("# "):
                    body.append(ln[2:])
                else:
                    raise ValueError(f"markdown line must start with '# ': {ln!r}")
            cell = new_markdown_cell("\n".join(body))
        else:
            cell = new_code_cell("\n".join(lines))
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
    return nb


def execute(nb, path: Path, timeout: int = 300):
    from nbclient import NotebookClient
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    return nb


def build(src: Path, run: bool = True) -> Path:
    rel = src.resolve().relative_to(SRC).with_suffix(".ipynb")
    dst = OUT / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    nb = parse(src.read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    if run:
        env_threads = os.environ.get("OMP_NUM_THREADS")
        execute(nb, dst)
    for cell in nb.cells:  # strip volatile metadata
        cell.metadata.pop("execution", None)
    nbformat.validate(nb)
    dst.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(f"built {dst.relative_to(ROOT)} ({len(nb.cells)} cells, {time.perf_counter() - t0:.1f} s)")
    return dst


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="build and execute workbook notebooks")
    p.add_argument("sources", nargs="*", type=Path)
    p.add_argument("--all", action="store_true")
    p.add_argument("--no-execute", action="store_true")
    a = p.parse_args(argv)
    srcs = sorted(SRC.rglob("*.py")) if a.all else a.sources
    if not srcs:
        p.error("name sources or --all")
    for s in srcs:
        build(s, run=not a.no_execute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
