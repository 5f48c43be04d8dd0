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
    "layer_masks", "global_masks", "score_masks", "masked_copy", "design_sweep", "compute_design", "render_design", "live_design",
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
from ..ui import pinned_id as _pinned_id  # noqa: E402  (background keys of the live figures)


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


def _check_fn(fn, name: str):
    if not callable(fn):
        raise TypeError(f"{name} must be a function (the one you wrote in the exercise), "
                        f"got {type(fn).__name__}")
    return fn


def _layer_arrays(model: nn.Module) -> dict[str, np.ndarray]:
    return {n: m.weight.detach().cpu().numpy().copy() for n, m in prunable_layers(model).items()}


def _to_masks(out, layers: dict, fn_name: str) -> dict[str, torch.Tensor]:
    if not isinstance(out, dict) or set(out) != set(layers):
        raise TypeError(f"{fn_name} must return {{layer name: mask}} for the layers {sorted(layers)}")
    res = {}
    for n, w in layers.items():
        m = np.asarray(out[n])
        if m.shape != w.shape:
            raise ValueError(f"{fn_name} returned a mask of shape {m.shape} for {n!r} (weights {w.shape})")
        res[n] = torch.from_numpy(m != 0)
    return res


def layer_masks(model: nn.Module, sparsity: float, mask_fn) -> dict[str, torch.Tensor]:
    """``{layer: mask_fn(W_l, sparsity)}`` for every weight layer (the learner's one-layer
    magnitude mask, numpy in, 0/1 numpy out), as torch bool masks."""
    layers = _layer_arrays(_check_model(model))
    _check_fn(mask_fn, "mask_fn")
    return _to_masks({n: mask_fn(w, sparsity) for n, w in layers.items()}, layers, "mask_fn")


def score_masks(scores, sparsity: float, mask_fn) -> dict[str, torch.Tensor]:
    """``{layer: mask_fn(score_l, sparsity)}``: the learner's magnitude mask used as a selector
    on any non-negative importance scores (e.g. Taylor ``|w·g|``): the ``round(s·n)`` smallest
    scores of each layer are pruned. ``scores``: ``{layer: tensor or array}``."""
    _check_fn(mask_fn, "mask_fn")
    if not isinstance(scores, dict) or not scores:
        raise TypeError("scores must be a non-empty dict {layer name: scores}")
    arrays = {n: (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)).copy()
              for n, v in scores.items()}
    return _to_masks({n: mask_fn(a, sparsity) for n, a in arrays.items()}, arrays, "mask_fn")


def masked_copy(model: nn.Module, masks) -> nn.Module:
    """A copy of ``model`` with ``masks`` (``{layer: bool mask}``) applied; ``model`` unchanged."""
    return _masked_copy(_check_model(model), masks)


def global_masks(model: nn.Module, sparsity: float, global_fn) -> dict[str, torch.Tensor]:
    """``global_fn({layer: W_l}, sparsity)`` (the learner's global threshold) as torch bool masks."""
    layers = _layer_arrays(_check_model(model))
    _check_fn(global_fn, "global_fn")
    return _to_masks(global_fn({n: w.copy() for n, w in layers.items()}, sparsity), layers, "global_fn")


def _one_point(model: nn.Module, split: Split, s: float, seed: int, mask_fn, global_fn,
               layer_pruned: nn.Module | None = None) -> dict:
    if layer_pruned is None:
        layer_pruned = _masked_copy(model, layer_masks(model, s, mask_fn))
    out = {"layer_magnitude": accuracy(layer_pruned, split),
           "global_magnitude": accuracy(_masked_copy(model, global_masks(model, s, global_fn)), split)}
    masks = compute_masks(model, s, scope="layer", method="random", seed=seed)
    out["random"] = accuracy(_masked_copy(model, masks), split)
    return out


def criteria_sweep(model: nn.Module, split: Split, sparsities: Sequence[float] = DEFAULT_SPARSITIES,
                   *, mask_fn, global_fn, seed: int = 0, progress: bool = False) -> dict:
    """Accuracy on ``split`` (use *val*) after one-shot pruning, no fine-tuning, at each weight
    sparsity: per-layer magnitude (``mask_fn``, the learner's ``magnitude_mask``), global
    magnitude (``global_fn``, the learner's ``global_threshold_masks``), per-layer random; and
    structured neuron pruning (L1, :func:`pruninglab.pruning.shrink_model`) at the same neuron
    ratio, reported at the fraction of weights it really removes. ``model`` is not modified."""
    _check_model(model)
    _check_split(split)
    _check_fn(mask_fn, "mask_fn")
    _check_fn(global_fn, "global_fn")
    sp = [check_sparsity(s, "sparsities") for s in sparsities]
    if not sp:
        raise ValueError("sparsities must not be empty")
    check_int(seed, "seed", lo=0)
    n_w = _weights_total(model)
    res = {"sparsity": sp, "layer_magnitude": [], "global_magnitude": [], "random": [],
           "structured_sparsity": [], "structured": [], "structured_params": []}
    it = sp
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(sp, desc="criteria sweep")
    for s in it:
        p = _one_point(model, split, s, seed, mask_fn, global_fn)
        for k, v in p.items():
            res[k].append(v)
        small = shrink_model(model, structured_ratios(model, s), criterion="l1")
        res["structured_sparsity"].append(1 - _weights_total(small) / n_w)
        res["structured"].append(accuracy(small, split))
        res["structured_params"].append(count_params(small))
    res["dense_params"] = count_params(model)
    return res


def compute_criteria(sparsity: float, model: nn.Module, split: Split, sweep: dict | None = None,
                     seed: int = 0, *, mask_fn, global_fn) -> dict:
    """One slider point: accuracy of the three unstructured criteria at ``sparsity`` and the
    hardware cost of the per-layer magnitude-pruned model (see :func:`hardware_cost`), with the
    learner's ``mask_fn`` / ``global_fn``."""
    s = check_sparsity(sparsity)
    _check_model(model)
    _check_split(split)
    layer_pruned = _masked_copy(model, layer_masks(model, s, mask_fn))   # the learner's fn, once
    acc = _one_point(model, split, s, seed, mask_fn, global_fn, layer_pruned)
    hw = hardware_cost(layer_pruned)
    return {"sparsity": s, **acc, **hw, "sweep": sweep}


def _criteria_text(r: dict) -> str:
    return (f"sparsity {r['sparsity']:.2f}: val acc layer-magnitude {r['layer_magnitude']:.4f}, "
            f"global-magnitude {r['global_magnitude']:.4f}, random {r['random']:.4f}\n"
            f"bytes: dense {r['dense_bytes']}, CSR {r['csr_bytes']}, bitmask {r['bitmask_bytes']}; "
            f"MACs dense {r['macs']}, non-zero {r['nonzero_macs']}")


def live_criteria():
    """:class:`pruninglab.ui.LivePlot` for the criteria slider: the precomputed sweep (the
    ``sweep`` of the result) with a marker at the current sparsity, and the storage (dense, CSR,
    bitmask) of the per-layer magnitude-pruned MLP. Blitted: a move redraws the marker line and
    the three bars; the curves and the bar scale are static per ``(sweep, top)``."""
    from ..ui import LivePlot

    def key(r):
        return (_pinned_id(st_ref[0], r.get("sweep")), _bytes_top(r, 1024))

    st_ref = []

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
        a1.legend(fontsize=8, loc="lower left")   # fixed: "best" would follow the moving line
        a1.autoscale(False)
        bars = a2.bar(["dense", "CSR", "bitmask"], [0, 0, 0])
        a2.set(ylabel="KiB (fp32 values)", title="storage of the magnitude-pruned MLP")
        st = {"fig": fig, "lines": lines, "vline": vline, "bars": bars, "a2": a2,
              "dynamic": [vline, *bars], "background_key": key}
        st_ref.append(st)
        return st

    def update(st, r):
        sw = r.get("sweep")
        if _sweep_changed(st, sw):
            for k, line in st["lines"].items():
                if sw is None:
                    line.set_data([], [])
                else:
                    xs = sw["structured_sparsity"] if k == "structured" else sw["sparsity"]
                    line.set_data(xs, sw[k])
        st["a2"].set_ylim(0, _bytes_top(r, 1024))
        st["vline"].set_xdata([r["sparsity"], r["sparsity"]])
        _set_bars(st["bars"], [r["dense_bytes"] / 1024, r["csr_bytes"] / 1024,
                               r["bitmask_bytes"] / 1024])

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
    val accuracy) and bytes of the pruned model in dense, CSR and bitmask formats. Blitted: a
    move redraws the title and the bars; the layer bars are made for the layers of the first
    result (a result with other layers raises ``ValueError``: make a new ``live_threshold()``)."""
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.1, top=0.91, wspace=0.28)
        a1, a2 = fig.subplots(1, 2)
        a1.set(ylim=(0, 1), ylabel="fraction pruned")
        a1.set_title(" ", y=1.0)                # fixed position: the title is redrawn each move
        bars = a2.bar(["dense", "CSR", "bitmask"], [0, 0, 0])
        a2.set(ylabel="bytes")
        return {"fig": fig, "a1": a1, "a2": a2, "layer_bars": None, "layers": None, "bars": bars,
                "dynamic": [a1.title, *bars], "background_key": _bytes_top}

    def update(st, r):
        names = list(r["layer_sparsity"])
        if st["layers"] is None:               # first result: one bar per layer (dynamic)
            st["layer_bars"] = st["a1"].bar(names, [0] * len(names), color="C0")
            st["layers"] = names
            st["dynamic"].extend(st["layer_bars"])
        elif st["layers"] != names:
            raise ValueError(f"this live_threshold() shows layers {st['layers']}, the result has "
                             f"{names}: make a new live_threshold() for another model")
        _set_bars(st["layer_bars"], list(r["layer_sparsity"].values()))
        st["a1"].title.set_text(f"val acc {r['accuracy']:.3f}")
        _set_bars(st["bars"], [r["dense_bytes"], r["csr_bytes"], r["bitmask_bytes"]])
        st["a2"].set_ylim(0, _bytes_top(r))

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
    accuracy) and MACs per sample, dense vs shrunk. Blitted: a move redraws the title and the
    bars; the y scales (from the dense model) are static per ``background_key``."""
    from ..ui import LivePlot

    def lim(r):
        return (1.05 * max(r["dense_params"], r["params"]), 1.05 * max(r["dense_macs"], r["macs"]))

    def setup(fig):
        fig.subplots_adjust(left=0.08, right=0.985, bottom=0.1, top=0.91, wspace=0.3)
        a1, a2 = fig.subplots(1, 2)
        b1 = a1.bar(["dense", "shrunk"], [0, 0])
        a1.set(ylabel="parameters")
        a1.set_title(" ", y=1.0)                # fixed position: the title is redrawn each move
        b2 = a2.bar(["dense", "shrunk"], [0, 0], color="C1")
        a2.set(ylabel="MACs per sample")
        return {"fig": fig, "a1": a1, "a2": a2, "b1": b1, "b2": b2,
                "dynamic": [a1.title, *b1, *b2], "background_key": lim}

    def update(st, r):
        top = lim(r)
        st["a1"].set_ylim(0, top[0])
        st["a2"].set_ylim(0, top[1])
        _set_bars(st["b1"], [r["dense_params"], r["params"]])
        _set_bars(st["b2"], [r["dense_macs"], r["macs"]])
        st["a1"].title.set_text(f"val acc {r['accuracy']:.3f}")

    return LivePlot(setup, update, text=_structured_text, figsize=(10, 3.4))


def render_structured(r: dict) -> None:
    """Print the slider point and draw it (a fresh :func:`live_structured`: same code as the slider)."""
    live_structured()(r)



# --------------------------------------------------------------------------------------------
# S4-E1: design of a threshold-based pruning algorithm
# --------------------------------------------------------------------------------------------
class TrainStep:
    """One fine-tuning step on a real model, as the ``step`` argument of the learner's
    ``iterative_threshold_prune``: ``step({layer: W}) -> {layer: W}``.

    Each call loads the given weights into (a copy of) ``model``, runs one Adam step on the next
    mini-batch of ``split`` (batches of ``batch_size``, reshuffled every epoch with seed
    ``seed + epoch``) and returns the new weights. One optimizer for the whole run (its state is
    carried from step to step); biases are trained too and stay inside the step's model.
    ``calls`` counts the steps taken.
    """

    def __init__(self, model: nn.Module, split: Split, *, lr: float = 1e-3, batch_size: int = 64,
                 seed: int = 0):
        self.model = copy.deepcopy(_check_model(model))
        self.split = _check_split(split)
        self.lr = check_number(lr, "lr", lo=0.0, lo_inclusive=False)
        self.batch_size = check_int(batch_size, "batch_size", lo=1)
        self.seed = check_int(seed, "seed", lo=0)
        self.layers = prunable_layers(self.model)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        self.calls, self._epoch, self._it = 0, 0, None

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.split) // self.batch_size)

    def _batch(self):
        from ..data import batches
        while True:
            if self._it is None:
                self._it = batches(self.split, self.batch_size, shuffle=True, seed=self.seed + self._epoch)
            try:
                return next(self._it)
            except StopIteration:
                self._it, self._epoch = None, self._epoch + 1

    def load(self, weights: dict) -> nn.Module:
        """Copy ``weights`` ({layer: array}) into the step's model and return the model."""
        if not isinstance(weights, dict) or set(weights) != set(self.layers):
            raise TypeError(f"step expects a dict with the layers {sorted(self.layers)}")
        with torch.no_grad():
            for n, mod in self.layers.items():
                mod.weight.copy_(torch.as_tensor(np.asarray(weights[n]), dtype=mod.weight.dtype)
                                 .reshape(mod.weight.shape))
        return self.model

    def __call__(self, weights: dict) -> dict:
        self.load(weights)
        self.model.train()
        xb, yb = self._batch()
        self.opt.zero_grad()
        nn.functional.cross_entropy(self.model(xb), yb).backward()
        self.opt.step()
        self.calls += 1
        self.model.eval()
        return {n: m.weight.detach().numpy().copy() for n, m in self.layers.items()}


def run_design(model: nn.Module, q: float, split: Split, *, prune_fn, rounds: int = 3,
               epochs: int = 2, lr: float = 1e-3, seed: int = 0):
    """Run the learner's ``prune_fn`` (``iterative_threshold_prune(weights, q, rounds, step,
    steps_per_round)``) on ``model``: ``steps_per_round = epochs`` epochs of ``split`` through a
    :class:`TrainStep`. Returns ``(pruned_model, masks)`` (torch bool masks); ``model`` is not
    modified. ``rounds=1`` with ``epochs = rounds·epochs`` is one-shot pruning followed by the
    same fine-tuning budget (same optimizer, lr and number of steps)."""
    _check_model(model)
    _check_split(split)
    _check_fn(prune_fn, "prune_fn")
    q = check_number(q, "q", lo=0.0)
    n = check_int(rounds, "rounds", lo=1)
    e = check_int(epochs, "epochs", lo=0)
    step = TrainStep(model, split, lr=lr, seed=seed)
    weights = _layer_arrays(model)
    out = prune_fn(weights, q, n, step, e * step.steps_per_epoch)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise TypeError("prune_fn must return (weights, masks)")
    new_w, masks = out
    masks = _to_masks(masks, weights, "prune_fn")
    pruned = step.load(new_w)
    apply_masks_(pruned, masks)        # a no-op for a correct prune_fn
    return pruned, masks


def oneshot_sparsity(model: nn.Module, q: float, *, prune_fn) -> float:
    """Weight sparsity of one-shot ``q·std`` pruning with the learner's ``prune_fn`` (no steps)."""
    weights = _layer_arrays(model)
    _, masks = prune_fn(weights, q, 1, lambda w: w, 0)
    return _weight_sparsity(_to_masks(masks, weights, "prune_fn"))


def match_q(model: nn.Module, target: float, *, prune_fn, hi: float = 5.0, iters: int = 24) -> float:
    """The ``q`` whose one-shot pruning reaches weight sparsity ``target`` (bisection; sparsity
    grows with ``q``): the one-shot control is compared at the SAME sparsity as the iterative run."""
    lo = 0.0
    for _ in range(iters):
        mid = (lo + hi) / 2
        if oneshot_sparsity(model, mid, prune_fn=prune_fn) < target:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _design_point(model, train_split, val_split, q, prune_fn, rounds, epochs, lr, seeds):
    res = {"iter_sparsity": [], "iter_acc": [], "ft_sparsity": [], "ft_acc": []}
    for sd in seeds:
        it, m_it = run_design(model, q, train_split, prune_fn=prune_fn, rounds=rounds,
                              epochs=epochs, lr=lr, seed=sd)
        res["iter_sparsity"].append(_weight_sparsity(m_it))
        res["iter_acc"].append(accuracy(it, val_split))
        if sd == seeds[0]:
            res["iter_csr_bytes"] = model_storage(it, 32, "csr")["total_bytes"]
    res["ft_q"] = match_q(model, float(np.median(res["iter_sparsity"])), prune_fn=prune_fn,
                          hi=2 * q + 0.5)
    for sd in seeds:
        ft, m_ft = run_design(model, res["ft_q"], train_split, prune_fn=prune_fn, rounds=1,
                              epochs=rounds * epochs, lr=lr, seed=sd)
        res["ft_sparsity"].append(_weight_sparsity(m_ft))
        res["ft_acc"].append(accuracy(ft, val_split))
    return res


def design_sweep(model: nn.Module, train_split: Split, val_split: Split,
                 qs: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 2.5), *, prune_fn, rounds: int = 3,
                 epochs: int = 2, lr: float = 1e-3, seeds: Sequence[int] = (0, 1, 2),
                 progress: bool = False) -> dict:
    """For each ``q``, with the learner's ``prune_fn``:

    * ``oneshot_*``: one-shot ``q·std`` pruning, no fine-tuning (``rounds=1``, 0 steps);
    * ``iter_*``: ``rounds`` rounds with ``epochs`` epochs of fine-tuning each (masks enforced);
    * ``ft_*``: the control -- one-shot pruning to the SAME weight sparsity as the iterative run
      (its median over the seeds; threshold ``ft_q·std``, :func:`match_q`) followed by the SAME
      fine-tuning budget (``rounds·epochs`` epochs, same Adam optimizer and lr);

    accuracies on ``val_split``; ``iter_*`` / ``ft_*`` hold one value per seed (mini-batch
    order), ``iter_csr_bytes`` the CSR bytes of the first seed's iterative model."""
    _check_model(model)
    _check_split(train_split, "train_split")
    _check_split(val_split, "val_split")
    _check_fn(prune_fn, "prune_fn")
    q_list = [check_number(q, "qs", lo=0.0) for q in qs]
    if not q_list:
        raise ValueError("qs must not be empty")
    seeds = [check_int(sd, "seeds", lo=0) for sd in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    out = {"q": q_list, "seeds": seeds, "oneshot_sparsity": [], "oneshot_acc": [],
           "iter_sparsity": [], "iter_acc": [], "ft_q": [], "ft_sparsity": [], "ft_acc": [],
           "iter_csr_bytes": []}
    it = q_list
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(q_list, desc="design sweep (q)")
    for q in it:
        one, m_one = run_design(model, q, train_split, prune_fn=prune_fn, rounds=1, epochs=0)
        out["oneshot_sparsity"].append(_weight_sparsity(m_one))
        out["oneshot_acc"].append(accuracy(one, val_split))
        p = _design_point(model, train_split, val_split, q, prune_fn, rounds, epochs, lr, seeds)
        for k, v in p.items():
            out[k].append(v)
    out["dense_acc"] = accuracy(model, val_split)
    out["dense_bytes"] = model_storage(model, 32, "dense")["total_bytes"]
    return out


def function_key(fn) -> str:
    """A short hash of ``fn``'s source code and of the source of every plain function it calls
    through its module's globals (recursively: e.g. the learner's ``gradual_prune`` calling their
    ``agp_sparsity``), the cache key for results of the learner's function; ``""`` when a source
    is not available."""
    import hashlib
    import inspect
    import types
    seen, parts, todo = set(), [], [fn]
    while todo:
        f = todo.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))
        try:
            parts.append(inspect.getsource(f))
        except (OSError, TypeError):
            return ""
        code, glb = getattr(f, "__code__", None), getattr(f, "__globals__", {})
        for name in (code.co_names if code is not None else ()):
            g = glb.get(name)
            if isinstance(g, types.FunctionType) and g.__module__ == getattr(f, "__module__", None):
                todo.append(g)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def cached_design_sweep(model_name: str, model: nn.Module, train_split: Split, val_split: Split,
                        qs: Sequence[float], *, prune_fn, **kw) -> dict:
    """:func:`design_sweep`, cached on disk (:func:`pruninglab.cache.cached`) under the
    reference model's name, the parameters and the source code of ``prune_fn`` (a change of the
    learner's function recomputes). Without a source (e.g. a lambda typed at a prompt) it is
    not cached."""
    from ..cache import cached
    key = function_key(prune_fn)

    def compute(**_):
        return design_sweep(model, train_split, val_split, qs, prune_fn=prune_fn, **kw)

    if not key:
        return compute()
    kw_key = {k: v for k, v in kw.items() if k != "progress"}
    return cached("design_sweep", 2, compute, model=model_name, qs=tuple(qs), fn=key,
                  n_train=len(train_split), n_val=len(val_split), **kw_key)


def compute_design(q: float, model: nn.Module, split: Split, sweep: dict, *, prune_fn) -> dict:
    """Slider point for S4-E1: live one-shot ``q·std`` pruning with the learner's ``prune_fn``
    (no fine-tuning) on ``split``, and the nearest pre-computed fine-tuned results of ``sweep``
    (``q_used``; iterative and one-shot + same budget, median over the seeds)."""
    _check_model(model)
    _check_split(split)
    if not isinstance(sweep, dict) or "q" not in sweep:
        raise TypeError("sweep must be the dict returned by design_sweep")
    qv = check_number(q, "q", lo=0.0)
    one, masks = run_design(model, qv, split, prune_fn=prune_fn, rounds=1, epochs=0)
    i = int(np.argmin([abs(x - qv) for x in sweep["q"]]))
    med = lambda v: float(np.median(v))  # noqa: E731
    return {"q": qv, "oneshot_sparsity": _weight_sparsity(masks), "oneshot_acc": accuracy(one, split),
            "oneshot_csr_bytes": model_storage(one, 32, "csr")["total_bytes"],
            "layer_sparsity": {n: float((~m).sum()) / m.numel() for n, m in masks.items()},
            "q_used": sweep["q"][i], "iter_sparsity": med(sweep["iter_sparsity"][i]),
            "iter_acc": med(sweep["iter_acc"][i]), "ft_acc": med(sweep["ft_acc"][i]),
            "ft_sparsity": med(sweep["ft_sparsity"][i]), "iter_csr_bytes": sweep["iter_csr_bytes"][i],
            "dense_acc": sweep["dense_acc"], "dense_bytes": sweep["dense_bytes"], "sweep": sweep}


def _design_text(r: dict) -> str:
    return (f"q = {r['q']:.2f}: one-shot sparsity {r['oneshot_sparsity']:.3f}, val acc {r['oneshot_acc']:.4f}\n"
            f"nearest swept q = {r['q_used']:.2f} (median of the seeds): iterative + fine-tune sparsity "
            f"{r['iter_sparsity']:.3f}, val acc {r['iter_acc']:.4f}; one-shot + same fine-tuning "
            f"sparsity {r['ft_sparsity']:.3f}, val acc {r['ft_acc']:.4f}\n"
            f"CSR {r['iter_csr_bytes']} B vs dense {r['dense_bytes']} B")


def live_design():
    """:class:`pruninglab.ui.LivePlot` for the S4-E1 slider: val accuracy and weight sparsity vs
    ``q`` for one-shot and iterative pruning (the precomputed ``sweep``), marker at the current ``q``.
    Blitted: a move redraws the two marker lines; the curves and limits are static per
    ``(sweep, x-range)`` (the x-range only grows when ``q`` leaves the swept range)."""
    from ..ui import LivePlot

    def xrange_(r):
        sw = r["sweep"]
        return min(0.0, min(sw["q"]), r["q"]), max(max(sw["q"]), r["q"])

    st_ref = []

    def key(r):
        return (_pinned_id(st_ref[0], r["sweep"]), *xrange_(r))

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.14, top=0.95, wspace=0.25)
        a1, a2 = fig.subplots(1, 2)
        st = {"fig": fig, "axes": (a1, a2)}
        st["acc"] = (a1.plot([], [], "o-", color="C0", label="one-shot, no fine-tuning")[0],
                     a1.plot([], [], "s-", color="C1", label="iterative + fine-tune (median, min–max)")[0],
                     a1.plot([], [], "^--", color="C2", label="one-shot + same fine-tuning (median, min–max)")[0])
        st["bars"] = (a1.vlines([], [], [], color="C1", lw=3, alpha=0.5),
                      a1.vlines([], [], [], color="C2", lw=3, alpha=0.5))
        st["dense"] = a1.axhline(0.0, color="gray", ls="--", label="dense")
        st["sp"] = (a2.plot([], [], "o-", color="C0", label="one-shot")[0],
                    a2.plot([], [], "s-", color="C1", label="iterative (median)")[0],
                    a2.plot([], [], "^--", color="C2", label="one-shot + fine-tune (median)")[0])
        st["vlines"] = (a1.axvline(0.0, color="gray", ls=":"), a2.axvline(0.0, color="gray", ls=":"))
        a1.set(xlabel="q (threshold = q·std per layer)", ylabel="val accuracy", ylim=(0, 1))
        a1.legend(fontsize=7, loc="lower left")
        a2.set(xlabel="q (threshold = q·std per layer)", ylabel="weight sparsity (fraction removed)",
               ylim=(0, 1))
        a2.legend(fontsize=7, loc="upper left")
        st["dynamic"] = list(st["vlines"])
        st["background_key"] = key
        st_ref.append(st)
        return st

    def update(st, r):
        sw = r["sweep"]
        if _sweep_changed(st, sw):
            med = lambda rows: [float(np.median(v)) for v in rows]  # noqa: E731
            st["acc"][0].set_data(sw["q"], sw["oneshot_acc"])
            st["acc"][1].set_data(sw["q"], med(sw["iter_acc"]))
            st["acc"][2].set_data(sw["q"], med(sw["ft_acc"]))
            for coll, name in zip(st["bars"], ("iter_acc", "ft_acc")):
                coll.set_segments([[(q, min(v)), (q, max(v))] for q, v in zip(sw["q"], sw[name])])
            st["sp"][0].set_data(sw["q"], sw["oneshot_sparsity"])
            st["sp"][1].set_data(sw["q"], med(sw["iter_sparsity"]))
            st["sp"][2].set_data(sw["q"], med(sw["ft_sparsity"]))
            st["dense"].set_ydata([sw["dense_acc"], sw["dense_acc"]])
            lo_acc = min(min(sw["oneshot_acc"]), min(min(v) for v in sw["iter_acc"]),
                         min(min(v) for v in sw["ft_acc"]))
            st["axes"][0].set_ylim(max(0.0, lo_acc - 0.03), min(1.0, sw["dense_acc"] + 0.03))
        lo, hi = xrange_(r)
        pad = 0.05 * (hi - lo or 1.0)
        for ax, v in zip(st["axes"], st["vlines"]):
            v.set_xdata([r["q"], r["q"]])
            ax.set_xlim(lo - pad, hi + pad)

    return LivePlot(setup, update, text=_design_text, figsize=(10, 3.6))


def render_design(r: dict) -> None:
    """Print the slider point and draw it (a fresh :func:`live_design`: same code as the slider)."""
    live_design()(r)
