"""Deterministic training recipe of the notebook-09 language model (AdamW, cosine schedule)."""
from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from ..utils import seed_everything
from .data import load_split
from .model import DEFAULT_CONFIG, LMConfig, TinyGPT, perplexity

__all__ = ["LM_RECIPE", "train_lm", "state_for_disk"]

LM_RECIPE = dict(steps=400, batch_size=32, lr=3e-3, warmup=30, weight_decay=0.05, seed=0,
                 threads=2)


def train_lm(cfg: LMConfig = DEFAULT_CONFIG, *, steps=400, batch_size=32, lr=3e-3, warmup=30,
             weight_decay=0.05, seed=0, threads=2, progress=False, log=None):
    """Train :class:`TinyGPT` on the train split: random windows drawn by ``np.random
    .default_rng(seed)``, torch seeded and ``threads`` fixed, so reruns are bit-identical on one
    machine."""
    seed_everything(seed, threads=threads)
    model = TinyGPT(cfg)
    ids = load_split("train")
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, betas=(0.9, 0.95))
    it = range(steps)
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(it, desc="lm")
    t0 = time.perf_counter()
    for step in it:
        f = (step + 1) / warmup if step < warmup else \
            0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
        for g in opt.param_groups:
            g["lr"] = lr * max(f, 0.02)
        starts = rng.integers(0, len(ids) - cfg.ctx - 1, size=batch_size)
        x = torch.from_numpy(np.stack([ids[s:s + cfg.ctx + 1] for s in starts]).astype(np.int64))
        loss = F.cross_entropy(model(x[:, :-1]).reshape(-1, cfg.vocab_size), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if log is not None and (step % 50 == 0 or step == steps - 1):
            log(f"step {step} loss {loss.item():.4f} ({time.perf_counter() - t0:.0f} s)")
    return model.eval()


def state_for_disk(model: TinyGPT) -> dict:
    """fp16 state_dict + the config (as int tensors) -- what ``data/reference_lm.pt`` holds."""
    sd = {k: v.detach().half() for k, v in model.state_dict().items()}
    sd["__config__"] = {k: torch.tensor(v) for k, v in model.cfg.__dict__.items()}
    return sd
