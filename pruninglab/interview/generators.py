"""Parametric question generators: seeded, endless numeric variants.

Every generator draws its parameters from ``numpy.random.default_rng(seed)`` and returns a
numeric :class:`~pruninglab.interview.bank.Item` whose ``answer`` is computed by the formula in
its docstring (tests check each one against an independent computation — the
:mod:`pruninglab.hardware` functions or a hand formula). ``GENERATORS`` maps name → generator;
:func:`generate` ``(name, seed)`` gives one item, :func:`stream` ``(seed)`` an endless mix.

Formulas (sources):

* CSR bits = nnz·(b + i) + (rows + 1)·p; bitmask bits = n + nnz·b; 2:4 bits = (n/2)·(b + 2)
  (2-bit position metadata per kept value) — standard format accounting, see
  :mod:`pruninglab.hardware.storage`.
* affine scale/zero point: S = (r_max − r_min)/(2^b − 1), Z = round(−r_min/S) (unsigned codes),
  symmetric S = max|r|/(2^(b−1) − 1), rounding error ≤ S/2 (Jacob et al. 2018).
* AGP: s_t = s_f + (s_i − s_f)(1 − k/n)³ (Zhu & Gupta 2017).
* conv MACs = C_out·C_in·k²·H_out·W_out, params = C_out·C_in·k² (+ C_out bias).
* layer energy = MACs·E_MAC(b) + weight bits·e_DRAM (Horowitz 2014; Han et al. 2015 per-bit DRAM).
* GEMM intensity I = 2MNK / (bytes·(MK + KN + MN)); roofline P = min(π, β·I) (Williams et al. 2009).
* KV-cache bytes = 2·layers·heads_kv·head_dim·tokens·batch·bytes.
* group-wise bits/weight = b + (scale_bits + zero_bits)/g.
* decode tokens/s bound = β / (weight bytes + KV bytes per token step) at batch 1.
* k-means weight sharing ratio r = n·b / (n·log2 k + k·b) (Han et al. 2016).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .._validate import check_int

__all__ = ["Generator", "GENERATORS", "generate", "stream"]


@dataclass(frozen=True)
class Generator:
    name: str
    topic: str
    llm: bool
    difficulty: int
    source: str
    make: Callable   # rng -> (params, prompt_zh, prompt_en, answer, tolerance, explanation)

    def __call__(self, seed: int):
        from .bank import Item
        s = check_int(seed, "seed", lo=0)
        rng = np.random.default_rng([s, sum(map(ord, self.name))])
        params, zh, en, answer, tol, expl = self.make(rng)
        return Item(id=f"gen-{self.name}-{s}", topic=self.topic, kind="number",
                    difficulty=self.difficulty, source=self.source, llm=self.llm,
                    prompt={"zh": zh, "en": en}, answer=float(answer), tolerance=tol,
                    explanation=expl, generator=self.name, params=params)


def _pick(rng, xs):
    return xs[int(rng.integers(len(xs)))]


def _csr(rng):
    rows, cols = int(_pick(rng, [4, 8, 16, 64])), int(_pick(rng, [8, 16, 32, 128]))
    s = float(_pick(rng, [0.5, 0.75, 0.875, 0.9]))
    b, i = int(_pick(rng, [8, 16, 32])), int(_pick(rng, [8, 16, 32]))
    n = rows * cols
    nnz = n - int(round(s * n))
    bits = nnz * (b + i) + (rows + 1) * i
    p = dict(rows=rows, cols=cols, sparsity=s, value_bits=b, index_bits=i, ptr_bits=i)
    return (p, f"{rows}×{cols} 的权重矩阵，稀疏度 {s:g}，值 {b} 位，列索引和行指针都是 {i} 位。CSR 存储需要多少字节？",
            f"A {rows}×{cols} weight matrix at sparsity {s:g}, {b}-bit values, {i}-bit column indices and row pointers. CSR bytes?",
            math.ceil(bits / 8), 0.0,
            f"nnz = {nnz}; bits = nnz·(b+i) + (rows+1)·p = {nnz}·{b + i} + {rows + 1}·{i} = {bits}; bytes = ceil(bits/8); dense = {n * b // 8}.")


def _bitmask(rng):
    rows, cols = int(_pick(rng, [16, 32, 64, 256])), int(_pick(rng, [16, 64, 128]))
    s = float(_pick(rng, [0.3, 0.5, 0.8, 0.95]))
    b = int(_pick(rng, [4, 8, 16, 32]))
    n = rows * cols
    nnz = n - int(round(s * n))
    bits = n + nnz * b
    p = dict(rows=rows, cols=cols, sparsity=s, value_bits=b)
    return (p, f"{rows}×{cols} 矩阵，稀疏度 {s:g}，值 {b} 位，用位图格式（每个位置 1 位 + 非零值）存储需多少字节？",
            f"A {rows}×{cols} matrix at sparsity {s:g}, {b}-bit values, stored as a bitmask (1 bit per position + nonzeros). Bytes?",
            math.ceil(bits / 8), 0.0, f"bits = n + nnz·b = {n} + {nnz}·{b} = {bits}.")


def _nm24(rng):
    rows, cols = int(_pick(rng, [64, 128, 256, 4096])), int(_pick(rng, [64, 256, 1024, 4096]))
    b = int(_pick(rng, [8, 16]))
    n = rows * cols
    bits = (n // 2) * (b + 2)
    p = dict(rows=rows, cols=cols, value_bits=b)
    return (p, f"{rows}×{cols} 的 {b} 位权重做 2:4 稀疏（每个保留值 2 位位置元数据），存储多少字节？",
            f"A {rows}×{cols} matrix of {b}-bit weights in 2:4 format (2 bits of position metadata per kept value). Bytes?",
            math.ceil(bits / 8), 0.0, f"bits = (n/2)·(b+2) = {n // 2}·{b + 2} = {bits}; dense = {n * b // 8} bytes.")


def _zero_point(rng):
    lo = -float(_pick(rng, [0.5, 1.0, 1.5, 2.0, 3.0]))
    hi = float(_pick(rng, [1.0, 2.0, 4.0, 6.0, 10.0]))
    b = int(_pick(rng, [4, 8]))
    S = (hi - lo) / (2 ** b - 1)
    Z = int(round(-lo / S))
    p = dict(r_min=lo, r_max=hi, bits=b)
    return (p, f"非对称 {b} 比特无符号量化，范围 [{lo:g}, {hi:g}]。零点 Z 是多少（整数）？",
            f"Asymmetric unsigned {b}-bit quantization of the range [{lo:g}, {hi:g}]. Zero point Z (integer)?",
            Z, 0.0, f"S = (r_max − r_min)/(2^b − 1) = {S:.6g}; Z = round(q_min − r_min/S) = round({-lo / S:.4g}) = {Z}.")


def _scale(rng):
    m = float(_pick(rng, [0.127, 0.254, 0.5, 1.27, 2.54, 3.0]))
    b = int(_pick(rng, [4, 6, 8]))
    S = m / (2 ** (b - 1) - 1)
    p = dict(max_abs=m, bits=b)
    return (p, f"对称 {b} 比特量化，max|w| = {m:g}。尺度 S 是多少？",
            f"Symmetric {b}-bit quantization with max|w| = {m:g}. Scale S?",
            S, 1e-3, f"S = max|w| / (2^(b−1) − 1) = {m:g} / {2 ** (b - 1) - 1} = {S:.6g}.")


def _round_err(rng):
    m = float(_pick(rng, [0.1, 0.5, 1.0, 2.0, 4.0]))
    b = int(_pick(rng, [2, 3, 4, 8]))
    S = m / (2 ** (b - 1) - 1)
    p = dict(max_abs=m, bits=b)
    return (p, f"对称 {b} 比特量化，max|w| = {m:g}。范围内的最大舍入误差是多少？",
            f"Symmetric {b}-bit quantization, max|w| = {m:g}. Largest rounding error inside the range?",
            S / 2, 1e-3, f"S = {m:g}/{2 ** (b - 1) - 1} = {S:.6g}; error ≤ S/2 = {S / 2:.6g}.")


def _agp(rng):
    si = float(_pick(rng, [0.0, 0.1, 0.2]))
    sf = float(_pick(rng, [0.5, 0.8, 0.9, 0.95]))
    n = int(_pick(rng, [4, 8, 10, 20]))
    k = int(rng.integers(1, n))
    val = sf + (si - sf) * (1 - k / n) ** 3
    p = dict(initial=si, final=sf, n_steps=n, k=k)
    return (p, f"AGP 从 {si:g} 到 {sf:g}，共 {n} 次剪枝更新。第 {k} 次更新后的稀疏度是多少？",
            f"AGP from {si:g} to {sf:g} over {n} pruning updates. Sparsity after update {k}?",
            val, 1e-4, f"s = s_f + (s_i − s_f)(1 − k/n)³ = {sf:g} + ({si:g} − {sf:g})(1 − {k}/{n})³ = {val:.6g}.")


def _conv_macs(rng):
    cin, cout = int(_pick(rng, [16, 32, 64, 128])), int(_pick(rng, [32, 64, 128, 256]))
    k = int(_pick(rng, [1, 3, 5]))
    hw = int(_pick(rng, [7, 14, 28, 32]))
    keep = float(_pick(rng, [0.5, 0.75, 0.25]))
    ci, co = int(round(cin * keep)), int(round(cout * keep))
    macs = co * ci * k * k * hw * hw
    p = dict(c_in=cin, c_out=cout, kernel=k, out_hw=hw, keep=keep)
    return (p, f"卷积层 {cin}→{cout} 通道，{k}×{k} 卷积核，输出 {hw}×{hw}。输入和输出通道都只保留 {keep:g}，剪枝后 MACs 是多少？",
            f"A conv layer {cin}→{cout} channels, {k}×{k} kernel, {hw}×{hw} output. Keep a fraction {keep:g} of both input and output channels: MACs after pruning?",
            macs, 0.0, f"MACs = C_out'·C_in'·k²·H·W = {co}·{ci}·{k * k}·{hw * hw} = {macs}.")


def _conv_params(rng):
    cin, cout = int(_pick(rng, [16, 32, 64])), int(_pick(rng, [32, 64, 128]))
    k = int(_pick(rng, [1, 3]))
    pruned = int(_pick(rng, [4, 8, 16]))
    co = cout - pruned
    params = co * cin * k * k + co
    p = dict(c_in=cin, c_out=cout, kernel=k, pruned_filters=pruned)
    return (p, f"卷积层 {cin}→{cout}，{k}×{k}，带偏置。剪掉 {pruned} 个滤波器后这一层的参数量是多少？",
            f"Conv layer {cin}→{cout}, {k}×{k}, with bias. Parameters of this layer after removing {pruned} filters?",
            params, 0.0, f"params = C_out'·(C_in·k² + 1) = {co}·({cin * k * k} + 1) = {params}.")


def _energy(rng):
    nin, nout = int(_pick(rng, [256, 512, 1024])), int(_pick(rng, [128, 256, 1000]))
    bits = int(_pick(rng, [8, 32]))
    kind = "int" if bits == 8 else "fp"
    # Horowitz 2014: int8 mult 0.2 + int32 add 0.1; fp32 mult 3.7 + fp32 add 0.9 (pJ)
    e_mac = 0.3 if bits == 8 else 4.6
    e_bit = 640.0 / 32   # Han et al. 2015: DRAM 640 pJ per 32-bit access
    macs = nin * nout
    e = macs * e_mac + macs * bits * e_bit
    p = dict(in_features=nin, out_features=nout, bits=bits, kind=kind)
    return (p, f"全连接层 {nin}→{nout}，批量 1，{bits} 位{'整数' if kind == 'int' else '浮点'}。权重从 DRAM 读一次（每 32 位 640 pJ），MAC 按 Horowitz 表。总能耗多少 pJ？",
            f"FC layer {nin}→{nout}, batch 1, {bits}-bit {kind}. Weights read once from DRAM (640 pJ per 32 bits), MACs from the Horowitz table. Total energy in pJ?",
            e, 1e-6, f"E = MACs·E_MAC + weight bits·20 pJ/bit = {macs}·{e_mac} + {macs * bits}·20 = {e:.6g} pJ (memory dominates).")


def _roofline(rng):
    M = int(_pick(rng, [1, 8, 64, 512, 4096]))
    N = K = int(_pick(rng, [1024, 4096, 8192]))
    byt = int(_pick(rng, [1, 2]))
    peak, bw = (312e12, 1555e9) if byt == 2 else (624e12, 1555e9)   # A100 fp16 / int8 dense
    flops = 2 * M * N * K
    moved = byt * (M * K + K * N + M * N)
    I = flops / moved
    P = min(peak, bw * I)
    p = dict(M=M, N=N, K=K, bytes=byt, peak=peak, bandwidth=bw)
    return (p, f"A100（峰值 {peak / 1e12:g} TOPS，带宽 1555 GB/s）上做 ({M}×{K})·({K}×{N}) 矩阵乘，每元素 {byt} 字节。屋顶线可达性能是多少 TFLOP/s？",
            f"On an A100 (peak {peak / 1e12:g} TOPS, 1555 GB/s), a ({M}×{K})·({K}×{N}) GEMM with {byt}-byte elements. Roofline attainable TFLOP/s?",
            P / 1e12, 1e-3, f"I = 2MNK / (bytes·(MK+KN+MN)) = {I:.4g} FLOP/B; P = min(π, β·I) = {P / 1e12:.4g} TFLOP/s.")


def _kv(rng):
    L = int(_pick(rng, [24, 32, 40, 80]))
    hkv = int(_pick(rng, [8, 32]))
    d = int(_pick(rng, [64, 128]))
    T = int(_pick(rng, [1024, 2048, 4096, 8192]))
    B = int(_pick(rng, [1, 4, 16]))
    byt = float(_pick(rng, [2, 1]))
    total = 2 * L * hkv * d * T * B * byt
    p = dict(layers=L, heads_kv=hkv, head_dim=d, tokens=T, batch=B, bytes=byt)
    return (p, f"模型 {L} 层，{hkv} 个 KV 头，head_dim {d}；上下文 {T} token，批量 {B}，每元素 {byt:g} 字节。KV cache 多少 GiB？",
            f"A model with {L} layers, {hkv} KV heads, head_dim {d}; {T} tokens of context, batch {B}, {byt:g} bytes per element. KV cache in GiB?",
            total / 2 ** 30, 1e-4, f"2·L·h_kv·d·T·B·bytes = 2·{L}·{hkv}·{d}·{T}·{B}·{byt:g} = {total:.6g} B = {total / 2 ** 30:.6g} GiB.")


def _group_bits(rng):
    b = int(_pick(rng, [2, 3, 4, 8]))
    g = int(_pick(rng, [32, 64, 128, 256]))
    sb = int(_pick(rng, [16, 8]))
    zb = int(_pick(rng, [0, 4, 8]))
    bpw = b + (sb + zb) / g
    p = dict(bits=b, group=g, scale_bits=sb, zero_bits=zb)
    return (p, f"{b} 比特分组量化，组大小 {g}，每组一个 {sb} 位尺度{'和一个 ' + str(zb) + ' 位零点' if zb else ''}。平均每个权重多少比特？",
            f"{b}-bit group-wise quantization, group size {g}, one {sb}-bit scale{' and a ' + str(zb) + '-bit zero point' if zb else ''} per group. Average bits per weight?",
            bpw, 1e-6, f"b + (scale_bits + zero_bits)/g = {b} + {sb + zb}/{g} = {bpw:g}.")


def _tokens(rng):
    params_b = float(_pick(rng, [1.0, 7.0, 13.0, 70.0]))
    wbits = float(_pick(rng, [16, 8, 4]))
    bw = float(_pick(rng, [68e9, 1555e9, 3.35e12]))
    wbytes = params_b * 1e9 * wbits / 8
    tps = bw / wbytes
    p = dict(params_billion=params_b, weight_bits=wbits, bandwidth=bw)
    return (p, f"{params_b:g}B 参数模型，权重 {wbits:g} 比特，带宽 {bw / 1e9:g} GB/s。批量 1 解码（每个 token 读一遍全部权重，忽略 KV cache），token/s 上限？",
            f"A {params_b:g}B-parameter model with {wbits:g}-bit weights on {bw / 1e9:g} GB/s. Batch-1 decoding reads all weights per token (ignore the KV cache): tokens/s bound?",
            tps, 1e-3, f"tokens/s ≤ β / weight bytes = {bw:g} / {wbytes:g} = {tps:.4g}.")


def _kmeans(rng):
    n = int(_pick(rng, [1024, 4096, 65536, 1 << 20]))
    k = int(_pick(rng, [4, 16, 32, 256]))
    b = 32
    r = n * b / (n * math.log2(k) + k * b)
    p = dict(n=n, clusters=k, value_bits=b)
    return (p, f"{n} 个 32 位权重用 k-means 共享为 {k} 个中心（存 log2 k 位索引 + 32 位码本）。压缩率是多少？",
            f"{n} 32-bit weights shared into k = {k} centroids (log2 k-bit indices + a 32-bit codebook). Compression ratio?",
            r, 1e-4, f"r = n·b / (n·log2 k + k·b) = {n * b} / ({n}·{math.log2(k):g} + {k}·{b}) = {r:.5g}.")


_SPECS = [
    ("csr_bytes", "practice", False, 2, "CSR accounting (Han et al. 2016 use CSR)", _csr),
    ("bitmask_bytes", "practice", False, 2, "bitmask format accounting", _bitmask),
    ("nm24_bytes", "llm_sparsity", True, 2, "2:4 format (Mishra et al. 2021)", _nm24),
    ("zero_point", "quantization", False, 2, "Jacob et al. 2018", _zero_point),
    ("sym_scale", "quantization", False, 1, "Jacob et al. 2018", _scale),
    ("rounding_error", "quantization", False, 1, "r = S·q, error ≤ S/2", _round_err),
    ("agp_value", "retrain_auto", False, 2, "Zhu & Gupta 2017", _agp),
    ("conv_macs", "structured", False, 2, "conv MAC count", _conv_macs),
    ("conv_params", "structured", False, 1, "conv parameter count", _conv_params),
    ("layer_energy", "hardware", False, 3, "Horowitz 2014; Han et al. 2015", _energy),
    ("roofline_bound", "hardware", False, 3, "Williams et al. 2009; A100 datasheet", _roofline),
    ("kv_cache_gib", "llm_serving", True, 2, "KV-cache formula", _kv),
    ("group_bits", "llm_quant", True, 1, "group-wise scale overhead", _group_bits),
    ("tokens_per_s", "llm_serving", True, 2, "bandwidth bound of decoding", _tokens),
    ("kmeans_ratio", "quantization", False, 2, "Han et al. 2016", _kmeans),
]

GENERATORS = {name: Generator(name, topic, llm, diff, src, fn) for name, topic, llm, diff, src, fn in _SPECS}


def generate(name: str, seed: int = 0):
    """One concrete item from generator ``name`` (a key of :data:`GENERATORS`) and ``seed``."""
    if name not in GENERATORS:
        raise ValueError(f"name must be one of {sorted(GENERATORS)}, got {name!r}")
    return GENERATORS[name](seed)


def stream(seed: int = 0):
    """Endless iterator of generated items, cycling through the generators with rising seeds."""
    s = check_int(seed, "seed", lo=0)
    names = list(GENERATORS)
    k = 0
    while True:
        yield GENERATORS[names[k % len(names)]](s + k // len(names))
        k += 1
