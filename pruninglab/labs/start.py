"""Compute/render functions for ``00_start_here``: magnitude-prune the reference MLP."""
from __future__ import annotations

import copy
from functools import lru_cache

from .._validate import check_choice, check_sparsity

__all__ = ["compute_magnitude", "render_magnitude", "live_magnitude", "sweep_magnitude"]


@lru_cache(maxsize=1)
def _setup():
    from ..data import load_digits
    from ..models import load_reference
    return load_reference("mlp"), load_digits("val")


def compute_magnitude(sparsity: float = 0.5, scope: str = "global") -> dict:
    """Prune a copy of the reference MLP by weight magnitude and measure it (pure: the cached
    reference model is never modified).

    Returns validation accuracy, weight counts (the 3 weight matrices; biases are kept), and
    the weight memory in float32: dense (4 bytes per weight, zeros included) versus CSR with
    32-bit values and 32-bit column indices plus a row-pointer array (4·(rows + 1) bytes).
    """
    from ..hardware import storage_bytes
    from ..pruning import apply_masks_, compute_masks
    from ..train import accuracy
    sparsity = check_sparsity(sparsity)
    check_choice(scope, "scope", ("global", "layer"))
    model, val = _setup()
    masks = compute_masks(model, sparsity, scope=scope)
    pruned = copy.deepcopy(model)
    apply_masks_(pruned, masks)
    total = sum(int(m.numel()) for m in masks.values())
    nonzero = sum(int(m.sum()) for m in masks.values())
    dense_bytes = 4 * total
    csr_bytes = sum(storage_bytes(m, None, 32, "csr", index_bits=32, ptr_bits=32)
                    for m in masks.values())
    per_layer = {name: round(1 - float(m.float().mean()), 4) for name, m in masks.items()}
    return {"sparsity": sparsity, "scope": scope, "val_accuracy": accuracy(pruned, val),
            "weights": total, "nonzero": nonzero, "dense_bytes": dense_bytes,
            "csr_bytes": csr_bytes, "layer_sparsity": per_layer}


@lru_cache(maxsize=4)
def sweep_magnitude(scope: str = "global", points: int = 21) -> tuple:
    """Accuracy at evenly spaced sparsities 0 … 0.98 (cached; used as the background curve)."""
    grid = [round(0.98 * i / (points - 1), 4) for i in range(points)]
    return tuple((s, compute_magnitude(s, scope)["val_accuracy"]) for s in grid)


def _magnitude_text(r: dict) -> str:
    return (f"sparsity {100 * r['sparsity']:.0f}% ({r['scope']}): validation accuracy "
            f"{100 * r['val_accuracy']:.2f}%, nonzero weights {r['nonzero']:,}/{r['weights']:,}, "
            f"dense fp32 {r['dense_bytes'] / 1024:.1f} KiB vs CSR {r['csr_bytes'] / 1024:.1f} KiB")


def live_magnitude(warm: bool = True):
    """A :class:`pruninglab.ui.LivePlot` for the sparsity slider: accuracy sweep (grey, for the
    current scope) with the current point (red), and dense vs CSR weight memory (bars).

    Both sweeps are computed here, when the UI is built, so a slider move never computes one.
    Blitted (``state["dynamic"]``): the point and the two bars are the only artists a move
    redraws; the sweep curve and the bar axis's scale are static per ``(scope, top)``
    (``background_key``); with ``warm`` (default) both scopes' backgrounds are rendered when the
    plot is built, so the first scope change is a blit too."""
    from ..ui import LivePlot
    curves = {scope: sweep_magnitude(scope) for scope in ("global", "layer")}

    def _top(r):
        # CSR with 32-bit indices is at most ~2x dense (at sparsity 0): a fixed scale per model
        return 1.05 * max(2.02 * r["dense_bytes"], r["csr_bytes"]) / 1024

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.15, top=0.9, wspace=0.3)
        ax1, ax2 = fig.subplots(1, 2)
        curve, = ax1.plot([], [], color="0.6", label="sweep")
        dot, = ax1.plot([], [], "o", color="C3", ms=9, label="you are here")
        ax1.set(xlabel="sparsity (%)", ylabel="validation accuracy (%)", ylim=(0, 100),
                xlim=(-3, 101), title="Magnitude pruning, no fine-tuning")
        ax1.legend(loc="lower left")
        ax1.autoscale(False)
        bars = ax2.bar(["dense fp32", "CSR fp32 + int32 idx"], [0, 0], color=["0.6", "C0"])
        ax2.set(ylabel="KiB", title="weight memory")
        return {"fig": fig, "curve": curve, "dot": dot, "bars": bars, "ax2": ax2,
                "dynamic": [dot, *bars], "background_key": lambda r: (r["scope"], _top(r))}

    def update(st, r):
        c = curves.get(r["scope"]) or sweep_magnitude(r["scope"])
        st["curve"].set_data([100 * s for s, _ in c], [100 * a for _, a in c])
        st["ax2"].set_ylim(0, _top(r))
        st["dot"].set_data([100 * r["sparsity"]], [100 * r["val_accuracy"]])
        for bar, v in zip(st["bars"], (r["dense_bytes"] / 1024, r["csr_bytes"] / 1024)):
            bar.set_height(v)

    live = LivePlot(setup, update, text=_magnitude_text, figsize=(9, 3.2))
    return live.prewarm(compute_magnitude(0.5, scope) for scope in curves) if warm else live


def render_magnitude(result: dict) -> None:
    """One line of text and a two-panel figure: accuracy curve with the current point, and bytes
    (a fresh :func:`live_magnitude`: the same drawing code as the slider)."""
    live_magnitude(warm=False)(result)
