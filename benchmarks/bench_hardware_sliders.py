"""Redraw time of notebook 08's hardware sliders (storage, energy, roofline).

    python -m benchmarks.bench_hardware_sliders [--moves 12]

Builds the three slider UIs of ``notebooks/08_hardware_lab.ipynb`` with the same controls,
moves every control through a sweep, and times each callback — ``compute`` plus ``render``
including the PNG encoding the inline backend does (Agg). Two passes: *cold* (first visit of each
value, in-memory caches empty except the one-off machine measurement that the notebook runs before
the roofline slider) and *warm* (same values again). Goal (issue: hardware lab): median < 100 ms.
"""
from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("MPLBACKEND", "Agg")


def _stats(ts):
    ms = sorted(1000 * t for t in ts)
    return {"callbacks": len(ms), "median_ms": statistics.median(ms),
            "p95_ms": ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))], "max_ms": ms[-1]}


def build_uis():
    from pruninglab import hardware as hw
    from pruninglab.labs import hardware as lab
    from pruninglab.ui import bits_slider, dropdown, slider_ui, sparsity_slider
    return {
        "storage": slider_ui(lab.compute_storage, lab.render_storage,
                             sparsity=sparsity_slider(0.9, hi=0.98), bits=bits_slider(8, lo=2, hi=32),
                             format=dropdown(hw.FORMATS, "csr"), index_bits=dropdown([8, 16, 32], 16),
                             model=dropdown(lab.MODELS, "mlp")),
        "energy": slider_ui(lab.compute_energy, lab.render_energy,
                            sparsity=sparsity_slider(0.9, hi=0.98), bits=bits_slider(8, lo=2, hi=32),
                            format=dropdown(hw.FORMATS, "csr"), batch=dropdown([1, 8, 64, 256], 1),
                            model=dropdown(lab.MODELS, "mlp")),
        "roofline": slider_ui(lab.compute_roofline, lab.render_roofline,
                              profile=dropdown(lab.PROFILE_CHOICES, "Orin Nano"),
                              bits=bits_slider(8, lo=2, hi=32),
                              batch=dropdown([1, 8, 64, 256, 1024], 1),
                              structure=dropdown(hw.STRUCTURES, "dense"),
                              sparsity=sparsity_slider(0.9, hi=0.98),
                              model=dropdown(lab.MODELS, "mlp")),
    }


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moves", type=int, default=12)
    a = p.parse_args(argv)
    from benchmarks.bench_sliders import time_ui
    from pruninglab.hardware import measure_machine
    from pruninglab.utils import seed_everything
    seed_everything(0)
    measure_machine()  # the notebook measures this machine in the cell before the roofline slider
    uis = build_uis()
    out = {}
    # baseline in the same run: an empty one-axes figure drawn to PNG (matplotlib's floor here)
    import io
    import time
    import matplotlib.pyplot as plt
    base = []
    for _ in range(15):
        t0 = time.perf_counter()
        fig, ax = plt.subplots(figsize=(7, 3.4))
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
        base.append(time.perf_counter() - t0)
    out["baseline_empty_figure"] = _stats(base)
    for phase in ("cold", "warm"):
        for name, ui in uis.items():
            out[f"{name}/{phase}"] = _stats(time_ui(ui, a.moves))
    print(f"{'slider/pass':22s} {'n':>4s} {'median ms':>10s} {'p95 ms':>8s} {'max ms':>8s}")
    for k, r in out.items():
        print(f"{k:22s} {r['callbacks']:4d} {r['median_ms']:10.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}")
    worst = max(r["median_ms"] for k, r in out.items() if k != "baseline_empty_figure")
    b = out["baseline_empty_figure"]["median_ms"]
    print(f"worst median {worst:.1f} ms (goal < 100 ms) = {worst / b:.1f}x an empty figure "
          f"({b:.1f} ms) in the same run")
    out["goal_median_ms"] = 100
    return out


if __name__ == "__main__":
    main()
