"""pruninglab.hardware.storage: exact bit counts on hand-computed cases, break-even points."""
import numpy as np
import pytest
import torch

from pruninglab.hardware import (FORMATS, break_even_sparsity, model_storage, storage_bits,
                                 storage_bytes)
from pruninglab.models import load_reference


def test_dense_and_bitmask_exact():
    assert storage_bits((4, 8), 0.0, 32, "dense") == 1024
    # bitmask: 32 presence bits + 8 kept values · 8 bits
    assert storage_bits((4, 8), 0.75, 8, "bitmask") == 32 + 8 * 8


def test_csr_csc_coo_exact():
    # 4x8, 75 % sparse -> nnz 8; b=8, i=16, p=32
    assert storage_bits((4, 8), 0.75, 8, "csr", index_bits=16) == 8 * 24 + 5 * 32
    assert storage_bits((4, 8), 0.75, 8, "csc", index_bits=16) == 8 * 24 + 9 * 32
    assert storage_bits((4, 8), 0.75, 8, "coo", index_bits=16) == 8 * (8 + 32)
    assert storage_bytes((256, 64), 0.9, 8, "csr", index_bits=16) == 5942


def test_tensor_pattern_is_used_and_not_mutated():
    w = np.array([[0.0, 1.5, 0.0, 0.0], [2.0, 0.0, 0.0, -1.0]], dtype=np.float32)
    before = w.copy()
    assert storage_bits(w, None, 8, "csr", index_bits=4, ptr_bits=4) == 3 * 12 + 3 * 4
    assert storage_bits(torch.from_numpy(w), None, 8, "bitmask") == 8 + 3 * 8
    np.testing.assert_array_equal(w, before)


def test_relative_index_fillers_exact():
    # Han et al. 2016 style: 3-bit index spans gaps up to 8; positions 0 and 18
    w = torch.zeros(1, 19)
    w[0, 0], w[0, 18] = 1.0, 2.0
    # diffs 1 and 18 -> fillers 0 and ceil(18/8)-1 = 2 -> 4 entries of 8+3 bits
    assert storage_bits(w, None, 8, "relative", index_bits=3) == 44
    # codebook variant: 4 entries · (2 + 3) bits + 4 centroids · 32 bits
    assert storage_bits(w, None, 32, "relative_codebook", index_bits=3, cluster_bits=2) == 4 * 5 + 128


def test_relative_expected_matches_random_patterns():
    rng = np.random.default_rng(0)
    n, s = 200_000, 0.95
    w = (rng.random((1, n)) > s).astype(np.float32)
    exact = storage_bits(w, None, 8, "relative", index_bits=4)
    expected = storage_bits((1, n), 1 - w.mean(), 8, "relative", index_bits=4)
    assert abs(exact - expected) / exact < 0.02


def test_two_four_and_block_and_codebook():
    assert storage_bits((8, 16), 0.5, 8, "2:4") == 64 * 10
    w = torch.tensor([[1.0, 0, 2, 0, 0, 0, 0, 3]])
    assert storage_bits(w, None, 16, "2:4") == 4 * 18
    with pytest.raises(ValueError, match="2:4"):
        storage_bits(torch.ones(1, 8), None, 8, "2:4")
    with pytest.raises(ValueError, match="sparsity"):
        storage_bits((8, 16), 0.3, 8, "2:4")
    with pytest.raises(ValueError, match="multiple of 4"):
        storage_bits((8, 9), 0.5, 8, "2:4")
    # block 2x2 on a 4x4 with one non-zero block: 1·(4·8 + 32) + (2 + 1)·32
    w = torch.zeros(4, 4)
    w[2:, :2] = 1.0
    assert storage_bits(w, None, 8, "block", block=(2, 2)) == 64 + 96
    # k = 16 clusters: n·4 + 16·32
    assert storage_bits((10, 10), None, 32, "codebook", cluster_bits=4) == 400 + 512


def test_break_even_exact_points():
    assert break_even_sparsity("bitmask", 8, (64, 64)) == 0.125           # 1/b
    assert break_even_sparsity("bitmask", 32, (64, 64)) == 0.03125
    # CSR fp32 + 32-bit index, 64x64: nnz·64 + 65·32 <= 4096·32 -> nnz <= 2015
    assert break_even_sparsity("csr", 32, (64, 64)) == (4096 - 2015) / 4096
    assert break_even_sparsity("2:4", 8, (64, 64)) == 0.5
    assert break_even_sparsity("2:4", 1, (64, 64)) is None                 # 1/2·(1+2) > 1
    assert break_even_sparsity("dense", 8) == 0.0
    # int8 + 16-bit index approaches 2/3 for a large matrix (b/(b+i) density)
    assert abs(break_even_sparsity("csr", 8, (4096, 4096), index_bits=16) - 2 / 3) < 1e-3


def test_bits_nondecreasing_in_density_for_every_format():
    for fmt in FORMATS:
        if fmt in ("2:4",):
            continue
        sizes = [storage_bits((64, 64), s, 8, fmt) for s in np.linspace(0.99, 0.0, 40)]
        assert all(a <= b for a, b in zip(sizes, sizes[1:])), fmt


def test_model_storage_mlp():
    m = load_reference("mlp")
    r = model_storage(m)
    assert r["layers"] == {"fc1": 65536, "fc2": 131072, "fc3": 5120}
    assert r["total_bytes"] == r["dense_fp32_bytes"] == 50826 * 4
    r8 = model_storage(m, 8, "dense")
    assert r8["weights_bytes"] == 50432 and r8["other_bytes"] == (256 + 128 + 10) * 4
    r = model_storage(m, 8, "csr", sparsity={"fc1": 0.5})
    # CSR at 50 % with 32-bit indices is 2.6x LARGER than dense int8 (16384 bytes)
    assert r["layers"]["fc1"] == 8192 * 5 + 257 * 4 and r["layers"]["fc2"] == 32768 * 5 + 129 * 4


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(weights_or_shape=[4, 0]), ValueError, "weights_or_shape"),
    (dict(weights_or_shape="abc"), TypeError, "weights_or_shape"),
    (dict(weights_or_shape=(4, 4), sparsity=1.0), ValueError, "sparsity"),
    (dict(weights_or_shape=(4, 4), sparsity=float("nan")), ValueError, "sparsity"),
    (dict(weights_or_shape=(4, 4), value_bits=0), ValueError, "value_bits"),
    (dict(weights_or_shape=(4, 4), value_bits=33), ValueError, "value_bits"),
    (dict(weights_or_shape=(4, 4), format="ell"), ValueError, "format"),
    (dict(weights_or_shape=(4, 4), format="csr", index_bits=0), ValueError, "index_bits"),
    (dict(weights_or_shape=np.array([[np.nan, 1.0]])), ValueError, "weights_or_shape"),
    (dict(weights_or_shape=np.zeros((0, 3))), ValueError, "weights_or_shape"),
    (dict(weights_or_shape=(4, 4), format="block", block=(0, 2)), ValueError, "block"),
])
def test_bad_input(kwargs, exc, word):
    with pytest.raises(exc, match=word):
        storage_bits(**kwargs)


def test_model_storage_bad_input():
    with pytest.raises(TypeError, match="model"):
        model_storage("mlp")
    with pytest.raises(ValueError, match="unknown layers"):
        model_storage(load_reference("mlp"), sparsity={"fc9": 0.5})
