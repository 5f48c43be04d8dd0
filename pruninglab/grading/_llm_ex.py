"""Exercises of notebook 09 (LLM compression): wanda_score, kv_cache_bytes, groupwise_quantize,
obs_prune_column. Expected answers come from small independent oracles written here (loops /
least squares), not from :mod:`pruninglab.llm`."""
from __future__ import annotations

import math

import numpy as np

from ._common import Exercise, Problem, array_problem, fmt, is_real_scalar

NB = "09_llm_compression"

# ------------------------------------------------------------------------------ wanda_score


def _wanda_oracle(W, X):
    out = np.empty_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            out[i, j] = abs(W[i, j]) * math.sqrt(sum(float(x) ** 2 for x in X[:, j]))
    return out


def judge_wanda(args, out):
    W, X = args
    ref = _wanda_oracle(W, X)
    if isinstance(out, np.ndarray) and out.shape == (W.shape[1],):
        raise Problem(f"the result has shape {out.shape}: only the activation norms",
                      "multiply |W| (out × in) by the per-input norm, broadcast over rows: "
                      "np.abs(W) * norm[None, :]")
    if isinstance(out, np.ndarray) and out.shape == W.T.shape and out.shape != W.shape:
        raise Problem(f"the result has shape {out.shape}, expected {W.shape}",
                      "the norm is over the tokens (axis 0 of X) and multiplies W's columns "
                      "(input features): np.abs(W) * np.linalg.norm(X, axis=0)")
    array_problem(out, ref, "the score")
    if np.allclose(out, ref, rtol=1e-6, atol=1e-9):
        return
    if np.allclose(out, np.abs(W) * (X ** 2).sum(0), rtol=1e-6):
        raise Problem("your score uses the squared norm ‖X_j‖²",
                      "Wanda uses the L2 norm ‖X_j‖₂ = sqrt(sum_t x_tj²), not its square "
                      "(the ranking within a row differs)")
    if np.allclose(out, W * np.linalg.norm(X, axis=0), rtol=1e-6):
        raise Problem("some scores are negative", "use |W_ij|: a large negative weight matters as "
                      "much as a large positive one")
    if np.allclose(out, np.abs(W) * np.abs(X).mean(0), rtol=1e-6) or \
            np.allclose(out, np.abs(W) * np.abs(X).sum(0), rtol=1e-6):
        raise Problem("your score uses the mean/sum of |x|, not the L2 norm",
                      "‖X_j‖₂ = np.linalg.norm(X, axis=0) (Sun et al. 2024, eq. 1)")
    if np.allclose(out, np.abs(W) * np.linalg.norm(X, axis=0).mean(), rtol=1e-6):
        raise Problem("every column got the same activation factor",
                      "the norm is per input feature j: np.linalg.norm(X, axis=0), shape (in,)")
    raise Problem(f"score differs from |W|·‖X_j‖₂, e.g. {fmt(out.ravel()[:4])} vs {fmt(ref.ravel()[:4])}",
                  "S_ij = |W_ij| · sqrt(sum over tokens t of X[t, j]²)")


def fixed_wanda():
    W = np.array([[1.0, -2.0, 0.5], [-0.5, 1.0, 3.0]])
    X = np.array([[3.0, 0.0, 1.0], [4.0, 1.0, 1.0]])  # norms 5, 1, sqrt 2
    return [("2×3 layer, norms (5, 1, √2)", (W, X)),
            ("one token", (np.array([[2.0, -1.0]]), np.array([[-3.0, 0.5]])))]


def hidden_wanda(rng):
    out = []
    for _ in range(4):
        o, i, t = rng.integers(1, 7), rng.integers(1, 7), rng.integers(1, 9)
        out.append((f"random {o}×{i}, {t} tokens", (rng.normal(size=(o, i)), rng.normal(size=(t, i)) * 3)))
    return out


# ------------------------------------------------------------------------------ kv_cache_bytes


def _kv_oracle(L, H, D, T, B, e):
    per_token = 0
    for _layer in range(L):
        per_token += 2 * H * D  # one key and one value vector per head
    return per_token * T * B * e


def judge_kv(args, out):
    ref = _kv_oracle(*args)
    if not is_real_scalar(out):
        raise Problem(f"the result is {fmt(out)}, expected one number of bytes", "return a number")
    out = float(out)
    if math.isclose(out, ref, rel_tol=1e-9):
        return
    if ref and math.isclose(out, ref / 2, rel_tol=1e-9):
        raise Problem(f"{out:g} bytes is half the answer {ref:g}",
                      "the cache stores a key AND a value vector per token: factor 2")
    if ref and math.isclose(out, ref * 8, rel_tol=1e-9):
        raise Problem(f"{out:g} is the size in bits", "bytes_per_element is already in bytes; do not multiply by 8")
    raise Problem(f"{out:g} bytes, expected {ref:g}",
                  "2 · n_layers · n_kv_heads · head_dim · seq_len · batch · bytes_per_element")


def fixed_kv():
    return [("LLaMA-2-7B, 4096 tokens, fp16 (= 2 GiB)", (32, 32, 128, 4096, 1, 2)),
            ("GQA: 8 KV heads, batch 4, int8", (32, 8, 128, 1000, 4, 1)),
            ("notebook model, 64 tokens, fp32", (4, 4, 32, 64, 1, 4))]


def hidden_kv(rng):
    return [(f"random #{k}", (int(rng.integers(1, 80)), int(rng.integers(1, 64)), int(rng.choice([32, 64, 128])),
                              int(rng.integers(1, 9000)), int(rng.integers(1, 9)), float(rng.choice([0.5, 1, 2, 4]))))
            for k in range(4)]


# ------------------------------------------------------------------------------ groupwise_quantize


def _gq_oracle(w, bits, g):
    rows, cols = w.shape
    out = np.empty_like(w)
    maxq = 2 ** bits - 1
    for r in range(rows):
        for c0 in range(0, cols, g):
            grp = w[r, c0:c0 + g]
            lo, hi = min(0.0, float(grp.min())), max(0.0, float(grp.max()))
            scale = (hi - lo) / maxq if hi > lo else 1.0
            zero = round(-lo / scale)
            for k, x in enumerate(grp):
                q = min(max(round(x / scale) + zero, 0), maxq)
                out[r, c0 + k] = (q - zero) * scale
    return out, bits + (16 + bits) / g


def judge_gq(args, out):
    w, bits, g = args
    ref, bpw = _gq_oracle(w, bits, g)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem(f"the result is {fmt(out)}, expected a pair (w_hat, bits_per_weight)",
                      "return w_hat, bits_per_weight")
    w_hat, b = out
    array_problem(w_hat, ref, "w_hat", check_dtype=False)
    if not is_real_scalar(b):
        raise Problem(f"bits_per_weight is {fmt(b)}, expected a number", "return a float")
    b = float(b)
    if not math.isclose(b, bpw, rel_tol=1e-9):
        hint = "bits + (16 + bits) / group_size: each group stores an fp16 scale and a bits-wide zero point"
        if math.isclose(b, bits):
            hint = "the scales and zero points are stored too: " + hint
        elif math.isclose(b, bits + 16 / g) or math.isclose(b, bits + 32 / g):
            hint = "count one fp16 scale AND one bits-wide zero point per group: " + hint
        raise Problem(f"bits_per_weight is {b:g}, expected {bpw:g} (bits={bits}, group_size={g})", hint)
    if np.allclose(w_hat, ref, atol=1e-9, rtol=1e-9):
        return
    err_ref, err = np.abs(ref - w).max(), np.abs(w_hat - w).max()
    levels = max(len(np.unique(np.round(w_hat[r, c:c + g], 12))) for r in range(w.shape[0])
                 for c in range(0, w.shape[1], g))
    if levels > 2 ** bits:
        raise Problem(f"a group of w_hat has {levels} distinct values, more than 2^{bits}",
                      "round onto the grid: q = clip(round(w/scale) + zero, 0, 2^b - 1), w_hat = (q - zero)·scale")
    if err > err_ref * 1.5 + 1e-12:
        raise Problem(f"max error |w_hat − w| = {err:.4g}, the min-max grid gives {err_ref:.4g}",
                      "one grid per group of group_size consecutive weights of a ROW (along the "
                      "last axis), scale = (max − min)/(2^b − 1) with min ≤ 0 ≤ max, "
                      "zero = round(−min/scale)")
    raise Problem(f"w_hat differs from the asymmetric min-max grid, e.g. {fmt(w_hat.ravel()[:4])} vs "
                  f"{fmt(ref.ravel()[:4])}",
                  "lo = min(0, min(group)), hi = max(0, max(group)), scale = (hi − lo)/(2^b − 1), "
                  "zero = round(−lo/scale); clip codes to [0, 2^b − 1]")


def fixed_gq():
    w = np.array([[0.0, 1.0, 2.0, 3.0, -1.0, -0.5, 0.0, 0.5]])
    return [("one row, 2 groups of 4, 2 bits", (w, 2, 4)),
            ("3 bits, group of 2", (np.array([[0.1, -0.7, 0.3, 0.9], [1.5, 1.2, -2.0, 0.0]]), 3, 2))]


def hidden_gq(rng):
    out = []
    for _ in range(4):
        g = int(rng.choice([2, 4, 8]))
        w = rng.normal(size=(int(rng.integers(1, 5)), g * int(rng.integers(1, 4))))
        out.append((f"random {w.shape}, group {g}", (w, int(rng.integers(2, 5)), g)))
    return out


def errors_gq():
    return [("group_size does not divide the columns", (np.zeros((2, 6)), 4, 4), ValueError,
             "raise ValueError naming group_size when it does not divide the number of columns")]


# ------------------------------------------------------------------------------ obs_prune_column


def _obs_oracle(W, Hinv, q):
    # exact least squares: with H = Hinv^-1 = XᵀX, minimise ||X (w - w')|| over w' with w'_q = 0
    H = np.linalg.inv(Hinv)
    X = np.linalg.cholesky(H).T  # XᵀX = H
    keep = [j for j in range(W.shape[1]) if j != q]
    out = np.zeros_like(W)
    for r in range(W.shape[0]):
        sol, *_ = np.linalg.lstsq(X[:, keep], X @ W[r], rcond=None)
        out[r, keep] = sol
    return out


def judge_obs(args, out):
    W, Hinv, q = args
    ref = _obs_oracle(W, Hinv, q)
    array_problem(out, ref, "the updated W", check_dtype=False)
    if np.allclose(out, ref, atol=1e-8, rtol=1e-7):
        return
    if not np.allclose(out[:, q], 0):
        raise Problem(f"column {q} is {fmt(out[:, q])}, not zero",
                      "after the update the pruned weight must be exactly 0 (set W[:, q] = 0)")
    naive = W.copy(); naive[:, q] = 0
    if np.allclose(out, naive):
        raise Problem("only column q was zeroed; the other weights were not compensated",
                      "OBS: W ← W − (W[:, q] / Hinv[q, q]) · Hinv[q, :] (outer product), then W[:, q] = 0")
    raise Problem(f"the update differs from the least-squares optimum, e.g. row 0 {fmt(out[0])} vs {fmt(ref[0])}",
                  "δ_row = −(w_q / [H⁻¹]_qq) · H⁻¹[q, :]; divide by the DIAGONAL entry Hinv[q, q]")


def _spd(rng, n):
    A = rng.normal(size=(n + 3, n))
    return np.linalg.inv(A.T @ A)


def fixed_obs():
    return [("2×2 exact: W=[[1,2],[3,4]], Hinv=[[2,1],[1,1]], q=0 → [[0,1.5],[0,2.5]]",
             (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0, 1.0], [1.0, 1.0]]), 0)),
            ("diagonal Hinv: no compensation", (np.array([[1.0, -2.0, 3.0]]), np.diag([1.0, 2.0, 4.0]), 1))]


def hidden_obs(rng):
    out = []
    for _ in range(3):
        n = int(rng.integers(2, 6))
        out.append((f"random {n} columns", (rng.normal(size=(int(rng.integers(1, 4)), n)), _spd(rng, n),
                                            int(rng.integers(0, n)))))
    return out


EXERCISES = [
    Exercise("wanda_score", "Wanda importance |W_ij| times the L2 norm of input feature j over calibration tokens",
             "wanda_score(W: ndarray (out, in), X: ndarray (tokens, in)) -> ndarray (out, in)",
             fixed_wanda, hidden_wanda, judge_wanda, points=5, notebook=NB, topic="LLM pruning: Wanda",
             library=("pruninglab.llm.pruning.wanda_scores", "pruninglab.llm.pruning.wanda_prune")),
    Exercise("kv_cache_bytes", "bytes of a transformer's KV cache for a given context, batch and precision",
             "kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_element) -> number",
             fixed_kv, hidden_kv, judge_kv, points=5, notebook=NB, topic="LLM inference: KV cache",
             library=("pruninglab.llm.kvcache.kv_cache_bytes",)),
    Exercise("groupwise_quantize", "asymmetric min-max quantization per group of a row, with true bits per weight",
             "groupwise_quantize(w: ndarray (rows, cols), bits: int, group_size: int) -> (w_hat, bits_per_weight)",
             fixed_gq, hidden_gq, judge_gq, errors=errors_gq, points=10, notebook=NB,
             topic="LLM quantization: group-wise",
             library=("pruninglab.llm.quant.quantize_rtn", "pruninglab.llm.quant.minmax_grid",
                      "pruninglab.llm.quant.bits_per_weight")),
    Exercise("obs_prune_column", "one OBS/SparseGPT step: zero column q and compensate the rest with the inverse Hessian",
             "obs_prune_column(W: ndarray (rows, cols), Hinv: ndarray (cols, cols), q: int) -> ndarray",
             fixed_obs, hidden_obs, judge_obs, points=10, notebook=NB, topic="LLM pruning: SparseGPT",
             library=("pruninglab.llm.pruning.obs_prune_column", "pruninglab.llm.pruning.sparsegpt_prune")),
]
