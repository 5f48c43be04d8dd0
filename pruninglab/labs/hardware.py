"""Compute/render functions for notebook 08 (the hardware-cost lab).

Sliders (each ``compute_*`` is pure and fast; heavy things are cached in memory):

* :func:`compute_storage` — sparsity × bits × format → bytes per layer and for the model,
  storage-vs-sparsity curves of every format with their break-even points, and the validation
  accuracy of the reference model pruned (per-layer magnitude, Han et al. 2015) and
  weight-quantized to that setting;
* :func:`compute_energy` — sparsity × bits × format × batch → per-layer compute vs memory energy
  (Horowitz 2014 table) and accuracy;
* :func:`compute_roofline` — profile × bits × batch × structure × sparsity → roofline points
  (Williams et al. 2009) and accuracy.

Measured (machine-dependent, never validated) experiments:

* :func:`mlp_latency_table` — NetAdapt-style per-layer lookup table of the MLP's layers over
  channel counts; :func:`lut_latency` sums it;
* :func:`latency_budget_study` — NetAdapt greedy vs uniform vs FLOP-proportional channel pruning
  at the same latency budgets: accuracy vs *measured* latency.

Weight quantization here (:func:`fake_quant_weight`) is the library's symmetric per-tensor
quantize→dequantize (:func:`pruninglab.quantization.quantize_dequantize`, Jacob et al. 2018), used
only to show an accuracy effect next to the hardware cost; channel shrinking
(:func:`shrink_mlp`) delegates to ``pruninglab.pruning.structured.shrink_model`` (L1 norm, Li et
al. 2017).
"""
from __future__ import annotations

import copy
import math
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from .._validate import check_bits, check_choice, check_int, check_number, check_sparsity
from ..data import load_digits
from ..hardware import (FORMATS, PROFILES, STRUCTURES, break_even_sparsity, get_profile,
                        layer_profile, layer_roofline, model_energy, storage_bits)
from ..hardware.latency import measure_latency
from .joint import _one_thread
from ..hardware.latency_aware import (flop_proportional_prune, netadapt_prune, pareto_front,
                                      uniform_prune)
from ..models import DigitsMLP, load_reference
from ..quantization import quantize_dequantize
from ..train import accuracy

__all__ = ["fake_quant_weight", "pruned_accuracy", "compute_storage", "live_storage",
           "render_storage", "compute_energy", "live_energy", "render_energy", "compute_roofline",
           "live_roofline", "render_roofline",
           "shrink_mlp", "mlp_flops", "mlp_latency_table", "lut_latency", "latency_budget_study",
           "render_budget_study", "PROFILE_CHOICES", "MODELS", "WEIGHT_MEMORIES", "ROOFLINE_BATCHES",
           "format_table", "roofline_with", "roofline_rules", "roofline_ui_rules", "energy_with", "netadapt_with", "staircase_lut"]

#: weight-memory choices of the energy slider: off-chip DRAM or on-chip SRAM (Han et al. 2015
#: per-32-bit-access figures, :data:`pruninglab.hardware.MEMORY_LEVELS`).
WEIGHT_MEMORIES = ("han_dram", "han_sram")

MODELS = ("mlp", "cnn")
PROFILE_CHOICES = tuple(PROFILES) + ("this machine",)
#: the roofline slider's batch choices (notebook 08); the warm plot profiles each model at each
ROOFLINE_BATCHES = (1, 8, 64, 256, 1024)
_SPARSITY_GRID = np.round(np.linspace(0.0, 0.98, 36), 4)


# --------------------------------------------------------------------------------------------
# accuracy of the reference models after pruning + weight quantization (cached)
# --------------------------------------------------------------------------------------------
def fake_quant_weight(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Weight after quantize→dequantize (new tensor; ``w`` unchanged).

    ``bits ≥ 17``: unchanged (fp32); ``bits = 16``: fp16 rounding; ``2 ≤ bits ≤ 15``: symmetric
    per-tensor integer grid, ``S = max|w| / (2^(b−1) − 1)``, ``ŵ = S·clamp(round(w/S))``
    (:func:`pruninglab.quantization.quantize_dequantize`, Jacob et al. 2018). Zeros stay exactly
    zero, so pruning masks survive quantization.
    """
    b = check_bits(bits, "bits", lo=2, hi=32)
    if b >= 17:
        return w.clone()
    if b == 16:
        return w.half().float()
    return quantize_dequantize(w.detach(), b, "symmetric", per_channel=False)


@lru_cache(maxsize=2)
def _reference(model: str):
    m = load_reference(model)
    val = load_digits("val", images=(model == "cnn"))
    return m, val


@lru_cache(maxsize=4)
def _magnitude_orders(model: str) -> dict:
    """{layer name: :func:`~pruninglab.pruning.magnitude_order` of the reference weights}: sorted
    once, so a slider move builds each magnitude mask with
    :func:`~pruninglab.pruning.mask_from_order` (the same mask as ``magnitude_mask``)."""
    from ..pruning import magnitude_order
    ref, _ = _reference(model)
    return {name: magnitude_order(mod.weight.detach())
            for name, mod in ref.named_modules() if isinstance(mod, (nn.Linear, nn.Conv2d))}


def _prune_weight(w: torch.Tensor, sparsity: float, structure: str, order=None) -> torch.Tensor:
    from ..pruning import magnitude_mask, mask_from_order, nm_mask
    if structure == "dense" or (structure == "unstructured" and sparsity == 0.0):
        return w
    if structure == "2:4":
        w2 = w.reshape(w.shape[0], -1)
        if w2.shape[1] % 4:
            return w  # this layer cannot be 2:4 (stays dense; the cost models do the same)
        return (w2 * nm_mask(w2, 2, 4)).reshape(w.shape)
    if order is None:
        return w * magnitude_mask(w, sparsity)
    return w * mask_from_order(order, w, sparsity)


@lru_cache(maxsize=1024)
def pruned_accuracy(model: str = "mlp", sparsity: float = 0.0, bits: int = 32,
                    structure: str = "unstructured") -> float:
    """Validation accuracy of the reference ``model`` with every Linear/Conv2d weight pruned
    (per-layer magnitude at ``sparsity``, or 2:4, or not at all) then weight-quantized to ``bits``.
    No fine-tuning (the slider shows the immediate effect). Cached."""
    check_choice(model, "model", MODELS)
    s = check_sparsity(sparsity)
    b = check_bits(bits, "bits", lo=2, hi=32)
    check_choice(structure, "structure", STRUCTURES)
    ref, val = _reference(model)
    m = copy.deepcopy(ref)
    orders = _magnitude_orders(model)
    with torch.no_grad():
        for name, mod in m.named_modules():
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                mod.weight.copy_(fake_quant_weight(_prune_weight(mod.weight, s, structure, orders[name]), b))
    return accuracy(m, val)


def _input_shape(model: str, batch: int) -> tuple:
    return (batch, 64) if model == "mlp" else (batch, 1, 8, 8)


@lru_cache(maxsize=16)
def _profile(model: str, batch: int):
    ref, _ = _reference(model)
    return tuple(layer_profile(ref, _input_shape(model, batch)))


def _layer_bits(shape, s, bits, fmt, index_bits):
    """Bits of one layer; a format the layer cannot use (2:4 below 50 % or cols % 4) → dense."""
    kw = {} if index_bits is None else {"index_bits": index_bits}
    if fmt in ("dense", "2:4", "codebook", "bitmask"):
        kw = {}
    try:
        return storage_bits(shape, s, bits, fmt, **kw), True
    except ValueError:
        return storage_bits(shape, s, bits, "dense"), False


# --------------------------------------------------------------------------------------------
# slider 1: storage formats
# --------------------------------------------------------------------------------------------
def compute_storage(sparsity: float = 0.8, bits: int = 8, format: str = "csr",
                    index_bits: int = 16, model: str = "mlp") -> dict:
    """Weight storage of the reference model at (sparsity, bits, format) + accuracy.

    Returns ``layers`` ({name: bytes}), ``total_bytes``, ``dense_bytes`` (same bits),
    ``fp32_bytes``, ``ratio_vs_dense``, ``ratio_vs_fp32``, ``curves`` ({format: bytes over
    ``grid``} with NaN where a format is invalid), ``break_even`` ({format: sparsity or None}
    for the largest layer), ``accuracy`` and ``dense_accuracy`` (fp32, unpruned).
    Index bits apply to CSR/CSC/COO/block column indices; the relative formats use 4 bits.
    The ``2:4`` format is exactly 50 % sparse (``effective_sparsity``) whatever ``sparsity`` says;
    layers whose fan-in is not a multiple of 4 stay dense (``format_used``).
    """
    s = check_sparsity(sparsity)
    b = check_bits(bits, "bits", lo=2, hi=32)
    check_choice(format, "format", FORMATS)
    ib = check_int(index_bits, "index_bits", lo=1, hi=64)
    check_choice(model, "model", MODELS)
    return _storage_cached(round(s, 6), b, format, ib, model)


def _idx(fmt, ib):
    return ib if fmt in ("csr", "csc", "coo", "block") else None


@lru_cache(maxsize=256)
def _curves(bits: int, ib: int, model: str):
    shapes = [r["weight_shape"] for r in _profile(model, 1)]
    curves = {}
    for fmt in FORMATS:
        ys = []
        for s in _SPARSITY_GRID:
            tot = 0
            for sh in shapes:
                if fmt == "2:4" and s < 0.5:
                    tot = math.nan
                    break
                tot += _layer_bits(sh, float(s), bits, fmt, _idx(fmt, ib))[0]
            ys.append(tot / 8)
        curves[fmt] = np.array(ys, dtype=float)
    big = max(shapes, key=lambda sh: int(np.prod(sh)))
    be = {}
    for fmt in FORMATS:
        kw = {} if _idx(fmt, ib) is None else {"index_bits": ib}
        be[fmt] = break_even_sparsity(fmt, bits, big, **kw)
    return curves, be, big


@lru_cache(maxsize=2048)
def _storage_cached(s, b, fmt, ib, model):
    prof = _profile(model, 1)
    layers, used = {}, {}
    s_eff = 0.5 if fmt == "2:4" else s  # 2:4 is exactly 50 % sparse whatever the slider says
    for r in prof:
        nbits, ok = _layer_bits(r["weight_shape"], s_eff, b, fmt, _idx(fmt, ib))
        layers[r["name"]] = -(-nbits // 8)
        used[r["name"]] = fmt if ok else "dense"
    dense = sum(-(-storage_bits(r["weight_shape"], 0.0, b, "dense") // 8) for r in prof)
    fp32 = sum(r["params"] * 4 for r in prof)
    total = sum(layers.values())
    curves, be, big = _curves(b, ib, model)
    structure = "2:4" if fmt == "2:4" else "unstructured"
    return {"sparsity": s, "effective_sparsity": s_eff, "bits": b, "format": fmt,
            "index_bits": ib, "model": model,
            "layers": layers, "format_used": used, "total_bytes": total, "dense_bytes": dense,
            "fp32_bytes": fp32, "ratio_vs_dense": dense / total, "ratio_vs_fp32": fp32 / total,
            "grid": _SPARSITY_GRID, "curves": curves, "break_even": be,
            "break_even_shape": big,
            "accuracy": pruned_accuracy(model, s_eff, b, structure),
            "dense_accuracy": pruned_accuracy(model, 0.0, 32, "dense")}


def _storage_text(res: dict) -> str:
    be = res["break_even"][res["format"]]
    return (f"{res['format']}: {res['total_bytes']:,} B = {res['ratio_vs_dense']:.2f}x smaller than "
            f"dense {res['bits']}-bit, {res['ratio_vs_fp32']:.2f}x smaller than fp32; "
            f"break-even sparsity for {res['break_even_shape']}: "
            f"{'never' if be is None else f'{be:.3f}'}; "
            f"val accuracy {res['accuracy']:.3f} (dense fp32 {res['dense_accuracy']:.3f})\n"
            + "per layer [B]: " + ", ".join(f"{k} {v:,} ({res['format_used'][k]})"
                                            for k, v in res["layers"].items()))


def _plain_log_axis(axis) -> None:
    """Log-axis tick labels as plain numbers (``0.1``, ``100``, ``1e+06``): the default
    ``10^k`` labels go through mathtext, whose parsing dominates a redraw when limits change."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_locator(NullLocator())


_STORAGE_SHOWN = ("dense", "bitmask", "csr", "2:4")


def _slot_class():
    from matplotlib.artist import Artist

    class _Slot(Artist):
        """An axes artist that paints whichever legend it currently holds (one built per
        selection): a blitted :class:`~pruninglab.ui.LivePlot` declares the slot as one fixed
        dynamic artist while what it shows changes. Each legend is rendered once, alone, into an
        RGBA tile (its text is most of a frame's cost) and composited from then on, in a full
        redraw as in a blitted frame, so both give the same pixels. Legends placed with
        ``loc="best"`` depend on the data, so they are drawn directly, never cached."""

        def __init__(self):
            super().__init__()
            self.child = None
            self._tiles = {}

        def _tile(self, renderer):
            import math

            from matplotlib.backends.backend_agg import RendererAgg
            leg = self.child
            key = (id(leg), renderer.width, renderer.height, renderer.dpi)
            tile = self._tiles.get(key)
            if tile is None:
                off = RendererAgg(renderer.width, renderer.height, renderer.dpi)
                leg.draw(off)
                bb = leg.get_window_extent(off)
                x0, y0 = max(0, math.floor(bb.x0) - 2), max(0, math.floor(bb.y0) - 2)
                x1 = min(int(renderer.width), math.ceil(bb.x1) + 2)
                y1 = min(int(renderer.height), math.ceil(bb.y1) + 2)
                h = int(renderer.height)
                rgba = np.asarray(off.buffer_rgba())[h - y1:h - y0, x0:x1].copy()
                tile = self._tiles[key] = (x0, y0, rgba)
            return tile

        def draw(self, renderer):
            leg = self.child
            if leg is None or not self.get_visible():
                return
            if leg._loc in (0, "best") or not hasattr(renderer, "buffer_rgba"):
                leg.draw(renderer)
                return
            x0, y0, rgba = self._tile(renderer)
            gc = renderer.new_gc()
            renderer.draw_image(gc, x0, y0, rgba[::-1])   # draw_image rows run bottom to top
            gc.restore()

    return _Slot


def _slot(ax):
    slot = _slot_class()()
    ax.add_artist(slot)
    return slot


def _storage_ylim(model: str) -> tuple:
    """Fixed log limits (KiB) of the storage panel for ``model``: every format's curve at every
    bit width and index width the sliders reach lies inside (sizes grow with both, so the
    extremes are 2 bits / 8-bit indices and 32 bits / 32-bit indices). Fixed, so that the bits
    slider moves the curves instead of rescaling the axis, and the axes are drawn once."""
    lo, hi = math.inf, 0.0
    for b, ib in ((2, 8), (2, 32), (32, 8), (32, 32)):
        curves, _, _ = _curves(b, ib, model)
        for y in curves.values():
            y = np.asarray(y, dtype=float) / 1024
            fin = y[np.isfinite(y) & (y > 0)]
            if fin.size:
                lo, hi = min(lo, float(fin.min())), max(hi, float(fin.max()))
    return lo / 1.5, hi * 1.5


def _storage_legend_loc(res: dict, shown, ylim) -> str:
    """Where the storage legend goes: the upper right corner while every shown curve stays in the
    lower 55 % of the (log) axis at sparsity ≥ 0.5, else the lower left (high bit widths put the
    curves near the top) — a cheap stand-in for ``loc="best"``, which searches the data on every
    draw and would keep the legend from being cached as pixels."""
    lo, hi = (math.log10(v) for v in ylim)
    grid = np.asarray(_SPARSITY_GRID)
    right = grid >= 0.5
    top = 0.0
    for fmt in shown:
        y = np.asarray(res["curves"][fmt], dtype=float) / 1024
        y = y[right & np.isfinite(y) & (y > 0)] if fmt != "2:4" else y[[int(np.argmin(np.abs(grid - 0.5)))]]
        y = y[np.isfinite(y) & (y > 0)]
        if y.size:
            top = max(top, (math.log10(float(y.max())) - lo) / (hi - lo))
    top = max(top, (math.log10(res["total_bytes"] / 1024) - lo) / (hi - lo)
              if res["effective_sparsity"] >= 0.5 else 0.0)
    return "upper right" if top < 0.55 else "lower left"


def live_storage(warm: bool = True):
    """A :class:`pruninglab.ui.LivePlot` for the storage slider: model weight bytes vs sparsity for
    the chosen format and a few references (the dot is the current setting); the per-layer bytes
    are printed. Blitted: the axes (log limits fixed per model, :func:`_storage_ylim`) are the
    static background (``background_key``: the model); a move paints the curves, the dot, the
    title and the legend, which names every series and marker drawn. With ``warm`` (default) the
    background of every model and the legend of every format are rendered when the plot is built,
    so the first change of the model or format dropdown is a blit too (what is shown is
    unchanged)."""
    from matplotlib.legend import Legend

    from ..ui import LivePlot

    def setup(fig):
        # precompute (~1 s, once) the format curves the bits slider visits at the default index
        # width, so a move only looks them up
        for model in MODELS:
            for b in range(2, 33):
                _curves(b, 16, model)
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.14, top=0.9)
        ax = fig.add_subplot()
        ax.set(xlabel="sparsity", ylabel="weights [KiB]", yscale="log", xlim=(-0.03, 1.01))
        _plain_log_axis(ax.yaxis)  # no minor ticks, no mathtext: both dominate the redraw time
        lines = {fmt: (ax.plot([0.5], [1.0], "s", ms=7, color=f"C{k}", visible=False)[0]
                       if fmt == "2:4" else   # 2:4 is exactly 50 % sparse: a point, not a line
                       ax.plot(_SPARSITY_GRID, np.ones(len(_SPARSITY_GRID)), lw=1.0,
                               color=f"C{k}", visible=False)[0])
                 for k, fmt in enumerate(FORMATS)}
        dot, = ax.plot([], [], "ko", label="current setting")
        title = ax.set_title("", y=1.0)   # fixed position: the title is redrawn on every move
        ylims = {m: _storage_ylim(m) for m in MODELS}
        legend = _slot(ax)
        return {"ax": ax, "lines": lines, "dot": dot, "title": title, "legend": legend,
                "legends": {}, "ylims": ylims, "Legend": Legend,
                "dynamic": [*lines.values(), dot, title, legend],
                "background_key": lambda res: res["model"]}

    def update(st, res):
        ax, sel = st["ax"], res["format"]
        ax.set_ylim(st["ylims"][res["model"]])          # a function of the background key
        shown = list(_STORAGE_SHOWN) + ([sel] if sel not in _STORAGE_SHOWN else [])
        for fmt, ln in st["lines"].items():
            vis = fmt in shown
            ln.set_visible(vis)
            if not vis:
                continue
            y = res["curves"][fmt] / 1024
            if fmt == "2:4":
                y = y[[int(np.argmin(np.abs(np.asarray(_SPARSITY_GRID) - 0.5)))]]
                ln.set_data([0.5], y)
                ln.set_markersize(9 if fmt == sel else 6)
            else:
                ln.set_ydata(y)
                ln.set_linewidth(2.5 if fmt == sel else 1.0)
            ln.set_label(fmt + (" (selected)" if fmt == sel else ""))
        st["dot"].set_data([res["effective_sparsity"]], [res["total_bytes"] / 1024])
        st["title"].set_text(f"{res['model']}, {res['bits']}-bit values, index {res['index_bits']} b: "
                             f"val acc {res['accuracy']:.3f}")
        loc = _storage_legend_loc(res, shown, ax.get_ylim())
        leg = st["legends"].get((sel, loc))   # depends on the selected format and the corner only
        if leg is None:
            handles = [st["lines"][f] for f in shown] + [st["dot"]]
            leg = st["legends"][sel, loc] = st["Legend"](ax, handles, [h.get_label() for h in handles],
                                                         fontsize=7, loc=loc)
        st["legend"].child = leg

    live = LivePlot(setup, update, text=_storage_text, figsize=(7, 3.4))
    # every model's background and every format's legend (built once, cached as pixels)
    return live.prewarm(compute_storage(0.9, 8, f, 16, m) for m in MODELS for f in FORMATS) if warm else live


_LIVE: dict = {}


def _render_with(name: str, factory, res: dict) -> None:
    """Draw ``res`` with this module's shared :class:`~pruninglab.ui.LivePlot` for ``name``
    (created on first use; every update sets all artist data, so reuse is exact)."""
    live = _LIVE.get(name)
    if live is None:
        live = _LIVE[name] = factory()
    live(res)


def render_storage(res: dict) -> None:
    """Print the storage summary and draw the :func:`live_storage` figure for ``res``."""
    _render_with("storage", lambda: live_storage(warm=False), res)


# --------------------------------------------------------------------------------------------
# slider 2: energy
# --------------------------------------------------------------------------------------------
def compute_energy(sparsity: float = 0.8, bits: int = 8, format: str = "dense", batch: int = 1,
                   model: str = "mlp", weight_memory: str = "han_dram") -> dict:
    """Per-sample energy breakdown (Horowitz 2014 table) of the reference model; see
    :func:`pruninglab.hardware.model_energy`. A dense format means dense hardware (zeros are
    multiplied); a sparse format means a zero-skipping engine. Adds ``accuracy``."""
    s = check_sparsity(sparsity)
    b = check_bits(bits, "bits", lo=2, hi=32)
    check_choice(format, "format", FORMATS)
    n = check_int(batch, "batch", lo=1, hi=4096)
    check_choice(model, "model", MODELS)
    check_choice(weight_memory, "weight_memory", WEIGHT_MEMORIES)
    return _energy_cached(round(s, 6), b, format, n, model, weight_memory)


@lru_cache(maxsize=2048)
def _energy_cached(s, b, fmt, n, model, weight_memory):
    ref, _ = _reference(model)
    shapes = {r["name"]: r["weight_shape"] for r in _profile(model, 1)}
    # layers that cannot use the format (2:4 on a 3x3 conv with 1 input channel) stay dense
    ok = {k: _layer_bits(sh, s if fmt != "2:4" else 0.5, b, fmt, _idx(fmt, 16))[1]
          for k, sh in shapes.items()}
    fmt_eff = fmt if all(ok.values()) else "dense"
    sp = 0.5 if fmt == "2:4" else s
    kw = {"index_bits": 16} if fmt_eff in ("csr", "csc", "coo", "block") else {}
    e = model_energy(ref, _input_shape(model, n), b, sp, format=fmt_eff,
                     weight_memory=weight_memory, **kw)
    e32 = model_energy(ref, _input_shape(model, n), 32, 0.0, weight_memory=weight_memory)
    structure = "2:4" if fmt == "2:4" else "unstructured"
    return {**e, "sparsity": s, "batch": n, "model": model, "format_requested": fmt,
            "weight_memory": weight_memory,
            "fp32_dense_per_sample_pj": e32["per_sample_pj"],
            "saving_vs_fp32": e32["per_sample_pj"] / e["per_sample_pj"],
            "accuracy": pruned_accuracy(model, sp, b, structure)}


def _energy_text(res: dict) -> str:
    n = res["batch"]
    return (f"{res['per_sample_pj'] / 1e3:.1f} nJ/sample (compute {res['compute_pj'] / n / 1e3:.1f}, "
            f"memory {res['memory_pj'] / n / 1e3:.1f}); {res['saving_vs_fp32']:.1f}x less than dense "
            f"fp32; val accuracy {res['accuracy']:.3f}")


_ENERGY_PARTS = (("compute_pj", "compute (MACs)", "tab:green"),
                 ("weight_pj", "weight memory", "tab:red"),
                 ("act_pj", "activation memory", "tab:orange"))


def _nice_top(v: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is ≥ ``v`` (> 0): the energy axis keeps one top while
    the bars stay within it, so most moves reuse the drawn axes."""
    k = math.floor(math.log10(v))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * 10.0 ** k >= v * (1 - 1e-12):
            return m * 10.0 ** k
    return 10.0 ** (k + 1)  # pragma: no cover


def _energy_top(res: dict) -> float:
    n = res["batch"]
    tot = [sum(x[key] for key, _, _ in _ENERGY_PARTS) / n / 1e3 for x in res["layers"]]
    top = max(tot) if tot else 0.0
    return _nice_top(1.08 * top) if top > 0 else 1.0


def live_energy(warm: bool = True, batches=(1, 8, 64, 256)):
    """A :class:`pruninglab.ui.LivePlot` for the energy slider: per-layer stacked bars (compute,
    weight memory, activation memory) in nJ per sample. Blitted: one set of bars per model is
    created once; the axes are a static background per model and y-axis top (the next 1-2-5
    step above the tallest bar, :func:`_nice_top`; ``background_key``), so a move that keeps
    the top paints only the bars, the legend and the title. With ``warm`` (default) the
    backgrounds of every model at each of ``batches`` (the batch dropdown's choices; the
    per-sample energy, hence the top, depends on the batch) at the default setting are rendered
    when the plot is built."""
    from matplotlib.legend import Legend
    from matplotlib.patches import Patch

    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.125, right=0.98, bottom=0.1, top=0.9)   # room for "17500"
        ax = fig.add_subplot()
        fig.text(0.012, 0.5, "nJ per sample", rotation=90, va="center", ha="left")
        handles = [Patch(color=c, label=lab) for _, lab, c in _ENERGY_PARTS]
        legends = {loc: Legend(ax, handles, [h.get_label() for h in handles], fontsize=8, loc=loc)
                   for loc in ("upper right", "upper left")}
        leg = _slot(ax)
        bars, names = {}, {}
        for model in MODELS:
            names[model] = [r["name"] for r in _profile(model, 1)]
            x = np.arange(len(names[model]))
            bars[model] = [ax.bar(x, np.zeros(len(x)), color=c) for _, _, c in _ENERGY_PARTS]
        title = ax.set_title("", y=1.0)   # fixed position: the title is redrawn on every move
        # the y axis is static per (model, top) (background_key); bars above the static artists
        # (zorder 7), the legend on top (8), as in a full redraw
        rects = [rect for m in MODELS for bc in bars[m] for rect in bc.patches]
        for r in rects:
            r.set_zorder(7)
        leg.set_zorder(8)
        dyn = [title] + rects + [leg]
        return {"ax": ax, "names": names, "bars": bars, "title": title, "dynamic": dyn,
                "legend": leg, "legends": legends,
                "background_key": lambda res: (res["model"], _energy_top(res))}

    def update(st, res):
        ax, L, n, model = st["ax"], res["layers"], res["batch"], res["model"]
        names = [x["name"] for x in L]
        if names != st["names"][model]:
            raise ValueError(f"layers {names} of {model} differ from the figure's {st['names'][model]}")
        x = np.arange(len(names))
        ax.set_xticks(x, names)                          # functions of the background key
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_ylim(0, _energy_top(res))                 # a function of the background key too
        for m, sets in st["bars"].items():
            for bc in sets:
                for rect in bc.patches:
                    rect.set_visible(m == model)
        bottom = np.zeros(len(names))
        for (key, _, _), bc in zip(_ENERGY_PARTS, st["bars"][model]):
            h = np.array([x[key] for x in L]) / n / 1e3
            for rect, hi, b0 in zip(bc.patches, h, bottom):
                rect.set_y(b0)
                rect.set_height(hi)
            bottom = bottom + h
        st["title"].set_text(f"{res['model']} {res['bits']}-bit {res['kind']}, {res['format']}, "
                             f"s={res['sparsity']:.2f}, batch {n}")
        # legend in the upper corner above the lower end bar (drawn once there, cached as pixels;
        # loc="best" would search the bars on every draw)
        st["legend"].child = st["legends"]["upper right" if bottom[-1] <= bottom[0] else "upper left"]

    live = LivePlot(setup, update, text=_energy_text, figsize=(7, 3.2))
    if not warm:
        return live
    return live.prewarm(compute_energy(0.9, 8, "csr", int(b), m, "han_dram") for m in MODELS for b in batches)


def render_energy(res: dict) -> None:
    """Print the energy summary and draw the :func:`live_energy` figure for ``res``."""
    _render_with("energy", lambda: live_energy(warm=False), res)


# --------------------------------------------------------------------------------------------
# slider 3: roofline
# --------------------------------------------------------------------------------------------
def compute_roofline(profile: str = "Orin Nano", bits: int = 8, batch: int = 1,
                     structure: str = "dense", sparsity: float = 0.9, model: str = "mlp",
                     sparse_efficiency: float = 0.25) -> dict:
    """Roofline points of the reference model's layers (dense and as configured) + accuracy.

    ``profile`` is a key of :data:`PROFILE_CHOICES` (``"this machine"`` is measured once).
    Returns ``current`` and ``dense`` (outputs of :func:`layer_roofline`) and ``accuracy``.
    """
    check_choice(profile, "profile", PROFILE_CHOICES)
    b = check_bits(bits, "bits", lo=2, hi=32)
    n = check_int(batch, "batch", lo=1, hi=4096)
    check_choice(structure, "structure", STRUCTURES)
    s = check_sparsity(sparsity)
    check_choice(model, "model", MODELS)
    eff = check_number(sparse_efficiency, "sparse_efficiency", lo=0.0, hi=1.0, lo_inclusive=False)
    prof = get_profile(profile)
    ref, _ = _reference(model)
    rows = list(_profile(model, n))
    cur = layer_roofline(ref, None, prof, b, s, structure, sparse_efficiency=eff, layers_prof=rows)
    dense = layer_roofline(ref, None, prof, b, 0.0, "dense", layers_prof=rows)
    acc = pruned_accuracy(model, s if structure == "unstructured" else 0.5 if structure == "2:4"
                          else 0.0, b, structure)
    return {"profile": profile, "bits": b, "batch": n, "structure": structure, "sparsity": s,
            "model": model, "current": cur, "dense": dense, "accuracy": acc,
            "speedup": cur["speedup"]}


def _roofline_text(res: dict) -> str:
    cur = res["current"]
    if not cur["supported"]:
        return f"{cur['profile']} has no {cur['precision']} units: quantize to int8 first."
    note = {"dense": "; the sparsity slider is inactive: structure 'dense' prunes nothing",
            "2:4": "; the sparsity slider is inactive: 2:4 is always exactly 50 % sparse"}.get(
        res["structure"], "")
    return (f"ridge {cur['ridge']:.1f} FLOP/B; layers memory-bound: "
            f"{sum(l['bound'] == 'memory' for l in cur['layers'])}/{len(cur['layers'])}; "
            f"modelled speedup vs dense {res['speedup']:.2f}x; val accuracy {res['accuracy']:.3f}"
            + note)


def roofline_rules() -> dict:
    """``disabled_when`` rules for the roofline ``slider_ui`` (no dead controls).

    * ``sparsity`` is disabled unless ``structure`` is ``"unstructured"`` ('dense' prunes nothing,
      2:4 is always 50 %);
    * when the chosen ``profile`` has no units for the chosen ``bits`` (e.g. the int8-only Edge TPU
      at 9–32 bits) the view is only that message, so ``batch``, ``structure``, ``sparsity`` and
      ``model`` are disabled with that reason until ``bits`` or ``profile`` changes.
    Rules whose control is absent are dropped by the caller (see :func:`roofline_ui_rules`).
    """
    def unsupported(p):
        if "profile" not in p or "bits" not in p:
            return None
        prof = get_profile(p["profile"])
        peak, prec = prof.peak(p["bits"])
        return None if peak is not None else (f"{p['profile']} has no {prec} units at {p['bits']} bits: "
                                              "pick ≤ 8 bits or another profile")

    def sparsity(p):
        why = unsupported(p)
        if why:
            return why
        if p.get("structure", "unstructured") != "unstructured":
            return ("only unstructured sparsity is a free parameter: 'dense' prunes nothing, "
                    "2:4 is always 50 %")
        return None

    return {"batch": unsupported, "structure": unsupported, "model": unsupported,
            "sparsity": sparsity}


def roofline_ui_rules(names) -> dict:
    """:func:`roofline_rules` restricted to the controls ``names`` a roofline UI actually has."""
    return {k: v for k, v in roofline_rules().items() if k in set(names)}


_ROOF_XS = np.logspace(-1, 4, 60)
_MAX_LAYERS = 8


def _decade_ylim(ys) -> tuple:
    """Log limits of the roofline panel: the points' range widened by 3× each way, rounded out
    to whole decades, so nearby settings share the drawn axes (one background per limit pair)."""
    lo, hi = min(ys) / 3, max(ys) * 3
    return 10.0 ** math.floor(math.log10(lo)), 10.0 ** math.ceil(math.log10(hi))


def _roofline_ylim(res: dict) -> tuple | None:
    cur, dense = res["current"], res["dense"]
    if not cur["supported"]:
        return None
    roof = np.minimum(cur["peak"], cur["bandwidth"] * _ROOF_XS) / 1e9
    ys = [float(roof.min()), float(roof.max())]
    for d, c in zip(dense["layers"][:_MAX_LAYERS], cur["layers"][:_MAX_LAYERS]):
        ys += [d["attainable"] / 1e9, c["attainable"] / 1e9]
    return _decade_ylim(ys)


def live_roofline(warm: bool = True):
    """A :class:`pruninglab.ui.LivePlot` for the roofline slider: the roof (and the sparse-kernel
    roof for unstructured sparsity), each layer dense (hollow gray) and as configured (colored),
    with an arrow from one to the other. Artists for up to ``_MAX_LAYERS`` layers are created once.
    Blitted: the axes are a static background per y range (the points' range rounded out to
    decades, :func:`_decade_ylim`; ``background_key``: the axis limits ``update`` set); a move
    paints the roofs, points, arrows, message, title and legend (one legend per set of entries,
    built once, cached as pixels). With ``warm`` (default) every profile is drawn once at the
    default setting when the plot is built (its y range, legend and, for "this machine", the
    measured peak), so the first change of the profile dropdown is a blit too."""
    from matplotlib.legend import Legend

    from ..ui import LivePlot

    def setup(fig):
        fig.subplots_adjust(left=0.12, right=0.96, bottom=0.14, top=0.9)
        ax = fig.add_subplot()
        ax.set(xscale="log", yscale="log", xlim=(_ROOF_XS[0], _ROOF_XS[-1]),
               xlabel="arithmetic intensity [FLOP/byte]")
        fig.text(0.012, 0.52, "attainable [GFLOP/s]", rotation=90, va="center", ha="left")
        _plain_log_axis(ax.xaxis)  # no minor ticks, no mathtext: both dominate the redraw time
        _plain_log_axis(ax.yaxis)
        roof, = ax.plot(_ROOF_XS, np.ones_like(_ROOF_XS), "k-", lw=1.5)
        sroof, = ax.plot(_ROOF_XS, np.ones_like(_ROOF_XS), "k--", lw=1, label="sparse-kernel roof")
        dense = [ax.plot([1], [1], "o", mfc="none", color="gray", label="dense (same bits)")[0]
                 for _ in range(_MAX_LAYERS)]
        cur = [ax.plot([1], [1], "o", color=f"C{k}")[0] for k in range(_MAX_LAYERS)]
        arrows = [ax.annotate("", (1, 1), (1, 1), xycoords="data", textcoords="data",
                              arrowprops={"arrowstyle": "->", "color": "gray", "lw": 0.8})
                  for _ in range(_MAX_LAYERS)]
        msg = ax.text(0.5, 0.5, "", ha="center", transform=ax.transAxes)
        title = ax.set_title("", y=1.0)   # fixed position: the title is redrawn on every move
        legend = _slot(ax)
        # the y axis (log ticks, labels, grid lines) is static per y range (background_key);
        # the data above the static artists (zorder 7), the legend on top (8), as in a full redraw
        data = [roof, sroof, *dense, *cur, *arrows, msg]
        for a in data:
            a.set_zorder(7)
        legend.set_zorder(8)
        return {"ax": ax, "roof": roof, "sroof": sroof, "dense": dense, "cur": cur,
                "arrows": arrows, "msg": msg, "title": title, "legend": legend, "legends": {},
                "Legend": Legend, "dynamic": [title, *data, legend],
                # the limits update() just set (an unsupported setting keeps the last ones)
                "background_key": lambda res: tuple(ax.get_ylim())}

    def update(st, res):
        ax, cur, dense = st["ax"], res["current"], res["dense"]
        ok = bool(cur["supported"])
        layers = cur["layers"][:_MAX_LAYERS] if ok else []
        st["msg"].set_text("" if ok else f"{cur['profile']} cannot run {cur['precision']}")
        st["roof"].set_visible(ok)
        sparse = ok and res["structure"] == "unstructured"
        st["sroof"].set_visible(sparse)
        lim = _roofline_ylim(res)
        if lim is not None:
            ax.set_ylim(lim)                             # names the background (see setup)
        if ok:
            roof = np.minimum(cur["peak"], cur["bandwidth"] * _ROOF_XS) / 1e9
            st["roof"].set_ydata(roof)
            st["roof"].set_label(f"roof ({cur['precision']})")
            if sparse:
                pk = cur["peak"] * (cur["layers"][0]["peak"] / cur["peak"] if cur["layers"] else 1)
                st["sroof"].set_ydata(np.minimum(pk, cur["bandwidth"] * _ROOF_XS) / 1e9)
        for k in range(_MAX_LAYERS):
            vis = k < len(layers)
            dl, cl, ar = st["dense"][k], st["cur"][k], st["arrows"][k]
            dl.set_visible(vis)
            cl.set_visible(vis)
            ar.set_visible(vis)
            if not vis:
                continue
            d, c = dense["layers"][k], layers[k]
            p_d = (d["intensity"], d["attainable"] / 1e9)
            p_c = (c["intensity"], c["attainable"] / 1e9)
            dl.set_data([p_d[0]], [p_d[1]])
            cl.set_data([p_c[0]], [p_c[1]])
            cl.set_label(c["name"])
            ar.xy, ar.xyann = p_c, p_d
        if ok:
            st["title"].set_text(f"{cur['profile']}: {res['model']}, batch {res['batch']}, "
                                 f"{res['bits']} bits, {res['structure']}")
        else:
            st["title"].set_text("")
        handles = ([st["roof"]] + ([st["sroof"]] if sparse else [])
                   + ([st["dense"][0]] if layers else []) + st["cur"][:len(layers)]) if ok else []
        key = tuple(h.get_label() for h in handles)
        leg = st["legends"].get(key)
        if leg is None and handles:
            leg = st["legends"][key] = st["Legend"](ax, handles, list(key), fontsize=7,
                                                    loc="lower right")
        st["legend"].child = leg

    live = LivePlot(setup, update, text=_roofline_text, figsize=(7, 3.6))
    if not warm:
        return live
    # every profile; then every legend (one per model × precision × sparse or not: a new legend's
    # first layout and tile is ~30 ms, most of a model change's first visit)
    live.prewarm(compute_roofline(p, 8, 1, "dense", 0.9, "mlp") for p in PROFILE_CHOICES)
    for m in MODELS:        # layer shapes at every batch: a forward pass each (12 ms at 1024)
        for n in ROOFLINE_BATCHES:
            _profile(m, n)
    return live.prewarm(compute_roofline("Orin Nano", b, 1, s, 0.9, m)
                        for m in MODELS for b in (8, 16, 32) for s in ("dense", "unstructured"))


def render_roofline(res: dict) -> None:
    """Print the roofline summary and draw the :func:`live_roofline` figure for ``res``."""
    _render_with("roofline", lambda: live_roofline(warm=False), res)


# --------------------------------------------------------------------------------------------
# measured latency lookup table and pruning under a latency budget (MLP hidden sizes)
# --------------------------------------------------------------------------------------------
def shrink_mlp(model: DigitsMLP, config: dict) -> nn.Module:
    """A new, physically smaller MLP keeping ``config["fc1"]`` / ``config["fc2"]`` hidden units
    with the largest L1 norm of their incoming weights (Li et al. 2017), via
    :func:`pruninglab.pruning.structured.shrink_model`. ``model`` is not modified."""
    from ..pruning.structured import shrink_model
    if not isinstance(model, DigitsMLP):
        raise TypeError(f"model must be a DigitsMLP, got {type(model).__name__}")
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict {{'fc1': int, 'fc2': int}}, got {type(config).__name__}")
    H1, H2 = model.fc1.out_features, model.fc2.out_features
    h1 = check_int(config.get("fc1"), "config['fc1']", lo=1, hi=H1)
    h2 = check_int(config.get("fc2"), "config['fc2']", lo=1, hi=H2)
    return shrink_model(model, {"fc1": (H1 - h1) / H1, "fc2": (H2 - h2) / H2}).eval()


def mlp_flops(config: dict) -> int:
    """Per-sample FLOPs of the MLP: ``2·(64·h1 + h1·h2 + 10·h2)``."""
    h1, h2 = config["fc1"], config["fc2"]
    return 2 * (64 * h1 + h1 * h2 + 10 * h2)


def mlp_latency_table(batch: int = 256, granularity: int = 16, hidden=(256, 128),
                      **measure_kwargs) -> dict:
    """Measured per-layer lookup table (NetAdapt): ``{"fc1": {h1: s}, "fc2": {(h1, h2): s},
    "fc3": {h2: s}}`` for hidden sizes on multiples of ``granularity``. Machine-dependent."""
    import torch.nn.functional as F
    n = check_int(batch, "batch", lo=1)
    g = check_int(granularity, "granularity", lo=1)
    H1, H2 = hidden
    g1 = list(range(g, H1 + 1, g))
    g2 = list(range(g, H2 + 1, g))
    gen = torch.Generator().manual_seed(0)
    kw = {"warmup": 1, "repeats": 7, "min_time": 4e-4, **measure_kwargs}
    x0 = torch.randn(n, 64, generator=gen)
    xs1 = {h: torch.randn(n, h, generator=gen) for h in sorted(set(g1) | set(g2))}
    W = torch.randn(max(H1, H2), max(H1, H2, 64), generator=gen)
    t = lambda f: measure_latency(f, **kw)["median_s"]  # noqa: E731
    with torch.no_grad():
        fc1 = {h: t(lambda h=h: torch.relu(F.linear(x0, W[:h, :64]))) for h in g1}
        fc2 = {(a, c): t(lambda a=a, c=c: torch.relu(F.linear(xs1[a], W[:c, :a])))
               for a in g1 for c in g2}
        fc3 = {c: t(lambda c=c: F.linear(xs1[c], W[:10, :c])) for c in g2}
    return {"fc1": fc1, "fc2": fc2, "fc3": fc3, "batch": n, "granularity": g}


def lut_latency(lut: dict, config: dict) -> float:
    """Predicted latency = ``fc1[h1] + fc2[(h1, h2)] + fc3[h2]`` from the lookup table."""
    h1, h2 = config["fc1"], config["fc2"]
    return lut["fc1"][h1] + lut["fc2"][(h1, h2)] + lut["fc3"][h2]


def latency_budget_study(budget_fractions=(0.8, 0.6, 0.45, 0.3), *, batch: int = 256,
                         granularity: int = 16, finetune_epochs: int = 2, lut: dict | None = None,
                         netadapt_steps: int = 3) -> dict:
    """NetAdapt vs uniform vs FLOP-proportional channel pruning of the reference MLP at budgets
    ``fraction × full latency`` (looked up). Every candidate is shrunk (:func:`shrink_mlp`),
    fine-tuned ``finetune_epochs`` epochs (seeded) and scored on *val*; the chosen configurations
    are then timed end to end (measured). The test split is never touched here: ``models`` maps
    ``"h1x h2"`` to the fine-tuned model so that the notebook reports the test accuracy of its one
    chosen setting in its ``test-report`` cell. Machine-dependent."""
    from ..cache import cached
    from ..train import accuracy
    ref = load_reference("mlp")
    val = load_digits("val")
    lut = mlp_latency_table(batch, granularity) if lut is None else lut
    g = lut["granularity"]
    full = {"fc1": 256, "fc2": 128}
    cache: dict = {}

    def finetuned(cfg):
        key = (cfg["fc1"], cfg["fc2"])
        if key not in cache:
            m = shrink_mlp(ref, cfg)
            if finetune_epochs:   # deterministic per configuration: cached on disk
                m.load_state_dict(cached("hw08-finetuned", 1, _finetuned_state, fc1=key[0],
                                         fc2=key[1], epochs=finetune_epochs))
            m.eval()
            cache[key] = m
        return cache[key]

    evaluate = lambda cfg: accuracy(finetuned(cfg), val)  # noqa: E731
    lat = lambda cfg: lut_latency(lut, cfg)  # noqa: E731
    xb = torch.randn(lut["batch"], 64, generator=torch.Generator().manual_seed(1))

    def measured(cfg):
        m = finetuned(cfg)
        with torch.no_grad():
            return measure_latency(lambda: m(xb), warmup=2, repeats=7)["median_s"]

    l0 = lat(full)
    rows = []
    for f in budget_fractions:
        budget = check_number(f, "budget_fractions", lo=0.0, hi=1.0, lo_inclusive=False) * l0
        na = netadapt_prune(full, lat, budget, evaluate, steps=netadapt_steps, granularity=g,
                            min_channels=g)
        un = uniform_prune(full, lat, budget, granularity=g, min_channels=g)
        fp = flop_proportional_prune(full, mlp_flops, l0, budget, granularity=g, min_channels=g)
        for name, cfg in (("netadapt", na["config"]), ("uniform", un["config"]),
                          ("flop-proportional", fp["config"])):
            rows.append({"budget_fraction": f, "budget_s": budget, "method": name,
                         "config": cfg, "lut_latency_s": lat(cfg), "measured_s": measured(cfg),
                         "flops": mlp_flops(cfg), "val_acc": evaluate(cfg),
                         "within_budget_lut": lat(cfg) <= budget})
    full_measured = measured(full)
    front = pareto_front([(r["measured_s"], r["val_acc"]) for r in rows])
    return {"rows": rows, "full_lut_s": l0, "full_measured_s": full_measured,
            "full_val_acc": accuracy(ref, val), "pareto": front, "lut": lut,
            "models": {f"{h1}x{h2}": m for (h1, h2), m in cache.items()}}


@_one_thread
def _finetuned_state(fc1: int, fc2: int, epochs: int) -> dict:
    """State dict of the reference MLP shrunk to ``fc1 × fc2`` hidden units (:func:`shrink_mlp`)
    and fine-tuned ``epochs`` epochs (Adam, lr 1e-3, batch 64, seed 0) on the train split."""
    from ..train import train
    m = shrink_mlp(load_reference("mlp"), {"fc1": fc1, "fc2": fc2})
    train(m, load_digits("train"), epochs=epochs, lr=1e-3, batch_size=64, seed=0)
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def render_budget_study(res: dict) -> None:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.6))
    marks = {"netadapt": "o", "uniform": "s", "flop-proportional": "^"}
    rows = res["rows"]
    for meth, mk in marks.items():
        rr = [r for r in rows if r["method"] == meth]
        ax.plot([r["measured_s"] * 1e6 for r in rr], [r["val_acc"] for r in rr], mk, ms=7,
                label=meth, alpha=0.8)
        for r in rr:
            ax.annotate(f"{r['budget_fraction']:.2f}", (r["measured_s"] * 1e6, r["val_acc"]),
                        textcoords="offset points", xytext=(4, 3), fontsize=7)
    front = res["pareto"]
    ax.plot([rows[i]["measured_s"] * 1e6 for i in front], [rows[i]["val_acc"] for i in front],
            "-", color="gray", lw=1, label="Pareto front")
    ax.axvline(res["full_measured_s"] * 1e6, color="gray", ls=":", label="unpruned")
    ax.set(xlabel="measured latency per batch [µs] (labels: budget fraction)",
           ylabel="val accuracy",
           title=f"MLP, batch {res['lut']['batch']}: pruning to a latency budget")
    ax.legend(fontsize=7)
    fig.tight_layout()
    plt.show()


# --------------------------------------------------------------------------------------------
# experiments that run the learner's functions (exercises of notebook 08)
# --------------------------------------------------------------------------------------------
def _fc_layers():
    ref, _ = _reference("mlp")
    return [(n, getattr(ref, n)) for n in ("fc1", "fc2", "fc3")]


def format_table(bytes_fn, sparsity: float = 0.9, bits: int = 8, index_bits: int = 16,
                 pointer_bits: int = 32, layer: str = "fc2") -> list[dict]:
    """Bytes of the MLP's ``layer`` pruned by magnitude to ``sparsity`` in dense / bitmask / CSR
    / COO, from the learner's ``bytes_fn(weights, fmt, value_bits, index_bits, pointer_bits)``
    and from :func:`pruninglab.hardware.storage_bits` (``ptr_bits=pointer_bits``)."""
    from ..hardware import storage_bits
    from ..pruning import magnitude_mask
    s = check_sparsity(sparsity)
    w = dict(_fc_layers())[layer].weight.detach()
    wp = (w * magnitude_mask(w, s)).numpy().astype(np.float64)
    rows = []
    for f in ("dense", "bitmask", "csr", "coo"):
        kw = {"index_bits": index_bits, "ptr_bits": pointer_bits} if f == "csr" else (
            {"index_bits": index_bits} if f == "coo" else {})
        lib = -(-int(storage_bits(torch.from_numpy(wp), None, bits, f, **kw)) // 8)
        rows.append({"format": f, "yours": int(bytes_fn(wp, f, bits, index_bits, pointer_bits)),
                     "library": lib, "nnz": int(np.count_nonzero(wp))})
    return rows


def roofline_with(roof_fn, profile: str = "Orin Nano", bits: int = 8, batches=(1, 64)) -> list[dict]:
    """Per-layer intensity / attainable / bound of the dense MLP on ``profile`` from the
    learner's ``roof_fn(in, out, batch, bits, peak, bandwidth)``, next to
    :func:`compute_roofline`'s (library) intensity."""
    prof = get_profile(profile)
    peak, _ = prof.peak(check_bits(bits, "bits", lo=2, hi=32))
    rows = []
    for n in batches:
        lib = {l["name"]: l for l in compute_roofline(profile, bits, n, "dense", 0.0)["current"]["layers"]}
        for name, m in _fc_layers():
            i, att, bound = roof_fn(m.in_features, m.out_features, n, bits, peak, prof.bandwidth)
            rows.append({"batch": n, "layer": name, "intensity": float(i), "attainable": float(att),
                         "bound": bound, "library_intensity": lib[name]["intensity"],
                         "library_bound": lib[name]["bound"], "ridge": peak / prof.bandwidth})
    return rows


def energy_with(energy_fn, bits: int = 8, batch: int = 1, weight_memory: str = "han_dram") -> dict:
    """Per-layer energy (pJ per batch) of the dense MLP from the learner's
    ``energy_fn(in, out, batch, bits, weight_pj_per_bit, act_pj_per_bit)`` and from
    :func:`pruninglab.hardware.model_energy` (activations in SRAM)."""
    from ..hardware import MEMORY_LEVELS, model_energy
    check_choice(weight_memory, "weight_memory", WEIGHT_MEMORIES)
    ref, _ = _reference("mlp")
    lib = {l["name"]: l for l in model_energy(ref, (batch, 64), bits, 0.0,
                                              weight_memory=weight_memory)["layers"]}
    rows = []
    for name, m in _fc_layers():
        c, w, a = energy_fn(m.in_features, m.out_features, batch, bits,
                            MEMORY_LEVELS[weight_memory], MEMORY_LEVELS["han_sram"])
        L = lib[name]
        rows.append({"layer": name, "compute_pj": float(c), "weight_pj": float(w), "act_pj": float(a),
                     "library": (L["compute_pj"], L["weight_pj"], L["act_pj"])})
    total = sum(r["compute_pj"] + r["weight_pj"] + r["act_pj"] for r in rows)
    return {"layers": rows, "total_pj": total, "per_sample_pj": total / batch,
            "weight_share": sum(r["weight_pj"] for r in rows) / total,
            "weight_memory": weight_memory, "bits": bits, "batch": batch}


def staircase_lut(widths=None, step: int = 16) -> dict:
    """A deterministic per-layer latency table with the staircase of vector units: latency of a
    layer with ``c`` channels = ``base + per·ceil(c/step)`` µs (fc1: 256 wide, fc2: 128 wide)."""
    return {"fc1": {c: 3.0 + 1.5 * -(-c // step) for c in range(step, 257, step)},
            "fc2": {c: 2.0 + 2.5 * -(-c // step) for c in range(step, 129, step)}}


def netadapt_with(step_fn, channels: dict, lut: dict, budget: float, acc_fn, steps: int = 4,
                  max_iters: int = 50) -> dict:
    """NetAdapt (Yang et al. 2018) driven by the learner's ``step_fn(config, lut, target,
    acc_table)``: the per-step latency reduction is ``(L0 − budget)/steps``; each iteration's
    target is ``max(budget, L − reduction)`` and ``acc_table[layer][c] = acc_fn(config with
    layer → c)`` for every smaller width in the table. Stops at the budget or when no layer can
    reach the target. Returns ``{"config", "latency", "history", "met_budget"}``."""
    lat = lambda cfg: sum(lut[k][cfg[k]] for k in cfg)  # noqa: E731
    cur = dict(channels)
    l0 = lat(cur)
    delta = max((l0 - budget) / check_int(steps, "steps", lo=1), 0.0)
    hist = []
    while lat(cur) > budget and len(hist) < max_iters:
        target = max(budget, lat(cur) - delta)
        table = {k: {c: float(acc_fn({**cur, k: c})) for c in lut[k] if c < cur[k]} for k in cur}
        new, layer = step_fn(dict(cur), lut, target, table)
        if layer is None:
            break
        cur = {k: int(v) for k, v in new.items()}
        hist.append({"layer": layer, "config": dict(cur), "latency": lat(cur),
                     "accuracy": float(acc_fn(cur))})
    return {"config": cur, "latency": lat(cur), "initial_latency": l0, "history": hist,
            "met_budget": lat(cur) <= budget}
