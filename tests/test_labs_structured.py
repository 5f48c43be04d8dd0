"""Tests for pruninglab.labs.structured (notebook 02_structured_pruning)."""
import copy

import ipywidgets as w
import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.labs import structured as S
from pruninglab.models import load_reference
from pruninglab.ui import dropdown, float_slider, slider_ui


@pytest.fixture(scope="module")
def cnn():
    return load_reference("cnn")


@pytest.fixture(scope="module")
def sweep():
    # small and fast: two ratios, no fine-tuning
    return S.structured_sweep("cnn", ratios=(0.0, 0.5), epochs=0)


def test_uniform_ratios_and_shapes(cnn):
    assert S.uniform_ratios(cnn, 0.5) == {"conv1": 0.5, "conv2": 0.5, "conv3": 0.5}
    small = S.structured_prune(cnn, 0.5, "l1")
    assert tuple(small.conv1.weight.shape) == (8, 1, 3, 3)
    assert tuple(small.conv2.weight.shape) == (16, 8, 3, 3)
    assert tuple(small.conv3.weight.shape) == (32, 16, 3, 3)
    assert tuple(small.bn3.weight.shape) == (32,)
    assert tuple(small.fc.weight.shape) == (10, 128)
    assert tuple(cnn.conv1.weight.shape) == (16, 1, 3, 3)   # input unchanged


def test_shrink_equals_zero_mode(cnn):
    x = torch.randn(7, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    for crit in S.CRITERIA:
        a = S.structured_prune(cnn, 0.375, crit, seed=3)
        b = S.structured_prune(cnn, 0.375, crit, mode="zero", seed=3)
        with torch.no_grad():
            assert torch.allclose(a(x), b(x), atol=1e-5)
    # random criterion differs from l1 and depends on the seed
    k_l1 = S.structured_prune(cnn, 0.5, "l1").conv1.weight
    k_r0 = S.structured_prune(cnn, 0.5, "random", seed=0).conv1.weight
    k_r1 = S.structured_prune(cnn, 0.5, "random", seed=1).conv1.weight
    assert not torch.equal(k_l1, k_r0) and not torch.equal(k_r0, k_r1)


def test_cost_summary_exact(cnn):
    c = S.cost_summary(cnn)
    # conv1 64·16·9, conv2 64·32·16·9, conv3 16·64·32·9, fc 10·256
    assert c["macs"] == 64 * 16 * 9 + 64 * 32 * 16 * 9 + 16 * 64 * 32 * 9 + 2560
    assert c["weights"] == 16 * 9 + 32 * 16 * 9 + 64 * 32 * 9 + 2560
    assert c["nonzero_weights"] == c["weights"]
    s = S.cost_summary(S.structured_prune(cnn, 0.5, "l1"))
    assert s["macs"] == 64 * 8 * 9 + 64 * 16 * 8 * 9 + 16 * 32 * 16 * 9 + 1280
    assert s["bytes"] < c["bytes"] and s["energy_pj"] < c["energy_pj"]
    mlp = load_reference("mlp")
    assert S.cost_summary(mlp)["macs"] == 64 * 256 + 256 * 128 + 128 * 10
    assert S.input_shape_of(mlp, 4) == (4, 64) and S.input_shape_of(cnn) == (1, 1, 8, 8)


def test_unstructured_like_equal_counts(cnn):
    small = S.structured_prune(cnn, 0.5, "l1")
    sp = S.equal_param_sparsity(cnn, small)
    assert sp["conv2"] == pytest.approx(0.75)
    m, masks = S.unstructured_like(cnn, small)
    for n in ("conv1", "conv2", "conv3", "fc"):
        assert int(masks[n].sum()) == getattr(small, n).weight.numel()
        assert int((getattr(m, n).weight != 0).sum()) == getattr(small, n).weight.numel()
    assert int((cnn.conv2.weight == 0).sum()) == 0      # original untouched


def test_numpy_dict_roundtrip():
    mlp = load_reference("mlp")
    d = S.to_numpy_dict(mlp)
    assert set(d) == {"fc1", "fc2", "fc3"} and d["fc1"]["weights"].shape == (256, 64)
    d["fc1"]["weights"][:] = 0
    assert float(mlp.fc1.weight.detach().abs().sum()) > 0       # copies, not views
    m2 = S.from_numpy_dict(mlp, d)
    assert float(m2.fc1.weight.detach().abs().sum()) == 0 and float(mlp.fc1.weight.detach().abs().sum()) > 0
    with pytest.raises(ValueError, match="weights"):
        S.from_numpy_dict(mlp, {"fc1": {"weights": np.zeros((3, 3)), "biases": np.zeros(3)}})
    with pytest.raises(ValueError, match="fc9"):
        S.from_numpy_dict(mlp, {"fc9": d["fc1"]})
    with pytest.raises(TypeError, match="params"):
        S.from_numpy_dict(mlp, [1, 2])


def test_bad_inputs(cnn, sweep):
    with pytest.raises(ValueError, match="ratio"):
        S.uniform_ratios(cnn, 1.0)
    with pytest.raises(ValueError, match="ratio"):
        S.uniform_ratios(cnn, 0.98)          # round(0.98·16) = 16: all of conv1
    with pytest.raises(TypeError, match="ratio"):
        S.structured_prune(cnn, "half")
    with pytest.raises(ValueError, match="criterion"):
        S.structured_prune(cnn, 0.5, "l3")
    with pytest.raises(ValueError, match="mode"):
        S.structured_prune(cnn, 0.5, "l1", mode="delete")
    with pytest.raises(TypeError, match="model"):
        S.cost_summary("cnn")
    with pytest.raises(ValueError, match="model_name"):
        S.structured_sweep("resnet")
    with pytest.raises(ValueError, match="methods"):
        S.structured_sweep("cnn", methods=("l1", "taylor"))
    with pytest.raises(ValueError, match="epochs"):
        S.structured_sweep("cnn", epochs=-1)
    with pytest.raises(TypeError, match="sweep"):
        S.compute_structured(0.5, "l1", {"x": 1})
    with pytest.raises(ValueError, match="criterion"):
        S.compute_structured(0.5, "unstructured", sweep)
    with pytest.raises(ValueError, match="ratio"):
        S.compute_structured(-0.1, "l1", sweep)


def test_sweep_and_compute_exact(sweep):
    assert list(sweep["ratios"]) == [0.0, 0.5]
    d = sweep["dense"]
    l1 = sweep["l1"]
    assert l1["macs"][0] == d["macs"] and l1["macs"][1] == 153344
    # no fine-tuning: before == after, and ratio 0 reproduces the dense accuracy for every method
    for meth in S.METHODS:
        np.testing.assert_array_equal(sweep[meth]["val_pruned"], sweep[meth]["val_finetuned"])
        assert sweep[meth]["val_pruned"][0] == pytest.approx(sweep["dense_val"])
    u = sweep["unstructured"]
    assert u["macs"][1] == d["macs"] and u["nonzero_weights"][1] == l1["weights"][1]
    r = S.compute_structured(0.5, "l1", sweep)
    assert r["macs"] == 153344 and r["params"] == int(l1["params"][1])
    assert r["val_pruned"] == pytest.approx(float(l1["val_pruned"][1]))
    assert r["unstructured"]["macs_dense"] == d["macs"]
    assert r["unstructured"]["nonzero_weights"] == int(l1["weights"][1])
    assert r["grid_ratio"] == 0.5
    r2 = S.compute_structured(0.125, "l1", sweep)
    assert r2["grid_ratio"] == 0.0 and r2["macs"] == 461888


def test_compute_does_not_mutate(sweep):
    before = copy.deepcopy(sweep["model"].state_dict())
    S.compute_structured(0.625, "random", sweep)
    after = sweep["model"].state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_slider_ui_updates(sweep):
    ui = slider_ui(S.compute_structured, None,
                   ratio=float_slider(0.5, 0.0, 0.875, 0.125, "ratio"),
                   criterion=dropdown(S.CRITERIA, "l1", "criterion"), sweep=w.fixed(sweep))
    assert ui.result["macs"] == 153344
    ui.children[0].value = 0.0
    assert ui.result["macs"] == sweep["dense"]["macs"] and ui.result["ratio"] == 0.0
    ui.children[0].value = 0.5
    ui.children[1].value = "random"
    assert ui.result["criterion"] == "random" and ui.result["macs"] == 153344
    assert ui.result["val_pruned"] == pytest.approx(float(sweep["random"]["val_pruned"][1]))


def test_live_slider_redraws(sweep):
    import matplotlib
    matplotlib.use("Agg")
    # the grid points were computed by structured_sweep; a cached result equals a live one
    assert (0.5, "l1") in sweep["_live"] and (0.0, "random") in sweep["_live"]
    live = S.live_structured()
    ui = slider_ui(S.compute_structured, live,
                   ratio=float_slider(0.5, 0.0, 0.875, 0.125, "ratio"),
                   criterion=dropdown(S.CRITERIA, "l1", "criterion"), sweep=w.fixed(sweep))
    png0, res0 = live.png, ui.result
    assert png0 is not None and png0[:4] == b"\x89PNG"
    ui.children[0].value = 0.0
    assert ui.result is not res0 and ui.result["macs"] == sweep["dense"]["macs"]
    assert live.png != png0
    png1 = live.png
    ui.children[1].value = "random"
    assert ui.result["criterion"] == "random" and live.png != png1
    # off-grid ratio: computed live, cached afterwards
    r = S.compute_structured(0.25, "l2", sweep)
    assert r["macs"] == S.cost_summary(S.structured_prune(sweep["model"], 0.25, "l2"))["macs"]
    assert (0.25, "l2") in sweep["_live"]


def test_render_structured_text(sweep, capsys):
    import matplotlib
    matplotlib.use("Agg")
    r = S.compute_structured(0.5, "l1", sweep)
    S.render_structured(r)
    out = capsys.readouterr().out
    assert out.startswith("l1 ratio 0.500: val acc ")
    assert "  structured : params 7234 / 25978, MACs 153344 / 601600" in out


def test_interleaved_latency_and_cached_sweep(cnn, tmp_path, monkeypatch):
    import numpy as np
    import torch
    from pruninglab.labs import structured as S
    r = S.interleaved_latency({"a": cnn, "b": S.structured_prune(cnn, 0.5)}, torch.zeros(2, 1, 8, 8),
                              rounds=3, warmup=1)
    assert set(r) == {"a", "b", "flush_denormal"} and len(r["a"]["times_s"]) == 3
    assert r["a"]["min_s"] <= r["a"]["median_s"] <= r["a"]["max_s"]
    assert torch.set_flush_denormal(False) or True          # flushing switched off again
    with pytest.raises(TypeError, match="variants"):
        S.interleaved_latency({}, torch.zeros(1))
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    a = S.structured_sweep("mlp", (0.5,), epochs=0)
    b = S.cached_sweep("mlp", (0.5,), epochs=0)
    c = S.cached_sweep("mlp", (0.5,), epochs=0)          # from disk
    assert any(tmp_path.iterdir())
    for m in S.METHODS:
        for k in a[m]:
            assert np.array_equal(a[m][k], b[m][k]) and np.array_equal(a[m][k], c[m][k])
    assert S.compute_structured(0.5, "l1", c)["val_pruned"] == a["l1"]["val_pruned"][0]


def test_learner_drivers_reject_bad_returns(cnn):
    from pruninglab.labs import structured as S
    with pytest.raises(TypeError, match="numpy"):
        S.shrink_mlp_with(lambda W, b, Wn, k: (W.tolist(), b, Wn), __import__("pruninglab.models").models.load_reference("mlp"), 0.5)
    with pytest.raises(TypeError, match="6 arrays"):
        S.shrink_cnn_with(lambda *a: a[:2], cnn, 0.5)


def test_live_structured_has_separate_unit_axes(sweep):
    from pruninglab.labs import structured as S
    r = S.compute_structured(0.5, "l1", sweep)
    lp = S.live_structured()
    lp(r)
    labels = [ax.get_ylabel() for ax in lp.fig.axes]
    assert any("kMACs" in l for l in labels) and any("kB" in l for l in labels)
    assert not any("kMACs" in l and "kB" in l for l in labels)


def test_seeds_give_spread_and_verdicts():
    sw = S.structured_sweep("mlp", ratios=(0.0, 0.5), methods=("l1", "random"), epochs=1,
                            seeds=(0, 1), live=False)
    assert sw["seeds"] == (0, 1) and "_live" not in sw
    for meth in ("l1", "random"):
        t = sw[meth]
        assert t["val_finetuned_runs"].shape == (2, 2)
        assert np.allclose(t["val_finetuned"], t["val_finetuned_runs"].mean(axis=1))
        assert np.array_equal(t["val_finetuned_min"], t["val_finetuned_runs"].min(axis=1))
        assert np.array_equal(t["val_finetuned_max"], t["val_finetuned_runs"].max(axis=1))
        # ratio 0: nothing removed, nothing fine-tuned
        assert np.all(t["val_finetuned_runs"][0] == sw["dense_val"])
    # L1's selection does not depend on the seed, random's does
    assert np.ptp(sw["l1"]["val_pruned_runs"][1]) == 0
    assert np.ptp(sw["random"]["val_pruned_runs"][1]) > 0
    # seed 0 alone reproduces the first run of the 3-seed sweep
    one = S.structured_sweep("mlp", ratios=(0.5,), methods=("l1",), epochs=1, live=False)
    assert one["l1"]["val_finetuned"][0] == sw["l1"]["val_finetuned_runs"][1, 0]
    assert S.spread_verdict([0.9, 0.91], [0.8, 0.85]) == "higher"
    assert S.spread_verdict([0.7], [0.8, 0.85]) == "lower"
    assert S.spread_verdict([0.8, 0.9], [0.85, 0.95]) == "tie"
    assert S.spread_verdict([0.85], [0.85]) == "tie"
    with pytest.raises(ValueError, match="runs"):
        S.spread_verdict([], [1.0])
    with pytest.raises(TypeError, match="seeds"):
        S.structured_sweep("mlp", ratios=(0.5,), seeds=3)
    with pytest.raises(ValueError, match="seeds"):
        S.structured_sweep("mlp", ratios=(0.5,), seeds=())


def test_cached_sweep_caches_the_slider_positions_between_grid_points(tmp_path, monkeypatch):
    """Issue 15: a slider step finer than the grid must not evaluate a model on a move."""
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    a = S.cached_sweep("mlp", (0.0, 0.5), epochs=0, slider_ratios=(0.25, 0.5))
    b = S.cached_sweep("mlp", (0.0, 0.5), epochs=0, slider_ratios=(0.5, 0.25))   # same key: disk
    assert set(b["_live"]) == {(r, c) for r in (0.0, 0.25, 0.5) for c in S.CRITERIA}
    assert set(S.cached_sweep("mlp", (0.0, 0.5), epochs=0)["_live"]) == {
        (r, c) for r in (0.0, 0.5) for c in S.CRITERIA}                          # not mixed up
    direct = S._compute_structured(0.25, "l2", b)
    assert S.compute_structured(0.25, "l2", b)["val_pruned"] == direct["val_pruned"]
    assert a["_live"][(0.25, "l2")]["macs"] == direct["macs"]
    with pytest.raises(ValueError, match="slider_ratios"):
        S.cached_sweep("mlp", (0.0, 0.5), epochs=0, slider_ratios=(1.5,))


def test_cached_sweep_keeps_the_slider_grid(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLAB_CACHE", str(tmp_path))
    a = S.cached_sweep("mlp", (0.0, 0.5), epochs=0, seeds=(0, 1))
    b = S.cached_sweep("mlp", (0.0, 0.5), epochs=0, seeds=(0, 1))      # from disk
    assert set(b["_live"]) == {(r, c) for r in (0.0, 0.5) for c in S.CRITERIA}
    direct = S._compute_structured(0.5, "random", b)
    cached = S.compute_structured(0.5, "random", b)
    assert cached["val_pruned"] == direct["val_pruned"] and cached["macs"] == direct["macs"]
    assert cached["unstructured"]["val_finetuned"] == direct["unstructured"]["val_finetuned"]
    assert cached["n_seeds"] == 2 and "min–max over 2 seeds" in S._structured_text(cached)
    assert a["random"]["val_pruned_runs"].tolist() == b["random"]["val_pruned_runs"].tolist()


def test_prewarmed_backgrounds_show_the_same_frames(sweep):
    """live_structured renders every criterion's background after its first draw (so the first
    dropdown change is a blit); the frames shown must be exactly those of a plot that did not
    prewarm (a fresh plot per result), and blitting must equal a full redraw."""
    import matplotlib
    matplotlib.use("Agg")
    warm = S.live_structured()
    seq = [(0.5, "l1"), (0.5, "random"), (0.0, "l2"), (0.5, "l1"), (0.25, "random")]
    for ratio, crit in seq:
        r = S.compute_structured(ratio, crit, sweep)
        got = warm.draw(r)
        assert got == warm.png
        assert got == S.live_structured().draw(r), (ratio, crit)
        assert warm.blit_matches_full_redraw(r)


def test_seed_band_legend_entry_is_neutral():
    """Issue 14: one legend entry explains every seed band; it must not wear one method's colour."""
    import matplotlib
    from matplotlib.colors import to_rgba
    matplotlib.use("Agg")
    sw = S.structured_sweep("cnn", ratios=(0.0, 0.5), methods=("l1", "random"), epochs=1, seeds=(0, 1))
    lp = S.live_structured()
    lp.draw(S.compute_structured(0.5, "l1", sw))
    leg = lp.fig.axes[0].get_legend()
    entries = dict(zip([t.get_text() for t in leg.get_texts()], leg.legend_handles))
    band = entries["min–max over 2 seeds"]
    r, g, b, _ = band.get_facecolor()
    assert r == g == b                                   # grey
    curves = [h for t, h in entries.items() if t.endswith("ep.")]
    assert len(curves) == 2 and all(to_rgba(h.get_color())[:3] != (r, g, b) for h in curves)
