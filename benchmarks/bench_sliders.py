"""Slider responsiveness: median and p95 time of every interactive callback in the notebooks.

For each notebook, its code cells are executed in-process (IPython magics skipped, cells
tagged ``raises-exception`` allowed to raise), with ``pruninglab.ui.slider_ui`` wrapped so that
every interactive the notebook builds is recorded. Then, for each recorded UI, every control
is moved through a sweep of values; each move runs the real callback — ``compute`` and
``render`` — and the figure is really drawn to PNG with the Agg backend (what the inline
backend does). Timed: the whole callback including that PNG encoding.

    python -m benchmarks.bench_sliders [--notebooks 00_start_here 01_...] [--moves 12]

Goal (issue 7): median < 50 ms and p95 < 100 ms per callback on a 2-core CPU.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
ROOT = Path(__file__).resolve().parent.parent


def _values_for(widget, moves: int):
    import ipywidgets as w
    if isinstance(widget, (w.FloatSlider, w.IntSlider)):
        lo, hi, step = widget.min, widget.max, widget.step
        n = int(round((hi - lo) / step))
        idx = sorted({round(i * n / (moves - 1)) for i in range(moves)})
        vals = [lo + k * step for k in idx]
        return [int(v) if isinstance(widget, w.IntSlider) else round(v, 10) for v in vals]
    if isinstance(widget, (w.Dropdown, w.ToggleButtons, w.RadioButtons, w.SelectionSlider)):
        opts = [o[1] if isinstance(o, tuple) else o for o in widget.options]
        return opts
    if isinstance(widget, w.Checkbox):
        return [True, False]
    return []


def _patched_show():
    import matplotlib.pyplot as plt
    for num in plt.get_fignums():
        fig = plt.figure(num)
        fig.savefig(io.BytesIO(), format="png")
    plt.close("all")


def run_notebook_code(path: Path, registry: list):
    """Execute a notebook's code cells in a fresh namespace; record slider UIs it builds."""
    import matplotlib.pyplot as plt
    import pruninglab.ui as ui_mod
    original = ui_mod.slider_ui

    def recording_slider_ui(*a, **k):
        ui = original(*a, **k)
        registry.append((path.stem, ui))
        return ui

    nb = json.loads(path.read_text(encoding="utf-8"))
    ns = {"__name__": "__main__", "display": lambda *a, **k: None}
    ui_mod.slider_ui = recording_slider_ui
    old_show, old_cwd = plt.show, os.getcwd()
    plt.show = lambda *a, **k: _patched_show()
    os.chdir(path.parent)
    try:
        for cell in nb["cells"]:
            if cell["cell_type"] != "code":
                continue
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            src = "\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
            src = src.replace("from pruninglab.ui import", "from pruninglab.ui import")
            tags = cell.get("metadata", {}).get("tags", [])
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    exec(compile(src, f"{path.name}", "exec"), ns)
                except BaseException as e:  # noqa: BLE001
                    if "raises-exception" not in tags and not isinstance(e, (NotImplementedError,)):
                        raise RuntimeError(f"{path.name}: cell failed: {e!r}") from e
    finally:
        ui_mod.slider_ui = original
        plt.show = old_show
        os.chdir(old_cwd)


def time_ui(ui, moves: int):
    import matplotlib.pyplot as plt
    times = []
    controls = [c for c in ui.children[:-1] if hasattr(c, "value")]
    old_show = plt.show
    plt.show = lambda *a, **k: _patched_show()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for c in controls:
                start = c.value
                for v in _values_for(c, moves):
                    if v == c.value:
                        continue
                    t0 = time.perf_counter()
                    c.value = v          # triggers the interactive callback synchronously
                    times.append(time.perf_counter() - t0)
                c.value = start
    finally:
        plt.show = old_show
        plt.close("all")
    return times


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--notebooks", nargs="*", default=None)
    p.add_argument("--moves", type=int, default=12)
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    from pruninglab.utils import seed_everything
    seed_everything(0)
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if a.notebooks:
        paths = [q for q in paths if q.stem in a.notebooks]
    registry: list = []
    for q in paths:
        t0 = time.perf_counter()
        run_notebook_code(q, registry)
        print(f"# executed {q.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    rows, all_times = [], []
    for i, (nb, ui) in enumerate(registry):
        ts = time_ui(ui, a.moves)
        if not ts:
            continue
        all_times += ts
        ts_ms = sorted(1000 * t for t in ts)
        p95 = ts_ms[min(len(ts_ms) - 1, int(round(0.95 * (len(ts_ms) - 1))))]
        name = getattr(ui, "_pruninglab_name", None) or ui.__class__.__name__
        rows.append({"notebook": nb, "ui": f"#{sum(1 for r in registry[:i] if r[0] == nb)}",
                     "callbacks": len(ts), "median_ms": statistics.median(ts_ms), "p95_ms": p95,
                     "max_ms": ts_ms[-1]})
    print(f"{'notebook':32s} {'ui':>4s} {'n':>4s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}")
    for r in rows:
        print(f"{r['notebook']:32s} {r['ui']:>4s} {r['callbacks']:4d} {r['median_ms']:10.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}")
    out = {"rows": rows}
    if all_times:
        ms = sorted(1000 * t for t in all_times)
        out["overall"] = {"callbacks": len(ms), "median_ms": statistics.median(ms),
                          "p95_ms": ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))],
                          "goal_median_ms": 50, "goal_p95_ms": 100}
        o = out["overall"]
        print(f"overall: {o['callbacks']} callbacks, median {o['median_ms']:.1f} ms (goal < 50), "
              f"p95 {o['p95_ms']:.1f} ms (goal < 100)")
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
