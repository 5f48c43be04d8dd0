"""Model helpers (simulated quantization, k-means) and integer-only inference."""
import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.quantization import (IntegerMLP, integer_linear, kmeans_quantize_model,
                                     qparams, quantizable_layers, quantize, quantize_model,
                                     quantize_multiplier)
from pruninglab.train import accuracy, predict_logits


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_quantize_model_report_and_purity(mlp):
    before = _state(mlp)
    q, rep = quantize_model(mlp, 8)
    assert all(torch.equal(v, mlp.state_dict()[k]) for k, v in before.items())
    assert set(rep) == {"fc1", "fc2", "fc3"} == set(quantizable_layers(mlp))
    for n, r in rep.items():
        w = getattr(mlp, n).weight.detach()
        wq = getattr(q, n).weight.detach()
        assert r["bits"] == 8 and r["numel"] == w.numel()
        assert r["scale"].shape == (w.shape[0],)
        assert 0 < r["max_abs_error"] <= float(r["error_bound"].max()) + 1e-6
        assert r["max_abs_error"] == pytest.approx(float((wq - w).abs().max()))
        assert torch.equal(getattr(q, n).bias, getattr(mlp, n).bias)  # biases stay float
        assert torch.unique(wq[0]).numel() <= 255
    assert rep["fc1"]["qtensor"].codes.dtype == torch.int8


def test_quantize_model_accuracy(mlp, digits):
    """8-bit per-channel keeps validation accuracy within 0.5 point; 2 bits does not."""
    base = accuracy(mlp, digits["val"])
    acc = {b: accuracy(quantize_model(mlp, b)[0], digits["val"]) for b in (8, 4, 2)}
    assert abs(acc[8] - base) <= 0.005
    assert acc[4] >= base - 0.02
    assert acc[2] < base - 0.1


def test_quantize_model_mixed_and_layers(mlp):
    q, rep = quantize_model(mlp, {"fc1": 4}, scheme="affine", per_channel=False)
    assert set(rep) == {"fc1"} and rep["fc1"]["bits"] == 4
    assert isinstance(rep["fc1"]["scale"], float)
    assert torch.equal(q.fc2.weight, mlp.fc2.weight)
    q, rep = quantize_model(mlp, 4, layers=["fc3"])
    assert set(rep) == {"fc3"}
    with pytest.raises(ValueError, match="layers"):
        quantize_model(mlp, 8, layers=["conv9"])
    with pytest.raises(ValueError, match="bits"):
        quantize_model(mlp, {"fc9": 4})
    with pytest.raises(ValueError, match="bits"):
        quantize_model(mlp, 0)
    with pytest.raises(ValueError, match="scheme"):
        quantize_model(mlp, 8, scheme="log")
    with pytest.raises(TypeError, match="model"):
        quantize_model(None, 8)


def test_quantize_model_keeps_pruned_zeros(mlp):
    m = __import__("copy").deepcopy(mlp)
    with torch.no_grad():
        m.fc1.weight[m.fc1.weight.abs() < 0.05] = 0.0
    zeros = m.fc1.weight == 0
    for scheme in ("symmetric", "affine"):
        q, _ = quantize_model(m, 4, scheme=scheme)
        assert torch.all(q.fc1.weight[zeros] == 0)
    qk, rep = kmeans_quantize_model(m, 2)
    assert torch.all(qk.fc1.weight[zeros] == 0)
    assert torch.unique(qk.fc1.weight).numel() <= 5  # 4 centroids + exact zero


def test_kmeans_quantize_model(mlp, digits):
    before = _state(mlp)
    q, rep = kmeans_quantize_model(mlp, 4)
    assert all(torch.equal(v, mlp.state_dict()[k]) for k, v in before.items())
    assert rep["fc2"]["k"] == 16 and rep["fc2"]["codebook"].shape == (16,)
    assert torch.unique(q.fc2.weight).numel() <= 16
    assert accuracy(q, digits["val"]) >= accuracy(mlp, digits["val"]) - 0.01


# ---------------------------------------------------------------- integer-only arithmetic
def test_quantize_multiplier():
    m0, sh = quantize_multiplier(0.75)
    assert (m0, sh) == (3 * 2 ** 29, 0)
    m0, sh = quantize_multiplier(0.001)
    assert 2 ** 30 <= m0 < 2 ** 31
    assert m0 * 2.0 ** (-31 - sh) == pytest.approx(0.001, rel=1e-9)
    with pytest.raises(ValueError, match="m"):
        quantize_multiplier(1.5)


def test_integer_linear_tiny_exact():
    x = np.array([[0.0, 1.0, 2.0]])
    w = np.array([[1.0, -1.0, 0.5], [0.0, 2.0, 1.0]])
    xq = quantize(x, 8, "affine")                  # S_x = 2/255, Z_x = 0
    wq = quantize(w, 8, "symmetric")               # S_w = 2/127
    yq = integer_linear(xq, wq, np.array([0.5, -1.0]), out_scale=0.05, out_zero_point=100)
    # float result: [-1+1+0.5, 2+2-1] = [0.5, 3.0] -> codes 100 + [10, 60]
    np.testing.assert_array_equal(yq.codes, [[110, 160]])
    np.testing.assert_allclose(yq.dequantize(), [[0.5, 3.0]], atol=0.05)
    yr = integer_linear(xq, wq, np.array([-5.0, 0.0]), out_scale=0.05, out_zero_point=100,
                        relu=True)
    assert yr.codes[0, 0] == 100  # fused ReLU clamps at the zero-point


def test_integer_linear_matches_float_within_error():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(32, 64, generator=g)
    w = torch.randn(16, 64, generator=g) * 0.2
    b = torch.randn(16, generator=g) * 0.1
    y = x @ w.T + b
    s_y, z_y, _, _ = qparams(y, 8, "affine")
    yq = integer_linear(quantize(x, 8, "affine"), quantize(w, 8, per_channel=True), b,
                        out_scale=s_y, out_zero_point=z_y)
    assert isinstance(yq.codes, torch.Tensor) and yq.codes.dtype == torch.uint8
    err = (yq.dequantize() - y).abs().max()
    # weight + activation rounding (each <= S/2) through a 64-term dot product, plus output S/2
    assert err < 3 * s_y


def test_integer_linear_bad_input():
    xq = quantize(np.ones((2, 3)), 8, "affine")
    wq = quantize(np.ones((4, 3)), 8)
    with pytest.raises(TypeError, match="x_q"):
        integer_linear(np.ones((2, 3)), wq, out_scale=0.1)
    with pytest.raises(ValueError, match="features"):
        integer_linear(xq, quantize(np.ones((4, 5)), 8), out_scale=0.1)
    with pytest.raises(ValueError, match="bias"):
        integer_linear(xq, wq, np.ones(3), out_scale=0.1)
    with pytest.raises(ValueError, match="out_scale"):
        integer_linear(xq, wq, out_scale=-1.0)
    with pytest.raises(ValueError, match="out_scale"):
        integer_linear(xq, wq, out_scale=1e-9)
    with pytest.raises(ValueError, match="out_zero_point"):
        integer_linear(xq, wq, out_scale=0.1, out_zero_point=300)
    with pytest.raises(ValueError, match="x_q"):
        integer_linear(quantize(np.ones((2, 3)), 8, "affine", per_channel=True), wq, out_scale=0.1)


def test_integer_mlp_accuracy(mlp, digits):
    im = IntegerMLP.from_float(mlp, digits["train"].x, 8)
    base = accuracy(mlp, digits["val"])
    assert abs(im.accuracy(digits["val"]) - base) <= 0.01
    codes = im.forward_codes(digits["val"].x[:5])
    assert codes.codes.dtype == torch.uint8
    logits = predict_logits(mlp, digits["val"].x)
    agree = (im(digits["val"].x).argmax(1) == logits.argmax(1)).float().mean()
    assert agree >= 0.98
    with pytest.raises(ValueError, match="nn.Linear"):
        IntegerMLP.from_float(nn.Sequential(nn.Conv2d(1, 1, 1)), digits["train"].x)
