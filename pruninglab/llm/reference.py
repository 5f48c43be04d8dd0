"""``python -m pruninglab.train_reference --model lm [--check]``: train the notebook-09 LM, save
``data/reference_lm.pt`` (fp16) and ``data/lm_results.json``; ``--check`` retrains in memory and
compares the weights bit for bit and the results number for number."""
from __future__ import annotations

import json
import sys
import time

import torch

from ..utils import repo_root
from .experiments import run_all
from .model import DEFAULT_CONFIG, lm_weights_path, load_lm, perplexity
from .train import LM_RECIPE, state_for_disk, train_lm

__all__ = ["main_lm", "results_path", "load_results"]


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


def main_lm(check: bool = False) -> int:
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731
    t0 = time.perf_counter()
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
        same_res = all(old.get(k) == v for k, v in results.items())
        print(f"lm: retrained weights {'identical to' if same else 'DIFFER from'} saved file; "
              f"results {'identical' if same_res else 'DIFFER'}")
        return 0 if same and same_res else 1
    torch.save(sd, lm_weights_path())
    results_path().write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    return 0
