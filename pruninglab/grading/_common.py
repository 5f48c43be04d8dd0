"""Helpers shared by the exercise judges: formatting and return-value checks with hints."""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["fmt", "array_problem", "Problem", "Exercise", "DEFAULT_PREAMBLE"]

DEFAULT_PREAMBLE = "import math\nimport numpy as np"


@dataclass(frozen=True)
class Exercise:
    """One graded exercise.

    ``points``: the maximum score a teacher's gradebook gives it (reflects difficulty, not the
    number of checks); ``entry``: the name of the function the learner defines in the answer
    cell (defaults to ``id``); ``notebook``: where it is taught (e.g. ``"01_pruning_fundamentals"``);
    ``topic``: a few words for the index; ``preamble``: code run before the answer cell by the
    teacher's grader (default :data:`DEFAULT_PREAMBLE`: the imports every exercise notebook
    has), e.g. ``"import torch\nfrom torch import nn"``; ``library``: qualified names of the
    library's own implementation(s) of this exercise (an answer calling one is flagged
    "uses reference"; a call of any ``pruninglab`` function named like the entry is flagged
    too)."""
    id: str
    description: str          # one line
    signature: str
    fixed: Callable[[], list]                 # -> [(label, args)]
    hidden: Callable  # (np.random.Generator) -> [(label, args)]
    judge: Callable[[tuple, object], None]    # raises Problem
    errors: Callable[[], list] = lambda: []   # -> [(label, args, ExcType, hint)]
    probe: Callable | None = None             # (fn, time_limit) -> extra hint when non-deterministic
    points: int = 10
    entry: str = ""
    notebook: str = "exercises"
    topic: str = ""
    preamble: str | None = None
    uses: tuple = ()          # ids of other answers this one calls (their cells are run first)
    library: tuple = ()

    @property
    def function_name(self) -> str:
        return self.entry or self.id


class Problem(Exception):
    """A judged failure: ``detail`` (what came back vs what was expected) and ``hint``."""

    def __init__(self, detail: str, hint: str = ""):
        super().__init__(detail)
        self.detail, self.hint = detail, hint


def fmt(x, limit: int = 16) -> str:
    """A short, deterministic description of a value for reports (never raises)."""
    try:
        return _fmt(x, limit)
    except Exception:  # noqa: BLE001 - a learner's object whose repr fails
        return f"<unprintable {type(x).__name__}>"


def _fmt(x, limit: int) -> str:
    if isinstance(x, np.ndarray):
        if x.size <= limit:
            body = np.array2string(x, precision=4, separator=", ", suppress_small=True,
                                   max_line_width=10_000).replace("\n", "")
            return f"{body} (shape {x.shape}, {x.dtype})"
        return f"array of shape {x.shape}, dtype {x.dtype}"
    if isinstance(x, (float, np.floating)):
        return f"{float(x):.6g}"
    if isinstance(x, (list, tuple)):
        s = repr(x)
        return s if len(s) < 120 else s[:117] + "..."
    return repr(x) if len(repr(x)) < 120 else repr(x)[:117] + "..."


def array_problem(out, ref: np.ndarray, what: str = "the result", *, check_dtype=True,
                  removal_hint: str | None = None):
    """Raise :class:`Problem` unless ``out`` is a numpy array with ``ref``'s shape (and dtype)."""
    if out is None:
        raise Problem(f"{what} is None", "did you forget the `return` statement?")
    if isinstance(out, (list, tuple)):
        lengths = {len(r) if hasattr(r, "__len__") else -1 for r in out}
        ragged = len(lengths) > 1 or (ref.ndim >= 1 and len(out) == len(ref) and
                                      lengths != {ref.shape[1] if ref.ndim > 1 else -1})
        hint = "return a numpy array (np.ndarray) of the same shape as the input"
        if ragged and ref.ndim > 1:
            hint += ("; your rows have different lengths: dropping entries (append only the kept "
                     "weights) destroys the matrix layout -- write zeros instead")
        raise Problem(f"{what} is a {type(out).__name__}, expected a numpy.ndarray", hint)
    if not isinstance(out, np.ndarray):
        hint = "return a numpy array (numpy in -> numpy out)"
        if type(out).__module__.startswith("torch"):
            hint += "; convert with .numpy() or use numpy functions throughout"
        raise Problem(f"{what} is a {type(out).__name__}, expected a numpy.ndarray", hint)
    if out.shape != ref.shape:
        if out.size < ref.size:
            hint = removal_hint or (
                "entries were removed (np.delete / np.compress / boolean indexing w[mask]) "
                "instead of being set to zero: removing destroys the layout the next layer "
                "relies on (and np.delete without axis also flattens)")
        else:
            hint = "keep the input's shape (do not reshape, transpose or add axes)"
        raise Problem(f"{what} has shape {out.shape}, expected {ref.shape} (same as the input)", hint)
    if check_dtype and out.dtype != ref.dtype:
        hint = "keep the input's dtype"
        if np.issubdtype(ref.dtype, np.floating) and out.dtype == np.float64:
            hint += (" (multiplying by a float64 mask or np.zeros(...) upcasts float32 input; use "
                     "np.where(mask, w, 0) or w * mask with a boolean mask, or .astype(w.dtype))")
        raise Problem(f"{what} has dtype {out.dtype}, expected {ref.dtype}", hint)


def is_real_scalar(x) -> bool:
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, numbers.Real):
        return True
    return isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.number)
