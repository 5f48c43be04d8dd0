"""Notebook-level glue for ``02_structured_pruning`` (neuron / filter / channel pruning).

Every pruning primitive comes from the library: the structures to keep from
:func:`pruninglab.pruning.structured_keep` (``L1`` / ``L2`` norm of each output row or filter,
Li et al. 2017, or any score dict), the physically smaller model from
:func:`~pruninglab.pruning.shrink_model`, the zero-masked model of the same shapes from
:func:`~pruninglab.pruning.zero_structures`, the equal-parameter unstructured baseline from
:func:`~pruninglab.pruning.compute_masks` + :func:`~pruninglab.pruning.fine_tune_`, MACs from
:func:`pruninglab.hardware.layer_profile`, bytes from :func:`pruninglab.hardware.model_storage` and
modeled energy (Horowitz 2014 table) from :func:`pruninglab.hardware.model_energy`.

This module only (1) turns one *channel ratio* into per-layer ratios, (2) provides the
``"random"`` baseline as seeded score dicts, (3) runs the sweep once (:func:`structured_sweep`)
and (4) provides the ``compute_structured`` / ``render_structured`` pair for the slider.

References
----------
* H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf (2017), *Pruning Filters for Efficient
  ConvNets*, ICLR — filter score ``Σ|W|`` (L1), remove whole filters *and* the next layer's
  matching input channels, then retrain.
* S. Han, J. Pool, J. Tran, W. Dally (2015), *Learning both Weights and Connections for Efficient
  Neural Networks*, NeurIPS — unstructured magnitude pruning with retraining.
* M. Horowitz (2014), *Computing's energy problem (and what we can do about it)*, ISSCC —
  energy per operation / memory access used by :func:`pruninglab.hardware.model_energy`.
"""
from __future__ import annotations

import copy
from typing import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from .._validate import check_choice, check_int, check_number, check_sparsity
from ..data import Split, load_digits
from ..hardware import layer_profile, model_energy, model_storage
from ..models import load_reference
from ..pruning import (apply_masks_, compute_masks, count_nonzero, count_params, fine_tune_,
                       shrink_model, structure_chains, zero_structures)
from ..train import accuracy, train
from ..claims import spread_verdict  # noqa: F401  (re-exported: notebook 02 imports it from here)

__all__ = ["spread_verdict", "interleaved_latency", "cached_sweep", "shrink_mlp_with", "shrink_cnn_with", "learner_sweep", "CRITERIA", "METHODS", "RATIO_GRID", "input_shape_of", "uniform_ratios",
           "criterion_scores", "structured_prune", "cost_summary", "equal_param_sparsity",
           "unstructured_like", "structured_sweep", "compute_structured", "live_structured",
           "render_structured",
           "to_numpy_dict", "from_numpy_dict"]

CRITERIA = ("l1", "l2", "random")
METHODS = CRITERIA + ("unstructured",)
RATIO_GRID = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875)


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def input_shape_of(model: nn.Module, batch: int = 1) -> tuple[int, ...]:
    """Input shape of one batch for the digits models: ``(batch, 64)`` for an MLP-like model whose
    first layer is Linear, ``(batch, 1, 8, 8)`` when the first layer is a Conv2d."""
    _check_model(model)
    batch = check_int(batch, "batch", lo=1)
    first = next((m for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))), None)
    if first is None:
        raise ValueError("model has no Linear/Conv2d layer")
    if isinstance(first, nn.Conv2d):
        return (batch, first.in_channels, 8, 8)
    return (batch, first.in_features)


def uniform_ratios(model: nn.Module, ratio: float) -> dict[str, float]:
    """``{layer: ratio}`` for every layer whose outputs can be removed (all hidden layers; the
    classifier keeps its 10 outputs). Raises ``ValueError`` naming ``ratio`` if a layer would
    lose all its outputs (``round(ratio · C) ≥ C``)."""
    _check_model(model)
    r = check_sparsity(ratio, "ratio")
    chains = structure_chains(model)
    mods = dict(model.named_modules())
    for n in chains:
        c = int(mods[n].weight.shape[0])
        if int(np.floor(r * c + 0.5)) >= c:
            raise ValueError(f"ratio={r:g} would remove all {c} outputs of layer {n!r}")
    return {n: r for n in chains}


def criterion_scores(model: nn.Module, criterion: str = "l1", seed: int = 0):
    """What :func:`pruninglab.pruning.structured_keep` takes as ``criterion``: ``"l1"`` /
    ``"l2"`` unchanged, or for ``"random"`` a dict ``{layer: uniform random scores}`` drawn
    with ``torch.Generator().manual_seed(seed + i)`` for the ``i``-th shrinkable layer (a
    reproducible *baseline* that ignores importance)."""
    _check_model(model)
    check_choice(criterion, "criterion", CRITERIA)
    seed = check_int(seed, "seed", lo=0)
    if criterion != "random":
        return criterion
    mods = dict(model.named_modules())
    out = {}
    for i, n in enumerate(structure_chains(model)):
        g = torch.Generator().manual_seed(seed + i)
        out[n] = torch.rand(int(mods[n].weight.shape[0]), generator=g, dtype=torch.float64)
    return out


def structured_prune(model: nn.Module, ratio: float, criterion: str = "l1", *, mode: str = "shrink",
                     seed: int = 0) -> nn.Module:
    """Remove ``round(ratio · C)`` outputs of every hidden layer, chosen by ``criterion``
    (``"l1"``, ``"l2"`` or ``"random"``). ``mode="shrink"`` → :func:`shrink_model` (smaller
    dense model), ``mode="zero"`` → :func:`zero_structures` (same shapes, removed units output
    0). ``model`` is not changed."""
    _check_model(model)
    check_choice(mode, "mode", ("shrink", "zero"))
    ratios = uniform_ratios(model, ratio)
    crit = criterion_scores(model, criterion, seed)
    fn = shrink_model if mode == "shrink" else zero_structures
    return fn(model, ratios, criterion=crit)


def to_numpy_dict(model: nn.Module) -> dict[str, dict[str, np.ndarray]]:
    """``{layer: {"weights": W, "biases": b}}`` (float32 numpy copies, ``nn.Linear`` layout
    ``(out, in)``) for every Linear layer — the dict format of seed item S3-C1."""
    _check_model(model)
    out = {}
    for n, m in model.named_modules():
        if isinstance(m, nn.Linear):
            out[n] = {"weights": m.weight.detach().cpu().numpy().copy(),
                      "biases": (m.bias.detach().cpu().numpy().copy() if m.bias is not None
                                 else np.zeros(m.out_features, dtype=np.float32))}
    if not out:
        raise ValueError("model has no Linear layer")
    return out


def from_numpy_dict(model: nn.Module, params: Mapping[str, Mapping[str, np.ndarray]]) -> nn.Module:
    """A copy of ``model`` whose Linear layers get ``params[layer]["weights"/"biases"]`` (shapes
    must match; values are cast to the layer's dtype). ``model`` and ``params`` are unchanged."""
    _check_model(model)
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict layer -> {{'weights', 'biases'}}, got {type(params).__name__}")
    new = copy.deepcopy(model)
    mods = dict(new.named_modules())
    with torch.no_grad():
        for n, d in params.items():
            if n not in mods or not isinstance(mods[n], nn.Linear):
                raise ValueError(f"params: {n!r} is not a Linear layer of the model")
            m = mods[n]
            w = torch.as_tensor(np.asarray(d["weights"]), dtype=m.weight.dtype)
            if tuple(w.shape) != tuple(m.weight.shape):
                raise ValueError(f"params[{n!r}]['weights'] has shape {tuple(w.shape)}, "
                                 f"layer expects {tuple(m.weight.shape)}")
            m.weight.copy_(w)
            if m.bias is not None:
                m.bias.copy_(torch.as_tensor(np.asarray(d["biases"]), dtype=m.bias.dtype))
    return new


def _weight_layers(model: nn.Module) -> dict[str, nn.Module]:
    return {n: m for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))}


def cost_summary(model: nn.Module, input_shape=None, *, format: str = "dense") -> dict:
    """Hardware-side numbers of one model for one sample:

    ``params`` (all parameters, :func:`count_params`), ``weights`` (Linear/Conv2d weight
    entries), ``nonzero_weights``, ``macs`` (dense MACs, :func:`layer_profile` — a dense engine
    multiplies zeros too), ``bytes`` (:func:`model_storage` total in ``format``, fp32 values) and
    ``energy_pj`` (:func:`model_energy` per sample, fp32; a sparse ``format`` assumes hardware
    that skips zero weights)."""
    _check_model(model)
    shape = input_shape_of(model) if input_shape is None else input_shape
    prof = layer_profile(model, shape)
    batch = int(shape[0])
    w = [m.weight.detach() for m in _weight_layers(model).values()]
    return {"params": count_params(model),
            "weights": int(sum(t.numel() for t in w)),
            "nonzero_weights": int(sum(int((t != 0).sum()) for t in w)),
            "macs": int(sum(r["macs"] for r in prof)) // batch,
            "bytes": int(model_storage(model, 32, format)["total_bytes"]),
            "energy_pj": float(model_energy(model, shape, 32, format=format)["per_sample_pj"])}


def equal_param_sparsity(model: nn.Module, shrunk: nn.Module) -> dict[str, float]:
    """Per-layer sparsity ``1 − weights(shrunk_l) / weights(model_l)`` so that unstructured
    pruning of ``model`` keeps exactly as many weights in every layer as ``shrunk`` has."""
    a, b = _weight_layers(_check_model(model)), _weight_layers(_check_model(shrunk))
    if list(a) != list(b):
        raise ValueError(f"shrunk must have the same layers as model, got {list(b)} vs {list(a)}")
    return {n: 1.0 - b[n].weight.numel() / a[n].weight.numel() for n in a}


def unstructured_like(model: nn.Module, shrunk: nn.Module) -> tuple[nn.Module, dict]:
    """A copy of ``model`` pruned by per-layer magnitude (Han et al. 2015) to the same number of
    weights per layer as ``shrunk``; returns ``(pruned_copy, masks)``."""
    sp = equal_param_sparsity(model, shrunk)
    masks = compute_masks(model, sp, scope="layer")
    m = copy.deepcopy(model)
    apply_masks_(m, masks)
    return m, masks


def _finetune(model: nn.Module, split: Split, masks, epochs: int, lr: float, seed: int):
    if epochs == 0:
        return
    if masks is None:
        train(model, split, epochs=epochs, lr=lr, seed=seed)
    else:
        fine_tune_(model, masks, split, epochs=epochs, lr=lr, seed=seed)
    model.eval()


def structured_sweep(model_name: str = "cnn", ratios: Sequence[float] = RATIO_GRID,
                     methods: Sequence[str] = METHODS, *, epochs: int = 2, lr: float = 1e-3,
                     seed: int = 0, seeds: Sequence[int] | None = None, live: bool = True) -> dict:
    """For every method and ratio: prune the reference model (structured: uniform channel
    ``ratio`` on every hidden layer with the criterion; ``"unstructured"``: per-layer magnitude at
    the *same weight count* as the L1-shrunk model), evaluate on the **validation** split, fine-tune
    ``epochs`` (mask-enforced for unstructured), evaluate again. Costs from :func:`cost_summary`
    (structured: dense format; unstructured: dense MACs plus CSR bytes / zero-skipping energy).

    ``seeds`` (default ``(seed,)``): the run is repeated once per seed — the fine-tuning order
    (and for ``"random"`` the random scores) change with the seed. ``val_pruned`` /
    ``val_finetuned`` are the means over the seeds, ``*_min`` / ``*_max`` the spread and
    ``*_runs`` every run ``(ratios, seeds)``; L1 / L2 / unstructured selections do not depend on
    the seed, so their ``val_pruned`` spread is 0. Costs are those of the first seed's model.
    At ratio 0 nothing is removed and nothing is fine-tuned (``val_finetuned`` = dense accuracy).
    Heavy (seconds): call once and pass the result to :func:`compute_structured`."""
    check_choice(model_name, "model_name", ("mlp", "cnn"))
    for m in methods:
        check_choice(m, "methods", METHODS)
    if len(methods) == 0:
        raise ValueError("methods must not be empty")
    rs = [check_sparsity(r, "ratios") for r in ratios]
    if not rs:
        raise ValueError("ratios must not be empty")
    epochs = check_int(epochs, "epochs", lo=0)
    check_number(lr, "lr", lo=0.0, lo_inclusive=False)
    seed = check_int(seed, "seed", lo=0)
    if seeds is None:
        seeds = (seed,)
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a sequence of ints, got {type(seeds).__name__}")
    seeds = tuple(check_int(s, "seeds", lo=0) for s in seeds)
    if not seeds:
        raise ValueError("seeds must not be empty")
    images = model_name == "cnn"
    tr, va = load_digits("train", images=images), load_digits("val", images=images)
    base = load_reference(model_name)
    for r in rs:
        uniform_ratios(base, r)
    shape = input_shape_of(base)
    out = {"model": base, "model_name": model_name, "val": va, "ratios": np.array(rs),
           "methods": tuple(methods), "epochs": epochs, "lr": lr, "seed": seeds[0],
           "seeds": seeds, "dense_val": accuracy(base, va), "dense": cost_summary(base, shape)}
    for meth in methods:
        rows = []
        for r in rs:
            pruned, tuned, row = [], [], None
            for s in seeds:
                if meth == "unstructured":
                    m, masks = unstructured_like(base, structured_prune(base, r, "l1"))
                else:
                    m, masks = structured_prune(base, r, meth, seed=s), None
                if meth == "random" or not pruned:
                    pruned.append(accuracy(m, va))
                else:                               # same selection for every seed
                    pruned.append(pruned[0])
                if r > 0:
                    _finetune(m, tr, masks, epochs, lr, s)
                    tuned.append(accuracy(m, va))
                else:                               # nothing removed: nothing to recover
                    tuned.append(pruned[-1])
                if row is None:
                    row = cost_summary(m, shape)
                    if meth == "unstructured":
                        sp = cost_summary(m, shape, format="csr")
                        row.update({"csr_bytes": sp["bytes"], "sparse_energy_pj": sp["energy_pj"]})
            for key, v in (("val_pruned", pruned), ("val_finetuned", tuned)):
                row[key] = float(np.mean(v))
                row[key + "_min"], row[key + "_max"] = float(np.min(v)), float(np.max(v))
                row[key + "_runs"] = np.array(v, dtype=float)
            rows.append(row)
        out[meth] = {k: np.array([row[k] for row in rows]) for k in rows[0]}
    # the slider's live numbers for every grid point, computed once here (``live``; ~1 s for the
    # CNN grid) so that a slider move on the grid is a dictionary look-up
    for meth in (out["methods"] if live else ()):
        if meth in CRITERIA:
            for r in rs:
                compute_structured(r, meth, out)
    return out


def compute_structured(ratio: float, criterion: str, sweep: dict) -> dict:
    """Slider callback. Live (exact, fast): shrink the reference model at ``ratio`` with
    ``criterion``, validation accuracy *without* fine-tuning, params / dense MACs / fp32 bytes /
    modeled energy, and the same for the equal-weight-count unstructured model (dense MACs, CSR
    bytes, zero-skipping energy). From ``sweep`` (nearest ratio of the grid, reported as
    ``grid_ratio``): accuracy after the sweep's fine-tuning."""
    if not isinstance(sweep, dict) or "ratios" not in sweep or "model" not in sweep:
        raise TypeError("sweep must be the dict returned by structured_sweep")
    check_choice(criterion, "criterion", tuple(m for m in sweep["methods"] if m in CRITERIA))
    r = check_sparsity(ratio, "ratio")
    # memo of live results, kept in the sweep (filled for the grid by structured_sweep); a
    # result is deterministic in (ratio, criterion), so a cached one is exact
    memo = sweep.setdefault("_live", {})
    key = (round(float(r), 9), criterion)
    if key not in memo:
        memo[key] = _compute_structured(float(r), criterion, sweep)
    res = dict(memo[key])
    res["unstructured"] = dict(res["unstructured"])
    res["curves"] = sweep
    return res


def _compute_structured(ratio: float, criterion: str, sweep: dict) -> dict:
    base, va = sweep["model"], sweep["val"]
    shrunk = structured_prune(base, ratio, criterion, seed=sweep["seed"])
    r = float(ratio)
    i = int(np.argmin(np.abs(sweep["ratios"] - r)))
    shape = input_shape_of(base)
    res = {"ratio": r, "criterion": criterion, "grid_ratio": float(sweep["ratios"][i]),
           "dense_val": sweep["dense_val"], "dense": sweep["dense"],
           "val_pruned": accuracy(shrunk, va),
           "val_finetuned": float(sweep[criterion]["val_finetuned"][i]),
           "val_finetuned_min": float(sweep[criterion].get("val_finetuned_min", sweep[criterion]["val_finetuned"])[i]),
           "val_finetuned_max": float(sweep[criterion].get("val_finetuned_max", sweep[criterion]["val_finetuned"])[i]),
           "n_seeds": len(sweep.get("seeds", (sweep["seed"],))),
           "epochs": sweep["epochs"]}
    res.update(cost_summary(shrunk, shape))
    unst, _ = unstructured_like(base, shrunk if criterion == "l1" else structured_prune(base, r, "l1"))
    u = cost_summary(unst, shape, format="csr")
    res["unstructured"] = {"val_pruned": accuracy(unst, va), "nonzero_weights": u["nonzero_weights"],
                           "macs_dense": cost_summary(unst, shape)["macs"], "csr_bytes": u["bytes"],
                           "sparse_energy_pj": u["energy_pj"]}
    if "unstructured" in sweep:
        res["unstructured"]["val_finetuned"] = float(sweep["unstructured"]["val_finetuned"][i])
    return res


def _structured_text(r: dict) -> str:
    d, u = r["dense"], r["unstructured"]
    n = r.get("n_seeds", 1)
    spread = (f" [min–max over {n} seeds {r['val_finetuned_min']:.4f}–{r['val_finetuned_max']:.4f}]"
              if n > 1 else "")
    return (f"{r['criterion']} ratio {r['ratio']:.3f}: val acc {r['val_pruned']:.4f} (no fine-tune), "
            f"{r['val_finetuned']:.4f} after {r['epochs']} ep.{spread} (grid {r['grid_ratio']:.3f}); "
            f"dense {r['dense_val']:.4f}\n"
            f"  structured : params {r['params']} / {d['params']}, MACs {r['macs']} / {d['macs']}, "
            f"{r['bytes']} B, {r['energy_pj'] / 1e6:.3f} µJ/sample\n"
            f"  unstructured (same #weights): MACs on dense HW {u['macs_dense']}, CSR {u['csr_bytes']} B, "
            f"{u['sparse_energy_pj'] / 1e6:.3f} µJ/sample only on zero-skipping HW")


def live_structured():
    """A :class:`pruninglab.ui.LivePlot` for :func:`compute_structured` results: validation
    accuracy vs channel ratio for every method of the sweep (left) and dense kMACs / kB per
    sample (right); the vertical line marks the current ratio. Axis limits are fixed per sweep
    (accuracy zoomed to the data; kMACs on the left axis, kB on a twin right axis, each from 0).
    When the sweep has several seeds, each fine-tuned curve has a band of its own colour (min–max
    over the seeds); one grey legend entry explains the bands.

    Blitted (``state["dynamic"]``): a ratio move redraws only the two marker lines. The curves,
    the selected criterion's no-fine-tune / cost curves and the legends are static per
    ``(sweep, criterion)`` (``background_key``): one background per criterion, rendered on its
    first visit. The right marker lives on the twin axis (drawn last, as in a full redraw)."""
    from matplotlib.patches import Patch

    from ..ui import LivePlot, pinned_id

    def setup(fig):
        fig.subplots_adjust(left=0.07, right=0.93, bottom=0.14, top=0.97, wspace=0.28)
        a1, a2 = fig.subplots(1, 2)
        a3 = a2.twinx()            # bytes on their own axis: never two units on one axis
        v1 = a1.axvline(0.0, color="k", lw=0.8)
        v2 = a3.axvline(0.0, color="k", lw=0.8)   # on the top axis: drawn above its curves
        st = {"fig": fig, "a1": a1, "a2": a2, "a3": a3, "v1": v1, "v2": v2, "sweep": None,
              "criterion": None, "static": [], "dynamic": [v1, v2]}
        st["background_key"] = lambda r: (pinned_id(st, r["curves"]), r["criterion"])
        return st

    def build(st, c):
        a1, a2, a3 = st["a1"], st["a2"], st["a3"]
        for art in st["static"]:           # a result from another sweep: start over
            art.remove()
        made = []
        x = np.asarray(c["ratios"], dtype=float)
        pad = 0.05 * max(float(x.max() - x.min()), 0.1)
        crits = [m for m in c["methods"] if m in CRITERIA]
        n_seeds = len(c.get("seeds", (c["seed"],)))
        bands = False
        for meth in c["methods"]:
            line, = a1.plot(x, c[meth]["val_finetuned"], "o-", label=f"{meth} + {c['epochs']} ep.")
            made.append(line)
            if n_seeds > 1 and "val_finetuned_min" in c[meth]:
                made.append(a1.fill_between(x, c[meth]["val_finetuned_min"], c[meth]["val_finetuned_max"],
                                            color=line.get_color(), alpha=0.15, lw=0))
                bands = True
        # one neutral legend entry for all bands (each band has its curve's colour)
        st["band_handle"] = (Patch(facecolor="0.5", alpha=0.35, lw=0, label=f"min–max over {n_seeds} seeds")
                             if bands else None)
        st["pruned"], = a1.plot(x, c[crits[0]]["val_pruned"], "k:")
        made.append(st["pruned"])
        a1.set_xlabel("channel ratio removed (unstructured: same #weights)")
        a1.set_ylabel("validation accuracy")
        a1.set_xlim(x.min() - pad, x.max() + pad)
        lo_acc = min(float(np.min(c[m][k])) for m in c["methods"]
                     for k in ("val_pruned", "val_finetuned", "val_finetuned_min") if k in c[m])
        a1.set_ylim(max(0.0, lo_acc - 0.05), 1.01)   # zoom to the data
        st["macs"], = a2.plot(x, c[crits[0]]["macs"] / 1e3, "o-", color="C0", label="structured: dense kMACs")
        made.append(st["macs"])
        top_m = max(float(np.max(c[m]["macs"])) for m in crits) / 1e3
        top_b = max(float(np.max(c[m]["bytes"])) for m in crits) / 1e3
        if "unstructured" in c:
            made += [a2.plot(x, c["unstructured"]["macs"] / 1e3, "s-", color="C1",
                             label="unstructured: dense kMACs")[0],
                     a3.plot(x, c["unstructured"]["csr_bytes"] / 1e3, "s--", color="C3",
                             label="unstructured: CSR kB")[0]]
            top_m = max(top_m, float(np.max(c["unstructured"]["macs"])) / 1e3)
            top_b = max(top_b, float(np.max(c["unstructured"]["csr_bytes"])) / 1e3)
        st["bytes"], = a3.plot(x, c[crits[0]]["bytes"] / 1e3, "o--", color="C2", label="structured: fp32 kB")
        made.append(st["bytes"])
        a2.set_xlabel("channel ratio removed")
        a2.set_ylabel("kMACs per sample (solid)")
        a3.set_ylabel("kB of weights (dashed)")
        a2.set_xlim(x.min() - pad, x.max() + pad)
        a2.set_ylim(0.0, 1.05 * top_m)
        a3.set_ylim(0.0, 1.05 * top_b)
        for ax in (a1, a2, a3):
            ax.autoscale(False)
        h2, l2 = a2.get_legend_handles_labels()
        h3, l3 = a3.get_legend_handles_labels()
        a2.legend(h2 + h3, l2 + l3, fontsize=7, loc="center right")
        st["static"] = made
        st["sweep"], st["criterion"] = c, None
        st["prewarm"] = crits            # see draw() below: every criterion's background, now

    def show_criterion(st, c, crit):
        if crit != st["criterion"]:
            st["pruned"].set_ydata(c[crit]["val_pruned"])
            st["pruned"].set_label(f"{crit}, no fine-tune")
            st["macs"].set_ydata(c[crit]["macs"] / 1e3)
            st["bytes"].set_ydata(c[crit]["bytes"] / 1e3)
            h, lab = st["a1"].get_legend_handles_labels()
            if st["band_handle"] is not None:       # the band entry after the first curve
                h = h[:1] + [st["band_handle"]] + h[1:]
                lab = lab[:1] + [st["band_handle"].get_label()] + lab[1:]
            st["a1"].legend(h, lab, fontsize=7, loc="lower left")   # fixed: "best" follows the marker
            st["criterion"] = crit

    def update(st, r):
        c, crit = r["curves"], r["criterion"]
        if st["sweep"] is not c:
            build(st, c)
        show_criterion(st, c, crit)
        for v in (st["v1"], st["v2"]):
            v.set_xdata([r["ratio"], r["ratio"]])

    live = LivePlot(setup, update, text=_structured_text, figsize=(10, 3.6))
    plain_draw = live.draw

    def draw(result):
        """``LivePlot.draw``; after the first draw of a sweep it also renders the background of
        every other criterion (a few full redraws, once), so that the first change of the
        criterion dropdown is as cheap as a ratio move. What is shown is unchanged."""
        png = plain_draw(result)
        pending = live.state.pop("prewarm", None) if isinstance(live.state, dict) else None
        live.prewarm({"curves": result["curves"], "criterion": crit, "ratio": result["ratio"]}
                     for crit in pending or () if crit != result["criterion"])
        return png

    live.draw = draw
    return live


def render_structured(r: dict) -> None:
    """Print a short summary and draw accuracy vs ratio (left) and dense MACs / bytes (right)
    (a fresh :func:`live_structured` figure)."""
    live_structured()(r)


# ------------------------------------------------------------------ the learner's functions

def _n_remove(c: int, ratio: float) -> int:
    return int(np.floor(ratio * c + 0.5))


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().copy()


def _t(a) -> torch.Tensor:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"the function must return numpy arrays, got {type(a).__name__}")
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def shrink_mlp_with(fn, model: nn.Module, ratio: float) -> nn.Module:
    """The reference MLP with ``round(ratio · C)`` neurons of ``fc1`` and ``fc2`` removed by the
    learner's ``fn(W, b, W_next, k) -> (W2, b2, W_next2)`` (numpy). ``fc2`` is pruned first (its
    rows scored on the original weights, ``fc3`` losing the matching columns), then ``fc1``
    (``fc2`` losing columns), so every row is scored on the original weights, as
    :func:`shrink_model` does. ``model`` is not changed."""
    _check_model(model)
    r = check_sparsity(ratio, "ratio")
    W1, b1, W2, b2, W3 = (_np(model.fc1.weight), _np(model.fc1.bias), _np(model.fc2.weight),
                          _np(model.fc2.bias), _np(model.fc3.weight))
    W2, b2, W3 = fn(W2, b2, W3, _n_remove(W2.shape[0], r))
    W1, b1, W2 = fn(W1, b1, W2, _n_remove(W1.shape[0], r))
    out = copy.deepcopy(model)
    for name, (w, b) in (("fc1", (W1, b1)), ("fc2", (W2, b2)), ("fc3", (W3, None))):
        old = getattr(out, name)
        w = _t(w)
        lin = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(_t(b) if b is not None else old.bias)
        setattr(out, name, lin)
    return out.eval()


def shrink_cnn_with(fn, model: nn.Module, ratio: float) -> nn.Module:
    """The reference CNN with ``round(ratio · C)`` filters of ``conv1``–``conv3`` removed by the
    learner's ``fn(conv_w, gamma, beta, mean, var, next_w, k)`` (numpy, returns the six sliced
    arrays). The classifier ``fc`` (256 = 64 channels × 2 × 2 inputs) is handed over as a
    (10, 64, 2, 2) "next conv" so that its input channels are sliced the same way. Layers are
    pruned from the last to the first, each scored on its original weights."""
    _check_model(model)
    r = check_sparsity(ratio, "ratio")
    convs = [_np(getattr(model, f"conv{i}").weight) for i in (1, 2, 3)]
    bns = [[_np(getattr(getattr(model, f"bn{i}"), a)) for a in ("weight", "bias", "running_mean",
                                                                 "running_var")] for i in (1, 2, 3)]
    fc = _np(model.fc.weight)
    nxt = fc.reshape(fc.shape[0], convs[2].shape[0], 2, 2)
    for i in (2, 1, 0):
        res = fn(convs[i], *bns[i], nxt, _n_remove(convs[i].shape[0], r))
        if not isinstance(res, (tuple, list)) or len(res) != 6:
            raise TypeError("the function must return 6 arrays (conv_w2, gamma2, beta2, mean2, var2, next_w2)")
        convs[i], bns[i], new_next = res[0], list(res[1:5]), res[5]
        if i == 2:
            fc = new_next.reshape(new_next.shape[0], -1)
        else:
            convs[i + 1] = new_next
        nxt = convs[i]          # the (shrunk) conv i is the "next conv" of conv i-1
    out = copy.deepcopy(model)
    for j, (w, bn) in enumerate(zip(convs, bns), start=1):
        w = _t(w)
        conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1, bias=False)
        norm = nn.BatchNorm2d(w.shape[0], eps=getattr(model, f"bn{j}").eps)
        with torch.no_grad():
            conv.weight.copy_(w)
            norm.weight.copy_(_t(bn[0])); norm.bias.copy_(_t(bn[1]))
            norm.running_mean.copy_(_t(bn[2])); norm.running_var.copy_(_t(bn[3]))
        setattr(out, f"conv{j}", conv)
        setattr(out, f"bn{j}", norm)
    lin = nn.Linear(fc.shape[1], fc.shape[0])
    with torch.no_grad():
        lin.weight.copy_(_t(fc)); lin.bias.copy_(model.fc.bias)
    out.fc = lin
    return out.eval()


def learner_sweep(shrink_with, fn, model: nn.Module, val: Split, ratios: Sequence[float]) -> dict:
    """Validation accuracy and parameter count of ``shrink_with(fn, model, r)`` for each ratio
    (no fine-tuning): ``{"ratios", "accuracy", "params"}``."""
    acc, params = [], []
    for r in ratios:
        m = shrink_with(fn, model, r)
        acc.append(accuracy(m, val))
        params.append(count_params(m))
    return {"ratios": tuple(float(r) for r in ratios), "accuracy": np.array(acc),
            "params": np.array(params)}


def interleaved_latency(variants: Mapping[str, nn.Module], x: torch.Tensor, *, rounds: int = 15,
                        warmup: int = 3, flush_denormal: bool = True) -> dict:
    """Per-call latency of ``model(x)`` for every variant, measured fairly: ``warmup`` calls of
    each first, then ``rounds`` rounds in which every variant is timed once, in an order that
    rotates from round to round (so a load change on the machine or a cache effect hits all of
    them, and none is always first). With ``flush_denormal`` (default) denormal floats are
    flushed to zero during the measurement (``torch.set_flush_denormal``), so that tiny values
    left by pruning cannot make a variant slow for a reason unrelated to its MACs.

    Returns ``{name: {"median_s", "min_s", "max_s", "times_s"}}`` plus ``"flush_denormal"``
    (whether flushing was supported and on). A measurement on *this* machine, not a guarantee."""
    import time
    if not isinstance(variants, Mapping) or not variants:
        raise TypeError("variants must be a non-empty dict name -> model")
    rounds = check_int(rounds, "rounds", lo=1)
    warmup = check_int(warmup, "warmup", lo=0)
    names = list(variants)
    times = {n: [] for n in names}
    flushed = bool(flush_denormal) and torch.set_flush_denormal(True)
    try:
        with torch.no_grad():
            for n in names:
                for _ in range(warmup):
                    variants[n](x)
            for r in range(rounds):
                for j in range(len(names)):
                    n = names[(j + r) % len(names)]
                    t0 = time.perf_counter()
                    variants[n](x)
                    times[n].append(time.perf_counter() - t0)
    finally:
        if flushed:
            torch.set_flush_denormal(False)
    out = {n: {"median_s": float(np.median(t)), "min_s": float(np.min(t)), "max_s": float(np.max(t)),
               "times_s": np.array(t)} for n, t in times.items()}
    out["flush_denormal"] = flushed
    return out


def _sweep_arrays(sw: dict) -> dict:
    """The cacheable part of a :func:`structured_sweep` result (no model / split objects)."""
    keep = {k: v for k, v in sw.items() if k not in ("model", "val")}
    return keep


def cached_sweep(model_name: str = "cnn", ratios: Sequence[float] = RATIO_GRID, *, epochs: int = 2,
                 seeds: Sequence[int] = (0,), progress: bool = False,
                 slider_ratios: Sequence[float] = ()) -> dict:
    """:func:`structured_sweep` through :func:`pruninglab.cache.cached` (deterministic: seeded
    fine-tuning on one thread), so that a second run of the notebook — or the other build of it —
    loads it from disk; the slider's live numbers (:func:`compute_structured`, every criterion)
    for the grid points, and for ``slider_ratios`` (the other positions a slider can reach), are
    cached with it, so no slider move waits for a model evaluation.
    ``progress`` shows a tqdm bar while it computes. The model and split objects are re-attached."""
    from ..cache import cached
    seeds = tuple(int(s) for s in seeds)
    extra = tuple(sorted({round(check_sparsity(float(r), "slider_ratios"), 9) for r in slider_ratios}))
    arrays = cached("structured_sweep", 2,
                    lambda **kw: _sweep_compute(**kw, progress=bool(progress)),
                    model_name=model_name, ratios=tuple(float(r) for r in ratios), epochs=int(epochs),
                    seeds=seeds, **({"slider_ratios": extra} if extra else {}))
    out = dict(arrays)
    live = out.pop("live")
    out["methods"] = tuple(out["methods"])
    out["seeds"] = tuple(out["seeds"])
    out["model"] = load_reference(model_name)
    out["val"] = load_digits("val", images=model_name == "cnn")
    out["_live"] = {(float(r), str(c)): v for r, c, v in live}
    return out


def _sweep_compute(model_name, ratios, epochs, seeds=(0,), progress=False, slider_ratios=()):
    """One method at a time (each one is seeded on its own, so the split changes nothing)."""
    from tqdm.auto import tqdm
    sw = None
    for meth in tqdm(METHODS, desc=f"{model_name} sweep (methods)", disable=not progress):
        part = structured_sweep(model_name, ratios, (meth,), epochs=epochs, seeds=seeds, live=False)
        if sw is None:
            sw = dict(part)
        sw[meth] = part[meth]
    sw["methods"] = METHODS
    # the slider's live numbers for every grid point (they read the fine-tuned accuracy of
    # every method, so computed on the merged sweep)
    sw["_live"] = {}
    for meth in CRITERIA:
        for r in (*sw["ratios"], *slider_ratios):
            compute_structured(float(r), meth, sw)
    live = [[k[0], k[1], v] for k, v in sw["_live"].items()]
    arr = _sweep_arrays(sw)
    out = {k: v for k, v in arr.items() if not k.startswith("_")}
    out["live"] = live
    return out
