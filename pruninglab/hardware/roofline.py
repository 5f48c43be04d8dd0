"""Roofline model (Williams, Waterman, Patterson 2009) with a few hardware profiles.

``P = min(π, β·I)``: attainable performance ``P`` (ops/s) is bounded by the peak compute ``π`` and
by memory bandwidth ``β`` (bytes/s) times the arithmetic intensity ``I = FLOPs / bytes moved``.
The ridge point ``I* = π/β`` separates memory-bound (``I < I*``) from compute-bound layers.
A batch-1 fully connected layer moves every weight once for 2 FLOPs, so ``I ≈ 2/bytes-per-weight``
(derived): memory-bound on every profile below.

Bytes moved by a layer = weight storage (format-dependent, :func:`storage_bytes`) + input and
output activations at the same bit-width. How the knobs move a point (derived from the formulas):

* **batch** ↑ → FLOPs grow, weight bytes do not → ``I`` grows (weights are reused).
* **bits** ↓ → fewer bytes → ``I`` grows; and ``π`` switches to the int8 / fp16 peak.
* **unstructured sparsity** (CSR, ``index_bits`` per kept weight) → useful FLOPs × density, bytes
  include the indices, and the sparse kernel's roof is ``sparse_efficiency·π`` (an *assumption*
  — default 0.25; irregular access wastes compute; measure it on your machine with
  :mod:`pruninglab.hardware.latency`).
* **2:4** (Mishra et al. 2021) on hardware with sparse tensor cores: half the MACs executed at the
  dense peak (= 2× effective math), weights stored as ``n/2·(b + 2)`` bits; without such hardware it
  runs as dense.

Profiles (peaks are *dense* numbers from the vendor datasheets; derived entries say so):

* ``A100`` — NVIDIA A100 40GB datasheet: FP32 19.5 TFLOP/s, FP16 tensor 312 TFLOP/s, INT8 624
  TOPS, 1555 GB/s; 2:4 sparse tensor cores.
* ``H100`` — NVIDIA H100 SXM datasheet: FP32 67 TFLOP/s, FP16 989 TFLOP/s, INT8 1979 TOPS,
  3.35 TB/s; 2:4.
* ``Orin Nano`` — NVIDIA Jetson Orin Nano 8GB datasheet: INT8 20 TOPS dense (40 sparse), 68 GB/s;
  FP16 = INT8/2 and FP32 = 1024 CUDA cores × 2 × 0.625 GHz = 1.28 TFLOP/s are **derived**.
* ``Edge TPU`` — Google Coral Edge TPU: 4 TOPS INT8 (2 TOPS/W); INT8 only. Bandwidth **derived**
  as the USB 3.0 host link, 5 Gbit/s = 0.625 GB/s (weights that do not fit the on-chip SRAM stream
  over it).
* ``STM32F746`` — ST datasheet: Cortex-M7 at 216 MHz, 320 KB SRAM, 1 MB flash. **Derived**: int8/int16
  via SMLAD = 2 MAC/cycle = 0.864 GOP/s; FP32 FPU 1 FMA/cycle = 0.432 GFLOP/s (fp16 runs on it);
  32-bit bus × 216 MHz = 0.864 GB/s.
* ``this machine`` — measured at run time by :func:`measure_machine` (one fp32 matmul for π, one
  large copy for β, on the current torch thread count); int8/fp16 fall back to the fp32 peak.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .._validate import check_bits, check_choice, check_int, check_number, check_sparsity
from .profile import layer_profile
from .storage import storage_bits

__all__ = ["HardwareProfile", "PROFILES", "precision_for_bits", "attainable", "ridge_point",
           "measure_machine", "machine_profile", "get_profile", "layer_roofline", "STRUCTURES"]

STRUCTURES = ("dense", "unstructured", "2:4")


@dataclass(frozen=True)
class HardwareProfile:
    """Peak throughput per precision (ops/s, dense) and memory bandwidth (bytes/s)."""
    name: str
    peaks: dict
    bandwidth: float
    sparse24: bool = False
    fallback: dict = field(default_factory=dict)
    source: str = ""

    def peak(self, bits: int) -> tuple[float | None, str]:
        """(peak ops/s, precision used) for a bit-width; ``None`` if the device cannot run it."""
        prec = precision_for_bits(bits)
        if prec in self.peaks:
            return float(self.peaks[prec]), prec
        if prec in self.fallback:
            used = self.fallback[prec]
            return float(self.peaks[used]), used
        return None, prec

    def ridge(self, bits: int) -> float | None:
        p, _ = self.peak(bits)
        return None if p is None else p / self.bandwidth


PROFILES = {
    "A100": HardwareProfile("A100 40GB (datacenter GPU)",
                            {"fp32": 19.5e12, "fp16": 312e12, "int8": 624e12}, 1555e9, True,
                            source="NVIDIA A100 datasheet"),
    "H100": HardwareProfile("H100 SXM (datacenter GPU)",
                            {"fp32": 67e12, "fp16": 989e12, "int8": 1979e12}, 3.35e12, True,
                            source="NVIDIA H100 datasheet"),
    "Orin Nano": HardwareProfile("Jetson Orin Nano 8GB (edge GPU)",
                                 {"fp32": 1.28e12, "fp16": 10e12, "int8": 20e12}, 68e9, True,
                                 source="NVIDIA Jetson Orin datasheet (fp16, fp32 derived)"),
    "Edge TPU": HardwareProfile("Coral Edge TPU (int8 accelerator)", {"int8": 4e12}, 0.625e9,
                                False, source="Coral datasheet (bandwidth derived: USB 3.0)"),
    "STM32F746": HardwareProfile("STM32F746 Cortex-M7 216 MHz (MCU)",
                                 {"fp32": 0.432e9, "int8": 0.864e9}, 0.864e9, False,
                                 fallback={"fp16": "fp32"},
                                 source="ST datasheet (peaks and bandwidth derived)"),
}


def precision_for_bits(bits: int) -> str:
    """Execution precision: ≤ 8 bits → int8 units, 9–16 → fp16, 17–32 → fp32."""
    b = check_bits(bits, "bits")
    return "int8" if b <= 8 else ("fp16" if b <= 16 else "fp32")


def attainable(intensity, peak: float, bandwidth: float):
    """Roofline ``min(peak, bandwidth · intensity)``; numpy array or float in, same out."""
    pk = check_number(peak, "peak", lo=0.0, lo_inclusive=False)
    bw = check_number(bandwidth, "bandwidth", lo=0.0, lo_inclusive=False)
    if isinstance(intensity, np.ndarray):
        if not np.isfinite(intensity).all() or (intensity < 0).any():
            raise ValueError("intensity must be finite and >= 0")
        return np.minimum(pk, bw * intensity)
    i = check_number(intensity, "intensity", lo=0.0)
    return min(pk, bw * i)


def ridge_point(peak: float, bandwidth: float) -> float:
    """``I* = π / β`` in FLOP/byte."""
    return (check_number(peak, "peak", lo=0.0, lo_inclusive=False)
            / check_number(bandwidth, "bandwidth", lo=0.0, lo_inclusive=False))


def _median_time(fn, repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


@lru_cache(maxsize=4)
def measure_machine(matmul_size: int = 768, copy_mib: int = 64, repeats: int = 5,
                    threads: int | None = None) -> dict:
    """Measure this machine: fp32 peak from an ``n×n`` matmul (``2n³`` FLOPs) and bandwidth from
    copying ``copy_mib`` MiB (read + write = 2× bytes). Median of ``repeats``; cached in memory.

    Machine-dependent: never compare these numbers in a test or a validated notebook cell.
    """
    n = check_int(matmul_size, "matmul_size", lo=16, hi=8192)
    mib = check_int(copy_mib, "copy_mib", lo=1, hi=4096)
    r = check_int(repeats, "repeats", lo=1, hi=100)
    old = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_int(threads, "threads", lo=1))
    try:
        g = torch.Generator().manual_seed(0)
        a = torch.randn(n, n, generator=g)
        b = torch.randn(n, n, generator=g)
        t_mm = _median_time(lambda: torch.mm(a, b), r)
        src = torch.empty(mib * 2 ** 20 // 4)
        src.fill_(1.0)
        dst = torch.empty_like(src)
        t_cp = _median_time(lambda: dst.copy_(src), r)
        nthreads = torch.get_num_threads()
    finally:
        torch.set_num_threads(old)
    return {"peak_flops": 2 * n ** 3 / t_mm, "bandwidth": 2 * src.numel() * 4 / t_cp,
            "threads": nthreads, "matmul_size": n, "copy_mib": mib}


def machine_profile(**kwargs) -> HardwareProfile:
    """``HardwareProfile`` of this machine from :func:`measure_machine` (fp32 peak for all)."""
    m = measure_machine(**kwargs)
    return HardwareProfile(f"this machine ({m['threads']} thread(s), measured)",
                           {"fp32": m["peak_flops"]}, m["bandwidth"], False,
                           fallback={"fp16": "fp32", "int8": "fp32"},
                           source="measured at run time")


def get_profile(name) -> HardwareProfile:
    """A profile by key of :data:`PROFILES`, ``"this machine"`` (measured), or a profile itself."""
    if isinstance(name, HardwareProfile):
        return name
    check_choice(name, "profile", tuple(PROFILES) + ("this machine",))
    return machine_profile() if name == "this machine" else PROFILES[name]


def layer_roofline(model: nn.Module, input_shape, profile, bits: int = 32,
                   sparsity: float = 0.0, structure: str = "dense", *, index_bits: int = 16,
                   sparse_efficiency: float = 0.25, layers_prof: list | None = None) -> dict:
    """Roofline point of every Linear/Conv2d layer of ``model`` on ``profile``.

    Returns ``{"layers": [{name, flops, bytes, intensity, peak, attainable, time_s, bound}],
    "time_s", "dense_time_s", "speedup", "ridge", "peak", "precision", "supported"}``.
    ``flops`` counts executed operations (useful FLOPs for sparse kernels, half the dense MACs
    for 2:4 on supporting hardware); ``speedup`` is the dense model's time at the same bits over
    this time. ``layers_prof`` may pass a cached :func:`layer_profile` result (slider speed).
    """
    prof = get_profile(profile)
    b = check_bits(bits, "bits")
    check_choice(structure, "structure", STRUCTURES)
    s = check_sparsity(sparsity, "sparsity")
    eff = check_number(sparse_efficiency, "sparse_efficiency", lo=0.0, hi=1.0, lo_inclusive=False)
    ib = check_int(index_bits, "index_bits", lo=1, hi=64)
    rows = layer_profile(model, input_shape) if layers_prof is None else layers_prof
    peak, prec = prof.peak(b)
    out = {"ridge": None if peak is None else peak / prof.bandwidth, "peak": peak,
           "precision": prec, "supported": peak is not None, "bandwidth": prof.bandwidth,
           "profile": prof.name, "layers": []}
    if peak is None:
        out.update(time_s=float("nan"), dense_time_s=float("nan"), speedup=float("nan"))
        return out
    t_total = t_dense = 0.0
    for r in rows:
        shape = r["weight_shape"]
        act_bytes = (r["in_elems"] + r["out_elems"]) * b / 8
        dense_bytes = storage_bits(shape, 0.0, b, "dense") / 8 + act_bytes
        dense_flops = 2 * r["macs"]
        if structure == "dense":
            flops, wbytes, pk = dense_flops, storage_bits(shape, 0.0, b, "dense") / 8, peak
        elif structure == "unstructured":
            flops = dense_flops * (1 - s)
            wbytes = storage_bits(shape, s, b, "csr", index_bits=ib) / 8
            pk = peak * eff
        else:
            cols = int(np.prod(shape[1:]))
            if prof.sparse24 and cols % 4 == 0:
                flops, pk = dense_flops / 2, peak
                wbytes = storage_bits(shape, 0.5, b, "2:4") / 8
            else:
                flops, wbytes, pk = dense_flops, storage_bits(shape, 0.0, b, "dense") / 8, peak
        nbytes = wbytes + act_bytes
        inten = flops / nbytes
        perf = min(pk, prof.bandwidth * inten)
        t = flops / perf
        td = dense_flops / min(peak, prof.bandwidth * dense_flops / dense_bytes)
        t_total += t
        t_dense += td
        out["layers"].append({"name": r["name"], "flops": flops, "bytes": nbytes,
                              "intensity": inten, "peak": pk, "attainable": perf, "time_s": t,
                              "bound": "memory" if prof.bandwidth * inten < pk else "compute"})
    out.update(time_s=t_total, dense_time_s=t_dense, speedup=t_dense / t_total)
    return out
