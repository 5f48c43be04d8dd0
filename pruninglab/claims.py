"""Prose that cannot drift from its own output.

A number or comparison that a notebook's prose states about a computed result is either

* **rendered** from the value: ``md("Pruning {frac:.0%} of the weights keeps {acc:.1%}.",
  frac=f, acc=a)`` displays Markdown whose plain-text form (which nbval compares) carries the
  numbers, so a changed experiment changes the saved output and fails strict nbval; or
* **checked** next to the prose: ``claim(acc_ft > acc_oneshot, "fine-tuning recovers accuracy")``
  raises :class:`ClaimError` (failing the build and nbval) when the experiment no longer
  supports the sentence; ``claim_close(value, stated, tol, "what")`` does the same for a number
  written in the prose.

Each passing claim prints nothing, so it adds no output to validate.
"""
from __future__ import annotations

import math

__all__ = ["ClaimError", "claim", "claim_close", "claim_between", "md", "Md"]


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
