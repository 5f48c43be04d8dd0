"""One-shot pruning of a linear layer ``W`` (out × in): magnitude, Wanda, SparseGPT.

Sparsity patterns: ``prune_n=0`` → unstructured at ``sparsity``; ``prune_n, prune_m`` → N:M, i.e.
**prune n of every m** consecutive input weights of a row (2:4 keeps 2 of 4 = 50 %; Mishra et al.
2021), the convention of the SparseGPT and Wanda code.

* **Magnitude** (Han et al. 2015): drop the smallest ``|W_ij|``, compared over the whole layer
  (unstructured) or within each group of m (N:M).
* **Wanda** (Sun, Liu, Bair, Kolter 2024): score ``S_ij = |W_ij| · ‖X_j‖₂`` where ``‖X_j‖₂`` is the
  norm of input feature j over the calibration tokens; drop the lowest scores **per output row**
  (unstructured) or per group of m. No weight update.
* **SparseGPT** (Frantar & Alistarh 2023): OBS (Hassibi & Stork 1993) applied column by column
  with the layer Hessian ``H = XᵀX`` (+ damping λ = ``percdamp``·mean diag H). Pruning weight q
  of a row costs ``w_q² / [H⁻¹]_qq`` and the optimal update of the remaining weights of that row
  is ``δ = −(w_q / [H⁻¹]_qq) · H⁻¹_{:,q}``. SparseGPT visits columns left to right, keeps the
  inverse of the not-yet-visited sub-Hessian via the upper Cholesky factor of ``H⁻¹``, and picks
  the mask adaptively per block of ``blocksize`` columns (unstructured) or per group of m (N:M).
"""
from __future__ import annotations

import torch

from .._validate import check_int, check_number, check_sparsity
from ._checks import as_matrix, check_hessian, check_nm

__all__ = ["magnitude_prune", "wanda_scores", "wanda_prune", "sparsegpt_prune", "hessian",
           "obs_prune_column"]


def _pattern(sparsity, prune_n, prune_m, cols):
    if prune_n:
        return 0.0, *check_nm(prune_n, prune_m, cols)
    return check_sparsity(sparsity), 0, check_int(prune_m, "prune_m", lo=1)


def _nm_mask(score, n, m):
    """Boolean mask of the n lowest scores in every group of m consecutive columns (True = prune)."""
    rows, cols = score.shape
    g = score.reshape(rows, cols // m, m)
    idx = torch.topk(g, n, dim=2, largest=False).indices
    mask = torch.zeros_like(g, dtype=torch.bool).scatter_(2, idx, True)
    return mask.reshape(rows, cols)


def _lowest(score, k, dim=None):
    mask = torch.zeros_like(score, dtype=torch.bool)
    if k <= 0:
        return mask
    if dim is None:
        idx = torch.argsort(score.flatten(), stable=True)[:k]
        mask.view(-1)[idx] = True
    else:
        idx = torch.argsort(score, dim=1, stable=True)[:, :k]
        mask.scatter_(1, idx, True)
    return mask


def magnitude_prune(W, sparsity: float = 0.5, prune_n: int = 0, prune_m: int = 4) -> torch.Tensor:
    """Zero the smallest |W| (per layer, or the n smallest in each group of m). Returns a new tensor."""
    dtype = W.dtype if torch.is_tensor(W) else torch.float64
    W = as_matrix(W, "W")
    s, n, m = _pattern(sparsity, prune_n, prune_m, W.shape[1])
    score = W.abs()
    mask = _nm_mask(score, n, m) if n else _lowest(score, round(s * W.numel()))
    return W.masked_fill(mask, 0).to(dtype)


def wanda_scores(W, x_norm) -> torch.Tensor:
    """``|W_ij| · ‖X_j‖₂`` (``x_norm``: per-input-feature L2 norm over calibration tokens)."""
    W = as_matrix(W, "W")
    x_norm = torch.as_tensor(x_norm, dtype=torch.float64)
    if x_norm.shape != (W.shape[1],):
        raise ValueError(f"x_norm must have shape ({W.shape[1]},), got {tuple(x_norm.shape)}")
    if (x_norm < 0).any() or not torch.isfinite(x_norm).all():
        raise ValueError("x_norm must be finite and >= 0 (it is a norm)")
    return W.abs() * x_norm[None, :]


def wanda_prune(W, x_norm, sparsity: float = 0.5, prune_n: int = 0, prune_m: int = 4) -> torch.Tensor:
    """Wanda: drop the lowest ``|W|·‖X‖`` per output row (or n of each m). No weight update."""
    dtype = W.dtype if torch.is_tensor(W) else torch.float64
    score = wanda_scores(W, x_norm)
    Wd = as_matrix(W, "W")
    s, n, m = _pattern(sparsity, prune_n, prune_m, Wd.shape[1])
    mask = _nm_mask(score, n, m) if n else _lowest(score, int(Wd.shape[1] * s), dim=1)
    return Wd.masked_fill(mask, 0).to(dtype)


def hessian(X) -> torch.Tensor:
    """``H = XᵀX / n_tokens`` (float64) from calibration inputs ``X`` of shape (tokens, in)."""
    X = as_matrix(X, "X")
    return X.T @ X / X.shape[0]


def _damped_inverse_chol(H, percdamp):
    H = H.clone()
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    H += percdamp * torch.mean(torch.diag(H)) * torch.eye(len(H), dtype=H.dtype)
    L = torch.linalg.cholesky(H)
    Hinv = torch.cholesky_inverse(L)
    return torch.linalg.cholesky(Hinv, upper=True), dead


def sparsegpt_prune(W, H, sparsity: float = 0.5, prune_n: int = 0, prune_m: int = 4, *,
                    blocksize: int = 128, percdamp: float = 0.01, quantizer=None) -> torch.Tensor:
    """SparseGPT (Frantar & Alistarh 2023, Algorithm 1) for one layer; ``H`` from :func:`hessian`.

    ``quantizer`` (optional callable column -> quantized column) gives joint sparsity +
    quantization as in the paper. Returns the pruned and reconstructed weight (new tensor)."""
    dtype = W.dtype if torch.is_tensor(W) else torch.float64
    W = as_matrix(W, "W")
    rows, cols = W.shape
    H = check_hessian(H, cols)
    s, n, m = _pattern(sparsity, prune_n, prune_m, cols)
    blocksize = check_int(blocksize, "blocksize", lo=1)
    percdamp = check_number(percdamp, "percdamp", lo=0.0)
    if n and blocksize % m:
        raise ValueError(f"blocksize ({blocksize}) must be a multiple of prune_m ({m})")
    Hinv, dead = _damped_inverse_chol(H, percdamp)
    W[:, dead] = 0
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        d = torch.diag(Hinv1)
        if not n:
            tmp = W1 ** 2 / d[None, :] ** 2
            mask1 = _lowest(tmp, round(s * tmp.numel()))
        else:
            mask1 = torch.zeros_like(W1, dtype=torch.bool)
        for i in range(i2 - i1):
            w = W1[:, i]
            if n and i % m == 0:
                tmp = W1[:, i:i + m] ** 2 / d[i:i + m][None, :] ** 2
                mask1.scatter_(1, i + torch.topk(tmp, n, dim=1, largest=False).indices, True)
            q = w.clone()
            q[mask1[:, i]] = 0
            if quantizer is not None:
                q = quantizer(q, i1 + i)
            Q1[:, i] = q
            err = (w - q) / Hinv1[i, i]
            W1[:, i:] -= err[:, None] * Hinv1[i, i:][None, :]
            Err1[:, i] = err
        W[:, i1:i2] = Q1
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    return W.to(dtype)


def obs_prune_column(W, Hinv, q: int) -> torch.Tensor:
    """One OBS step on every row: zero column ``q`` and compensate the other columns,
    ``W ← W − (W[:, q] / [H⁻¹]_qq) · H⁻¹[q, :]`` (Hassibi & Stork 1993; the update SparseGPT
    applies per column). ``Hinv`` is the full inverse Hessian. Exact least squares: the result
    minimises ``‖(W − W′)Xᵀ‖`` subject to ``W′[:, q] = 0`` when ``Hinv = (XᵀX)⁻¹``."""
    W = as_matrix(W, "W")
    Hinv = check_hessian(Hinv, W.shape[1], "Hinv")
    q = check_int(q, "q", lo=0, hi=W.shape[1] - 1)
    if Hinv[q, q] <= 0:
        raise ValueError(f"Hinv[{q}, {q}] must be > 0 (Hinv must be positive definite)")
    out = W - torch.outer(W[:, q] / Hinv[q, q], Hinv[q, :])
    out[:, q] = 0.0
    return out
