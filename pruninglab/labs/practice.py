"""Compute/render functions and timing helpers for ``07_pruning_in_practice``.

Does pruning make a network faster? The answer depends on *what* is removed and *which kernel*
runs the result:

* **Unstructured** zeros inside a dense matrix: a dense GEMM multiplies them anyway, so the
  executed MACs and the latency do not change (Han et al. 2016, *Deep Compression*, Appendix A:
  sparse kernels only win at batch 1 and 4–9 % density; at batch 64 they were slower).
* A **sparse format** (CSR) skips the zeros but pays for indices and irregular memory access; it
  breaks even only at high sparsity.
* **Structured** (neuron/channel) pruning shrinks the dense matrices (Li et al. 2017): fewer MACs
  in an ordinary dense kernel, so it is faster on any hardware.

Training: a masked model does the same dense forward/backward work plus the masking, so it is
*not* faster to train; only a physically smaller model trains faster.

Timings (:func:`matmul_benchmark` via :func:`pruninglab.hardware.time_linear_variants`,
:func:`training_benchmark`) are
measurements on this machine: they vary between runs and are shown only in notebook cells tagged
``nbval-ignore-output``. The counts (:func:`matmul_costs`, :func:`compute_practice`) are exact and
deterministic.
"""
from __future__ import annotations

import copy
import statistics
import time
from functools import lru_cache
from typing import Iterable

import numpy as np
import torch
from torch import nn

from .._validate import check_choice, check_int, check_sparsity

__all__ = ["matmul_costs", "matmul_benchmark", "training_costs",
           "training_benchmark", "shrink_mlp_neurons", "compute_practice", "live_practice",
           "render_practice"]


# ----------------------------------------------------------------------------------------------
# timing
# ----------------------------------------------------------------------------------------------
def matmul_costs(sparsity: float, n: int = 1024, batch: int = 64, bits: int = 32) -> dict:
    """Exact work and storage of ``y = x Wᵀ`` with ``W`` of shape ``n × n`` at a given sparsity.

    * ``dense_macs = batch·n²`` — what a dense kernel executes, zeros included;
    * ``useful_macs = batch·nnz`` — MACs with a non-zero weight (what an ideal sparse kernel does);
    * ``shrunk_macs = batch·n·m`` — a dense layer with ``m = n − round(s·n)`` output neurons kept
      (structured pruning removing the same *fraction* of weights);
    * bytes: dense ``n²·b/8``; CSR with 32-bit column indices and row pointers
      (``nnz·(b + 32) + (n + 1)·32`` bits, :func:`pruninglab.hardware.storage_bytes`).
    """
    from ..hardware import storage_bytes
    s = check_sparsity(sparsity)
    n = check_int(n, "n", lo=4)
    batch = check_int(batch, "batch", lo=1)
    nnz = n * n - int(round(s * n * n))
    m = n - int(round(s * n))
    return {"sparsity": s, "n": n, "batch": batch, "nnz": nnz, "kept_neurons": m,
            "dense_macs": batch * n * n, "useful_macs": batch * nnz, "shrunk_macs": batch * n * m,
            "dense_bytes": storage_bytes((n, n), 0.0, bits, "dense"),
            "csr_bytes": storage_bytes((n, n), s, bits, "csr"),
            "shrunk_bytes": storage_bytes((m, n), 0.0, bits, "dense")}


def matmul_benchmark(sparsities: Iterable[float] = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99), *,
                     n: int = 1024, batch: int = 64, repeats: int = 15, seed: int = 0) -> list[dict]:
    """Measure ``y = x Wᵀ`` (``W`` is ``n × n``, ``x`` is ``batch × n``) three ways per sparsity
    with :func:`pruninglab.hardware.time_linear_variants`:

    * ``dense_ms``: zeros stored in a dense tensor, dense matmul (``torch.nn.functional.linear``);
    * ``csr_ms``: the same weight as ``torch.sparse_csr`` (``torch.sparse.mm(W_csr, xᵀ)``);
    * ``shrunk_ms``: a dense matrix with only ``round((1 − s)·n)`` rows (structured pruning).

    The zeros are placed at random (the position pattern, not the values, is what a kernel sees).
    Returns one dict per sparsity with the three medians (milliseconds), the speedups relative
    to the dense matmul, and the exact :func:`matmul_costs`. A measurement: not deterministic.
    """
    from ..hardware import time_linear_variants
    n = check_int(n, "n", lo=4)
    batch = check_int(batch, "batch", lo=1)
    check_int(repeats, "repeats", lo=1)
    rows = []
    for s in sparsities:
        s = check_sparsity(s, "sparsities")
        t = time_linear_variants(n, n, batch, s, seed=seed, repeats=repeats,
                                 variants=("dense", "sparse_csr", "channel"))
        rows.append({**matmul_costs(s, n, batch), "dense_ms": 1e3 * t["dense"],
                     "csr_ms": 1e3 * t["sparse_csr"], "shrunk_ms": 1e3 * t["channel"],
                     "csr_speedup": t["dense"] / t["sparse_csr"],
                     "shrunk_speedup": t["dense"] / t["channel"]})
    return rows


# ----------------------------------------------------------------------------------------------
# training: masked vs physically smaller
# ----------------------------------------------------------------------------------------------
def shrink_mlp_neurons(model: nn.Module, fraction: float) -> nn.Module:
    """A **new**, physically smaller ``DigitsMLP``: each hidden layer (``fc1``, ``fc2``) loses the
    ``round(fraction·h)`` neurons with the smallest L1 norm of incoming weights (Li et al. 2017,
    applied to neurons) and the next layer the matching inputs —
    :func:`pruninglab.pruning.structured.shrink_model` with ``{"fc1": f, "fc2": f}``.

    ``model`` is not modified. Accuracy changes because neurons are removed (no fine-tuning).
    """
    from ..models import DigitsMLP
    from ..pruning.structured import shrink_model
    if not isinstance(model, DigitsMLP):
        raise TypeError(f"model must be a pruninglab.models.DigitsMLP, got {type(model).__name__}")
    f = check_sparsity(fraction, "fraction")
    if f == 0.0:
        return copy.deepcopy(model)
    return shrink_model(model, {"fc1": f, "fc2": f})


def training_costs(sparsity: float = 0.9, batch: int = 64) -> dict:
    """Exact per-sample forward MACs of the three training set-ups compared in the notebook.

    ``dense``: the reference MLP; ``masked``: the same MLP with a fraction ``sparsity`` of weights
    held at zero by a mask (a dense kernel still executes every MAC, plus one multiply per weight
    per step for the mask); ``small``: an MLP whose hidden layers keep ``1 − sparsity`` of their
    neurons (built by :func:`shrink_mlp_neurons`).
    """
    from ..hardware import layer_profile
    from ..models import build_model, load_reference
    from ..pruning import count_params
    s = check_sparsity(sparsity)
    batch = check_int(batch, "batch", lo=1)
    dense = build_model("mlp")
    small = shrink_mlp_neurons(load_reference("mlp"), s)
    macs = lambda m: sum(r["macs"] for r in layer_profile(m, (1, 64)))
    params = count_params
    weights = sum(m.weight.numel() for m in (dense.fc1, dense.fc2, dense.fc3))
    return {"sparsity": s, "dense_macs": macs(dense), "masked_macs": macs(dense),
            "masked_extra_mults_per_step": weights, "small_macs": macs(small),
            "dense_params": params(dense), "small_params": params(small),
            "small_hidden": (small.fc1.out_features, small.fc2.out_features)}


def training_benchmark(sparsity: float = 0.9, epochs: int = 3, repeats: int = 3,
                       seed: int = 0) -> dict:
    """Median seconds to train for ``epochs`` epochs on the digits train split: the dense MLP,
    the same MLP with a magnitude mask re-applied after every step (``after_step``), and a
    physically smaller MLP (hidden layers keep ``1 − sparsity`` of their neurons). One untimed
    one-epoch warm-up run each, then ``repeats`` interleaved runs; ``*_s`` is the median,
    ``*_spread`` the (min, max) over the runs. A measurement.
    """
    from ..data import load_digits
    from ..models import build_model
    from ..pruning import apply_masks_, compute_masks
    from ..train import train
    s = check_sparsity(sparsity)
    check_int(epochs, "epochs", lo=1)
    check_int(repeats, "repeats", lo=1)
    split = load_digits("train")

    def run(kind, n_epochs=epochs):
        torch.manual_seed(seed)
        model = build_model("mlp")
        hook = None
        if kind == "masked":
            masks = compute_masks(model, s, scope="layer")

            def hook():
                apply_masks_(model, masks)
            hook()
        elif kind == "small":
            model = shrink_mlp_neurons(model, s)
        t0 = time.perf_counter()
        train(model, split, epochs=n_epochs, seed=seed, after_step=hook)
        return time.perf_counter() - t0

    kinds = ("dense", "masked", "small")
    for kind in kinds:  # warm-up (first calls allocate and initialise kernels)
        run(kind, 1)
    times = {k: [] for k in kinds}
    for _ in range(repeats):  # interleaved, so a load change on the machine hits all three
        for kind in kinds:
            times[kind].append(run(kind))
    out = {"sparsity": s, "epochs": epochs}
    out.update({f"{k}_s": statistics.median(v) for k, v in times.items()})
    out.update({f"{k}_spread": (min(v), max(v)) for k, v in times.items()})
    return out


# ----------------------------------------------------------------------------------------------
# slider: unstructured vs structured on the reference MLP
# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _setup():
    from ..data import load_digits
    from ..models import load_reference
    return load_reference("mlp"), load_digits("val")


def compute_practice(sparsity: float = 0.5, kind: str = "unstructured") -> dict:
    """Prune a copy of the reference MLP and count what a dense kernel would execute.

    ``kind="unstructured"``: global magnitude pruning of a fraction ``sparsity`` of all weights
    (Han et al. 2015); the matrices keep their shapes, so dense MACs are unchanged.
    ``kind="structured"``: remove a fraction ``sparsity`` of the neurons of each hidden layer
    by L1 norm (Li et al. 2017), giving smaller dense matrices.

    Returns validation accuracy (no fine-tuning), weight sparsity, dense MACs per sample executed
    by a dense kernel, MACs with non-zero weights, and the weight bytes (fp32 dense; and CSR with
    32-bit indices for the unstructured case, :mod:`pruninglab.hardware.storage`).
    """
    s = check_sparsity(sparsity)
    check_choice(kind, "kind", ("unstructured", "structured"))
    return {**_practice_cached(round(s, 6), kind), "sparsity": s}


@lru_cache(maxsize=512)
def _practice_cached(s: float, kind: str) -> dict:
    """Cached body of :func:`compute_practice` (the slider revisits the same grid values)."""
    from ..hardware import layer_profile, model_storage
    from ..pruning.model import apply_masks_, compute_masks
    from ..train import accuracy
    ref, val = _setup()
    if kind == "unstructured":
        model = copy.deepcopy(ref)
        apply_masks_(model, compute_masks(model, s, scope="global"))
    else:
        model = shrink_mlp_neurons(ref, s)
    prof = layer_profile(model, (1, 64))
    weights = sum(r["params"] for r in prof)
    nonzero = sum(r["nonzero"] for r in prof)
    useful = sum(r["macs"] * r["nonzero"] / r["params"] for r in prof)
    dense_bytes = model_storage(model, 32, "dense")["total_bytes"]
    csr_bytes = model_storage(model, 32, "csr")["total_bytes"]
    ref_weights = sum(m.weight.numel() for m in (ref.fc1, ref.fc2, ref.fc3))
    return {"sparsity": s, "kind": kind, "val_accuracy": accuracy(model, val),
            "weights": weights, "nonzero": nonzero,
            "weight_sparsity": 1 - nonzero / ref_weights,
            "dense_kernel_macs": sum(r["macs"] for r in prof), "useful_macs": int(round(useful)),
            "dense_bytes": dense_bytes, "csr_bytes": csr_bytes,
            "best_bytes": min(dense_bytes, csr_bytes)}


@lru_cache(maxsize=2)
def _sweep(kind: str) -> tuple:
    grid = [round(0.05 * i, 2) for i in range(20)]
    return tuple((g, compute_practice(g, kind)) for g in grid)


def _practice_text(r: dict) -> str:
    return (f"{r['kind']} {100 * r['sparsity']:.0f}%: val accuracy {100 * r['val_accuracy']:.2f}%, "
            f"weights removed {100 * r['weight_sparsity']:.1f}%, MACs a dense kernel executes "
            f"{r['dense_kernel_macs']:,} (useful {r['useful_macs']:,}), "
            f"smallest storage {r['best_bytes'] / 1024:.1f} KiB")


def live_practice():
    """A :class:`pruninglab.ui.LivePlot` for the notebook-07 slider: accuracy (left) and the MACs a
    dense kernel executes (right) vs fraction pruned for both kinds (curves computed once, on the
    first draw), with the current setting as a red dot. Blitted: axes, curves and legend are the
    static background (fixed limits); a move paints the two dots only."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.075, right=0.985, bottom=0.16, top=0.9, wspace=0.28)
        a1, a2 = fig.subplots(1, 2)
        top = 0.0
        for kind, c in (("unstructured", "C0"), ("structured", "C1")):
            sw = _sweep(kind)
            xs = [100 * g for g, _ in sw]
            a1.plot(xs, [100 * d["val_accuracy"] for _, d in sw], color=c, label=kind)
            macs = [d["dense_kernel_macs"] / 1e3 for _, d in sw]
            a2.plot(xs, macs, color=c, label=kind)
            top = max(top, max(macs))
        dot1, = a1.plot([], [], "o", color="C3", ms=9)
        dot2, = a2.plot([], [], "o", color="C3", ms=9)
        a1.set(xlabel="fraction pruned (%)", ylabel="val accuracy (%)", ylim=(0, 100),
               xlim=(-5, 100), title="accuracy, no fine-tuning")
        a2.set(xlabel="fraction pruned (%)", ylabel="kMACs / sample", ylim=(0, 1.08 * top),
               xlim=(-5, 100), title="work of a dense kernel")
        a1.legend(loc="lower left")
        return {"dot1": dot1, "dot2": dot2, "dynamic": [dot1, dot2]}  # fixed limits: only the dots move

    def update(st, r):
        x = [100 * r["sparsity"]]
        st["dot1"].set_data(x, [100 * r["val_accuracy"]])
        st["dot2"].set_data(x, [r["dense_kernel_macs"] / 1e3])

    return LivePlot(setup, update, text=_practice_text, figsize=(9, 3.2))


def render_practice(result: dict) -> None:
    """Print the key numbers and plot accuracy and dense-kernel MACs for both kinds (a fresh
    :func:`live_practice`: the same drawing code as the slider)."""
    live_practice()(result)
