"""pruninglab.labs.quantization (+ its fallback quantizers): notebook-05 computations and UI."""
import numpy as np
import pytest
import torch

from pruninglab.labs import quantization as LQ
from pruninglab.labs import _quant_fallback as F
from pruninglab.ui import bits_slider, dropdown, slider_ui


def test_linear_quantize_exact_small():
    w = torch.tensor([[-1.0, -0.3, 0.0, 0.2, 0.9]])
    r = LQ.linear_quantize(w, bits=4, scheme="symmetric")
    assert r["q"].tolist() == [[-7, -2, 0, 1, 6]] and r["q"].dtype == torch.int8
    assert float(r["scale"]) == pytest.approx(1 / 7)
    a = LQ.linear_quantize(w, bits=4, scheme="affine")
    assert a["q"].tolist() == [[0, 6, 8, 10, 15]] and int(a["zero_point"]) == 8
    assert float(a["dequantized"][0, 2]) == 0.0  # zero exactly representable


def test_fallback_properties():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(6, 10, generator=g)
    for scheme in ("symmetric", "affine"):
        for pc in (False, True):
            qt = F.quantize(w, 3, scheme, pc)
            deq = F.dequantize(qt)
            s = qt.scale if pc else qt.scale.reshape(1, 1)
            assert torch.all((deq - w).abs() <= s / 2 + 1e-6)  # error ≤ S/2 inside the range
            assert torch.unique(qt.q).numel() <= 8
    assert torch.equal(w, torch.randn(6, 10, generator=torch.Generator().manual_seed(0)))  # pure
    km = F.kmeans_quantize(w, 2)
    assert km.codebook.numel() == 4 and torch.unique(km.dequantized).numel() <= 4
    with pytest.raises(ValueError, match="bits"):
        F.quantize(w, 1, "symmetric")
    with pytest.raises(ValueError, match="bits"):
        F.quantize(w, 17, "affine")
    with pytest.raises(ValueError, match="w"):
        F.quantize(torch.tensor([float("nan")]), 8)
    with pytest.raises(ValueError, match="scheme"):
        F.quantize(w, 8, "log")


def test_quantize_report_same_param_count():
    r = LQ.quantize_report(8)
    assert r["params_quant"] == r["params_fp32"] == 50826
    assert r["code_dtype"] == "torch.int8" and -127 <= r["code_min"] and r["code_max"] <= 127
    assert r["distinct_quant"] <= 255 < r["distinct_fp32"]
    assert r["weight_bytes_fp32"] == 4 * r["weight_bytes_quant"] == 4 * 50432


def test_compute_quant_values_and_validation(mlp):
    r8 = LQ.compute_quant(8, "symmetric", True, "ptq")
    assert r8["weight_bytes"] == 50432 + 8 * (256 + 128 + 10)
    assert r8["val_accuracy"] > 0.9 and r8["mean_abs_error"] > 0
    r2 = LQ.compute_quant(2, "symmetric", False, "ptq")
    assert r2["mean_abs_error"] > r8["mean_abs_error"]
    km = LQ.compute_quant(2, "symmetric", True, "kmeans")
    assert km["distinct_max"] <= 4
    assert LQ.compute_quant(1, "affine", True, "ptq")["energy_nj"] is None
    with pytest.raises(ValueError, match="bits"):
        LQ.compute_quant(1, "symmetric", True, "ptq")
    with pytest.raises(ValueError, match="bits"):
        LQ.compute_quant(0)
    with pytest.raises(ValueError, match="method"):
        LQ.compute_quant(4, method="gradual")
    with pytest.raises(TypeError, match="per_channel"):
        LQ.compute_quant(4, per_channel="yes")
    q = LQ.quantize_model_weights(mlp, 4)
    assert not torch.equal(q.fc1.weight, mlp.fc1.weight)
    assert torch.unique(q.fc1.weight[0]).numel() <= 15


def test_qat_recovers_2bit_accuracy():
    ptq = LQ.compute_quant(2, "symmetric", True, "ptq")["val_accuracy"]
    qat = LQ.compute_quant(2, "symmetric", True, "qat")["val_accuracy"]
    assert qat > ptq


def test_binary_ternary_levels():
    r = LQ.binary_ternary_report()
    assert r["binary"]["weight_bits"] == 50432 + 32 * (256 + 128 + 10)
    w = torch.tensor([[1.0, -2.0, 0.1, -0.1]], dtype=torch.float64)
    assert LQ._binary(w).tolist() == [[0.8, -0.8, 0.8, -0.8]]
    t = LQ._ternary(w)  # delta = 0.7 * 0.8 = 0.56, alpha = mean(1, 2) = 1.5
    assert t.tolist() == [[1.5, -1.5, 0.0, -0.0]]


def test_dynamic_int8_report():
    r = LQ.dynamic_int8_report()
    assert r["params_int8"] == r["params_fp32"]
    assert r["weight_bytes_int8"] == 50432 + 3 * 8


def test_slider_ui():
    ui = slider_ui(LQ.compute_quant, None, bits=bits_slider(4, 2, 16),
                   scheme=dropdown(["symmetric", "affine"]), per_channel=dropdown([True, False]),
                   method=dropdown(["ptq", "qat", "kmeans"]))
    ui.children[0].value = 3
    assert ui.result["bits"] == 3 and ui.result["method"] == "ptq"
    ui.children[3].value = "kmeans"
    assert ui.result["method"] == "kmeans" and ui.result["distinct_max"] <= 8
