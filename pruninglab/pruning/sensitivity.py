"""Layer sensitivity analysis and automatic per-layer sparsity allocation.

Sensitivity scan (Han et al., 2015, Fig. 6; Li et al., 2017, Fig. 2): prune *one* layer at a
time by magnitude to each sparsity in a grid, *without* fine-tuning, and record the
validation accuracy; all other layers stay dense. Layers whose curve stays flat tolerate
more pruning. Always scan on the **validation** split — choosing sparsities on the test split
would leak it (``split.name == "test"`` is refused).

Allocation (a greedy version of what AMC, He et al. 2018, and NetAdapt, Yang et al. 2018,
automate): start dense and repeatedly raise, by ``step``, the sparsity of the layer with the
smallest *accuracy loss per removed weight*

    cost_l = (d_l(s_l + step) - d_l(s_l)) / (step · n_l),   d_l(s) = acc_l(0) - acc_l(s)

where ``acc_l`` is the scan curve, linearly interpolated and made non-increasing (running
minimum, so noise never rewards pruning); ties go to the layer with more weights. Stop when
the parameter-weighted sparsity ``Σ s_l n_l / Σ n_l`` reaches ``target``; the last increment
is cut so the target is met exactly (floating point). Layers never exceed the largest scanned
sparsity. The estimate assumes layer effects add up — it is a heuristic; measure the result.
"""
from __future__ import annotations

import copy
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .._validate import check_number, check_sparsity
from ..data import Split
from ..train import accuracy
from .masks import magnitude_mask
from .model import _check_model, _select

__all__ = ["sensitivity_scan", "allocate_sparsity", "DEFAULT_GRID"]

DEFAULT_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98)


def _check_grid(sparsities) -> list[float]:
    if isinstance(sparsities, (str, bytes)) or not isinstance(sparsities, Iterable):
        raise TypeError("sparsities must be a sequence of floats in [0, 1)")
    grid = [check_sparsity(s, "sparsities") for s in sparsities]
    if not grid:
        raise ValueError("sparsities must not be empty")
    if any(b <= a for a, b in zip(grid, grid[1:])):
        raise ValueError(f"sparsities must be strictly increasing, got {grid}")
    return grid


@torch.no_grad()
def sensitivity_scan(model: nn.Module, split: Split, sparsities: Sequence[float] = DEFAULT_GRID,
                     layers: Iterable[str] | None = None) -> dict[str, list[float]]:
    """``{layer: [accuracy at each sparsity]}``: each layer pruned alone by magnitude (per-layer
    ``round(s·n)`` smallest ``|w|``), no fine-tuning, evaluated on ``split`` (the validation
    split). ``model`` is not modified (a copy is used and restored after every point)."""
    _check_model(model)
    if not isinstance(split, Split):
        raise TypeError(f"split must be a pruninglab.data.Split, got {type(split).__name__}")
    if split.name == "test":
        raise ValueError("split must not be the test split: choose sparsities on 'val'")
    grid = _check_grid(sparsities)
    work = copy.deepcopy(model).eval()
    sel = _select(work, layers)
    out = {}
    for n, m in sel.items():
        orig = m.weight.detach().clone()
        accs = []
        for s in grid:
            m.weight.copy_(orig * magnitude_mask(orig, s))
            accs.append(accuracy(work, split))
        m.weight.copy_(orig)
        out[n] = accs
    return out


def allocate_sparsity(model: nn.Module, scan_or_split, target: float, *,
                      sparsities: Sequence[float] | None = None, layers: Iterable[str] | None = None,
                      step: float = 0.01) -> dict[str, float]:
    """Per-layer sparsities ``{layer: s_l}`` with ``Σ s_l n_l / Σ n_l == target`` (see module doc).

    ``scan_or_split``: a :class:`~pruninglab.data.Split` (the scan is run here on it, with
    ``sparsities`` or :data:`DEFAULT_GRID`) or a precomputed :func:`sensitivity_scan` dict
    (then ``sparsities`` must be the grid it was computed with). Use the result with
    ``compute_masks(model, alloc, scope="layer")``.
    """
    _check_model(model)
    t = check_sparsity(target, "target")
    step = check_number(step, "step", lo=0.0, hi=0.5, lo_inclusive=False)
    if isinstance(scan_or_split, Split):
        grid = _check_grid(DEFAULT_GRID if sparsities is None else sparsities)
        scan = sensitivity_scan(model, scan_or_split, grid, layers=layers)
    elif isinstance(scan_or_split, Mapping):
        if sparsities is None:
            raise ValueError("sparsities (the scan's grid) is required when scan_or_split is a scan dict")
        grid = _check_grid(sparsities)
        scan = dict(scan_or_split)
    else:
        raise TypeError(f"scan_or_split must be a Split or a sensitivity_scan dict, "
                        f"got {type(scan_or_split).__name__}")
    sel = _select(model, list(scan) if layers is None else layers)
    for n in sel:
        if n not in scan:
            raise ValueError(f"scan has no curve for layer {n!r}")
        if len(scan[n]) != len(grid):
            raise ValueError(f"scan[{n!r}] has {len(scan[n])} points, sparsities has {len(grid)}")
    names = list(sel)
    sizes = np.array([sel[n].weight.numel() for n in names], dtype=np.float64)
    total = sizes.sum()
    s_max = grid[-1]
    if t > s_max + 1e-12:
        raise ValueError(f"target={t:g} exceeds the largest scanned sparsity {s_max:g}")
    curves = {n: np.minimum.accumulate(np.asarray(scan[n], dtype=np.float64)) for n in names}

    def drop(i, s):
        c = curves[names[i]]
        return c[0] - float(np.interp(s, grid, c))

    s = np.zeros(len(names))
    goal = t * total
    while float((s * sizes).sum()) < goal - 1e-9:
        best, best_key = None, None
        for i in range(len(names)):
            if s[i] >= s_max - 1e-12:
                continue
            nxt = min(s[i] + step, s_max)
            cost = (drop(i, nxt) - drop(i, s[i])) / ((nxt - s[i]) * sizes[i])
            key = (cost, -sizes[i], i)
            if best_key is None or key < best_key:
                best, best_key = i, key
        if best is None:  # pragma: no cover - excluded by the target <= s_max check
            raise ValueError("target cannot be reached")
        nxt = min(s[best] + step, s_max)
        missing = goal - float((s * sizes).sum())
        if (nxt - s[best]) * sizes[best] >= missing:
            s[best] += missing / sizes[best]
            break
        s[best] = nxt
    return {n: float(v) for n, v in zip(names, s)}
