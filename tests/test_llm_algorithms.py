"""Wanda / SparseGPT / GPTQ / AWQ against exact small cases and naive references."""
import numpy as np
import pytest
import torch

from pruninglab.llm.pruning import (hessian, magnitude_prune, obs_prune_column, sparsegpt_prune,
                                    wanda_prune, wanda_scores)
from pruninglab.llm.quant import (awq_quantize, bits_per_weight, gptq_quantize, minmax_grid,
                                  quantize_rtn)


def _data(rows=6, cols=16, tokens=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(rows, cols, generator=g, dtype=torch.float64)
    A = torch.randn(cols, cols, generator=g, dtype=torch.float64)  # correlated inputs
    X = torch.randn(tokens, cols, generator=g, dtype=torch.float64) @ A
    return W, X


# ------------------------------------------------------------------ Wanda

def test_wanda_scores_match_loops():
    W, X = _data()
    S = wanda_scores(W, X.norm(dim=0))
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            assert S[i, j] == pytest.approx(abs(W[i, j]) * float(torch.sqrt((X[:, j] ** 2).sum())))


def test_wanda_prunes_lowest_per_row_and_nm():
    W, X = _data()
    out = wanda_prune(W, X.norm(dim=0), 0.5)
    S = wanda_scores(W, X.norm(dim=0))
    for i in range(W.shape[0]):
        pruned = out[i] == 0
        assert int(pruned.sum()) == 8
        assert S[i][pruned].max() <= S[i][~pruned].min()
        assert torch.equal(out[i][~pruned], W[i][~pruned])
    nm = wanda_prune(W, X.norm(dim=0), prune_n=2, prune_m=4)
    groups = (nm == 0).reshape(6, 4, 4).sum(-1)
    assert (groups == 2).all()


def test_wanda_with_equal_norms_is_per_row_magnitude():
    W, _ = _data()
    out = wanda_prune(W, torch.ones(16), 0.25)
    for i in range(6):
        kept = W[i].abs().sort().values[4:]
        assert torch.equal(out[i].abs()[out[i] != 0].sort().values, kept)


def test_magnitude_per_layer_and_nm():
    W, _ = _data()
    out = magnitude_prune(W, 0.5)
    assert int((out == 0).sum()) == 48
    assert W.abs()[out == 0].max() <= W.abs()[out != 0].min()
    nm = magnitude_prune(W, prune_n=4, prune_m=8)
    assert ((nm == 0).reshape(6, 2, 8).sum(-1) == 4).all()


# ------------------------------------------------------------------ SparseGPT

def _naive_sparsegpt(W, H, sparsity=0.0, n=0, m=4):
    """Column-by-column OBS with explicit inverses of the trailing sub-Hessian (no Cholesky trick,
    no lazy block updates): the textbook algorithm of Frantar & Alistarh (2023), Sec. 3."""
    W = W.clone()
    rows, cols = W.shape
    inv_tail = [torch.linalg.inv(H[j:, j:]) for j in range(cols)]
    d = torch.tensor([inv_tail[j][0, 0] for j in range(cols)])
    mask = torch.zeros_like(W, dtype=torch.bool)
    if not n:
        score = (W ** 2 / d[None, :]).flatten()
        mask.view(-1)[torch.argsort(score, stable=True)[:round(sparsity * W.numel())]] = True
    for i in range(cols):
        if n and i % m == 0:
            score = W[:, i:i + m] ** 2 / d[i:i + m][None, :]
            idx = torch.topk(score, n, dim=1, largest=False).indices
            mask[:, i:i + m].scatter_(1, idx, True)
        Hi = inv_tail[i]
        for r in range(rows):
            if mask[r, i]:
                W[r, i:] -= W[r, i] / Hi[0, 0] * Hi[0, :]
                W[r, i] = 0.0
    return W


@pytest.mark.parametrize("kw", [dict(sparsity=0.5), dict(prune_n=2, prune_m=4), dict(prune_n=4, prune_m=8)])
def test_sparsegpt_matches_naive_reference(kw):
    W, X = _data()
    H = hessian(X)
    fast = sparsegpt_prune(W, H, blocksize=8 if "prune_n" in kw else 16, percdamp=0.0, **kw)
    naive = _naive_sparsegpt(W, H, kw.get("sparsity", 0.0), kw.get("prune_n", 0), kw.get("prune_m", 4))
    assert torch.allclose(fast, naive, atol=1e-8)


def test_sparsegpt_lazy_blocks_match_single_block_nm():
    W, X = _data(cols=32)
    H = hessian(X)
    a = sparsegpt_prune(W, H, prune_n=2, prune_m=4, blocksize=8)
    b = sparsegpt_prune(W, H, prune_n=2, prune_m=4, blocksize=32)
    assert torch.allclose(a, b, atol=1e-9)


def test_sparsegpt_exact_least_squares_when_pruned_columns_come_first():
    # Columns 0..3 are tiny -> SparseGPT prunes exactly those; each later column is visited after
    # all pruning, so the result is the exact least-squares optimum of the masked problem.
    W, X = _data(rows=4, cols=12)
    W[:, :4] *= 1e-3
    H = hessian(X)
    out = sparsegpt_prune(W, H, sparsity=4 / 12, blocksize=12, percdamp=0.0)
    assert (out[:, :4] == 0).all() and (out[:, 4:] != 0).all()
    for r in range(4):
        sol = torch.linalg.lstsq(X[:, 4:], X @ W[r]).solution
        assert torch.allclose(out[r, 4:], sol, atol=1e-8)


def test_sparsegpt_beats_magnitude_and_wanda_on_reconstruction():
    W, X = _data(rows=32, cols=32, tokens=400, seed=3)
    err = lambda V: float(((X @ (V - W).T) ** 2).sum())  # noqa: E731
    e_sg = err(sparsegpt_prune(W, hessian(X), 0.5))
    assert e_sg < err(wanda_prune(W, X.norm(dim=0), 0.5)) < err(magnitude_prune(W, 0.5)) * 1.5
    assert e_sg < err(magnitude_prune(W, 0.5))


def test_obs_prune_column_is_least_squares():
    W, X = _data(rows=3, cols=5, tokens=30)
    H = X.T @ X
    out = obs_prune_column(W, torch.linalg.inv(H), 2)
    keep = [0, 1, 3, 4]
    for r in range(3):
        sol = torch.linalg.lstsq(X[:, keep], X @ W[r]).solution
        assert torch.allclose(out[r, keep], sol, atol=1e-8)
    assert (out[:, 2] == 0).all()


# ------------------------------------------------------------------ RTN / GPTQ / AWQ

def test_rtn_grid_and_levels():
    W, _ = _data()
    q = quantize_rtn(W, 3)
    for r in range(6):
        assert len(torch.unique(q[r])) <= 8
    s, z = minmax_grid(W, 3)
    assert ((q - W).abs() <= s / 2 + 1e-12).all()
    g = quantize_rtn(W, 2, group_size=4)
    assert all(len(torch.unique(g[r, c:c + 4])) <= 4 for r in range(6) for c in range(0, 16, 4))


def test_gptq_equals_rtn_for_diagonal_hessian():
    W, _ = _data()
    H = torch.diag(torch.rand(16, dtype=torch.float64) + 0.5)
    for g in (None, 4):
        assert torch.allclose(gptq_quantize(W, H, 3, g, percdamp=0.0), quantize_rtn(W, 3, g), atol=1e-12)


def _naive_gptq(W, H, bits):
    W = W.clone()
    s, z = minmax_grid(W, bits)
    cols = W.shape[1]
    for i in range(cols):
        Hi = torch.linalg.inv(H[i:, i:])
        q = (torch.clamp(torch.round(W[:, i:i + 1] / s) + z, 0, 2 ** bits - 1) - z) * s
        err = (W[:, i] - q[:, 0]) / Hi[0, 0]
        W[:, i:] -= err[:, None] * Hi[0, :][None, :]
        W[:, i] = q[:, 0]
    return W


def test_gptq_matches_naive_reference():
    W, X = _data()
    H = hessian(X)
    assert torch.allclose(gptq_quantize(W, H, 3, blocksize=4, percdamp=0.0), _naive_gptq(W, H, 3), atol=1e-8)


def test_gptq_beats_rtn_on_layer_output_error():
    W, X = _data(rows=32, cols=32, tokens=400, seed=5)
    err = lambda V: float(((X @ (V - W).T) ** 2).sum())  # noqa: E731
    assert err(gptq_quantize(W, hessian(X), 3)) < 0.8 * err(quantize_rtn(W, 3))


def test_awq_never_worse_than_rtn_on_calibration_output():
    W, X = _data(rows=16, cols=32, tokens=300, seed=2)
    X[:, 3] *= 20  # a salient input channel
    Wq, alpha = awq_quantize(W, X, 3, 8, return_alpha=True)
    err = lambda V: float(((X @ (V - W).T) ** 2).mean())  # noqa: E731
    assert err(Wq) <= err(quantize_rtn(W, 3, 8)) + 1e-12  # alpha = 0 is RTN, in the grid
    assert alpha > 0


def test_bits_per_weight():
    assert bits_per_weight(4, 128) == 4 + 20 / 128
    assert bits_per_weight(3, None, cols=512) == 3 + 19 / 512


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("call,word", [
    (lambda: magnitude_prune(torch.zeros(3), 0.5), "W"),
    (lambda: magnitude_prune(torch.zeros(2, 4), 1.5), "sparsity"),
    (lambda: magnitude_prune(torch.zeros(2, 6), prune_n=2, prune_m=4), "m"),
    (lambda: magnitude_prune(torch.zeros(2, 8), prune_n=4, prune_m=4), "n"),
    (lambda: wanda_prune(torch.zeros(2, 4), torch.ones(3)), "x_norm"),
    (lambda: wanda_prune(torch.zeros(2, 4), -torch.ones(4)), "x_norm"),
    (lambda: sparsegpt_prune(torch.zeros(2, 4), torch.eye(3)), "H"),
    (lambda: sparsegpt_prune(torch.zeros(2, 8), torch.eye(8), prune_n=2, prune_m=4, blocksize=6), "blocksize"),
    (lambda: sparsegpt_prune("w", torch.eye(3)), "W"),
    (lambda: gptq_quantize(torch.zeros(2, 6), torch.eye(6), 4, group_size=4), "group_size"),
    (lambda: gptq_quantize(torch.zeros(2, 4), torch.eye(4), 0), "bits"),
    (lambda: quantize_rtn(torch.tensor([[float("nan"), 1.0]]), 4), "W"),
    (lambda: awq_quantize(torch.zeros(2, 4), torch.zeros(5, 3)), "X"),
    (lambda: obs_prune_column(torch.zeros(2, 3), torch.eye(3), 3), "q"),
    (lambda: bits_per_weight(4, None), "cols"),
])
def test_bad_input_names_argument(call, word):
    with pytest.raises((ValueError, TypeError), match=rf"\b{word}\b"):
        call()


def test_no_input_mutation():
    W, X = _data()
    W0, H = W.clone(), hessian(X)
    sparsegpt_prune(W, H, 0.5); gptq_quantize(W, H, 3); wanda_prune(W, X.norm(dim=0)); awq_quantize(W, X, 3, 4)
    assert torch.equal(W, W0)
