"""Data-driven importance criteria, measured on real data with forward hooks / autograd.

* **Mean activation** and **APoZ** (Average Percentage of Zeros; H. Hu, R. Peng, Y.-W. Tai,
  C.-K. Tang, 2016, *Network Trimming*, arXiv:1607.03250) of the post-ReLU output of each
  neuron / channel ``j``:

      mean_j = E[ relu(z_j) ],    APoZ_j = P[ relu(z_j) = 0 ]

  the expectation over samples (and spatial positions for convolutions). High APoZ / low mean
  = rarely active = candidate for removal. For the CNN, ``z`` is the BatchNorm output
  (conv → BN → ReLU), as in the model's forward pass.

* **First-order Taylor** (P. Molchanov et al., 2017, *Pruning Convolutional Neural Networks for
  Resource Efficient Inference*, ICLR; 2019, *Importance Estimation for Neural Network
  Pruning*, CVPR): removing parameters ``w_S`` changes the loss by
  ``ΔL ≈ -Σ_{i∈S} g_i w_i`` with ``g = ∂L/∂w`` on the data. Variant used here:

      per weight:     I_i = |g_i · w_i|
      per structure:  I_j = |Σ_{i ∈ row/filter j} g_i · w_i|  (+ the bias term g_b b_j if any)

  Three variants (``taylor_scores(..., variant=...)``), each labelled with its source:

  * ``"full"`` (default, a simplification): ``|Σ g w|`` with ``g`` the gradient of the mean
    cross-entropy over the *whole split* (one gradient).
  * ``"molchanov2019"``: per minibatch ``m`` (mean cross-entropy ``L_m``), the unit's
    contribution ``t_m = Σ_{i∈j} g_i w_i (+ g_b b_j)`` is squared and the squares are averaged
    over the minibatches, ``I_j = (1/M) Σ_m t_m²`` (Molchanov et al. 2019, Eq. for the
    group/gate criterion; their code accumulates the per-minibatch values and divides by the
    number of iterations).
  * ``"molchanov2017"`` (activation based): ``I_j = (1/N) Σ_n | mean_{positions} a_nj ·
    ∂L_n/∂a_nj |`` with ``a`` the unit's post-ReLU output and ``L_n`` the loss of sample ``n``
    (Molchanov et al. 2017; their per-layer L2 normalisation does not change a layer's ranking
    and is left out).

  Model in eval mode (BatchNorm uses running statistics); parameters' ``.grad`` are not touched
  (``torch.autograd.grad``).

Scores returned as "larger = more important" can be passed to ``shrink_model(criterion=...)``
(use ``1 - apoz`` or ``mean`` for the activation criteria).
"""
from __future__ import annotations

from typing import Iterable

import torch
from torch import nn

from ..data import Split
from .model import _check_model, _select
from .structured import structure_chains

__all__ = ["activation_stats", "taylor_scores", "TAYLOR_VARIANTS"]


def _check_split(split):
    if not isinstance(split, Split):
        raise TypeError(f"split must be a pruninglab.data.Split, got {type(split).__name__}")
    if len(split) == 0:
        raise ValueError("split must not be empty")
    return split


@torch.no_grad()
def activation_stats(model: nn.Module, split: Split, layers: Iterable[str] | None = None,
                     batch_size: int = 512) -> dict[str, dict[str, torch.Tensor]]:
    """``{layer: {"mean": (C,), "apoz": (C,)}}`` of the post-ReLU activations on ``split``.

    ``layers`` default to every hidden layer (the ones :func:`structure_chains` knows; the
    classifier's outputs are logits, not ReLU activations). The model is not modified.
    """
    _check_model(model)
    _check_split(split)
    chains = structure_chains(model)
    names = list(chains) if layers is None else list(layers)
    for n in names:
        if n not in chains:
            raise ValueError(f"layers: {n!r} is not a hidden layer followed by ReLU; "
                             f"known: {list(chains)}")
    sums: dict[str, torch.Tensor] = {}
    zeros: dict[str, torch.Tensor] = {}
    counts: dict[str, int] = {n: 0 for n in names}

    def hook(name):
        def fn(mod, inp, out):
            a = torch.relu(out)
            red = [0] + list(range(2, a.dim()))      # over samples and spatial positions
            s = a.sum(dim=red)
            z = (a == 0).sum(dim=red).to(torch.float64)
            sums[name] = sums.get(name, 0) + s.to(torch.float64)
            zeros[name] = zeros.get(name, 0) + z
            counts[name] += a.numel() // a.shape[1]
        return fn

    handles = []
    for n in names:
        target = chains[n]["bn"] or n
        handles.append(model.get_submodule(target).register_forward_hook(hook(n)))
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(split), batch_size):
            model(split.x[i:i + batch_size])
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {n: {"mean": (sums[n] / counts[n]).float(), "apoz": (zeros[n] / counts[n]).float()}
            for n in names}


TAYLOR_VARIANTS = ("full", "molchanov2019", "molchanov2017")


def taylor_scores(model: nn.Module, split: Split, layers: Iterable[str] | None = None,
                  structured: bool = True, batch_size: int = 512,
                  variant: str = "full", seed: int | None = None) -> dict[str, torch.Tensor]:
    """First-order Taylor importance (see module docstring for the three ``variant`` s).

    ``structured=True``: ``{layer: (C_out,)}`` per output neuron/filter; ``False``:
    ``{layer: tensor like weight}`` per weight (``variant="full"`` only). ``layers`` default to
    all Linear/Conv2d layers (hidden layers only for ``"molchanov2017"``). ``batch_size`` is the
    minibatch size of ``"molchanov2019"`` (the last minibatch may be smaller); ``seed`` its
    minibatch order: ``None`` = the split's order, an int = a seeded permutation of the split
    (Molchanov et al. accumulate over shuffled training minibatches, so the score depends on it;
    the other variants are sums over samples and take no seed).
    """
    from .._validate import check_choice, check_int
    _check_model(model)
    _check_split(split)
    if not isinstance(structured, bool):
        raise TypeError(f"structured must be a bool, got {type(structured).__name__}")
    variant = check_choice(variant, "variant", TAYLOR_VARIANTS)
    batch_size = check_int(batch_size, "batch_size", lo=1)
    if variant != "full" and not structured:
        raise ValueError(f"variant={variant!r} is per unit: use structured=True")
    if seed is not None:
        seed = check_int(seed, "seed", lo=0)
        if variant != "molchanov2019":
            raise ValueError(f"seed only sets the minibatch order of variant='molchanov2019', "
                             f"not {variant!r}")
    if variant == "molchanov2019":
        if seed is not None:
            perm = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))
            split = Split(split.name, split.x[perm], split.y[perm])
        return _taylor_2019(model, split, layers, batch_size)
    if variant == "molchanov2017":
        return _taylor_2017(model, split, layers, batch_size)
    sel = _select(model, layers)
    params, index = [], []
    for n, m in sel.items():
        params.append(m.weight)
        index.append((n, "weight"))
        if structured and m.bias is not None:
            params.append(m.bias)
            index.append((n, "bias"))
    grads = [torch.zeros_like(p) for p in params]
    was_training = model.training
    model.eval()
    try:
        n_total = len(split)
        for i in range(0, n_total, batch_size):
            xb, yb = split.x[i:i + batch_size], split.y[i:i + batch_size]
            loss = nn.functional.cross_entropy(model(xb), yb, reduction="sum") / n_total
            for acc, g in zip(grads, torch.autograd.grad(loss, params)):
                acc += g
    finally:
        model.train(was_training)
    out: dict[str, torch.Tensor] = {}
    for (n, kind), p, g in zip(index, params, grads):
        gw = (g * p.detach())
        if not structured:
            out[n] = gw.abs()
            continue
        per = gw.reshape(gw.shape[0], -1).sum(1) if kind == "weight" else gw
        out[n] = out.get(n, 0) + per
    if structured:
        out = {n: v.abs() for n, v in out.items()}
    return out


def _unit_params(model, layers):
    sel = _select(model, layers)
    params, index = [], []
    for n, m in sel.items():
        params.append(m.weight); index.append(n)
        if m.bias is not None:
            params.append(m.bias); index.append(n)
    return sel, params, index


def _taylor_2019(model, split, layers, batch_size):
    sel, params, index = _unit_params(model, layers)
    acc = {n: torch.zeros(int(m.weight.shape[0]), dtype=torch.float64) for n, m in sel.items()}
    n_batches = 0
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(split), batch_size):
            xb, yb = split.x[i:i + batch_size], split.y[i:i + batch_size]
            loss = nn.functional.cross_entropy(model(xb), yb)
            grads = torch.autograd.grad(loss, params)
            t: dict[str, torch.Tensor] = {}
            for n, p, g in zip(index, params, grads):
                gw = (g * p.detach()).to(torch.float64)
                t[n] = t.get(n, 0) + gw.reshape(gw.shape[0], -1).sum(1)
            for n in acc:
                acc[n] += t[n] ** 2
            n_batches += 1
    finally:
        model.train(was_training)
    return {n: (v / n_batches).float() for n, v in acc.items()}


def _taylor_2017(model, split, layers, batch_size):
    chains = structure_chains(model)
    names = list(chains) if layers is None else list(layers)
    for n in names:
        if n not in chains:
            raise ValueError(f"layers: {n!r} is not a hidden layer followed by ReLU; known: {list(chains)}")
    outs: dict[str, torch.Tensor] = {}

    def hook(name):
        def fn(mod, inp, out):
            outs[name] = out
        return fn

    handles = [model.get_submodule(chains[n]["bn"] or n).register_forward_hook(hook(n)) for n in names]
    acc = {n: 0.0 for n in names}
    was_training = model.training
    model.eval()
    try:
        for i in range(0, len(split), batch_size):
            xb, yb = split.x[i:i + batch_size], split.y[i:i + batch_size]
            # sum of per-sample losses: d(sum)/d a_n = d L_n / d a_n
            loss = nn.functional.cross_entropy(model(xb), yb, reduction="sum")
            zs = [outs[n] for n in names]
            grads = torch.autograd.grad(loss, zs)
            for n, z, g in zip(names, zs, grads):
                # a * dL/da == z * dL/dz for a = relu(z) (both 0 where z <= 0)
                a = torch.relu(z.detach())
                prod = (a * g * (z.detach() > 0)).to(torch.float64)
                per = prod.reshape(prod.shape[0], prod.shape[1], -1).mean(2).abs()   # (N, C)
                acc[n] = acc[n] + per.sum(0)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return {n: (acc[n] / len(split)).float() for n in names}
