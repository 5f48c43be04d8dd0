"""Train the reference models deterministically and save them in ``data/``.

    python -m pruninglab.train_reference            # both models
    python -m pruninglab.train_reference --check    # retrain in memory, compare to saved files
    python -m pruninglab.train_reference --model lm [--check]   # notebook 09's language model
    python -m pruninglab.train_reference --model lm --seeds 0 1 2 [--check]   # its spread over seeds
    python -m pruninglab.train_reference --model lm --results-only   # shipped weights -> same results?

Writes ``data/reference_mlp.pt``, ``data/reference_cnn.pt`` (state_dicts) and
``data/reference_metrics.json`` (train/val/test accuracy, the recipe used). ``--model lm`` trains
the character-level transformer of notebook 09 (``data/reference_lm.pt``) and writes its
precomputed sweeps (``data/lm_results.json``); ``--seeds`` trains those seeds and writes only the
key comparisons per seed (the ``"seeds"`` entry); see :mod:`pruninglab.llm.reference`.
"""
from __future__ import annotations

import argparse
import json
import sys

import torch

from .data import load_digits
from .models import build_model, _weights_path
from .train import accuracy, train
from .utils import repo_root, seed_everything

RECIPES = {
    "mlp": dict(epochs=40, lr=1e-3, batch_size=32, seed=0, weight_decay=0.0),
    "cnn": dict(epochs=30, lr=2e-3, batch_size=32, seed=0, weight_decay=0.0),
}


def train_one(name: str, progress: bool = False):
    seed_everything(0)
    images = name == "cnn"
    tr, va, te = (load_digits(s, images=images) for s in ("train", "val", "test"))
    model = build_model(name)
    train(model, tr, progress=progress, desc=name, **RECIPES[name])
    metrics = {s.name: round(accuracy(model, s), 6) for s in (tr, va, te)}
    return model, metrics


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="retrain and compare with saved weights")
    p.add_argument("models", nargs="*", default=["mlp", "cnn"])
    p.add_argument("--model", choices=["mlp", "cnn", "lm"], help="train only this model")
    p.add_argument("--seeds", type=int, nargs="+", help="with --model lm: the training-seed spread of "
                   "the key comparisons (e.g. 0 1 2) instead of the seed-0 model and its full sweep")
    p.add_argument("--results-only", action="store_true", help="with --model lm: no training; run the "
                   "sweeps on the shipped weights and compare them with the shipped results")
    args = p.parse_args(argv)
    if (args.seeds or args.results_only) and args.model != "lm":
        p.error("--seeds and --results-only need --model lm")
    if args.model == "lm":
        from .llm.reference import main_lm, main_lm_seeds
        if args.seeds:
            return main_lm_seeds(args.seeds, check=args.check)
        return main_lm(check=args.check, results_only=args.results_only)
    if args.model:
        args.models = [args.model]
    all_metrics = {}
    status = 0
    for name in args.models:
        model, metrics = train_one(name, progress=sys.stderr.isatty())
        all_metrics[name] = {"accuracy": metrics, "recipe": RECIPES[name],
                             "params": sum(p.numel() for p in model.parameters())}
        print(f"{name}: " + ", ".join(f"{k} {100 * v:.2f}%" for k, v in metrics.items()))
        if args.check:
            saved = torch.load(_weights_path(name), weights_only=True)
            same = all(torch.equal(saved[k], v) for k, v in model.state_dict().items())
            print(f"{name}: retrained weights {'identical to' if same else 'DIFFER from'} saved file")
            status |= 0 if same else 1
        else:
            torch.save(model.state_dict(), _weights_path(name))
    if not args.check:
        path = repo_root() / "data" / "reference_metrics.json"
        old = json.loads(path.read_text()) if path.exists() else {}
        old.update(all_metrics)
        path.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
