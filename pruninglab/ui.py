"""The slider pattern used by every notebook.

An interactive figure is split in two, so that the numbers can be validated by nbval and
unit-tested without a browser:

1. a **pure compute function** ``compute(**params) -> dict`` (no printing, no plotting,
   deterministic); notebooks call it once in a normal cell whose output nbval checks;
2. a **render function** ``render(result) -> None`` that prints a short summary and draws a
   matplotlib figure (ending with ``plt.show()``);
3. :func:`slider_ui` glues them into an ``ipywidgets.interactive``; the cell that displays it
   is tagged ``nbval-ignore-output``.

Tests drive the UI without a browser::

    ui = slider_ui(compute, render, sparsity=sparsity_slider())
    ui.children[0].value = 0.9      # the callback runs synchronously
    assert ui.result["sparsity"] == 0.9
"""
from __future__ import annotations

from typing import Any, Callable

__all__ = ["slider_ui", "sparsity_slider", "bits_slider", "float_slider", "int_slider",
           "dropdown", "show"]


def float_slider(value: float, lo: float, hi: float, step: float, description: str,
                 readout_format: str = ".2f"):
    import ipywidgets as w
    return w.FloatSlider(value=value, min=lo, max=hi, step=step, description=description,
                         readout_format=readout_format, continuous_update=False,
                         style={"description_width": "initial"},
                         layout=w.Layout(width="420px"))


def int_slider(value: int, lo: int, hi: int, step: int = 1, description: str = ""):
    import ipywidgets as w
    return w.IntSlider(value=value, min=lo, max=hi, step=step, description=description,
                       continuous_update=False, style={"description_width": "initial"},
                       layout=w.Layout(width="420px"))


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


def slider_ui(compute: Callable[..., dict], render: Callable[[dict], Any] | None = None,
              **controls):
    """``ipywidgets.interactive`` whose callback is ``render(compute(**values))``.

    The widget's ``.result`` is the dict that ``compute`` returned for the current values,
    so a test can set ``ui.children[i].value`` and inspect ``ui.result``. ``controls`` maps
    each keyword argument of ``compute`` to a widget (or a fixed value via
    ``ipywidgets.fixed``). The last child of the returned widget is the Output area.
    """
    import ipywidgets as w
    if not callable(compute):
        raise TypeError(f"compute must be callable, got {type(compute).__name__}")
    if render is not None and not callable(render):
        raise TypeError(f"render must be callable or None, got {type(render).__name__}")
    if not controls:
        raise ValueError("controls must name at least one widget")

    def _callback(**values):
        result = compute(**values)
        if render is not None:
            render(result)
        return result

    _callback.__name__ = getattr(compute, "__name__", "compute")
    ui = w.interactive(_callback, **controls)
    return ui


def show(fig=None) -> None:
    """Display a figure and close it (so figures do not pile up in long sessions)."""
    import matplotlib.pyplot as plt
    plt.show()
    if fig is not None:
        plt.close(fig)
