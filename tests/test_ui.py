"""The slider pattern: pure compute, render, and an interactive that tests can drive."""
import numpy as np
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
    assert "s=0.9" in capsys.readouterr().out             # outside a kernel: printed


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


def test_sliders_follow_the_mouse():
    from pruninglab.ui import float_slider, grid_slider, int_slider
    assert sparsity_slider().continuous_update and int_slider(1, 0, 3).continuous_update
    assert float_slider(0.1, 0, 1, 0.1, "x").continuous_update
    assert grid_slider([0.1, 0.5]).continuous_update


def test_liveplot_in_place_replaces_image_bytes_without_new_outputs():
    from pruninglab.ui import LivePlot
    live = LivePlot(_setup, _update, text=lambda r: f"s={r['sparsity']} <b>")
    ui = slider_ui(_compute, live, in_place=True, sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    view = live.view()
    img = view.children[1]
    assert img.value == live.png and bytes(img.value).startswith(b"\x89PNG")
    assert "s=0.5 &lt;b&gt;" in view.children[0].value          # text shown, HTML-escaped
    first = img.value
    ui.children[0].value = 0.9
    assert live.view() is view and img.value == live.png and img.value != first
    assert "s=0.9" in view.children[0].value and live.last_text.startswith("s=0.9")
    assert ui.result["sparsity"] == 0.9 and len(ui.timings) == 2


def test_liveplot_in_place_shows_an_error_then_recovers():
    from pruninglab.ui import LivePlot

    def compute(sparsity):
        if sparsity > 0.8:
            raise ValueError("too sparse")
        return {"sparsity": sparsity}

    live = LivePlot(_setup, _update)
    ui = slider_ui(compute, live, in_place=True, sparsity=sparsity_slider(0.5))
    png = live.png
    ui.children[0].value = 0.9
    assert "too sparse" in ui.error and ui._live_shown is False
    ui.children[0].value = 0.2
    assert ui.error is None and ui._live_shown and live.png != png


class _FakeLoop:
    def __init__(self):
        self.callbacks = []

    def add_callback(self, f, *a):
        self.callbacks.append((f, a))

    def run(self):
        while self.callbacks:
            f, a = self.callbacks.pop(0)
            f(*a)


def test_browser_changes_coalesce_latest_value_wins(monkeypatch):
    import pruninglab.ui as ui_mod
    loop = _FakeLoop()
    monkeypatch.setattr(ui_mod, "_kernel_loop", lambda: loop)
    calls = []

    def compute(sparsity, bits):
        calls.append((sparsity, bits))
        return _compute(sparsity, bits)

    from pruninglab.ui import LivePlot
    ui = slider_ui(compute, LivePlot(_setup, _update), in_place=True, coalesce=True,
                   sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    assert calls == [(0.5, 8)]
    s, b = ui.children[0], ui.children[1]
    for v in (0.6, 0.7, 0.8):                 # a drag: three messages from the browser
        s.set_state({"value": v})
    b.set_state({"value": 4})
    assert calls == [(0.5, 8)] and len(loop.callbacks) == 1   # nothing ran inside the messages
    loop.run()
    assert calls == [(0.5, 8), (0.8, 4)]      # one callback, for the latest values only
    assert ui.result["kept"] == 80 and ui.dropped == 3
    s.value = 0.1                              # from Python: synchronous, even in a kernel
    assert calls[-1] == (0.1, 4) and not loop.callbacks
    default = slider_ui(compute, LivePlot(_setup, _update), in_place=True,
                        sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    default.children[0].set_state({"value": 0.4})  # coalesce off (default): runs in the message
    assert calls[-1] == (0.4, 8) and not loop.callbacks
    plain = slider_ui(compute, None, sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    plain.children[0].set_state({"value": 0.3})   # Output renders: run inside the message
    assert calls[-1] == (0.3, 8) and not loop.callbacks


def test_coalesced_refresh_never_enters_the_output(monkeypatch):
    """The browser stall of coalesce=True: a deferred refresh inside ``with ui.out`` set the
    Output's msg_id to the comm message, whose ``idle`` the browser's Output hook then swallowed
    (ipywidgets' throttle never released). The deferred path must update the in-place widgets
    only, never enter the Output; errors go to the note line; latest values still win."""
    import ipywidgets as w
    import pruninglab.ui as ui_mod
    from pruninglab.ui import LivePlot
    loop = _FakeLoop()
    monkeypatch.setattr(ui_mod, "_kernel_loop", lambda: loop)
    entered = []
    orig_enter = w.Output.__enter__

    def spy_enter(self):
        entered.append(self)
        return orig_enter(self)

    def compute(sparsity, bits):
        if sparsity > 0.95:
            raise ValueError("too sparse")
        return _compute(sparsity, bits)

    live = LivePlot(_setup, _update, text=lambda r: f"kept {r['kept']}")
    ui = slider_ui(compute, live, in_place=True, coalesce=True,
                   sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    monkeypatch.setattr(w.Output, "__enter__", spy_enter)
    png, n0 = live.png, len(ui.timings)
    s = ui.children[0]
    for v in (0.6, 0.7):                     # a drag: two messages from the browser
        s.set_state({"value": v})
    loop.run()
    assert entered == [], "the deferred refresh entered the Output (msg_id capture)"
    assert ui.result["sparsity"] == 0.7 and ui.kwargs == {"sparsity": 0.7, "bits": 8}
    assert live.png != png and "kept 240" in live._text_w.value and len(ui.timings) == n0 + 1
    s.set_state({"value": 0.97})             # the callback raises: shown in the note line
    loop.run()
    assert entered == [] and "too sparse" in ui.error and "too sparse" in ui._notes_html.value
    s.set_state({"value": 0.2})              # and recovers on the next move
    loop.run()
    assert entered == [] and ui.error is None and ui.result["sparsity"] == 0.2
    assert "too sparse" not in ui._notes_html.value


def test_disabled_when_greys_out_a_dead_control_and_says_why():
    def compute(structure, sparsity):
        return {"structure": structure, "sparsity": sparsity if structure != "dense" else 0.0}

    from pruninglab.ui import dropdown
    ui = slider_ui(compute, None, structure=dropdown(["dense", "unstructured"]),
                   sparsity=sparsity_slider(0.9),
                   disabled_when={"sparsity": lambda p: "dense ignores sparsity"
                                  if p["structure"] == "dense" else None})
    st, sp = ui.children[0], ui.children[1]
    assert sp.disabled and ui.disabled_reasons == {"sparsity": "dense ignores sparsity"}
    assert any("dense ignores sparsity" in n for n in ui.notes)
    assert "dense ignores sparsity" in sp.tooltip
    st.value = "unstructured"
    assert not sp.disabled and ui.disabled_reasons == {} and ui.notes == []
    assert ui.result["sparsity"] == 0.9


def test_disabled_when_and_cached_reject_bad_arguments():
    with pytest.raises(ValueError, match="do not exist"):
        slider_ui(_compute, None, sparsity=sparsity_slider(), bits=bits_slider(),
                  disabled_when={"nope": lambda p: None})
    with pytest.raises(TypeError, match="disabled_when"):
        slider_ui(_compute, None, sparsity=sparsity_slider(), bits=bits_slider(),
                  disabled_when={"bits": "x"})
    with pytest.raises(TypeError, match="disabled_when"):
        slider_ui(_compute, None, sparsity=sparsity_slider(), bits=bits_slider(), disabled_when=[1])
    with pytest.raises(ValueError, match="increasing"):
        slider_ui(_compute, None, sparsity=sparsity_slider(), bits=bits_slider(),
                  cached={"sparsity": [0.5, 0.1]})


def test_cached_note_names_the_point_shown():
    ui = slider_ui(_compute, None, sparsity=sparsity_slider(0.5), bits=bits_slider(8),
                   cached={"sparsity": [0.0, 0.5, 0.9]})
    assert ui.notes == []                                   # on the grid: nothing to say
    ui.children[0].value = 0.62
    assert ui.notes == ["≈ sparsity 0.62: showing the nearest cached point 0.5"]
    ui.children[0].value = 0.9
    assert ui.notes == []


def test_grid_nearest_and_interpolate():
    from pruninglab.ui import grid_slider, interpolate, nearest_cached
    g = grid_slider([0.0, 0.25, 0.5], value=0.3, description="s")
    assert g.value == 0.25 and [o[1] for o in g.options] == [0.0, 0.25, 0.5]
    assert nearest_cached(0.3, [0.0, 0.25, 0.5]) == (1, 0.25)
    assert nearest_cached(0.375, [0.0, 0.25, 0.5]) == (1, 0.25)      # tie: the lower point
    assert nearest_cached(-4, [0.0, 0.25, 0.5]) == (0, 0.0)
    assert interpolate(0.375, [0.0, 0.25, 0.5], [0.0, 10.0, 30.0]) == pytest.approx(20.0)
    assert interpolate(9, [0.0, 0.5], [1.0, 2.0]) == 2.0 and interpolate(-1, [0.0, 0.5], [1.0, 2.0]) == 1.0
    with pytest.raises(ValueError, match="values"):
        interpolate(0.1, [0.0, 0.5], [1.0])
    with pytest.raises(ValueError, match="empty"):
        nearest_cached(0.1, [])
    with pytest.raises(TypeError, match="grid"):
        grid_slider(3)


def test_saved_text_tells_the_learner_to_run_the_cells():
    ui = slider_ui(_compute, None, sparsity=sparsity_slider(0.5), bits=bits_slider(8))
    bundle = ui._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    plain = data["text/plain"]
    assert plain.startswith("▶ Run the cells above") and "sparsity, bits" in plain
    assert "interactive(" not in plain and "FloatSlider" not in plain
    assert "Run the cells above" in repr(ui)


def _blit_setup(fig):
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.95)
    ax = fig.add_subplot()
    ax.plot([0, 0.5, 1], [0, 1, 0.4], "-o", label="curve")
    ax.legend(loc="upper right")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="sparsity")
    dot, = ax.plot([], [], "o", ms=9)
    vline = ax.axvline(0.5, color="0.6")
    return {"ax": ax, "dot": dot, "vline": vline, "dynamic": [dot, vline]}


def _blit_update(st, r):
    st["dot"].set_data([r["sparsity"]], [r["sparsity"] ** 2])
    st["vline"].set_xdata([r["sparsity"]] * 2)


def test_liveplot_blit_frames_equal_a_full_redraw_and_are_cached():
    import io

    from PIL import Image

    from pruninglab.ui import LivePlot
    live = LivePlot(_blit_setup, _blit_update)
    assert live.blitting and not LivePlot(_setup, _update).blitting
    first = live.draw({"sparsity": 0.1})
    second = live.draw({"sparsity": 0.8})
    blit = np.asarray(Image.open(io.BytesIO(second)).convert("RGB"))
    live._canvas.draw()
    full = np.asarray(live._canvas.buffer_rgba())[..., :3]
    assert np.array_equal(blit, full) and first != second
    assert live.draw({"sparsity": 0.1}) is first                  # revisited setting: cached bytes
    assert live.blit_matches_full_redraw({"sparsity": 0.3})


def test_liveplot_blit_check_catches_a_static_change():
    from pruninglab.ui import LivePlot

    def bad_update(st, r):                                       # changes the axis: not dynamic
        _blit_update(st, r)
        st["ax"].set_ylim(0, 2 * r["sparsity"] + 0.1)
    live = LivePlot(_blit_setup, bad_update)
    live.draw({"sparsity": 0.2})
    assert not live.blit_matches_full_redraw({"sparsity": 0.9})


def test_liveplot_blit_check_covers_the_frame_that_renders_the_background():
    """An axes title made dynamic is auto-positioned only by a full draw: the first frame (the one
    that also renders the background) lost it. The check must see that first frame too."""
    from pruninglab.ui import LivePlot

    def setup(fig):
        st = _blit_setup(fig)
        st["ax"].set_title(" ")
        st["dynamic"] = [*st["dynamic"], st["ax"].title]
        return st

    def update(st, r):
        _blit_update(st, r)
        st["ax"].set_title(f"sparsity {r['sparsity']:.0%}")
    assert not LivePlot(setup, update).blit_matches_full_redraw({"sparsity": 0.5})
    assert LivePlot(_blit_setup, _blit_update).blit_matches_full_redraw({"sparsity": 0.5})


def test_liveplot_prewarm_caches_backgrounds_and_frames_without_changing_the_shown_frame():
    from pruninglab.ui import LivePlot

    def setup(fig):
        st = _blit_setup(fig)
        st["background_key"] = lambda r: r["top"]
        return st

    def update(st, r):
        _blit_update(st, r)
        st["ax"].set_ylim(0, r["top"])                          # static per background key
    live = LivePlot(setup, update)
    shown = live.draw({"sparsity": 0.2, "top": 1.0})
    assert live.prewarm({"sparsity": 0.2, "top": t} for t in (2.0, 3.0)) is live
    assert live.png is shown and len(live._bg) == 3 and len(live._frames) == 3
    r = {"sparsity": 0.6, "top": 3.0}
    assert live.draw(r) == LivePlot(setup, update).draw(r) and live.blit_matches_full_redraw(r)
    assert len(live._bg) == 3                                    # no new background


def test_frame_key_covers_arrays_and_refuses_unknown_objects():
    from pruninglab.ui import LivePlot
    k = LivePlot.frame_key
    a = np.arange(6.0)
    assert k({"s": 0.5, "ys": a}) == k({"s": 0.5, "ys": a.copy()})
    assert k({"s": 0.5, "ys": a}) != k({"s": 0.5, "ys": a + 1})     # same scalars, other data
    assert k({"s": 0.5, "c": {"l1": [1, 2]}}) != k({"s": 0.5, "c": {"l1": [1, 3]}})
    assert k({"s": 0.5, "m": object()}) is None and k([1]) is None
    # results nested like 08's roofline ({"current": {"layers": [{...}, ...]}}) are cached too
    nested = {"current": {"layers": [{"name": "fc1", "flops": 1.0, "xy": [1.0, 2.0]}]}}
    other = {"current": {"layers": [{"name": "fc1", "flops": 1.0, "xy": [1.0, 2.5]}]}}
    assert k(nested) is not None and k(nested) != k(other)
    deep = {"a": [[[[[[[1]]]]]]]}
    assert k(deep) is None                                          # beyond 6 levels: not cached


def test_png_rgb_roundtrip_and_rejects_bad_input():
    import io

    from PIL import Image

    from pruninglab.ui import png_rgb
    rgb = np.random.default_rng(0).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_rgb(rgb)))), rgb)
    with pytest.raises(ValueError, match="rgb"):
        png_rgb(rgb.astype(float))


def test_liveplot_background_key_rerenders_the_static_part_per_key():
    from pruninglab.ui import LivePlot

    def setup(fig):
        st = _blit_setup(fig)
        st["background_key"] = lambda r: r["scale"]
        return st

    def update(st, r):                       # the axis depends on the key only
        _blit_update(st, r)
        st["ax"].set_ylim(0, r["scale"])
    live = LivePlot(setup, update)
    for r in ({"sparsity": 0.2, "scale": 1}, {"sparsity": 0.7, "scale": 2}, {"sparsity": 0.4, "scale": 1}):
        live.draw(r)
        assert live.blit_matches_full_redraw(r)
    assert len(live._bg) == 2


def test_pinned_id_keeps_the_object_alive_and_is_bounded():
    from pruninglab.ui import LivePlot, pinned_id
    st = {}
    objs = [object() for _ in range(LivePlot.max_backgrounds + 3)]
    ids = [pinned_id(st, o) for o in objs]
    assert ids == [id(o) for o in objs] and pinned_id(st, objs[-1]) == id(objs[-1])
    assert len(st["_pins"]) == LivePlot.max_backgrounds and id(objs[0]) not in st["_pins"]


def test_slider_ui_freezes_the_gc_inside_a_kernel_only(monkeypatch):
    """Issue 15: a full cyclic collection of a notebook kernel's objects took 160-250 ms (08) and
    could land inside a move; a UI built in a kernel collects once and freezes the survivors."""
    import gc

    import pruninglab.ui as U
    calls = []
    monkeypatch.setattr(U, "freeze_gc", lambda: calls.append(1))
    U.slider_ui(lambda s: {"s": s}, sparsity=U.sparsity_slider(0.5))
    assert calls == []                                            # tests / scripts: untouched
    monkeypatch.setattr(U, "_kernel_loop", lambda: object())
    U.slider_ui(lambda s: {"s": s}, sparsity=U.sparsity_slider(0.5), in_place=False)
    assert calls == [1]
    monkeypatch.undo()
    try:
        U.freeze_gc()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
