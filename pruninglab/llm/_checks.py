"""Argument checks shared by the pruninglab.llm algorithms."""
from __future__ import annotations

import torch

from .._validate import check_int


def as_matrix(W, name: str = "W") -> torch.Tensor:
    """A 2-D finite float tensor (float64 copy) from a tensor or array."""
    if not torch.is_tensor(W):
        try:
            import numpy as np
            if not isinstance(W, np.ndarray):
                raise TypeError
            W = torch.from_numpy(W)
        except TypeError:
            raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(W).__name__}") from None
    if W.dim() != 2:
        raise ValueError(f"{name} must be 2-D, got shape {tuple(W.shape)}")
    if not W.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {W.dtype}")
    if W.numel() == 0:
        raise ValueError(f"{name} must not be empty")
    if not torch.isfinite(W).all():
        raise ValueError(f"{name} contains NaN or inf")
    return W.detach().to(torch.float64).clone()


def check_hessian(H, cols: int, name: str = "H") -> torch.Tensor:
    H = as_matrix(H, name)
    if H.shape != (cols, cols):
        raise ValueError(f"{name} must have shape ({cols}, {cols}) to match W's columns, got {tuple(H.shape)}")
    return H


def check_nm(n, m, cols):
    n = check_int(n, "n", lo=0)
    m = check_int(m, "m", lo=1)
    if n >= m:
        raise ValueError(f"n must be < m (prune n of every m), got n={n}, m={m}")
    if cols % m:
        raise ValueError(f"m ({m}) must divide the number of input columns ({cols})")
    return n, m
