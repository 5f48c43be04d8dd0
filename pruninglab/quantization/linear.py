"""Linear (uniform) quantization: integer codes + scale + zero-point.

Formulas (Jacob et al. 2018, *Quantization and Training of Neural Networks for Efficient
Integer-Arithmetic-Only Inference*, CVPR; Krishnamoorthi 2018, arXiv:1806.08342)::

    quantize:    q = clamp(round(r / S) + Z, q_min, q_max)         (integers)
    dequantize:  r_hat = S · (q − Z)                              (real numbers)

* **symmetric** (signed codes, ``Z = 0``)::

      q_max = 2^(b−1) − 1,  q_min = −q_max,   S = max|r| / q_max

  The most negative code −2^(b−1) is left unused (the "restricted range", as in TFLite's
  int8 weights) so that the grid is symmetric around 0.

* **affine** / asymmetric (unsigned codes, Jacob et al. 2018 §2.1)::

      q_min = 0,  q_max = 2^b − 1
      r_min = min(min(r), 0),  r_max = max(max(r), 0)     (the range must contain 0)
      S = (r_max − r_min) / (q_max − q_min),   Z = clamp(round(q_min − r_min / S), q_min, q_max)

  Because ``Z`` is an integer code, the real number 0.0 is represented *exactly*
  (``r_hat = S · (Z − Z) = 0``): zero-padding and pruned weights stay exactly zero.

**Error bound.** For every value inside the represented range the rounding error is at most
half a step: ``|r_hat − r| ≤ S / 2`` (:func:`error_bound`). When ``S`` and ``Z`` are computed
from ``r`` itself (the default) every element of ``r`` is inside the range; for the affine
scheme the rounding of ``Z`` shifts the grid by at most ``S/2``, so the bound still holds at
the ends. Values outside a *given* range are clipped (error grows without bound).

**Choices made here** (tested in ``tests/test_quant_linear.py``):

* ``bits`` is an int in [1, 16]. ``bits=1`` *symmetric* is rejected: ``2^(1−1) − 1 = 0``
  leaves no non-zero level, and a sign/binary code (``{−1, +1}`` with ``S = mean|r|``,
  Rastegari et al. 2016) cannot represent 0, so the guarantees above would not hold.
  ``bits=1`` affine is allowed: codes {0, 1}, i.e. levels {0, S} or {−S, 0}.
* An all-zero tensor (or channel) gets ``S = 1`` and ``Z = 0`` (never 0 or NaN); it
  dequantizes to exact zeros.
* Rounding is round-half-to-even (``numpy.rint`` / ``torch.round``), like PyTorch.
* Arithmetic is done in float64; codes use the smallest integer dtype that holds them
  (``int8``/``uint8``/``int16``/``int32``); numpy in → numpy out, torch in → torch out.
* Per-channel: one ``(S, Z)`` per index along ``axis`` (usually 0 = output channel of a
  Linear/Conv weight); it needs at least 2 dimensions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .._validate import check_array, check_bits, check_choice, check_int, check_number, is_tensor

__all__ = ["QuantizedTensor", "SCHEMES", "qrange", "qparams", "quantize", "dequantize",
           "quantize_dequantize", "error_bound", "code_dtype"]

SCHEMES = ("symmetric", "affine")
_TINY = float(np.finfo(np.float64).tiny)


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------
def _check_bits_scheme(bits: Any, scheme: Any) -> int:
    check_choice(scheme, "scheme", SCHEMES)
    b = check_bits(bits, "bits", lo=1, hi=16)
    if scheme == "symmetric" and b == 1:
        raise ValueError("bits must be >= 2 for scheme='symmetric': 2^(bits-1) - 1 = 0 leaves no "
                         "non-zero level; use scheme='affine' (codes {0, 1}) for 1 bit")
    return b


def qrange(bits: int, scheme: str = "symmetric") -> tuple[int, int]:
    """``(q_min, q_max)``: symmetric ``(−(2^(b−1)−1), 2^(b−1)−1)``, affine ``(0, 2^b−1)``."""
    b = _check_bits_scheme(bits, scheme)
    if scheme == "symmetric":
        m = 2 ** (b - 1) - 1
        return -m, m
    return 0, 2 ** b - 1


def code_dtype(bits: int, scheme: str = "symmetric", *, torch_dtype: bool = False):
    """The smallest integer dtype holding the codes: signed (symmetric) ``int8`` up to 8 bits,
    ``int16`` up to 16; unsigned (affine) ``int8`` up to 7 bits, ``uint8`` for 8, ``int16`` up
    to 15, ``int32`` for 16."""
    b = _check_bits_scheme(bits, scheme)
    if scheme == "symmetric":
        name = "int8" if b <= 8 else "int16"
    else:
        name = "int8" if b <= 7 else "uint8" if b == 8 else "int16" if b <= 15 else "int32"
    return getattr(torch, name) if torch_dtype else np.dtype(name)


def _norm_axis(axis: Any, ndim: int) -> int:
    a = check_int(axis, "axis")
    if ndim < 2:
        raise ValueError(f"per_channel=True needs x with at least 2 dimensions, got {ndim}-D "
                         "(use per_channel=False for a vector)")
    if not -ndim <= a < ndim:
        raise ValueError(f"axis must be in [{-ndim}, {ndim - 1}] for a {ndim}-D x, got {a}")
    return a % ndim


def _as_f64(x):
    if is_tensor(x):
        return x.detach().to(torch.float64)
    return np.asarray(x, dtype=np.float64)


def _rows_minmax(x64, axis: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Per-tensor (length-1) or per-channel min and max as float64 numpy arrays."""
    if is_tensor(x64):
        if axis is None:
            return (np.array([float(x64.min())]), np.array([float(x64.max())]))
        rows = x64.movedim(axis, 0).reshape(x64.shape[axis], -1)
        return (rows.amin(1).cpu().numpy(), rows.amax(1).cpu().numpy())
    if axis is None:
        return np.array([x64.min()]), np.array([x64.max()])
    rows = np.moveaxis(x64, axis, 0).reshape(x64.shape[axis], -1)
    return rows.min(1), rows.max(1)


def _params_from_minmax(lo: np.ndarray, hi: np.ndarray, b: int, scheme: str):
    qmin, qmax = qrange(b, scheme)
    if scheme == "symmetric":
        m = np.maximum(np.abs(lo), np.abs(hi))
        s = m / qmax
        z = np.zeros(s.shape, dtype=np.int64)
    else:
        lo = np.minimum(lo, 0.0)
        hi = np.maximum(hi, 0.0)
        n = qmax - qmin
        s = hi / n - lo / n  # written this way so that huge ranges do not overflow
    s = np.where(s == 0.0, 1.0, s)          # all-zero tensor/channel: S = 1, never 0/NaN
    if np.any(s < _TINY):                   # a subnormal scale: x / S would overflow, and a
        raise ValueError(                   # clamped scale would silently give all-zero codes
            f"x has a range too small to quantize: max |x| = {float(np.min(s) * qmax):.3g} needs "
            f"a scale below the smallest normal float64 ({_TINY:.3g}); rescale x first")
    if not np.all(np.isfinite(s)):
        raise ValueError("x has a range too large to quantize (scale overflows)")
    if scheme == "affine":
        z = np.clip(np.rint(qmin - lo / s), qmin, qmax).astype(np.int64)
    return s, z, qmin, qmax


def _bshape(ndim: int, axis: int | None, c: int) -> tuple[int, ...]:
    if axis is None:
        return ()
    shape = [1] * ndim
    shape[axis] = c
    return tuple(shape)


def _wrap_params(x, s: np.ndarray, z: np.ndarray, per_channel: bool):
    """Scalars per tensor; 1-D float64/int64 arrays (numpy or torch as ``x``) per channel."""
    if not per_channel:
        return float(s[0]), int(z[0])
    if is_tensor(x):
        return (torch.as_tensor(s, dtype=torch.float64, device=x.device),
                torch.as_tensor(z, dtype=torch.int64, device=x.device))
    return s.astype(np.float64), z.astype(np.int64)


# ----------------------------------------------------------------------------------------------
# the quantized tensor
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """Integer codes plus the parameters needed to map them back to real numbers.

    ``codes``      integer array/tensor with the original shape (numpy or torch, as the input)
    ``scale``      float (per tensor) or 1-D float64 array/tensor, one per channel along ``axis``
    ``zero_point`` int (per tensor) or 1-D int64 array/tensor (all 0 for ``"symmetric"``)
    ``bits``, ``scheme`` ("symmetric" | "affine"), ``axis`` (None per tensor), ``shape``
    ``dtype``      the float dtype :meth:`dequantize` returns (the input's float dtype)

    ``dequantize()`` computes ``S · (q − Z)`` (Jacob et al. 2018, eq. 1).
    """
    codes: Any
    scale: Any
    zero_point: Any
    bits: int
    scheme: str
    axis: int | None
    shape: tuple
    dtype: Any = None

    @property
    def qmin(self) -> int:
        return qrange(self.bits, self.scheme)[0]

    @property
    def qmax(self) -> int:
        return qrange(self.bits, self.scheme)[1]

    @property
    def per_channel(self) -> bool:
        return self.axis is not None

    @property
    def numel(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def _b(self, v):
        """Broadcast a per-channel parameter against ``codes``."""
        if self.axis is None:
            return v
        shape = _bshape(len(self.shape), self.axis, len(v))
        return v.reshape(shape)

    def dequantize(self):
        """``r_hat = S · (q − Z)`` in float64, returned in :attr:`dtype` (numpy or torch)."""
        q = self.codes
        if is_tensor(q):
            s = self.scale if self.axis is None else self._b(
                torch.as_tensor(self.scale, dtype=torch.float64, device=q.device))
            z = self.zero_point if self.axis is None else self._b(
                torch.as_tensor(self.zero_point, dtype=torch.int64, device=q.device))
            out = s * (q.to(torch.int64) - z).to(torch.float64)
            return out.to(self.dtype if self.dtype is not None else torch.float32)
        s = self.scale if self.axis is None else self._b(np.asarray(self.scale, np.float64))
        z = self.zero_point if self.axis is None else self._b(np.asarray(self.zero_point, np.int64))
        out = s * (np.asarray(q, dtype=np.int64) - z).astype(np.float64)
        return out.astype(self.dtype if self.dtype is not None else np.float64, copy=False)

    def __repr__(self) -> str:
        kind = "per-tensor" if self.axis is None else f"per-channel(axis={self.axis})"
        return (f"QuantizedTensor({self.scheme}, {self.bits} bits, {kind}, shape={self.shape}, "
                f"codes dtype={self.codes.dtype})")


# ----------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------
def qparams(x, bits: int = 8, scheme: str = "symmetric", per_channel: bool = False, axis: int = 0):
    """Scale and zero-point computed from the min/max of ``x`` (formulas in the module doc).

    Returns ``(scale, zero_point, q_min, q_max)``; ``scale``/``zero_point`` are a float/int per
    tensor, or 1-D float64/int64 arrays (numpy or torch like ``x``) of length ``x.shape[axis]``.
    ``x`` is not modified.
    """
    check_array(x, "x")
    b = _check_bits_scheme(bits, scheme)
    if not isinstance(per_channel, (bool, np.bool_)):
        raise TypeError(f"per_channel must be a bool, got {type(per_channel).__name__}")
    ax = _norm_axis(axis, x.ndim) if per_channel else None
    x64 = _as_f64(x)
    lo, hi = _rows_minmax(x64, ax)
    s, z, qmin, qmax = _params_from_minmax(lo, hi, b, scheme)
    s, z = _wrap_params(x, s, z, bool(per_channel))
    return s, z, qmin, qmax


def _check_given_params(x, scale, zero_point, b, scheme, ax):
    qmin, qmax = qrange(b, scheme)
    c = None if ax is None else x.shape[ax]
    if c is None:
        s = np.array([check_number(scale, "scale", lo=0.0, lo_inclusive=False)])
        if not np.isfinite(s[0]):
            raise ValueError("scale must be finite")
    else:
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            s = np.full(c, check_number(scale, "scale", lo=0.0, lo_inclusive=False))
        else:
            check_array(scale, "scale", ndim=1)
            s = np.asarray(scale.detach().cpu() if is_tensor(scale) else scale, dtype=np.float64)
            if s.shape[0] != c:
                raise ValueError(f"scale must have {c} entries (x.shape[{ax}]), got {s.shape[0]}")
            if not np.all(s > 0):
                raise ValueError("scale must be > 0")
    if zero_point is None:
        if scheme == "affine":
            raise ValueError("zero_point is required when scale is given with scheme='affine'")
        z = np.zeros(s.shape, dtype=np.int64)
    elif c is None or isinstance(zero_point, (int, np.integer)) and not isinstance(zero_point, bool):
        z = np.full(s.shape, check_int(zero_point, "zero_point", lo=qmin, hi=qmax), dtype=np.int64)
    else:
        check_array(zero_point, "zero_point", ndim=1)
        z = np.asarray(zero_point.detach().cpu() if is_tensor(zero_point) else zero_point)
        if z.dtype.kind not in "iu":
            raise TypeError(f"zero_point must hold integers, got dtype {z.dtype}")
        if z.shape[0] != c:
            raise ValueError(f"zero_point must have {c} entries (x.shape[{ax}]), got {z.shape[0]}")
        if z.min() < qmin or z.max() > qmax:
            raise ValueError(f"zero_point must be in [{qmin}, {qmax}]")
        z = z.astype(np.int64)
    if scheme == "symmetric" and np.any(z != 0):
        raise ValueError("zero_point must be 0 for scheme='symmetric'")
    return s, z


def quantize(x, bits: int = 8, scheme: str = "symmetric", per_channel: bool = False,
             axis: int = 0, *, scale=None, zero_point=None) -> QuantizedTensor:
    """Quantize ``x`` to ``bits``-bit integer codes: ``q = clamp(round(x/S) + Z, q_min, q_max)``.

    ``S`` and ``Z`` come from :func:`qparams` unless ``scale`` (and, for ``"affine"``,
    ``zero_point``) are given, e.g. from calibration data; values outside the given range are
    clipped. Returns a :class:`QuantizedTensor` (codes numpy or torch like ``x``). Pure: ``x``
    is never modified. Reference: Jacob et al. 2018.
    """
    check_array(x, "x")
    b = _check_bits_scheme(bits, scheme)
    if not isinstance(per_channel, (bool, np.bool_)):
        raise TypeError(f"per_channel must be a bool, got {type(per_channel).__name__}")
    ax = _norm_axis(axis, x.ndim) if per_channel else None
    x64 = _as_f64(x)
    if scale is None:
        if zero_point is not None:
            raise ValueError("zero_point given without scale")
        lo, hi = _rows_minmax(x64, ax)
        s, z, qmin, qmax = _params_from_minmax(lo, hi, b, scheme)
    else:
        s, z = _check_given_params(x, scale, zero_point, b, scheme, ax)
        qmin, qmax = qrange(b, scheme)
    bshape = _bshape(x.ndim, ax, len(s))
    if is_tensor(x):
        sb = torch.as_tensor(s, dtype=torch.float64, device=x.device).reshape(bshape)
        zb = torch.as_tensor(z, dtype=torch.float64, device=x.device).reshape(bshape)
        q = torch.clamp(torch.round(x64 / sb) + zb, qmin, qmax)
        codes = q.to(code_dtype(b, scheme, torch_dtype=True))
        dtype = x.dtype if x.is_floating_point() else torch.get_default_dtype()
    else:
        q = np.clip(np.rint(x64 / s.reshape(bshape)) + z.reshape(bshape), qmin, qmax)
        codes = q.astype(code_dtype(b, scheme))
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    sw, zw = _wrap_params(x, s, z, ax is not None)
    return QuantizedTensor(codes=codes, scale=sw, zero_point=zw, bits=b, scheme=scheme, axis=ax,
                           shape=tuple(x.shape), dtype=dtype)


def dequantize(q) -> Any:
    """``r_hat = S · (q − Z)``: the real values a :class:`QuantizedTensor` (or any result with a
    ``dequantize()`` method, e.g. k-means) stands for."""
    if isinstance(q, QuantizedTensor) or hasattr(q, "dequantize"):
        return q.dequantize()
    raise TypeError(f"q must be a QuantizedTensor, got {type(q).__name__}")


def quantize_dequantize(x, bits: int = 8, scheme: str = "symmetric", per_channel: bool = False,
                        axis: int = 0, *, scale=None, zero_point=None):
    """``dequantize(quantize(x, ...))``: the values a quantized model actually computes with
    ("simulated" / fake quantization), same type and float dtype as ``x``."""
    return quantize(x, bits, scheme, per_channel, axis, scale=scale,
                    zero_point=zero_point).dequantize()


def error_bound(q: QuantizedTensor):
    """Worst-case rounding error ``S / 2`` for values inside the represented range
    ``[S·(q_min − Z), S·(q_max − Z)]`` (a float, or one per channel)."""
    if not isinstance(q, QuantizedTensor):
        raise TypeError(f"q must be a QuantizedTensor, got {type(q).__name__}")
    return q.scale / 2
