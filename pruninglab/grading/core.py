"""The grader: exercise registry, :func:`grade`, :func:`check`, :func:`exercises`.

Each exercise is graded on fixed cases (edge cases chosen to expose the classic bugs, many of
them from the seed documents) plus randomized *hidden* cases drawn from a seed. Without an
explicit ``seed=``, the seed is the attempt number of that exercise in this Python session
(1, 2, 3 ...), so a fresh kernel reproduces the same hidden cases, and the report prints the
seed so that any failure can be replayed with ``grade(id, fn, seed=...)``.

Besides the per-case checks every exercise has three behaviour checks: the function must not
modify its inputs, must be deterministic (same input, same output on a second call: catches
random masks and state kept between calls), and must be quiet (no stderr output, no warnings).

Learner code runs through :func:`pruninglab.grading._sandbox.call` with a per-call time limit
(``time_limit``, default 2 s); after a time-out the remaining cases are skipped.

If the environment variable ``PRUNINGLAB_GRADE_RESULTS`` names a file, every report is appended
to it as one JSON line (the command-line grader uses this).
"""
from __future__ import annotations

import copy
import os
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import _pruning_ex as P
from . import _quant_hw_ex as Q
from ._common import Exercise, Problem, fmt
from ._sandbox import call
from .report import Check, Report

__all__ = ["Exercise", "EXERCISES", "exercises", "grade", "check", "implemented",
           "RESULTS_ENV"]

RESULTS_ENV = "PRUNINGLAB_GRADE_RESULTS"
N_HIDDEN = 5


_CORE = [
    Exercise("magnitude_prune",
             "zero exactly round(n*sparsity) weights with the smallest |w| (same shape and dtype)",
             "f(weights: np.ndarray, sparsity: float) -> np.ndarray",
             P.magnitude_cases_fixed, P.magnitude_cases_hidden, P.judge_magnitude,
             probe=lambda fn, tl: P.probe_random_mask(fn, tl)),
    Exercise("threshold_prune", "zero every weight with |w| < threshold (absolute threshold)",
             "f(weights: np.ndarray, threshold: float) -> np.ndarray",
             P.threshold_cases_fixed, P.threshold_cases_hidden, P.judge_threshold),
    Exercise("neuron_prune",
             "physically remove the k output neurons (rows of W) with the smallest L2 norm",
             "f(W, b, W_next, k) -> (W2, b2, W_next2)",
             P.neuron_cases_fixed, P.neuron_cases_hidden, P.judge_neuron),
    Exercise("n_m_prune", "N:M sparsity: keep the n largest |w| in every m consecutive weights",
             "f(weights: np.ndarray, n: int, m: int) -> np.ndarray",
             P.n_m_cases_fixed, P.n_m_cases_hidden, P.judge_n_m),
    Exercise("symmetric_quantize",
             "integer codes and scale max|w|/(2^(b-1)-1) for symmetric linear quantization",
             "f(weights: np.ndarray, bits: int) -> (codes: np.ndarray[int], scale: float)",
             Q.symmetric_cases_fixed, Q.symmetric_cases_hidden, Q.judge_symmetric,
             Q.symmetric_error_cases),
    Exercise("agp_sparsity", "Zhu & Gupta (2017) cubic sparsity schedule, clamped at both ends",
             "f(step, initial, final, start, n_steps, interval) -> float",
             Q.agp_cases_fixed, Q.agp_cases_hidden, Q.judge_agp),
    Exercise("csr_bytes", "bytes of a CSR matrix: values, column indices, rows+1 row pointers",
             "f(weights: np.ndarray, value_bits: int, index_bits: int) -> int",
             Q.csr_cases_fixed, Q.csr_cases_hidden, Q.judge_csr),
]


def _collect() -> dict[str, Exercise]:
    """Every exercise: the core list above plus each ``_*_ex.py`` module's ``EXERCISES`` list
    (one module per notebook topic; listed in ``EXERCISE_MODULES``)."""
    import importlib
    out: dict[str, Exercise] = {}
    for ex in list(_CORE) + [e for m in EXERCISE_MODULES
                             for e in importlib.import_module(f".{m}", __package__).EXERCISES]:
        if ex.id in out:
            raise RuntimeError(f"duplicate exercise id {ex.id!r}")
        out[ex.id] = ex
    return out


# Per-notebook exercise modules (each defines ``EXERCISES = [Exercise(...), ...]``).
EXERCISE_MODULES: list[str] = ["_llm_ex"]

EXERCISES: dict[str, Exercise] = _collect()

_attempts: Counter = Counter()


def exercises() -> list[tuple[str, str]]:
    """``[(exercise_id, one-line description), ...]`` for every graded exercise."""
    return [(e.id, e.description) for e in EXERCISES.values()]


def _get(exercise_id) -> Exercise:
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a str, got {type(exercise_id).__name__}")
    if exercise_id not in EXERCISES:
        raise ValueError(f"exercise_id {exercise_id!r} is unknown; known: {sorted(EXERCISES)}")
    return EXERCISES[exercise_id]


def _copy(args):
    return tuple(copy.deepcopy(a) for a in args)


def _same(a, b) -> bool:
    """Structural equality for returned values (arrays, tuples, numbers)."""
    try:
        if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                    and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
        if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
            return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
        return bool(a == b) or (a != a and b != b)
    except Exception:  # noqa: BLE001 - weird learner objects
        return False


def _n_points(ex: Exercise) -> int:
    return len(ex.fixed()) + len(ex.errors()) + N_HIDDEN + 3


def implemented(exercise_id: str, fn) -> bool:
    """False when ``fn`` still raises ``NotImplementedError`` (the distributed stub) on the
    first fixed case; notebooks use it to skip experiments that need the learner's code."""
    ex = _get(exercise_id)
    if not callable(fn):
        return False
    res = call(fn, _copy(ex.fixed()[0][1]))
    return not isinstance(res.error, NotImplementedError)


def _record(report: Report) -> None:
    path = os.environ.get(RESULTS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(report.to_json() + "\n")


def grade(exercise_id: str, fn, *, seed: int | None = None, time_limit: float = 2.0) -> Report:
    """Grade the learner's function ``fn`` on exercise ``exercise_id``; return a :class:`Report`.

    Never raises because of the learner's code (exceptions, wrong types, infinite loops,
    printing, mutating inputs are all reported); raises ``ValueError``/``TypeError`` only for a
    bad ``exercise_id``, ``seed`` or ``time_limit``.
    """
    from .._validate import check_int, check_number
    ex = _get(exercise_id)
    if seed is not None:
        seed = check_int(seed, "seed", lo=0)
    time_limit = check_number(time_limit, "time_limit", lo=0.0, lo_inclusive=False)
    report = Report(exercise_id, max_points=_n_points(ex))
    if not callable(fn):
        report.status = "error"
        report.notes.append(f"fn must be a function taking the arguments {ex.signature}, got "
                            f"{type(fn).__name__}")
        _record(report)
        return report

    fixed = ex.fixed()
    first_args = _copy(fixed[0][1])
    first = call(fn, first_args, time_limit=time_limit)
    if isinstance(first.error, NotImplementedError):
        report.status = "not attempted"
        _record(report)
        return report

    _attempts[exercise_id] += 1
    report.seed = _attempts[exercise_id] if seed is None else seed
    rng = np.random.default_rng([report.seed, sum(map(ord, exercise_id))])
    cases = [(lbl, args, None, "") for lbl, args in fixed]
    cases += list(ex.errors())
    cases += [(f"hidden #{i + 1}: {lbl}", args, None, "")
              for i, (lbl, args) in enumerate(ex.hidden(rng))]

    mutated, noisy, printed = [], [], []
    timed_out = False
    for idx, (label, args, exc_type, err_hint) in enumerate(cases):
        if timed_out:
            report.checks.append(Check(label, False, skipped=True,
                                       detail="skipped: an earlier call timed out"))
            continue
        originals = _copy(args)
        given = first_args if idx == 0 else _copy(args)
        res = first if idx == 0 else call(fn, given, time_limit=time_limit)
        if res.stderr.strip() or res.warnings:
            noisy.append((label, (res.stderr.strip().splitlines() or [""])[0], res.warnings))
        if res.stdout.strip():
            printed.append(label)
        try:
            if any(not _same(a, b) for a, b in zip(originals, given)):
                mutated.append(label)
        except Exception:  # noqa: BLE001
            mutated.append(label)
        inputs = ", ".join(fmt(a) for a in args)
        if res.timed_out:
            timed_out = True
            report.checks.append(Check(label, False, detail=f"input: {inputs}",
                                       hint=f"{res.error_text}; the remaining cases are skipped. "
                                            "Look for a loop whose condition never changes."))
            continue
        if exc_type is not None:
            if isinstance(res.error, exc_type):
                report.checks.append(Check(label, True))
            elif res.error is not None:
                report.checks.append(Check(label, False, detail=f"input: {inputs}; raised {res.error_text}",
                                           hint=err_hint))
            else:
                report.checks.append(Check(label, False,
                                           detail=f"input: {inputs}; returned {fmt(res.value)} "
                                                  f"instead of raising {exc_type.__name__}",
                                           hint=err_hint))
            continue
        if res.error is not None:
            hint = "read the error message; run your function on this input yourself"
            if isinstance(res.error, NotImplementedError):
                hint = "your function still raises NotImplementedError for this input"
            elif isinstance(res.error, SystemExit):
                hint = "do not call sys.exit()/exit() in a function; return a value"
            elif "condition must be a 1-d array" in res.error_text:
                hint = ("np.compress deletes entries (and needs a 1-D condition): pruning must "
                        "set entries to zero (np.where(mask, w, 0)) and keep the shape; seed "
                        "S0-C2 compresses the matrix, destroying its layout")
            elif "reshape" in res.error_text:
                hint = ("reshaping a per-neuron score vector into the weight matrix's shape cannot "
                        "work (their sizes differ, as in seed S2-C5): broadcast a mask instead")
            report.checks.append(Check(label, False, detail=f"input: {inputs}\nraised {res.error_text}",
                                       hint=hint))
            continue
        try:
            ex.judge(_copy(args), res.value)
            report.checks.append(Check(label, True))
        except Problem as p:
            report.checks.append(Check(label, False, detail=f"input: {inputs}\n{p.detail}", hint=p.hint))
        except Exception as e:  # noqa: BLE001 - a weird returned object broke the judge
            report.checks.append(Check(label, False, detail=f"input: {inputs}\ncould not inspect the "
                                                            f"returned {type(res.value).__name__}: {e}",
                                       hint="return the types given in the signature: " + ex.signature))

    # behaviour checks
    report.checks.append(Check(
        "does not modify its inputs", not mutated,
        detail=f"the input changed in: {', '.join(mutated[:3])}" if mutated else "",
        hint="work on a copy (w = weights.copy(), np.where(...)); in-place writes such as "
             "weights[mask] = 0 change the caller's array (only functions ending in _ may)"))
    if timed_out:
        report.checks.append(Check("deterministic", False, skipped=True,
                                   detail="skipped: an earlier call timed out"))
    else:
        again = call(fn, _copy(fixed[0][1]), time_limit=time_limit)
        ok = first.ok and again.ok and _same(first.value, again.value)
        det = "" if ok else (f"two calls on the same input ({fixed[0][0]}) gave different results"
                             if first.ok and again.ok else "the repeated call failed")
        extra = ""
        if not ok and ex.probe is not None:
            try:
                extra = ex.probe(fn, time_limit) or ""
            except Exception:  # noqa: BLE001
                extra = ""
        report.checks.append(Check(
            "deterministic", ok, detail=det + extra,
            hint="same input, same output: no random masks (importance must decide, not "
                 "np.random) and no state kept between calls (e.g. a threshold variable rescaled "
                 "in place, t = t*max|W|, which compounds from layer to layer as in seed S0-C2)"))
    if noisy:
        lbl, line, warns = noisy[0]
        what = f"stderr: {line!r}" if line else f"warning: {warns[0]}"
        report.checks.append(Check("quiet (no stderr output, no warnings)", False,
                                   detail=f"in case '{lbl}' your code wrote {what}",
                                   hint="avoid warnings (e.g. division by zero: guard the "
                                        "all-zero case) and do not print to stderr"))
    else:
        report.checks.append(Check("quiet (no stderr output, no warnings)", True))
    if printed:
        report.notes.append(f"your function printed to stdout in {len(printed)} case(s) "
                            "(captured and not shown)")
    _record(report)
    return report


def check(exercise_id: str, fn, **kwargs) -> None:
    """Grade and print the report: the one-liner for notebooks. Never raises (except
    KeyboardInterrupt); a bad ``exercise_id`` is printed as a message."""
    try:
        report = grade(exercise_id, fn, **kwargs)
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001
        print(f"check({exercise_id!r}): {type(e).__name__}: {e}")
        return None
    print(report)
    return None
