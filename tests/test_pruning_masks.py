"""Unstructured masks: exact counts, cross-checks with torch.nn.utils.prune, properties, bad input."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn
from torch.nn.utils import prune

from pruninglab.pruning import (apply_mask, global_magnitude_masks, magnitude_mask, nm_mask,
                                random_mask, sparsity_of, threshold_mask)

FLOATS = st.floats(-100, 100, allow_nan=False, allow_infinity=False, width=32)
ARRAYS = hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=7),
                    elements=FLOATS)
SPARSITY = st.floats(0.0, 0.99)


# ------------------------------------------------------------------ exact values on tiny input
def test_magnitude_mask_tiny_exact():
    w = np.array([[0.5, -0.1, 0.3], [-0.7, 0.2, 0.0]], dtype=np.float32)
    m = magnitude_mask(w, 0.5)          # k = 3 smallest |w|: 0.0, -0.1, 0.2
    assert m.dtype == np.bool_ and m.shape == w.shape
    np.testing.assert_array_equal(m, [[True, False, True], [True, False, False]])


def test_magnitude_mask_ties_lower_index_first():
    w = torch.tensor([1.0, 1.0, 1.0, 1.0, 2.0])
    assert magnitude_mask(w, 0.4).tolist() == [False, False, True, True, True]


def test_magnitude_mask_rounding_half_to_even():
    w = np.arange(1, 6, dtype=np.float32)   # n=5, s=0.5 -> round(2.5)=2 (like torch.prune)
    assert int((~magnitude_mask(w, 0.5)).sum()) == 2


def test_threshold_mask_tiny():
    w = torch.tensor([0.1, -0.5, 0.3, -0.3])
    assert threshold_mask(w, 0.3).tolist() == [False, True, True, True]
    assert threshold_mask(w.numpy(), 0.0).all()


def test_random_mask_exact_count_same_for_numpy_and_torch():
    a = random_mask((10, 10), 0.37, seed=3)
    b = random_mask(torch.zeros(10, 10), 0.37, seed=3)
    assert isinstance(a, np.ndarray) and isinstance(b, torch.Tensor)
    assert int((~a).sum()) == 37
    np.testing.assert_array_equal(a, b.numpy())
    assert not np.array_equal(a, random_mask((10, 10), 0.37, seed=4))


def test_nm_mask_tiny_exact():
    w = np.array([[1, -4, 3, 2, 0, 5, -6, 7]], dtype=np.float32)
    np.testing.assert_array_equal(nm_mask(w, 2, 4), [[False, True, True, False, False, False, True, True]])


def test_nm_mask_dim0_conv():
    w = torch.randn(8, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    m = nm_mask(w, 2, 4, dim=0)
    assert m.shape == w.shape
    assert (m.reshape(2, 4, 27).sum(1) == 2).all()


def test_apply_mask_new_copy_positive_zero():
    w = torch.tensor([-1.0, 2.0, -3.0])
    out = apply_mask(w, torch.tensor([False, True, True]))
    assert out.tolist() == [0.0, 2.0, -3.0] and math.copysign(1, out[0].item()) == 1.0
    assert w.tolist() == [-1.0, 2.0, -3.0]
    wn = w.numpy().copy()
    np.testing.assert_array_equal(apply_mask(wn, np.array([1, 0, 1])), [-1.0, 0.0, -3.0])


def test_sparsity_of():
    assert sparsity_of(np.array([0.0, 1.0, 0.0, 2.0])) == 0.5
    assert sparsity_of(torch.tensor([True, False, False, False])) == 0.75
    assert sparsity_of({"a": torch.zeros(3), "b": torch.ones(1)}) == 0.75


def test_global_tiny_exact_and_ties_by_layer_order():
    ws = {"a": np.array([0.1, 0.5, 0.2], dtype=np.float32), "b": torch.tensor([0.3, 0.05, 0.4])}
    m = global_magnitude_masks(ws, 0.5)   # k=3: 0.05, 0.1, 0.2
    np.testing.assert_array_equal(m["a"], [False, True, False])
    assert m["b"].tolist() == [True, False, True]
    ties = global_magnitude_masks({"a": torch.zeros(3), "b": torch.zeros(3)}, 0.5)
    assert ties["a"].tolist() == [False, False, False] and ties["b"].tolist() == [True, True, True]


# ------------------------------------------------------------------ cross-checks with torch
@pytest.mark.parametrize("s", [0.0, 0.1, 0.5, 0.9, 0.97])
def test_magnitude_equals_torch_l1_unstructured(s):
    w = torch.randn(33, 17, generator=torch.Generator().manual_seed(1))
    lin = nn.Linear(17, 33)
    with torch.no_grad():
        lin.weight.copy_(w)
    prune.l1_unstructured(lin, "weight", amount=s)
    assert torch.equal(magnitude_mask(w, s), lin.weight_mask.bool())


@pytest.mark.parametrize("s", [0.2, 0.9])
def test_global_equals_torch_global_unstructured(s):
    g = torch.Generator().manual_seed(2)
    mods = [nn.Linear(20, 30), nn.Conv2d(3, 8, 3), nn.Linear(30, 5)]
    with torch.no_grad():
        for i, m in enumerate(mods):
            m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (i + 1))
    ws = {str(i): m.weight.detach().clone() for i, m in enumerate(mods)}
    ours = global_magnitude_masks(ws, s)
    prune.global_unstructured([(m, "weight") for m in mods], pruning_method=prune.L1Unstructured, amount=s)
    for i, m in enumerate(mods):
        assert torch.equal(ours[str(i)], m.weight_mask.bool())


# ------------------------------------------------------------------ properties
@settings(max_examples=40, deadline=None)
@given(ARRAYS, SPARSITY)
def test_magnitude_exact_count_idempotent_no_mutation(w, s):
    w0 = w.copy()
    t = torch.from_numpy(w.copy())
    m = magnitude_mask(w, s)
    k = int(round(w.size * s))
    assert int((~m).sum()) == k
    np.testing.assert_array_equal(w, w0)
    mt = magnitude_mask(t, s)
    np.testing.assert_array_equal(mt.numpy(), m)            # numpy and torch agree
    assert torch.equal(t, torch.from_numpy(w0))
    pruned = apply_mask(w, m)
    np.testing.assert_array_equal(magnitude_mask(pruned, s), m)   # idempotent
    np.testing.assert_array_equal(apply_mask(pruned, m), pruned)
    # kept magnitudes dominate pruned ones
    if 0 < k < w.size:
        assert np.abs(w[~m]).max() <= np.abs(w[m]).min()


@settings(max_examples=40, deadline=None)
@given(st.lists(ARRAYS, min_size=1, max_size=4), SPARSITY, st.booleans())
def test_global_exact_total_count(arrs, s, as_torch):
    ws = {f"l{i}": (torch.from_numpy(a.copy()) if as_torch else a.copy()) for i, a in enumerate(arrs)}
    m = global_magnitude_masks(ws, s)
    n = sum(a.size for a in arrs)
    assert sum(int((~np.asarray(v)).sum()) for v in m.values()) == int(round(n * s))
    for (k, v), a in zip(ws.items(), arrs):
        np.testing.assert_array_equal(np.asarray(v), a)               # not mutated
        assert isinstance(m[k], torch.Tensor) == as_torch and tuple(m[k].shape) == a.shape
    kept = np.concatenate([np.abs(a).ravel()[np.asarray(m[f"l{i}"]).ravel()] for i, a in enumerate(arrs)])
    pr = np.concatenate([np.abs(a).ravel()[~np.asarray(m[f"l{i}"]).ravel()] for i, a in enumerate(arrs)])
    if kept.size and pr.size:
        assert pr.max() <= kept.min()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 3), st.integers(1, 5), st.data())
def test_nm_pattern_every_group(groups, rows, m, data):
    n = data.draw(st.integers(1, m))
    w = data.draw(hnp.arrays(np.float32, (rows, groups * m), elements=FLOATS))
    w0 = w.copy()
    mask = nm_mask(w, n, m)
    assert (mask.reshape(rows, groups, m).sum(-1) == n).all()
    np.testing.assert_array_equal(w, w0)
    np.testing.assert_array_equal(nm_mask(apply_mask(w, mask), n, m), mask)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 200), SPARSITY, st.integers(0, 10))
def test_random_exact(n, s, seed):
    assert int((~random_mask((n,), s, seed=seed)).sum()) == int(round(n * s))


# ------------------------------------------------------------------ bad input
BAD_S = [(-0.1, ValueError), (1.0, ValueError), (float("nan"), ValueError), (True, TypeError),
         ("0.5", TypeError), (None, TypeError)]


@pytest.mark.parametrize("s,exc", BAD_S)
def test_bad_sparsity(s, exc):
    w = np.ones((3, 3), dtype=np.float32)
    for f in (lambda: magnitude_mask(w, s), lambda: random_mask(w, s),
              lambda: global_magnitude_masks({"a": w}, s)):
        with pytest.raises(exc, match="sparsity"):
            f()


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), torch.tensor([1.0, float("inf")]),
                                 np.zeros((0,)), torch.zeros(0, 3)])
def test_bad_weights(bad):
    with pytest.raises(ValueError, match="w"):
        magnitude_mask(bad, 0.5)
    with pytest.raises(ValueError, match="weights"):
        global_magnitude_masks({"x": bad}, 0.5)


def test_bad_types_and_shapes():
    with pytest.raises(TypeError, match="w"):
        magnitude_mask([1.0, 2.0], 0.5)
    with pytest.raises(TypeError, match="weights"):
        global_magnitude_masks([np.ones(3)], 0.5)
    with pytest.raises(ValueError, match="weights"):
        global_magnitude_masks({}, 0.5)
    with pytest.raises(ValueError, match="n must be <= m"):
        nm_mask(np.ones((2, 4)), 5, 4)
    with pytest.raises(ValueError, match="divisible"):
        nm_mask(np.ones((2, 6)), 2, 4)
    with pytest.raises(ValueError, match="dim"):
        nm_mask(np.ones((2, 4)), 2, 4, dim=2)
    with pytest.raises(ValueError, match="shape"):
        apply_mask(np.ones(3), np.ones(4, dtype=bool))
    with pytest.raises(TypeError, match="both"):
        apply_mask(np.ones(3), torch.ones(3, dtype=torch.bool))
    with pytest.raises(ValueError, match="threshold"):
        threshold_mask(np.ones(3), float("nan"))
    with pytest.raises(ValueError, match="threshold"):
        threshold_mask(np.ones(3), -1.0)


def test_mask_from_order_equals_magnitude_mask_with_ties_numpy_and_torch():
    from pruninglab.pruning import magnitude_order, mask_from_order
    rng = np.random.default_rng(3)
    w = np.round(rng.normal(size=(7, 9)), 1)            # many equal magnitudes, both signs
    before = w.copy()
    order = magnitude_order(w)
    for s in (0.0, 0.1, 0.37, 0.5, 0.9):
        assert np.array_equal(mask_from_order(order, w, s), magnitude_mask(w, s)), s
        t = torch.from_numpy(w).float()
        got = mask_from_order(magnitude_order(t), t, s)
        assert got.dtype == torch.bool and torch.equal(got, magnitude_mask(t, s)), s
    assert np.array_equal(w, before)                     # pure
    with pytest.raises(ValueError, match="order"):
        mask_from_order(order[:-1], w, 0.5)
    with pytest.raises(ValueError, match="order"):
        mask_from_order(order.astype(float), w, 0.5)
    with pytest.raises(ValueError, match="sparsity"):
        mask_from_order(order, w, 1.5)
