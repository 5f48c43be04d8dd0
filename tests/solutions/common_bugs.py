"""Classic learner mistakes (not from the seeds), each with a word its hint must contain."""
from types import SimpleNamespace

import numpy as np

from . import reference as _reference

# the reference functions some mistakes build on, read from the notebook sources
R = SimpleNamespace(**{e: _reference(e) for e in ("magnitude_prune", "n_m_prune",
                                                  "symmetric_quantize", "csr_bytes")})


def mp_inplace(w, s):
    k = round(w.size * s)
    w.flat[np.argsort(np.abs(w), axis=None, kind="stable")[:k]] = 0
    return w


def mp_int_truncation(w, s):
    k = int(w.size * s)
    out = w.copy()
    out.flat[np.argsort(np.abs(w), axis=None, kind="stable")[:k]] = 0
    return out


def mp_signed(w, s):
    k = round(w.size * s)
    out = w.copy()
    out.flat[np.argsort(w, axis=None, kind="stable")[:k]] = 0
    return out


def mp_threshold_ties(w, s):
    k = round(w.size * s)
    if k == 0:
        return w.copy()
    t = np.sort(np.abs(w), axis=None)[k - 1]
    return np.where(np.abs(w) <= t, 0, w).astype(w.dtype)


def mp_float64_mask(w, s):
    out = R.magnitude_prune(w, s)
    return w * (out != 0).astype(np.float64)


def mp_prints_stderr(w, s):
    import sys
    print("debug", file=sys.stderr)
    return R.magnitude_prune(w, s)


def mp_none(w, s):
    R.magnitude_prune(w, s)


def mp_torch(w, s):
    import torch
    return torch.from_numpy(R.magnitude_prune(w, s))


def mp_loops(w, s):
    while True:
        pass


def mp_raises(w, s):
    raise IndexError("index 7 is out of bounds")


def mp_swallows_exceptions(w, s):
    while True:
        try:
            while True:
                pass
        except Exception:  # the grader's timeout must not be swallowed
            pass


def tp_boundary(w, t):
    return np.where(np.abs(w) > t, w, 0).astype(w.dtype)


def tp_signed(w, t):
    return np.where(w >= t, w, 0).astype(w.dtype)


def tp_relative(w, t):
    return np.where(np.abs(w) > t * np.abs(w).max(), w, 0).astype(w.dtype)


def np_l1(W, b, Wn, k):
    keep = np.sort(np.argsort(np.abs(W).sum(axis=1), kind="stable")[k:])
    return W[keep], b[keep], Wn[:, keep]


def np_rows_of_next(W, b, Wn, k):
    keep = np.sort(np.argsort(np.linalg.norm(W, axis=1), kind="stable")[k:])
    return W[keep], b[keep], Wn[: Wn.shape[0] - k]  # rows instead of columns


def np_mask_only(W, b, Wn, k):
    keep = np.argsort(np.linalg.norm(W, axis=1), kind="stable")[k:]
    mask = np.zeros(W.shape[0], bool)
    mask[keep] = True
    return W * mask[:, None], b * mask, Wn


def nm_first_axis(w, n, m):
    return np.moveaxis(R.n_m_prune(np.moveaxis(w, 0, -1), n, m), -1, 0) \
        if w.ndim > 1 and w.shape[0] % m == 0 else R.n_m_prune(w, n, m)


def nm_inverted(w, n, m):
    g = w.reshape(-1, m)
    order = np.argsort(np.abs(g), axis=1, kind="stable")
    out = g.copy()
    np.put_along_axis(out, order[:, n:], 0, axis=1)
    return out.reshape(w.shape)


def sq_off_by_one(w, bits):
    if bits < 2:
        raise ValueError("bits")
    qmax = 2 ** (bits - 1)
    scale = max(float(np.abs(w).max()), 1e-12) / qmax
    return np.round(w / scale).astype(np.int32), scale


def sq_truncate(w, bits):
    if bits < 2:
        raise ValueError("bits")
    qmax = 2 ** (bits - 1) - 1
    scale = max(float(np.abs(w).max()), 1e-12) / qmax
    return (w / scale).astype(np.int32), scale


def sq_no_zero_guard(w, bits):
    if bits < 2:
        raise ValueError("bits")
    qmax = 2 ** (bits - 1) - 1
    scale = float(np.abs(w).max()) / qmax
    return np.round(w / scale).astype(np.int32), scale


def sq_int8_always(w, bits):
    codes, scale = R.symmetric_quantize(w, bits)
    return codes.astype(np.int8), scale


def agp_linear(step, si, sf, t0, n, dt):
    p = min(max((step - t0) / (n * dt), 0.0), 1.0)
    return float(si + (sf - si) * p)


def agp_slow_start(step, si, sf, t0, n, dt):
    p = min(max((step - t0) / (n * dt), 0.0), 1.0)
    return float(si + (sf - si) * p ** 3)


def agp_no_clamp(step, si, sf, t0, n, dt):
    return float(sf + (si - sf) * (1 - (step - t0) / (n * dt)) ** 3)


def csr_rows_not_plus_one(w, vb, ib):
    rows = w.shape[0] if w.ndim > 1 else 1
    nnz = int(np.count_nonzero(w))
    return -(-(nnz * (vb + ib) + rows * ib) // 8)


def csr_float(w, vb, ib):
    return R.csr_bytes(w, vb, ib) * 1.0 - 0.5


def csr_floor(w, vb, ib):
    rows = w.shape[0] if w.ndim > 1 else 1
    nnz = int(np.count_nonzero(w))
    return (nnz * (vb + ib) + (rows + 1) * ib) // 8


# exercise -> [(function, word that must appear in the report)]
COMMON_BUGS = {
    "magnitude_prune": [(mp_inplace, "in-place"), (mp_int_truncation, "int() truncates"),
                        (mp_signed, "signed value"), (mp_threshold_ties, "ties"),
                        (mp_float64_mask, "float64 mask"), (mp_prints_stderr, "stderr"),
                        (mp_none, "return"), (mp_torch, "numpy"), (mp_loops, "timed out"),
                        (mp_raises, "IndexError"), (mp_swallows_exceptions, "timed out")],
    "threshold_prune": [(tp_boundary, "exactly equal"), (tp_signed, "np.abs"),
                        (tp_relative, "fraction of max|w|")],
    "neuron_prune": [(np_l1, "L1 norm"), (np_rows_of_next, "ROWS of W_next"),
                     (np_mask_only, "nothing shrank")],
    "n_m_prune": [(nm_first_axis, "FIRST axis"), (nm_inverted, "inverted")],
    "symmetric_quantize": [(sq_off_by_one, "2^(b-1)-1"), (sq_truncate, "truncation"),
                           (sq_no_zero_guard, "division by zero"), (sq_int8_always, "cannot hold")],
    "agp_sparsity": [(agp_linear, "LINEAR"), (agp_slow_start, "wrong term"), (agp_no_clamp, "clamp")],
    "csr_bytes": [(csr_rows_not_plus_one, "rows + 1"), (csr_float, "float"), (csr_floor, "UP")],
}
