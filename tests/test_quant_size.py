"""Size accounting: exact bit counts on tiny cases."""
import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.quantization import (compression_ratio, model_size_bytes,
                                     pruned_quantized_breakdown, pruned_quantized_size,
                                     relative_index_fillers, tensor_bits, weight_sharing_ratio)


def test_tensor_bits():
    assert tensor_bits(10, 4) == 40
    assert tensor_bits(0, 8) == 0
    with pytest.raises(ValueError, match="n"):
        tensor_bits(-1, 8)
    with pytest.raises(TypeError, match="bits"):
        tensor_bits(3, 2.5)


def test_model_size_bytes_linear():
    torch.manual_seed(0)
    m = nn.Linear(4, 3)  # 12 weights, 3 biases
    assert model_size_bytes(m) == (15 * 32) / 8
    assert model_size_bytes(m, 8) == (12 * 8 + 32 + 3 * 32) / 8          # + one fp32 scale
    assert model_size_bytes(m, 8, per_channel=True) == (12 * 8 + 3 * 32 + 3 * 32) / 8
    assert model_size_bytes(m, 4, scheme="affine") == (12 * 4 + 32 + 4 + 3 * 32) / 8
    assert model_size_bytes(m, 8, other_bits=8) == (15 * 8 + 32 + 32) / 8  # bias scale too


def test_model_size_bytes_bn_buffers_and_mixed(mlp):
    seq = nn.Sequential(nn.Conv2d(1, 2, 3, bias=False), nn.BatchNorm2d(2))
    # conv 18 weights; BN weight+bias 4; running mean/var 4 floats; num_batches_tracked (int) skipped
    assert model_size_bytes(seq) == (18 + 4 + 4) * 4
    total = model_size_bytes(mlp, {"fc1": 4, "fc2": 8})
    expect = (64 * 256 * 4 + 32 + 256 * 128 * 8 + 32 + 128 * 10 * 32 + (256 + 128 + 10) * 32) / 8
    assert total == expect
    with pytest.raises(ValueError, match="fc9"):
        model_size_bytes(mlp, {"fc9": 4})
    assert model_size_bytes({"a": 10, "b": 6}, 32) == 64.0
    with pytest.raises(TypeError, match="model_or_sizes"):
        model_size_bytes([10, 6])


def test_weight_sharing_ratio_paper_example():
    assert weight_sharing_ratio(16, 32, 4) == pytest.approx(3.2)  # Han et al. 2016, Fig. 3
    assert weight_sharing_ratio(10**6, 32, 16) == pytest.approx(32e6 / (4e6 + 512))
    with pytest.raises(ValueError, match="k"):
        weight_sharing_ratio(16, 32, 0)


def test_relative_index_fillers_exact():
    m = np.zeros(20, dtype=bool)
    m[[0, 10, 11, 19]] = True  # gaps 1, 10, 1, 8 ; span 8 -> one filler for the gap of 10
    assert relative_index_fillers(m, 3) == 1
    assert relative_index_fillers(m, 2) == 3  # span 4: gap 10 -> 2, gap 8 -> 1
    assert relative_index_fillers(np.zeros(5), 3) == 0
    assert relative_index_fillers(torch.tensor([0, 0, 0, 0, 0, 1]), 1) == 2  # gap 6, span 2


def test_pruned_quantized_breakdown_exact_and_expected():
    m = np.zeros(20, dtype=bool)
    m[[0, 10, 11, 19]] = True
    d = pruned_quantized_breakdown(20, 0.8, 4, 3, mask=m)
    assert d["nnz"] == 4 and d["fillers"] == 1
    assert d["total_bits"] == 5 * (4 + 3)
    # expectation: p = 0.1, M = 32: q = 0.9^32, fillers = nnz*q/(1-q)
    d = pruned_quantized_breakdown(1000, 0.9, 8, 5)
    q = 0.9 ** 32
    assert d["fillers"] == pytest.approx(100 * q / (1 - q))
    assert d["total_bits"] == pytest.approx((100 + d["fillers"]) * 13)
    # dense storage when index_bits = 0
    d = pruned_quantized_breakdown(1000, 0.9, 8, 0, codebook_size=256)
    assert d["total_bits"] == 1000 * 8 + 256 * 32
    assert pruned_quantized_size(1000, 0.0, 8, 0) == 1000.0


def test_compression_ratio():
    assert compression_ratio(1000, 0.0, 8, 0) == 4.0
    # sparse + 4-bit k-means with 16-entry codebook
    r = compression_ratio(1000, 0.9, 4, 5, codebook_size=16)
    d = pruned_quantized_breakdown(1000, 0.9, 4, 5, codebook_size=16)
    assert r == pytest.approx(32000 / d["total_bits"])
    assert r > compression_ratio(1000, 0.9, 32, 5)
    with pytest.raises(ValueError, match="sparsity"):
        compression_ratio(1000, 1.0, 4, 5)
    with pytest.raises(ValueError, match="mask"):
        compression_ratio(10, 0.5, 4, 5, mask=np.ones(9))
