"""Notebook-09 sliders: pure compute functions over the shipped results, driven through slider_ui."""
import io

import numpy as np
import pytest
from PIL import Image

from pruninglab.labs import llm as lab
from pruninglab.ui import dropdown, float_slider, int_slider, png_rgb, slider_ui


def test_compute_pruning_lookup_and_widget():
    r = lab.results()
    res = lab.compute_pruning(0.5)
    k = r["pruning"]["sparsities"].index(0.5)
    assert res["ppl"]["sparsegpt"] == r["pruning"]["sparsegpt"][k]
    live = lab.live_pruning()
    ui = slider_ui(lab.compute_pruning, live, sparsity=float_slider(0.5, 0.1, 0.9, 0.2, "s"))
    png = live.png
    ui.children[0].value = 0.9
    assert ui.result["sparsity"] == 0.9 and live.png != png
    with pytest.raises(ValueError, match="sparsity"):
        lab.compute_pruning(0.99)


def test_compute_calibration_and_groups_widgets():
    ui = slider_ui(lab.compute_calibration, lab.live_calibration(),
                   n_samples=dropdown(lab.results()["calib_size"]["sizes"], 64))
    ui.children[0].value = 1
    assert ui.result["n_samples"] == 1 and ui.result["tokens"] == 64
    assert ui.result["ppl"]["wanda"] == lab.results()["calib_size"]["wanda 50%"][0]
    with pytest.raises(ValueError, match="n_samples"):
        lab.compute_calibration(3)
    g = slider_ui(lab.compute_groups, lab.live_groups(), bits=int_slider(3, 3, 4),
                  group_size=dropdown(lab.results()["quant"]["group_sizes"], 128))
    g.children[1].value = 32
    assert g.result["bits_per_weight"] == pytest.approx(3 + 19 / 32, abs=1e-4)
    with pytest.raises(ValueError, match="group_size"):
        lab.compute_groups(3, 48)


def test_compute_kv_formula_and_widget():
    res = lab.compute_kv(4096, 1, "fp16", 32)
    assert res["kv_bytes"] == 2 ** 31
    assert lab.compute_kv(4096, 1, "int4", 8)["kv_bytes"] == 2 ** 31 / 16
    ui = slider_ui(lab.compute_kv, lab.live_kv(), seq_len=dropdown([512, 4096], 4096),
                   batch=dropdown([1, 8], 1), precision=dropdown(list(lab.KV_BYTES), "fp16"),
                   n_kv_heads=dropdown([32, 8], 32))
    ui.children[1].value = 8
    assert ui.result["kv_gib"] == pytest.approx(16.0)
    with pytest.raises(ValueError, match="precision"):
        lab.compute_kv(precision="fp8")


def test_table_and_published_reference():
    t = lab.table([["a", 1.23456]], ["name", "value"])
    assert "1.235" in t and t.splitlines()[1].startswith("----")
    assert lab.PUBLISHED_LLAMA2_7B["2:4"]["sparsegpt"] < lab.PUBLISHED_LLAMA2_7B["2:4"]["magnitude"]


def test_blitted_frames_equal_a_full_redraw_and_are_cached():
    """The slider PNG (static background restored + dynamic artists) has exactly the pixels of a
    full redraw of the same figure; a revisited setting returns the cached bytes."""
    for live, results in ((lab.live_pruning(), [lab.compute_pruning(0.1), lab.compute_pruning(0.9)]),
                          (lab.live_kv(), [lab.compute_kv(512, 1, "int4", 1), lab.compute_kv(32768, 32, "fp32", 32)])):
        first = live.draw(results[0])                     # renders and keeps the background
        png = live.draw(results[1])                       # restores it, draws the moving artists
        blit = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        live._canvas.draw()                               # full redraw of the same figure
        full = np.asarray(live._canvas.buffer_rgba())[..., :3]
        assert blit.shape == full.shape and np.array_equal(blit, full)
        assert png != first and live.draw(results[0]) is first


def test_png_encoder_roundtrip():
    rgb = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_rgb(rgb)))), rgb)


def _fake(per_seed):
    keys = ["dense", "wanda 50%", "magnitude 50%", "sparsegpt 50%", "wanda 2:4", "magnitude 2:4", "sparsegpt 2:4",
            "gptq 3-bit per-channel", "rtn 3-bit per-channel", "gptq 3-bit g128", "rtn 3-bit g128"]
    return {"seeds": {"seeds": list(range(len(per_seed))), "settings": keys[1:],
                      "per_seed": {str(i): dict(zip(keys, v)) for i, v in enumerate(per_seed)}}}


def test_seed_spread_calls_a_sign_change_a_tie():
    assert lab.seed_spread({"dense": 1}) is None
    sp = lab.seed_spread(_fake([[6.7, 7.30, 7.5, 6.9, 8.3, 8.4, 7.0, 6.81, 6.93, 6.81, 6.93],
                                [6.8, 7.40, 7.6, 7.0, 8.5, 8.4, 7.1, 6.85, 6.90, 6.84, 6.95],
                                [6.9, 7.35, 7.35, 6.95, 8.4, 8.6, 7.1, 6.80, 6.95, 6.83, 6.94]]))
    v = sp["verdicts"]
    assert sp["diffs"][("wanda 50%", "magnitude 50%")] == [-0.2, -0.2, 0.0]
    assert v[("wanda 50%", "magnitude 50%")] == "tie"          # equal on one seed: not lower on every seed
    assert v[("wanda 2:4", "magnitude 2:4")] == "tie"          # -0.1, +0.1, -0.2: sign changes
    assert v[("sparsegpt 50%", "wanda 50%")] == "a"
    assert v[("gptq 3-bit per-channel", "rtn 3-bit per-channel")] == "a"
    assert sp["rows"]["dense"]["min"] == 6.7 and sp["rows"]["dense"]["max"] == 6.9
    text = lab.seed_sentences(sp)
    assert "wanda 2:4 vs magnitude 2:4: **a tie**" in text and "sparsegpt 50% beats wanda 50%" in text
    flipped = lab.seed_spread(_fake([[6.7, 8.0, 7.0] + [7.0] * 8, [6.8, 8.1, 7.1] + [7.0] * 8]))
    assert flipped["verdicts"][("wanda 50%", "magnitude 50%")] == "b"
