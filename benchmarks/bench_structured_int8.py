"""Structured-pruning speedup vs FLOP reduction, and int8 vs fp32 Linear speedup, on this CPU.

    python -m benchmarks.bench_structured_int8

1. A wide MLP (1024-2048-2048-1024-10, batch 256) is channel-pruned with
   ``pruninglab.pruning.shrink_model`` (L1 criterion) at several ratios. For each ratio we
   measure the latency speedup (dense / shrunk) and the MAC reduction (dense MACs / shrunk MACs)
   in the same run; their quotient is the *efficiency* (goal >= 0.8: a physically smaller dense
   model should turn nearly all of its FLOP savings into time savings).
2. fp32 ``nn.Linear`` vs ``torch.ao.quantization.quantize_dynamic`` int8 Linear (weights int8,
   activations quantized on the fly) at batch 1 and 64, same run.

Timing: warm-up, then the median of many repeats (``time.perf_counter``), torch threads = 2.
"""
from __future__ import annotations

import statistics
import time
import warnings

import torch
from torch import nn


def median_time(fn, x, warmup=10, repeat=50) -> float:
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn(x)
            ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def wide_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(1024, 2048), nn.ReLU(), nn.Linear(2048, 2048), nn.ReLU(),
                         nn.Linear(2048, 1024), nn.ReLU(), nn.Linear(1024, 10)).eval()


def macs(model, x) -> int:
    total = 0
    for m in model.modules():
        if isinstance(m, nn.Linear):
            total += m.in_features * m.out_features * x.shape[0]
    return total


def structured(threads: int = 2) -> list[dict]:
    from pruninglab.pruning import shrink_model
    torch.set_num_threads(threads)
    model = wide_mlp()
    x = torch.randn(256, 1024)
    t_dense = median_time(model, x)
    rows = []
    for ratio in (0.25, 0.5, 0.75):
        small = shrink_model(model, {"0": ratio, "2": ratio, "4": ratio}, criterion="l1").eval()
        t = median_time(small, x)
        speedup = t_dense / t
        flop_red = macs(model, x) / macs(small, x)
        rows.append({"ratio": ratio, "dense_ms": 1e3 * t_dense, "shrunk_ms": 1e3 * t,
                     "speedup": speedup, "mac_reduction": flop_red, "efficiency": speedup / flop_red})
    return rows


def int8(threads: int = 2) -> list[dict]:
    torch.set_num_threads(threads)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic
        for d in (1024, 2048):
            torch.manual_seed(0)
            fp = nn.Sequential(nn.Linear(d, d)).eval()
            q = quantize_dynamic(fp, {nn.Linear}, dtype=torch.qint8)
            for batch in (1, 64):
                x = torch.randn(batch, d)
                t_fp, t_q = median_time(fp, x), median_time(q, x)
                rows.append({"features": d, "batch": batch, "fp32_us": 1e6 * t_fp, "int8_us": 1e6 * t_q,
                             "speedup": t_fp / t_q})
    return rows


def main(argv=None) -> dict:
    s = structured()
    print("channel pruning (wide MLP, batch 256): speedup / MAC reduction")
    print(f"{'ratio':>6s} {'dense ms':>9s} {'shrunk ms':>10s} {'speedup':>8s} {'MAC red.':>9s} {'efficiency':>10s}")
    for r in s:
        print(f"{r['ratio']:6.2f} {r['dense_ms']:9.2f} {r['shrunk_ms']:10.2f} {r['speedup']:8.2f} "
              f"{r['mac_reduction']:9.2f} {r['efficiency']:10.2f}")
    q = int8()
    print("int8 dynamic quantization vs fp32 nn.Linear")
    print(f"{'d':>6s} {'batch':>6s} {'fp32 us':>9s} {'int8 us':>9s} {'speedup':>8s}")
    for r in q:
        print(f"{r['features']:6d} {r['batch']:6d} {r['fp32_us']:9.1f} {r['int8_us']:9.1f} {r['speedup']:8.2f}")
    return {"structured": s, "int8": q}


if __name__ == "__main__":
    main()
