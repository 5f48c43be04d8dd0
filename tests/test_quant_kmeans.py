"""k-means weight sharing (Deep Compression)."""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from pruninglab.quantization import dequantize, finetune_codebook_, kmeans_quantize


def test_two_obvious_clusters_exact():
    w = np.array([1.0, 1.2, 5.0, 5.4])
    r = kmeans_quantize(w, 1)
    np.testing.assert_allclose(r.codebook, [1.1, 5.2])
    np.testing.assert_array_equal(r.indices, [0, 0, 1, 1])
    np.testing.assert_allclose(r.dequantize(), [1.1, 1.1, 5.2, 5.2])
    assert r.inertia == pytest.approx(0.01 + 0.01 + 0.04 + 0.04)
    assert r.k == 2 and r.mask is None and r.indices.dtype == np.uint8


def test_linear_init_first_assignment():
    # linear init for k=4 on [0, 3]: centroids 0,1,2,3; values already on them -> converged
    w = np.array([0.0, 1.0, 2.0, 3.0, 3.0])
    r = kmeans_quantize(w, 2, exclude_zeros=False)
    np.testing.assert_allclose(r.codebook, [0, 1, 2, 3])
    np.testing.assert_array_equal(r.indices, [0, 1, 2, 3, 3])
    assert r.inertia == 0.0


def test_zeros_excluded_and_kept_exactly_zero():
    w = torch.tensor([[0.0, 0.5, -0.5], [0.0, 0.6, 0.0]])
    r = kmeans_quantize(w, 1)
    assert torch.equal(r.mask, w != 0)
    assert torch.allclose(r.codebook, torch.tensor([-0.5, 0.55]))
    out = r.dequantize()
    assert torch.all(out[w == 0] == 0)
    assert out.dtype == torch.float32 and isinstance(r.indices, torch.Tensor)
    # without exclusion a centroid is spent near zero
    r2 = kmeans_quantize(w, 1, exclude_zeros=False)
    assert r2.mask is None
    assert torch.equal(dequantize(r2), r2.dequantize())


def test_all_pruned():
    r = kmeans_quantize(np.zeros((2, 2)), 2)
    np.testing.assert_array_equal(r.dequantize(), np.zeros((2, 2)))


@pytest.mark.parametrize("init", ["linear", "density", "random"])
def test_deterministic_and_pure(init):
    w = torch.randn(40, 30, generator=torch.Generator().manual_seed(0))
    w0 = w.clone()
    a = kmeans_quantize(w, 3, init=init, seed=1)
    b = kmeans_quantize(w, 3, init=init, seed=1)
    assert torch.equal(w, w0)
    assert torch.equal(a.codebook, b.codebook) and torch.equal(a.indices, b.indices)
    assert a.codebook.shape == (8,)
    assert torch.all(a.codebook[1:] >= a.codebook[:-1])
    # more bits -> smaller error
    err = [kmeans_quantize(w, b_, init=init).inertia for b_ in (1, 2, 4)]
    assert err[0] > err[1] > err[2]


def test_kmeans_beats_linear_mse_at_same_bits(mlp):
    from pruninglab.quantization import quantize_dequantize
    w = mlp.fc2.weight.detach()
    km = ((kmeans_quantize(w, 3).dequantize() - w) ** 2).mean()
    lin = ((quantize_dequantize(w, 3) - w) ** 2).mean()
    assert km < lin


def test_finetune_codebook_gradient_sharing():
    w = np.array([1.0, 1.2, 0.0, 5.0, 5.4])
    r = kmeans_quantize(w, 1)
    g = np.array([0.1, 0.3, 100.0, -1.0, 0.5])  # pruned position's gradient is ignored
    finetune_codebook_(r, g, lr=0.5)
    np.testing.assert_allclose(r.codebook, [1.1 - 0.5 * 0.4, 5.2 - 0.5 * (-0.5)])
    rt = kmeans_quantize(torch.tensor(w), 1)
    finetune_codebook_(rt, torch.tensor(g), lr=0.5)
    np.testing.assert_allclose(rt.codebook.numpy(), r.codebook)
    with pytest.raises(ValueError, match="grad"):
        finetune_codebook_(r, np.ones(3), lr=0.1)
    with pytest.raises(ValueError, match="lr"):
        finetune_codebook_(r, g, lr=0.0)


def test_bad_input():
    with pytest.raises(ValueError, match="bits"):
        kmeans_quantize(np.ones(4), 0)
    with pytest.raises(ValueError, match="bits"):
        kmeans_quantize(np.ones(4), 17)
    with pytest.raises(TypeError, match="bits"):
        kmeans_quantize(np.ones(4), 2.0)
    with pytest.raises(ValueError, match="w"):
        kmeans_quantize(np.array([np.nan, 1.0]), 2)
    with pytest.raises(ValueError, match="w"):
        kmeans_quantize(np.zeros(0), 2)
    with pytest.raises(ValueError, match="init"):
        kmeans_quantize(np.ones(4), 2, init="kmeans++")
    with pytest.raises(ValueError, match="iters"):
        kmeans_quantize(np.ones(4), 2, iters=0)
    with pytest.raises(TypeError, match="exclude_zeros"):
        kmeans_quantize(np.ones(4), 2, exclude_zeros=1)


@given(arrays(np.float32, st.integers(1, 40),
              elements=st.floats(-10, 10, allow_nan=False, width=32)),
       st.integers(1, 4))
def test_property_codebook_values_and_zero(w, bits):
    w0 = w.copy()
    r = kmeans_quantize(w, bits)
    np.testing.assert_array_equal(w, w0)
    out = r.dequantize()
    assert np.all(out[w == 0] == 0)
    nz = w != 0
    if nz.any():
        assert np.all(np.isin(out[nz], r.codebook))
        assert out[nz].min() >= w[nz].min() - 1e-5 and out[nz].max() <= w[nz].max() + 1e-5
    assert int(r.indices.max()) < 2 ** bits
