"""Mask-enforced fine-tuning and iterative (gradual) pruning.

Fine-tuning a pruned model with an ordinary optimizer *revives* pruned weights: their
gradient is not zero. Zeroing the gradient alone is enough only while the optimizer has no
memory of those weights (a fresh optimizer keeps a masked weight's momentum / Adam moments at
exactly 0, and weight decay of an exact zero is zero); it fails as soon as optimizer state was
carried over from earlier steps -- dense training before pruning, or steps taken before a mask
update during gradual pruning -- because that momentum keeps moving the weight. Han et al. (2015)
keep pruned connections at zero during retraining. :func:`fine_tune_` enforces the mask twice
per step:

1. before ``optimizer.step()``: ``grad ← grad ⊙ mask`` (no update direction for pruned weights),
2. after the step: ``w ← w ⊙ mask`` (the rule that is correct in every case: it undoes whatever
   carried-over momentum did),

so pruned weights stay exactly 0 (tested).

:func:`iterative_prune` alternates pruning and fine-tuning with a sparsity schedule
(AGP, Zhu & Gupta 2017, or linear), as in Han et al. (2015, iterative pruning).
"""
from __future__ import annotations

import copy
from typing import Mapping

import torch
from torch import nn

from .._validate import check_choice, check_int, check_sparsity
from ..data import Split
from ..train import evaluate, train
from .model import _check_masks, _check_model, apply_masks_, compute_masks
from .schedules import agp_sparsity, linear_sparsity

__all__ = ["fine_tune_", "iterative_prune"]


def fine_tune_(model: nn.Module, masks: Mapping[str, torch.Tensor], split: Split, *, epochs: int = 3,
               lr: float = 5e-4, batch_size: int = 64, seed: int = 0, optimizer: str = "adam",
               weight_decay: float = 0.0, val: Split | None = None, progress: bool = False) -> list[dict]:
    """Fine-tune ``model`` in place on ``split`` with the ``masks`` enforced (see module doc).

    The masks are applied once before training too, so an unpruned model passed with masks
    is pruned first. Returns :func:`pruninglab.train.train`'s per-epoch history
    (``val_accuracy``/``val_loss`` when ``val`` is given).
    """
    _check_model(model)
    if not isinstance(split, Split):
        raise TypeError(f"split must be a pruninglab.data.Split, got {type(split).__name__}")
    mods = _check_masks(model, masks)
    pairs = [(mods[n].weight, m.to(device=mods[n].weight.device, dtype=torch.bool))
             for n, m in masks.items()]
    apply_masks_(model, masks)

    def before_step():
        for w, m in pairs:
            if w.grad is not None:
                w.grad.masked_fill_(~m, 0.0)

    @torch.no_grad()
    def after_step():
        for w, m in pairs:
            w.masked_fill_(~m, 0.0)

    return train(model, split, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed,
                 optimizer=optimizer, weight_decay=weight_decay, before_step=before_step,
                 after_step=after_step, val=val, progress=progress, desc="fine-tune")


def iterative_prune(model: nn.Module, final_sparsity: float, *, steps: int, split: Split,
                    epochs_per_step: int = 1, lr: float = 5e-4, val: Split | None = None,
                    scope: str = "global", schedule: str = "agp", layers=None, seed: int = 0,
                    progress: bool = False):
    """Prune gradually in ``steps`` rounds, fine-tuning (mask enforced) after each round.

    Round ``k = 1..steps`` prunes to ``s_k`` = AGP (``s_f·(1 - (1 - k/n)³)``, Zhu & Gupta 2017)
    or linear (``s_f·k/n``), by magnitude of the *current* (fine-tuned) weights. New masks are
    AND-ed with the previous ones, so a pruned weight never comes back (the exact count
    ``round(s_k·n)`` still holds because pruned weights are 0, the smallest magnitude).

    Returns ``(new_model, masks, history)``; ``model`` is not modified. ``history`` has one
    dict per round: ``step``, ``sparsity`` (target), ``achieved`` (measured over the pruned
    layers), ``train_loss`` (last epoch) and ``val_accuracy`` when ``val`` is given.
    """
    _check_model(model)
    s_f = check_sparsity(final_sparsity, "final_sparsity")
    n = check_int(steps, "steps", lo=1)
    check_int(epochs_per_step, "epochs_per_step", lo=0)
    check_choice(schedule, "schedule", ("agp", "linear"))
    check_choice(scope, "scope", ("global", "layer"))
    new = copy.deepcopy(model)
    masks = None
    history = []
    for k in range(1, n + 1):
        s = agp_sparsity(k, 0.0, s_f, 0, n, 1) if schedule == "agp" else linear_sparsity(k, s_f, n)
        m = compute_masks(new, s, scope=scope, layers=layers)
        if masks is not None:
            m = {name: mk & masks[name] for name, mk in m.items()}
        masks = m
        h = fine_tune_(new, masks, split, epochs=epochs_per_step, lr=lr, seed=seed + k)
        pruned = sum(int((~mk).sum()) for mk in masks.values())
        total = sum(mk.numel() for mk in masks.values())
        row = {"step": k, "sparsity": s, "achieved": pruned / total,
               "train_loss": h[-1]["train_loss"] if h else float("nan")}
        if val is not None:
            row["val_accuracy"] = evaluate(new, val)["accuracy"]
        history.append(row)
        if progress:
            print(f"step {k}/{n}: sparsity {s:.3f}" +
                  (f", val acc {row['val_accuracy']:.4f}" if val is not None else ""))
    return new, masks, history
