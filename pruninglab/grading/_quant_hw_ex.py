"""Judges and cases for symmetric_quantize, agp_sparsity and csr_bytes (independent oracles)."""
from __future__ import annotations

import math

import numpy as np

from ._common import Problem, fmt, is_real_scalar

# ---------------------------------------------------------------------------- symmetric_quantize

def judge_symmetric(args, out):
    w, bits = args
    qmax = 2 ** (bits - 1) - 1
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if isinstance(out, np.ndarray):
        hint = "return a pair (codes, scale)"
        if np.issubdtype(out.dtype, np.floating) and not np.allclose(out, np.round(out)):
            hint += ("; your single float array is not even integer-valued: dividing by 2^(b-1) "
                     "only rescales the weights (seed S3-C2), it does not quantize them")
        raise Problem("the result is a single array, expected a tuple (codes, scale)", hint)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem(f"the result is {fmt(out)}, expected a tuple (codes, scale)",
                      "return codes, scale")
    codes, scale = out
    if not isinstance(codes, np.ndarray):
        raise Problem(f"codes is a {type(codes).__name__}, expected a numpy.ndarray",
                      "return numpy arrays (numpy in -> numpy out)")
    if codes.shape != w.shape:
        raise Problem(f"codes has shape {codes.shape}, expected {w.shape}", "one code per weight")
    if not is_real_scalar(scale):
        raise Problem(f"scale is {fmt(scale)}, expected one real number",
                      "per-tensor symmetric quantization has a single scale = max|w| / (2^(b-1)-1)")
    scale = float(scale)
    if not np.issubdtype(codes.dtype, np.integer):
        if np.issubdtype(codes.dtype, np.floating) and np.isfinite(codes).all() and \
                not np.array_equal(codes, np.round(codes)):
            hint = ("codes are not integers: scaling the weights (e.g. np.sign(w)*|w|/2^(b-1), "
                    "seed S3-C2) is not quantization. Quantize = round(w / scale) onto the "
                    f"integer grid -{qmax}..{qmax}, then store as an integer dtype")
        elif np.issubdtype(codes.dtype, np.floating) and not np.isfinite(codes).all():
            hint = ("codes contain NaN/inf: with an all-zero tensor max|w| = 0, so w/scale divides "
                    "by zero; handle that case (all codes 0)")
        else:
            hint = "round, then cast to an integer dtype, e.g. .astype(np.int32)"
        raise Problem(f"codes have dtype {codes.dtype}, expected an integer dtype", hint)
    if np.iinfo(codes.dtype).max < qmax:
        raise Problem(f"codes have dtype {codes.dtype} (max {np.iinfo(codes.dtype).max}) but "
                      f"{bits}-bit codes reach {qmax}",
                      f"dtype {codes.dtype} cannot hold {bits}-bit codes (values wrap around); "
                      "pick the integer dtype from the bit-width (int8 up to 8 bits, int16 up to "
                      "16, else int32)")
    maxabs = float(np.abs(w).max()) if w.size else 0.0
    if maxabs == 0:
        if not (np.isfinite(scale) and scale >= 0):
            raise Problem(f"all-zero input gave scale {scale}", "return a finite scale (0 or 1)")
        if (codes != 0).any():
            raise Problem(f"all-zero input gave codes {fmt(codes)}", "all codes must be 0")
        return
    want_scale = maxabs / qmax
    c64 = codes.astype(np.int64)
    if not math.isclose(scale, want_scale, rel_tol=1e-5):
        hint = f"scale = max|w| / (2^(b-1) - 1) = {maxabs:.6g} / {qmax}"
        if math.isclose(scale, maxabs / 2 ** (bits - 1), rel_tol=1e-5):
            hint += ("; you divided by 2^(b-1): the symmetric grid has 2^(b-1)-1 positive levels "
                     "so that -q and +q are both representable")
        elif math.isclose(scale, 2 * maxabs / (2 ** bits - 1), rel_tol=1e-5):
            hint += "; you used the affine (min/max over 2^b - 1 levels) scale, not the symmetric one"
        elif math.isclose(scale, 1 / want_scale, rel_tol=1e-5):
            hint += "; you returned the reciprocal (w = codes * scale)"
        raise Problem(f"scale is {scale:.6g}, expected {want_scale:.6g} (bits={bits})", hint)
    if (np.abs(c64) > qmax).any():
        bad = int(c64.flat[np.argmax(np.abs(c64))])
        hint = f"codes must lie in [-{qmax}, {qmax}] for {bits} bits (clip after rounding)"
        if codes.dtype.itemsize * 8 < bits:
            hint += f"; dtype {codes.dtype} cannot hold {bits}-bit codes (it wraps around)"
        raise Problem(f"code {bad} is outside [-{qmax}, {qmax}]", hint)
    err = np.abs(c64 * want_scale - w.astype(np.float64))
    tol = want_scale / 2 * (1 + 1e-5) + 1e-7 * maxabs
    if (err > tol).any():
        i = int(np.argmax(err))
        wi, ci = float(w.ravel()[i]), int(c64.ravel()[i])
        hint = "use np.round(w / scale); |codes*scale - w| must not exceed scale/2"
        if ci == math.trunc(wi / want_scale):
            hint = ("truncation: astype(int) / np.trunc / np.floor drop the fraction; round to the "
                    "NEAREST level with np.round before casting")
        elif (c64 == 0).all():
            hint = "all codes are 0: did you cast w (not w/scale) to int?"
        raise Problem(f"weight {wi:.6g} got code {ci}: code*scale = {ci * want_scale:.6g}, "
                      f"error {err.ravel()[i]:.3g} > scale/2 = {want_scale / 2:.3g}", hint)


def symmetric_cases_fixed():
    w = np.array([0.5, -1.27, 0.02, 1.0])
    w2 = np.array([[0.3, -0.7, 0.05], [0.69, -0.01, 0.2]])
    w4 = ((np.arange(36, dtype=np.float32).reshape(3, 2, 2, 3) * 7 % 13) - 6) / 10
    return [
        ("8 bits: scale = 1.27/127 = 0.01", (w, 8)),
        ("2 bits (ternary codes -1, 0, 1)", (w.copy(), 2)),
        ("4 bits on a 2-D matrix", (w2, 4)),
        ("4-D float32 conv weight, 8 bits", (w4, 8)),
        ("16 bits (codes up to 32767)", (w2.copy(), 16)),
        ("all-zero tensor (max|w| = 0), 8 bits", (np.zeros((2, 3)), 8)),
    ]


def symmetric_error_cases():
    return [("bits = 1 leaves no nonzero level (2^0 - 1 = 0): must raise ValueError",
             (np.array([0.5, -0.25]), 1), ValueError,
             "with bits=1 the symmetric grid is {0} only and scale = max|w|/0; raise ValueError "
             "naming `bits` instead of returning inf/NaN")]


def symmetric_cases_hidden(rng):
    cases = []
    for i in range(5):
        shape = [(int(rng.integers(3, 40)),), (int(rng.integers(2, 7)), int(rng.integers(2, 7))),
                 tuple(int(x) for x in rng.integers(1, 4, size=4))][i % 3]
        w = (rng.standard_normal(shape) * float(rng.choice([0.01, 1.0, 20.0]))).astype(
            rng.choice([np.float32, np.float64]))
        bits = int(rng.choice([2, 3, 4, 6, 8, 12]))
        cases.append((f"random {w.dtype} shape {w.shape}, bits={bits}", (w, bits)))
    return cases


# ---------------------------------------------------------------------------- agp_sparsity

def agp_oracle(step, initial, final, start, n_steps, interval, held=False):
    """Zhu & Gupta 2017: s_t = s_f + (s_i - s_f) (1 - (t - t0)/(n dt))^3, clamped."""
    end = start + n_steps * interval
    if step <= start:
        return float(initial)
    if step >= end:
        return float(final)
    t = step - start
    if held:
        t = (t // interval) * interval
    return float(final + (initial - final) * (1 - t / (n_steps * interval)) ** 3)


def judge_agp(args, out):
    step, s_i, s_f, t0, n, dt = args
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not is_real_scalar(out) or isinstance(out, np.ndarray):
        raise Problem(f"the result is {fmt(out)}, expected a float",
                      "return one number, e.g. float(...)")
    v = float(out)
    exact = agp_oracle(*args)
    held = agp_oracle(*args, held=True)
    if math.isclose(v, exact, abs_tol=1e-9) or math.isclose(v, held, abs_tol=1e-9):
        return
    end = t0 + n * dt
    want = f"{exact:.6g}" if math.isclose(exact, held) else \
        f"{held:.6g} (held since the last update) or {exact:.6g} (continuous)"
    p = min(max((step - t0) / (n * dt), 0.0), 1.0)
    hint = ("s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (n*dt))**3, equal to s_i up to t0 and to "
            "s_f from t0 + n*dt on")
    raw = (step - t0) / (n * dt)
    if math.isclose(v, s_i + (s_f - s_i) * p, abs_tol=1e-9):
        hint = "this is a LINEAR ramp; AGP is cubic: it prunes fast early and slowly at the end"
    elif math.isclose(v, s_i + (s_f - s_i) * p ** 3, abs_tol=1e-9):
        hint = ("the cube is on the wrong term: s_i + (s_f-s_i)*p^3 prunes slowly at first; Zhu & "
                "Gupta use s_f + (s_i-s_f)*(1-p)^3, fast at first")
    elif (step < t0 or step > end) and math.isclose(v, s_f + (s_i - s_f) * (1 - raw) ** 3,
                                                    abs_tol=1e-9):
        hint = f"clamp: before step {t0} return s_i, after step {end} return s_f"
    elif 0 < p < 1 and math.isclose(v, s_f + (s_i - s_f) * max(1 - (step - t0) / n, 0) ** 3,
                                    abs_tol=1e-9):
        hint = "the schedule lasts n_steps * interval steps: divide (t - t0) by n*interval"
    elif math.isclose(v, s_f if step >= end else s_i, abs_tol=1e-9) and 0 < p < 1:
        hint = ("you jump from s_i to s_f at the end: pruning once after training (seed S2-C4) is "
                "not gradual pruning")
    raise Problem(f"step={step}, initial={s_i}, final={s_f}, start={t0}, n_steps={n}, "
                  f"interval={dt}: got {v:.6g}, expected {want}", hint)


def agp_cases_fixed():
    base = (0.0, 0.8, 100, 10, 10)
    return [(f"step {s} (start 100, end 200, 0 -> 0.8)", (s,) + base) for s in
            (0, 100, 120, 150, 200, 500)] + [
        ("off-grid step 155 (held or continuous accepted)", (155,) + base),
        ("initial 0.5 -> final 0.9, step 30 of [10, 50]", (30, 0.5, 0.9, 10, 4, 10)),
        ("initial == final is constant", (40, 0.6, 0.6, 10, 4, 10)),
        ("n_steps = 1, interval 1: one update", (6, 0.0, 0.5, 5, 1, 1)),
    ]


def agp_cases_hidden(rng):
    cases = []
    for _ in range(5):
        s_i = float(rng.choice([0.0, 0.1, 0.3]))
        s_f = float(rng.choice([0.5, 0.75, 0.9, 0.95]))
        t0, n, dt = int(rng.integers(0, 200)), int(rng.integers(1, 20)), int(rng.integers(1, 50))
        step = int(t0 + dt * rng.integers(-2, n + 3))
        cases.append((f"random step {step}, {s_i} -> {s_f}, start {t0}, n {n}, interval {dt}",
                      (step, s_i, s_f, t0, n, dt)))
    return cases


# ---------------------------------------------------------------------------- csr_bytes

def csr_oracle(w, value_bits, index_bits):
    rows = w.shape[0] if w.ndim > 1 else 1
    nnz = int(np.count_nonzero(w))
    bits = nnz * (value_bits + index_bits) + (rows + 1) * index_bits
    return -(-bits // 8)


def judge_csr(args, out):
    w, vb, ib = args
    want = csr_oracle(w, vb, ib)
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, np.integer)):
        hint = "return an int number of bytes"
        if isinstance(out, (float, np.floating)):
            hint += (f"; {float(out)!r} is a float: round partial bytes UP with math.ceil "
                     "(or -(-bits // 8)) and return int")
        raise Problem(f"the result is {fmt(out)}, expected an int", hint)
    v = int(out)
    if v == want:
        return
    rows = w.shape[0] if w.ndim > 1 else 1
    cols = w.size // rows
    nnz = int(np.count_nonzero(w))
    bits = nnz * (vb + ib) + (rows + 1) * ib
    hint = ("CSR stores nnz values (value_bits each), nnz column indices (index_bits each) and "
            "rows+1 row pointers (index_bits each); bytes = ceil(total_bits / 8)")
    alts = {
        -(-(nnz * (vb + ib) + rows * ib) // 8): "the row-pointer array has rows + 1 entries, not rows",
        -(-(w.size * vb) // 8): ("you counted every entry (dense storage); CSR stores only the "
                                 "nonzeros plus their indices"),
        bits // 8: "partial bytes must be rounded UP (ceil), not down",
        bits: "you returned bits; divide by 8 (rounding up) to get bytes",
        -(-(nnz * (vb + ib) + (cols + 1) * ib) // 8): ("you used columns + 1 pointers: that is CSC; "
                                                       "CSR has one pointer per row plus one"),
        -(-(nnz * vb + (rows + 1) * ib) // 8): "the column index of every nonzero is missing",
        -(-(nnz * (vb + ib)) // 8): "the row-pointer array (rows + 1 entries) is missing",
    }
    if bits % 8 and v == -(-(nnz * vb) // 8) + -(-(nnz * ib) // 8) + -(-((rows + 1) * ib) // 8):
        hint = "round up once for the whole packed stream (ceil(total_bits/8)), not per array"
    elif v in alts and alts[v]:
        hint = alts[v]
    raise Problem(f"matrix {w.shape} with nnz={nnz}, value_bits={vb}, index_bits={ib}: got {v}, "
                  f"expected {want} bytes", hint)


def csr_cases_fixed():
    m = np.array([[0, 1.5, 0, 0], [2.0, 0, 0, -1.0], [0, 0, 0, 0]])
    w4 = np.zeros((2, 3, 2, 2))
    w4[0, 1, 0, 1] = 1.0
    w4[1, 2, 1, 1] = -2.0
    w4[1, 0, 0, 0] = 0.5
    return [
        ("3x4 matrix, 3 nonzeros, fp32 values + 32-bit indices", (m, 32, 32)),
        ("same matrix, int8 values + 16-bit indices", (m.copy(), 8, 16)),
        ("4-bit values + 5-bit indices: 47 bits round up to 6 bytes", (m.copy(), 4, 5)),
        ("all-zero 3x5 (only the row pointers remain)", (np.zeros((3, 5)), 8, 16)),
        ("1-D vector is a single row", (np.array([0.0, 3.0, 0.0, 4.0]), 8, 8)),
        ("4-D conv weight (2, 3, 2, 2) seen as 2 rows of 12", (w4, 16, 8)),
        ("1-bit (binary) values", (m.copy(), 1, 8)),
        ("50 % dense 4x8: CSR is BIGGER than dense int8", (np.tile([1.0, 0.0], (4, 4)), 8, 16)),
    ]


def csr_cases_hidden(rng):
    cases = []
    for i in range(5):
        shape = [(int(rng.integers(1, 10)), int(rng.integers(1, 12))), (int(rng.integers(2, 30)),),
                 tuple(int(x) for x in rng.integers(1, 4, size=4))][i % 3]
        w = rng.standard_normal(shape) * (rng.random(shape) < rng.uniform(0, 1))
        vb, ib = int(rng.choice([1, 4, 8, 16, 32])), int(rng.choice([4, 5, 8, 16, 32]))
        cases.append((f"random shape {w.shape}, nnz={np.count_nonzero(w)}, value_bits={vb}, "
                      f"index_bits={ib}", (w, vb, ib)))
    return cases
