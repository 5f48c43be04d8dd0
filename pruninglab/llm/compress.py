"""Apply a layer-wise method to every linear layer of a :class:`TinyGPT`, sequentially.

As in the SparseGPT / Wanda / GPTQ code: calibration sequences are run through the model block by
block; each block's four linear layers are compressed using the inputs they receive **from the
already-compressed previous blocks**, then the block's outputs are recomputed with the compressed
weights and fed to the next block. Returns a compressed deep copy; the input model is untouched.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from .._validate import check_choice, check_int, check_number, check_sparsity
from .model import TinyGPT
from .pruning import hessian, magnitude_prune, sparsegpt_prune, wanda_prune
from .quant import awq_quantize, gptq_quantize, quantize_rtn

__all__ = ["METHODS", "compress_model", "layer_inputs", "model_sparsity"]

METHODS = ("magnitude", "wanda", "sparsegpt", "rtn", "gptq", "awq")
_NEEDS_DATA = {"wanda", "sparsegpt", "gptq", "awq"}


def _check_model(model):
    if not isinstance(model, TinyGPT):
        raise TypeError(f"model must be a TinyGPT, got {type(model).__name__}")


@torch.no_grad()
def layer_inputs(model: TinyGPT, calib: torch.Tensor) -> dict[str, torch.Tensor]:
    """Inputs (tokens, in_features) of every linear layer of the (unmodified) model on ``calib``."""
    _check_model(model)
    out, hooks = {}, []
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_pre_hook(
                lambda m, a, name=name: out.__setitem__(name, a[0].reshape(-1, a[0].shape[-1]).clone())))
    try:
        model(calib)
    finally:
        for h in hooks:
            h.remove()
    return out


def _apply(method, W, X, sparsity, prune_n, prune_m, bits, group_size):
    if method == "magnitude":
        return magnitude_prune(W, sparsity, prune_n, prune_m)
    if method == "rtn":
        return quantize_rtn(W, bits, group_size)
    if method == "wanda":
        return wanda_prune(W, X.double().norm(dim=0), sparsity, prune_n, prune_m)
    if method == "sparsegpt":
        return sparsegpt_prune(W, hessian(X), sparsity, prune_n, prune_m)
    if method == "gptq":
        return gptq_quantize(W, hessian(X), bits, group_size)
    return awq_quantize(W, X[::4], bits, group_size)  # every 4th token: 4x cheaper alpha search


@torch.no_grad()
def compress_model(model: TinyGPT, method: str, calib: torch.Tensor | None = None, *,
                   sparsity: float = 0.5, prune_n: int = 0, prune_m: int = 4, bits: int = 4,
                   group_size: int | None = None) -> TinyGPT:
    """Compressed copy of ``model``: ``method`` in :data:`METHODS`; ``calib`` (int64 windows, see
    :func:`pruninglab.llm.data.calibration_batch`) is required for the data-aware methods."""
    _check_model(model)
    method = check_choice(method, "method", METHODS)
    if method in _NEEDS_DATA and (not torch.is_tensor(calib) or calib.dim() != 2):
        raise ValueError(f"calib must be a 2-D int64 tensor of calibration windows for {method!r}")
    if method in ("magnitude", "wanda", "sparsegpt"):
        if prune_n:
            check_int(prune_n, "prune_n", lo=1)
        else:
            check_sparsity(sparsity)
    m = copy.deepcopy(model).eval()
    if method not in _NEEDS_DATA:
        for name, mod in m.named_modules():
            if isinstance(mod, nn.Linear) and name.startswith("blocks"):
                mod.weight.copy_(_apply(method, mod.weight, None, sparsity, prune_n, prune_m, bits, group_size))
        return m
    x = m.tok(calib) + m.pos(torch.arange(calib.shape[1]))
    for block in m.blocks:
        inputs, hooks = {}, []
        for lin in (block.attn.qkv, block.attn.proj, block.mlp.fc1, block.mlp.fc2):
            hooks.append(lin.register_forward_pre_hook(
                lambda mod, a: inputs.__setitem__(mod, a[0].reshape(-1, a[0].shape[-1]))))
        block(x)
        for h in hooks:
            h.remove()
        for lin, X in inputs.items():
            lin.weight.copy_(_apply(method, lin.weight, X, sparsity, prune_n, prune_m, bits, group_size))
        x = block(x)
    return m


def model_sparsity(model: TinyGPT) -> float:
    """Fraction of zero weights over the block linear layers."""
    _check_model(model)
    z = n = 0
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and name.startswith("blocks"):
            z += int((mod.weight == 0).sum()); n += mod.weight.numel()
    return z / n
