"""Every parametric generator against an independent computation (issue 12)."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from pruninglab import hardware as hw
from pruninglab.interview import GENERATORS, generate, grade_item, stream
from pruninglab.pruning.schedules import agp_sparsity
from pruninglab.quantization.linear import qparams, qrange, quantize_dequantize

SEEDS = range(12)


def _items(name):
    return [generate(name, s) for s in SEEDS]


def test_at_least_ten_generators_seeded_and_endless():
    assert len(GENERATORS) >= 10
    for name in GENERATORS:
        a, b = generate(name, 5), generate(name, 5)
        assert a == b and a.kind == "number" and a.prompt["zh"] and a.prompt["en"]
        assert len({generate(name, s).prompt["en"] for s in range(40)}) >= 3, name   # real variety
        assert grade_item(a, a.answer) == 1.0 and grade_item(a, a.answer * 1.5 + 1) == 0.0
    it = stream(0)
    got = [next(it) for _ in range(3 * len(GENERATORS))]
    assert len({g.id for g in got}) == len(got)
    with pytest.raises(ValueError, match="name"):
        generate("nope", 0)
    with pytest.raises(ValueError, match="seed"):
        generate("csr_bytes", -1)


def test_csr_bytes_matches_hardware_storage():
    for it in _items("csr_bytes"):
        p = it.params
        assert it.answer == hw.storage_bytes((p["rows"], p["cols"]), p["sparsity"], p["value_bits"], "csr",
                                             index_bits=p["index_bits"], ptr_bits=p["ptr_bits"])


def test_bitmask_bytes_matches_hardware_storage_and_a_real_tensor():
    for it in _items("bitmask_bytes"):
        p = it.params
        assert it.answer == hw.storage_bytes((p["rows"], p["cols"]), p["sparsity"], p["value_bits"], "bitmask")
        n = p["rows"] * p["cols"]
        w = np.ones(n)
        w[: int(round(p["sparsity"] * n))] = 0
        assert it.answer == math.ceil((n + np.count_nonzero(w) * p["value_bits"]) / 8)


def test_nm24_bytes_matches_hardware_storage():
    for it in _items("nm24_bytes"):
        p = it.params
        assert it.answer == hw.storage_bytes((p["rows"], p["cols"]), 0.5, p["value_bits"], "2:4")


def test_zero_point_matches_quantization_library():
    for it in _items("zero_point"):
        p = it.params
        x = np.array([p["r_min"], 0.0, p["r_max"]])
        s, z, qmin, qmax = qparams(x, bits=p["bits"], scheme="affine")
        assert (qmin, qmax) == (0, 2 ** p["bits"] - 1) == qrange(p["bits"], "affine")
        assert it.answer == int(z)


def test_scale_matches_quantization_library():
    for it in _items("sym_scale"):
        p = it.params
        s, *_ = qparams(np.array([p["max_abs"], -p["max_abs"] / 3]), bits=p["bits"], scheme="symmetric")
        assert it.answer == pytest.approx(float(s), rel=1e-12)


def test_rounding_error_bound_is_the_measured_maximum():
    for it in _items("rounding_error"):
        p = it.params
        x = np.linspace(-p["max_abs"], p["max_abs"], 200_001)
        err = np.abs(quantize_dequantize(x, bits=p["bits"], scheme="symmetric") - x).max()
        assert err <= it.answer * (1 + 1e-9) and err >= 0.999 * it.answer


def test_agp_value_matches_schedule():
    for it in _items("agp_value"):
        p = it.params
        assert it.answer == pytest.approx(agp_sparsity(p["k"] * 3, p["initial"], p["final"], 0, p["n_steps"], 3))


def test_conv_macs_and_params_match_a_real_pruned_layer():
    for it in _items("conv_macs"):
        p = it.params
        ci, co = round(p["c_in"] * p["keep"]), round(p["c_out"] * p["keep"])
        k, h = p["kernel"], p["out_hw"]
        layer = nn.Conv2d(ci, co, k, padding=k // 2)
        prof = hw.layer_profile(nn.Sequential(layer), (1, ci, h, h))
        assert it.answer == prof[0]["macs"]
    for it in _items("conv_params"):
        p = it.params
        layer = nn.Conv2d(p["c_in"], p["c_out"] - p["pruned_filters"], p["kernel"], bias=True)
        assert it.answer == sum(t.numel() for t in layer.parameters())


def test_layer_energy_matches_hardware_energy_model():
    for it in _items("layer_energy"):
        p = it.params
        macs = p["in_features"] * p["out_features"]
        e = macs * hw.mac_energy(p["bits"], p["kind"]) + hw.access_energy(macs * p["bits"], "han_dram")
        assert it.answer == pytest.approx(e, rel=1e-9)


def test_roofline_bound_matches_hardware_roofline():
    a100 = hw.PROFILES["A100"]
    for it in _items("roofline_bound"):
        p = it.params
        peak, _ = a100.peak(8 if p["bytes"] == 1 else 16)
        M, N, K, b = p["M"], p["N"], p["K"], p["bytes"]
        intensity = (2 * M * N * K) / (b * (M * K + K * N + M * N))
        assert it.answer == pytest.approx(hw.attainable(intensity, peak, a100.bandwidth) / 1e12, rel=1e-9)


def test_kv_cache_matches_tensor_shapes():
    for it in _items("kv_cache_gib"):
        p = it.params
        # one layer's K and V for one sequence, as real tensors, then scale up
        k = torch.empty(p["heads_kv"], 16, p["head_dim"], dtype=torch.float16 if p["bytes"] == 2 else torch.int8)
        per_16_tokens = 2 * k.numel() * k.element_size()
        total = per_16_tokens * (p["tokens"] // 16) * p["layers"] * p["batch"]
        assert it.answer == pytest.approx(total / 2 ** 30, rel=1e-12)


def test_group_bits_matches_packed_storage():
    for it in _items("group_bits"):
        p = it.params
        n = p["group"] * 1000
        bits = n * p["bits"] + (n // p["group"]) * (p["scale_bits"] + p["zero_bits"])
        assert it.answer == pytest.approx(bits / n, rel=1e-12)


def test_tokens_per_s_matches_bandwidth_over_bytes():
    for it in _items("tokens_per_s"):
        p = it.params
        seconds_per_token = p["params_billion"] * 1e9 * (p["weight_bits"] / 8) / p["bandwidth"]
        assert it.answer == pytest.approx(1 / seconds_per_token, rel=1e-9)


def test_kmeans_ratio_matches_codebook_storage():
    for it in _items("kmeans_ratio"):
        p = it.params
        c = int(math.log2(p["clusters"]))
        coded = hw.storage_bits((p["n"],), 0.0, 32, "codebook", cluster_bits=c)
        assert it.answer == pytest.approx(p["n"] * 32 / coded, rel=1e-9)
