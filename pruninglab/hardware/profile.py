"""Per-layer shapes, MACs and FLOPs of a model, traced with forward hooks.

For a Linear layer with ``K`` inputs, ``M`` outputs and batch ``N``: ``MACs = N·M·K``.
For a Conv2d with ``C`` input channels, ``K`` filters of ``R×S``, output ``P×Q`` and ``g``
groups: ``MACs = N·K·C·R·S·P·Q / g``. ``FLOPs = 2·MACs`` (one multiply + one add), the
convention of the roofline model (Williams, Waterman, Patterson 2009).
"""
from __future__ import annotations

import torch
from torch import nn

from .._validate import check_int

__all__ = ["layer_profile"]


def _check_input_shape(input_shape) -> tuple[int, ...]:
    if isinstance(input_shape, torch.Size):
        input_shape = tuple(input_shape)
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 2:
        raise TypeError("input_shape must be a tuple (batch, features...) with at least 2 entries, "
                        f"got {input_shape!r}")
    return tuple(check_int(v, "input_shape", lo=1) for v in input_shape)


def layer_profile(model: nn.Module, input_shape) -> list[dict]:
    """Trace ``model`` on zeros of ``input_shape`` and describe every Linear/Conv2d layer.

    Returns a list (forward order) of dicts with ``name``, ``kind`` ("linear"/"conv"),
    ``weight_shape``, ``in_shape``, ``out_shape``, ``batch``, ``params`` (weight elements),
    ``nonzero`` (non-zero weights), ``macs`` (dense), ``flops`` (= 2·macs), ``in_elems`` and
    ``out_elems`` (activation elements for the whole batch). The model is not modified
    (it is run under ``torch.no_grad`` and its training flag is restored).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    shape = _check_input_shape(input_shape)
    rows, hooks = [], []

    def hook(name):
        def fn(mod, inp, out):
            x = inp[0]
            w = mod.weight
            n = int(x.shape[0])
            if isinstance(mod, nn.Linear):
                macs = int(out.numel()) * mod.in_features
                kind = "linear"
            else:
                kh, kw = mod.kernel_size
                macs = int(out.numel()) * (mod.in_channels // mod.groups) * kh * kw
                kind = "conv"
            rows.append({"name": name, "kind": kind, "weight_shape": tuple(w.shape),
                         "in_shape": tuple(x.shape), "out_shape": tuple(out.shape), "batch": n,
                         "params": int(w.numel()), "nonzero": int((w.detach() != 0).sum()),
                         "macs": macs, "flops": 2 * macs, "in_elems": int(x.numel()),
                         "out_elems": int(out.numel())})
        return fn

    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Linear, nn.Conv2d)):
            hooks.append(mod.register_forward_hook(hook(name)))
    if not hooks:
        raise ValueError("model has no Linear/Conv2d layers")
    was_training = model.training
    try:
        model.eval()
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(shape, dtype=p.dtype, device=p.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows
