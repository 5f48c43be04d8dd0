"""pruninglab.hardware.latency and latency_aware: structure of measurements (never their values)
and the latency-budget algorithms on a synthetic, deterministic lookup table."""
import pytest
import torch

from pruninglab.hardware import (flop_proportional_prune, latency_lut, linear_variants,
                                 measure_latency, netadapt_prune, pareto_front, scale_config,
                                 sparse_break_even, time_linear_variants, uniform_prune)


def test_measure_latency_structure():
    r = measure_latency(lambda: sum(range(10)), warmup=1, repeats=3, min_time=0.0)
    assert set(r) == {"median_s", "iqr_s", "number", "repeats"} and r["median_s"] > 0
    with pytest.raises(TypeError, match="fn"):
        measure_latency(3)


def test_variants_compute_the_same_product():
    fns = linear_variants(16, 8, 4, 0.5, variants=("dense", "sparse_csr", "channel"))
    d, s = fns["dense"](), fns["sparse_csr"]()
    torch.testing.assert_close(d, s.t(), rtol=1e-5, atol=1e-5)
    assert fns["channel"]().shape == (4, 4)
    with pytest.raises(ValueError, match="variants"):
        linear_variants(16, 8, 4, 0.5, variants=("gpu",))
    with pytest.raises(ValueError, match="sparsity"):
        linear_variants(16, 8, 4, 1.0)


def test_timing_helpers_return_structures():
    kw = dict(warmup=0, repeats=1, min_time=0.0)
    t = time_linear_variants(8, 8, 2, 0.5, **kw)
    assert {"dense", "sparse_csr", "channel"} <= set(t)
    be = sparse_break_even(8, 8, 1, (0.5, 0.9), **kw)
    assert be["sparsity"] == [0.5, 0.9] and len(be["csr_s"]) == 2
    assert be["break_even"] in (None, 0.5, 0.9)
    lut = latency_lut([4, 8], kind="conv", in_features=2, batch=1, spatial=4, **kw)
    assert sorted(lut) == [4, 8]
    with pytest.raises(ValueError, match="kind"):
        latency_lut([4], kind="rnn")
    with pytest.raises(ValueError, match="channels"):
        latency_lut([0])


# ---- latency-aware pruning on a synthetic staircase lookup table --------------------------
def staircase_latency(cfg):
    """Latency steps every 8 channels (like a vector width of 8): ceil(c/8)."""
    return sum(-(-c // 8) for c in cfg.values())


def flops(cfg):
    return 64 * cfg["a"] + cfg["a"] * cfg["b"]


def accuracy(cfg):
    # layer "a" matters 3x more than "b"; deterministic
    return 1.0 - 0.003 * (32 - cfg["a"]) - 0.001 * (32 - cfg["b"])


def test_scale_config_exact():
    assert scale_config({"a": 32, "b": 30}, 0.5, granularity=8) == {"a": 16, "b": 16}
    assert scale_config({"a": 3}, 0.0) == {"a": 1}


def test_netadapt_meets_budget_and_uses_the_staircase():
    full = {"a": 32, "b": 32}
    assert staircase_latency(full) == 8
    r = netadapt_prune(full, staircase_latency, 6, accuracy, steps=2)
    assert r["met_budget"] and r["latency"] <= 6 and r["initial_latency"] == 8
    # every chosen step removes only as many channels as the lookup table requires: multiples of 8
    assert all(v % 8 == 0 for v in r["config"].values())
    # it prunes the less important layer b: a stays at 32
    assert r["config"] == {"a": 32, "b": 16}
    assert r["accuracy"] == pytest.approx(accuracy({"a": 32, "b": 16}))
    assert [h["layer"] for h in r["history"]] == ["b", "b"]


def test_uniform_and_flop_proportional_baselines():
    full = {"a": 32, "b": 32}
    u = uniform_prune(full, staircase_latency, 6)
    assert u["latency"] <= 6 and u["config"] == {"a": 24, "b": 24}
    f = flop_proportional_prune(full, flops, 8, 6)
    assert f["flops"] <= f["flops_target"] == pytest.approx(3072 * 0.75)
    # netadapt reaches the same budget with higher accuracy than both baselines here
    n = netadapt_prune(full, staircase_latency, 6, accuracy, steps=2)
    assert n["accuracy"] > accuracy(u["config"]) and n["accuracy"] > accuracy(f["config"])


def test_pareto_front():
    assert pareto_front([(1.0, 0.9), (2.0, 0.8), (2.0, 0.95), (0.5, 0.5)]) == [3, 0, 2]


def test_bad_input():
    with pytest.raises(TypeError, match="channels"):
        netadapt_prune([32], staircase_latency, 6, accuracy)
    with pytest.raises(ValueError, match="budget"):
        netadapt_prune({"a": 8}, staircase_latency, 0, accuracy)
    with pytest.raises(TypeError, match="evaluate"):
        netadapt_prune({"a": 8}, staircase_latency, 1, None)
    with pytest.raises(ValueError, match="channels"):
        uniform_prune({"a": 0}, staircase_latency, 1)
