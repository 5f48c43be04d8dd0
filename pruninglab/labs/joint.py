"""Compute/render functions for ``06_joint_pruning_quantization``: the Deep Compression pipeline.

Pipeline (Han et al. 2016, *Deep Compression*, ICLR): **prune** (magnitude, Han et al. 2015) →
**fine-tune with the mask enforced** → **quantize the surviving weights** (k-means weight
sharing, or linear) → store as sparse indices + codes (→ Huffman coding, not done here).

Two rules make the stages compose:

* **Zero must stay exactly zero.** Linear quantization must represent 0 exactly (symmetric
  ``Z = 0``, or affine with an integer zero-point, Jacob et al. 2018); k-means must cluster only
  the *surviving* weights (Han et al. 2016) and keep the mask. A naive min-max quantizer with a
  real-valued offset, or k-means over all weights, turns the pruned zeros into small non-zeros
  and the sparsity is gone (:func:`zero_preservation`).
* **Order matters.** Prune first (on float magnitudes), fine-tune, then quantize the survivors;
  the quantization grid then covers only the weights that are kept.

Storage (:func:`pruninglab.hardware.storage_bytes`): ``n·b`` bits dense; bitmask ``n + nnz·b``;
CSR ``nnz·(b + i) + (rows + 1)·p``; Deep Compression's relative index (``r``-bit gaps with filler
zeros) plus a ``c``-bit codebook index per entry and a ``2^c``-entry fp32 codebook
(``relative_codebook``). Biases are stored as fp32 (they are < 1 % of the parameters).
"""
from __future__ import annotations

import copy
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .._validate import check_array, check_bits, check_choice, check_sparsity
from ..pruning import apply_masks_, compute_masks, fine_tune_, model_weights, sparsity_of
from ..quantization import kmeans_quantize, kmeans_quantize_model, quantize_dequantize

__all__ = ["compute_joint", "render_joint", "live_joint", "precompute_joint", "joint_grid", "order_experiment",
           "zero_preservation", "naive_minmax_dequantize", "quantize_survivors", "FORMATS",
           "HAN2016_LENET"]

_LAYERS = ("fc1", "fc2", "fc3")
FT_EPOCHS, FT_LR = 10, 1e-3  # mask-enforced fine-tuning after pruning
#: storage formats compared (see module docstring)
FORMATS = ("dense", "bitmask", "csr", "relative")
#: Han et al. (2016), Table 1/2: LeNet-300-100, prune + quantize + Huffman.
HAN2016_LENET = {"model": "LeNet-300-100 (MNIST)", "fp32_kb": 1070, "compressed_kb": 27,
                 "ratio": 40, "error_before": 1.64, "error_after": 1.58}


@lru_cache(maxsize=1)
def _setup():
    from ..data import load_digits
    from ..models import load_reference
    return load_reference("mlp"), load_digits("val"), load_digits("train")


#: version of the on-disk cache entries of this module (bump when a computation changes)
CACHE_VERSION = 3


@lru_cache(maxsize=64)
def _pruned(sparsity: float, fine_tune: bool):
    """(model, masks): the reference MLP globally magnitude-pruned, optionally fine-tuned for
    10 epochs (Adam, lr 1e-3) with the mask enforced (:func:`pruninglab.pruning.fine_tune_`).
    Cached in memory and on disk (:func:`pruninglab.cache.cached`: the fine-tuning is the slow
    part of the notebook-06 precomputation)."""
    from ..cache import cached
    ref, _, _ = _setup()
    state = cached("joint06-pruned", CACHE_VERSION, _pruned_state, sparsity=float(sparsity),
                   fine_tune=bool(fine_tune))
    model = copy.deepcopy(ref)
    model.load_state_dict(state["state"])
    return model, dict(state["masks"])


def _one_thread(fn):
    """Run a disk-cached computation on one torch thread, as the notebooks do, so that a cache
    entry written by a caller with more threads (a unit test) holds the very same numbers."""
    import functools
    from ..utils import num_threads

    @functools.wraps(fn)
    def run(*args, **kwargs):
        with num_threads(1):
            return fn(*args, **kwargs)
    return run


@_one_thread
def _pruned_state(sparsity: float, fine_tune: bool) -> dict:
    ref, _, tr = _setup()
    model = copy.deepcopy(ref)
    masks = compute_masks(model, sparsity, scope="global")
    apply_masks_(model, masks)
    if fine_tune and sparsity > 0:
        fine_tune_(model, masks, tr, epochs=FT_EPOCHS, lr=FT_LR, seed=0)
    return {"state": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "masks": dict(masks)}


def quantize_survivors(w: torch.Tensor, bits: int, method: str = "kmeans") -> torch.Tensor:
    """Quantize the non-zero entries of ``w`` and keep the zeros exactly zero (pure).

    ``"kmeans"``: :func:`pruninglab.quantization.kmeans_quantize` with ``exclude_zeros=True``
    (``2^bits`` centroids over the non-zero weights only, zeros stay exactly 0; Han et al. 2016);
    ``"linear"``: :func:`pruninglab.quantization.quantize_dequantize`, symmetric per output
    channel (``Z = 0``, so 0 ↦ 0, Jacob et al. 2018), with the mask re-applied (a survivor smaller
    than half a step would otherwise round to 0 and count as pruned — it does, and is reported
    by the real sparsity).
    """
    check_array(w, "w")
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor, got {type(w).__name__}")
    check_choice(method, "method", ("kmeans", "linear"))
    b = check_bits(bits, "bits", lo=2 if method == "linear" else 1, hi=16)
    if method == "kmeans":
        return kmeans_quantize(w, b, exclude_zeros=True).dequantize().to(w.dtype)
    return quantize_dequantize(w, b, "symmetric", per_channel=True).to(w.dtype) * (w != 0)


def naive_minmax_dequantize(w, bits: int):
    """**The wrong way**, for the demonstration: ``r̂ = r_min + S·round((r − r_min)/S)`` with
    ``S = (r_max − r_min)/(2^b − 1)`` — the grid starts at ``r_min`` and generally misses 0, so
    a pruned zero comes back as a small non-zero value. (Jacob et al. 2018 fix this by rounding
    the zero-point to an integer.)"""
    check_array(w, "w")
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor, got {type(w).__name__}")
    b = check_bits(bits, "bits", hi=16)
    lo, hi = w.min(), w.max()
    if not bool(hi > lo):
        return w.clone()  # a constant tensor is represented exactly
    s = (hi - lo) / (2 ** b - 1)
    return lo + s * torch.round((w - lo) / s)


def zero_preservation(sparsity: float = 0.9, bits: int = 4) -> dict:
    """How many pruned weights of the pruned MLP are still exactly zero after quantization, for
    four quantizers: naive min-max (real offset), k-means over *all* weights, symmetric linear
    (Z = 0), k-means over the survivors only, with the resulting sparsity and validation accuracy
    (``"quantizers"``); and, for k-means over all weights at 1–4 bits, how many zeros survive
    (``"kmeans_all_still_zero_by_bits"``)."""
    from ..train import accuracy
    s = check_sparsity(sparsity)
    b = check_bits(bits, "bits", lo=2, hi=16)
    kmeans_all = lambda w, bb: kmeans_quantize(w, bb, exclude_zeros=False).dequantize().to(w.dtype)  # noqa: E731
    model, masks = _pruned(s, True)
    _, val, _ = _setup()
    fns = {
        "naive min-max": lambda w: naive_minmax_dequantize(w, b),
        "k-means over all weights": lambda w: kmeans_all(w, b),
        "symmetric linear (Z=0)": lambda w: quantize_survivors(w, b, "linear"),
        "k-means over survivors": lambda w: quantize_survivors(w, b, "kmeans"),
    }
    out = {}
    pruned_total = sum(int((~m).sum()) for m in masks.values())
    # k-means over all weights, by bit-width: zeros survive only if a pure-zero cluster forms
    by_bits = {}
    for bb in (1, 2, 3, 4):
        by_bits[bb] = sum(int((kmeans_all(getattr(model, n).weight.detach(), bb)[~masks[n]] == 0).sum())
                          for n in _LAYERS)
    for name, fn in fns.items():
        m = copy.deepcopy(model)
        still_zero = 0
        with torch.no_grad():
            for n in _LAYERS:
                layer = getattr(m, n)
                q = fn(layer.weight.detach())
                still_zero += int((q[~masks[n]] == 0).sum())
                layer.weight.copy_(q)
        out[name] = {"pruned": pruned_total, "still_zero": still_zero,
                     "sparsity_after": sparsity_of(model_weights(m)),
                     "val_accuracy": accuracy(m, val)}
    return {"quantizers": out, "kmeans_all_still_zero_by_bits": by_bits, "pruned": pruned_total}


def _code_bits(levels: int) -> int:
    """Bits of a code that tells ``levels`` values apart (at least 1)."""
    return max(1, int(np.ceil(np.log2(levels)))) if levels > 1 else 1


def _storage(model: nn.Module, bits: int, method: str) -> dict:
    """Bytes of the weight matrices in each of :data:`FORMATS` plus fp32 biases.

    Linear: ``bits``-bit codes (the symmetric grid contains 0, so a stored zero needs no extra
    level) and one fp32 scale per channel. k-means on the survivors: the layer holds ``k ≤ 2^bits``
    distinct **non-zero** shared values (one fp32 codebook entry each) **and the zeros**, so a
    format that stores zeros as codes needs ``k + 1`` levels — ``2^bits + 1``, one bit more than
    ``bits``, at the usual ``k = 2^bits``: ``dense`` (every zero is a code) and ``relative`` when
    it has filler zeros; ``bitmask`` and ``csr`` store only the non-zeros (``ceil(log2 k)`` bits).
    CSR uses 16-bit column indices and 32-bit row pointers; ``relative`` 5-bit gaps for
    fully-connected layers as in Han et al. (2016)."""
    from ..hardware import storage_bits
    tot = {f: 0 for f in FORMATS}
    for n in _LAYERS:
        w = getattr(model, n).weight.detach()
        if method != "kmeans":
            extra = 32 * w.shape[0]
            for f in FORMATS:
                kw = {"index_bits": 16} if f == "csr" else ({"index_bits": 5} if f == "relative" else {})
                tot[f] += storage_bits(w, None, bits, f, **kw) + extra
            continue
        nz = w[w != 0]
        k = int(torch.unique(nz).numel())
        has_zero = nz.numel() < w.numel()
        extra = 32 * k                                      # codebook of the non-zero values
        entries = storage_bits(w, None, 1, "relative", index_bits=5) // (1 + 5)
        code = {"dense": _code_bits(k + has_zero), "bitmask": _code_bits(k), "csr": _code_bits(k),
                "relative": _code_bits(k + (entries > nz.numel()))}
        for f in FORMATS:
            kw = {"index_bits": 16} if f == "csr" else ({"index_bits": 5} if f == "relative" else {})
            tot[f] += storage_bits(w, None, code[f], f, **kw) + extra
    bias_bits = 32 * sum(getattr(model, n).bias.numel() for n in _LAYERS)
    return {f: -(-(v + bias_bits) // 8) for f, v in tot.items()}


def compute_joint(sparsity: float = 0.9, bits: int = 4, method: str = "kmeans",
                  fine_tune: bool = True) -> dict:
    """Prune → (fine-tune) → quantize the survivors of the reference MLP; measure and size it.

    Returns validation accuracy, the real sparsity, the bytes in each storage format
    (``bytes``), the smallest (``best_format``, ``best_bytes``), the fp32 dense bytes
    (weights + biases) and the compression ratio ``fp32 / best``. Fine-tuned models are cached
    per sparsity; quantization and sizing take milliseconds.
    """
    s = check_sparsity(sparsity)
    check_choice(method, "method", ("kmeans", "linear"))
    b = check_bits(bits, "bits", lo=2 if method == "linear" else 1, hi=16)
    if not isinstance(fine_tune, (bool, np.bool_)):
        raise TypeError(f"fine_tune must be bool, got {type(fine_tune).__name__}")
    key = (round(s, 6), b, method, bool(fine_tune))
    if key not in _MEMO:
        _MEMO[key] = _joint(*key)
    out = dict(_MEMO[key])
    out["sparsity"] = s
    out["bytes"] = dict(out["bytes"])
    return out


#: compute_joint results per (sparsity, bits, method, fine_tune), filled on first use or by
#: :func:`precompute_joint` (from its disk-cached table)
_MEMO: dict = {}


def _joint(s: float, b: int, method: str, fine_tune: bool) -> dict:
    """:func:`compute_joint` after validation (memoised by the caller in ``_MEMO``)."""
    from ..train import accuracy
    base, _ = _pruned(s, fine_tune)
    _, val, _ = _setup()
    model = copy.deepcopy(base)
    with torch.no_grad():
        for n in _LAYERS:
            layer = getattr(model, n)
            layer.weight.copy_(quantize_survivors(layer.weight.detach(), b, method))
    sizes = _storage(model, b, method)
    fp32 = 4 * sum(p.numel() for p in model.parameters())
    best = min(sizes, key=sizes.get)
    return {"sparsity": s, "bits": b, "method": method, "fine_tune": fine_tune,
            "val_accuracy": accuracy(model, val), "pruned_accuracy": accuracy(base, val),
            "real_sparsity": sparsity_of(model_weights(model)), "bytes": sizes, "best_format": best,
            "best_bytes": sizes[best], "fp32_bytes": fp32, "compression": fp32 / sizes[best]}


def joint_grid(sparsities=(0.0, 0.5, 0.8, 0.9, 0.95), bits=(2, 4, 8), method: str = "kmeans") -> dict:
    """:func:`compute_joint` over a grid: ``{"acc": [[...]], "ratio": [[...]], ...}`` with rows
    = sparsities and columns = bits."""
    acc, ratio, fmt = [], [], []
    for s in sparsities:
        row = [compute_joint(s, b, method) for b in bits]
        acc.append([r["val_accuracy"] for r in row])
        ratio.append([r["compression"] for r in row])
        fmt.append([r["best_format"] for r in row])
    return {"sparsities": list(sparsities), "bits": list(bits), "acc": acc, "ratio": ratio,
            "format": fmt, "method": method}


def order_experiment(sparsity: float = 0.9, bits: int = 3) -> dict:
    """Validation accuracy of four orderings with k-means on the survivors:
    prune → fine-tune → quantize (Deep Compression); prune → quantize (no fine-tuning);
    quantize → prune (k-means on all weights first, then magnitude pruning of the quantized
    weights, no fine-tuning); and quantize → prune → fine-tune (the fine-tuning moves the shared
    values off the codebook, so the model is no longer quantized: we report how many distinct
    values it ends with)."""
    from ..cache import cached
    s = check_sparsity(sparsity)
    b = check_bits(bits, "bits", lo=1, hi=16)
    return cached("joint06-order", CACHE_VERSION, _order_experiment, sparsity=s, bits=b)


@_one_thread
def _order_experiment(sparsity: float, bits: int) -> dict:
    from ..train import accuracy
    s, b = sparsity, bits
    ref, val, tr = _setup()
    out = {}
    out["prune → fine-tune → quantize"] = compute_joint(s, b, "kmeans", True)["val_accuracy"]
    out["prune → quantize"] = compute_joint(s, b, "kmeans", False)["val_accuracy"]
    q = kmeans_quantize_model(ref, b, exclude_zeros=False)[0]
    masks = compute_masks(q, s, scope="global")
    qp = copy.deepcopy(q)
    apply_masks_(qp, masks)
    out["quantize → prune"] = accuracy(qp, val)
    fine_tune_(qp, masks, tr, epochs=FT_EPOCHS, lr=FT_LR, seed=0)
    out["quantize → prune → fine-tune"] = accuracy(qp, val)
    distinct = max(int(torch.unique(getattr(qp, n).weight.detach()).numel()) for n in _LAYERS)
    return {"accuracy": out, "distinct_after_last": distinct, "codebook_size": 2 ** b}


#: sparsities of the notebook-06 table and slider (issue 10: half the former 0, 0.05, …, 0.95
#: grid, denser where the accuracy changes): 10 × 7 bits × 2 quantizers × 2 = 280 settings
SPARSITIES = (0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
#: sparsities of the accuracy-vs-sparsity panel of the slider figure (every slider position)
_PANEL_GRID = SPARSITIES


def precompute_joint(sparsities=SPARSITIES, bits=range(2, 9),
                     methods=("kmeans", "linear"), fine_tune=(True, False), progress: bool = False) -> int:
    """Fill the caches behind the notebook-06 slider: :func:`compute_joint` for every setting of
    the grid (fine-tuning once per sparsity, k-means once per setting), so that no slider
    callback trains or clusters. The whole table is cached on disk
    (:func:`pruninglab.cache.cached`, deterministic), so a second run (or the second build of the
    notebook) loads it in well under a second. Returns the number of settings cached.
    ``progress``: a ``tqdm.auto`` bar over the settings (shown only when computing)."""
    from ..cache import cached
    sp = tuple(sorted(set(round(float(s), 6) for s in sparsities) | set(_PANEL_GRID)))
    table = cached("joint06-table", CACHE_VERSION,
                   lambda **grid: _joint_table(progress=bool(progress), **grid), sparsities=sp,
                   bits=tuple(int(b) for b in bits), methods=tuple(methods),
                   fine_tune=tuple(bool(f) for f in fine_tune))
    for r in table:
        _MEMO.setdefault((r["sparsity"], r["bits"], r["method"], r["fine_tune"]), r)
    return len(table)


@_one_thread
def _joint_table(sparsities, bits, methods, fine_tune, progress) -> list:
    settings = [(s, method, b, ft) for ft in fine_tune for s in sparsities
                for method in methods for b in bits]
    it = settings
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(settings, desc="precompute (fine-tune per sparsity, quantize per setting)")
    out = []
    for s, method, b, ft in it:
        r = compute_joint(s, b, method, ft)
        out.append({k: v for k, v in r.items()})
    return out


def shared_weights(sparsity: float = 0.9, bits: int = 4) -> dict:
    """``{layer: np.ndarray}``: the weight matrices of the reference MLP pruned to ``sparsity``
    (global magnitude), fine-tuned with the mask, then k-means-shared at ``bits`` bits on the
    survivors (zeros kept exactly) -- the input of the ``deep_compression_bits`` exercise."""
    s = check_sparsity(sparsity)
    b = check_bits(bits, "bits", lo=1, hi=16)
    base, _ = _pruned(round(s, 6), True)
    return {n: quantize_survivors(getattr(base, n).weight.detach(), b, "kmeans").numpy().astype(np.float64)
            for n in _LAYERS}


def deep_compression_report(size_fn, sparsity: float = 0.9, bits: int = 4, index_bits: int = 5) -> dict:
    """The learner's ``size_fn`` (signature of ``deep_compression_bits``) on every layer of
    :func:`shared_weights`, next to the library's relative-index count that assumes ``bits``-bit
    codes for all ``2^bits`` centroids (no code left for the filler zero)."""
    from ..hardware import storage_bits
    ws = shared_weights(sparsity, bits)
    out = {"sparsity": sparsity, "bits": bits, "index_bits": index_bits, "layers": {}}
    for n, w in ws.items():
        nz = w[w != 0]
        out["layers"][n] = {
            "yours_bits": int(size_fn(w, index_bits, 32)),
            "b_bit_codes_bits": int(storage_bits(torch.from_numpy(w), None, bits, "relative",
                                                 index_bits=index_bits)) + 32 * int(np.unique(nz).size),
            "levels": int(np.unique(nz).size), "nnz": int(nz.size)}
    out["yours_total_bits"] = sum(v["yours_bits"] for v in out["layers"].values())
    out["b_bit_total_bits"] = sum(v["b_bit_codes_bits"] for v in out["layers"].values())
    return out


def _joint_text(r: dict) -> str:
    return (f"sparsity {100 * r['sparsity']:.0f}%, {r['bits']}-bit {r['method']}"
            f"{' after fine-tuning' if r['fine_tune'] else ''}: val accuracy "
            f"{100 * r['val_accuracy']:.2f}% (pruned fp32: {100 * r['pruned_accuracy']:.2f}%), "
            f"best format {r['best_format']} {r['best_bytes']:,} B, "
            f"{r['compression']:.1f}× smaller than fp32 dense ({r['fp32_bytes']:,} B)")


def _acc_limits(method: str, fine_tune: bool) -> tuple:
    """y limits (%) of the accuracy panel for one quantizer / fine-tuning choice: the range of
    every cached accuracy of that choice (all bits, all :data:`SPARSITIES`) plus 5 % margin, so
    the curves use the panel's height (issue 14) and the axis does not move with the sliders."""
    accs = [100 * compute_joint(g, b, method, fine_tune)["val_accuracy"]
            for g in _PANEL_GRID for b in range(2, 9)]
    lo, hi = min(accs), max(accs)
    pad = 0.05 * max(hi - lo, 1.0)
    return max(0.0, lo - pad), min(100.0, hi + pad)


def live_joint(warm: bool = True):
    """A :class:`pruninglab.ui.LivePlot` for the notebook-06 slider: bytes per storage format
    against fp32 dense (left) and accuracy vs sparsity at the chosen bits/quantizer with the
    current point marked (right; every point of :data:`SPARSITIES`, from the :func:`compute_joint`
    cache). Blitted: axes, fp32 line and legend are a static background, one per quantizer ×
    fine-tuning choice (``background_key``: the accuracy axis spans that choice's data); a move
    paints the bars, the curve, the dot and the two titles. ``warm``: render the four
    backgrounds now (precomputing the table first if needed), so no move draws one."""
    from ..ui import LivePlot

    def setup(fig):
        precompute_joint()                   # the table every limit and callback reads
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
        a1, a2 = fig.subplots(1, 2)
        ref = _setup()[0]
        top = 4 * sum(p.numel() for p in ref.parameters()) / 1024   # fp32 dense KiB
        bars = a1.bar(list(FORMATS), [0] * len(FORMATS), color="C0")
        a1.axhline(top, color="0.5", ls="--", label="fp32 dense")
        a1.set(ylabel="KiB", ylim=(0, 1.25 * top))   # every format is below fp32 dense; legend room
        a1.legend(loc="upper right")
        (curve,) = a2.plot([], [], "o-", color="0.5")
        (dot,) = a2.plot([], [], "o", color="C3", ms=9)
        a2.set(xlabel="sparsity (%)", ylabel="val accuracy (%)", xlim=(-5, 100))
        limits = {(m, ft): _acc_limits(m, ft) for m in ("kmeans", "linear") for ft in (True, False)}
        t1, t2 = a1.set_title("", y=1.0), a2.set_title("", y=1.0)   # fixed title positions
        return {"a1": a1, "a2": a2, "bars": bars, "t1": t1, "curve": curve, "dot": dot, "t2": t2,
                "limits": limits, "dynamic": [*bars, t1, t2, curve, dot],
                "background_key": lambda r: (r["method"], bool(r["fine_tune"]))}

    def update(st, r):
        st["a2"].set_ylim(st["limits"][(r["method"], bool(r["fine_tune"]))])   # a background key
        for bar, f in zip(st["bars"], FORMATS):
            bar.set_height(r["bytes"][f] / 1024)
        st["t1"].set_text(f"storage at {r['bits']} bits")
        accs = [compute_joint(g, r["bits"], r["method"], r["fine_tune"])["val_accuracy"]
                for g in _PANEL_GRID]
        st["curve"].set_data([100 * g for g in _PANEL_GRID], [100 * a for a in accs])
        st["dot"].set_data([100 * r["sparsity"]], [100 * r["val_accuracy"]])
        st["t2"].set_text(f"{r['bits']}-bit {r['method']}" + ("" if r["fine_tune"] else ", no fine-tuning"))

    live = LivePlot(setup, update, text=_joint_text, figsize=(9, 3.2))
    if warm:
        live.prewarm(compute_joint(0.9, 4, m, ft) for m in ("kmeans", "linear") for ft in (True, False))
    return live


def render_joint(result: dict) -> None:
    """Numbers and two panels: bytes per format, and accuracy vs sparsity at the chosen bits
    (a fresh :func:`live_joint`)."""
    live_joint(warm=False)(result)
