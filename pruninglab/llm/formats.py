"""Low-precision storage formats with their exact bits: FP8 E4M3 / E5M2, MXFP4, int4 groups.

* **FP8** (Micikevicius et al. 2022; OCP FP8 spec): E4M3 (1 sign, 4 exponent, 3 mantissa bits,
  bias 7, no infinities, max 448) and E5M2 (bias 15, IEEE-like, max 57,344). Cast with torch's
  ``float8_e4m3fn`` / ``float8_e5m2`` dtypes (round to nearest even) after a per-tensor scale
  ``amax / max_finite``; storage 8 bits per element + one fp32 scale per tensor.
* **MXFP4** (OCP Microscaling spec v1.0, 2023): blocks of 32 elements share an 8-bit power-of-two
  scale (E8M0); each element is FP4 E2M1 (values ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}). Scale
  ``2^(floor(log2 amax) − 2)`` (2 = emax of E2M1), elements rounded to nearest and clamped to ±6:
  **4 + 8/32 = 4.25 bits** per element.
"""
from __future__ import annotations

import torch

from .._validate import check_choice

__all__ = ["FORMATS", "format_bits", "quantize_format", "E2M1_VALUES"]

FORMATS = ("fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "mxfp4")
E2M1_VALUES = torch.tensor([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0])
_FP8 = {"fp8_e4m3": (torch.float8_e4m3fn, 448.0), "fp8_e5m2": (torch.float8_e5m2, 57344.0)}


def format_bits(fmt: str, n_elements: int = 1 << 20) -> float:
    """Exact storage bits per element, including shared scales (FP8: one fp32 scale per tensor of
    ``n_elements``; MXFP4: one E8M0 byte per 32 elements)."""
    fmt = check_choice(fmt, "fmt", FORMATS)
    if fmt in ("fp16", "bf16"):
        return 16.0
    if fmt == "mxfp4":
        return 4 + 8 / 32
    return 8 + 32 / n_elements


def _round_e2m1(x):
    a = x.abs().clamp(max=6.0)
    v = E2M1_VALUES.to(x.dtype)
    mid = (v[1:] + v[:-1]) / 2
    idx = torch.bucketize(a, mid)  # ties go to the lower value... choose even mantissa below
    r = v[idx]
    tie = torch.isin(a, mid)
    if tie.any():  # round half to even: among the two neighbours pick the one with even code
        lo_idx = torch.bucketize(a, mid, right=False)
        hi_idx = lo_idx + 1
        pick = torch.where(lo_idx % 2 == 0, lo_idx, hi_idx.clamp(max=7))
        r = torch.where(tie, v[pick], r)
    return torch.sign(x) * r


def quantize_format(W: torch.Tensor, fmt: str) -> torch.Tensor:
    """Round ``W`` to ``fmt`` (with its scale) and return it dequantized in W's dtype. For
    ``mxfp4`` the last dimension must be a multiple of 32 (blocks run along it)."""
    fmt = check_choice(fmt, "fmt", FORMATS)
    if not torch.is_tensor(W) or not W.is_floating_point():
        raise TypeError("W must be a floating-point tensor")
    if fmt == "fp16":
        return W.half().to(W.dtype)
    if fmt == "bf16":
        return W.bfloat16().to(W.dtype)
    if fmt in _FP8:
        dt, fmax = _FP8[fmt]
        amax = W.abs().amax().float()
        scale = torch.where(amax == 0, torch.ones_like(amax), amax / fmax)
        return ((W.float() / scale).to(dt).float() * scale).to(W.dtype)
    if W.shape[-1] % 32:
        raise ValueError(f"W: the last dimension ({W.shape[-1]}) must be a multiple of 32 for mxfp4")
    x = W.float().reshape(*W.shape[:-1], -1, 32)
    amax = x.abs().amax(-1, keepdim=True)
    e = torch.floor(torch.log2(torch.where(amax == 0, torch.ones_like(amax), amax))) - 2
    scale = torch.exp2(e.clamp(-127, 127))
    return (_round_e2m1(x / scale) * scale).reshape(W.shape).to(W.dtype)
