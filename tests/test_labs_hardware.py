"""pruninglab.labs.hardware: slider computations (exact bytes/pJ), accuracy hooks, UI driving,
and the latency-budget study's structure on a synthetic lookup table (no timing asserted)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from pruninglab.hardware import FORMATS, STRUCTURES  # noqa: E402
from pruninglab.labs import hardware as L  # noqa: E402
from pruninglab.models import load_reference, reference_metrics  # noqa: E402
from pruninglab.ui import bits_slider, dropdown, slider_ui, sparsity_slider  # noqa: E402


def test_fake_quant_exact_and_pure():
    w = torch.tensor([0.5, -1.0, 0.26, 0.0])
    before = w.clone()
    q = L.fake_quant_weight(w, 3)  # S = 1/3: round([1.5, -3, 0.78, 0]) = [2, -3, 1, 0]
    torch.testing.assert_close(q, torch.tensor([2 / 3, -1.0, 1 / 3, 0.0]))
    assert torch.equal(w, before) and torch.equal(L.fake_quant_weight(w, 32), w)
    with pytest.raises(ValueError, match="bits"):
        L.fake_quant_weight(w, 1)


def test_pruned_accuracy_matches_reference_and_drops():
    ref = reference_metrics()["mlp"]["accuracy"]["val"]
    assert L.pruned_accuracy("mlp", 0.0, 32, "dense") == pytest.approx(ref, abs=1e-4)
    assert L.pruned_accuracy("mlp", 0.95, 32) < L.pruned_accuracy("mlp", 0.3, 32)
    assert L.pruned_accuracy("mlp", 0.0, 2) < L.pruned_accuracy("mlp", 0.0, 8)
    with pytest.raises(ValueError, match="model"):
        L.pruned_accuracy("vgg")


def test_compute_storage_exact_bytes():
    r = L.compute_storage(0.9, 8, "csr", 16, "mlp")
    # fc1 (256x64): nnz 1638 -> 1638*24 + 257*32 bits; fc3 (10x128): 128*24 + 11*32 bits
    assert r["layers"] == {"fc1": 5942, "fc2": 10347, "fc3": 428}
    assert r["dense_bytes"] == 50432 and r["fp32_bytes"] == 4 * 50432
    assert r["break_even"]["bitmask"] == 0.125 and r["break_even"]["2:4"] == 0.5
    assert set(r["curves"]) == set(FORMATS)
    c = L.compute_storage(0.3, 8, "2:4", 16, "cnn")
    # conv1 (16x1x3x3, cols 9) cannot be 2:4 -> stays dense; the others are 2:4
    assert c["format_used"]["conv1"] == "dense" and c["format_used"]["conv2"] == "2:4"
    assert c["layers"]["conv2"] == 32 * 144 // 2 * 10 // 8


def test_compute_energy_hand_checked():
    r = L.compute_energy(0.9, 8, "csr", 1, "mlp")
    fc1 = r["layers"][0]
    assert fc1["effective_macs"] == pytest.approx(1638.4)
    assert fc1["compute_pj"] == pytest.approx(1638.4 * 0.3)
    assert r["saving_vs_fp32"] > 10 and 0 <= r["accuracy"] <= 1
    dense = L.compute_energy(0.9, 8, "dense", 1, "mlp")
    assert dense["compute_pj"] == pytest.approx(50432 * 0.3)  # zeros multiplied


def test_compute_roofline_structures():
    d = L.compute_roofline("Orin Nano", 8, 1, "dense", 0.9, "mlp")
    assert d["speedup"] == pytest.approx(1.0)
    assert all(l["bound"] == "memory" for l in d["current"]["layers"])
    nm = L.compute_roofline("Orin Nano", 8, 1, "2:4", 0.9, "mlp")
    assert nm["speedup"] == pytest.approx(1.58, abs=0.01)
    tpu = L.compute_roofline("Edge TPU", 32, 1, "dense", 0.0, "mlp")
    assert tpu["current"]["supported"] is False


def _ui_storage():
    return slider_ui(L.compute_storage, None, sparsity=sparsity_slider(0.5, hi=0.98),
                     bits=bits_slider(8, lo=2, hi=32), format=dropdown(FORMATS, "csr"),
                     index_bits=dropdown([8, 16, 32], 16), model=dropdown(L.MODELS, "mlp"))


def test_storage_ui_driven():
    ui = _ui_storage()
    ui.children[0].value = 0.9
    assert ui.result["sparsity"] == 0.9 and ui.result["layers"]["fc2"] == 10347
    ui.children[2].value = "dense"
    assert ui.result["total_bytes"] == 50432
    ui.children[1].value = 4
    assert ui.result["total_bytes"] == 25216


def test_energy_and_roofline_ui_driven_with_render():
    ui = slider_ui(L.compute_energy, L.render_energy, sparsity=sparsity_slider(0.5),
                   bits=bits_slider(8, lo=2, hi=32), format=dropdown(FORMATS, "dense"),
                   batch=dropdown([1, 64], 1), model=dropdown(L.MODELS, "mlp"))
    ui.children[3].value = 64
    assert ui.result["batch"] == 64
    e64 = ui.result["per_sample_pj"]
    ui.children[3].value = 1
    assert ui.result["per_sample_pj"] > e64  # weights reused across the batch
    ui2 = slider_ui(L.compute_roofline, L.render_roofline,
                    profile=dropdown(L.PROFILE_CHOICES[:-1], "A100"), bits=bits_slider(8),
                    batch=dropdown([1, 64], 1), structure=dropdown(STRUCTURES, "dense"),
                    sparsity=sparsity_slider(0.9), model=dropdown(L.MODELS, "mlp"))
    ui2.children[2].value = 64
    i64 = ui2.result["current"]["layers"][1]["intensity"]
    ui2.children[2].value = 1
    assert ui2.result["current"]["layers"][1]["intensity"] < i64
    ui2.children[0].value = "Edge TPU"
    ui2.children[1].value = 16
    assert ui2.result["current"]["supported"] is False
    plt.close("all")


def test_shrink_mlp_and_flops():
    m = load_reference("mlp")
    s = L.shrink_mlp(m, {"fc1": 80, "fc2": 48})
    assert s.fc1.weight.shape == (80, 64) and s.fc2.weight.shape == (48, 80)
    assert s.fc3.weight.shape == (10, 48) and m.fc1.weight.shape == (256, 64)
    assert L.mlp_flops({"fc1": 256, "fc2": 128}) == 2 * (16384 + 32768 + 1280)
    with pytest.raises(ValueError, match="fc1"):
        L.shrink_mlp(m, {"fc1": 300, "fc2": 10})


def _synthetic_lut(g=64):
    g1, g2 = range(g, 257, g), range(g, 129, g)
    return {"fc1": {a: a * 1e-6 for a in g1}, "fc2": {(a, c): a * c * 1e-8 for a in g1 for c in g2},
            "fc3": {c: c * 1e-7 for c in g2}, "batch": 8, "granularity": g}


def test_lut_and_budget_study_structure():
    lut = _synthetic_lut()
    assert L.lut_latency(lut, {"fc1": 256, "fc2": 128}) == pytest.approx(256e-6 + 256 * 128e-8 + 128e-7)
    st = L.latency_budget_study((0.7, 0.4), lut=lut, finetune_epochs=0)
    assert len(st["rows"]) == 6
    for r in st["rows"]:
        if r["method"] in ("netadapt", "uniform"):
            assert r["within_budget_lut"]
        assert r["config"]["fc1"] % 64 == 0 and r["config"]["fc2"] % 64 == 0
        assert 0.0 <= r["val_acc"] <= 1.0 and r["measured_s"] > 0 and "test_acc" not in r
    L.render_budget_study(st)
    plt.close("all")


def test_measured_table_structure():
    lut = L.mlp_latency_table(batch=2, granularity=64, hidden=(128, 64), warmup=0, repeats=1,
                              min_time=0.0)
    assert sorted(lut["fc1"]) == [64, 128] and sorted(lut["fc2"]) == [(64, 64), (128, 64)]


def test_bad_input():
    with pytest.raises(ValueError, match="sparsity"):
        L.compute_storage(1.0)
    with pytest.raises(ValueError, match="format"):
        L.compute_storage(0.5, 8, "zip")
    with pytest.raises(ValueError, match="batch"):
        L.compute_energy(0.5, 8, "dense", 0)
    with pytest.raises(ValueError, match="profile"):
        L.compute_roofline("TPU")
    with pytest.raises(ValueError, match="structure"):
        L.compute_roofline("A100", 8, 1, "4:8")


def _drive(live, ui, moves):
    """Apply ``moves`` [(child index, value)]; each must change the result and the PNG."""
    for i, v in moves:
        before, png = ui.result, live.png
        ui.children[i].value = v
        assert ui.result is not before
        assert live.png is not None and live.png.startswith(b"\x89PNG") and live.png != png


def test_live_storage_energy_roofline_redraw(capsys):
    live = L.live_storage()
    ui = slider_ui(L.compute_storage, live, sparsity=sparsity_slider(0.5, hi=0.98),
                   bits=bits_slider(8, lo=2, hi=32), format=dropdown(FORMATS, "csr"),
                   index_bits=dropdown([8, 16, 32], 16), model=dropdown(L.MODELS, "mlp"))
    _drive(live, ui, [(0, 0.9), (1, 4), (2, "relative"), (4, "cnn"), (2, "2:4")])
    assert ui.result["format"] == "2:4" and ui.result["model"] == "cnn"
    assert "per layer [B]: conv1" in capsys.readouterr().out
    live = L.live_energy()
    ui = slider_ui(L.compute_energy, live, sparsity=sparsity_slider(0.5),
                   bits=bits_slider(8, lo=2, hi=32), format=dropdown(FORMATS, "dense"),
                   batch=dropdown([1, 64], 1), model=dropdown(L.MODELS, "mlp"))
    _drive(live, ui, [(3, 64), (2, "csr"), (4, "cnn"), (1, 4)])
    assert ui.result["batch"] == 64 and ui.result["bits"] == 4
    assert "nJ/sample" in capsys.readouterr().out
    live = L.live_roofline()
    ui = slider_ui(L.compute_roofline, live, profile=dropdown(L.PROFILE_CHOICES[:-1], "A100"),
                   bits=bits_slider(8), batch=dropdown([1, 64], 1),
                   structure=dropdown(STRUCTURES, "dense"), sparsity=sparsity_slider(0.9),
                   model=dropdown(L.MODELS, "mlp"))
    _drive(live, ui, [(2, 64), (3, "unstructured"), (5, "cnn"), (0, "Edge TPU"), (1, 16),
                      (1, 8), (3, "2:4")])
    out = capsys.readouterr().out
    assert "Coral Edge TPU" in out and "has no fp16 units" in out and "ridge" in out


def test_render_functions_print_the_live_text(capsys):
    r = L.compute_storage(0.9, 8, "csr", 16, "mlp")
    L.render_storage(r)
    assert capsys.readouterr().out.startswith(L._storage_text(r) + "\n")
    r = L.compute_roofline("Edge TPU", 32, 1, "dense", 0.0, "mlp")
    L.render_roofline(r)
    assert capsys.readouterr().out.startswith(
        "Coral Edge TPU (int8 accelerator) has no fp32 units: quantize to int8 first.\n")


# ------------------------------------------------------------------ experiments with the learner's code
import numpy as np  # noqa: E402

from pruninglab import hardware as hw  # noqa: E402
from pruninglab.grading import _hardware_ex as HX  # noqa: E402


def test_reference_solutions_give_the_library_figures():
    for p in (32, 16):
        for row in L.format_table(HX.oracle_format_bytes, pointer_bits=p):
            assert row["yours"] == row["library"]
    csr = {p: next(r for r in L.format_table(HX.oracle_format_bytes, pointer_bits=p) if r["format"] == "csr")
           for p in (32, 16)}
    assert (csr[32]["yours"], csr[16]["yours"]) == (10347, 10089)   # the two conventions, named
    for r in L.roofline_with(HX.oracle_fc_roofline):
        assert r["intensity"] == pytest.approx(r["library_intensity"]) and r["bound"] == r["library_bound"]
    for wm in L.WEIGHT_MEMORIES:
        for r in L.energy_with(HX.oracle_fc_energy, weight_memory=wm)["layers"]:
            assert (r["compute_pj"], r["weight_pj"], r["act_pj"]) == pytest.approx(r["library"])
    lut = L.staircase_lut()
    acc = lambda c: 1.0 - 0.002 * (256 - c["fc1"]) - 0.001 * (128 - c["fc2"])  # noqa: E731
    mine = L.netadapt_with(HX.oracle_netadapt_step, {"fc1": 256, "fc2": 128}, lut, 30.0, acc, steps=4)
    lib = hw.netadapt_prune({"fc1": 256, "fc2": 128}, lambda c: sum(lut[k][c[k]] for k in c), 30.0, acc,
                            steps=4, granularity=16, min_channels=16)
    assert mine["config"] == lib["config"] and mine["met_budget"]
    assert [h["layer"] for h in mine["history"]] == [h["layer"] for h in lib["history"]]


def test_energy_sram_option_and_weight_bits():
    d = L.compute_energy(0.0, 8, "dense", 1, "mlp", "han_dram")
    s = L.compute_energy(0.0, 8, "dense", 1, "mlp", "han_sram")
    assert s["per_sample_pj"] < d["per_sample_pj"] / 10 and s["weight_memory"] == "han_sram"
    with pytest.raises(ValueError, match="weight_memory"):
        L.compute_energy(0.0, 8, "dense", 1, "mlp", "tape")
    ref = load_reference("mlp")
    e = hw.model_energy(ref, (1, 64), 32, kind="fp", weight_bits=4)
    assert e["weight_bits"] == 4 and e["compute_pj"] == hw.model_energy(ref, (1, 64), 32)["compute_pj"]
    assert e["layers"][0]["weight_bits"] == 64 * 256 * 4


def test_roofline_controls_disabled_with_a_reason_when_they_cannot_change_the_view():
    ui = slider_ui(L.compute_roofline, None, profile=dropdown(L.PROFILE_CHOICES, "Orin Nano", "profile"),
                   bits=bits_slider(8, lo=2, hi=32), batch=dropdown([1, 64], 1, "batch"),
                   structure=dropdown(STRUCTURES, "dense", "structure"),
                   sparsity=sparsity_slider(0.9, hi=0.98),
                   disabled_when=L.roofline_ui_rules(["profile", "bits", "batch", "structure", "sparsity"]))
    ctl = ui.controls
    assert ctl["sparsity"].disabled and "inactive" in L._roofline_text(ui.result)
    assert set(ui.disabled_reasons) == {"sparsity"}
    ctl["structure"].value = "unstructured"
    assert not ctl["sparsity"].disabled and "inactive" not in L._roofline_text(ui.result)
    ctl["structure"].value = "2:4"
    assert ctl["sparsity"].disabled and "50 %" in L._roofline_text(ui.result)
    # the int8-only Edge TPU at 16 bits shows only "no fp16 units": everything but profile/bits is dead
    ctl["profile"].value = "Edge TPU"
    ctl["bits"].value = 16
    assert not ui.result["current"]["supported"]
    assert set(ui.disabled_reasons) == {"batch", "structure", "sparsity"}
    assert all("Edge TPU has no fp16 units" in r for r in ui.disabled_reasons.values())
    assert not ctl["bits"].disabled and not ctl["profile"].disabled
    ctl["bits"].value = 8
    assert set(ui.disabled_reasons) == {"sparsity"} and ui.result["current"]["supported"]


def test_storage_legend_names_every_drawn_series_and_blits():
    live = L.live_storage()
    for model in L.MODELS:
        for fmt in FORMATS:
            r = L.compute_storage(0.9, 4, fmt, 16, model)
            live.draw(r)
            ax = live.state["ax"]
            drawn = {ln.get_label() for ln in ax.lines if ln.get_visible() and len(ln.get_xdata())}
            leg = live.state["legend"].child
            assert {t.get_text() for t in leg.get_texts()} == drawn, (model, fmt)
            assert f"{fmt} (selected)" in drawn
            assert live.blit_matches_full_redraw(r)
            lo, hi = ax.get_ylim()
            assert lo < r["total_bytes"] / 1024 < hi


def test_energy_and_roofline_blit_and_keep_the_bars_inside():
    live = L.live_energy()
    for model in L.MODELS:
        for b, fmt, n in ((2, "csr", 256), (32, "dense", 1), (8, "2:4", 8)):
            r = L.compute_energy(0.9, b, fmt, n, model)
            live.draw(r)
            top = live.state["ax"].get_ylim()[1]
            tallest = max(sum(x[k] for k, _, _ in L._ENERGY_PARTS) for x in r["layers"]) / n / 1e3
            assert 0.2 * top < tallest < top
            assert live.blit_matches_full_redraw(r)
    live = L.live_roofline()
    for args in (("A100", 8, 1, "dense", 0.9, "mlp"), ("Orin Nano", 4, 64, "unstructured", 0.8, "cnn"),
                 ("Edge TPU", 16, 1, "dense", 0.9, "mlp")):
        r = L.compute_roofline(*args)
        live.draw(r)
        assert live.blit_matches_full_redraw(r)


def test_warm_storage_and_energy_plots_prerender_every_model_and_show_the_same_frames():
    """Issue 15: the first change of the model dropdown must be a blit (one background per model
    rendered at build time); the frames equal those of a plot built without warming."""
    cases = ((L.live_storage, lambda m: L.compute_storage(0.7, 4, "coo", 8, m),
              [L.compute_storage(0.9, 8, f, 16, m) for m in L.MODELS for f in FORMATS]),
             (L.live_energy, lambda m: L.compute_energy(0.7, 4, "csr", 8, m, "han_sram"),
              [L.compute_energy(0.9, 8, "csr", b, m, "han_dram") for m in L.MODELS for b in (1, 8, 64, 256)]))
    for factory, comp, warmed in cases:
        warm, cold = factory(), factory(warm=False)
        assert set(warm._bg) == {warm.state["background_key"](r) for r in warmed} and cold._bg is None
        assert {k[0] if isinstance(k, tuple) else k for k in warm._bg} == set(L.MODELS)
        keys = set(warm._bg)
        for m in (*L.MODELS, L.MODELS[0]):
            r = comp(m)
            assert warm.draw(r) == cold.draw(r), (factory.__name__, m)
            assert warm.blit_matches_full_redraw(r)
            keys.add(warm.state["background_key"](r))
        assert set(warm._bg) == keys                 # one background per key, none rendered twice


def test_warm_roofline_prerenders_every_profile():
    L._profile.cache_clear()
    warm, cold = L.live_roofline(), L.live_roofline(warm=False)
    misses = L._profile.cache_info().misses
    for m in L.MODELS:                               # every model x batch profiled at build
        for n in L.ROOFLINE_BATCHES:
            L._profile(m, n)
    assert L._profile.cache_info().misses == misses
    results = [L.compute_roofline(p, 8, 1, "dense", 0.9, "mlp") for p in L.PROFILE_CHOICES]
    n = len(warm._bg)
    assert {L._roofline_ylim(r) for r in results} <= set(warm._bg) and cold._bg is None
    for r in results:
        assert warm.draw(r) == cold.draw(r), r["current"]["profile"]
        assert warm.blit_matches_full_redraw(r)
    assert len(warm._bg) == n                        # every profile's background was ready
    # every legend too (model x precision x sparse roof or not): a model change makes no new one
    legends = dict(warm.state["legends"])
    assert len(legends) == len(L.MODELS) * 3 * 2
    r = L.compute_roofline("Orin Nano", 20, 1, "unstructured", 0.93, "cnn")
    assert warm.draw(r) == cold.draw(r) and warm.state["legends"] == legends


def test_sorted_once_masks_equal_magnitude_mask():
    """pruned_accuracy builds each mask from an order sorted once; it must be magnitude_mask's."""
    from pruninglab.pruning import magnitude_mask
    for model in L.MODELS:
        ref, _ = L._reference(model)
        orders = L._magnitude_orders(model)
        for name, mod in ref.named_modules():
            if name in orders:
                for s in (0.1, 0.5, 0.93):
                    fast = L._prune_weight(mod.weight, s, "unstructured", orders[name])
                    assert torch.equal(fast, mod.weight * magnitude_mask(mod.weight, s)), (model, name, s)
