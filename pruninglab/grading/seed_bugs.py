"""The seed documents' buggy code, adapted as faithfully as possible to the exercise signatures.

Each function keeps the seed's logic (the line that is wrong is marked ``# seed:``) and only
changes the calling convention. The grader must reject every one of them with a hint naming
the specific problem; ``tests/test_grading_seed_bugs.py`` checks that, and the exercise
notebooks run a few of them to show what the grader says.

:data:`SEED_BUGS` maps ``exercise_id -> [(seed item, short name, factory)]``; the factory returns
a fresh function (some bugs keep state between calls, like S0-C2's threshold).
"""
from __future__ import annotations

import numpy as np

__all__ = ["SEED_BUGS", "s2_c1_l1_norm_pruning", "s2_c2_l2_norm_pruning", "make_s0_c2_weight_pruning",
           "s0_c2_compress", "s1_c5_weight_pruning", "s3_c1_structure_pruning_mask",
           "s2_c3_random_mask", "s0_c1_simple_pruning", "s3_c1_structure_pruning_neurons",
           "s2_c5_activation_pruning", "s3_c2_low_bit_quantization", "s3_c2_pair",
           "s2_c4_prune_once", "s4_q1_dense_bytes"]


# ------------------------------------------------------------------ threshold / magnitude

def s2_c1_l1_norm_pruning(weights, threshold):
    """S2-C1 verbatim: ``np.delete`` removes the small weights (shape destroyed, 2-D flattened)."""
    abs_weights = np.abs(weights)
    prune_indices = np.where(abs_weights < threshold)[0]
    pruned_weights = np.delete(weights, prune_indices)  # seed: deletes instead of zeroing
    return pruned_weights


def s2_c1_magnitude(weights, sparsity):
    """S2-C1 with the threshold set to the k-th smallest |w| (so it targets a sparsity)."""
    k = round(weights.size * sparsity)
    threshold = np.sort(np.abs(weights), axis=None)[k] if k < weights.size else np.inf
    return s2_c1_l1_norm_pruning(weights, threshold)


def s2_c2_l2_norm_pruning(weights, threshold):
    """S2-C2 verbatim: rescales the whole tensor to L2 norm ``threshold``; zeroes nothing."""
    l2_norm = np.linalg.norm(weights)
    if l2_norm > threshold:
        scale = threshold / l2_norm
        pruned_weights = weights * scale  # seed: scaling is not pruning
    else:
        pruned_weights = weights
    return pruned_weights


def make_s0_c2_weight_pruning():
    """S0-C2: ``pruning_threshold = pruning_threshold * np.max(np.abs(weights_matrix))`` inside
    the layer loop. Successive calls play the role of successive layers, so the rescaled
    threshold carries over and compounds (the seed's ``np.compress`` is replaced by zeroing
    here so that the threshold bug is what gets graded; see :func:`s0_c2_compress`)."""
    state = {"t": None}

    def weight_pruning(weights, threshold):
        pruning_threshold = threshold if state["t"] is None else state["t"]
        pruning_threshold = pruning_threshold * np.max(np.abs(weights))  # seed: relative + compounding
        state["t"] = pruning_threshold
        mask = np.abs(weights) > pruning_threshold
        return np.where(mask, weights, 0).astype(weights.dtype)

    return weight_pruning


def s0_c2_compress(weights, threshold):
    """S0-C2 with its ``np.compress(mask, weights_matrix, axis=1)`` (crashes on a 2-D mask,
    deletes entries otherwise)."""
    pruning_threshold = threshold * np.max(np.abs(weights))
    mask = np.abs(weights) > pruning_threshold
    return np.compress(mask, weights, axis=weights.ndim - 1)  # seed: deletes


def s1_c5_weight_pruning(weights, threshold):
    """S1-C5: keeps only the weights above the threshold, row by row (ragged lists)."""
    pruned_weights = []
    for layer_weights in weights:
        layer_pruned_weights = []
        for weight in layer_weights:
            if np.abs(weight) > threshold:
                layer_pruned_weights.append(weight)  # seed: drops entries
        pruned_weights.append(layer_pruned_weights)
    return pruned_weights


def s3_c1_structure_pruning_mask(weights, sparsity):
    """S3-C1: ``np.random.choice([0, 1], p=[pruning_rate, 1 - pruning_rate])`` -- random, not
    by importance, and only ~rate in expectation."""
    mask = np.random.choice([0, 1], size=weights.shape, p=[sparsity, 1 - sparsity])
    return weights * mask


def s2_c3_random_mask(weights, sparsity):
    """S2-C3 / S2-C4: ``tf.cast(tf.random.uniform(shape) < pruning_rate)`` as the KEEP mask --
    random and inverted (keeps a fraction ``pruning_rate``)."""
    kernel_to_prune = (np.random.uniform(0, 1, size=weights.shape) < sparsity).astype(np.float32)
    return (weights * kernel_to_prune).astype(weights.dtype)


# ------------------------------------------------------------------ neuron_prune

def s0_c1_simple_pruning(W, b, W_next, k):
    """S0-C1: picks the units to delete at random and deletes them from this layer only (the
    next layer, which consumed them, is left as it was)."""
    layers_to_prune = np.random.choice(W.shape[0], k, replace=False)  # seed: random choice
    W2 = np.delete(W, layers_to_prune, axis=0)
    b2 = np.delete(b, layers_to_prune)
    return W2, b2, W_next  # seed: the next layer is not updated


def s3_c1_structure_pruning_neurons(W, b, W_next, k):
    """S3-C1 called "structure pruning": a random elementwise mask; nothing is removed."""
    rate = k / W.shape[0]
    mask = np.random.choice([0, 1], size=W.shape, p=[rate, 1 - rate])
    return W * mask, b, W_next


def s2_c5_activation_pruning(W, b, W_next, k):
    """S2-C5: per-neuron score ``mean(square(.), axis=1)`` (here of the weights: no data), then
    ``reshape(prune_indices, kernel.shape)`` -- a per-neuron vector cannot take the matrix shape."""
    activation = np.mean(np.square(W), axis=1)
    threshold = np.sort(activation)[k] if k < len(activation) else np.inf
    prune_indices = (activation > threshold).astype(W.dtype)
    kernel_to_prune = np.reshape(prune_indices, W.shape)  # seed: crashes
    bias_to_prune = np.reshape(prune_indices, b.shape)
    return W * kernel_to_prune, b * bias_to_prune, W_next


# ------------------------------------------------------------------ quantization

def s3_c2_low_bit_quantization(weights, bits):
    """S3-C2 verbatim core: returns one float array ``sign(w)*|w|/2^(p-1)`` (nothing rounded)."""
    quantized_weights = np.sign(weights) * (np.abs(weights) / (2 ** (bits - 1)))  # seed
    return quantized_weights


def s3_c2_pair(weights, bits):
    """S3-C2 adapted to the (codes, scale) signature: the 'codes' are the rescaled floats."""
    return s3_c2_low_bit_quantization(weights, bits), float(2 ** (bits - 1))


# ------------------------------------------------------------------ schedules / storage

def s2_c4_prune_once(step, initial, final, start, n_steps, interval):
    """S2-C4 "dynamic" pruning: trains all epochs, then prunes once at ``pruning_rate``."""
    return float(final) if step >= start + n_steps * interval else float(initial)


def s4_q1_dense_bytes(weights, value_bits, index_bits):
    """S4-Q1 / S3-C1's implicit claim that a masked (zeroed) dense matrix is smaller: counts
    every entry as stored."""
    return -(-(weights.size * value_bits) // 8)


SEED_BUGS = {
    "magnitude_prune": [("S2-C1", "np.delete", lambda: s2_c1_magnitude),
                        ("S3-C1", "random mask", lambda: s3_c1_structure_pruning_mask),
                        ("S2-C3", "inverted random mask", lambda: s2_c3_random_mask)],
    "threshold_prune": [("S2-C1", "np.delete", lambda: s2_c1_l1_norm_pruning),
                        ("S2-C2", "L2 scaling", lambda: s2_c2_l2_norm_pruning),
                        ("S0-C2", "compounding relative threshold", make_s0_c2_weight_pruning),
                        ("S0-C2", "np.compress", lambda: s0_c2_compress),
                        ("S1-C5", "ragged lists", lambda: s1_c5_weight_pruning)],
    "neuron_prune": [("S0-C1", "random, next layer untouched", lambda: s0_c1_simple_pruning),
                     ("S3-C1", "mask, nothing removed", lambda: s3_c1_structure_pruning_neurons),
                     ("S2-C5", "reshape crash", lambda: s2_c5_activation_pruning)],
    "symmetric_quantize": [("S3-C2", "scaling, single array", lambda: s3_c2_low_bit_quantization),
                           ("S3-C2", "scaling as (codes, scale)", lambda: s3_c2_pair)],
    "agp_sparsity": [("S2-C4", "prune once at the end", lambda: s2_c4_prune_once)],
    "csr_bytes": [("S4-Q1", "dense bytes", lambda: s4_q1_dense_bytes)],
    "n_m_prune": [],
}
