# %% [markdown]
# # 06 · Joint pruning and quantization: the Deep Compression pipeline, measured
#
# Pruning removes weights; quantization shrinks the ones that remain. Combined, they multiply —
# *if* the stages are composed correctly and the storage format really drops the zeros. This
# notebook runs the pipeline of Han et al. (2016, *Deep Compression*) on the reference MLP:
#
# 1. **prune** by magnitude (global threshold, Han et al. 2015);
# 2. **fine-tune** with the mask enforced, so pruned weights stay exactly zero;
# 3. **quantize the survivors**: k-means weight sharing with $2^b$ centroids (Han et al. 2016) or
#    symmetric linear quantization with $Z = 0$ (Jacob et al. 2018);
# 4. **store** positions + codes: bitmask, CSR, or Deep Compression's relative indices with a
#    codebook (Huffman coding, their last stage, is not applied here).
#
# All numbers are computed by `pruninglab.labs.joint` with the library (`pruninglab.pruning`,
# `pruninglab.hardware.storage_bits`) and the quantizers of notebook 05.

# %%
from pruninglab.utils import notebook_setup
notebook_setup()

import numpy as np
import torch
import matplotlib.pyplot as plt

from pruninglab.data import load_digits
from pruninglab.models import load_reference
from pruninglab.train import accuracy
from pruninglab.ui import slider_ui, grid_slider, bits_slider, dropdown
from pruninglab.labs import joint as J
from pruninglab.claims import md, claim

plt.rcParams["figure.dpi"] = plt.rcParams["savefig.dpi"] = 120   # sharp on HiDPI screens

val = load_digits("val")
ref = load_reference("mlp")
print(f"reference MLP: val accuracy {100 * accuracy(ref, val):.2f}%, fp32 size "
      f"{4 * sum(p.numel() for p in ref.parameters()):,} bytes")

# %% [markdown] tags=["seed:S3-Q3"]
# ## S3-Q3 · Joint pruning + quantization strategy (document 003, question 3) · 剪枝与量化联合优化
#
# > **题目：** 请简要介绍剪枝与量化的联合优化策略，并说明其优势。
# >
# > **答案：** 剪枝与量化的联合优化策略是将剪枝和量化技术相结合，通过优化剪枝和量化参数，提高深度学习模型的性能和计算效率。以下是一种常见的联合优化策略：
# >
# > 1. **联合剪枝与量化感知训练**：在训练过程中，将剪枝和量化操作引入模型，同时优化剪枝和量化参数。具体步骤如下：
# >
# > - 初始阶段：使用全精度模型进行训练。
# > - 剪枝阶段：根据模型性能和计算资源需求，对模型进行结构剪枝。
# > - 量化阶段：对剪枝后的模型进行量化，调整量化参数以优化模型性能。
# > - 反复迭代：根据模型性能和计算资源需求，调整剪枝和量化参数，直至达到目标。
# >
# > **优势：**
# >
# > 1. **优化计算资源：** 联合优化策略可以显著降低模型参数量和计算复杂度，从而减少计算资源和存储资源消耗。
# > 2. **提高模型性能：** 通过联合优化剪枝和量化参数，可以在保证模型性能的同时，提高模型精度和推理速度。
# > 3. **适应不同应用场景：** 联合优化策略可以针对不同应用场景，调整剪枝和量化力度，实现最优的模型性能和计算效率。
# >
# > **解析：** 剪枝与量化的联合优化策略是一种有效的深度学习模型优化方法。通过优化剪枝和量化参数，可以提高模型性能和计算效率，适用于多种应用场景。
#
# **Translation.** *Briefly introduce joint pruning + quantization optimisation and its
# advantages.* Combining pruning and quantization "by optimising pruning and quantization
# parameters" to improve performance and efficiency. A common strategy, "joint pruning and
# quantization-aware training": initial stage — train at full precision; pruning stage — prune
# the structure according to performance and resource needs; quantization stage — quantize the
# pruned model, tuning quantization parameters; iterate — adjust pruning and quantization
# parameters until the target is reached. Advantages: (1) significantly fewer **parameters** and
# lower complexity; (2) **higher model accuracy** and inference speed "while guaranteeing
# performance"; (3) adapts to different scenarios. *Analysis:* an effective method for many
# scenarios.
#
# ### A corrected answer
#
# The reference pipeline is **Deep Compression** (Han et al. 2016): prune small weights (Han et al.
# 2015) → **retrain with the mask** to recover accuracy → **quantize the surviving weights** by
# k-means weight sharing (fine-tuning the shared centroids with the summed gradients) → Huffman-
# code the indices and codes. On LeNet-300-100 this gave 40× (1070 KB → 27 KB) with no accuracy
# loss; AlexNet 35×, VGG-16 49×. Conditions that make the stages compose:
#
# * **Order**: prune on float magnitudes first, fine-tune, then quantize: the quantization grid /
#   codebook is then fitted to the weights that are kept.
# * **Zero must stay exactly zero**: cluster only the survivors (k-means), or use a quantizer
#   whose grid contains 0 exactly (symmetric, or affine with an integer zero-point — Jacob et al.
#   2018). Otherwise the pruned zeros come back as small non-zeros and the sparsity is lost.
# * **Size = values + positions**: a sparse format stores indices; at $b$-bit values the index
#   overhead is relatively larger, so the break-even sparsity rises (CSR: $s > i/(b+i)$). Deep
#   Compression uses short relative indices (5 bits for FC layers, 8 for conv) with filler zeros.
# * **Speed** is a separate question: unstructured sparse + k-means weights need special hardware
#   (EIE, Han et al. 2016) to be fast; general hardware gains mostly from structured pruning and
#   int8 kernels (notebooks 05 and 07).
#
# Variants: quantization-aware training with a fixed pruning mask; joint search of per-layer
# sparsity and bit-width (e.g. automated mixed-precision + pruning search).
#
# ### What the document gets wrong or leaves out
#
# 1. No concrete algorithm: "根据模型性能和计算资源需求…剪枝/量化" never says *what* is pruned,
#    by which criterion, nor how the quantizer is built; the standard pipeline (Deep Compression)
#    is not named.
# 2. No fine-tuning between pruning and quantization — the step that recovers the accuracy
#    (measured below: the order matters).
# 3. Nothing about keeping the pruned weights at zero during quantization (zero-point /
#    clustering only survivors) — a naive quantizer destroys the sparsity (measured below).
# 4. "显著降低模型参数量" again: quantization does not reduce the parameter count; pruning
#    reduces only the *non-zero* count, and the saving materialises only with a sparse format
#    whose index cost is counted.
# 5. "提高模型性能/精度" — compression trades accuracy for size; it does not raise accuracy.
# 6. "推理速度" unconditional — sparse, k-means-coded weights are not faster on general hardware.
# 7. Titled "联合剪枝与量化感知训练" but describes sequential post-hoc stages; no QAT appears.
# 8. No size accounting at all (values bits + index bits + codebook), so no compression ratio
#    can be stated.
#
# ### Every setting, computed once
#
# All measurements below and the slider at the end look up one table: the MLP pruned at each
# sparsity of `J.SPARSITIES` (printed below), with and without 10 epochs of mask-enforced
# fine-tuning, then quantized at 2 … 8 bits by k-means and by linear quantization, evaluated and
# sized. The next cell computes it (several seconds on two cores, with a progress bar) and caches
# it on disk (`pruninglab.cache`), so a second run loads it in a fraction of a second; the cell
# after it checks what was computed.

# %% tags=["nbval-ignore-output"]
n_settings = J.precompute_joint(progress=True)

# %%
print(f"{n_settings} settings (sparsity × bits × quantizer × fine-tuning) computed; sparsities:",
      ", ".join(f"{s:g}" for s in J.SPARSITIES))
claim(n_settings == len(J.SPARSITIES) * 7 * 2 * 2, "one setting per sparsity, bits 2–8, quantizer, fine-tuning")

# %% [markdown]
# ### Measurement 1: does the quantizer keep the pruned zeros?
#
# The MLP pruned to 90 % and fine-tuned, then quantized at 4 bits in four ways:

# %%
zp = J.zero_preservation(0.9, 4)
print(f"pruned weights: {zp['pruned']:,}")
for name, r in zp["quantizers"].items():
    print(f"{name:>26}: still zero {r['still_zero']:6,} / {r['pruned']:,}, sparsity after "
          f"{100 * r['sparsity_after']:5.1f}%, val acc {100 * r['val_accuracy']:.2f}%")
print("k-means over ALL weights, zeros still zero by bits:", zp["kmeans_all_still_zero_by_bits"])

# %%
q = zp["quantizers"]
claim(q["naive min-max"]["sparsity_after"] == 0.0, "the naive min-max grid leaves no zero")
claim(max(zp["kmeans_all_still_zero_by_bits"].values()) < 0.05 * zp["pruned"],
      "k-means over all weights keeps only a small fraction of the zeros at every bit-width")
claim(all(q[k]["still_zero"] == zp["pruned"] for k in ("symmetric linear (Z=0)", "k-means over survivors")),
      "both correct quantizers keep every pruned zero")
md("The naive min-max grid (real-valued offset) maps every zero to a non-zero level: sparsity "
   "**{s0:.0%}**, and storage in any sparse format becomes impossible. k-means over *all* weights "
   "merges the zeros with small surviving weights into a non-zero centroid: at most **{kz:.1%}** of "
   "the zeros survive at the bit-widths printed (only where a centroid happens to hold nothing but "
   "zeros). Both correct quantizers keep every pruned zero; the linear one adds a few "
   "({extra:,}: survivors that round to 0, sparsity {sl:.2%}).",
   s0=q["naive min-max"]["sparsity_after"],
   kz=max(zp["kmeans_all_still_zero_by_bits"].values()) / zp["pruned"],
   extra=round(q["symmetric linear (Z=0)"]["sparsity_after"] * sum(getattr(ref, n).weight.numel() for n in ("fc1", "fc2", "fc3"))) - zp["pruned"],
   sl=q["symmetric linear (Z=0)"]["sparsity_after"])
#
# ### Measurement 2: order matters

# %%
oe = J.order_experiment(0.9, 3)
for name, acc in oe["accuracy"].items():
    print(f"{name:>30}: val acc {100 * acc:.2f}%")
print(f"after 'quantize → prune → fine-tune' the layers hold up to {oe['distinct_after_last']:,} "
      f"distinct values: no longer a {oe['codebook_size']}-entry codebook")

# %%
a = oe["accuracy"]
claim(a["prune → fine-tune → quantize"] > max(a["prune → quantize"], a["quantize → prune"]) + 0.05,
      "fine-tuning between pruning and quantization recovers the accuracy")
claim(oe["distinct_after_last"] > oe["codebook_size"], "fine-tuning last leaves the codebook")
md("Fine-tuning *between* pruning and quantization is what recovers the accuracy: **{a:.1%}** against "
   "**{b:.1%}** without it and **{c:.1%}** when quantizing first. Quantizing first and fine-tuning last "
   "gives good accuracy ({d:.1%}) only because the fine-tuning undoes the quantization — the layers "
   "end with up to {n:,} distinct values instead of {k} — so the model would have to be quantized again.",
   a=a["prune → fine-tune → quantize"], b=a["prune → quantize"], c=a["quantize → prune"],
   d=a["quantize → prune → fine-tune"], n=oe["distinct_after_last"], k=oe["codebook_size"])

# %% [markdown]
# ### Measurement 3: a grid of sparsity × bits (k-means on survivors, after fine-tuning)
#
# Size = the smallest of dense / bitmask / CSR (16-bit column indices, 32-bit row pointers) /
# relative (5-bit gaps) for the codes, plus the codebook and the fp32 biases; ratio = fp32 dense
# bytes / that size. **Counted honestly:** k-means on the survivors gives up to $2^b$ non-zero shared
# values *and* the zeros. A format that stores the zeros as codes needs $2^b + 1$ levels, i.e.
# $b + 1$ bits per code — dense always (a "$b$-bit dense codebook" of a pruned layer is not
# realizable), relative whenever it stores filler zeros; bitmask and CSR store only the non-zeros
# and need $b$ bits. The codebook holds the non-zero values (fp32 each).

# %%
grid = J.joint_grid(sparsities=(0.0, 0.5, 0.8, 0.9, 0.95), bits=(2, 4, 8))
print("val accuracy (%) | compression ratio | best format")
print(f"{'sparsity':>8} " + " ".join(f"{b:>2}-bit{'':18}" for b in grid["bits"]))
for i, s in enumerate(grid["sparsities"]):
    cells = [f"{100 * a:5.1f}% {r:5.1f}× {f:>8}" for a, r, f in
             zip(grid["acc"][i], grid["ratio"][i], grid["format"][i])]
    print(f"{s:8.2f} " + "  ".join(cells))

# %%
fig, ax = plt.subplots()
for j, b in enumerate(grid["bits"]):
    xs = [grid["ratio"][i][j] for i in range(len(grid["sparsities"]))]
    ys = [100 * grid["acc"][i][j] for i in range(len(grid["sparsities"]))]
    line, = ax.plot(xs, ys, "o-", label=f"{b}-bit k-means")
    for x, y, sp in zip(xs, ys, grid["sparsities"]):       # each point's setting, on the point
        ax.annotate(f"{sp:g}", (x, y), xytext=(3, 3 if j % 2 == 0 else -10), textcoords="offset points",
                    fontsize=7, color=line.get_color())
ax.axhline(100 * accuracy(ref, val), color="0.5", ls="--", label="fp32 reference")
ax.set(xlabel="compression ratio vs fp32 dense (×)", ylabel="val accuracy (%)",
       title="prune → fine-tune → quantize (point labels: sparsity)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### Your turn · the exact Deep Compression size of a pruned + shared layer
#
# Scan the layer row-major. Every non-zero stores a code and the distance `d` to the previous
# stored entry in `index_bits` bits (the first counts from position −1; `d ≤ 2^index_bits`); a
# longer gap needs `ceil(d / 2^index_bits) − 1` **filler** entries holding 0. The codes must tell
# apart the `k` distinct non-zero shared values **and 0 if a filler exists** — with zeros excluded
# from k-means at `b` bits that is `2^b + 1` levels, one bit more than `b`:
#
# $$\text{bits} = (\text{nnz} + \text{fillers})\,(\lceil\log_2 \text{levels}\rceil + \text{index\_bits}) + k\cdot \text{codebook\_bits}.$$

# %% tags=["answer:deep_compression_bits"]
import math
import numpy as np

def deep_compression_bits(weights, index_bits, codebook_bits):
    ### BEGIN SOLUTION
    flat = weights.reshape(-1)
    pos = np.flatnonzero(flat)                                # positions of the non-zeros
    k = len(np.unique(flat[pos]))                             # shared (non-zero) values
    span = 2 ** index_bits
    gaps = np.diff(np.concatenate([[-1], pos]))               # distance to the previous entry
    fillers = int(np.sum((gaps + span - 1) // span - 1))      # zeros that bridge long gaps
    levels = k + (1 if fillers > 0 else 0)                    # fillers need a code for 0
    code_bits = max(1, math.ceil(math.log2(levels))) if levels else 0
    return int((len(pos) + fillers) * (code_bits + index_bits) + k * codebook_bits)
    ### END SOLUTION

# %% tags=["check:deep_compression_bits"]
from pruninglab.grading import check, solution
check("deep_compression_bits", deep_compression_bits)

# %% tags=["nbval-ignore-output"]
from pruninglab.labs.learner import ready, predict, reveal
predict("q-dc-bits", "90 % sparse, 4-bit k-means on the survivors, 5-bit gaps: how many bits per code "
        "does the fc2 layer need?", choices=["3", "4", "5"])

# %%
from pruninglab.claims import md
if ready("deep_compression_bits", deep_compression_bits):
    dc = J.deep_compression_report(deep_compression_bits, 0.9, 4, 5)
    for n, v in dc["layers"].items():
        print(f"{n}: {v['nnz']:,} non-zeros, {v['levels']} shared values -> yours {v['yours_bits']:,} bits; "
              f"with 4-bit codes (no code for the filler zero) {v['b_bit_codes_bits']:,} bits")
    lv = dc["layers"]["fc2"]["levels"]
    reveal("q-dc-bits", math.ceil(math.log2(lv + 1)))
    display(md("Counted correctly the three layers need {y:,} bits ({yb:,.0f} B), "
               "{d:+.1%} against the {b}-bit-code count that has no code for the filler zero.",
               y=dc["yours_total_bits"], yb=dc["yours_total_bits"] / 8, b=dc["bits"],
               d=dc["yours_total_bits"] / dc["b_bit_total_bits"] - 1))

# %% [markdown]
# ### Comparison with Han et al. (2016) — honestly
#
# Deep Compression reports for LeNet-300-100 on MNIST (their Table 1; prune + k-means + Huffman):

# %%
h = J.HAN2016_LENET
print(f"Han et al. 2016, {h['model']}: {h['fp32_kb']} KB → {h['compressed_kb']} KB ({h['ratio']}×), "
      f"top-1 error {h['error_before']}% → {h['error_after']}%")
best = max((r for s in (0.8, 0.9, 0.95) for b in (2, 4) for r in [J.compute_joint(s, b, "kmeans")]
            if r["val_accuracy"] >= accuracy(ref, val) - 0.01), key=lambda r: r["compression"])
print(f"this MLP, best setting within 1 point of the reference: sparsity {best['sparsity']}, "
      f"{best['bits']}-bit k-means, {best['fp32_bytes']:,} B → {best['best_bytes']:,} B "
      f"({best['compression']:.1f}×), val acc {100 * best['val_accuracy']:.2f}%")

# %% [markdown]
# %%
n_w = sum(getattr(ref, n).weight.numel() for n in ("fc1", "fc2", "fc3"))
n_train = len(load_digits("train").y)
claim(45_000 <= n_w <= 55_000 and 1_000 <= n_train <= 1_200, "about 50 K weights and ~1,080 training images")
md("The two are not directly comparable: LeNet-300-100 has 267 K weights (ours: **{w:,}**), MNIST has "
   "60,000 training images (the digits: **{t:,}**), Han et al. retrain much longer, fine-tune the "
   "centroids, and add Huffman coding (which, by their account, saves a further 20–30 % of storage). "
   "What does carry over: the ratio comes from *both* stages, and the index bits matter as much as the "
   "value bits once the values are 2–4 bits wide.", w=n_w, t=n_train)

# %% [markdown]
# ### Slider: sparsity × bits
#
# A normal call first (validated), then the interactive version. Every setting of the slider was
# computed in the table at the top of the notebook (the sparsity slider's positions *are* the
# table's sparsities), so moving the sliders only looks results up and redraws.

# %%
r = J.compute_joint(0.9, 4, "kmeans")
print(f"90% + 4-bit k-means: val acc {100 * r['val_accuracy']:.2f}%, sizes {r['bytes']}, "
      f"best {r['best_format']} {r['best_bytes']:,} B ({r['compression']:.1f}×)")
r = J.compute_joint(0.9, 4, "linear")
print(f"90% + 4-bit linear:  val acc {100 * r['val_accuracy']:.2f}%, sizes {r['bytes']}, "
      f"best {r['best_format']} {r['best_bytes']:,} B ({r['compression']:.1f}×)")

# %% tags=["nbval-ignore-output"]
predict("q06-no-ft", "90 % sparsity, 4-bit k-means: how many points of validation accuracy does switching "
        "`fine-tune` off cost?", choices=["< 1", "1-10", "10-30", "> 30"])

# %% tags=["nbval-ignore-output"]
slider_ui(J.compute_joint, J.live_joint(),
          sparsity=grid_slider(J.SPARSITIES, 0.9, "sparsity"),
          bits=bits_slider(4, 2, 8),
          method=dropdown(["kmeans", "linear"], description="quantizer"),
          fine_tune=dropdown([True, False], description="fine-tune"))

# %%
loss = 100 * (J.compute_joint(0.9, 4)["val_accuracy"] - J.compute_joint(0.9, 4, fine_tune=False)["val_accuracy"])
_ = reveal("q06-no-ft", f"{loss:.1f} points ({'< 1' if loss < 1 else '1-10' if loss < 10 else '10-30' if loss < 30 else '> 30'})")

# %% [markdown]
# ## Check yourself
#
# Write your answer to each question first (on paper or in a cell of your own), then open its
# collapsed answer.
#
# 1. Why must pruning come before quantization in Deep Compression, and what goes in between?
#
# <details><summary>Answer</summary>
#
# Pruning decides which weights exist; fine-tuning with the mask recovers the accuracy; the
# quantizer (k-means codebook) is then fitted only to the surviving, fine-tuned weights.
# Quantizing first fits the grid to weights that are later removed, and fine-tuning afterwards
# moves the weights off the grid.
#
# </details>
#
# 2. A pruned layer is quantized with $\hat r = r_{min} + S\,\mathrm{round}((r - r_{min})/S)$. What
# happens to its zeros, and how do Jacob et al. (2018) avoid it?
#
# <details><summary>Answer</summary>
#
# 0 is generally not on the grid, so every zero becomes a small non-zero value and the sparsity
# is lost. Jacob et al. use an integer zero-point $Z$ so that the real value 0 is exactly the code
# $Z$ (and symmetric quantization has $Z = 0$).
#
# </details>
#
# 3. At 4-bit values, why does CSR with 16-bit indices need a higher sparsity to pay off than at
# 32-bit values?
#
# <details><summary>Answer</summary>
#
# Each kept value costs $b + i$ bits instead of $b$: the break-even density is about $b/(b+i)$,
# i.e. 4/20 = 20 % (sparsity > 80 %) at 4 bits versus 32/48 ≈ 67 % (sparsity > 33 %) at 32 bits.
#
# </details>
#
# 4. Does a 40× compressed (pruned + k-means) model run 40× faster on a CPU?
#
# <details><summary>Answer</summary>
#
# No. The unstructured sparsity and codebook lookups need special kernels or hardware (EIE);
# on general hardware the gain is memory and energy, not speed (see notebook 07).
#
# </details>
