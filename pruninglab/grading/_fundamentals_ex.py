"""Exercises of notebook 01 (pruning fundamentals): the learner writes the pruning algorithms.

* ``magnitude_mask``: the 0/1 keep-mask of one layer (exactly ``round(n·s)`` zeros, smallest |w|);
* ``global_threshold_masks``: one magnitude threshold across a dict of layers;
* ``iterative_threshold_prune``: the S4-E1 design (Han et al. 2015): per-layer threshold
  ``q_k·std(W_l)`` measured on the dense weights, ``rounds`` rounds with ``q_k = q·k/rounds``,
  masks AND-ed, and fine-tuning through a given ``step`` function with the mask re-applied after
  every step.

Expected answers come from the small numpy oracles below (not from :mod:`pruninglab.pruning`);
ties are tolerated (any choice among equal magnitudes). The third exercise is graded on tiny
networks with a deterministic, exact "fine-tune" step (:class:`LinearStep`: one gradient step of
a least-squares loss per layer) so that its exact answer is known.

:data:`MUTANTS` lists wrong implementations (the seed documents' bugs adapted to these
signatures, and classic mistakes) with a word the grader's hint must contain; the tests check
that each is rejected with that hint.
"""
from __future__ import annotations

import numpy as np

from ._common import Exercise, Problem, array_problem, fmt
from ._protocol import grader_callable
from ._pruning_ex import magnitude_cases_hidden

NOTEBOOK = "01_pruning_fundamentals"

__all__ = ["EXERCISES", "MUTANTS", "LinearStep", "oracle_iterative"]


# ---------------------------------------------------------------------------- helpers
def _as_mask(out, w, what="the mask"):
    """Check that ``out`` is a 0/1 array of ``w``'s shape; return it as bool (keep = True)."""
    if out is None:
        raise Problem(f"{what} is None", "did you forget the `return` statement?")
    if isinstance(out, (list, tuple)):
        lengths = {len(r) if hasattr(r, "__len__") else -1 for r in out}
        hint = "return a numpy array of 0/1 (or bool) with the shape of the weights"
        if len(lengths) > 1:
            hint += ("; your rows have different lengths: appending only the kept weights (seed "
                     "S1-C5) loses the positions -- a mask keeps one entry per weight")
        raise Problem(f"{what} is a {type(out).__name__}, expected a numpy.ndarray", hint)
    # not an array / wrong shape: the shared check, with the mask-specific removal hint
    array_problem(out, w, what, check_dtype=False,
                  removal_hint="entries were removed (np.delete / np.compress / w[mask], seeds S2-C1 "
                               "and S0-C2) instead of marked: a mask has one 0/1 entry per weight, "
                               "in place")
    if out.dtype == bool:
        return out
    if not np.issubdtype(out.dtype, np.number):
        raise Problem(f"{what} has dtype {out.dtype}", "return a bool or 0/1 numeric array")
    vals = out[np.isfinite(out)] if np.issubdtype(out.dtype, np.floating) else out
    if vals.size != out.size or not np.isin(vals, (0, 1)).all():
        nz = w != 0
        if nz.any() and np.all(out[~nz] == 0):
            ratio = out[nz] / w[nz]
            if np.allclose(ratio, ratio.flat[0]) and not np.isclose(ratio.flat[0], 0):
                raise Problem(f"{what} contains the values {fmt(out)}",
                              f"every weight was multiplied by {float(ratio.flat[0]):.4g}: this "
                              "rescales the tensor (seed S2-C2's 'L2-norm pruning' is max-norm "
                              "scaling) -- pruning marks weights to remove, it zeroes nothing else")
            kept = out != 0
            if np.array_equal(out[kept], w[kept]):
                raise Problem(f"{what} contains the values {fmt(out)}",
                              "you returned the pruned WEIGHTS; return the mask (1 = keep, "
                              "0 = prune), e.g. (np.abs(w) >= t) or an array of ones with zeros "
                              "written at the pruned positions")
        raise Problem(f"{what} contains values other than 0 and 1: {fmt(out)}",
                      "a mask is 1 where the weight is kept and 0 where it is pruned")
    return out != 0


def _ranking_problem(aw_pruned, aw_kept):
    """True when a pruned |w| exceeds a kept |w| (ties allowed)."""
    return aw_pruned.size and aw_kept.size and aw_pruned.max() > aw_kept.min()


def _check_sparsity_arg(s):
    import math
    if isinstance(s, bool) or not isinstance(s, (int, float, np.floating, np.integer)):
        raise TypeError(f"sparsity must be a number, got {type(s).__name__}")
    if math.isnan(s) or not 0 <= s <= 1:
        raise ValueError(f"sparsity must be in [0, 1], got {s}")


# ---------------------------------------------------------------------------- magnitude_mask
def judge_magnitude_mask(args, out):
    w, s = args
    keep = _as_mask(out, w)
    n, k = w.size, round(w.size * s)
    pruned = ~keep
    z = int(pruned.sum())
    aw = np.abs(w.astype(np.float64))
    problems, hints = [], []
    if z != k:
        problems.append(f"{z} entries of the mask are 0, expected exactly k = round(n*sparsity) = "
                        f"round({n}*{s!r}) = {k}")
        if z == int(n * s) and int(n * s) != k:
            hints.append(f"int() truncates n*sparsity = {n * s!r} to {int(n * s)}; use round()")
        elif z == round(n * (1 - s)) and s != 0.5:
            hints.append("you pruned the fraction 1-sparsity: the mask is inverted (sparsity is "
                         "the fraction of weights REMOVED, mask 0)")
        elif z > k and pruned.any() and keep.any() and aw[pruned].max() <= aw[keep].min():
            hints.append("ties: |w| <= (k-th smallest |w|) prunes every weight equal to the "
                         "threshold, more than k when magnitudes repeat (or are all 0); select "
                         "exactly k indices (np.argsort(np.abs(w), axis=None, kind='stable')[:k])")
        elif z < k and keep.any() and pruned.any() and aw[pruned].max() <= aw[keep].min():
            hints.append("too few pruned: |w| < (k-th smallest |w|) misses ties; select exactly k "
                         "indices with np.argsort")
    if _ranking_problem(aw[pruned], aw[keep]):
        problems.append(f"pruned a weight with |w| = {aw[pruned].max():.4g} while keeping one with "
                        f"|w| = {aw[keep].min():.4g}")
        order_signed = np.argsort(w, axis=None, kind="stable")[:k]
        signed = np.ones(n, bool)
        signed[order_signed] = False
        if (w < 0).any() and np.array_equal(keep.ravel(), signed):
            hints.append("you ranked by the signed value: a large negative weight is important; "
                         "rank by magnitude np.abs(w)")
        elif keep.any() and pruned.any() and aw[keep].max() <= aw[pruned].min():
            hints.append("you pruned the LARGEST magnitudes: the comparison is inverted")
        else:
            hints.append("the pruned weights are not the smallest |w| (a random mask, seeds S3-C1 "
                         "/ S2-C3? importance must be |w|; Han et al. 2015)")
    if problems:
        raise Problem("; ".join(problems), " ".join(hints) or
                      "mark exactly round(n*sparsity) entries with the smallest |w| as 0")


def magnitude_mask_fixed():
    f32 = np.float32
    w1 = np.array([0.5, -0.1, 0.3, -0.8, 0.05, 0.2])
    w2 = np.array([[0.9, -0.2, 0.05, 0.4], [-1.2, 0.3, -0.01, 0.7], [0.15, -0.6, 0.8, -0.35]], f32)
    w4 = (np.arange(24, dtype=np.float64).reshape(2, 3, 2, 2) - 11.5) / 4
    return [
        ("2x3 from the notebook, sparsity 0.5", (np.array([[0.9, -0.1, 0.4], [-0.7, 0.05, -0.3]]), 0.5)),
        ("1-D, sparsity 0.5", (w1, 0.5)),
        ("negative weights matter by magnitude", (np.array([-3.0, 1.0, 2.0, -0.5]), 0.5)),
        ("sparsity 0 keeps everything", (w1.copy(), 0.0)),
        ("sparsity 1 prunes everything", (w1.copy(), 1.0)),
        ("2-D float32, sparsity 0.75", (w2, 0.75)),
        ("4-D conv weight, sparsity 0.3", (w4, 0.3)),
        ("ties: four equal magnitudes, sparsity 0.5", (np.array([1.0, -1.0, 1.0, 1.0, 2.0, -2.0]), 0.5)),
        ("all-zero input, sparsity 0.5 (exactly 3 zeros in the mask)", (np.zeros((2, 3)), 0.5)),
        ("n=100, sparsity 0.29 (round, not int)", (np.linspace(-1, 1, 100) + 0.001, 0.29)),
    ]


# the hidden cases are the core magnitude_prune exercise's (same generator, same cases per seed)
magnitude_mask_hidden = magnitude_cases_hidden


def magnitude_mask_errors():
    hint = ("check the argument first: raise ValueError naming `sparsity` unless "
            "0 <= sparsity <= 1 (round(n*1.5) > n would silently prune everything)")
    return [("sparsity 1.5 raises ValueError", (np.ones(4), 1.5), ValueError, hint),
            ("sparsity -0.1 raises ValueError", (np.ones(4), -0.1), ValueError, hint)]


# ---------------------------------------------------------------------------- global_threshold_masks
def _layers_problem(out, layers, what="the result"):
    if out is None:
        raise Problem(f"{what} is None", "did you forget the `return` statement?")
    if not isinstance(out, dict):
        raise Problem(f"{what} is a {type(out).__name__}, expected a dict",
                      "return {layer name: mask} with the same keys as the input dict")
    if set(out) != set(layers):
        raise Problem(f"{what} has the keys {sorted(out)}, expected {sorted(layers)}",
                      "one mask per input layer, same names")
    return {n: _as_mask(out[n], w, f"the mask of {n!r}") for n, w in layers.items()}


def judge_global(args, out):
    layers, s = args
    keep = _layers_problem(out, layers)
    N = sum(w.size for w in layers.values())
    k = round(N * s)
    z = sum(int((~m).sum()) for m in keep.values())
    aw = {n: np.abs(w.astype(np.float64)) for n, w in layers.items()}
    pr = np.concatenate([aw[n][~keep[n]].ravel() for n in layers])
    kp = np.concatenate([aw[n][keep[n]].ravel() for n in layers])
    per_layer = {n: round(w.size * s) for n, w in layers.items()}
    got_layer = {n: int((~m).sum()) for n, m in keep.items()}
    problems, hints = [], []
    if z != k:
        problems.append(f"{z} weights pruned in total, expected k = round(N*sparsity) = "
                        f"round({N}*{s!r}) = {k} over all layers (N = {N})")
    if _ranking_problem(pr, kp):
        where = [n for n in layers if (~keep[n]).any() and aw[n][~keep[n]].max() > kp.min()]
        problems.append(f"pruned a weight with |w| = {pr.max():.4g} (in {where[0]!r}) while keeping "
                        f"one with |w| = {kp.min():.4g}")
    if not problems:
        return
    if got_layer == per_layer and len(layers) > 1:
        hints.append("each layer was pruned separately to the same sparsity: a GLOBAL threshold "
                     "ranks the weights of all layers together (concatenate |w| of every layer, "
                     "prune the k smallest overall), so layers get different sparsities")
    elif pr.size and kp.size and pr.max() > kp.min() and all(
            not ((~keep[n]).any() and keep[n].any()) or aw[n][~keep[n]].max() <= aw[n][keep[n]].min()
            for n in layers):
        hints.append("within each layer the smallest weights went, but the layers used different "
                     "thresholds: one threshold for all layers -- never rescale it per layer "
                     "(t = t*max|W_l| inside the layer loop compounds from layer to layer, seed S0-C2)")
    elif z > k and pr.size and kp.size and pr.max() <= kp.min():
        hints.append("ties: comparing |w| <= threshold prunes every weight equal to the threshold "
                     "(more than k when magnitudes repeat across layers); select exactly k of "
                     "the concatenated magnitudes with np.argsort")
    elif z == int(N * s):
        hints.append(f"int() truncates N*sparsity = {N * s!r}; use round()")
    raise Problem("; ".join(problems), " ".join(hints) or
                  "concatenate |w| of all layers, prune the k = round(N*sparsity) smallest")


def _rng_layers(rng, sizes, dtype=np.float64, scales=None):
    out = {}
    for i, shape in enumerate(sizes):
        sc = 1.0 if scales is None else scales[i]
        out[f"fc{i + 1}"] = (rng.standard_normal(shape) * sc).astype(dtype)
    return out


def global_fixed():
    a = {"fc1": np.array([[0.5, -0.1], [0.3, -0.8]]), "fc2": np.array([0.05, 0.2, -0.9, 0.01])}
    scales = {"big": np.array([[4.0, -3.0, 2.5], [3.5, -5.0, 6.0]], np.float32),
              "small": np.array([0.1, -0.2, 0.3, 0.05], np.float32)}
    ties = {"a": np.array([1.0, 2.0, 1.0]), "b": np.array([-1.0, 3.0, 1.0])}
    one = {"only": np.array([[0.9, -0.2, 0.05], [0.4, -1.2, 0.3]])}
    return [
        ("two layers, sparsity 0.5", (a, 0.5)),
        ("layers of different scales: the small layer goes first, sparsity 0.4", (scales, 0.4)),
        ("sparsity 0 keeps everything", ({k: v.copy() for k, v in a.items()}, 0.0)),
        ("ties across layers, sparsity 0.5", (ties, 0.5)),
        ("one layer = magnitude mask, sparsity 0.5", (one, 0.5)),
        ("three layers of very different sizes, sparsity 0.7",
         (_rng_layers(np.random.default_rng(3), [(8, 4), (4, 4), (2, 4)], np.float32, [1.0, 0.3, 2.0]), 0.7)),
    ]


def global_hidden(rng):
    cases = []
    for i in range(5):
        nl = int(rng.integers(2, 5))
        sizes = [tuple(int(x) for x in rng.integers(1, 7, size=int(rng.integers(1, 3)))) for _ in range(nl)]
        scales = [float(x) for x in rng.choice([0.1, 0.5, 1.0, 3.0], size=nl)]
        layers = _rng_layers(rng, sizes, rng.choice([np.float32, np.float64]), scales)
        if i % 2:
            layers = {n: np.round(w, 1) for n, w in layers.items()}
        s = float(rng.choice([0.1, 0.3, 0.5, 0.8, 0.9]))
        cases.append((f"random {nl} layers {sizes}, sparsity {s}", (layers, s)))
    return cases


# ---------------------------------------------------------------------------- iterative_threshold_prune
@grader_callable
class LinearStep:
    """A deterministic 'fine-tune step' for grading: one gradient step of
    ``L = ½·mean‖W_l X_l − Y_l‖²`` per layer, ``W ← W − lr·(W X − Y) Xᵀ / m``. Pure: returns a new
    dict. It pulls pruned (zero) weights back towards non-zero values, so a mask that is not
    re-applied after every step shows."""

    def __init__(self, xs: dict, ys: dict, lr: float = 0.3):
        self.xs, self.ys, self.lr = xs, ys, float(lr)

    def __call__(self, weights):
        if not isinstance(weights, dict):
            raise TypeError(f"step expects a dict of weight arrays, got {type(weights).__name__}")
        out = {}
        for n, w in weights.items():
            x, y = self.xs[n], self.ys[n]
            w = np.asarray(w, dtype=np.float64).reshape(y.shape[0], x.shape[0])
            out[n] = w - self.lr * (w @ x - y) @ x.T / x.shape[1]
        return out

    def __grader_state__(self):
        return {"xs": self.xs, "ys": self.ys, "lr": self.lr}

    def __eq__(self, other):
        return (type(other).__name__ == "LinearStep" and self.lr == other.lr and set(self.xs) == set(other.xs)
                and all(np.array_equal(self.xs[n], other.xs[n]) and np.array_equal(self.ys[n], other.ys[n])
                        for n in self.xs))

    __hash__ = None

    def __repr__(self):
        return f"step(lr={self.lr}, layers {list(self.xs)})"


def oracle_iterative(weights, q, rounds, step, steps_per_round, *, reapply=True, and_prev=True,
                     std_each_round=False, schedule=True, scale="std", apply_before=True):
    """The reference algorithm (defaults) and its classic wrong variants (keywords)."""
    ref = {n: np.asarray(w, np.float64) for n, w in weights.items()}
    cur = {n: w.copy() for n, w in ref.items()}
    masks = {n: np.ones(w.shape, bool) for n, w in ref.items()}
    for k in range(1, rounds + 1):
        qk = q * k / rounds if schedule else q
        for n in cur:
            base = cur[n] if std_each_round else ref[n]
            t = qk * (float(np.abs(base).max()) if scale == "max" else float(np.std(base)))
            new = np.abs(cur[n]) >= t
            masks[n] = masks[n] & new if and_prev else new
        if apply_before:
            cur = {n: np.where(masks[n], cur[n], 0.0) for n in cur}
        for _ in range(steps_per_round):
            cur = step(cur)
            if reapply:
                cur = {n: np.where(masks[n], cur[n], 0.0) for n in cur}
    return cur, masks


def judge_iterative(args, out):
    weights, q, rounds, step, spr = args
    if out is None:
        raise Problem("the result is None", "return (weights, masks): two dicts")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem(f"the result is {type(out).__name__}, expected a tuple (weights, masks)",
                      "return new_weights, masks")
    w_out, m_out = out
    want_w, want_m = oracle_iterative(weights, q, rounds, step, spr)
    keep = _layers_problem(m_out, weights, "masks")
    if not isinstance(w_out, dict) or set(w_out) != set(weights):
        raise Problem(f"the returned weights are {fmt(w_out)}",
                      "return the fine-tuned weights as a dict with the input's layer names")
    got_w = {}
    for n in weights:
        v = w_out[n]
        if not isinstance(v, np.ndarray) or v.shape != weights[n].shape:
            raise Problem(f"weights[{n!r}] is {fmt(v)}, expected an array of shape {weights[n].shape}",
                          "the layer keeps its shape: pruning zeroes weights, it does not delete them")
        got_w[n] = v.astype(np.float64)
    mask_ok = all(np.array_equal(keep[n], want_m[n]) for n in weights)
    w_ok = all(np.allclose(got_w[n], want_w[n], rtol=1e-7, atol=1e-9) for n in weights)
    if mask_ok and w_ok:
        return
    regrown = [n for n in weights if np.any(got_w[n][~keep[n]] != 0)]
    bad = next(n for n in weights if not (np.array_equal(keep[n], want_m[n]) and
                                          np.allclose(got_w[n], want_w[n], rtol=1e-7, atol=1e-9)))
    detail = (f"layer {bad!r}: mask has {int((~keep[bad]).sum())} zeros (expected "
              f"{int((~want_m[bad]).sum())})" + ("" if mask_ok else ", masks differ") +
              ("" if w_ok else f"; weights {fmt(got_w[bad])}, expected {fmt(want_w[bad])}"))
    variants = [
        (dict(reapply=False), "pruned weights grew back during fine-tuning: re-apply the mask "
                              "after EVERY step (w = np.where(mask, w, 0)), not once per round"),
        (dict(reapply=False, and_prev=False), "the mask is applied only once per round and not "
                                              "AND-ed with the previous one: pruned weights return"),
        (dict(and_prev=False, reapply=False, apply_before=True),
         "masks must be AND-ed with the previous round's mask"),
        (dict(std_each_round=True), "measure std(W_l) once, on the DENSE weights: recomputing it on "
                                    "the pruned weights each round changes (shrinks) the thresholds"),
        (dict(schedule=False), "round k uses q_k = q*k/rounds (the threshold grows to q*std in the "
                               "last round), not q in every round"),
        (dict(scale="max"), "the threshold is q*std(W_l), not q*max|W_l| (document 000's "
                            "relative-to-max rule, S0-C2: one outlier decides the whole layer)"),
        (dict(apply_before=False), "apply the new mask before the first fine-tuning step of the round"),
    ]
    for kw, hint in variants:
        try:
            vw, vm = oracle_iterative(weights, q, rounds, step, spr, **kw)
        except Exception:  # noqa: BLE001
            continue
        if all(np.array_equal(keep[n], vm[n]) and np.allclose(got_w[n], vw[n], rtol=1e-7, atol=1e-9)
               for n in weights):
            raise Problem(detail, hint)
    for d in (-1, 1):
        if spr + d >= 0:
            vw, vm = oracle_iterative(weights, q, rounds, step, spr + d)
            if all(np.allclose(got_w[n], vw[n], rtol=1e-7, atol=1e-9) for n in weights):
                raise Problem(detail, f"you ran {spr + d} fine-tuning steps per round instead of "
                                      f"steps_per_round = {spr}")
    if regrown:
        raise Problem(detail, f"weights at pruned positions are not zero in {regrown}: re-apply "
                              "the mask after every step")
    if not mask_ok:
        raise Problem(detail, "mask_l = previous_mask & (|W_l| >= q_k*std_l) with std_l = "
                              "np.std of the dense W_l and q_k = q*k/rounds; keep |w| == t")
    raise Problem(detail, "the masks are right but the weights are not: per round, apply the "
                          "mask, then steps_per_round times: w = step(w); re-apply the mask")


def _tiny_case(rng, sizes, m=6):
    weights, xs, ys = {}, {}, {}
    for i, (o, n_in) in enumerate(sizes):
        name = f"fc{i + 1}"
        weights[name] = np.round(rng.standard_normal((o, n_in)), 2)
        xs[name] = np.round(rng.standard_normal((n_in, m)), 2)
        ys[name] = np.round(rng.standard_normal((o, m)), 2)
    return weights, LinearStep(xs, ys, lr=0.2)


def iterative_fixed():
    w, step = _tiny_case(np.random.default_rng(11), [(3, 4), (2, 3)])
    w1, step1 = _tiny_case(np.random.default_rng(5), [(4, 4)])
    return [
        ("2 layers, q=1.0, 3 rounds, 2 steps per round", (w, 1.0, 3, step, 2)),
        ("1 layer, q=0.8, 1 round (one-shot), 3 steps", (w1, 0.8, 1, step1, 3)),
        ("q=0 prunes nothing, 2 rounds, 1 step", ({k: v.copy() for k, v in w.items()}, 0.0, 2, step, 1)),
        ("no fine-tuning: 0 steps per round", ({k: v.copy() for k, v in w.items()}, 1.2, 2, step, 0)),
        ("2 layers, q=1.5, 2 rounds, 4 steps", ({k: v.copy() for k, v in w.items()}, 1.5, 2, step, 4)),
    ]


def iterative_hidden(rng):
    cases = []
    for i in range(5):
        nl = int(rng.integers(1, 4))
        sizes = [(int(rng.integers(2, 6)), int(rng.integers(2, 6))) for _ in range(nl)]
        w, step = _tiny_case(rng, sizes)
        q = float(rng.choice([0.5, 1.0, 1.5, 2.0]))
        r = int(rng.integers(1, 5))
        spr = int(rng.integers(1, 4))
        cases.append((f"random {nl} layers {sizes}, q={q}, rounds={r}, steps={spr}", (w, q, r, step, spr)))
    return cases


# ---------------------------------------------------------------------------- mutants (for tests)
def _ref_mm(w, s):
    _check_sparsity_arg(s)
    keep = np.ones(w.size, bool)
    keep[np.argsort(np.abs(w), axis=None, kind="stable")[:round(w.size * s)]] = False
    return keep.reshape(w.shape)


def _m_delete(w, s):                       # S2-C1: np.delete instead of a mask
    k = round(w.size * s)
    t = np.sort(np.abs(w), axis=None)[k] if k < w.size else np.inf
    return np.delete(w, np.where(np.abs(w) < t)[0])


def _m_scaling(w, s):                      # S2-C2: L2 "pruning" rescales
    t = (1 - s) * np.linalg.norm(w)
    n = np.linalg.norm(w)
    return w * (t / n) if n > t else w


def _m_weights(w, s):                      # returns pruned weights instead of the mask
    return np.where(_ref_mm(w, s), w, 0)


def _m_ragged(w, s):                       # S1-C5: appends only the kept entries
    keep = _ref_mm(np.atleast_2d(w), s)
    return [[1 for v, kk in zip(r, kr) if kk] for r, kr in zip(np.atleast_2d(w), keep)]


def _m_random(w, s):                       # S3-C1: random mask
    return np.random.choice([0, 1], size=w.shape, p=[s, 1 - s])


def _m_ties(w, s):
    k = round(w.size * s)
    if k == 0:
        return np.ones(w.shape, int)
    return (np.abs(w) > np.sort(np.abs(w), axis=None)[k - 1]).astype(int)


def _m_int(w, s):
    keep = np.ones(w.size, bool)
    keep[np.argsort(np.abs(w), axis=None, kind="stable")[:int(w.size * s)]] = False
    return keep.reshape(w.shape)


def _m_signed(w, s):
    keep = np.ones(w.size, bool)
    keep[np.argsort(w, axis=None, kind="stable")[:round(w.size * s)]] = False
    return keep.reshape(w.shape)


def _m_inplace(w, s):
    keep = _ref_mm(w, s)
    w[~keep] = 0
    return keep


def _ref_global(layers, s):
    _check_sparsity_arg(s)
    flat = np.concatenate([np.abs(w).ravel().astype(np.float64) for w in layers.values()])
    keep = np.ones(flat.size, bool)
    keep[np.argsort(flat, kind="stable")[:round(flat.size * s)]] = False
    out, i = {}, 0
    for n, w in layers.items():
        out[n] = keep[i:i + w.size].reshape(w.shape)
        i += w.size
    return out


def _g_per_layer(layers, s):
    return {n: _ref_mm(w, s) for n, w in layers.items()}


def _make_g_s0c2():                        # S0-C2: threshold rescaled by each layer's max, compounding
    state = {"t": None}

    def g(layers, s):
        flat = np.sort(np.concatenate([np.abs(w).ravel() for w in layers.values()]))
        k = round(flat.size * s)
        t0 = flat[k - 1] if k else -1.0
        out = {}
        for n, w in layers.items():
            t = t0 if state["t"] is None else state["t"]
            t = t * np.max(np.abs(w))
            state["t"] = t
            out[n] = np.abs(w) > t
        return out
    return g


def _g_ties(layers, s):
    flat = np.sort(np.concatenate([np.abs(w).ravel() for w in layers.values()]))
    k = round(flat.size * s)
    t = flat[k - 1] if k else -1.0
    return {n: np.abs(w) > t for n, w in layers.items()}


def _g_inplace(layers, s):
    out = _ref_global(layers, s)
    for n in layers:
        layers[n][~out[n]] = 0
    return out


def _ref_iter(weights, q, rounds, step, steps_per_round):
    return oracle_iterative(weights, q, rounds, step, steps_per_round)


def _it(**kw):
    return lambda w, q, r, st, spr: oracle_iterative(w, q, r, st, spr, **kw)


def _it_fewer(w, q, r, st, spr):
    return oracle_iterative(w, q, r, st, max(spr - 1, 0))


def _it_np_delete(w, q, r, st, spr):       # S0-C2 / S2-C1: deletes the pruned weights
    cur, masks = oracle_iterative(w, q, r, st, spr)
    return {n: v[masks[n]] for n, v in cur.items()}, masks


def _it_inplace(w, q, r, st, spr):
    cur, masks = oracle_iterative(w, q, r, st, spr)
    for n in w:
        w[n][...] = cur[n]
    return cur, masks


#: exercise id -> [(name, factory returning a fresh function, word the hint must contain)]
MUTANTS = {
    "magnitude_mask": [
        ("S2-C1 np.delete", lambda: _m_delete, "np.delete"),
        ("S2-C2 scaling, not pruning", lambda: _m_scaling, "rescales"),
        ("S1-C5 ragged lists", lambda: _m_ragged, "S1-C5"),
        ("S3-C1 random mask", lambda: _m_random, "random"),
        ("returns weights, not mask", lambda: _m_weights, "WEIGHTS"),
        ("ties with <=", lambda: _m_ties, "ties"),
        ("int truncation", lambda: _m_int, "round()"),
        ("signed ranking", lambda: _m_signed, "signed"),
        ("mutates the input", lambda: _m_inplace, "copy"),
    ],
    "global_threshold_masks": [
        ("per layer, not global", lambda: _g_per_layer, "GLOBAL"),
        ("S0-C2 compounding threshold", _make_g_s0c2, "S0-C2"),
        ("ties with <=", lambda: _g_ties, "ties"),
        ("mutates the input", lambda: _g_inplace, "copy"),
    ],
    "iterative_threshold_prune": [
        ("mask not re-applied after each step", lambda: _it(reapply=False), "EVERY step"),
        ("std recomputed each round", lambda: _it(std_each_round=True), "DENSE"),
        ("q constant each round", lambda: _it(schedule=False), "q_k"),
        ("S0-C2 relative-to-max threshold", lambda: _it(scale="max"), "S0-C2"),
        ("one step too few", lambda: _it_fewer, "steps per round"),
        ("S0-C2/S2-C1 deletes pruned weights", lambda: _it_np_delete, "shape"),
        ("mutates the input", lambda: _it_inplace, "copy"),
    ],
}

#: reference functions (a tiny independent implementation; the notebook's answer cells hold the
#: reference solutions the learner can reveal).
REFERENCE = {"magnitude_mask": _ref_mm, "global_threshold_masks": _ref_global,
             "iterative_threshold_prune": _ref_iter}


EXERCISES = [
    Exercise("magnitude_mask",
             "0/1 keep-mask of one layer: exactly round(n*sparsity) zeros at the smallest |w|",
             "magnitude_mask(weights: np.ndarray, sparsity: float) -> np.ndarray (0/1, same shape)",
             magnitude_mask_fixed, magnitude_mask_hidden, judge_magnitude_mask,
             magnitude_mask_errors, points=5, entry="magnitude_mask", notebook=NOTEBOOK,
             library=("pruninglab.pruning.masks.magnitude_mask",),
             topic="magnitude pruning, one layer"),
    Exercise("global_threshold_masks",
             "one magnitude threshold across all layers: {layer: 0/1 mask}, round(N*s) zeros in total",
             "global_threshold_masks(layers: dict[str, np.ndarray], sparsity: float) -> dict[str, np.ndarray]",
             global_fixed, global_hidden, judge_global, points=8, entry="global_threshold_masks",
             library=("pruninglab.pruning.masks.global_magnitude_masks",),
             notebook=NOTEBOOK, topic="global magnitude threshold"),
    Exercise("iterative_threshold_prune",
             "S4-E1: iterative q*std threshold pruning, masks AND-ed, mask re-applied after every step",
             "iterative_threshold_prune(weights: dict, q: float, rounds: int, step, steps_per_round: int)"
             " -> (weights: dict, masks: dict)",
             iterative_fixed, iterative_hidden, judge_iterative, points=15,
             entry="iterative_threshold_prune", notebook=NOTEBOOK,
             library=("pruninglab.labs.fundamentals.threshold_masks", "pruninglab.pruning.finetune.iterative_prune"),
             topic="iterative prune + fine-tune with mask enforcement (design exercise S4-E1)"),
]
