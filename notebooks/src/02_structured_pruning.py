# %% [markdown]
# # 02 · Structured pruning: removing neurons, filters and channels for real
#
# Unstructured pruning (notebook 01) sets individual weights to zero: the tensors keep their shapes,
# and a dense matrix engine still multiplies every zero. **Structured pruning** removes whole
# *structures* — a neuron (one output row of a Linear weight, plus its bias and the matching *input
# column* of the next layer) or a filter (one output channel of a Conv2d, plus its BatchNorm entries and
# the matching *input channel* of the next layer). Done right, the result is a smaller **dense** model
# that is faster on any hardware.
#
# **Learning goals**
#
# 1. Tell apart a *zero mask* (same shapes, same dense work) from a *physical shrink* (smaller matrices).
# 2. Remove a neuron/filter consistently: weight rows, bias, BatchNorm, and the next layer's inputs — and
#    check that the shrunk model computes exactly what the masked model computes.
# 3. Compare filter-selection criteria (L1, L2 — Li et al. 2017 — and random) by measurement on the
#    **validation** split, before and after a short fine-tune.
# 4. Compare structured and unstructured pruning at an equal number of weights: accuracy versus dense
#    MACs, bytes, modeled energy and measured latency.
#
# **Seed items in this notebook:** S0-C1, S3-C1, S2-C3 — three "structured pruning" coding answers that
# turn out not to be structured pruning.
#
# Models: the reference digits MLP (64 → 256 → 128 → 10, `fc1`, `fc2`, `fc3`) and CNN (`conv1`/`bn1` 16
# channels, `conv2`/`bn2` 32, `conv3`/`bn3` 64, `fc` 256 → 10). Every accuracy below is on the
# validation split (359 images, so one image = 0.28 percentage points).

# %%
from pruninglab.utils import notebook_setup; notebook_setup()

import copy

import ipywidgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from pruninglab import seeds
from pruninglab.data import load_digits
from pruninglab.hardware import layer_profile, measure_latency
from pruninglab.labs.structured import (CRITERIA, RATIO_GRID, compute_structured, cost_summary,
                                        from_numpy_dict, live_structured, render_structured,
                                        structured_prune, structured_sweep, to_numpy_dict)
from pruninglab.models import load_reference
from pruninglab.pruning import (apply_mask, compute_masks, count_params, fine_tune_,
                                prune_neurons_numpy, shrink_model, sparsity_of, structure_scores,
                                structured_keep, structured_mask, zero_structures)
from pruninglab.train import accuracy, train
from pruninglab.ui import dropdown, float_slider, slider_ui
from pruninglab.claims import claim, claim_between, claim_close, md
from pruninglab.grading import check, solution
from pruninglab.labs.learner import predict, ready, reveal
from pruninglab.labs.structured import (cached_sweep, interleaved_latency, learner_sweep,
                                        shrink_cnn_with, shrink_mlp_with, spread_verdict)

train_mlp, val_mlp = load_digits("train"), load_digits("val")
train_cnn, val_cnn = load_digits("train", images=True), load_digits("val", images=True)
mlp, cnn = load_reference("mlp"), load_reference("cnn")
print(f"MLP: val accuracy {accuracy(mlp, val_mlp):.4f}, params {count_params(mlp)}")
print(f"CNN: val accuracy {accuracy(cnn, val_cnn):.4f}, params {count_params(cnn)}")

# %% [markdown] tags=["seed:S0-C1"]
# ## S0-C1 · Implement simple neuron/layer pruning (`simple_pruning`)
#
# **Task (document 000, 算法编程题 1):**
#
# > **1. 请实现一个简单的神经网络剪枝算法。**
# >
# > **题目描述：** 给定一个简单的神经网络模型，实现一个剪枝算法，通过删除部分神经元或层来减少模型的参数数量。
# >
# > **输入：** 一个神经网络模型，包括神经元数量、权重矩阵和激活函数。
# >
# > **输出：** 剪枝后的神经网络模型。
#
# *Translation:* "Implement a simple neural-network pruning algorithm. Given a simple neural network,
# implement a pruning algorithm that reduces the number of parameters **by deleting some neurons or
# layers**. Input: a network model, including the number of neurons, the weight matrices and the
# activation functions. Output: the pruned model."
#
# The document's reference code ("参考代码"), verbatim and run as is:

# %% tags=["seed-code:S0-C1"]
import numpy as np

def simple_pruning(model, pruning_ratio=0.5):
    """
    简单的神经网络剪枝算法。
    
    参数：
    - model: 神经网络模型，包括神经元数量、权重矩阵和激活函数。
    - pruning_ratio: 剪枝比例，表示要剪枝的神经元或层数占总数的比例。
    """
    num_layers, num_neurons, weights, activations = model
    
    # 计算要剪枝的神经元或层数
    num_to_prune = int(pruning_ratio * num_layers)
    
    # 随机选择要剪枝的层
    layers_to_prune = np.random.choice(num_layers, num_to_prune, replace=False)
    
    # 剪枝操作
    for layer in layers_to_prune:
        # 删除权重矩阵和激活函数
        weights.pop(layer)
        activations.pop(layer)
        
        # 更新神经元数量
        num_neurons -= 1
    
    return num_layers, num_neurons, weights, activations

# 示例模型
model = [
    3,  # 层数
    5,  # 神经元数量
    [
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
        [0.7, 0.8, 0.9]
    ],
    ['relu', 'relu', 'softmax']
]

# 剪枝
pruned_model = simple_pruning(model, pruning_ratio=0.5)
print("原始模型：", model)
print("剪枝后模型：", pruned_model)

# %% [markdown]
# The run "worked" — one randomly chosen entry disappeared from the weight list and the activation
# list. Look closer: the line labelled **原始模型 (original model)** prints the *pruned* lists too.
# Below, every defect is shown on small inputs. `fresh()` rebuilds the document's example model each
# time; `simple_pruning` is the function the cell above defined.

# %%
def fresh():
    """The document's example model, a new copy every time."""
    return [3, 5, [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], ['relu', 'relu', 'softmax']]

# Defect 1: the caller's model is mutated (weights.pop / activations.pop act on the caller's lists)
m = fresh()
out = simple_pruning(m, pruning_ratio=0.5)
print("caller's weight list after the call:", m[2])
print("same list object returned?", out[2] is m[2])
# Defect 2: the layer count is not updated
print("returned num_layers:", out[0], "| weight entries left:", len(out[2]), "| activations left:", len(out[3]))
# Defect 3: num_neurons is decreased by 1 per removed *layer* (wrong unit)
print("returned num_neurons:", out[1], "(was 5)")
claim(out[2] is m[2] and out[0] == 3 and len(out[2]) == 2 and out[1] == 4,
      "the caller's list is returned (mutated), 3 layers with 2 weight entries, num_neurons 5 -> 4")

# %%
# Defect 4: ratio x layers is truncated with int(): any ratio < 1/3 is a silent no-op on 3 layers
for r in (0.1, 0.3, 0.33):
    m = fresh()
    out = simple_pruning(m, pruning_ratio=r)
    print(f"pruning_ratio={r}: int({r} * 3) = {int(r * 3)} layers removed, weights left {len(out[2])}")

# %%
# Defect 5: indices are drawn once, then popped one after the other; every pop shifts the
# remaining indices, so the wrong layer is removed -- or pop() runs past the end.
def named():
    return [3, 5, ["W_layer0", "W_layer1", "W_layer2"], ["relu0", "relu1", "softmax2"]]

for seed in range(6):
    np.random.seed(seed)
    drawn = np.random.choice(3, 2, replace=False)
    np.random.seed(seed)
    try:
        out = simple_pruning(named(), pruning_ratio=0.67)
        print(f"seed {seed}: drew layers {drawn.tolist()}, kept {out[2]}")
    except IndexError as e:
        print(f"seed {seed}: drew layers {drawn.tolist()} -> IndexError: {e}")

# %%
# Defect 6: random choice, no importance -- and the output (softmax) layer can be deleted
np.random.seed(1)
print(simple_pruning(named(), pruning_ratio=0.5)[3])

# %% [markdown]
# **Defect 7: deleting a layer breaks the network.** In the example, "weights" is one 3×3 list and each
# "layer" is one *row* of three numbers — the model format has no notion of which layer feeds which, so
# it cannot even express that deleting layer *i* changes the input width of layer *i + 1*. On a real
# network the shapes no longer chain. Delete `fc2` (256 → 128) from the reference MLP:

# %%
broken = copy.deepcopy(mlp)
broken.fc2 = nn.Identity()          # "delete layer fc2"
try:
    broken(val_mlp.x[:1])
except RuntimeError as e:
    print("RuntimeError:", e)

# %% [markdown]
# **What the document gets wrong (S0-C1), numbered**
#
# 1. **Mutates the caller's model**: `weights.pop()` / `activations.pop()` act on the lists inside the
#    caller's `model`, so the "原始模型" print shows the pruned lists (demonstrated above: same object).
# 2. **`num_layers` is never updated**: it returns 3 layers with 2 weight entries.
# 3. **`num_neurons -= 1` per removed layer**: a whole layer is counted as one neuron (wrong unit).
# 4. **`int(ratio · num_layers)` truncates**: any ratio below 1/3 removes nothing on this model, silently.
# 5. **Index shift while popping**: indices drawn for the original list are used on a shrinking list —
#    the wrong layer is removed or `pop` raises `IndexError`, depending on the random draw.
# 6. **Random, not by importance**, and not seeded: even the output (softmax) layer can be removed.
# 7. **Deleting a layer is not "pruning"**: the next layer's input size is not adjusted; on a real
#    network the shapes no longer chain (the `RuntimeError` above). Removing a whole layer changes the
#    architecture and must be followed by re-training; it is not what structured pruning means.
# 8. **Says "neurons or layers", only does layers**: no neuron is ever removed, no weight matrix shrinks.
# 9. **The model format is wrong**: one 3×3 list is not a set of per-layer weight matrices; no biases.
# 10. **No retraining** and no measurement of anything (parameters, accuracy) — the task's stated goal,
#     "减少模型的参数数量" (fewer parameters), is never checked.
#
# **The correct operation** — remove the `k` least important neurons of a layer: their *rows* of `W`,
# their entries of `b`, and the matching *columns* of the next layer's `W_next` (Li et al. 2017 score:
# L1 norm of each neuron's incoming weights). `pruninglab.pruning.prune_neurons_numpy` is the plain-numpy
# teaching version; it returns new arrays. Tiny example with an exact answer: row L1 norms are
# 6, 0.3, 15, 1.5, so with `k = 2` neurons 1 and 3 go.

# %%
W = np.array([[1., 2, 3], [0.1, 0.1, 0.1], [4, 5, 6], [0.5, -0.5, 0.5]], dtype=np.float32)  # (out=4, in=3)
b = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
W_next = np.arange(8, dtype=np.float32).reshape(2, 4)                                        # (2, out=4)
W2, b2, Wn2, keep = prune_neurons_numpy(W, b, W_next, k=2)
print("L1 scores:", np.abs(W).sum(axis=1), "-> keep", keep)
print("shapes:", W.shape, "->", W2.shape, "|", b.shape, "->", b2.shape, "|", W_next.shape, "->", Wn2.shape)
print("W_next columns kept:\n", Wn2)
print("inputs unchanged:", W.shape == (4, 3) and W_next.shape == (2, 4))
claim(list(keep) == [0, 2], "row L1 norms 6, 0.3, 15, 1.5: with k = 2 neurons 1 and 3 go")

# %% [markdown]
# Check the claim that the pruned layer pair is a *smaller version of the same network*: for any input,
# the 2-neuron network equals the 4-neuron network with neurons 1 and 3 silenced (set to 0 after ReLU).

# %%
x = np.array([[1., -2, 3], [0.5, 0.5, 0.5]], dtype=np.float32)
h = np.maximum(x @ W.T + b, 0)
h_silenced = h.copy(); h_silenced[:, [1, 3]] = 0
full = h_silenced @ W_next.T
small = np.maximum(x @ W2.T + b2, 0) @ Wn2.T
print("equal:", np.allclose(full, small), "| outputs:\n", small)

# %% [markdown]
# ### Your turn (graded): `shrink_neurons`
#
# Write the physical neuron removal yourself, with the **L2 norm** of each neuron's incoming
# weights as the score: neuron `j` of a layer `W (out, in)`, `b (out,)` owns row `W[j]`, entry
# `b[j]` and **column** `W_next[:, j]` of the next layer. Remove the `k` neurons with the smallest
# `‖W[j]‖₂ = sqrt(Σ_i W[j, i]²)` (ties: lower index first) and return new, smaller arrays
# `(W2 (out−k, in), b2 (out−k,), W_next2 (out_next, out−k))`, kept neurons in their original order.
# Tiny example with an exact answer: rows (1, 1, 1), (2, 0, 0), (0.1, 0.2, 0.1), (−3, 1, 0) have L2
# norms 1.73, 2, 0.24, 3.16 (L1: 3, 2, 0.4, 4 — L1 and L2 disagree on which of rows 0 and 1 goes
# with `k = 2`).

# %% tags=["answer:shrink_neurons"]
def shrink_neurons(W, b, W_next, k):
    """Remove the k rows of W with the smallest L2 norm, their biases and W_next's columns."""
    ### BEGIN SOLUTION
    norms = np.linalg.norm(W, axis=1)
    keep = np.sort(np.argsort(norms, kind="stable")[k:])
    return W[keep], b[keep], W_next[:, keep]
    ### END SOLUTION

# %% tags=["check:shrink_neurons"]
check("shrink_neurons", shrink_neurons)

# %% [markdown]
# **Your function on the reference MLP.** `shrink_mlp_with(shrink_neurons, mlp, ratio)` calls your
# function on `fc2` (with `fc3` as the next layer) and then on `fc1` (with the shrunk `fc2`), builds
# the smaller torch model and evaluates it on the validation split (no fine-tuning). Predict first:

# %% tags=["nbval-ignore-output"]
predict("02-shrink-mlp", "Removing 50 % of the neurons of fc1 and fc2 by L2 norm, without fine-tuning: "
        "validation accuracy?", choices=["above 0.9", "0.5 - 0.9", "below 0.5"])

# %%
if ready("shrink_neurons", shrink_neurons):
    mine = learner_sweep(shrink_mlp_with, shrink_neurons, mlp, val_mlp, (0.25, 0.5, 0.75))
    lib = [accuracy(structured_prune(mlp, r, "l2"), val_mlp) for r in mine["ratios"]]
    for r, a, n, l in zip(mine["ratios"], mine["accuracy"], mine["params"], lib):
        print(f"ratio {r:.2f}: your shrink_neurons -> val accuracy {a:.4f}, params {n} "
              f"| library shrink_model (L2): {l:.4f}")
    reveal("02-shrink-mlp", round(float(mine["accuracy"][1]), 4))

# %% [markdown] tags=["seed:S3-C1"]
# ## S3-C1 · Structured pruning (`structure_pruning`)
#
# **Task (document 003, 算法编程题 1), verbatim:**
#
# > **算法编程题 1：** 编写一个基于结构剪枝的算法，对给定的神经网络进行权重剪枝，并输出剪枝后的模型。
# >
# > **输入：**
# >
# > - 神经网络模型（包含权重和偏置）；
# > - 剪枝率（表示剪枝的权重比例）。
# >
# > **输出：**
# >
# > - 剪枝后的神经网络模型。
#
# and, after the code, the document's explanation:
#
# > **解析：** 该算法使用随机剪枝方法，根据剪枝率生成一个权重掩码，将权重乘以掩码实现权重剪枝。输出剪枝后的模型。
#
# *Translation:* "Write an algorithm **based on structured pruning** that performs **weight pruning** on
# a given network and outputs the pruned model. Input: the network (weights and biases); the pruning
# rate (the fraction of weights pruned). Output: the pruned model." — "Analysis: the algorithm uses
# **random pruning**: it generates a weight mask from the pruning rate and multiplies the weights by the
# mask. It outputs the pruned model." (The heading presents this as a "满分答案", a full-marks answer.)
#
# The document's code, verbatim (it only defines a function):

# %% tags=["seed-code:S3-C1"]
import numpy as np

def structure_pruning(model, pruning_rate):
    pruned_model = {}
    for layer, params in model.items():
        weights, biases = params['weights'], params['biases']
        mask = np.random.choice([0, 1], size=weights.shape, p=[pruning_rate, 1-pruning_rate])
        pruned_weights = weights * mask
        pruned_model[layer] = {'weights': pruned_weights, 'biases': biases}
    return pruned_model

# %% [markdown]
# Run it on a tiny float32 layer (4 neurons × 3 inputs) with `pruning_rate = 0.5`:

# %%
np.random.seed(0)
tiny = {"fc": {"weights": np.arange(1, 13, dtype=np.float32).reshape(4, 3),
               "biases": np.array([1., 2, 3, 4], dtype=np.float32)}}
pruned = structure_pruning(tiny, 0.5)
print(pruned["fc"]["weights"])
# Defect 1: element-wise (unstructured) mask -- no row or column is removed, shapes unchanged
print("shape:", tiny["fc"]["weights"].shape, "->", pruned["fc"]["weights"].shape,
      "| rows entirely zero:", int((pruned["fc"]["weights"] == 0).all(axis=1).sum()))
# Defect 2: float32 * int64 mask -> float64: the "pruned" model is twice as large in memory
print("dtype:", tiny["fc"]["weights"].dtype, "->", pruned["fc"]["weights"].dtype,
      "| bytes:", tiny["fc"]["weights"].nbytes, "->", pruned["fc"]["weights"].nbytes)
# Defect 3: the biases are the caller's array (aliased, not copied)
print("biases aliased:", pruned["fc"]["biases"] is tiny["fc"]["biases"])

# %%
# Defect 4: a neuron whose weights are all masked still fires: output = relu(bias) (bias kept)
np.random.seed(3)
p = structure_pruning(tiny, 0.8)
dead = np.flatnonzero((p["fc"]["weights"] == 0).all(axis=1))
x = np.array([[1., 1, 1]], dtype=np.float32)
y = np.maximum(x @ p["fc"]["weights"].T + p["fc"]["biases"], 0)
print("rows with all weights pruned:", dead.tolist(), "| their outputs:", y[0, dead].tolist())

# %%
# Defect 5: the pruned fraction is random (Bernoulli), not the requested rate; and not reproducible
ref = to_numpy_dict(mlp)
n = sum(d["weights"].size for d in ref.values())
for seed in (0, 1):
    np.random.seed(seed)
    q = structure_pruning(ref, 0.5)
    z = sum(int((d["weights"] == 0).sum()) for d in q.values())
    print(f"seed {seed}: pruned {z} of {n} weights (rate 0.5 asks for {round(0.5 * n)})")
# Defect 6: no input validation -- an out-of-range rate gives numpy's message, not the argument's name
try:
    structure_pruning(tiny, 1.5)
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# Defect 7: **random instead of importance**. On the reference MLP, compare the document's random mask
# with magnitude pruning (Han et al. 2015, per layer, `compute_masks`) at the same sparsity, and with
# real structured pruning (remove 50 % of the hidden neurons by L1 norm, `shrink_model`), all without
# fine-tuning:

# %%
np.random.seed(0)
doc_model = from_numpy_dict(mlp, structure_pruning(ref, 0.5))
mag = copy.deepcopy(mlp)
masks = compute_masks(mag, 0.5, scope="layer")
for name, mk in masks.items():
    getattr(mag, name).weight.data = apply_mask(getattr(mag, name).weight.data, mk)
struct = structured_prune(mlp, 0.5, "l1")
acc7, macs7 = {}, {}
for label, mdl in (("document (random mask, 50%)", doc_model), ("magnitude mask (50%)", mag),
                   ("structured L1, 50% of neurons", struct)):
    c = cost_summary(mdl)
    acc7[label], macs7[label] = accuracy(mdl, val_mlp), c["macs"]
    print(f"{label:32s} val acc {acc7[label]:.4f} | nonzero weights {c['nonzero_weights']:6d} "
          f"| dense MACs {c['macs']}")
md("The document's random mask keeps {d:.4f} against {m:.4f} for magnitude pruning at the same "
   "sparsity ({gap:.1f} points lower); only the structured row has fewer dense MACs ({s} vs {dm}).",
   d=acc7["document (random mask, 50%)"], m=acc7["magnitude mask (50%)"],
   gap=100 * (acc7["magnitude mask (50%)"] - acc7["document (random mask, 50%)"]),
   s=macs7["structured L1, 50% of neurons"], dm=macs7["magnitude mask (50%)"])

# %% [markdown]
# **What the document gets wrong (S3-C1), numbered**
#
# 1. **Not structured**: the mask is drawn per *weight* (`size=weights.shape`), so this is random
#    unstructured pruning; no neuron/row disappears, shapes and dense MACs are unchanged. The task text
#    itself mixes the two ("基于结构剪枝 … 进行权重剪枝").
# 2. **dtype promotion**: `float32 * int64` mask → float64; the "pruned" model takes twice the memory.
# 3. **Aliasing**: the returned biases *are* the caller's arrays; changing one changes the other.
# 4. **Biases untouched**: a neuron whose incoming weights are all masked still outputs `relu(b)` —
#    it is not removed (shown above); a real structured removal must drop the bias and the next layer's
#    input column too.
# 5. **Inexact, non-reproducible rate**: each weight is dropped with probability `pruning_rate`, so the
#    count is random; the global `np.random` state is used without a seed.
# 6. **No validation**: a rate outside [0, 1] fails inside numpy with an unrelated message.
# 7. **Random instead of importance**: worse than magnitude pruning at the same sparsity (the numbers
#    under the table above).
# 8. **No fine-tuning and no mask kept** for retraining; nothing is measured.
# 9. **"满分答案" (full-marks answer) is a misleading claim** for code that does not do what the title says.
#
# The correct version is `structured_prune(model, ratio, "l1")` (a thin wrapper in
# `pruninglab.labs.structured` over `pruninglab.pruning.shrink_model`): only that row of the table has
# fewer dense MACs. How it works is shown after the next item.

# %% [markdown] tags=["seed:S2-C3"]
# ## S2-C3 · Structured pruning (`structural_pruning`, TensorFlow)
#
# **Task (document 002):** "##### 3. 编写一个Python程序，实现结构剪枝算法。" *(Write a Python program that
# implements a structured pruning algorithm.)* The document's answer, verbatim (TensorFlow is not
# installed here, so it is shown, not run):

# %% [markdown] tags=["seed-code:S2-C3"]
# ```python
# import tensorflow as tf
#
# def structural_pruning(model, pruning_rate):
#     pruning_scope = tf.keras.mixed_precision.experimental.Policy('mixed_float16')
#     tf.keras.mixed_precision.experimental.set_policy(pruning_scope)
#
#     for layer in model.layers:
#         if isinstance(layer, tf.keras.layers.Dense):
#             kernel = layer.kernel
#             bias = layer.bias
#             kernel_shape = kernel.shape
#             bias_shape = bias.shape
#
#             kernel_to_prune = tf.random.uniform(kernel_shape, minval=0, maxval=1, dtype=tf.float32)
#             kernel_to_prune = tf.cast(kernel_to_prune < pruning_rate, tf.float32)
#             kernel_pruned = kernel * kernel_to_prune
#
#             bias_to_prune = tf.random.uniform(bias_shape, minval=0, maxval=1, dtype=tf.float32)
#             bias_to_prune = tf.cast(bias_to_prune < pruning_rate, tf.float32)
#             bias_pruned = bias * bias_to_prune
#
#             layer.kernel.assign(kernel_pruned)
#             layer.bias.assign(bias_pruned)
#
# model = tf.keras.Sequential([
#     tf.keras.layers.Dense(128, activation='relu', input_shape=(784,)),
#     tf.keras.layers.Dense(10, activation='softmax')
# ])
#
# structural_pruning(model, 0.5)
# ```

# %% [markdown]
# and its explanation:
#
# > **解析：** 该程序使用TensorFlow实现结构剪枝算法。对于每个Dense层，随机生成一个二进制掩码，根据掩码判断是否需要剪枝。如果剪枝率小于0.5，则将对应的权重和偏置设置为0。
#
# *Translation:* "The program implements structured pruning in TensorFlow. For every Dense layer it
# generates a random binary mask and decides from the mask whether to prune. **If the pruning rate is
# less than 0.5, the corresponding weights and biases are set to 0.**"
#
# **A faithful PyTorch translation** (same logic, same defects). `nn.Linear.weight` is Keras'
# `kernel` transposed; the mask is element-wise, so the layout does not matter. The first two lines set
# a global *mixed-precision dtype policy*: it has no PyTorch equivalent and nothing to do with pruning
# (see defect 8); the translation keeps the rest line by line, with a seeded generator so the output is
# reproducible.

# %%
def structural_pruning_torch(model, pruning_rate, generator=None):
    # (TF: mixed_precision.experimental.set_policy('mixed_float16') -- global side effect, see defect 8)
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            kernel = layer.weight
            bias = layer.bias
            kernel_shape = kernel.shape
            bias_shape = bias.shape

            kernel_to_prune = torch.rand(kernel_shape, generator=generator, dtype=torch.float32)
            kernel_to_prune = (kernel_to_prune < pruning_rate).float()
            kernel_pruned = kernel * kernel_to_prune

            bias_to_prune = torch.rand(bias_shape, generator=generator, dtype=torch.float32)
            bias_to_prune = (bias_to_prune < pruning_rate).float()
            bias_pruned = bias * bias_to_prune

            with torch.no_grad():
                layer.weight.copy_(kernel_pruned)
                layer.bias.copy_(bias_pruned)

# the document's model: Dense(128, relu, input 784) -> Dense(10, softmax)
g = torch.Generator().manual_seed(0)
doc_net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.Softmax(dim=1))
result = structural_pruning_torch(doc_net, 0.5, g)
print("return value:", result)
print("shapes after 'structural' pruning:", [tuple(l.weight.shape) for l in doc_net if isinstance(l, nn.Linear)])
rows_removed = int((doc_net[0].weight == 0).all(dim=1).sum())
print("neurons (rows) entirely removed:", rows_removed, "of 128")
claim(rows_removed == 0, "no neuron is removed (0 of 128 rows)")

# %%
# Defect 1: the mask KEEPS a weight with probability pruning_rate (u < rate -> 1): the ratio is inverted
zeroed = {}
for rate in (0.1, 0.5, 0.9):
    net = copy.deepcopy(mlp)
    structural_pruning_torch(net, rate, torch.Generator().manual_seed(0))
    zeroed[rate] = s = sparsity_of({n: getattr(net, n).weight for n in ("fc1", "fc2", "fc3")})
    print(f"pruning_rate={rate}: fraction of weights zeroed = {s:.3f}")
claim_close(zeroed[0.9], 0.10, 0.02, "the fraction zeroed by pruning_rate=0.9 (about 10 %)")

# %%
# Defect 2: bias and weight masks are independent -> half-removed neurons
net = copy.deepcopy(mlp)
structural_pruning_torch(net, 0.5, torch.Generator().manual_seed(0))
row_alive = (net.fc1.weight != 0).any(dim=1)
bias_zero = net.fc1.bias == 0
print("fc1 neurons with zeroed bias but live weights:", int((bias_zero & row_alive).sum()), "of 256")
# Defect 3: the classifier (output layer) is pruned too
print("fc3 (10 class outputs) weights zeroed:", int((net.fc3.weight == 0).sum()), "of", net.fc3.weight.numel())
# Defect 4: the caller's model is overwritten in place, no copy, nothing returned
acc_doc = accuracy(net, val_mlp)
print("val accuracy after structural_pruning(…, 0.5):", round(acc_doc, 4),
      "| reference before:", round(accuracy(mlp, val_mlp), 4))
claim(acc_doc < 0.5, "the reference MLP's accuracy collapses after structural_pruning(…, 0.5)")
claim_between(int((net.fc3.weight == 0).sum()) / net.fc3.weight.numel(), 0.4, 0.6,
              "about half of the classifier's weights are zeroed")

# %%
# Defect 5: no mask is kept, so ordinary retraining revives the "pruned" weights at once
before = {n: getattr(net, n).weight == 0 for n in ("fc1", "fc2", "fc3")}
with torch.no_grad():
    h1 = torch.relu(net.fc1(train_mlp.x))
dead = (h1 == 0).all(dim=0)          # fc1 units that output 0 on every training image
train(net, train_mlp, epochs=1, lr=1e-3, seed=0)
revived_all = 0
for n, z in before.items():
    revived = int((z & (getattr(net, n).weight != 0)).sum())
    revived_all += revived
    print(f"{n}: zeroed weights {int(z.sum()):6d} | non-zero again after 1 epoch {revived:6d}")
claim(revived_all >= 2000, "one epoch makes thousands of 'pruned' weights non-zero again")
print("fc1 units dead (output 0 on all training images) after the random pruning:", int(dead.sum()), "of 256")

# %% [markdown]
# **What the document gets wrong (S2-C3), numbered**
#
# 1. **Inverted ratio**: `cast(u < rate)` is the *keep* mask, so a weight survives with probability
#    `pruning_rate`; `pruning_rate=0.9` zeroes about 10 % of the weights (measured above). At 0.5 the bug
#    is invisible.
# 2. **Not structured**: an element-wise random mask on the kernel; no neuron is removed (0 of 128 rows),
#    shapes and dense FLOPs are unchanged — this is random *unstructured* pruning.
# 3. **Bias mask independent of the weight mask**: neurons lose their bias but keep their weights (and
#    vice versa), which matches no definition of removing a neuron.
# 4. **Prunes the output layer**: half of the 10-class classifier's weights and biases are zeroed.
# 5. **Random instead of importance**: accuracy of the reference MLP collapses (measured above).
# 6. **No mask enforcement / no fine-tuning**: the zeros are not remembered; one epoch of ordinary
#    training makes thousands of "pruned" weights non-zero again (counts above), so the sparsity pattern
#    is lost. (Weights that stay at 0 had exactly zero gradient — e.g. those feeding or leaving ReLU
#    units that the random pruning left dead; the count of dead `fc1` units is printed.)
# 7. **Inexact, non-reproducible count**: Bernoulli draws from an unseeded `tf.random.uniform`.
# 8. **Unrelated global side effect**: `tf.keras.mixed_precision.experimental.set_policy('mixed_float16')`
#    changes the *global* dtype policy. By TensorFlow's API documentation the global policy is the
#    default for layers created *later* (if no policy is passed to the constructor), so it does nothing to
#    this already-built model but silently switches every model built afterwards to float16 compute; the
#    `experimental` namespace was deprecated in TF 2.4 and **removed in TF 2.9**, so on any current
#    TensorFlow the first line raises `AttributeError` (stable API since 2.4:
#    `tf.keras.mixed_precision.set_global_policy`). The variable name `pruning_scope` suggests a pruning
#    scope that it is not.
# 9. **Mutates the caller's model and returns `None`**: no way to compare before/after without a copy.
# 10. **The explanation is wrong**: "如果剪枝率小于0.5，则将对应的权重和偏置设置为0" ("if the pruning rate is below
#     0.5 the weights and biases are set to 0") describes no line of the code; the rate is compared with a
#     uniform random number per weight.

# %% [markdown]
# ## The corrected version: structured pruning with `pruninglab`
#
# Two library functions, both pure (the input model is unchanged):
#
# * `zero_structures(model, {layer: ratio}, criterion=...)` — **zero-mask mode**: same shapes; the removed
#   units' weight rows, biases and BatchNorm γ, β are set to 0 so that they output exactly 0
#   (identical to `torch.nn.utils.prune.ln_structured` on the weight plus the bias/BN fix).
# * `shrink_model(model, {layer: ratio}, criterion=...)` — **physical shrink**: new smaller layers; the
#   next layer loses the matching input columns / channels, BatchNorm loses the matching entries.
#
# Criterion: L1 (Li et al. 2017) or L2 norm of each output row / filter, or any score dict.
#
# **Tiny Linear stack, exact answer.** Row L1 norms of `W1` are 1, 0.1, 4, 0.3, 3, 1 and row L2 norms
# 1, 0.1, 2.83, 0.22, 3, 0.71, so removing 50 % (3 of 6) keeps neurons [2, 4, 5] with L1 (tie at 1:
# lower index removed first) but [0, 2, 4] with L2.

# %%
lin = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3))
with torch.no_grad():
    lin[0].weight.copy_(torch.tensor([[1., 0, 0, 0], [0, 0.1, 0, 0], [2, 2, 0, 0],
                                      [0, 0, 0.2, 0.1], [0, 0, 0, 3], [-0.5, 0.5, 0, 0]]))
    lin[0].bias.copy_(torch.arange(6.) / 10 + 0.1)
    lin[2].weight.copy_(torch.arange(18.).reshape(3, 6))
    lin[2].bias.zero_()
print("L1:", structure_scores(lin[0].weight, p=1), "\nL2:", structure_scores(lin[0].weight, p=2))
kept_by = {crit: structured_keep(lin, {"0": 0.5}, criterion=crit)["0"].tolist() for crit in ("l1", "l2")}
for crit, kept in kept_by.items():
    print(crit, "keeps", kept)
claim(kept_by == {"l1": [2, 4, 5], "l2": [0, 2, 4]}, "L1 keeps [2, 4, 5], L2 keeps [0, 2, 4]")
small = shrink_model(lin, {"0": 0.5}, criterion="l1")
print(small)
print("next layer's weight = original columns [2, 4, 5]:",
      torch.equal(small[2].weight, lin[2].weight[:, [2, 4, 5]]))

# %% [markdown]
# Does the shrunk model compute exactly what the zero-masked model computes? And why must the bias be
# zeroed too? Compare with a mask on the weight rows only (`structured_mask`, what `ln_structured` does):

# %%
xs = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
masked = zero_structures(lin, {"0": 0.5}, criterion="l1")
rows_only = copy.deepcopy(lin)
rows_only[0].weight.data = apply_mask(lin[0].weight.data, structured_mask(lin[0].weight.data, 0.5, p=1))
with torch.no_grad():
    print("shrunk == zero_structures:", torch.allclose(small(xs), masked(xs), atol=1e-6))
    print("shrunk == weight-rows-only mask:", torch.allclose(small(xs), rows_only(xs), atol=1e-6),
          "| max |diff| =", round(float((small(xs) - rows_only(xs)).abs().max()), 3))
print("original model unchanged:", lin[0].weight.shape == (6, 4))

# %% [markdown]
# **Tiny Conv + BatchNorm stack.** Filters are output channels; removing 2 of 4 filters of the first conv
# removes 2 BatchNorm entries and 2 *input channels* of the second conv; removing 4 of 8 filters of the
# second conv removes 4 × 16 = 64 inputs of the Linear layer after `Flatten` (each channel owns a 4 × 4
# block). BatchNorm running statistics are set to non-trivial values and the model is in eval mode, so a
# removed channel would output `relu(β − γ·μ/σ)`, not 0, unless BN is handled.

# %%
torch.manual_seed(0)
conv_stack = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(),
                           nn.Conv2d(4, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                           nn.Flatten(), nn.Linear(8 * 4 * 4, 3))
with torch.no_grad():
    for bn in (conv_stack[1], conv_stack[4]):
        bn.running_mean.uniform_(-1, 1); bn.running_var.uniform_(0.5, 2)
        bn.weight.uniform_(0.5, 1.5); bn.bias.uniform_(0.2, 1.0)
conv_stack.eval()
ratios = {"0": 0.5, "3": 0.5}
conv_small = shrink_model(conv_stack, ratios)
conv_zero = zero_structures(conv_stack, ratios)
for name in ("0", "1", "3", "4", "7"):
    a, b_ = conv_stack.get_submodule(name), conv_small.get_submodule(name)
    print(f"{name}: {type(a).__name__:12s} weight {tuple(a.weight.shape)} -> {tuple(b_.weight.shape)}")
xc = torch.randn(2, 1, 4, 4, generator=torch.Generator().manual_seed(1))
filt_only = copy.deepcopy(conv_stack)
for name in ("0", "3"):
    w = filt_only.get_submodule(name).weight.data
    filt_only.get_submodule(name).weight.data = apply_mask(w, structured_mask(w, 0.5, p=1))
with torch.no_grad():
    print("shrunk == zero_structures:", torch.allclose(conv_small(xc), conv_zero(xc), atol=1e-5))
    print("shrunk == filter-only mask (BN left as is):", torch.allclose(conv_small(xc), filt_only(xc), atol=1e-5))

# %% [markdown]
# ### Your turn (graded): `prune_conv_filters`
#
# The same for a convolution followed by BatchNorm: filter `j` of `conv_w (out, in, kh, kw)` owns
# `conv_w[j]`, the BatchNorm entries `gamma[j], beta[j], mean[j], var[j]` (weight, bias,
# running_mean, running_var) and **input channel** `next_w[:, j]` of the next conv
# `(out_next, out, kh, kw)`. Remove the `k` filters with the smallest **L1 norm**
# `Σ |conv_w[j]|` over `(in, kh, kw)` (Li et al. 2017; ties: lower index first) and return the six
# sliced arrays. Forgetting the running statistics is the classic bug: in eval mode BatchNorm
# computes `γ·(x − μ)/√(σ² + ε) + β` with *per-channel* μ, σ², so they must be sliced too.

# %% tags=["answer:prune_conv_filters"]
def prune_conv_filters(conv_w, gamma, beta, mean, var, next_w, k):
    """Remove the k smallest-L1 filters, their BatchNorm entries and next_w's input channels."""
    ### BEGIN SOLUTION
    l1 = np.abs(conv_w).reshape(conv_w.shape[0], -1).sum(axis=1)
    keep = np.sort(np.argsort(l1, kind="stable")[k:])
    return conv_w[keep], gamma[keep], beta[keep], mean[keep], var[keep], next_w[:, keep]
    ### END SOLUTION

# %% tags=["check:prune_conv_filters"]
check("prune_conv_filters", prune_conv_filters)

# %% [markdown]
# **Your function on the reference CNN.** `shrink_cnn_with(prune_conv_filters, cnn, ratio)` calls it
# for `conv3` (the classifier's 256 inputs handed over as a (10, 64, 2, 2) "next conv"), `conv2` and
# `conv1`, and builds the smaller CNN; the check compares its outputs with the library's
# `shrink_model` (L1) on every validation image.

# %% tags=["nbval-ignore-output"]
predict("02-shrink-cnn", "Removing 50 % of the filters of every conv layer (no fine-tuning): which "
        "fraction of conv2's MACs remains?", choices=["0.75", "0.5", "0.25", "0.125"])

# %%
if ready("prune_conv_filters", prune_conv_filters):
    mine_cnn = learner_sweep(shrink_cnn_with, prune_conv_filters, cnn, val_cnn, (0.25, 0.5))
    with torch.no_grad():
        same = torch.allclose(shrink_cnn_with(prune_conv_filters, cnn, 0.5)(val_cnn.x),
                              structured_prune(cnn, 0.5, "l1")(val_cnn.x), atol=1e-4)
    for r, a, n in zip(mine_cnn["ratios"], mine_cnn["accuracy"], mine_cnn["params"]):
        print(f"ratio {r:.2f}: your prune_conv_filters -> val accuracy {a:.4f}, params {n}")
    print("same outputs as shrink_model (L1) at 0.5:", same)
    small_cnn = shrink_cnn_with(prune_conv_filters, cnn, 0.5)
    conv2_kept = [p for p in layer_profile(small_cnn, (1, 1, 8, 8)) if p["name"] == "conv2"][0]["macs"] / \
        [p for p in layer_profile(cnn, (1, 1, 8, 8)) if p["name"] == "conv2"][0]["macs"]
    reveal("02-shrink-cnn", round(conv2_kept, 3))

# %% [markdown]
# ## Neuron pruning of the reference MLP
#
# Remove the same fraction of neurons from `fc1` (256) and `fc2` (128) — the classifier `fc3` keeps its 10
# outputs — with L1, L2 and random selection; for comparison, unstructured magnitude pruning keeping
# **the same number of weights per layer** as the L1-shrunk model. Every model is evaluated on the
# validation split before and after 2 epochs of fine-tuning (Adam, lr 1e-3; the unstructured model with
# its mask enforced, `fine_tune_`). One image is 0.28 points and fine-tuning depends on the seed
# (data order; for random also which neurons go), so every fine-tuning run is repeated with **3 seeds**:
# the tables show the mean and the min–max, and a difference inside the spread is called a **tie**.
# `structured_sweep` runs all of it once.
#
# First the exactness check on the real model: the shrunk MLP equals the zero-masked MLP.

# %%
mlp_small = structured_prune(mlp, 0.5, "l1")
mlp_zero = structured_prune(mlp, 0.5, "l1", mode="zero")
with torch.no_grad():
    print("MLP shrunk == zero-masked on all val images:",
          torch.allclose(mlp_small(val_mlp.x), mlp_zero(val_mlp.x), atol=1e-5))
print([tuple(l.weight.shape) for l in (mlp_small.fc1, mlp_small.fc2, mlp_small.fc3)])
print("dense MACs: zero-masked", cost_summary(mlp_zero)["macs"], "| shrunk", cost_summary(mlp_small)["macs"])

# %% tags=["nbval-ignore-output"]
# a few seconds: progress bar; cached on disk (build/cache) for the next run
mlp_sweep = cached_sweep("mlp", (0.0, 0.5, 0.75), epochs=2, seeds=(0, 1, 2), progress=True)

# %%
def sweep_table(sw):
    n = len(sw["seeds"])
    print(f"validation accuracy; fine-tuned: mean [min-max] over {n} seeds (random: pruned too)")
    print(f"{'method':13s}{'ratio':>6s}{'val pruned':>24s}{'fine-tuned':>24s}{'params':>8s}"
          f"{'nonzero W':>10s}{'dense MACs':>11s}{'bytes':>8s}")
    for meth in sw["methods"]:
        t = sw[meth]
        for i, r in enumerate(sw["ratios"]):
            pr = f"{t['val_pruned'][i]:.4f} [{t['val_pruned_min'][i]:.3f}-{t['val_pruned_max'][i]:.3f}]" \
                if meth == "random" else f"{t['val_pruned'][i]:.4f}"
            ft = f"{t['val_finetuned'][i]:.4f} [{t['val_finetuned_min'][i]:.3f}-{t['val_finetuned_max'][i]:.3f}]"
            print(f"{meth:13s}{r:6.3f}{pr:>24s}{ft:>24s}"
                  f"{t['params'][i]:8d}{t['nonzero_weights'][i]:10d}{t['macs'][i]:11d}{t['bytes'][i]:8d}")

sweep_table(mlp_sweep)

# %%
def at(sw, meth, key, r):
    return float(sw[meth][key][list(sw["ratios"]).index(r)])

def runs(sw, meth, key, r):
    return sw[meth][key + "_runs"][list(sw["ratios"]).index(r)]

def vs(sw, a, b, r, key="val_finetuned"):
    """'higher than' / 'lower than' / 'tied with' (min-max ranges over the seeds overlap)."""
    v = spread_verdict(runs(sw, a, key, r), runs(sw, b, key, r))
    return {"higher": "higher than", "lower": "lower than", "tie": "tied with"}[v]

frac = at(mlp_sweep, "l1", "macs", 0.5) / mlp_sweep["dense"]["macs"]
claim_between(frac, 0.28, 0.40, "at 50 % of the neurons the MLP keeps about a third of its dense MACs")
claim(at(mlp_sweep, "unstructured", "macs", 0.5) == mlp_sweep["dense"]["macs"],
      "the unstructured model's dense MACs do not move")
sw = mlp_sweep
md("Read the table: at 50 % of the neurons the shrunk MLP keeps {frac:.0%} of its dense MACs. Before "
   "fine-tuning (the L1/L2 selections do not depend on a seed), L1 {l1:.4f} and L2 {l2:.4f} against "
   "random {rnd:.4f} (seeds: {rlo:.4f}–{rhi:.4f}). After {ep} epochs ({n} seeds, mean): L1 {l1f:.4f}, "
   "L2 {l2f:.4f}, random {rndf:.4f} — L1 is **{l1r}** random and **{l1l2}** L2 there. The unstructured "
   "model with the same number of non-zero weights is {c5} the L1-shrunk one at 50 % before "
   "fine-tuning ({u5:.4f} vs {l1:.4f}) and {c75} it at 75 % ({u75:.4f} vs {l175:.4f}); after "
   "fine-tuning it is **{f5}** L1 at 50 % and **{f75}** it at 75 %. So \"unstructured keeps more "
   "accuracy\" holds only where these numbers say so — while its dense MACs and dense bytes do not "
   "move at all.",
   frac=frac, l1=at(sw, "l1", "val_pruned", 0.5), l2=at(sw, "l2", "val_pruned", 0.5),
   rnd=at(sw, "random", "val_pruned", 0.5), rlo=at(sw, "random", "val_pruned_min", 0.5),
   rhi=at(sw, "random", "val_pruned_max", 0.5), ep=sw["epochs"], n=len(sw["seeds"]),
   l1f=at(sw, "l1", "val_finetuned", 0.5), l2f=at(sw, "l2", "val_finetuned", 0.5),
   rndf=at(sw, "random", "val_finetuned", 0.5),
   l1r=vs(sw, "l1", "random", 0.5), l1l2=vs(sw, "l1", "l2", 0.5),
   u5=at(sw, "unstructured", "val_pruned", 0.5), u75=at(sw, "unstructured", "val_pruned", 0.75),
   l175=at(sw, "l1", "val_pruned", 0.75),
   c5=vs(sw, "unstructured", "l1", 0.5, "val_pruned"), c75=vs(sw, "unstructured", "l1", 0.75, "val_pruned"),
   f5=vs(sw, "unstructured", "l1", 0.5), f75=vs(sw, "unstructured", "l1", 0.75))

# %% [markdown]
# ## Filter pruning of the reference CNN (Li et al. 2017)
#
# Same protocol on the CNN: remove the same fraction of filters from `conv1`, `conv2` and `conv3`
# (`conv3`'s removed channels also remove their 4 inputs each of `fc`), criteria L1, L2 and random, and
# the equal-weight unstructured baseline, 1 fine-tuning epoch each, 3 seeds, on a grid of ratios (the
# slider below reads its fine-tuned numbers from the nearest grid point and says which one).

# %%
cnn_small = structured_prune(cnn, 0.5, "l1")
cnn_zero = structured_prune(cnn, 0.5, "l1", mode="zero")
with torch.no_grad():
    print("CNN shrunk == zero-masked on all val images:",
          torch.allclose(cnn_small(val_cnn.x), cnn_zero(val_cnn.x), atol=1e-5))
print(f"{'layer':6s}{'weight dense':>18s}{'weight shrunk':>17s}{'MACs dense':>11s}{'MACs shrunk':>12s}{'kept':>7s}")
kept_macs = {}
for a, b_ in zip(layer_profile(cnn, (1, 1, 8, 8)), layer_profile(cnn_small, (1, 1, 8, 8))):
    kept_macs[a["name"]] = b_["macs"] / a["macs"]
    print(f"{a['name']:6s}{str(a['weight_shape']):>18s}{str(b_['weight_shape']):>17s}"
          f"{a['macs']:11d}{b_['macs']:12d}{b_['macs'] / a['macs']:7.3f}")
claim(kept_macs["conv2"] == kept_macs["conv3"] == 0.25 and kept_macs["conv1"] == kept_macs["fc"] == 0.5,
      "conv2/conv3 keep 0.25 of their MACs, conv1 and fc 0.5")

# %% [markdown]
# Removing half of the filters of *every* layer keeps about (1 − 0.5)² = 0.25 of the MACs of `conv2` and
# `conv3`, because both their input and their output channels halve (`conv1` has one input channel and
# `fc` ten outputs, so they keep 0.5).

# %% tags=["nbval-ignore-output"]
# the longest cell (4 methods x 4 ratios x 3 seeds, each fine-tuned): progress bar; cached on disk,
# so the second run (and the other build of this notebook) loads it; the slider below (step
# 0.125) also reaches ratios between the grid points: their live numbers are cached with it
CNN_GRID = (0.0, 0.25, 0.5, 0.75, 0.875)
SLIDER_STEP = 0.125
cnn_sweep = cached_sweep("cnn", CNN_GRID, epochs=1, seeds=(0, 1, 2), progress=True,
                         slider_ratios=[k * SLIDER_STEP for k in range(8)])

# %%
sweep_table(cnn_sweep)
u = cnn_sweep["unstructured"]
print("\nunstructured, stored in CSR (fp32 values + indices):", u["csr_bytes"].tolist(),
      "| dense fp32:", cnn_sweep["dense"]["bytes"])
print("mean val accuracy over the grid (pruned -> fine-tuned):")
for meth in cnn_sweep["methods"]:
    t = cnn_sweep[meth]
    print(f"  {meth:13s} {t['val_pruned'].mean():.4f} -> {t['val_finetuned'].mean():.4f}")

# %% [markdown]
# **What the measurements say** (validation split, 359 images: one image = 0.28 points; fine-tuned
# numbers over 3 seeds, a difference inside their min–max ranges is a tie), rendered from the sweep:

# %%
sw = cnn_sweep
grid = [float(r) for r in sw["ratios"] if r > 0]
def tally(a, b, key="val_finetuned"):
    v = [spread_verdict(runs(sw, a, key, r), runs(sw, b, key, r)) for r in grid]
    return {k: v.count(k) for k in ("higher", "tie", "lower")}
t_l1, t_l2 = tally("l1", "random"), tally("l2", "random")
t_u = tally("unstructured", "l1")
t_ub = tally("unstructured", "l1", "val_pruned")
hi_r = max(grid)
md("* Before fine-tuning, accuracy falls fast with the channel ratio: L1 keeps {b25:.4f} at 0.25 and "
   "{b50:.4f} at 0.5 (dense {dense:.4f}); {ep} epoch of fine-tuning brings it to {f25:.4f} and "
   "{f50:.4f}, and {f_hi:.4f} at {hi:.3f}.\n"
   "* After fine-tuning, over the {n} pruned ratios L1 is above random's range at {l1h}, tied at {l1t} "
   "and below at {l1l}; L2 above at {l2h}, tied at {l2t}, below at {l2l}. So on this small CNN "
   "the norm criteria are **not consistently better than random filters**.\n"
   "* Unstructured pruning at the same number of weights is above the L1-shrunk CNN at {ubh} of the "
   "{n} ratios before fine-tuning (below at {ubl}); after fine-tuning it is above at {uh}, tied at "
   "{ut}, below at {ul} — at {hi:.3f}: {uhi:.4f} vs {lhi:.4f} (L1).",
   b25=at(sw, "l1", "val_pruned", 0.25), b50=at(sw, "l1", "val_pruned", 0.5), dense=sw["dense_val"],
   ep=sw["epochs"], f25=at(sw, "l1", "val_finetuned", 0.25), f50=at(sw, "l1", "val_finetuned", 0.5),
   f_hi=at(sw, "l1", "val_finetuned", hi_r), hi=hi_r, n=len(grid),
   l1h=t_l1["higher"], l1t=t_l1["tie"], l1l=t_l1["lower"], l2h=t_l2["higher"], l2t=t_l2["tie"],
   l2l=t_l2["lower"], ubh=t_ub["higher"], ubl=t_ub["lower"], uh=t_u["higher"], ut=t_u["tie"],
   ul=t_u["lower"], uhi=at(sw, "unstructured", "val_finetuned", hi_r), lhi=at(sw, "l1", "val_finetuned", hi_r))

# %% [markdown]
# Why no clear winner among the criteria? Li et al. (2017) report L1 ahead of random on VGG/ResNet for
# CIFAR-10; a small network with BatchNorm after every conv is a different setting (the filter norm
# ignores BN's γ, which rescales each channel). The honest conclusion: the criterion must be
# *measured* on your model, with its noise, not assumed. **Unstructured pruning** keeps all dense MACs,
# and its CSR storage is *larger* than dense at low sparsity (index overhead; compare the CSR list
# with the dense bytes above).

# %%
claim(sw["unstructured"]["csr_bytes"][1] > sw["dense"]["bytes"],
      "CSR storage of the unstructured model is larger than dense at the lowest pruned ratio")
# the summary table and Check-yourself Q5 below, checked
mlp_u_wins = spread_verdict(runs(mlp_sweep, "unstructured", "val_pruned", 0.5), runs(mlp_sweep, "l1", "val_pruned", 0.5))
cnn_u_wins = [spread_verdict(runs(sw, "unstructured", "val_pruned", r), runs(sw, "l1", "val_pruned", r)) for r in (0.25, 0.5)]
claim(mlp_u_wins == "higher" and cnn_u_wins == ["higher", "higher"],
      "before fine-tuning, unstructured keeps more accuracy than L1-shrunk at 0.25-0.5 (MLP 0.5, CNN 0.25 and 0.5)")
claim(at(mlp_sweep, "unstructured", "val_pruned", 0.75) < at(mlp_sweep, "l1", "val_pruned", 0.75)
      or spread_verdict(runs(sw, "unstructured", "val_finetuned", hi_r), runs(sw, "l1", "val_finetuned", hi_r)) == "lower",
      "at the highest ratios unstructured is not better (MLP 0.75 before fine-tuning or CNN 0.875 after)")

# ### Measured latency: dense vs zero-masked vs shrunk (machine-dependent, not validated)
#
# The zero-masked model has exactly the dense MACs of the original (it multiplies the zeros); only the
# shrunk model does less work. What the *mechanism* guarantees: the same dense MACs and bytes for dense
# and zero-masked, about a quarter of the inner convs' MACs for the shrunk model. The measurement
# below is **on this machine** only (batch of 256 images; `interleaved_latency`: warm-up, then 7
# rounds in which the three variants are timed in a rotating order, denormal floats flushed to zero
# with `torch.set_flush_denormal`, median and min–max reported; not validated). Shared machines are
# noisy: a difference between dense and zero-masked inside their min–max ranges is a tie.

# %% tags=["nbval-ignore-output"]
xb = val_cnn.x[:256]
variants = {"dense": cnn, "zero-masked 50%": cnn_zero, "shrunk 50%": cnn_small}
lat = interleaved_latency(variants, xb, rounds=7, warmup=2)
print("denormals flushed to zero:", lat["flush_denormal"])
for name, m in variants.items():
    t = lat[name]
    print(f"{name:16s} median {t['median_s'] * 1e3:7.3f} ms (min-max {t['min_s'] * 1e3:.3f}-{t['max_s'] * 1e3:.3f}) "
          f"speed-up vs dense {lat['dense']['median_s'] / t['median_s']:4.2f}x  (MACs/image {cost_summary(m)['macs']})")

# %% [markdown]
# ## Interactive: channel ratio and criterion
#
# `compute_structured(ratio, criterion, sweep)` shrinks the reference CNN live at the chosen ratio,
# evaluates it (no fine-tuning), computes parameters, dense MACs, fp32 bytes and the modeled energy per
# image (`pruninglab.hardware.model_energy`, Horowitz 2014 table: fp32 MACs plus weight/activation memory
# accesses), and builds the equal-weight unstructured model (dense MACs, CSR bytes, energy on hardware that
# skips zeros). The fine-tuned accuracy is looked up in the sweep above. Fixed values first (validated):

# %%
r = compute_structured(0.5, "l1", cnn_sweep)
render_structured(r)

# %% [markdown]
# Before you move the slider, predict: with **no** fine-tuning, which criterion keeps the most
# validation accuracy when 0.375 of the filters go (a ratio between the sweep's grid points, computed
# live)?

# %% tags=["nbval-ignore-output"]
predict("02-slider", "Channel ratio 0.375, no fine-tuning: which criterion keeps the highest "
        "validation accuracy?", choices=list(CRITERIA))

# %% tags=["nbval-ignore-output"]
slider_ui(compute_structured, live_structured(),
          ratio=float_slider(0.5, 0.0, 7 * SLIDER_STEP, SLIDER_STEP, "channel ratio", readout_format=".3f"),
          criterion=dropdown(CRITERIA, "l1", "criterion"), sweep=ipywidgets.fixed(cnn_sweep))

# %%
at_0375 = {c: compute_structured(0.375, c, cnn_sweep)["val_pruned"] for c in CRITERIA}
print("ratio 0.375, no fine-tuning:", " | ".join(f"{c} {a:.4f}" for c, a in at_0375.items()))
reveal("02-slider", max(at_0375, key=at_0375.get))

# %% [markdown]
# ### Test split, once: the chosen setting
#
# Everything above was compared on the validation split. The setting examined most closely — the CNN
# with 50 % of the filters removed by L1, *before* fine-tuning (the sweep shows how much fine-tuning
# recovers on validation) — reported once on the test split, next to the dense CNN:

# %% tags=["test-report"]
test_cnn = load_digits("test", images=True)
print(f"test accuracy: dense CNN {accuracy(cnn, test_cnn):.4f} | L1-shrunk 50 % {accuracy(cnn_small, test_cnn):.4f} "
      f"({len(test_cnn)} images)")

# %% [markdown]
# ## Summary
#
# | | zero mask (`zero_structures`, `ln_structured`) | physical shrink (`shrink_model`) | unstructured mask |
# |---|---|---|---|
# | tensor shapes | unchanged | smaller | unchanged |
# | dense MACs and bytes (guaranteed) | unchanged | reduced (≈ (1 − p)² MACs for inner convs) | unchanged (CSR bytes: see above) |
# | measured latency (this machine, noisy) | ≈ dense: no fewer MACs | lower | ≈ dense without sparse kernels |
# | needs special kernels | — | no | yes (sparse formats, zero skipping) |
# | accuracy at equal #weights (measured here) | = shrink | lower before fine-tuning at 0.25–0.5 (checked above) | higher there, but not at the highest ratios; after fine-tuning: see the rendered verdicts |
#
# Sources: H. Li et al. (2017) *Pruning Filters for Efficient ConvNets*, ICLR (L1 filter norm; remove the
# next layer's input channels; retrain); S. Han et al. (2015) *Learning both Weights and Connections for
# Efficient Neural Networks*, NeurIPS (magnitude pruning + retraining); H. Hu et al. (2016) *Network
# Trimming* (APoZ, a data-driven neuron criterion, `pruninglab.pruning.activation_stats`); P. Molchanov et
# al. (2017, 2019) Taylor criteria (`taylor_scores`); M. Horowitz (2014) ISSCC energy table.

# %% [markdown]
# ## Check yourself
#
# 1. You zero the weight rows of 50 % of the neurons of `fc1` with `ln_structured`. Does the network now
#    compute the same function as the 128-neuron network? Why or why not?
#
# <details><summary>Answer</summary>No, not in general: a neuron whose incoming weights are zero still
# outputs relu(bias) (after BatchNorm: relu(β − γ·μ/σ)), and the next layer multiplies that constant by
# its column. Either also zero the bias/BN entries (`zero_structures`) or delete the next layer's columns
# (`shrink_model`); the notebook shows the rows-only mask differs from the shrunk model.</details>
#
# 2. Removing a fraction p of the filters of *every* conv layer: which fraction of an inner conv layer's
#    MACs remains, and why?
#
# <details><summary>Answer</summary>About (1 − p)²: the layer's MACs are proportional to
# C_in · C_out · R · S · P · Q, and both C_in (the previous layer's filters) and C_out shrink by (1 − p).
# The measured per-layer table shows 0.25 for conv2/conv3 at p = 0.5.</details>
#
# 3. Why does a zero-masked model (same shapes) run no faster than the dense model on a CPU or GPU, while
#    the shrunk model does?
#
# <details><summary>Answer</summary>Dense GEMM/convolution kernels multiply every entry, zeros included;
# only a smaller matrix (fewer channels) reduces the work without special sparse kernels or
# zero-skipping hardware. In the measured latency cell (interleaved, denormals flushed) compare the
# medians and min–max ranges on this machine: a dense vs zero-masked difference is noise or a
# data-dependent kernel effect, not fewer MACs.</details>
#
# 4. Name three things the document's `structural_pruning` (S2-C3) does that disqualify it as structured
#    pruning.
#
# <details><summary>Answer</summary>Element-wise random masks (no neuron removed, shapes unchanged);
# independent bias mask; the output layer is pruned; also: inverted keep/prune ratio, no mask enforcement
# during retraining, a global mixed-precision side effect.</details>
#
# 5. Before fine-tuning, at channel ratios 0.25–0.5, unstructured pruning at the same number of
#    remaining weights kept more accuracy than structured pruning here (checked in the claims cell
#    after the CNN sweep; not at the highest ratios). Why would anyone choose structured pruning?
#
# <details><summary>Answer</summary>Because the structured model is a smaller dense model: fewer dense
# MACs, fewer bytes without index overhead, and a real latency reduction on ordinary hardware.
# Unstructured sparsity pays off only with sparse formats (CSR needs > ~50 % sparsity for fp32 with
# 32-bit indices just to break even in bytes) and kernels/hardware that skip zeros.</details>

# %%
md("6. On this CNN, after {ep} epoch of fine-tuning (3 seeds), L1 filter selection was above random's "
   "range at {h} of {n} ratios, tied at {t} and below at {l}. Does that refute Li et al. (2017)?\n\n"
   "<details><summary>Answer</summary>No. It is one small model with BatchNorm on a small dataset, "
   "measured on 359 validation images with a few seeds; Li et al. evaluate VGG/ResNet on CIFAR-10. It "
   "shows that a criterion's advantage is model-dependent and must be measured (and that fine-tuning "
   "can hide differences), not that L1 is useless.</details>",
   ep=cnn_sweep["epochs"], h=t_l1["higher"], t=t_l1["tie"], l=t_l1["lower"], n=len(grid))
