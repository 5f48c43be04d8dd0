"""pruninglab.hardware.energy: Horowitz table, scaling, per-layer model energy."""
import math

import pytest
import torch

from pruninglab.hardware import (access_energy, layer_profile, mac_energy, model_energy,
                                 op_energy, scaling_exponent)
from pruninglab.models import load_reference


def test_table_values_exact():
    assert op_energy("add", 8) == 0.03 and op_energy("mult", 32) == 3.1
    assert op_energy("mult", 16, "fp") == 1.1 and op_energy("add", 32, "fp") == 0.9
    assert mac_energy(8) == pytest.approx(0.3)          # int8 mult + int32 accumulate
    assert mac_energy(32, "fp") == pytest.approx(4.6)
    assert access_energy(32, "han_dram") == pytest.approx(640.0)
    assert access_energy(64, "sram_8kb") == pytest.approx(10.0)
    assert access_energy(32, "han_sram") == pytest.approx(5.0)


def test_quadratic_multiplier_linear_adder():
    assert scaling_exponent("mult") == pytest.approx(math.log(15.5) / math.log(4))
    assert 1.9 < scaling_exponent("mult") < 2.05 and 0.8 < scaling_exponent("add") < 1.0
    assert op_energy("mult", 16) == pytest.approx(0.2 * 2 ** scaling_exponent("mult"))
    assert op_energy("mult", 4) < op_energy("mult", 8) < op_energy("mult", 16)


def test_layer_profile_macs_exact():
    prof = {r["name"]: r for r in layer_profile(load_reference("cnn"), (2, 1, 8, 8))}
    assert prof["conv1"]["macs"] == 2 * 16 * 8 * 8 * 9
    assert prof["conv2"]["macs"] == 2 * 32 * 8 * 8 * 16 * 9
    assert prof["conv3"]["macs"] == 2 * 64 * 4 * 4 * 32 * 9
    assert prof["fc"]["macs"] == 2 * 10 * 256 and prof["fc"]["flops"] == 4 * 10 * 256
    mlp = {r["name"]: r for r in layer_profile(load_reference("mlp"), (1, 64))}
    assert [mlp[k]["macs"] for k in ("fc1", "fc2", "fc3")] == [16384, 32768, 1280]


def test_model_energy_hand_computed_mlp():
    m = load_reference("mlp")
    e = model_energy(m, (1, 64), bits=32)
    fc1 = e["layers"][0]
    assert fc1["compute_pj"] == pytest.approx(16384 * 4.6)
    assert fc1["weight_pj"] == pytest.approx(16384 * 640.0)       # 32-bit weights from DRAM
    assert fc1["act_pj"] == pytest.approx((64 + 256) * 5.0)
    assert e["memory_pj"] > 10 * e["compute_pj"]                  # memory dominates at batch 1
    e8 = model_energy(m, (1, 64), bits=8)
    assert e8["kind"] == "int" and e8["total_pj"] < e["total_pj"] / 3.5


def test_pruning_changes_energy_only_with_skipping_or_sparse_format():
    m = load_reference("mlp")
    dense = model_energy(m, (1, 64), 8, sparsity=0.9)
    assert dense["compute_pj"] == pytest.approx(model_energy(m, (1, 64), 8)["compute_pj"])
    csr = model_energy(m, (1, 64), 8, sparsity=0.9, format="csr", index_bits=16)
    assert csr["compute_pj"] == pytest.approx(dense["compute_pj"] * 0.1, rel=1e-3)
    assert csr["memory_pj"] < dense["memory_pj"]


def test_inputs_not_mutated_and_bad_input():
    m = load_reference("mlp")
    before = {k: v.clone() for k, v in m.state_dict().items()}
    model_energy(m, (4, 64), 8, sparsity={"fc1": 0.5})
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    with pytest.raises(ValueError, match="bits"):
        op_energy("add", 1)
    with pytest.raises(ValueError, match="op"):
        op_energy("div", 8)
    with pytest.raises(ValueError, match="level"):
        access_energy(8, "l2")
    with pytest.raises(ValueError, match="bits"):
        access_energy(float("nan"))
    with pytest.raises(ValueError, match="sparsity"):
        model_energy(m, (1, 64), 8, sparsity=1.5)
    with pytest.raises(ValueError, match="unknown layers"):
        model_energy(m, (1, 64), 8, sparsity={"nope": 0.5})
    with pytest.raises(TypeError, match="input_shape"):
        model_energy(m, 64)
    with pytest.raises(ValueError, match="input_shape"):
        model_energy(m, (0, 64))
