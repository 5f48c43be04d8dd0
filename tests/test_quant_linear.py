"""Linear quantization: exact values, PyTorch cross-checks, bad input, properties."""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from pruninglab.quantization import (QuantizedTensor, code_dtype, dequantize, error_bound, qparams,
                                     qrange, quantize, quantize_dequantize)


# ---------------------------------------------------------------- exact values on tiny tensors
def test_symmetric_exact_values():
    x = np.array([-1.0, -0.5, 0.0, 0.26, 1.0], dtype=np.float32)
    q = quantize(x, bits=3)  # q_max = 3, S = 1/3
    assert isinstance(q, QuantizedTensor)
    assert q.scale == pytest.approx(1 / 3)
    assert q.zero_point == 0
    assert q.codes.dtype == np.int8
    # -0.5/(1/3) = -1.5 -> -2 (half to even); 0.26*3 = 0.78 -> 1
    np.testing.assert_array_equal(q.codes, [-3, -2, 0, 1, 3])
    np.testing.assert_allclose(q.dequantize(), [-1, -2 / 3, 0, 1 / 3, 1], rtol=1e-6)
    assert q.dequantize().dtype == np.float32


def test_affine_exact_values():
    x = np.array([-1.0, 0.0, 0.5, 3.0])
    q = quantize(x, bits=2, scheme="affine")  # S = 4/3, Z = round(0.75) = 1
    assert q.scale == pytest.approx(4 / 3)
    assert q.zero_point == 1
    np.testing.assert_array_equal(q.codes, [0, 1, 1, 3])
    np.testing.assert_allclose(q.dequantize(), [-4 / 3, 0, 0, 8 / 3])


def test_affine_range_extended_to_include_zero():
    x = torch.tensor([2.0, 3.0, 4.0])  # all positive: r_min becomes 0
    s, z, qmin, qmax = qparams(x, 8, "affine")
    assert (z, qmin, qmax) == (0, 0, 255)
    assert s == pytest.approx(4 / 255)
    s, z, _, _ = qparams(-x, 8, "affine")
    assert z == 255


def test_round_half_to_even():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 127.0])
    q = quantize(x, 8, scale=1.0)
    np.testing.assert_array_equal(q.codes, [0, 2, 2, 0, -2, 127])


def test_qrange_and_dtypes():
    assert qrange(8) == (-127, 127)
    assert qrange(8, "affine") == (0, 255)
    assert qrange(1, "affine") == (0, 1)
    assert qrange(16) == (-32767, 32767)
    assert code_dtype(8) == np.int8 and code_dtype(9) == np.int16
    assert code_dtype(8, "affine") == np.uint8 and code_dtype(16, "affine") == np.int32
    assert code_dtype(4, "affine", torch_dtype=True) == torch.int8


def test_one_bit_affine_and_symmetric_rejected():
    x = np.array([-0.3, 0.0, 1.0])
    q = quantize(x, 1, "affine")  # S = 1.3, Z = round(0.23) = 0 -> levels {0, 1.3}
    np.testing.assert_array_equal(q.codes, [0, 0, 1])
    np.testing.assert_allclose(q.dequantize(), [0, 0, 1.3])
    with pytest.raises(ValueError, match="bits"):
        quantize(x, 1, "symmetric")


@pytest.mark.parametrize("scheme", ["symmetric", "affine"])
@pytest.mark.parametrize("per_channel", [False, True])
def test_all_zero_input(scheme, per_channel):
    x = torch.zeros(3, 4)
    q = quantize(x, 4, scheme, per_channel)
    s = torch.as_tensor(q.scale)
    assert torch.all(s == 1.0)
    assert torch.equal(q.dequantize(), x)


def test_per_channel_zero_row_gets_scale_one():
    x = np.array([[0.0, 0.0], [1.0, -2.0]])
    q = quantize(x, 8, per_channel=True)
    np.testing.assert_allclose(q.scale, [1.0, 2 / 127])
    np.testing.assert_array_equal(q.codes, [[0, 0], [64, -127]])  # 63.5 -> 64 (half to even)


def test_per_channel_axis_1_and_negative_axis():
    x = torch.tensor([[1.0, 10.0], [-0.5, 5.0]])
    q = quantize(x, 8, per_channel=True, axis=1)
    assert q.axis == 1
    assert torch.allclose(q.scale, torch.tensor([1 / 127, 10 / 127], dtype=torch.float64))
    assert quantize(x, 8, per_channel=True, axis=-1).axis == 1
    assert torch.equal(q.codes, torch.tensor([[127, 127], [-64, 64]], dtype=torch.int8))


def test_types_follow_input():
    xt = torch.randn(5, 3)
    q = quantize(xt, 8, "affine", per_channel=True)
    assert isinstance(q.codes, torch.Tensor) and q.codes.dtype == torch.uint8
    assert isinstance(q.scale, torch.Tensor) and q.scale.shape == (5,)
    assert q.zero_point.dtype == torch.int64
    assert q.dequantize().dtype == torch.float32
    xn = np.random.RandomState(0).randn(5, 3)
    qn = quantize(xn, 8, per_channel=True)
    assert isinstance(qn.codes, np.ndarray) and isinstance(qn.scale, np.ndarray)
    assert quantize_dequantize(xn, 8).dtype == np.float64
    assert isinstance(quantize(xt, 8).scale, float) and isinstance(quantize(xt, 8).zero_point, int)
    assert quantize(np.arange(6).reshape(2, 3), 8).dequantize().dtype == np.float64  # int input


def test_requires_grad_input_and_dequantize_function():
    w = torch.randn(4, 4, requires_grad=True)
    q = quantize(w, 8)
    assert not q.codes.requires_grad
    assert torch.equal(dequantize(q), q.dequantize())
    assert q.qmin == -127 and q.qmax == 127 and q.numel == 16 and not q.per_channel
    assert "symmetric" in repr(q)


def test_given_scale_clips_outside_range():
    x = np.array([-10.0, 0.1, 10.0])
    q = quantize(x, 4, scale=0.1)  # q in [-7, 7]
    np.testing.assert_array_equal(q.codes, [-7, 1, 7])
    qa = quantize(x, 4, "affine", scale=0.1, zero_point=8)
    np.testing.assert_array_equal(qa.codes, [0, 9, 15])
    qc = quantize(np.ones((2, 2)), 8, per_channel=True, scale=np.array([0.5, 0.25]))
    np.testing.assert_array_equal(qc.codes, [[2, 2], [4, 4]])


def test_error_bound():
    x = np.linspace(-1, 1, 11)
    q = quantize(x, 4)
    assert error_bound(q) == pytest.approx(q.scale / 2)
    assert np.abs(q.dequantize() - x).max() <= error_bound(q) + 1e-12
    with pytest.raises(TypeError, match="q"):
        error_bound(x)


def test_pruned_zeros_stay_exactly_zero_affine():
    rng = np.random.RandomState(1)
    w = rng.randn(32, 16).astype(np.float32) + 0.3
    w[rng.rand(*w.shape) < 0.7] = 0.0
    for pc in (False, True):
        wh = quantize_dequantize(w, 4, "affine", per_channel=pc)
        assert np.all(wh[w == 0] == 0.0)


# ---------------------------------------------------------------- cross-checks against PyTorch
def _torch_q(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args).int_repr()


def test_matches_torch_quantize_per_tensor_affine():
    x = torch.randn(64, 33, generator=torch.Generator().manual_seed(3))
    q = quantize(x, 8, "affine")
    ref = _torch_q(torch.quantize_per_tensor, x, q.scale, q.zero_point, torch.quint8)
    assert torch.equal(q.codes, ref)


def test_matches_torch_quantize_per_tensor_symmetric():
    x = torch.randn(50, 20, generator=torch.Generator().manual_seed(4))
    q = quantize(x, 8, "symmetric")
    ref = _torch_q(torch.quantize_per_tensor, x, q.scale, 0, torch.qint8)
    assert torch.equal(q.codes, ref)


@pytest.mark.parametrize("scheme,dtype", [("symmetric", torch.qint8), ("affine", torch.quint8)])
def test_matches_torch_quantize_per_channel(scheme, dtype):
    x = torch.randn(16, 3, 3, 3, generator=torch.Generator().manual_seed(5))
    q = quantize(x, 8, scheme, per_channel=True, axis=0)
    ref = _torch_q(torch.quantize_per_channel, x, q.scale, q.zero_point, 0, dtype)
    assert torch.equal(q.codes, ref)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("bits,exc", [(0, ValueError), (17, ValueError), (2.5, TypeError),
                                      (True, TypeError), ("8", TypeError)])
def test_bad_bits(bits, exc):
    with pytest.raises(exc, match="bits"):
        quantize(np.ones(3), bits)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf, 1.0]),
                                 torch.tensor([float("nan")])])
def test_nan_inf_rejected(bad):
    with pytest.raises(ValueError, match="x"):
        quantize(bad, 8)


def test_other_bad_input():
    with pytest.raises(ValueError, match="x"):
        quantize(np.zeros(0), 8)
    with pytest.raises(TypeError, match="x"):
        quantize([1.0, 2.0], 8)
    with pytest.raises(ValueError, match="scheme"):
        quantize(np.ones(3), 8, "asymmetric")
    with pytest.raises(ValueError, match="per_channel"):
        quantize(np.ones(3), 8, per_channel=True)
    with pytest.raises(ValueError, match="axis"):
        quantize(np.ones((2, 3)), 8, per_channel=True, axis=2)
    with pytest.raises(TypeError, match="axis"):
        quantize(np.ones((2, 3)), 8, per_channel=True, axis=1.0)
    with pytest.raises(TypeError, match="per_channel"):
        quantize(np.ones((2, 3)), 8, per_channel="yes")
    with pytest.raises(ValueError, match="scale"):
        quantize(np.ones(3), 8, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        quantize(np.ones(3), 8, scale=float("nan"))
    with pytest.raises(ValueError, match="zero_point"):
        quantize(np.ones(3), 8, "affine", scale=0.1)
    with pytest.raises(ValueError, match="zero_point"):
        quantize(np.ones(3), 8, "symmetric", scale=0.1, zero_point=3)
    with pytest.raises(ValueError, match="zero_point"):
        quantize(np.ones(3), 8, "affine", scale=0.1, zero_point=256)
    with pytest.raises(ValueError, match="zero_point"):
        quantize(np.ones(3), 8, zero_point=0)
    with pytest.raises(ValueError, match="scale"):
        quantize(np.ones((2, 3)), 8, per_channel=True, scale=np.ones(3))
    with pytest.raises(TypeError, match="q"):
        dequantize(np.ones(3))


# ---------------------------------------------------------------- properties (hypothesis)
_floats = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False, width=32)
_arrays = arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 7)), elements=_floats)
_cfg = st.tuples(st.integers(2, 16), st.sampled_from(["symmetric", "affine"]), st.booleans(),
                 st.integers(0, 1))


@given(_arrays, _cfg)
def test_property_error_codes_zero_no_mutation(x, cfg):
    bits, scheme, pc, axis = cfg
    x_before = x.copy()
    q = quantize(x, bits, scheme, pc, axis)
    np.testing.assert_array_equal(x, x_before)                      # never mutated
    assert q.codes.min() >= q.qmin and q.codes.max() <= q.qmax      # codes inside the range
    xh = q.dequantize().astype(np.float64)
    bound = np.asarray(error_bound(q))
    if pc:
        shape = [1, 1]
        shape[axis] = -1
        bound = bound.reshape(shape)
    tol = 1e-6 * bound + 2e-7 * np.abs(x).max() + 1e-30
    assert np.all(np.abs(xh - x) <= bound + tol)                    # |x_hat - x| <= S/2
    assert np.all(xh[x == 0] == 0)                                  # zero exactly representable


@given(_arrays, _cfg)
def test_property_idempotent(x, cfg):
    bits, scheme, pc, axis = cfg
    once = quantize_dequantize(x, bits, scheme, pc, axis)
    twice = quantize_dequantize(once, bits, scheme, pc, axis)
    np.testing.assert_allclose(twice, once, rtol=1e-5, atol=1e-6 * (np.abs(x).max() + 1e-30))
    np.testing.assert_array_equal(quantize(once, bits, scheme, pc, axis).codes,
                                  quantize(x, bits, scheme, pc, axis).codes)


@given(st.integers(2, 8), st.sampled_from(["symmetric", "affine"]))
def test_property_torch_numpy_agree(bits, scheme):
    x = np.random.RandomState(bits).randn(7, 5).astype(np.float32)
    qn = quantize(x, bits, scheme, True)
    qt = quantize(torch.from_numpy(x.copy()), bits, scheme, True)
    np.testing.assert_array_equal(qn.codes, qt.codes.numpy())
    np.testing.assert_allclose(qn.scale, qt.scale.numpy())
