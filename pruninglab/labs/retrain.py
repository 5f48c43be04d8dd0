"""Compute/render functions for notebook 04 (prune → retrain, gradual pruning, automated pruning).

The notebook ``04_prune_retrain_automated`` validates the ``compute_*`` functions in normal cells
and drives the ``render_*`` functions from sliders. Heavy work (training, fine-tuning, the
sensitivity scan) happens once in the ``*_sweep`` / ``*_scan`` / ``compare_*`` functions; the
slider callbacks only look up cached numbers or apply masks and evaluate (milliseconds).

Pruning primitives come from :mod:`pruninglab.pruning` when it provides them; the small private
helpers below (per-layer magnitude masks, mask enforcement, the AGP formula, greedy allocation) are
the fallbacks this module was written with while that package was being written, and are tested
here (``tests/test_labs_retrain.py``).

References
----------
* S. Han, J. Pool, J. Tran, W. Dally (2015), *Learning both Weights and Connections for Efficient
  Neural Networks*, NeurIPS — magnitude pruning + retraining with the pruned weights held at zero.
* M. Zhu, S. Gupta (2017), *To prune, or not to prune*, arXiv:1710.01878 — the AGP schedule
  ``s_t = s_f + (s_i - s_f) (1 - (t - t0) / (n Δt))^3``.
* J. Frankle, M. Carbin (2019), *The Lottery Ticket Hypothesis*, ICLR — rewind survivors to init.
* Sensitivity analysis per layer: Han et al. (2015, Fig. 6); Y. He et al. (2018) *AMC*, ECCV and
  T.-J. Yang et al. (2018) *NetAdapt*, ECCV automate the per-layer choice.
"""
from __future__ import annotations

import copy
import math
from typing import Iterable, Sequence

import numpy as np
import torch
from torch import nn

from .._validate import check_choice, check_int, check_number, check_sparsity, check_layer_names
from ..data import Split, load_digits
from ..models import load_reference, build_model
from ..train import accuracy, train

__all__ = [
    "prunable_layers", "magnitude_masks", "apply_masks_", "mask_sparsity", "finetune_masked_",
    "agp_sparsity", "compute_agp", "render_agp",
    "prune_retrain_sweep", "compute_prune_retrain", "render_prune_retrain",
    "gradual_prune_", "compare_gradual_oneshot", "lottery_ticket",
    "sensitivity_scan", "allocate_sparsity", "compute_allocation", "render_allocation",
    "model_bytes",
]


# --------------------------------------------------------------------------------------------
# small pruning primitives (pure mask computation, separate in-place application)
# --------------------------------------------------------------------------------------------
def prunable_layers(model: nn.Module) -> list[str]:
    """Names of the ``nn.Linear`` / ``nn.Conv2d`` modules whose ``weight`` may be pruned."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [n for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def _per_layer(sparsity, layers: Sequence[str]) -> dict[str, float]:
    if isinstance(sparsity, dict):
        unknown = set(sparsity) - set(layers)
        if unknown:
            raise ValueError(f"sparsity names unknown layers {sorted(unknown)}; known: {list(layers)}")
        return {n: check_sparsity(sparsity.get(n, 0.0), f"sparsity[{n!r}]") for n in layers}
    s = check_sparsity(sparsity, "sparsity")
    return {n: s for n in layers}


def magnitude_masks(model: nn.Module, sparsity, layers: Iterable[str] | None = None
                    ) -> dict[str, torch.Tensor]:
    """Per-layer magnitude masks (Han et al., 2015): in layer ``l`` the ``k_l = round(s_l · n_l)``
    weights with the smallest ``|w|`` get mask 0, the rest 1.

    ``sparsity`` is one float in [0, 1) for every layer or a dict ``{layer: s_l}`` (missing layers
    get 0). Ties are broken by position (stable sort), so the result is deterministic and the
    achieved sparsity is exactly ``k_l / n_l``. Returns boolean masks (True = keep); the model is
    not modified. Biases are never pruned (they are few and pruning them saves nothing).
    """
    names = prunable_layers(model) if layers is None else check_layer_names(model, list(layers))
    if not names:
        raise ValueError("model has no prunable (Linear/Conv2d) layers")
    per = _per_layer(sparsity, names)
    modules = dict(model.named_modules())
    masks = {}
    for n in names:
        w = modules[n].weight.detach()
        k = int(round(per[n] * w.numel()))
        flat = w.abs().flatten()
        order = torch.sort(flat, stable=True).indices
        keep = torch.ones_like(flat, dtype=torch.bool)
        keep[order[:k]] = False
        masks[n] = keep.reshape(w.shape)
    return masks


def apply_masks_(model: nn.Module, masks: dict[str, torch.Tensor]) -> nn.Module:
    """Set ``weight *= mask`` in place for every masked layer; returns ``model``."""
    modules = dict(model.named_modules())
    check_layer_names(model, list(masks), "masks")
    with torch.no_grad():
        for n, m in masks.items():
            w = modules[n].weight
            if tuple(m.shape) != tuple(w.shape):
                raise ValueError(f"masks[{n!r}] has shape {tuple(m.shape)}, weight has {tuple(w.shape)}")
            w.mul_(m.to(w.dtype))
    return model


def mask_sparsity(model: nn.Module, layers: Iterable[str] | None = None) -> dict[str, float]:
    """Measured fraction of exactly-zero weights per layer plus ``"total"`` (weights only)."""
    names = prunable_layers(model) if layers is None else check_layer_names(model, list(layers))
    modules = dict(model.named_modules())
    out, z, n_all = {}, 0, 0
    for n in names:
        w = modules[n].weight.detach()
        zeros = int((w == 0).sum())
        out[n] = zeros / w.numel()
        z += zeros
        n_all += w.numel()
    out["total"] = z / n_all
    return out


def finetune_masked_(model: nn.Module, masks: dict[str, torch.Tensor] | None, split: Split, *,
                     epochs: int = 3, lr: float = 5e-4, seed: int = 0, enforce: bool = True
                     ) -> list[dict]:
    """Fine-tune in place (Adam, cross-entropy) re-applying ``masks`` after every optimizer step
    (``enforce=True``), so pruned weights stay exactly zero (Han et al., 2015). ``enforce=False``
    exists only to demonstrate weight regrowth. Returns the per-epoch history."""
    after = (lambda: apply_masks_(model, masks)) if (enforce and masks) else None
    if masks and enforce:
        apply_masks_(model, masks)
    return train(model, split, epochs=epochs, lr=lr, seed=seed, after_step=after)


def model_bytes(model: nn.Module, *, value_bits: int = 32, index_bits: int = 16) -> dict:
    """Storage of all parameters in bytes: dense, and sparse-CSR for the prunable weights.

    CSR (compressed sparse row) for a matrix with ``r`` rows stores ``nnz`` values of ``b`` bits,
    ``nnz`` column indices of ``i`` bits and ``r + 1`` row pointers of 32 bits:
    ``bits = nnz (b + i) + 32 (r + 1)``; biases and other parameters stay dense. CSR only beats
    dense when the density ``d < b / (b + i)`` (Han et al., 2016 use relative indices for this).
    Conv weights are treated as ``(out, in·kh·kw)`` matrices.
    """
    check_int(value_bits, "value_bits", lo=1, hi=64)
    check_int(index_bits, "index_bits", lo=1, hi=64)
    layers = set(prunable_layers(model))
    modules = dict(model.named_modules())
    dense_bits, sparse_bits, nnz_total, n_total = 0, 0, 0, 0
    for name, p in model.named_parameters():
        n = p.numel()
        dense_bits += n * value_bits
        n_total += n
        mod = name.rsplit(".", 1)[0]
        if name.endswith("weight") and mod in layers:
            w = modules[mod].weight.detach()
            nnz = int((w != 0).sum())
            rows = w.shape[0]
            sparse_bits += nnz * (value_bits + index_bits) + 32 * (rows + 1)
            nnz_total += nnz
        else:
            sparse_bits += n * value_bits
            nnz_total += int((p.detach() != 0).sum())
    return {"dense_bytes": dense_bits / 8, "csr_bytes": sparse_bits / 8, "nonzeros": nnz_total,
            "params": n_total}


# --------------------------------------------------------------------------------------------
# AGP schedule (Zhu & Gupta 2017)
# --------------------------------------------------------------------------------------------
def agp_sparsity(step: int, *, initial: float, final: float, start: int, n_steps: int,
                 interval: int) -> float:
    """Sparsity in force at training step ``step`` under the AGP schedule (Zhu & Gupta, 2017).

    Masks are updated at ``t ∈ {t0, t0+Δt, …, t0+nΔt}``; at an update step
    ``s_t = s_f + (s_i - s_f) (1 - (t - t0)/(n Δt))^3``. Between updates the last value holds;
    before ``t0`` the network is dense (0), after ``t0 + nΔt`` it stays at ``s_f``.
    """
    check_int(step, "step", lo=0)
    s_i = check_sparsity(initial, "initial")
    s_f = check_sparsity(final, "final")
    if s_f < s_i:
        raise ValueError(f"final must be >= initial, got final={s_f:g} < initial={s_i:g}")
    t0 = check_int(start, "start", lo=0)
    n = check_int(n_steps, "n_steps", lo=1)
    dt = check_int(interval, "interval", lo=1)
    if step < t0:
        return 0.0
    k = min((step - t0) // dt, n)              # index of the last update at or before `step`
    frac = k / n
    return float(s_f + (s_i - s_f) * (1.0 - frac) ** 3)


def compute_agp(initial: float = 0.0, final: float = 0.9, start: int = 0, n_steps: int = 10,
                interval: int = 20, total_steps: int | None = None) -> dict:
    """The AGP sparsity ``s_t`` for every step (pure; for the schedule slider)."""
    check_int(n_steps, "n_steps", lo=1)
    check_int(interval, "interval", lo=1)
    end = start + n_steps * interval
    T = check_int(total_steps, "total_steps", lo=1) if total_steps is not None else end + 2 * interval
    steps = np.arange(T + 1)
    s = np.array([agp_sparsity(int(t), initial=initial, final=final, start=start, n_steps=n_steps,
                               interval=interval) for t in steps])
    updates = np.array([start + k * interval for k in range(n_steps + 1)])
    return {"steps": steps, "sparsity": s, "update_steps": updates,
            "update_sparsity": np.array([agp_sparsity(int(u), initial=initial, final=final,
                                                      start=start, n_steps=n_steps,
                                                      interval=interval) for u in updates]),
            "initial": float(initial), "final": float(final), "start": int(start),
            "n_steps": int(n_steps), "interval": int(interval), "end": int(end),
            "half_point_step": int(updates[np.argmax(
                np.array([agp_sparsity(int(u), initial=initial, final=final, start=start,
                                       n_steps=n_steps, interval=interval) for u in updates])
                >= initial + 0.5 * (final - initial))])}


def render_agp(result: dict) -> None:
    import matplotlib.pyplot as plt
    print(f"s_i={result['initial']:.2f} → s_f={result['final']:.2f}, updates at steps "
          f"{result['start']}..{result['end']} every {result['interval']}; half of the pruning is "
          f"done by step {result['half_point_step']}")
    fig, ax = plt.subplots()
    ax.step(result["steps"], result["sparsity"], where="post", label="sparsity in force")
    ax.plot(result["update_steps"], result["update_sparsity"], "o", ms=4, label="mask updates")
    ax.set_xlabel("training step t")
    ax.set_ylabel("sparsity $s_t$")
    ax.set_ylim(-0.02, 1.0)
    ax.set_title("AGP schedule (Zhu & Gupta, 2017)")
    ax.legend()
    plt.show()
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# accuracy vs sparsity with and without fine-tuning (S0-Q3)
# --------------------------------------------------------------------------------------------
DEFAULT_SPARSITIES = (0.0, 0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)


def prune_retrain_sweep(model_name: str = "mlp", sparsities: Sequence[float] = DEFAULT_SPARSITIES,
                        *, epochs: int = 3, lr: float = 5e-4, seed: int = 0) -> dict:
    """One-shot per-layer magnitude pruning of the reference model at every sparsity, evaluated
    (a) directly and (b) after ``epochs`` of mask-enforced fine-tuning. Accuracies on val and test,
    storage in bytes (dense vs CSR). Heavy: call once and pass the result to
    :func:`compute_prune_retrain`."""
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    sp = [check_sparsity(s, "sparsities") for s in sparsities]
    if not sp:
        raise ValueError("sparsities must not be empty")
    images = model_name == "cnn"
    tr, va, te = (load_digits(s, images=images) for s in ("train", "val", "test"))
    rows = []
    for s in sp:
        m = load_reference(model_name)
        masks = magnitude_masks(m, s)
        apply_masks_(m, masks)
        row = {"sparsity": s, "val_pruned": accuracy(m, va), "test_pruned": accuracy(m, te)}
        finetune_masked_(m, masks, tr, epochs=epochs, lr=lr, seed=seed)
        row.update({"val_finetuned": accuracy(m, va), "test_finetuned": accuracy(m, te),
                    "measured_sparsity": mask_sparsity(m)["total"]})
        row.update(model_bytes(m))
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
    pick["dense_test"] = float(sweep["test_pruned"][np.argmin(sweep["sparsity"])])
    pick["curves"] = sweep
    return pick


def render_prune_retrain(r: dict) -> None:
    import matplotlib.pyplot as plt
    c = r["curves"]
    print(f"sparsity {r['sparsity']:.2f} (nearest cached point to {r['requested']:.2f}): "
          f"test acc pruned {r['test_pruned']:.4f} → fine-tuned {r['test_finetuned']:.4f} "
          f"(dense {r['dense_test']:.4f}); storage {r['dense_bytes'] / 1024:.1f} KiB dense, "
          f"{r['csr_bytes'] / 1024:.1f} KiB CSR")
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    a1.plot(c["sparsity"], c["test_pruned"], "o-", label="pruned, no fine-tune")
    a1.plot(c["sparsity"], c["test_finetuned"], "s-", label=f"+ {c['epochs']} ep. fine-tune")
    a1.axvline(r["sparsity"], color="k", lw=0.8)
    a1.set_xlabel("sparsity")
    a1.set_ylabel("test accuracy")
    a1.legend()
    a2.plot(c["sparsity"], c["dense_bytes"] / 1024, label="dense fp32")
    a2.plot(c["sparsity"], c["csr_bytes"] / 1024, label="CSR (fp32 + 16-bit idx)")
    a2.axvline(r["sparsity"], color="k", lw=0.8)
    a2.set_xlabel("sparsity")
    a2.set_ylabel("KiB")
    a2.legend()
    fig.tight_layout()
    plt.show()
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# gradual (AGP) pruning during training vs one-shot (S4-E2), lottery ticket
# --------------------------------------------------------------------------------------------
def gradual_prune_(model: nn.Module, split: Split, *, final: float, epochs: int, initial: float = 0.0,
                   start_epoch: int = 0, prune_epochs: int | None = None, interval: int = 10,
                   lr: float = 5e-4, batch_size: int = 64, seed: int = 0, val: Split | None = None
                   ) -> dict:
    """Train in place while pruning gradually (Zhu & Gupta, 2017).

    Every ``interval`` optimizer steps between ``t0 = start_epoch · steps_per_epoch`` and
    ``t0 + n·Δt`` (``n`` chosen so the ramp lasts ``prune_epochs``, default 2/3 of training) the
    per-layer magnitude masks are recomputed for the AGP sparsity ``s_t``; after *every* step the
    current mask is re-applied so pruned weights stay zero. Pruned weights can never come back in
    this variant (masks are recomputed on the masked weights, which are zero). Returns the schedule
    actually used and a per-epoch history.
    """
    s_f = check_sparsity(final, "final")
    check_int(epochs, "epochs", lo=1)
    check_int(interval, "interval", lo=1)
    steps_per_epoch = math.ceil(len(split) / check_int(batch_size, "batch_size", lo=1))
    t0 = check_int(start_epoch, "start_epoch", lo=0) * steps_per_epoch
    pe = max(1, (2 * epochs) // 3) if prune_epochs is None else check_int(prune_epochs, "prune_epochs", lo=1)
    n = max(1, (pe * steps_per_epoch) // interval)
    state = {"t": 0, "masks": None, "log": []}

    def after_step():
        t = state["t"]
        if t >= t0 and (t - t0) % interval == 0 and (t - t0) // interval <= n:
            s = agp_sparsity(t, initial=initial, final=s_f, start=t0, n_steps=n, interval=interval)
            state["masks"] = magnitude_masks(model, s)
            state["log"].append((t, s))
        if state["masks"] is not None:
            apply_masks_(model, state["masks"])
        state["t"] = t + 1

    hist = train(model, split, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                 after_step=after_step, val=val)
    if state["masks"] is None or state["log"][-1][1] < s_f:   # ramp longer than training: finish it
        state["masks"] = magnitude_masks(model, s_f)
        apply_masks_(model, state["masks"])
        state["log"].append((state["t"], s_f))
    return {"history": hist, "schedule": state["log"], "masks": state["masks"],
            "steps_per_epoch": steps_per_epoch, "n_steps": n, "start_step": t0}


def compare_gradual_oneshot(final: float = 0.97, epochs: int = 6, *, lr: float = 5e-4,
                            interval: int = 10, seed: int = 0) -> dict:
    """Same start (the reference MLP), same final sparsity, same number of epochs:
    one-shot magnitude pruning + mask-enforced fine-tuning vs AGP gradual pruning during training.
    Val/test accuracy per epoch for both; the final masks' sparsity is measured."""
    tr, va, te = (load_digits(s) for s in ("train", "val", "test"))
    one = load_reference("mlp")
    masks = magnitude_masks(one, final)
    apply_masks_(one, masks)
    after_prune = {"val": accuracy(one, va), "test": accuracy(one, te)}
    h1 = train(one, tr, epochs=epochs, lr=lr, seed=seed, val=va,
               after_step=lambda: apply_masks_(one, masks))
    grad = load_reference("mlp")
    g = gradual_prune_(grad, tr, final=final, epochs=epochs, lr=lr, interval=interval, seed=seed,
                       val=va)
    return {
        "final": final, "epochs": epochs,
        "oneshot_after_prune": after_prune,
        "oneshot_val_curve": [h["val_accuracy"] for h in h1],
        "gradual_val_curve": [h["val_accuracy"] for h in g["history"]],
        "oneshot": {"val": accuracy(one, va), "test": accuracy(one, te),
                    "sparsity": mask_sparsity(one)["total"]},
        "gradual": {"val": accuracy(grad, va), "test": accuracy(grad, te),
                    "sparsity": mask_sparsity(grad)["total"]},
        "gradual_schedule": g["schedule"],
    }


def lottery_ticket(sparsity: float = 0.9, epochs: int = 15, *, lr: float = 1e-3, seed: int = 0
                   ) -> dict:
    """One round of the lottery-ticket experiment (Frankle & Carbin, 2019) on the digits MLP.

    1. initialise ``θ0`` (seeded), train dense ``epochs``; 2. per-layer magnitude mask at
    ``sparsity``; 3a. *rewind*: reset survivors to ``θ0`` and train with the mask enforced;
    3b. control: same mask, fresh random initialisation (another seed). Frankle & Carbin prune
    iteratively (p % per round) and the output layer at half the rate; one round keeps this cheap.
    """
    s = check_sparsity(sparsity)
    check_int(epochs, "epochs", lo=1)
    tr, va, te = (load_digits(x) for x in ("train", "val", "test"))
    torch.manual_seed(seed)
    net = build_model("mlp")
    theta0 = copy.deepcopy(net.state_dict())
    train(net, tr, epochs=epochs, lr=lr, seed=seed)
    dense = {"val": accuracy(net, va), "test": accuracy(net, te)}
    masks = magnitude_masks(net, s)
    out = {"sparsity": s, "epochs": epochs, "dense": dense}
    for name, init_seed in (("rewind", None), ("random_reinit", seed + 1)):
        if init_seed is None:
            m = build_model("mlp")
            m.load_state_dict(theta0)
        else:
            torch.manual_seed(init_seed)
            m = build_model("mlp")
        apply_masks_(m, masks)
        train(m, tr, epochs=epochs, lr=lr, seed=seed, after_step=lambda m=m: apply_masks_(m, masks))
        out[name] = {"val": accuracy(m, va), "test": accuracy(m, te),
                     "sparsity": mask_sparsity(m)["total"]}
    return out


# --------------------------------------------------------------------------------------------
# automated per-layer allocation from a sensitivity scan (S2-Q1)
# --------------------------------------------------------------------------------------------
SCAN_SPARSITIES = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99)


def sensitivity_scan(model: nn.Module, split: Split,
                     sparsities: Sequence[float] = SCAN_SPARSITIES,
                     layers: Iterable[str] | None = None) -> dict:
    """Prune one layer at a time by magnitude to each sparsity (others dense) and record the
    accuracy on ``split`` (use *val*, never test). Han et al. (2015, Fig. 6) and Distiller's
    "sensitivity analysis" use this to see which layers tolerate pruning. ``model`` is not modified.
    Returns ``{"sparsities": array, "base": acc, "acc": {layer: array}, "sizes": {layer: n_l}}``."""
    if not isinstance(split, Split):
        raise TypeError(f"split must be a pruninglab.data.Split, got {type(split).__name__}")
    names = prunable_layers(model) if layers is None else check_layer_names(model, list(layers))
    sp = np.array([check_sparsity(s, "sparsities") for s in sparsities])
    if sp.size == 0 or sp[0] != 0.0 or np.any(np.diff(sp) <= 0):
        raise ValueError("sparsities must be increasing and start at 0.0")
    modules = dict(model.named_modules())
    acc = {}
    for n in names:
        row = []
        for s in sp:
            m = copy.deepcopy(model)
            apply_masks_(m, magnitude_masks(m, {n: float(s)}, layers=[n]))
            row.append(accuracy(m, split))
        acc[n] = np.array(row)
    return {"sparsities": sp, "base": accuracy(model, split), "acc": acc,
            "sizes": {n: modules[n].weight.numel() for n in names}}


def allocate_sparsity(scan: dict, target: float) -> dict[str, float]:
    """Per-layer sparsities whose weight-weighted mean is exactly ``target`` (global sparsity over
    the scanned layers), chosen greedily from a sensitivity scan.

    Start dense; repeatedly move the layer with the smallest *accuracy drop per pruned weight*,
    ``(a_l(s_j) - a_l(s_{j+1})) / (n_l (s_{j+1} - s_j))``, to its next scan point; the last move is
    shortened so the total is exactly ``target``. Scan curves are made non-increasing first
    (running minimum) so noise does not reward pruning. This is the simplest automatic allocator;
    AMC (He et al., 2018) uses RL and NetAdapt (Yang et al., 2018) measured latency instead.
    """
    t = check_sparsity(target, "target")
    if not isinstance(scan, dict) or "acc" not in scan:
        raise TypeError("scan must be the dict returned by sensitivity_scan")
    sp = scan["sparsities"]
    sizes = scan["sizes"]
    total = sum(sizes.values())
    need = t * total
    mono = {n: np.minimum.accumulate(a) for n, a in scan["acc"].items()}
    idx = {n: 0 for n in sizes}
    alloc = {n: 0.0 for n in sizes}
    pruned = 0.0
    while pruned < need - 1e-9:
        best, best_cost = None, None
        for n in sizes:
            j = idx[n]
            if j + 1 >= len(sp):
                continue
            cost = (mono[n][j] - mono[n][j + 1]) / (sizes[n] * (sp[j + 1] - sp[j]))
            if best_cost is None or cost < best_cost - 1e-15:
                best, best_cost = n, cost
        if best is None:
            raise ValueError(f"target {t:g} exceeds what the scan grid allows")
        j = idx[best]
        gain = sizes[best] * (sp[j + 1] - sp[j])
        if pruned + gain >= need:
            alloc[best] = float(sp[j] + (need - pruned) / sizes[best])
            pruned = need
        else:
            alloc[best] = float(sp[j + 1])
            idx[best] = j + 1
            pruned += gain
    return alloc


def compute_allocation(target: float, scan: dict, model_name: str = "mlp") -> dict:
    """Prune the reference model to global sparsity ``target`` two ways — uniform per-layer and the
    automatic allocation from ``scan`` (computed on val) — and evaluate both on val and test
    (no fine-tuning; a few milliseconds, slider-safe)."""
    t = check_sparsity(target, "target")
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    images = model_name == "cnn"
    va, te = load_digits("val", images=images), load_digits("test", images=images)
    alloc = allocate_sparsity(scan, t)
    out = {"target": t, "allocation": alloc}
    for name, spec in (("uniform", t), ("auto", alloc)):
        m = load_reference(model_name)
        apply_masks_(m, magnitude_masks(m, spec, layers=list(scan["sizes"])))
        sp = mask_sparsity(m, layers=list(scan["sizes"]))
        out[name] = {"val": accuracy(m, va), "test": accuracy(m, te), "sparsity": sp["total"],
                     "per_layer": {n: sp[n] for n in scan["sizes"]}, **model_bytes(m)}
    return out


def render_allocation(r: dict) -> None:
    import matplotlib.pyplot as plt
    u, a = r["uniform"], r["auto"]
    print(f"global sparsity {r['target']:.2f}: uniform test {u['test']:.4f} (val {u['val']:.4f}) | "
          f"auto test {a['test']:.4f} (val {a['val']:.4f}); CSR size "
          f"{u['csr_bytes'] / 1024:.1f} vs {a['csr_bytes'] / 1024:.1f} KiB")
    layers = list(r["allocation"])
    x = np.arange(len(layers))
    fig, ax = plt.subplots()
    ax.bar(x - 0.2, [u["per_layer"][n] for n in layers], 0.4, label="uniform")
    ax.bar(x + 0.2, [a["per_layer"][n] for n in layers], 0.4, label="auto (val scan)")
    ax.set_xticks(x, layers)
    ax.set_ylabel("layer sparsity")
    ax.set_ylim(0, 1)
    ax.set_title(f"global sparsity {r['target']:.2f}")
    ax.legend()
    plt.show()
    plt.close(fig)
