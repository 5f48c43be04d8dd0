"""Drivers and plots of notebook 09 (compressing a small language model).

The heavy sweeps are precomputed by ``python -m pruninglab.train_reference --model lm`` into
``data/lm_results.json`` (:mod:`pruninglab.llm.experiments`); the sliders here only look them up
and draw (pure ``compute_*`` + a :class:`pruninglab.ui.LivePlot` ``live_*``):

* :func:`compute_pruning` — sparsity → validation perplexity of magnitude / Wanda / SparseGPT;
* :func:`compute_calibration` — number of calibration windows → Wanda / SparseGPT perplexity at 50 %;
* :func:`compute_groups` — bits × group size → RTN / GPTQ perplexity and true bits per weight;
* :func:`compute_kv` — context × batch × KV precision × KV heads → KV-cache bytes (formula) of
  the notebook model and of LLaMA-2-7B.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._validate import check_bits, check_choice, check_int, check_number
from ..llm.kvcache import kv_cache_bytes

__all__ = ["results", "compute_pruning", "live_pruning", "compute_calibration", "live_calibration",
           "compute_groups", "live_groups", "compute_kv", "live_kv", "LLAMA2_7B", "table"]

METHOD_COLORS = {"magnitude": "C0", "wanda": "C1", "sparsegpt": "C2", "rtn": "C0", "gptq": "C2"}
LLAMA2_7B = dict(n_layers=32, n_heads=32, head_dim=128)  # Touvron et al. 2023


@lru_cache(maxsize=1)
def _results():
    from ..llm.reference import load_results
    return load_results()


def results() -> dict:
    """The shipped precomputed results (a fresh copy)."""
    import copy
    return copy.deepcopy(_results())


def table(rows, header) -> str:
    """Fixed-width text table (``rows``: lists of cells)."""
    cells = [list(map(str, header))] + [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w[i]) if i else c.ljust(w[i]) for i, c in enumerate(r)) for r in cells]
    lines.insert(1, "  ".join("-" * x for x in w))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ fast live figures

def _BlitPlot(*a, **k):
    """A :class:`~pruninglab.ui.LivePlot`; every ``setup`` here declares ``state["dynamic"]``, so
    the static part is rendered once and a move paints only the moving artists (blitting)."""
    from ..ui import LivePlot
    return LivePlot(*a, **k)


# ------------------------------------------------------------------------------ pruning slider

def compute_pruning(sparsity: float = 0.5) -> dict:
    r = _results()
    grid = r["pruning"]["sparsities"]
    sparsity = check_number(sparsity, "sparsity", lo=min(grid) - 1e-9, hi=max(grid) + 1e-9)
    k = int(np.argmin([abs(s - sparsity) for s in grid]))
    methods = ("magnitude", "wanda", "sparsegpt")
    return {"sparsity": grid[k], "grid": grid, "dense": r["dense"],
            "curves": {m: r["pruning"][m] for m in methods},
            "ppl": {m: r["pruning"][m][k] for m in methods}}


def live_pruning():
    """Static background (the three precomputed curves, dense line, axes, legend) rendered once;
    a move only draws the three circles and the vertical line."""

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.17, top=0.95)
        ax = fig.add_subplot()
        r = compute_pruning()
        for m, ys in r["curves"].items():
            ax.plot(r["grid"], ys, "-o", ms=3, color=METHOD_COLORS[m], label=m)
        ax.axhline(r["dense"], color="k", ls="--", lw=1, label=f"dense ({r['dense']:.2f})")
        ax.set(xlabel="sparsity of the block linear layers", ylabel="val perplexity / char",
               xlim=(min(r["grid"]) - 0.05, max(r["grid"]) + 0.05))
        ax.legend(fontsize=8, loc="upper left")
        dots = {m: ax.plot([], [], "o", ms=9, mfc="none", color=METHOD_COLORS[m])[0] for m in r["curves"]}
        vline = ax.axvline(0.5, color="0.6", lw=1)
        ax.autoscale(False)  # limits fixed by the curves: the background never changes
        return {"fig": fig, "dots": dots, "vline": vline, "ax": ax, "dynamic": [vline, *dots.values()]}

    def update(st, res):
        for m, d in st["dots"].items():
            d.set_data([res["sparsity"]], [res["ppl"][m]])
        st["vline"].set_xdata([res["sparsity"]] * 2)

    return _BlitPlot(setup, update, figsize=(6.0, 3.0), text=lambda res: f"sparsity {res['sparsity']:.0%}: " + ", ".join(
        f"{m} {v:.3f}" for m, v in res["ppl"].items()))


# ------------------------------------------------------------------------------ calibration slider

def compute_calibration(n_samples: int = 64) -> dict:
    """50 % unstructured sparsity with ``n_samples`` calibration windows of 64 characters."""
    r = _results()["calib_size"]
    n_samples = check_choice(check_int(n_samples, "n_samples", lo=1), "n_samples", r["sizes"])
    pattern = "50%"
    k = r["sizes"].index(n_samples)
    return {"n_samples": n_samples, "pattern": pattern, "sizes": r["sizes"],
            "tokens": n_samples * _results()["calib"]["seq_len"],
            "curves": {m: r[f"{m} {pattern}"] for m in ("wanda", "sparsegpt")},
            "ppl": {m: r[f"{m} {pattern}"][k] for m in ("wanda", "sparsegpt")},
            "magnitude": _results()["pruning"]["magnitude"][_results()["pruning"]["sparsities"].index(0.5)],
            "dense": _results()["dense"]}


def live_calibration():
    """Curves, magnitude and dense lines are fixed (drawn once as background); a move draws the
    two circles only."""

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.9)
        ax = fig.add_subplot()
        r = compute_calibration()
        x = np.log2(r["sizes"])
        for m in ("wanda", "sparsegpt"):
            ax.plot(x, r["curves"][m], "-o", ms=3, color=METHOD_COLORS[m], label=m)
        ax.axhline(r["magnitude"], color=METHOD_COLORS["magnitude"], lw=1, label="magnitude (no data)")
        ax.axhline(r["dense"], color="k", ls="--", lw=1, label="dense")
        dots = {m: ax.plot([], [], "o", ms=9, mfc="none", color=METHOD_COLORS[m])[0] for m in r["curves"]}
        ys = [v for c in r["curves"].values() for v in c] + [r["magnitude"], r["dense"]]
        lo, hi = min(ys), max(ys)
        ax.set(xlabel="calibration windows (× 64 tokens; log spacing)", ylabel="val perplexity / char",
               xlim=(-0.5, max(x) + 0.5), ylim=(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)))
        ax.set_xticks(x, [str(n) for n in r["sizes"]])
        ax.legend(fontsize=8)
        return {"fig": fig, "ax": ax, "dots": dots, "dynamic": list(dots.values())}

    def update(st, res):
        for m, d in st["dots"].items():
            d.set_data([np.log2(res["n_samples"])], [res["ppl"][m]])

    return _BlitPlot(setup, update, figsize=(6.0, 3.0), text=lambda res: (
        f"{res['pattern']}, {res['n_samples']} windows ({res['tokens']} tokens): "
        + ", ".join(f"{m} {v:.3f}" for m, v in res["ppl"].items())))


# ------------------------------------------------------------------------------ group-size slider

def compute_groups(bits: int = 3, group_size: int = 128) -> dict:
    """``group_size=0`` means per output channel (one grid per row)."""
    q = _results()["quant"]
    bits = check_choice(check_bits(bits), "bits", q["bits"])
    group_size = check_choice(check_int(group_size, "group_size", lo=0), "group_size", q["group_sizes"])
    k = q["group_sizes"].index(group_size)
    b = str(bits)
    return {"bits": bits, "group_size": group_size, "group_sizes": q["group_sizes"],
            "bpw_curve": q["bits_per_weight"][b],
            "curves": {m: q[m][b] for m in ("rtn", "gptq")},
            "ppl": {m: q[m][b][k] for m in ("rtn", "gptq")},
            "bits_per_weight": q["bits_per_weight"][b][k], "dense": _results()["dense"]}


def live_groups():
    """Both bit widths on one axis of true bits per weight (3-bit settings lie at 3.1–3.6, 4-bit
    at 4.1–4.6, so they never overlap): the four curves are a fixed background and a move draws
    the two circles only."""

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.9)
        ax = fig.add_subplot()
        q = _results()["quant"]
        ys = [_results()["dense"]]
        for b in q["bits"]:
            r = compute_groups(b, q["group_sizes"][0])
            order = np.argsort(r["bpw_curve"])
            x = np.asarray(r["bpw_curve"])[order]
            for m in ("rtn", "gptq"):
                y = np.asarray(r["curves"][m])[order]
                ax.plot(x, y, "-o", ms=3, color=METHOD_COLORS[m], label=m.upper() if b == q["bits"][0] else None)
                ys += list(y)
            ax.annotate(f"{b} bits", (x.mean(), max(r["curves"]["rtn"])), textcoords="offset points",
                        xytext=(0, 6), ha="center", fontsize=8)
        ax.axhline(_results()["dense"], color="k", ls="--", lw=1, label="dense fp32")
        dots = {m: ax.plot([], [], "o", ms=9, mfc="none", color=METHOD_COLORS[m])[0] for m in ("rtn", "gptq")}
        xs = [v for b in q["bits"] for v in q["bits_per_weight"][str(b)]]
        ax.set(xlabel="true bits per weight (codes + fp16 scale + zero point per group)",
               ylabel="val perplexity / char", xlim=(min(xs) - 0.15, max(xs) + 0.15),
               ylim=(min(ys) * 0.99, max(ys) * 1.02))
        ax.legend(fontsize=8, loc="upper right")
        return {"fig": fig, "ax": ax, "dots": dots, "dynamic": list(dots.values())}

    def update(st, res):
        for m, d in st["dots"].items():
            d.set_data([res["bits_per_weight"]], [res["ppl"][m]])

    def text(res):
        g = "per channel" if res["group_size"] == 0 else f"group {res['group_size']}"
        return (f"{res['bits']} bits, {g}: {res['bits_per_weight']:.3f} bits/weight; "
                f"RTN {res['ppl']['rtn']:.3f}, GPTQ {res['ppl']['gptq']:.3f}")

    return _BlitPlot(setup, update, figsize=(6.0, 3.0), text=text)


# ------------------------------------------------------------------------------ KV-cache slider

KV_BYTES = {"fp32": 4, "fp16": 2, "int8": 1, "int4": 0.5}


def compute_kv(seq_len: int = 4096, batch: int = 1, precision: str = "fp16", n_kv_heads: int = 32) -> dict:
    """KV-cache bytes (formula) of LLaMA-2-7B with ``n_kv_heads`` KV heads (32 = MHA, 8 = GQA)
    and its weights in the same precision, for ``seq_len`` tokens and ``batch`` sequences."""
    seq_len = check_int(seq_len, "seq_len", lo=1)
    batch = check_int(batch, "batch", lo=1)
    precision = check_choice(precision, "precision", tuple(KV_BYTES))
    n_kv_heads = check_int(n_kv_heads, "n_kv_heads", lo=1, hi=LLAMA2_7B["n_heads"])
    e = KV_BYTES[precision]
    kv = kv_cache_bytes(LLAMA2_7B["n_layers"], n_kv_heads, LLAMA2_7B["head_dim"], seq_len, batch, e)
    weights = 6.74e9 * 2  # LLaMA-2-7B: 6.74 B parameters in fp16
    return {"seq_len": seq_len, "batch": batch, "precision": precision, "n_kv_heads": n_kv_heads,
            "kv_bytes": kv, "weight_bytes": weights, "kv_gib": kv / 2 ** 30, "weight_gib": weights / 2 ** 30,
            "per_token_bytes": kv / (seq_len * batch)}


def live_kv():
    """Log-scale axis with fixed limits covering every slider combination (2 MiB … 1 TiB), so the
    axes are a fixed background and a move only resizes the two bars; the numbers are in the text
    line above the figure."""
    lo, hi = 1e-3, 2e3  # GiB

    def setup(fig):
        fig.subplots_adjust(left=0.2, right=0.97, bottom=0.22, top=0.95)
        ax = fig.add_subplot()
        bars = ax.barh([0, 1], [1, 1], left=lo, color=["C3", "C7"])
        ax.set_yticks([0, 1], ["KV cache", "weights (fp16)"])
        ax.set_xscale("log")
        ax.set(xlabel="GiB (log scale)", xlim=(lo, hi), ylim=(-0.6, 1.6))
        ax.grid(axis="x", which="major", lw=0.5, alpha=0.5)
        return {"fig": fig, "ax": ax, "bars": bars, "dynamic": list(bars)}

    def update(st, res):
        st["bars"][0].set_width(max(res["kv_gib"] - lo, 0.0))
        st["bars"][1].set_width(res["weight_gib"] - lo)

    def text(res):
        return (f"LLaMA-2-7B, {res['seq_len']} tokens × batch {res['batch']}, {res['n_kv_heads']} KV heads, "
                f"{res['precision']}: KV cache {res['kv_gib']:.3f} GiB vs weights {res['weight_gib']:.2f} GiB "
                f"(fp16); {res['per_token_bytes'] / 2 ** 10:.0f} KiB per token")

    return _BlitPlot(setup, update, figsize=(6.4, 2.2), text=text)


# ------------------------------------------------------------------------------ published reference
# WikiText-2 perplexity of LLaMA-2-7B pruned one-shot (no retraining), 128 C4 calibration
# sequences; copied from the table "LLaMA-2 results" of the official Wanda repository README
# (github.com/locuslab/wanda, Sun, Liu, Bair, Kolter 2024). A trend reference, not a target:
# a 7-billion-parameter word-piece model on WikiText is not a 0.8-million-parameter character
# model on docstrings.
PUBLISHED_LLAMA2_7B = {
    "dense": 5.12,
    "50%": {"magnitude": 14.89, "sparsegpt": 6.51, "wanda": 6.42},
    "4:8": {"magnitude": 16.48, "sparsegpt": 8.12, "wanda": 7.97},
    "2:4": {"magnitude": 54.59, "sparsegpt": 10.17, "wanda": 11.02},
}
__all__ += ["PUBLISHED_LLAMA2_7B"]


# ------------------------------------------------------------------------------ training-seed spread
#: (better-looking, baseline) pairs whose order the notebook states
KEY_PAIRS = (("wanda 50%", "magnitude 50%"), ("sparsegpt 50%", "wanda 50%"),
             ("wanda 2:4", "magnitude 2:4"), ("sparsegpt 2:4", "wanda 2:4"),
             ("gptq 3-bit per-channel", "rtn 3-bit per-channel"), ("gptq 3-bit g128", "rtn 3-bit g128"))


def seed_spread(results: dict | None = None) -> dict | None:
    """Min / max / mean over training seeds of every key setting, and per :data:`KEY_PAIRS` pair
    ``(a, b)`` the per-seed difference ``a − b`` (same calibration and validation text for every
    seed, so the pairing is fair) with a verdict: ``"a"`` (a lower on every seed), ``"b"`` (b
    lower on every seed) or ``"tie"`` (the sign of the difference changes across seeds: the
    difference is inside the seed-to-seed spread). None without a ``"seeds"`` entry (or with
    fewer than 2 seeds)."""
    r = _results() if results is None else results
    s = r.get("seeds")
    if not s or len(s.get("per_seed", {})) < 2:
        return None
    seeds = [str(x) for x in s["seeds"]]
    rows = {}
    for k in ["dense", *s["settings"]]:
        v = [s["per_seed"][x][k] for x in seeds]
        rows[k] = {"values": v, "min": min(v), "max": max(v), "mean": float(np.mean(v))}
    verdicts, diffs = {}, {}
    for a, b in KEY_PAIRS:
        d = [round(x - y, 4) for x, y in zip(rows[a]["values"], rows[b]["values"])]
        diffs[(a, b)] = d
        verdicts[(a, b)] = "a" if max(d) < 0 else "b" if min(d) > 0 else "tie"
    return {"seeds": [int(x) for x in seeds], "rows": rows, "diffs": diffs, "verdicts": verdicts}


def seed_sentences(sp: dict) -> str:
    """One sentence per :data:`KEY_PAIRS` pair from :func:`seed_spread`: which is better, or a tie."""
    out = []
    for (a, b), v in sp["verdicts"].items():
        d = sp["diffs"][(a, b)]
        rng = f"({a} − {b} per seed: {min(d):+.3f} to {max(d):+.3f})"
        if v == "tie":
            out.append(f"{a} vs {b}: **a tie**, the difference changes sign across seeds {rng}")
        else:
            win, lose = (a, b) if v == "a" else (b, a)
            out.append(f"{win} beats {lose} on every seed {rng}")
    return "; ".join(out) + "."


__all__ += ["KEY_PAIRS", "seed_spread", "seed_sentences"]
