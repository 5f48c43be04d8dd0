"""Glue between a learner's function and the notebook's experiments.

An experiment that uses a taught algorithm takes the learner's function as an argument. Before
running it, the notebook asks :func:`ready`::

    if ready("magnitude_mask", magnitude_mask):
        F.sweep(prune_fn=magnitude_mask)

``ready`` is True once the function no longer raises ``NotImplementedError`` on the exercise's
first fixed case; otherwise it prints one line telling the learner what to write first (so the
learner build runs top to bottom without an error).

:func:`predict` records a prediction *before* the result is shown; :func:`reveal` compares it
with the measured value afterwards.
"""
from __future__ import annotations

__all__ = ["ready", "predict", "reveal", "PREDICTIONS"]

PREDICTIONS: dict[str, object] = {}


def ready(exercise_id: str, fn, *, quiet: bool = False) -> bool:
    """True when ``fn`` is implemented (see :func:`pruninglab.grading.implemented`)."""
    from ..grading import EXERCISES, implemented
    ok = implemented(exercise_id, fn)
    if not ok and not quiet:
        name = EXERCISES[exercise_id].function_name
        print(f"✎ This experiment runs *your* `{name}`: write it in the exercise cell above "
              f"(it still raises NotImplementedError), run check(\"{exercise_id}\", {name}), "
              "then re-run this cell.")
    return ok


def predict(question_id: str, prompt: str, choices=None, *, lo=None, hi=None, value=None):
    """A small widget that records the learner's prediction in ``PREDICTIONS[question_id]``.

    ``choices``: a list of strings (radio buttons, none selected); otherwise a number box
    (``lo``/``hi`` bounds optional) that starts at ``value`` — by default a neutral 0, moved
    into ``[lo, hi]`` when 0 is outside (never at a bound such as −100 just because it is the
    bound). Display it in a cell tagged ``nbval-ignore-output``."""
    import ipywidgets as w
    if not isinstance(question_id, str) or not question_id:
        raise TypeError("question_id must be a non-empty str")
    label = w.HTML(f"<b>Predict first:</b> {prompt}")
    if choices:
        box = w.RadioButtons(options=list(choices), value=None, layout=w.Layout(width="auto"))
    else:
        kw = {}
        if lo is not None:
            kw["min"] = lo
        if hi is not None:
            kw["max"] = hi
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"lo must be <= hi, got lo={lo!r}, hi={hi!r}")
        start = 0.0 if value is None else float(value)
        if value is not None and ((lo is not None and start < lo) or (hi is not None and start > hi)):
            raise ValueError(f"value must lie in [lo, hi] = [{lo}, {hi}], got {value!r}")
        start = min(max(start, lo if lo is not None else start), hi if hi is not None else start)
        if kw:   # the side without a bound is unbounded (not ipywidgets' default 0 / 100)
            kw.setdefault("min", -1e308)
            kw.setdefault("max", 1e308)
        box = (w.BoundedFloatText(value=start, **kw) if kw else w.FloatText(value=start))
    saved = w.HTML("")

    def _on(change):
        PREDICTIONS[question_id] = change["new"]
        saved.value = f"recorded: <code>{change['new']}</code>"

    box.observe(_on, names="value")
    ui = w.VBox([label, box, saved])
    ui.question_id = question_id
    return ui


def reveal(question_id: str, actual, fmt: str = "{}") -> str:
    """One line comparing the recorded prediction with the measured value (returned and
    printed). Deterministic when nothing was predicted (nbval-safe)."""
    guess = PREDICTIONS.get(question_id)
    shown = fmt.format(actual)
    if guess is None:
        line = f"measured: {shown} (you recorded no prediction for '{question_id}')"
    else:
        line = f"measured: {shown}; your prediction: {guess}"
    print(line)
    return line
