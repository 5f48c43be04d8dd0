"""Energy cost model: arithmetic and memory-access energy after Horowitz (ISSCC 2014, 45 nm).

Tabulated values (pJ, 45 nm, 0.9 V; M. Horowitz, *Computing's energy problem (and what we can do
about it)*, ISSCC 2014):

==============  =====  ==============  =====
operation       pJ     operation       pJ
==============  =====  ==============  =====
8b int add      0.03   8b int mult     0.2
32b int add     0.1    32b int mult    3.1
16b fp add      0.4    16b fp mult     1.1
32b fp add      0.9    32b fp mult     3.7
==============  =====  ==============  =====

Memory, per 64-bit access: 8 KB SRAM 10 pJ, 32 KB SRAM 20 pJ, 1 MB SRAM 100 pJ, DRAM 1.3–2.6 nJ.
Han et al. (2015, *Learning both Weights and Connections*, Fig. 1) reproduce it per 32-bit
access: SRAM 5 pJ, DRAM 640 pJ. Both are converted to **pJ per bit** here (energy proportional
to bits moved — a derived simplification).

Bit-width scaling (derived): between the two tabulated widths of an operation we use the power
law ``E(b) = E(b0)·(b/b0)^α`` with ``α = log(E(b1)/E(b0)) / log(b1/b0)``; it reproduces the table
exactly and gives α ≈ 1.98 for integer multipliers (quadratic) and α ≈ 0.87 for integer adders
(linear) — the classic "multiplier area/energy grows with b², adder with b".

Model energy (per batch) = Σ_layers [ MACs_eff · E_MAC(b) + weight_bits · e_w + act_bits · e_a ]
with ``MACs_eff = MACs·(1 − s)`` on hardware that skips zeros (EIE-style, default for sparse
formats) and ``MACs`` on dense hardware; ``weight_bits`` from :func:`storage_bits` (index
overhead included); weights read once per batch, activations read/written once.
"""
from __future__ import annotations

import math

from torch import nn

from .._validate import check_bits, check_choice, check_number, check_sparsity
from .profile import layer_profile
from .storage import FORMATS, storage_bits

__all__ = ["HOROWITZ_OPS_PJ", "MEMORY_PJ_PER_64BIT", "HAN2015_PJ_PER_32BIT", "MEMORY_LEVELS",
           "op_energy", "scaling_exponent", "mac_energy", "access_energy", "model_energy"]

#: (kind, op, bits) -> pJ, Horowitz ISSCC 2014, 45 nm.
HOROWITZ_OPS_PJ = {
    ("int", "add", 8): 0.03, ("int", "add", 32): 0.1,
    ("int", "mult", 8): 0.2, ("int", "mult", 32): 3.1,
    ("fp", "add", 16): 0.4, ("fp", "add", 32): 0.9,
    ("fp", "mult", 16): 1.1, ("fp", "mult", 32): 3.7,
}
#: pJ per 64-bit access, Horowitz ISSCC 2014 (DRAM given as 1.3–2.6 nJ: low and high ends).
MEMORY_PJ_PER_64BIT = {"sram_8kb": 10.0, "sram_32kb": 20.0, "sram_1mb": 100.0,
                       "dram": 1300.0, "dram_high": 2600.0}
#: pJ per 32-bit access as reproduced by Han et al. 2015 (Fig. 1).
HAN2015_PJ_PER_32BIT = {"sram": 5.0, "dram": 640.0}
#: pJ per bit for every memory level known to this module.
MEMORY_LEVELS = {**{k: v / 64 for k, v in MEMORY_PJ_PER_64BIT.items()},
                 **{f"han_{k}": v / 32 for k, v in HAN2015_PJ_PER_32BIT.items()}}


def _points(kind: str, op: str):
    pts = sorted((b, e) for (k, o, b), e in HOROWITZ_OPS_PJ.items() if k == kind and o == op)
    return pts[0], pts[1]


def scaling_exponent(op: str, kind: str = "int") -> float:
    """α in ``E ∝ b^α`` fitted through the two Horowitz table points of (kind, op) (derived)."""
    check_choice(op, "op", ("add", "mult"))
    check_choice(kind, "kind", ("int", "fp"))
    (b0, e0), (b1, e1) = _points(kind, op)
    return math.log(e1 / e0) / math.log(b1 / b0)


def op_energy(op: str, bits: int, kind: str = "int") -> float:
    """Energy in pJ of one ``op`` ("add" or "mult") at ``bits`` bits, integer or floating point.

    Exact Horowitz (2014) value at a tabulated width, power-law inter/extrapolation otherwise
    (see module docstring; derived). ``bits`` in [2, 32].
    """
    check_choice(op, "op", ("add", "mult"))
    check_choice(kind, "kind", ("int", "fp"))
    b = check_bits(bits, "bits", lo=2, hi=32)
    if (kind, op, b) in HOROWITZ_OPS_PJ:
        return HOROWITZ_OPS_PJ[(kind, op, b)]
    (b0, e0), _ = _points(kind, op)
    return e0 * (b / b0) ** scaling_exponent(op, kind)


def mac_energy(bits: int, kind: str = "int", acc_bits: int | None = None) -> float:
    """One multiply-accumulate: ``E_mult(bits) + E_add(acc_bits)`` in pJ.

    ``acc_bits`` defaults to 32 for integers (an int8 MAC accumulates in int32:
    0.2 + 0.1 = 0.3 pJ) and to ``bits`` for floating point (fp32: 3.7 + 0.9 = 4.6 pJ).
    """
    check_choice(kind, "kind", ("int", "fp"))
    b = check_bits(bits, "bits", lo=2, hi=32)
    acc = (32 if kind == "int" else b) if acc_bits is None else check_bits(acc_bits, "acc_bits",
                                                                          lo=2, hi=32)
    return op_energy("mult", b, kind) + op_energy("add", acc, kind)


def access_energy(bits: float, level: str = "han_dram") -> float:
    """Energy in pJ to move ``bits`` bits from/to memory ``level`` (key of :data:`MEMORY_LEVELS`)."""
    check_choice(level, "level", tuple(MEMORY_LEVELS))
    nbits = check_number(bits, "bits", lo=0.0)
    return nbits * MEMORY_LEVELS[level]


def model_energy(model: nn.Module, input_shape, bits: int = 32, sparsity=None, *,
                 kind: str | None = None, format: str = "dense", skip_zeros: bool | None = None,
                 weight_memory: str = "han_dram", act_memory: str = "han_sram",
                 acc_bits: int | None = None, weight_bits: int | None = None,
                 **storage_kwargs) -> dict:
    """Per-layer compute vs memory energy of one forward pass over a batch of ``input_shape``.

    Parameters
    ----------
    bits : bit-width of weights, activations and multiplies (2..32).
    sparsity : ``None`` → the weights' real zeros; float or ``{layer: float}`` → assumed sparsity.
    kind : "int" or "fp"; default "fp" for 16/32 bits, "int" otherwise.
    format : weight storage format (see :mod:`pruninglab.hardware.storage`).
    skip_zeros : whether the hardware skips zero weights (MACs·density). Default: True for a
        sparse format, False for ``dense`` (a dense engine multiplies the zeros too).
    weight_memory, act_memory : memory levels for weights and activations (:data:`MEMORY_LEVELS`).
    weight_bits : bits per stored weight when they differ from ``bits`` (weight-only
        quantization, "W-b A-fp32": ``bits=32, kind="fp", weight_bits=b`` fetches ``b``-bit
        weights but computes and moves activations in fp32). Default: ``bits``.

    Returns ``{"layers": [...], "compute_pj", "memory_pj", "total_pj", "per_sample_pj"}``; each
    layer dict has ``name, macs, effective_macs, compute_pj, weight_pj, act_pj, total_pj``.
    """
    b = check_bits(bits, "bits", lo=2, hi=32)
    kind = ("fp" if b in (16, 32) else "int") if kind is None else check_choice(kind, "kind",
                                                                                 ("int", "fp"))
    check_choice(format, "format", FORMATS)
    check_choice(weight_memory, "weight_memory", tuple(MEMORY_LEVELS))
    check_choice(act_memory, "act_memory", tuple(MEMORY_LEVELS))
    skip = (format != "dense") if skip_zeros is None else bool(skip_zeros)
    wb = b if weight_bits is None else check_bits(weight_bits, "weight_bits", lo=1, hi=32)
    prof = layer_profile(model, input_shape)
    names = [r["name"] for r in prof]
    if isinstance(sparsity, dict):
        unknown = set(sparsity) - set(names)
        if unknown:
            raise ValueError(f"sparsity names unknown layers {sorted(unknown)}; have {names}")
    modules = dict(model.named_modules())
    e_mac = mac_energy(b, kind, acc_bits)
    layers = []
    for r in prof:
        s = sparsity.get(r["name"]) if isinstance(sparsity, dict) else sparsity
        w = modules[r["name"]].weight.detach()
        if s is None:
            density = r["nonzero"] / r["params"]
            wbits = storage_bits(w, None, wb, format, **storage_kwargs)
        else:
            s = check_sparsity(s, "sparsity")
            density = 1.0 - s
            wbits = storage_bits(tuple(w.shape), s, wb, format, **storage_kwargs)
        eff = r["macs"] * (density if skip else 1.0)
        compute = eff * e_mac
        wpj = access_energy(wbits, weight_memory)
        apj = access_energy((r["in_elems"] + r["out_elems"]) * b, act_memory)
        layers.append({"name": r["name"], "macs": r["macs"], "effective_macs": eff,
                       "weight_bits": wbits, "compute_pj": compute, "weight_pj": wpj,
                       "act_pj": apj, "total_pj": compute + wpj + apj})
    compute = sum(x["compute_pj"] for x in layers)
    memory = sum(x["weight_pj"] + x["act_pj"] for x in layers)
    batch = prof[0]["batch"]
    return {"layers": layers, "compute_pj": compute, "memory_pj": memory,
            "total_pj": compute + memory, "per_sample_pj": (compute + memory) / batch,
            "bits": b, "weight_bits": wb, "kind": kind, "format": format, "skip_zeros": skip}
