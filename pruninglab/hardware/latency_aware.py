"""Pruning under a latency budget: NetAdapt-style greedy search vs FLOP-proportional and uniform.

A *configuration* is a dict ``{layer: kept channels}``. The algorithms only need callables, so
they work with a measured lookup table, a synthetic one (tests), or any other cost model:

* ``latency_fn(config) -> seconds`` — e.g. a sum of per-layer measured lookup-table entries;
* ``evaluate(config) -> accuracy`` — e.g. shrink the model to ``config`` (physical channel
  pruning), fine-tune briefly, measure validation accuracy;
* ``flops_fn(config) -> FLOPs`` — for the FLOP-proportional baseline.

**NetAdapt** (T.-J. Yang et al. 2018, *NetAdapt: Platform-Aware Neural Network Adaptation for
Mobile Applications*, ECCV), greedy: starting from the full network with latency ``L0``, iteration
``t`` targets ``L_t = max(budget, L_{t-1} − ΔL)`` with ``ΔL = (L0 − budget)/steps``; for every layer
it builds one candidate by removing the *fewest* channels of that layer (in steps of
``granularity``) that bring the looked-up latency to ``≤ L_t``; it evaluates every candidate and
keeps the most accurate. It stops when the latency is within the budget. Because the candidate
sizes come from the *lookup table*, removing channels that do not reduce latency (the staircase)
is never chosen.

**Uniform**: one keep-ratio ``r`` for every layer, the largest on a grid whose looked-up latency
is within the budget (latency-aware, structure-blind).

**FLOP-proportional**: assumes latency ∝ FLOPs, so targets ``FLOPs ≤ FLOPs0 · budget / L0`` with
one uniform keep-ratio — the usual proxy. Its *measured* latency may miss the budget either way;
reporting that honestly is the point of the comparison.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .._validate import check_int, check_number

__all__ = ["netadapt_prune", "uniform_prune", "flop_proportional_prune", "scale_config",
           "pareto_front"]


def _check_config(channels) -> dict:
    if not isinstance(channels, dict) or not channels:
        raise TypeError("channels must be a non-empty dict {layer: channels}")
    out = {}
    for k, v in channels.items():
        if not isinstance(k, str):
            raise TypeError(f"channels keys must be layer names (str), got {type(k).__name__}")
        out[k] = check_int(v, f"channels[{k!r}]", lo=1)
    return out


def _check_callable(f, name):
    if not callable(f):
        raise TypeError(f"{name} must be callable, got {type(f).__name__}")


def scale_config(channels: dict, ratio: float, granularity: int = 1, min_channels: int = 1) -> dict:
    """``{layer: max(min_channels, round(ratio·c / g)·g)}`` (never more than ``c``)."""
    ch = _check_config(channels)
    r = check_number(ratio, "ratio", lo=0.0, hi=1.0)
    g = check_int(granularity, "granularity", lo=1)
    m = check_int(min_channels, "min_channels", lo=1)
    return {k: int(min(c, max(m, int(round(r * c / g)) * g))) for k, c in ch.items()}


def netadapt_prune(channels: dict, latency_fn: Callable[[dict], float], budget: float,
                   evaluate: Callable[[dict], float], *, steps: int = 5, granularity: int = 1,
                   min_channels: int = 1, max_iters: int = 100) -> dict:
    """NetAdapt greedy search (see module docstring).

    Returns ``{"config", "latency", "accuracy", "met_budget", "history": [{iteration, layer,
    config, latency, accuracy, candidates}]}``. Deterministic given deterministic callables
    (ties broken by layer order).
    """
    ch = _check_config(channels)
    _check_callable(latency_fn, "latency_fn")
    _check_callable(evaluate, "evaluate")
    bud = check_number(budget, "budget", lo=0.0, lo_inclusive=False)
    n_steps = check_int(steps, "steps", lo=1)
    g = check_int(granularity, "granularity", lo=1)
    m = check_int(min_channels, "min_channels", lo=1)
    check_int(max_iters, "max_iters", lo=1)
    cur = dict(ch)
    lat = float(latency_fn(cur))
    l0 = lat
    delta = max((l0 - bud) / n_steps, 0.0)
    history = []
    acc = None
    it = 0
    while lat > bud and it < max_iters:
        it += 1
        target = max(bud, lat - delta)
        cands = []
        for layer in ch:
            c = cur[layer] - g
            found = None
            while c >= m:
                trial = {**cur, layer: c}
                if latency_fn(trial) <= target:
                    found = trial
                    break
                c -= g
            if found is not None:
                cands.append((layer, found))
        if not cands:  # cannot reach this step's target: take the largest single-layer step
            best = None
            for layer in ch:
                c = max(m, cur[layer] - g)
                if c < cur[layer]:
                    trial = {**cur, layer: c}
                    lt = latency_fn(trial)
                    if best is None or lt < best[2]:
                        best = (layer, trial, lt)
            if best is None:
                break
            cands = [(best[0], best[1])]
        scored = [(float(evaluate(cfg)), -i, layer, cfg) for i, (layer, cfg) in enumerate(cands)]
        acc_best, _, layer, cfg = max(scored, key=lambda t: (t[0], t[1]))
        cur, lat, acc = cfg, float(latency_fn(cfg)), acc_best
        history.append({"iteration": it, "layer": layer, "config": dict(cur), "latency": lat,
                        "accuracy": acc,
                        "candidates": {lay: (sc, dict(c)) for sc, _, lay, c in scored}})
    if acc is None:
        acc = float(evaluate(cur))
    return {"config": cur, "latency": lat, "accuracy": acc, "met_budget": lat <= bud,
            "history": history, "initial_latency": l0}


def _largest_ratio(ch, ok, granularity, min_channels, grid):
    for r in grid:
        cfg = scale_config(ch, r, granularity, min_channels)
        if ok(cfg):
            return r, cfg
    r = grid[-1]
    return r, scale_config(ch, r, granularity, min_channels)


def uniform_prune(channels: dict, latency_fn: Callable[[dict], float], budget: float, *,
                  granularity: int = 1, min_channels: int = 1, grid_points: int = 201) -> dict:
    """Largest uniform keep-ratio whose looked-up latency is ``≤ budget``.

    Returns ``{"config", "ratio", "latency"}``.
    """
    ch = _check_config(channels)
    _check_callable(latency_fn, "latency_fn")
    bud = check_number(budget, "budget", lo=0.0, lo_inclusive=False)
    grid = np.linspace(1.0, 0.0, check_int(grid_points, "grid_points", lo=2))
    r, cfg = _largest_ratio(ch, lambda c: latency_fn(c) <= bud, granularity, min_channels, grid)
    return {"config": cfg, "ratio": float(r), "latency": float(latency_fn(cfg))}


def flop_proportional_prune(channels: dict, flops_fn: Callable[[dict], float],
                            base_latency: float, budget: float, *, granularity: int = 1,
                            min_channels: int = 1, grid_points: int = 201) -> dict:
    """Uniform keep-ratio chosen so that ``FLOPs ≤ FLOPs_full · budget / base_latency``.

    Returns ``{"config", "ratio", "flops", "flops_target"}`` (its real latency is whatever the
    hardware says — measure it).
    """
    ch = _check_config(channels)
    _check_callable(flops_fn, "flops_fn")
    base = check_number(base_latency, "base_latency", lo=0.0, lo_inclusive=False)
    bud = check_number(budget, "budget", lo=0.0, lo_inclusive=False)
    target = float(flops_fn(ch)) * min(1.0, bud / base)
    grid = np.linspace(1.0, 0.0, check_int(grid_points, "grid_points", lo=2))
    r, cfg = _largest_ratio(ch, lambda c: flops_fn(c) <= target, granularity, min_channels, grid)
    return {"config": cfg, "ratio": float(r), "flops": float(flops_fn(cfg)),
            "flops_target": target}


def pareto_front(points) -> list[int]:
    """Indices of the points ``(latency, accuracy)`` not dominated by another point (lower or
    equal latency AND higher or equal accuracy, one strictly), sorted by latency."""
    pts = [(check_number(p[0], "latency"), check_number(p[1], "accuracy")) for p in points]
    keep = []
    for i, (l, a) in enumerate(pts):
        dom = any((l2 <= l and a2 >= a and (l2 < l or a2 > a)) for j, (l2, a2) in enumerate(pts)
                  if j != i)
        if not dom:
            keep.append(i)
    return sorted(keep, key=lambda i: pts[i][0])
