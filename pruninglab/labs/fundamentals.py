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
    "criteria_sweep", "compute_criteria", "render_criteria",
    "compute_threshold", "render_threshold",
    "structured_ratios", "compute_structured", "render_structured",
    "iterative_threshold_prune", "design_sweep", "compute_design", "render_design",
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


def render_criteria(r: dict) -> None:
    import matplotlib.pyplot as plt
    print(f"sparsity {r['sparsity']:.2f}: val acc layer-magnitude {r['layer_magnitude']:.4f}, "
          f"global-magnitude {r['global_magnitude']:.4f}, random {r['random']:.4f}")
    print(f"bytes: dense {r['dense_bytes']}, CSR {r['csr_bytes']}, bitmask {r['bitmask_bytes']}; "
          f"MACs dense {r['macs']}, non-zero {r['nonzero_macs']}")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    sw = r.get("sweep")
    if sw is not None:
        a1.plot(sw["sparsity"], sw["layer_magnitude"], "o-", label="magnitude, per layer")
        a1.plot(sw["sparsity"], sw["global_magnitude"], "s-", label="magnitude, global")
        a1.plot(sw["sparsity"], sw["random"], "x-", label="random")
        a1.plot(sw["structured_sparsity"], sw["structured"], "d--", label="neurons (L1), shrunk")
    a1.axvline(r["sparsity"], color="gray", ls=":")
    a1.set(xlabel="fraction of weights removed", ylabel="val accuracy (no fine-tuning)", ylim=(0, 1))
    a1.legend(fontsize=8)
    names = ["dense", "CSR", "bitmask"]
    a2.bar(names, [r["dense_bytes"] / 1024, r["csr_bytes"] / 1024, r["bitmask_bytes"] / 1024])
    a2.set(ylabel="KiB (fp32 values)", title="storage of the magnitude-pruned MLP")
    fig.tight_layout()
    plt.show()


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


def render_threshold(r: dict) -> None:
    import matplotlib.pyplot as plt
    per = ", ".join(f"{n} {s:.2f}" for n, s in r["layer_sparsity"].items())
    print(f"{r['mode']} threshold {r['threshold']:.3f}: weight sparsity {r['sparsity']:.3f} ({per}); "
          f"val acc {r['accuracy']:.4f}")
    print(f"non-zero params {r['nonzeros']} / {r['params']}; bytes dense {r['dense_bytes']}, "
          f"CSR {r['csr_bytes']}, bitmask {r['bitmask_bytes']}")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4))
    a1.bar(list(r["layer_sparsity"]), list(r["layer_sparsity"].values()))
    a1.set(ylim=(0, 1), ylabel="fraction pruned", title=f"val acc {r['accuracy']:.3f}")
    a2.bar(["dense", "CSR", "bitmask"], [r["dense_bytes"], r["csr_bytes"], r["bitmask_bytes"]])
    a2.set(ylabel="bytes")
    fig.tight_layout()
    plt.show()


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


def render_structured(r: dict) -> None:
    import matplotlib.pyplot as plt
    print(f"{r['norm'].upper()} neuron pruning, ratio {r['ratio']:.2f}: widths {r['widths']}, "
          f"val acc {r['accuracy']:.4f}")
    print(f"params {r['params']} (dense {r['dense_params']}), MACs {r['macs']} "
          f"(dense {r['dense_macs']}), kept neurons differing L1 vs L2: {r['l1_l2_differ']}")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4))
    a1.bar(["dense", "shrunk"], [r["dense_params"], r["params"]])
    a1.set(ylabel="parameters", title=f"val acc {r['accuracy']:.3f}")
    a2.bar(["dense", "shrunk"], [r["dense_macs"], r["macs"]], color="C1")
    a2.set(ylabel="MACs per sample")
    fig.tight_layout()
    plt.show()


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


def render_design(r: dict) -> None:
    import matplotlib.pyplot as plt
    print(f"q = {r['q']:.2f}: one-shot sparsity {r['oneshot_sparsity']:.3f}, val acc {r['oneshot_acc']:.4f}")
    print(f"iterative (q = {r['q_used']:.2f}, fine-tuned): sparsity {r['iter_sparsity']:.3f}, "
          f"val acc {r['iter_acc']:.4f}, CSR {r['iter_csr_bytes']} B vs dense {r['dense_bytes']} B")
    sw = r["sweep"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    a1.plot(sw["q"], sw["oneshot_acc"], "o-", label="one-shot")
    a1.plot(sw["q"], sw["iter_acc"], "s-", label="iterative + fine-tune")
    a1.axhline(sw["dense_acc"], color="gray", ls="--", label="dense")
    a1.axvline(r["q"], color="gray", ls=":")
    a1.set(xlabel="q (threshold = q·std per layer)", ylabel="val accuracy", ylim=(0, 1))
    a1.legend(fontsize=8)
    a2.plot(sw["q"], sw["oneshot_sparsity"], "o-", label="one-shot")
    a2.plot(sw["q"], sw["iter_sparsity"], "s-", label="iterative")
    a2.axvline(r["q"], color="gray", ls=":")
    a2.set(xlabel="q", ylabel="weight sparsity", ylim=(0, 1))
    a2.legend(fontsize=8)
    fig.tight_layout()
    plt.show()
