"""Paired in-process timing: each LivePlot of 05-08 blitted vs the same LivePlot with full redraws
(state without "dynamic"), move by move interleaved, same results: one-step moves (as one arrow
key / next option in the browser) from the notebook's default, every control.

Run: python -m benchmarks.bench_blit_pairs   (numbers in benchmarks/README.md, "Notebooks 05–08")
"""
import os, statistics, sys, time
from pruninglab.utils import notebook_setup; notebook_setup()
import matplotlib; matplotlib.use("Agg")
import matplotlib.pyplot as plt
plt.rcParams["figure.dpi"] = plt.rcParams["savefig.dpi"] = 120
import numpy as np
from pruninglab.labs import quantization as LQ, joint as J, practice as P, hardware as H
from pruninglab import hardware as hw
LQ.precompute_quant(); J.precompute_joint()

def full(live):
    live._ensure(); live.state = dict(live.state); live.state.pop("dynamic", None); live.state.pop("background_key", None)
    return live

def steps(base, controls, k=3):
    """k one-step moves per control from the default (slider: +step; option list: next options)"""
    out = []
    for name, vals in controls.items():
        cur = dict(base)
        i = vals.index(base[name]) if base[name] in vals else 0
        for j in range(1, k + 1):
            cur = dict(cur); cur[name] = vals[(i + j) % len(vals)]
            out.append(cur)
    return out

cases = {
 "05 quant": (LQ.compute_quant, lambda: LQ.live_quant(), dict(bits=4, scheme="symmetric", per_channel=True, method="ptq", weight_memory="han_dram"),
              dict(bits=list(range(2, 9)), scheme=["symmetric", "affine"], per_channel=[True, False], method=["ptq", "qat", "kmeans"], weight_memory=["han_dram", "han_sram"])),
 "06 joint": (J.compute_joint, lambda: J.live_joint(), dict(sparsity=0.9, bits=4, method="kmeans", fine_tune=True),
              dict(sparsity=list(J.SPARSITIES), bits=list(range(2, 9)), method=["kmeans", "linear"], fine_tune=[True, False])),
 "07 practice": (P.compute_practice, lambda: P.live_practice(), dict(sparsity=0.5, kind="unstructured"),
              dict(sparsity=[round(0.05 * i, 2) for i in range(20)], kind=["unstructured", "structured"])),
 "08 storage": (H.compute_storage, lambda: H.live_storage(), dict(sparsity=0.9, bits=8, format="csr", index_bits=16, model="mlp"),
              dict(sparsity=[round(0.01 * i, 2) for i in range(99)], bits=list(range(2, 33)), format=list(hw.FORMATS), index_bits=[8, 16, 32], model=list(H.MODELS))),
 "08 energy": (H.compute_energy, lambda: H.live_energy(), dict(sparsity=0.9, bits=8, format="csr", batch=1, model="mlp", weight_memory="han_dram"),
              dict(sparsity=[round(0.01 * i, 2) for i in range(99)], bits=list(range(2, 33)), format=list(hw.FORMATS), batch=[1, 8, 64, 256], model=list(H.MODELS), weight_memory=["han_dram", "han_sram"])),
 "08 roofline": (H.compute_roofline, lambda: H.live_roofline(), dict(profile="Orin Nano", bits=8, batch=1, structure="unstructured", sparsity=0.9, model="mlp"),
              dict(profile=list(H.PROFILE_CHOICES)[:-1], bits=list(range(2, 33)), batch=[1, 8, 64, 256, 1024], structure=list(hw.STRUCTURES), sparsity=[round(0.01 * i, 2) for i in range(99)], model=list(H.MODELS))),
}
print(f"load at start {os.getloadavg()[0]:.1f}")
allb, allf = [], []
for name, (compute, make, base, controls) in cases.items():
    a, b = make(), full(make())
    r0 = compute(**base); a.draw(r0); b.draw(r0)
    tb, tf = [], []
    for p in steps(base, controls):
        r = compute(**p)
        for live, ts in ((a, tb), (b, tf)) if len(tb) % 2 == 0 else ((b, tf), (a, tb)):
            t = time.perf_counter(); live.draw(r); ts.append(1e3 * (time.perf_counter() - t))
    allb += tb; allf += tf
    p95 = lambda x: sorted(x)[min(len(x) - 1, round(0.95 * (len(x) - 1)))]
    print(f"{name:12s} moves {len(tb):3d}  blitted median {statistics.median(tb):6.1f} p95 {p95(tb):6.1f} | full redraw median {statistics.median(tf):6.1f} p95 {p95(tf):6.1f} ms | ratio of medians {statistics.median(tf) / statistics.median(tb):.1f}x")
p95 = lambda x: sorted(x)[min(len(x) - 1, round(0.95 * (len(x) - 1)))]
print(f"{'all':12s} moves {len(allb):3d}  blitted median {statistics.median(allb):6.1f} p95 {p95(allb):6.1f} | full redraw median {statistics.median(allf):6.1f} p95 {p95(allf):6.1f} ms")
print(f"load at end {os.getloadavg()[0]:.1f}")
