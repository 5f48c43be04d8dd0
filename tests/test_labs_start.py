"""The 00_start_here slider: magnitude pruning of the reference MLP, driven without a browser."""
import pytest
import torch

from pruninglab.labs import start
from pruninglab.models import load_reference
from pruninglab.ui import dropdown, slider_ui, sparsity_slider

N_WEIGHTS = 64 * 256 + 256 * 128 + 128 * 10  # 50,432
ROWS = 256 + 128 + 10


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9, 0.97])
@pytest.mark.parametrize("scope", ["global", "layer"])
def test_exact_counts_and_bytes(sparsity, scope):
    r = start.compute_magnitude(sparsity, scope)
    assert r["weights"] == N_WEIGHTS
    if scope == "global":
        assert r["nonzero"] == N_WEIGHTS - round(N_WEIGHTS * sparsity)
    else:  # k = round(n_l * s) per layer
        assert r["nonzero"] == sum(n - round(n * sparsity) for n in (64 * 256, 256 * 128, 128 * 10))
    assert r["dense_bytes"] == 4 * N_WEIGHTS
    # CSR: 32-bit value + 32-bit column index per nonzero, (rows + 1) 32-bit pointers per layer
    assert r["csr_bytes"] == 8 * r["nonzero"] + 4 * (ROWS + 3)
    assert 0.0 <= r["val_accuracy"] <= 1.0


def test_accuracy_degrades_at_extreme_sparsity_and_reference_untouched():
    before = {k: v.clone() for k, v in load_reference("mlp").state_dict().items()}
    dense = start.compute_magnitude(0.0)
    heavy = start.compute_magnitude(0.98)
    assert dense["val_accuracy"] > 0.95  # the reference model itself
    assert heavy["val_accuracy"] < dense["val_accuracy"] - 0.2
    model, _ = start._setup()
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"cached reference model was modified: {k}"


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="sparsity"):
        start.compute_magnitude(1.0)
    with pytest.raises(ValueError, match="sparsity"):
        start.compute_magnitude(float("nan"))
    with pytest.raises(ValueError, match="scope"):
        start.compute_magnitude(0.5, scope="everywhere")


def test_slider_drives_the_computation():
    shown = []
    ui = slider_ui(start.compute_magnitude, shown.append,
                   sparsity=sparsity_slider(0.5, hi=0.98),
                   scope=dropdown(["global", "layer"], description="scope"))
    assert ui.result["sparsity"] == 0.5 and ui.result["nonzero"] == N_WEIGHTS - N_WEIGHTS // 2
    ui.children[0].value = 0.9
    assert ui.result["sparsity"] == 0.9 and ui.result["nonzero"] == 5043
    ui.children[1].value = "layer"
    assert ui.result["scope"] == "layer"
    assert [r["sparsity"] for r in shown] == [0.5, 0.9, 0.9]


def test_live_slider_updates_the_picture_in_place(capsys):
    live = start.live_magnitude()
    ui = slider_ui(start.compute_magnitude, live,
                   sparsity=sparsity_slider(0.5, hi=0.98),
                   scope=dropdown(["global", "layer"], description="scope"))
    fig, first, r0 = live.fig, live.png, ui.result
    assert first.startswith(b"\x89PNG")
    ui.children[0].value = 0.9
    assert ui.result is not r0 and ui.result["sparsity"] == 0.9
    assert live.fig is fig and live.png != first          # same figure, new picture
    second = live.png
    ui.children[1].value = "layer"
    assert ui.result["scope"] == "layer" and live.png != second
    out = capsys.readouterr().out
    assert "sparsity 90% (global): validation accuracy" in out and "sparsity 90% (layer)" in out


def test_render_prints_the_same_text_as_the_slider(capsys):
    r = start.compute_magnitude(0.9)
    start.render_magnitude(r)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        f"sparsity 90% (global): validation accuracy {100 * r['val_accuracy']:.2f}%, nonzero weights "
        f"5,043/50,432, dense fp32 197.0 KiB vs CSR {r['csr_bytes'] / 1024:.1f} KiB")
