"""The UCI handwritten digits (8x8, 1,797 images), shipped in ``data/digits.npz``.

Source: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine
Learning Repository (1998), DOI 10.24432/C50P49, license CC BY 4.0. The copy in ``data/`` was
extracted once from scikit-learn's bundled ``load_digits`` (see ``data/README.md``); nothing is
downloaded at run time.

Splits are fixed and stratified: for every class, a seeded permutation puts 60 % of its
images in *train*, 20 % in *val* (used to choose sparsities, bit-widths, schedules) and 20 %
in *test* (held out: report it, never tune on it).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from ._validate import check_choice, check_int
from .utils import repo_root

__all__ = ["Split", "load_digits", "load_raw", "SPLITS", "batches"]

SPLITS = ("train", "val", "test")
_SPLIT_SEED = 20240601
_FRACTIONS = (0.6, 0.2, 0.2)


@dataclass(frozen=True)
class Split:
    """One split: ``x`` float32 in [0, 1] shaped (N, 64) or (N, 1, 8, 8); ``y`` int64 (N,)."""
    name: str
    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])


def _path():
    return repo_root() / "data" / "digits.npz"


@lru_cache(maxsize=1)
def load_raw() -> tuple[np.ndarray, np.ndarray]:
    """The raw arrays: images uint8 (1797, 8, 8) with values 0..16, labels uint8 (1797,)."""
    with np.load(_path()) as f:
        images, labels = f["images"], f["labels"]
    if images.shape != (1797, 8, 8) or labels.shape != (1797,):
        raise RuntimeError(f"{_path()} is corrupt: shapes {images.shape}, {labels.shape}")
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


@lru_cache(maxsize=1)
def _split_indices() -> dict[str, np.ndarray]:
    _, labels = load_raw()
    rng = np.random.RandomState(_SPLIT_SEED)
    parts = {k: [] for k in SPLITS}
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        n_tr = int(round(_FRACTIONS[0] * len(idx)))
        n_va = int(round(_FRACTIONS[1] * len(idx)))
        parts["train"].append(idx[:n_tr])
        parts["val"].append(idx[n_tr:n_tr + n_va])
        parts["test"].append(idx[n_tr + n_va:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}


def load_digits(split: str = "train", *, images: bool = False) -> Split:
    """Load one split as torch tensors.

    Parameters
    ----------
    split : "train" | "val" | "test"
    images : if True, ``x`` is shaped (N, 1, 8, 8) for the CNN; else (N, 64) for the MLP.
    """
    check_choice(split, "split", SPLITS)
    if not isinstance(images, bool):
        raise TypeError(f"images must be bool, got {type(images).__name__}")
    imgs, labels = load_raw()
    idx = _split_indices()[split]
    x = torch.from_numpy(imgs[idx].astype(np.float32) / 16.0)
    x = x.reshape(len(idx), 1, 8, 8) if images else x.reshape(len(idx), 64)
    y = torch.from_numpy(labels[idx].astype(np.int64))
    return Split(split, x, y)


def batches(split: Split, batch_size: int, *, shuffle: bool, seed: int = 0):
    """Yield ``(x, y)`` mini-batches; shuffling uses its own seeded generator (no global state)."""
    check_int(batch_size, "batch_size", lo=1)
    n = len(split)
    if shuffle:
        g = torch.Generator().manual_seed(seed)
        order = torch.randperm(n, generator=g)
    else:
        order = torch.arange(n)
    for i in range(0, n, batch_size):
        j = order[i:i + batch_size]
        yield split.x[j], split.y[j]
