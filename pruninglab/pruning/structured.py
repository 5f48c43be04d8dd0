"""Structured pruning: remove whole neurons (rows of a Linear weight) or filters (output
channels of a Conv2d), either as a zero-mask or by *physically* building a smaller model.

Zero-masking (``structured_mask``, identical to ``torch.nn.utils.prune.ln_structured``) keeps
the tensor shapes, so dense hardware does the same work; ``shrink_model`` really removes the
structures — the layer's output rows/filters, its bias entries, the following BatchNorm
entries, and the matching *inputs* of the next layer — so the dense model is smaller and
faster on any hardware.

Criterion (Li et al., 2017, *Pruning Filters for Efficient ConvNets*, ICLR): the ``L_p`` norm of
each filter / neuron's incoming weights,

    score_j = ‖W_j‖_p = (Σ_i |W_{j,i}|^p)^{1/p}      (p = 1 in Li et al.; p = 2 also common),

prune the ``round(amount · C)`` structures with the smallest score (ties: lower index first).
Data-driven scores (APoZ, Hu et al. 2016; Taylor, Molchanov et al. 2017/2019) come from
:mod:`pruninglab.pruning.criteria` and can be passed as ``criterion={layer: scores}``
(larger score = more important).

Exactness of the zero-masked model vs the shrunk model: a neuron whose incoming weights are
zero still outputs ``relu(bias)`` and, after BatchNorm, ``relu(β - γ·μ/σ)`` — not zero. So
:func:`zero_structures` zeroes the weight rows *and* the bias and BatchNorm ``γ, β`` of the
removed structures; then the removed units output exactly 0 and ``shrunk(x) == masked(x)``
up to float rounding (tested with ``torch.allclose``).
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

import numpy as np
import torch
from torch import nn

from .._validate import check_array, check_choice, check_int, check_sparsity, is_tensor
from ..models import DigitsCNN, DigitsMLP
from .masks import magnitudes, n_to_prune

__all__ = ["structure_scores", "structured_mask", "keep_indices", "structure_chains",
           "structured_keep", "zero_structures", "shrink_model", "prune_neurons_numpy"]

_PASS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Dropout, nn.Identity,
         nn.Flatten, nn.MaxPool2d, nn.AvgPool2d)
_BN = (nn.BatchNorm1d, nn.BatchNorm2d)


def _check_p(p):
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2, got {p!r}")
    return int(p)


def structure_scores(w, p: int = 1, dim: int = 0):
    """``L_p`` norm of every slice ``w.select(dim, j)`` (over all other dims), like
    ``torch.nn.utils.prune.ln_structured``: ``dim=0`` scores output rows / filters,
    ``dim=1`` input columns / channels. Returns a 1-D array/tensor of length ``w.shape[dim]``."""
    check_array(w, "w", min_ndim=1)
    p = _check_p(p)
    nd = len(w.shape)
    d = check_int(dim, "dim", lo=-nd, hi=nd - 1) % nd
    other = tuple(i for i in range(nd) if i != d)
    a = magnitudes(w)   # exact |w| also for int8 (|-128| would wrap) and bool
    if is_tensor(w):
        if not a.is_floating_point():
            a = a.to(torch.float64)
        s = a.sum(dim=other) if p == 1 else a.pow(2).sum(dim=other).sqrt()
        return s if other else a
    if a.dtype.kind != "f":
        a = a.astype(np.float64)
    if not other:
        return a
    return a.sum(axis=other) if p == 1 else np.sqrt((a ** 2).sum(axis=other))


def keep_indices(scores, amount: float, *, name: str = "amount"):
    """Sorted indices of the structures kept when ``round(amount · C)`` with the smallest
    ``scores`` are removed (ties: lower index removed first). numpy → int64 array,
    torch → int64 tensor. At least one structure must remain."""
    check_array(scores, "scores", ndim=1)
    a = check_sparsity(amount, name)
    c = int(scores.shape[0])
    k = n_to_prune(c, a)
    if k >= c:
        raise ValueError(f"{name}={a:g} would remove all {c} structures; at least one must remain")
    s = scores.detach().cpu().double().numpy() if is_tensor(scores) else np.asarray(scores, dtype=np.float64)
    order = np.argsort(s, kind="stable")
    keep = np.sort(order[k:]).astype(np.int64)
    return torch.from_numpy(keep) if is_tensor(scores) else keep


def structured_mask(w, amount: float, p: int = 1, dim: int = 0):
    """Zero-mask of whole slices along ``dim`` (identical to ``ln_structured(amount, n=p, dim)``
    when there are no ties): the ``round(amount · w.shape[dim])`` slices with the smallest
    ``L_p`` norm are masked. Bool mask like ``w`` (True = keep); ``w`` is unchanged."""
    scores = structure_scores(w, p, dim)
    keep = keep_indices(scores, amount)
    nd = len(w.shape)
    d = dim % nd
    shape = [1] * nd
    shape[d] = int(w.shape[d])
    if is_tensor(w):
        sel = torch.zeros(int(w.shape[d]), dtype=torch.bool, device=w.device)
        sel[keep.to(w.device)] = True
        return sel.reshape(shape).expand(tuple(w.shape)).clone()
    sel = np.zeros(int(w.shape[d]), dtype=bool)
    sel[keep] = True
    return np.broadcast_to(sel.reshape(shape), w.shape).copy()


# ----------------------------------------------------------------------------------------------
# model graph: which layer feeds which
# ----------------------------------------------------------------------------------------------
def structure_chains(model: nn.Module) -> dict[str, dict]:
    """``{layer: {"bn": name|None, "next": name, "per_channel": int}}`` for every layer whose
    outputs can be removed; the final classifier is absent (its outputs are the classes).

    Supported: :class:`~pruninglab.models.DigitsMLP`, :class:`~pruninglab.models.DigitsCNN`
    (``conv3`` → bn3 → pool → flatten → ``fc``: each of the 64 channels owns
    ``fc.in_features / 64 = 4`` consecutive inputs of ``fc``), and ``nn.Sequential`` of
    Linear/Conv2d/BatchNorm/activation/pooling/Flatten/Dropout.
    """
    if isinstance(model, DigitsMLP):
        return {"fc1": {"bn": None, "next": "fc2", "per_channel": 1},
                "fc2": {"bn": None, "next": "fc3", "per_channel": 1}}
    if isinstance(model, DigitsCNN):
        per = model.fc.in_features // model.conv3.out_channels
        return {"conv1": {"bn": "bn1", "next": "conv2", "per_channel": 1},
                "conv2": {"bn": "bn2", "next": "conv3", "per_channel": 1},
                "conv3": {"bn": "bn3", "next": "fc", "per_channel": per}}
    if isinstance(model, nn.Sequential):
        chains, prev, bn = {}, None, None
        for name, mod in model.named_children():
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                if isinstance(mod, nn.Conv2d) and mod.groups != 1:
                    raise TypeError(f"grouped convolution {name!r} is not supported")
                if prev is not None:
                    pm = model.get_submodule(prev)
                    if isinstance(pm, nn.Conv2d) and isinstance(mod, nn.Linear):
                        if mod.in_features % pm.out_channels:
                            raise TypeError(f"cannot map channels of {prev!r} to inputs of {name!r}")
                        per = mod.in_features // pm.out_channels
                    elif isinstance(pm, nn.Linear) and isinstance(mod, nn.Conv2d):
                        per = None
                    else:
                        per = 1
                    if per is not None:
                        chains[prev] = {"bn": bn, "next": name, "per_channel": per}
                prev, bn = name, None
            elif isinstance(mod, _BN):
                if prev is None or bn is not None:
                    raise TypeError(f"unsupported position of BatchNorm {name!r}")
                bn = name
            elif not isinstance(mod, _PASS):
                raise TypeError(f"unsupported module {name!r} ({type(mod).__name__}) in nn.Sequential")
        return chains
    raise TypeError("model must be DigitsMLP, DigitsCNN or an nn.Sequential of Linear/Conv2d/BN/"
                    f"activation layers, got {type(model).__name__}")


def structured_keep(model: nn.Module, ratios: Mapping[str, float], *, criterion: Any = "l1"
                    ) -> dict[str, torch.Tensor]:
    """``{layer: sorted kept output indices}`` for each layer in ``ratios`` (pure).

    ``criterion``: ``"l1"`` / ``"l2"`` (norm of each output row/filter of the layer's weight,
    Li et al. 2017) or a dict ``{layer: 1-D scores}`` (larger = more important, e.g.
    ``activation_stats(...)[layer]["mean"]``, ``-apoz`` or ``taylor_scores``). Unknown layer
    names and the final classifier raise ``ValueError``.
    """
    chains = structure_chains(model)
    if not isinstance(ratios, Mapping):
        raise TypeError(f"ratios must be a dict layer -> fraction, got {type(ratios).__name__}")
    mods = dict(model.named_modules())
    prunable = [n for n, m in mods.items() if isinstance(m, (nn.Linear, nn.Conv2d))]
    if isinstance(criterion, str):
        check_choice(criterion, "criterion", ("l1", "l2"))
    elif not isinstance(criterion, Mapping):
        raise TypeError(f"criterion must be 'l1', 'l2' or a dict of scores, got {type(criterion).__name__}")
    keep = {}
    for n, r in ratios.items():
        if n not in chains:
            if n in prunable:
                raise ValueError(f"ratios: layer {n!r} cannot be shrunk (its outputs are the model's "
                                 f"outputs or feed no supported layer); shrinkable: {list(chains)}")
            raise ValueError(f"ratios: unknown layer {n!r}; shrinkable layers: {list(chains)}")
        r = check_sparsity(r, f"ratios[{n!r}]")
        w = mods[n].weight.detach()
        if isinstance(criterion, str):
            scores = structure_scores(w, 1 if criterion == "l1" else 2, 0)
        else:
            if n not in criterion:
                raise ValueError(f"criterion has no scores for layer {n!r}")
            scores = criterion[n]
            if not is_tensor(scores):
                check_array(scores, f"criterion[{n!r}]", ndim=1)
                scores = torch.as_tensor(np.asarray(scores, dtype=np.float64))
            check_array(scores, f"criterion[{n!r}]", ndim=1)
            if scores.shape[0] != w.shape[0]:
                raise ValueError(f"criterion[{n!r}] has {scores.shape[0]} scores, layer has {w.shape[0]} outputs")
        keep[n] = keep_indices(scores.detach().cpu(), r, name=f"ratios[{n!r}]")
    return keep


@torch.no_grad()
def zero_structures(model: nn.Module, ratios: Mapping[str, float], *, criterion: Any = "l1") -> nn.Module:
    """A copy of ``model`` where the removed structures output exactly zero: their weight rows,
    bias entries and following BatchNorm ``γ`` and ``β`` are set to 0 (see module docstring).
    Same shapes as ``model``; numerically equal to :func:`shrink_model`'s output."""
    keep = structured_keep(model, ratios, criterion=criterion)
    chains = structure_chains(model)
    for n in keep:
        bn_name = chains[n]["bn"]
        if bn_name is not None and not model.get_submodule(bn_name).affine:
            raise ValueError(f"ratios: layer {n!r} is followed by BatchNorm {bn_name!r} with "
                             "affine=False, whose output for a zeroed channel is -mean/std, not 0; "
                             "zero-masking cannot remove it: use shrink_model")
    new = copy.deepcopy(model)
    for n, k in keep.items():
        layer = new.get_submodule(n)
        drop = torch.ones(layer.weight.shape[0], dtype=torch.bool)
        drop[k] = False
        layer.weight[drop] = 0
        if layer.bias is not None:
            layer.bias[drop] = 0
        if chains[n]["bn"] is not None:
            bn = new.get_submodule(chains[n]["bn"])
            bn.weight[drop] = 0
            bn.bias[drop] = 0
    return new


def _set(model: nn.Module, name: str, mod: nn.Module):
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, mod)


def _slice_layer(layer: nn.Module, out_idx: torch.Tensor | None, in_idx: torch.Tensor | None) -> nn.Module:
    w = layer.weight.detach()
    b = layer.bias.detach() if layer.bias is not None else None
    if out_idx is not None:
        w = w[out_idx]
        b = b[out_idx] if b is not None else None
    if in_idx is not None:
        w = w[:, in_idx]
    if isinstance(layer, nn.Linear):
        new = nn.Linear(w.shape[1], w.shape[0], bias=b is not None)
    else:
        new = nn.Conv2d(w.shape[1], w.shape[0], layer.kernel_size, stride=layer.stride,
                        padding=layer.padding, dilation=layer.dilation, bias=b is not None,
                        padding_mode=layer.padding_mode)
    new = new.to(device=w.device, dtype=w.dtype)
    with torch.no_grad():
        new.weight.copy_(w)
        if b is not None:
            new.bias.copy_(b)
    new.train(layer.training)
    return new


def _slice_bn(bn: nn.Module, idx: torch.Tensor) -> nn.Module:
    new = type(bn)(len(idx), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                   track_running_stats=bn.track_running_stats)
    ref = bn.weight if bn.affine else bn.running_mean
    if ref is not None:
        new = new.to(device=ref.device, dtype=ref.dtype)
    with torch.no_grad():
        if bn.affine:
            new.weight.copy_(bn.weight[idx])
            new.bias.copy_(bn.bias[idx])
        if bn.track_running_stats:
            new.running_mean.copy_(bn.running_mean[idx])
            new.running_var.copy_(bn.running_var[idx])
            new.num_batches_tracked.copy_(bn.num_batches_tracked)
    new.train(bn.training)
    return new


def shrink_model(model: nn.Module, ratios: Mapping[str, float], *, criterion: Any = "l1") -> nn.Module:
    """A new, physically smaller model with ``round(ratio · C)`` outputs removed from each
    named layer (see :func:`structured_keep` for ``criterion``), plus the bias entries, the
    following BatchNorm entries and the matching inputs of the next layer (for the last conv
    of ``DigitsCNN`` the ``per_channel = 4`` flattened inputs of ``fc`` that belong to each
    removed channel). Scores are computed on the *original* weights. ``model`` is unchanged;
    the result equals :func:`zero_structures` numerically: ``torch.allclose(shrunk(x), masked(x))``.
    """
    keep = structured_keep(model, ratios, criterion=criterion)
    chains = structure_chains(model)
    mods = dict(model.named_modules())
    new = copy.deepcopy(model)
    out_idx: dict[str, torch.Tensor] = {}
    in_idx: dict[str, torch.Tensor] = {}
    for n, k in keep.items():
        c = chains[n]
        out_idx[n] = k
        p = c["per_channel"]
        in_idx[c["next"]] = (k[:, None] * p + torch.arange(p)[None, :]).reshape(-1) if p > 1 else k
    for n in set(out_idx) | set(in_idx):
        _set(new, n, _slice_layer(mods[n], out_idx.get(n), in_idx.get(n)))
    for n, k in keep.items():
        if chains[n]["bn"] is not None:
            _set(new, chains[n]["bn"], _slice_bn(mods[chains[n]["bn"]], k))
    return new


def prune_neurons_numpy(W: np.ndarray, b: np.ndarray, W_next: np.ndarray, k: int):
    """Teaching version of neuron pruning in plain numpy (layout of ``nn.Linear``:
    ``W`` is (out, in), ``b`` is (out,), ``W_next`` is (out_next, out)).

    Removes the ``k`` neurons with the smallest L1 norm ``Σ_i |W_{j,i}|`` (Li et al., 2017;
    ties: lower index first): their rows of ``W``, entries of ``b`` and *columns* of ``W_next``.
    Returns ``(W', b', W_next', keep)`` — new arrays; the inputs are unchanged.
    """
    for arr, name in ((W, "W"), (b, "b"), (W_next, "W_next")):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name} must be a numpy.ndarray, got {type(arr).__name__}")
    check_array(W, "W", ndim=2)
    check_array(b, "b", ndim=1)
    check_array(W_next, "W_next", ndim=2)
    out = W.shape[0]
    if b.shape[0] != out:
        raise ValueError(f"b must have {out} entries (rows of W), got {b.shape[0]}")
    if W_next.shape[1] != out:
        raise ValueError(f"W_next must have {out} columns (rows of W), got shape {W_next.shape}")
    k = check_int(k, "k", lo=0, hi=out - 1)
    order = np.argsort(magnitudes(W).astype(np.float64).sum(axis=1), kind="stable")
    keep = np.sort(order[k:])
    return W[keep].copy(), b[keep].copy(), W_next[:, keep].copy(), keep
