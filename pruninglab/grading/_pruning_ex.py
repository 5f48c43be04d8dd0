"""Judges and test cases for the pruning exercises.

Expected values come from small, independent numpy oracles written here (not from
:mod:`pruninglab.pruning`), and every oracle is *tie tolerant*: when several weights share the
smallest magnitude, any choice among them is accepted.
"""
from __future__ import annotations

import numpy as np

from ._common import Problem, array_problem, fmt

# ---------------------------------------------------------------------------- helpers

def _changed_values(w, out):
    """Entries that are neither the original value nor zero."""
    return (out != w) & (out != 0)


def _scaling_hint(w, out):
    nz = (w != 0)
    if nz.any() and not ((out == 0) & nz).any():
        ratio = out[nz] / w[nz]
        if np.allclose(ratio, ratio.flat[0]):
            return (f"every weight was multiplied by the same factor {float(ratio.flat[0]):.4g} and "
                    "none was set to zero: this rescales the tensor (like clipping its L2 norm), it "
                    "does not prune. Pruning keeps surviving weights unchanged and sets the others "
                    "to exactly 0.")
    return ("pruning only ever sets entries to 0; surviving weights must keep their exact "
            "original values")


def _zero_k(w, k, score):
    """w with the k entries of lowest ``score`` set to zero (stable order)."""
    out = w.copy()
    out.flat[np.argsort(score, axis=None, kind="stable")[:k]] = 0
    return out


def _k_for(n, sparsity):
    return round(n * sparsity)


# ---------------------------------------------------------------------------- magnitude_prune

def judge_magnitude(args, out):
    w, s = args
    array_problem(out, w)
    changed = _changed_values(w, out)
    if changed.any():
        i = np.flatnonzero(changed.ravel())[0]
        raise Problem(f"entry {i} was {w.ravel()[i]:.4g} and came back as {out.ravel()[i]:.4g}",
                      _scaling_hint(w, out))
    n, k = w.size, _k_for(w.size, s)
    z_in = int((w == 0).sum())
    want = max(k, z_in)
    z_out = int((out == 0).sum())
    aw = np.abs(w)
    zeroed, kept = out == 0, out != 0
    problems, hints = [], []
    if z_out != want:
        problems.append(f"{z_out} entries are zero, expected exactly {want} "
                        f"(round(n*sparsity) = round({n}*{s!r}) = {k}"
                        + (f"; the input already had {z_in} zeros" if z_in else "") + ")")
        if z_out == max(int(n * s), z_in) and int(n * s) != k:
            hints.append(f"int() truncates n*sparsity = {n * s!r} to {int(n * s)}; use round()")
        elif z_out == max(_k_for(n, 1 - s), z_in) and s != 0.5:
            hints.append("you zeroed the fraction 1-sparsity: the mask is inverted "
                         "(sparsity is the fraction of weights set to zero)")
        elif z_out > want and kept.any() and zeroed.any() and \
                aw[zeroed].max() <= aw[kept].min() and (aw[zeroed] == aw[zeroed].max()).sum() > 1:
            hints.append("ties: comparing |w| <= (k-th smallest |w|) zeroes every weight equal to "
                         "the threshold, which is more than k when magnitudes repeat; select "
                         "exactly k indices (np.argsort / np.argpartition on |w|)")
    if zeroed.any() and kept.any() and aw[zeroed].max() > aw[kept].min():
        big = float(w[zeroed][np.argmax(aw[zeroed])])
        small = float(w[kept][np.argmin(aw[kept])])
        problems.append(f"zeroed a weight with |w| = {abs(big):.4g} while keeping one with "
                        f"|w| = {abs(small):.4g}")
        signed = _zero_k(w, k, w.astype(np.float64))
        inverted = _zero_k(w, k, -aw.astype(np.float64))
        if (w < 0).any() and np.array_equal(out, signed):
            hints.append("you ranked by the signed value: a large negative weight is important; "
                         "rank by magnitude np.abs(w)")
        elif np.array_equal(out, inverted):
            hints.append("you zeroed the LARGEST magnitudes: the comparison is inverted")
        else:
            hints.append("the zeroed weights are not the smallest |w| (a random mask? "
                         "importance must be the magnitude |w|; Han et al. 2015)")
    if problems:
        raise Problem("; ".join(problems),
                      " ".join(hints) or "zero exactly round(n*sparsity) entries, those with the "
                                         "smallest |w|; keep the others unchanged")


def probe_random_mask(fn, time_limit):
    """For a non-deterministic magnitude_prune: measure which fraction it zeroes when asked
    for sparsity 0.2 on 2000 distinct weights (distinguishes an inverted random mask)."""
    from ._sandbox import call
    w = np.linspace(1.0, 2.0, 2000)
    res = call(fn, (w, 0.2), time_limit=time_limit)
    if not res.ok or not isinstance(res.value, np.ndarray) or res.value.size != w.size:
        return ""
    frac = float((res.value == 0).mean())
    msg = f"\nprobe: asked for sparsity 0.2 on 2000 distinct weights, it zeroed {frac:.1%}"
    if abs(frac - 0.8) < 0.05:
        msg += (" -- an INVERTED random mask: (rand < rate) marks the entries to KEEP, so it "
                "keeps ~20% and prunes ~80% (seed S2-C3)")
    elif abs(frac - 0.2) < 0.05 and frac != 0.2:
        msg += (" -- about the right fraction but chosen at random, not by magnitude "
                "(np.random.choice([0, 1], p=[rate, 1-rate]), seed S3-C1)")
    return msg


def magnitude_cases_fixed():
    f64, f32 = np.float64, np.float32
    w1 = np.array([0.5, -0.1, 0.3, -0.8, 0.05, 0.2])
    neg = np.array([-3.0, 1.0, 2.0, -0.5])
    w2 = np.array([[0.9, -0.2, 0.05, 0.4], [-1.2, 0.3, -0.01, 0.7], [0.15, -0.6, 0.8, -0.35]], f32)
    w4 = (np.arange(2 * 3 * 2 * 2, dtype=f64).reshape(2, 3, 2, 2) - 11.5) / 4
    ties = np.array([1.0, 1.0, 1.0, 1.0, 2.0, -2.0])
    trunc = np.linspace(-1, 1, 100) + 0.001  # n*s = 28.999999999999996 for s = 0.29
    return [
        ("1-D, sparsity 0.5", (w1, 0.5)),
        ("negative weights matter by magnitude", (neg, 0.5)),
        ("sparsity 0 leaves the input unchanged", (w1.copy(), 0.0)),
        ("2-D float32, sparsity 0.75 (dtype kept)", (w2, 0.75)),
        ("4-D conv weight, sparsity 0.3", (w4, 0.3)),
        ("ties: four equal magnitudes, sparsity 0.5", (ties, 0.5)),
        ("all-zero input", (np.zeros((3, 4)), 0.5)),
        ("n=100, sparsity 0.29 (round, not int)", (trunc, 0.29)),
    ]


def magnitude_cases_hidden(rng):
    cases = []
    for i in range(5):
        shape = [(int(rng.integers(5, 60)),), (int(rng.integers(2, 9)), int(rng.integers(2, 9))),
                 tuple(int(x) for x in rng.integers(1, 4, size=4))][i % 3]
        w = rng.standard_normal(shape)
        if i % 2:
            w = np.round(w, 1)  # many ties and some exact zeros
        w = w.astype(rng.choice([np.float32, np.float64]))
        s = float(rng.choice([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 0.95]))
        cases.append((f"random {w.ndim}-D {w.dtype} shape {w.shape}, sparsity {s}", (w, s)))
    return cases


# ---------------------------------------------------------------------------- threshold_prune

def judge_threshold(args, out):
    w, t = args
    array_problem(out, w)
    expected = np.where(np.abs(w) >= t, w, 0).astype(w.dtype)
    if np.array_equal(out, expected):
        return
    changed = _changed_values(w, out)
    if changed.any():
        i = np.flatnonzero(changed.ravel())[0]
        raise Problem(f"entry {i} was {w.ravel()[i]:.4g} and came back as {out.ravel()[i]:.4g}",
                      _scaling_hint(w, out))
    aw = np.abs(w)
    wrongly_zeroed = (out == 0) & (aw >= t) & (w != 0)
    wrongly_kept = (out != 0) & (aw < t)
    parts, hints = [], []
    if wrongly_zeroed.any():
        vals = w[wrongly_zeroed]
        parts.append(f"{int(wrongly_zeroed.sum())} entries with |w| >= threshold {t!r} were zeroed, "
                     f"e.g. {float(vals.flat[0]):.4g}")
        rel = t * aw.max()
        if np.array_equal(out, np.where(aw > rel, w, 0).astype(w.dtype)) and aw.max() != 1:
            hints.append(f"you used the threshold as a fraction of max|w| (t*max|W| = {rel:.4g}); "
                         "the threshold is absolute. (Seed S0-C2 also rescales its threshold "
                         "variable inside the layer loop, so it compounds layer after layer.)")
        elif np.all(aw[wrongly_zeroed] == t):
            hints.append("entries with |w| exactly equal to the threshold must be kept: the "
                         "contract zeroes only |w| < threshold (use >= to keep)")
        elif (vals < 0).all():
            hints.append("negative weights were zeroed although their magnitude is large: "
                         "compare np.abs(w) with the threshold, not w")
        else:
            zeroed, kept = (out == 0) & (w != 0), out != 0
            lo = aw[zeroed].max()
            if not kept.any() or lo < aw[kept].min():
                hints.append(f"your function behaves like a threshold of about {lo:.4g} instead of "
                             f"{t!r}: the threshold is absolute. A relative threshold t*max|W|, or "
                             "a threshold variable rescaled in place (seed S0-C2: it compounds "
                             "from layer to layer) changes it")
    if wrongly_kept.any():
        vals = w[wrongly_kept]
        parts.append(f"{int(wrongly_kept.sum())} entries with |w| < threshold were kept, "
                     f"e.g. {float(vals.flat[0]):.4g}")
        if (out[aw >= t] == 0).all() and (aw >= t).any():
            hints.append("the mask is inverted: you kept the small weights and zeroed the large")
        elif (vals < 0).all():
            hints.append("small negative weights survive if you compare w < threshold; use |w|")
    raise Problem("; ".join(parts) + f" (expected {fmt(expected)})",
                  " ".join(hints) or "zero exactly the entries with |w| < threshold")


def threshold_cases_fixed():
    w1 = np.array([0.5, -0.1, 0.3, -0.8, 0.05, 0.2])
    w2 = np.array([[2.0, -0.4, 0.1, 4.0], [-3.0, 0.6, -0.2, 1.0]], np.float32)
    w4 = ((np.arange(24).reshape(2, 3, 2, 2) % 7) - 3) / 2.0
    return [
        ("1-D, threshold 0.25", (w1, 0.25)),
        ("2-D float32 with max|w| = 4, threshold 0.5 (absolute, not relative)", (w2, 0.5)),
        ("|w| equal to the threshold is kept", (np.array([0.5, -0.5, 0.4, 1.0]), 0.5)),
        ("threshold 0 changes nothing", (w1.copy(), 0.0)),
        ("threshold above every |w|", (w1.copy(), 10.0)),
        ("4-D conv weight, threshold 1.0", (w4, 1.0)),
        ("all-zero input", (np.zeros((2, 3)), 0.1)),
    ]


def threshold_cases_hidden(rng):
    cases = []
    for i in range(5):
        shape = [(int(rng.integers(5, 50)),), (int(rng.integers(2, 8)), int(rng.integers(2, 8))),
                 tuple(int(x) for x in rng.integers(1, 4, size=4))][i % 3]
        w = (rng.standard_normal(shape) * float(rng.choice([0.1, 1.0, 3.0]))).astype(
            rng.choice([np.float32, np.float64]))
        t = float(np.round(rng.uniform(0, 1.5 * np.abs(w).max()), 3))
        cases.append((f"random {w.ndim}-D {w.dtype} shape {w.shape}, threshold {t}", (w, t)))
    return cases


# ---------------------------------------------------------------------------- neuron_prune

def _relu(x):
    return np.maximum(x, 0)


def judge_neuron(args, out):
    W, b, Wn, k = args
    o = W.shape[0]
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Problem(f"the result is {type(out).__name__}, expected a tuple (W2, b2, W_next2)",
                      "return all three pruned arrays: return W2, b2, W_next2")
    W2, b2, Wn2 = out
    for name, v in (("W2", W2), ("b2", b2), ("W_next2", Wn2)):
        if not isinstance(v, np.ndarray):
            raise Problem(f"{name} is a {type(v).__name__}, expected a numpy.ndarray",
                          "return numpy arrays")
    want = ((o - k, W.shape[1]), (o - k,), (Wn.shape[0], o - k))
    got = (W2.shape, b2.shape, Wn2.shape)
    if got != want:
        if got == (W.shape, b.shape, Wn.shape) and k > 0:
            hint = ("nothing shrank: zeroing (masking) neurons keeps the dense shapes, so memory "
                    "and MACs do not change. Remove the rows of W and b and the matching "
                    "COLUMNS of W_next physically (structured pruning, Li et al. 2017)")
        elif W2.shape == want[0] and Wn2.shape == (Wn.shape[0] - k, o):
            hint = ("you removed ROWS of W_next; its columns index this layer's outputs, so "
                    "remove columns: W_next[:, keep]")
        elif W2.shape == want[0] and Wn2.shape == Wn.shape:
            hint = ("W_next was not shrunk: the next layer must lose the inputs that the removed "
                    "neurons fed (W_next[:, keep]), otherwise the shapes no longer chain")
        elif W2.shape == (o, W.shape[1] - k):
            hint = ("you removed COLUMNS of W (inputs); a neuron is a ROW of W (out, in): "
                    "compute the norm of each row (axis=1) and keep rows")
        else:
            hint = (f"W2 must be (out-k, in) = {want[0]}, b2 (out-k,) = {want[1]}, W_next2 "
                    f"(out_next, out-k) = {want[2]}")
        raise Problem(f"shapes W2 {got[0]}, b2 {got[1]}, W_next2 {got[2]}; expected "
                      f"{want[0]}, {want[1]}, {want[2]}", hint)
    for name, v, ref in (("W2", W2, W), ("b2", b2, b), ("W_next2", Wn2, Wn)):
        if v.dtype != ref.dtype:
            raise Problem(f"{name} has dtype {v.dtype}, expected {ref.dtype}", "keep the dtypes")
    # match each kept neuron to an original one (row of W, bias, column of W_next together)
    used, kept = set(), []
    for j in range(o - k):
        cands = [i for i in range(o) if i not in used and np.array_equal(W[i], W2[j])]
        if not cands:
            raise Problem(f"row {j} of W2 ({fmt(W2[j])}) is not a row of W",
                          "kept rows must be copied unchanged (no rescaling, no re-training)")
        full = [i for i in cands if b[i] == b2[j] and np.array_equal(Wn[:, i], Wn2[:, j])]
        if not full:
            if not any(b[i] == b2[j] for i in cands):
                raise Problem(f"row {j} of W2 is neuron {cands[0]} of W but b2[{j}] = {b2[j]:.4g} "
                              f"is not its bias {b[cands[0]]:.4g}",
                              "remove the same entries from b as rows from W (b[keep])")
            raise Problem(f"row {j} of W2 is neuron {cands[0]} of W but column {j} of W_next2 is "
                          f"not column {cands[0]} of W_next",
                          "the next layer must keep the columns of the SAME neurons, in the same "
                          "order: W_next[:, keep] with the keep indices used for W and b")
        used.add(full[0])
        kept.append(full[0])
    norms = np.linalg.norm(W.astype(np.float64), axis=1)
    removed = [i for i in range(o) if i not in used]
    if removed and kept and norms[removed].max() > norms[kept].min() * (1 + 1e-9):
        r = max(removed, key=lambda i: norms[i])
        q = min(kept, key=lambda i: norms[i])
        hint = "remove the k rows with the smallest L2 norm np.linalg.norm(W, axis=1)"
        l1 = np.abs(W).sum(axis=1)
        if set(np.argsort(l1, kind="stable")[k:]) == set(kept):
            hint = ("you ranked neurons by the L1 norm (sum of |w|); this exercise asks for the "
                    "L2 norm sqrt(sum w^2), which ranks these rows differently")
        elif set(np.argsort(W.sum(axis=1), kind="stable")[k:]) == set(kept):
            hint = "you ranked by the signed sum of the row; use the L2 norm of the row"
        elif set(np.argsort(norms, kind="stable")[:o - k]) == set(kept):
            hint = "inverted: you removed the LARGEST rows and kept the smallest"
        raise Problem(f"removed neuron {r} (L2 norm {norms[r]:.4g}) but kept neuron {q} "
                      f"(L2 norm {norms[q]:.4g})", hint)
    x = np.linspace(-1, 1, W.shape[1])
    y_ref = Wn[:, kept] @ _relu(W[kept] @ x + b[kept])
    y = Wn2 @ _relu(W2 @ x + b2)
    if not np.allclose(y, y_ref):
        raise Problem("the pruned network computes a different function on the kept neurons",
                      "keep W, b and W_next columns consistent")


def neuron_cases_fixed():
    W = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 0.0], [0.1, 0.2, 0.1], [-3.0, 1.0, 0.0]])
    b = np.array([0.1, -0.2, 0.3, 0.4])
    Wn = np.arange(10, dtype=np.float64).reshape(2, 5)[:, :4] - 3.5
    W32 = (np.arange(30, dtype=np.float32).reshape(6, 5) % 7 - 3) / 3
    b32 = np.linspace(-1, 1, 6).astype(np.float32)
    Wn32 = (np.arange(18, dtype=np.float32).reshape(3, 6) - 9) / 5
    return [
        ("4 neurons, remove 2 (L2 and L1 rankings differ)", (W, b, Wn, 2)),
        ("k = 0 keeps everything", (W.copy(), b.copy(), Wn.copy(), 0)),
        ("float32, 6 neurons -> 2, W_next (3, 6)", (W32, b32, Wn32, 4)),
        ("remove one negative-heavy neuron", (-W, b, Wn, 1)),
    ]


def neuron_cases_hidden(rng):
    cases = []
    for _ in range(5):
        o, i, on = (int(x) for x in rng.integers(2, 9, size=3))
        dt = rng.choice([np.float32, np.float64])
        W = rng.standard_normal((o, i)).astype(dt)
        b = rng.standard_normal(o).astype(dt)
        Wn = rng.standard_normal((on, o)).astype(dt)
        k = int(rng.integers(0, o))
        cases.append((f"random W {W.shape}, W_next {Wn.shape}, {W.dtype}, k={k}", (W, b, Wn, k)))
    return cases


# ---------------------------------------------------------------------------- n_m_prune

def judge_n_m(args, out):
    w, n, m = args
    array_problem(out, w)
    changed = _changed_values(w, out)
    if changed.any():
        i = np.flatnonzero(changed.ravel())[0]
        raise Problem(f"entry {i} was {w.ravel()[i]:.4g} and came back as {out.ravel()[i]:.4g}",
                      _scaling_hint(w, out))
    g_w = w.reshape(-1, m)
    g_o = out.reshape(-1, m)
    for g in range(g_w.shape[0]):
        gw, go = g_w[g], g_o[g]
        want = max(m - n, int((gw == 0).sum()))
        z = int((go == 0).sum())
        aw = np.abs(gw)
        zeroed, kept = go == 0, go != 0
        bad_rank = zeroed.any() and kept.any() and aw[zeroed].max() > aw[kept].min()
        if z != want or bad_rank:
            detail = (f"group {g} (weights {fmt(gw)}) came back as {fmt(go)}: "
                      f"{z} zeros, expected {want} with the {n} largest |w| kept")
            hint = f"in every group of {m} consecutive weights along the LAST axis keep the {n} largest |w|"
            if w.ndim > 1 and w.shape[0] % m == 0:
                alt = np.moveaxis(_n_m_oracle(np.moveaxis(w, 0, -1), n, m), -1, 0)
                if np.array_equal(alt, out):
                    hint = ("you grouped along the FIRST axis; N:M groups run along the last axis "
                            "(consecutive weights in memory, the reduction dimension of the GEMM; "
                            "Mishra et al. 2021)")
            if bad_rank and kept.any() and aw[kept].max() <= aw[zeroed].min():
                hint = "inverted: you kept the smallest weights in each group"
            elif bad_rank and (gw < 0).any() and (gw[zeroed] <= gw[kept].min()).all():
                hint = "rank by magnitude np.abs(w), not by the signed value"
            elif z > want and not bad_rank:
                hint = ("ties: a threshold comparison zeroes every weight equal to the n-th "
                        "largest; select exactly m-n indices per group (argsort)")
            raise Problem(detail, hint)


def _n_m_oracle(w, n, m):
    g = w.reshape(-1, m)
    order = np.argsort(np.abs(g), axis=1, kind="stable")
    out = g.copy()
    np.put_along_axis(out, order[:, : m - n], 0, axis=1)
    return out.reshape(w.shape)


def n_m_cases_fixed():
    w1 = np.array([0.1, -0.9, 0.3, 0.2, 0.5, 0.6, -0.7, 0.05])
    w2 = (np.arange(32, dtype=np.float32).reshape(4, 8) * 37 % 17 - 8) / 4
    w4 = (np.arange(24, dtype=np.float64).reshape(2, 3, 1, 4) * 5 % 11 - 5) / 3
    return [
        ("1-D, 2:4", (w1, 2, 4)),
        ("2-D float32 (4, 8), 2:4 along the last axis", (w2, 2, 4)),
        ("4-D conv weight (2, 3, 1, 4), 2:4", (w4, 2, 4)),
        ("ties: [1, 1, 1, 1], 2:4", (np.ones(4), 2, 4)),
        ("n = m keeps everything", (w1.copy(), 4, 4)),
        ("1:2", (w1.copy(), 1, 2)),
        ("4:8 on (2, 8)", (w2[:2].copy(), 4, 8)),
        ("all-zero input", (np.zeros((2, 4)), 2, 4)),
    ]


def n_m_cases_hidden(rng):
    cases = []
    for i in range(5):
        n, m = [(2, 4), (1, 4), (1, 2), (4, 8), (3, 4)][int(rng.integers(0, 5))]
        shape = [(m * int(rng.integers(1, 8)),), (int(rng.integers(1, 6)), m * int(rng.integers(1, 4))),
                 (int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 3)), m)][i % 3]
        w = rng.standard_normal(shape)
        if i % 2:
            w = np.round(w, 1)
        w = w.astype(rng.choice([np.float32, np.float64]))
        cases.append((f"random {w.dtype} shape {w.shape}, {n}:{m}", (w, n, m)))
    return cases
