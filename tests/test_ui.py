"""The slider pattern: pure compute, render, and an interactive that tests can drive."""
import pytest

from pruninglab.ui import bits_slider, slider_ui, sparsity_slider


def _compute(sparsity, bits):
    return {"sparsity": sparsity, "bits": bits, "kept": round(100 * (1 - sparsity)) * bits}


def test_slider_ui_runs_compute_and_render_on_change():
    rendered = []
    ui = slider_ui(_compute, rendered.append, sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    assert ui.result == {"sparsity": 0.5, "bits": 8, "kept": 400}
    ui.children[0].value = 0.9
    assert ui.result["sparsity"] == 0.9 and ui.result["kept"] == 80
    ui.children[1].value = 4
    assert ui.result["kept"] == 40
    assert [r["kept"] for r in rendered] == [400, 80, 40]


def test_slider_ui_rejects_bad_arguments():
    with pytest.raises(TypeError, match="compute"):
        slider_ui(42, None, sparsity=sparsity_slider())
    with pytest.raises(TypeError, match="render"):
        slider_ui(_compute, 42, sparsity=sparsity_slider())
    with pytest.raises(ValueError, match="controls"):
        slider_ui(_compute, None)


def test_sparsity_slider_never_reaches_one():
    s = sparsity_slider()
    assert s.max < 1.0 and s.min == 0.0


def _setup(fig):
    ax = fig.add_subplot(1, 1, 1)
    (line,) = ax.plot([0, 1], [0, 0])
    ax.set_ylim(0, 1)
    return {"line": line, "calls": 0}


def _update(state, result):
    state["line"].set_ydata([0, result["sparsity"]])
    state["calls"] += 1


def test_liveplot_builds_once_updates_and_changes_the_png(capsys):
    from pruninglab.ui import LivePlot
    live = LivePlot(_setup, _update, text=lambda r: f"s={r['sparsity']}")
    ui = slider_ui(_compute, live, sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    fig, first = live.fig, live.png
    assert first.startswith(b"\x89PNG") and live.state["calls"] == 1
    ui.children[0].value = 0.9
    assert live.fig is fig and live.state["calls"] == 2   # same figure, updated in place
    assert live.png != first                               # the picture changed
    assert live.draw({"sparsity": 0.5}) == first           # and is a pure function of the result
    assert "s=0.9" in capsys.readouterr().out


def test_liveplot_rejects_bad_arguments():
    from pruninglab.ui import LivePlot
    with pytest.raises(TypeError, match="setup"):
        LivePlot(None, _update)
    with pytest.raises(TypeError, match="update"):
        LivePlot(_setup, 3)
    with pytest.raises(TypeError, match="text"):
        LivePlot(_setup, _update, text="x")
    with pytest.raises(ValueError, match="figsize"):
        LivePlot(_setup, _update, figsize=(0, 3))
