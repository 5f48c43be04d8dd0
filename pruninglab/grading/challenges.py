"""Two open challenges graded by MEASUREMENT, not by exact output (issue 10 item 5).

* ``"smallest"`` — the smallest MLP on disk at ≥ 95 % validation accuracy, in any storage format
  of :mod:`pruninglab.hardware.storage` (notebook 08);
* ``"fastest"`` — the fastest model on this machine (batch-1 median latency, one thread) at
  ≥ 96 % validation accuracy.

A submission is ``{"state_dict": ..., "format": "csr", "bits": 32, **format_kwargs}``. The
model is rebuilt from the state dict alone (a stack of Linear layers ``fc1, fc2, ...`` with ReLU
between, so structured pruning that shrinks the hidden sizes is allowed), evaluated on the
validation split, and measured:

* size: :func:`pruninglab.hardware.model_storage` in the chosen format at ``bits`` bits per
  value. Claiming ``bits < 32`` is only accepted when every layer's non-zero values really fit:
  at most ``2^bits`` distinct non-zero values per layer (a codebook / k-means model); the
  codebook itself (``2^bits`` fp32 entries per layer) is added to the size;
* speed: :func:`pruninglab.hardware.measure_latency` of one forward pass on one input
  (``torch.no_grad``, one thread). Timings are "on this machine" and vary run to run; the
  leaderboard reports the median.

:func:`leaderboard` ranks several submissions; :func:`reference_submissions` is the solution to
beat (a pruned reference MLP).
"""
from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import torch
from torch import nn

from .._validate import check_bits, check_choice

__all__ = ["CHALLENGES", "build_mlp", "measure", "leaderboard", "reference_submissions"]

CHALLENGES = {"smallest": {"threshold": 0.95, "metric": "bytes"},
              "fastest": {"threshold": 0.96, "metric": "latency_us"}}


class _StackMLP(nn.Module):
    def __init__(self, shapes):
        super().__init__()
        for i, (o, k) in enumerate(shapes):
            setattr(self, f"fc{i + 1}", nn.Linear(k, o))
        self.n = len(shapes)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        for i in range(1, self.n + 1):
            x = getattr(self, f"fc{i}")(x)
            if i < self.n:
                x = torch.relu(x)
        return x


def build_mlp(state_dict) -> nn.Module:
    """A ``fc1 … fcN`` ReLU MLP with the shapes of ``state_dict`` (64 inputs, 10 outputs)."""
    if not isinstance(state_dict, (dict, OrderedDict)):
        raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
    shapes, i = [], 1
    while f"fc{i}.weight" in state_dict:
        shapes.append(tuple(state_dict[f"fc{i}.weight"].shape))
        i += 1
    if not shapes:
        raise ValueError("state_dict must hold fc1.weight, fc2.weight, ... (a DigitsMLP-like model)")
    if shapes[0][1] != 64 or shapes[-1][0] != 10:
        raise ValueError(f"state_dict: the MLP must map 64 inputs to 10 classes, got {shapes}")
    for (o, _), (_, k) in zip(shapes, shapes[1:]):
        if o != k:
            raise ValueError(f"state_dict: layer shapes do not chain: {shapes}")
    m = _StackMLP(shapes)
    m.load_state_dict({k: torch.as_tensor(v) for k, v in state_dict.items()})
    return m.eval()


def measure(submission: dict, challenge: str, *, time_it: bool | None = None) -> dict:
    """Validation accuracy, bytes (in the chosen format) and, for ``"fastest"`` (or
    ``time_it=True``), batch-1 median latency in µs; ``eligible`` when the accuracy threshold
    and the bit-width claim hold (``reasons`` says why not)."""
    from ..data import load_digits
    from ..hardware import measure_latency, model_storage
    from ..train import accuracy
    check_choice(challenge, "challenge", tuple(CHALLENGES))
    if not isinstance(submission, dict) or "state_dict" not in submission:
        raise TypeError("submission must be a dict with a 'state_dict' (and optional 'format', 'bits')")
    fmt = submission.get("format", "dense")
    bits = check_bits(submission.get("bits", 32), "submission['bits']", lo=1, hi=32)
    kwargs = {k: v for k, v in submission.items() if k not in ("state_dict", "format", "bits", "name")}
    model = build_mlp(submission["state_dict"])
    val = load_digits("val")
    acc = accuracy(model, val)
    reasons = []
    codebook_bytes = 0
    if bits < 32:
        for name, mod in model.named_modules():
            if isinstance(mod, nn.Linear):
                w = mod.weight.detach()
                levels = int(torch.unique(w[w != 0]).numel())
                if levels > 2 ** bits:
                    reasons.append(f"{name} has {levels} distinct non-zero values: does not fit "
                                   f"{bits}-bit codes (quantize / share the weights first)")
                codebook_bytes += 4 * 2 ** bits
    size = model_storage(model, bits, fmt, **kwargs)["total_bytes"] + codebook_bytes
    thr = CHALLENGES[challenge]["threshold"]
    if acc < thr:
        reasons.append(f"val accuracy {acc:.4f} < {thr}")
    out = {"challenge": challenge, "val_accuracy": acc, "bytes": int(size), "format": fmt,
           "bits": bits, "eligible": not reasons, "reasons": reasons,
           "params": sum(p.numel() for p in model.parameters())}
    if time_it or (time_it is None and challenge == "fastest"):
        x = val.x[:1]
        with torch.no_grad():
            out["latency_us"] = 1e6 * measure_latency(lambda: model(x))["median_s"]
    return out


def leaderboard(submissions: dict, challenge: str) -> list[dict]:
    """Measure every ``{name: submission}`` and rank the eligible ones by the challenge's
    metric (smaller is better); ineligible entries follow, with their reasons."""
    if not isinstance(submissions, dict) or not submissions:
        raise TypeError("submissions must be a non-empty dict {name: submission}")
    rows = []
    for name, sub in submissions.items():
        r = measure(sub, challenge)
        r["name"] = name
        rows.append(r)
    key = CHALLENGES[challenge]["metric"]
    ok = sorted((r for r in rows if r["eligible"]), key=lambda r: r[key])
    for rank, r in enumerate(ok, 1):
        r["rank"] = rank
    return ok + [r for r in rows if not r["eligible"]]


def reference_submissions() -> dict:
    """The solutions to beat: the dense reference MLP (fp32, dense), and the reference MLP with
    60 % of its weights removed (global magnitude, no fine-tuning) stored in CSR with 16-bit
    indices (``smallest``); for ``fastest`` the dense reference."""
    from ..models import load_reference
    from ..pruning import apply_masks_, compute_masks
    ref = load_reference("mlp")
    pruned = copy.deepcopy(ref)
    apply_masks_(pruned, compute_masks(pruned, 0.6, scope="global"))
    sd = lambda m: {k: v.detach().clone() for k, v in m.state_dict().items()}  # noqa: E731
    return {"reference dense fp32": {"state_dict": sd(ref), "format": "dense", "bits": 32},
            "reference 60 % pruned, CSR": {"state_dict": sd(pruned), "format": "csr", "bits": 32,
                                           "index_bits": 16}}


def format_leaderboard(rows: list[dict]) -> str:
    """A small text table of :func:`leaderboard` rows."""
    lines = []
    for r in rows:
        rank = f"#{r['rank']}" if r.get("rank") else " -"
        lat = f", {r['latency_us']:.1f} µs" if "latency_us" in r else ""
        why = "" if r["eligible"] else "  (not eligible: " + "; ".join(r["reasons"]) + ")"
        lines.append(f"{rank:>3} {r['name']}: {r['bytes']:,} B ({r['format']}, {r['bits']}-bit), "
                     f"val {r['val_accuracy']:.4f}{lat}{why}")
    return "\n".join(lines)
