"""Exercises of notebook 03 (data-driven criteria): APoZ / mean activation with a forward hook,
and first-order Taylor importance accumulated over minibatches (Molchanov et al. 2019).

Inputs and outputs are numpy: the network is given as numpy weights ``(W1, b1, W2, b2, ...)``
that the learner turns into a torch model with :func:`pruninglab.labs.criteria.relu_net`
(Linear or Conv2d layers with a ReLU between them; ``model[1]`` is the first ReLU), the data
as a list of numpy minibatches. Expected answers come from the functional oracles below
(``torch.nn.functional`` in float64, not :mod:`pruninglab.pruning`).

:data:`MUTANTS` holds the seed documents' bugs of notebook 03 (S1-C6 wrong averaging axis and
signed activations, S2-C5 ``mean(square(.), axis=1)`` per sample) and classic mistakes.
"""
from __future__ import annotations

import numpy as np

from ._common import Exercise, Problem, fmt

_TORCH_PREAMBLE = "import math\nimport numpy as np\nimport torch\nfrom torch import nn\nfrom pruninglab.labs.criteria import relu_net"

NOTEBOOK = "03_data_driven_criteria"


# ---------------------------------------------------------------------------- oracle helpers

def _t(a):
    import torch
    return torch.as_tensor(np.asarray(a), dtype=torch.float64)


def _first_layer(params, x):
    """Pre-activation z of the first layer (float64 torch) for numpy input x."""
    import torch.nn.functional as F
    w, b = _t(params[0]), _t(params[1])
    x = _t(x)
    if w.dim() == 4:
        return F.conv2d(x, w, b, padding=w.shape[2] // 2)
    return F.linear(x, w, b)


def _rest(params, h):
    import torch
    import torch.nn.functional as F
    pairs = [(params[i], params[i + 1]) for i in range(2, len(params), 2)]
    for j, (w, b) in enumerate(pairs):
        w, b = _t(w), _t(b)
        if w.dim() == 4:
            h = F.conv2d(h, w, b, padding=w.shape[2] // 2)
        else:
            h = F.linear(h.flatten(1) if h.dim() > 2 else h, w, b)
        if j < len(pairs) - 1:
            h = torch.relu(h)
    return h


def _red(a):
    return [0] + list(range(2, a.dim()))


def _stats(params, batches):
    """(mean, apoz) per unit of the first ReLU, over every sample (and position)."""
    import torch
    s = z = 0
    n = 0
    for x in batches:
        a = torch.relu(_first_layer(params, x))
        s = s + a.sum(dim=_red(a))
        z = z + (a == 0).to(torch.float64).sum(dim=_red(a))
        n += a.numel() // a.shape[1]
    return (s / n).numpy(), (z / n).numpy()


def _stats_variants(params, batches):
    """What the classic mistakes return (for hints)."""
    import torch
    out = {}
    zs = [_first_layer(params, x) for x in batches]
    acts = [torch.relu(z) for z in zs]
    cat = torch.cat(acts)
    zcat = torch.cat(zs)
    out["signed"] = zcat.mean(dim=_red(zcat)).numpy()
    out["square"] = (cat ** 2).mean(dim=_red(cat)).numpy()
    out["last"] = (acts[-1].mean(dim=_red(acts[-1])).numpy(),
                   (acts[-1] == 0).to(torch.float64).mean(dim=_red(acts[-1])).numpy())
    out["batchmean"] = (np.mean([a.mean(dim=_red(a)).numpy() for a in acts], axis=0),
                        np.mean([(a == 0).to(torch.float64).mean(dim=_red(a)).numpy() for a in acts], axis=0))
    out["n_samples"] = int(cat.shape[0])
    out["per_sample"] = cat.flatten(1).mean(1).numpy()
    out["unit_shape"] = tuple(cat.shape[1:])
    return out


def _close(a, b, tol=1e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol)


def _check_hooks():
    """A model built by relu_net during the call must have no hook left."""
    from ..labs import criteria as LC
    built, LC._BUILT[:] = list(LC._BUILT), []
    for m in built:
        for name, mod in m.named_modules():
            if mod._forward_hooks or mod._forward_pre_hooks:
                raise Problem(f"after your function returned, module {name or 'model'!r} of the model "
                              "still has a forward hook registered",
                              "keep the handle of register_forward_hook and call handle.remove() when "
                              "done (in a try/finally): a forgotten hook keeps collecting on every "
                              "later forward pass")


# ---------------------------------------------------------------------------- apoz_and_mean

def judge_apoz(args, out):
    params, batches = args
    try:
        _check_hooks()
    except Problem:
        raise
    mean, apoz = _stats(params, batches)
    c = mean.shape[0]
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise Problem(f"the result is {type(out).__name__}, expected a tuple (mean, apoz)",
                      "return mean, apoz")
    m_out, a_out = out
    for name, v in (("mean", m_out), ("apoz", a_out)):
        if type(v).__module__.startswith("torch"):
            raise Problem(f"{name} is a torch tensor", "return numpy arrays: .detach().numpy()")
        if not isinstance(v, np.ndarray):
            raise Problem(f"{name} is a {type(v).__name__}, expected a numpy.ndarray",
                          "return numpy arrays of shape (units,)")
    var = _stats_variants(params, batches)
    for name, v in (("mean", m_out), ("apoz", a_out)):
        if v.shape != (c,):
            if v.shape == (var["n_samples"],) or v.shape == (len(batches[-1]),):
                hint = ("you averaged over the UNITS (axis=1) and got one value per SAMPLE (seeds "
                        "S1-C6 / S2-C5): the statistic belongs to each unit, so reduce over the "
                        "sample axis 0 (and the spatial axes of a conv output)")
            elif v.shape == var["unit_shape"] and len(v.shape) > 1:
                hint = ("one value per unit AND position: a conv unit is a channel; average over "
                        "samples and the spatial axes (dims 0, 2, 3)")
            else:
                hint = f"one value per unit of the first ReLU: shape ({c},)"
            raise Problem(f"{name} has shape {v.shape}, expected ({c},)", hint)
    if not np.issubdtype(m_out.dtype, np.floating) or not np.issubdtype(a_out.dtype, np.floating):
        raise Problem(f"dtypes {m_out.dtype}, {a_out.dtype}; expected floating arrays",
                      "APoZ is a fraction: convert the zero counts to float before dividing")
    ok_m, ok_a = _close(m_out, mean), _close(a_out, apoz)
    if ok_m and ok_a:
        return
    if _close(m_out, apoz) and _close(a_out, mean):
        raise Problem("mean and apoz are swapped", "return (mean, apoz) in this order")
    hint = ""
    if not ok_m and m_out.shape == var["per_sample"].shape and _close(m_out, var["per_sample"]):
        hint = ("you averaged over the UNITS (axis=1): one value per SAMPLE (seeds S1-C6 / S2-C5; "
                "here the number of samples equals the number of units, so the shape looked right). "
                "Reduce over the sample axis 0 (and the spatial axes of a conv output)")
    elif not ok_m and _close(m_out, var["signed"]):
        hint = ("your mean is that of the signed pre-activation (before the ReLU): positive and "
                "negative values cancel (seed S1-C6, defect 5). Hook the ReLU's output (model[1]) "
                "or apply relu to the Linear/Conv output")
    elif not ok_m and _close(m_out, var["square"]):
        hint = ("you averaged the SQUARED activations (seed S2-C5's K.square): the mean activation "
                "is E[relu(z)]")
    elif _close(m_out, var["last"][0]) and _close(a_out, var["last"][1]) and len(batches) > 1:
        hint = ("only the last minibatch counts: the hook overwrites instead of accumulating; keep "
                "running sums (and counts) across every batch of the loader")
    elif _close(m_out, var["batchmean"][0]) or _close(a_out, var["batchmean"][1]):
        hint = ("you averaged the per-batch averages: with batches of different sizes that weights "
                "a small last batch like a full one; sum over samples, divide by the total count")
    elif not ok_a and _close(a_out, 1 - apoz):
        hint = "APoZ is the fraction of ZERO outputs (Hu et al. 2016), you returned the fraction of non-zeros"
    elif not ok_a and ok_m:
        hint = ("APoZ_j = fraction of samples (and positions) where relu(z_j) == 0, over the whole "
                "data set")
    parts = []
    if not ok_m:
        parts.append(f"mean {fmt(np.asarray(m_out))}, expected {fmt(mean)}")
    if not ok_a:
        parts.append(f"apoz {fmt(np.asarray(a_out))}, expected {fmt(apoz)}")
    raise Problem("; ".join(parts), hint or "mean_j = E[relu(z_j)], APoZ_j = P[relu(z_j) = 0] over "
                                            "all samples of all batches (and all positions)")


def _tiny_conv():
    """2 channels, 3x3 kernels (centre tap only), 1 input channel, 2x2 images: channel 0 passes
    the pixel, channel 1 its negative; mean / APoZ are easy to read off the pixels."""
    w1 = np.zeros((2, 1, 3, 3), np.float32)
    w1[0, 0, 1, 1], w1[1, 0, 1, 1] = 1.0, -1.0
    b1 = np.zeros(2, np.float32)
    w2 = np.ones((2, 8), np.float32) / 8
    w2[1] *= -1
    x = np.array([[[[1.0, -1.0], [2.0, 0.0]]], [[[0.5, 0.5], [-2.0, 3.0]]]], np.float32)
    return (w1, b1, w2, np.zeros(2, np.float32)), x


def _clear_built():
    from ..labs import criteria as LC
    LC._BUILT[:] = []


def apoz_cases_fixed():
    from ..labs.criteria import tiny_relu_params
    _clear_built()
    params, x = tiny_relu_params()
    cparams, cx = _tiny_conv()
    return [
        ("the tiny network of the notebook, one batch of 4", (params, [x])),
        ("the tiny network, batches of 3 and 1 (unequal sizes)", (params, [x[:3], x[3:]])),
        ("the tiny network, 4 batches of 1", (params, [x[i:i + 1] for i in range(4)])),
        ("tiny conv: 2 channels on 2x2 images (reduce over samples AND positions)",
         (cparams, [cx[:1], cx[1:]])),
    ]


def _rand_params(rng, conv: bool, dead: bool):
    dt = np.float32
    if conv:
        c_in, c, h = int(rng.integers(1, 3)), int(rng.integers(2, 5)), int(rng.choice([3, 4]))
        w1 = rng.standard_normal((c, c_in, 3, 3)).astype(dt)
        b1 = rng.standard_normal(c).astype(dt)
        if dead:
            b1[0] = -50
        w2 = rng.standard_normal((3, c * h * h)).astype(dt)
        return (w1, b1, w2, rng.standard_normal(3).astype(dt)), (c_in, h, h)
    n_in, c = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    w1 = rng.standard_normal((c, n_in)).astype(dt)
    b1 = rng.standard_normal(c).astype(dt)
    if dead:
        b1[-1] = -50
    layers = (w1, b1, rng.standard_normal((3, c)).astype(dt), rng.standard_normal(3).astype(dt))
    return layers, (n_in,)


def _rand_batches(rng, shape, n_batches):
    sizes = [int(rng.integers(1, 7)) for _ in range(n_batches)]
    return [rng.standard_normal((s,) + shape).astype(np.float32) for s in sizes]


def apoz_cases_hidden(rng):
    cases = []
    for i in range(5):
        conv = i % 3 == 2
        params, shape = _rand_params(rng, conv, dead=bool(i % 2))
        batches = _rand_batches(rng, shape, int(rng.integers(2, 5)))
        kind = "conv" if conv else "linear"
        cases.append((f"random {kind} net, first layer {params[0].shape}, batches of "
                      f"{[len(b) for b in batches]}", (params, batches)))
    return cases


# ---------------------------------------------------------------------------- taylor_importance

def _taylor_parts(params, batches, labels, reduction="mean"):
    """Per-minibatch contributions t_m[j] = sum_{i in unit j} g_i w_i (+ g_b b_j), and the
    per-weight squares, with g the gradient of the minibatch's cross-entropy."""
    import torch
    import torch.nn.functional as F
    ts, wsq, nob = [], [], []
    for x, y in zip(batches, labels):
        w, b = _t(params[0]).requires_grad_(), _t(params[1]).requires_grad_()
        import torch.nn.functional as F2  # noqa: F401
        xt = _t(x)
        z = F.conv2d(xt, w, b, padding=w.shape[2] // 2) if w.dim() == 4 else F.linear(xt, w, b)
        logits = _rest(params, torch.relu(z))
        loss = F.cross_entropy(logits, torch.as_tensor(np.asarray(y), dtype=torch.long),
                               reduction=reduction)
        gw, gb = torch.autograd.grad(loss, (w, b))
        per_w = (gw * w).detach().reshape(w.shape[0], -1)
        ts.append((per_w.sum(1) + (gb * b).detach()).numpy())
        nob.append(per_w.sum(1).numpy())
        wsq.append(((per_w ** 2).sum(1) + ((gb * b).detach() ** 2)).numpy())
    return np.array(ts), np.array(wsq), np.array(nob)


def _taylor_ref(params, batches, labels):
    ts, _, _ = _taylor_parts(params, batches, labels)
    return (ts ** 2).mean(0)


def judge_taylor(args, out):
    params, batches, labels = args
    _check_hooks()
    ref = _taylor_ref(params, batches, labels)
    c = ref.shape[0]
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if type(out).__module__.startswith("torch"):
        raise Problem("the result is a torch tensor", "return a numpy array: .detach().numpy()")
    if not isinstance(out, np.ndarray):
        raise Problem(f"the result is a {type(out).__name__}, expected a numpy.ndarray",
                      "return a numpy array of shape (units,)")
    if out.shape != (c,):
        hint = f"one importance per unit (row / filter) of the first layer: shape ({c},)"
        if out.shape == params[0].shape:
            hint = ("one value per WEIGHT: sum g·w over each unit's weights (row of W, or "
                    "(in, kh, kw) of a filter) plus its bias term, then square")
        raise Problem(f"the result has shape {out.shape}, expected ({c},)", hint)
    if not np.issubdtype(out.dtype, np.floating):
        raise Problem(f"dtype {out.dtype}, expected a floating array", "return floats")
    tol = 1e-5 * max(float(ref.max()), 1e-12)
    if np.allclose(out, ref, rtol=1e-3, atol=tol):
        return
    ts, wsq, nob = _taylor_parts(params, batches, labels)
    m = len(batches)
    ts_sum, _, _ = _taylor_parts(params, batches, labels, reduction="sum")
    full = np.abs(_full_split_taylor(params, batches, labels))
    alts = [
        (ts.sum(0) ** 2 / m, "you squared the SUM over minibatches ((Σ_m t_m)²): square each "
                             "minibatch's contribution first, then average (Molchanov et al. 2019: "
                             "(Σ g·w)² per minibatch, averaged over minibatches)"),
        (ts.sum(0) ** 2, "you squared the sum over minibatches: square each minibatch's "
                         "contribution (Σ_i g_i w_i)², then average over the minibatches"),
        (full, "this is |Σ g·w| of ONE full-data gradient (the notebook's simplified variant): "
               "the 2019 criterion squares the contribution of EACH minibatch and averages the squares"),
        (full ** 2, "this is (Σ g·w)² of one full-data gradient: compute the gradient per minibatch, "
                    "square its contribution, then average over minibatches"),
        (wsq.mean(0), "you summed per-WEIGHT squares Σ_i (g_i w_i)²: the criterion squares the "
                      "unit's total Σ_i g_i w_i (contributions of one unit can cancel)"),
        ((nob ** 2).mean(0), "the bias term is missing: a unit's parameters are its row of W AND its "
                             "bias, t = Σ_i g_i w_i + g_b·b"),
        ((ts ** 2).sum(0), "you summed over minibatches; average instead (divide by the number of "
                           "minibatches, as Molchanov et al.'s code does)"),
        ((ts_sum ** 2).mean(0), "the loss of each minibatch must be the MEAN cross-entropy "
                                "(reduction='mean'), not the sum"),
        (np.abs(ts).mean(0), "you averaged |t_m|; the 2019 criterion averages the SQUARES t_m²"),
    ]
    for alt, hint in alts:
        if np.allclose(out, alt, rtol=1e-3, atol=tol):
            raise Problem(f"got {fmt(out)}, expected {fmt(ref)}", hint)
    raise Problem(f"got {fmt(out)}, expected {fmt(ref)}",
                  "I_j = (1/M) Σ_m (Σ_{i in unit j} g_i w_i + g_b b_j)² with g = ∂L_m/∂θ of minibatch "
                  "m's mean cross-entropy, for the units of the FIRST layer")


def _full_split_taylor(params, batches, labels):
    x = np.concatenate(batches)
    y = np.concatenate(labels)
    ts, _, _ = _taylor_parts(params, [x], [y])
    return ts[0]


def taylor_cases_fixed():
    from ..labs.criteria import tiny_relu_params
    _clear_built()
    params, x = tiny_relu_params()
    y = np.array([0, 1, 1, 0])
    return [
        ("the tiny network, minibatches of 2 and 2", (params, [x[:2], x[2:]], [y[:2], y[2:]])),
        ("the tiny network, one minibatch of 4", (params, [x], [y])),
        ("the tiny network, minibatches of 3 and 1", (params, [x[:3], x[3:]], [y[:3], y[3:]])),
    ]


def taylor_cases_hidden(rng):
    cases = []
    for i in range(5):
        conv = i % 3 == 2
        params, shape = _rand_params(rng, conv, dead=bool(i % 2))
        batches = _rand_batches(rng, shape, int(rng.integers(2, 5)))
        labels = [rng.integers(0, 3, size=len(b)) for b in batches]
        kind = "conv" if conv else "linear"
        cases.append((f"random {kind} net, first layer {params[0].shape}, minibatches of "
                      f"{[len(b) for b in batches]}", (params, batches, labels)))
    return cases


# ---------------------------------------------------------------------------- mutants

def _hooked(params, batches, fn_stat, layer: int = 1):
    """``fn_stat`` of the outputs of ``model[layer]`` (1 = after the ReLU, 0 = before) over the batches."""
    import torch
    from ..labs.criteria import relu_net
    model = relu_net(params)
    acts = []
    h = model[layer].register_forward_hook(lambda m, i, o: acts.append(o.detach()))
    try:
        with torch.no_grad():
            for x in batches:
                model(torch.as_tensor(x))
    finally:
        h.remove()
    return fn_stat(acts)


def _mut_axis1(params, batches):
    """S1-C6 / S2-C5: mean over axis 1 (one value per sample)."""
    import torch
    return _hooked(params, batches, lambda a: (torch.cat(a).flatten(1).mean(1).numpy(),
                                               (torch.cat(a) == 0).float().flatten(1).mean(1).numpy()))


def _mut_signed(params, batches):
    """S1-C6 defect 5: signed (pre-ReLU) activations averaged."""
    import torch
    a = _hooked(params, batches, torch.cat, layer=0)
    red = [0] + list(range(2, a.dim()))
    return a.mean(dim=red).double().numpy(), (torch.relu(a) == 0).double().mean(dim=red).numpy()


def _mut_square(params, batches):
    """S2-C5: K.mean(K.square(out)) (over the right axis here)."""
    import torch
    def st(a):
        a = torch.cat(a); red = [0] + list(range(2, a.dim()))
        return (a ** 2).mean(dim=red).double().numpy(), (a == 0).double().mean(dim=red).numpy()
    return _hooked(params, batches, st)


def _mut_last(params, batches):
    import torch
    def st(a):
        a = a[-1]; red = [0] + list(range(2, a.dim()))
        return a.mean(dim=red).double().numpy(), (a == 0).double().mean(dim=red).numpy()
    return _hooked(params, batches, st)


def _mut_batchmean(params, batches):
    import torch
    def st(acts):
        ms, zs = [], []
        for a in acts:
            red = [0] + list(range(2, a.dim()))
            ms.append(a.mean(dim=red).double().numpy()); zs.append((a == 0).double().mean(dim=red).numpy())
        return np.mean(ms, 0), np.mean(zs, 0)
    return _hooked(params, batches, st)


def _mut_no_spatial(params, batches):
    import torch
    def st(a):
        a = torch.cat(a)
        return a.mean(0).double().numpy(), (a == 0).double().mean(0).numpy()
    return _hooked(params, batches, st)


def _mut_hook_left(params, batches):
    import torch
    from ..labs.criteria import relu_net
    model = relu_net(params)
    acts = []
    model[1].register_forward_hook(lambda m, i, o: acts.append(o.detach()))   # never removed
    with torch.no_grad():
        for x in batches:
            model(torch.as_tensor(x))
    a = torch.cat(acts); red = [0] + list(range(2, a.dim()))
    return a.mean(dim=red).double().numpy(), (a == 0).double().mean(dim=red).numpy()


def _taylor_mut(kind):
    def fn(params, batches, labels):
        ts, wsq, nob = _taylor_parts(params, batches, labels)
        if kind == "full":
            return np.abs(_full_split_taylor(params, batches, labels))
        if kind == "sum_then_square":
            return ts.sum(0) ** 2 / len(batches)
        if kind == "per_weight":
            return wsq.mean(0)
        if kind == "no_bias":
            return (nob ** 2).mean(0)
        if kind == "sum":
            return (ts ** 2).sum(0)
        if kind == "abs":
            return np.abs(ts).mean(0)
        raise AssertionError(kind)
    return fn


MUTANTS = {
    "apoz_and_mean": [
        ("S1-C6 / S2-C5: averaged over axis 1 (per sample)", lambda: _mut_axis1),
        ("S1-C6: signed activations", lambda: _mut_signed),
        ("S2-C5: mean of squares", lambda: _mut_square),
        ("only the last batch", lambda: _mut_last),
        ("mean of per-batch means", lambda: _mut_batchmean),
        ("conv: spatial axes not reduced", lambda: _mut_no_spatial),
        ("hook never removed", lambda: _mut_hook_left),
    ],
    "taylor_importance": [
        ("|Σ g·w| of one full-data gradient", lambda: _taylor_mut("full")),
        ("square of the summed contributions", lambda: _taylor_mut("sum_then_square")),
        ("per-weight squares", lambda: _taylor_mut("per_weight")),
        ("bias term missing", lambda: _taylor_mut("no_bias")),
        ("sum instead of mean over minibatches", lambda: _taylor_mut("sum")),
        ("mean of |t| instead of t²", lambda: _taylor_mut("abs")),
    ],
}

EXERCISES = [
    Exercise("apoz_and_mean",
             "per-unit mean activation and APoZ of the first ReLU via a forward hook over minibatches",
             "f(params: tuple of arrays, batches: list of arrays) -> (mean (C,), apoz (C,))",
             apoz_cases_fixed, apoz_cases_hidden, judge_apoz,
             points=10, entry="apoz_and_mean", preamble=_TORCH_PREAMBLE, notebook=NOTEBOOK,
             topic="APoZ / mean activation with a forward hook",
             library=("pruninglab.pruning.criteria.activation_stats",)),
    Exercise("taylor_importance",
             "Taylor importance per unit: per-minibatch (Σ g·w)², averaged (Molchanov et al. 2019)",
             "f(params: tuple of arrays, batches: list of arrays, labels: list of int arrays) "
             "-> importance (C,)",
             taylor_cases_fixed, taylor_cases_hidden, judge_taylor,
             points=15, entry="taylor_importance", preamble=_TORCH_PREAMBLE, notebook=NOTEBOOK,
             topic="first-order Taylor importance over minibatches",
             library=("pruninglab.pruning.criteria.taylor_scores",)),
]

__all__ = ["EXERCISES", "MUTANTS", "judge_apoz", "judge_taylor"]
