"""k-means weight sharing (Han, Mao & Dally 2016, *Deep Compression*, ICLR, §3).

The weights of one layer are clustered into ``k = 2^bits`` groups with 1-D k-means (Lloyd's
algorithm); each weight is then stored as a ``bits``-bit index into a codebook of ``k`` float
centroids::

    minimise  Σ_i Σ_{w ∈ c_i} |w − c_i|²,        w_hat = codebook[index(w)]

* **Initialisation** (Han et al. compare three, §3.2): ``"linear"`` (default, the one they found
  best: centroids equally spaced between min and max, so the rare large weights keep their own
  centroids), ``"density"`` (equally spaced quantiles of the weights' CDF) and ``"random"``
  (Forgy: ``k`` distinct weights drawn with ``seed``).
* **Pruning-aware** (``exclude_zeros=True``, the default): exact zeros are pruned weights. They
  are left out of the clustering, stay exactly 0 after :meth:`KMeansQuantized.dequantize`, and
  all ``k`` centroids serve the surviving weights. Their positions are recorded in ``mask``
  (in the compressed format they are implicit in the sparse index, see
  :mod:`pruninglab.quantization.size`); ``indices`` at those positions are 0 and ignored.
* **Fine-tuning the centroids** (§3.3, "gradient sharing"): the gradient of a centroid is the sum
  of the gradients of the weights that share it, ``∂L/∂c_k = Σ_{i: idx_i = k} ∂L/∂w_i``;
  :func:`finetune_codebook_` applies one such step.

Deterministic: assignment is the nearest centroid (ties go to the lower one), empty clusters keep
their previous centroid, iteration stops at convergence or after ``iters`` steps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validate import check_array, check_bits, check_choice, check_int, check_number, is_tensor

__all__ = ["KMeansQuantized", "kmeans_quantize", "finetune_codebook_", "INITS"]

INITS = ("linear", "density", "random")


@dataclass(frozen=True, eq=False)
class KMeansQuantized:
    """Result of :func:`kmeans_quantize`.

    ``codebook`` (k,) float centroids, sorted; ``indices`` uint8 (bits ≤ 8) or int16 index per
    weight, shaped like the weight; ``mask`` bool, True where the weight was kept (None when no
    zero was excluded); ``bits``, ``shape``; numpy or torch like the input. ``inertia`` is the
    final sum of squared errors. Note: index a torch codebook with ``indices.long()`` (a uint8
    tensor used as an index is read as a boolean mask by PyTorch).
    """
    codebook: Any
    indices: Any
    mask: Any
    bits: int
    shape: tuple
    iterations: int
    inertia: float

    @property
    def k(self) -> int:
        return int(self.codebook.shape[0])

    def dequantize(self):
        """``w_hat = codebook[indices]`` (and exactly 0 where ``mask`` is False)."""
        if is_tensor(self.codebook):
            out = self.codebook[self.indices.long()]
            if self.mask is not None:
                out = torch.where(self.mask, out, torch.zeros((), dtype=out.dtype))
            return out
        out = self.codebook[self.indices.astype(np.int64)]
        if self.mask is not None:
            out = np.where(self.mask, out, np.zeros((), dtype=out.dtype))
        return out


def _init_centroids(v: np.ndarray, k: int, init: str, seed: int) -> np.ndarray:
    if init == "linear":
        return np.linspace(v.min(), v.max(), k)
    if init == "density":
        return np.quantile(v, np.linspace(0.0, 1.0, k))
    rng = np.random.default_rng(seed)
    uniq = np.unique(v)
    pick = rng.choice(uniq.size, size=min(k, uniq.size), replace=False)
    c = np.sort(uniq[pick])
    if c.size < k:  # fewer distinct values than clusters: pad with copies of the largest
        c = np.concatenate([c, np.full(k - c.size, c[-1])])
    return c


def _assign(v: np.ndarray, c: np.ndarray) -> np.ndarray:
    mids = (c[1:] + c[:-1]) / 2
    return np.searchsorted(mids, v, side="left")


def kmeans_quantize(w, bits: int = 4, *, exclude_zeros: bool = True, seed: int = 0,
                    iters: int = 50, init: str = "linear") -> KMeansQuantized:
    """Cluster the values of ``w`` into ``k = 2^bits`` shared values (Han et al. 2016).

    Returns a :class:`KMeansQuantized` (formulas and options in the module docstring). Pure:
    ``w`` is not modified. ``bits`` in [1, 16]; ``init`` one of ``"linear"``, ``"density"``,
    ``"random"``; ``iters`` ≥ 1 Lloyd iterations at most.
    """
    check_array(w, "w")
    b = check_bits(bits, "bits", lo=1, hi=16)
    if not isinstance(exclude_zeros, (bool, np.bool_)):
        raise TypeError(f"exclude_zeros must be a bool, got {type(exclude_zeros).__name__}")
    check_int(seed, "seed", lo=0)
    it = check_int(iters, "iters", lo=1)
    check_choice(init, "init", INITS)
    torch_in = is_tensor(w)
    x = (w.detach().cpu().to(torch.float64).numpy() if torch_in
         else np.asarray(w, dtype=np.float64)).reshape(-1)
    k = 2 ** b
    keep = x != 0 if exclude_zeros else np.ones(x.shape, dtype=bool)
    keep_mask = None if keep.all() else keep
    v = x[keep]
    if v.size == 0:  # everything pruned: a codebook of zeros
        c = np.zeros(k)
        idx_all = np.zeros(x.shape, dtype=np.int64)
        n_iter, inertia = 0, 0.0
    else:
        c = _init_centroids(v, k, init, seed)
        n_iter = 0
        for n_iter in range(1, it + 1):
            a = _assign(v, c)
            counts = np.bincount(a, minlength=k)
            sums = np.bincount(a, weights=v, minlength=k)
            new = np.where(counts > 0, sums / np.maximum(counts, 1), c)
            new = np.sort(new)
            if np.array_equal(new, c):
                break
            c = new
        a = _assign(v, c)
        inertia = float(np.sum((v - c[a]) ** 2))
        idx_all = np.zeros(x.shape, dtype=np.int64)
        idx_all[keep] = a
    idx_dtype = np.uint8 if b <= 8 else np.int16
    idx = idx_all.astype(idx_dtype).reshape(tuple(w.shape))
    mask = None if keep_mask is None else keep_mask.reshape(tuple(w.shape))
    if torch_in:
        fdtype = w.dtype if w.is_floating_point() else torch.get_default_dtype()
        codebook = torch.as_tensor(c, dtype=fdtype, device=w.device)
        idx = torch.as_tensor(idx, device=w.device)
        mask = None if mask is None else torch.as_tensor(mask, device=w.device)
    else:
        fdtype = w.dtype if np.issubdtype(w.dtype, np.floating) else np.float64
        codebook = c.astype(fdtype)
    return KMeansQuantized(codebook=codebook, indices=idx, mask=mask, bits=b,
                           shape=tuple(w.shape), iterations=n_iter, inertia=inertia)


def finetune_codebook_(result: KMeansQuantized, grad, lr: float) -> KMeansQuantized:
    """One gradient-sharing step on the centroids, **in place** (Han et al. 2016, §3.3)::

        c_k ← c_k − lr · Σ_{i: idx_i = k, mask_i} ∂L/∂w_i

    ``grad`` is ∂L/∂w with the weight's shape (numpy or torch like the codebook). Pruned
    positions (``mask`` False) contribute nothing. Returns ``result`` (whose codebook changed).
    """
    if not isinstance(result, KMeansQuantized):
        raise TypeError(f"result must be a KMeansQuantized, got {type(result).__name__}")
    check_array(grad, "grad")
    if tuple(grad.shape) != result.shape:
        raise ValueError(f"grad must have shape {result.shape}, got {tuple(grad.shape)}")
    step = check_number(lr, "lr", lo=0.0, lo_inclusive=False)
    g = (grad.detach().cpu().to(torch.float64).numpy() if is_tensor(grad)
         else np.asarray(grad, dtype=np.float64)).reshape(-1)
    idx = (result.indices.cpu().numpy() if is_tensor(result.indices)
           else np.asarray(result.indices)).reshape(-1).astype(np.int64)
    if result.mask is not None:
        m = (result.mask.cpu().numpy() if is_tensor(result.mask)
             else np.asarray(result.mask)).reshape(-1)
        g = np.where(m, g, 0.0)
    shared = np.bincount(idx, weights=g, minlength=result.k)
    if is_tensor(result.codebook):
        with torch.no_grad():
            result.codebook.sub_(step * torch.as_tensor(shared, dtype=result.codebook.dtype,
                                                        device=result.codebook.device))
    else:
        cb = result.codebook
        np.subtract(cb, (step * shared).astype(cb.dtype), out=cb)
    return result
