"""Model-level unstructured pruning: compute masks for a model (pure), apply them (in place).

Only the ``weight`` of ``nn.Linear`` / ``nn.Conv2d`` layers is pruned; biases and BatchNorm
parameters are few (pruning them saves almost nothing) and are left dense.

* ``scope="layer"``: every layer is pruned to the same sparsity ``s`` (or to its own ``s_l``
  when ``sparsity`` is a dict) — Han et al. (2015).
* ``scope="global"``: one magnitude threshold over all selected layers; exactly
  ``round(s · Σ n_l)`` weights removed in total (Zhu & Gupta, 2017; Frankle & Carbin, 2019).
* ``method="random"``: the baseline that ignores importance (same exact counts).
"""
from __future__ import annotations

import copy
from typing import Iterable, Mapping

import torch
from torch import nn

from .._validate import check_choice, check_int, check_sparsity
from .masks import global_magnitude_masks, magnitude_mask, random_mask

__all__ = ["prunable_layers", "compute_masks", "apply_masks_", "prune_model", "check_masks_hold",
           "model_weights"]


def _check_model(model) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def prunable_layers(model: nn.Module, types=(nn.Linear, nn.Conv2d)) -> dict[str, nn.Module]:
    """``{qualified name: module}`` of the layers of the given ``types`` (model order)."""
    _check_model(model)
    if isinstance(types, type):
        types = (types,)
    if not isinstance(types, tuple) or not types or not all(isinstance(t, type) for t in types):
        raise TypeError("types must be a module class or a non-empty tuple of module classes")
    return {n: m for n, m in model.named_modules() if n and isinstance(m, types)}


def _select(model: nn.Module, layers: Iterable[str] | None) -> dict[str, nn.Module]:
    prunable = prunable_layers(model)
    if not prunable:
        raise ValueError("model has no prunable (Linear/Conv2d) layers")
    if layers is None:
        return prunable
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError("layers must not be empty (use None for all prunable layers)")
    out = {}
    for n in layers:
        if not isinstance(n, str):
            raise TypeError(f"layers must contain str names, got {type(n).__name__}")
        if n not in prunable:
            raise ValueError(f"layers: unknown layer {n!r}; known prunable layers: {list(prunable)}")
        out[n] = prunable[n]
    return out


def model_weights(model: nn.Module, layers: Iterable[str] | None = None) -> dict[str, torch.Tensor]:
    """``{name: weight}`` (detached views, no copy) of the selected prunable layers."""
    return {n: m.weight.detach() for n, m in _select(_check_model(model), layers).items()}


def compute_masks(model: nn.Module, sparsity, *, scope: str = "global", method: str = "magnitude",
                  layers: Iterable[str] | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    """Boolean masks ``{layer name: mask like weight}`` (True = keep); the model is not changed.

    Parameters
    ----------
    sparsity : float in [0, 1), or (``scope="layer"`` only) a dict ``{layer: s_l}``; layers
        missing from the dict get 0.
    scope : ``"global"`` (one threshold, exact total count) or ``"layer"`` (``round(s·n_l)``
        per layer).
    method : ``"magnitude"`` (smallest ``|w|`` pruned) or ``"random"`` (baseline; layer ``i``
        uses seed ``seed + i`` with ``scope="layer"``).
    layers : names of prunable layers (default: every Linear/Conv2d). Unknown names raise
        ``ValueError`` listing the known ones.
    """
    _check_model(model)
    check_choice(scope, "scope", ("global", "layer"))
    check_choice(method, "method", ("magnitude", "random"))
    check_int(seed, "seed", lo=0)
    sel = _select(model, layers)
    weights = {n: m.weight.detach() for n, m in sel.items()}
    if isinstance(sparsity, Mapping):
        if scope != "layer":
            raise ValueError("a per-layer sparsity dict needs scope='layer'")
        unknown = [n for n in sparsity if n not in weights]
        if unknown:
            raise ValueError(f"sparsity: unknown layers {unknown}; known: {list(weights)}")
        per = {n: check_sparsity(sparsity.get(n, 0.0), f"sparsity[{n!r}]") for n in weights}
    else:
        s = check_sparsity(sparsity)
        per = {n: s for n in weights}
    if scope == "layer":
        if method == "magnitude":
            return {n: magnitude_mask(w, per[n]) for n, w in weights.items()}
        return {n: random_mask(w, per[n], seed=seed + i) for i, (n, w) in enumerate(weights.items())}
    if method == "magnitude":
        return global_magnitude_masks(weights, s)
    # global random: exactly round(s·N) pruned positions drawn uniformly over all weights
    sizes = [w.numel() for w in weights.values()]
    flat = random_mask((int(sum(sizes)),), s, seed=seed)
    out, pos = {}, 0
    for (n, w), sz in zip(weights.items(), sizes):
        out[n] = torch.from_numpy(flat[pos:pos + sz].copy()).reshape(w.shape).to(w.device)
        pos += sz
    return out


def _check_masks(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> dict[str, nn.Module]:
    if not isinstance(masks, Mapping):
        raise TypeError(f"masks must be a mapping layer name -> bool tensor, got {type(masks).__name__}")
    prunable = prunable_layers(model)
    out = {}
    for n, m in masks.items():
        if n not in prunable:
            raise ValueError(f"masks: unknown layer {n!r}; known prunable layers: {list(prunable)}")
        if not isinstance(m, torch.Tensor):
            raise TypeError(f"masks[{n!r}] must be a torch.Tensor, got {type(m).__name__}")
        if tuple(m.shape) != tuple(prunable[n].weight.shape):
            raise ValueError(f"masks[{n!r}] has shape {tuple(m.shape)}, "
                             f"weight has {tuple(prunable[n].weight.shape)}")
        out[n] = prunable[n]
    return out


@torch.no_grad()
def apply_masks_(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> nn.Module:
    """In place: ``weight ← weight ⊙ mask`` for every layer in ``masks``; returns ``model``."""
    _check_model(model)
    mods = _check_masks(model, masks)
    for n, m in masks.items():
        w = mods[n].weight
        w.masked_fill_(~m.to(device=w.device, dtype=torch.bool), 0.0)
    return model


def prune_model(model: nn.Module, sparsity, **kw) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """``(pruned deep copy, masks)``; ``model`` itself is untouched. ``kw`` go to
    :func:`compute_masks` (``scope``, ``method``, ``layers``, ``seed``)."""
    masks = compute_masks(model, sparsity, **kw)
    pruned = copy.deepcopy(model)
    apply_masks_(pruned, masks)
    return pruned, masks


@torch.no_grad()
def check_masks_hold(model: nn.Module, masks: Mapping[str, torch.Tensor]) -> bool:
    """True when every pruned position (``mask == False``) of every layer is exactly 0."""
    _check_model(model)
    mods = _check_masks(model, masks)
    for n, m in masks.items():
        w = mods[n].weight
        if bool((w[~m.to(device=w.device, dtype=torch.bool)] != 0).any()):
            return False
    return True
