"""Prose that cannot drift from its own output.

A number or comparison that a notebook's prose states about a computed result is either

* **rendered** from the value: ``md("Pruning {frac:.0%} of the weights keeps {acc:.1%}.",
  frac=f, acc=a)`` displays Markdown whose plain-text form (which nbval compares) carries the
  numbers, so a changed experiment changes the saved output and fails strict nbval; or
* **checked** next to the prose: ``claim(acc_ft > acc_oneshot, "fine-tuning recovers accuracy")``
  raises :class:`ClaimError` (failing the build and nbval) when the experiment no longer
  supports the sentence; ``claim_close(value, stated, tol, "what")`` does the same for a number
  written in the prose.

Noise: a comparison of runs over several seeds is decided by :func:`spread_verdict` ("higher" /
"lower" only when the min–max ranges do not overlap, otherwise "tie"), counted over a grid by
:func:`verdict_tally`; prose renders these verdicts instead of comparing two means.

Each passing claim prints nothing, so it adds no output to validate.
"""
from __future__ import annotations

import math

__all__ = ["ClaimError", "claim", "claim_close", "claim_between", "md", "Md", "spread_verdict",
           "verdict_tally", "VERDICTS"]


class ClaimError(AssertionError):
    """A sentence in the notebook is no longer supported by the computed result."""


def claim(condition, statement: str) -> None:
    """Raise :class:`ClaimError` naming ``statement`` unless ``condition`` is true."""
    if not isinstance(statement, str) or not statement:
        raise TypeError("statement must be a non-empty str")
    if not bool(condition):
        raise ClaimError(f"the notebook claims: {statement!r} -- the computed result disagrees")


def claim_close(value, stated, tol, what: str) -> None:
    """``|value - stated| <= tol``: the number written in the prose matches the computation."""
    for name, v in (("value", value), ("stated", stated), ("tol", tol)):
        if not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
            raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    value, stated, tol = float(value), float(stated), float(tol)
    if math.isnan(value) or math.isnan(stated) or math.isnan(tol) or tol < 0:
        raise ValueError("value, stated and tol must be numbers (tol >= 0), not NaN")
    if abs(value - stated) > tol:
        raise ClaimError(f"the notebook says {what} is {stated:g} (±{tol:g}); computed {value:g}")


def claim_between(value, lo, hi, what: str) -> None:
    """``lo <= value <= hi`` (e.g. 'between 90 and 95 %')."""
    value = float(value)
    if not (float(lo) <= value <= float(hi)):
        raise ClaimError(f"the notebook says {what} lies in [{lo:g}, {hi:g}]; computed {value:g}")


#: the three outcomes of :func:`spread_verdict`
VERDICTS = ("higher", "tie", "lower")


def _runs(x, name):
    import numpy as np
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be numbers (one per seed), got {type(x).__name__}")
    try:
        a = np.atleast_1d(np.asarray(x, dtype=float))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numbers (one per seed)") from None
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D list of runs, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    return a


def spread_verdict(a_runs, b_runs) -> str:
    """Compare two sets of runs (e.g. validation accuracy over seeds): ``"higher"`` /
    ``"lower"`` when ``a``'s min–max range lies entirely above / below ``b``'s, otherwise
    ``"tie"`` (the difference is inside the spread). A deterministic arm is a one-element list
    (its range is a point)."""
    a, b = _runs(a_runs, "a_runs"), _runs(b_runs, "b_runs")
    if a.min() > b.max():
        return "higher"
    if a.max() < b.min():
        return "lower"
    return "tie"


def verdict_tally(verdicts) -> dict:
    """``{"higher": n, "tie": n, "lower": n}`` for an iterable of :func:`spread_verdict` results."""
    if isinstance(verdicts, str):
        raise TypeError("verdicts must be a list of verdicts, not one str")
    out = {k: 0 for k in VERDICTS}
    for v in verdicts:
        if v not in out:
            raise ValueError(f"verdicts: {v!r} is not one of {VERDICTS}")
        out[v] += 1
    return out


class Md:
    """Markdown rendered from computed values; ``repr`` is the same text (nbval compares it)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_markdown_(self):
        return self.text

    def __repr__(self):
        return self.text


def md(template: str, **values) -> Md:
    """``Md(template.format(**values))``: return it as a cell's last expression to display."""
    if not isinstance(template, str):
        raise TypeError("template must be a str")
    return Md(template.format(**values))
