"""Run every benchmark and write ``benchmarks/results/latest.json``.

    python -m benchmarks.run_all            # or: make bench

Each benchmark prints ratios measured in the same run (never only absolute times).
"""
from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHES = ["bench_global_pruning", "bench_structured_int8", "bench_latency",
           "bench_hardware_sliders", "bench_sliders", "bench_notebooks", "bench_suite"]


def main() -> int:
    results = {"machine": {"python": platform.python_version(), "processor": platform.processor(),
                           "machine": platform.machine()}, "benchmarks": {}}
    failed = []
    for name in BENCHES:
        path = ROOT / "benchmarks" / f"{name}.py"
        if not path.exists():
            continue
        print(f"\n=== {name} ===", flush=True)
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"benchmarks.{name}")
            out = mod.main([]) if "argv" in mod.main.__code__.co_varnames else mod.main()
            results["benchmarks"][name] = {"seconds": time.perf_counter() - t0,
                                           "result": out if isinstance(out, (dict, list)) else None}
        except Exception as e:  # keep going: report which benchmark failed
            failed.append(name)
            print(f"{name} FAILED: {e!r}", flush=True)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {out / 'latest.json'}; failed: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
