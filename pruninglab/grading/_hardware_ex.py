"""Exercises of notebook 08 (hardware lab): the learner writes the cost models.

* ``format_bytes``: bytes of a weight matrix in ``dense``, ``bitmask``, ``csr`` or ``coo``
  (rows = ``shape[0]``, 1 for a vector; bits: dense ``n·b``, bitmask ``n + nnz·b``, CSR
  ``nnz·(b + i) + (rows + 1)·p``, COO ``nnz·(b + 2i)``; bytes = ceil(bits / 8)). The pointer
  width ``p`` is an argument: exercise ``csr_bytes`` (notebook ``exercises/``) uses ``p = i``,
  :func:`pruninglab.hardware.storage_bits` defaults to ``p = 32``;
* ``fc_roofline``: FLOPs ``2·batch·in·out``, bytes moved ``(in·out + batch·(in + out))·b/8``
  (weights once per batch + input and output activations), intensity, attainable
  ``min(π, β·I)`` and the bound (Williams et al. 2009);
* ``fc_energy``: compute / weight / activation energy of a fully connected layer from the
  Horowitz (ISSCC 2014) table: MAC = mult(b) + add(accumulator: int32 for int8, b for fp);
  weights read once per batch, activations read and written once;
* ``netadapt_step``: one greedy NetAdapt step (Yang et al. 2018) on a latency lookup table.

Oracles below are independent of :mod:`pruninglab.hardware`; the tests compare both.
"""
from __future__ import annotations

import math

import numpy as np

from ._common import Exercise, Problem, fmt, is_real_scalar

NOTEBOOK = "08_hardware_lab"

__all__ = ["EXERCISES", "MUTANTS", "REFERENCE", "HOROWITZ_MAC_PJ", "oracle_format_bytes",
           "oracle_fc_roofline", "oracle_fc_energy", "oracle_netadapt_step"]

#: bits -> (mult pJ, accumulate-add pJ) from Horowitz 2014: int8 (int32 accumulate), fp16, fp32.
HOROWITZ_MAC_PJ = {8: (0.2, 0.1), 16: (1.1, 0.4), 32: (3.7, 0.9)}


# ============================================================================ oracles
def oracle_format_bytes(weights, fmt_, value_bits, index_bits, pointer_bits, *, rows_plus_one=True,
                        ceil=True):
    w = np.asarray(weights)
    rows = w.shape[0] if w.ndim > 1 else 1
    n, nnz = w.size, int(np.count_nonzero(w))
    b, i, p = value_bits, index_bits, pointer_bits
    if fmt_ == "dense":
        bits = n * b
    elif fmt_ == "bitmask":
        bits = n + nnz * b
    elif fmt_ == "csr":
        bits = nnz * (b + i) + (rows + (1 if rows_plus_one else 0)) * p
    elif fmt_ == "coo":
        bits = nnz * (b + 2 * i)
    else:
        raise ValueError(f"fmt must be dense, bitmask, csr or coo, got {fmt_!r}")
    return -(-bits // 8) if ceil else bits // 8


def oracle_fc_roofline(in_features, out_features, batch, bits, peak_flops, bandwidth, *,
                       weight_per_sample=False, flops_per_mac=2, acts=True, use_max=False):
    flops = flops_per_mac * batch * in_features * out_features
    wb = in_features * out_features * (batch if weight_per_sample else 1)
    nbytes = (wb + (batch * (in_features + out_features) if acts else 0)) * bits / 8
    inten = flops / nbytes
    att = (max if use_max else min)(peak_flops, bandwidth * inten)
    bound = "memory" if bandwidth * inten < peak_flops else "compute"
    return float(inten), float(att), bound


def oracle_fc_energy(in_features, out_features, batch, bits, weight_pj_per_bit, act_pj_per_bit, *,
                     add=True, weight_per_sample=False):
    mult, acc = HOROWITZ_MAC_PJ[bits]
    macs = batch * in_features * out_features
    compute = macs * (mult + (acc if add else 0.0))
    weight = in_features * out_features * bits * weight_pj_per_bit * (batch if weight_per_sample else 1)
    act = batch * (in_features + out_features) * bits * act_pj_per_bit
    return float(compute), float(weight), float(act)


def _lat(cfg, lut):
    return sum(lut[k][cfg[k]] for k in cfg)


def oracle_netadapt_step(config, lut, target, acc_table, *, by_accuracy=True, total=True):
    best = None
    for idx, layer in enumerate(config):
        smaller = sorted((c for c in lut[layer] if c < config[layer]), reverse=True)
        for c in smaller:
            trial = {**config, layer: c}
            lat = _lat(trial, lut) if total else lut[layer][c]
            if lat <= target:
                score = acc_table[layer][c] if by_accuracy else -_lat(trial, lut)
                if best is None or score > best[0]:
                    best = (score, layer, trial)
                break
    if best is None:
        return dict(config), None
    return best[2], best[1]


REFERENCE = {"format_bytes": oracle_format_bytes, "fc_roofline": oracle_fc_roofline,
             "fc_energy": oracle_fc_energy, "netadapt_step": oracle_netadapt_step}


# ============================================================================ format_bytes
def judge_format(args, out):
    w, f, b, i, p = args
    want = oracle_format_bytes(*args)
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if isinstance(out, (bool, np.bool_)) or not isinstance(out, (int, np.integer)):
        hint = "return an int number of bytes"
        if isinstance(out, (float, np.floating)):
            hint += "; round partial bytes UP: -(-bits // 8) or math.ceil, then int(...)"
        raise Problem(f"the result is {fmt(out)}, expected an int", hint)
    v = int(out)
    if v == want:
        return
    rows = w.shape[0] if w.ndim > 1 else 1
    nnz = int(np.count_nonzero(w))
    hint = {"dense": "dense stores every entry: n·b bits",
            "bitmask": "bitmask: one presence bit per position (n bits) + nnz values",
            "csr": "CSR: nnz·(b + i) + (rows + 1)·p bits",
            "coo": "COO: nnz·(b + 2i) bits (a row AND a column index per value)"}[f]
    alts = [(oracle_format_bytes(w, "dense", b, i, p), "you counted every entry as stored "
             "(dense, seed S4-Q1): a sparse format stores only the nonzeros plus their positions")]
    if f == "csr":
        alts += [(oracle_format_bytes(*args, rows_plus_one=False),
                  "the row-pointer array has rows + 1 entries"),
                 (oracle_format_bytes(w, f, b, i, i), "row pointers are pointer_bits wide, not "
                  "index_bits (the convention must be stated: here p is an argument)")]
    if f == "bitmask":
        alts.append((-(-(w.size * 8 + nnz * b) // 8), "the mask costs ONE bit per position, not a byte"))
    alts.append((oracle_format_bytes(*args, ceil=False), "partial bytes must be rounded UP"))
    for val, h in alts:
        if v == val and val != want:
            hint = h
            break
    raise Problem(f"{f}, shape {w.shape} (rows {rows}), nnz={nnz}, b={b}, i={i}, p={p}: got {v}, "
                  f"expected {want} bytes", hint)


def format_fixed():
    m = np.array([[0, 1.5, 0, 0], [2.0, 0, 0, -1.0], [0, 0, 0, 0]])
    return [(f"3x4, 3 nonzeros, {f}, int8 values, 16-bit indices, 32-bit pointers", (m, f, 8, 16, 32))
            for f in ("dense", "bitmask", "csr", "coo")] + [
        ("csr with p = i = 16 (exercise 2's convention)", (m.copy(), "csr", 8, 16, 16)),
        ("4-bit values, 5-bit indices, 7-bit pointers: round up", (m.copy(), "csr", 4, 5, 7)),
        ("vector is one row", (np.array([0.0, 3.0, 0.0, 4.0]), "csr", 8, 8, 8)),
        ("all-zero 3x5 bitmask", (np.zeros((3, 5)), "bitmask", 8, 16, 32)),
    ]


def format_hidden(rng):
    out = []
    for _ in range(5):
        shape = (int(rng.integers(1, 10)), int(rng.integers(1, 12)))
        w = rng.standard_normal(shape) * (rng.random(shape) < rng.uniform(0, 1))
        f = str(rng.choice(["dense", "bitmask", "csr", "coo"]))
        b, i, p = (int(rng.choice(v)) for v in ([1, 4, 8, 16, 32], [4, 8, 16, 32], [8, 16, 32]))
        out.append((f"random {shape}, {f}, b={b}, i={i}, p={p}", (w, f, b, i, p)))
    return out


def format_errors():
    return [("unknown format must raise ValueError", (np.ones((2, 2)), "csc", 8, 16, 32),
             ValueError, "raise ValueError naming `fmt` for a format you do not implement")]


# ============================================================================ fc_roofline
def judge_roofline(args, out):
    want = oracle_fc_roofline(*args)
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 3:
        raise Problem(f"the result is {fmt(out)}", "return (intensity, attainable, bound)")
    inten, att, bound = out
    if not (is_real_scalar(inten) and is_real_scalar(att)):
        raise Problem(f"got {fmt(out)}", "intensity and attainable are floats")
    if math.isclose(float(inten), want[0], rel_tol=1e-6) and \
            math.isclose(float(att), want[1], rel_tol=1e-6) and bound == want[2]:
        return
    hint = ("FLOPs = 2·batch·in·out; bytes = (in·out + batch·(in + out))·bits/8; I = FLOPs/bytes; "
            "attainable = min(peak, bandwidth·I); bound = 'memory' if bandwidth·I < peak")
    for kw, h in ((dict(weight_per_sample=True), "the weights are loaded once per batch and "
                   "reused by every sample: do not multiply their bytes by the batch"),
                  (dict(flops_per_mac=1), "a MAC is 2 FLOPs (multiply + add)"),
                  (dict(acts=False), "the input and output activations are moved too"),
                  (dict(use_max=True), "the roofline is the MINIMUM of the two roofs")):
        alt = oracle_fc_roofline(*args, **kw)
        if math.isclose(float(inten), alt[0], rel_tol=1e-6) and math.isclose(float(att), alt[1], rel_tol=1e-6):
            hint = h
            break
    else:
        if math.isclose(float(inten), want[0] / 8, rel_tol=1e-6):
            hint = "bytes = bits / 8: you counted bits"
    raise Problem(f"got {fmt(tuple(out))}, expected {fmt(want)}", hint)


def roofline_fixed():
    return [("256 -> 128, batch 1, int8, Orin-like (20 T int8, 68 GB/s)", (256, 128, 1, 8, 20e12, 68e9)),
            ("same at batch 64", (256, 128, 64, 8, 20e12, 68e9)),
            ("fp32 1024x1024 batch 1024 on a small CPU (compute-bound)", (1024, 1024, 1024, 32, 50e9, 20e9)),
            ("64 -> 10, batch 8, fp16", (64, 10, 8, 16, 1e12, 100e9))]


def roofline_hidden(rng):
    return [(f"random #{k}", (int(rng.integers(4, 2048)), int(rng.integers(4, 2048)),
                              int(rng.choice([1, 8, 64, 256, 4096])), int(rng.choice([4, 8, 16, 32])),
                              float(rng.choice([1e11, 1e12, 2e13])), float(rng.choice([1e10, 6.8e10, 2e12]))))
            for k in range(5)]


# ============================================================================ fc_energy
def judge_energy(args, out):
    want = oracle_fc_energy(*args)
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 3 or not all(map(is_real_scalar, out)):
        raise Problem(f"the result is {fmt(out)}", "return (compute_pj, weight_pj, act_pj)")
    if all(math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-9) for a, b in zip(out, want)):
        return
    hint = ("compute = batch·in·out·(mult + add) pJ from the table; weights = in·out·bits·"
            "weight_pj_per_bit (once per batch); activations = batch·(in + out)·bits·act_pj_per_bit")
    for kw, h in ((dict(add=False), "a MAC is a multiply AND an accumulate add (int8: the add is "
                   "32-bit, 0.1 pJ)"),
                  (dict(weight_per_sample=True), "weights are fetched once per batch, not once per "
                   "sample")):
        alt = oracle_fc_energy(*args, **kw)
        if all(math.isclose(float(a), b, rel_tol=1e-6, abs_tol=1e-9) for a, b in zip(out, alt)):
            hint = h
            break
    else:
        mult, _ = HOROWITZ_MAC_PJ[args[3]]
        if args[3] == 8 and math.isclose(float(out[0]), args[2] * args[0] * args[1] * 0.23, rel_tol=1e-6):
            hint = "int8 products are accumulated in int32: the add costs 0.1 pJ (32-bit), not 0.03"
    raise Problem(f"got {fmt(tuple(float(x) for x in out))}, expected {fmt(want)}", hint)


def energy_fixed():
    dram, sram = 640 / 32, 5 / 32
    return [("64 -> 256, batch 1, int8, weights in DRAM", (64, 256, 1, 8, dram, sram)),
            ("same, weights in SRAM", (64, 256, 1, 8, sram, sram)),
            ("128 -> 10, batch 64, fp32, DRAM", (128, 10, 64, 32, dram, sram)),
            ("fp16, batch 8", (256, 128, 8, 16, dram, sram))]


def energy_hidden(rng):
    return [(f"random #{k}", (int(rng.integers(4, 1024)), int(rng.integers(4, 1024)),
                              int(rng.choice([1, 8, 64])), int(rng.choice([8, 16, 32])),
                              float(rng.choice([20.0, 5 / 32, 1300 / 64])), float(rng.choice([5 / 32, 10 / 64]))))
            for k in range(5)]


# ============================================================================ netadapt_step
def judge_netadapt(args, out):
    config, lut, target, acc = args
    want = oracle_netadapt_step(*args)
    if out is None:
        raise Problem("the result is None", "did you forget the `return` statement?")
    if not isinstance(out, (tuple, list)) or len(out) != 2 or not isinstance(out[0], dict):
        raise Problem(f"the result is {fmt(out)}", "return (new_config: dict, layer or None)")
    cfg, layer = out
    try:
        same = {k: int(v) for k, v in cfg.items()} == want[0]
    except (TypeError, ValueError):
        same = False
    if same and layer == want[1]:
        return
    hint = ("for every layer take the LARGEST table entry below its current width whose TOTAL "
            "looked-up latency meets the target; among these candidates keep the most accurate; "
            "None if no layer can reach the target")
    for kw, h in ((dict(by_accuracy=False), "you picked the candidate that saves the most "
                   "latency: NetAdapt keeps the most ACCURATE candidate"),
                  (dict(total=False), "compare the TOTAL latency of the candidate network (sum "
                   "over all layers) with the target, not one layer's latency")):
        if (cfg, layer) == oracle_netadapt_step(*args, **kw):
            hint = h
            break
    raise Problem(f"got ({fmt(cfg)}, {layer!r}), expected ({want[0]}, {want[1]!r})", hint)


def _stair_lut(widths, per, base):
    return {c: base + per * -(-c // 16) for c in widths}


def netadapt_fixed():
    lut = {"fc1": _stair_lut(range(16, 257, 16), 2.0, 1.0), "fc2": _stair_lut(range(16, 129, 16), 3.0, 0.5)}
    acc = {"fc1": {c: 0.9 - 0.002 * (256 - c) for c in lut["fc1"]},
           "fc2": {c: 0.9 - 0.001 * (128 - c) for c in lut["fc2"]}}
    cfg = {"fc1": 256, "fc2": 128}
    full = _lat(cfg, lut)
    return [("staircase tables, target = full - 5", (cfg, lut, full - 5, acc)),
            ("target needs several channels off one layer", (dict(cfg), lut, full - 14, acc)),
            ("target not reachable by one layer: (config, None)", (dict(cfg), lut, 10.0, acc)),
            ("fc2 more accurate to prune", ({"fc1": 128, "fc2": 128}, lut, full - 40,
                                            {"fc1": acc["fc1"], "fc2": {c: 0.95 for c in lut["fc2"]}}))]


def netadapt_hidden(rng):
    out = []
    for k in range(5):
        lut, acc, cfg = {}, {}, {}
        for name in ("a", "b", "c")[:int(rng.integers(2, 4))]:
            widths = list(range(8, 8 * int(rng.integers(3, 10)) + 1, 8))
            t = np.cumsum(rng.uniform(0.1, 2.0, len(widths)))
            lut[name] = {c: float(v) for c, v in zip(widths, t)}
            acc[name] = {c: float(v) for c, v in zip(widths, rng.uniform(0.5, 0.9, len(widths)))}
            cfg[name] = widths[-1]
        full = _lat(cfg, lut)
        out.append((f"random tables #{k}", (cfg, lut, float(full * rng.uniform(0.6, 0.98)), acc)))
    return out


EXERCISES = [
    Exercise("format_bytes", "bytes of a weight matrix in dense / bitmask / CSR / COO "
             "(value, index and pointer widths given)",
             "f(weights, fmt: str, value_bits, index_bits, pointer_bits) -> int",
             format_fixed, format_hidden, judge_format, format_errors, points=6,
             notebook=NOTEBOOK, topic="storage bytes of a format",
             library=("pruninglab.hardware.storage.storage_bytes", "pruninglab.hardware.storage.storage_bits")),
    Exercise("fc_roofline", "arithmetic intensity and roofline bound of a fully connected layer",
             "f(in_features, out_features, batch, bits, peak_flops, bandwidth) -> "
             "(intensity, attainable, 'memory'|'compute')", roofline_fixed, roofline_hidden,
             judge_roofline, points=6, notebook=NOTEBOOK, topic="arithmetic intensity / roofline",
             library=("pruninglab.hardware.roofline.layer_roofline", "pruninglab.hardware.roofline.attainable")),
    Exercise("fc_energy", "energy of a fully connected layer from the Horowitz 2014 table",
             "f(in_features, out_features, batch, bits, weight_pj_per_bit, act_pj_per_bit) -> "
             "(compute_pj, weight_pj, act_pj)", energy_fixed, energy_hidden, judge_energy,
             points=6, notebook=NOTEBOOK, topic="layer energy (Horowitz)",
             library=("pruninglab.hardware.energy.model_energy",)),
    Exercise("netadapt_step", "one greedy NetAdapt step on a latency lookup table",
             "f(config: dict, lut: dict, target: float, acc_table: dict) -> (dict, str | None)",
             netadapt_fixed, netadapt_hidden, judge_netadapt, points=10, notebook=NOTEBOOK,
             topic="NetAdapt step (Yang et al. 2018)",
             library=("pruninglab.hardware.latency_aware.netadapt_prune",)),
]


# ============================================================================ mutants
def _fb_dense(w, f, b, i, p):                  # seed S4-Q1: a masked matrix counted as stored
    return oracle_format_bytes(w, "dense", b, i, p)


def _fb_rows(w, f, b, i, p):
    return oracle_format_bytes(w, f, b, i, p, rows_plus_one=False)


def _fb_ptr_is_index(w, f, b, i, p):
    return oracle_format_bytes(w, f, b, i, i)


def _fb_floor(w, f, b, i, p):
    return oracle_format_bytes(w, f, b, i, p, ceil=False)


MUTANTS = {
    "format_bytes": [("S4-Q1 dense bytes", lambda: _fb_dense, "S4-Q1"),
                     ("rows pointers, not rows + 1", lambda: _fb_rows, "rows + 1"),
                     ("pointer width = index width", lambda: _fb_ptr_is_index, "pointer_bits"),
                     ("floor instead of ceil", lambda: _fb_floor, "UP")],
    "fc_roofline": [("weights per sample", lambda: lambda *a: oracle_fc_roofline(*a, weight_per_sample=True), "once per batch"),
                    ("1 FLOP per MAC", lambda: lambda *a: oracle_fc_roofline(*a, flops_per_mac=1), "2 FLOPs"),
                    ("activations ignored", lambda: lambda *a: oracle_fc_roofline(*a, acts=False), "activations"),
                    ("max of the roofs", lambda: lambda *a: oracle_fc_roofline(*a, use_max=True), "MINIMUM")],
    "fc_energy": [("multiply only", lambda: lambda *a: oracle_fc_energy(*a, add=False), "accumulate"),
                  ("weights per sample", lambda: lambda *a: oracle_fc_energy(*a, weight_per_sample=True), "once per batch")],
    "netadapt_step": [("largest latency saving", lambda: lambda *a: oracle_netadapt_step(*a, by_accuracy=False), "ACCURATE"),
                      ("one layer's latency", lambda: lambda *a: oracle_netadapt_step(*a, total=False), "TOTAL")],
}
