"""Activation outliers and SmoothQuant W8A8 (simulated with fake quantization).

* **Outlier channels** (Dettmers et al. 2022, LLM.int8()): a few input features of a linear layer
  carry activations much larger than the rest, in every token. ``channel_absmax`` measures the
  per-channel max |x| of every linear layer's input on calibration data; the outlier ratio is
  ``max_j / median_j`` of those maxima.
* **W8A8**: weights int8 symmetric per output channel, activations int8 symmetric **per tensor**
  (one dynamic scale per forward call, max |x| / 127) -- the setting in which outlier channels
  waste the activation grid.
* **SmoothQuant** (Xiao et al. 2023): per input channel ``s_j = max|X_j|^α / max|W_:,j|^(1−α)``;
  ``Y = (X diag(s)⁻¹)(diag(s) Wᵀ)`` is unchanged in exact arithmetic, but the activation range
  shrinks (outliers migrate into the weights, which are quantized per channel). α = 0.5 default.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .._validate import check_bits, check_number
from .compress import _check_model, layer_inputs
from .model import TinyGPT

__all__ = ["channel_absmax", "outlier_ratio", "fake_quant_symmetric", "w8a8_model", "smooth_scales"]


def channel_absmax(model: TinyGPT, calib: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per-input-channel max |x| of every linear layer's input."""
    return {k: v.abs().amax(0) for k, v in layer_inputs(model, calib).items()}


def outlier_ratio(absmax: torch.Tensor) -> float:
    """``max / median`` of per-channel maxima (1 = flat; LLMs ≥ 6.7B reach ~100, Dettmers 2022)."""
    absmax = torch.as_tensor(absmax, dtype=torch.float64)
    if absmax.dim() != 1 or absmax.numel() == 0:
        raise ValueError("absmax must be a non-empty 1-D tensor of per-channel maxima")
    return float(absmax.max() / absmax.median())


def fake_quant_symmetric(x: torch.Tensor, bits: int, dim=None) -> torch.Tensor:
    """Symmetric round-to-nearest to ``bits``: per tensor (``dim=None``) or one scale per slice
    reducing over ``dim`` (e.g. ``dim=-1`` for per-row)."""
    bits = check_bits(bits, lo=2, hi=16)
    if not torch.is_tensor(x) or not x.is_floating_point():
        raise TypeError("x must be a floating-point tensor")
    qmax = 2 ** (bits - 1) - 1
    amax = x.abs().amax() if dim is None else x.abs().amax(dim=dim, keepdim=True)
    scale = torch.where(amax == 0, torch.ones_like(amax), amax / qmax)
    return torch.clamp(torch.round(x / scale), -qmax, qmax) * scale


def smooth_scales(x_absmax: torch.Tensor, W: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """SmoothQuant ``s_j = max|X_j|^α / max|W_:,j|^(1−α)`` (clamped away from 0)."""
    alpha = check_number(alpha, "alpha", lo=0.0, hi=1.0)
    w_absmax = W.detach().abs().amax(0).clamp(min=1e-5)
    return (x_absmax.clamp(min=1e-5) ** alpha / w_absmax ** (1 - alpha)).clamp(min=1e-5)


@torch.no_grad()
def w8a8_model(model: TinyGPT, calib: torch.Tensor | None = None, *, smooth: bool = False,
               alpha: float = 0.5, w_bits: int = 8, a_bits: int = 8) -> TinyGPT:
    """Copy of ``model`` whose block linear layers run W``w_bits``A``a_bits`` (fake-quantized):
    weights per output channel, activations per tensor (dynamic). With ``smooth=True``,
    SmoothQuant scales from ``calib`` are applied first."""
    _check_model(model)
    w_bits, a_bits = check_bits(w_bits, "w_bits", lo=2, hi=16), check_bits(a_bits, "a_bits", lo=2, hi=16)
    m = copy.deepcopy(model).eval()
    absmax = channel_absmax(m, calib) if smooth else None
    if smooth and calib is None:
        raise ValueError("calib is required when smooth=True")
    for name, mod in m.named_modules():
        if not (isinstance(mod, nn.Linear) and name.startswith("blocks")):
            continue
        s = smooth_scales(absmax[name], mod.weight, alpha) if smooth else torch.ones(mod.in_features)
        mod.weight.copy_(fake_quant_symmetric(mod.weight * s[None, :], w_bits, dim=1))
        mod.register_forward_pre_hook(
            lambda _m, a, s=s: (fake_quant_symmetric(a[0] / s, a_bits),))
    return m
