"""Pruning masks as pure functions (numpy in → numpy out, torch in → torch out).

A *mask* is a boolean array shaped like the weight: ``True`` = keep, ``False`` = prune.
Computing a mask never changes the weight; applying it is a separate step
(:func:`apply_mask`, or :func:`pruninglab.pruning.apply_masks_` for a model), the same split
as ``torch.nn.utils.prune``.

Conventions
-----------
* Sparsity ``s`` is the fraction of zeros, in ``[0, 1)``. A tensor of ``n`` weights pruned
  to ``s`` loses exactly ``k = round(n · s)`` weights (Python's ``round``: half to even,
  the same count ``torch.nn.utils.prune`` uses).
* Ties are broken by flat index (row-major order; for several layers: layer order first):
  among equal magnitudes the *earlier* weight is pruned first. Results are therefore
  deterministic and the achieved count is exact even when many weights are equal
  (e.g. re-pruning an already pruned tensor full of zeros).

References
----------
* S. Han, J. Pool, J. Tran, W. J. Dally (2015), *Learning both Weights and Connections for
  Efficient Neural Networks*, NeurIPS — magnitude pruning (prune the smallest ``|w|``).
* M. Zhu, S. Gupta (2017), *To prune, or not to prune*, arXiv:1710.01878 — a single global
  magnitude threshold vs per-layer pruning.
* A. Mishra et al. (2021), *Accelerating Sparse Deep Neural Networks*, arXiv:2104.08378 —
  2:4 (N:M) fine-grained structured sparsity supported by NVIDIA Ampere sparse tensor cores.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import torch

from .._validate import check_array, check_int, check_number, check_sparsity, is_tensor

__all__ = ["magnitudes", "magnitude_mask", "magnitude_order", "mask_from_order", "threshold_mask",
           "random_mask", "global_magnitude_masks", "nm_mask", "apply_mask", "sparsity_of", "n_to_prune"]


def n_to_prune(n: int, sparsity: float) -> int:
    """``k = round(n · s)``: the number of weights removed from ``n`` at sparsity ``s``."""
    return int(round(n * sparsity))


def magnitudes(w):
    """``|w|`` in a dtype where the absolute value is exact and orderable (a new object; ``w`` is
    untouched; numpy in → numpy out, torch in → torch out).

    Integer inputs are widened first (``|-128|`` wraps to ``-128`` in int8, which would make the
    *largest* weight look like the smallest), ``int64``/``uint64`` become float64, booleans count
    as 0/1, and float16/bfloat16 are compared in float32 (torch's CPU kernels for sorting them
    are incomplete)."""
    if is_tensor(w):
        t = w.detach()
        if t.dtype == torch.bool:
            return t.to(torch.uint8)
        if t.dtype in (torch.float16, torch.bfloat16):
            return t.to(torch.float32).abs()
        if t.dtype == torch.int64:
            return t.to(torch.float64).abs()
        if not t.is_floating_point() and t.dtype != torch.uint8:
            return t.to(torch.int64).abs()
        return t.abs()
    a = np.asarray(w)
    if a.dtype == np.bool_:
        return a.astype(np.uint8)
    if a.dtype == np.float16:
        return np.abs(a.astype(np.float32))
    if a.dtype.kind in "iu" and a.dtype.itemsize == 8:
        return np.abs(a.astype(np.float64))
    if a.dtype.kind == "i":
        return np.abs(a.astype(np.int64))
    return np.abs(a)


def _abs_flat_np(w) -> np.ndarray:
    """|w| flattened as a numpy array (a copy; ``w`` is untouched), see :func:`magnitudes`."""
    m = magnitudes(w)
    if is_tensor(m):
        return m.reshape(-1).cpu().numpy()
    return m.reshape(-1)


def _like(mask_np: np.ndarray, w) -> Any:
    """Return a numpy bool mask shaped like ``w`` as the same kind of object as ``w``."""
    if is_tensor(w):
        return torch.from_numpy(np.ascontiguousarray(mask_np)).reshape(w.shape).to(w.device)
    return mask_np.reshape(np.shape(w))


def magnitude_mask(w, sparsity: float):
    """Unstructured magnitude mask (Han et al., 2015).

    ``mask_i = 0`` for the ``k = round(n·s)`` entries with the smallest ``|w_i|`` (ties: lower
    flat index pruned first), ``1`` otherwise. Equivalent to
    ``torch.nn.utils.prune.l1_unstructured(amount=s)`` when there are no ties.

    Parameters
    ----------
    w : numpy.ndarray or torch.Tensor, any shape, finite, non-empty.
    sparsity : float in [0, 1).

    Returns
    -------
    Boolean mask like ``w`` (numpy bool array or torch bool tensor on ``w``'s device).
    """
    check_array(w, "w")
    s = check_sparsity(sparsity)
    a = _abs_flat_np(w)
    k = n_to_prune(a.size, s)
    keep = np.ones(a.size, dtype=bool)
    if k:
        order = np.argsort(a, kind="stable")
        keep[order[:k]] = False
    return _like(keep, w)


def magnitude_order(w) -> np.ndarray:
    """Flat indices of ``w`` by increasing ``|w|`` (stable: among equal magnitudes the lower flat
    index first) — the order :func:`magnitude_mask` sorts on every call. Compute it once for a
    fixed weight and build masks at many sparsities with :func:`mask_from_order` (a slider
    should not sort every weight again on each move)."""
    check_array(w, "w")
    return np.argsort(_abs_flat_np(w), kind="stable")


def mask_from_order(order, w, sparsity: float):
    """``magnitude_mask(w, sparsity)`` from ``order = magnitude_order(w)``, without sorting: the
    ``round(n·s)`` first indices of ``order`` are pruned. Returns the same kind of object as
    ``w`` (numpy bool array or torch bool tensor on ``w``'s device)."""
    check_array(w, "w")
    s = check_sparsity(sparsity)
    order = np.asarray(order)
    n = int(np.prod(np.shape(w)))
    if order.shape != (n,) or not np.issubdtype(order.dtype, np.integer):
        raise ValueError(f"order must be magnitude_order(w): {n} integer indices, got {order.dtype} {order.shape}")
    keep = np.ones(n, dtype=bool)
    keep[order[:n_to_prune(n, s)]] = False
    return _like(keep, w)


def threshold_mask(w, threshold: float):
    """Keep ``|w| >= threshold`` (Han et al., 2015 use ``threshold = quality · std(w)``).

    The achieved sparsity is whatever the data gives; use :func:`magnitude_mask` for an
    exact sparsity. ``threshold`` must be a finite number ``>= 0``.
    """
    check_array(w, "w")
    t = check_number(threshold, "threshold", lo=0.0)
    if t == float("inf"):
        raise ValueError("threshold must be finite, got inf")
    return magnitudes(w) >= t


def random_mask(w_or_shape, sparsity: float, seed: int = 0):
    """Random mask with exactly ``k = round(n·s)`` pruned entries — a *baseline* only:
    it ignores importance, which is why it loses far more accuracy than magnitude pruning.

    ``w_or_shape`` is an array/tensor (the mask matches its kind and device) or a shape
    tuple (a numpy mask is returned). The same ``seed`` gives the same mask for numpy and
    torch inputs (the permutation is drawn with ``numpy.random.default_rng(seed)``).
    """
    if isinstance(w_or_shape, (tuple, list)):
        shape = tuple(w_or_shape)
        for d in shape:
            check_int(d, "w_or_shape", lo=0)
        n = int(np.prod(shape)) if shape else 1
        if n == 0:
            raise ValueError(f"w_or_shape must not be empty, got shape {shape}")
        like = None
    else:
        check_array(w_or_shape, "w_or_shape", finite=False)
        shape = tuple(w_or_shape.shape)
        n = int(np.prod(shape)) if shape else 1
        like = w_or_shape
    s = check_sparsity(sparsity)
    check_int(seed, "seed", lo=0)
    k = n_to_prune(n, s)
    keep = np.ones(n, dtype=bool)
    keep[np.random.default_rng(seed).permutation(n)[:k]] = False
    if like is None:
        return keep.reshape(shape)
    return _like(keep, like)


def _flat_f32(w, dtype=np.float32) -> np.ndarray:
    """``w`` as a flat ``dtype`` numpy array; a zero-copy view for contiguous CPU float32 input.
    Integers and booleans go through :func:`magnitudes` first (exact absolute values)."""
    if is_tensor(w):
        t = w.detach()
        if not t.is_floating_point() or t.dtype in (torch.float16, torch.bfloat16):
            t = magnitudes(t)
        tdt = torch.float64 if dtype == np.float64 else torch.float32
        if t.device.type != "cpu" or t.dtype != tdt:
            t = t.to(device="cpu", dtype=tdt)
        return t.reshape(-1).numpy()
    a = np.asarray(w)
    if a.dtype.kind not in "f":
        a = magnitudes(a)
    return a.reshape(-1).astype(dtype, copy=False)


def _needs_f64(w) -> bool:
    """float64 (or 64-bit integer) weights are compared in float64: a finite float64 above the
    float32 maximum would otherwise overflow to inf."""
    if is_tensor(w):
        return w.dtype in (torch.float64, torch.int64)
    return np.asarray(w).dtype in (np.float64, np.int64, np.uint64)


_CHUNK = 1 << 18   # elements per chunk: temporaries stay at 1 MiB whatever the model size


def global_magnitude_masks(weights: Mapping[str, Any], sparsity: float) -> dict:
    """One magnitude threshold shared by all tensors (Zhu & Gupta, 2017; Frankle & Carbin, 2019).

    With ``N = Σ_l n_l`` weights in total, exactly ``k = round(N·s)`` weights with the smallest
    ``|w|`` over *all* tensors are pruned; ties are broken by (mapping order, flat index).
    Layers with small weights end up sparser than others. Equivalent to
    ``torch.nn.utils.prune.global_unstructured(..., pruning_method=L1Unstructured)`` when
    there are no ties. Magnitudes are compared in float32 (float64 when any tensor is float64 or
    64-bit integer).

    Algorithm (memory-lean, see ``benchmarks/bench_global_pruning.py``): the ``|w|`` are written
    into one float32 buffer (the size of the weights; no other full-size temporary), the
    ``k``-th smallest value ``t`` is selected in place with ``numpy.partition`` (introselect,
    O(N), no sort), the buffer is freed, and each bool mask is built chunk by chunk as
    ``|w| > t`` plus the ties at ``t`` beyond the first ``k - #{|w| < t}``.

    Returns ``{name: bool mask like the tensor}`` in the mapping's order.
    """
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights must be a mapping name -> array/tensor, got {type(weights).__name__}")
    if not weights:
        raise ValueError("weights must not be empty")
    for name, w in weights.items():
        check_array(w, f"weights[{name!r}]", finite=False)   # finiteness checked chunk-wise below
    s = check_sparsity(sparsity)
    names = list(weights)
    sizes = [int(w.numel()) if is_tensor(w) else int(np.size(w)) for w in weights.values()]
    total = int(sum(sizes))
    k = n_to_prune(total, s)
    fdt = np.float64 if any(_needs_f64(w) for w in weights.values()) else np.float32
    tmp = np.empty(min(_CHUNK, max(sizes)), dtype=fdt)
    okb = np.empty(min(_CHUNK, total), dtype=bool)

    # 1) |w| of every tensor into one buffer (checking finiteness on the way)
    buf = np.empty(total, dtype=fdt) if k else None
    pos = 0
    for name, w, sz in zip(names, weights.values(), sizes):
        src = _flat_f32(w, fdt)
        for i in range(0, sz, _CHUNK):
            j = min(sz, i + _CHUNK)
            out = buf[pos + i:pos + j] if k else tmp[:j - i]
            np.abs(src[i:j], out=out)
            if not np.isfinite(out, out=okb[:j - i]).all():
                raise ValueError(f"weights[{name!r}] contains NaN or inf")
        pos += sz
    if k == 0:
        return {n: _like(np.ones(sz, dtype=bool), w) for n, w, sz in zip(names, weights.values(), sizes)}

    # 2) k-th smallest in place; count the values strictly below it
    buf.partition(k - 1)
    t = buf[k - 1].copy()
    n_less = 0
    for i in range(0, k, _CHUNK):
        j = min(k, i + _CHUNK)
        n_less += int(np.count_nonzero(np.less(buf[i:j], t, out=okb[:j - i])))
    del buf, out                    # `out` is a view of buf: drop it too, or buf stays alive
    ties_left = k - n_less          # >= 1 entries equal to t are pruned, in (layer, index) order

    # 3) masks chunk by chunk: keep |w| > t, and the ties at t once `ties_left` are pruned
    out_masks = {}
    for name, w, sz in zip(names, weights.values(), sizes):
        src = _flat_f32(w, fdt)
        keep = np.empty(sz, dtype=bool)
        for i in range(0, sz, _CHUNK):
            j = min(sz, i + _CHUNK)
            a = np.abs(src[i:j], out=tmp[:j - i])
            np.greater(a, t, out=keep[i:j])
            idx = np.flatnonzero(a == t)
            if idx.size:
                keep[i + idx[ties_left:]] = True
                ties_left = max(0, ties_left - int(idx.size))
        out_masks[name] = _like(keep, w)
    return out_masks


def nm_mask(w, n: int = 2, m: int = 4, dim: int = -1):
    """N:M fine-grained structured mask (Mishra et al., 2021): in every group of ``m``
    consecutive weights along ``dim``, keep the ``n`` largest ``|w|`` (ties: the earlier
    weight is pruned first). Sparsity is exactly ``1 - n/m`` (2:4 → 50 %).

    For a ``nn.Linear`` weight ``(out, in)`` the hardware pattern groups along the input
    dimension, i.e. ``dim=-1`` (the default). The size of ``w`` along ``dim`` must be
    divisible by ``m``; ``1 <= n <= m``.
    """
    check_array(w, "w", min_ndim=1)
    m = check_int(m, "m", lo=1)
    n = check_int(n, "n", lo=1)
    if n > m:
        raise ValueError(f"n must be <= m, got n={n} > m={m}")
    nd = len(w.shape)
    d = check_int(dim, "dim", lo=-nd, hi=nd - 1) % nd
    if w.shape[d] % m:
        raise ValueError(f"size of w along dim={dim} ({w.shape[d]}) must be divisible by m={m}")
    a = np.moveaxis(_abs_flat_np(w).reshape(tuple(w.shape)), d, -1)
    moved_shape = a.shape
    groups = a.reshape(-1, m)
    order = np.argsort(groups, axis=1, kind="stable")
    keep = np.ones(groups.shape, dtype=bool)
    np.put_along_axis(keep, order[:, :m - n], False, axis=1)
    keep = np.moveaxis(keep.reshape(moved_shape), -1, d)
    return _like(keep, w)


def apply_mask(w, mask):
    """A new pruned copy ``w ⊙ mask`` (pruned entries are exactly +0.0); ``w`` is unchanged.

    ``mask`` must have ``w``'s shape (bool, or 0/1 numbers); numpy/torch kinds must match.
    For torch the result keeps the autograd graph of ``w`` (``torch.where``).
    """
    check_array(w, "w", finite=False)
    check_array(mask, "mask")
    if tuple(mask.shape) != tuple(w.shape):
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match w shape {tuple(w.shape)}")
    if is_tensor(w) != is_tensor(mask):
        raise TypeError("w and mask must both be numpy arrays or both be torch tensors")
    if is_tensor(w):
        keep = mask.to(device=w.device, dtype=torch.bool) if mask.dtype != torch.bool else mask.to(w.device)
        return torch.where(keep, w, torch.zeros((), dtype=w.dtype, device=w.device))
    keep = mask.astype(bool, copy=False)
    return np.where(keep, w, np.zeros((), dtype=w.dtype))


def sparsity_of(x) -> float:
    """Fraction of exact zeros (for a boolean mask: fraction of ``False``).

    ``x`` is an array/tensor or a mapping of them (then the total over all entries).
    """
    if isinstance(x, Mapping):
        if not x:
            raise ValueError("x must not be empty")
        zeros = total = 0
        for name, v in x.items():
            check_array(v, f"x[{name!r}]", finite=False)
            zeros += _count_zeros(v)
            total += int(np.prod(tuple(v.shape))) if len(v.shape) else 1
        return zeros / total
    check_array(x, "x", finite=False)
    total = int(np.prod(tuple(x.shape))) if len(x.shape) else 1
    return _count_zeros(x) / total


def _count_zeros(v) -> int:
    if is_tensor(v):
        return int(v.numel() - torch.count_nonzero(v))
    return int(v.size - np.count_nonzero(v))
