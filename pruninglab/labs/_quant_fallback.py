"""Minimal linear and k-means weight quantizers used by the notebook-05/06 labs **only when**
:mod:`pruninglab.quantization` is not importable (it was being written concurrently).

Linear quantization (Jacob et al. 2018)::

    q = clamp(round(r / S) + Z, q_min, q_max),     r̂ = S · (q − Z)
    symmetric: S = max|r| / (2^(b−1) − 1), Z = 0, q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1]   (b ≥ 2)
    affine:    r_min' = min(r_min, 0), r_max' = max(r_max, 0) (0 must be representable),
               S = (r_max' − r_min') / (2^b − 1), Z = clamp(round(−r_min' / S), 0, 2^b − 1),
               q ∈ [0, 2^b − 1]

with one (S, Z) per tensor or per output channel (dim 0). An all-zero tensor/channel gets S = 1.
k-means weight sharing (Han et al. 2016, Deep Compression): ``k = 2^b`` centroids initialised
linearly between min and max (the initialisation Han et al. found best), Lloyd iterations in
1-D (assignment = nearest centroid via sorted mid-points).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .._validate import check_array, check_bits, check_choice, check_int

__all__ = ["QTensor", "KMeansResult", "quantize", "dequantize", "kmeans_quantize"]


class QTensor(NamedTuple):
    q: torch.Tensor            # integer codes: the smallest torch integer dtype that holds them
    scale: torch.Tensor        # shape (C, 1, ...) per channel or () per tensor, float32
    zero_point: torch.Tensor   # same shape as scale, int64
    bits: int
    scheme: str


class KMeansResult(NamedTuple):
    indices: torch.Tensor      # int64 cluster index per weight
    codebook: torch.Tensor     # float32 centroids, shape (k,)
    dequantized: torch.Tensor  # codebook[indices], the weight's shape


def _int_dtype(bits: int, signed: bool):
    if bits <= 7 or (bits == 8 and signed):
        return torch.int8
    if bits <= 8:
        return torch.uint8
    if bits <= 15 or (bits == 16 and signed):
        return torch.int16
    return torch.int32


def quantize(w: torch.Tensor, bits: int = 8, scheme: str = "symmetric",
             per_channel: bool = False) -> QTensor:
    """Linear quantization of a float tensor (formulas in the module docstring). Pure."""
    check_array(w, "w")
    if not isinstance(w, torch.Tensor):
        raise TypeError("w must be a torch.Tensor")
    check_choice(scheme, "scheme", ("symmetric", "affine"))
    b = check_bits(bits, "bits", lo=2 if scheme == "symmetric" else 1, hi=16)
    x = w.detach().float()
    red = x.reshape(x.shape[0], -1) if per_channel else x.reshape(1, -1)
    if scheme == "symmetric":
        qmax = 2 ** (b - 1) - 1
        qmin = -qmax
        s = red.abs().amax(1) / qmax
        s = torch.where(s > 0, s, torch.ones_like(s))
        z = torch.zeros_like(s, dtype=torch.int64)
    else:
        qmin, qmax = 0, 2 ** b - 1
        lo = red.amin(1).clamp(max=0.0)
        hi = red.amax(1).clamp(min=0.0)
        s = (hi - lo) / (qmax - qmin)
        s = torch.where(s > 0, s, torch.ones_like(s))
        z = torch.clamp(torch.round(-lo / s), qmin, qmax).to(torch.int64)
    shape = (x.shape[0],) + (1,) * (x.dim() - 1) if per_channel else ()
    s, z = s.reshape(shape), z.reshape(shape)
    q = torch.clamp(torch.round(x / s) + z, qmin, qmax)
    return QTensor(q.to(_int_dtype(b, scheme == "symmetric")), s, z, b, scheme)


def dequantize(qt: QTensor) -> torch.Tensor:
    """``r̂ = S · (q − Z)`` as float32."""
    return qt.scale * (qt.q.to(torch.int64) - qt.zero_point).to(torch.float32)


def kmeans_quantize(w: torch.Tensor, bits: int = 4, iters: int = 20) -> KMeansResult:
    """1-D k-means with ``k = min(2^bits, #distinct values)`` linear-initialised centroids. Pure,
    deterministic."""
    check_array(w, "w")
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor, got {type(w).__name__}")
    b = check_bits(bits, "bits", lo=1, hi=16)
    it = check_int(iters, "iters", lo=1)
    x = w.detach().double().reshape(-1).cpu().numpy()
    uniq = np.unique(x)
    k = min(2 ** b, uniq.size)
    if k == uniq.size:
        cb = uniq.copy()
    else:
        cb = np.linspace(x.min(), x.max(), k)
    for _ in range(it):
        mids = (cb[1:] + cb[:-1]) / 2
        idx = np.searchsorted(mids, x)
        counts = np.bincount(idx, minlength=k)
        sums = np.bincount(idx, weights=x, minlength=k)
        new = np.where(counts > 0, sums / np.maximum(counts, 1), cb)
        new.sort()
        if np.array_equal(new, cb):
            break
        cb = new
    mids = (cb[1:] + cb[:-1]) / 2
    idx = np.searchsorted(mids, x)
    codebook = torch.from_numpy(cb.astype(np.float32))
    indices = torch.from_numpy(idx.astype(np.int64)).reshape(w.shape)
    return KMeansResult(indices, codebook, codebook[indices].to(w.dtype))
