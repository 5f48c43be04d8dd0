"""Global magnitude pruning of a ResNet-18-sized parameter set: pruninglab vs torch.nn.utils.prune.

Run: ``python -m benchmarks.bench_global_pruning [--repeats 5] [--threads 1]``

The weights are the 21 conv/fc weight tensors of ResNet-18 (He et al., 2016) — 11,678,912
float32 values (~44.6 MiB), built as plain tensors (no torchvision), seeded N(0, 1). Both methods
prune 90 % of them with one global magnitude threshold:

* ``torch``: ``torch.nn.utils.prune.global_unstructured(params, pruning_method=L1Unstructured,
  amount=0.9)`` — concatenates the scores, ``topk`` over all of them, float masks, and the
  ``weight = weight_orig * weight_mask`` re-parametrisation.
* ``pruninglab``: ``global_magnitude_masks`` (one in-place ``numpy.partition`` on a float32
  buffer of ``|w|``, freed before the bool masks are built) + applying the masks in place
  (``masked_fill_``).

Each method runs in its own fresh subprocess. Peak memory = peak RSS (``VmHWM``, reset through
``/proc/self/clear_refs`` when the kernel allows it, else ``ru_maxrss``) during the first call
minus the RSS just before it, i.e. the *extra* memory beyond the weights; time = median wall
time of ``--repeats`` further calls. A third subprocess checks that both masks agree.
Ratios are computed from numbers measured in the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

RESNET18_SHAPES = (
    [(64, 3, 7, 7)]
    + [(64, 64, 3, 3)] * 4
    + [(128, 64, 3, 3), (128, 128, 3, 3), (128, 64, 1, 1), (128, 128, 3, 3), (128, 128, 3, 3)]
    + [(256, 128, 3, 3), (256, 256, 3, 3), (256, 128, 1, 1), (256, 256, 3, 3), (256, 256, 3, 3)]
    + [(512, 256, 3, 3), (512, 512, 3, 3), (512, 256, 1, 1), (512, 512, 3, 3), (512, 512, 3, 3)]
    + [(1000, 512)]
)
SPARSITY = 0.9


def _weights(seed: int = 0):
    import torch
    g = torch.Generator().manual_seed(seed)
    # normal_ fills in place: no temporaries that would inflate the peak RSS
    return {f"w{i}": torch.empty(s).normal_(generator=g) for i, s in enumerate(RESNET18_SHAPES)}


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def _hwm_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _run_torch(weights):
    from torch import nn
    from torch.nn.utils import prune
    holders = []
    for w in weights.values():
        h = nn.Module()
        h.weight = nn.Parameter(w, requires_grad=False)      # shares storage, no copy
        holders.append(h)
    prune.global_unstructured([(h, "weight") for h in holders], pruning_method=prune.L1Unstructured,
                              amount=SPARSITY)
    return {k: h.weight_mask for k, h in zip(weights, holders)}, holders


def _run_ours(weights):
    import torch
    from pruninglab.pruning import global_magnitude_masks
    masks = global_magnitude_masks(weights, SPARSITY)
    with torch.no_grad():
        for k, w in weights.items():
            w.masked_fill_(~masks[k], 0.0)
    return masks, None


def worker(method: str, repeats: int, threads: int) -> dict:
    import torch
    torch.set_num_threads(threads)
    run = _run_ours if method == "pruninglab" else _run_torch
    small = {"a": torch.randn(100), "b": torch.randn(10, 10)}
    run(small)                                                # warm up lazy imports/kernels
    weights = _weights()
    n = sum(w.numel() for w in weights.values())
    backup = {k: w.clone() for k, w in weights.items()} if method == "pruninglab" else None
    weight_kib = n * 4 / 1024
    # --- memory: first call, peak RSS delta
    if backup is not None:
        del backup                                            # not part of the measured footprint
    import gc
    gc.collect()
    base = _rss_kib()
    resettable = _reset_peak()
    base_peak = _hwm_kib()
    if not resettable and base_peak > base:
        base = base_peak                                      # can only see peaks above the old one
    out = run(weights)
    peak = _hwm_kib()
    extra_kib = max(0, peak - base)
    del out
    gc.collect()
    # --- time: median over repeats (fresh copies of the dense weights for ours)
    times = []
    for r in range(repeats):
        ws = _weights()
        t0 = time.perf_counter()
        out = run(ws)
        times.append(time.perf_counter() - t0)
        del out, ws
        gc.collect()
    return {"method": method, "n_weights": n, "weight_mib": weight_kib / 1024,
            "extra_mib": extra_kib / 1024, "extra_over_weights": extra_kib / weight_kib,
            "median_s": statistics.median(times), "times_s": times, "peak_reset": resettable,
            "threads": threads}


def check() -> dict:
    import torch
    torch.set_num_threads(1)
    ours, _ = _run_ours(_weights())
    theirs, _ = _run_torch(_weights())
    diff = sum(int((ours[k] != theirs[k].bool()).sum()) for k in ours)
    pruned = sum(int((~m).sum()) for m in ours.values())
    return {"mask_mismatches": diff, "pruned": pruned,
            "expected_pruned": round(SPARSITY * sum(m.numel() for m in ours.values()))}


def _sub(args: list[str]) -> dict:
    env = dict(os.environ)
    res = subprocess.run([sys.executable, "-m", "benchmarks.bench_global_pruning", *args],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--worker", choices=["pruninglab", "torch"])
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    if a.worker:
        print(json.dumps(worker(a.worker, a.repeats, a.threads)))
        return 0
    if a.check:
        print(json.dumps(check()))
        return 0
    rows = {m: _sub(["--worker", m, "--repeats", str(a.repeats), "--threads", str(a.threads)])
            for m in ("torch", "pruninglab")}
    chk = _sub(["--check"])
    t, o = rows["torch"], rows["pruninglab"]
    print(f"ResNet-18 weight set: {o['n_weights']:,} float32 weights = {o['weight_mib']:.1f} MiB; "
          f"global magnitude pruning to {SPARSITY:.0%}; {a.threads} thread(s), median of {a.repeats}")
    print(f"{'method':<12} {'median time (s)':>16} {'extra peak RSS (MiB)':>21} {'extra / weights':>16}")
    for r in (t, o):
        print(f"{r['method']:<12} {r['median_s']:>16.3f} {r['extra_mib']:>21.1f} {r['extra_over_weights']:>15.2f}x")
    print(f"speed-up (torch time / pruninglab time): {t['median_s'] / o['median_s']:.2f}x")
    print(f"extra-memory ratio (pruninglab / torch): {o['extra_mib'] / max(t['extra_mib'], 1e-9):.2f}")
    print(f"masks identical: {chk['mask_mismatches'] == 0} (mismatches {chk['mask_mismatches']}); "
          f"pruned {chk['pruned']:,} of expected {chk['expected_pruned']:,}; peak reset via clear_refs: "
          f"{o['peak_reset']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
