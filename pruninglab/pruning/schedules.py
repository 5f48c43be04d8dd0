"""Gradual pruning schedules.

Automated Gradual Pruning (AGP; M. Zhu, S. Gupta, 2017, *To prune, or not to prune*,
arXiv:1710.01878): starting at step ``t0`` the masks are updated every ``Δt`` steps, ``n`` times,
with

    s_t = s_f + (s_i - s_f) · (1 - (t - t0) / (n·Δt))³ ,   t ∈ {t0, t0+Δt, …, t0+nΔt}

so pruning is fast at first (many redundant weights) and slows down near the target.

Behaviour chosen here (documented because the paper leaves it implicit):

* before ``t0``: ``s_i`` (the formula clamped at ``t = t0``; with the usual ``s_i = 0``
  the network is dense);
* between two update steps the sparsity of the *last* update holds (masks only change at
  ``t0 + kΔt``);
* from ``t0 + nΔt`` on: ``s_f``.
"""
from __future__ import annotations

from .._validate import check_int, check_sparsity

__all__ = ["agp_sparsity", "agp_schedule", "linear_sparsity"]


def _check(initial, final, start, n_steps, interval):
    s_i = check_sparsity(initial, "initial")
    s_f = check_sparsity(final, "final")
    if s_f < s_i:
        raise ValueError(f"final must be >= initial, got final={s_f:g} < initial={s_i:g}")
    t0 = check_int(start, "start", lo=0)
    n = check_int(n_steps, "n_steps", lo=1)
    dt = check_int(interval, "interval", lo=1)
    return s_i, s_f, t0, n, dt


def agp_sparsity(step: int, initial: float, final: float, start: int, n_steps: int,
                 interval: int) -> float:
    """Sparsity in force at training step ``step`` under AGP (see module docstring)."""
    t = check_int(step, "step", lo=0)
    s_i, s_f, t0, n, dt = _check(initial, final, start, n_steps, interval)
    if t < t0:
        return s_i
    k = min((t - t0) // dt, n)          # index of the last update at or before t
    return float(s_f + (s_i - s_f) * (1.0 - k / n) ** 3)


def agp_schedule(initial: float, final: float, start: int, n_steps: int, interval: int) -> list:
    """The ``n_steps + 1`` sparsities at the update steps ``t0 + kΔt``, ``k = 0..n``
    (first = ``initial``, last = ``final``, non-decreasing)."""
    s_i, s_f, t0, n, dt = _check(initial, final, start, n_steps, interval)
    return [agp_sparsity(t0 + k * dt, s_i, s_f, t0, n, dt) for k in range(n + 1)]


def linear_sparsity(k: int, final: float, n_steps: int, initial: float = 0.0) -> float:
    """Linear ramp ``s_k = s_i + (s_f - s_i)·k/n`` for ``k = 0..n`` (a baseline for AGP)."""
    s_i, s_f, _, n, _ = _check(initial, final, 0, n_steps, 1)
    k = check_int(k, "k", lo=0)
    return float(s_i + (s_f - s_i) * min(k, n) / n)
