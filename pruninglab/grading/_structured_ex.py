"""Exercises of notebook 02 (structured pruning): neuron removal and conv filter removal.

Expected answers come from the small numpy oracles below (not from :mod:`pruninglab.pruning`);
rankings are tie tolerant (any choice among equal scores is accepted).

:data:`MUTANTS` maps ``exercise_id -> [(name, factory)]``: the seed documents' bugs of notebook
02 (S0-C1, S3-C1, S2-C3) and classic mistakes, each of which the grader must reject with a
specific hint (``tests/test_grading_structured_ex.py``).
"""
from __future__ import annotations

import numpy as np

from . import _pruning_ex as P
from . import seed_bugs as SB
from ._common import Exercise, Problem, fmt

NOTEBOOK = "02_structured_pruning"

# ---------------------------------------------------------------------------- shrink_neurons
# Same contract as the core ``neuron_prune`` exercise (k smallest-L2 rows of W removed, with b
# and the next layer's input columns), taught and run on the reference MLP in notebook 02.


_POP_HINT = ("the removed units are not the k smallest ones, and they match deleting the chosen "
             "indices ONE BY ONE from a shrinking list: after each pop/np.delete the later indices "
             "point one position further (seed S0-C1). Build one array of kept indices and slice "
             "once: W[keep], b[keep], W_next[:, keep]")


def shrink_cases_fixed():
    W = np.array([[0.1, 0.0], [3.0, 4.0], [0.0, 0.2], [4.0, 0.0], [0.0, -3.0]])   # L2 0.1, 5, 0.2, 4, 3
    return P.neuron_cases_fixed() + [
        ("remove neurons 0 and 2 (deleting one by one shifts the indices)",
         (W, np.arange(5.0), np.arange(15.0).reshape(3, 5), 2)),
    ]


def judge_shrink_neurons(args, out):
    try:
        P.judge_neuron(args, out)
    except Problem as p:
        if p.detail.startswith("removed neuron"):
            try:
                sim = _neuron_pop_shrinking(*args)
                if all(np.array_equal(a, b) for a, b in zip(sim, out)):
                    raise Problem(p.detail, _POP_HINT) from None
            except Problem:
                raise
            except Exception:  # noqa: BLE001
                pass
        raise


# ---------------------------------------------------------------------------- conv filters

_CONV_NAMES = ("conv_w2", "gamma2", "beta2", "mean2", "var2", "next_w2")


def _l1(conv_w):
    return np.abs(conv_w.astype(np.float64)).reshape(conv_w.shape[0], -1).sum(1)


def judge_conv(args, out):
    conv_w, gamma, beta, mean, var, next_w, k = args
    o = conv_w.shape[0]
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 6:
        raise Problem(f"the result is {type(out).__name__}"
                      + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
                      + ", expected a tuple of 6 arrays",
                      "return conv_w2, gamma2, beta2, mean2, var2, next_w2")
    for name, v in zip(_CONV_NAMES, out):
        if not isinstance(v, np.ndarray):
            raise Problem(f"{name} is a {type(v).__name__}, expected a numpy.ndarray",
                          "return numpy arrays (numpy in -> numpy out)")
    cw2, g2, b2, m2, v2, nw2 = out
    want_c = (o - k,) + conv_w.shape[1:]
    want_n = (next_w.shape[0], o - k) + next_w.shape[2:]
    if cw2.shape != want_c:
        if cw2.shape == conv_w.shape and k > 0:
            hint = ("the conv weight kept its shape: zeroing filters (a mask) removes nothing, "
                    "so MACs and bytes do not change; remove the filters: conv_w[keep]")
        elif cw2.shape == (o, conv_w.shape[1] - k) + conv_w.shape[2:]:
            hint = ("you removed INPUT channels (axis 1) of this conv; a filter is an OUTPUT "
                    "channel: axis 0 of the (out, in, kh, kw) weight")
        else:
            hint = f"conv_w2 must be (out-k, in, kh, kw) = {want_c}"
        raise Problem(f"conv_w2 has shape {cw2.shape}, expected {want_c}", hint)
    bn = (("gamma2", g2, gamma), ("beta2", b2, beta), ("mean2", m2, mean), ("var2", v2, var))
    for name, v, ref in bn:
        if v.shape != (o - k,):
            if v.shape == ref.shape and k > 0:
                which = ("the running statistics (running_mean / running_var)"
                         if name in ("mean2", "var2") else "BatchNorm's weight/bias (gamma, beta)")
                hint = (f"{which} were not sliced: BatchNorm has one entry per channel, so it must "
                        "lose the same channels as the conv (bn.x[keep] for weight, bias, "
                        "running_mean AND running_var); in eval mode a removed channel's "
                        "leftover entries would even shift the remaining ones")
            else:
                hint = "every BatchNorm array has one entry per kept filter: shape (out-k,)"
            raise Problem(f"{name} has shape {v.shape}, expected {(o - k,)}", hint)
    if nw2.shape != want_n:
        if nw2.shape == next_w.shape and k > 0:
            hint = ("the next conv was not shrunk: it still expects the removed channels as "
                    "inputs (its axis 1); slice next_w[:, keep]")
        elif nw2.shape == (next_w.shape[0] - k,) + next_w.shape[1:]:
            hint = ("you removed OUTPUT filters (axis 0) of the next conv; the removed channels "
                    "are its INPUTS: next_w[:, keep]")
        else:
            hint = f"next_w2 must be (out_next, out-k, kh, kw) = {want_n}"
        raise Problem(f"next_w2 has shape {nw2.shape}, expected {want_n}", hint)
    for name, v, ref in (("conv_w2", cw2, conv_w), ("next_w2", nw2, next_w)) + bn:
        if v.dtype != ref.dtype:
            raise Problem(f"{name} has dtype {v.dtype}, expected {ref.dtype}", "keep the dtypes")
    used, kept = set(), []
    for j in range(o - k):
        cands = [i for i in range(o) if i not in used and np.array_equal(conv_w[i], cw2[j])]
        if not cands:
            raise Problem(f"filter {j} of conv_w2 is not a filter of conv_w",
                          "kept filters must be copied unchanged (no rescaling)")
        full = [i for i in cands
                if all(ref[i] == v[j] for _, v, ref in bn) and np.array_equal(next_w[:, i], nw2[:, j])]
        if not full:
            i = cands[0]
            for name, v, ref in bn:
                if ref[i] != v[j]:
                    raise Problem(f"filter {j} of conv_w2 is filter {i} of conv_w but {name}[{j}] = "
                                  f"{v[j]:.4g} is not entry {i} ({ref[i]:.4g})",
                                  "slice every BatchNorm array with the SAME keep indices as the "
                                  "conv weight, in the same order")
            raise Problem(f"filter {j} of conv_w2 is filter {i} of conv_w but input channel {j} of "
                          f"next_w2 is not input channel {i} of next_w",
                          "the next conv must keep the input channels of the SAME filters: "
                          "next_w[:, keep] with the keep indices used for conv_w")
        used.add(full[0])
        kept.append(full[0])
    norms = _l1(conv_w)
    removed = [i for i in range(o) if i not in used]
    if removed and kept and norms[removed].max() > norms[kept].min() * (1 + 1e-9):
        r = max(removed, key=lambda i: norms[i])
        q = min(kept, key=lambda i: norms[i])
        l2 = np.sqrt((conv_w.astype(np.float64).reshape(o, -1) ** 2).sum(1))
        hint = ("remove the k filters with the smallest L1 norm sum(|w|) over (in, kh, kw) "
                "(Li et al. 2017)")
        if set(np.argsort(l2, kind="stable")[k:]) == set(kept):
            hint = ("you ranked filters by the L2 norm; this exercise uses the L1 norm of Li et al. "
                    "(2017), sum of |w| over (in, kh, kw), which ranks these filters differently")
        elif set(np.argsort(norms, kind="stable")[:o - k]) == set(kept):
            hint = "inverted: you removed the LARGEST filters and kept the smallest"
        elif set(np.argsort(np.abs(gamma.astype(np.float64)), kind="stable")[k:]) == set(kept):
            hint = ("you ranked by BatchNorm's |gamma| (a valid criterion, Liu et al. 2017, but not "
                    "this one): rank by the L1 norm of each conv filter")
        try:
            if all(np.array_equal(a, b) for a, b in zip(_conv_pop_shrinking(*args), out)):
                hint = _POP_HINT.replace("W[keep], b[keep], W_next[:, keep]",
                                         "conv_w[keep], gamma[keep], ..., next_w[:, keep]")
        except Exception:  # noqa: BLE001
            pass
        raise Problem(f"removed filter {r} (L1 norm {norms[r]:.4g}) but kept filter {q} "
                      f"(L1 norm {norms[q]:.4g})", hint)


def _conv_case(rng, o, i, on, kh, dt, k):
    conv_w = rng.standard_normal((o, i, kh, kh)).astype(dt)
    gamma = rng.uniform(0.5, 1.5, o).astype(dt)
    beta = rng.uniform(-0.5, 0.5, o).astype(dt)
    mean = rng.uniform(-1, 1, o).astype(dt)
    var = rng.uniform(0.5, 2, o).astype(dt)
    next_w = rng.standard_normal((on, o, kh, kh)).astype(dt)
    return (conv_w, gamma, beta, mean, var, next_w, k)


def conv_cases_fixed():
    # 4 filters (out, in=2, 1x1): L1 norms 3, 0.3, 2, 1.2; L2 norms 2.24, 0.21, 2, 0.85
    conv_w = np.array([[1.0, 2.0], [0.2, -0.1], [0.0, -2.0], [0.6, 0.6]]).reshape(4, 2, 1, 1)
    gamma = np.array([1.0, 1.1, 1.2, 1.3])
    beta = np.array([0.1, 0.2, 0.3, 0.4])
    mean = np.array([-0.5, 0.0, 0.5, 1.0])
    var = np.array([1.0, 2.0, 3.0, 4.0])
    next_w = np.arange(24, dtype=np.float64).reshape(3, 4, 2, 1) / 10
    # L1 and L2 rank differently: filters (3, 0, 0) and (1.6, 1.6, 1.6)
    cw2 = np.array([[3.0, 0.0, 0.0], [1.6, 1.6, 1.6], [0.5, 0.5, 0.5]]).reshape(3, 3, 1, 1)
    rng = np.random.default_rng(7)
    f32 = _conv_case(rng, 6, 3, 4, 3, np.float32, 3)
    return [
        ("4 filters 1x1, remove 2 (L1 norms 3, 0.3, 2, 1.2)", (conv_w, gamma, beta, mean, var, next_w, 2)),
        ("k = 0 keeps everything", (conv_w.copy(), gamma.copy(), beta.copy(), mean.copy(),
                                    var.copy(), next_w.copy(), 0)),
        ("L1 vs L2: filters (3,0,0) and (1.6,1.6,1.6), remove 1",
         (cw2, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), np.ones((2, 3, 1, 1)), 1)),
        ("float32 3x3 filters, 6 -> 3, next conv (4, 6, 3, 3)", f32),
        ("remove filters 0 and 2 of 5 (deleting one by one shifts the indices)",
         (np.array([0.1, 5.0, 0.2, 4.0, 3.0]).reshape(5, 1, 1, 1), np.ones(5), np.arange(5.0),
          np.zeros(5), np.ones(5), np.arange(10.0).reshape(2, 5, 1, 1), 2)),
    ]


def conv_cases_hidden(rng):
    cases = []
    for _ in range(5):
        o, i, on = (int(x) for x in rng.integers(2, 8, size=3))
        kh = int(rng.choice([1, 3]))
        dt = rng.choice([np.float32, np.float64])
        k = int(rng.integers(0, o))
        c = _conv_case(rng, o, i, on, kh, dt, k)
        cases.append((f"random conv {c[0].shape}, next {c[5].shape}, {c[0].dtype}, k={k}", c))
    return cases


# ---------------------------------------------------------------------------- mutants

def _keep_l2(W, k):
    return np.sort(np.argsort(np.linalg.norm(W, axis=1), kind="stable")[k:])


def _neuron_pop_shrinking(W, b, W_next, k):
    """S0-C1's pattern: indices chosen on the original list, popped from a shrinking list."""
    drop = np.argsort(np.linalg.norm(W, axis=1), kind="stable")[:k]
    rows, bias, cols = list(W), list(b), list(W_next.T)
    for i in drop:                      # seed S0-C1: every pop shifts the later indices
        if i < len(rows):
            rows.pop(i); bias.pop(i); cols.pop(i)
        else:
            rows.pop(); bias.pop(); cols.pop()
    return np.array(rows, W.dtype).reshape(-1, W.shape[1]), np.array(bias, b.dtype), \
        np.array(cols, W_next.dtype).reshape(-1, W_next.shape[0]).T.copy()


def _neuron_inverted_random(W, b, W_next, k):
    """S2-C3: ``rand < rate`` used as the KEEP mask, element-wise (inverted ratio, random)."""
    rate = k / W.shape[0]
    keep = np.random.uniform(0, 1, size=W.shape) < rate
    return (W * keep).astype(W.dtype), b * (np.random.uniform(0, 1, size=b.shape) < rate), W_next


def _neuron_l1(W, b, W_next, k):
    keep = np.sort(np.argsort(np.abs(W).sum(1), kind="stable")[k:])
    return W[keep], b[keep], W_next[:, keep]


def _neuron_rows_of_next(W, b, W_next, k):
    keep = _keep_l2(W, k)
    return W[keep], b[keep], W_next[keep[keep < W_next.shape[0]]]


def _neuron_mask(W, b, W_next, k):
    keep = _keep_l2(W, k)
    m = np.zeros(W.shape[0], bool); m[keep] = True
    return np.where(m[:, None], W, 0).astype(W.dtype), np.where(m, b, 0).astype(b.dtype), W_next


def _neuron_next_untouched(W, b, W_next, k):
    keep = _keep_l2(W, k)
    return W[keep], b[keep], W_next


def _keep_l1c(conv_w, k):
    return np.sort(np.argsort(_l1(conv_w), kind="stable")[k:])


def _conv_ok(conv_w, gamma, beta, mean, var, next_w, k, keep=None):
    keep = _keep_l1c(conv_w, k) if keep is None else keep
    return (conv_w[keep], gamma[keep], beta[keep], mean[keep], var[keep], next_w[:, keep])


def _conv_bn_untouched(conv_w, gamma, beta, mean, var, next_w, k):
    keep = _keep_l1c(conv_w, k)
    return conv_w[keep], gamma, beta, mean, var, next_w[:, keep]


def _conv_stats_untouched(conv_w, gamma, beta, mean, var, next_w, k):
    keep = _keep_l1c(conv_w, k)
    return conv_w[keep], gamma[keep], beta[keep], mean, var, next_w[:, keep]


def _conv_next_axis0(conv_w, gamma, beta, mean, var, next_w, k):
    keep = _keep_l1c(conv_w, k)
    return conv_w[keep], gamma[keep], beta[keep], mean[keep], var[keep], next_w[keep[keep < next_w.shape[0]]]


def _conv_l2(conv_w, gamma, beta, mean, var, next_w, k):
    l2 = np.sqrt((conv_w.astype(np.float64).reshape(conv_w.shape[0], -1) ** 2).sum(1))
    return _conv_ok(conv_w, gamma, beta, mean, var, next_w, k,
                    np.sort(np.argsort(l2, kind="stable")[k:]))


def _conv_zero_mask(conv_w, gamma, beta, mean, var, next_w, k):
    keep = _keep_l1c(conv_w, k)
    m = np.zeros(conv_w.shape[0], bool); m[keep] = True
    return (np.where(m[:, None, None, None], conv_w, 0).astype(conv_w.dtype), gamma * m, beta * m,
            mean, var, next_w)


def _conv_random_weights(conv_w, gamma, beta, mean, var, next_w, k):
    """S3-C1 applied to a conv: a random per-weight mask (nothing removed)."""
    rate = k / conv_w.shape[0]
    mask = np.random.choice([0, 1], size=conv_w.shape, p=[rate, 1 - rate])
    return (conv_w * mask).astype(conv_w.dtype), gamma, beta, mean, var, next_w


def _conv_pop_shrinking(conv_w, gamma, beta, mean, var, next_w, k):
    """S0-C1's pattern on filters: indices of the original list popped from a shrinking list."""
    drop = np.argsort(_l1(conv_w), kind="stable")[:k]
    lists = [list(conv_w), list(gamma), list(beta), list(mean), list(var), list(np.moveaxis(next_w, 1, 0))]
    for i in drop:                      # seed S0-C1: the indices shift after each pop
        for lst in lists:
            lst.pop(i if i < len(lst) else -1)
    cw = np.array(lists[0], conv_w.dtype).reshape((-1,) + conv_w.shape[1:])
    nw = np.moveaxis(np.array(lists[5], next_w.dtype).reshape((-1, next_w.shape[0]) + next_w.shape[2:]), 0, 1)
    return (cw,) + tuple(np.array(lst, a.dtype) for lst, a in zip(lists[1:5], (gamma, beta, mean, var))) + (nw.copy(),)


MUTANTS = {
    "shrink_neurons": [
        ("S0-C1: indices popped from a shrinking list", lambda: _neuron_pop_shrinking),
        ("S3-C1: random per-weight mask", lambda: SB.s3_c1_structure_pruning_neurons),
        ("S2-C3: inverted random keep mask", lambda: _neuron_inverted_random),
        ("S0-C1: random choice, next layer untouched",
         lambda: SB.s0_c1_simple_pruning),
        ("L1 instead of L2", lambda: _neuron_l1),
        ("rows of W_next removed", lambda: _neuron_rows_of_next),
        ("zero mask instead of removal", lambda: _neuron_mask),
        ("next layer untouched", lambda: _neuron_next_untouched),
    ],
    "prune_conv_filters": [
        ("BatchNorm not sliced", lambda: _conv_bn_untouched),
        ("running statistics not sliced", lambda: _conv_stats_untouched),
        ("next conv sliced on axis 0", lambda: _conv_next_axis0),
        ("L2 instead of L1", lambda: _conv_l2),
        ("zero mask instead of removal", lambda: _conv_zero_mask),
        ("S3-C1: random per-weight mask", lambda: _conv_random_weights),
        ("S0-C1: indices popped from a shrinking list", lambda: _conv_pop_shrinking),
    ],
}

EXERCISES = [
    Exercise("shrink_neurons",
             "remove the k smallest-L2 neurons: rows of W, entries of b, the next layer's columns",
             "f(W, b, W_next, k) -> (W2, b2, W_next2)",
             shrink_cases_fixed, P.neuron_cases_hidden, judge_shrink_neurons,
             points=10, entry="shrink_neurons", notebook=NOTEBOOK, topic="neuron pruning (Linear)",
             library=("pruninglab.pruning.structured.prune_neurons_numpy", "pruninglab.pruning.structured.shrink_model")),
    Exercise("prune_conv_filters",
             "remove the k smallest-L1 conv filters, their BatchNorm entries and next conv inputs",
             "f(conv_w, gamma, beta, mean, var, next_w, k) -> (conv_w2, gamma2, beta2, mean2, "
             "var2, next_w2)",
             conv_cases_fixed, conv_cases_hidden, judge_conv,
             points=15, entry="prune_conv_filters", notebook=NOTEBOOK,
             topic="filter pruning with BatchNorm (Conv2d)",
             library=("pruninglab.pruning.structured.shrink_model",)),
]

__all__ = ["EXERCISES", "MUTANTS", "judge_conv", "fmt"]
