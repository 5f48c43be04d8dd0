"""Notebook-level glue for ``04_prune_retrain_automated`` (prune → retrain, gradual pruning,
automated per-layer allocation).

Every pruning primitive comes from the library: masks from
:func:`pruninglab.pruning.compute_masks` (per-layer magnitude, ``scope="layer"``: exactly
``round(s·n_l)`` smallest ``|w|`` per layer, ties by flat index), mask-enforced fine-tuning from
:func:`~pruninglab.pruning.fine_tune_`, gradual pruning from
:func:`~pruninglab.pruning.iterative_prune`, the AGP formula from
:func:`~pruninglab.pruning.agp_sparsity` / :func:`~pruninglab.pruning.agp_schedule`, the
sensitivity scan and greedy allocation from :func:`~pruninglab.pruning.sensitivity_scan` /
:func:`~pruninglab.pruning.allocate_sparsity`, and storage sizes from
:func:`pruninglab.hardware.model_storage`. This module only runs the experiments once
(``*_sweep`` / ``compare_*`` / ``lottery_ticket``) and provides the ``compute_*`` / ``render_*``
pairs for the sliders (the callbacks only look up cached numbers or apply masks and evaluate).

References
----------
* S. Han, J. Pool, J. Tran, W. Dally (2015), *Learning both Weights and Connections for Efficient
  Neural Networks*, NeurIPS — magnitude pruning + retraining with the pruned weights held at zero.
* M. Zhu, S. Gupta (2017), *To prune, or not to prune*, arXiv:1710.01878 — the AGP schedule
  ``s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n Δt))^3``.
* J. Frankle, M. Carbin (2019), *The Lottery Ticket Hypothesis*, ICLR — reset survivors to the
  initialisation θ0 (rewinding to an early iteration θ_k is Frankle, Dziugaite, Roy & Carbin,
  2019 *Stabilizing the Lottery Ticket Hypothesis* / ICML 2020 *Linear Mode Connectivity and the
  Lottery Ticket Hypothesis*).
* Sensitivity analysis per layer: Han et al. (2015, Fig. 6); Y. He et al. (2018) *AMC*, ECCV and
  T.-J. Yang et al. (2018) *NetAdapt*, ECCV automate the per-layer choice.
"""
from __future__ import annotations

import copy
import math
from functools import lru_cache
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .._validate import check_choice, check_int, check_sparsity
from ..data import load_digits
from ..hardware import model_storage
from ..models import build_model, load_reference
from ..pruning import (agp_schedule, agp_sparsity, allocate_sparsity, apply_masks_, compute_masks,
                       count_nonzero, count_params, fine_tune_, iterative_prune, model_weights,
                       sparsity_of)
from ..train import accuracy, train

__all__ = [
    "weight_sparsity", "storage_bytes_dense_csr",
    "compute_agp", "render_agp", "live_agp",
    "prune_retrain_sweep", "compute_prune_retrain", "render_prune_retrain", "live_prune_retrain",
    "compare_gradual_oneshot", "lottery_ticket",
    "SCAN_SPARSITIES", "compute_allocation", "render_allocation", "live_allocation",
    "TorchGrad", "regrowth_experiment", "gradual_vs_oneshot", "compare_allocations",
    "ValScore", "learner_scan", "cached_library_scan",
    "cached_prune_retrain_sweep", "cached_lottery_ticket", "cached_regrowth_experiment",
    "cached_gradual_vs_oneshot",
]


# --------------------------------------------------------------------------------------------
# measurements shared by the experiments below (thin wrappers around the library)
# --------------------------------------------------------------------------------------------
def weight_sparsity(model: nn.Module) -> float:
    """Measured fraction of exactly-zero entries over all Linear/Conv2d weights (biases not
    counted): :func:`pruninglab.pruning.sparsity_of` of :func:`~pruninglab.pruning.model_weights`."""
    return sparsity_of(model_weights(model))


def storage_bytes_dense_csr(model: nn.Module, *, value_bits: int = 32, index_bits: int = 16) -> dict:
    """``{"dense_bytes", "csr_bytes", "nonzeros", "params"}`` of all parameters.

    From :func:`pruninglab.hardware.model_storage`: every Linear/Conv2d weight either dense or in
    CSR (``nnz·(b + i) + 32·(rows + 1)`` bits per layer, rounded up to whole bytes, conv weights as
    ``(out, in·kh·kw)`` matrices); biases dense fp32. CSR beats dense only below a density of
    about ``b / (b + i)``.
    """
    dense = model_storage(model, value_bits, "dense")
    csr = model_storage(model, value_bits, "csr", index_bits=index_bits)
    return {"dense_bytes": dense["total_bytes"], "csr_bytes": csr["total_bytes"],
            "nonzeros": count_nonzero(model), "params": count_params(model)}


def _layer_masks(model: nn.Module, sparsity, layers=None) -> dict[str, torch.Tensor]:
    """Per-layer magnitude masks (Han et al. 2015) from the library."""
    return compute_masks(model, sparsity, scope="layer", layers=layers)


# --------------------------------------------------------------------------------------------
# AGP schedule (Zhu & Gupta 2017) — the formula is pruninglab.pruning.agp_sparsity
# --------------------------------------------------------------------------------------------
def compute_agp(initial: float = 0.0, final: float = 0.9, start: int = 0, n_steps: int = 10,
                interval: int = 20, total_steps: int | None = None) -> dict:
    """The AGP sparsity ``s_t`` in force at every step ``0..T`` (pure; for the schedule slider).

    Uses the library's convention: ``s_i`` before ``t0``, the last update's value between
    updates, ``s_f`` after ``t0 + nΔt``."""
    s_i = check_sparsity(initial, "initial")
    s_f = check_sparsity(final, "final")
    t0 = check_int(start, "start", lo=0)
    n = check_int(n_steps, "n_steps", lo=1)
    dt = check_int(interval, "interval", lo=1)
    upd_s = np.array(agp_schedule(s_i, s_f, t0, n, dt))       # also checks final >= initial
    end = t0 + n * dt
    T = check_int(total_steps, "total_steps", lo=1) if total_steps is not None else end + 2 * dt
    steps = np.arange(T + 1)
    # agp_sparsity(t) is s_i before t0 and the value of the last update (index min((t-t0)//Δt, n))
    # afterwards: look those library values up instead of calling it T+1 times (slider-fast)
    k = np.minimum(np.maximum(steps - t0, 0) // dt, n)
    s = np.where(steps < t0, s_i, upd_s[k])
    assert s[-1] == agp_sparsity(T, s_i, s_f, t0, n, dt)
    updates = t0 + dt * np.arange(n + 1)
    half = int(updates[np.argmax(upd_s >= s_i + 0.5 * (s_f - s_i))])
    return {"steps": steps, "sparsity": s, "update_steps": updates, "update_sparsity": upd_s,
            "initial": s_i, "final": s_f, "start": t0, "n_steps": n, "interval": dt, "end": end,
            "half_point_step": half}


def _agp_text(result: dict) -> str:
    return (f"s_i={result['initial']:.2f} → s_f={result['final']:.2f}, updates at steps "
            f"{result['start']}..{result['end']} every {result['interval']}; half of the pruning is "
            f"done by step {result['half_point_step']}")


_NICE = (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)


def _nice_ceiling(x) -> float:
    """The smallest value ``m · 10^k >= x`` with ``m`` in 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8
    (1.0 for ``x <= 1``): an axis end that stays put while ``x`` moves a little."""
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(f"x must be finite, got {x}")
    if x <= 1.0:
        return 1.0
    k = int(np.floor(np.log10(x)))
    for e in (k, k + 1):
        for m in _NICE:
            v = round(m * 10.0 ** e, 9)
            if v >= x - 1e-9:
                return v
    return 10.0 ** (k + 1)  # pragma: no cover


def _nice_values_near(x: float, k: int) -> list:
    """The ``k`` integer axis ends ``m · 10^e`` (``m`` in :data:`_NICE`, value ≥ 2) nearest to
    ``x``'s own :func:`_nice_ceiling` on a log scale, that ceiling first."""
    c = _nice_ceiling(x)
    e = int(np.floor(np.log10(c)))
    vals = {round(m * 10.0 ** p, 9) for p in range(max(0, e - 3), e + 4) for m in _NICE}
    vals = [v for v in vals if v >= 2 and float(v).is_integer()]
    return sorted(vals, key=lambda v: (abs(math.log(v / c)), v))[:k]


def live_agp(warm: dict | None = None):
    """A :class:`pruninglab.ui.LivePlot` for the AGP schedule slider: the sparsity in force at
    every step (staircase) and the mask updates (markers); only data and the x-range change.
    Blitted: a move redraws the staircase and the markers; the axes are static per x-range.
    The x-axis ends at :func:`_nice_ceiling` of the last step ``T`` (the next of 1, 1.2, 1.5, 2,
    2.5, 3, 4, 5, 6, 8 × 10^k: at most 25 % past ``T``), so most moves keep the axes and only a
    move across such a value renders a new background (``background_key``).

    ``warm``: the :func:`compute_agp` result the slider starts from. Its x-range and the
    ``max_backgrounds - 1`` nice x-ranges nearest to it (about T/5 to 5·T) are rendered when the
    plot is built (~40 ms each, ~0.6 s in all), so a move across an x-range is a blit too (a new
    background was ~40 ms in process, 66–86 ms in the browser); what is shown is unchanged."""
    from ..ui import LivePlot
    if warm is not None and not (isinstance(warm, dict) and "steps" in warm and len(warm["steps"])):
        raise TypeError("warm must be a compute_agp result (a dict with 'steps') or None")

    def setup(fig):
        fig.subplots_adjust(left=0.11, right=0.97, bottom=0.14, top=0.9)
        ax = fig.add_subplot(1, 1, 1)
        (steps,) = ax.plot([], [], drawstyle="steps-post", label="sparsity in force")
        (upd,) = ax.plot([], [], "o", ms=4, label="mask updates")
        ax.set_xlabel("training step t")
        ax.set_ylabel("sparsity $s_t$")
        ax.set_ylim(-0.02, 1.0)
        ax.set_title("AGP schedule (Zhu & Gupta, 2017)")
        ax.legend(loc="lower right")
        ax.autoscale(False)
        return {"ax": ax, "steps": steps, "upd": upd, "dynamic": [steps, upd],
                "background_key": lambda r: _nice_ceiling(r["steps"][-1])}

    def update(st, r):
        T = _nice_ceiling(r["steps"][-1])
        st["ax"].set_xlim(-0.03 * T, 1.03 * T)
        st["steps"].set_data(r["steps"], r["sparsity"])
        st["upd"].set_data(r["update_steps"], r["update_sparsity"])

    live = LivePlot(setup, update, text=_agp_text, figsize=(7.0, 3.6))
    if warm is None:
        return live
    ends = _nice_values_near(float(warm["steps"][-1]), LivePlot.max_backgrounds - 1)
    return live.prewarm([*(compute_agp(0.0, 0.5, 0, 1, 1, total_steps=int(v)) for v in ends[::-1]), warm])


def render_agp(result: dict) -> None:
    """Print the summary and draw the schedule (a fresh :func:`live_agp`)."""
    live_agp()(result)


# --------------------------------------------------------------------------------------------
# accuracy vs sparsity with and without fine-tuning (S0-Q3)
# --------------------------------------------------------------------------------------------
DEFAULT_SPARSITIES = (0.0, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)


def prune_retrain_sweep(model_name: str = "mlp", sparsities: Sequence[float] = DEFAULT_SPARSITIES,
                        *, epochs: int = 3, lr: float = 5e-4, seed: int = 0,
                        progress: bool = False) -> dict:
    """One-shot per-layer magnitude pruning of the reference model at every sparsity, evaluated
    (a) directly and (b) after ``epochs`` of mask-enforced fine-tuning
    (:func:`pruninglab.pruning.fine_tune_`). Accuracies on val only (the sweep is for choosing),
    storage in bytes (dense vs CSR, :func:`storage_bytes_dense_csr`). Heavy: call once and pass the result to
    :func:`compute_prune_retrain`."""
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    sp = [check_sparsity(s, "sparsities") for s in sparsities]
    if not sp:
        raise ValueError("sparsities must not be empty")
    check_int(epochs, "epochs", lo=0)
    images = model_name == "cnn"
    tr, va = (load_digits(s, images=images) for s in ("train", "val"))
    rows = []
    it = sp
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(sp, desc="prune + fine-tune (sparsities)")
    for s in it:
        m = load_reference(model_name)
        masks = _layer_masks(m, s)
        apply_masks_(m, masks)
        row = {"sparsity": s, "val_pruned": accuracy(m, va)}
        fine_tune_(m, masks, tr, epochs=epochs, lr=lr, seed=seed)
        row.update({"val_finetuned": accuracy(m, va),
                    "measured_sparsity": weight_sparsity(m)})
        row.update(storage_bytes_dense_csr(m))
        rows.append(row)
    out = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    out.update({"model": model_name, "epochs": epochs, "lr": lr})
    return out


def compute_prune_retrain(sparsity: float, sweep: dict) -> dict:
    """Look up the sweep point nearest to ``sparsity`` (no training in the callback)."""
    s = check_sparsity(sparsity)
    if not isinstance(sweep, dict) or "sparsity" not in sweep:
        raise TypeError("sweep must be the dict returned by prune_retrain_sweep")
    i = int(np.argmin(np.abs(sweep["sparsity"] - s)))
    pick = {k: (v[i].item() if isinstance(v, np.ndarray) else v) for k, v in sweep.items()}
    pick["requested"] = s
    pick["index"] = i
    pick["dense_val"] = float(sweep["val_pruned"][np.argmin(sweep["sparsity"])])
    pick["curves"] = sweep
    return pick


def _prune_retrain_text(r: dict) -> str:
    n = len(r['curves']['sparsity'])
    where = (f"precomputed point {r['index'] + 1} of {n}, marked ◇ in the plot"
             if abs(r["requested"] - r["sparsity"]) < 1e-9 else
             f"the nearest of the {n} precomputed points to {r['requested']:.2f}, marked ◇ in the plot")
    return (f"sparsity {r['sparsity']:.2f} ({where}): "
            f"val acc pruned {r['val_pruned']:.4f} → fine-tuned {r['val_finetuned']:.4f} "
            f"(dense {r['dense_val']:.4f}); storage {r['dense_bytes'] / 1024:.1f} KiB dense, "
            f"{r['csr_bytes'] / 1024:.1f} KiB CSR")


def live_prune_retrain():
    """A :class:`pruninglab.ui.LivePlot` for the prune → retrain slider: val accuracy with and
    without fine-tuning (left) and dense vs CSR KiB (right) against sparsity, with a marker line
    and diamond markers at the precomputed point shown (the sweep's point nearest to the
    slider; with :func:`pruninglab.ui.grid_slider` over the sweep's sparsities every position
    is such a point). Blitted: the curves, legends and limits are static per sweep
    (``background_key``); a move redraws only the two marker lines and the diamonds."""
    from ..ui import LivePlot
    from ..ui import pinned_id as _pinned_id

    def setup(fig):
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.96, wspace=0.25)
        a1, a2 = fig.subplots(1, 2)
        st = {"a1": a1, "a2": a2, "curves": None}
        (st["pruned"],) = a1.plot([], [], "o-", label="pruned, no fine-tune")
        (st["ft"],) = a1.plot([], [], "s-", label="+ fine-tune")
        st["v1"] = a1.axvline(0, color="k", lw=0.8)
        (st["pt"],) = a1.plot([], [], "D", ms=8, mfc="none", mec="k", mew=1.5,
                              label="shown point (precomputed)")
        a1.set_xlabel("sparsity")
        a1.set_ylabel("val accuracy")
        (st["dense"],) = a2.plot([], [], label="dense fp32")
        (st["csr"],) = a2.plot([], [], label="CSR (fp32 + 16-bit idx)")
        st["v2"] = a2.axvline(0, color="k", lw=0.8)
        a2.set_xlabel("sparsity")
        a2.set_ylabel("KiB")
        a2.legend(loc="upper right")    # fixed: "best" would follow the moving marker line
        st["dynamic"] = [st["v1"], st["v2"], st["pt"]]
        st["background_key"] = lambda r: _pinned_id(st, r["curves"])
        return st

    def update(st, r):
        c = r["curves"]
        if st["curves"] is not c:            # a new sweep: set the curves (once)
            st["curves"] = c
            st["pruned"].set_data(c["sparsity"], c["val_pruned"])
            st["ft"].set_data(c["sparsity"], c["val_finetuned"])
            st["ft"].set_label(f"+ {c['epochs']} ep. fine-tune")
            st["dense"].set_data(c["sparsity"], c["dense_bytes"] / 1024)
            st["csr"].set_data(c["sparsity"], c["csr_bytes"] / 1024)
            st["a1"].legend(loc="lower center")
            for v in ("v1", "v2"):           # keep the marker lines inside the data range
                st[v].set_xdata([c["sparsity"].min()] * 2)
            st["pt"].set_data([], [])        # limits from the curves only
            for ax in (st["a1"], st["a2"]):
                ax.autoscale(True)
                ax.relim()
                ax.autoscale_view()
                ax.autoscale(False)          # limits fixed from here on: only the markers move
        for v in ("v1", "v2"):
            st[v].set_xdata([r["sparsity"], r["sparsity"]])
        st["pt"].set_data([r["sparsity"]] * 2, [r["val_pruned"], r["val_finetuned"]])

    return LivePlot(setup, update, text=_prune_retrain_text, figsize=(9, 3.4))


def render_prune_retrain(r: dict) -> None:
    """Print the summary and draw both panels (a fresh :func:`live_prune_retrain`)."""
    live_prune_retrain()(r)


# --------------------------------------------------------------------------------------------
# gradual (AGP) pruning vs one-shot (S4-E2), lottery ticket
# --------------------------------------------------------------------------------------------
def compare_gradual_oneshot(final: float = 0.95, epochs: int = 12, *, prune_rounds: int | None = None,
                            lr: float = 1e-3, seed: int = 0) -> dict:
    """Same start (the reference MLP), same final sparsity, same number of epochs.

    * one-shot: per-layer magnitude pruning to ``final`` at once, then ``epochs`` of mask-enforced
      fine-tuning (:func:`pruninglab.pruning.fine_tune_`);
    * gradual: :func:`pruninglab.pruning.iterative_prune` with the AGP schedule, one epoch per
      round for ``prune_rounds`` rounds (default ``2·epochs // 3``; round ``k`` prunes to
      ``s_f·(1 − (1 − k/n)³)``, masks only grow), then the remaining epochs at the final mask.

    Val accuracy after every epoch for both; val accuracy and measured sparsity at the end (no
    test split: decisions are made on val, notebook 04 reports test once).
    """
    s_f = check_sparsity(final, "final")
    ep = check_int(epochs, "epochs", lo=1)
    n = max(1, (2 * ep) // 3) if prune_rounds is None else check_int(prune_rounds, "prune_rounds",
                                                                     lo=1, hi=ep)
    tr, va = (load_digits(s) for s in ("train", "val"))
    one = load_reference("mlp")
    masks = _layer_masks(one, s_f)
    apply_masks_(one, masks)
    after_prune = {"val": accuracy(one, va)}
    h1 = fine_tune_(one, masks, tr, epochs=ep, lr=lr, seed=seed, val=va)
    grad, gmasks, hist = iterative_prune(load_reference("mlp"), s_f, steps=n, split=tr,
                                         epochs_per_step=1, lr=lr, val=va, scope="layer", seed=seed)
    curve = [h["val_accuracy"] for h in hist]
    if ep > n:
        h2 = fine_tune_(grad, gmasks, tr, epochs=ep - n, lr=lr, seed=seed, val=va)
        curve += [h["val_accuracy"] for h in h2]
    return {
        "final": s_f, "epochs": ep, "prune_rounds": n,
        "oneshot_after_prune": after_prune,
        "oneshot_val_curve": [h["val_accuracy"] for h in h1],
        "gradual_val_curve": curve,
        "oneshot": {"val": accuracy(one, va),
                    "sparsity": weight_sparsity(one)},
        "gradual": {"val": accuracy(grad, va),
                    "sparsity": weight_sparsity(grad)},
        "gradual_schedule": [(h["step"], h["sparsity"]) for h in hist],
    }


def lottery_ticket(sparsity: float = 0.9, epochs: int = 15, *, lr: float = 1e-3, seed: int = 0,
                   progress: bool = False) -> dict:
    """One round of the lottery-ticket experiment (Frankle & Carbin, 2019) on the digits MLP.

    1. initialise ``θ0`` (seeded), train dense ``epochs``; 2. per-layer magnitude mask at
    ``sparsity``; 3a. *rewind*: reset survivors to ``θ0`` and train with the mask enforced
    (:func:`pruninglab.pruning.fine_tune_`); 3b. control: same mask, fresh random initialisation
    (another seed). Frankle & Carbin prune iteratively (p % per round) and the output layer at
    half the rate; one round keeps this cheap. ``progress``: one tqdm bar over the ``3 · epochs``
    training epochs (three equal runs: dense, rewound, re-initialised), updated after each run.
    """
    s = check_sparsity(sparsity)
    check_int(epochs, "epochs", lo=1)
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=3 * epochs, desc="lottery ticket (3 runs)", unit="epoch")
    tr, va = (load_digits(x) for x in ("train", "val"))
    torch.manual_seed(seed)
    net = build_model("mlp")
    theta0 = copy.deepcopy(net.state_dict())
    train(net, tr, epochs=epochs, lr=lr, seed=seed)
    if bar is not None:
        bar.update(epochs)
    dense = {"val": accuracy(net, va)}
    masks = _layer_masks(net, s)
    out = {"sparsity": s, "epochs": epochs, "dense": dense}
    for name, init_seed in (("rewind", None), ("random_reinit", seed + 1)):
        if init_seed is None:
            m = build_model("mlp")
            m.load_state_dict(theta0)
        else:
            torch.manual_seed(init_seed)
            m = build_model("mlp")
        fine_tune_(m, masks, tr, epochs=epochs, lr=lr, seed=seed)
        if bar is not None:
            bar.update(epochs)
        out[name] = {"val": accuracy(m, va),
                     "sparsity": weight_sparsity(m)}
    if bar is not None:
        bar.close()
    return out


# --------------------------------------------------------------------------------------------
# automated per-layer allocation from a sensitivity scan (S2-Q1)
# --------------------------------------------------------------------------------------------
SCAN_SPARSITIES = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)


def compute_allocation(target: float, scan: Mapping[str, Sequence[float]],
                       sparsities: Sequence[float] = SCAN_SPARSITIES, model_name: str = "mlp"
                       ) -> dict:
    """Prune the reference model to global sparsity ``target`` two ways — uniform per-layer and
    the allocation :func:`pruninglab.pruning.allocate_sparsity` derives from ``scan`` (a
    :func:`pruninglab.pruning.sensitivity_scan` result on *val* over the grid ``sparsities``) —
    and evaluate both on val (no fine-tuning; milliseconds, slider-safe). Storage is
    from :func:`storage_bytes_dense_csr`."""
    t = check_sparsity(target, "target")
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    if not isinstance(scan, Mapping) or not scan:
        raise TypeError("scan must be the dict returned by pruninglab.pruning.sensitivity_scan")
    key = tuple((k, tuple(float(a) for a in v)) for k, v in scan.items())
    # cached per (target, scan, grid): revisiting a slider position costs a dict copy
    return copy.deepcopy(_allocation(t, key, tuple(float(x) for x in sparsities), model_name))


@lru_cache(maxsize=2)
def _allocation_base(model_name: str):
    """The reference model (never modified: pruned copies are made from it), the val split and,
    per prunable layer, the stable ``argsort`` of ``|w|`` — the order
    :func:`pruninglab.pruning.magnitude_mask` sorts on every call — computed once per model, so a
    slider move does not sort every weight again."""
    from ..pruning import magnitude_order
    ref = load_reference(model_name)
    va = load_digits("val", images=model_name == "cnn")
    orders = {n: magnitude_order(w) for n, w in model_weights(ref).items()}
    return ref, va, orders


def _ranked_masks(ref: nn.Module, orders: dict, spec, layers) -> dict[str, torch.Tensor]:
    """``compute_masks(ref, spec, scope="layer", layers=layers)`` (per-layer magnitude masks,
    ties: lower flat index pruned first) from the precomputed orders: the same masks."""
    from ..pruning import mask_from_order
    out = {}
    for n, w in model_weights(ref, layers).items():
        s = check_sparsity(spec.get(n, 0.0) if isinstance(spec, Mapping) else spec, f"sparsity[{n!r}]")
        out[n] = mask_from_order(orders[n], w, s)
    return out


@lru_cache(maxsize=512)
def _allocation(t: float, scan_key: tuple, sparsities: tuple, model_name: str) -> dict:
    scan = {k: list(v) for k, v in scan_key}
    ref, va, orders = _allocation_base(model_name)
    layers = list(scan)
    alloc = allocate_sparsity(ref, scan, t, sparsities=sparsities, layers=layers)
    out = {"target": t, "allocation": alloc}
    for name, spec in (("uniform", t), ("auto", alloc)):
        m = copy.deepcopy(ref)
        apply_masks_(m, _ranked_masks(ref, orders, spec, layers))
        w = model_weights(m, layers)
        out[name] = {"val": accuracy(m, va), "sparsity": sparsity_of(w),
                     "per_layer": {n: sparsity_of(v) for n, v in w.items()},
                     **storage_bytes_dense_csr(m)}
    return out


def _allocation_text(r: dict) -> str:
    u, a = r["uniform"], r["auto"]
    return (f"global sparsity {r['target']:.2f}: uniform val {u['val']:.4f} | "
            f"auto val {a['val']:.4f}; CSR size "
            f"{u['csr_bytes'] / 1024:.1f} vs {a['csr_bytes'] / 1024:.1f} KiB")


def live_allocation():
    """A :class:`pruninglab.ui.LivePlot` for the allocation slider: per-layer sparsity, uniform
    vs automatic, as grouped bars (built for the layers of the first result: a result with other
    layers raises ``ValueError``, make a new ``live_allocation()``). Blitted: a move redraws only
    the bars and the title; axes, ticks and legend are rendered once."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.1, right=0.74, bottom=0.12, top=0.9)
        ax = fig.add_subplot(1, 1, 1)
        ax.set_ylabel("layer sparsity")
        ax.set_ylim(0, 1)
        title = ax.set_title("", y=1.0)   # fixed position: the title is a dynamic artist
        return {"ax": ax, "title": title, "layers": None, "dynamic": [title]}

    def update(st, r):
        layers = list(r["allocation"])
        ax = st["ax"]
        if st["layers"] is None:             # first call: build the bars (dynamic)
            x = np.arange(len(layers))
            st["bars"] = (ax.bar(x - 0.2, np.zeros(len(x)), 0.4, label="uniform"),
                          ax.bar(x + 0.2, np.zeros(len(x)), 0.4, label="auto (val scan)"))
            ax.set_xticks(x, layers)
            ax.set_xlim(-0.6, len(x) - 0.4)
            ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5))
            ax.autoscale(False)
            st["layers"] = layers
            st["dynamic"].extend([*st["bars"][0], *st["bars"][1]])
        elif st["layers"] != layers:
            raise ValueError(f"this live_allocation() shows layers {st['layers']}, the result has "
                             f"{layers}: make a new live_allocation() for another model")
        for bars, key in zip(st["bars"], ("uniform", "auto")):
            for b, n in zip(bars, layers):
                b.set_height(r[key]["per_layer"][n])
        st["title"].set_text(f"global sparsity {r['target']:.2f}")

    return LivePlot(setup, update, text=_allocation_text, figsize=(7.0, 3.6))


def render_allocation(r: dict) -> None:
    """Print the summary and draw the per-layer bars (a fresh :func:`live_allocation`)."""
    live_allocation()(r)


# --------------------------------------------------------------------------------------------
# experiments that run the LEARNER's functions (numpy step / gradual pruning / allocation)
# --------------------------------------------------------------------------------------------
class TorchGrad:
    """``grad_fn(weights, t)`` for the learner's numpy functions: loads the list of numpy
    arrays into ``model``'s weight matrices (``fc1, fc2, fc3`` order; biases are kept fixed), runs minibatch
    ``t`` (cross-entropy, reshuffled every epoch with ``seed + epoch``) and returns the gradients
    as numpy arrays. Deterministic."""

    def __init__(self, model: nn.Module, split, batch_size: int = 64, seed: int = 0):
        from ..data import batches
        self.model, self.split, self.bs, self.seed = model, split, batch_size, seed
        # the Linear/Conv weights only (the tensors that are pruned); biases stay as they are
        self.params = [p for n, p in model.named_parameters() if n.endswith("weight") and p.ndim > 1]
        self.per_epoch = -(-len(split) // batch_size)
        self._batches, self._epoch = None, None
        self._make = lambda e: list(batches(split, batch_size, shuffle=True, seed=seed + e))

    def weights(self) -> list:
        return [p.detach().numpy().astype(np.float64) for p in self.params]

    def load(self, weights) -> None:
        with torch.no_grad():
            for p, w in zip(self.params, weights):
                p.copy_(torch.as_tensor(np.asarray(w), dtype=p.dtype))

    def __call__(self, weights, t):
        e, i = divmod(int(t), self.per_epoch)
        if self._epoch != e:
            self._batches, self._epoch = self._make(e), e
        x, y = self._batches[i]
        self.load(weights)
        self.model.zero_grad()
        nn.functional.cross_entropy(self.model(x), y).backward()
        return [p.grad.detach().numpy().astype(np.float64) for p in self.params]


def _mask_list(model, masks: Mapping[str, torch.Tensor] | None) -> list:
    out = []
    for name, p in model.named_parameters():
        if not (name.endswith("weight") and p.ndim > 1):
            continue
        layer = name.rsplit(".", 1)[0]
        out.append(masks[layer].numpy().astype(bool) if masks is not None and layer in masks
                   else np.ones(tuple(p.shape), dtype=bool))
    return out


def regrowth_experiment(step_fn, *, sparsity: float = 0.9, warm_epochs: int = 1, epochs: int = 2,
                        lr: float = 0.05, momentum: float = 0.9, seed: int = 0) -> dict:
    """Why the mask must be re-applied AFTER every step, with the learner's ``step_fn``
    (signature of ``masked_sgd_step``) against a step that only zeroes the pruned gradients.

    The reference MLP is trained ``warm_epochs`` with SGD + momentum (dense: the velocity of
    every weight becomes non-zero), then pruned per layer by magnitude; training continues with
    the SAME velocity (one optimizer) for ``epochs``. Returns the weight sparsity and val
    accuracy after each variant."""
    s = check_sparsity(sparsity)
    tr, va = load_digits("train"), load_digits("val")
    out = {"sparsity": s}
    for name in ("yours", "grad_zeroed_only"):
        m = load_reference("mlp")
        g = TorchGrad(m, tr, seed=seed)
        w, vel = g.weights(), [np.zeros_like(a) for a in g.weights()]
        ones = _mask_list(m, None)
        warm = warm_epochs * g.per_epoch
        for t in range(warm):
            w, vel = step_fn(w, g(w, t), ones, vel, lr, momentum, 0.0)
        g.load(w)
        masks = _layer_masks(m, s)
        ml = _mask_list(m, masks)
        w = [np.where(k, a, 0.0) for k, a in zip(ml, w)]
        for t in range(warm, warm + epochs * g.per_epoch):
            grads = g(w, t)
            if name == "yours":
                w, vel = step_fn(w, grads, ml, vel, lr, momentum, 0.0)
            else:        # the common mistake: mask the gradient, never re-apply the mask
                grads = [np.where(k, a, 0.0) for k, a in zip(ml, grads)]
                vel = [momentum * v + a for v, a in zip(vel, grads)]
                w = [a - lr * v for a, v in zip(w, vel)]
        g.load(w)
        out[name] = {"weight_sparsity": weight_sparsity(m), "val": accuracy(m, va)}
    return out


def gradual_vs_oneshot(gradual_fn, *, final: float = 0.95, epochs: int = 12, prune_epochs: int = 8,
                       n_updates: int = 16, lr: float = 0.02, momentum: float = 0.9,
                       seeds: Sequence[int] = (0, 1, 2), progress: bool = False) -> dict:
    """S4-E2 with the learner's ``gradual_fn`` (signature of ``gradual_prune``), both arms with
    ONE optimizer (SGD + momentum, one velocity for the whole run), step-level mask updates and
    the same number of steps (``epochs`` of the train split) from the reference MLP:

    * one-shot: ``n_updates = 1, interval = 1`` (all of ``final`` at step 1), then fine-tuning;
    * gradual: AGP with ``n_updates`` updates spread over the first ``prune_epochs`` epochs.

    Several seeds (minibatch order); validation accuracy (decisions use val; no test here)."""
    s_f = check_sparsity(final, "final")
    tr, va = load_digits("train"), load_digits("val")
    res = {"final": s_f, "epochs": epochs, "seeds": list(seeds), "oneshot": [], "gradual": [],
           "sparsity": {}}
    runs = [(sd, arm) for sd in seeds for arm in ("oneshot", "gradual")]
    if progress:
        from tqdm.auto import tqdm
        runs = tqdm(runs, desc="gradual vs one-shot (seed, arm)")
    for seed, arm in runs:
        m = load_reference("mlp")
        g = TorchGrad(m, tr, seed=seed)
        total = epochs * g.per_epoch
        if arm == "oneshot":
            n, dt = 1, 1
        else:
            n, dt = n_updates, max(1, prune_epochs * g.per_epoch // n_updates)
        w, masks = gradual_fn(g.weights(), g, total, s_f, 0, n, dt, lr, momentum)
        g.load(w)
        res[arm].append(accuracy(m, va))
        res["sparsity"][arm] = weight_sparsity(m)
    for arm in ("oneshot", "gradual"):
        a = np.array(res[arm])
        res[arm + "_mean"], res[arm + "_min"], res[arm + "_max"] = float(a.mean()), float(a.min()), float(a.max())
    return res


class ValScore:
    """``evaluate(weights, split="val")`` for the learner's ``layer_sensitivity``: loads the list
    of numpy arrays into a copy of ``model``'s Linear/Conv weights (``model_weights`` order) and
    returns the accuracy on ``split`` (the validation split). ``split="test"`` is refused: a scan
    chooses sparsities, and choices are made on validation data."""

    def __init__(self, model: nn.Module, split):
        self.model, self.split = copy.deepcopy(model).eval(), split
        self.names = list(model_weights(self.model))
        self.params = [getattr(self.model.get_submodule(n), "weight") for n in self.names]
        self.calls = 0

    def dense_weights(self) -> list:
        return [p.detach().numpy().copy() for p in self.params]

    def __call__(self, weights, split: str = "val") -> float:
        if split == "test":
            raise ValueError("split must be 'val': a sensitivity scan chooses sparsities, so it "
                             "never looks at the test split (reported once, at the end)")
        if split != "val":
            raise ValueError(f"split must be 'val', got {split!r}")
        if not isinstance(weights, (list, tuple)) or len(weights) != len(self.params):
            raise TypeError(f"weights must be a list of {len(self.params)} numpy arrays "
                            f"({', '.join(self.names)})")
        with torch.no_grad():
            for p, w in zip(self.params, weights):
                a = np.asarray(w)
                if a.shape != tuple(p.shape):
                    raise ValueError(f"weights: an array has shape {a.shape}, expected {tuple(p.shape)}")
                p.copy_(torch.as_tensor(a, dtype=p.dtype))
        self.calls += 1
        return accuracy(self.model, self.split)


def learner_scan(scan_fn, model: nn.Module, split, sparsities: Sequence[float] = SCAN_SPARSITIES
                 ) -> dict[str, list[float]]:
    """The learner's ``scan_fn`` (signature of ``layer_sensitivity``) on ``model``'s weights,
    scored by :class:`ValScore` on ``split``; returned like
    :func:`pruninglab.pruning.sensitivity_scan` (``{layer: [val acc per sparsity]}``)."""
    if getattr(split, "name", None) == "test":
        raise ValueError("split must not be the test split: scan on 'val'")
    ev = ValScore(model, split)
    grid = np.array([check_sparsity(float(x), "sparsities") for x in sparsities])
    out = np.asarray(scan_fn(ev.dense_weights(), ev, grid), dtype=float)
    if out.shape != (len(ev.names), len(grid)):
        raise ValueError(f"layer_sensitivity returned shape {out.shape}, expected "
                         f"{(len(ev.names), len(grid))} (layers × grid)")
    return {n: [float(v) for v in row] for n, row in zip(ev.names, out)}


def _predicted_acc(scan: Mapping[str, Sequence[float]], alloc: Mapping[str, float], grid) -> float:
    """The scan's additive model: dense accuracy minus the sum of the single-layer drops
    (linear interpolation between grid points)."""
    g = np.asarray(grid, dtype=float)
    base = float(np.mean([v[0] for v in scan.values()]))
    return base - float(sum(scan[n][0] - np.interp(alloc[n], g, np.asarray(scan[n], dtype=float))
                            for n in alloc))


def compare_allocations(allocate_fn, scan: Mapping[str, Sequence[float]], target: float,
                        sparsities: Sequence[float] = SCAN_SPARSITIES, *, n_boot: int = 2000,
                        seed: int = 0) -> dict:
    """The learner's ``allocate_fn`` (signature of ``allocate_budget``) against the library's
    :func:`pruninglab.pruning.allocate_sparsity` and uniform pruning on the same val scan: prune
    the reference MLP with each allocation (no fine-tuning) and measure val accuracy and the
    fraction of weights removed; ``predicted`` is the scan's additive estimate of each val
    accuracy. ``diff`` (yours − library, val) comes with a paired bootstrap over the val images
    (``n_boot`` resamples, fixed ``seed``): ``diff_lo`` / ``diff_hi`` = 5 % / 95 % quantiles
    (magnitude pruning has no randomness: the spread is that of the 359 evaluation images)."""
    t = check_sparsity(target, "target")
    va = load_digits("val")
    ref = load_reference("mlp")
    layers = list(scan)
    sizes = np.array([model_weights(ref)[n].numel() for n in layers])
    grid = np.array([float(x) for x in sparsities])
    arr = np.array([[float(a) for a in scan[n]] for n in layers])
    mine = np.asarray(allocate_fn(arr, sizes, grid, t), dtype=float)
    allocs = {"yours": dict(zip(layers, mine.tolist())),
              "library": allocate_sparsity(ref, scan, t, sparsities=sparsities, layers=layers),
              "uniform": {n: t for n in layers}}
    out = {"target": t}
    correct = {}
    for name, a in allocs.items():
        m = copy.deepcopy(ref).eval()
        apply_masks_(m, _layer_masks(m, a, layers=layers))
        with torch.no_grad():
            correct[name] = (m(va.x).argmax(1) == va.y).numpy()
        out[name] = {"allocation": {n: float(v) for n, v in a.items()}, "val": accuracy(m, va),
                     "sparsity": sparsity_of(model_weights(m, layers)),
                     "predicted": _predicted_acc(scan, a, grid)}
        assert abs(out[name]["val"] - float(correct[name].mean())) < 1e-6
    d = correct["yours"].astype(float) - correct["library"].astype(float)
    idx = np.random.default_rng(seed).integers(0, len(d), size=(int(n_boot), len(d)))
    boots = d[idx].mean(axis=1)
    out.update({"diff": float(d.mean()), "diff_lo": float(np.quantile(boots, 0.05)),
                "diff_hi": float(np.quantile(boots, 0.95)), "n_val": int(len(d)),
                "dense_val": accuracy(ref, va)})
    return out


# --------------------------------------------------------------------------------------------
# on-disk caches (pruninglab.cache): the notebook's two builds and a second run load the result
# --------------------------------------------------------------------------------------------
def _cached(name: str, version: int, compute, learner_fns=(), **params):
    """``compute(**params)`` through :func:`pruninglab.cache.cached`; the key also holds the
    source hash of each learner function (:func:`pruninglab.labs.fundamentals.function_key`,
    which follows the functions it calls). Without a source (a lambda at a prompt): not cached."""
    from ..cache import cached
    from .fundamentals import function_key
    keys = [function_key(f) for f in learner_fns]
    if any(k == "" for k in keys):
        return compute(**params)
    return cached(name, version, lambda **kw: compute(**params), fn_keys=tuple(keys), **params)


def cached_library_scan(model_name: str = "mlp", sparsities: Sequence[float] = SCAN_SPARSITIES) -> dict:
    """:func:`pruninglab.pruning.sensitivity_scan` of the reference model on val, cached on disk."""
    from ..pruning import sensitivity_scan

    def compute(model_name, sparsities):
        return sensitivity_scan(load_reference(model_name), load_digits("val", images=model_name == "cnn"),
                                list(sparsities))
    return _cached("sensitivity_scan04", 1, compute, model_name=model_name,
                   sparsities=tuple(float(x) for x in sparsities))


def cached_prune_retrain_sweep(model_name: str = "mlp", sparsities: Sequence[float] = DEFAULT_SPARSITIES,
                               *, epochs: int = 3, lr: float = 5e-4, seed: int = 0,
                               progress: bool = False) -> dict:
    """:func:`prune_retrain_sweep`, cached on disk (deterministic: seeded); ``progress``: a tqdm
    bar while computing (not part of the key)."""
    return _cached("prune_retrain_sweep", 1, lambda **kw: prune_retrain_sweep(**kw, progress=progress),
                   model_name=model_name, sparsities=tuple(float(x) for x in sparsities),
                   epochs=epochs, lr=lr, seed=seed)


def cached_lottery_ticket(sparsity: float = 0.9, epochs: int = 15, *, lr: float = 1e-3, seed: int = 0,
                          progress: bool = False) -> dict:
    """:func:`lottery_ticket`, cached on disk (deterministic: seeded); ``progress``: a tqdm bar
    while computing (not part of the key)."""
    return _cached("lottery_ticket", 1, lambda **kw: lottery_ticket(**kw, progress=progress),
                   sparsity=sparsity, epochs=epochs, lr=lr, seed=seed)


def cached_regrowth_experiment(step_fn, **kw) -> dict:
    """:func:`regrowth_experiment` with the learner's ``step_fn``, cached under its source."""
    return _cached("regrowth", 1, lambda **k: regrowth_experiment(step_fn, **k), (step_fn,), **kw)


def cached_gradual_vs_oneshot(gradual_fn, *, progress: bool = False, **kw) -> dict:
    """:func:`gradual_vs_oneshot` with the learner's ``gradual_fn``, cached under its source
    (and the sources of the functions it calls, e.g. ``agp_sparsity``, ``masked_sgd_step``);
    ``progress``: a tqdm bar while computing (not part of the key)."""
    if "seeds" in kw:
        kw["seeds"] = tuple(kw["seeds"])
    return _cached("gradual_vs_oneshot", 1,
                   lambda **k: gradual_vs_oneshot(gradual_fn, progress=progress, **k),
                   (gradual_fn,), **kw)
