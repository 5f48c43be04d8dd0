"""The slider pattern used by every notebook.

An interactive figure is split in two, so that the numbers can be validated by nbval and
unit-tested without a browser:

1. a **pure compute function** ``compute(**params) -> dict`` (no printing, no plotting,
   deterministic); notebooks call it once in a normal cell whose output nbval checks;
2. a **render function** ``render(result) -> None``; for sliders use a :class:`LivePlot`
   (a figure built once and updated in place, shown as an ``ipywidgets.Image`` whose bytes are
   replaced on every move) — any other callable that prints / ``plt.show()``\\ s also works, drawn
   into an ``Output`` that is cleared and refilled (slower: see ``benchmarks/README.md``);
3. :func:`slider_ui` glues them into a :class:`SliderUI` (an ``ipywidgets.interactive``); the
   cell that displays it is tagged ``nbval-ignore-output``.

Tests drive the UI without a browser::

    ui = slider_ui(compute, render, sparsity=sparsity_slider())
    ui.children[0].value = 0.9      # the callback runs synchronously
    assert ui.result["sparsity"] == 0.9

How a move is handled
---------------------
* Sliders use ``continuous_update=True``: a drag follows the mouse.
* **Latest value wins.** ipywidgets' frontend keeps at most one change of a control in flight: while
  the kernel is busy with one, later positions of a drag replace each other in a buffer and only
  the last is sent, so a slow callback never builds a queue. On top of that, ``coalesce=True``
  (off by default) defers the callback of a :class:`LivePlot` shown in place: a value that arrives
  *from the browser* does not run the callback inside the comm message, it marks the UI dirty and
  schedules one refresh on the kernel's event loop, so the browser gets the message's ``idle``
  at once and sends the next position while the kernel draws.
  Values that arrive while a refresh is running (or before the scheduled one started) are not
  rendered one by one — the next refresh reads the controls' *current* values, so intermediate
  positions of a drag are dropped and the last one is always drawn. (ipywidgets' frontend also
  buffers a model's changes while one message is in flight.) A value set from Python (a test, a
  notebook cell) runs the callback synchronously, so ``ui.result`` is current right after the
  assignment.
* **Why the deferred refresh never enters the Output** (the browser stall of ``coalesce=True``,
  fixed for issue 15). ``interactive.update`` runs inside ``with self.out``, which sets the Output
  widget's ``msg_id`` to the current parent message (the browser's ``comm_msg`` carrying the slider
  value) and resets it on exit. In the browser, JupyterLab's Output model then registers a
  *message hook* on that message's future, and the hook swallows every IOPub message with that
  parent — including the kernel's ``status: idle`` for it. Run synchronously inside the comm
  message, set and reset both reach the browser before the ``idle``, so nothing is lost. Deferred
  to the kernel's io_loop, the refresh could start after the comm message's handler returned but
  before ipykernel published its ``idle`` (kernel-side log: ``msg_id=M`` sent, then ``status idle``
  for M, then the image and ``msg_id=''``); the hook ate that ``idle``, ipywidgets' per-model
  throttle (one change in flight, later ones buffered until ``idle``) never released, and the
  browser stopped sending values: the readout moved on, the kernel's value and the picture stayed.
  The deferred path therefore updates the in-place widgets (text, image, note line) directly and
  never touches the Output; an exception is shown in the note line.
* ``ui.timings`` holds the duration (seconds) of every callback and ``ui.frame_budget_s`` the
  budget (0.1 s); ``ui.over_budget`` counts callbacks that took longer. With the environment
  variable ``PRUNINGLAB_UI_TRACE=path`` set (the browser benchmark sets it for its kernels), every
  callback also appends ``pid callback <wall start, s> <duration, s>`` to that file, and every
  cyclic garbage collection over 2 ms ``pid gc<generation> <wall start> <duration>``: how the benchmark splits
  a move into input → kernel, callback and kernel → screen. A callback never waits
  for anything: keep ``compute`` to table look-ups / small evaluations (precompute sweeps when
  the UI is built, cache them with :func:`pruninglab.cache.cached`).

No dead controls
----------------
``disabled_when`` maps a control name to ``rule(params) -> str | None``; before every callback
each rule sees the current parameter dict; a non-empty string disables that control (greyed out,
value kept and still passed to ``compute``) and is shown as a note above the output, e.g.::

    slider_ui(compute_roofline, live_roofline(), structure=dropdown(STRUCTURES, "dense"),
              sparsity=sparsity_slider(0.9),
              disabled_when={"sparsity": lambda p: "dense ignores sparsity: pick a sparse "
                             "structure" if p["structure"] == "dense" else None})

``ui.disabled_reasons`` is the ``{name: reason}`` dict currently in force (tests can assert it).

Cached sweeps: a slider over precomputed points should not have positions that show nothing new.
Either use :func:`grid_slider` (a slider whose positions *are* the cached points), or keep a
continuous slider and pass ``cached={"sparsity": grid}``: whenever the value is off the grid, a
note says which cached point is shown (``ui.notes`` lists the notes); :func:`nearest_cached` and
:func:`interpolate` help ``compute`` snap or interpolate consistently with that note, and a
LivePlot should mark the point it shows.

Before the cells run (an untrusted notebook / no kernel), JupyterLab shows the saved
``text/plain`` of the output: a :class:`SliderUI` saves "▶ Run the cells above …" there instead
of ``interactive(children=(FloatSlider(…``.
"""
from __future__ import annotations

import contextvars
import html
import io
import os
import time
import traceback
from typing import Any, Callable, Mapping, Sequence

__all__ = ["slider_ui", "SliderUI", "sparsity_slider", "bits_slider", "float_slider", "int_slider",
           "dropdown", "grid_slider", "nearest_cached", "interpolate", "show", "LivePlot", "png_rgb", "pinned_id",
           "FRAME_BUDGET_S"]

#: time one callback may take before it counts as over budget (the browser p95 goal)
FRAME_BUDGET_S = 0.1
_WIDTH = "420px"


def float_slider(value: float, lo: float, hi: float, step: float, description: str,
                 readout_format: str = ".2f"):
    import ipywidgets as w
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         readout_format=readout_format, continuous_update=True,
                         style={"description_width": "initial"},
                         layout=w.Layout(width=_WIDTH))


def int_slider(value: int, lo: int, hi: int, step: int = 1, description: str = ""):
    import ipywidgets as w
    return w.IntSlider(value=value, min=lo, max=hi, step=step, description=description,
                       continuous_update=True, style={"description_width": "initial"},
                       layout=w.Layout(width=_WIDTH))


def sparsity_slider(value: float = 0.5, hi: float = 0.99, step: float = 0.01,
                    description: str = "sparsity"):
    """Fraction of weights set to zero, in [0, hi]."""
    return float_slider(value, 0.0, hi, step, description)


def bits_slider(value: int = 8, lo: int = 1, hi: int = 16, description: str = "bits"):
    return int_slider(value, lo, hi, 1, description)


def dropdown(options, value=None, description: str = ""):
    import ipywidgets as w
    opts = list(options)
    return w.Dropdown(options=opts, value=opts[0] if value is None else value,
                      description=description, style={"description_width": "initial"})


def grid_slider(grid: Sequence[float], value: float | None = None, description: str = "",
                fmt: str = ".2f"):
    """A slider whose positions are exactly the cached points ``grid`` (sorted, unique).

    Every position shows a different precomputed result, so no move is dead. ``value`` (default:
    the first point) is snapped to the nearest grid point. The widget's ``.value`` is the float.
    """
    import ipywidgets as w
    pts = _check_grid(grid, "grid")
    v = pts[0] if value is None else nearest_cached(value, pts)[1]
    return w.SelectionSlider(options=[(format(p, fmt), p) for p in pts], value=v,
                             description=description, continuous_update=True,
                             style={"description_width": "initial"}, layout=w.Layout(width=_WIDTH))


def _check_grid(grid, name: str) -> list:
    try:
        pts = [float(g) for g in grid]
    except TypeError:
        raise TypeError(f"{name} must be a sequence of numbers, got {type(grid).__name__}") from None
    except ValueError as e:
        raise ValueError(f"{name} must hold numbers: {e}") from None
    if not pts:
        raise ValueError(f"{name} must not be empty")
    if any(b <= a for a, b in zip(pts, pts[1:])):
        raise ValueError(f"{name} must be strictly increasing, got {pts!r}")
    return pts


def nearest_cached(value: float, grid: Sequence[float]) -> tuple[int, float]:
    """``(index, point)`` of the grid point nearest to ``value`` (ties: the lower point)."""
    pts = _check_grid(grid, "grid")
    v = float(value)
    i = min(range(len(pts)), key=lambda k: (abs(pts[k] - v), k))
    return i, pts[i]


def interpolate(value: float, grid: Sequence[float], values: Sequence[float]) -> float:
    """Linear interpolation of ``values`` (one per grid point) at ``value``, clamped to the ends."""
    pts = _check_grid(grid, "grid")
    ys = [float(y) for y in values]
    if len(ys) != len(pts):
        raise ValueError(f"values must have one entry per grid point ({len(pts)}), got {len(ys)}")
    v = float(value)
    if v <= pts[0]:
        return ys[0]
    if v >= pts[-1]:
        return ys[-1]
    for k in range(1, len(pts)):
        if v <= pts[k]:
            t = (v - pts[k - 1]) / (pts[k] - pts[k - 1])
            return ys[k - 1] + t * (ys[k] - ys[k - 1])
    return ys[-1]  # pragma: no cover


def _from_frontend(change) -> bool:
    """True when a traitlets ``change`` was sent by the browser (ipywidgets applies frontend
    state inside ``_lock_property``, so the trait name is in ``_property_lock`` while observers
    run); False for a value set from Python."""
    owner = change.get("owner") if isinstance(change, Mapping) else getattr(change, "owner", None)
    name = change.get("name") if isinstance(change, Mapping) else getattr(change, "name", None)
    lock = getattr(owner, "_property_lock", None)
    return bool(lock) and name in lock


def _kernel_loop():
    """The running kernel's tornado IOLoop, or None outside a kernel (tests, scripts)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return None
    ip = get_ipython()
    kernel = getattr(ip, "kernel", None) if ip is not None else None
    return getattr(kernel, "io_loop", None)


TRACE_ENV = "PRUNINGLAB_UI_TRACE"
_gc_t0: list = []


def _trace(kind: str, wall_start: float, dt: float) -> None:
    """Append one event to ``$PRUNINGLAB_UI_TRACE`` (nothing when it is unset)."""
    path = os.environ.get(TRACE_ENV)
    if path:
        with open(path, "a") as f:
            f.write(f"{os.getpid()} {kind} {wall_start:.6f} {dt:.6f}\n")


def _gc_trace(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_t0[:] = [time.time(), time.perf_counter()]
    elif _gc_t0:
        dt = time.perf_counter() - _gc_t0[1]
        if dt > 0.002:
            _trace(f"gc{info.get('generation', '')}", _gc_t0[0], dt)


def trace_gc() -> None:
    """With ``$PRUNINGLAB_UI_TRACE`` set, log cyclic collections over 2 ms to it (once per process)."""
    import gc
    if os.environ.get(TRACE_ENV) and _gc_trace not in gc.callbacks:
        gc.callbacks.append(_gc_trace)


def freeze_gc() -> None:
    """Collect garbage once, then move every surviving object to the permanent generation
    (:func:`gc.freeze`). Called when a slider UI is built inside a kernel: a *full* cyclic
    collection walks every object the notebook has created — 160–250 ms measured in notebook
    08's kernel (~285 000 tracked objects) — and when one lands inside a slider move the learner
    waits for it. After the freeze a full collection walks only the objects created since.
    The cost: reference counting still frees frozen objects as usual, but a frozen object that
    later becomes part of a reference *cycle* of garbage (e.g. a figure from an earlier cell
    closed later) is not collected until the kernel restarts or :func:`gc.unfreeze` is called
    — memory traded for latency, bounded by what existed when the UI was built."""
    import gc
    gc.collect()
    gc.freeze()


def _base_interactive():
    import ipywidgets as w
    return w.interactive


class SliderUI(_base_interactive()):
    """An ``ipywidgets.interactive`` for ``render(compute(**values))`` (made by :func:`slider_ui`).

    ``children`` are the controls (in keyword order, ``ipywidgets.fixed`` values omitted) and, last,
    the ``Output`` area (``.out``). ``.result`` is the dict ``compute`` returned for the current
    values, ``.kwargs`` those values; ``.disabled_reasons`` / ``.notes`` what the note line shows;
    ``.timings`` / ``.over_budget`` / ``.dropped`` count the callbacks (see the module doc).
    """

    def __init__(self, compute, render, controls: dict, disabled_when=None, cached=None,
                 frame_budget_s: float = FRAME_BUDGET_S, in_place: bool | None = None,
                 coalesce: bool = False):
        import ipywidgets as w
        self.coalesce = bool(coalesce)
        self._compute, self._render = compute, render
        # LivePlot in place (Image widget) inside a kernel; outside one (tests, scripts) there is
        # no browser, so the LivePlot prints its text and displays the PNG as a plain call does
        in_kernel = _kernel_loop() is not None
        self.in_place = in_kernel if in_place is None else bool(in_place)
        if in_kernel:
            freeze_gc()       # no full collection of the notebook's objects inside a move
            trace_gc()
        self._rules = dict(disabled_when or {})
        self._cached = {k: _check_grid(v, f"cached[{k!r}]") for k, v in (cached or {}).items()}
        self.frame_budget_s = frame_budget_s
        self.timings: list[float] = []
        self.over_budget = 0
        self.dropped = 0           # browser changes that never got their own callback
        self.disabled_reasons: dict[str, str] = {}
        self.notes: list[str] = []
        self.error: str | None = None
        self._scheduled = False
        self._ctx = None
        self._live_shown = False
        self._notes_html = w.HTML(value="", layout=w.Layout(margin="0 0 0 4px"))
        unknown = (set(self._rules) | set(self._cached)) - set(controls)
        if unknown:
            raise ValueError(f"disabled_when/cached name controls that do not exist: {sorted(unknown)}"
                             f" (controls: {sorted(controls)})")
        for name, rule in self._rules.items():
            if not callable(rule):
                raise TypeError(f"disabled_when[{name!r}] must be callable, got {type(rule).__name__}")

        def _callback(**values):  # what interactive calls; the real work is in _run
            return self._call(values)

        _callback.__name__ = getattr(compute, "__name__", "compute")
        super().__init__(_callback, **controls)

    # -- controls ------------------------------------------------------------------------------
    @property
    def controls(self) -> dict:
        """``{name: widget}`` for every control (fixed values excluded)."""
        import ipywidgets as w
        return {wd._kwarg: wd for wd in self.kwargs_widgets if isinstance(wd, w.DOMWidget)}

    # -- event handling ------------------------------------------------------------------------
    def update(self, *args):
        """traitlets observer (and first draw): run now, or — for a browser change inside a
        running kernel — schedule one refresh that will read the latest values."""
        # deferred only for the in-place LivePlot view: widget updates need no output routing,
        # while Output captures must run inside the comm message that their parent header names
        if args and self.coalesce and self._live_mode() and self._live_shown and _from_frontend(args[0]):
            loop = _kernel_loop()
            if loop is not None:
                self._ctx = contextvars.copy_context()
                if self._scheduled:
                    self.dropped += 1
                    return
                self._scheduled = True
                loop.add_callback(self._flush)
                return
        self._refresh()

    def _flush(self):
        """The deferred refresh: reads the controls' *current* values (latest wins) and updates
        the in-place view WITHOUT entering the Output widget (module doc: "Why the deferred
        refresh never enters the Output")."""
        self._scheduled = False
        ctx, self._ctx = self._ctx, None
        if ctx is None:
            self._refresh_live()
        else:
            ctx.run(self._refresh_live)

    def _refresh_live(self):
        t0, wall = time.perf_counter(), time.time()
        try:
            values = {wd._kwarg: wd.get_interact_value() for wd in self.kwargs_widgets}
            self.kwargs = values
            try:
                self._apply_rules(values)
                result = self._compute(**values)
                self._render.show_in_place(result)
            except Exception:
                # shown in the note line (a widget): printing a traceback would need the Output
                self.error = traceback.format_exc()
                self._notes_html.value = ("<pre style='color:#b00;white-space:pre-wrap;margin:0'>"
                                          + html.escape(self.error[-3000:]) + "</pre>")
                return
            self.error = None
            self.result = result
        finally:
            dt = time.perf_counter() - t0
            self.timings.append(dt)
            if dt > self.frame_budget_s:
                self.over_budget += 1
            _trace("callback", wall, dt)

    def _refresh(self):
        t0, wall = time.perf_counter(), time.time()
        try:
            super().update()
        finally:
            dt = time.perf_counter() - t0
            self.timings.append(dt)
            if dt > self.frame_budget_s:
                self.over_budget += 1
            _trace("callback", wall, dt)

    # -- one callback --------------------------------------------------------------------------
    def _apply_rules(self, values: dict) -> None:
        reasons = {}
        for name, rule in self._rules.items():
            why = rule(dict(values))
            if why:
                reasons[name] = str(why)
        ctrls = self.controls
        for name in self._rules:
            wd = ctrls.get(name)
            if wd is not None and hasattr(wd, "disabled"):
                wd.disabled = name in reasons
                if hasattr(wd, "tooltip"):
                    wd.tooltip = reasons.get(name)
        self.disabled_reasons = reasons
        notes = [f"⊘ {name}: {why}" for name, why in reasons.items()]
        for name, grid in self._cached.items():
            v = values.get(name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                _, p = nearest_cached(v, grid)
                if abs(p - v) > 1e-9 * max(1.0, abs(p)):
                    notes.append(f"≈ {name} {v:g}: showing the nearest cached point {p:g}")
        self.notes = notes
        self._notes_html.value = ("<div style='color:#8a5a00;font-size:90%'>"
                                  + "<br>".join(html.escape(n) for n in notes) + "</div>") if notes else ""

    def _call(self, values: dict):
        """Called by ``interactive.update`` inside ``with self.out``."""
        from IPython.display import clear_output, display
        self._apply_rules(values)
        render = self._render
        if self._live_mode():
            try:
                result = self._compute(**values)
                render.show_in_place(result)
            except Exception:
                self.error = traceback.format_exc()
                self._live_shown = False
                clear_output()  # the stale picture goes; interactive shows the traceback
                raise
            self.error = None
            if not self._live_shown:
                clear_output(wait=True)
                display(_vbox(self._notes_html, render.view()))
                self._live_shown = True
            return result
        if self._notes_html.value:
            display(self._notes_html)
        result = self._compute(**values)
        if render is not None:
            render(result)
        return result

    # interactive.update() clears the Output first (clear_output(wait=True)); for a LivePlot whose
    # view is already displayed that would remove it, so clearing is switched off while it shows.
    @property
    def clear_output(self):
        return not (self._live_mode() and self._live_shown)

    def _live_mode(self) -> bool:
        return self.__dict__.get("in_place", False) and isinstance(self._render, LivePlot)

    @clear_output.setter
    def clear_output(self, value):  # interactive.__init__ assigns it; the property decides
        pass

    # -- saved text for a notebook that has not run -------------------------------------------
    def _plain(self) -> str:
        names = ", ".join(self.controls) or "controls"
        return (f"▶ Run the cells above (Run → Run All Cells) to use this slider ({names}); "
                "it needs a running kernel.")

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        if isinstance(data, tuple):
            bundle, meta = data
            bundle = dict(bundle, **{"text/plain": self._plain()})
            return bundle, meta
        if isinstance(data, dict):
            return dict(data, **{"text/plain": self._plain()})
        return data

    def __repr__(self) -> str:
        return f"SliderUI({self._plain()})"


def _vbox(*children):
    import ipywidgets as w
    return w.VBox(list(children))


def slider_ui(compute: Callable[..., dict], render: Callable[[dict], Any] | None = None,
              *, disabled_when: Mapping[str, Callable[[dict], str | None]] | None = None,
              cached: Mapping[str, Sequence[float]] | None = None, in_place: bool | None = None,
              coalesce: bool = False, **controls) -> SliderUI:
    """A :class:`SliderUI` whose callback is ``render(compute(**values))``.

    The widget's ``.result`` is the dict that ``compute`` returned for the current values,
    so a test can set ``ui.children[i].value`` and inspect ``ui.result``. ``controls`` maps
    each keyword argument of ``compute`` to a widget (or a fixed value via
    ``ipywidgets.fixed``). The last child of the returned widget is the Output area.
    ``disabled_when`` / ``cached``: see the module docstring (no dead controls). ``in_place``
    (default: only inside a running kernel) shows a :class:`LivePlot` render as an Image widget
    updated in place instead of printing + displaying into the Output on every move.
    """
    if not callable(compute):
        raise TypeError(f"compute must be callable, got {type(compute).__name__}")
    if render is not None and not callable(render):
        raise TypeError(f"render must be callable or None, got {type(render).__name__}")
    if not controls:
        raise ValueError("controls must name at least one widget")
    if disabled_when is not None and not isinstance(disabled_when, Mapping):
        raise TypeError(f"disabled_when must be a dict name -> rule, got {type(disabled_when).__name__}")
    if cached is not None and not isinstance(cached, Mapping):
        raise TypeError(f"cached must be a dict name -> grid, got {type(cached).__name__}")
    return SliderUI(compute, render, controls, disabled_when=disabled_when, cached=cached,
                    in_place=in_place, coalesce=coalesce)


def show(fig=None) -> None:
    """Display a figure and close it (so figures do not pile up in long sessions)."""
    import matplotlib.pyplot as plt
    plt.show()
    if fig is not None:
        plt.close(fig)


class LivePlot:
    """A figure drawn once and updated in place: the fast ``render`` for slider callbacks.

    Creating a matplotlib figure (axes, ticks, layout) costs far more than drawing it, and
    ``tight_layout`` doubles that again; on a 2-core CPU a two-panel figure takes ~80-140 ms
    to create and encode, against ~30 ms to re-encode an existing one. A ``LivePlot`` therefore
    builds its figure once and, on every call, only changes artist data:

    * ``setup(fig) -> state`` adds axes and artists to a fresh ``Figure`` (fixed size, fixed
      margins via ``fig.subplots_adjust``: no layout engine) and returns whatever ``update``
      needs (a dict of artists is typical);
    * ``update(state, result)`` sets data / heights / texts / limits from a ``compute`` result;
    * ``text(result) -> str`` (optional) is printed above the figure.

    **Blitting.** If ``state`` is a dict with a ``"dynamic"`` entry (the artists ``update``
    changes), everything else (axes, ticks, labels, legend, precomputed curves: most of the cost)
    is *static*: the first draw renders the figure without the dynamic artists and keeps those
    pixels; every later draw restores them (a memory copy) and paints only the dynamic artists on
    top. ``update`` must then change nothing but the dynamic artists (no axis limits, no tick
    labels, no static text) — unless the state also has ``"background_key"``: a function of the
    result naming the static picture (e.g. the layer a dropdown selects); ``update`` may change
    static artists as a function of that key only, and one background is kept per key (up to
    ``max_backgrounds``). :meth:`blit_matches_full_redraw` checks a frame for a result, and the
    slider tests call it on every move. Dynamic artists get a zorder of at least 6 (above legends
    and grids), so painting them last is what a full redraw does: the pixels are identical.

    **Encoding and frame cache.** Frames are encoded by :func:`png_rgb` (8-bit RGB, no row
    filter, zlib level 1: ~2.5x faster than PIL's encoder for flat plots) and kept per result
    (key: the result's scalars, strings and a digest of its arrays; a result holding anything else
    is never cached), so moving back to a setting already shown costs a dictionary look-up.

    In a :func:`slider_ui`, the figure is shown once as an ``ipywidgets.Image`` (and the text in an
    ``HTML`` widget) and every move only replaces the image bytes and the text: the browser swaps
    one ``<img>`` source instead of clearing and re-creating an output area (measured in
    ``benchmarks/README.md``). Called directly, ``live(result)`` prints the text and displays the
    PNG (also outside pyplot: the figure is not registered with pyplot, so ``plt.show`` and the
    inline backend never close or re-display it). ``live.png`` holds the last bytes, so tests can
    check that a move changed the picture.

    >>> live = LivePlot(setup, update, text=lambda r: f"sparsity {r['sparsity']:.0%}")
    >>> slider_ui(compute, live, sparsity=sparsity_slider())      # doctest: +SKIP
    """

    #: PNG zlib level: 1 encodes faster than the default 6 for nearly the same size (flat plots)
    compress_level = 1
    #: frames kept per LivePlot (a few MB at most)
    max_frames = 512
    #: static backgrounds kept per LivePlot (one per ``background_key`` value)
    max_backgrounds = 16

    def __init__(self, setup: Callable[[Any], Any], update: Callable[[Any, dict], Any],
                 text: Callable[[dict], str] | None = None, figsize: tuple = (7.0, 3.6),
                 dpi: float | None = None):
        for name, f in (("setup", setup), ("update", update)):
            if not callable(f):
                raise TypeError(f"{name} must be callable, got {type(f).__name__}")
        if text is not None and not callable(text):
            raise TypeError(f"text must be callable or None, got {type(text).__name__}")
        if (not isinstance(figsize, (tuple, list)) or len(figsize) != 2
                or not all(isinstance(v, (int, float)) and v > 0 for v in figsize)):
            raise ValueError(f"figsize must be two positive numbers, got {figsize!r}")
        self.setup, self.update, self.text = setup, update, text
        self.figsize, self.dpi = tuple(figsize), dpi
        self.fig = None
        self.state = None
        self.png: bytes | None = None
        self.last_text: str | None = None
        self._view = None
        self._bg = None
        self._dyn = None
        self._frames: dict = {}

    def _ensure(self):
        if self.fig is None:
            import matplotlib as mpl
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
            self.fig = Figure(figsize=self.figsize, dpi=self.dpi or mpl.rcParams["figure.dpi"])
            self._canvas = FigureCanvasAgg(self.fig)
            self.state = self.setup(self.fig)
        return self.fig

    @property
    def blitting(self) -> bool:
        """True when ``setup`` declared its dynamic artists (``state["dynamic"]``)."""
        self._ensure()
        return isinstance(self.state, dict) and "dynamic" in self.state

    def _dynamic(self) -> list:
        """The dynamic artists in the order a full redraw paints them, all above the static ones."""
        if self._dyn is None:
            dyn = list(self.state["dynamic"])
            for a in dyn:
                a.set_zorder(max(a.get_zorder(), 6))
            order = {}
            for ax in self.fig.axes:
                for i, a in enumerate(ax.get_children()):
                    order.setdefault(id(a), i)
            self._dyn = sorted(dyn, key=lambda a: (a.get_zorder(), order.get(id(a), 0)))
        return self._dyn

    @staticmethod
    def frame_key(result) -> str | None:
        """Cache key of a result: its scalars, strings, lists / tuples / dicts of those (nested up
        to 6 levels, e.g. 08's roofline ``{"current": {"layers": [{...}]}}``) and a digest of its
        arrays; ``None`` (never cached) when it holds anything else or is not a dict."""
        import hashlib

        import numpy as np

        def enc(v, depth=0):
            if v is None or isinstance(v, (bool, int, float, str, np.generic)):
                return repr(v.item() if isinstance(v, np.generic) else v)
            if isinstance(v, np.ndarray):
                if v.dtype == object:
                    raise TypeError
                return f"a{v.dtype}{v.shape}:" + hashlib.blake2b(np.ascontiguousarray(v).tobytes(),
                                                                 digest_size=12).hexdigest()
            if depth < 6 and isinstance(v, (list, tuple)):
                return "[" + ",".join(enc(x, depth + 1) for x in v) + "]"
            if depth < 6 and isinstance(v, dict):
                return "{" + ",".join(f"{k!r}:{enc(x, depth + 1)}" for k, x in sorted(v.items(), key=lambda kv: repr(kv[0]))) + "}"
            raise TypeError
        if not isinstance(result, dict):
            return None
        try:
            return enc(result)
        except TypeError:
            return None

    def draw(self, result: dict) -> bytes:
        """Update the figure for ``result`` and return it encoded as PNG (no display)."""
        key = self.frame_key(result)
        png = self._frames.get(key) if key is not None else None
        if png is None:
            png = self._render(result)
            if key is not None and len(self._frames) < self.max_frames:
                self._frames[key] = png
        self.png = png
        return png

    def prewarm(self, results) -> "LivePlot":
        """Draw every result of ``results`` now (e.g. one per dropdown choice, when the UI is
        built), so that their backgrounds and frames are cached and the first move to each is a
        blit or a look-up; what is shown (``png``) is unchanged. Returns ``self``."""
        shown = self.png
        for r in results:
            self.draw(r)
        self.png = shown
        return self

    def _render(self, result: dict) -> bytes:
        import numpy as np
        fig = self._ensure()
        self.update(self.state, result)
        canvas = self._canvas
        if not self.blitting:
            canvas.draw()
        else:
            dyn = self._dynamic()
            keyf = self.state.get("background_key")
            bkey = keyf(result) if callable(keyf) else None
            if self._bg is None:
                self._bg = {}
            bg = self._bg.get(bkey)
            if bg is None:
                vis = [a.get_visible() for a in dyn]
                for a in dyn:
                    a.set_visible(False)
                canvas.draw()
                bg = canvas.copy_from_bbox(fig.bbox)
                if len(self._bg) >= self.max_backgrounds:
                    self._bg.pop(next(iter(self._bg)))
                self._bg[bkey] = bg
                for a, v in zip(dyn, vis):
                    a.set_visible(v)
            else:
                canvas.restore_region(bg)
            renderer = canvas.get_renderer()
            for a in dyn:
                if a.get_visible():
                    a.draw(renderer)
        return png_rgb(np.asarray(canvas.buffer_rgba())[..., :3], self.compress_level)

    def blit_matches_full_redraw(self, result: dict) -> bool:
        """Draw ``result`` (bypassing the frame cache) and compare the frame with a full redraw of
        the same figure: False means ``update`` changed a static artist (limits, ticks, text)."""
        import numpy as np
        if not self.blitting:
            return True
        frames = []
        keyf = self.state.get("background_key")
        if self._bg is None or (keyf(result) if callable(keyf) else None) not in self._bg:
            self._render(result)      # the frame that also renders the background: checked too
            frames.append(np.asarray(self._canvas.buffer_rgba())[..., :3].copy())
        self._render(result)
        frames.append(np.asarray(self._canvas.buffer_rgba())[..., :3].copy())
        self._canvas.draw()
        full = np.asarray(self._canvas.buffer_rgba())[..., :3]
        return all(f.shape == full.shape and bool(np.array_equal(f, full)) for f in frames)

    # -- widget view (used by slider_ui) -------------------------------------------------------
    def view(self):
        """The ``VBox(HTML text, Image)`` that :meth:`show_in_place` updates (created once)."""
        if self._view is None:
            import ipywidgets as w
            self._text_w = w.HTML(value="")
            self._image_w = w.Image(format="png", layout=w.Layout(max_width="100%", height="auto"))
            self._view = w.VBox([self._text_w, self._image_w])
        return self._view

    def show_in_place(self, result: dict) -> None:
        """Redraw for ``result`` and replace the view's text and image bytes (no new output)."""
        self.view()
        png = self.draw(result)
        text = self.text(result) if self.text is not None else ""
        self.last_text = text
        self._text_w.value = (f"<pre style='margin:0;white-space:pre-wrap;font-size:var(--jp-code-font-size,13px)'>"
                              f"{html.escape(text)}</pre>") if text else ""
        self._image_w.value = png

    def __call__(self, result: dict) -> None:
        from IPython.display import Image, display
        if self.text is not None:
            print(self.text(result))
        display(Image(data=self.draw(result), format="png"))


def png_rgb(rgb, level: int = 1) -> bytes:
    """PNG bytes of an (h, w, 3) uint8 image: 8-bit RGB, filter type 0 on every row, one zlib
    stream (the PNG specification's minimal encoder; ``PIL.Image.open`` reads it back exactly)."""
    import struct
    import zlib

    import numpy as np
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"rgb must be an (h, w, 3) uint8 array, got {rgb.dtype} {rgb.shape}")
    h, w, _ = rgb.shape
    raw = np.empty((h, 1 + 3 * w), np.uint8)
    raw[:, 0] = 0
    raw[:, 1:] = rgb.reshape(h, 3 * w)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), level)) + chunk(b"IEND", b""))


def pinned_id(state: dict, obj) -> int:
    """``id(obj)`` for a LivePlot ``background_key``, with ``obj`` kept alive in ``state`` (as
    many objects as :attr:`LivePlot.max_backgrounds`, oldest dropped first) so that the id is not
    reused by another object while a background keyed by it can still be cached."""
    pins = state.setdefault("_pins", {})
    if id(obj) not in pins:
        if len(pins) >= LivePlot.max_backgrounds:
            pins.pop(next(iter(pins)))
        pins[id(obj)] = obj
    return id(obj)
