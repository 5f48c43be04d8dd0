"""Argument checks shared by every module.

Every public function of :mod:`pruninglab` validates its inputs with these helpers so that
bad input fails early with a message that names the offending argument, e.g.::

    ValueError: sparsity must be in [0, 1), got 1.2

Conventions
-----------
* ``TypeError`` when the *kind* of object is wrong (a list where an array is needed,
  a float where an int is needed, a bool for a number).
* ``ValueError`` when the kind is right but the value is not (NaN, out of range, empty,
  wrong shape, unknown layer name).
* Nothing here mutates its argument.
"""
from __future__ import annotations

import math
import numbers
import sys
from typing import Any, Iterable

import numpy as np


def _torch():
    """torch if something imported it already, else None: an object can only be a tensor once
    torch is imported, so numpy-only callers (the CLI, the grader) never pay its import."""
    return sys.modules.get("torch")


def is_tensor(x: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(x, torch.Tensor)


def check_array(x: Any, name: str, *, allow_empty: bool = False, finite: bool = True,
                ndim: int | Iterable[int] | None = None, min_ndim: int | None = None):
    """Check that ``x`` is a numeric numpy array or torch tensor and return it unchanged.

    Raises ``TypeError`` for other objects (lists included: be explicit about the array type),
    ``ValueError`` for empty input (unless ``allow_empty``), NaN/inf (when ``finite``),
    or a wrong number of dimensions.
    """
    if isinstance(x, np.ndarray):
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise TypeError(f"{name} must be a numeric array, got dtype {x.dtype}")
        size, shape = x.size, x.shape
    elif is_tensor(x):
        if x.is_complex():
            raise TypeError(f"{name} must be a real tensor, got dtype {x.dtype}")
        size, shape = x.numel(), tuple(x.shape)
    else:
        raise TypeError(f"{name} must be a numpy.ndarray or torch.Tensor, got {type(x).__name__}")
    if size == 0 and not allow_empty:
        raise ValueError(f"{name} must not be empty, got shape {shape}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(shape) not in allowed:
            raise ValueError(f"{name} must have {' or '.join(map(str, allowed))} dimensions, got shape {shape}")
    if min_ndim is not None and len(shape) < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions, got shape {shape}")
    if finite and size:
        if isinstance(x, np.ndarray):
            ok = bool(np.isfinite(x).all()) if np.issubdtype(x.dtype, np.floating) else True
        else:
            ok = bool(_torch().isfinite(x).all()) if x.is_floating_point() else True
        if not ok:
            raise ValueError(f"{name} contains NaN or inf")
    return x


def check_number(x: Any, name: str, *, lo: float | None = None, hi: float | None = None,
                 lo_inclusive: bool = True, hi_inclusive: bool = True) -> float:
    """Check a real scalar (not bool, not NaN) inside an optional interval; return it as float."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        if is_tensor(x) and x.numel() == 1 and not x.dtype == _torch().bool:
            x = x.item()
        else:
            raise TypeError(f"{name} must be a real number, got {type(x).__name__}")
    x = float(x)
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN")
    lo_ok = lo is None or (x >= lo if lo_inclusive else x > lo)
    hi_ok = hi is None or (x <= hi if hi_inclusive else x < hi)
    if not (lo_ok and hi_ok):
        left = "[" if lo_inclusive else "("
        right = "]" if hi_inclusive else ")"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ValueError(f"{name} must be in {left}{lo_s}, {hi_s}{right}, got {x:g}")
    return x


def check_int(x: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """Check an integer (not bool; a float like 3.0 is rejected) inside [lo, hi]."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(x).__name__}")
    x = int(x)
    if (lo is not None and x < lo) or (hi is not None and x > hi):
        lo_s = "-inf" if lo is None else str(lo)
        hi_s = "inf" if hi is None else str(hi)
        raise ValueError(f"{name} must be in [{lo_s}, {hi_s}], got {x}")
    return x


def check_sparsity(s: Any, name: str = "sparsity") -> float:
    """Sparsity is a fraction of zeros in [0, 1): 1.0 would delete the whole layer."""
    return check_number(s, name, lo=0.0, hi=1.0, hi_inclusive=False)


def check_bits(b: Any, name: str = "bits", *, lo: int = 1, hi: int = 32) -> int:
    """Bit-width: an int in [lo, hi] (defaults [1, 32]; integer quantizers use hi=16)."""
    return check_int(b, name, lo=lo, hi=hi)


def check_choice(x: Any, name: str, choices: Iterable[Any]):
    choices = tuple(choices)
    if x not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {x!r}")
    return x


def check_layer_names(model, names: Iterable[str], name: str = "layer"):
    """Every name must be a submodule of ``model`` (``dict(model.named_modules())``)."""
    modules = dict(model.named_modules())
    for n in names:
        if not isinstance(n, str):
            raise TypeError(f"{name} names must be str, got {type(n).__name__}")
        if n not in modules:
            known = [k for k in modules if k]
            raise ValueError(f"{name} {n!r} does not exist in the model; known layers: {known}")
    return list(names)
