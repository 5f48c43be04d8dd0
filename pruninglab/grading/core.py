"""The grader: exercise registry, :func:`grade`, :func:`check`, :func:`exercises`.

Each exercise is graded on fixed cases (edge cases chosen to expose the classic bugs, many of
them from the seed documents) plus randomized *hidden* cases drawn from a seed. Without an
explicit ``seed=``, the seed is the attempt number of that exercise in this Python session
(1, 2, 3 ...), so a fresh kernel reproduces the same hidden cases, and the report prints the
seed so that any failure can be replayed with ``grade(id, fn, seed=...)``.

Besides the per-case checks every exercise has three behaviour checks: the function must not
modify its inputs, must be deterministic (same input, same output on a second call: catches
random masks and state kept between calls), and must be quiet (no stderr output, no warnings).

Learner code runs through :func:`pruninglab.grading._sandbox.call` with a per-call CPU-time
limit (``time_limit``, default 2 s); after a time-out the remaining cases are skipped.

:func:`grade`/:func:`check` run the learner's function in the calling process: they are the
learner's feedback. Scores that count come only from ``python -m pruninglab grade``, which runs
each answer in a separate, confined process and judges the returned data here
(:func:`grade_with` with the runner of :mod:`.isolated`).
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
           "grade_with", "build_cases", "LocalRunner", "assignments"]

N_HIDDEN = 5


_CORE = [
    Exercise("magnitude_prune",
             "zero exactly round(n*sparsity) weights with the smallest |w| (same shape and dtype)",
             "f(weights: np.ndarray, sparsity: float) -> np.ndarray",
             P.magnitude_cases_fixed, P.magnitude_cases_hidden, P.judge_magnitude,
             probe=lambda fn, tl: P.probe_random_mask(fn, tl),
             library=('pruninglab.pruning.masks.magnitude_mask',),
             notebook="ex01_pruning"),
    Exercise("threshold_prune", "zero every weight with |w| < threshold (absolute threshold)",
             "f(weights: np.ndarray, threshold: float) -> np.ndarray",
             P.threshold_cases_fixed, P.threshold_cases_hidden, P.judge_threshold,
             library=('pruninglab.pruning.masks.threshold_mask',),
             notebook="ex01_pruning"),
    Exercise("neuron_prune",
             "physically remove the k output neurons (rows of W) with the smallest L2 norm",
             "f(W, b, W_next, k) -> (W2, b2, W_next2)",
             P.neuron_cases_fixed, P.neuron_cases_hidden, P.judge_neuron,
             library=('pruninglab.pruning.structured.prune_neurons_numpy',),
             notebook="ex01_pruning"),
    Exercise("n_m_prune", "N:M sparsity: keep the n largest |w| in every m consecutive weights",
             "f(weights: np.ndarray, n: int, m: int) -> np.ndarray",
             P.n_m_cases_fixed, P.n_m_cases_hidden, P.judge_n_m,
             library=('pruninglab.pruning.masks.nm_mask',),
             notebook="ex01_pruning"),
    Exercise("symmetric_quantize",
             "integer codes and scale max|w|/(2^(b-1)-1) for symmetric linear quantization",
             "f(weights: np.ndarray, bits: int) -> (codes: np.ndarray[int], scale: float)",
             Q.symmetric_cases_fixed, Q.symmetric_cases_hidden, Q.judge_symmetric,
             Q.symmetric_error_cases,
             library=('pruninglab.quantization.linear.quantize', 'pruninglab.quantization.linear.qparams'),
             notebook="ex02_quantization_storage"),
    Exercise("agp_sparsity", "Zhu & Gupta (2017) cubic sparsity schedule, clamped at both ends",
             "f(step, initial, final, start, n_steps, interval) -> float",
             Q.agp_cases_fixed, Q.agp_cases_hidden, Q.judge_agp,
             library=('pruninglab.pruning.schedules.agp_sparsity',),
             notebook="ex02_quantization_storage"),
    Exercise("csr_bytes", "bytes of a CSR matrix: values, column indices, rows+1 row pointers",
             "f(weights: np.ndarray, value_bits: int, index_bits: int) -> int",
             Q.csr_cases_fixed, Q.csr_cases_hidden, Q.judge_csr,
             library=("pruninglab.hardware.storage.storage_bytes", "pruninglab.hardware.storage.storage_bits"),
             notebook="ex02_quantization_storage"),
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
EXERCISE_MODULES: list[str] = ["_fundamentals_ex", "_quant_ex", "_hardware_ex", "_structured_ex", "_criteria_ex", "_retrain_ex", "_joint_ex", "_llm_ex"]

EXERCISES: dict[str, Exercise] = _collect()

_attempts: Counter = Counter()


def assignments() -> dict[str, list[str]]:
    """``{notebook name: [exercise ids]}`` from ``Exercise.notebook``: what a submission of that
    notebook is graded on (and its maximum, the sum of ``Exercise.points``)."""
    out: dict[str, list[str]] = {}
    for e in EXERCISES.values():
        out.setdefault(e.notebook, []).append(e.id)
    return out


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
        if isinstance(a, dict) and isinstance(b, dict):
            return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
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


class LocalRunner:
    """Runs the learner's function in this process (the notebook's ``check()``)."""

    def __init__(self, fn, time_limit):
        self.fn, self.time_limit = fn, time_limit

    def run(self, cases: list) -> list:
        """``[CallResult with .args_after]`` for each case (stops after a time-out or when the
        first call raises NotImplementedError); the list may be shorter than ``cases``."""
        out = []
        for i, args in enumerate(cases):
            given = _copy(args)
            res = call(self.fn, given, time_limit=self.time_limit)
            res.args_after = given
            out.append(res)
            if res.timed_out or (i == 0 and isinstance(res.error, NotImplementedError)):
                break
        return out

    def probe_fn(self):
        return self.fn


def grade(exercise_id: str, fn, *, seed: int | None = None, time_limit: float = 2.0) -> Report:
    """Grade the learner's function ``fn`` on exercise ``exercise_id``; return a :class:`Report`.

    Never raises because of the learner's code (exceptions, wrong types, infinite loops,
    printing, mutating inputs are all reported); raises ``ValueError``/``TypeError`` only for a
    bad ``exercise_id``, ``seed`` or ``time_limit``. ``time_limit`` is CPU seconds per call.
    This runs the learner's code in the calling process: it is feedback for the learner; the
    scores a teacher records come from ``python -m pruninglab grade`` (:mod:`.isolated`).
    """
    from .._validate import check_int, check_number
    ex = _get(exercise_id)
    if seed is not None:
        seed = check_int(seed, "seed", lo=0)
    time_limit = check_number(time_limit, "time_limit", lo=0.0, lo_inclusive=False)
    if not callable(fn):
        report = Report(exercise_id, max_points=_n_points(ex))
        report.status = "error"
        report.notes.append(f"fn must be a function taking the arguments {ex.signature}, got "
                            f"{type(fn).__name__}")
        return report
    if seed is None:
        first = call(fn, _copy(ex.fixed()[0][1]), time_limit=time_limit)
        if not isinstance(first.error, NotImplementedError):
            _attempts[exercise_id] += 1
        seed = _attempts[exercise_id]
    else:
        _attempts[exercise_id] += 1
    return grade_with(ex, LocalRunner(fn, time_limit), seed=seed, time_limit=time_limit)


def build_cases(ex: Exercise, seed: int) -> list:
    """``[(label, args, expected exception type or None, hint)]``: fixed, error and hidden cases."""
    rng = np.random.default_rng([seed, sum(map(ord, ex.id))])
    cases = [(lbl, args, None, "") for lbl, args in ex.fixed()]
    cases += list(ex.errors())
    cases += [(f"hidden #{i + 1}: {lbl}", args, None, "")
              for i, (lbl, args) in enumerate(ex.hidden(rng))]
    return cases


def _raised_hint(res) -> str:
    hint = "read the error message; run your function on this input yourself"
    if isinstance(res.error, NotImplementedError):
        hint = "your function still raises NotImplementedError for this input"
    elif isinstance(res.error, SystemExit):
        hint = "do not call sys.exit()/exit() in a function; return a value"
    elif isinstance(res.error, MemoryError):
        hint = "your code asked for more memory than allowed: do not build huge arrays"
    elif "condition must be a 1-d array" in res.error_text:
        hint = ("np.compress deletes entries (and needs a 1-D condition): pruning must "
                "set entries to zero (np.where(mask, w, 0)) and keep the shape; seed "
                "S0-C2 compresses the matrix, destroying its layout")
    elif "reshape" in res.error_text:
        hint = ("reshaping a per-neuron score vector into the weight matrix's shape cannot "
                "work (their sizes differ, as in seed S2-C5): broadcast a mask instead")
    return hint


def _raised_detail(inputs, res) -> str:
    where = f"\nat {res.where}" if getattr(res, "where", "") else ""
    return f"input: {inputs}\nraised {res.error_text}{where}"


def grade_with(ex: Exercise, runner, *, seed: int, time_limit: float = 2.0) -> Report:
    """Grade through ``runner`` (in-process :class:`LocalRunner` or the sandboxed runner of
    :mod:`.isolated`): the runner only *calls*; every judgement happens here."""
    exercise_id = ex.id
    report = Report(exercise_id, max_points=_n_points(ex))
    cases = build_cases(ex, seed)
    # the last entry repeats the first case: the determinism check
    results = runner.run([args for _, args, _, _ in cases] + [cases[0][1]])
    if results and isinstance(results[0].error, NotImplementedError):
        report.status = "not attempted"
        return report
    report.seed = seed

    mutated, noisy, printed = [], [], []
    timed_out = False
    died = None
    for idx, (label, args, exc_type, err_hint) in enumerate(cases):
        if timed_out or died:
            report.checks.append(Check(label, False, skipped=True,
                                       detail="skipped: an earlier call timed out" if timed_out
                                       else f"skipped: {died}"))
            continue
        if idx >= len(results) or results[idx] is None:
            died = getattr(runner, "death", "") or "the grading process stopped"
            report.checks.append(Check(label, False, detail=f"your code ended the grading "
                                                            f"process during this case: {died}",
                                       hint="do not call os._exit(), kill the process or use "
                                            "unbounded memory/CPU in C code; return a value"))
            continue
        res = results[idx]
        given = res.args_after
        if res.stderr.strip() or res.warnings:
            noisy.append((label, (res.stderr.strip().splitlines() or [""])[0], res.warnings))
        if res.stdout.strip():
            printed.append(label)
        try:
            if not isinstance(given, (tuple, list)) or len(given) != len(args) or \
                    any(not _same(a, b) for a, b in zip(args, given)):
                mutated.append(label)
        except Exception:  # noqa: BLE001
            mutated.append(label)
        inputs = ", ".join(fmt(a) for a in args)
        if res.timed_out:
            timed_out = True
            where = f" (at {res.where})" if getattr(res, "where", "") else ""
            report.checks.append(Check(label, False, detail=f"input: {inputs}",
                                       hint=f"{res.error_text}{where}; the remaining cases are "
                                            "skipped. Look for a loop whose condition never changes."))
            continue
        if exc_type is not None:
            if isinstance(res.error, exc_type):
                report.checks.append(Check(label, True))
            elif res.error is not None:
                report.checks.append(Check(label, False, detail=_raised_detail(inputs, res),
                                           hint=err_hint))
            else:
                report.checks.append(Check(label, False,
                                           detail=f"input: {inputs}; returned {fmt(res.value)} "
                                                  f"instead of raising {exc_type.__name__}",
                                           hint=err_hint))
            continue
        if res.error is not None:
            report.checks.append(Check(label, False, detail=_raised_detail(inputs, res),
                                       hint=_raised_hint(res)))
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
    first = results[0] if results else None
    again = results[len(cases)] if len(results) > len(cases) else None
    if timed_out or died or again is None or first is None:
        report.checks.append(Check("deterministic", False, skipped=True,
                                   detail="skipped: an earlier call timed out" if timed_out
                                   else "skipped: the repeated call did not run"))
    elif not first.ok or not again.ok:
        bad = first if not first.ok else again
        report.checks.append(Check(
            "deterministic", False,
            detail=f"the call on {cases[0][0]!r} raised {bad.error_text}, so determinism could "
                   "not be checked" + (f"\nat {bad.where}" if getattr(bad, "where", "") else ""),
            hint="fix the exception first (see the first failed case above); determinism is "
                 "checked on a call that returns"))
    else:
        ok = _same(first.value, again.value)
        det = "" if ok else f"two calls on the same input ({cases[0][0]}) gave different results"
        extra = ""
        if not ok and ex.probe is not None:
            try:
                extra = ex.probe(runner.probe_fn(), time_limit) or ""
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
