"""Reference solutions of the graded exercises (kept out of the learner's notebooks).

Plain numpy, written for clarity; the grader must give each of them full marks."""
import math

import numpy as np


def magnitude_prune(weights, sparsity):
    k = round(weights.size * sparsity)
    out = weights.copy()
    order = np.argsort(np.abs(weights), axis=None, kind="stable")
    out.flat[order[:k]] = 0
    return out


def threshold_prune(weights, threshold):
    return np.where(np.abs(weights) >= threshold, weights, 0).astype(weights.dtype)


def neuron_prune(W, b, W_next, k):
    norms = np.linalg.norm(W, axis=1)
    keep = np.sort(np.argsort(norms, kind="stable")[k:])
    return W[keep].copy(), b[keep].copy(), W_next[:, keep].copy()


def n_m_prune(weights, n, m):
    groups = weights.reshape(-1, m)
    order = np.argsort(np.abs(groups), axis=1, kind="stable")
    out = groups.copy()
    np.put_along_axis(out, order[:, : m - n], 0, axis=1)
    return out.reshape(weights.shape)


def symmetric_quantize(weights, bits):
    if bits < 2:
        raise ValueError(f"bits must be >= 2 for symmetric quantization, got {bits}")
    qmax = 2 ** (bits - 1) - 1
    maxabs = float(np.abs(weights).max())
    if maxabs == 0:
        return np.zeros(weights.shape, np.int32), 0.0
    scale = maxabs / qmax
    codes = np.clip(np.round(weights / scale), -qmax, qmax).astype(np.int32)
    return codes, scale


def agp_sparsity(step, initial, final, start, n_steps, interval):
    end = start + n_steps * interval
    if step <= start:
        return float(initial)
    if step >= end:
        return float(final)
    progress = (step - start) / (n_steps * interval)
    return float(final + (initial - final) * (1 - progress) ** 3)


def agp_sparsity_held(step, initial, final, start, n_steps, interval):
    """Variant that updates only every ``interval`` steps (also accepted)."""
    if step > start:
        step = start + (step - start) // interval * interval
    return agp_sparsity(step, initial, final, start, n_steps, interval)


def csr_bytes(weights, value_bits, index_bits):
    rows = weights.shape[0] if weights.ndim > 1 else 1
    nnz = int(np.count_nonzero(weights))
    bits = nnz * (value_bits + index_bits) + (rows + 1) * index_bits
    return math.ceil(bits / 8)


SOLUTIONS = {
    "magnitude_prune": [magnitude_prune],
    "threshold_prune": [threshold_prune],
    "neuron_prune": [neuron_prune],
    "n_m_prune": [n_m_prune],
    "symmetric_quantize": [symmetric_quantize],
    "agp_sparsity": [agp_sparsity, agp_sparsity_held],
    "csr_bytes": [csr_bytes],
}
