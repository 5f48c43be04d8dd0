"""Training and evaluation loops (CPU, deterministic given a seed)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ._validate import check_int, check_number
from .data import Split, batches

__all__ = ["train", "evaluate", "accuracy", "predict_logits"]


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    """Logits of ``model`` on ``x`` in eval mode (the model's train/eval mode is restored)."""
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)


def accuracy(model: nn.Module, split: Split) -> float:
    """Top-1 accuracy in [0, 1] on a split."""
    if not isinstance(split, Split):
        raise TypeError(f"split must be a pruninglab.data.Split, got {type(split).__name__}")
    pred = predict_logits(model, split.x).argmax(1)
    return float((pred == split.y).float().mean())


def evaluate(model: nn.Module, split: Split) -> dict:
    """``{"accuracy": ..., "loss": ...}`` (mean cross-entropy) on a split."""
    logits = predict_logits(model, split.x)
    loss = float(nn.functional.cross_entropy(logits, split.y))
    acc = float((logits.argmax(1) == split.y).float().mean())
    return {"accuracy": acc, "loss": loss}


def train(model: nn.Module, split: Split, *, epochs: int = 10, lr: float = 1e-3,
          batch_size: int = 64, seed: int = 0, optimizer: str = "adam",
          weight_decay: float = 0.0,
          after_step: Callable[[], None] | None = None,
          before_step: Callable[[], None] | None = None,
          val: Split | None = None, progress: bool = False,
          desc: str = "train") -> list[dict]:
    """Train ``model`` in place with cross-entropy; return a per-epoch history.

    ``before_step`` runs after ``backward()`` and before ``optimizer.step()`` (e.g. to zero
    the gradients of pruned weights); ``after_step`` runs after every optimizer step (e.g. to
    re-apply pruning masks so pruned weights stay exactly zero). ``progress=True`` shows a
    tqdm bar (a widget in Jupyter). Shuffling is seeded per epoch (``seed + epoch``).
    """
    check_int(epochs, "epochs", lo=0)
    check_number(lr, "lr", lo=0.0, lo_inclusive=False)
    check_int(batch_size, "batch_size", lo=1)
    check_int(seed, "seed", lo=0)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    elif optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    epoch_iter = range(epochs)
    if progress:
        from tqdm.auto import tqdm
        epoch_iter = tqdm(epoch_iter, desc=desc, leave=True)
    history = []
    for epoch in epoch_iter:
        model.train()
        total, n = 0.0, 0
        for xb, yb in batches(split, batch_size, shuffle=True, seed=seed + epoch):
            opt.zero_grad(set_to_none=True)
            loss = nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            if before_step is not None:
                before_step()
            opt.step()
            if after_step is not None:
                after_step()
            total += float(loss.detach()) * len(yb)
            n += len(yb)
        row = {"epoch": epoch + 1, "train_loss": total / n}
        if val is not None:
            row.update({f"val_{k}": v for k, v in evaluate(model, val).items()})
        history.append(row)
    model.eval()
    return history
