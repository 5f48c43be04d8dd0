"""Model-level quantization helpers and integer-only inference.

* :func:`quantize_model` — *simulated* post-training weight quantization: a copy of the model
  whose Linear/Conv weights are replaced by ``dequantize(quantize(w))`` (biases, BatchNorm and
  activations stay float). This measures the accuracy cost of the weight grid; it does not make
  the model smaller or faster by itself (the float tensors are still float32).
* :func:`kmeans_quantize_model` — the same with k-means weight sharing (Han et al. 2016).
* :func:`integer_linear` / :class:`IntegerMLP` — what quantization means for hardware
  (Jacob et al. 2018, §2): uint8/int8 operands, **int32 accumulation**, and requantization of the
  accumulator to the next layer's 8-bit codes with one real multiplier per layer (or channel)::

      q_y = Z_y + M · Σ_k (q_x − Z_x)(q_w − Z_w) + M · q_b,     M = S_x · S_w / S_y
      q_b = round(b / (S_x · S_w))   (int32 bias, zero-point 0)

  ``M`` is itself an integer: ``M = M0 · 2^(−31−shift)`` with ``M0`` a 31-bit fixed-point
  integer in [2^30, 2^31) (Jacob et al. 2018, eq. 6), so the whole layer is integer arithmetic
  (multiply, add, rounding right shift). ReLU is fused by clamping at ``Z_y``.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from .._validate import check_array, check_bits, check_choice, check_layer_names, check_number
from .kmeans import kmeans_quantize
from .linear import QuantizedTensor, _check_bits_scheme, code_dtype, qparams, qrange, quantize

__all__ = ["quantizable_layers", "quantize_model", "kmeans_quantize_model", "quantize_multiplier",
           "integer_linear", "IntegerMLP"]

_QUANTIZABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def quantizable_layers(model: nn.Module) -> list[str]:
    """Names of the Linear/Conv layers whose weights the helpers quantize (in model order)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    return [n for n, m in model.named_modules() if n and isinstance(m, _QUANTIZABLE)]


def _select(model, layers):
    names = quantizable_layers(model)
    if layers is None:
        return names
    if isinstance(layers, str):
        layers = [layers]
    check_layer_names(model, layers, "layers")
    bad = [n for n in layers if n not in names]
    if bad:
        raise ValueError(f"layers {bad} are not Linear/Conv layers; quantizable: {names}")
    return list(layers)


def _bits_for(bits, name, default_check_hi=16, scheme="symmetric"):
    b = bits.get(name, 32) if isinstance(bits, Mapping) else bits
    if isinstance(bits, Mapping) and b == 32:
        return None  # left in float
    return _check_bits_scheme(b, scheme) if scheme else check_bits(b, "bits", hi=16)


def quantize_model(model: nn.Module, bits=8, scheme: str = "symmetric", per_channel: bool = True,
                   layers=None):
    """Simulated post-training weight quantization (module docstring; Jacob et al. 2018).

    ``bits``: an int, or a mapping ``{layer: bits}`` (mixed precision; unlisted layers stay
    float). ``layers``: names of Linear/Conv layers (default: all). Per-channel means one scale
    per output channel (dim 0 of the weight). Returns ``(new_model, report)`` where ``report``
    maps each quantized layer to ``{"bits", "scheme", "per_channel", "scale", "zero_point",
    "error_bound", "max_abs_error", "mse", "numel", "qtensor"}``. ``model`` is not modified.
    """
    names = _select(model, layers)
    check_choice(scheme, "scheme", ("symmetric", "affine"))
    if isinstance(bits, Mapping):
        check_layer_names(model, list(bits), "bits")
    new = copy.deepcopy(model)
    report = {}
    for n in names:
        b = _bits_for(bits, n, scheme=scheme)
        if b is None:
            continue
        mod = new.get_submodule(n)
        w = mod.weight.detach().clone()
        q = quantize(w, b, scheme, per_channel, 0)
        wh = q.dequantize()
        with torch.no_grad():
            mod.weight.copy_(wh)
        err = (wh - w).abs()
        report[n] = {"bits": b, "scheme": scheme, "per_channel": per_channel, "scale": q.scale,
                     "zero_point": q.zero_point, "error_bound": q.scale / 2,
                     "max_abs_error": float(err.max()), "mse": float((err ** 2).mean()),
                     "numel": w.numel(), "qtensor": q}
    return new, report


def kmeans_quantize_model(model: nn.Module, bits=4, *, layers=None, exclude_zeros: bool = True,
                          seed: int = 0, iters: int = 50, init: str = "linear"):
    """k-means weight sharing of every Linear/Conv weight (Han et al. 2016): a copy of the model
    whose weights are ``codebook[indices]`` (pruned zeros kept exactly zero when
    ``exclude_zeros``). ``bits`` an int or ``{layer: bits}``. Returns ``(new_model, report)``
    with per layer ``{"bits", "k", "codebook", "inertia", "max_abs_error", "mse", "numel",
    "result"}``. ``model`` is not modified."""
    names = _select(model, layers)
    if isinstance(bits, Mapping):
        check_layer_names(model, list(bits), "bits")
    new = copy.deepcopy(model)
    report = {}
    for n in names:
        b = _bits_for(bits, n, scheme=None)
        if b is None:
            continue
        mod = new.get_submodule(n)
        w = mod.weight.detach().clone()
        r = kmeans_quantize(w, b, exclude_zeros=exclude_zeros, seed=seed, iters=iters, init=init)
        wh = r.dequantize()
        with torch.no_grad():
            mod.weight.copy_(wh)
        err = (wh - w).abs()
        report[n] = {"bits": b, "k": r.k, "codebook": r.codebook, "inertia": r.inertia,
                     "max_abs_error": float(err.max()), "mse": float((err ** 2).mean()),
                     "numel": w.numel(), "result": r}
    return new, report


# ----------------------------------------------------------------------------------------------
# integer-only arithmetic (Jacob et al. 2018)
# ----------------------------------------------------------------------------------------------
def quantize_multiplier(m: float) -> tuple[int, int]:
    """Write a real multiplier ``0 < m < 1`` as ``M0 · 2^(−31−shift)`` with the integer
    ``M0 ∈ [2^30, 2^31)`` and ``shift ≥ 0`` (Jacob et al. 2018, eq. 6; gemmlowp)."""
    m = check_number(m, "m", lo=0.0, hi=1.0, lo_inclusive=False, hi_inclusive=False)
    mant, exp = math.frexp(m)          # m = mant · 2^exp, mant in [0.5, 1)
    m0 = int(round(mant * 2 ** 31))
    if m0 == 2 ** 31:                  # rounding overflowed the mantissa
        m0 //= 2
        exp += 1
    return m0, -exp


def _requantize(acc: np.ndarray, m0: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``round(acc · M0 / 2^(31+shift))`` in int64 (round half up: add half, arithmetic shift)."""
    total = (31 + shift).astype(np.int64)
    prod = acc.astype(np.int64) * m0.astype(np.int64)   # |acc| < 2^31, M0 < 2^31: fits int64
    big = total > 62                                     # |result| < 1/2: rounds to 0
    t = np.where(big, 62, total)
    out = (prod + (np.int64(1) << (t - 1))) >> t
    return np.where(big, 0, out)


def _np(v):
    return v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else np.asarray(v)


def integer_linear(x_q: QuantizedTensor, w_q: QuantizedTensor, bias=None, *, out_scale: float,
                   out_zero_point: int = 0, out_bits: int = 8, out_scheme: str = "affine",
                   relu: bool = False) -> QuantizedTensor:
    """Integer-only ``y = x Wᵀ + b`` (Jacob et al. 2018, §2.2–2.4; formulas in the module doc).

    ``x_q``: per-tensor quantized activations, shape (N, K). ``w_q``: quantized weight (M, K),
    per tensor or per output channel (axis 0). ``bias``: float (M,) or None, quantized to int32
    with scale ``S_x·S_w``. The accumulator is int32 (a ``ValueError`` is raised if it would
    overflow); requantization uses the fixed-point multiplier of :func:`quantize_multiplier`.
    Returns the output codes as a :class:`QuantizedTensor` with ``out_scale``/``out_zero_point``
    (numpy or torch like ``x_q.codes``); ``relu=True`` clamps at the zero-point (fused ReLU).
    """
    for arg, q in (("x_q", x_q), ("w_q", w_q)):
        if not isinstance(q, QuantizedTensor):
            raise TypeError(f"{arg} must be a QuantizedTensor, got {type(q).__name__}")
    if x_q.axis is not None:
        raise ValueError("x_q must be quantized per tensor (one activation scale)")
    if len(x_q.shape) != 2 or len(w_q.shape) != 2:
        raise ValueError(f"x_q and w_q must be 2-D, got shapes {x_q.shape} and {w_q.shape}")
    if x_q.shape[1] != w_q.shape[1]:
        raise ValueError(f"x_q has {x_q.shape[1]} features but w_q expects {w_q.shape[1]}")
    if w_q.axis not in (None, 0):
        raise ValueError("w_q must be quantized per tensor or per output channel (axis 0)")
    ob = _check_bits_scheme(out_bits, out_scheme)
    qmin, qmax = qrange(ob, out_scheme)
    sy = check_number(out_scale, "out_scale", lo=0.0, lo_inclusive=False)
    zy = int(out_zero_point)
    if not qmin <= zy <= qmax or (out_scheme == "symmetric" and zy != 0):
        raise ValueError(f"out_zero_point must be in [{qmin}, {qmax}] (0 if symmetric), got {zy}")
    m_out = w_q.shape[0]
    xs = _np(x_q.codes).astype(np.int64) - int(x_q.zero_point)
    sw = np.broadcast_to(np.asarray(_np(w_q.scale), np.float64), (m_out,))
    zw = np.broadcast_to(np.asarray(_np(w_q.zero_point), np.int64), (m_out,))
    ws = _np(w_q.codes).astype(np.int64) - zw[:, None]
    acc = xs @ ws.T                                            # exact integer sum
    s_acc = float(x_q.scale) * sw                              # scale of the accumulator
    if bias is not None:
        check_array(bias, "bias", ndim=1)
        b = _np(bias).astype(np.float64)
        if b.shape[0] != m_out:
            raise ValueError(f"bias must have {m_out} entries, got {b.shape[0]}")
        acc = acc + np.rint(b / s_acc).astype(np.int64)        # int32 bias, zero-point 0
    if acc.size and (acc.max() >= 2 ** 31 or acc.min() < -2 ** 31):
        raise ValueError("the int32 accumulator overflows: use fewer bits or smaller K")
    mult = s_acc / sy
    if np.any(mult >= 1.0):
        raise ValueError("out_scale too small: the requantization multiplier must be < 1")
    pairs = [quantize_multiplier(float(v)) if v > 0 else (0, 0) for v in mult]
    m0 = np.array([p[0] for p in pairs], np.int64)
    sh = np.array([p[1] for p in pairs], np.int64)
    y = _requantize(acc, m0[None, :], sh[None, :]) + zy
    y = np.clip(y, zy if relu else qmin, qmax)
    codes = y.astype(code_dtype(ob, out_scheme))
    dtype = np.dtype(np.float32)
    if isinstance(x_q.codes, torch.Tensor):
        codes = torch.from_numpy(codes)
        dtype = torch.float32
    return QuantizedTensor(codes=codes, scale=sy, zero_point=zy, bits=ob, scheme=out_scheme,
                           axis=None, shape=tuple(y.shape), dtype=dtype)


class IntegerMLP:
    """Integer-only inference of a stack of ``nn.Linear`` layers with ReLU between them (the
    structure of :class:`pruninglab.models.DigitsMLP`), following Jacob et al. 2018.

    :meth:`from_float` calibrates the (affine, per-tensor) activation ranges on ``calib_x`` —
    min/max of the float model's input and of each layer's output (after ReLU) — and quantizes
    the weights (symmetric, per-channel by default). :meth:`forward_codes` then runs only
    integer arithmetic; :meth:`__call__` dequantizes the final logits.
    """

    def __init__(self, input_qparams, layers):
        self.input_qparams = input_qparams   # (scale, zero_point)
        self.layers = layers                 # list of dicts: w_q, bias, out (S, Z), relu
        self.bits = layers[0]["w_q"].bits if layers else 8

    @classmethod
    def from_float(cls, model: nn.Module, calib_x: torch.Tensor, bits: int = 8,
                   per_channel: bool = True) -> "IntegerMLP":
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        check_array(calib_x, "calib_x")
        b = _check_bits_scheme(bits, "symmetric")
        mods = [m for m in model.children()]
        if not mods or not all(type(m) is nn.Linear for m in mods):
            raise ValueError("model must consist of nn.Linear children only (ReLU between them, "
                             "like DigitsMLP)")
        with torch.no_grad():
            h = calib_x.reshape(calib_x.shape[0], -1).float()
            s_in, z_in, _, _ = qparams(h, b, "affine")
            layers = []
            for i, lin in enumerate(mods):
                relu = i < len(mods) - 1
                h = lin(h)
                if relu:
                    h = torch.relu(h)
                s_out, z_out, _, _ = qparams(h, b, "affine")
                layers.append({"w_q": quantize(lin.weight.detach(), b, "symmetric", per_channel),
                               "bias": None if lin.bias is None else lin.bias.detach().clone(),
                               "out": (s_out, z_out), "relu": relu})
        obj = cls((s_in, z_in), layers)
        obj.bits = b
        return obj

    def forward_codes(self, x: torch.Tensor) -> QuantizedTensor:
        """Quantize the input once, then integer-only layers; returns the logits' codes."""
        check_array(x, "x")
        x = x.reshape(x.shape[0], -1)
        s, z = self.input_qparams
        q = quantize(x, self.bits, "affine", scale=s, zero_point=z)
        for L in self.layers:
            so, zo = L["out"]
            q = integer_linear(q, L["w_q"], L["bias"], out_scale=so, out_zero_point=zo,
                               out_bits=self.bits, out_scheme="affine", relu=L["relu"])
        return q

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """Dequantized logits (float32)."""
        return self.forward_codes(x).dequantize()

    def accuracy(self, split) -> float:
        """Top-1 accuracy on a :class:`pruninglab.data.Split`."""
        pred = self(split.x).argmax(1)
        return float((pred == split.y).float().mean())
