"""Notebook-09 exercises: reference solutions get full marks; classic mistakes are rejected with
a specific hint."""
import numpy as np
import pytest

from pruninglab.grading import grade


def wanda_score(W, X):
    return np.abs(W) * np.linalg.norm(X, axis=0)


def kv_cache_bytes(n_layers, n_kv_heads, head_dim, seq_len, batch, bytes_per_element):
    return 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_element


def groupwise_quantize(w, bits, group_size):
    rows, cols = w.shape
    if cols % group_size:
        raise ValueError("group_size must divide the number of columns")
    g = w.reshape(rows, cols // group_size, group_size)
    lo = np.minimum(g.min(-1, keepdims=True), 0)
    hi = np.maximum(g.max(-1, keepdims=True), 0)
    scale = (hi - lo) / (2 ** bits - 1)
    scale = np.where(scale == 0, 1.0, scale)
    zero = np.round(-lo / scale)
    q = np.clip(np.round(g / scale) + zero, 0, 2 ** bits - 1)
    return ((q - zero) * scale).reshape(rows, cols), bits + (16 + bits) / group_size


def obs_prune_column(W, Hinv, q):
    out = W - np.outer(W[:, q] / Hinv[q, q], Hinv[q, :])
    out[:, q] = 0
    return out


SOLUTIONS = {"wanda_score": wanda_score, "kv_cache_bytes": kv_cache_bytes,
             "groupwise_quantize": groupwise_quantize, "obs_prune_column": obs_prune_column}


@pytest.mark.parametrize("ex", sorted(SOLUTIONS))
@pytest.mark.parametrize("seed", [0, 3])
def test_reference_full_marks(ex, seed):
    r = grade(ex, SOLUTIONS[ex], seed=seed)
    assert r.passed and r.score == r.max_score, str(r)


MUTANTS = [
    ("wanda_score", lambda W, X: np.abs(W) * (X ** 2).sum(0), "squared norm"),
    ("wanda_score", lambda W, X: W * np.linalg.norm(X, axis=0), "|W_ij|"),
    ("wanda_score", lambda W, X: np.abs(W) * np.abs(X).mean(0), "L2 norm"),
    ("kv_cache_bytes", lambda L, H, D, T, B, e: L * H * D * T * B * e, "factor 2"),
    ("kv_cache_bytes", lambda L, H, D, T, B, e: 16 * L * H * D * T * B * e, "bits"),
    ("groupwise_quantize", lambda w, b, g: (groupwise_quantize(w, b, g)[0], float(b)), "scales and zero points"),
    ("groupwise_quantize", lambda w, b, g: (groupwise_quantize(w, b, w.shape[1])[0], b + (16 + b) / g),
     "per group"),
    ("obs_prune_column", lambda W, H, q: np.where(np.arange(W.shape[1]) == q, 0.0, W), "not compensated"),
    ("obs_prune_column", lambda W, H, q: np.where(np.arange(W.shape[1]) == q, 0.0,
                                                  W - np.outer(W[:, q], H[q, :])), "DIAGONAL"),
]


@pytest.mark.parametrize("ex,fn,keyword", MUTANTS)
def test_mutants_rejected_with_hint(ex, fn, keyword):
    r = grade(ex, fn, seed=0)
    assert not r.passed
    assert keyword in str(r), str(r)


def test_obs_fixed_case_is_exact():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    out = obs_prune_column(W, np.array([[2.0, 1.0], [1.0, 1.0]]), 0)
    assert np.allclose(out, [[0, 1.5], [0, 2.5]])


def test_exercises_registered_for_notebook_09():
    from pruninglab.grading.core import EXERCISES
    for ex in SOLUTIONS:
        assert EXERCISES[ex].notebook == "09_llm_compression"
