"""Model statistics: parameters, non-zeros, sparsity and multiply–accumulates (MACs).

MACs are counted per sample with forward hooks on one dummy input (batch of 1):

* ``nn.Linear``: ``MACs = in_features · out_features · (#positions)`` (``#positions`` = product
  of the extra leading dims, 1 for a plain (N, in) input).
* ``nn.Conv2d``: ``MACs = C_out · (C_in / groups) · k_h · k_w · H_out · W_out``.
* effective MACs ``= dense MACs × weight density`` (density = non-zero weights / weights):
  what an ideal sparse engine that skips every zero weight would do. Dense hardware still
  does all the dense MACs (Han et al., 2016 *EIE* skip zeros; a GPU running a dense kernel
  does not).

Biases are counted in ``params``/``nonzeros`` but not in MACs (additions).
"""
from __future__ import annotations


import torch
from torch import nn

from .._validate import check_int
from .model import _check_model, prunable_layers

__all__ = ["layer_stats", "model_summary", "count_params", "count_nonzero"]


def count_params(model: nn.Module, *, trainable_only: bool = False) -> int:
    """Total number of parameter entries (weights, biases, BatchNorm γ/β; buffers excluded)."""
    _check_model(model)
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only))


def count_nonzero(model: nn.Module) -> int:
    """Number of parameter entries that are not exactly 0."""
    _check_model(model)
    return int(sum(int(torch.count_nonzero(p.detach())) for p in model.parameters()))


def _check_shape(input_shape) -> tuple[int, ...]:
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    if not isinstance(input_shape, (tuple, list, torch.Size)) or len(input_shape) == 0:
        raise TypeError(f"input_shape must be a non-empty tuple of ints (one sample, no batch dim), "
                        f"got {input_shape!r}")
    return tuple(check_int(d, "input_shape", lo=1) for d in input_shape)


@torch.no_grad()
def layer_stats(model: nn.Module, input_shape, *, types=(nn.Linear, nn.Conv2d)) -> list[dict]:
    """Per-layer statistics for one sample of shape ``input_shape`` (no batch dimension,
    e.g. ``(64,)`` for ``DigitsMLP`` or ``(1, 8, 8)`` for ``DigitsCNN``).

    Returns a list (model order) of dicts with keys ``name``, ``type``, ``params`` (weight +
    bias), ``nonzeros`` (weight + bias), ``weight_params``, ``weight_nonzeros``, ``sparsity``
    (fraction of zero *weights*), ``macs_dense``, ``macs_effective``. The model is run once in
    eval mode (its mode and BatchNorm statistics are unchanged).
    """
    _check_model(model)
    shape = _check_shape(input_shape)
    layers = prunable_layers(model, types)
    macs: dict[str, int] = {}

    def hook(name):
        def fn(mod, inp, out):
            if isinstance(mod, nn.Conv2d):
                c_in = mod.in_channels // mod.groups
                kh, kw = mod.kernel_size
                per = mod.out_channels * c_in * kh * kw * int(out.shape[-1]) * int(out.shape[-2])
            elif isinstance(mod, nn.Linear):
                per = mod.in_features * mod.out_features * int(out[0].numel() // mod.out_features)
            else:
                w = getattr(mod, "weight", None)
                per = int(w.numel()) * int(out[0].numel()) if w is not None else 0
            macs[name] = macs.get(name, 0) + per
        return fn

    handles = [m.register_forward_hook(hook(n)) for n, m in layers.items()]
    was_training = model.training
    try:
        model.eval()
        p = next(model.parameters(), None)
        x = torch.zeros((1, *shape), dtype=p.dtype if p is not None else torch.float32,
                        device=p.device if p is not None else "cpu")
        model(x)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    rows = []
    for n, m in layers.items():
        w = m.weight.detach()
        b = m.bias.detach() if getattr(m, "bias", None) is not None else None
        wn, wnz = int(w.numel()), int(torch.count_nonzero(w))
        bn_, bnz = (int(b.numel()), int(torch.count_nonzero(b))) if b is not None else (0, 0)
        dense = int(macs.get(n, 0))
        rows.append({"name": n, "type": type(m).__name__, "params": wn + bn_, "nonzeros": wnz + bnz,
                     "weight_params": wn, "weight_nonzeros": wnz, "sparsity": 1.0 - wnz / wn,
                     "macs_dense": dense, "macs_effective": dense * wnz / wn})
    return rows


def model_summary(model: nn.Module, input_shape, *, types=(nn.Linear, nn.Conv2d)) -> dict:
    """Totals: ``{"layers": layer_stats(...), "params", "nonzeros"`` (all parameters of the
    model, BatchNorm included), ``"weight_params", "weight_nonzeros", "weight_sparsity"``
    (prunable weights only), ``"macs_dense", "macs_effective"`` (per sample)}."""
    rows = layer_stats(model, input_shape, types=types)
    wp = sum(r["weight_params"] for r in rows)
    wnz = sum(r["weight_nonzeros"] for r in rows)
    return {"layers": rows, "params": count_params(model), "nonzeros": count_nonzero(model),
            "weight_params": wp, "weight_nonzeros": wnz,
            "weight_sparsity": 1.0 - wnz / wp if wp else 0.0,
            "macs_dense": sum(r["macs_dense"] for r in rows),
            "macs_effective": sum(r["macs_effective"] for r in rows)}
