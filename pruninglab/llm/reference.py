"""``python -m pruninglab.train_reference --model lm [--check]``: train the notebook-09 LM, save
``data/reference_lm.pt`` (fp16) and ``data/lm_results.json``; ``--check`` retrains in memory and
compares the weights bit for bit and the results number for number.

``python -m pruninglab.train_reference --model lm --seeds 0 1 2 [--check]``: the spread over
training seeds. Each seed is trained with the same recipe (only ``seed`` changes; seed 0 is the
shipped model, loaded from ``data/reference_lm.pt``, which the first mode produces and checks) and
evaluated on the key comparisons (:data:`~pruninglab.llm.experiments.KEY_SETTINGS`); only the
``"seeds"`` entry of ``data/lm_results.json`` is written (``--check``: compared). Each mode leaves
the other's entries alone.
"""
from __future__ import annotations

import json
import sys
import time

import torch

from ..utils import repo_root
from .experiments import KEY_SETTINGS, key_from_sweep, run_all, run_key
from .model import DEFAULT_CONFIG, lm_weights_path, load_lm, perplexity
from .train import LM_RECIPE, state_for_disk, train_lm

__all__ = ["main_lm", "main_lm_seeds", "results_path", "load_results"]


def results_path():
    return repo_root() / "data" / "lm_results.json"


def load_results() -> dict:
    """The shipped precomputed sweeps of notebook 09."""
    return json.loads(results_path().read_text())


def compute_results(model, log=print) -> dict:
    """The sweeps of :func:`run_all` on one torch thread (as in the notebook), plus metadata."""
    from ..utils import num_threads
    with num_threads(1):
        results = run_all(model, log=log)
    results["recipe"] = dict(LM_RECIPE)
    results["config"] = dict(DEFAULT_CONFIG.__dict__)
    results["params"] = sum(p.numel() for p in model.parameters())
    return results


def main_lm(check: bool = False, results_only: bool = False) -> int:
    """Train (or, with ``results_only``, load the shipped weights), run the sweeps, then write
    or (``check``) compare. ``results_only`` always compares: it checks that the shipped results
    are what the sweeps give on the shipped weights, in minutes instead of a retraining."""
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.perf_counter()
    if results_only:
        model = load_lm()
        results = compute_results(model, log)
        old = load_results()
        diff = sorted(k for k in (set(results) | set(old)) - {"seeds"} if old.get(k) != results.get(k))
        print(f"lm: sweeps on the shipped weights {'identical to' if not diff else 'DIFFER from'} the "
              f"shipped results{': ' + ', '.join(diff) if diff else ''} ({time.perf_counter() - t0:.0f} s)")
        return 0 if not diff else 1
    model = train_lm(DEFAULT_CONFIG, progress=False, log=log, **LM_RECIPE)
    sd = state_for_disk(model)
    tmp = repo_root() / "build" / "reference_lm.check.pt"
    tmp.parent.mkdir(exist_ok=True)
    torch.save(sd, tmp)
    model = load_lm(tmp)  # evaluate exactly what ships (fp16-rounded weights)
    log(f"trained in {time.perf_counter() - t0:.0f} s")
    results = compute_results(model, log)
    print(f"lm: {results['params']:,} parameters, val perplexity {results['dense']:.4f}, "
          f"test {results['test']['dense']:.4f} ({time.perf_counter() - t0:.0f} s)")
    if check:
        saved = torch.load(lm_weights_path(), weights_only=True)
        same = all(torch.equal(saved[k], v) for k, v in sd.items() if k != "__config__")
        old = load_results()
        same_res = all(old.get(k) == v for k, v in results.items()) and \
            set(old) - {"seeds"} == set(results)
        print(f"lm: retrained weights {'identical to' if same else 'DIFFER from'} saved file; "
              f"results {'identical' if same_res else 'DIFFER'}")
        return 0 if same and same_res else 1
    torch.save(sd, lm_weights_path())
    if results_path().exists() and "seeds" in load_results():
        results["seeds"] = load_results()["seeds"]  # written by main_lm_seeds
    _write(results)
    return 0


def _write(results: dict) -> None:
    results_path().write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")


def main_lm_seeds(seeds=(0, 1, 2), check: bool = False) -> int:
    """Train every seed of ``seeds`` (same recipe otherwise; seed 0 = the shipped weights) and
    evaluate the key comparisons; write (or, with ``check``, compare) ``results["seeds"]``."""
    from ..utils import num_threads
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    seeds = sorted({int(s) for s in seeds})
    t0 = time.perf_counter()
    per_seed, train_s = {}, {}
    for s in seeds:
        t1 = time.perf_counter()
        if s == LM_RECIPE["seed"]:
            model = load_lm()
        else:
            model = train_lm(DEFAULT_CONFIG, progress=False, log=log, **{**LM_RECIPE, "seed": s})
            tmp = repo_root() / "build" / f"reference_lm.seed{s}.pt"
            tmp.parent.mkdir(exist_ok=True)
            torch.save(state_for_disk(model), tmp)
            model = load_lm(tmp)  # fp16-rounded, as shipped
            train_s[str(s)] = round(time.perf_counter() - t1)
        with num_threads(1):
            per_seed[str(s)] = run_key(model, log=lambda m, s=s: log(f"seed {s}: {m}"))
        log(f"seed {s}: dense {per_seed[str(s)]['dense']} ({time.perf_counter() - t0:.0f} s)")
    entry = {"seeds": seeds, "settings": list(KEY_SETTINGS), "per_seed": per_seed,
             "recipe": {k: v for k, v in LM_RECIPE.items() if k != "seed"}}
    res = load_results()
    status = 0
    if str(LM_RECIPE["seed"]) in per_seed and "pruning" in res:
        agree = per_seed[str(LM_RECIPE["seed"])] == key_from_sweep(res)
        print(f"lm seeds: seed {LM_RECIPE['seed']} key numbers {'equal' if agree else 'DIFFER from'} the full sweep")
        status |= 0 if agree else 1
    print(f"lm seeds {seeds}: dense " + ", ".join(f"{per_seed[str(s)]['dense']:.4f}" for s in seeds)
          + f" ({time.perf_counter() - t0:.0f} s; training of new seeds: {train_s} s)")
    if check:
        same = res.get("seeds") == entry
        print(f"lm seeds: results {'identical' if same else 'DIFFER'}")
        return status | (0 if same else 1)
    res["seeds"] = entry
    _write(res)
    return status
