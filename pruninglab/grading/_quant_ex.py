"""Exercises of notebook 05 (quantization): the learner writes the quantizers.

* ``affine_quantize``: codes, scale and zero-point of asymmetric (affine) uniform quantization
  (Jacob et al. 2018): range widened to include 0, ``S = (r_max − r_min)/(2^b − 1)``,
  ``Z = round(−r_min/S)``, ``q = clip(round(r/S) + Z, 0, 2^b − 1)``; 0 maps to ``Z`` exactly;
* ``per_channel_quantize``: symmetric codes with one scale per output channel (axis 0);
* ``integer_requant_linear``: int8 × int8 → int32 accumulate (+ int32 bias) → requantize with
  ``M = S_x·S_w/S_y`` written as ``M0·2^(−31−shift)`` (``M0`` a 31-bit integer, Jacob et al.
  2018 eq. 6, gemmlowp) → add the output zero-point → saturate to int8;
* ``fake_quant_ste``: forward value of symmetric fake quantization with clipping range ``α`` and
  the straight-through-estimator gradient ``g·1[|w| ≤ α]`` (Bengio et al. 2013);
* ``kmeans_codebook``: Lloyd's k-means on the weights with the linear initialisation of Han et
  al. 2016 (``2^b`` centroids evenly spaced between min and max);
* ``codebook_step``: one centroid fine-tuning step: the gradients of the weights that share a
  centroid are summed (Han et al. 2016, Fig. 3) and ``c_k ← c_k − lr·Σ g``.

Expected answers come from the small numpy oracles below (not from
:mod:`pruninglab.quantization`). :data:`MUTANTS` lists wrong implementations (the seed S3-C2
bugs adapted to these signatures and classic mistakes) with a word the grader's hint must
contain; :data:`REFERENCE` the oracles (full marks).
"""
from __future__ import annotations

import math

import numpy as np

from ._common import Exercise, Problem, fmt, is_real_scalar

NOTEBOOK = "05_quantization"

__all__ = ["EXERCISES", "MUTANTS", "REFERENCE", "oracle_affine", "oracle_per_channel",
           "oracle_requant", "oracle_fake_quant", "oracle_kmeans", "oracle_codebook_step",
           "quantize_multiplier"]


# ============================================================================ oracles
def oracle_affine(r, bits):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError("bits must be an int")
    if not 1 <= bits <= 16:
        raise ValueError("bits must be in 1..16")
    r64 = np.asarray(r, dtype=np.float64)
    qmax = 2 ** bits - 1
    lo, hi = min(float(r64.min()), 0.0), max(float(r64.max()), 0.0)
    s = (hi - lo) / qmax
    if s == 0:
        s = 1.0
    z = int(np.clip(np.rint(-lo / s), 0, qmax))
    q = np.clip(np.rint(r64 / s) + z, 0, qmax).astype(np.int32)
    return q, float(s), z


def oracle_per_channel(w, bits):
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError("bits must be an int")
    if not 2 <= bits <= 16:
        raise ValueError("bits must be in 2..16")
    w64 = np.asarray(w, dtype=np.float64)
    qmax = 2 ** (bits - 1) - 1
    m = np.abs(w64.reshape(w64.shape[0], -1)).max(1)
    s = np.where(m == 0, 1.0, m / qmax)
    q = np.clip(np.rint(w64 / s.reshape((-1,) + (1,) * (w64.ndim - 1))), -qmax, qmax)
    return q.astype(np.int32), s


def quantize_multiplier(m):
    """``m = M0·2^(−31−shift)``, ``M0 ∈ [2^30, 2^31)`` (Jacob et al. 2018, eq. 6)."""
    mant, exp = math.frexp(float(m))
    m0 = int(round(mant * 2 ** 31))
    if m0 == 2 ** 31:
        m0 //= 2
        exp += 1
    return m0, -exp


def oracle_requant(x_q, w_q, bias_q, M, z_y, *, rounding=True, clip=True, bias=True, zp=True,
                   integer=True):
    acc = x_q.astype(np.int64) @ w_q.astype(np.int64).T
    if bias:
        acc = acc + bias_q.astype(np.int64)
    m0, shift = quantize_multiplier(M)
    if integer:
        t = 31 + shift
        y = [(int(a) * m0 + ((1 << (t - 1)) if rounding else 0)) >> t for a in acc.ravel()]
        y = np.array(y, dtype=np.int64).reshape(acc.shape)
    else:
        y = np.rint(acc * float(M)).astype(np.int64)
    if zp:
        y = y + int(z_y)
    y = np.clip(y, -128, 127) if clip else ((y + 128) % 256) - 128
    return y.astype(np.int8), m0, shift


def oracle_fake_quant(w, bits, alpha, grad_out):
    qmax = 2 ** (bits - 1) - 1
    s = alpha / qmax
    w64 = np.asarray(w, dtype=np.float64)
    fwd = s * np.clip(np.rint(w64 / s), -qmax, qmax)
    g = np.where(np.abs(w64) <= alpha, grad_out, 0.0)
    return fwd.astype(w.dtype), g.astype(grad_out.dtype)


def _nearest(v, c):
    return np.argmin(np.abs(v[:, None] - c[None, :]), axis=1)


def oracle_kmeans(w, bits, iters):
    v = np.asarray(w, dtype=np.float64).ravel()
    k = 2 ** bits
    c = np.linspace(v.min(), v.max(), k)
    for _ in range(iters):
        lab = _nearest(v, c)
        for j in range(k):
            if (lab == j).any():
                c[j] = v[lab == j].mean()
    lab = _nearest(v, c)
    return c, lab.reshape(np.shape(w)).astype(np.int64)


def oracle_codebook_step(centroids, labels, grad, lr):
    g = np.bincount(labels.ravel(), weights=grad.ravel().astype(np.float64),
                    minlength=centroids.size)
    return centroids.astype(np.float64) - lr * g


REFERENCE = {"affine_quantize": oracle_affine, "per_channel_quantize": oracle_per_channel,
             "integer_requant_linear": lambda *a: oracle_requant(*a),
             "fake_quant_ste": oracle_fake_quant, "kmeans_codebook": oracle_kmeans,
             "codebook_step": oracle_codebook_step}


# ============================================================================ helpers
def _tuple(out, n, names):
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if isinstance(out, np.ndarray):
        hint = f"return a tuple ({', '.join(names)})"
        if np.issubdtype(out.dtype, np.floating) and not np.allclose(out, np.round(out)):
            hint += ("; your single float array is not integer-valued: dividing the weights by a "
                     "power of two (seed S3-C2) only rescales them, nothing is rounded")
        raise Problem("the result is a single array", hint)
    if not isinstance(out, (tuple, list)) or len(out) != n:
        raise Problem(f"the result is {fmt(out)}, expected a tuple ({', '.join(names)})",
                      f"return {', '.join(names)}")
    return out


def _int_codes(codes, shape, lo, hi, what="codes"):
    if not isinstance(codes, np.ndarray):
        raise Problem(f"{what} is a {type(codes).__name__}, expected a numpy.ndarray",
                      "return numpy arrays (numpy in -> numpy out)")
    if codes.shape != tuple(shape):
        raise Problem(f"{what} has shape {codes.shape}, expected {tuple(shape)}",
                      "one code per input value, same shape")
    if not np.issubdtype(codes.dtype, np.integer):
        hint = "round (np.rint), then cast to an integer dtype (e.g. .astype(np.int32))"
        if np.issubdtype(codes.dtype, np.floating) and np.isfinite(codes).all() and \
                not np.array_equal(codes, np.round(codes)):
            hint = ("codes are not integers: no rounding happened (seed S3-C2 divides by 2^(b-1) "
                    "and stops there); quantize = round(r / S) (+ Z), then clip and cast")
        raise Problem(f"{what} have dtype {codes.dtype}, expected an integer dtype", hint)
    info = np.iinfo(codes.dtype)
    if info.min > lo or info.max < hi:
        raise Problem(f"{what} have dtype {codes.dtype}, which cannot hold [{lo}, {hi}]",
                      "pick an integer dtype wide enough for the code range (int32 is safe)")
    return codes.astype(np.int64)


def _arr(out, ref, what, rtol=1e-6, atol=1e-9):
    if not isinstance(out, np.ndarray):
        raise Problem(f"{what} is a {type(out).__name__}, expected a numpy.ndarray",
                      "return numpy arrays (numpy in -> numpy out)")
    if out.shape != ref.shape:
        raise Problem(f"{what} has shape {out.shape}, expected {ref.shape}", "")
    if not np.all(np.isfinite(out)):
        raise Problem(f"{what} contains NaN/inf: {fmt(out)}",
                      "guard the divisions (an all-zero channel or an empty cluster)")
    return np.allclose(out.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol)


# ============================================================================ affine_quantize
def judge_affine(args, out):
    r, bits = args
    q, s, z = _tuple(out, 3, ("codes", "scale", "zero_point"))
    qmax = 2 ** bits - 1
    wq, ws, wz = oracle_affine(r, bits)
    if not is_real_scalar(s):
        raise Problem(f"scale is {fmt(s)}, expected one real number", "per-tensor: a single scale")
    s = float(s)
    if not math.isclose(s, ws, rel_tol=1e-6):
        hint = f"S = (r_max - r_min) / (2^b - 1) with the range widened to include 0"
        lo, hi = float(np.min(r)), float(np.max(r))
        if math.isclose(s, (max(hi, 0) - min(lo, 0)) / 2 ** bits, rel_tol=1e-6):
            hint = "b bits give 2^b codes, i.e. 2^b - 1 steps: divide the range by 2^b - 1"
        elif hi > lo and math.isclose(s, (hi - lo) / qmax, rel_tol=1e-6):
            hint = ("include 0 in the range (r_min = min(min r, 0), r_max = max(max r, 0)), "
                    "otherwise 0 is not exactly representable")
        raise Problem(f"scale is {s:.6g}, expected {ws:.6g} (bits={bits})", hint)
    if isinstance(z, (float, np.floating)) and float(z) != round(float(z)):
        raise Problem(f"zero_point is {float(z):.6g}, not an integer",
                      "round the zero-point to an integer: Z = round(-r_min / S); a fractional Z "
                      "means the real value 0 is not exactly representable")
    if not is_real_scalar(z):
        raise Problem(f"zero_point is {fmt(z)}, expected an int", "return int(Z)")
    if int(z) != wz:
        hint = "Z = round(-r_min / S), clipped to [0, 2^b - 1]"
        if int(z) == 0 and wz != 0:
            hint = ("zero-point 0 with an unsigned code range clips every negative value to 0: "
                    "the zero-point Z = round(-r_min / S) shifts the grid")
        raise Problem(f"zero_point is {int(z)}, expected {wz}", hint)
    c = _int_codes(q, np.shape(r), 0, qmax)
    if (c < 0).any() or (c > qmax).any():
        raise Problem(f"a code is outside [0, {qmax}]", "clip after adding the zero-point")
    r64 = np.asarray(r, dtype=np.float64)
    x = r64 / ws + wz
    tie = np.abs(x - np.floor(x) - 0.5) < 1e-9
    bad = (c != wq) & ~(tie & (np.abs(c - wq) <= 1))
    if bad.any():
        i = int(np.argmax(bad.ravel()))
        ri, ci, want = float(r64.ravel()[i]), int(c.ravel()[i]), int(wq.ravel()[i])
        hint = "q = clip(round(r / S) + Z, 0, 2^b - 1)"
        if ci == int(np.clip(np.floor(x.ravel()[i]), 0, qmax)) or \
                ci == int(np.clip(math.trunc(ri / ws) + wz, 0, qmax)):
            hint = "truncation (astype(int) / floor) drops the fraction: round to the NEAREST code"
        raise Problem(f"value {ri:.6g} got code {ci}, expected {want}", hint)
    if (r64 == 0).any() and (c[r64 == 0] != wz).any():
        raise Problem("0 was not mapped to the zero-point", "0 must map to Z exactly")


def affine_fixed():
    return [
        ("[-1, -0.5, 0, 0.5, 1.5], 8 bits", (np.array([-1.0, -0.5, 0.0, 0.5, 1.5]), 8)),
        ("post-ReLU values >= 0 (range widened to 0), 4 bits", (np.array([0.1, 0.4, 2.0, 0.7]), 4)),
        ("all negative values, 3 bits", (np.array([-0.9, -0.2, -0.45]), 3)),
        ("2-D float32 matrix with a 0, 4 bits",
         (np.array([[0.3, -0.7, 0.0], [0.69, -0.01, 0.2]], dtype=np.float32), 4)),
        ("1 bit: codes 0 and 1", (np.array([-0.5, 0.25, 1.0]), 1)),
        ("all-zero tensor (S = 1, Z = 0 by convention)", (np.zeros((2, 3)), 8)),
    ]


def affine_hidden(rng):
    out = []
    for i in range(5):
        shape = [(int(rng.integers(3, 30)),), (int(rng.integers(2, 6)), int(rng.integers(2, 6)))][i % 2]
        r = rng.standard_normal(shape) * float(rng.choice([0.05, 1.0, 10.0])) + \
            float(rng.choice([0.0, 0.5, -2.0]))
        if i == 3:
            r = np.abs(r)
        b = int(rng.choice([2, 3, 4, 6, 8]))
        out.append((f"random shape {r.shape}, bits={b}", (r, b)))
    return out


def affine_errors():
    return [("bits = 0 must raise ValueError", (np.array([0.5, -0.25]), 0), ValueError,
             "bits = 0 leaves no code: raise ValueError naming `bits` (seed S3-C2 runs silently "
             "on any precision)")]


# ============================================================================ per_channel
def judge_per_channel(args, out):
    w, bits = args
    q, s = _tuple(out, 2, ("codes", "scales"))
    qmax = 2 ** (bits - 1) - 1
    wq, ws = oracle_per_channel(w, bits)
    if not isinstance(s, np.ndarray) or s.ndim != 1:
        hint = "return one scale per output channel as a 1-D array of length w.shape[0]"
        if is_real_scalar(s):
            hint = "a single scale is per-tensor quantization; per-channel means one per row"
        raise Problem(f"scales is {fmt(s)}, expected an array of shape {ws.shape}", hint)
    if s.shape != ws.shape:
        hint = "channels are along axis 0 (the output channels / rows of W)"
        raise Problem(f"scales has shape {s.shape}, expected {ws.shape}", hint)
    if not np.all(np.isfinite(s)) or (s <= 0).any():
        raise Problem(f"scales contain {fmt(s)}", "an all-zero channel has max|w| = 0: give it "
                      "scale 1 (its codes are 0) instead of dividing by zero")
    if not np.allclose(s, ws, rtol=1e-6):
        hint = "S_c = max|w_c| / (2^(b-1) - 1), one per row"
        m = np.abs(np.asarray(w, dtype=np.float64).reshape(len(ws), -1)).max(1)
        if np.allclose(s, np.full_like(ws, np.abs(w).max() / qmax), rtol=1e-6):
            hint = ("all scales equal the per-tensor scale max|W| / qmax: take the max per row "
                    "(axis=1 after reshaping to (C, -1))")
        elif np.allclose(s[m > 0], (m / 2 ** (bits - 1))[m > 0], rtol=1e-6):
            hint = "divide by 2^(b-1) - 1, not 2^(b-1): the symmetric grid has qmax = 2^(b-1) - 1"
        raise Problem(f"scales are {fmt(s)}, expected {fmt(ws)}", hint)
    c = _int_codes(q, np.shape(w), -qmax, qmax)
    if not np.array_equal(c, wq):
        i = int(np.argmax((c != wq).ravel()))
        hint = ("codes = clip(round(w / S_c), -qmax, qmax) with S_c broadcast along the rows "
                "(scales.reshape(-1, 1, ...))")
        raise Problem(f"code {int(c.ravel()[i])} at flat index {i}, expected {int(wq.ravel()[i])}",
                      hint)


def per_channel_fixed():
    w = np.array([[1.0, -0.5, 0.25], [0.02, -0.04, 0.01], [0.0, 0.0, 0.0]])
    w4 = ((np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2) * 7 % 11) - 5) / 10
    return [("3x3 with a tiny row and an all-zero row, 8 bits", (w, 8)),
            ("same, 4 bits", (w.copy(), 4)),
            ("4-D conv weight (2, 3, 2, 2), 8 bits", (w4, 8)),
            ("2 bits (ternary codes -1, 0, 1)", (np.array([[0.9, -0.2, 0.5], [-3.0, 1.6, 0.1]]), 2))]


def per_channel_hidden(rng):
    out = []
    for i in range(5):
        shape = [(int(rng.integers(2, 8)), int(rng.integers(2, 8))),
                 tuple(int(x) for x in rng.integers(1, 4, size=4))][i % 2]
        w = rng.standard_normal(shape) * rng.choice([0.01, 1.0, 5.0], size=(shape[0],) + (1,) * (len(shape) - 1))
        b = int(rng.choice([2, 3, 4, 8]))
        out.append((f"random shape {w.shape}, bits={b}", (w, b)))
    return out


# ============================================================================ integer requant
def judge_requant(args, out):
    x_q, w_q, bias_q, M, z_y = args
    y, m0, shift = _tuple(out, 3, ("y_q", "m0", "shift"))
    wy, wm0, wsh = oracle_requant(*args)
    for name, v, want in (("m0", m0, wm0), ("shift", shift, wsh)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise Problem(f"{name} is {fmt(v)}, expected an int",
                          "M = m0 · 2^(-31-shift) with an INTEGER multiplier m0 in [2^30, 2^31) "
                          "(math.frexp gives the mantissa in [0.5, 1) and the exponent)")
        if int(v) != want:
            raise Problem(f"{name} is {int(v)}, expected {want} for M = {M!r}",
                          "mant, exp = math.frexp(M); m0 = round(mant * 2**31) (if it reaches "
                          "2**31: halve it and exp += 1); shift = -exp")
    if not isinstance(y, np.ndarray) or y.shape != wy.shape:
        raise Problem(f"y_q is {fmt(y)}, expected an array of shape {wy.shape}",
                      "y has one row per input row and one column per output channel")
    if y.dtype != np.int8:
        hint = "return int8 codes (.astype(np.int8) after clipping to [-128, 127])"
        if np.issubdtype(y.dtype, np.floating):
            hint = "integer-only: the result is int8, no float arithmetic"
        raise Problem(f"y_q has dtype {y.dtype}, expected int8", hint)
    if np.array_equal(y, wy):
        return
    hint = ("acc = x_q·w_qᵀ + bias_q in int32/int64; y = (acc·m0 + 2^(30+shift)) >> (31+shift); "
            "y = clip(y + z_y, -128, 127)")
    alts = [(dict(clip=False), "values wrapped around: saturate (np.clip to [-128, 127]) BEFORE "
                               "casting to int8"),
            (dict(rounding=False), "the right shift truncates: add half, 2^(30+shift), before "
                                   "shifting (round to nearest)"),
            (dict(bias=False), "the int32 bias is missing from the accumulator"),
            (dict(zp=False), "the output zero-point z_y is missing (add it after the shift)"),
            (dict(integer=False), "float arithmetic (round(acc·M)) differs from the integer "
                                  "recipe: multiply by the integer m0 and shift right")]
    for kw, h in alts:
        if np.array_equal(y, oracle_requant(*args, **kw)[0]):
            hint = h
            break
    i = int(np.argmax((y != wy).ravel()))
    raise Problem(f"y_q[{np.unravel_index(i, wy.shape)}] = {int(y.ravel()[i])}, expected "
                  f"{int(wy.ravel()[i])}", hint)


def requant_fixed():
    x = np.array([[10, -20, 30], [127, 127, 127]], dtype=np.int8)
    w = np.array([[1, 2, 3], [-4, 5, -6]], dtype=np.int8)
    return [
        ("2x3 by 2 channels, M = 0.05, z_y = 3", (x, w, np.array([100, -50], dtype=np.int32), 0.05, 3)),
        ("a tie in real arithmetic: acc = ±15, M = 0.1 (integer recipe gives ±1)",
         (np.array([[15], [-15]], dtype=np.int8), np.array([[1]], dtype=np.int8),
          np.array([0], dtype=np.int32), 0.1, 0)),
        ("large accumulator saturates at 127 / -128",
         (np.full((1, 8), 127, dtype=np.int8), np.array([[127] * 8, [-127] * 8], dtype=np.int8),
          np.array([0, 0], dtype=np.int32), 0.01, 0)),
        ("bias only matters: zero input", (np.zeros((2, 4), dtype=np.int8),
                                           np.ones((3, 4), dtype=np.int8),
                                           np.array([1000, -1000, 37], dtype=np.int32), 0.002, -5)),
        ("tiny multiplier M = 3e-6", (x.copy(), w.copy(), np.array([7, 7], dtype=np.int32), 3e-6, 1)),
    ]


def requant_hidden(rng):
    out = []
    for _ in range(5):
        n, k, c = (int(v) for v in rng.integers(1, 9, size=3))
        x = rng.integers(-128, 128, size=(n, k)).astype(np.int8)
        w = rng.integers(-127, 128, size=(c, k)).astype(np.int8)
        b = rng.integers(-5000, 5000, size=c).astype(np.int32)
        M = float(rng.uniform(1e-4, 0.02))
        z = int(rng.integers(-20, 20))
        out.append((f"random x {x.shape}, w {w.shape}, M={M:.4g}, z_y={z}", (x, w, b, M, z)))
    return out


# ============================================================================ fake quant
def judge_fake_quant(args, out):
    w, bits, alpha, g = args
    fwd, grad = _tuple(out, 2, ("w_hat", "grad_w"))
    wf, wg = oracle_fake_quant(*args)
    qmax = 2 ** (bits - 1) - 1
    if not _arr(fwd, wf, "w_hat", rtol=1e-5, atol=1e-7):
        s = alpha / qmax
        hint = "w_hat = S · clip(round(w / S), -qmax, qmax) with S = alpha / (2^(b-1) - 1)"
        if isinstance(fwd, np.ndarray) and np.allclose(fwd, np.clip(w, -alpha, alpha)):
            hint = "nothing is rounded (only clipped): the forward pass must round onto the grid"
        elif isinstance(fwd, np.ndarray) and np.allclose(fwd, np.clip(np.rint(w / s), -qmax, qmax)):
            hint = "these are the integer codes: fake quantization returns S · codes (dequantized)"
        elif isinstance(fwd, np.ndarray) and np.allclose(fwd, w / 2 ** (bits - 1)):
            hint = "dividing by 2^(b-1) (seed S3-C2) is not quantization"
        raise Problem(f"w_hat is {fmt(fwd)}, expected {fmt(wf)}", hint)
    if not _arr(grad, wg, "grad_w"):
        hint = "STE: grad_w = grad_out where |w| <= alpha (inside the clipping range), else 0"
        if isinstance(grad, np.ndarray) and not np.any(grad):
            hint = ("all zero: that is the true derivative of round(); the straight-through "
                    "estimator passes grad_out through the rounding unchanged")
        elif isinstance(grad, np.ndarray) and np.allclose(grad, g):
            hint = ("values clipped at ±alpha get no gradient: multiply grad_out by "
                    "(|w| <= alpha)")
        raise Problem(f"grad_w is {fmt(grad)}, expected {fmt(wg)}", hint)


def fake_quant_fixed():
    w = np.array([-1.5, -0.31, 0.0, 0.12, 0.49, 0.9, 2.0])
    g = np.array([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7])
    return [("7 values, 3 bits, alpha = 1 (two clipped)", (w, 3, 1.0, g)),
            ("same, 8 bits", (w.copy(), 8, 1.0, g.copy())),
            ("2-D float32, 4 bits, alpha 0.5",
             (np.array([[0.26, -0.61], [0.07, 0.33]], dtype=np.float32), 4, 0.5,
              np.ones((2, 2), dtype=np.float32))),
            ("2 bits = ternary {-a, 0, a}", (np.array([-0.8, -0.2, 0.3, 0.7, 1.4]), 2, 1.0,
                                             np.array([1.0, 2.0, 3.0, 4.0, 5.0])))]


def fake_quant_hidden(rng):
    out = []
    for _ in range(5):
        b = int(rng.choice([2, 3, 4, 8]))
        alpha = float(rng.uniform(0.3, 2.0))
        s = alpha / (2 ** (b - 1) - 1)
        w = rng.standard_normal(int(rng.integers(4, 20))) * alpha
        near = (np.abs(w) > alpha) & (np.abs(w) < alpha + s)   # ambiguous zone: move out
        w = np.where(near, np.sign(w) * (alpha + 1.5 * s), w)
        g = rng.standard_normal(w.shape)
        out.append((f"random {w.size} values, bits={b}, alpha={alpha:.3f}", (w, b, alpha, g)))
    return out


# ============================================================================ k-means
def judge_kmeans(args, out):
    w, bits, iters = args
    c, lab = _tuple(out, 2, ("centroids", "labels"))
    wc, wl = oracle_kmeans(*args)
    if not _arr(c, wc, "centroids", rtol=1e-7):
        hint = ("initialise the 2^b centroids evenly from min(w) to max(w) (np.linspace), then "
                "repeat `iters` times: assign each weight to its nearest centroid, move each "
                "centroid to the mean of its weights (an empty cluster keeps its value)")
        if isinstance(c, np.ndarray) and c.shape == wc.shape and np.allclose(
                c, np.linspace(np.min(w), np.max(w), wc.size)):
            hint = "the centroids never moved: update each to the mean of its assigned weights"
        raise Problem(f"centroids are {fmt(c)}, expected {fmt(wc)}", hint)
    li = _int_codes(lab, np.shape(w), 0, wc.size - 1, "labels")
    if not np.array_equal(li, wl):
        raise Problem(f"labels are {fmt(lab)}, expected {fmt(wl)}",
                      "labels = index of the nearest FINAL centroid (assign again after the last "
                      "update)")


def kmeans_fixed():
    w = np.array([0.0, 0.1, 0.2, 1.0, 1.1, 3.0, 3.2, 2.9])
    return [("8 values, 2 bits (4 clusters), 5 iterations", (w, 2, 5)),
            ("1 bit, 1 iteration", (w.copy(), 1, 1)),
            ("2-D weights, 2 bits, 10 iterations (an empty cluster keeps its value)",
             (np.array([[-1.0, -0.9, 0.95], [1.0, 1.05, -0.95]]), 2, 10)),
            ("0 iterations: the linear initialisation itself", (w.copy(), 2, 0))]


def kmeans_hidden(rng):
    out = []
    for _ in range(5):
        w = np.concatenate([rng.normal(m, 0.1, int(rng.integers(3, 12)))
                            for m in rng.uniform(-2, 2, size=int(rng.integers(2, 5)))])
        b = int(rng.choice([1, 2, 3]))
        it = int(rng.integers(1, 8))
        out.append((f"random {w.size} weights, bits={b}, iters={it}", (w, b, it)))
    return out


# ============================================================================ codebook step
def judge_codebook(args, out):
    c, lab, g, lr = args
    want = oracle_codebook_step(*args)
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if isinstance(out, np.ndarray) and out.shape == lab.shape and out.shape != want.shape:
        raise Problem(f"the result has the weights' shape {out.shape}",
                      "one update per centroid: return the new codebook of shape "
                      f"{want.shape}, not updated weights")
    if _arr(out, want, "the new centroids"):
        return
    hint = "c_k <- c_k - lr * (sum of the gradients of the weights labelled k)"
    cnt = np.bincount(lab.ravel(), minlength=c.size)
    mean = c - lr * np.bincount(lab.ravel(), weights=g.ravel(), minlength=c.size) / np.maximum(cnt, 1)
    if np.allclose(out, mean):
        hint = ("you averaged the gradients; Han et al. 2016 SUM them per cluster "
                "(the derivative of the loss with respect to a shared value)")
    elif np.allclose(out, c + lr * np.bincount(lab.ravel(), weights=g.ravel(), minlength=c.size)):
        hint = "gradient DEscent: subtract lr * gradient"
    raise Problem(f"got {fmt(out)}, expected {fmt(want)}", hint)


def codebook_fixed():
    c = np.array([-1.0, 0.0, 2.0])
    lab = np.array([[0, 2, 2], [1, 0, 2]])
    g = np.array([[0.1, 0.2, 0.3], [0.4, -0.5, 0.6]])
    return [("3 centroids, 6 weights, lr 0.1", (c, lab, g, 0.1)),
            ("a centroid with no weight does not move", (np.array([1.0, 5.0, 9.0]),
                                                         np.array([0, 0, 2]),
                                                         np.array([1.0, 1.0, -2.0]), 0.5)),
            ("lr = 0 changes nothing", (c.copy(), lab.copy(), g.copy(), 0.0))]


def codebook_hidden(rng):
    out = []
    for _ in range(5):
        k = int(rng.choice([2, 4, 8, 16]))
        c = np.sort(rng.standard_normal(k))
        shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
        lab = rng.integers(0, k, size=shape)
        g = rng.standard_normal(shape)
        lr = float(rng.choice([0.01, 0.1, 1.0]))
        out.append((f"random k={k}, weights {shape}, lr={lr}", (c, lab, g, lr)))
    return out


# ============================================================================ registry
EXERCISES = [
    Exercise("affine_quantize",
             "affine quantization: codes in [0, 2^b-1], scale over a range that includes 0, "
             "integer zero-point", "f(r: np.ndarray, bits: int) -> (codes, scale: float, "
             "zero_point: int)", affine_fixed, affine_hidden, judge_affine, affine_errors,
             points=8, notebook=NOTEBOOK, topic="affine quantize with zero-point",
             library=("pruninglab.quantization.linear.quantize", "pruninglab.quantization.linear.qparams")),
    Exercise("per_channel_quantize", "symmetric codes with one scale per output channel (axis 0)",
             "f(w: np.ndarray, bits: int) -> (codes, scales: np.ndarray of shape (C,))",
             per_channel_fixed, per_channel_hidden, judge_per_channel, points=6,
             notebook=NOTEBOOK, topic="per-channel scales",
             library=("pruninglab.quantization.linear.quantize", "pruninglab.quantization.linear.qparams")),
    Exercise("integer_requant_linear",
             "integer-only linear layer: int8 x int8 -> int32 (+bias) -> M0·2^(-31-shift) "
             "requantization -> int8", "f(x_q, w_q, bias_q, M: float, z_y: int) -> "
             "(y_q: int8 array, m0: int, shift: int)", requant_fixed, requant_hidden,
             judge_requant, points=15, notebook=NOTEBOOK,
             topic="integer-only linear layer (Jacob et al. 2018)",
             library=("pruninglab.quantization.model.integer_linear", "pruninglab.quantization.model.quantize_multiplier")),
    Exercise("fake_quant_ste",
             "fake quantization forward value and straight-through-estimator gradient",
             "f(w, bits: int, alpha: float, grad_out) -> (w_hat, grad_w)", fake_quant_fixed,
             fake_quant_hidden, judge_fake_quant, points=8, notebook=NOTEBOOK,
             topic="fake-quant + STE",
             library=("pruninglab.quantization.fake_quant.fake_quantize", "pruninglab.quantization.linear.quantize_dequantize")),
    Exercise("kmeans_codebook", "k-means weight sharing with linear initialisation (Han et al. 2016)",
             "f(w, bits: int, iters: int) -> (centroids (2^b,), labels (w.shape))", kmeans_fixed,
             kmeans_hidden, judge_kmeans, points=10, notebook=NOTEBOOK, topic="k-means codebook",
             library=("pruninglab.quantization.kmeans.kmeans_quantize",)),
    Exercise("codebook_step", "centroid fine-tuning: gradients summed per cluster",
             "f(centroids, labels, grad, lr) -> new centroids", codebook_fixed, codebook_hidden,
             judge_codebook, points=5, notebook=NOTEBOOK, topic="codebook fine-tuning step",
             library=("pruninglab.quantization.kmeans.finetune_codebook_",)),
]


# ============================================================================ mutants
def _s3c2_affine(r, bits):                       # seed S3-C2: sign(w)*|w|/2^(p-1), nothing else
    return np.sign(r) * (np.abs(r) / (2 ** (bits - 1)))


def _s3c2_affine_triple(r, bits):
    return np.sign(r) * (np.abs(r) / (2 ** (bits - 1))), float(2 ** (bits - 1)), 0


def _no_zero_point(r, bits):
    q, s, _ = oracle_affine(r, bits)
    return np.clip(np.rint(np.asarray(r) / s), 0, 2 ** bits - 1).astype(np.int32), s, 0


def _float_zero_point(r, bits):
    q, s, z = oracle_affine(r, bits)
    lo = min(float(np.min(r)), 0.0)
    return q, s, -lo / s + 0.3 * (abs(lo) > 0)


def _over_2b(r, bits):
    lo, hi = min(float(np.min(r)), 0.0), max(float(np.max(r)), 0.0)
    s = (hi - lo) / 2 ** bits or 1.0
    z = int(np.clip(np.rint(-lo / s), 0, 2 ** bits - 1))
    return np.clip(np.rint(np.asarray(r) / s) + z, 0, 2 ** bits - 1).astype(np.int32), s, z


def _truncate(r, bits):
    q, s, z = oracle_affine(r, bits)
    return np.clip(np.trunc(np.asarray(r, dtype=np.float64) / s) + z, 0, 2 ** bits - 1).astype(np.int32), s, z


def _s3c2_precision1(r, bits):                   # S3-C2: precision=1 returns the input unchanged
    return (np.asarray(r) / 2 ** (bits - 1)).astype(np.int32), 1.0, 0


def _pc_per_tensor(w, bits):
    qmax = 2 ** (bits - 1) - 1
    s = np.abs(w).max() / qmax or 1.0
    return np.clip(np.rint(w / s), -qmax, qmax).astype(np.int32), np.full(w.shape[0], s)


def _pc_over_2b(w, bits):
    m = np.abs(w.reshape(w.shape[0], -1)).max(1)
    s = np.where(m == 0, 1.0, m / 2 ** (bits - 1))
    q = np.clip(np.rint(w / s.reshape((-1,) + (1,) * (w.ndim - 1))), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return q.astype(np.int32), s


def _pc_nan(w, bits):
    with np.errstate(all="ignore"):
        m = np.abs(w.reshape(w.shape[0], -1)).max(1)
        s = m / (2 ** (bits - 1) - 1)
        q = np.nan_to_num(np.rint(w / s.reshape((-1,) + (1,) * (w.ndim - 1)))).astype(np.int32)
    return q, s


def _rq_float(x, w, b, M, z):
    return oracle_requant(x, w, b, M, z, integer=False)


def _rq_wrap(x, w, b, M, z):
    return oracle_requant(x, w, b, M, z, clip=False)


def _rq_trunc(x, w, b, M, z):
    return oracle_requant(x, w, b, M, z, rounding=False)


def _rq_nobias(x, w, b, M, z):
    return oracle_requant(x, w, b, M, z, bias=False)


def _rq_float_m0(x, w, b, M, z):
    y, _, _ = oracle_requant(x, w, b, M, z)
    return y, float(M), 0


def _fq_zero_grad(w, bits, alpha, g):
    return oracle_fake_quant(w, bits, alpha, g)[0], np.zeros_like(g)


def _fq_no_mask(w, bits, alpha, g):
    return oracle_fake_quant(w, bits, alpha, g)[0], g.copy()


def _fq_s3c2(w, bits, alpha, g):
    return w / 2 ** (bits - 1), g.copy()


def _fq_codes(w, bits, alpha, g):
    qmax = 2 ** (bits - 1) - 1
    return np.clip(np.rint(w / (alpha / qmax)), -qmax, qmax).astype(w.dtype), \
        oracle_fake_quant(w, bits, alpha, g)[1]


def _km_no_update(w, bits, iters):
    v = np.asarray(w, dtype=np.float64).ravel()
    c = np.linspace(v.min(), v.max(), 2 ** bits)
    return c, _nearest(v, c).reshape(np.shape(w))


def _km_stale_labels(w, bits, iters):
    c, _ = oracle_kmeans(w, bits, iters)
    _, lab = oracle_kmeans(w, bits, max(iters - 1, 0))
    return c, lab


def _cb_mean(c, lab, g, lr):
    cnt = np.bincount(lab.ravel(), minlength=c.size)
    return c - lr * np.bincount(lab.ravel(), weights=g.ravel(), minlength=c.size) / np.maximum(cnt, 1)


def _cb_ascent(c, lab, g, lr):
    return c + lr * np.bincount(lab.ravel(), weights=g.ravel(), minlength=c.size)


def _cb_per_weight(c, lab, g, lr):
    return c[lab] - lr * g


MUTANTS = {
    "affine_quantize": [
        ("S3-C2 scaling, single array", lambda: _s3c2_affine, "S3-C2"),
        ("S3-C2 scaling as (codes, scale, zp)", lambda: _s3c2_affine_triple, "S3-C2"),
        ("S3-C2 precision=1 unchanged / no rounding", lambda: _s3c2_precision1, "scale"),
        ("no zero-point", lambda: _no_zero_point, "zero-point"),
        ("fractional zero-point", lambda: _float_zero_point, "not exactly representable"),
        ("divides by 2^b", lambda: _over_2b, "2^b - 1"),
        ("truncation", lambda: _truncate, "NEAREST"),
    ],
    "per_channel_quantize": [
        ("per-tensor scale", lambda: _pc_per_tensor, "per-tensor"),
        ("divides by 2^(b-1)", lambda: _pc_over_2b, "2^(b-1) - 1"),
        ("all-zero channel divides by zero", lambda: _pc_nan, "all-zero channel"),
    ],
    "integer_requant_linear": [
        ("float requantization", lambda: _rq_float, "float arithmetic"),
        ("no saturation (wraps)", lambda: _rq_wrap, "saturate"),
        ("truncating shift", lambda: _rq_trunc, "truncates"),
        ("bias forgotten", lambda: _rq_nobias, "bias"),
        ("float multiplier returned", lambda: _rq_float_m0, "INTEGER multiplier"),
    ],
    "fake_quant_ste": [
        ("true gradient of round (zero)", lambda: _fq_zero_grad, "straight-through"),
        ("no clipping mask", lambda: _fq_no_mask, "clipped"),
        ("S3-C2 scaling as the forward pass", lambda: _fq_s3c2, "S3-C2"),
        ("returns codes, not S·codes", lambda: _fq_codes, "dequantized"),
    ],
    "kmeans_codebook": [
        ("centroids never updated", lambda: _km_no_update, "never moved"),
        ("labels from before the last update", lambda: _km_stale_labels, "FINAL"),
    ],
    "codebook_step": [
        ("mean instead of sum", lambda: _cb_mean, "SUM"),
        ("gradient ascent", lambda: _cb_ascent, "DEscent"),
        ("updates every weight", lambda: _cb_per_weight, "one update per centroid"),
    ],
}
