"""Pruning: masks (pure), model-level application, fine-tuning, schedules, structured pruning,
data-driven criteria, sensitivity analysis and statistics.

Masks are computed by pure functions and applied in a separate step (``apply_mask`` /
``apply_masks_``), like ``torch.nn.utils.prune``. See each submodule for formulas and references.
"""
from .masks import (apply_mask, global_magnitude_masks, magnitude_mask, magnitude_order,
                    mask_from_order, n_to_prune, nm_mask, random_mask, sparsity_of, threshold_mask)
from .model import (apply_masks_, check_masks_hold, compute_masks, model_weights, prunable_layers,
                    prune_model)
from .stats import count_nonzero, count_params, layer_stats, model_summary
from .schedules import agp_schedule, agp_sparsity, linear_sparsity
from .finetune import fine_tune_, iterative_prune
from .sensitivity import DEFAULT_GRID, allocate_sparsity, sensitivity_scan
from .criteria import activation_stats, taylor_scores
from .structured import (keep_indices, prune_neurons_numpy, shrink_model, structure_chains,
                         structure_scores, structured_keep, structured_mask, zero_structures)

__all__ = [
    "magnitude_mask", "magnitude_order", "mask_from_order", "threshold_mask", "random_mask", "global_magnitude_masks", "nm_mask",
    "apply_mask", "sparsity_of", "n_to_prune",
    "prunable_layers", "compute_masks", "apply_masks_", "prune_model", "check_masks_hold",
    "model_weights",
    "layer_stats", "model_summary", "count_params", "count_nonzero",
    "agp_sparsity", "agp_schedule", "linear_sparsity",
    "fine_tune_", "iterative_prune",
    "structure_scores", "structured_mask", "keep_indices", "structure_chains", "structured_keep",
    "zero_structures", "shrink_model", "prune_neurons_numpy",
    "activation_stats", "taylor_scores",
    "sensitivity_scan", "allocate_sparsity", "DEFAULT_GRID",
]
