"""Notebook-09 sliders: pure compute functions over the shipped results, driven through slider_ui."""
import pytest

from pruninglab.labs import llm as lab
from pruninglab.ui import dropdown, float_slider, int_slider, slider_ui


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
