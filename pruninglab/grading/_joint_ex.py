"""Exercise of notebook 06: the Deep Compression size of a pruned + weight-shared layer.

Storage (Han et al. 2016, *Deep Compression*, §2 and Fig. 2): the layer is scanned flattened in
row-major order; every non-zero stores a code (index into the codebook of shared values) and the
distance ``d`` to the previous stored entry in ``index_bits`` bits (``d − 1`` is stored, so
``1 ≤ d ≤ 2^index_bits``; the first entry counts from position −1). A longer gap is bridged by
``ceil(d / 2^index_bits) − 1`` *filler* entries holding the value 0. The codes must distinguish
every value that is stored: the ``k`` distinct non-zero shared values **plus 0 when a filler
exists** (with zeros excluded from k-means at b bits: ``2^b + 1`` levels, one bit more than
``b``), so a code has ``max(1, ceil(log2(levels)))`` bits. The codebook stores the ``k``
non-zero values in ``codebook_bits`` each (0 needs no entry). Total: an exact integer number of
bits.
"""
from __future__ import annotations

import math

import numpy as np

from ._common import Exercise, Problem, fmt, is_real_scalar

__all__ = ["EXERCISES", "MUTANTS", "deep_compression_oracle"]


def deep_compression_oracle(weights, index_bits, codebook_bits, *, variant=None):
    flat = np.asarray(weights).reshape(-1)
    pos = np.flatnonzero(flat)
    k = int(np.unique(flat[pos]).size)
    span = 2 ** index_bits
    if pos.size:
        start = 0 if variant == "gap_from_0" else -1
        gaps = np.diff(np.concatenate([[start], pos]))
        if variant == "gap_from_0":
            gaps[0] = max(gaps[0], 1)
        fillers = int(np.sum((gaps + span - 1) // span - 1))
    else:
        fillers = 0
    if variant == "no_fillers":
        fillers = 0
    levels = k + (1 if fillers and variant != "no_zero_code" else 0)
    code_bits = max(1, math.ceil(math.log2(levels))) if levels > 0 else 0
    stored = pos.size + fillers
    cb = k * codebook_bits
    if variant == "no_codebook":
        cb = 0
    return int(stored * (code_bits + index_bits) + cb)


def judge_dc(args, out):
    w, ib, cbits = args
    want = deep_compression_oracle(w, ib, cbits)
    if out is None:
        raise Problem("the result is None", "return the total number of bits (an int)")
    if not is_real_scalar(out) or isinstance(out, (np.ndarray,)) or float(out) != int(float(out)):
        raise Problem(f"the result is {fmt(out)}, expected an integer number of bits",
                      "return an int: every part (entries × bits, codebook) is a whole number of bits")
    v = int(out)
    if v == want:
        return
    hints = {
        "no_fillers": "gaps longer than 2^index_bits need filler entries (value 0): "
                      "ceil(d / 2^index_bits) − 1 per gap d, each costing a code and an index",
        "no_zero_code": "fillers store the value 0, so the codes must also represent 0: with k "
                        "non-zero shared values there are k + 1 levels (2^b + 1 for a b-bit k-means "
                        "on the survivors), i.e. ceil(log2(k + 1)) bits per code",
        "no_codebook": "add the codebook: k non-zero shared values × codebook_bits",
        "gap_from_0": "the first entry's distance counts from position −1 (d = position + 1)",
    }
    hint = ("bits = (nnz + fillers) · (code_bits + index_bits) + k · codebook_bits, code_bits = "
            "ceil(log2(levels)), levels = k (+1 when a filler exists)")
    for variant, h in hints.items():
        if v == deep_compression_oracle(w, ib, cbits, variant=variant):
            hint = h
            break
    if v * 8 == want or v == math.ceil(want / 8):
        hint = "return BITS, not bytes"
    raise Problem(f"the result is {v} bits, expected {want}", hint)


def _layer(rng, shape, density, k):
    centroids = np.round(rng.normal(size=k), 3)
    centroids[centroids == 0] = 0.5
    w = rng.choice(centroids, size=shape)
    keep = rng.random(shape) < density
    return np.where(keep, w, 0.0)


def dc_fixed():
    a = np.array([[0.0, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, -0.5, 0.5]])
    b = np.zeros(20); b[[2, 3, 19]] = [1.25, -0.75, 1.25]
    c = np.array([[1.0, 2.0], [3.0, 4.0]])
    return [
        ("3x4 layer, 2 shared values, 2-bit gaps (one filler)", (a, 2, 32)),
        ("same layer, 3-bit gaps (no filler)", (a, 3, 32)),
        ("20 weights, last gap 16 with 3-bit gaps", (b, 3, 16)),
        ("dense 2x2, 4 distinct values (no zero code needed)", (c, 4, 32)),
        ("all-zero layer", (np.zeros((2, 3)), 4, 32)),
        ("10 weights, first non-zero at position 4 with 2-bit gaps",
         (np.array([0, 0, 0, 0, 0.5, 0, 0, 0, 0, 1.0]), 2, 32)),
    ]


def dc_hidden(rng):
    cases = []
    for _ in range(5):
        shape = tuple(int(x) for x in rng.integers(3, 40, size=2))
        dens = float(rng.choice([0.02, 0.05, 0.1, 0.3]))
        k = int(rng.choice([2, 4, 16]))
        ib = int(rng.choice([2, 3, 4, 5]))
        cases.append((f"{shape} layer, density {dens}, {k} centroids, {ib}-bit gaps",
                      (_layer(rng, shape, dens, k), ib, 32)))
    return cases


def _mut(variant):
    def f(weights, index_bits, codebook_bits):
        return deep_compression_oracle(weights, index_bits, codebook_bits, variant=variant)
    return f


MUTANTS = {
    "deep_compression_bits": [
        ("-", "no filler entries", lambda: _mut("no_fillers")),
        ("-", "2^b levels: no code for the filler zero", lambda: _mut("no_zero_code")),
        ("-", "codebook not counted", lambda: _mut("no_codebook")),
        ("-", "first gap from position 0", lambda: _mut("gap_from_0")),
    ],
}

EXERCISES = [
    Exercise("deep_compression_bits",
             "exact bits of a pruned + shared layer, Deep Compression relative index (fillers, codebook)",
             "f(weights: np.ndarray, index_bits: int, codebook_bits: int) -> int",
             dc_fixed, dc_hidden, judge_dc, points=10,
             notebook="06_joint_pruning_quantization", topic="Deep Compression size",
             library=("pruninglab.quantization.size.pruned_quantized_size",
                      "pruninglab.quantization.size.pruned_quantized_breakdown",
                      "pruninglab.quantization.size.relative_index_fillers")),
]
