"""The precomputed results of notebook 09 (``data/lm_results.json``), written by
``python -m pruninglab.train_reference --model lm`` after training and re-checked by ``--check``.

Every number is a held-out perplexity per character of the shipped model (fp16 weights): on the
first ``EVAL_TOKENS`` tokens of the **validation** split for every decision, and on the first
``TEST_TOKENS`` tokens of the **test** split once for the chosen settings (``"test"`` entry). Calibration windows come from the train
split. Spread: the full sweep is run on the shipped model (training seed 0), with a spread over
**calibration seeds** (3 independent draws of the calibration windows); the spread over **training
seeds** is measured for the key comparisons only (:func:`run_key`, ``"seeds"`` entry, written by
``python -m pruninglab.train_reference --model lm --seeds 0 1 2``).
"""
from __future__ import annotations

import time

import torch

from .activations import channel_absmax, outlier_ratio, w8a8_model
from .compress import compress_model
from .data import calibration_batch, eval_batches
from .formats import FORMATS, format_bits, quantize_format
from .kvcache import GRANULARITIES, kv_quantizer
from .model import TinyGPT, perplexity
from .quant import bits_per_weight

__all__ = ["EVAL_TOKENS", "CALIB", "SPARSITIES", "CALIB_SIZES", "GROUP_SIZES", "run_all", "STAGES",
           "run_stage", "finish", "KEY_SETTINGS", "run_key", "key_from_sweep"]

EVAL_TOKENS = 4096
TEST_TOKENS = 8192
CALIB = dict(n_samples=64, seq_len=64)
SPARSITIES = [0.1, 0.3, 0.5, 0.7, 0.9]
CALIB_SIZES = [1, 8, 64]
GROUP_SIZES = [32, 128, None]
PRUNERS = ("magnitude", "wanda", "sparsegpt")


def _r(x):
    return round(float(x), 4)


STAGES = ("pruning", "calibration", "quantization", "activations", "test")


@torch.no_grad()
def run_stage(model: TinyGPT, stage: str, log=print) -> dict:
    """One independent part of :func:`run_all` (they can run in parallel processes; entries that
    repeat another stage's numbers are filled in by :func:`finish`)."""
    t0 = time.perf_counter()
    val = eval_batches("val", model.cfg.ctx, EVAL_TOKENS)
    ppl = lambda m, **k: _r(perplexity(m, val, **k))  # noqa: E731
    calib = calibration_batch(seed=0, **CALIB)
    d = model.cfg.d_model
    out: dict = {}

    def step(msg):
        log(f"{stage}: {msg} ({time.perf_counter() - t0:.0f} s)")

    if stage == "pruning":
        out.update(eval_tokens=EVAL_TOKENS, calib=dict(CALIB), dense=ppl(model))
        out["pruning"] = {"sparsities": SPARSITIES, **{m: [ppl(compress_model(model, m, calib, sparsity=s))
                                                         for s in SPARSITIES] for m in PRUNERS}}
        step("pruning sweep")
        out["nm"] = {f"{n}:{m}": {meth: ppl(compress_model(model, meth, calib, prune_n=n, prune_m=m))
                                  for meth in PRUNERS} for n, m in ((2, 4), (4, 8))}
        step("n:m")
    elif stage == "calibration":
        out["calib_seeds"] = {f"{meth} 50%": [None] + [
            ppl(compress_model(model, meth, calibration_batch(seed=s, **CALIB), sparsity=0.5)) for s in (1, 2)]
            for meth in ("wanda", "sparsegpt")}
        step("calibration seeds")
        out["calib_size"] = {"sizes": CALIB_SIZES, **{f"{meth} 50%": [
            None if n == CALIB["n_samples"] else
            ppl(compress_model(model, meth, calibration_batch(n, CALIB["seq_len"], 0), sparsity=0.5))
            for n in CALIB_SIZES] for meth in ("wanda", "sparsegpt")}}
        step("calibration size")
    elif stage == "quantization":
        q = {"bits": [3, 4], "group_sizes": [g or 0 for g in GROUP_SIZES]}
        for meth in ("rtn", "gptq"):
            q[meth] = {str(b): [ppl(compress_model(model, meth, calib, bits=b, group_size=g)) for g in GROUP_SIZES]
                       for b in (3, 4)}
        # per channel: one scale + zero per output row; a block has 9d rows over 12d^2 weights
        q["bits_per_weight"] = {str(b): [_r(bits_per_weight(b, g) if g else b + (16 + b) * 9 / (12 * d))
                                         for g in GROUP_SIZES] for b in (3, 4)}
        out["quant"] = q
        step("rtn/gptq sweep")
    elif stage == "activations":
        out["awq"] = {f"{b}-bit g{g}": {"awq": ppl(compress_model(model, "awq", calib, bits=b, group_size=g))}
                      for b, g in ((3, 32), (3, 128), (4, 128))}
        step("awq")
        amax = channel_absmax(model, calib)
        out["outliers"] = {k: _r(outlier_ratio(v)) for k, v in amax.items()}
        out["w8a8"] = {f"W8A{a}": {"naive": ppl(w8a8_model(model, a_bits=a)),
                                   "smoothquant": ppl(w8a8_model(model, calib, smooth=True, a_bits=a))}
                       for a in (8, 6, 4)}
        step("outliers + smoothquant")
        out["kv"] = {g: {str(b): ppl(model, kv_quant=kv_quantizer(b, g)) for b in (8, 4, 3, 2)}
                     for g in GRANULARITIES}
        fm = {}
        for fmt in FORMATS:
            m = compress_model(model, "magnitude", sparsity=0.0)
            for name, mod in m.named_modules():
                if isinstance(mod, torch.nn.Linear) and name.startswith("blocks"):
                    mod.weight.copy_(quantize_format(mod.weight, fmt))
            fm[fmt] = {"ppl": ppl(m), "bits": _r(format_bits(fmt, 3 * d * d))}
        out["formats"] = fm
        step("kv + formats")
    else:
        test = eval_batches("test", model.cfg.ctx, TEST_TOKENS)
        tp = lambda m: _r(perplexity(m, test))  # noqa: E731
        out["test"] = {"tokens": int(test[:, 1:].numel()), "dense": tp(model),
                       **{f"{m} 50%": tp(compress_model(model, m, calib, sparsity=0.5)) for m in PRUNERS},
                       "rtn 3-bit g128": tp(compress_model(model, "rtn", bits=3, group_size=128)),
                       "gptq 3-bit g128": tp(compress_model(model, "gptq", calib, bits=3, group_size=128))}
        step("test split")
    return out


def finish(out: dict) -> dict:
    """Fill the entries that repeat numbers of another stage (same model, same calibration)."""
    k = SPARSITIES.index(0.5)
    for meth in ("wanda", "sparsegpt"):
        out["calib_seeds"][f"{meth} 50%"][0] = out["pruning"][meth][k]
        cs = out["calib_size"][f"{meth} 50%"]
        cs[CALIB_SIZES.index(CALIB["n_samples"])] = out["pruning"][meth][k]
    q = out["quant"]
    for key, v in out["awq"].items():
        b, g = key.split("-bit g")
        v["rtn"] = q["rtn"][b][GROUP_SIZES.index(int(g))]
        v["gptq"] = q["gptq"][b][GROUP_SIZES.index(int(g))]
    out["formats"]["int4 g32 (rtn)"] = {"ppl": q["rtn"]["4"][GROUP_SIZES.index(32)],
                                        "bits": _r(bits_per_weight(4, 32))}
    return out


def run_all(model: TinyGPT, log=print) -> dict:
    """All sweeps of notebook 09 (a few minutes on 2 cores): the stages, merged."""
    out: dict = {}
    for st in STAGES:
        out.update(run_stage(model, st, log))
    return finish(out)


#: the comparisons repeated for every training seed: name -> compress_model arguments
KEY_SETTINGS = {
    **{f"{m} 50%": dict(method=m, sparsity=0.5) for m in PRUNERS},
    **{f"{m} 2:4": dict(method=m, prune_n=2, prune_m=4) for m in PRUNERS},
    **{f"{m} 3-bit {'per-channel' if g is None else f'g{g}'}": dict(method=m, bits=3, group_size=g)
       for m in ("rtn", "gptq") for g in (None, 128)},
}


@torch.no_grad()
def run_key(model: TinyGPT, log=print) -> dict:
    """Dense and :data:`KEY_SETTINGS` validation perplexities of one model (same calibration
    windows, seed 0, and same validation tokens as :func:`run_all`)."""
    t0 = time.perf_counter()
    val = eval_batches("val", model.cfg.ctx, EVAL_TOKENS)
    calib = calibration_batch(seed=0, **CALIB)
    out = {"dense": _r(perplexity(model, val))}
    for name, kw in KEY_SETTINGS.items():
        kw = dict(kw)
        out[name] = _r(perplexity(compress_model(model, kw.pop("method"), calib, **kw), val))
        log(f"seed key: {name} {out[name]} ({time.perf_counter() - t0:.0f} s)")
    return out


def key_from_sweep(results: dict) -> dict:
    """The :data:`KEY_SETTINGS` numbers of the shipped model, read from the full sweep (they must
    equal :func:`run_key` of that model: same model, calibration and validation tokens)."""
    k = results["pruning"]["sparsities"].index(0.5)
    q, gs = results["quant"], results["quant"]["group_sizes"]
    out = {"dense": results["dense"]}
    for m in PRUNERS:
        out[f"{m} 50%"] = results["pruning"][m][k]
        out[f"{m} 2:4"] = results["nm"]["2:4"][m]
    for m in ("rtn", "gptq"):
        out[f"{m} 3-bit per-channel"] = q[m]["3"][gs.index(0)]
        out[f"{m} 3-bit g128"] = q[m]["3"][gs.index(128)]
    return out
