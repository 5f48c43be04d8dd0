# %% [markdown]
# # 07 · Pruning in practice: does it make anything faster?
#
# The interview documents promise that pruning "加速模型推理速度" (speeds up inference),
# "加速模型训练" (speeds up training) and "减少模型存储空间" (shrinks storage) — unconditionally.
# This notebook **measures** each promise on this machine and separates three things that the
# documents mix up:
#
# 1. **the number of weights that are zero** (what unstructured pruning changes),
# 2. **the work a kernel actually executes** (a dense matrix multiply multiplies the zeros too),
# 3. **the bytes actually stored** (a dense tensor stores the zeros too; a sparse format pays
#    for indices).
#
# Counts (MACs, bytes, parameters) are exact and validated. Timings depend on the machine and
# its load; they sit in cells marked *measured* whose output is not compared on re-run — rerun
# them yourself. PyTorch runs on one thread here (`notebook_setup`) so that timings do not depend on the
# number of cores. That does not make it an embedded CPU: one thread of this x86 machine is still
# orders of magnitude faster than a microcontroller (notebook 08 compares its measured FLOP/s with
# the STM32-class device profile).

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
from pruninglab.pruning import compute_masks, apply_masks_
from pruninglab.hardware import model_storage, break_even_sparsity, layer_profile
from pruninglab.labs.practice import (matmul_costs, matmul_benchmark, training_costs,
                                      training_benchmark, shrink_mlp_neurons,
                                      compute_practice, render_practice, live_practice)
from pruninglab.ui import slider_ui, sparsity_slider, dropdown
from pruninglab.claims import md, claim
from pruninglab.labs.learner import predict, reveal

plt.rcParams["figure.dpi"] = plt.rcParams["savefig.dpi"] = 120   # sharp on HiDPI screens

val = load_digits("val")
ref = load_reference("mlp")
print(f"reference MLP: val accuracy {100 * accuracy(ref, val):.2f}%")

# %% [markdown] tags=["seed:S3-Q4a"]
# ## S3-Q4a · Pruning: use cases, pros and cons (document 003, 面试题 1) · 剪枝的应用场景与优缺点
#
# The document's question and answer, verbatim:
#
# > 1. **面试题 1：** 请简述剪枝技术在深度学习模型中的应用场景及其优缺点。
# >
# > **答案：**
# >
# > 应用场景：剪枝技术主要应用于移动设备、嵌入式设备和低功耗设备的深度学习推理场景，以提高计算效率和降低计算资源消耗。
# >
# > 优点：
# >
# > - 降低模型参数量，减少存储和计算资源消耗；
# > - 加速模型推理速度，提高实时性；
# > - 减小模型大小，便于部署。
# >
# > 缺点：
# >
# > - 可能会影响模型性能，特别是在深度较大、结构复杂的模型中；
# > - 需要对剪枝策略进行优化，以避免模型性能下降。
#
# **Translation.** *Interview question 1: briefly describe the use cases of pruning in deep
# learning models and its pros and cons.* Use cases: mainly deep-learning **inference** on
# mobile, embedded and low-power devices, to raise compute efficiency and lower resource use.
# Pros: fewer parameters, less storage and compute; **faster inference, better real-time
# behaviour**; smaller model, easier deployment. Cons: may hurt accuracy, especially in deep,
# complex models; the pruning strategy must be tuned to avoid accuracy loss.
#
# ### A corrected answer
#
# *Use cases.* Reducing the memory footprint, energy and (with the right kind of pruning and
# kernels) the latency of inference, on servers as well as devices; also as a research tool
# (lottery tickets, Frankle & Carbin 2019).
#
# *Pros — each with its condition:*
# * **Fewer non-zero weights.** Han et al. (2015) removed 9–13× of the weights of LeNet,
#   AlexNet and VGG-16 with no accuracy loss — *after retraining*.
# * **Smaller storage — only if the zeros are not stored.** A dense tensor with zeros has the same
#   size. A sparse format (bitmask, CSR, relative indices) pays for the positions, so it is
#   smaller only above a break-even sparsity (CSR with fp32 values and 32-bit indices: > 50 %).
#   Deep Compression (Han et al. 2016) combines pruning, quantization and Huffman coding to reach
#   35–49×.
# * **Faster inference — only with structured pruning or a sparse kernel that the hardware
#   supports.** Unstructured zeros in a dense matrix change nothing: the dense GEMM still does every
#   multiply-accumulate. Sparse CPU/GPU kernels break even only at high sparsity and small batch
#   (Han et al. 2016, appendix A: ~3× at batch 1 with 4–9 % density, *slower* than dense at batch
#   64). Removing whole neurons, filters or channels (Li et al. 2017) shrinks the dense matrices
#   and speeds up any hardware; fine-grained 2:4 sparsity is accelerated by NVIDIA sparse tensor
#   cores (Mishra et al. 2021).
# * **Lower energy**, mostly from fewer off-chip memory accesses (Horowitz 2014: a DRAM access
#   costs far more than a multiply-add).
#
# *Cons:* accuracy loss that must be recovered by fine-tuning (extra training cost);
# hyper-parameters (per-layer sparsity, schedule); unstructured sparsity needs special formats
# and kernels; structured pruning loses more accuracy for the same parameter count; speedups
# must be measured on the target device.
#
# ### What the document gets wrong or leaves out
#
# 1. "加速模型推理速度" is stated unconditionally — false for unstructured pruning executed by
#    dense kernels (measured below), and sparse kernels need high sparsity.
# 2. "降低模型参数量" — unstructured pruning does not reduce the *parameter count* of the stored
#    tensors, only the number of non-zeros; the tensor shapes are unchanged.
# 3. "减小模型大小" — only with a sparse storage format above its break-even sparsity (or
#    structured pruning); a saved masked model is as large as before (or larger: see
#    `torch.nn.utils.prune` below).
# 4. No distinction between unstructured and structured pruning, which decides all of the above.
# 5. Leaves out the main remedy for the accuracy loss: fine-tuning / iterative pruning (Han et al.
#    2015), and its cost.
# 6. Use cases limited to mobile devices; pruning is also used on servers (e.g. 2:4 sparsity on
#    GPUs) and for model analysis.
#
# ### Measurement 1: work and bytes of one layer, exactly
#
# A 1024 × 1024 fully-connected layer with a batch of 64 inputs. Pruning a fraction $s$ of the
# weights *unstructured* leaves $nnz = n^2 - \mathrm{round}(s n^2)$ non-zeros, but a dense kernel
# still executes $64 \cdot n^2$ MACs. Pruning the same fraction of *output neurons* leaves a dense
# $m \times n$ matrix ($m = n - \mathrm{round}(s n)$) and $64 \cdot m n$ MACs.

# %%
print(f"{'sparsity':>8} {'dense-kernel MACs':>18} {'useful MACs':>12} {'shrunk MACs':>12} "
      f"{'dense KiB':>10} {'CSR KiB':>8} {'shrunk KiB':>10}")
for s in (0.0, 0.5, 0.8, 0.9, 0.95, 0.99):
    c = matmul_costs(s)
    print(f"{s:8.2f} {c['dense_macs']:18,} {c['useful_macs']:12,} {c['shrunk_macs']:12,} "
          f"{c['dense_bytes'] / 1024:10.0f} {c['csr_bytes'] / 1024:8.0f} {c['shrunk_bytes'] / 1024:10.0f}")
be_csr = break_even_sparsity('csr', 32, (1024, 1024))
claim(0.5 < be_csr < 0.51, "CSR with fp32 values and 32-bit indices breaks even just above 50 %")
print(f"CSR (fp32 values, 32-bit column indices, 32-bit row pointers — the convention of this notebook) "
      f"is smaller than dense only above {100 * be_csr:.2f}% sparsity")

# %% [markdown]
# ### Measurement 2: latency on this CPU (*measured*, output not compared)
#
# The same weights three ways: zeros kept in a **dense** tensor (dense `linear`), the same matrix
# in PyTorch's **CSR** format (`torch.sparse_csr`, sparse × dense matmul), and a **shrunk**
# dense matrix that keeps only the rows (neurons) with the largest L1 norm. Medians of 7 runs
# after 3 warm-ups, batch 64.

# %% tags=["nbval-ignore-output"]
bench = matmul_benchmark(repeats=7)
print(f"{'sparsity':>8} {'dense ms':>9} {'CSR ms':>8} {'shrunk ms':>10} {'CSR speedup':>12} {'shrunk speedup':>15}")
for r in bench:
    print(f"{r['sparsity']:8.2f} {r['dense_ms']:9.3f} {r['csr_ms']:8.3f} {r['shrunk_ms']:10.3f} "
          f"{r['csr_speedup']:12.2f} {r['shrunk_speedup']:15.2f}")
fig, ax = plt.subplots()
xs = [100 * r["sparsity"] for r in bench]
ax.plot(xs, [r["dense_ms"] for r in bench], "o-", label="dense kernel, zeros kept")
ax.plot(xs, [r["csr_ms"] for r in bench], "s-", label="torch.sparse_csr")
ax.plot(xs, [r["shrunk_ms"] for r in bench], "^-", label="structured: shrunk dense")
ax.set(xlabel="fraction of weights pruned (%)", ylabel="ms per batch of 64", yscale="log",
       title="1024×1024 layer on this CPU (1 thread)")
ax.legend()
plt.show()
b90 = next(r for r in bench if r["sparsity"] == 0.9)
print(f"this run, 90 %: shrunk {b90['shrunk_speedup']:.1f}× faster than dense for "
      f"{b90['dense_macs'] / b90['shrunk_macs']:.1f}× fewer MACs; CSR {b90['csr_speedup']:.2f}×; dense time "
      f"from 0 % to 99 %: {bench[0]['dense_ms']:.2f} → {bench[-1]['dense_ms']:.2f} ms")

# %% [markdown]
# What the mechanism guarantees (the counts of Measurement 1): the dense kernel executes the same
# MACs at every sparsity — the zeros are multiplied like any other number — so its time cannot fall
# with sparsity beyond noise; the shrunk matrix executes only the kept rows' MACs; a CSR kernel
# moves fewer bytes but pays indices and irregular access. What the measurement adds (check
# against *your* run, printed above): on a machine like this one CSR is much slower than dense at
# low sparsity and wins only at high sparsity (the break-even depends on the machine, the batch
# size and the library), and the shrunk matrix gets faster with the MACs removed, though by less
# than the MAC ratio once fixed per-call overheads dominate. This is why the claim needs a condition.
#
# ### Measurement 3: the reference MLP, unstructured vs structured
#
# `compute_practice` prunes a copy of the trained MLP either unstructured (global magnitude) or
# structured (a fraction of the hidden neurons by L1 norm, Li et al. 2017) and reports the
# accuracy (no fine-tuning) and the MACs a dense kernel executes.

# %%
prac = {}
for kind in ("unstructured", "structured"):
    prac[kind] = r = compute_practice(0.5, kind)
    print(f"{kind:>12} 50%: val acc {100 * r['val_accuracy']:.2f}%, weights removed "
          f"{100 * r['weight_sparsity']:.1f}%, dense-kernel MACs {r['dense_kernel_macs']:,}, "
          f"useful MACs {r['useful_macs']:,}, dense bytes {r['dense_bytes']:,}, CSR bytes {r['csr_bytes']:,}")

# %%
u, st = prac["unstructured"], prac["structured"]
claim(u["dense_kernel_macs"] == compute_practice(0.9, "unstructured")["dense_kernel_macs"] > u["useful_macs"],
      "unstructured pruning leaves the dense-kernel MACs unchanged")
claim(st["weight_sparsity"] > u["weight_sparsity"] and st["val_accuracy"] < u["val_accuracy"],
      "structured: more weights removed and more accuracy lost at the same fraction")
md("Unstructured pruning leaves the dense-kernel MACs unchanged whatever the sparsity (only the "
   "*useful* MACs fall); structured pruning really removes work. For the same fraction (50 %) of hidden "
   "neurons it removes a larger fraction of the weights (**{ws:.1%}**: a hidden neuron owns a row of one "
   "matrix *and* a column of the next) and, without fine-tuning, loses more accuracy (**{sa:.2%}** "
   "against **{ua:.2%}**). Move the slider: accuracy on the left, dense-kernel work on the right.",
   ws=st["weight_sparsity"], sa=st["val_accuracy"], ua=u["val_accuracy"])

# %% tags=["nbval-ignore-output"]
predict("q07-structured90", "Structured, 90 % of the hidden neurons removed (no fine-tuning): what validation "
        "accuracy do you expect?", choices=["> 90 %", "60-90 %", "30-60 %", "< 30 %"])

# %% tags=["nbval-ignore-output"]
slider_ui(compute_practice, live_practice(),
          sparsity=sparsity_slider(0.5, hi=0.95, step=0.05, description="fraction pruned"),
          kind=dropdown(["unstructured", "structured"], description="kind"))

# %%
a90 = 100 * compute_practice(0.9, "structured")["val_accuracy"]
_ = reveal("q07-structured90", f"{a90:.2f} % ("
           + ("> 90 %" if a90 > 90 else "60-90 %" if a90 > 60 else "30-60 %" if a90 > 30 else "< 30 %") + ")")

# %% [markdown]
# ### `torch.nn.utils.prune` makes the model *bigger*
#
# PyTorch's own pruning utility only masks: it keeps the original weight as `weight_orig`, adds a
# `weight_mask` buffer and recomputes `weight = weight_orig * weight_mask` in every forward pass
# (a documented design; the PyTorch maintainers point out in issue #36214 that it gives no
# speedup). Count the bytes of the state dict:

# %%
import torch.nn.utils.prune as tprune

def state_bytes(model):
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())

masked = copy.deepcopy(ref)
for layer in (masked.fc1, masked.fc2, masked.fc3):
    tprune.l1_unstructured(layer, "weight", amount=0.9)
print("state-dict keys of fc1 after torch pruning:", [k for k in masked.state_dict() if k.startswith("fc1")])
print(f"bytes: original {state_bytes(ref):,}  vs  pruned-with-masks {state_bytes(masked):,}")
claim(state_bytes(masked) > state_bytes(ref), "torch.nn.utils.prune makes the state dict bigger")
for layer in (masked.fc1, masked.fc2, masked.fc3):
    tprune.remove(layer, "weight")  # make the zeros permanent, drop the mask
claim(state_bytes(masked) == state_bytes(ref), "after prune.remove: the same size as the original")
print(f"after prune.remove: {state_bytes(masked):,} bytes (same as the original: zeros are stored too)")
print(f"accuracy at 90% without fine-tuning: {100 * accuracy(masked, val):.2f}%")

# %% [markdown] tags=["seed:S4-Q7a"]
# ## S4-Q7a · Pruning: applications and advantages (document 004, 面试题 1) · 剪枝的应用与优势
#
# > **面试题 1：** 请简要介绍剪枝技术在神经网络中的应用场景和优势。
# >
# > **解答：**
# > 剪枝技术在神经网络中的应用场景主要包括模型压缩和优化。其优势包括：
# > 1. **减少模型参数数量**：通过剪枝移除网络中的冗余部分，减少模型参数数量，降低模型的存储需求和计算复杂度。
# > 2. **加速模型训练**：剪枝后的模型参数数量减少，从而缩短了模型的训练时间。
# > 3. **提高模型效率**：剪枝后的模型在运行时所需的计算量减少，提高了模型的推理速度和应用效率。
# > 4. **适应资源受限环境**：剪枝技术有助于模型在资源受限的环境（如嵌入式设备）中进行部署。
#
# **Translation.** *Briefly introduce the applications and advantages of pruning.* Applications:
# mainly model compression and optimisation. Advantages: (1) fewer parameters — less storage and
# compute; (2) **faster training** — fewer parameters shorten training time; (3) higher
# efficiency — less compute at run time, faster inference; (4) fits resource-limited
# environments such as embedded devices.
#
# ### A corrected answer
#
# Pruning is an **inference-side** compression technique. It reduces the number of non-zero
# weights (storage, if a sparse format or structured pruning is used), the energy spent moving
# weights, and — with structured pruning or sparse hardware support — latency. It does **not**
# make training cheaper in the usual workflow: one trains the dense model first, then prunes, then
# fine-tunes, so pruning *adds* training (Han et al. 2015 retrain after each pruning step;
# Zhu & Gupta 2017 prune gradually during a full training run). Masked training keeps the dense
# shapes, so every step does the full dense forward and backward pass plus the masking. Only
# training a physically smaller network (after structured pruning) is cheaper per step — and a
# small network trained from scratch is not the same as a pruned one — and how different is itself
# debated: Frankle & Carbin (2019) find that sparse subnetworks need their original initialisation
# to match accuracy, while Liu, Sun, Zhou, Huang & Darrell (2019, *Rethinking the Value of Network
# Pruning*, ICLR) find that for *structured* pruning a small network trained from scratch for
# long enough often matches the pruned-and-fine-tuned one.
#
# ### What the document gets wrong or leaves out
#
# 1. "加速模型训练" — false for (unstructured, masked) pruning: same dense work per step, plus
#    fine-tuning epochs on top (measured below).
# 2. "参数数量减少 → 训练时间缩短" — the number of *non-zero* parameters does not set the cost;
#    the tensor shapes do.
# 3. "提高模型的推理速度" — again unconditional (see S3-Q4a above).
# 4. "应用场景主要包括模型压缩和优化" is circular (pruning *is* a compression technique); the
#    real question is for which deployment target.
# 5. No mention of the accuracy cost or the need for fine-tuning.
#
# ### Measurement: MACs per training step (exact) and training time (*measured*)
#
# Three set-ups trained on the digits for the same number of epochs: the dense MLP, the same MLP
# with a 90 % magnitude mask re-applied after every optimiser step (how pruned models are
# fine-tuned), and a physically smaller MLP whose hidden layers keep 10 % of their neurons.

# %%
tc = training_costs(0.9)
print(f"forward MACs per sample: dense {tc['dense_macs']:,}, masked {tc['masked_macs']:,} "
      f"(+{tc['masked_extra_mults_per_step']:,} mask multiplies per step), "
      f"smaller MLP {tc['small_hidden']} {tc['small_macs']:,}")
print(f"parameters: dense {tc['dense_params']:,}, smaller MLP {tc['small_params']:,}")

# %% tags=["nbval-ignore-output"]
tb = training_benchmark(0.9, epochs=2, repeats=3)
sp = lambda k: "[{:.3f}–{:.3f}]".format(*tb[f"{k}_spread"])  # noqa: E731
print(f"2 epochs, median of 3 interleaved runs [min–max]: dense {tb['dense_s']:.3f} s {sp('dense')}, "
      f"masked 90% {tb['masked_s']:.3f} s {sp('masked')} ({tb['masked_s'] / tb['dense_s']:.2f}× dense), "
      f"physically smaller {tb['small_s']:.3f} s {sp('small')} ({tb['small_s'] / tb['dense_s']:.2f}× dense)")

# %% [markdown]
# What the mechanism guarantees: the masked model does all the dense work *plus* the masking, so it
# cannot be cheaper than dense (a measured ratio below 1 is noise — compare the min–max spreads);
# the smaller model does a fraction of the MACs. On this machine it is faster, but nowhere near the
# MAC ratio printed above (check your run): on a network this small, the fixed per-step overhead
# of Python, the optimiser and the data loader dominates. On big layers the ratio approaches the
# MAC ratio (see the 1024 × 1024 measurement above).

# %% [markdown] tags=["seed:S4-Q1"]
# ## S4-Q1 · The role of pruning in neural-network optimisation (document 004, question 1) · 剪枝在模型优化中的作用
#
# > **题目：** 剪枝技术在神经网络模型优化中的作用是什么？
# >
# > **答案：** 剪枝技术是神经网络模型优化中的一种重要手段，其主要作用是通过移除网络中的冗余部分，降低模型的复杂度和计算量，从而提高模型的运行效率和压缩率。具体来说，剪枝技术有以下几点作用：
# >
# > 1. **减少模型参数数量**：剪枝可以移除网络中权重较小的连接，从而减少模型的参数数量，降低模型的存储需求和计算复杂度。
# > 2. **加速模型训练**：由于模型参数数量减少，模型的训练时间也会相应缩短，尤其是在大规模数据集上训练时效果尤为显著。
# > 3. **提高模型效率**：剪枝后的模型在运行时所需的计算量减少，从而可以在相同的硬件条件下实现更快的推理速度，提高模型的应用效率。
# > 4. **减少模型存储空间**：剪枝可以显著降低模型的存储空间需求，使得模型更加便于部署在资源受限的设备上，如智能手机和嵌入式系统等。
# >
# > **解析：** 剪枝技术通过识别并移除网络中的冗余部分，不仅能够提升模型的性能，还有助于减少模型在资源受限环境中的部署难度。在实际应用中，剪枝技术已成为提升神经网络模型效率的关键手段。
#
# **Translation.** *What is the role of pruning in neural-network optimisation?* Pruning removes
# redundant parts of the network to lower complexity and computation, "thereby raising the
# running efficiency and the **compression rate**". (1) Fewer parameters: removes connections with
# small weights, lowering storage and compute. (2) **Faster training**: fewer parameters shorten
# training time, "especially on large data sets". (3) Higher efficiency: less run-time compute,
# faster inference "on the same hardware". (4) Less storage: easier deployment on phones and
# embedded systems. *Analysis:* pruning "not only **improves the model's performance**" but also
# eases deployment.
#
# ### A corrected answer
#
# Pruning removes weights (unstructured, Han et al. 2015), groups of weights (N:M, Mishra et al.
# 2021) or whole neurons/filters/channels (structured, Li et al. 2017) whose removal costs
# little accuracy, then usually fine-tunes to recover. Its roles:
# * **compression** — fewer non-zero weights; the stored size shrinks only with a sparse format
#   above its break-even sparsity, or with structured pruning;
# * **inference cost** — latency falls with structured pruning (smaller dense layers) or with
#   sparse kernels/hardware at high sparsity; energy falls mostly through fewer weight
#   fetches from memory (Horowitz 2014);
# * **not** training speed: the usual pipeline is train dense → prune → fine-tune, which costs more
#   training than the dense model alone (measured in S4-Q7a).
# Accuracy is usually *kept* (with fine-tuning) rather than improved; small gains at moderate
# sparsity happen (a regularisation effect) but are not the goal and not guaranteed.
#
# ### What the document gets wrong or leaves out
#
# 1. "加速模型训练 … 在大规模数据集上训练时效果尤为显著" — false (see S4-Q7a measurement);
#    pruning adds fine-tuning cost, and larger data sets make that *more* expensive.
# 2. "提高模型的…压缩率" — the compression ratio is a *measure* of the result, not a role; and
#    it is achieved only if the zeros are not stored (measured below).
# 3. "在相同的硬件条件下实现更快的推理速度" — unconditional; false for unstructured sparsity on
#    dense hardware (S3-Q4a measurement).
# 4. "提升模型的性能" (解析) — pruning trades accuracy for cost; it does not improve the model
#    in general.
# 5. "移除网络中权重较小的连接" is one criterion (magnitude) presented as *the* definition; data-
#    driven criteria (APoZ, Hu et al. 2016; Taylor, Molchanov et al. 2017) and structured pruning
#    are not mentioned.
# 6. No mention of fine-tuning or of the accuracy/sparsity trade-off.
#
# ### Measurement: does the model get smaller?
#
# The reference MLP pruned globally by magnitude (no fine-tuning), stored three ways
# (`pruninglab.hardware.model_storage`: weights in the format, biases dense fp32; CSR with 32-bit
# column indices and 32-bit row pointers).

# %%
print(f"{'sparsity':>8} {'val acc':>8} {'dense fp32':>11} {'CSR fp32+i32':>13} {'bitmask fp32':>13} {'CSR ratio':>9}")
for s in (0.0, 0.3, 0.5, 0.7, 0.9):
    m = copy.deepcopy(ref)
    apply_masks_(m, compute_masks(m, s, scope="global"))
    d, c, b = (model_storage(m, 32, f)["total_bytes"] for f in ("dense", "csr", "bitmask"))
    print(f"{s:8.1f} {100 * accuracy(m, val):7.2f}% {d:11,} {c:13,} {b:13,} {d / c:8.2f}×")

# %%
be_bm = break_even_sparsity("bitmask", 32, (1024, 1024))
claim(0.02 < be_bm < 0.04 and accuracy(m, val) < accuracy(ref, val) - 0.2,
      "bitmask breaks even at ~1/32; 90 % without fine-tuning is far below the reference")

# %% [markdown]
# Energy per inference follows the same logic (`pruninglab.hardware.model_energy`, 45 nm figures
# of Horowitz 2014 with DRAM weight fetches as in Han et al. 2015): a dense engine fetches and
# multiplies every weight, zeros included; a sparse engine (CSR, skipping zeros) saves only when
# the index overhead is paid back. Note how memory dominates compute.

# %%
from pruninglab.hardware import model_energy
print(f"{'sparsity':>8} {'dense engine: compute / memory (nJ)':>36} {'CSR engine: compute / memory (nJ)':>36}")
for wmem in ("han_dram", "sram_1mb"):
    print(f"weights in {wmem}:")
    for s in (0.0, 0.5, 0.9):
        m = copy.deepcopy(ref)
        apply_masks_(m, compute_masks(m, s, scope="global"))
        d = model_energy(m, (1, 64), 32, weight_memory=wmem)
        c = model_energy(m, (1, 64), 32, format="csr", weight_memory=wmem)
        print(f"{s:8.1f} {d['compute_pj'] / 1e3:20.1f} / {d['memory_pj'] / 1e3:9.1f} "
              f"{c['compute_pj'] / 1e3:22.1f} / {c['memory_pj'] / 1e3:9.1f}")

# %%
ed = model_energy(ref, (1, 64), 32, weight_memory="han_dram")
es = model_energy(ref, (1, 64), 32, weight_memory="sram_1mb")
kb = model_storage(ref, 32, "dense")["total_bytes"] / 1000
display(md("The dense fp32 MLP stores {kb:.0f} KB of parameters. At batch 1 every weight is fetched "
           "once per inference: from DRAM that is {dshare:.0%} of the energy; if the chip has at "
           "least {kb:.0f} KB of on-chip SRAM for the weights (Horowitz's 1 MB SRAM level) the "
           "same inference costs {ratio:.0f}× less and memory is {sshare:.0%} of it. A 200 KB "
           "model fits on chip only where that much SRAM is free for weights; "
           "otherwise pruning + quantization (notebook 06) must bring it under the SRAM size.",
           kb=kb, dshare=ed["memory_pj"] / ed["total_pj"], sshare=es["memory_pj"] / es["total_pj"],
           ratio=ed["total_pj"] / es["total_pj"]))
claim(ed["memory_pj"] > 10 * ed["compute_pj"] and es["memory_pj"] > es["compute_pj"],
      "memory dominates compute, weights in DRAM or in SRAM")

# %% [markdown]
# Stored densely, the pruned model is exactly as large as the original; CSR with 32-bit indices
# is *larger* than dense below ~50 % sparsity; a bitmask breaks even at 1/32 ≈ 3 %. Compression
# needs the right format — and, for big ratios, quantization of the remaining values
# (notebook 06). Note also the accuracy: 90 % without fine-tuning is far below the reference;
# fine-tuning (notebook 04) is what makes high sparsity usable.

# %% [markdown]
# ## Open challenges (graded by measurement)
#
# 1. **Smallest MLP on disk** at ≥ 95 % validation accuracy, in any storage format of notebook 08
#    (`pruninglab.hardware` storage: dense, bitmask, CSR, relative, codebook, …; a bit-width below 32
#    only counts when every layer really has at most `2^bits` distinct non-zero values).
# 2. **Fastest model on this machine** at ≥ 96 % validation accuracy (batch-1 median latency, one
#    thread; structured pruning that shrinks the hidden sizes is allowed).
#
# Submit `{"state_dict": model.state_dict(), "format": ..., "bits": ...}` to
# `pruninglab.grading.challenges.leaderboard({name: submission, ...}, "smallest" | "fastest")`.
# The reference solutions to beat:

# %%
from pruninglab.grading import challenges as C
board = C.leaderboard(C.reference_submissions(), "smallest")
print(C.format_leaderboard(board))

# %% tags=["nbval-ignore-output"]
# measured on this machine (timings vary run to run)
print(C.format_leaderboard(C.leaderboard(
    {"reference dense fp32": C.reference_submissions()["reference dense fp32"]}, "fastest")))

# %% [markdown]
# ## Check yourself
#
# Write your answer to each question first (on paper or in a cell of your own), then open its
# collapsed answer.
#
# 1. A layer is pruned to 90 % unstructured sparsity and run with `torch.nn.functional.linear`.
#    How many MACs does it execute, compared with the unpruned layer?
#
# <details><summary>Answer</summary>
#
# Exactly the same number: the dense kernel multiplies the zeros too. Only a sparse kernel or a
# physically smaller (structured-pruned) layer executes fewer MACs.
#
# </details>
#
# 2. Why is training with a pruning mask not faster than dense training?
#
# <details><summary>Answer</summary>
#
# The weight tensors keep their dense shapes, so forward and backward passes do the same dense
# work; applying the mask after each step is additional work. And the usual workflow (train →
# prune → fine-tune) adds epochs.
#
# </details>
#
# 3. Above which sparsity does CSR with fp32 values and 32-bit column indices beat dense storage,
#    and why?
#
# <details><summary>Answer</summary>
#
# Just above 50 %: every kept value costs 32 + 32 bits instead of 32, plus the row pointers, so
# fewer than half of the values may remain.
#
# </details>
#
# 4. Which kind of pruning speeds up inference on any hardware, and what is its price?
#
# <details><summary>Answer</summary>
#
# Structured pruning (whole neurons/filters/channels, Li et al. 2017): the layers become smaller
# dense layers. The price is a larger accuracy loss per removed parameter than unstructured
# pruning, usually recovered by fine-tuning.
#
# </details>
#
# 5. `torch.nn.utils.prune.l1_unstructured` was applied to a model. Is the saved model smaller?
#
# <details><summary>Answer</summary>
#
# No — larger: it stores `weight_orig` plus a `weight_mask` of the same shape. After
# `prune.remove` it is the same size as the original, with zeros inside.
#
# </details>
