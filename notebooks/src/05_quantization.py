# %% [markdown]
# # 05 · Quantization: integer codes, scales, zero-points — and what they buy in hardware
#
# Quantization stores (and ideally computes with) numbers in fewer bits. The interview documents
# describe it vaguely and implement it wrongly: their "low-bit quantization" code produces no
# integers at all. This notebook builds the real thing step by step on the reference MLP:
#
# * **linear (uniform) quantization** (Jacob et al. 2018): $q = \mathrm{clamp}(\mathrm{round}(r/S) + Z,\ q_{min}, q_{max})$,
#   $\hat r = S\,(q - Z)$, with a **scale** $S$ and an integer **zero-point** $Z$;
#   *symmetric*: $S = \max|r| / (2^{b-1}-1)$, $Z = 0$; *affine*: $S = (r_{max}-r_{min})/(q_{max}-q_{min})$,
#   $Z = \mathrm{round}(q_{min} - r_{min}/S)$; rounding error $\le S/2$ inside the range;
# * **per-tensor vs per-channel** scales;
# * **post-training quantization (PTQ)** vs **quantization-aware training (QAT)** with fake
#   quantization and the straight-through estimator (STE; Bengio et al. 2013, used by Jacob et al. 2018);
# * **k-means weight sharing** (Han et al. 2016): a small codebook of $k = 2^b$ shared values
#   and a $b$-bit index per weight;
# * and what the bits buy: weight bytes, energy per inference (Horowitz 2014), and measured int8
#   latency on this CPU.
#
# In this notebook only the **weights** are quantized (activations stay float32) unless stated
# otherwise, so that the effect of each weight scheme is isolated.

# %%
from pruninglab.utils import notebook_setup
notebook_setup()

import copy
import numpy as np
import torch
import matplotlib.pyplot as plt

from pruninglab.data import load_digits
from pruninglab.models import load_reference
from pruninglab.train import accuracy
from pruninglab.ui import slider_ui, bits_slider, dropdown
from pruninglab.quantization import quantize
from pruninglab.labs import quantization as LQ

plt.rcParams["figure.dpi"] = plt.rcParams["savefig.dpi"] = 120   # sharp on HiDPI screens

val = load_digits("val")
ref = load_reference("mlp")
print(f"reference MLP: val accuracy {100 * accuracy(ref, val):.2f}%, "
      f"{sum(p.numel() for p in ref.parameters()):,} parameters")

# %% [markdown] tags=["seed:S3-Q2"]
# ## S3-Q2 · Quantization: overview and common algorithms (document 003, question 2) · 量化概述与常见算法
#
# > **题目：** 量化技术是什么？请列举几种常见的量化算法，并简要介绍它们的特点。
# >
# > **答案：** 量化技术是将神经网络模型的参数和激活值从高精度转换为低精度表示的一种技术，以减少模型的存储和计算资源消耗。以下是一些常见的量化算法：
# >
# > 1. **低比特量化（Low-bit Quantization）**：将模型参数和激活值从高精度浮点数转换为低比特整数表示。常见的算法有：二值量化、三值量化、四值量化等。特点：可以显著降低模型参数量和计算复杂度，但对模型性能有一定影响。
# >
# > 2. **渐进量化（Gradual Quantization）**：通过逐步降低参数和激活值的精度，从而实现量化。常见的算法有：基于梯度的渐进量化、基于梯度的量化感知训练等。特点：可以在保证模型性能的前提下，逐步降低精度，降低量化对模型的影响。
# >
# > 3. **权重共享量化（Weight-sharing Quantization）**：通过将同一层的多个参数共享一个量化区间，从而实现量化。常见的算法有：通道共享量化、组共享量化等。特点：可以有效减少量化对模型性能的影响。
# >
# > 4. **量化感知训练（Quantization-aware Training）**：在训练过程中将量化操作引入模型，通过优化量化参数和模型参数，从而实现量化。常见的算法有：量化感知训练、量化感知优化等。特点：可以在保证模型性能的同时，优化量化效果。
# >
# > **解析：** 量化技术是一种有效的降低深度学习模型计算资源消耗的方法。常见的量化算法包括低比特量化、渐进量化、权重共享量化和量化感知训练等。每种算法都有其独特的特点和应用场景。
#
# **Translation.** *What is quantization? List common algorithms and their characteristics.*
# Quantization converts a network's parameters and activations from high to low precision, to
# reduce storage and compute. (1) **Low-bit quantization**: from high-precision floats to low-bit
# integers; "common algorithms: binary, ternary, **four-valued** quantization"; "can
# **significantly reduce the parameter count** and compute complexity", with some accuracy impact.
# (2) **Gradual quantization**: lower the precision step by step; "gradient-based gradual
# quantization, gradient-based quantization-aware training"; keeps accuracy. (3) **Weight-sharing
# quantization**: "several parameters of the same layer share one quantization *interval*";
# "channel-shared quantization, group-shared quantization"; reduces the accuracy impact.
# (4) **Quantization-aware training**: introduce quantization into training, optimising quantization
# parameters and model parameters; "common algorithms: quantization-aware training,
# quantization-aware optimisation". *Analysis:* each has its own features and use cases.
#
# ### A corrected answer
#
# Quantization maps real values $r$ to a small set of representable values. The standard is
# **linear (uniform) quantization** to $b$-bit integers, $r \approx S\,(q - Z)$ (Jacob et al. 2018):
# weights and activations become int8 (bias int32 with $S_{bias} = S_w S_x$), the matrix multiply
# runs on integers and is rescaled once per output. Design choices:
#
# * **Symmetric** ($Z = 0$, good for weights centred on 0) vs **affine/asymmetric** ($Z \neq 0$,
#   good for post-ReLU activations $\ge 0$). Zero is always exactly representable — needed for
#   padding and for pruned weights.
# * **Granularity**: one scale per tensor, per output **channel** (standard for weights: channels
#   have very different ranges), or per group/block. This is what "通道/组共享" really
#   refers to — *scale* granularity, not weight sharing.
# * **When**: **PTQ** — quantize a trained model, calibrating activation ranges on a few batches;
#   **QAT** — insert fake quantization $\hat r = S(\mathrm{clamp}(\mathrm{round}(r/S)+Z) - Z)$ in the
#   forward pass and pass gradients through the rounding unchanged (straight-through estimator),
#   so the weights adapt to the grid; needed at low bit-widths.
# * **Non-uniform / weight sharing**: **k-means** clusters the weights into $k = 2^b$ centroids
#   (Han et al. 2016, *Deep Compression*); only a $b$-bit index per weight and a codebook are
#   stored; the arithmetic still uses the (float) centroids, so it saves memory, not multiplier
#   energy.
# * **Extreme low-bit**: binary weights $\{-\alpha, +\alpha\}$ (BinaryConnect, Courbariaux et al. 2015; BNN, Courbariaux/Hubara et
#   al. 2016; XNOR-Net, Rastegari et al. 2016, with a per-filter scale $\alpha$), ternary
#   $\{-\alpha, 0, +\alpha\}$ (TWN, Li et al. 2016). These need training with STE.
# * **Mixed precision**: different bit-widths per layer, chosen by sensitivity (e.g. HAQ, Wang et
#   al. 2019).
#
# Quantization never changes the **number** of parameters: it changes the **bits per parameter**.
#
# ### What the document gets wrong or leaves out
#
# 1. "显著降低模型参数量" — wrong: the parameter count is unchanged; bits per parameter fall
#    (shown below: same count, 4× fewer bytes at int8).
# 2. "四值量化" listed as a standard algorithm next to binary/ternary — 4 levels is just 2-bit
#    quantization, not a named method; the actual methods (BinaryConnect, XNOR-Net, TWN) are not
#    named.
# 3. "渐进量化" with "基于梯度的量化感知训练" as its example — conflates gradual precision
#    reduction with QAT; gradual methods exist (e.g. incremental network quantization, Zhou et al.
#    2017) but are not the mainstream, and "保证模型性能" is not guaranteed.
# 4. "权重共享量化 … 通道共享、组共享" — confuses **weight sharing** (k-means codebook, Han et
#    al. 2016) with **scale granularity** (per-channel / per-group scales).
# 5. QAT is described circularly ("常见的算法有：量化感知训练、量化感知优化"); the key mechanisms —
#    fake quantization and the straight-through estimator — are missing.
# 6. The core formulas (scale, zero-point, rounding, clamping) and the symmetric/affine and
#    PTQ/QAT distinctions are absent; so are calibration of activation ranges and int32
#    accumulation.
# 7. Claims lower compute complexity unconditionally: fake/"weight-only" quantization with float
#    arithmetic saves memory but not compute; speedups need integer kernels (S3-Q4b).
#
# ### Measurement: same parameter count, fewer bits
#
# `LQ.quantize_report` quantizes every weight matrix of the MLP (symmetric, per-channel, 8 bits)
# with the library's linear quantizer used throughout this notebook (`pruninglab.quantization.quantize`:
# integer codes, scale,
# zero-point) and counts parameters, distinct values and bytes.

# %%
rep = LQ.quantize_report(bits=8)
print(f"parameters: float32 model {rep['params_fp32']:,}  →  quantized model {rep['params_quant']:,}")
print(f"integer code dtype: {rep['code_dtype']}, code range [{rep['code_min']}, {rep['code_max']}]")
print(f"distinct values in fc2.weight: float32 {rep['distinct_fp32']:,} → int8 codes {rep['distinct_quant']}")
print(f"weight bytes: float32 {rep['weight_bytes_fp32']:,} → int8 {rep['weight_bytes_quant']:,} "
      f"+ scales {rep['scale_bytes']:,} bytes")
print(f"val accuracy: float32 {100 * rep['acc_fp32']:.2f}% → int8 weights {100 * rep['acc_quant']:.2f}%")

# %% [markdown]
# ### Binary and ternary weights (XNOR-Net, TWN) without retraining
#
# A 1-bit weight $\alpha\,\mathrm{sign}(w)$ with the XNOR-Net scale $\alpha = \mathrm{mean}|w|$ per
# output channel, and TWN's ternary $\{-\alpha, 0, +\alpha\}$ with threshold $\Delta = 0.7\,\mathrm{mean}|w|$.
# Applied post-training (no retraining) they cost accuracy — binary far more than ternary, whose
# zero level absorbs the many small weights. In the papers these weights are *trained* with the
# STE, which is what makes them usable on large networks.

# %%
bt = LQ.binary_ternary_report()
for name, r in bt.items():
    print(f"{name:>8}: val accuracy {100 * r['val_accuracy']:.2f}%, distinct values per channel "
          f"≤ {r['levels']}, weight bits {r['weight_bits']:,}")
from pruninglab.claims import md, claim
claim(bt["binary"]["val_accuracy"] + 0.05 < bt["ternary"]["val_accuracy"] < accuracy(ref, val),
      "post-training binary and ternary weights cost accuracy, binary far more")

# %% [markdown] tags=["seed:S3-C2"]
# ## S3-C2 · Coding exercise: "low-bit quantization" (`low_bit_quantization`, document 003)
#
# > 2. **算法编程题 2：** 编写一个基于低比特量化的算法，对给定的神经网络模型进行量化，并输出量化后的模型。
# >
# > **输入：**
# >
# > - 神经网络模型（包含权重和偏置）；
# > - 量化精度（表示量化后的比特数）。
# >
# > **输出：**
# >
# > - 量化后的神经网络模型。
# >
# > **答案：**
#
# **Translation.** *Programming exercise 2: write a low-bit quantization algorithm that
# quantizes a given network and outputs the quantized model. Input: the model (weights and
# biases); the quantization precision (number of bits after quantization). Output: the quantized
# model.* The document's code, verbatim:

# %% tags=["seed-code:S3-C2"]
import numpy as np

def low_bit_quantization(model, precision):
    quantized_model = {}
    for layer, params in model.items():
        weights, biases = params['weights'], params['biases']
        quantized_weights = np.sign(weights) * (np.abs(weights) / (2 ** (precision - 1)))
        quantized_model[layer] = {'weights': quantized_weights, 'biases': biases}
    return quantized_model

# %% [markdown]
# The document's explanation:
#
# > **解析：** 该算法使用低比特量化方法，将权重和偏置转换为低比特整数表示。输出量化后的模型。
#
# *"The algorithm uses low-bit quantization to convert the weights **and biases** to a
# **low-bit integer** representation."* Let us check every part of that sentence. We run the
# verbatim function on the reference MLP, converted to the document's dict format.

# %%
def to_doc_format(model):
    return {name: {"weights": m.weight.detach().numpy().astype(np.float64),
                   "biases": m.bias.detach().numpy().astype(np.float64)}
            for name, m in (("fc1", model.fc1), ("fc2", model.fc2), ("fc3", model.fc3))}

doc_model = to_doc_format(ref)
out = low_bit_quantization(doc_model, 8)
w_in, w_out = doc_model["fc2"]["weights"], out["fc2"]["weights"]
print("input  fc2:", w_in.dtype, w_in.shape, "distinct values:", np.unique(w_in).size)
print("output fc2:", w_out.dtype, w_out.shape, "distinct values:", np.unique(w_out).size)

# %% [markdown]
# **Defect 1 — no rounding, so nothing is quantized.** A $b$-bit quantizer can output at most
# $2^b$ distinct values. The output has exactly as many distinct values as the input.

# %%
print(f"8-bit quantizer may output at most {2 ** 8} distinct values; the document's output has "
      f"{np.unique(w_out).size:,} (input: {np.unique(w_in).size:,})")
print("is the output just the input divided by 2**7?", np.array_equal(w_out, w_in / 2 ** 7))

# %% [markdown]
# **Defect 2 — no integers and no memory saved.** The result is still float64 (float32 input
# stays float32): the bytes are identical. "低比特整数表示" is false.

# %%
print("dtype:", w_out.dtype, "| is integer:", np.issubdtype(w_out.dtype, np.integer))
print("bytes before:", w_in.nbytes, "after:", w_out.nbytes)
print("any non-integer value?", bool(np.any(w_out != np.round(w_out))))

# %% [markdown]
# **Defect 3 — `np.sign(w) * np.abs(w)` is just `w`.** The sign/abs construction is a no-op, so
# the whole "quantizer" is a division by the constant $2^{p-1}$.

# %%
print("sign(w)*|w| == w exactly:", np.array_equal(np.sign(w_in) * np.abs(w_in), w_in))

# %% [markdown]
# **Defect 4 — no range, no clipping, no scale.** A real $b$-bit code lies in
# $[-2^{b-1}, 2^{b-1}-1]$ and comes with a scale $S$ to map it back. Here the values stay tiny
# floats and no scale is returned, so there is nothing to dequantize with.

# %%
lo, hi = -2 ** 7, 2 ** 7 - 1
print(f"int8 range [{lo}, {hi}]; output range [{w_out.min():.6f}, {w_out.max():.6f}]")
print("keys of a quantized layer:", sorted(out["fc2"]), "(no scale, no zero-point)")

# %% [markdown]
# **Defect 5 — more bits, more damage; the network's function changes.** Dividing every weight
# by $2^{p-1}$ while keeping the biases changes what the network computes, and the larger the
# "precision", the larger the distortion — the opposite of what a bit-width should do. Load the
# output back into the MLP and evaluate:

# %%
def from_doc_format(d):
    m = copy.deepcopy(ref)
    with torch.no_grad():
        for name in ("fc1", "fc2", "fc3"):
            layer = getattr(m, name)
            layer.weight.copy_(torch.from_numpy(d[name]["weights"]))
            layer.bias.copy_(torch.from_numpy(d[name]["biases"]))
    return m

doc_acc = {}
for p in (1, 2, 4, 8, 16):
    doc_acc[p] = acc = accuracy(from_doc_format(low_bit_quantization(doc_model, p)), val)
    print(f"precision={p:2d}: weights divided by {2 ** (p - 1):6d}, val accuracy {100 * acc:.2f}%")
claim(doc_acc[2] >= doc_acc[4] >= doc_acc[8] >= doc_acc[16] and doc_acc[16] < 0.2,
      "more 'precision' bits, more damage")

# %% [markdown]
# **Defect 6 — `precision=1` returns the weights unchanged.** A "1-bit" model that is identical
# to the float model: $2^{0} = 1$.

# %%
same = low_bit_quantization(doc_model, 1)
print("1-bit output identical to input:",
      all(np.array_equal(same[k]["weights"], doc_model[k]["weights"]) for k in doc_model))

# %% [markdown]
# **Defect 7 — `precision` is not validated.** 0, negative or fractional bit-widths run silently
# and *multiply* the weights.

# %%
for p in (0, -3, 2.5):
    o = low_bit_quantization(doc_model, p)
    ratio = o["fc1"]["weights"][0, 0] / doc_model["fc1"]["weights"][0, 0]
    print(f"precision={p}: no error; weights scaled by {ratio:g}")

# %% [markdown]
# **Defect 8 — the biases are not touched, although the explanation says they are converted.**

# %%
print("biases identical objects:", out["fc2"]["biases"] is doc_model["fc2"]["biases"])
print("bias dtype:", out["fc2"]["biases"].dtype)

# %% [markdown]
# **Defect 9 — only weights, never activations**, although question 2's own definition says
# quantization converts "参数和激活值" (parameters and activations); integer inference needs both
# (Jacob et al. 2018). (Not a crash; nothing in the code touches activations.)
#
# **Count: 9 defects** — no rounding (1), no integer type / no memory saving (2), identity
# sign·abs (3), no range/clipping/scale (4), distortion grows with bits and the function changes
# (5), 1 bit = unchanged (6), unvalidated precision (7), biases untouched contrary to the 解析
# (8), activations ignored (9). (The function at least does not mutate its input.)
#
# ### The corrected implementation
#
# `pruninglab.quantization.quantize` returns a `QuantizedTensor`: integer codes plus scale and
# zero-point (formulas at the top of this notebook; scales are kept in float64, one per row when
# per-channel); `.dequantize()` gives `S·(q − Z)`. On a tiny tensor:

# %%
w = torch.tensor([[-1.00, -0.30, 0.00, 0.20, 0.90],
                  [ 0.05, -0.02, 0.01, 0.00, 0.04]])
for scheme in ("symmetric", "affine"):
    for per_channel in (False, True):
        r = quantize(w, bits=4, scheme=scheme, per_channel=per_channel)
        deq = r.dequantize()
        print(f"--- 4-bit {scheme}, {'per-channel' if per_channel else 'per-tensor'}")
        print("codes:", r.codes.tolist(), "dtype", r.codes.dtype)
        print("scale:", [round(float(v), 6) for v in torch.as_tensor(r.scale).flatten()],
              "zero-point:", torch.as_tensor(r.zero_point).flatten().tolist())
        print("dequantized:", deq)
        print("zero stays exactly zero:", bool((deq[w == 0] == 0).all()))

# %% [markdown]
# ## Your turn: write the quantizers yourself
#
# Each exercise below: the formula, a function for you to write (the answer cell), a graded
# `check(...)` on tiny tensors with exact answers (plus hidden random cases), then the notebook's
# experiment runs **your** function on the reference MLP. Predict the result before you run it.
# `solution("id")` shows the reference after an attempt.

# %%
from pruninglab.grading import check, solution
from pruninglab.labs.learner import ready, predict, reveal

# %% [markdown]
# ### Exercise 1 · Affine quantization with a zero-point (8 points)
#
# With $b$ bits the codes are $0 \dots 2^b - 1$. Widen the range to include 0:
# $r_{min} = \min(\min r, 0)$, $r_{max} = \max(\max r, 0)$; then
# $S = (r_{max} - r_{min}) / (2^b - 1)$ (an all-zero tensor: $S = 1$),
# $Z = \mathrm{clip}(\mathrm{round}(-r_{min}/S), 0, 2^b-1)$ (an **integer**), and
# $q = \mathrm{clip}(\mathrm{round}(r/S) + Z,\ 0,\ 2^b - 1)$. Dequantize: $\hat r = S\,(q - Z)$, so
# $r = 0$ gives exactly $S(Z - Z) = 0$. Raise `ValueError` for `bits < 1`.
# Return `(codes as an integer array, scale, zero_point)`.

# %% tags=["answer:affine_quantize"]
def affine_quantize(r, bits):
    """(codes, scale, zero_point) of b-bit affine quantization; 0 is exactly representable."""
    ### BEGIN SOLUTION
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError("bits must be an int")
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be in 1..16, got {bits}")
    r = np.asarray(r, dtype=np.float64)
    qmax = 2 ** bits - 1
    lo, hi = min(float(r.min()), 0.0), max(float(r.max()), 0.0)
    scale = (hi - lo) / qmax or 1.0
    zero_point = int(np.clip(np.rint(-lo / scale), 0, qmax))
    codes = np.clip(np.rint(r / scale) + zero_point, 0, qmax).astype(np.int32)
    return codes, scale, zero_point
    ### END SOLUTION

# %% tags=["check:affine_quantize"]
check("affine_quantize", affine_quantize)

# %% [markdown]
# **Experiment: your quantizer on the MLP.** Every weight matrix is replaced by
# $S(q - Z)$ from *your* `affine_quantize` (one scale per tensor), for 2 … 8 bits.

# %% tags=["nbval-ignore-output"]
predict("q05-affine-bits", "From how many bits on does per-tensor affine PTQ stay within 1 point "
        "of the float32 validation accuracy?", choices=["2", "3", "4", "6", "8"])

# %%
if ready("affine_quantize", affine_quantize):
    aff = LQ.accuracy_with_quantizer(affine_quantize, "affine")
    fp32_acc = accuracy(ref, val)
    for b, a, e in zip(aff["bits"], aff["accuracy"], aff["max_abs_error"]):
        print(f"{b} bits: val accuracy {100 * a:.2f}% (fp32 {100 * fp32_acc:.2f}%), max |w - ŵ| {e:.4f}")
    first_ok = next(b for b, a in zip(aff["bits"], aff["accuracy"]) if a >= fp32_acc - 0.01)
    reveal("q05-affine-bits", first_ok)

# %% [markdown]
# ### Exercise 2 · Per-channel scales (6 points)
#
# Symmetric quantization with one scale per **output channel** (row $c$ of $W$, axis 0):
# $S_c = \max|W_c| / (2^{b-1} - 1)$ (an all-zero row: $S_c = 1$), codes
# $q = \mathrm{clip}(\mathrm{round}(W / S_c), -(2^{b-1}-1), 2^{b-1}-1)$ with $S_c$ broadcast
# along the row. Return `(codes, scales)` with `scales.shape == (W.shape[0],)`.

# %% tags=["answer:per_channel_quantize"]
def per_channel_quantize(w, bits):
    """(codes, scales): symmetric b-bit codes with one scale per output channel (axis 0)."""
    ### BEGIN SOLUTION
    if not 2 <= bits <= 16:
        raise ValueError(f"bits must be in 2..16, got {bits}")
    w = np.asarray(w, dtype=np.float64)
    qmax = 2 ** (bits - 1) - 1
    m = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scales = np.where(m == 0, 1.0, m / qmax)
    codes = np.clip(np.rint(w / scales.reshape((-1,) + (1,) * (w.ndim - 1))), -qmax, qmax)
    return codes.astype(np.int32), scales
    ### END SOLUTION

# %% tags=["check:per_channel_quantize"]
check("per_channel_quantize", per_channel_quantize)

# %% tags=["nbval-ignore-output"]
predict("q05-per-channel", "At 2 bits, is your per-channel symmetric quantizer more accurate than "
        "your per-tensor affine one on this MLP?", choices=["yes", "no", "a tie (within 1 image)"])

# %%
if ready("per_channel_quantize", per_channel_quantize) and ready("affine_quantize", affine_quantize, quiet=True):
    pc = LQ.accuracy_with_quantizer(per_channel_quantize, "per_channel")
    for b, a, a2 in zip(pc["bits"], pc["accuracy"], aff["accuracy"]):
        print(f"{b} bits: per-channel symmetric {100 * a:.2f}%  |  per-tensor affine {100 * a2:.2f}%")
    d2 = pc["accuracy"][0] - aff["accuracy"][0]
    verdict = "a tie (within 1 image)" if abs(d2) * len(val.y) < 1.5 else ("yes" if d2 > 0 else "no")
    reveal("q05-per-channel", verdict)

# %% [markdown]
# Per-channel scales fit small rows better, but symmetric quantization wastes half the grid of
# a skewed row and has one level fewer ($-(2^{b-1}-1) \dots 2^{b-1}-1$): at **2 bits the
# symmetric grid is ternary** $\{-S, 0, +S\}$ (3 levels, the restricted range), while affine
# 2-bit has 4 levels. Which effect wins at 2 bits is what the table above measured.
#
# ### Exercise 3 · An integer-only linear layer (15 points)
#
# Jacob et al. (2018) run a quantized layer with integers only. With symmetric int8 inputs
# ($Z_x = 0$), int8 weights ($Z_w = 0$) and an int32 bias $b_q = \mathrm{round}(b / (S_x S_w))$:
#
# 1. accumulate in int32: $\mathrm{acc} = x_q w_q^{\top} + b_q$ (int8 products overflow int8);
# 2. the real output is $y = S_x S_w\,\mathrm{acc}$, so its code is $y_q = Z_y + M\,\mathrm{acc}$ with
#    $M = S_x S_w / S_y$, $0 < M < 1$;
# 3. $M$ is written as $M = m_0 \cdot 2^{-31-\text{shift}}$ with an **integer** $m_0 \in [2^{30}, 2^{31})$
#    (`mant, exp = math.frexp(M)`; $m_0 = \mathrm{round}(\text{mant}\cdot 2^{31})$, if that reaches
#    $2^{31}$ halve it and add 1 to `exp`; shift $= -$exp) — Jacob et al. eq. (6); gemmlowp does the
#    same with a rounding doubling high multiply;
# 4. requantize with one integer multiply and a **rounding** right shift:
#    $y = (\mathrm{acc}\cdot m_0 + 2^{30+\text{shift}}) \gg (31 + \text{shift})$ (use Python ints or
#    int64), add $Z_y$ and **saturate** to $[-128, 127]$; return int8.
#
# Return `(y_q, m0, shift)`. The answer is exact: no floating point after computing $m_0$.

# %% tags=["answer:integer_requant_linear"]
import math

def integer_requant_linear(x_q, w_q, bias_q, M, z_y):
    """Integer-only linear layer: (y_q int8, m0, shift) with M = m0 * 2**(-31-shift)."""
    ### BEGIN SOLUTION
    acc = x_q.astype(np.int64) @ w_q.astype(np.int64).T + bias_q.astype(np.int64)
    mant, exp = math.frexp(M)
    m0 = int(round(mant * 2 ** 31))
    if m0 == 2 ** 31:
        m0 //= 2
        exp += 1
    shift = -exp
    t = 31 + shift
    y = np.array([(int(a) * m0 + (1 << (t - 1))) >> t for a in acc.ravel()],
                 dtype=np.int64).reshape(acc.shape)
    return np.clip(y + z_y, -128, 127).astype(np.int8), m0, shift
    ### END SOLUTION

# %% tags=["check:integer_requant_linear"]
check("integer_requant_linear", integer_requant_linear)

# %% [markdown]
# **Experiment: the whole MLP in integers, with your layer.** Input, weights and activations are
# symmetric int8 (activation scales calibrated on the *train* split as $\max|\cdot|/127$), biases
# int32, ReLU is `max(y_q, 0)` on the codes; only the final argmax is read.

# %% tags=["nbval-ignore-output"]
predict("q05-int-mlp", "How many of the 359 validation predictions of the integer-only MLP differ "
        "from the float32 MLP?", lo=0, hi=359)

# %%
if ready("integer_requant_linear", integer_requant_linear):
    im = LQ.integer_mlp_accuracy(integer_requant_linear)
    for name, (m0, shift, M) in zip(("fc1", "fc2", "fc3"), im["multipliers"]):
        print(f"{name}: M = {M:.6g} = {m0} · 2^-{31 + shift}")
    print(f"integer-only val accuracy {100 * im['accuracy']:.2f}% (float32 {100 * im['fp32_accuracy']:.2f}%), "
          f"same prediction as float32 on {100 * im['agree']:.1f}% of the images")
    reveal("q05-int-mlp", round((1 - im["agree"]) * len(val.y)))

# %% [markdown]
# ### Exercise 4 · Fake quantization and the straight-through estimator (8 points)
#
# QAT keeps float weights $w$ and uses $\hat w = S\,\mathrm{clip}(\mathrm{round}(w/S), -q_{max}, q_{max})$ in
# the forward pass, with $q_{max} = 2^{b-1}-1$ and $S = \alpha/q_{max}$ for a clipping range $\alpha$.
# $\mathrm{round}$ has derivative 0 almost everywhere, so the **STE** (Bengio et al. 2013) passes the
# gradient through unchanged inside the range: $\partial L/\partial w = \partial L/\partial \hat w
# \cdot \mathbb 1[|w| \le \alpha]$. Return `(w_hat, grad_w)` with `w`'s / `grad_out`'s dtype.

# %% tags=["answer:fake_quant_ste"]
def fake_quant_ste(w, bits, alpha, grad_out):
    """(w_hat, grad_w): symmetric fake quantization with clipping range alpha, STE gradient."""
    ### BEGIN SOLUTION
    qmax = 2 ** (bits - 1) - 1
    s = alpha / qmax
    w_hat = s * np.clip(np.rint(w / s), -qmax, qmax)
    grad_w = np.where(np.abs(w) <= alpha, grad_out, 0)
    return w_hat.astype(w.dtype), grad_w.astype(grad_out.dtype)
    ### END SOLUTION

# %% tags=["check:fake_quant_ste"]
check("fake_quant_ste", fake_quant_ste)

# %% [markdown]
# **Experiment: PTQ vs QAT at 2 bits (ternary weights), with your function.** A softmax-regression
# classifier of the digits (64 → 10) is trained in float, then (PTQ) its weights are
# fake-quantized once, or (QAT) training continues with your $\hat w$ in the forward pass and your
# STE gradient updating the float weights.

# %% tags=["nbval-ignore-output"]
predict("q05-qat", "At 2 bits, how many validation points does QAT recover over PTQ?",
        choices=["none", "< 5", "5-20", "> 20"])

# %%
if ready("fake_quant_ste", fake_quant_ste):
    qs = LQ.qat_softmax_study(fake_quant_ste, bits=2)
    print(f"float {100 * qs['float']:.2f}%, PTQ 2-bit {100 * qs['ptq']:.2f}%, QAT 2-bit "
          f"{100 * qs['qat']:.2f}% (distinct weight values after QAT: {qs['levels']})")
    gain = 100 * (qs["qat"] - qs["ptq"])
    reveal("q05-qat", "none" if gain <= 0 else "< 5" if gain < 5 else "5-20" if gain <= 20 else "> 20")

# %% [markdown]
# ### Exercise 5 · k-means weight sharing (10 points) and centroid fine-tuning (5 points)
#
# Han et al. (2016) cluster a layer's weights into $k = 2^b$ shared values. Initialise the
# centroids **linearly**, `np.linspace(w.min(), w.max(), 2**bits)` (their best initialisation),
# then repeat `iters` times: assign every weight to its nearest centroid (ties: the lower index,
# as `np.argmin` does), move every centroid to the mean of its weights (an empty cluster keeps its
# value). Finally assign once more to the final centroids. Return `(centroids, labels)`.
#
# Fine-tuning the codebook: the weights sharing centroid $k$ all move with it, so its gradient is
# the **sum** of their gradients: $c_k \leftarrow c_k - \eta \sum_{i:\,\ell_i = k} \partial L/\partial w_i$.

# %% tags=["answer:kmeans_codebook"]
def kmeans_codebook(w, bits, iters):
    """(centroids of shape (2**bits,), labels of w's shape): Lloyd's k-means, linear init."""
    ### BEGIN SOLUTION
    v = np.asarray(w, dtype=np.float64).ravel()
    c = np.linspace(v.min(), v.max(), 2 ** bits)
    for _ in range(iters):
        labels = np.argmin(np.abs(v[:, None] - c[None, :]), axis=1)
        for k in range(c.size):
            if (labels == k).any():
                c[k] = v[labels == k].mean()
    labels = np.argmin(np.abs(v[:, None] - c[None, :]), axis=1)
    return c, labels.reshape(np.shape(w))
    ### END SOLUTION

# %% tags=["check:kmeans_codebook"]
check("kmeans_codebook", kmeans_codebook)

# %% tags=["answer:codebook_step"]
def codebook_step(centroids, labels, grad, lr):
    """New centroids: c_k - lr * (sum of the gradients of the weights labelled k)."""
    ### BEGIN SOLUTION
    g = np.bincount(labels.ravel(), weights=grad.ravel(), minlength=centroids.size)
    return centroids - lr * g
    ### END SOLUTION

# %% tags=["check:codebook_step"]
check("codebook_step", codebook_step)

# %% tags=["nbval-ignore-output"]
predict("q05-kmeans", "With 1 bit (2 shared values per layer), what validation accuracy do you "
        "expect after 30 steps of centroid fine-tuning?", choices=["< 50 %", "50-80 %", "80-95 %", "> 95 %"])

# %%
if ready("kmeans_codebook", kmeans_codebook) and ready("codebook_step", codebook_step):
    ks = LQ.kmeans_study(kmeans_codebook, codebook_step)
    for b, a in zip(ks["bits"], ks["accuracy"]):
        print(f"k-means {b} bit(s) ({2 ** b} shared values per layer): val accuracy {100 * a:.2f}%")
    ft = ks["finetune"]
    print(f"{ft['bits']} bit, {ft['steps']} centroid fine-tuning steps: {100 * ft['before']:.2f}% → "
          f"{100 * ft['after']:.2f}%")
    a = 100 * ft["after"]
    reveal("q05-kmeans", "< 50 %" if a < 50 else "50-80 %" if a < 80 else "80-95 %" if a <= 95 else "> 95 %")

# %% [markdown]
# ### Slider: bits, scheme, granularity, PTQ / QAT / k-means on the reference MLP
#
# `LQ.compute_quant` quantizes every weight matrix of the MLP (biases kept float32, activations
# float32) and reports validation accuracy, model storage (quantized weights with their scales —
# `pruninglab.quantization.model_size_bytes` — plus fp32 biases) and the energy of one inference
# (`pruninglab.hardware.model_energy`, Horowitz 2014 / Han et al. 2015 figures) **of what is
# evaluated**: weight-only quantization "W-b, A-fp32" fetches $b$-bit weights, but activations and
# multiply-adds stay fp32 (the weights are dequantized before the multiply), so only the weight
# fetches get cheaper. `weight_memory` chooses where the weights live: off-chip DRAM (640 pJ per
# 32-bit access) or on-chip SRAM (5 pJ). `method="qat"` fine-tunes with fake quantization and the STE for a few
# epochs (cached per setting); `"kmeans"` uses a codebook of $2^b$ shared values per layer.
# The slider covers 2 … 8 bits: symmetric 1-bit linear quantization has a single code (0), so
# 1 bit is available as `LQ.compute_quant(1, "affine", ...)` or `method="kmeans"`, and as the
# binary/ternary schemes above; the accuracy-vs-bits figure below covers the same 2 … 8 bits.
#
# The next cell computes every slider setting once (QAT fine-tunes once per setting: about
# 15–30 s the first time on two cores, with a progress bar). The table is cached on disk
# (`pruninglab.cache`), so later runs load it in a fraction of a second; the cells after it
# only look results up.

# %% tags=["nbval-ignore-output"]
n_settings = LQ.precompute_quant(progress=True)

# %%
print(f"{n_settings} slider settings computed")

# %%
print(f"float32 reference: model {LQ.compute_quant(8)['fp32_model_bytes']:,.0f} B, "
      f"energy/inference {LQ.compute_quant(8)['fp32_energy_nj']:.1f} nJ")
for method in ("ptq", "qat", "kmeans"):
    for bits in (2, 4, 8):
        r = LQ.compute_quant(bits=bits, scheme="symmetric", per_channel=True, method=method)
        print(f"{method:>6} {bits} bits: val acc {100 * r['val_accuracy']:6.2f}%, model "
              f"{r['model_bytes']:7,.0f} B ({r['compression']:.1f}× smaller than fp32), "
              f"energy/inference {r['energy_nj']:.1f} nJ")

# %% [markdown]
# Per-tensor vs per-channel and symmetric vs affine at 4 bits (PTQ):

# %%
for per_channel in (False, True):
    for scheme in ("symmetric", "affine"):
        r = LQ.compute_quant(bits=4, scheme=scheme, per_channel=per_channel, method="ptq")
        print(f"{'per-channel' if per_channel else 'per-tensor':>11} {scheme:>9}: val acc "
              f"{100 * r['val_accuracy']:.2f}%, mean |w − ŵ| {r['mean_abs_error']:.5f}")

# %% [markdown]
# Accuracy against bits for the four PTQ variants (computed, not typed in):

# %%
sweep = LQ.sweep_bits(bits=tuple(range(2, 9)))
fp32_acc = 100 * accuracy(ref, val)
fig, (ax, az) = plt.subplots(1, 2, figsize=(10.0, 3.6))
zoom_from = 3                                       # right panel: the bits where the curves overlap
for label, accs in sweep["curves"].items():
    ax.plot(sweep["bits"], [100 * a for a in accs], "o-", label=label)
    z = [(b, 100 * a) for b, a in zip(sweep["bits"], accs) if b >= zoom_from]
    az.plot(*zip(*z), "o-", label=label)
for a in (ax, az):
    a.axhline(fp32_acc, color="0.5", ls="--", label="float32")
    a.set_xlabel("weight bits")
lowest = min(100 * a for accs in sweep["curves"].values() for a in accs)
ax.set(ylabel="val accuracy (%)", title="PTQ of the MLP weights (validation)",
       ylim=(max(0, lowest - 5), 100))
zv = [100 * a for accs in sweep["curves"].values() for b, a in zip(sweep["bits"], accs) if b >= zoom_from]
pad = max(0.3, 0.15 * (max(zv + [fp32_acc]) - min(zv + [fp32_acc])))
az.set(ylim=(min(zv + [fp32_acc]) - pad, max(zv + [fp32_acc]) + pad),
       title=f"zoom: {zoom_from}–{max(sweep['bits'])} bits (one val image = {100 / len(val.y):.2f} points)")
az.title.set_fontsize(9)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# **Does the model fit on chip?** The energy above assumes the weights come from DRAM. An
# accelerator with on-chip SRAM keeps a model of a few hundred KB entirely on chip (the STM32F746
# micro-controller has 320 KB of SRAM; Horowitz's SRAM figures go up to 1 MB), and then every
# weight fetch costs SRAM energy instead:

# %%
r_dram = LQ.compute_quant(8, "symmetric", True, "ptq", "han_dram")
r_sram = LQ.compute_quant(8, "symmetric", True, "ptq", "han_sram")
fp32_kb = r_dram["fp32_model_bytes"] / 1000
claim(190 <= fp32_kb <= 210, "the fp32 MLP is about 200 KB")
md("The fp32 MLP is **{fp32:.0f} KB**, the int8 one **{q:.0f} KB**: both fit a 256 KB on-chip SRAM "
   "(the fp32 model only just). With int8 weights in DRAM one inference costs **{ed:.1f} nJ**; with "
   "the same weights in on-chip SRAM **{es:.1f} nJ** ({ratio:.0f}× less). Weight-only quantization "
   "leaves the fp32 multiply-adds as they are; only integer arithmetic (exercise 3) makes those cheaper.",
   fp32=fp32_kb, q=r_dram["model_bytes"] / 1000, ed=r_dram["energy_nj"], es=r_sram["energy_nj"],
   ratio=r_dram["energy_nj"] / r_sram["energy_nj"])

# %% tags=["nbval-ignore-output"]
predict("q05-slider", "Method k-means, 2 bits, weights in DRAM: how does the energy per inference compare "
        "with PTQ at 2 bits?", choices=["k-means clearly lower", "about the same", "k-means clearly higher"])

# %% tags=["nbval-ignore-output"]
slider_ui(LQ.compute_quant, LQ.live_quant(),
          bits=bits_slider(4, 2, 8),
          scheme=dropdown(["symmetric", "affine"], description="scheme"),
          per_channel=dropdown([True, False], description="per-channel"),
          method=dropdown(["ptq", "qat", "kmeans"], description="method"),
          weight_memory=dropdown([("DRAM", "han_dram"), ("SRAM (on chip)", "han_sram")], "han_dram",
                                 "weights in"))

# %%
e_km, e_ptq = (LQ.compute_quant(2, "symmetric", True, m)["energy_nj"] for m in ("kmeans", "ptq"))
ratio = e_km / e_ptq
_ = reveal("q05-slider", f"k-means {e_km:.1f} nJ vs PTQ {e_ptq:.1f} nJ ({ratio:.3f}×: "
           + ("about the same" if abs(ratio - 1) < 0.05 else "k-means clearly " + ("lower" if ratio < 1 else "higher"))
           + "; both fetch 2-bit weights and run fp32 MACs)")

# %% [markdown] tags=["seed:S3-Q4b"]
# ## S3-Q4b · Quantization: use cases, pros and cons (document 003, 面试题 2) · 量化的应用场景与优缺点
#
# > 2. **面试题 2：** 请简述量化技术在深度学习模型中的应用场景及其优缺点。
# >
# > **答案：**
# >
# > 应用场景：量化技术主要应用于需要降低计算资源消耗、提高模型实时性的场景，如移动设备、嵌入式设备和低功耗设备。
# >
# > 优点：
# >
# > - 显著降低模型参数量和计算复杂度；
# > - 提高模型推理速度，降低延迟；
# > - 便于部署，减少计算资源占用。
# >
# > 缺点：
# >
# > - 可能会影响模型性能，特别是在量化精度较低的情况下；
# > - 需要对量化策略进行优化，以避免模型性能下降。
#
# **Translation.** *Briefly describe the use cases of quantization and its pros and cons.* Use
# cases: where compute must fall and real-time behaviour improve, e.g. mobile, embedded and
# low-power devices. Pros: **significantly fewer parameters** and lower compute complexity;
# faster inference, lower latency; easier deployment. Cons: may hurt accuracy, especially at low
# precision; the strategy must be tuned.
#
# ### A corrected answer
#
# *Use cases:* inference almost everywhere — int8 on CPUs, GPUs (tensor cores), NPUs/DSPs and
# micro-controllers; 4-bit weight-only quantization for large language models (memory-bound);
# low-precision training (fp16/bf16/fp8) is a related topic.
#
# *Pros:* 4× smaller weights at int8 vs fp32 (same parameter count); less memory traffic, which
# dominates energy (Horowitz 2014: a 32-bit DRAM access costs hundreds of times a multiply-add);
# cheaper arithmetic (an 8-bit integer multiply costs ~0.2 pJ vs 3.7 pJ for fp32 at 45 nm); speedups
# — **only if the hardware and software run integer kernels** (PyTorch documents int8 CPU inference
# as typically 2–4× faster than fp32). Fake quantization / weight-only dequantize-then-float
# compute saves memory but not arithmetic.
#
# *Cons:* accuracy loss, worst at ≤ 4 bits and for layers with outliers (first/last layers are often
# kept at higher precision); calibration data needed for activation ranges; QAT costs training;
# operator support varies across hardware and runtimes; per-channel/affine schemes add overhead.
#
# ### What the document gets wrong or leaves out
#
# 1. "显著降低模型参数量" — wrong: same parameter count, fewer bits (measured in S3-Q2 above).
# 2. "提高模型推理速度" unconditionally — only with integer kernels on supporting hardware;
#    fake quantization is *slower* than float (extra ops). Measured below.
# 3. No mention of memory/energy, the main hardware benefit.
# 4. No mention of calibration, of which layers are sensitive, or of PTQ vs QAT as the remedy
#    for the accuracy loss.
# 5. "便于部署" — deployment actually needs runtime/operator support for the quantized format.
#
# ### Measurement: int8 dynamic quantization in PyTorch
#
# `torch.ao.quantization.quantize_dynamic` (available in this PyTorch, marked deprecated in favour
# of torchao) stores Linear weights as int8 (per-tensor affine) and quantizes activations on the
# fly; the matmul runs in int8 (fbgemm/x86 kernels). Exact counts first:

# %%
dq = LQ.dynamic_int8_report()
print(f"parameters: fp32 {dq['params_fp32']:,} = int8 model {dq['params_int8']:,} (same count)")
print(f"Linear weight bytes: fp32 {dq['weight_bytes_fp32']:,} → int8 {dq['weight_bytes_int8']:,} "
      f"({dq['weight_bytes_fp32'] / dq['weight_bytes_int8']:.1f}×)")
print(f"val accuracy: fp32 {100 * dq['acc_fp32']:.2f}% → int8 dynamic {100 * dq['acc_int8']:.2f}%")

# %% [markdown]
# Latency on this machine (*measured*, output not compared): the small MLP and a 1024 × 1024
# layer, batch 1 and 64: fp32; int8 dynamic; fp32 with fake-quantized weights re-quantized on every
# call by the library's `FakeQuantLinear` and by PyTorch's fused
# `torch.fake_quantize_per_channel_affine` (the fair baseline for "quantization without integer
# kernels"). Variants are interleaved over 3 rounds after warm-up (3 timed repeats of each per
# round); median and min–max over rounds.

# %% tags=["nbval-ignore-output"]
for row in LQ.latency_benchmark(repeats=3, rounds=3):
    parts = []
    for k, label in (("fp32", "fp32"), ("int8", "int8 dynamic"), ("fake", "fake-quant (library)"),
                     ("fused", "fake-quant (fused torch)")):
        lo, hi = row[f"{k}_spread"]
        parts.append(f"{label} {row[f'{k}_ms']:.3f} ms [{lo:.3f}–{hi:.3f}]")
    print(f"{row['model']:>10} batch {row['batch']:3d}: " + ", ".join(parts)
          + f"; fp32/int8 {row['fp32_ms'] / row['int8_ms']:.2f}×, fp32/fused {row['fp32_ms'] / row['fused_ms']:.2f}×")

# %% [markdown]
# What the mechanism guarantees: fake quantization does *more* work than fp32 (a quantize–dequantize
# of the weight, then the same fp32 matmul), so it cannot be faster — the fused kernel only makes
# the overhead smaller. An int8 kernel moves 4× fewer weight bytes and uses integer MACs; whether
# that shows up as a speed-up on this machine depends on the fixed overheads (on the tiny MLP,
# quantizing the activations and Python dispatch can eat the gain). Compare with your run.
#
# ## Check yourself
#
# Write your answer to each question first (on paper or in a cell of your own), then open its
# collapsed answer.
#
# 1. An fp32 model with 1 M parameters is quantized to int8. How many parameters and how many
#    bytes does it have?
#
# <details><summary>Answer</summary>
#
# Still 1 M parameters; about 1 MB of weights instead of 4 MB (plus a few scales/zero-points).
#
# </details>
#
# 2. Why must zero be exactly representable, and which formula guarantees it for affine
#    quantization?
#
# <details><summary>Answer</summary>
#
# Zero padding and pruned (zero) weights must stay exactly zero. With $Z = \mathrm{round}(q_{min} - r_{min}/S)$
# an integer in $[q_{min}, q_{max}]$, the real value 0 maps to the code $Z$ and back to $S(Z - Z) = 0$
# exactly (Jacob et al. 2018).
#
# </details>
#
# 3. What does the straight-through estimator do?
#
# <details><summary>Answer</summary>
#
# In QAT the forward pass uses the rounded (fake-quantized) weights; round() has zero gradient
# almost everywhere, so the backward pass treats it as the identity (inside the clamp range) and
# updates the underlying float weights.
#
# </details>
#
# 4. Why is per-channel quantization of weights usually more accurate than per-tensor?
#
# <details><summary>Answer</summary>
#
# Output channels have different ranges; one scale for the whole tensor is set by the largest
# channel, leaving small channels with few levels. A scale per channel fits each range.
#
# </details>
#
# 5. Name three defects of the document's `low_bit_quantization`.
#
# <details><summary>Answer</summary>
#
# No rounding (same number of distinct values), no integer type (still float64, same bytes),
# no clipping/scale; 1 bit returns the input; precision unvalidated; biases untouched though the
# explanation says converted; more bits → larger distortion.
#
# </details>
#
# 6. k-means weight sharing with 16 clusters: what is stored, and does it make the multiplications
#    cheaper?
#
# <details><summary>Answer</summary>
#
# A 4-bit index per weight plus a 16-entry codebook of float values (Han et al. 2016). The
# multiplications still use float centroids, so it saves memory (and memory energy), not
# arithmetic.
#
# </details>
