"""pruninglab.labs.practice: exact costs, neuron shrinking, timing helpers, notebook-07 slider."""
import pytest
import torch

from pruninglab.labs import practice as P
from pruninglab.ui import dropdown, slider_ui, sparsity_slider


def test_matmul_costs_exact():
    c = P.matmul_costs(0.5, n=8, batch=2)
    assert c["nnz"] == 32 and c["kept_neurons"] == 4
    assert (c["dense_macs"], c["useful_macs"], c["shrunk_macs"]) == (128, 64, 64)
    assert c["dense_bytes"] == 8 * 8 * 4
    # CSR: 32 nnz · (32 + 32) bits + 9 row pointers · 32 bits = 2336 bits = 292 bytes
    assert c["csr_bytes"] == 292
    assert c["shrunk_bytes"] == 4 * 8 * 4


def test_matmul_costs_bad_input():
    with pytest.raises(ValueError, match="sparsity"):
        P.matmul_costs(1.0)
    with pytest.raises(ValueError, match="n"):
        P.matmul_costs(0.5, n=2)
    with pytest.raises(TypeError, match="batch"):
        P.matmul_costs(0.5, batch=1.5)


def test_shrink_mlp_keeps_largest_neurons_and_function(mlp):
    before = {k: v.clone() for k, v in mlp.state_dict().items()}
    small = P.shrink_mlp_neurons(mlp, 0.5)
    assert (small.fc1.out_features, small.fc2.out_features) == (128, 64)
    assert small.fc2.in_features == 128 and small.fc3.out_features == 10
    assert all(torch.equal(before[k], v) for k, v in mlp.state_dict().items())  # input untouched
    score = mlp.fc1.weight.detach().abs().sum(1)
    kept_min = small.fc1.weight.detach().abs().sum(1).min()
    assert kept_min >= score.sort(descending=True).values[127] - 1e-6
    # fraction 0 keeps the network's function exactly
    x = torch.rand(5, 64)
    same = P.shrink_mlp_neurons(mlp, 0.0)
    assert torch.allclose(same(x), mlp(x))
    with pytest.raises(TypeError, match="model"):
        P.shrink_mlp_neurons(torch.nn.Linear(2, 2), 0.5)
    with pytest.raises(ValueError, match="fraction"):
        P.shrink_mlp_neurons(mlp, -0.1)


def test_training_costs_masked_equals_dense():
    c = P.training_costs(0.9)
    assert c["masked_macs"] == c["dense_macs"] == 64 * 256 + 256 * 128 + 128 * 10
    assert c["small_hidden"] == (26, 13)
    assert c["small_macs"] == 64 * 26 + 26 * 13 + 13 * 10


def test_matmul_benchmark_bad_inputs():
    with pytest.raises(ValueError, match="repeats"):
        P.matmul_benchmark((0.5,), n=8, batch=2, repeats=0)
    with pytest.raises(ValueError, match="sparsities"):
        P.matmul_benchmark((1.0,), n=8, batch=2, repeats=1)
    with pytest.raises(ValueError, match="n"):
        P.matmul_benchmark((0.5,), n=2, batch=2, repeats=1)


def test_matmul_benchmark_structure():
    rows = P.matmul_benchmark((0.0, 0.9), n=32, batch=4, repeats=1)
    assert [r["sparsity"] for r in rows] == [0.0, 0.9]
    assert all(r["dense_ms"] > 0 and r["csr_ms"] > 0 and r["shrunk_ms"] > 0 for r in rows)
    assert rows[1]["kept_neurons"] == 3


def test_compute_practice_values():
    u = P.compute_practice(0.5, "unstructured")
    s = P.compute_practice(0.5, "structured")
    base = P.compute_practice(0.0, "unstructured")
    assert u["dense_kernel_macs"] == base["dense_kernel_macs"] == 50432
    assert u["useful_macs"] == 25216 and u["nonzero"] == 25216
    assert s["dense_kernel_macs"] == 64 * 128 + 128 * 64 + 64 * 10
    assert s["dense_bytes"] < u["dense_bytes"] == base["dense_bytes"]
    assert 0.9 < base["val_accuracy"] <= 1.0
    with pytest.raises(ValueError, match="kind"):
        P.compute_practice(0.5, "random")


def test_slider_ui_drives_compute():
    ui = slider_ui(P.compute_practice, None, sparsity=sparsity_slider(0.5, hi=0.95, step=0.05),
                   kind=dropdown(["unstructured", "structured"]))
    ui.children[0].value = 0.8
    assert ui.result["sparsity"] == pytest.approx(0.8)
    assert ui.result["dense_kernel_macs"] == 50432
    ui.children[1].value = "structured"
    assert ui.result["kind"] == "structured" and ui.result["dense_kernel_macs"] < 50432


def test_live_practice_slider_redraws(capsys):
    live = P.live_practice()
    ui = slider_ui(P.compute_practice, live, sparsity=sparsity_slider(0.5, hi=0.95, step=0.05),
                   kind=dropdown(["unstructured", "structured"]))
    first, png0 = ui.result, live.png
    assert png0 is not None and png0.startswith(b"\x89PNG")
    ui.children[0].value = 0.9
    assert ui.result is not first and ui.result["sparsity"] == pytest.approx(0.9)
    assert live.png != png0
    png1 = live.png
    ui.children[1].value = "structured"
    assert ui.result["kind"] == "structured" and live.png != png1
    out = capsys.readouterr().out
    assert "structured 90%: val accuracy" in out and "MACs a dense kernel executes" in out
    # the cache returns equal numbers for a repeated setting, and the one render path prints them
    assert P.compute_practice(0.9, "structured") == ui.result
    P.render_practice(ui.result)
    assert capsys.readouterr().out.startswith(P._practice_text(ui.result))


def test_live_practice_blits_the_dots_only():
    live = P.live_practice()
    for s, kind in ((0.0, "unstructured"), (0.5, "structured"), (0.95, "unstructured")):
        r = P.compute_practice(s, kind)
        assert live.blitting and live.blit_matches_full_redraw(r)
    assert live.state["dynamic"] == [live.state["dot1"], live.state["dot2"]]
    assert not live.fig.images          # no frozen figure image (the former ad-hoc background)
