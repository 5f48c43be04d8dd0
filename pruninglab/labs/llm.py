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
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.14, top=0.92)
        ax = fig.add_subplot()
        r = compute_pruning()
        for m, ys in r["curves"].items():
            ax.plot(r["grid"], ys, "-o", ms=3, color=METHOD_COLORS[m], label=m)
        ax.axhline(r["dense"], color="k", ls="--", lw=1, label=f"dense ({r['dense']:.2f})")
        ax.set(xlabel="sparsity of the block linear layers", ylabel="val perplexity / char")
        ax.legend(fontsize=8, loc="upper left")
        dots = {m: ax.plot([], [], "o", ms=9, mfc="none", color=METHOD_COLORS[m])[0] for m in r["curves"]}
        vline = ax.axvline(0.5, color="0.6", lw=1)
        return {"dots": dots, "vline": vline, "ax": ax}

    def update(st, res):
        for m, d in st["dots"].items():
            d.set_data([res["sparsity"]], [res["ppl"][m]])
        st["vline"].set_xdata([res["sparsity"]])

    return LivePlot(setup, update, figsize=(6.0, 3.0), text=lambda res: f"sparsity {res['sparsity']:.0%}: " + ", ".join(
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
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.9)
        ax = fig.add_subplot()
        lines = {m: ax.plot([], [], "-o", ms=3, color=METHOD_COLORS[m], label=m)[0] for m in ("wanda", "sparsegpt")}
        mag = ax.axhline(1, color=METHOD_COLORS["magnitude"], lw=1, label="magnitude (no data)")
        dense = ax.axhline(1, color="k", ls="--", lw=1, label="dense")
        dots = {m: ax.plot([], [], "o", ms=9, mfc="none", color=METHOD_COLORS[m])[0] for m in lines}
        sizes = _results()["calib_size"]["sizes"]
        ax.set(xlabel="calibration windows (× 64 tokens; log spacing)", ylabel="val perplexity / char",
               xlim=(-0.5, np.log2(max(sizes)) + 0.5))
        ax.set_xticks(np.log2(sizes), [str(n) for n in sizes])
        ax.legend(fontsize=8)
        return {"ax": ax, "lines": lines, "mag": mag, "dense": dense, "dots": dots}

    def update(st, res):
        for m, ln in st["lines"].items():
            ln.set_data(np.log2(res["sizes"]), res["curves"][m])
            st["dots"][m].set_data([np.log2(res["n_samples"])], [res["ppl"][m]])
        st["mag"].set_ydata([res["magnitude"]] * 2)
        st["dense"].set_ydata([res["dense"]] * 2)
        ys = [v for c in res["curves"].values() for v in c] + [res["magnitude"], res["dense"]]
        lo, hi = min(ys), max(ys)
        st["ax"].set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))

    return LivePlot(setup, update, figsize=(6.0, 3.0), text=lambda res: (
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
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.98, bottom=0.15, top=0.9)
        ax = fig.add_subplot()
        lines = {m: ax.plot([], [], "-o", ms=3, color=METHOD_COLORS[m], label=m.upper())[0] for m in ("rtn", "gptq")}
        dots = {m: ax.plot([], [], "o", ms=9, mfc="none", color=METHOD_COLORS[m])[0] for m in lines}
        dense = ax.axhline(1, color="k", ls="--", lw=1, label="dense fp32")
        ax.set(xlabel="true bits per weight (codes + fp16 scale + zero point per group)",
               ylabel="val perplexity / char")
        ax.legend(fontsize=8)
        return {"ax": ax, "lines": lines, "dots": dots, "dense": dense}

    def update(st, res):
        for m, ln in st["lines"].items():
            ln.set_data(res["bpw_curve"], res["curves"][m])
            st["dots"][m].set_data([res["bits_per_weight"]], [res["ppl"][m]])
        st["dense"].set_ydata([res["dense"]] * 2)
        ys = [v for c in res["curves"].values() for v in c] + [res["dense"]]
        st["ax"].set_ylim(min(ys) * 0.97, max(ys) * 1.05)
        x = res["bpw_curve"]
        st["ax"].set_xlim(min(x) - 0.1, max(x) + 0.1)

    def text(res):
        g = "per channel" if res["group_size"] == 0 else f"group {res['group_size']}"
        return (f"{res['bits']} bits, {g}: {res['bits_per_weight']:.3f} bits/weight; "
                f"RTN {res['ppl']['rtn']:.3f}, GPTQ {res['ppl']['gptq']:.3f}")

    return LivePlot(setup, update, figsize=(6.0, 3.0), text=text)


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
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.3, right=0.97, bottom=0.2, top=0.85)
        ax = fig.add_subplot()
        bars = ax.barh([0, 1], [1, 1], color=["C3", "C7"])
        ax.set_yticks([0, 1], ["KV cache", "weights (fp16)"])
        ax.set(xlabel="GiB")
        return {"ax": ax, "bars": bars}

    def update(st, res):
        st["bars"][0].set_width(res["kv_gib"])
        st["bars"][1].set_width(res["weight_gib"])
        st["ax"].set_xlim(0, max(res["kv_gib"], res["weight_gib"]) * 1.1)
        st["ax"].set_title(f"LLaMA-2-7B, {res['seq_len']} tokens × batch {res['batch']}, "
                           f"{res['n_kv_heads']} KV heads, {res['precision']}: KV {res['kv_gib']:.2f} GiB",
                           fontsize=9)

    return LivePlot(setup, update, figsize=(6.4, 2.4))


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
