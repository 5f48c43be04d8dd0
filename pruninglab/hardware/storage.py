"""Storage cost of a weight tensor or a whole model in dense and sparse formats.

Notation (all sizes in **bits** unless a function name says bytes): ``n`` weights viewed as a
``rows × cols`` matrix (``rows = shape[0]``, ``cols = prod(shape[1:])``: output channels ×
fan-in, the layout a GEMM uses), ``nnz`` kept (non-zero) weights, sparsity ``s = 1 − nnz/n``,
density ``d = 1 − s``, ``b`` value bits, ``i`` index bits, ``p`` row-pointer bits.

=============  ================================================================  =================
format         bits                                                              source
=============  ================================================================  =================
``dense``      ``n·b``
``bitmask``    ``n + nnz·b`` (1 presence bit per position + kept values)         derived
``csr``        ``nnz·(b + i) + (rows + 1)·p``                                    standard CSR
``csc``        ``nnz·(b + i) + (cols + 1)·p``                                    standard CSC
``coo``        ``nnz·(b + 2i)``                                                  standard COO
``relative``   ``E·(b + r)`` with ``E = nnz + fillers`` (``r``-bit gap to the     Han et al. 2016
               previous entry; a gap larger than ``2^r`` inserts a filler zero)  (Deep Compr.), EIE
``2:4``        ``n/2·(b + 2)`` (2 kept values per group of 4, 2-bit position)     Mishra et al. 2021
``block``      ``B·(bh·bw·b + i) + (ceil(rows/bh) + 1)·p`` (BSR, ``B`` non-zero  derived (BSR)
               blocks of ``bh × bw``, padded)
``codebook``   ``n·c + 2^c·b`` (``c``-bit cluster index per weight + codebook)   Han et al. 2016
``relative_codebook``  ``E·(c + r) + 2^c·b`` (Deep Compression without Huffman)  Han et al. 2016
=============  ================================================================  =================

Given a **tensor**, the counts (``nnz``, fillers, non-zero blocks, 2:4 validity) come from its
actual zero pattern. Given a **shape and a sparsity**, they are expected values under a stated
assumption (derived, not measured):

* ``nnz = n − round(s·n)``;
* ``relative``: zeros at i.i.d. random positions, so the gap between kept weights is geometric and
  the expected number of fillers per kept weight is ``q/(1 − q)`` with ``q = s^(2^r)``, i.e.
  ``E = nnz/(1 − s^(2^r))`` (derived);
* ``block``: sparsity is at block granularity (block pruning removes whole blocks), so
  ``B = nblocks − round(s·nblocks)``;
* ``2:4``: requires ``s ≥ 0.5`` (a 2:4 tensor is at least half zeros) and ``cols % 4 == 0``.

Break-even sparsity (derived): the smallest sparsity at which a format is valid and no larger
than dense, found exactly over integer ``nnz`` (e.g. bitmask: ``s ≥ 1/b``; CSR with ``i = b``:
just above 50 %).

References
----------
* S. Han, H. Mao, W. Dally (2016), *Deep Compression*, ICLR — relative indices with filler zeros,
  k-means weight sharing (codebook), compression ``n·b/(n·log2 k + k·b)``.
* S. Han et al. (2016), *EIE: Efficient Inference Engine*, ISCA — 4-bit relative index.
* A. Mishra et al. (2021), *Accelerating Sparse Deep Neural Networks*, arXiv:2104.08378 — 2:4.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from .._validate import (check_array, check_bits, check_choice, check_int, check_sparsity,
                         is_tensor)

__all__ = ["FORMATS", "storage_bits", "storage_bytes", "break_even_sparsity", "model_storage",
           "weight_layers", "DEFAULT_INDEX_BITS"]

FORMATS = ("dense", "bitmask", "csr", "csc", "coo", "relative", "2:4", "block", "codebook",
           "relative_codebook")
#: index width used when ``index_bits=None``: 32-bit column indices for CSR/CSC/COO, a 4-bit
#: relative index for the EIE/Deep-Compression formats (EIE uses 4 bits).
DEFAULT_INDEX_BITS = {"csr": 32, "csc": 32, "coo": 32, "block": 32, "relative": 4,
                      "relative_codebook": 4}


def _shape_of(x) -> tuple[int, ...]:
    if isinstance(x, (np.ndarray,)) or is_tensor(x):
        if len(x.shape) == 0:
            raise ValueError("weights_or_shape must have at least 1 dimension, got a 0-d "
                             "(scalar) array")
        if any(int(v) == 0 for v in x.shape):
            raise ValueError(f"weights_or_shape must not be empty, got shape {tuple(x.shape)}")
        return tuple(int(v) for v in x.shape)
    if isinstance(x, torch.Size):
        return tuple(int(v) for v in x)
    if isinstance(x, (tuple, list)):
        if len(x) == 0:
            raise ValueError("weights_or_shape must not be an empty shape")
        out = []
        for v in x:
            out.append(check_int(v, "weights_or_shape", lo=1))
        return tuple(out)
    raise TypeError("weights_or_shape must be a numpy array, torch tensor or a shape tuple, "
                    f"got {type(x).__name__}")


def _as_matrix_pattern(w) -> np.ndarray:
    """Boolean non-zero pattern as a (rows, cols) numpy array (never mutates ``w``)."""
    if is_tensor(w):
        nz = (w.detach() != 0).cpu().numpy()
    else:
        nz = np.asarray(w) != 0
    if nz.ndim == 1:
        nz = nz.reshape(1, -1)
    return nz.reshape(nz.shape[0], -1)


def _relative_entries_exact(nz: np.ndarray, r: int) -> int:
    """Stored entries (kept + filler zeros) of row-major relative indexing with ``r`` bits.

    The position difference ``D`` to the previous stored entry (the first from position −1) may
    be at most ``R = 2^r``; a larger gap needs ``ceil(D/R) − 1`` filler zeros.
    """
    pos = np.flatnonzero(nz.ravel())
    if pos.size == 0:
        return 0
    diffs = np.diff(np.concatenate(([-1], pos)))
    R = 2 ** r
    fillers = (diffs + R - 1) // R - 1
    return int(pos.size + fillers.sum())


def _relative_entries_expected(n: int, nnz: int, r: int) -> int:
    if nnz == 0:
        return 0
    s = 1.0 - nnz / n
    q = s ** (2 ** r)
    return int(math.ceil(nnz / (1.0 - q) - 1e-9))


def _nm_valid(nz: np.ndarray) -> bool:
    rows, cols = nz.shape
    if cols % 4:
        return False
    return bool((nz.reshape(rows, cols // 4, 4).sum(axis=2) <= 2).all())


def _blocks(nz: np.ndarray, bh: int, bw: int) -> int:
    rows, cols = nz.shape
    R, C = -(-rows // bh), -(-cols // bw)
    pad = np.zeros((R * bh, C * bw), dtype=bool)
    pad[:rows, :cols] = nz
    return int(pad.reshape(R, bh, C, bw).any(axis=(1, 3)).sum())


def _bits_from_counts(fmt: str, rows: int, cols: int, nnz: int, b: int, i: int, p: int,
                      entries: int | None, nblocks_nz: int | None, block: tuple[int, int],
                      c: int) -> int:
    n = rows * cols
    if fmt == "dense":
        return n * b
    if fmt == "bitmask":
        return n + nnz * b
    if fmt == "csr":
        return nnz * (b + i) + (rows + 1) * p
    if fmt == "csc":
        return nnz * (b + i) + (cols + 1) * p
    if fmt == "coo":
        return nnz * (b + 2 * i)
    if fmt == "relative":
        return entries * (b + i)
    if fmt == "2:4":
        return (n // 2) * (b + 2)
    if fmt == "block":
        bh, bw = block
        return nblocks_nz * (bh * bw * b + i) + (-(-rows // bh) + 1) * p
    if fmt == "codebook":
        return n * c + (2 ** c) * b
    if fmt == "relative_codebook":
        return entries * (c + i) + (2 ** c) * b
    raise AssertionError(fmt)  # pragma: no cover


def _check_common(value_bits, format, index_bits, ptr_bits, block, cluster_bits):
    b = check_bits(value_bits, "value_bits")
    check_choice(format, "format", FORMATS)
    if index_bits is None:
        i = DEFAULT_INDEX_BITS.get(format, 32)
    else:
        i = check_int(index_bits, "index_bits", lo=1, hi=64)
    p = check_int(ptr_bits, "ptr_bits", lo=1, hi=64)
    if not (isinstance(block, (tuple, list)) and len(block) == 2):
        raise TypeError(f"block must be a (height, width) tuple, got {block!r}")
    blk = (check_int(block[0], "block", lo=1), check_int(block[1], "block", lo=1))
    c = check_int(cluster_bits, "cluster_bits", lo=1, hi=16)
    return b, i, p, blk, c


def storage_bits(weights_or_shape: Any, sparsity: float | None = None, value_bits: int = 32,
                 format: str = "dense", *, index_bits: int | None = None, ptr_bits: int = 32,
                 block: tuple[int, int] = (4, 4), cluster_bits: int = 4) -> int:
    """Exact number of bits needed to store one weight tensor in ``format`` (see module table).

    Parameters
    ----------
    weights_or_shape : numpy array / torch tensor (its zero pattern is used) or a shape tuple.
    sparsity : fraction of zeros in [0, 1). ``None`` with a tensor → use its real zeros; ``None``
        with a shape → 0. Given together with a tensor, only the tensor's shape is used.
    value_bits : bits per stored value ``b`` (1..32); for the codebook formats, bits per codebook
        entry.
    format : one of :data:`FORMATS`.
    index_bits : column-index bits ``i`` (CSR/CSC/COO/block) or relative-index bits ``r``
        (relative formats); ``None`` → :data:`DEFAULT_INDEX_BITS`.
    ptr_bits : row-pointer bits ``p`` (CSR/CSC/block).
    block : (height, width) of a block for ``block``.
    cluster_bits : ``c = log2(k)`` bits per cluster index for the codebook formats.

    Raises ``ValueError`` for a 2:4 request the tensor/sparsity cannot satisfy.
    """
    b, i, p, blk, c = _check_common(value_bits, format, index_bits, ptr_bits, block, cluster_bits)
    is_arr = isinstance(weights_or_shape, np.ndarray) or is_tensor(weights_or_shape)
    if is_arr:
        check_array(weights_or_shape, "weights_or_shape")
    shape = _shape_of(weights_or_shape)
    rows = shape[0] if len(shape) > 1 else 1
    cols = int(np.prod(shape)) // rows
    n = rows * cols
    entries = nblocks_nz = None
    if is_arr and sparsity is None:
        nz = _as_matrix_pattern(weights_or_shape)
        nnz = int(nz.sum())
        if format in ("relative", "relative_codebook"):
            entries = _relative_entries_exact(nz, i)
        if format == "block":
            nblocks_nz = _blocks(nz, *blk)
        if format == "2:4" and not _nm_valid(nz):
            raise ValueError("weights_or_shape is not 2:4 sparse (more than 2 non-zeros in a group "
                             "of 4 consecutive input weights, or cols not a multiple of 4)")
    else:
        s = 0.0 if sparsity is None else check_sparsity(sparsity, "sparsity")
        nnz = n - int(round(s * n))
        if format in ("relative", "relative_codebook"):
            entries = _relative_entries_expected(n, nnz, i)
        if format == "block":
            nb = (-(-rows // blk[0])) * (-(-cols // blk[1]))
            nblocks_nz = nb - int(round(s * nb))
        if format == "2:4":
            if cols % 4:
                raise ValueError(f"2:4 format needs the input dimension (cols={cols}) to be a "
                                 "multiple of 4 (weights_or_shape)")
            if nnz > n // 2:
                raise ValueError(f"sparsity must be >= 0.5 for the 2:4 format, got {s:g}")
    return int(_bits_from_counts(format, rows, cols, nnz, b, i, p, entries, nblocks_nz, blk, c))


def storage_bytes(weights_or_shape: Any, sparsity: float | None = None, value_bits: int = 32,
                  format: str = "dense", **kwargs) -> int:
    """``ceil(storage_bits(...) / 8)`` — see :func:`storage_bits` for the formulas and arguments.

    >>> storage_bytes((256, 64), 0.0, 32, "dense")
    65536
    >>> storage_bytes((256, 64), 0.9, 8, "csr", index_bits=16)   # 1638 nnz·24 + 257·32 bits
    5942
    """
    return -(-storage_bits(weights_or_shape, sparsity, value_bits, format, **kwargs) // 8)


def break_even_sparsity(format: str, value_bits: int = 32, shape: Any = (1024, 1024),
                        **kwargs) -> float | None:
    """Smallest sparsity at which ``format`` is valid and takes **no more** bits than dense.

    Exact over integer ``nnz`` for the given ``shape`` (derived from the formulas in the module
    docstring; e.g. bitmask ``1/b``, CSR ≈ ``i/(b + i)`` plus the row-pointer overhead).
    Returns ``None`` when no sparsity below 1 makes the format as small as dense. For the
    ``codebook`` format (whose size does not depend on sparsity) the answer is 0.0 or ``None``.
    """
    check_choice(format, "format", FORMATS)
    shape = _shape_of(shape)
    n = int(np.prod(shape))
    dense = storage_bits(shape, 0.0, value_bits, "dense")

    def bits_at_nnz(nnz: int) -> int:
        s = (n - nnz) / n
        return storage_bits(shape, s, value_bits, format, **kwargs)

    if format == "2:4":
        try:
            return 0.5 if bits_at_nnz(n // 2) <= dense else None
        except ValueError:
            return None
    if format == "codebook":
        return 0.0 if bits_at_nnz(n) <= dense else None
    # bits are non-decreasing in nnz for the remaining formats: binary search the largest nnz
    lo, hi = 1, n  # nnz = 0 (sparsity 1) is outside the allowed range
    if bits_at_nnz(lo) > dense:
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if bits_at_nnz(mid) <= dense:
            lo = mid
        else:
            hi = mid - 1
    return (n - lo) / n


def weight_layers(model: nn.Module) -> list[str]:
    """Names of the ``nn.Linear`` / ``nn.Conv2d`` modules (the layers whose weights we count)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [n for n, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv2d))]


def model_storage(model: nn.Module, bits: int = 32, format: str = "dense", *,
                  sparsity: float | dict | None = None, other_bits: int = 32,
                  **kwargs) -> dict:
    """Storage of a model: every Linear/Conv2d weight in ``format`` at ``bits`` bits per value,
    everything else (biases, BatchNorm, buffers excluded) dense at ``other_bits`` (int32 biases as
    in Jacob et al. 2018).

    ``sparsity`` ``None`` → each weight's real zero pattern; a float or ``{layer: float}`` →
    the expected count for that sparsity (see :func:`storage_bits`). Returns
    ``{"layers": {name: bytes}, "weights_bytes", "other_bytes", "total_bytes",
    "dense_fp32_bytes", "compression"}`` where compression = dense fp32 bytes / total bytes.
    """
    layers = weight_layers(model)
    if not layers:
        raise ValueError("model has no Linear/Conv2d layers")
    if isinstance(sparsity, dict):
        unknown = set(sparsity) - set(layers)
        if unknown:
            raise ValueError(f"sparsity names unknown layers {sorted(unknown)}; have {layers}")
    ob = check_bits(other_bits, "other_bits")
    modules = dict(model.named_modules())
    out, weight_ids = {}, set()
    for name in layers:
        w = modules[name].weight.detach()
        weight_ids.add(id(modules[name].weight))
        s = sparsity.get(name) if isinstance(sparsity, dict) else sparsity
        if s is None and isinstance(sparsity, dict):
            s = None  # layer not listed → its real zeros
        out[name] = storage_bytes(w, s, bits, format, **kwargs)
    other_params = sum(p.numel() for p in model.parameters() if id(p) not in weight_ids)
    other_bytes = -(-other_params * ob // 8)
    total_params = sum(p.numel() for p in model.parameters())
    weights_bytes = sum(out.values())
    total = weights_bytes + other_bytes
    return {"layers": out, "weights_bytes": int(weights_bytes), "other_bytes": int(other_bytes),
            "total_bytes": int(total), "dense_fp32_bytes": int(total_params * 4),
            "compression": total_params * 4 / total}
