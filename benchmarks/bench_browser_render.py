"""Render candidates for slider output, measured in the browser under the same load.

One generated notebook holds the start notebook's slider twice (same compute, same LivePlot
figure), displayed two ways:

* ``output``: the LivePlot prints its text and displays a PNG into the interactive's ``Output``,
  which ipywidgets clears and refills on every move (the pre-issue-15 path);
* ``image``: the figure is an ``ipywidgets.Image`` whose bytes are replaced, the text an ``HTML``
  widget (``slider_ui`` default inside a kernel since issue 15).

Moves alternate between the two UIs (paired under the same machine load); each is timed from the
key press to the last DOM change of that UI's output (``benchmarks/browser_lab.py``).

    python -m benchmarks.bench_browser_render [--moves 12]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    "from pruninglab.utils import notebook_setup; notebook_setup()\n"
    "from pruninglab.ui import slider_ui, sparsity_slider\n"
    "from pruninglab.labs import start",
    "slider_ui(start.compute_magnitude, start.live_magnitude(), in_place=False,\n"
    "          sparsity=sparsity_slider(0.5, hi=0.98))",
    "slider_ui(start.compute_magnitude, start.live_magnitude(), in_place=True,\n"
    "          sparsity=sparsity_slider(0.5, hi=0.98))",
]
NAMES = ["output (clear + redisplay)", "image (in place)"]


def _notebook(path: Path) -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "cells": [{"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None,
                     "outputs": [], "source": src} for i, src in enumerate(CELLS)]}
    path.write_text(json.dumps(nb))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moves", type=int, default=12)
    p.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results" / "browser_render.json")
    a = p.parse_args(argv)
    from benchmarks import browser_lab as bl
    with tempfile.TemporaryDirectory(prefix="pl-render-") as work:
        nbdir = Path(work) / "src"
        nbdir.mkdir()
        _notebook(nbdir / "render.ipynb")
        with bl.lab_server(Path(work) / "lab", notebooks=nbdir) as (base, token), bl.chromium() as browser:
            page = bl.open_notebook(browser, base, token, "render.ipynb", clear=False)
            bl.run_all(page)
            ctrls = bl.indexed_controls(page)
            assert [c["ui"] for c, _ in ctrls] == [0, 1], ctrls
            samples: dict = {n: [] for n in NAMES}
            for k in range(a.moves):
                for (c, nth), name in zip(ctrls if k % 2 == 0 else ctrls[::-1],
                                          NAMES if k % 2 == 0 else NAMES[::-1]):
                    r = bl.move(page, c, nth, step=k)
                    print(name, {k2: r[k2] for k2 in ("latency_ms", "mutations", "text_changed", "img_changed")},
                          r["after"]["text"][:60].replace("\n", " "), flush=True)
                    if r["latency_ms"] is not None and (r["text_changed"] or r["img_changed"]):
                        samples[name].append(round(r["latency_ms"], 1))
            page.close()
    out = {"moves": a.moves, "candidates": {}}
    for name, ms in samples.items():
        s = sorted(ms)
        out["candidates"][name] = {"n": len(ms), "median_ms": statistics.median(ms) if ms else None,
                                   "p95_ms": s[min(len(s) - 1, int(round(0.95 * (len(s) - 1))))] if ms else None,
                                   "samples_ms": ms}
        print(f"{name:28s} n={len(ms):3d} median {out['candidates'][name]['median_ms']} ms, "
              f"p95 {out['candidates'][name]['p95_ms']} ms")
    a.json.parent.mkdir(parents=True, exist_ok=True)
    a.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
