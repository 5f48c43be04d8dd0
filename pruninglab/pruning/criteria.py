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

  Molchanov et al. (2019) use the square ``(Σ g w)²`` — the same ranking. The gradient is
  that of the mean cross-entropy over the whole split, model in eval mode (BatchNorm uses
  running statistics). Parameters' ``.grad`` are not touched (``torch.autograd.grad``).

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

__all__ = ["activation_stats", "taylor_scores"]


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


def taylor_scores(model: nn.Module, split: Split, layers: Iterable[str] | None = None,
                  structured: bool = True, batch_size: int = 512) -> dict[str, torch.Tensor]:
    """First-order Taylor importance (see module docstring).

    ``structured=True``: ``{layer: (C_out,)}`` per output neuron/filter; ``False``:
    ``{layer: tensor like weight}`` per weight. ``layers`` default to all Linear/Conv2d layers.
    """
    _check_model(model)
    _check_split(split)
    if not isinstance(structured, bool):
        raise TypeError(f"structured must be a bool, got {type(structured).__name__}")
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
