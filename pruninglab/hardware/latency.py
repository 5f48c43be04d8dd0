"""Measured latency on *this* machine: dense vs sparse vs channel-pruned vs int8 layers.

Everything here is a measurement: machine-dependent, never a fact to commit, never compared by a
test or a validated notebook cell (use ``nbval-ignore-output``). Method: ``warmup`` untimed
calls, then ``repeats`` timed repeats of ``number`` calls each (``number`` calibrated so a repeat
lasts at least ``min_time`` seconds); report the **median** per-call time and the inter-quartile
range — the median resists the outliers a shared machine produces.

Variants of a fully connected layer ``y = x·Wᵀ`` (``W``: ``out × in``) at sparsity ``s``:

* ``dense``      — ``torch.nn.functional.linear`` with the masked weight (zeros are multiplied:
  same work as unpruned — masking alone never speeds anything up);
* ``sparse_csr`` — ``W`` as ``torch.sparse_csr_tensor``, ``torch.sparse.mm(W, xᵀ)``: skips zeros but
  pays index decoding and irregular access (Han et al. 2016, Appendix A: faster only at high
  sparsity and small batch);
* ``channel``    — structured: ``round((1 − s)·out)`` output channels kept, a *smaller dense* matmul
  (Li et al. 2017);
* ``int8``       — ``torch.ao.quantization.quantize_dynamic`` (int8 weights, dynamic activation
  quantization) where the build has a quantized engine; PyTorch documents 2–4× typical speedups.

A latency lookup table (NetAdapt, Yang et al. 2018) maps a layer's channel count to its measured
latency; plotting it shows the *staircase*: latency changes in steps aligned with the kernels'
vector/tile widths, so removing a few channels may save nothing.
"""
from __future__ import annotations

import statistics
import time
import warnings
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_int, check_number, check_sparsity

__all__ = ["measure_latency", "linear_variants", "time_linear_variants", "sparse_break_even",
           "latency_lut", "int8_available", "VARIANTS"]

VARIANTS = ("dense", "sparse_csr", "channel", "int8")


def measure_latency(fn: Callable[[], object], *, warmup: int = 3, repeats: int = 9,
                    min_time: float = 2e-4, max_number: int = 10_000) -> dict:
    """Median per-call wall time of ``fn()`` (seconds) with warm-up; see module docstring.

    Returns ``{"median_s", "iqr_s", "number", "repeats"}``.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    w = check_int(warmup, "warmup", lo=0)
    r = check_int(repeats, "repeats", lo=1)
    mt = check_number(min_time, "min_time", lo=0.0)
    mx = check_int(max_number, "max_number", lo=1)
    for _ in range(w):
        fn()
    number = 1
    while True:  # calibrate
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        dt = time.perf_counter() - t0
        if dt >= mt or number >= mx:
            break
        number = min(mx, number * 2 if dt <= 0 else max(number * 2, int(number * mt / dt) + 1))
    ts = []
    for _ in range(r):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        ts.append((time.perf_counter() - t0) / number)
    q = np.percentile(ts, [25, 75])
    return {"median_s": statistics.median(ts), "iqr_s": float(q[1] - q[0]), "number": number,
            "repeats": r}


def int8_available() -> bool:
    """Whether this torch build has a quantized CPU engine for dynamic int8 Linear."""
    return any(e != "none" for e in torch.backends.quantized.supported_engines)


def _random_mask(shape, sparsity: float, gen: torch.Generator) -> torch.Tensor:
    n = int(np.prod(shape))
    k = int(round(sparsity * n))
    mask = torch.ones(n, dtype=torch.bool)
    mask[torch.randperm(n, generator=gen)[:k]] = False
    return mask.reshape(shape)


def linear_variants(in_features: int, out_features: int, batch: int, sparsity: float, *,
                    seed: int = 0, variants: Iterable[str] = VARIANTS) -> dict:
    """Callables ``{variant: fn}`` computing the same-sized problem in each variant (no timing).

    Weights are random (seeded) with a random unstructured mask at ``sparsity``; the channel
    variant keeps ``max(1, round((1 − s)·out))`` outputs. ``int8`` is skipped when unavailable.
    """
    fi = check_int(in_features, "in_features", lo=1)
    fo = check_int(out_features, "out_features", lo=1)
    n = check_int(batch, "batch", lo=1)
    s = check_sparsity(sparsity)
    variants = list(variants)
    for v in variants:
        if v not in VARIANTS:
            raise ValueError(f"variants must be among {VARIANTS}, got {v!r}")
    g = torch.Generator().manual_seed(check_int(seed, "seed", lo=0))
    w = torch.randn(fo, fi, generator=g) / fi ** 0.5
    w = w * _random_mask(w.shape, s, g)
    bias = torch.zeros(fo)
    x = torch.randn(n, fi, generator=g)
    fns = {}
    if "dense" in variants:
        fns["dense"] = lambda: F.linear(x, w, bias)
    if "sparse_csr" in variants:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wc = w.to_sparse_csr()
        xt = x.t().contiguous()

        def _csr():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return torch.sparse.mm(wc, xt)
        fns["sparse_csr"] = _csr
    if "channel" in variants:
        k = max(1, int(round((1 - s) * fo)))
        wk, bk = w[:k].clone(), bias[:k].clone()
        fns["channel"] = lambda: F.linear(x, wk, bk)
    if "int8" in variants and int8_available():
        lin = nn.Linear(fi, fo)
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.zero_()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from torch.ao.quantization import quantize_dynamic
            q = quantize_dynamic(nn.Sequential(lin), {nn.Linear}, dtype=torch.qint8)

        def _int8():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return q(x)
        fns["int8"] = _int8
    return fns


def time_linear_variants(in_features: int, out_features: int, batch: int, sparsity: float,
                         *, seed: int = 0, variants: Iterable[str] = VARIANTS,
                         **measure_kwargs) -> dict:
    """Median latency (s) of each variant: ``{variant: seconds}`` (machine-dependent)."""
    fns = linear_variants(in_features, out_features, batch, sparsity, seed=seed,
                          variants=variants)
    with torch.no_grad():
        return {k: measure_latency(f, **measure_kwargs)["median_s"] for k, f in fns.items()}


def sparse_break_even(in_features: int, out_features: int, batch: int,
                      sparsities: Iterable[float] = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99),
                      *, seed: int = 0, **measure_kwargs) -> dict:
    """Dense vs CSR latency over ``sparsities``; ``break_even`` = the smallest measured sparsity
    from which CSR stays faster than dense at every higher measured sparsity (``None`` if never).
    """
    sp = [check_sparsity(s, "sparsities") for s in sparsities]
    if not sp:
        raise ValueError("sparsities must not be empty")
    sp = sorted(sp)
    dense, csr = [], []
    for s in sp:
        t = time_linear_variants(in_features, out_features, batch, s, seed=seed,
                                 variants=("dense", "sparse_csr"), **measure_kwargs)
        dense.append(t["dense"])
        csr.append(t["sparse_csr"])
    be = None
    for i in range(len(sp) - 1, -1, -1):
        if csr[i] < dense[i]:
            be = sp[i]
        else:
            break
    return {"sparsity": sp, "dense_s": dense, "csr_s": csr, "break_even": be,
            "shape": (out_features, in_features), "batch": batch}


def latency_lut(channels: Iterable[int], *, kind: str = "linear", in_features: int = 256,
                batch: int = 64, spatial: int = 8, seed: int = 0, **measure_kwargs) -> dict:
    """Measured latency lookup table ``{out_channels: median seconds}`` of one layer.

    ``kind="linear"``: ``batch × in_features → c``; ``kind="conv"``: 3×3 conv, ``in_features``
    input channels, ``spatial × spatial`` input, padding 1, batch ``batch``.
    """
    if kind not in ("linear", "conv"):
        raise ValueError(f"kind must be 'linear' or 'conv', got {kind!r}")
    chans = [check_int(c, "channels", lo=1) for c in channels]
    if not chans:
        raise ValueError("channels must not be empty")
    fi = check_int(in_features, "in_features", lo=1)
    n = check_int(batch, "batch", lo=1)
    hw = check_int(spatial, "spatial", lo=1)
    g = torch.Generator().manual_seed(check_int(seed, "seed", lo=0))
    cmax = max(chans)
    if kind == "linear":
        x = torch.randn(n, fi, generator=g)
        wfull = torch.randn(cmax, fi, generator=g)
    else:
        x = torch.randn(n, fi, hw, hw, generator=g)
        wfull = torch.randn(cmax, fi, 3, 3, generator=g)
    out = {}
    with torch.no_grad():
        for c in chans:
            w = wfull[:c].clone()
            fn = (lambda w=w: F.linear(x, w)) if kind == "linear" else \
                 (lambda w=w: F.conv2d(x, w, padding=1))
            out[c] = measure_latency(fn, **measure_kwargs)["median_s"]
    return out
