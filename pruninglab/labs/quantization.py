"""Compute/render functions for ``05_quantization``: weight quantization of the reference MLP.

Linear (uniform) quantization (Jacob et al. 2018, *Quantization and Training of Neural Networks
for Efficient Integer-Arithmetic-Only Inference*, CVPR)::

    q = clamp(round(r / S) + Z, q_min, q_max),      r̂ = S · (q − Z)
    symmetric: S = max|r| / (2^(b−1) − 1), Z = 0,   q ∈ [−(2^(b−1) − 1), 2^(b−1) − 1]
    affine:    S = (r_max − r_min) / (2^b − 1),     Z = round(−r_min / S), q ∈ [0, 2^b − 1]
               (the range is widened to include 0, so 0 is exactly representable)

per tensor or per output channel (row of a Linear weight). Quantization-aware training uses fake
quantization in the forward pass and the straight-through estimator (STE: the gradient at the
quantized weights updates the float weights; Bengio et al. 2013, Jacob et al. 2018). k-means
weight sharing (Han et al. 2016, *Deep Compression*, ICLR) stores a ``b``-bit cluster index per
weight and a codebook of ``2^b`` float centroids.

Only the weight matrices are quantized here (biases and activations stay float32) so that the
effect of each weight scheme is isolated. All quantizers come from :mod:`pruninglab.quantization`
(``quantize``/``quantize_model`` for linear PTQ, ``kmeans_quantize_model`` for weight sharing,
``prepare_qat``/``convert_qat`` for QAT with fake quantization and the STE, ``FakeQuantLinear``,
``model_size_bytes`` for sizes); this module is notebook glue (reports, slider compute/render).
"""
from __future__ import annotations

import copy
import warnings
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .._validate import check_bits, check_choice, check_int
from .joint import _one_thread
from ..hardware import measure_latency, model_energy, storage_bytes
from ..quantization import (FakeQuantLinear, convert_qat, kmeans_quantize_model, model_size_bytes,
                            prepare_qat, quantize, quantize_model)

__all__ = ["quantize_model_weights", "quantize_report", "binary_ternary_report", "compute_quant",
           "render_quant", "live_quant", "precompute_quant", "sweep_bits", "dynamic_int8_report", "latency_benchmark",
           "SCHEMES", "METHODS", "accuracy_with_quantizer", "integer_mlp_accuracy",
           "qat_softmax_study", "kmeans_study"]

SCHEMES = ("symmetric", "affine")
METHODS = ("ptq", "qat", "kmeans")
_LAYERS = ("fc1", "fc2", "fc3")


# ----------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _setup():
    from ..data import load_digits
    from ..models import load_reference
    return load_reference("mlp"), load_digits("val"), load_digits("train")


def _check_method_args(bits, scheme, per_channel, method):
    b = check_bits(bits, "bits", lo=1, hi=16)
    check_choice(scheme, "scheme", SCHEMES)
    if not isinstance(per_channel, (bool, np.bool_)):
        raise TypeError(f"per_channel must be bool, got {type(per_channel).__name__}")
    check_choice(method, "method", METHODS)
    if method != "kmeans" and scheme == "symmetric" and b < 2:
        raise ValueError("bits must be >= 2 for symmetric quantization (1 bit leaves only the "
                         "code 0); use scheme='affine' or method='kmeans'")
    return b


def quantize_model_weights(model: nn.Module, bits: int = 8, scheme: str = "symmetric",
                           per_channel: bool = True, method: str = "ptq") -> nn.Module:
    """A copy of ``model`` whose Linear/Conv2d weights are replaced by their quantized values
    (``method="ptq"``: linear quantize → dequantize; ``"kmeans"``: nearest codebook centroid).
    ``model`` is not modified. QAT is :func:`compute_quant` with ``method="qat"``."""
    b = _check_method_args(bits, scheme, per_channel, method)
    if method == "qat":
        raise ValueError("method 'qat' needs training: use compute_quant(method='qat')")
    if method == "kmeans":
        return kmeans_quantize_model(model, b)[0]
    return quantize_model(model, b, scheme, bool(per_channel))[0]


def _qat_model(bits: int, scheme: str, per_channel: bool, epochs: int = 3, lr: float = 5e-4,
               seed: int = 0) -> nn.Module:
    """Fine-tune a copy of the reference MLP with fake-quantized weights and the STE
    (:func:`pruninglab.quantization.prepare_qat`: the forward/backward pass uses ``Q(w)``, the
    gradient is applied to the float shadow ``w``, ∂Q/∂w := 1), then
    :func:`~pruninglab.quantization.convert_qat`: a plain MLP holding ``Q(w)``."""
    from ..train import train
    ref, _, tr = _setup()
    model = prepare_qat(ref, bits, scheme, per_channel)
    train(model, tr, epochs=epochs, lr=lr, seed=seed)
    return convert_qat(model).eval()


@lru_cache(maxsize=256)
def _qat_cached(bits, scheme, per_channel):
    return _qat_model(bits, scheme, per_channel)


def _model_bytes(model: nn.Module, bits: int, method: str, scheme: str, per_channel: bool) -> float:
    """Bytes of the whole MLP with its weight matrices quantized, biases fp32.

    Linear: :func:`pruninglab.quantization.model_size_bytes` (``n·b`` bits of codes, one fp32
    scale per channel or tensor, plus a ``b``-bit zero-point each for ``affine``). k-means:
    ``n·b`` index bits + ``2^b`` fp32 centroids per layer
    (:func:`pruninglab.hardware.storage_bytes`, ``format="codebook"``) + fp32 biases."""
    if method != "kmeans":
        return model_size_bytes(model, bits, per_channel=per_channel, scheme=scheme)
    total = sum(storage_bytes(tuple(getattr(model, n).weight.shape), 0.0, 32, "codebook",
                              cluster_bits=bits) for n in _LAYERS)
    return total + 4 * sum(getattr(model, n).bias.numel() for n in _LAYERS)


def compute_quant(bits: int = 4, scheme: str = "symmetric", per_channel: bool = True,
                  method: str = "ptq", weight_memory: str = "han_dram") -> dict:
    """Quantize the weights of the reference MLP and measure accuracy and hardware cost.

    Returns ``val_accuracy``, ``mean_abs_error`` (mean |w − ŵ| over all weights, vs the
    reference), ``distinct_max`` (most distinct values in one layer), ``model_bytes`` (see
    :func:`_model_bytes`; biases fp32), ``fp32_model_bytes``, ``compression`` and
    ``energy_nj``: energy of one inference from :func:`pruninglab.hardware.model_energy`
    (Horowitz 2014) of what was evaluated: weight-only quantization ("W-b A-fp32"): ``b``-bit
    weights fetched from ``weight_memory`` (``"han_dram"`` or ``"han_sram"``: off-chip DRAM or
    on-chip SRAM, Han et al. 2015's per-access figures), fp32 activations and fp32 MACs (the
    weights are dequantized before the multiply); k-means: the same with codebook-coded weight
    fetches. Deterministic; results are cached in memory and on disk
    (:func:`pruninglab.cache.cached`) per setting.
    """
    b = _check_method_args(bits, scheme, per_channel, method)
    check_choice(weight_memory, "weight_memory", WEIGHT_MEMORIES)
    return dict(_compute_quant(b, scheme, bool(per_channel), method, weight_memory))


#: weight-memory choices of the notebook-05 energy figure (label -> memory level).
WEIGHT_MEMORIES = ("han_dram", "han_sram")


@lru_cache(maxsize=16)
def _kmeans_model(b: int) -> nn.Module:
    """The reference MLP with k-means weight sharing at ``b`` bits (the codebook does not depend
    on the linear scheme or granularity, so one model serves all four)."""
    return quantize_model_weights(_setup()[0], b, method="kmeans")


#: version of this module's on-disk cache entries (bump when a computation changes)
CACHE_VERSION = 3
#: compute_quant results per validated setting, filled on first use or by precompute_quant
_MEMO: dict = {}


def _compute_quant(b: int, scheme: str, per_channel: bool, method: str, weight_memory: str) -> dict:
    """:func:`compute_quant` after validation, memoised per setting (a slider revisit is free)
    and cached on disk per setting (a QAT setting fine-tunes for ~0.5 s)."""
    from ..cache import cached
    key = (b, scheme, per_channel, method, weight_memory)
    if key not in _MEMO:
        _MEMO[key] = cached("quant05", CACHE_VERSION, _compute_quant_raw, b=b, scheme=scheme,
                            per_channel=per_channel, method=method, weight_memory=weight_memory)
    return _MEMO[key]


@_one_thread
def _compute_quant_raw(b: int, scheme: str, per_channel: bool, method: str,
                       weight_memory: str) -> dict:
    from ..train import accuracy
    ref, val, _ = _setup()
    if method == "qat":
        model = _qat_cached(b, scheme, per_channel)
    elif method == "kmeans":
        model = _kmeans_model(b)
    else:
        model = quantize_model_weights(ref, b, scheme, per_channel, method)
    errs, n, distinct = 0.0, 0, 0
    for name in _LAYERS:
        w0, w1 = getattr(ref, name).weight.detach(), getattr(model, name).weight.detach()
        errs += float((w0 - w1).abs().sum())
        n += w0.numel()
        distinct = max(distinct, int(torch.unique(w1).numel()))
    wbytes = _model_bytes(ref, b, method, scheme, per_channel)
    fp32 = model_size_bytes(ref, 32)
    wm = {"weight_memory": weight_memory}
    if method == "kmeans":
        energy = model_energy(ref, (1, 64), 32, format="codebook", skip_zeros=False,
                              cluster_bits=b, **wm)["per_sample_pj"] / 1e3
    else:   # weight-only: b-bit weight fetches, fp32 activations and MACs (what was evaluated)
        energy = model_energy(ref, (1, 64), 32, kind="fp", weight_bits=b, **wm)["per_sample_pj"] / 1e3
    return {"bits": b, "scheme": scheme, "per_channel": per_channel, "method": method,
            "val_accuracy": accuracy(model, val), "mean_abs_error": errs / n,
            "distinct_max": distinct, "model_bytes": wbytes, "fp32_model_bytes": fp32,
            "compression": fp32 / wbytes, "energy_nj": energy,
            "fp32_energy_nj": model_energy(ref, (1, 64), 32, **wm)["per_sample_pj"] / 1e3,
            "weight_memory": weight_memory}


@lru_cache(maxsize=8)
def sweep_bits(bits: tuple = tuple(range(2, 9)), method: str = "ptq") -> dict:
    """Validation accuracy against bits for the four linear variants (per-tensor/per-channel ×
    symmetric/affine) with ``method`` ("ptq" or "qat"), or k-means alone."""
    check_choice(method, "method", METHODS)
    bits = tuple(check_bits(b, "bits", lo=2, hi=16) for b in bits)
    curves = {}
    if method == "kmeans":
        curves["k-means"] = [compute_quant(b, "symmetric", True, "kmeans")["val_accuracy"] for b in bits]
    else:
        for pc in (False, True):
            for sc in SCHEMES:
                label = f"{'per-channel' if pc else 'per-tensor'} {sc}"
                curves[label] = [compute_quant(b, sc, pc, method)["val_accuracy"] for b in bits]
    return {"bits": list(bits), "curves": curves, "method": method}


#: bit-widths of the notebook-05 slider (the accuracy-vs-bits sweeps cover the same range)
SLIDER_BITS = tuple(range(2, 9))


def precompute_quant(bits=SLIDER_BITS, methods=METHODS, weight_memories=WEIGHT_MEMORIES,
                     progress: bool = False) -> int:
    """Fill the caches behind the notebook-05 slider: :func:`compute_quant` for every bit-width in
    ``bits``, both schemes, both granularities, every method in ``methods`` (QAT: a short
    fine-tuning each; k-means: one clustering per bit-width) and weight memory, and the
    accuracy-vs-bits sweeps the figure draws. Call it once before building the UI so that no
    callback trains or clusters. The whole table is cached on disk as one entry
    (:func:`pruninglab.cache.cached`, deterministic), so a second run (another kernel, the other
    build) loads it in a fraction of a second. ``progress``: a tqdm bar (shown only while
    computing). Returns the number of settings now cached."""
    from ..cache import cached
    grid = dict(bits=tuple(check_bits(b, "bits", lo=1, hi=16) for b in bits),
                methods=tuple(check_choice(m, "methods", METHODS) for m in methods),
                weight_memories=tuple(check_choice(w, "weight_memories", WEIGHT_MEMORIES)
                                      for w in weight_memories))
    table = cached("quant05-table", CACHE_VERSION,
                   lambda **g: _quant_table(progress=bool(progress), **g), **grid)
    for r in table:
        _MEMO.setdefault((r["bits"], r["scheme"], r["per_channel"], r["method"], r["weight_memory"]), r)
    for m in grid["methods"]:
        if m != "qat":
            sweep_bits(SLIDER_BITS, m)
    return len(table)


def _quant_table(bits, methods, weight_memories, progress) -> list:
    settings = [(b, sc, pc, m, wm) for m in methods for b in bits for sc in SCHEMES
                for pc in (True, False) for wm in weight_memories
                if not (m != "kmeans" and sc == "symmetric" and b < 2)]
    it = settings
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(settings, desc="quantized MLP settings (QAT fine-tunes once per setting)")
    return [dict(compute_quant(b, sc, pc, m, wm)) for b, sc, pc, m, wm in it]


def _quant_text(r: dict) -> str:
    e = "n/a" if r["energy_nj"] is None else f"{r['energy_nj']:.1f} nJ"
    where = "SRAM" if r.get("weight_memory") == "han_sram" else "DRAM"
    how = ("codebook per layer" if r["method"] == "kmeans" else
           f"{r['scheme']}, {'per-channel' if r['per_channel'] else 'per-tensor'}")
    return (f"{r['method']} {r['bits']} bits, {how}: val accuracy "
            f"{100 * r['val_accuracy']:.2f}%, model {r['model_bytes']:,.0f} B "
            f"({r['compression']:.1f}× smaller than fp32), energy/inference {e} with weights in "
            f"{where}, fp32 activations and MACs (fp32 model {r['fp32_energy_nj']:.1f} nJ)"
            + (" — 2-bit symmetric is ternary {−S, 0, +S}" if r["bits"] == 2 and r["scheme"] ==
               "symmetric" and r["method"] != "kmeans" else ""))


def _qat_sweep_ready() -> bool:
    """Every QAT setting of the slider is computed (:func:`precompute_quant`)."""
    return all((b, sc, pc, "qat", "han_dram") in _MEMO for b in SLIDER_BITS
               for sc in SCHEMES for pc in (False, True))


def _figure_key(r: dict) -> tuple:
    """What :func:`live_quant`'s static part depends on: the method, and for QAT whether its
    curves can be drawn yet."""
    return r["method"], r["method"] == "qat" and _qat_sweep_ready()


def _figure_sweep(method: str) -> dict:
    """The accuracy-vs-bits curves :func:`live_quant` draws for ``method``: :func:`sweep_bits`
    over the slider's bits — for QAT only when every setting is already computed
    (:func:`precompute_quant`; a QAT setting fine-tunes, which a redraw must never start),
    otherwise no curves."""
    if method == "qat" and not _qat_sweep_ready():
        return {"bits": [], "curves": {}, "method": method}
    return sweep_bits(SLIDER_BITS, method)


def live_quant(warm: bool = True):
    """A :class:`pruninglab.ui.LivePlot` for the notebook-05 slider: accuracy vs bits (the
    current method's sweep, from :func:`sweep_bits`; QAT's once :func:`precompute_quant` has
    computed it) with the chosen setting
    marked, and model memory fp32 vs quantized (KiB). Blitted: the axes, curves and legend of
    each method are one static background (``background_key``: the method, and for QAT whether its
    curves exist yet); a move only paints
    the marker, the two bars and the bar label. ``warm``: render the three backgrounds now (one
    4-bit setting per method), so that no move of the method dropdown draws one."""
    from matplotlib.transforms import blended_transform_factory
    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.9, wspace=0.3)
        a1, a2 = fig.subplots(1, 2)
        curves = [a1.plot([], [], "-", lw=1)[0] for _ in range(2 * len(SCHEMES))]
        (dot,) = a1.plot([], [], "o", color="C3", ms=9)
        a1.set(xlabel="weight bits", ylabel="val accuracy (%)", ylim=(0, 100), xlim=(1.5, 8.5),
               title="accuracy")
        fp32 = model_size_bytes(_setup()[0], 32) / 1024
        bars = a2.bar([0, 1], [0, 0], color=["0.6", "C0"])
        a2.set_xticks([0, 1], ["fp32\nKiB", ""])
        a2.set_ylim(0, 1.05 * fp32)
        # below the axis, where the tick label would be (about one tick-pad down)
        label = a2.text(1, -0.035, "", transform=blended_transform_factory(a2.transData, a2.transAxes),
                        ha="center", va="top")
        label.set_in_layout(False)
        a2.set(title="model memory (KiB)")
        return {"a1": a1, "a2": a2, "curves": curves, "dot": dot, "bars": bars, "label": label,
                "method": None, "dynamic": [dot, *bars, label],
                "background_key": _figure_key}

    def static(st, key):                     # what depends on the background key only
        a1, method = st["a1"], key[0]
        sw = _figure_sweep(method)
        items = list(sw["curves"].items())
        for i, line in enumerate(st["curves"]):
            if i < len(items):
                line.set_data(sw["bits"], [100 * a for a in items[i][1]])
                line.set_label(items[i][0])
            else:
                line.set_data([], [])
                line.set_label("_hidden")
        vals = [100 * a for _, accs in items for a in accs]
        a1.set_ylim(max(0.0, min(vals) - 5) if vals else 0.0, 100)   # zoom to the data
        if a1.get_legend() is not None:
            a1.get_legend().remove()
        if items:
            a1.legend(handles=st["curves"][:len(items)], fontsize=7, loc="lower right")
        st["method"] = key

    def update(st, r):
        if _figure_key(r) != st["method"]:
            static(st, _figure_key(r))
        b = r["bits"]
        st["dot"].set_data([b], [100 * r["val_accuracy"]])
        st["bars"][0].set_height(r["fp32_model_bytes"] / 1024)
        st["bars"][1].set_height(r["model_bytes"] / 1024)
        st["label"].set_text(f"{b}-bit\nKiB")

    live = LivePlot(setup, update, text=_quant_text, figsize=(9, 3.2))
    if warm:
        live.prewarm(compute_quant(4, "symmetric", True, m) for m in METHODS)
    return live


def render_quant(result: dict) -> None:
    """One line of numbers and two panels: accuracy vs bits (the current method's sweep) and
    weight bytes / energy against fp32 (a fresh :func:`live_quant`)."""
    live_quant(warm=False)(result)


# ----------------------------------------------------------------------------------------------
# S3-Q2: same parameter count, fewer bits; binary / ternary
# ----------------------------------------------------------------------------------------------
def quantize_report(bits: int = 8) -> dict:
    """Symmetric per-channel ``bits``-bit codes of the MLP's weight matrices: parameter counts
    before/after (identical), code dtype and range, distinct values of ``fc2.weight``, bytes
    (codes ``n·b/8``; one fp32 scale per channel) and validation accuracy."""
    from ..train import accuracy
    b = check_bits(bits, "bits", lo=2, hi=16)
    ref, val, _ = _setup()
    qmodel, report = quantize_model(ref, b, "symmetric", True)
    codes = {n: report[n]["qtensor"].codes for n in _LAYERS}
    params_q = sum(int(c.numel()) for c in codes.values()) + sum(
        getattr(ref, n).bias.numel() for n in _LAYERS)
    all_codes = torch.cat([c.reshape(-1).to(torch.int64) for c in codes.values()])
    nw = int(all_codes.numel())
    return {"bits": b, "params_fp32": sum(p.numel() for p in ref.parameters()),
            "params_quant": params_q, "code_dtype": str(codes["fc2"].dtype),
            "code_min": int(all_codes.min()), "code_max": int(all_codes.max()),
            "distinct_fp32": int(torch.unique(ref.fc2.weight.detach()).numel()),
            "distinct_quant": int(torch.unique(codes["fc2"]).numel()),
            "weight_bytes_fp32": 4 * nw, "weight_bytes_quant": -(-nw * b // 8),
            "scale_bytes": 4 * sum(int(c.shape[0]) for c in codes.values()),
            "acc_fp32": accuracy(ref, val), "acc_quant": accuracy(qmodel, val)}


def _binary(w: torch.Tensor) -> torch.Tensor:
    """XNOR-Net weights (Rastegari et al. 2016): ``α_c · sign(w)`` with ``α_c = mean|w_c|`` per
    output channel (sign(0) := +1)."""
    alpha = w.abs().mean(1, keepdim=True)
    return alpha * torch.where(w >= 0, 1.0, -1.0)


def _ternary(w: torch.Tensor) -> torch.Tensor:
    """Ternary weight networks (Li et al. 2016): threshold ``Δ = 0.7·mean|w|`` per channel;
    ``α`` = mean |w| over the weights above ``Δ``; values in ``{−α, 0, +α}``."""
    delta = 0.7 * w.abs().mean(1, keepdim=True)
    keep = w.abs() > delta
    alpha = (w.abs() * keep).sum(1, keepdim=True) / keep.sum(1, keepdim=True).clamp(min=1)
    return alpha * torch.sign(w) * keep


def binary_ternary_report() -> dict:
    """Post-training binary (XNOR-Net) and ternary (TWN) weights of the MLP, no retraining:
    validation accuracy, levels per channel and weight bits (``n·log2(levels)`` rounded up to
    1/2 bits + one fp32 α per channel)."""
    from ..train import accuracy
    ref, val, _ = _setup()
    out = {}
    for name, fn, levels, bits in (("binary", _binary, 2, 1), ("ternary", _ternary, 3, 2)):
        m = copy.deepcopy(ref)
        nbits = 0
        with torch.no_grad():
            for n in _LAYERS:
                layer = getattr(m, n)
                layer.weight.copy_(fn(layer.weight.detach()))
                nbits += layer.weight.numel() * bits + 32 * layer.weight.shape[0]
        out[name] = {"val_accuracy": accuracy(m, val), "levels": levels, "weight_bits": nbits}
    return out


# ----------------------------------------------------------------------------------------------
# S3-Q4b: PyTorch int8 dynamic quantization
# ----------------------------------------------------------------------------------------------
def _dynamic_int8(model: nn.Module) -> nn.Module:
    """``torch.ao.quantization.quantize_dynamic`` on a copy (deprecation warnings silenced)."""
    from torch.ao.quantization import quantize_dynamic
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)


def dynamic_int8_report() -> dict:
    """Parameter counts, Linear weight bytes and validation accuracy of the reference MLP in fp32
    and after PyTorch int8 dynamic quantization (per-tensor affine int8 weights + one fp32 scale
    and one int32 zero-point per layer)."""
    from ..train import accuracy
    ref, val, _ = _setup()
    q = _dynamic_int8(ref)
    n_int8, bytes_int8, n_bias = 0, 0, 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in q.modules():
            if hasattr(m, "weight") and callable(m.weight):
                wq = m.weight()
                n_int8 += wq.numel()
                bytes_int8 += wq.int_repr().numel() * wq.int_repr().element_size() + 8
                n_bias += m.bias().numel()
        acc_q = accuracy(q, val)
    return {"params_fp32": sum(p.numel() for p in ref.parameters()),
            "params_int8": n_int8 + n_bias,
            "weight_bytes_fp32": 4 * sum(getattr(ref, n).weight.numel() for n in _LAYERS),
            "weight_bytes_int8": bytes_int8, "acc_fp32": accuracy(ref, val), "acc_int8": acc_q}


class _FusedFakeQuantLinear(nn.Module):
    """Baseline: the weight fake-quantized by PyTorch's fused kernel
    ``torch.fake_quantize_per_channel_affine`` (8-bit symmetric per channel) on every call."""

    def __init__(self, lin: nn.Linear):
        super().__init__()
        self.weight, self.bias = lin.weight, lin.bias
        s = lin.weight.detach().abs().amax(1).clamp(min=1e-12) / 127
        self.register_buffer("scale", s.float())
        self.register_buffer("zp", torch.zeros(s.numel(), dtype=torch.int32))

    def forward(self, x):
        w = torch.fake_quantize_per_channel_affine(self.weight, self.scale, self.zp, 0, -127, 127)
        return nn.functional.linear(x, w, self.bias)


def latency_benchmark(repeats: int = 5, batches=(1, 64), rounds: int = 3) -> list[dict]:
    """Measured latency (ms) of fp32, int8 dynamic, fake-quantized (``FakeQuantLinear``, 8-bit
    symmetric per-channel, re-quantizing the weight with the library's STE function on every call) and
    fused fake-quantized (``torch.fake_quantize_per_channel_affine``) versions of the reference
    MLP and of a 1024 × 1024 Linear layer, per batch size. The variants are **interleaved**:
    two warm-up calls per variant, then ``rounds`` rounds, each timing every variant (the
    calibration pass of :func:`~pruninglab.hardware.measure_latency`, untimed, re-warms it; then
    ``repeats`` timed batches of calls) in a rotated order; reported: the
    median over rounds (``*_ms``) and the min–max spread over rounds (``*_spread``). A measurement on this machine: not deterministic; shown only in
    ``nbval-ignore-output`` cells."""
    check_int(repeats, "repeats", lo=1)
    check_int(rounds, "rounds", lo=1)
    ref, _, _ = _setup()
    g = torch.Generator().manual_seed(0)
    big = nn.Linear(1024, 1024)
    with torch.no_grad():
        big.weight.copy_(torch.randn(1024, 1024, generator=g) * 0.03)
    models = {"MLP": (ref, 64), "1024x1024": (nn.Sequential(big), 1024)}
    rows = []
    with torch.no_grad():
        for name, (m, fin) in models.items():
            q = _dynamic_int8(m)
            fake, fused = copy.deepcopy(m), copy.deepcopy(m)
            for child_name, child in list(fake.named_children()):
                if isinstance(child, nn.Linear):
                    setattr(fake, child_name, FakeQuantLinear.from_float(child, bits=8))
                    setattr(fused, child_name, _FusedFakeQuantLinear(getattr(fused, child_name)))
            for bsz in batches:
                x = torch.randn(bsz, fin, generator=g)
                variants = {"fp32": lambda: m(x), "int8": lambda: q(x), "fake": lambda: fake(x),
                            "fused": lambda: fused(x)}
                times = {k: [] for k in variants}
                keys = list(variants)
                for k in keys:                       # warm every variant up once, before all rounds
                    for _ in range(2):
                        variants[k]()
                for r in range(rounds):
                    for k in keys[r % len(keys):] + keys[:r % len(keys)]:
                        # warmup=0: the calibration pass (>= 1 untimed call) is the re-warm-up
                        times[k].append(1e3 * measure_latency(variants[k], warmup=0,
                                                              repeats=repeats)["median_s"])
                row = {"model": name, "batch": bsz}
                for k, ts in times.items():
                    row[f"{k}_ms"] = float(np.median(ts))
                    row[f"{k}_spread"] = (float(min(ts)), float(max(ts)))
                rows.append(row)
    return rows


# ----------------------------------------------------------------------------------------------
# experiments that run the learner's functions (exercises of notebook 05)
# ----------------------------------------------------------------------------------------------
def _weights_np():
    ref, _, _ = _setup()
    return {n: getattr(ref, n).weight.detach().numpy().astype(np.float64) for n in _LAYERS}


def _with_weights(new: dict) -> nn.Module:
    ref, _, _ = _setup()
    m = copy.deepcopy(ref)
    with torch.no_grad():
        for n, w in new.items():
            getattr(m, n).weight.copy_(torch.as_tensor(np.asarray(w, dtype=np.float64)))
    return m


def accuracy_with_quantizer(quant_fn, kind: str = "affine", bits=tuple(range(2, 9))) -> dict:
    """Validation accuracy of the reference MLP whose weight matrices are replaced by
    ``quant_fn``'s dequantized values, for every bit-width in ``bits``.

    ``kind="affine"``: ``quant_fn(w, b) -> (codes, scale, zero_point)`` (per tensor), ``ŵ =
    S·(q − Z)``; ``kind="per_channel"``: ``quant_fn(w, b) -> (codes, scales)``, ``ŵ = q·S_c``.
    Returns ``{"bits", "accuracy", "max_abs_error"}`` (lists)."""
    from ..train import accuracy
    check_choice(kind, "kind", ("affine", "per_channel"))
    if not callable(quant_fn):
        raise TypeError("quant_fn must be callable")
    bits = [check_bits(b, "bits", lo=1 if kind == "affine" else 2, hi=16) for b in bits]
    _, val, _ = _setup()
    ws = _weights_np()
    accs, errs = [], []
    for b in bits:
        new = {}
        for n, w in ws.items():
            if kind == "affine":
                q, sc, z = quant_fn(w, b)
                new[n] = float(sc) * (np.asarray(q, dtype=np.float64) - int(z))
            else:
                q, sc = quant_fn(w, b)
                new[n] = np.asarray(q, dtype=np.float64) * np.asarray(sc, dtype=np.float64)[:, None]
        accs.append(accuracy(_with_weights(new), val))
        errs.append(max(float(np.abs(new[n] - ws[n]).max()) for n in ws))
    return {"bits": bits, "accuracy": accs, "max_abs_error": errs, "kind": kind}


def integer_mlp_accuracy(requant_fn, split: str = "val") -> dict:
    """Integer-only inference of the reference MLP with the learner's
    ``requant_fn(x_q, w_q, bias_q, M, z_y) -> (y_q, m0, shift)`` for every layer (Jacob et al.
    2018): symmetric int8 input, weights (per tensor) and activations (scales calibrated on the
    train split as max|·|/127, zero-points 0), int32 biases ``round(b/(S_x·S_w))``, ReLU as
    ``max(y_q, 0)`` on the int8 codes. Returns ``{"accuracy", "fp32_accuracy", "multipliers",
    "agree"}`` (``agree``: fraction of ``split`` images whose prediction equals fp32's)."""
    from ..data import load_digits
    from ..train import accuracy
    if not callable(requant_fn):
        raise TypeError("requant_fn must be callable")
    check_choice(split, "split", ("train", "val"))
    ref, _, tr = _setup()
    data = load_digits(split)
    acts = tr.x.reshape(tr.x.shape[0], -1).numpy().astype(np.float64)
    s_x = float(np.abs(acts).max()) / 127
    s_in = s_x
    layers = []
    for i, n in enumerate(_LAYERS):
        layer = getattr(ref, n)
        w = layer.weight.detach().numpy().astype(np.float64)
        b = layer.bias.detach().numpy().astype(np.float64)
        y = acts @ w.T + b
        s_w = float(np.abs(w).max()) / 127
        s_y = float(np.abs(y).max()) / 127
        w_q = np.clip(np.rint(w / s_w), -127, 127).astype(np.int8)
        bias_q = np.rint(b / (s_x * s_w)).astype(np.int32)
        layers.append((w_q, bias_q, s_x * s_w / s_y, i < len(_LAYERS) - 1))
        acts = np.maximum(y, 0) if i < len(_LAYERS) - 1 else y
        s_x = s_y
    x = data.x.reshape(data.x.shape[0], -1).numpy().astype(np.float64)
    q = np.clip(np.rint(x / s_in), -128, 127).astype(np.int8)
    ms = []
    for w_q, bias_q, M, relu in layers:
        q, m0, shift = requant_fn(q, w_q, bias_q, M, 0)
        q = np.asarray(q)
        if relu:
            q = np.maximum(q, 0).astype(np.int8)
        ms.append((int(m0), int(shift), M))
    pred = q.astype(np.int64).argmax(1)
    with torch.no_grad():
        ref_pred = ref(data.x).argmax(1).numpy()
    y_true = np.asarray(data.y)
    return {"accuracy": float((pred == y_true).mean()), "fp32_accuracy": accuracy(ref, data),
            "multipliers": ms, "agree": float((pred == ref_pred).mean())}


def _mm(a, b):
    """``a @ b`` of float64 arrays through torch on one thread: numpy's multi-threaded BLAS spends
    far more time synchronising than computing on these small matrices (and its result could
    depend on the thread count)."""
    from ..utils import num_threads
    with num_threads(1):
        return (torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))
                @ torch.from_numpy(np.ascontiguousarray(b, dtype=np.float64))).numpy()


def _softmax_grad(W, b, x, y):
    z = _mm(x, W.T) + b
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1.0
    p /= len(y)
    return _mm(p.T, x), p.sum(0)


def _softmax_acc(W, b, x, y):
    return float(((_mm(x, W.T) + b).argmax(1) == y).mean())


def qat_softmax_study(fq_fn, bits: int = 2, float_steps: int = 100, qat_steps: int = 80,
                      lr: float = 4.0) -> dict:
    """Post-training vs quantization-aware training of a softmax-regression classifier of the
    digits (64 → 10, full-batch gradient descent from zero, deterministic), with the learner's
    ``fq_fn(w, bits, alpha, grad_out) -> (w_hat, grad_w)`` (fake quantization + STE; clipping
    range ``α = max|W|`` of the float model). PTQ: quantize the float weights once; QAT:
    continue training where the forward pass uses ``ŵ`` and the STE gradient updates the float
    ``W``. Returns validation accuracies ``float``, ``ptq``, ``qat`` and ``levels`` (distinct
    values of the QAT weights)."""
    b = check_bits(bits, "bits", lo=2, hi=16)
    if not callable(fq_fn):
        raise TypeError("fq_fn must be callable")
    _, val, tr = _setup()
    x = tr.x.reshape(tr.x.shape[0], -1).numpy().astype(np.float64)
    y = np.asarray(tr.y)
    xv = val.x.reshape(val.x.shape[0], -1).numpy().astype(np.float64)
    yv = np.asarray(val.y)
    W, bias = np.zeros((10, 64)), np.zeros(10)
    for _ in range(check_int(float_steps, "float_steps", lo=1)):
        gW, gb = _softmax_grad(W, bias, x, y)
        W, bias = W - lr * gW, bias - lr * gb
    alpha = float(np.abs(W).max())
    Wq, _ = fq_fn(W, b, alpha, np.zeros_like(W))
    ptq = _softmax_acc(np.asarray(Wq), bias, xv, yv)
    Wt, bt = W.copy(), bias.copy()
    for _ in range(check_int(qat_steps, "qat_steps", lo=0)):
        Wq, _ = fq_fn(Wt, b, alpha, np.zeros_like(Wt))
        gW, gb = _softmax_grad(np.asarray(Wq), bt, x, y)
        _, gW = fq_fn(Wt, b, alpha, gW)
        Wt, bt = Wt - lr * np.asarray(gW), bt - lr * gb
    Wq, _ = fq_fn(Wt, b, alpha, np.zeros_like(Wt))
    return {"bits": b, "float": _softmax_acc(W, bias, xv, yv), "ptq": ptq,
            "qat": _softmax_acc(np.asarray(Wq), bt, xv, yv),
            "levels": int(np.unique(np.round(np.asarray(Wq), 12)).size)}


def kmeans_study(km_fn, step_fn=None, bits=(1, 2, 3, 4), iters: int = 10,
                 finetune_bits: int = 1, finetune_steps: int = 30, lr: float = 3e-4) -> dict:
    """k-means weight sharing of the reference MLP with the learner's
    ``km_fn(w, bits, iters) -> (centroids, labels)`` per weight matrix: validation accuracy per
    bit-width; then, at ``finetune_bits``, ``finetune_steps`` full-batch steps of centroid
    fine-tuning with the learner's ``step_fn(centroids, labels, grad, lr)`` (gradient of the
    train cross-entropy with respect to the shared weights, Han et al. 2016). Returns
    ``{"bits", "accuracy", "finetune": {"before", "after"} or None}``."""
    from ..train import accuracy
    if not callable(km_fn):
        raise TypeError("km_fn must be callable")
    ref, val, tr = _setup()
    ws = _weights_np()
    accs, books = [], {}
    for b in bits:
        b = check_bits(b, "bits", lo=1, hi=8)
        res = {n: km_fn(w, b, iters) for n, w in ws.items()}
        books[b] = res
        new = {n: np.asarray(c, dtype=np.float64)[np.asarray(lab)] for n, (c, lab) in res.items()}
        accs.append(accuracy(_with_weights(new), val))
    ft = None
    if step_fn is not None and finetune_bits in books:
        cb = {n: (np.asarray(c, dtype=np.float64), np.asarray(lab))
              for n, (c, lab) in books[finetune_bits].items()}
        before = accs[list(bits).index(finetune_bits)]
        m = copy.deepcopy(ref)
        for _ in range(check_int(finetune_steps, "finetune_steps", lo=1)):
            with torch.no_grad():
                for n, (c, lab) in cb.items():
                    getattr(m, n).weight.copy_(torch.as_tensor(c[lab]))
            m.zero_grad()
            loss = torch.nn.functional.cross_entropy(m(tr.x), tr.y)
            loss.backward()
            cb = {n: (np.asarray(step_fn(c, lab, getattr(m, n).weight.grad.numpy().astype(np.float64), lr),
                                 dtype=np.float64), lab) for n, (c, lab) in cb.items()}
        with torch.no_grad():
            for n, (c, lab) in cb.items():
                getattr(m, n).weight.copy_(torch.as_tensor(c[lab]))
        ft = {"bits": finetune_bits, "before": before, "after": accuracy(m, val),
              "steps": finetune_steps}
    return {"bits": list(bits), "accuracy": accs, "finetune": ft}
