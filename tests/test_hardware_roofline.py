"""pruninglab.hardware.roofline: formula, profiles, per-layer points (no timing asserted)."""
import numpy as np
import pytest

from pruninglab.hardware import (PROFILES, HardwareProfile, attainable, layer_roofline,
                                 precision_for_bits, ridge_point)
from pruninglab.models import load_reference

TOY = HardwareProfile("toy", {"fp32": 100.0, "int8": 400.0}, 10.0, sparse24=True)


def test_attainable_and_ridge():
    assert attainable(2.0, 100.0, 10.0) == 20.0
    assert attainable(50.0, 100.0, 10.0) == 100.0
    np.testing.assert_array_equal(attainable(np.array([1.0, 10.0, 20.0]), 100.0, 10.0),
                                  [10.0, 100.0, 100.0])
    assert ridge_point(312e12, 1555e9) == pytest.approx(200.64, rel=1e-4)
    assert PROFILES["A100"].ridge(16) == pytest.approx(312e12 / 1555e9)


def test_precision_and_unsupported():
    assert [precision_for_bits(b) for b in (4, 8, 16, 32)] == ["int8", "int8", "fp16", "fp32"]
    assert PROFILES["Edge TPU"].peak(32) == (None, "fp32")
    r = layer_roofline(load_reference("mlp"), (1, 64), "Edge TPU", 32)
    assert r["supported"] is False and r["layers"] == []
    assert PROFILES["STM32F746"].peak(16) == (0.432e9, "fp32")


def test_fc_batch1_intensity_is_two_over_bytes_per_weight():
    m = load_reference("mlp")
    r = layer_roofline(m, (1, 64), TOY, 32)
    fc2 = r["layers"][1]
    # FLOPs 2·256·128, bytes = 4·(256·128) weights + 4·(256 + 128) activations
    assert fc2["flops"] == 2 * 32768
    assert fc2["bytes"] == 4 * 32768 + 4 * 384
    assert fc2["intensity"] == pytest.approx(65536 / (4 * 32768 + 1536))
    assert fc2["attainable"] == pytest.approx(10.0 * fc2["intensity"]) and fc2["bound"] == "memory"
    # batch 64 reuses weights -> intensity grows
    r64 = layer_roofline(m, (64, 64), TOY, 32)
    assert r64["layers"][1]["intensity"] > 20 * fc2["intensity"]


def test_structures_move_points_as_documented():
    m = load_reference("mlp")
    dense = layer_roofline(m, (1, 64), TOY, 8)
    assert dense["peak"] == 400.0 and dense["speedup"] == pytest.approx(1.0)
    nm = layer_roofline(m, (1, 64), TOY, 8, structure="2:4")
    fc2 = nm["layers"][1]
    assert fc2["flops"] == 32768 and fc2["bytes"] == 32768 // 2 * 10 / 8 + 384
    assert nm["speedup"] > 1.0
    no24 = HardwareProfile("no24", {"int8": 400.0}, 10.0, sparse24=False)
    assert layer_roofline(m, (1, 64), no24, 8, structure="2:4")["speedup"] == pytest.approx(1.0)
    un = layer_roofline(m, (1, 64), TOY, 8, 0.9, "unstructured", index_bits=16,
                        sparse_efficiency=0.25)
    assert un["layers"][1]["peak"] == 100.0
    assert un["layers"][1]["flops"] == pytest.approx(2 * 32768 * 0.1)


def test_bad_input():
    m = load_reference("mlp")
    with pytest.raises(ValueError, match="profile"):
        layer_roofline(m, (1, 64), "TPUv9")
    with pytest.raises(ValueError, match="structure"):
        layer_roofline(m, (1, 64), TOY, 8, structure="4:8")
    with pytest.raises(ValueError, match="sparsity"):
        layer_roofline(m, (1, 64), TOY, 8, sparsity=1.0)
    with pytest.raises(ValueError, match="bits"):
        layer_roofline(m, (1, 64), TOY, 0)
    with pytest.raises(ValueError, match="peak"):
        attainable(1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="intensity"):
        attainable(np.array([np.nan]), 1.0, 1.0)
