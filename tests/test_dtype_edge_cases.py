"""Edge cases found by an independent test suite (issue 14): integer, bool, half-precision and
extreme-range inputs, 0-d tensors, float64 models and BatchNorm without affine parameters."""
import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.hardware import storage_bytes
from pruninglab.models import DigitsCNN
from pruninglab.pruning import (global_magnitude_masks, magnitude_mask, nm_mask, shrink_model,
                                structured_mask, threshold_mask, zero_structures)
from pruninglab.pruning.structured import prune_neurons_numpy
from pruninglab.quantization import quantize


@pytest.mark.parametrize("make", [np.array, torch.tensor])
def test_int8_minus_128_is_the_largest_magnitude(make):
    w = make([[-128, 1, 2, 100]], dtype=np.int8 if make is np.array else torch.int8)
    expect = [[True, False, True, True]]
    assert np.array_equal(np.asarray(magnitude_mask(w, 0.25)), expect)
    assert np.array_equal(np.asarray(threshold_mask(w, 50)), [[True, False, False, True]])
    assert np.array_equal(np.asarray(nm_mask(w, 2, 4)), [[True, False, False, True]])
    assert np.array_equal(np.asarray(global_magnitude_masks({"a": w}, 0.25)["a"]), expect)
    rows = make([[-128, 0], [1, 1]], dtype=np.int8 if make is np.array else torch.int8)
    # row 0 has the larger L1 norm (128 vs 2): row 1 is removed
    assert np.array_equal(np.asarray(structured_mask(rows, 0.5)), [[True, True], [False, False]])


def test_prune_neurons_numpy_int8():
    W = np.array([[-128, 0], [1, 1]], dtype=np.int8)
    _, _, _, keep = prune_neurons_numpy(W, np.zeros(2, np.int8), np.ones((1, 2), np.int8), 1)
    assert keep.tolist() == [0]


def test_bool_and_bfloat16_inputs():
    m = magnitude_mask(torch.tensor([True, False, True]), 1 / 3)
    assert m.tolist() == [True, False, True]
    w = torch.tensor([[1.0, -3.0, 2.0, 0.5]], dtype=torch.bfloat16)
    assert magnitude_mask(w, 0.5).tolist() == [[False, True, True, False]]
    assert nm_mask(w, 2, 4).tolist() == [[False, True, True, False]]
    assert threshold_mask(w, 1.5).tolist() == [[False, True, True, False]]
    h = np.array([1.0, -3.0, 2.0, 0.5], dtype=np.float16)
    assert magnitude_mask(h, 0.5).tolist() == [False, True, True, False]


def test_global_masks_accept_finite_float64_above_float32_max():
    w = np.array([1e300, 1.0, 2.0])
    assert global_magnitude_masks({"a": w}, 1 / 3)["a"].tolist() == [True, False, True]
    with pytest.raises(ValueError, match="NaN or inf"):
        global_magnitude_masks({"a": np.array([np.inf, 1.0])}, 0.5)


def test_storage_bytes_rejects_0d_and_empty():
    for x in (np.array(1.0), torch.tensor(1.0)):
        with pytest.raises(ValueError, match="weights_or_shape"):
            storage_bytes(x, 0.0, 8, "csr")
    with pytest.raises(ValueError, match="weights_or_shape"):
        storage_bytes(np.zeros((0, 3)), 0.0, 8, "dense")


def test_shrink_model_float64_cnn_runs_and_matches_mask():
    torch.manual_seed(0)
    m = DigitsCNN().double().eval()
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64)
    small = shrink_model(m, {"conv1": 0.5}).eval()
    assert small.bn1.weight.dtype == torch.float64 and small.bn1.running_mean.dtype == torch.float64
    masked = zero_structures(m, {"conv1": 0.5}).eval()
    assert torch.allclose(small(x), masked(x))


def test_zero_structures_batchnorm_without_affine_is_a_clear_error():
    m = DigitsCNN().eval()
    m.bn1 = nn.BatchNorm2d(m.bn1.num_features, affine=False).eval()
    with pytest.raises(ValueError, match="affine=False"):
        zero_structures(m, {"conv1": 0.5})
    shrink_model(m, {"conv1": 0.5})     # physically removing the channels still works


def test_shrink_model_error_names_the_ratios_entry():
    m = DigitsCNN()
    with pytest.raises(ValueError, match=r"ratios\['conv1'\]"):
        shrink_model(m, {"conv1": 0.999})
    with pytest.raises(ValueError, match=r"ratios\['conv1'\]"):
        shrink_model(m, {"conv1": 1.5})


def test_quantize_tiny_range_is_a_clear_error_not_all_zero_codes():
    with pytest.raises(ValueError, match="too small to quantize"):
        quantize(np.array([1e-310, 0.0]), 8)
    q = quantize(np.array([1e-300, 0.0]), 8)   # small but representable: real codes
    assert q.codes.tolist() == [127, 0]
