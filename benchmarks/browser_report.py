"""Markdown tables from a ``bench_browser_sliders`` result (``benchmarks/results/browser_sliders.json``).

    python -m benchmarks.browser_report [run.json ...]     # several runs: their samples pooled

Per control: moves that changed the view, median / p95 / max latency, and the median of each leg
(input → kernel callback, callback, callback end → last DOM change); then overall, the floor,
every sample over 100 ms with its legs, and the controls whose median ≥ 60 ms or p95 ≥ 100 ms.
p95 is the sample at rank round(0.95·(n−1)) of the sorted samples, as in the benchmark.
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
from benchmarks.bench_browser_sliders import GOAL_MEDIAN_MS, GOAL_P95_MS, _p95


def _med(legs, key):
    xs = [g[key] for g in legs if g.get(key) is not None]
    return statistics.median(xs) if xs else None


def _f(x):
    return "–" if x is None else f"{x:.1f}"


def report(d: dict) -> str:
    lines = ["| notebook | UI | control | moves (changed) | median ms | p95 ms | max ms | "
             "in → kernel | callback | → DOM |", "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    misses, slow = [], []
    for nb in d["notebooks"]:
        for r in nb["rows"]:
            ms, legs = r["samples_ms"], r.get("legs", [])
            name = r["control"] + (" — disabled" if r["disabled"] and not ms else "") + (
                f" (after {r['enabled_by']})" if r.get("enabled_by") else "")
            if not ms:
                lines.append(f"| {nb['notebook']} | {r['ui']} | {name} | {r['moves']} (0) | – | – | – | – | – | – |")
                continue
            med, p95 = statistics.median(ms), _p95(ms)
            lines.append(f"| {nb['notebook']} | {r['ui']} | {name} | {r['moves']} ({r['changed']}) | "
                         f"{med:.1f} | {p95:.1f} | {max(ms):.1f} | {_f(_med(legs, 'in_ms'))} | "
                         f"{_f(_med(legs, 'callback_ms'))} | {_f(_med(legs, 'out_ms'))} |")
            if med >= GOAL_MEDIAN_MS or p95 >= GOAL_P95_MS:
                misses.append(f"{nb['notebook']} UI {r['ui']} {r['control']}: median {med:.1f}, p95 {p95:.1f} ms")
            for g in legs:
                if g["ms"] > GOAL_P95_MS:
                    slow.append(f"{nb['notebook']} UI {r['ui']} {r['control']}: {g['ms']:.1f} ms = in "
                                f"{_f(g.get('in_ms'))} + callback {_f(g.get('callback_ms'))} + out "
                                f"{_f(g.get('out_ms'))} (kernel GC {g.get('gc_ms', 0):.1f}, server GC "
                                f"{g.get('server_gc_ms', 0):.1f}, browser long "
                                f"tasks {g.get('long_task_ms', 0):.1f})")
    all_legs = [g for nb in d["notebooks"] for r in nb["rows"] for g in r.get("legs", [])]
    out = ["\n".join(lines), ""]
    o = d.get("overall")
    if o:
        out.append(f"**Overall**: {o['moves']} moves, median {o['median_ms']:.1f} ms, p95 {o['p95_ms']:.1f} ms, "
                   f"max {o['max_ms']:.1f} ms (goal: median < {GOAL_MEDIAN_MS}, p95 < {GOAL_P95_MS}).")
    if all_legs:
        out.append("Legs over all moves, median / p95 / max ms: " + "; ".join(
            f"{lab} {_f(_med(all_legs, k))} / {_f(_p95([g[k] for g in all_legs if g.get(k) is not None]))} / "
            f"{_f(max((g[k] for g in all_legs if g.get(k) is not None), default=None))}"
            for lab, k in (("input → kernel", "in_ms"), ("callback", "callback_ms"), ("→ DOM", "out_ms"))) + ".")
    f = d.get("floor")
    if f and f.get("moves"):
        out.append(f"**Floor** (do-nothing slider, {f['moves']} moves): median {f['median_ms']:.1f}, "
                   f"p95 {f['p95_ms']:.1f}, max {f['max_ms']:.1f} ms.")
    out.append(f"Samples over {GOAL_P95_MS} ms: {len(slow)} of {len(all_legs)}" + (":" if slow else "."))
    out += [f"- {s}" for s in slow]
    out.append("Controls missing the goal (median ≥ 60 or p95 ≥ 100 ms): " + (", ".join(misses) if misses else "none") + ".")
    m = d.get("machine", {})
    out.append(f"Machine: {m.get('cpus')} CPUs, load average {m.get('loadavg_start')} at the start, "
               f"{m.get('loadavg_end')} at the end; {d.get('moves_per_control')} moves per control, "
               f"{d.get('build')} builds.")
    return "\n".join(out)


def pool(runs: list[dict]) -> dict:
    """One result with every run's samples of each control together (controls matched by
    notebook and position; all runs must have the same controls in the same order)."""
    base = json.loads(json.dumps(runs[0]))
    for other in runs[1:]:
        for nb, onb in zip(base["notebooks"], other["notebooks"], strict=True):
            if nb["notebook"] != onb["notebook"] or len(nb["rows"]) != len(onb["rows"]):
                raise ValueError(f"runs differ in {nb['notebook']} / {onb['notebook']}")
            for r, o in zip(nb["rows"], onb["rows"]):
                if (r["ui"], r["control"]) != (o["ui"], o["control"]):
                    raise ValueError(f"{nb['notebook']}: control {r['control']} vs {o['control']}")
                r["samples_ms"] += o["samples_ms"]
                r["legs"] = r.get("legs", []) + o.get("legs", [])
                r["moves"] += o["moves"]
                r["changed"] += o["changed"]
                r["disabled"] = r["disabled"] and o["disabled"]
                r["enabled_by"] = r.get("enabled_by") or o.get("enabled_by")
    ms = [x for nb in base["notebooks"] for r in nb["rows"] for x in r["samples_ms"]]
    base["overall"] = {"moves": len(ms), "median_ms": statistics.median(ms), "p95_ms": _p95(ms),
                       "max_ms": max(ms)}
    fl = [x for d in runs for x in (d.get("floor") or {}).get("samples_ms", [])]
    base["floor"] = ({"moves": len(fl), "median_ms": statistics.median(fl), "p95_ms": _p95(fl),
                      "max_ms": max(fl)} if fl else None)
    base["moves_per_control"] = sum(d.get("moves_per_control", 0) for d in runs)
    return base


def main(argv=None) -> str:
    """``browser_report [a.json [b.json ...]]``: one run's tables, or several runs pooled."""
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or [ROOT / "benchmarks" / "results" / "browser_sliders.json"]
    runs = [json.loads(p.read_text()) for p in paths]
    text = report(runs[0] if len(runs) == 1 else pool(runs))
    print(text)
    return text


if __name__ == "__main__":
    main()
