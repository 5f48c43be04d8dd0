"""Compute/render functions for notebook 01 (pruning fundamentals).

The notebook ``01_pruning_fundamentals`` validates the ``compute_*`` functions in normal cells
and drives the ``render_*`` functions from sliders. Expensive work (accuracy sweeps, the
iterative prune + fine-tune design study) happens once in the ``*_sweep`` functions; the slider
callbacks only build masks, evaluate the small reference model on the validation split and count
bytes (a few milliseconds).

Every pruning step uses :mod:`pruninglab.pruning` (masks are pure, application is a separate
in-place step on a *copy*); every hardware number uses :mod:`pruninglab.hardware`.

References
----------
* S. Han, J. Pool, J. Tran, W. Dally (2015), *Learning both Weights and Connections for Efficient
  Neural Networks*, NeurIPS — magnitude pruning, per-layer threshold ``q · std(W_l)``,
  retraining with pruned weights held at zero, iterative pruning for the highest rates.
* H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf (2017), *Pruning Filters for Efficient
  ConvNets*, ICLR — structure score ``‖W_j‖_1``.
* M. Zhu, S. Gupta (2017), *To prune, or not to prune*, arXiv:1710.01878 — global magnitude.
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch
from torch import nn

from .._validate import check_choice, check_int, check_number, check_sparsity
from ..data import Split
from ..hardware import layer_profile, model_storage
from ..pruning import (apply_masks_, compute_masks, count_nonzero, count_params, fine_tune_,
                       prunable_layers, shrink_model, structured_keep, threshold_mask)
from ..train import accuracy

__all__ = [
    "THRESHOLD_MODES", "threshold_masks", "hardware_cost",
    "criteria_sweep", "compute_criteria", "render_criteria", "live_criteria",
    "compute_threshold", "render_threshold", "live_threshold",
    "structured_ratios", "compute_structured", "render_structured", "live_structured",
    "iterative_threshold_prune", "design_sweep", "compute_design", "render_design", "live_design",
]

THRESHOLD_MODES = ("absolute", "fraction_of_max", "times_std")
DEFAULT_SPARSITIES = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98)


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_split(split, name: str = "split") -> Split:
    if not isinstance(split, Split):
        raise TypeError(f"{name} must be a pruninglab.data.Split, got {type(split).__name__}")
    return split


def _input_shape(model: nn.Module) -> tuple[int, ...]:
    """Batch-1 input shape of the reference models (MLP: 64 features, CNN: 1×8×8 image)."""
    first = next(iter(prunable_layers(model).values()))
    return (1, first.in_features) if isinstance(first, nn.Linear) else (1, first.in_channels, 8, 8)


# --------------------------------------------------------------------------------------------
# thresholds (S0-C2, S1-C5, S4-E1)
# --------------------------------------------------------------------------------------------
def threshold_masks(model: nn.Module, value: float, mode: str = "absolute", *,
                    reference: nn.Module | None = None) -> dict[str, torch.Tensor]:
    """Per-layer threshold masks ``{layer: keep |w| >= t_l}`` for every Linear/Conv2d weight.

    ``mode`` chooses the per-layer threshold ``t_l``:

    * ``"absolute"``: ``t_l = value`` (the seed documents' rule);
    * ``"fraction_of_max"``: ``t_l = value · max|W_l|`` (document 000's rule, done per layer);
    * ``"times_std"``: ``t_l = value · std(W_l)`` (Han et al., 2015, *quality parameter* ``q``).

    The scale (max or std) is measured on ``reference`` (default: ``model`` itself) so that an
    iterative procedure can keep the thresholds of the dense model. Pure: nothing is modified.
    """
    _check_model(model)
    v = check_number(value, "value", lo=0.0)
    if v == float("inf"):
        raise ValueError("value must be finite, got inf")
    check_choice(mode, "mode", THRESHOLD_MODES)
    ref = _check_model(reference) if reference is not None else model
    ref_layers = prunable_layers(ref)
    out = {}
    for name, mod in prunable_layers(model).items():
        w = mod.weight.detach()
        if name not in ref_layers:
            raise ValueError(f"reference has no layer {name!r}")
        r = ref_layers[name].weight.detach()
        if mode == "absolute":
            t = v
        elif mode == "fraction_of_max":
            t = v * float(r.abs().max())
        else:
            t = v * float(r.std())
        out[name] = threshold_mask(w, t)
    return out


def hardware_cost(model: nn.Module) -> dict:
    """Storage and arithmetic of ``model`` as it is (its real zeros), fp32 values:

    ``params``, ``nonzeros`` (all parameters), ``dense_bytes`` / ``csr_bytes`` / ``bitmask_bytes``
    (weights in that format, biases dense; :func:`pruninglab.hardware.model_storage`, CSR with
    32-bit column indices and row pointers), ``macs`` (dense MACs of one sample, what a dense
    engine executes) and ``nonzero_macs`` (MACs with a non-zero weight, what a zero-skipping
    engine executes)."""
    _check_model(model)
    prof = layer_profile(model, _input_shape(model))
    macs = sum(r["macs"] for r in prof)
    nz_macs = sum(r["macs"] * r["nonzero"] // r["params"] for r in prof)
    return {"params": count_params(model), "nonzeros": count_nonzero(model),
            "dense_bytes": model_storage(model, 32, "dense")["total_bytes"],
            "csr_bytes": model_storage(model, 32, "csr")["total_bytes"],
            "bitmask_bytes": model_storage(model, 32, "bitmask")["total_bytes"],
            "macs": int(macs), "nonzero_macs": int(nz_macs)}


def _masked_copy(model: nn.Module, masks) -> nn.Module:
    pruned = copy.deepcopy(model)
    apply_masks_(pruned, masks)
    return pruned


def _weight_sparsity(masks) -> float:
    pruned = sum(int((~m).sum()) for m in masks.values())
    return pruned / sum(m.numel() for m in masks.values())


# --------------------------------------------------------------------------------------------
# live figures: drawn once, updated in place by the sliders (pruninglab.ui.LivePlot)
# --------------------------------------------------------------------------------------------
def _frozen(fig, st: dict, key, dynamic) -> None:
    """Keep everything but the ``dynamic`` artists as a pre-rendered image while ``key`` holds.

    Ticks, labels, titles, legends and precomputed curves (most of the drawing cost: text) are
    rendered once per ``key`` (whatever fixes them: the sweep, the axes limits) and composited as
    one image; each PNG then only draws the ``dynamic`` artists on top, at the same pixels. A new
    ``key`` restores the artists and renders the background again. Nothing is frozen (full redraw)
    when ``savefig`` would use another dpi or a tight bounding box (the pixels would not line up).
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    fz = st.setdefault("_frozen", {"key": object(), "hidden": [], "image": None})
    if fz["key"] == key:
        return
    for a in fz["hidden"]:                       # undo the previous freeze
        a.set_visible(True)
    if fz["image"] is not None:
        fz["image"].remove()
    fz.update(key=key, hidden=[], image=None)
    sdpi = mpl.rcParams["savefig.dpi"]
    if (sdpi != "figure" and sdpi != fig.dpi) or mpl.rcParams["savefig.bbox"] == "tight":
        return
    dynamic = set(dynamic)
    shown = [a for a in dynamic if a.get_visible()]
    for a in shown:
        a.set_visible(False)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    background = np.asarray(canvas.buffer_rgba()).copy()
    for a in shown:
        a.set_visible(True)
    for ax in fig.axes:
        for child in [ax, *ax.get_children()]:
            if child not in dynamic and child.get_visible():
                child.set_visible(child is ax)   # the Axes stays, to draw its dynamic children
                if child is not ax:
                    fz["hidden"].append(child)
    if fig.patch.get_visible():
        fig.patch.set_visible(False)
        fz["hidden"].append(fig.patch)
    fz["image"] = fig.figimage(background, 0, 0, origin="upper", zorder=-1)


def _set_bars(bars, values) -> None:
    for bar, v in zip(bars, values):
        bar.set_height(v)


def _bytes_top(r: dict, scale: float = 1.0) -> float:
    """Fixed y-limit for dense/CSR/bitmask bars: CSR with 32-bit indices is at most ~2x dense."""
    return 1.05 * max(2.05 * r["dense_bytes"], r["csr_bytes"], r["bitmask_bytes"]) / scale


def _sweep_changed(st: dict, sweep) -> bool:
    """True (and remembered) when ``sweep`` is not the object the curves were last drawn from."""
    if "sweep" in st and st["sweep"] is sweep:
        return False
    st["sweep"] = sweep
    return True


# --------------------------------------------------------------------------------------------
# criteria and scope: magnitude (layer / global) vs random, structured neurons
# --------------------------------------------------------------------------------------------
def structured_ratios(model: nn.Module, ratio: float) -> dict[str, float]:
    """``{layer: ratio}`` for every hidden layer whose outputs can be removed (not the classifier)."""
    from ..pruning import structure_chains
    r = check_sparsity(ratio, "ratio")
    return {n: r for n in structure_chains(_check_model(model))}


def _weights_total(model: nn.Module) -> int:
    return sum(m.weight.numel() for m in prunable_layers(model).values())


def _one_point(model: nn.Module, split: Split, s: float, seed: int) -> dict:
    out = {}
    for key, scope, method in (("layer_magnitude", "layer", "magnitude"),
                               ("global_magnitude", "global", "magnitude"),
                               ("random", "layer", "random")):
        masks = compute_masks(model, s, scope=scope, method=method, seed=seed)
        out[key] = accuracy(_masked_copy(model, masks), split)
    return out


def criteria_sweep(model: nn.Module, split: Split, sparsities: Sequence[float] = DEFAULT_SPARSITIES,
                   *, seed: int = 0) -> dict:
    """Accuracy on ``split`` (use *val*) after one-shot pruning, no fine-tuning, at each weight
    sparsity: per-layer magnitude, global magnitude, per-layer random; and structured neuron
    pruning (L1, :func:`pruninglab.pruning.shrink_model`) at the same neuron ratio, reported at
    the fraction of weights it really removes. ``model`` is not modified."""
    _check_model(model)
    _check_split(split)
    sp = [check_sparsity(s, "sparsities") for s in sparsities]
    if not sp:
        raise ValueError("sparsities must not be empty")
    check_int(seed, "seed", lo=0)
    n_w = _weights_total(model)
    res = {"sparsity": sp, "layer_magnitude": [], "global_magnitude": [], "random": [],
           "structured_sparsity": [], "structured": [], "structured_params": []}
    for s in sp:
        p = _one_point(model, split, s, seed)
        for k, v in p.items():
            res[k].append(v)
        small = shrink_model(model, structured_ratios(model, s), criterion="l1")
        res["structured_sparsity"].append(1 - _weights_total(small) / n_w)
        res["structured"].append(accuracy(small, split))
        res["structured_params"].append(count_params(small))
    res["dense_params"] = count_params(model)
    return res


def compute_criteria(sparsity: float, model: nn.Module, split: Split, sweep: dict | None = None,
                     seed: int = 0) -> dict:
    """One slider point: accuracy of the three unstructured criteria at ``sparsity`` and the
    hardware cost of the per-layer magnitude-pruned model (see :func:`hardware_cost`)."""
    s = check_sparsity(sparsity)
    _check_model(model)
    _check_split(split)
    acc = _one_point(model, split, s, seed)
    masks = compute_masks(model, s, scope="layer")
    hw = hardware_cost(_masked_copy(model, masks))
    return {"sparsity": s, **acc, **hw, "sweep": sweep}


def _criteria_text(r: dict) -> str:
    return (f"sparsity {r['sparsity']:.2f}: val acc layer-magnitude {r['layer_magnitude']:.4f}, "
            f"global-magnitude {r['global_magnitude']:.4f}, random {r['random']:.4f}\n"
            f"bytes: dense {r['dense_bytes']}, CSR {r['csr_bytes']}, bitmask {r['bitmask_bytes']}; "
            f"MACs dense {r['macs']}, non-zero {r['nonzero_macs']}")


def live_criteria():
    """:class:`pruninglab.ui.LivePlot` for the criteria slider: the precomputed sweep (the
    ``sweep`` of the result) with a marker at the current sparsity, and the storage (dense, CSR,
    bitmask) of the per-layer magnitude-pruned MLP."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.14, top=0.92, wspace=0.28)
        a1, a2 = fig.subplots(1, 2)
        lines = {k: a1.plot([], [], fmt, label=lab)[0] for k, fmt, lab in (
            ("layer_magnitude", "o-", "magnitude, per layer"),
            ("global_magnitude", "s-", "magnitude, global"),
            ("random", "x-", "random"),
            ("structured", "d--", "neurons (L1), shrunk"))}
        vline = a1.axvline(0.0, color="gray", ls=":")
        a1.set(xlabel="fraction of weights removed", ylabel="val accuracy (no fine-tuning)",
               ylim=(0, 1), xlim=(-0.03, 1.01))
        a1.legend(fontsize=8)
        bars = a2.bar(["dense", "CSR", "bitmask"], [0, 0, 0])
        a2.set(ylabel="KiB (fp32 values)", title="storage of the magnitude-pruned MLP")
        return {"fig": fig, "lines": lines, "vline": vline, "bars": bars, "a2": a2}

    def update(st, r):
        sw = r.get("sweep")
        if _sweep_changed(st, sw):
            for k, line in st["lines"].items():
                if sw is None:
                    line.set_data([], [])
                else:
                    xs = sw["structured_sparsity"] if k == "structured" else sw["sparsity"]
                    line.set_data(xs, sw[k])
        st["vline"].set_xdata([r["sparsity"], r["sparsity"]])
        _set_bars(st["bars"], [r["dense_bytes"] / 1024, r["csr_bytes"] / 1024,
                               r["bitmask_bytes"] / 1024])
        top = _bytes_top(r, 1024)
        st["a2"].set_ylim(0, top)
        _frozen(st["fig"], st, (id(sw), top), [st["vline"], *st["bars"]])

    return LivePlot(setup, update, text=_criteria_text, figsize=(10, 3.6))


def render_criteria(r: dict) -> None:
    """Print the slider point and draw it (a fresh :func:`live_criteria`: same code as the slider)."""
    live_criteria()(r)



# --------------------------------------------------------------------------------------------
# S0-C2 / S1-C5: threshold slider
# --------------------------------------------------------------------------------------------
def compute_threshold(threshold: float, model: nn.Module, split: Split, mode: str = "absolute") -> dict:
    """Prune every weight layer with :func:`threshold_masks` (``mode``), evaluate on ``split``.

    Returns the threshold, per-layer and total weight sparsity, the accuracy, and
    :func:`hardware_cost` of the pruned copy."""
    _check_model(model)
    _check_split(split)
    masks = threshold_masks(model, threshold, mode)
    pruned = _masked_copy(model, masks)
    return {"threshold": float(threshold), "mode": mode,
            "layer_sparsity": {n: float((~m).sum()) / m.numel() for n, m in masks.items()},
            "sparsity": _weight_sparsity(masks), "accuracy": accuracy(pruned, split),
            **hardware_cost(pruned)}


def _threshold_text(r: dict) -> str:
    per = ", ".join(f"{n} {s:.2f}" for n, s in r["layer_sparsity"].items())
    return (f"{r['mode']} threshold {r['threshold']:.3f}: weight sparsity {r['sparsity']:.3f} ({per}); "
            f"val acc {r['accuracy']:.4f}\n"
            f"non-zero params {r['nonzeros']} / {r['params']}; bytes dense {r['dense_bytes']}, "
            f"CSR {r['csr_bytes']}, bitmask {r['bitmask_bytes']}")


def live_threshold():
    """:class:`pruninglab.ui.LivePlot` for the threshold slider: fraction pruned per layer (title:
    val accuracy) and bytes of the pruned model in dense, CSR and bitmask formats."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.1, top=0.91, wspace=0.28)
        a1, a2 = fig.subplots(1, 2)
        a1.set(ylim=(0, 1), ylabel="fraction pruned")
        a1.set_title(" ", y=1.0)                # fixed position: the title is redrawn each move
        bars = a2.bar(["dense", "CSR", "bitmask"], [0, 0, 0])
        a2.set(ylabel="bytes")
        return {"fig": fig, "a1": a1, "a2": a2, "layer_bars": None, "layers": None, "bars": bars}

    def update(st, r):
        names = list(r["layer_sparsity"])
        if st["layers"] != names:                      # a new model: new layer bars (rare)
            if st["layer_bars"] is not None:
                st["layer_bars"].remove()
            st["layer_bars"] = st["a1"].bar(names, [0] * len(names), color="C0")
            st["layers"] = names
        _set_bars(st["layer_bars"], list(r["layer_sparsity"].values()))
        st["a1"].title.set_text(f"val acc {r['accuracy']:.3f}")
        _set_bars(st["bars"], [r["dense_bytes"], r["csr_bytes"], r["bitmask_bytes"]])
        top = _bytes_top(r)
        st["a2"].set_ylim(0, top)
        _frozen(st["fig"], st, (tuple(names), top),
                [st["a1"].title, *st["layer_bars"], *st["bars"]])

    return LivePlot(setup, update, text=_threshold_text, figsize=(10, 3.4))


def render_threshold(r: dict) -> None:
    """Print the slider point and draw it (a fresh :func:`live_threshold`: same code as the slider)."""
    live_threshold()(r)



# --------------------------------------------------------------------------------------------
# S2-C1 / S2-C2: structured L1 / L2 neuron pruning
# --------------------------------------------------------------------------------------------
def compute_structured(ratio: float, norm: str, model: nn.Module, split: Split) -> dict:
    """Remove ``round(ratio · C)`` neurons (rows with the smallest ``L1``/``L2`` norm, Li et al.
    2017) from every hidden layer with :func:`pruninglab.pruning.shrink_model` (a physically
    smaller dense model). Also reports how many kept neurons differ between L1 and L2."""
    check_choice(norm, "norm", ("l1", "l2"))
    _check_model(model)
    _check_split(split)
    ratios = structured_ratios(model, ratio)
    small = shrink_model(model, ratios, criterion=norm)
    k1 = structured_keep(model, ratios, criterion="l1")
    k2 = structured_keep(model, ratios, criterion="l2")
    differ = {n: int(len(set(k1[n].tolist()) ^ set(k2[n].tolist())) // 2) for n in ratios}
    hw = hardware_cost(small)
    return {"ratio": float(ratio), "norm": norm, "accuracy": accuracy(small, split),
            "widths": {n: int(m.weight.shape[0]) for n, m in prunable_layers(small).items()},
            "l1_l2_differ": differ, "dense_params": count_params(model),
            "dense_macs": hardware_cost(model)["macs"], **hw}


def _structured_text(r: dict) -> str:
    return (f"{r['norm'].upper()} neuron pruning, ratio {r['ratio']:.2f}: widths {r['widths']}, "
            f"val acc {r['accuracy']:.4f}\n"
            f"params {r['params']} (dense {r['dense_params']}), MACs {r['macs']} "
            f"(dense {r['dense_macs']}), kept neurons differing L1 vs L2: {r['l1_l2_differ']}")


def live_structured():
    """:class:`pruninglab.ui.LivePlot` for the neuron-ratio slider: parameters (title: val
    accuracy) and MACs per sample, dense vs shrunk."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.08, right=0.985, bottom=0.1, top=0.91, wspace=0.3)
        a1, a2 = fig.subplots(1, 2)
        b1 = a1.bar(["dense", "shrunk"], [0, 0])
        a1.set(ylabel="parameters")
        a1.set_title(" ", y=1.0)                # fixed position: the title is redrawn each move
        b2 = a2.bar(["dense", "shrunk"], [0, 0], color="C1")
        a2.set(ylabel="MACs per sample")
        return {"fig": fig, "a1": a1, "a2": a2, "b1": b1, "b2": b2}

    def update(st, r):
        _set_bars(st["b1"], [r["dense_params"], r["params"]])
        _set_bars(st["b2"], [r["dense_macs"], r["macs"]])
        st["a1"].title.set_text(f"val acc {r['accuracy']:.3f}")
        lim = (1.05 * max(r["dense_params"], r["params"]), 1.05 * max(r["dense_macs"], r["macs"]))
        st["a1"].set_ylim(0, lim[0])
        st["a2"].set_ylim(0, lim[1])
        _frozen(st["fig"], st, lim, [st["a1"].title, *st["b1"], *st["b2"]])

    return LivePlot(setup, update, text=_structured_text, figsize=(10, 3.4))


def render_structured(r: dict) -> None:
    """Print the slider point and draw it (a fresh :func:`live_structured`: same code as the slider)."""
    live_structured()(r)



# --------------------------------------------------------------------------------------------
# S4-E1: design of a threshold-based pruning algorithm
# --------------------------------------------------------------------------------------------
def iterative_threshold_prune(model: nn.Module, q: float, split: Split, *, rounds: int = 3,
                              epochs: int = 2, lr: float = 1e-3, seed: int = 0):
    """Threshold pruning as in Han et al. (2015), made iterative.

    Round ``k = 1..rounds`` uses the quality parameter ``q_k = q · k / rounds`` and the per-layer
    threshold ``t_l = q_k · std(W_l)`` with ``std`` measured on the *dense* model (fixed
    reference, so the final threshold is exactly ``q · std``); the new mask is AND-ed with the
    previous one (a pruned weight never returns), then the model is fine-tuned for ``epochs``
    with the mask enforced (:func:`pruninglab.pruning.fine_tune_`).

    Returns ``(new_model, masks, history)``; ``model`` is not modified. ``history`` rows:
    ``round``, ``q``, ``sparsity``.
    """
    _check_model(model)
    _check_split(split)
    q = check_number(q, "q", lo=0.0)
    n = check_int(rounds, "rounds", lo=1)
    check_int(epochs, "epochs", lo=0)
    new = copy.deepcopy(model)
    masks, hist = None, []
    for k in range(1, n + 1):
        qk = q * k / n
        m = threshold_masks(new, qk, "times_std", reference=model)
        if masks is not None:
            m = {name: mk & masks[name] for name, mk in m.items()}
        masks = m
        if epochs:
            fine_tune_(new, masks, split, epochs=epochs, lr=lr, seed=seed + k)
        else:
            apply_masks_(new, masks)
        hist.append({"round": k, "q": qk, "sparsity": _weight_sparsity(masks)})
    return new, masks, hist


def design_sweep(model: nn.Module, train_split: Split, val_split: Split,
                 qs: Sequence[float] = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0), *, rounds: int = 3,
                 epochs: int = 2, lr: float = 1e-3, seed: int = 0) -> dict:
    """For each ``q``: sparsity and val accuracy of one-shot ``q·std`` pruning (no fine-tuning)
    and of :func:`iterative_threshold_prune` (fine-tuned, masks enforced), plus the CSR bytes
    of the iterative result."""
    _check_model(model)
    _check_split(train_split, "train_split")
    _check_split(val_split, "val_split")
    q_list = [check_number(q, "qs", lo=0.0) for q in qs]
    if not q_list:
        raise ValueError("qs must not be empty")
    out = {"q": q_list, "oneshot_sparsity": [], "oneshot_acc": [], "iter_sparsity": [],
           "iter_acc": [], "iter_csr_bytes": []}
    for q in q_list:
        m = threshold_masks(model, q, "times_std")
        out["oneshot_sparsity"].append(_weight_sparsity(m))
        out["oneshot_acc"].append(accuracy(_masked_copy(model, m), val_split))
        new, masks, _ = iterative_threshold_prune(model, q, train_split, rounds=rounds,
                                                  epochs=epochs, lr=lr, seed=seed)
        out["iter_sparsity"].append(_weight_sparsity(masks))
        out["iter_acc"].append(accuracy(new, val_split))
        out["iter_csr_bytes"].append(model_storage(new, 32, "csr")["total_bytes"])
    out["dense_acc"] = accuracy(model, val_split)
    out["dense_bytes"] = model_storage(model, 32, "dense")["total_bytes"]
    return out


def compute_design(q: float, model: nn.Module, split: Split, sweep: dict) -> dict:
    """Slider point for S4-E1: live one-shot ``q·std`` pruning on ``split`` and the nearest
    pre-computed iterative (fine-tuned) result of ``sweep`` (``q_used``)."""
    _check_model(model)
    _check_split(split)
    if not isinstance(sweep, dict) or "q" not in sweep:
        raise TypeError("sweep must be the dict returned by design_sweep")
    qv = check_number(q, "q", lo=0.0)
    r = compute_threshold(qv, model, split, mode="times_std")
    i = int(np.argmin([abs(x - qv) for x in sweep["q"]]))
    return {"q": qv, "oneshot_sparsity": r["sparsity"], "oneshot_acc": r["accuracy"],
            "oneshot_csr_bytes": r["csr_bytes"], "layer_sparsity": r["layer_sparsity"],
            "q_used": sweep["q"][i], "iter_sparsity": sweep["iter_sparsity"][i],
            "iter_acc": sweep["iter_acc"][i], "iter_csr_bytes": sweep["iter_csr_bytes"][i],
            "dense_acc": sweep["dense_acc"], "dense_bytes": sweep["dense_bytes"], "sweep": sweep}


def _design_text(r: dict) -> str:
    return (f"q = {r['q']:.2f}: one-shot sparsity {r['oneshot_sparsity']:.3f}, val acc {r['oneshot_acc']:.4f}\n"
            f"iterative (q = {r['q_used']:.2f}, fine-tuned): sparsity {r['iter_sparsity']:.3f}, "
            f"val acc {r['iter_acc']:.4f}, CSR {r['iter_csr_bytes']} B vs dense {r['dense_bytes']} B")


def live_design():
    """:class:`pruninglab.ui.LivePlot` for the S4-E1 slider: val accuracy and weight sparsity vs
    ``q`` for one-shot and iterative pruning (the precomputed ``sweep``), marker at the current ``q``."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.14, top=0.95, wspace=0.25)
        a1, a2 = fig.subplots(1, 2)
        st = {"fig": fig, "axes": (a1, a2)}
        st["acc"] = (a1.plot([], [], "o-", label="one-shot")[0],
                     a1.plot([], [], "s-", label="iterative + fine-tune")[0])
        st["dense"] = a1.axhline(0.0, color="gray", ls="--", label="dense")
        st["sp"] = (a2.plot([], [], "o-", label="one-shot")[0],
                    a2.plot([], [], "s-", label="iterative")[0])
        st["vlines"] = (a1.axvline(0.0, color="gray", ls=":"), a2.axvline(0.0, color="gray", ls=":"))
        a1.set(xlabel="q (threshold = q·std per layer)", ylabel="val accuracy", ylim=(0, 1))
        a1.legend(fontsize=8)
        a2.set(xlabel="q", ylabel="weight sparsity", ylim=(0, 1))
        a2.legend(fontsize=8)
        return st

    def update(st, r):
        sw = r["sweep"]
        if _sweep_changed(st, sw):
            st["acc"][0].set_data(sw["q"], sw["oneshot_acc"])
            st["acc"][1].set_data(sw["q"], sw["iter_acc"])
            st["sp"][0].set_data(sw["q"], sw["oneshot_sparsity"])
            st["sp"][1].set_data(sw["q"], sw["iter_sparsity"])
            st["dense"].set_ydata([sw["dense_acc"], sw["dense_acc"]])
        lo, hi = min(0.0, min(sw["q"]), r["q"]), max(max(sw["q"]), r["q"])
        pad = 0.05 * (hi - lo or 1.0)
        for ax, v in zip(st["axes"], st["vlines"]):
            v.set_xdata([r["q"], r["q"]])
            ax.set_xlim(lo - pad, hi + pad)
        _frozen(st["fig"], st, (id(sw), lo, hi), st["vlines"])

    return LivePlot(setup, update, text=_design_text, figsize=(10, 3.6))


def render_design(r: dict) -> None:
    """Print the slider point and draw it (a fresh :func:`live_design`: same code as the slider)."""
    live_design()(r)
