"""Reference models for the digits data set and loading of their trained weights.

* :class:`DigitsMLP` — 64 → 256 → 128 → 10 with ReLU (layers ``fc1``, ``fc2``, ``fc3``).
* :class:`DigitsCNN` — three 3×3 conv + BatchNorm + ReLU blocks and a linear classifier
  (``conv1``/``bn1`` 1→16, ``conv2``/``bn2`` 16→32, 2×2 max-pool, ``conv3``/``bn3`` 32→64,
  2×2 max-pool, flatten 64·2·2 = 256 → ``fc`` 10).

Both are small enough to train in seconds on a CPU and big enough that pruning and
quantization have visible, measurable effects. Trained weights are produced by
``python -m pruninglab.train_reference`` and stored in ``data/reference_{mlp,cnn}.pt``.
"""
from __future__ import annotations

import json

import torch
from torch import nn

from ._validate import check_choice
from .utils import repo_root

__all__ = ["DigitsMLP", "DigitsCNN", "build_model", "load_reference", "reference_metrics",
           "MODEL_NAMES"]

MODEL_NAMES = ("mlp", "cnn")


class DigitsMLP(nn.Module):
    def __init__(self, hidden: tuple[int, int] = (256, 128)):
        super().__init__()
        h1, h2 = hidden
        self.fc1 = nn.Linear(64, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class DigitsCNN(nn.Module):
    def __init__(self, channels: tuple[int, int, int] = (16, 32, 64)):
        super().__init__()
        c1, c2, c3 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(c3)
        self.fc = nn.Linear(c3 * 2 * 2, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.reshape(x.shape[0], 1, 8, 8)
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = _max_pool2(x)
        x = torch.relu(self.bn3(self.conv3(x)))
        x = _max_pool2(x)
        return self.fc(x.flatten(1))


def _max_pool2(x: torch.Tensor) -> torch.Tensor:
    """``max_pool2d(x, 2)``. Without autograd (evaluation, sliders) and with even height and
    width, it is two elementwise maxima of strided views: the same values bit for bit (a
    maximum is exact), ~15x faster on CPU than ATen's pooling kernel for these small maps
    (0.2 vs 3 ms for the 359 validation digits), which made it a third of a CNN evaluation.
    With autograd on, it is ``max_pool2d`` itself, so training and gradients are unchanged."""
    if torch.is_grad_enabled() or x.dim() != 4 or x.shape[2] % 2 or x.shape[3] % 2:
        return nn.functional.max_pool2d(x, 2)
    rows = torch.maximum(x[:, :, 0::2], x[:, :, 1::2])
    return torch.maximum(rows[..., 0::2], rows[..., 1::2])


def build_model(name: str) -> nn.Module:
    """A fresh, untrained model: ``"mlp"`` or ``"cnn"``."""
    check_choice(name, "name", MODEL_NAMES)
    return DigitsMLP() if name == "mlp" else DigitsCNN()


def _weights_path(name: str):
    return repo_root() / "data" / f"reference_{name}.pt"


def load_reference(name: str = "mlp") -> nn.Module:
    """The trained reference model in eval mode, loaded with ``weights_only=True``.

    Each call returns a new model object, so callers may prune it freely.
    """
    model = build_model(name)
    path = _weights_path(name)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m pruninglab.train_reference`")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def reference_metrics() -> dict:
    """Accuracies recorded by the training script (``data/reference_metrics.json``)."""
    with open(repo_root() / "data" / "reference_metrics.json", encoding="utf-8") as f:
        return json.load(f)
