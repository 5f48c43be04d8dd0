"""Every slider of every notebook 00–09 changes its view (issue 15), in-process, no browser.

For each notebook (its instructor build when there is one, so that the UIs behind
``ready(...)`` guards are built too), only the code cells that its ``slider_ui`` cells need are
executed (``benchmarks/notebook_slice.py``: a backward slice over top-level names, with a warm
``pruninglab.cache``), in a fresh namespace in this process (torch imported once per worker).
Every :class:`pruninglab.ui.SliderUI` built is recorded; each of its controls is moved once (a
slider one step, as one arrow key in the browser; a dropdown to another option) and what the
learner sees must change: the note line, the text and the PNG of the :class:`LivePlot` shown in
place (the widgets the browser renders), or the printed output for any other render. A blitted
:class:`LivePlot` (``state["dynamic"]``) must give the pixels of a full redraw after every move
(:meth:`~pruninglab.ui.LivePlot.blit_matches_full_redraw`). A disabled
control must show its reason (``⊘``). The real browser does the same for 00 and 01
(``tests/test_browser.py``) and ``make bench-browser`` times it for every notebook.

Cost: 17.5 s with 2 workers and a warm cache on the idle 2-core machine of 2026-12-03 (225 s
summed at load ~14 on 2026-12-02, before the sliders were blitted). It runs in ``make test`` (the
Makefile sets ``PRUNINGLAB_ALL_SLIDERS=1``; the root ``conftest.py`` orders it after the instructor
builds, which fill the cache), in ``make test-sliders`` and at the end of ``make bench``; a plain
``pytest`` without the variable skips it.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    os.environ.get("PRUNINGLAB_ALL_SLIDERS", "") != "1",
    reason="slow (every notebook's UI cells): make test-sliders (PRUNINGLAB_ALL_SLIDERS=1)")]

ROOT = Path(__file__).resolve().parent.parent
STEMS = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))


def _path(stem: str) -> Path:
    inst = ROOT / "instructor" / f"{stem}.ipynb"
    return inst if inst.exists() else ROOT / "notebooks" / f"{stem}.ipynb"


@contextlib.contextmanager
def _isolated_globals():
    """Keep what a notebook's ``notebook_setup()`` changes process-wide from leaking into other
    tests of this worker: matplotlib rcParams, NumPy / torch print options, RNG states, torch
    threads and determinism flag, the working directory."""
    import matplotlib
    import torch
    from torch._tensor_str import PRINT_OPTS
    np_opts, t_opts = np.get_printoptions(), copy.copy(vars(PRINT_OPTS))
    py_rng, np_rng, t_rng = random.getstate(), np.random.get_state(), torch.get_rng_state()
    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    cwd = os.getcwd()
    try:
        with matplotlib.rc_context():
            yield
    finally:
        os.chdir(cwd)
        np.set_printoptions(**np_opts)
        vars(PRINT_OPTS).update(t_opts)
        random.setstate(py_rng)
        np.random.set_state(np_rng)
        torch.set_rng_state(t_rng)
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det)


def _run_ui_cells(path: Path) -> list:
    """Execute the slice of ``path`` that its UI cells need; return the SliderUIs built."""
    import matplotlib
    import matplotlib.pyplot as plt
    from benchmarks.notebook_slice import ui_slice
    import pruninglab.ui as ui_mod

    matplotlib.use("Agg")
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    srcs = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    srcs = ["\n".join(ln for ln in s.splitlines() if not ln.lstrip().startswith(("%", "!"))) for s in srcs]
    built: list = []
    original_init = ui_mod.SliderUI.__init__

    def recording_init(self, *a, **k):
        if k.get("in_place") is None:  # what a kernel does: the LivePlot shown in place
            k["in_place"] = True
        original_init(self, *a, **k)
        built.append(self)

    from IPython.display import display
    ns = {"__name__": "__main__", "display": display}  # an IPython builtin in a kernel
    old_show = plt.show
    ui_mod.SliderUI.__init__ = recording_init
    plt.show = lambda *a, **k: plt.close("all")
    os.chdir(path.parent)
    try:
        for i in ui_slice(srcs):
            tags = cells[i].get("metadata", {}).get("tags", [])
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                try:
                    exec(compile(srcs[i], f"{path.name}[code cell {i}]", "exec"), ns)
                except Exception as e:
                    if "raises-exception" not in tags:
                        raise AssertionError(f"{path.name} code cell {i} failed in the UI slice: {e!r}\n"
                                             f"{srcs[i][:400]}") from e
    finally:
        ui_mod.SliderUI.__init__ = original_init
        plt.show = old_show
        plt.close("all")
    return built


def _view(ui) -> tuple:
    """What the browser shows of ``ui``: note line, text and picture (or printed output)."""
    r = ui._render
    if ui._live_mode():
        return ("live", ui._notes_html.value, r._text_w.value, r._image_w.value)
    buf = io.StringIO()  # any other render prints: draw the current values once more
    with contextlib.redirect_stdout(buf):
        ui.update()
    return ("printed", ui._notes_html.value, buf.getvalue())


def _move(ui, w) -> None:
    """One move of control ``w``: one slider step (back at the top), or another option."""
    import ipywidgets as ipw
    with contextlib.redirect_stdout(io.StringIO()):
        if isinstance(w, (ipw.FloatSlider, ipw.IntSlider, ipw.FloatLogSlider)):
            up = w.value + w.step
            w.value = up if up <= w.max + 1e-12 else w.value - w.step
        elif isinstance(w, (ipw.Dropdown, ipw.SelectionSlider, ipw.ToggleButtons, ipw.RadioButtons)):
            n = len(w.options)
            w.index = (w.index + 1) % n if w.index + 1 < n else w.index - 1
        elif isinstance(w, ipw.Checkbox):
            w.value = not w.value
        else:
            raise AssertionError(f"unknown control type {type(w).__name__}")


@pytest.mark.parametrize("stem", STEMS)
def test_every_slider_changes_the_view(stem):
    with _isolated_globals():
        uis = _run_ui_cells(_path(stem))
        assert uis, f"{stem}: no slider_ui was built"
        dead, stale, checked = [], [], 0
        for k, ui in enumerate(uis):
            assert ui.error is None, f"{stem} ui#{k}: the first draw raised:\n{ui.error}"
            for name, w in ui.controls.items():
                if getattr(w, "disabled", False):
                    assert any(n.startswith(f"⊘ {name}:") for n in ui.notes), \
                        f"{stem} ui#{k} {name} is disabled without a reason shown"
                    continue
                before = _view(ui)
                _move(ui, w)
                assert ui.error is None, f"{stem} ui#{k} {name}: the callback raised:\n{ui.error}"
                checked += 1
                if _view(ui) == before:
                    dead.append((k, name, w.value))
                live = ui._render
                if ui._live_mode() and getattr(live, "blitting", False) and ui.result is not None \
                        and not live.blit_matches_full_redraw(ui.result):
                    stale.append((k, name, w.value))
        assert checked, f"{stem}: no enabled control"
        assert not dead, f"{stem}: moving these controls changed nothing shown (ui#, control, value): {dead}"
        assert not stale, (f"{stem}: a blitted frame differs from a full redraw (update changed a static "
                           f"artist: limits, ticks, text?) after (ui#, control, value): {stale}")
