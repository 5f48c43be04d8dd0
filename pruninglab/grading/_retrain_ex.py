"""Exercises of notebook 04 (prune → retrain, pruning during training, automated allocation).

* ``masked_sgd_step``  — one SGD(+momentum, weight decay) step, then the masks re-applied.
* ``layer_sensitivity`` — the per-layer sensitivity scan (one layer pruned at a time, on val).
* ``allocate_budget``  — per-layer sparsities from a sensitivity scan that meet a global budget.
* ``gradual_prune``    — S4-E2 solved: AGP schedule + magnitude masks + mask-enforced steps with ONE
  optimizer state (velocity) carried through the whole run.

All signatures are numpy / dict-of-array based; expected answers come from the small oracles
below (not from the library functions the learner re-writes). :data:`MUTANTS` holds the seed
documents' bugs (and classic mistakes) adapted to the signatures; the grader must reject each.
"""
from __future__ import annotations

import itertools

import numpy as np

from ._common import Exercise, Problem, fmt
from ._protocol import grader_callable

__all__ = ["EXERCISES", "MUTANTS", "QuadraticGrad", "SumScore", "TinyNetScore", "sgd_step_oracle",
           "scan_oracle", "allocate_oracle_optimum", "gradual_oracle"]

NB = "04_prune_retrain_automated"


# ============================================================================ masked_sgd_step

def sgd_step_oracle(weights, grads, masks, velocity, lr, momentum, weight_decay):
    """PyTorch SGD convention: d = g + λw; v ← μv + d; w ← w − η v; then w ← w ⊙ mask."""
    new_w, new_v = [], []
    for w, g, m, v0 in zip(weights, grads, masks, velocity):
        d = g + weight_decay * w
        v = momentum * v0 + d
        new_w.append(np.where(m, w - lr * v, 0.0).astype(w.dtype))
        new_v.append(v)
    return new_w, new_v


def _dict_problem(out, ref: list, what: str):
    if not isinstance(out, (list, tuple)):
        raise Problem(f"{what} is a {type(out).__name__}, expected a list of numpy arrays",
                      "return lists with one array per layer, in the input's order")
    if len(out) != len(ref):
        raise Problem(f"{what} has {len(out)} entries, expected {len(ref)}",
                      "one entry per layer of the input lists")
    for n, r in enumerate(ref):
        o = out[n]
        if not isinstance(o, np.ndarray):
            raise Problem(f"{what}[{n!r}] is a {type(o).__name__}, expected a numpy.ndarray",
                          "numpy in -> numpy out")
        if o.shape != r.shape:
            raise Problem(f"{what}[{n!r}] has shape {o.shape}, expected {r.shape}",
                          "keep every layer's shape")


def judge_masked_step(args, out):
    weights, grads, masks, velocity, lr, momentum, wd = args
    ref_w, ref_v = sgd_step_oracle(*args)
    if out is None:
        raise Problem("the result is None", "return (new_weights, new_velocity)")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem(f"the result is {fmt(out)}, expected a pair (new_weights, new_velocity)",
                      "return new_weights, new_velocity")
    w, v = out
    _dict_problem(w, ref_w, "new_weights")
    _dict_problem(v, ref_v, "new_velocity")
    for n in range(len(ref_w)):
        m = masks[n].astype(bool)
        if np.any(w[n][~m] != 0):
            moved = np.abs(w[n][~m]).max()
            hint = ("pruned weights are not exactly 0 after the step (max |w| = %.3g). Zeroing the "
                    "gradient is not enough: the velocity carried over from earlier steps (dense "
                    "training, or before this mask existed) and weight decay still move them. "
                    "Re-apply the mask AFTER the update: w = np.where(mask, w, 0)" % moved)
            if np.allclose(w[n][m], 0) and np.any(ref_w[n][m] != 0):
                hint = "the mask is inverted: mask True means KEEP (your result keeps the pruned ones)"
            raise Problem(f"layer {n}: {int(np.count_nonzero(w[n][~m]))} pruned weight(s) are "
                          "non-zero after the step", hint)
        if not np.allclose(w[n], ref_w[n], rtol=1e-6, atol=1e-9):
            hint = "d = grad + weight_decay*w; v = momentum*v + d; w = w - lr*v; then re-apply the mask"
            if np.allclose(w[n], np.where(m, weights[n], 0)):
                hint = ("the kept weights did not change: the update was discarded (like seed S0-C3, "
                        "whose retrained model is thrown away); return the UPDATED weights")
            else:
                v0 = grads[n] + wd * weights[n]
                if np.allclose(w[n], np.where(m, weights[n] - lr * v0, 0)) and momentum and \
                        np.any(velocity[n][m] != 0):
                    hint = ("the velocity from the previous steps was ignored (v = d): that is what a "
                            "NEW optimizer per epoch does (seed S2-C4 builds a fresh Adam every epoch); "
                            "keep ONE optimizer state: v = momentum*v + d")
                elif np.allclose(w[n], np.where(m, weights[n] - lr * (momentum * velocity[n] + grads[n]), 0)):
                    hint = "weight decay is missing: d = grad + weight_decay * w (PyTorch's SGD)"
            raise Problem(f"layer {n}: new weights {fmt(w[n])}, expected {fmt(ref_w[n])}", hint)
        if not np.allclose(v[n][m], ref_v[n][m], rtol=1e-6, atol=1e-9):
            raise Problem(f"layer {n}: new velocity (kept entries) {fmt(v[n])}, expected "
                          f"{fmt(ref_v[n])}",
                          "return the updated velocity v = momentum*v + grad + weight_decay*w (the "
                          "next step needs it)")


def _step_case(rng, shapes, lr, momentum, wd, dtype=np.float64):
    weights, grads, masks, vel = [], [], [], []
    for shp in shapes:
        m = rng.random(shp) > 0.5
        m.flat[0] = True
        m.flat[-1] = False
        weights.append(np.where(m, rng.normal(size=shp), 0.0).astype(dtype))
        grads.append(rng.normal(size=shp).astype(dtype))
        vel.append(rng.normal(size=shp).astype(dtype))     # state carried over from dense training
        masks.append(m)
    return weights, grads, masks, vel, lr, momentum, wd


def masked_step_fixed():
    w = [np.array([[0.5, 0.0, -0.2], [0.0, 1.0, 0.3]])]
    g = [np.array([[0.1, 0.4, -0.3], [0.2, -0.1, 0.0]])]
    m = [np.array([[True, False, True], [False, True, True]])]
    v = [np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 0.2]])]
    zero_v = [np.zeros((2, 3))]
    rng = np.random.default_rng(4)
    return [
        ("2x3 layer, momentum 0.9, velocity carried over from dense training",
         (w, g, m, v, 0.1, 0.9, 0.0)),
        ("same layer, plain SGD with weight decay 0.01, fresh velocity", (w, g, m, zero_v, 0.1, 0.0, 0.01)),
        ("same layer, momentum 0.9 and weight decay 0.1", (w, g, m, v, 0.05, 0.9, 0.1)),
        ("two layers (fc1 4x3, fc2 2x4)", _step_case(rng, [(4, 3), (2, 4)], 0.2, 0.8, 0.0)),
    ]


def masked_step_hidden(rng):
    cases = []
    for _ in range(5):
        shapes = [tuple(int(x) for x in rng.integers(1, 7, size=2)) for _ in range(int(rng.integers(1, 4)))]
        lr, mom, wd = float(rng.choice([0.01, 0.1, 0.5])), float(rng.choice([0.0, 0.5, 0.9])), \
            float(rng.choice([0.0, 1e-3, 0.1]))
        cases.append((f"layers {shapes}, lr {lr}, momentum {mom}, weight decay {wd}",
                      _step_case(rng, shapes, lr, mom, wd)))
    return cases


# ============================================================================ layer_sensitivity

@grader_callable
class SumScore:
    """``evaluate(weights, split="val")`` = Σ_l Σ c_l ⊙ w_l (an exact, hand-checkable score);
    the "test" split has other coefficients (so a scan on test is recognised)."""

    def __init__(self, coefs, test_coefs):
        self.coefs, self.test_coefs = coefs, test_coefs

    def __call__(self, weights, split="val"):
        if split not in ("val", "test"):
            raise ValueError(f"split must be 'val' or 'test', got {split!r}")
        c = self.coefs if split == "val" else self.test_coefs
        return float(sum(np.sum(np.asarray(a) * np.asarray(w, dtype=float)) for a, w in zip(c, weights)))

    def __grader_state__(self):
        return {"coefs": self.coefs, "test_coefs": self.test_coefs}

    def __eq__(self, other):
        return (type(other).__name__ == "SumScore" and len(self.coefs) == len(other.coefs) and
                all(np.array_equal(a, b) for a, b in zip(self.coefs, other.coefs)) and
                all(np.array_equal(a, b) for a, b in zip(self.test_coefs, other.test_coefs)))

    def __repr__(self):
        return f"SumScore(layer shapes {[np.shape(a) for a in self.coefs]})"


@grader_callable
class TinyNetScore:
    """``evaluate(weights, split="val")`` for a small ReLU network (``weights[l]`` of shape
    (out, in), fixed biases) on fixed data: the mean softmax probability of the correct class
    (a smooth accuracy). The "test" split holds other samples."""

    def __init__(self, biases, x_val, y_val, x_test, y_test):
        self.biases, self.x_val, self.y_val, self.x_test, self.y_test = biases, x_val, y_val, x_test, y_test

    def __call__(self, weights, split="val"):
        if split not in ("val", "test"):          # (self-contained: the class source runs in the
            raise ValueError(f"split must be 'val' or 'test', got {split!r}")   # grader's child)
        x, y = (self.x_val, self.y_val) if split == "val" else (self.x_test, self.y_test)
        h = np.asarray(x, dtype=float)
        for i, (w, b) in enumerate(zip(weights, self.biases)):
            h = h @ np.asarray(w, dtype=float).T + b
            if i < len(self.biases) - 1:
                h = np.maximum(h, 0.0)
        h = h - h.max(axis=1, keepdims=True)
        p = np.exp(h)
        p /= p.sum(axis=1, keepdims=True)
        return float(np.mean(p[np.arange(len(y)), np.asarray(y)]))

    def __grader_state__(self):
        return {"biases": self.biases, "x_val": self.x_val, "y_val": self.y_val,
                "x_test": self.x_test, "y_test": self.y_test}

    def __eq__(self, other):
        return (type(other).__name__ == "TinyNetScore" and
                all(np.array_equal(getattr(self, k), getattr(other, k)) for k in
                    ("x_val", "y_val", "x_test", "y_test")) and len(self.biases) == len(other.biases) and
                all(np.array_equal(a, b) for a, b in zip(self.biases, other.biases)))

    def __repr__(self):
        return f"TinyNetScore({len(self.biases)} layers, {len(self.y_val)} val samples)"


def scan_oracle(weights, evaluate, grid, *, variant=None):
    """``scan[l, j]`` = ``evaluate`` (on val) with ONLY layer ``l`` pruned to ``grid[j]`` (the
    round(s·n) smallest |w| of that layer set to 0, ties by flat index), every other layer dense.
    ``variant`` reproduces a wrong design (for the hints)."""
    L, G = len(weights), len(grid)
    out = np.zeros((L, G))
    kept = [np.array(w, copy=True) for w in weights]          # the no-restore variant's working copy
    for l in range(L):
        for j, s in enumerate(grid):
            s = float(s)
            if variant == "all_layers":
                trial = [np.where(_magnitude_mask(w, s), w, 0.0) for w in weights]
            else:
                w = weights[l]
                if variant == "relative_max":
                    pruned = np.where(np.abs(w) < s * np.max(np.abs(w)), 0.0, w)
                elif variant == "inverted":
                    pruned = np.where(_magnitude_mask(w, 1.0 - s), w, 0.0)
                else:
                    pruned = np.where(_magnitude_mask(w, s), w, 0.0)
                if variant == "no_restore":
                    kept[l] = pruned
                    trial = kept
                else:
                    trial = [pruned if k == l else weights[k] for k in range(L)]
            out[l, j] = evaluate(trial, "test") if variant == "test" else evaluate(trial)
    return out


_SCAN_HINTS = {
    "test": "you evaluated on the TEST split: the scan decides the per-layer sparsities, so it must "
            "use validation data (call evaluate(w) or evaluate(w, 'val')); the test split is used "
            "once, for the final report (this notebook once chose on test, issue 14)",
    "no_restore": "the layers scanned earlier stay pruned while the next layer is scanned (a working "
                  "copy that is never restored): start every point from the DENSE weights, with only "
                  "layer l pruned",
    "all_layers": "you pruned every layer at once (a uniform sweep): a sensitivity scan prunes ONE "
                  "layer at a time and keeps all other layers dense",
    "relative_max": "a threshold s·max|w| (seed S0-C2's rule) does not remove round(s·n) weights: prune "
                    "exactly the round(s·n) smallest |w| of the layer (np.argsort)",
    "inverted": "the grid values are the fraction REMOVED; you kept a fraction s (the inverted "
                "keep-rate of seed S2-C4)",
}


def judge_scan(args, out):
    weights, evaluate, grid = args
    ref = scan_oracle(weights, evaluate, grid)
    if out is None:
        raise Problem("the result is None", "return a numpy array scan[l, j]")
    if isinstance(out, (list, tuple)):
        raise Problem(f"the result is a {type(out).__name__}, expected a numpy array of shape {ref.shape}",
                      "collect the scores in np.zeros((len(weights), len(grid))) and return it")
    if not isinstance(out, np.ndarray) or out.shape != ref.shape:
        raise Problem(f"the result is {fmt(out)}, expected a numpy array of shape {ref.shape} "
                      "(layers × grid points)",
                      "one row per layer, one column per grid value: scan[l, j]")
    if not np.allclose(out.astype(float), ref, rtol=1e-9, atol=1e-12):
        hint = ("scan[l, j] = evaluate(weights with ONLY layer l pruned to grid[j]: its round(s·n) "
                "smallest |w| set to 0; all other layers dense), on the validation split")
        if np.allclose(out.astype(float), ref.T.reshape(out.shape)) and ref.shape[0] != ref.shape[1]:
            hint = "rows are layers, columns are grid values"
        for variant, h in _SCAN_HINTS.items():
            if np.allclose(out.astype(float), scan_oracle(weights, evaluate, grid, variant=variant),
                           rtol=1e-9, atol=1e-12):
                hint = h
                break
        bad = np.argwhere(~np.isclose(out.astype(float), ref, rtol=1e-9, atol=1e-12))[0]
        raise Problem(f"scan[{bad[0]}, {bad[1]}] = {float(out[tuple(bad)]):.6g}, expected "
                      f"{ref[tuple(bad)]:.6g}", hint)


def scan_fixed():
    w = [np.array([[0.5, -0.1], [0.2, -0.8]]), np.array([[1.0, -2.0, 0.3]])]
    ones = [np.ones((2, 2)), np.ones((1, 3))]
    test = [np.full((2, 2), -1.0), np.full((1, 3), 2.0)]
    rng = np.random.default_rng(11)
    return [
        ("score = sum of all weights; layer 0 (2x2) and layer 1 (1x3), grid (0, 0.5, 1): "
         "expected [[-0.9, -1.0, -0.7], [-0.9, -2.2, -0.2]]",
         (w, SumScore(ones, test), np.array([0.0, 0.5, 1.0]))),
        ("score with different weights per entry, ties in |w| (the first in flat order goes first)",
         ([np.array([[0.3, -0.3, 0.1, 0.3]]), np.array([[2.0], [-0.5], [0.7]])],
          SumScore([np.array([[1.0, 2.0, -1.0, 3.0]]), np.array([[0.5], [4.0], [-1.0]])],
                   [np.array([[0.0, 1.0, 1.0, 0.0]]), np.array([[1.0], [1.0], [1.0]])]),
          np.array([0.0, 0.25, 0.5, 0.75]))),
        ("tiny ReLU network 4 -> 5 -> 3 on 12 samples", _tiny_scan_case(rng, [4, 5, 3], 12,
                                                                       np.array([0.0, 0.2, 0.6, 0.9]))),
    ]


def _tiny_scan_case(rng, widths, n, grid):
    weights = [rng.normal(size=(o, i)) for i, o in zip(widths, widths[1:])]
    biases = [0.1 * rng.normal(size=o) for o in widths[1:]]
    xv, xt = rng.normal(size=(n, widths[0])), rng.normal(size=(n, widths[0]))
    yv, yt = rng.integers(0, widths[-1], size=n), rng.integers(0, widths[-1], size=n)
    return weights, TinyNetScore(biases, xv, yv, xt, yt), grid


def scan_hidden(rng):
    cases = []
    for _ in range(5):
        widths = [int(x) for x in rng.integers(2, 7, size=int(rng.integers(3, 5)))]
        sizes = [a * b for a, b in zip(widths, widths[1:])]
        grid = [0.0]
        while len(grid) < 4:            # no round-half ties (s·n = k + 0.5): any rounding rule agrees
            g = round(float(rng.uniform(0.1, 0.95)), 2)
            if g not in grid and all(abs((g * n) % 1 - 0.5) > 1e-6 for n in sizes):
                grid.append(g)
        grid = np.array(sorted(grid))
        cases.append((f"ReLU network {widths}, grid {grid.tolist()}",
                      _tiny_scan_case(rng, widths, int(rng.integers(6, 20)), grid)))
    return cases


# ============================================================================ allocate_budget

def _drop(scan, grid, alloc):
    g = np.asarray(grid, dtype=float)
    idx = [int(np.argmin(np.abs(g - s))) for s in alloc]
    return float(sum(scan[l, 0] - scan[l, j] for l, j in enumerate(idx)))


def allocate_oracle_optimum(scan, sizes, grid, target):
    """Exhaustive search: the smallest predicted drop Σ (acc_l(0) − acc_l(s_l)) with
    Σ s_l n_l ≥ target · Σ n_l (small cases only)."""
    L, G = scan.shape
    N = float(np.sum(sizes))
    best = None
    for combo in itertools.product(range(G), repeat=L):
        pruned = sum(grid[j] * sizes[l] for l, j in enumerate(combo))
        if pruned < target * N - 1e-9:
            continue
        d = sum(scan[l, 0] - scan[l, j] for l, j in enumerate(combo))
        if best is None or d < best - 1e-12:
            best = d
    return float(best)


def _uniform(scan, grid, target):
    j = min(int(np.searchsorted(np.asarray(grid), target - 1e-12)), len(grid) - 1)
    return np.full(scan.shape[0], float(grid[j]))


def judge_allocate(args, out):
    scan, sizes, grid, target = args
    L = scan.shape[0]
    if out is None:
        raise Problem("the result is None", "return a numpy array of per-layer sparsities")
    if not isinstance(out, np.ndarray) or out.shape != (L,):
        raise Problem(f"the result is {fmt(out)}, expected a numpy array of shape ({L},)",
                      "one sparsity per layer (row of the scan), e.g. np.array([...])")
    g = np.asarray(grid, dtype=float)
    for l, s in enumerate(out.astype(float)):
        if not np.any(np.isclose(g, s, atol=1e-12)):
            raise Problem(f"sparsity of layer {l} is {s:.6g}, not one of the scanned grid values "
                          f"{fmt(g)}",
                          "pick each layer's sparsity from the grid the scan measured: the scan "
                          "predicts nothing about other values")
    N = float(np.sum(sizes))
    pruned = float(np.sum(out.astype(float) * sizes))
    if pruned < target * N - 1e-9:
        hint = "the budget counts WEIGHTS: Σ s_l · n_l ≥ target · Σ n_l. "
        if np.mean(out) >= target - 1e-9:
            hint += ("Your sparsities average to the target, but the layers have different sizes: "
                     "the mean of the layer sparsities is not the fraction of weights removed")
        raise Problem(f"the allocation prunes {pruned:.0f} of {N:.0f} weights ({pruned / N:.4f}), "
                      f"below the target {target:.4f}", hint)
    opt = allocate_oracle_optimum(scan, sizes, grid, target)
    uni = _drop(scan, grid, _uniform(scan, grid, target))
    mine = _drop(scan, grid, out.astype(float))
    tol = max(0.02, 0.5 * (uni - opt))
    if mine > opt + tol + 1e-12:
        hint = ("the predicted accuracy drop Σ (acc_l(0) − acc_l(s_l)) is much larger than needed: "
                "prune hardest where the scan says pruning is cheap (large, insensitive layers) "
                "and spare the sensitive ones. With a few layers you can try every combination "
                "of grid values (itertools.product) and keep the cheapest one that meets the budget")
        if np.allclose(out, _uniform(scan, grid, target)):
            hint = "uniform sparsity ignores the scan: " + hint
        raise Problem(f"predicted drop {mine:.4f} vs optimum {opt:.4f} (uniform: {uni:.4f}; "
                      f"accepted up to {opt + tol:.4f})", hint)


GRID = np.array((0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99))


def _scan_case(rng, n_layers, grid):
    rows, sizes = [], []
    for _ in range(n_layers):
        sizes.append(int(rng.choice([100, 1000, 10000, 50000])))
        knee = float(rng.uniform(0.4, 1.2))
        acc = 0.97 - 0.9 * np.clip(np.asarray(grid) / knee, 0, None) ** 6
        acc = np.minimum.accumulate(acc)                       # non-increasing in sparsity
        rows.append(np.clip(np.round(acc, 4), 0.1, 0.97))
    return np.array(rows), np.array(sizes)


def allocate_fixed():
    scan = np.array([[0.97, 0.97, 0.96, 0.93, 0.85, 0.60, 0.40, 0.20],
                     [0.97, 0.97, 0.97, 0.97, 0.96, 0.95, 0.93, 0.80],
                     [0.97, 0.95, 0.90, 0.80, 0.70, 0.50, 0.30, 0.10]])
    sizes = np.array([16384, 32768, 1280])
    return [
        ("3 layers (sizes like the MLP), target 0.9", (scan, sizes, GRID.copy(), 0.9)),
        ("3 layers, target 0.8", (scan, sizes, GRID.copy(), 0.8)),
        ("3 layers, target 0 (nothing to prune)", (scan, sizes, GRID.copy(), 0.0)),
        ("2 equal layers, grid (0, 0.5, 1), target 0.5",
         (np.array([[0.9, 0.9, 0.8], [0.9, 0.7, 0.2]]), np.array([10, 10]),
          np.array([0.0, 0.5, 1.0]), 0.5)),
        ("2 layers of different size, grid (0, 0.5, 1), target 0.5",
         (np.array([[0.9, 0.9, 0.85], [0.9, 0.5, 0.2]]), np.array([30, 10]),
          np.array([0.0, 0.5, 1.0]), 0.5)),
    ]


def allocate_hidden(rng):
    cases = []
    for _ in range(5):
        L = int(rng.integers(2, 5))
        scan, sizes = _scan_case(rng, L, GRID)
        t = float(rng.choice([0.5, 0.7, 0.8, 0.9]))
        cases.append((f"{L} random layers, target {t}", (scan, sizes, GRID.copy(), t)))
    return cases


# ============================================================================ gradual_prune

@grader_callable
class QuadraticGrad:
    """``grad_fn(weights, t)`` of L_t(w) = ½ Σ_l c_l ‖w_l − a_l − sin(t)·b_l‖² (deterministic, numpy).
    Comparable with ``==`` so that the grader's "does not modify its inputs" check works."""

    def __init__(self, targets, drift, c=1.0):
        self.targets, self.drift, self.c = targets, drift, float(c)
        self.calls = 0

    def __call__(self, weights, t):
        return [self.c * (w - a - np.sin(t) * b) for w, a, b in zip(weights, self.targets, self.drift)]

    def __grader_state__(self):
        return {"targets": self.targets, "drift": self.drift, "c": self.c}

    def __eq__(self, other):
        return (type(other).__name__ == "QuadraticGrad" and self.c == other.c and
                len(self.targets) == len(other.targets) and
                all(np.array_equal(a, b) for a, b in zip(self.targets, other.targets)) and
                all(np.array_equal(a, b) for a, b in zip(self.drift, other.drift)))

    def __repr__(self):
        return f"QuadraticGrad(layer shapes {[a.shape for a in self.targets]})"


def _agp(t, final, start, n, dt):
    if t <= start:
        return 0.0
    k = min((t - start) // dt, n)
    return float(final * (1 - (1 - k / n) ** 3))


def _magnitude_mask(w, s):
    k = int(round(s * w.size))
    keep = np.ones(w.size, dtype=bool)
    keep[np.argsort(np.abs(w), axis=None, kind="stable")[:k]] = False
    return keep.reshape(w.shape)


def gradual_oracle(weights, grad_fn, total_steps, final, start, n_updates, interval, lr, momentum,
                   *, variant=None):
    w = [a.copy() for a in weights]
    vel = [np.zeros_like(a) for a in w]
    masks = [np.ones(a.shape, dtype=bool) for a in w]
    for t in range(total_steps):
        if t >= start and (t - start) % interval == 0 and (t - start) // interval <= n_updates:
            s = _agp(t, final, start, n_updates, interval)
            if variant == "inverted":
                masks = [_magnitude_mask(a, 1 - s) if s > 0 else masks[n] for n, a in enumerate(w)]
            elif variant == "oneshot":
                masks = [_magnitude_mask(a, final) for a in w]
            elif variant != "prune_at_end":
                masks = [_magnitude_mask(a, s) for a in w]
            if variant == "reset":
                vel = [np.zeros_like(a) for a in w]
            w = [np.where(m, a, 0.0) for m, a in zip(masks, w)]
        g = grad_fn(w, t)
        for n in range(len(w)):
            vel[n] = momentum * vel[n] + g[n]
            w[n] = w[n] - lr * vel[n]
            if variant != "no_reapply":
                w[n] = np.where(masks[n], w[n], 0.0)
    if variant == "prune_at_end":
        masks = [_magnitude_mask(a, final) for a in w]
        w = [np.where(m, a, 0.0) for m, a in zip(masks, w)]
    return w, masks


def judge_gradual(args, out):
    ref_w, ref_m = gradual_oracle(*args)
    if out is None:
        raise Problem("the result is None", "return (weights, masks)")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem(f"the result is {fmt(out)}, expected a pair (weights, masks)",
                      "return weights, masks")
    w, m = out
    _dict_problem(w, ref_w, "weights")
    _dict_problem(m, ref_m, "masks")
    final = args[3]
    for n in range(len(ref_w)):
        mk = np.asarray(m[n]).astype(bool)
        got_s = 1 - mk.mean()
        want_s = 1 - ref_m[n].mean()
        if not np.isclose(got_s, want_s, atol=1e-12):
            hint = ("at the end the mask must hold exactly round(s_f · n) pruned weights per layer "
                    f"(s_f = {final})")
            if np.isclose(got_s, 1 - want_s, atol=1.5 / mk.size):
                hint = ("the keep-rate is inverted: you keep a fraction s and prune 1 − s (seed S2-C4 "
                        "multiplies in `uniform < pruning_rate`, which is the KEEP mask)")
            raise Problem(f"layer {n}: final mask sparsity {got_s:.4f}, expected {want_s:.4f}", hint)
        if np.any(np.asarray(w[n])[~mk] != 0):
            raise Problem(f"layer {n}: weights outside the final mask are non-zero",
                          "re-apply the mask after EVERY optimizer step (not only at the mask "
                          "updates): between updates the momentum and the gradient regrow pruned "
                          "weights")
        if not np.array_equal(mk, ref_m[n]) or not np.allclose(w[n], ref_w[n], rtol=1e-6, atol=1e-9):
            # classify the common wrong designs by re-running them
            hints = {
                "oneshot": "you prune to s_f at once at t0 (one-shot); AGP ramps s_t = s_f(1 − (1 − "
                           "k/n)^3) over the n updates at t0 + kΔt",
                "prune_at_end": "you train dense and prune once at the end (seed S2-C4): nothing is "
                                "retrained after pruning; prune DURING training on the AGP schedule",
                "no_reapply": "pruned weights regrow between mask updates: re-apply the mask after "
                              "every step",
                "reset": "the velocity is reset at every mask update: that is a NEW optimizer per "
                         "round (the defect of seed S2-C4 and of a fresh Adam each epoch); keep ONE "
                         "velocity for the whole run",
            }
            hint = ("per step t: if t = t0 + kΔt (k = 0..n) recompute per-layer magnitude masks of the "
                    "CURRENT weights at s_t (AGP) and zero the pruned weights; then v = μv + g(w, t), "
                    "w = w − ηv, w = w ⊙ mask")
            for variant, h in hints.items():
                vw, vm = gradual_oracle(*args, variant=variant)
                if all(np.array_equal(np.asarray(m[k]).astype(bool), vm[k]) and
                       np.allclose(w[k], vw[k], rtol=1e-6, atol=1e-9) for k in range(len(vw))):
                    hint = h
                    break
            raise Problem(f"layer {n}: final weights/mask differ from the expected ones "
                          f"(got {fmt(np.asarray(w[n]))}, expected {fmt(ref_w[n])})", hint)


def _gradual_case(rng, shapes, total, final, start, n, dt, lr, mom):
    weights, targets, drift = [], [], []
    for shp in shapes:
        weights.append(rng.normal(size=shp))
        targets.append(rng.normal(size=shp) * rng.uniform(0.1, 2.0, size=shp))
        drift.append(0.1 * rng.normal(size=shp))
    return weights, QuadraticGrad(targets, drift), total, final, start, n, dt, lr, mom


def gradual_fixed():
    rng = np.random.default_rng(40)
    return [
        ("one 4x5 layer, 40 steps, AGP to 0.75 at steps 5, 10, .., 25", _gradual_case(
            rng, [(4, 5)], 40, 0.75, 5, 4, 5, 0.1, 0.9)),
        ("two layers, 30 steps, AGP to 0.9 from step 0, n = 3, Δt = 6", _gradual_case(
            rng, [(6, 4), (3, 6)], 30, 0.9, 0, 3, 6, 0.05, 0.8)),
        ("plain SGD (momentum 0), n = 1: one update at t0 + Δt", _gradual_case(
            rng, [(5, 5)], 20, 0.6, 2, 1, 5, 0.2, 0.0)),
    ]


def gradual_hidden(rng):
    cases = []
    for _ in range(5):
        shapes = [tuple(int(x) for x in rng.integers(2, 7, size=2)) for _ in range(int(rng.integers(1, 3)))]
        n, dt, t0 = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(0, 6))
        total = t0 + n * dt + int(rng.integers(1, 10))
        final = float(rng.choice([0.5, 0.8, 0.9]))
        cases.append((f"layers {shapes}, {total} steps, s_f {final}, t0 {t0}, n {n}, Δt {dt}",
                      _gradual_case(rng, shapes, total, final, t0, n, dt, 0.1, 0.9)))
    return cases


# ============================================================================ mutants (seed bugs)

def _m_no_reapply(weights, grads, masks, velocity, lr, momentum, wd):
    """S0-C3 defect 11 / zero-the-gradient-only: the gradient is masked, the mask never re-applied."""
    out_w, out_v = [], []
    for w, g, m, v0 in zip(weights, grads, masks, velocity):
        v = momentum * v0 + np.where(m, g, 0.0) + wd * w
        out_w.append(w - lr * v)
        out_v.append(v)
    return out_w, out_v


def _m_reset_velocity(weights, grads, masks, velocity, lr, momentum, wd):
    """S2-C4: a new optimizer every epoch -> the carried-over velocity is dropped."""
    z = [np.zeros_like(v) for v in velocity]
    return sgd_step_oracle(weights, grads, masks, z, lr, momentum, wd)


def _m_discard(weights, grads, masks, velocity, lr, momentum, wd):
    """S0-C3 defect 10: the retrained weights are discarded (the pruned input comes back)."""
    _, v = sgd_step_oracle(weights, grads, masks, velocity, lr, momentum, wd)
    return [np.where(m, w, 0.0) for m, w in zip(masks, weights)], v


def _m_scan(variant):
    def f(weights, evaluate, grid):
        return scan_oracle(weights, evaluate, grid, variant=variant)
    return f


def _m_scan_inplace(weights, evaluate, grid):
    """Prunes the caller's arrays in place and puts them back only approximately (never)."""
    out = np.zeros((len(weights), len(grid)))
    for l, w in enumerate(weights):
        for j, s in enumerate(grid):
            w[~_magnitude_mask(w, float(s))] = 0.0
            out[l, j] = evaluate(weights)
    return out


def _m_uniform(scan, sizes, grid, target):
    return _uniform(scan, grid, target)


def _m_mean(scan, sizes, grid, target):
    """Ignores layer sizes: greedy on per-layer drop until the MEAN sparsity reaches the target."""
    g = list(grid)
    idx = [0] * scan.shape[0]
    while np.mean([g[i] for i in idx]) < target - 1e-12:
        cand = [(scan[l, i] - scan[l, i + 1], l) for l, i in enumerate(idx) if i + 1 < len(g)]
        _, l = min(cand)
        idx[l] += 1
    return np.array([float(g[i]) for i in idx])


def _m_gradual(variant):
    def f(*args):
        return gradual_oracle(*args, variant=variant)
    return f


def _m_s2c4_random(weights, grad_fn, total, final, start, n, dt, lr, mom):
    """S2-C4: train all steps dense, then a random inverted mask at the end."""
    rng = np.random.default_rng(0)
    w, _ = gradual_oracle(weights, grad_fn, total, 0.0, start, n, dt, lr, mom)
    masks = [rng.uniform(size=a.shape) < final for a in w]
    return [np.where(m, a, 0.0) for m, a in zip(masks, w)], masks


MUTANTS = {
    "masked_sgd_step": [("S0-C3", "gradient masked, mask not re-applied", lambda: _m_no_reapply),
                        ("S2-C4", "new optimizer state each call", lambda: _m_reset_velocity),
                        ("S0-C3", "retrained weights discarded", lambda: _m_discard)],
    "layer_sensitivity": [("issue 14", "scan on the test split", lambda: _m_scan("test")),
                          ("S2-Q1", "layers not restored between points", lambda: _m_scan("no_restore")),
                          ("S2-Q1", "all layers pruned at once", lambda: _m_scan("all_layers")),
                          ("S0-C2", "threshold relative to max|w|", lambda: _m_scan("relative_max")),
                          ("S2-C4", "inverted keep-rate", lambda: _m_scan("inverted")),
                          ("-", "prunes the caller's arrays in place", lambda: _m_scan_inplace)],
    "allocate_budget": [("S2-Q1", "uniform sparsity", lambda: _m_uniform),
                        ("-", "layer sizes ignored", lambda: _m_mean)],
    "gradual_prune": [("S2-C4", "prune once at the end", lambda: _m_gradual("prune_at_end")),
                      ("S2-C4", "random inverted mask at the end", lambda: _m_s2c4_random),
                      ("S2-C4", "inverted keep-rate", lambda: _m_gradual("inverted")),
                      ("S2-C4", "new optimizer per round", lambda: _m_gradual("reset")),
                      ("S4-E2", "no mask enforcement between updates", lambda: _m_gradual("no_reapply")),
                      ("-", "one-shot at t0", lambda: _m_gradual("oneshot"))],
}


EXERCISES = [
    Exercise("masked_sgd_step",
             "one SGD step (momentum, weight decay) on dicts of arrays, then re-apply the masks",
             "f(weights, grads, masks, velocity, lr, momentum, weight_decay) -> (new_weights, "
             "new_velocity)  (lists of np.ndarray, one per layer)",
             masked_step_fixed, masked_step_hidden, judge_masked_step, points=10,
             notebook=NB, topic="mask-enforced training step",
             library=("pruninglab.pruning.finetune.fine_tune_",)),
    Exercise("layer_sensitivity",
             "sensitivity scan: prune ONE layer at a time by magnitude to each grid value, score on val",
             "f(weights: list of (out, in) arrays, evaluate: callable(weights, split='val') -> float, "
             "grid: (G,) sparsities) -> (L, G) scores",
             scan_fixed, scan_hidden, judge_scan, points=10, notebook=NB,
             topic="sensitivity scan (one layer at a time, val)",
             library=("pruninglab.pruning.sensitivity.sensitivity_scan",)),
    Exercise("allocate_budget",
             "per-layer sparsities (from the scan's grid) meeting a global weight budget with a "
             "small predicted accuracy drop",
             "f(scan: (L, G) val accuracy, sizes: (L,) weights per layer, grid: (G,), target) -> "
             "(L,) sparsities",
             allocate_fixed, allocate_hidden, judge_allocate, points=15,
             notebook=NB, topic="sensitivity-driven allocation",
             library=("pruninglab.pruning.sensitivity.allocate_sparsity",)),
    Exercise("gradual_prune",
             "S4-E2: gradual magnitude pruning during training (AGP masks at t0+kΔt, one velocity, "
             "mask re-applied after every step)",
             "f(weights, grad_fn, total_steps, final, start, n_updates, interval, lr, momentum) -> "
             "(weights, masks)",
             gradual_fixed, gradual_hidden, judge_gradual, points=20, uses=("agp_sparsity", "masked_sgd_step"),
             notebook=NB, topic="pruning during training (AGP)",
             library=("pruninglab.pruning.finetune.iterative_prune", "pruninglab.pruning.schedules.agp_sparsity",
                      "pruninglab.pruning.schedules.agp_schedule")),
]
