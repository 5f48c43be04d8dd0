"""Measured latency on this machine: dense vs CSR vs channel-pruned vs int8, sparse break-even,
and the channel-count staircase (pruninglab.hardware.latency).

    python -m benchmarks.bench_latency [--threads 1]

All results are ratios measured in the same run (dense / variant), plus the measured break-even
sparsity of ``torch.sparse`` CSR and the number of "staircase inversions" in a lookup table
(channel counts c for which c + 4 channels were measured faster). Machine-dependent by design.
"""
from __future__ import annotations

import argparse

import torch


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--size", type=int, default=1024)
    a = p.parse_args(argv)
    from pruninglab import hardware as hw
    torch.set_num_threads(a.threads)
    out = {"threads": a.threads, "size": a.size, "variants": {}, "break_even": {}}
    m = hw.measure_machine()
    out["machine"] = m
    print(f"threads {a.threads}: peak {m['peak_flops'] / 1e9:.1f} GFLOP/s, "
          f"copy bandwidth {m['bandwidth'] / 1e9:.1f} GB/s")
    for batch in (1, 64):
        t = hw.time_linear_variants(a.size, a.size, batch, 0.9)
        ratios = {k: t["dense"] / v for k, v in t.items()}
        out["variants"][batch] = {"median_s": t, "speedup_vs_dense": ratios}
        print(f"{a.size}x{a.size}, 90 % sparse, batch {batch}: speedup vs dense " +
              ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
        be = hw.sparse_break_even(a.size, a.size, batch)
        out["break_even"][batch] = be["break_even"]
        print(f"  CSR break-even sparsity (batch {batch}): {be['break_even']}  "
              f"(csr/dense ratios {[round(c / d, 2) for c, d in zip(be['csr_s'], be['dense_s'])]})")
    lut = hw.latency_lut(range(8, 257, 4), kind="linear", in_features=256, batch=256)
    cs = sorted(lut)
    inv = [c for c, c2 in zip(cs, cs[1:]) if lut[c2] < lut[c]]
    m16 = [c for c in cs if c % 16 == 0]
    frac = sum(1 for c in m16 if c - 4 in lut and lut[c] <= lut[c - 4]) / max(1, len(m16))
    out["staircase"] = {"inversions": inv, "mult16_not_slower_than_c_minus_4": frac}
    print(f"staircase: {len(inv)} of {len(cs) - 1} steps of +4 channels were faster; "
          f"{100 * frac:.0f} % of multiples of 16 were no slower than 4 channels fewer")
    return out


if __name__ == "__main__":
    main()
