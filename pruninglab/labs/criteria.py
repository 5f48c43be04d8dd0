"""Compute/render functions for notebook 03 (data-driven criteria: activations, APoZ, Taylor).

The notebook ``03_data_driven_criteria`` validates the ``compute_*`` functions in normal cells and
drives the ``render_*`` functions from sliders. Expensive work (activation statistics, Taylor
gradients, the fine-tuning sweep) happens once in :func:`criterion_scores`,
:func:`compare_criteria` and :class:`CriteriaExplorer`; the slider callback
:func:`compute_criteria` only shrinks the model with precomputed scores and evaluates it on the
validation split (milliseconds).

Criteria (every score: **larger = more important**, so the smallest are removed):

* ``"apoz"``   — ``1 − APoZ``: fraction of samples (× positions) where the post-ReLU output is
  non-zero (H. Hu et al., 2016, *Network Trimming*, arXiv:1607.03250);
* ``"mean"``   — mean post-ReLU activation (the simplest statistic of the same hook);
* ``"taylor"`` — first-order Taylor, the one-gradient *simplification* ``|Σ_{i∈j} w_i ∂L/∂w_i|``
  with the gradient of the mean loss over the whole split (``taylor_scores(variant="full")``);
* ``"taylor2019"`` — Molchanov et al. (2019, CVPR): per-minibatch contributions
  ``t_m = Σ_{i∈j} g_i w_i (+ g_b b_j)`` squared and averaged over minibatches of 64
  (``variant="molchanov2019"``);
* ``"taylor2017"`` — Molchanov et al. (2017, ICLR): activation-based ``mean_n |a_nj · ∂L_n/∂a_nj|``
  (``variant="molchanov2017"``);
* ``"l1"``     — L1 norm of the neuron's / filter's incoming weights (H. Li et al., 2017,
  *Pruning Filters for Efficient ConvNets*, ICLR) — data-free;
* ``"random"`` — seeded uniform scores: the control every criterion must beat.

The statistics themselves come from :mod:`pruninglab.pruning` (``activation_stats``,
``taylor_scores``, ``structure_scores``, ``shrink_model``, ``zero_structures``); this module only
organises them for the notebook.
"""
from __future__ import annotations

import copy
from typing import Iterable, Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .._validate import check_array, check_choice, check_int, check_number, check_sparsity
from ..data import Split
from ..hardware import model_energy, model_storage
from ..pruning import (activation_stats, model_summary, n_to_prune, shrink_model,
                       structure_chains, structure_scores, taylor_scores, zero_structures)
from ..train import accuracy, evaluate, train

__all__ = ["CRITERIA", "criterion_scores", "spearman", "rank_correlations", "compare_criteria",
           "render_comparison", "render_correlations", "taylor_vs_removal", "render_taylor_check",
           "CriteriaExplorer", "compute_criteria", "live_criteria", "render_criteria",
           "tiny_relu_network", "relu_net", "tiny_relu_params", "numpy_params",
           "minibatches", "LABELS", "reference_scores", "cached_compare", "cached_taylor_vs_removal",
           "SEEDED_CRITERIA", "comparison_verdicts", "best_verdict", "verdict_table"]

CRITERIA = ("apoz", "mean", "taylor", "taylor2019", "taylor2017", "l1", "random")
#: what each criterion key means (legends and tables)
LABELS = {"apoz": "1 − APoZ (Hu 2016)", "mean": "mean activation",
          "taylor": "Taylor |Σg·w|, one gradient (simplified)",
          "taylor2019": "Taylor 2019: mean (Σg·w)² per minibatch",
          "taylor2017": "Taylor 2017: mean |a·∂L/∂a|",
          "l1": "L1 norm (Li 2017)", "random": "random (mean of seeds)"}
#: minibatch size of the "taylor2019" criterion (as in the notebook's exercise)
TAYLOR2019_BATCH = 64


def tiny_relu_network():
    """The hand-made 2 → 4 (ReLU) → 2 network of notebook 03 and its 4-sample data set.

    Hidden unit 0 is on for half the samples, unit 1 never (dead), unit 2 often, unit 3 always
    but only 0.125 (APoZ 0, small mean) and its two outgoing weights are equal, so removing it
    leaves every logit difference unchanged. Scores are known exactly: mean activation
    [0.5, 0, 1, 0.125], APoZ [0.5, 1, 0.25, 0]. Returns ``(model, split)``; a fresh model
    every call.
    """
    import torch
    from torch import nn
    from ..data import Split
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, -1.0], [1.0, 1.0], [0.0, 0.0]]))
        model[0].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.125]))
        model[2].weight.copy_(torch.tensor([[1.0, 0.0, -1.0, 0.5], [-1.0, 0.0, 1.0, 0.5]]))
        model[2].bias.zero_()
    data = Split("train", torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]),
                 torch.tensor([0, 1, 1, 0]))
    return model, data


_BUILT: list = []   # the last models relu_net built (the grader checks that no hook is left)


def relu_net(params) -> nn.Sequential:
    """A small torch model from numpy weights ``(W1, b1, W2, b2, ...)``: Linear (2-D ``W``) or
    Conv2d (4-D ``W``, stride 1, padding ``kh // 2``) layers with a ReLU after every layer but
    the last, and a Flatten where a conv is followed by a Linear. ``model[1]`` is always the
    first ReLU. Float32 parameters, eval mode; a new model every call."""
    if not isinstance(params, (tuple, list)) or len(params) < 2 or len(params) % 2:
        raise TypeError("params must be a tuple (W1, b1, W2, b2, ...) of numpy arrays")
    layers: list[nn.Module] = []
    pairs = [(np.asarray(params[i]), np.asarray(params[i + 1])) for i in range(0, len(params), 2)]
    for j, (w, b) in enumerate(pairs):
        if w.ndim == 4:
            m = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=w.shape[2] // 2)
        elif w.ndim == 2:
            if layers and isinstance([l for l in layers if not isinstance(l, nn.ReLU)][-1], nn.Conv2d):
                layers.append(nn.Flatten())
            m = nn.Linear(w.shape[1], w.shape[0])
        else:
            raise ValueError(f"params: weight {j} must be 2-D or 4-D, got shape {w.shape}")
        with torch.no_grad():
            m.weight.copy_(torch.as_tensor(w, dtype=torch.float32))
            m.bias.copy_(torch.as_tensor(b, dtype=torch.float32))
        layers.append(m)
        if j < len(pairs) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers).eval()
    _BUILT.append(model)
    del _BUILT[:-4]
    return model


def numpy_params(model: nn.Module, names: Sequence[str]) -> tuple:
    """``(W1, b1, W2, b2, ...)`` float32 numpy copies of the named layers (for :func:`relu_net`)."""
    mods = dict(model.named_modules())
    out = []
    for n in names:
        out += [mods[n].weight.detach().cpu().numpy().copy(), mods[n].bias.detach().cpu().numpy().copy()]
    return tuple(out)


def tiny_relu_params():
    """The tiny network of :func:`tiny_relu_network` as numpy ``(params, x)``."""
    model, data = tiny_relu_network()
    return numpy_params(model, ["0", "2"]), data.x.numpy().copy()


def minibatches(split: Split, batch_size: int, *, labels: bool = False):
    """The split as a list of numpy minibatches (in order; the last one may be smaller)."""
    xs = [split.x[i:i + batch_size].numpy() for i in range(0, len(split), batch_size)]
    if not labels:
        return xs
    return xs, [split.y[i:i + batch_size].numpy() for i in range(0, len(split), batch_size)]


def _check_split(split, name="split"):
    if not isinstance(split, Split):
        raise TypeError(f"{name} must be a pruninglab.data.Split, got {type(split).__name__}")
    if split.name == "test":
        raise ValueError(f"{name} must be the train or val split: the test split is never used "
                         "to make pruning decisions")
    return split


def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _layers(model, layers) -> list[str]:
    chains = structure_chains(model)
    if layers is None:
        return list(chains)
    if isinstance(layers, str):
        raise TypeError("layers must be a list of layer names, got a str")
    names = list(layers)
    for n in names:
        if n not in chains:
            raise ValueError(f"layers: {n!r} is not a prunable hidden layer; known: {list(chains)}")
    if not names:
        raise ValueError("layers must name at least one layer")
    return names


def random_scores(model: nn.Module, layers: Iterable[str] | None = None, seed: int = 0
                  ) -> dict[str, torch.Tensor]:
    """Seeded uniform scores ``{layer: (C,)}`` (own generator: global RNG untouched)."""
    _check_model(model)
    seed = check_int(seed, "seed", lo=0)
    mods = dict(model.named_modules())
    out = {}
    for k, n in enumerate(_layers(model, layers)):
        g = torch.Generator().manual_seed(seed * 1000 + k)
        out[n] = torch.rand(mods[n].weight.shape[0], generator=g)
    return out


def criterion_scores(model: nn.Module, split: Split, *, layers: Iterable[str] | None = None,
                     seed: int = 0) -> dict[str, dict[str, torch.Tensor]]:
    """``{criterion: {layer: 1-D scores}}`` for every criterion in :data:`CRITERIA`
    (larger = more important). ``split`` is the data the statistics are measured on (train
    or val, never test). The model is not modified."""
    _check_model(model)
    _check_split(split)
    names = _layers(model, layers)
    st = activation_stats(model, split, layers=names)
    tay = taylor_scores(model, split, layers=names)
    t19 = taylor_scores(model, split, layers=names, batch_size=TAYLOR2019_BATCH, variant="molchanov2019")
    t17 = taylor_scores(model, split, layers=names, variant="molchanov2017")
    mods = dict(model.named_modules())
    return {
        "apoz": {n: 1.0 - st[n]["apoz"] for n in names},
        "mean": {n: st[n]["mean"] for n in names},
        "taylor": {n: tay[n].detach().float() for n in names},
        "taylor2019": {n: t19[n].detach().float() for n in names},
        "taylor2017": {n: t17[n].detach().float() for n in names},
        "l1": {n: structure_scores(mods[n].weight.detach(), 1, 0).float() for n in names},
        "random": random_scores(model, names, seed),
    }


def _ranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, ties get the average of their ranks."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x), dtype=np.float64)
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def spearman(a, b) -> float:
    """Spearman rank correlation of two 1-D arrays/tensors of equal length (average ranks for
    ties): the Pearson correlation of the ranks. NaN when one input is constant."""
    check_array(a, "a", ndim=1)
    check_array(b, "b", ndim=1)
    a = np.asarray(a.detach().cpu() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if isinstance(b, torch.Tensor) else b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same length, got {a.shape[0]} and {b.shape[0]}")
    if a.shape[0] < 2:
        raise ValueError("a must have at least 2 entries")
    ra, rb = _ranks(a), _ranks(b)
    ra -= ra.mean()
    rb -= rb.mean()
    den = np.sqrt((ra ** 2).sum() * (rb ** 2).sum())
    return float("nan") if den == 0 else float((ra * rb).sum() / den)


def rank_correlations(scores: Mapping[str, Mapping[str, torch.Tensor]], layer: str,
                      criteria: Sequence[str] = CRITERIA) -> dict:
    """Spearman matrix between criteria for one layer: ``{"criteria", "layer", "matrix"}``."""
    if not isinstance(scores, Mapping):
        raise TypeError(f"scores must be a dict criterion -> {{layer: scores}}, got {type(scores).__name__}")
    crit = [check_choice(c, "criteria", tuple(scores)) for c in criteria]
    for c in crit:
        if layer not in scores[c]:
            raise ValueError(f"layer {layer!r} has no scores; known: {list(scores[c])}")
    m = np.array([[spearman(scores[a][layer], scores[b][layer]) for b in crit] for a in crit])
    return {"criteria": crit, "layer": layer, "matrix": m}


def _label_colour(rgba) -> str:
    """``"black"`` or ``"white"``: the text colour with the higher WCAG 2 contrast ratio on a
    background of colour ``rgba`` (relative luminance of the linearised sRGB channels,
    L = 0.2126 R + 0.7152 G + 0.0722 B; contrast (L1 + 0.05) / (L2 + 0.05), W3C 2008). A
    transparent or non-finite colour (a NaN cell) gets black (the page is white)."""
    c = np.asarray(rgba, dtype=float).ravel()
    if c.size not in (3, 4):
        raise ValueError(f"rgba must have 3 or 4 channels, got {c.size}")
    if not np.all(np.isfinite(c)) or (c.size == 4 and c[3] == 0):
        return "black"
    lin = np.where(c[:3] <= 0.04045, c[:3] / 12.92, ((c[:3] + 0.055) / 1.055) ** 2.4)
    lum = float(lin @ np.array([0.2126, 0.7152, 0.0722]))
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def render_correlations(results: Sequence[dict]) -> None:
    """Heat maps of :func:`rank_correlations` results, side by side; each cell's number is
    written in black or white, whichever contrasts more with the cell (:func:`_label_colour`)."""
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(results), figsize=(4.4 * len(results), 4.0))
    axes = np.atleast_1d(axes)
    for ax, r in zip(axes, results):
        m, c = r["matrix"], r["criteria"]
        im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(c)), c, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(c)), c, fontsize=7)
        ax.grid(False)
        for i in range(len(c)):
            for j in range(len(c)):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6,
                        color=_label_colour(im.cmap(im.norm(m[i, j]))))
        ax.set_title(f"Spearman ρ, {r['layer']}")
    fig.tight_layout()
    fig.colorbar(im, ax=list(axes), fraction=0.025, pad=0.02, label="Spearman ρ")
    plt.show()


#: criteria whose scores change with the seed in :func:`compare_criteria` (the others are
#: deterministic functions of the model and the data: only their fine-tuning order changes)
SEEDED_CRITERIA = ("random", "taylor2019")


def compare_criteria(model: nn.Module, scores: Mapping[str, Mapping[str, torch.Tensor]],
                     train_split: Split, val_split: Split, *, ratios: Sequence[float],
                     input_shape, layers: Iterable[str] | None = None, epochs: int = 2,
                     lr: float = 1e-3, seeds: Sequence[int] = (0, 1, 2),
                     progress: bool = False) -> dict:
    """Shrink ``model`` (every layer in ``layers`` by the same ratio) with each criterion,
    measure validation accuracy, fine-tune ``epochs`` on ``train_split``, measure again —
    once per seed in ``seeds`` for **every** criterion (one validation image is 1/len(val) of
    accuracy: a comparison needs the seed-to-seed spread).

    What the seed changes: the fine-tuning data order (``train(..., seed=s)``) for every
    criterion; for ``"random"`` the random scores (:func:`random_scores` with seed ``s``); for
    ``"taylor2019"`` the minibatch order of its score, recomputed on ``train_split``
    (``taylor_scores(..., variant="molchanov2019", seed=s)``; the ``scores`` entry only selects
    the criterion). The other scores are used as given, so their accuracy *before* fine-tuning is
    the same for every seed (spread 0).

    Returns ``{"ratios", "criteria", "seeds", "dense", "before", "after", "before_runs",
    "after_runs", "before_min", "before_max", "after_min", "after_max", "random_after_min",
    "random_after_max", "params", "macs", "epochs", "layers", "n_val"}``: ``*_runs[c]`` is
    ``(len(ratios), len(seeds))``, ``before[c]`` / ``after[c]`` its mean over the seeds and
    ``*_min`` / ``*_max`` the range; ``params`` and ``macs`` (per sample) depend only on the ratio.
    Compare two criteria with :func:`pruninglab.claims.spread_verdict` on their ``*_runs`` rows.
    ``model`` is not modified. ``progress``: a tqdm bar over the ratios (the call takes seconds).
    """
    _check_model(model)
    _check_split(train_split, "train_split")
    _check_split(val_split, "val_split")
    if not isinstance(scores, Mapping):
        raise TypeError(f"scores must be a dict criterion -> {{layer: scores}}, got {type(scores).__name__}")
    names = _layers(model, layers)
    rs = [check_sparsity(r, "ratios") for r in ratios]
    if not rs:
        raise ValueError("ratios must not be empty")
    epochs = check_int(epochs, "epochs", lo=0)
    check_number(lr, "lr", lo=0.0, lo_inclusive=False)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of ints, got {type(seeds).__name__}")
    seeds = [check_int(s, "seeds", lo=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds}")
    crit = [c for c in CRITERIA if c in scores]
    if not crit:
        raise ValueError(f"scores must hold at least one of {CRITERIA}")
    per_seed = {}                                   # the seed-dependent scores, computed once
    for c in crit:
        if c == "random":
            per_seed[c] = [random_scores(model, names, s) for s in seeds]
        elif c == "taylor2019":
            per_seed[c] = [{n: v.detach().float() for n, v in taylor_scores(
                model, train_split, layers=names, batch_size=TAYLOR2019_BATCH,
                variant="molchanov2019", seed=s).items()} for s in seeds]
        else:
            per_seed[c] = [scores[c]] * len(seeds)
    before = {c: np.zeros((len(rs), len(seeds))) for c in crit}
    after = {c: np.zeros((len(rs), len(seeds))) for c in crit}
    params, macs = np.zeros(len(rs), dtype=np.int64), np.zeros(len(rs), dtype=np.int64)
    from tqdm.auto import tqdm
    for i, r in enumerate(tqdm(rs, desc="ratios", disable=not progress)):
        ratio = {n: r for n in names}
        for c in crit:
            for k, (s, sc) in enumerate(zip(seeds, per_seed[c])):
                p = shrink_model(model, ratio, criterion={n: sc[n] for n in names})
                if k > 0 and c not in SEEDED_CRITERIA:     # same selection: same accuracy
                    before[c][i, k] = before[c][i, 0]
                else:
                    before[c][i, k] = accuracy(p, val_split)
                if epochs > 0 and r > 0:
                    train(p, train_split, epochs=epochs, lr=lr, seed=s)
                    after[c][i, k] = accuracy(p, val_split)
                else:                                       # nothing removed or no training
                    after[c][i, k] = before[c][i, k]
        summ = model_summary(p, input_shape)
        params[i], macs[i] = summ["params"], summ["macs_dense"]
    out = {"ratios": np.array(rs), "criteria": crit, "seeds": list(seeds),
           "dense": accuracy(model, val_split), "n_val": len(val_split), "before_runs": before, "after_runs": after,
           "params": params, "macs": macs, "epochs": epochs, "layers": names}
    for key in ("before", "after"):
        runs = out[key + "_runs"]
        out[key] = {c: runs[c].mean(1) for c in crit}
        out[key + "_min"] = {c: runs[c].min(1) for c in crit}
        out[key + "_max"] = {c: runs[c].max(1) for c in crit}
    if "random" in crit:
        out["random_after_min"] = out["after_min"]["random"]
        out["random_after_max"] = out["after_max"]["random"]
    return out


def comparison_verdicts(result: dict, a: str, b: str, key: str = "after") -> list[str]:
    """Per ratio of a :func:`compare_criteria` result: :func:`pruninglab.claims.spread_verdict`
    of criterion ``a``'s runs against ``b``'s (``key`` ``"before"`` / ``"after"`` fine-tuning):
    ``"higher"`` / ``"lower"`` only when the min–max ranges over the seeds do not overlap."""
    from ..claims import spread_verdict
    check_choice(key, "key", ("before", "after"))
    check_choice(a, "a", tuple(result["criteria"]))
    check_choice(b, "b", tuple(result["criteria"]))
    runs = result[key + "_runs"]
    return [spread_verdict(runs[a][i], runs[b][i]) for i in range(len(result["ratios"]))]


def best_verdict(result: dict, c: str, key: str, i: int) -> str:
    """At ratio index ``i``: ``"best"`` when ``c``'s range is above every other criterion's,
    ``"tied best"`` when no other criterion is above it but some overlap, else ``"not best"``."""
    from ..claims import spread_verdict
    runs = result[key + "_runs"]
    v = [spread_verdict(runs[c][i], runs[o][i]) for o in result["criteria"] if o != c]
    if all(x == "higher" for x in v):
        return "best"
    return "not best" if "lower" in v else "tied best"


_SYM = {"higher": "+", "tie": "=", "lower": "−"}


def verdict_table(result: dict, against: str = "random", key: str = "after") -> str:
    """Text table: each criterion versus ``against`` at every ratio (``+`` above its range,
    ``=`` tie, ``−`` below), from :func:`comparison_verdicts`."""
    rs = result["ratios"]
    lines = [f"vs {against}, {key} fine-tuning ({len(result['seeds'])} seeds; + above, = tie, − below)",
             f"{'criterion':12s}" + "".join(f"{r:>6.2f}" for r in rs)]
    for c in result["criteria"]:
        if c == against:
            continue
        lines.append(f"{c:12s}" + "".join(f"{_SYM[v]:>6s}" for v in comparison_verdicts(result, c, against, key)))
    return "\n".join(lines)


def render_comparison(result: dict, title: str = "") -> None:
    """Table + two panels: val accuracy before / after fine-tuning versus the pruning ratio,
    mean over the seeds with min–max error bars (every criterion)."""
    import matplotlib.pyplot as plt
    crit, rs = result["criteria"], result["ratios"]
    n_s = len(result["seeds"])
    print(f"{title} dense val acc {result['dense']:.4f}; ratio of neurons/filters removed in "
          f"{', '.join(result['layers'])}; fine-tune {result['epochs']} epochs; {n_s} seeds "
          f"(fine-tuning order; random: scores; taylor2019: minibatch order)")
    print("after fine-tuning: mean [min–max] over the seeds; before: mean")
    def f3(x):
        return f"{x:.3f}".lstrip("0")
    print("ratio  params   MACs   | " + " ".join(f"{c:>16s}" for c in crit))
    for i, r in enumerate(rs):
        cells = " ".join(f"{f3(result['after'][c][i])} [{f3(result['after_min'][c][i])}–"
                         f"{f3(result['after_max'][c][i])}]" for c in crit)
        print(f"{r:5.2f} {result['params'][i]:7d} {result['macs'][i]:7d} | {cells}")
        print(f"{'   before':22s}| " + " ".join(f"{f3(result['before'][c][i]):>16s}" for c in crit))
    print("criteria: " + "; ".join(f"{c} = {LABELS.get(c, c)}" for c in crit))
    zoom = [i for i, r in enumerate(rs) if 0 < r <= 0.5]     # where the curves sit on top of each other
    fig, axes = plt.subplots(1, 3 if zoom else 2, figsize=(13.0 if zoom else 10.0, 4.0),
                             gridspec_kw={"width_ratios": [1, 1, 0.75] if zoom else [1, 1]})
    axes[1].sharey(axes[0])
    styles = {"taylor": "o-", "taylor2019": "s--", "taylor2017": "^-."}
    step = float(np.min(np.diff(rs))) if len(rs) > 1 else 0.1
    offs = (np.arange(len(crit)) - (len(crit) - 1) / 2) * 0.08 * step   # side by side, not on top
    labels = dict(LABELS, random=f"random (mean of {n_s} seeds)")
    colors = {c: f"C{k}" for k, c in enumerate(crit)}
    for ax, key in zip(axes, ("before", "after")):
        for c, dx in zip(crit, offs):
            m = result[key][c]
            err = np.vstack([m - result[key + "_min"][c], result[key + "_max"][c] - m])
            ax.errorbar(rs + dx, m, yerr=err, fmt=styles.get(c, "o-"), ms=4, lw=1.2, capsize=2,
                        color=colors[c], label=labels.get(c, c))
        ax.axhline(result["dense"], color="k", ls=":", lw=1, label="dense")
        ax.set_xlabel("fraction of neurons/filters removed per layer")
        ax.set_xticks(rs)
        ax.set_title(f"{title} val accuracy {key} fine-tuning", fontsize=10)
    lo = min(float(np.min(result[k + "_min"][c])) for k in ("before", "after") for c in crit)
    axes[0].set_ylim(max(0.0, lo - 0.03), 1.01)          # accuracy axis zoomed to the data
    axes[0].set_ylabel("validation accuracy")
    axes[1].legend(fontsize=6.5, loc="lower left", title=f"error bars: min–max over {n_s} seeds",
                   title_fontsize=6.5)
    if zoom:                                              # the same runs, y axis zoomed
        ax = axes[2]
        xs = np.arange(len(crit))
        for g, i in enumerate(zoom):
            base = g * (len(crit) + 1)
            for k, c in enumerate(crit):
                m = result["after"][c][i]
                ax.errorbar(base + k, m, yerr=[[m - result["after_min"][c][i]], [result["after_max"][c][i] - m]],
                            fmt=styles.get(c, "o-")[0], ms=4, capsize=3, color=colors[c])
            ax.text(base + (len(crit) - 1) / 2, 1.0, f"ratio {rs[i]:.2f}", transform=ax.get_xaxis_transform(),
                    ha="center", va="bottom", fontsize=8)
        ax.axhline(result["dense"], color="k", ls=":", lw=1)
        ax.set_xticks([g * (len(crit) + 1) + k for g in range(len(zoom)) for k in xs],
                      [c for _ in zoom for c in crit], rotation=60, ha="right", fontsize=7)
        vals = [result[k][c][i] for k in ("after_min", "after_max") for c in crit for i in zoom]
        pad = 0.15 * (max(vals) - min(vals) + 1e-3)
        ax.set_ylim(min(vals) - pad, max(max(vals), result["dense"]) + pad)
        ax.set_ylabel("validation accuracy (zoomed)")
        ax.set_title(f"zoom: after fine-tuning\n(one val image = {100 / result['n_val']:.2f} points)",
                     fontsize=9, pad=14)
    fig.tight_layout()
    plt.show()


@torch.no_grad()
def _loss(model, split):
    return evaluate(model, split)["loss"]


def taylor_vs_removal(model: nn.Module, split: Split, layer: str) -> dict:
    """Test of the Taylor approximation: for every structure ``j`` of ``layer``, the *measured*
    loss change ``ΔL_j = L(model without j) − L(model)`` on ``split`` (structure removed with
    :func:`zero_structures`) next to the first-order estimate ``|Σ w ∂L/∂w|``.

    Returns ``{"layer", "taylor", "delta_loss", "spearman", "n_lower", "n_higher"}`` (Spearman
    between the Taylor score and ``|ΔL|``; the numbers of units whose removal lowers / raises the
    loss by more than 1e-7). ``model`` is not modified.
    """
    _check_model(model)
    _check_split(split)
    names = _layers(model, [layer])
    tay = taylor_scores(model, split, layers=names)[layer].detach().double().numpy()
    c = len(tay)
    base = _loss(model, split)
    delta = np.zeros(c)
    for j in range(c):
        s = torch.ones(c)
        s[j] = 0.0
        m = zero_structures(model, {layer: 1.0 / c}, criterion={layer: s})
        delta[j] = _loss(m, split) - base
    return {"layer": layer, "taylor": tay, "delta_loss": delta,
            "spearman": spearman(tay, np.abs(delta)), "n_lower": int((delta < -1e-7).sum()),
            "n_higher": int((delta > 1e-7).sum())}


def render_taylor_check(result: dict) -> None:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    ax.scatter(result["taylor"], result["delta_loss"], s=10)
    lim = max(result["taylor"].max(), np.abs(result["delta_loss"]).max())
    ax.plot([0, lim], [0, lim], "k:", lw=1, label="ΔL = Taylor")
    ax.xaxis.set_major_locator(plt.MaxNLocator(5))
    ax.set_xlabel("Taylor score |Σ w·∂L/∂w| (full-split variant)")
    ax.set_ylabel("measured ΔL when removed")
    ax.axhline(0.0, color="tab:red", lw=0.8, label="ΔL = 0 (below: removal LOWERS the loss)")
    ax.set_title(f"{result['layer']}: {result['n_lower']} of {len(result['delta_loss'])} units lower "
                 "the loss when removed", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    plt.show()


class CriteriaExplorer:
    """Everything the slider needs, computed once: the scores of every criterion (measured on
    ``score_split``), the dense model's accuracy/params/MACs/bytes/energy on ``val_split``.

    ``input_shape`` is one sample's shape, e.g. ``(64,)`` (MLP) or ``(1, 8, 8)`` (CNN).
    """

    def __init__(self, model: nn.Module, score_split: Split, val_split: Split, input_shape, *,
                 seed: int = 0, scores: Mapping | None = None):
        _check_model(model)
        _check_split(score_split, "score_split")
        _check_split(val_split, "val_split")
        self.model = copy.deepcopy(model).eval()
        self.val = val_split
        self.input_shape = tuple(input_shape)
        self.layers = list(structure_chains(self.model))
        if scores is None:
            scores = criterion_scores(self.model, score_split, seed=seed)
        elif not isinstance(scores, Mapping) or set(scores) != set(CRITERIA):
            raise TypeError("scores must be a criterion_scores() result (one entry per criterion)")
        self.scores = scores
        self.dense = self._cost(self.model)
        self._memo: dict = {}   # (ratio, criterion, layer) -> compute_criteria result

    def _cost(self, m: nn.Module) -> dict:
        summ = model_summary(m, self.input_shape)
        return {"accuracy": accuracy(m, self.val), "params": summ["params"],
                "macs": summ["macs_dense"], "bytes": model_storage(m)["total_bytes"],
                "energy_pj": model_energy(m, (1, *self.input_shape))["per_sample_pj"]}


def compute_criteria(ratio: float, criterion: str, layer: str, *, explorer: CriteriaExplorer
                     ) -> dict:
    """Remove the fraction ``ratio`` of the neurons/filters of ``layer`` (or of every hidden
    layer when ``layer == "all"``) with the lowest ``criterion`` score, physically
    (:func:`~pruninglab.pruning.shrink_model`, no fine-tuning), and report validation accuracy
    and hardware cost of the dense smaller model: parameters, MACs per sample, fp32 bytes and
    energy per sample (Horowitz 2014 table, :func:`~pruninglab.hardware.model_energy`).
    """
    if not isinstance(explorer, CriteriaExplorer):
        raise TypeError(f"explorer must be a CriteriaExplorer, got {type(explorer).__name__}")
    r = check_sparsity(ratio, "ratio")
    check_choice(criterion, "criterion", CRITERIA)
    check_choice(layer, "layer", tuple(explorer.layers) + ("all",))
    names = explorer.layers if layer == "all" else [layer]
    mods = dict(explorer.model.named_modules())
    for n in names:
        c = mods[n].weight.shape[0]
        if n_to_prune(c, r) >= c:
            raise ValueError(f"ratio={r:g} would remove all {c} outputs of {n!r}")
    key = (round(float(r), 9), criterion, layer)
    memo = explorer.__dict__.setdefault("_memo", {})
    if key not in memo:
        memo[key] = _compute_criteria(r, criterion, layer, names, mods, explorer)
    res = dict(memo[key])
    for k in ("dense", "removed", "rel"):
        res[k] = dict(res[k])
    return res


def _compute_criteria(r, criterion, layer, names, mods, explorer) -> dict:
    sc = explorer.scores[criterion]
    pruned = shrink_model(explorer.model, {n: r for n in names}, criterion={n: sc[n] for n in names})
    cost = explorer._cost(pruned)
    focus = names[0]
    s = sc[focus].detach().double().numpy()
    kept = np.zeros(len(s), dtype=bool)
    kept[np.argsort(s, kind="stable")[n_to_prune(len(s), r):]] = True
    return {"ratio": r, "criterion": criterion, "layer": layer, "focus_layer": focus,
            "removed": {n: n_to_prune(mods[n].weight.shape[0], r) for n in names},
            "dense": dict(explorer.dense), **cost,
            "scores": s, "kept": kept,
            "rel": {k: cost[k] / explorer.dense[k] for k in ("params", "macs", "bytes", "energy_pj")}}


def _criteria_text(result: dict) -> str:
    d = result["dense"]
    return (f"{result['criterion']}, ratio {result['ratio']:.2f} on {result['layer']}: removed "
            + ", ".join(f"{n} {k}" for n, k in result["removed"].items()) + "\n"
            + f"val accuracy {result['accuracy']:.4f} (dense {d['accuracy']:.4f}) | params "
            f"{result['params']} / {d['params']} | MACs {result['macs']} / {d['macs']} | bytes "
            f"{result['bytes']} / {d['bytes']} | energy {result['energy_pj'] / 1e6:.2f} / "
            f"{d['energy_pj'] / 1e6:.2f} µJ")


_REL_LABELS = ("accuracy", "params", "MACs", "bytes", "energy")


def _scores_frame(result: dict) -> tuple:
    """The static part of :func:`live_criteria`'s left panel for ``result``: (focus layer,
    number of units, signed?) — the scores are drawn divided by their largest magnitude, so the
    axes depend on the layer only, not on the criterion (whose units differ by orders of
    magnitude: APoZ is a fraction, Taylor-2019 scores are ~1e-9)."""
    s = result["scores"]
    return result["focus_layer"], len(s), bool(len(s) and float(np.min(s)) < 0)


def live_criteria(explorer: "CriteriaExplorer | None" = None):
    """A :class:`pruninglab.ui.LivePlot` for :func:`compute_criteria` results: the focus layer's
    sorted scores divided by the largest one, as bars of width 1 (red = removed, blue = kept;
    drawn as two filled step outlines, two artists instead of one per unit), left, and accuracy /
    params / MACs / bytes / energy relative to the dense model, right (fixed 0–1.1 axis).

    Blitted (``state["dynamic"]``): axes, ticks and labels are static per focus layer
    (``background_key``) and rendered once; a move, including a change of criterion, redraws
    only the title (criterion and largest score), the two score outlines and the five bars.
    With ``explorer``, the background of every layer is rendered when the plot is built, so the
    first change of the layer dropdown is a blit too (what is shown is unchanged)."""
    from ..ui import LivePlot

    if explorer is not None and not isinstance(explorer, CriteriaExplorer):
        raise TypeError(f"explorer must be a CriteriaExplorer or None, got {type(explorer).__name__}")

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.99, bottom=0.22, top=0.86, wspace=0.2)
        a0, a1 = fig.subplots(1, 2)
        a0.set_xlabel("neuron / filter (sorted)")
        a0.set_ylabel("score / largest score")
        red = a0.stairs([0.0], [-0.5, 0.5], fill=True, color="tab:red", baseline=0.0)
        blue = a0.stairs([0.0], [-0.5, 0.5], fill=True, color="tab:blue", baseline=0.0)
        rel = a1.bar(list(_REL_LABELS), np.zeros(len(_REL_LABELS)),
                     color=["tab:green"] + ["tab:gray"] * (len(_REL_LABELS) - 1))
        a1.axhline(1.0, color="k", ls=":", lw=1)
        a1.set_ylim(0, 1.1)
        a1.set_ylabel("fraction of dense")
        a1.tick_params(axis="x", labelsize=8)
        a1.set_title("relative to the dense model", fontsize=10)
        a0.autoscale(False)
        title = a0.text(0.5, 1.025, "", transform=a0.transAxes, ha="center", va="bottom", fontsize=10)
        return {"a0": a0, "title": title, "red": red, "blue": blue, "rel": rel,
                "dynamic": [title, red, blue, *rel], "background_key": _scores_frame}

    def update(st, result):
        a0, d = st["a0"], result["dense"]
        _, n, signed = _scores_frame(result)
        a0.set_ylim(-1.05 if signed else 0.0, 1.05)
        a0.set_xlim(-0.5 - 0.02 * n, n - 0.5 + 0.02 * n)
        s, kept = result["scores"], result["kept"]
        top = float(np.max(np.abs(s))) if len(s) else 0.0
        st["title"].set_text(f"{result['focus_layer']}: sorted {result['criterion']} scores, "
                             f"largest {top:.3g} (red = removed)")
        order = np.argsort(s, kind="stable")
        ys, ks = s[order] / (top if top > 0 else 1.0), kept[order]
        edges = np.arange(n + 1) - 0.5
        st["red"].set_data(np.where(ks, 0.0, ys), edges)
        st["blue"].set_data(np.where(ks, ys, 0.0), edges)
        vals = [result["accuracy"] / d["accuracy"],
                *(result["rel"][k] for k in ("params", "macs", "bytes", "energy_pj"))]
        for p, v in zip(st["rel"], vals):
            p.set_height(v)

    live = LivePlot(setup, update, text=_criteria_text, figsize=(9.0, 3.3))
    if explorer is None:
        return live
    return live.prewarm(compute_criteria(0.5, "l1", layer, explorer=explorer) for layer in explorer.layers)


def render_criteria(result: dict) -> None:
    """Print the summary and draw the :func:`live_criteria` figure (a fresh one) for ``result``."""
    live_criteria()(result)


# ------------------------------------------------------------------ cached precomputations

def _scores_compute(model_name: str, seed: int) -> dict:
    from ..data import load_digits
    from ..models import load_reference
    return criterion_scores(load_reference(model_name), load_digits("train", images=model_name == "cnn"),
                            seed=seed)


def reference_scores(model_name: str, *, seed: int = 0) -> dict:
    """:func:`criterion_scores` of the reference ``"mlp"`` / ``"cnn"`` on the *training* split,
    through :func:`pruninglab.cache.cached` (both builds of notebook 03 share it)."""
    from ..cache import cached
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    seed = check_int(seed, "seed", lo=0)
    return cached("criterion_scores", 1, _scores_compute, model_name=model_name, seed=seed)


def _compare_compute(model_name, ratios, epochs, seeds, progress=False):
    from ..data import load_digits
    from ..models import load_reference
    images = model_name == "cnn"
    shape = (1, 8, 8) if images else (64,)
    return compare_criteria(load_reference(model_name), reference_scores(model_name),
                            load_digits("train", images=images), load_digits("val", images=images),
                            ratios=ratios, input_shape=shape, epochs=epochs,
                            seeds=seeds, progress=progress)


def cached_compare(model_name: str, ratios: Sequence[float], *, epochs: int = 2,
                   seeds: Sequence[int] = (0, 1, 2), progress: bool = False) -> dict:
    """:func:`compare_criteria` of the reference ``"mlp"`` / ``"cnn"`` with the
    :func:`reference_scores`, cached on disk (deterministic: seeded fine-tuning on one thread);
    ``progress`` shows a tqdm bar while it computes."""
    from ..cache import cached
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    rs = tuple(float(check_sparsity(r, "ratios")) for r in ratios)
    res = cached("compare_criteria", 2,
                 lambda **kw: _compare_compute(**kw, progress=bool(progress)),
                 model_name=model_name, ratios=rs, epochs=int(epochs),
                 seeds=tuple(int(s) for s in seeds))
    res = dict(res)
    for k in ("criteria", "layers", "seeds"):
        res[k] = list(res[k])
    return res


def _removal_compute(model_name, split_name, layer):
    from ..data import load_digits
    from ..models import load_reference
    return taylor_vs_removal(load_reference(model_name),
                             load_digits(split_name, images=model_name == "cnn"), layer)


def cached_taylor_vs_removal(model_name: str, split_name: str, layer: str) -> dict:
    """:func:`taylor_vs_removal` of a reference model on the ``"train"`` / ``"val"`` split,
    cached on disk (one model per unit: both builds of notebook 03 share the result)."""
    from ..cache import cached
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    check_choice(split_name, "split_name", ("train", "val"))
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a str, got {type(layer).__name__}")
    return dict(cached("taylor_vs_removal", 1, _removal_compute, model_name=model_name,
                       split_name=split_name, layer=layer))
