"""Size accounting for quantized and pruned + quantized weights.

* :func:`tensor_bits` — ``n · b`` bits for ``n`` values of ``b`` bits.
* :func:`model_size_bytes` — a model (or a ``{name: numel}`` mapping) at a given bit-width,
  including the scales / zero-points that linear quantization needs.
* :func:`weight_sharing_ratio` — k-means weight sharing (Han et al. 2016, *Deep Compression*,
  ICLR, §3): ``n`` weights of ``b`` bits replaced by ``log2(k)``-bit indices into a codebook of
  ``k`` ``b``-bit centroids::

      r = n·b / (n·log2(k) + k·b)

* :func:`pruned_quantized_size` / :func:`compression_ratio` — prune → quantize in the simple
  **relative-index sparse format** of Deep Compression (Han et al. 2016, §2 and Fig. 2): every
  non-zero stores its value (``value_bits``) and the distance to the previous non-zero
  (``index_bits``). A distance ``d`` (1 = adjacent) up to ``2^index_bits`` is stored as
  ``d − 1``; a longer gap needs ``ceil(d / 2^index_bits) − 1`` *filler* entries (an explicit zero
  value with the maximal distance). Without a mask the number of fillers is the expectation for
  uniformly random positions (gaps geometric with density ``p = 1 − sparsity``)::

      E[fillers per non-zero] = Σ_{j≥1} (1−p)^(j·M) = (1−p)^M / (1 − (1−p)^M),   M = 2^index_bits

  ``index_bits = 0`` means *dense* storage: all ``n`` values, zeros included, no indices.
  The full zoo of formats (bitmask, CSR, 2:4, blocks, ...) is in :mod:`pruninglab.hardware`.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from .._validate import check_array, check_bits, check_choice, check_int, check_sparsity

__all__ = ["tensor_bits", "model_size_bytes", "weight_sharing_ratio", "relative_index_fillers",
           "pruned_quantized_breakdown", "pruned_quantized_size", "compression_ratio"]

_QUANTIZABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)


def tensor_bits(n: int, bits: int) -> int:
    """``n · bits``: storage of ``n`` values of ``bits`` bits each (no padding)."""
    n = check_int(n, "n", lo=0)
    b = check_bits(bits, "bits", lo=1, hi=64)
    return n * b


def _layer_bits(bits, name: str) -> int:
    if isinstance(bits, Mapping):
        return check_bits(bits.get(name, 32), f"bits[{name!r}]", lo=1, hi=64)
    return check_bits(bits, "bits", lo=1, hi=64)


def model_size_bytes(model_or_sizes, bits=32, *, other_bits: int = 32, per_channel: bool = False,
                     scheme: str = "symmetric", scale_bits: int = 32) -> float:
    """Bytes needed to store a model whose weights are quantized to ``bits`` bits.

    ``model_or_sizes``
        an ``nn.Module``: the ``weight`` of every Linear/Conv layer is stored with ``bits`` bits;
        every other parameter (biases, BatchNorm γ/β) and floating buffer (BatchNorm running
        statistics) with ``other_bits``; or a mapping ``{name: number of values}`` (all of them
        stored with ``bits``).
    ``bits``
        an int, or a mapping ``{layer name: bits}`` for mixed precision (missing names: 32).
    Overhead of linear quantization, counted for every tensor stored with fewer than 32 bits:
    one scale of ``scale_bits`` bits per tensor (or per output channel if ``per_channel``),
    plus one zero-point of ``bits`` bits each for ``scheme="affine"``.

    Returns bytes as a float (``bits/8`` need not be an integer).
    """
    check_choice(scheme, "scheme", ("symmetric", "affine"))
    check_bits(other_bits, "other_bits", lo=1, hi=64)
    check_bits(scale_bits, "scale_bits", lo=1, hi=64)
    entries = []  # (name, numel, bits, channels)
    if isinstance(model_or_sizes, nn.Module):
        quantized = set()
        for name, mod in model_or_sizes.named_modules():
            if isinstance(mod, _QUANTIZABLE) and getattr(mod, "weight", None) is not None:
                w = mod.weight
                entries.append((name, w.numel(), _layer_bits(bits, name), w.shape[0]))
                quantized.add(f"{name}.weight" if name else "weight")
        if isinstance(bits, Mapping):
            known = {n for n, *_ in entries}
            unknown = [k for k in bits if k not in known]
            if unknown:
                raise ValueError(f"bits names unknown layers {unknown}; quantizable layers: "
                                 f"{sorted(known)}")
        for pname, p in model_or_sizes.named_parameters():
            if pname not in quantized:
                entries.append((pname, p.numel(), other_bits, 1))
        for bname, buf in model_or_sizes.named_buffers():
            if buf.is_floating_point():
                entries.append((bname, buf.numel(), other_bits, 1))
    elif isinstance(model_or_sizes, Mapping):
        for name, n in model_or_sizes.items():
            n = check_int(n, f"model_or_sizes[{name!r}]", lo=0)
            entries.append((name, n, _layer_bits(bits, name), 1))
    else:
        raise TypeError("model_or_sizes must be an nn.Module or a mapping name -> numel, got "
                        f"{type(model_or_sizes).__name__}")
    total = 0
    for _, n, b, ch in entries:
        total += n * b
        if b < 32 and n > 0:
            k = ch if per_channel else 1
            total += k * scale_bits + (k * b if scheme == "affine" else 0)
    return total / 8


def weight_sharing_ratio(n: int, b: int, k: int) -> float:
    """Compression of k-means weight sharing (Han et al. 2016, eq. in §3.1)::

        r = n·b / (n·log2(k) + k·b)

    ``n`` weights of ``b`` bits, ``k`` shared values (clusters). Uses ``log2(k)`` exactly as the
    paper; a real index needs ``ceil(log2 k)`` bits, which equals it when ``k`` is a power of 2.
    Example (the paper's): n=16, b=32, k=4 → 16·32 / (16·2 + 4·32) = 3.2.
    """
    n = check_int(n, "n", lo=1)
    b = check_bits(b, "b", lo=1, hi=64)
    k = check_int(k, "k", lo=1)
    return n * b / (n * math.log2(k) + k * b)


def relative_index_fillers(mask, index_bits: int) -> int:
    """Exact number of filler entries the relative-index format needs for ``mask`` (non-zero =
    kept), scanning it flattened in row-major order (Han et al. 2016, Fig. 2)."""
    check_array(mask, "mask")
    ib = check_int(index_bits, "index_bits", lo=1, hi=32)
    m = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    pos = np.flatnonzero(m.reshape(-1))
    if pos.size == 0:
        return 0
    gaps = np.diff(np.concatenate([[-1], pos]))
    span = 2 ** ib
    return int(np.sum((gaps + span - 1) // span - 1))


def pruned_quantized_breakdown(n: int, sparsity: float, value_bits: int, index_bits: int = 5, *,
                               codebook_size: int = 0, codebook_bits: int = 32,
                               mask=None) -> dict:
    """Bit budget of ``n`` weights pruned to ``sparsity`` and stored in the relative-index
    format (module docstring) with ``value_bits``-bit values (linear codes or k-means indices).

    ``codebook_size`` k > 0 adds a codebook of ``k · codebook_bits`` bits (k-means weight
    sharing); ``mask`` (optional, ``n`` entries) gives the exact filler count instead of the
    expectation. Returns ``{"nnz", "fillers", "value_bits_total", "index_bits_total",
    "codebook_bits_total", "total_bits", "total_bytes"}`` (fillers may be fractional: expectation).
    """
    n = check_int(n, "n", lo=1)
    s = check_sparsity(sparsity)
    vb = check_bits(value_bits, "value_bits", lo=1, hi=64)
    ib = check_int(index_bits, "index_bits", lo=0, hi=32)
    k = check_int(codebook_size, "codebook_size", lo=0)
    cb = check_bits(codebook_bits, "codebook_bits", lo=1, hi=64)
    if mask is not None:
        check_array(mask, "mask")
        size = mask.numel() if isinstance(mask, torch.Tensor) else np.asarray(mask).size
        if size != n:
            raise ValueError(f"mask must have n={n} entries, got {size}")
        nnz = int((mask != 0).sum())
    else:
        nnz = int(round(n * (1.0 - s)))
    if ib == 0:
        fillers = 0.0
        stored = n
        idx_total = 0
    else:
        if mask is not None:
            fillers = float(relative_index_fillers(mask, ib))
        else:
            p = nnz / n
            q = (1.0 - p) ** (2 ** ib)
            fillers = nnz * q / (1.0 - q) if q < 1.0 else 0.0
        stored = nnz + fillers
        idx_total = stored * ib
    val_total = stored * vb
    cb_total = k * cb
    total = val_total + idx_total + cb_total
    return {"nnz": nnz, "fillers": fillers, "value_bits_total": val_total,
            "index_bits_total": idx_total, "codebook_bits_total": cb_total,
            "total_bits": total, "total_bytes": total / 8}


def pruned_quantized_size(n: int, sparsity: float, value_bits: int, index_bits: int = 5, *,
                          codebook_size: int = 0, codebook_bits: int = 32, mask=None) -> float:
    """Bytes of ``n`` pruned + quantized weights in the relative-index format (see
    :func:`pruned_quantized_breakdown`; Han et al. 2016)."""
    return pruned_quantized_breakdown(n, sparsity, value_bits, index_bits,
                                      codebook_size=codebook_size, codebook_bits=codebook_bits,
                                      mask=mask)["total_bytes"]


def compression_ratio(n: int, sparsity: float, value_bits: int, index_bits: int = 5, *,
                      original_bits: int = 32, codebook_size: int = 0, codebook_bits: int = 32,
                      mask=None) -> float:
    """``n · original_bits / total_bits`` of :func:`pruned_quantized_breakdown`: how many times
    smaller the pruned + quantized tensor is than dense float32 (Han et al. 2016 report 35× for
    AlexNet with pruning + k-means + Huffman; this counts no Huffman coding)."""
    ob = check_bits(original_bits, "original_bits", lo=1, hi=64)
    n = check_int(n, "n", lo=1)
    total = pruned_quantized_breakdown(n, sparsity, value_bits, index_bits,
                                       codebook_size=codebook_size, codebook_bits=codebook_bits,
                                       mask=mask)["total_bits"]
    return n * ob / total
