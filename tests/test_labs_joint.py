"""pruninglab.labs.joint: Deep-Compression pipeline computations and the notebook-06 slider."""
import pytest
import torch

from pruninglab.labs import joint as J
from pruninglab.ui import bits_slider, dropdown, grid_slider, slider_ui, sparsity_slider


def test_quantize_survivors_keeps_zeros_and_is_pure():
    w = torch.tensor([[0.0, 0.5, -0.25, 0.0], [1.0, 0.0, -1.0, 0.125]])
    w0 = w.clone()
    for method in ("kmeans", "linear"):
        q = J.quantize_survivors(w, 2, method)
        assert torch.all(q[w == 0] == 0)
        assert torch.equal(w, w0)
    q = J.quantize_survivors(w, 1, "kmeans")  # two centroids over the 5 survivors
    assert torch.unique(q[w != 0]).numel() == 2
    with pytest.raises(ValueError, match="method"):
        J.quantize_survivors(w, 2, "huffman")
    with pytest.raises(ValueError, match="bits"):
        J.quantize_survivors(w, 1, "linear")
    with pytest.raises(ValueError, match="w"):
        J.quantize_survivors(torch.tensor([float("inf")]), 2)


def test_naive_minmax_destroys_zero():
    w = torch.tensor([-1.0, 0.0, 0.3, 2.0])
    r = J.naive_minmax_dequantize(w, 2)  # grid -1, 0, 1, 2 (S = 1) → 0 kept here
    assert r.tolist() == [-1.0, 0.0, 0.0, 2.0]
    w = torch.tensor([-1.0, 0.0, 0.3, 1.5])  # S = 2.5/3: grid misses 0
    assert float(J.naive_minmax_dequantize(w, 2)[1]) != 0.0


def test_zero_preservation_values():
    r = J.zero_preservation(0.9, 4)
    q = r["quantizers"]
    assert q["naive min-max"]["still_zero"] < r["pruned"]
    assert q["k-means over survivors"]["still_zero"] == r["pruned"]
    assert q["symmetric linear (Z=0)"]["still_zero"] == r["pruned"]


def test_compute_joint_sizes_and_validation():
    r = J.compute_joint(0.9, 4, "kmeans")
    assert abs(r["real_sparsity"] - 0.9) < 1e-3
    assert r["best_bytes"] == min(r["bytes"].values()) and r["best_format"] == "relative"
    assert r["fp32_bytes"] == 4 * 50826 and r["compression"] > 10
    # k-means on the survivors: k <= 16 non-zero shared values per layer AND the zeros, so dense
    # codes need ceil(log2(k + 1)) bits (5 where k = 16: 2^b + 1 levels), bitmask only ceil(log2 k);
    # one fp32 codebook entry per non-zero value, fp32 biases (394)
    import math
    model, _ = J._pruned(0.9, True)
    ws = {n: J.quantize_survivors(getattr(model, n).weight.detach(), 4) for n in ("fc1", "fc2", "fc3")}
    ks = {n: int(torch.unique(w[w != 0]).numel()) for n, w in ws.items()}
    assert ks["fc1"] == ks["fc2"] == 16
    book = 32 * sum(ks.values()) + 394 * 32
    assert r["bytes"]["dense"] == -(-(sum(w.numel() * math.ceil(math.log2(ks[n] + 1)) for n, w in ws.items())
                                      + book) // 8)
    assert r["bytes"]["bitmask"] == -(-(sum(w.numel() + int((w != 0).sum()) * math.ceil(math.log2(ks[n]))
                                            for n, w in ws.items()) + book) // 8)
    r0 = J.compute_joint(0.0, 8, "kmeans", False)
    assert r0["real_sparsity"] == 0.0
    # no zeros: plain 8-bit codes + 256-entry codebooks (at most) + biases
    assert r0["bytes"]["dense"] <= (50432 * 8 + 3 * 256 * 32 + 394 * 32) // 8
    with pytest.raises(ValueError, match="sparsity"):
        J.compute_joint(1.0, 4)
    with pytest.raises(ValueError, match="bits"):
        J.compute_joint(0.5, 0)
    with pytest.raises(TypeError, match="fine_tune"):
        J.compute_joint(0.5, 4, "kmeans", "yes")


def test_precompute_table_is_cached_and_equals_fresh_computation(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    monkeypatch.setattr(J, "_PANEL_GRID", (0.9,))      # the panel grid is always included
    monkeypatch.setattr(J, "_MEMO", {})
    grid = dict(sparsities=(0.9,), bits=(3, 4), methods=("kmeans",), fine_tune=(True,))
    n = J.precompute_joint(**grid)
    assert n == 2
    first = J.compute_joint(0.9, 3)
    assert len(list(tmp_path.glob("joint06-table-*.pt"))) == 1
    J._MEMO.clear()
    assert J.precompute_joint(**grid) == n  # loaded from disk
    assert J.compute_joint(0.9, 3) == first
    J._MEMO.clear()
    monkeypatch.setenv("PRUNINGLAB_CACHE", "off")
    assert J.compute_joint(0.9, 3) == first  # fresh, uncached computation: identical


def test_slider_ui():
    ui = slider_ui(J.compute_joint, None, sparsity=sparsity_slider(0.9, hi=0.95, step=0.05),
                   bits=bits_slider(4, 2, 8), method=dropdown(["kmeans", "linear"]),
                   fine_tune=dropdown([True, False]))
    ui.children[1].value = 2
    assert ui.result["bits"] == 2 and ui.result["sparsity"] == pytest.approx(0.9)
    ui.children[0].value = 0.5
    assert abs(ui.result["real_sparsity"] - 0.5) < 1e-3
    ui.children[2].value = "linear"
    assert ui.result["method"] == "linear"


def test_type_errors_and_constant_tensor():
    import numpy as np
    with pytest.raises(TypeError, match="w"):
        J.quantize_survivors(np.ones((2, 2)), 2)
    with pytest.raises(TypeError, match="w"):
        J.naive_minmax_dequantize(np.ones(3), 2)
    c = torch.full((3,), 0.5)
    assert torch.equal(J.naive_minmax_dequantize(c, 2), c)


def test_live_joint_updates_in_place(capsys):
    live = J.live_joint()
    ui = slider_ui(J.compute_joint, live, sparsity=grid_slider(J.SPARSITIES, 0.9),
                   bits=bits_slider(4, 2, 8), method=dropdown(["kmeans", "linear"]),
                   fine_tune=dropdown([True, False]))
    fig, png, before = live.fig, live.png, ui.result
    ui.children[1].value = 3
    assert ui.result["bits"] == 3 and ui.result != before
    assert live.fig is fig and live.png != png
    assert "sparsity 90%, 3-bit kmeans after fine-tuning: val accuracy" in capsys.readouterr().out
    r = J.compute_joint(0.9, 3)
    r["bytes"]["dense"] = -1                       # callers cannot corrupt the cache
    assert J.compute_joint(0.9, 3)["bytes"]["dense"] > 0


def test_deep_compression_report_runs_learner_function_and_adds_filler_code_bit():
    from pruninglab.grading._joint_ex import deep_compression_oracle
    from pruninglab.grading.solutions import solution_source
    from pruninglab.labs import joint as J
    ns = {}
    exec(solution_source("deep_compression_bits"), ns)
    r = J.deep_compression_report(ns["deep_compression_bits"], 0.9, 4, 5)
    ws = J.shared_weights(0.9, 4)
    for n, v in r["layers"].items():
        assert v["yours_bits"] == deep_compression_oracle(ws[n], 5, 32)
        assert v["levels"] <= 16
    # with fillers present, 17 levels need 5-bit codes: the correct count is larger
    assert r["yours_total_bits"] > r["b_bit_total_bits"]


def test_live_joint_blits_with_accuracy_axis_from_the_data():
    live = J.live_joint()
    assert live.blitting and len(live._bg) == 4        # warm: one background per quantizer x fine-tune
    for method in ("kmeans", "linear"):
        for ft in (True, False):
            accs = [100 * J.compute_joint(s, b, method, ft)["val_accuracy"]
                    for s in J.SPARSITIES for b in range(2, 9)]
            for s, b in ((0.0, 2), (0.95, 8), (0.85, 3)):
                r = J.compute_joint(s, b, method, ft)
                assert live.blit_matches_full_redraw(r)
                lo, hi = live.state["a2"].get_ylim()
                assert lo <= min(accs) and max(accs) <= hi          # every curve point inside
                assert hi - lo < 1.2 * (max(accs) - min(accs)) + 1.5  # zoomed: not 0-100
    lo, _ = J._acc_limits("kmeans", True)
    assert lo > 50  # the fine-tuned k-means curves never drop below 80 %: no flat 0-100 axis


def test_table_grid_is_half_the_former_one_and_holds_every_sparsity_the_notebook_reads():
    assert len(J.SPARSITIES) == 10 and J.SPARSITIES == tuple(sorted(J.SPARSITIES))
    for s in (0.0, 0.5, 0.8, 0.9, 0.95):   # joint_grid, best-setting search, order/zero studies
        assert s in J.SPARSITIES
