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
* J. Frankle, M. Carbin (2019), *The Lottery Ticket Hypothesis*, ICLR — rewind survivors to init.
* Sensitivity analysis per layer: Han et al. (2015, Fig. 6); Y. He et al. (2018) *AMC*, ECCV and
  T.-J. Yang et al. (2018) *NetAdapt*, ECCV automate the per-layer choice.
"""
from __future__ import annotations

import copy
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
    "compute_agp", "render_agp",
    "prune_retrain_sweep", "compute_prune_retrain", "render_prune_retrain",
    "compare_gradual_oneshot", "lottery_ticket",
    "SCAN_SPARSITIES", "compute_allocation", "render_allocation",
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
    s = np.array([agp_sparsity(int(t), s_i, s_f, t0, n, dt) for t in steps])
    updates = t0 + dt * np.arange(n + 1)
    half = int(updates[np.argmax(upd_s >= s_i + 0.5 * (s_f - s_i))])
    return {"steps": steps, "sparsity": s, "update_steps": updates, "update_sparsity": upd_s,
            "initial": s_i, "final": s_f, "start": t0, "n_steps": n, "interval": dt, "end": end,
            "half_point_step": half}


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
    (a) directly and (b) after ``epochs`` of mask-enforced fine-tuning
    (:func:`pruninglab.pruning.fine_tune_`). Accuracies on val and test, storage in bytes (dense vs
    CSR, :func:`storage_bytes_dense_csr`). Heavy: call once and pass the result to
    :func:`compute_prune_retrain`."""
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    sp = [check_sparsity(s, "sparsities") for s in sparsities]
    if not sp:
        raise ValueError("sparsities must not be empty")
    check_int(epochs, "epochs", lo=0)
    images = model_name == "cnn"
    tr, va, te = (load_digits(s, images=images) for s in ("train", "val", "test"))
    rows = []
    for s in sp:
        m = load_reference(model_name)
        masks = _layer_masks(m, s)
        apply_masks_(m, masks)
        row = {"sparsity": s, "val_pruned": accuracy(m, va), "test_pruned": accuracy(m, te)}
        fine_tune_(m, masks, tr, epochs=epochs, lr=lr, seed=seed)
        row.update({"val_finetuned": accuracy(m, va), "test_finetuned": accuracy(m, te),
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

    Val accuracy after every epoch for both; test accuracy and measured sparsity at the end.
    """
    s_f = check_sparsity(final, "final")
    ep = check_int(epochs, "epochs", lo=1)
    n = max(1, (2 * ep) // 3) if prune_rounds is None else check_int(prune_rounds, "prune_rounds",
                                                                     lo=1, hi=ep)
    tr, va, te = (load_digits(s) for s in ("train", "val", "test"))
    one = load_reference("mlp")
    masks = _layer_masks(one, s_f)
    apply_masks_(one, masks)
    after_prune = {"val": accuracy(one, va), "test": accuracy(one, te)}
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
        "oneshot": {"val": accuracy(one, va), "test": accuracy(one, te),
                    "sparsity": weight_sparsity(one)},
        "gradual": {"val": accuracy(grad, va), "test": accuracy(grad, te),
                    "sparsity": weight_sparsity(grad)},
        "gradual_schedule": [(h["step"], h["sparsity"]) for h in hist],
    }


def lottery_ticket(sparsity: float = 0.9, epochs: int = 15, *, lr: float = 1e-3, seed: int = 0
                   ) -> dict:
    """One round of the lottery-ticket experiment (Frankle & Carbin, 2019) on the digits MLP.

    1. initialise ``θ0`` (seeded), train dense ``epochs``; 2. per-layer magnitude mask at
    ``sparsity``; 3a. *rewind*: reset survivors to ``θ0`` and train with the mask enforced
    (:func:`pruninglab.pruning.fine_tune_`); 3b. control: same mask, fresh random initialisation
    (another seed). Frankle & Carbin prune iteratively (p % per round) and the output layer at
    half the rate; one round keeps this cheap.
    """
    s = check_sparsity(sparsity)
    check_int(epochs, "epochs", lo=1)
    tr, va, te = (load_digits(x) for x in ("train", "val", "test"))
    torch.manual_seed(seed)
    net = build_model("mlp")
    theta0 = copy.deepcopy(net.state_dict())
    train(net, tr, epochs=epochs, lr=lr, seed=seed)
    dense = {"val": accuracy(net, va), "test": accuracy(net, te)}
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
        out[name] = {"val": accuracy(m, va), "test": accuracy(m, te),
                     "sparsity": weight_sparsity(m)}
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
    and evaluate both on val and test (no fine-tuning; milliseconds, slider-safe). Storage is
    from :func:`storage_bytes_dense_csr`."""
    t = check_sparsity(target, "target")
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    if not isinstance(scan, Mapping) or not scan:
        raise TypeError("scan must be the dict returned by pruninglab.pruning.sensitivity_scan")
    images = model_name == "cnn"
    va, te = load_digits("val", images=images), load_digits("test", images=images)
    ref = load_reference(model_name)
    layers = list(scan)
    alloc = allocate_sparsity(ref, scan, t, sparsities=sparsities, layers=layers)
    out = {"target": t, "allocation": alloc}
    for name, spec in (("uniform", t), ("auto", alloc)):
        m = copy.deepcopy(ref)
        apply_masks_(m, _layer_masks(m, spec, layers=layers))
        w = model_weights(m, layers)
        out[name] = {"val": accuracy(m, va), "test": accuracy(m, te), "sparsity": sparsity_of(w),
                     "per_layer": {n: sparsity_of(v) for n, v in w.items()},
                     **storage_bytes_dense_csr(m)}
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
