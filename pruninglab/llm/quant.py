"""Weight-only quantization of a linear layer: round-to-nearest (RTN), GPTQ, AWQ-style scaling.

Grid: asymmetric min-max per output row (``group_size=None``: per channel) or per group of
``group_size`` consecutive input weights of a row (group-wise): ``scale = (max − min)/(2^b − 1)``,
``zero = round(−min/scale)``, ``q = clamp(round(w/scale) + zero, 0, 2^b − 1)``,
``ŵ = (q − zero)·scale``. **True bits per weight** = ``b + (16 + b)/g`` with an fp16 scale and a
b-bit zero point per group of ``g`` weights (``g`` = number of input columns for per-channel).

* **RTN**: quantize every weight independently.
* **GPTQ** (Frantar, Ashkboos, Hoefler, Alistarh 2023): quantize columns left to right; after each
  column, spread its quantization error over the not-yet-quantized columns with the inverse
  Hessian of the layer input (``H = XᵀX``), the OBS update of :mod:`.pruning` with "set to the grid
  value" instead of "set to zero". Group grids are fitted on the already-updated weights when a
  group starts (the reference implementation's ``static_groups=False``).
* **AWQ** (Lin et al. 2024): scale input channel j by ``s_j = mean|X_j|^α`` before quantizing,
  ``Ŵ = Q(W·diag(s))·diag(s)⁻¹``; α ∈ [0, 1] is grid-searched to minimise the layer's output
  error on calibration inputs. In a deployed model ``diag(s)⁻¹`` is folded into the previous
  operator (LayerNorm / linear); here it is applied in full precision, which is what folding
  computes.
"""
from __future__ import annotations

import torch

from .._validate import check_bits, check_int, check_number
from ._checks import as_matrix, check_hessian
from .pruning import _damped_inverse_chol

__all__ = ["bits_per_weight", "quantize_rtn", "gptq_quantize", "awq_quantize", "minmax_grid"]


def _check_group(group_size, cols):
    if group_size is None:
        return cols
    g = check_int(group_size, "group_size", lo=1)
    if cols % g:
        raise ValueError(f"group_size ({g}) must divide the number of input columns ({cols})")
    return g


def bits_per_weight(bits: int, group_size: int | None, cols: int | None = None,
                    scale_bits: int = 16) -> float:
    """``bits + (scale_bits + bits) / g``: codes plus one scale and one zero point per group."""
    bits = check_bits(bits)
    if group_size is None:
        if cols is None:
            raise ValueError("cols must be given for per-channel quantization (group_size=None)")
        group_size = check_int(cols, "cols", lo=1)
    g = check_int(group_size, "group_size", lo=1)
    return bits + (check_int(scale_bits, "scale_bits", lo=0) + bits) / g


def minmax_grid(w: torch.Tensor, bits: int):
    """Per-row (last axis) asymmetric grid: ``(scale, zero)`` each of shape ``w.shape[:-1] + (1,)``."""
    maxq = 2 ** bits - 1
    lo = torch.clamp(w.min(dim=-1, keepdim=True).values, max=0)
    hi = torch.clamp(w.max(dim=-1, keepdim=True).values, min=0)
    scale = (hi - lo) / maxq
    scale = torch.where(scale == 0, torch.ones_like(scale), scale)
    zero = torch.round(-lo / scale)
    return scale, zero


def _q(w, scale, zero, bits):
    return (torch.clamp(torch.round(w / scale) + zero, 0, 2 ** bits - 1) - zero) * scale


def quantize_rtn(W, bits: int = 4, group_size: int | None = None) -> torch.Tensor:
    """Round-to-nearest onto the per-channel or group-wise min-max grid (returns dequantized W)."""
    dtype = W.dtype if torch.is_tensor(W) else torch.float64
    W = as_matrix(W, "W")
    bits = check_bits(bits, lo=1, hi=16)
    rows, cols = W.shape
    g = _check_group(group_size, cols)
    Wg = W.reshape(rows, cols // g, g)
    scale, zero = minmax_grid(Wg, bits)
    return _q(Wg, scale, zero, bits).reshape(rows, cols).to(dtype)


def gptq_quantize(W, H, bits: int = 4, group_size: int | None = None, *, blocksize: int = 128,
                  percdamp: float = 0.01) -> torch.Tensor:
    """GPTQ for one layer (``H`` = :func:`pruninglab.llm.pruning.hessian` of its input)."""
    dtype = W.dtype if torch.is_tensor(W) else torch.float64
    W = as_matrix(W, "W")
    rows, cols = W.shape
    H = check_hessian(H, cols)
    bits = check_bits(bits, lo=1, hi=16)
    g = _check_group(group_size, cols)
    blocksize = check_int(blocksize, "blocksize", lo=1)
    percdamp = check_number(percdamp, "percdamp", lo=0.0)
    Hinv, dead = _damped_inverse_chol(H, percdamp)
    W[:, dead] = 0
    scale, zero = minmax_grid(W, bits) if group_size is None else (None, None)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        W1 = W[:, i1:i2].clone()
        Q1 = torch.zeros_like(W1)
        Err1 = torch.zeros_like(W1)
        Hinv1 = Hinv[i1:i2, i1:i2]
        for i in range(i2 - i1):
            col = i1 + i
            if group_size is not None and col % g == 0:
                block = torch.cat([W1[:, i:], W[:, i2:]], dim=1)[:, :g]
                scale, zero = minmax_grid(block, bits)
            w = W1[:, i]
            q = _q(w[:, None], scale, zero, bits)[:, 0]
            Q1[:, i] = q
            err = (w - q) / Hinv1[i, i]
            W1[:, i:] -= err[:, None] * Hinv1[i, i:][None, :]
            Err1[:, i] = err
        W[:, i1:i2] = Q1
        W[:, i2:] -= Err1 @ Hinv[i1:i2, i2:]
    return W.to(dtype)


def awq_quantize(W, X, bits: int = 4, group_size: int | None = 32, *, grid: int = 11,
                 return_alpha: bool = False):
    """AWQ-style activation-aware scaling + RTN; ``X`` (tokens, in) are calibration inputs.
    Returns the effective weight ``Q(W·s)/s`` (and the chosen α if ``return_alpha``)."""
    dtype = W.dtype if torch.is_tensor(W) else torch.float64
    W = as_matrix(W, "W")
    X = as_matrix(X, "X")
    if X.shape[1] != W.shape[1]:
        raise ValueError(f"X must have {W.shape[1]} columns (W's inputs), got {X.shape[1]}")
    grid = check_int(grid, "grid", lo=2)
    act = X.abs().mean(0).clamp(min=1e-8)
    ref = X @ W.T
    best = (None, float("inf"), None)
    for k in range(grid):
        a = k / (grid - 1)
        s = act ** a
        s = s / (s.max() * s.min()).sqrt()
        Wq = quantize_rtn(W * s[None, :], bits, group_size) / s[None, :]
        err = ((X @ Wq.T - ref) ** 2).mean().item()
        if err < best[1]:
            best = (a, err, Wq)
    out = best[2].to(dtype)
    return (out, best[0]) if return_alpha else out
