# %% [markdown]
# # 04 · Prune → retrain, pruning during training, and automated pruning
#
# This notebook covers the part of the seed documents that is about *what happens after* (or
# *while*) weights are removed: does pruning hurt accuracy, how retraining (fine-tuning) recovers
# it, how to prune gradually during training, and what "automated pruning" really means
# (choosing *how much* to prune in each layer by measurement or search).
#
# **Learning goals**
#
# 1. Measure accuracy versus sparsity *with and without* fine-tuning and explain the difference.
# 2. Keep pruned weights at zero during retraining (mask enforcement) and see what happens if you do not.
# 3. Implement gradual magnitude pruning with the AGP schedule (Zhu & Gupta, 2017) and compare it
#    with one-shot pruning at the same final sparsity and training budget.
# 4. Run a per-layer sensitivity scan on the **validation** split and let an allocator choose
#    per-layer sparsities; report the **test** accuracy only at the end.
# 5. Separate verifiable claims (with citations) from vague or invented ones.
#
# **Seed items in this notebook:** S0-Q3, S0-C3, S2-C4, S4-E2, S2-Q1, S2-Q3, S2-Q4, S4-Q4, S4-Q7b,
# S4-Q5, S4-Q6.
#
# Models: the reference digits MLP (64 → 256 → 128 → 10, layers `fc1`, `fc2`, `fc3`) from
# `pruninglab.models.load_reference("mlp")`. Splits: *train* for (re)training, *val* for every
# choice (sparsity allocation, schedules), *test* only for reporting.

# %%
from pruninglab.utils import notebook_setup; notebook_setup()

import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from pruninglab import seeds
from pruninglab.data import load_digits, batches
from pruninglab.models import load_reference, reference_metrics
from pruninglab.train import accuracy, evaluate, train
from pruninglab.ui import slider_ui, sparsity_slider, float_slider, int_slider, grid_slider

train_split, val_split = load_digits("train"), load_digits("val")
dense = load_reference("mlp")
print("splits:", len(train_split), len(val_split), "(test: only in the final test-report cell)")
print(f"reference MLP: val accuracy {accuracy(dense, val_split):.4f}, "
      f"params {sum(p.numel() for p in dense.parameters())}")
# %% [markdown] tags=["seed:S0-Q3"]
# ## S0-Q3 · Does pruning affect model performance? · 剪枝对模型性能的影响
#
# **Question (document 000):** 剪枝技术是否会影响深度学习模型的性能？请解释。
# *(Does pruning affect the performance of a deep-learning model? Explain.)*
#
# **The document's answer (verbatim):**
#
# > **答案：** 剪枝技术可以显著提高深度学习模型的性能，但具体效果取决于剪枝方法和模型的性质。
# >
# > - **正效果：** 剪枝可以减少模型的参数数量，降低模型的计算复杂度和内存占用，从而提高模型的训练速度和部署效率。此外，剪枝还可以帮助模型更好地泛化，提高模型的性能。
# > - **负效果：** 如果剪枝方法不当，可能会导致模型的性能下降。特别是当剪枝过程中删除了对模型性能有重要贡献的神经元或层时，模型的性能可能会受到较大影响。
# >
# > **解析：** 剪枝技术可以提高模型的性能，但需要根据具体模型和任务选择合适的剪枝方法。在实际应用中，需要通过实验来验证剪枝方法的有效性。
#
# *Translation:* "Pruning can **significantly improve** the performance of a deep-learning model, but
# the effect depends on the method and the model. Positive: fewer parameters, lower compute and memory,
# hence **faster training** and more efficient deployment; pruning also helps the model generalise
# better and improves its performance. Negative: an improper method may degrade performance, especially
# if neurons or layers that contribute a lot are removed. Analysis: pruning can improve performance,
# but the method must suit the model and task; verify by experiment."
#
# **A corrected answer.** "Performance" has two meanings that must be kept apart:
#
# * **Task quality (accuracy).** Removing weights is a perturbation that restricts the model: the best
#   training loss reachable with fewer free weights can only stay the same or get *worse* (higher). At low sparsity the drop is often negligible because
#   trained networks are over-parameterised; beyond a model-dependent point accuracy falls quickly.
#   **Retraining (fine-tuning) the surviving weights with the pruned ones held at zero** recovers most
#   of the loss — Han et al. (2015) report 9–13× fewer parameters on LeNet/AlexNet/VGG-16 with no
#   accuracy loss *only with retraining* (and iterative prune/retrain for the highest rates). Small
#   accuracy *gains* at moderate sparsity happen (a regularisation effect) but are not a rule.
# * **Efficiency (size, latency, energy).** Unstructured pruning reduces the number of non-zeros;
#   it shrinks storage only if a sparse format is used, and speeds up inference only on kernels or
#   hardware that skip zeros (dense GEMM does the same work with zeros). Structured pruning (filters,
#   channels, N:M) gives real speed-ups more reliably. Pruning does **not** speed up *training* in the
#   usual prune-after-training workflow: you first train the dense model and then spend *extra*
#   epochs fine-tuning.
#
# **What the document gets wrong or leaves out**
#
# 1. "显著提高性能" (significantly improves performance) — pruning does not in general improve
#    accuracy; the measured curve below never goes above the dense model by more than noise.
# 2. "提高模型的训练速度" (speeds up training) — prune-after-training *adds* training (fine-tuning);
#    a masked network still runs dense kernels.
# 3. It never mentions **retraining / fine-tuning**, the step that makes high sparsity usable.
# 4. It conflates accuracy with efficiency ("performance") and never says that efficiency gains need
#    sparse storage formats / sparse kernels / structured pruning.
# 5. No sparsity level, no measurement, no notion of a knee in the accuracy–sparsity curve.
#
# **The key experiment.** Prune the reference MLP by per-layer magnitude (each of `fc1`, `fc2`,
# `fc3` to the same sparsity, biases kept), then (a) evaluate directly, (b) fine-tune a few epochs with
# the mask enforced after every optimizer step, and evaluate again. The sweep is computed once and
# cached; the slider below only looks values up.
# %% [markdown] tags=["seed:S0-C3"]
# ## S0-C3 · Prune and retrain (`pruning_and_retraining`)
#
# **Task (document 000):** 请实现一个基于剪枝与复用的神经网络剪枝算法 — "给定一个神经网络模型和一组训练数据，实现一个基于剪枝与复用的剪枝算法，
# 通过剪枝现有模型并重新训练来获得更轻量级的模型" *(implement a "prune and reuse" algorithm: prune an
# existing model and retrain it to obtain a lighter model)*. ("复用", *reuse*, is a mistranslation of
# *retraining*; the code means retraining.)
#
# The document's code, verbatim. It does not even get past its first line here: scikit-learn is not
# installed in this environment (and the workbook does not need it).

# %% tags=["seed-code:S0-C3", "raises-exception"]
import numpy as np
from sklearn.model_selection import train_test_split

def pruning_and_retraining(model, train_data, pruning_threshold=0.1):
    """
    基于剪枝与复用的神经网络剪枝算法。
    
    参数：
    - model: 神经网络模型，包括神经元数量、权重矩阵和激活函数。
    - train_data: 训练数据，包括输入特征和标签。
    - pruning_threshold: 剪枝阈值，表示权重值小于阈值的神经元将被剪枝。
    """
    num_layers, num_neurons, weight_matrix, activations = model
    
    # 将训练数据分为训练集和验证集
    X_train, X_val, y_train, y_val = train_test_split(train_data[0], train_data[1], test_size=0.2, random_state=42)
    
    # 初始化剪枝阈值
    pruning_threshold = pruning_threshold * np.max(np.abs(weight_matrix))
    
    # 剪枝操作
    for layer in range(num_layers):
        # 获取当前层的权重矩阵
        weights_matrix = weight_matrix[layer]
        
        # 设置剪枝阈值
        mask = np.abs(weights_matrix) > pruning_threshold
        weights_matrix = np.compress(mask, weights_matrix, axis=1)
        
        # 更新神经元数量
        num_neurons[layer] = len(weights_matrix)
        
        # 重新训练模型
        model = train_neural_network(X_train, y_train, num_layers, num_neurons, weight_matrix, activations)
        
        # 验证剪枝后模型性能
        val_acc = evaluate_neural_network(X_val, y_val, model)
        print("层{}剪枝后验证集准确率：{:.2f}%".format(layer+1, val_acc*100))
    
    return model

# 示例模型
model = [
    3,  # 层数
    [5, 5, 3],  # 神经元数量
    [
        [0.1, 0.2, 0.3, 0.4, 0.5],
        [0.6, 0.7, 0.8, 0.9, 1.0],
        [0.2, 0.3, 0.4, 0.5, 0.6]
    ],
    ['relu', 'relu', 'softmax']
]

# 训练数据
train_data = [
    np.array([[1, 0], [0, 1], [1, 1]]),
    np.array([0, 1, 1])
]

# 剪枝与复用
pruned_model = pruning_and_retraining(model, train_data, pruning_threshold=0.3)
print("原始模型：", model)
print("剪枝后模型：", pruned_model)

# %% [markdown]
# To get past the import and see the *next* problems, we execute the same source with the import line
# removed and a stand-in `train_test_split` that reproduces scikit-learn's documented split sizes
# (`test_size=0.2` of n samples → `ceil(0.2·n)` test samples, the rest train). Everything else is the
# document's code, character for character.

# %%
import math

def train_test_split(X, y, test_size, random_state):
    """Stand-in with scikit-learn's split sizes: n_test = ceil(test_size * n)."""
    n = len(X)
    n_test = math.ceil(test_size * n)
    order = np.random.RandomState(random_state).permutation(n)
    te, tr = order[:n_test], order[n_test:]
    return X[tr], X[te], y[tr], y[te]

seed_src = seeds.seed_code("S0-C3").replace("from sklearn.model_selection import train_test_split\n", "")
seed_def = seed_src.split("# 示例模型")[0]           # the function definition only
ns = {"train_test_split": train_test_split}
exec(seed_def, ns)
pruning_and_retraining = ns["pruning_and_retraining"]

def fresh_example():
    """The document's example model and data (a new copy every time)."""
    model = [3, [5, 5, 3], [[0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9, 1.0],
                            [0.2, 0.3, 0.4, 0.5, 0.6]], ['relu', 'relu', 'softmax']]
    train_data = [np.array([[1, 0], [0, 1], [1, 1]]), np.array([0, 1, 1])]
    return model, train_data
print("function defined from the document's source")

# %% [markdown]
# **Defect 1 — wrong axis: `np.compress(..., axis=1)` on a 1-D row.** Each "weight matrix" in the
# example is a flat list of 5 numbers, so `axis=1` does not exist. This is the crash you hit once
# scikit-learn is installed.

# %% tags=["raises-exception"]
example_model, example_data = fresh_example()
pruning_and_retraining(example_model, example_data, pruning_threshold=0.3)

# %% [markdown]
# **What the loop body does once the axis is fixed.** Here is the first loop iteration of the
# seed, statement by statement, with `np.compress` given a valid axis, on a fresh copy of the
# document's example:

# %%
example_model, _ = fresh_example()
num_layers, num_neurons, weight_matrix, activations = example_model   # same unpacking as the seed
threshold = 0.3 * np.max(np.abs(weight_matrix))
row = weight_matrix[0]
kept = np.compress(np.abs(row) > threshold, row)                      # axis fixed
num_neurons[0] = len(kept)
print("threshold               :", threshold)
print("kept entries of layer 1 :", kept, "-> the row shrank from", len(row), "to", len(kept))
print("caller's model now      :", example_model)
print("caller's weight row     :", example_model[2][0], "(unchanged: the pruned row was discarded)")

# %% [markdown]
# That one cell shows four more defects:
#
# * **Defect 2 — input mutation:** the caller's `num_neurons` list changed from `[5, 5, 3]`, so the
#   document's `print("原始模型：", model)` would print a modified "original".
# * **Defect 3 — shape destruction:** `np.compress` *deletes* entries instead of zeroing them; a weight
#   matrix whose rows lose different numbers of entries is no longer a matrix, and the next layer's
#   input dimension no longer matches.
# * **Defect 4 — the pruning is thrown away:** the compressed array is bound to the local
#   `weights_matrix` and never written back; `weight_matrix` (what is passed to the trainer) is the
#   unpruned list.
# * **Defect 5 — wrong quantity:** `len(weights_matrix)` counts surviving *weights* of one row and
#   stores it as a *neuron* count.
#
# **Defect 6 — the threshold only works because the example is rectangular.** `np.max(np.abs(weight_matrix))`
# is computed once over *all* layers (a single global threshold relative to the largest weight of the
# whole network). For a real network the per-layer matrices have different shapes, and NumPy refuses
# to build an array from them:

# %%
real_layers = [p.detach().numpy() for n, p in dense.named_parameters() if n.endswith("weight")]
print("layer shapes:", [w.shape for w in real_layers])
try:
    np.max(np.abs(real_layers))
except ValueError as e:
    print("ValueError:", str(e)[:110], "...")

# %% [markdown]
# And even when it can be computed, a threshold relative to the *global* maximum ignores that layers
# have different weight scales (see the per-layer maxima below): a layer with small weights is pruned
# much harder than the nominal fraction suggests.

# %%
for (n, p) in ((n, p) for n, p in dense.named_parameters() if n.endswith("weight")):
    w = p.detach().abs()
    print(f"{n:12s} max|w| = {float(w.max()):.3f}   mean|w| = {float(w.mean()):.4f}")
all_w = torch.cat([p.detach().abs().flatten() for n, p in dense.named_parameters() if n.endswith("weight")])
thr = 0.3 * float(all_w.max())
for n, p in dense.named_parameters():
    if n.endswith("weight"):
        print(f"{n:12s} fraction below 0.3·global max = {float((p.detach().abs() <= thr).float().mean()):.3f}")

# %% [markdown]
# **Defect 7 — undefined functions.** `train_neural_network` and `evaluate_neural_network` are never
# defined anywhere in the document; the first call after the pruning step raises `NameError`
# (shown with the axis bug fixed, by executing a copy of the seed with `axis=1` removed):

# %% tags=["raises-exception"]
ns2 = {"train_test_split": train_test_split}
exec(seed_def.replace(", axis=1)", ")"), ns2)
example_model, example_data = fresh_example()
ns2["pruning_and_retraining"](example_model, example_data, pruning_threshold=0.3)

# %% [markdown]
# **Defect 8 — a "validation set" of one sample.** The training data has 3 samples; `test_size=0.2`
# leaves `ceil(0.6) = 1` sample for validation and 2 for training, so every validation accuracy is
# either 0 % or 100 %. (Also: 2 input features, while the "weight rows" have 5 entries — the data
# cannot even be fed to the model; **defect 9**.)

# %%
X_tr, X_va, y_tr, y_va = train_test_split(example_data[0], example_data[1], test_size=0.2, random_state=42)
print("train samples:", len(X_tr), " validation samples:", len(X_va))
print("possible validation accuracies:", sorted({k / len(X_va) for k in range(len(X_va) + 1)}))
print("input features:", example_data[0].shape[1], " entries per weight row:", len(example_model[2][0]))

# %% [markdown]
# **Defect 10 — retraining inside the layer loop, and the result is discarded.** The trainer is
# called once *per layer* (3 full retrainings), `model = train_neural_network(...)` rebinds `model`,
# and the next iteration again prunes the *original* `weight_matrix`, not the retrained weights. The
# validation accuracy is printed but never used to accept/reject anything.
#
# **Defect 11 — no mask enforcement during retraining.** Nothing keeps pruned weights at zero while
# retraining, so gradient steps bring them back. We can measure this on the real MLP: prune 90 % of
# each layer by magnitude, then fine-tune 3 epochs *without* re-applying the mask.

# %%
from pruninglab.pruning import compute_masks, apply_masks_, fine_tune_, check_masks_hold
from pruninglab.labs.retrain import weight_sparsity, storage_bytes_dense_csr

regrow = load_reference("mlp")
masks90 = compute_masks(regrow, 0.9, scope="layer")      # per-layer magnitude, exact counts
apply_masks_(regrow, masks90)
print("after pruning, measured sparsity:", round(weight_sparsity(regrow), 4))
train(regrow, train_split, epochs=3, lr=1e-3)             # the seed's way: plain training, no mask
print("after 3 epochs WITHOUT mask enforcement:", round(weight_sparsity(regrow), 4),
      "| masks hold:", check_masks_hold(regrow, masks90))
enforced = load_reference("mlp")
fine_tune_(enforced, masks90, train_split, epochs=3, lr=1e-3)   # applies the masks, keeps them
print("after 3 epochs WITH mask enforcement   :", round(weight_sparsity(enforced), 4),
      "| masks hold:", check_masks_hold(enforced, masks90))
from pruninglab.claims import md, claim
claim(weight_sparsity(regrow) < 0.2 and check_masks_hold(enforced, masks90), "dense again without the mask")
md("Without the mask the \"pruned\" model is almost dense again (only {s:.1%} of the weights still zero, "
   "from 90 %) after "
   "{n} Adam steps (3 epochs of batches of 64): its storage and compute savings are gone.",
   s=weight_sparsity(regrow), n=3 * -(-len(train_split) // 64))

# %% [markdown]
#
# **Why re-apply the mask after every step (the right reason).** Zeroing the pruned weights'
# *gradients* is enough only when the optimizer has no memory of them: with a fresh optimizer, a
# masked gradient keeps Adam's moments (and SGD's velocity) at exactly 0, and weight decay of an
# exact zero is zero. It fails when optimizer **state carried over from earlier steps** exists — dense
# training before pruning, or steps taken before a mask update during gradual pruning: the momentum
# (velocity, Adam's first moment) of a just-pruned weight is non-zero and keeps moving it. Re-applying
# the mask after every step, `w ← w ⊙ m`, is correct in every case.
#
# ### Your turn 1 · the mask-enforced training step
#
# SGD with momentum μ and weight decay λ (PyTorch's convention), then the mask:
#
# $$d = g + \lambda w,\qquad v \leftarrow \mu v + d,\qquad w \leftarrow (w - \eta v)\odot m .$$
#
# Write `masked_sgd_step` on lists of numpy arrays (one per layer; `masks[i]` is True where the
# weight is kept). Return the new weights and the new velocity (do not modify the inputs).

# %% tags=["answer:masked_sgd_step"]
import numpy as np

def masked_sgd_step(weights, grads, masks, velocity, lr, momentum, weight_decay):
    ### BEGIN SOLUTION
    new_weights, new_velocity = [], []
    for w, g, m, v in zip(weights, grads, masks, velocity):
        d = g + weight_decay * w                  # PyTorch's SGD: weight decay added to the gradient
        v = momentum * v + d                      # ONE velocity, carried from step to step
        new_weights.append(np.where(m, w - lr * v, 0.0).astype(w.dtype))   # re-apply the mask
        new_velocity.append(v)
    return new_weights, new_velocity
    ### END SOLUTION

# %% tags=["check:masked_sgd_step"]
from pruninglab.grading import check, solution
check("masked_sgd_step", masked_sgd_step)

# %% [markdown]
# **Your step on the real MLP.** The reference MLP is trained one more epoch with SGD + momentum
# (dense: every weight gets a non-zero velocity), pruned to 90 % per layer, and trained two more
# epochs with the **same** velocity — once with your step, once with a step that only zeroes the
# pruned gradients.

# %% tags=["nbval-ignore-output"]
from pruninglab.labs.learner import ready, predict, reveal
predict("q-regrow", "With the gradient zeroed but the mask not re-applied, what weight sparsity is left "
        "after 2 epochs (it started at 90 %)?", choices=["still 90 %", "60–90 %", "below 60 %"])

# %%
from pruninglab.claims import md, claim
from pruninglab.labs.retrain import cached_regrowth_experiment
if ready("masked_sgd_step", masked_sgd_step):
    rg = cached_regrowth_experiment(masked_sgd_step)      # cached on disk under your function's source
    for k in ("yours", "grad_zeroed_only"):
        print(f"{k:17s}: weight sparsity {rg[k]['weight_sparsity']:.4f}, val acc {rg[k]['val']:.4f}")
    reveal("q-regrow", round(rg["grad_zeroed_only"]["weight_sparsity"], 3))

# %% [markdown]
# **Defect count for S0-C3: 13** — (0) `ModuleNotFoundError` on scikit-learn, a dependency the task
# does not need; (1) wrong axis → `AxisError`; (2) mutates the caller's `num_neurons`; (3) deletes
# weights (shape destruction) instead of zeroing them; (4) the pruned row is discarded, the model is
# never pruned; (5) counts surviving weights as neurons; (6) one global threshold relative to the
# network-wide max (crashes on real, ragged layers; over-prunes small-scale layers);
# (7) `train_neural_network` / `evaluate_neural_network` undefined → `NameError`; (8) a 1-sample
# validation set; (9) 2 input features for 5-wide weight rows; (10) retraining inside the layer loop,
# `model` rebound and the retrained weights discarded, validation accuracy printed but never used;
# (11) no mask enforcement during retraining; (12) the docstring says "*neurons* whose weight is below
# the threshold are pruned" while the code prunes individual *weights*.
#
# **Corrected implementation** (library code: `pruninglab.pruning.compute_masks`, `apply_masks_`,
# `fine_tune_`; the sweep driver is `pruninglab.labs.retrain.prune_retrain_sweep`): compute *all*
# masks first (pure function), apply them, fine-tune **once** with the pruned weights' gradients
# zeroed before and the masks re-applied after every optimizer step, choose on *val*, report *test*. The sweep below is the key experiment for S0-Q3 as well.

# %% tags=["nbval-ignore-output"]
from pruninglab.labs.retrain import (cached_prune_retrain_sweep, compute_prune_retrain,
                                     render_prune_retrain, live_prune_retrain)

# prune_retrain_sweep, cached on disk: the first run trains 12 × 5 epochs (progress bar), later runs load
sweep = cached_prune_retrain_sweep("mlp", epochs=5, lr=1e-3, progress=True)

# %%
print(" sparsity | val acc pruned | + 5 ep fine-tune | CSR KiB (dense 198.5)")
for i, s in enumerate(sweep["sparsity"]):
    print(f"   {s:5.2f}  |     {sweep['val_pruned'][i]:.4f}     |      {sweep['val_finetuned'][i]:.4f}      |"
          f"  {sweep['csr_bytes'][i] / 1024:6.1f}")

# %% [markdown]
# Read the table (the sentences below are rendered from it and checked):

# %%
from pruninglab.claims import md
sp = list(np.round(sweep["sparsity"], 2))
vp, vf, n_val = sweep["val_pruned"], sweep["val_finetuned"], len(val_split)
d_img = max(abs(vp[sp.index(x)] - vp[0]) for x in (0.3, 0.5)) * n_val
rec = {x: (vf[sp.index(x)] - vp[sp.index(x)]) / max(vf[0] - vp[sp.index(x)], 1e-9) for x in (0.8, 0.85, 0.9, 0.93, 0.95)}
claim(d_img <= 2.5, "up to 50 % the pruned MLP is within two val images of dense")
claim(all(r > 0.5 for r in rec.values()), "between 80 and 95 % fine-tuning recovers most of the drop")
i30, i50 = sp.index(0.3), sp.index(0.5)
claim(sweep["csr_bytes"][i30] > sweep["dense_bytes"][i30] and sweep["csr_bytes"][i50] < sweep["dense_bytes"][i50],
      "CSR is larger than dense at 30 % and smaller at 50 %")
display(md("Up to 50 % sparsity the pruned MLP is unchanged even *without* fine-tuning (within {d:.0f} "
           "of the {n} validation images of dense); from 70 % on the one-shot drop grows quickly ({p70:.1%} at 70 %, "
           "{p90:.1%} at 90 %), and between 80 % and 95 % fine-tuning recovers at least {rmin:.0%} of the "
           "drop. The CSR size (fp32 values + 16-bit column indices + row pointers) is *larger* than dense "
           "below ≈ 33 % sparsity ({c30:.1f} vs {dk:.1f} KiB at 30 %) — a sparse format only pays off when "
           "the density is below `b/(b+i)` = 32/48. Dense accuracy with 5 extra epochs also moves a little "
           "({f0:.1%} vs {p0:.1%}): compare against the 0.00 row (dense + the same fine-tuning), not against "
           "a number from elsewhere.",
           d=d_img, n=n_val, p70=vp[sp.index(0.7)], p90=vp[sp.index(0.9)], rmin=min(rec.values()),
           c30=sweep["csr_bytes"][i30] / 1024, dk=sweep["dense_bytes"][i30] / 1024, f0=vf[0], p0=vp[0]))
gain = {x: 100 * (sweep["val_finetuned"][sp.index(x)] - sweep["val_pruned"][sp.index(x)]) for x in (0.97, 0.98, 0.99)}
display(md("Fine-tuning gains {a:+.1f} points at 97 %, {b:+.1f} at 98 % and {c:+.1f} at 99 % sparsity "
           "(val), ending at {fa:.1%}, {fb:.1%} and {fc:.1%} against {d:.1%} dense.",
           a=gain[0.97], b=gain[0.98], c=gain[0.99], fa=sweep["val_finetuned"][sp.index(0.97)],
           fb=sweep["val_finetuned"][sp.index(0.98)], fc=sweep["val_finetuned"][sp.index(0.99)],
           d=sweep["val_finetuned"][sp.index(0.0)]))

# %%
r = compute_prune_retrain(0.9, sweep)
print(f"at sparsity {r['sparsity']:.2f}: pruned {r['val_pruned']:.4f}, fine-tuned {r['val_finetuned']:.4f}, "
      f"CSR {r['csr_bytes'] / 1024:.1f} KiB vs dense {r['dense_bytes'] / 1024:.1f} KiB")

# %% [markdown]
# The slider moves over the **12 precomputed sparsities** of the sweep (each position is one of
# them, marked ◇ in the plot; nothing is interpolated). Predict first:

# %% tags=["nbval-ignore-output"]
predict("q-ft-gap", "At which sparsity does fine-tuning add the most validation accuracy?",
        choices=["0.50–0.80", "0.85–0.93", "0.95–0.99"])

# %% tags=["nbval-ignore-output"]
slider_ui(compute_prune_retrain, live_prune_retrain(),
          sparsity=grid_slider(sweep["sparsity"].tolist(), 0.9, "sparsity"),
          sweep=__import__("ipywidgets").fixed(sweep))

# %% [markdown]
# Static version of the same figure (validated), then the answer:

# %%
render_prune_retrain(compute_prune_retrain(0.9, sweep))
i_gap = int(np.argmax(vf - vp))
_ = reveal("q-ft-gap", f"sparsity {sp[i_gap]:.2f}: +{100 * (vf[i_gap] - vp[i_gap]):.1f} points")
claim(0.9 <= sp[i_gap] <= 0.95, "the largest fine-tuning gain is in the 90-95 % region (Check yourself 1)")

# %% [markdown] tags=["seed:S2-C4"]
# ## S2-C4 · "Learning-rate-based dynamic pruning" (`dynamic_learning_rate_pruning`, TensorFlow)
#
# **Task (document 002):** 编写一个Python程序，实现基于学习率的动态剪枝算法。 *(Write a program that
# implements learning-rate-based dynamic pruning.)* The document's analysis:
#
# > **解析：** 该程序使用TensorFlow实现基于学习率的动态剪枝算法。首先训练模型，然后根据学习率调整权重和偏置。在训练过程中，每10个epoch保存一次模型权重，最后根据剪枝率对权重和偏置进行剪枝。
#
# *Translation:* "The program implements learning-rate-based dynamic pruning in TensorFlow. It first
# trains the model, then **adjusts weights and biases according to the learning rate**. During
# training it saves the weights every 10 epochs, and finally prunes weights and biases according to
# the pruning rate."
#
# The document's code, verbatim (TensorFlow is not installed, so it is shown, not run):

# %% [markdown] tags=["seed-code:S2-C4"]
# ```python
# import tensorflow as tf
#
# def dynamic_learning_rate_pruning(model, pruning_rate, epochs, learning_rate):
#     for epoch in range(epochs):
#         loss = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
#         optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
#
#         for x, y in data_loader:
#             with tf.GradientTape() as tape:
#                 logits = model(x)
#                 loss_value = loss(y, logits)
#
#             grads = tape.gradient(loss_value, model.trainable_variables)
#             optimizer.apply_gradients(zip(grads, model.trainable_variables))
#
#         if epoch % 10 == 0:
#             model.save_weights(f'model_epoch_{epoch}.h5')
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
# dynamic_learning_rate_pruning(model, 0.5, 100, 0.001)
# ```
# %% [markdown]
# **A faithful PyTorch translation** of the same logic, line by line: same loop structure, a new
# loss object and a **new Adam optimizer every epoch**, a checkpoint every 10 epochs (kept in a dict
# instead of `.h5` files, so the notebook writes nothing to disk), and at the end a random uniform
# mask per Dense kernel *and* bias, multiplied in. The Keras model `Dense(128, relu) → Dense(10,
# softmax)` becomes `Linear(64, 128) → ReLU → Linear(128, 10) → Softmax` (64 inputs: our digits are
# 8×8, not 28×28). `from_logits=True` becomes `nn.CrossEntropyLoss()`, which also applies
# (log-)softmax to its input. `data_loader` is — as in the document — a global that nobody defined.

# %%
checkpoints = {}

def dynamic_learning_rate_pruning(model, pruning_rate, epochs, learning_rate):
    for epoch in range(epochs):
        loss = nn.CrossEntropyLoss()                     # from_logits=True: softmax applied inside
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

        for x, y in data_loader:
            logits = model(x)
            loss_value = loss(logits, y)
            optimizer.zero_grad()                        # tf.GradientTape gives fresh gradients
            loss_value.backward()
            optimizer.step()

        if epoch % 10 == 0:
            checkpoints[f'model_epoch_{epoch}.h5'] = copy.deepcopy(model.state_dict())

    for layer in model:
        if isinstance(layer, nn.Linear):
            with torch.no_grad():
                kernel_to_prune = (torch.rand(layer.weight.shape) < pruning_rate).float()
                layer.weight.copy_(layer.weight * kernel_to_prune)
                bias_to_prune = (torch.rand(layer.bias.shape) < pruning_rate).float()
                layer.bias.copy_(layer.bias * bias_to_prune)
    return optimizer                                     # returned only so we can inspect it

def keras_like_model(seed=0, softmax=True):
    torch.manual_seed(seed)
    layers = [nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)]
    return nn.Sequential(*layers, *([nn.Softmax(dim=1)] if softmax else []))
print("translation defined")

# %% [markdown]
# **Defect 1 — `data_loader` is undefined** (`NameError`, exactly as in the TensorFlow original):

# %% tags=["raises-exception"]
dynamic_learning_rate_pruning(keras_like_model(), 0.5, 1, 0.001)

# %% [markdown]
# We supply the missing loader (train split, batches of 32, reshuffled with a fixed seed) and run the
# document's call with 30 instead of 100 epochs to keep the notebook fast.

# %%
class DataLoader:
    def __init__(self, split, batch_size=32):
        self.split, self.batch_size, self.epoch = split, batch_size, 0
    def __iter__(self):
        self.epoch += 1
        return batches(self.split, self.batch_size, shuffle=True, seed=self.epoch)

def _run_seed(pruning_rate, epochs, lr, softmax, mask_seed):
    global data_loader
    data_loader = DataLoader(train_split)
    checkpoints.clear()
    m = keras_like_model(softmax=softmax)
    torch.manual_seed(mask_seed)               # the random masks are drawn after training
    opt = dynamic_learning_rate_pruning(m, pruning_rate, epochs, lr)
    adam_steps = int(opt.state[next(iter(m.parameters()))]["step"])   # Adam's step counter at the end
    return {"state": m.state_dict(), "checkpoints": dict(checkpoints), "adam_steps": adam_steps}

from pruninglab.cache import cached

def run_seed(pruning_rate, epochs=30, lr=0.001, softmax=True, mask_seed=123):
    """The document's function once per setting, cached on disk (deterministic: seeded), so
    both builds and a second run load it. Returns the model and Adam's final step counter."""
    r = cached("s2c4_seed_run", 1, _run_seed, pruning_rate=pruning_rate, epochs=epochs, lr=lr,
               softmax=softmax, mask_seed=mask_seed)
    m = keras_like_model(softmax=softmax)
    m.load_state_dict(r["state"])
    checkpoints.clear()
    checkpoints.update(r["checkpoints"])
    return m, r["adam_steps"]

# %% tags=["nbval-ignore-output"]
# every run of the document's function this section uses, computed up front (about 8 s the first
# time; cached on disk afterwards) with a progress bar over their training epochs
from tqdm.auto import tqdm

S2C4_RUNS = [dict(pruning_rate=0.5), dict(pruning_rate=1.0), dict(pruning_rate=0.1, epochs=1),
             dict(pruning_rate=0.5, epochs=1), dict(pruning_rate=0.9, epochs=1),
             dict(pruning_rate=1.0, softmax=False), dict(pruning_rate=0.5, epochs=2, lr=0.001),
             dict(pruning_rate=0.5, epochs=2, lr=0.01)]
with tqdm(total=sum(kw.get("epochs", 30) for kw in S2C4_RUNS), desc="S2-C4 runs", unit="epoch") as bar:
    for kw in S2C4_RUNS:
        run_seed(**kw)
        bar.update(kw.get("epochs", 30))

# %%
seed_model, seed_adam_steps = run_seed(0.5)
nz = {n: round(float((p == 0).float().mean()), 3) for n, p in seed_model.named_parameters()}
print("fraction of zeros per tensor:", nz)
print("val accuracy after the seed's 'pruning':", round(accuracy(seed_model, val_split), 4))
print("checkpoints saved:", list(checkpoints))

# %% [markdown]
# **Defect 2 — the pruning happens once, after training, with a random mask.** Nothing is "dynamic"
# and nothing is retrained afterwards. How much accuracy does the random end-of-training mask cost,
# compared with the same network just before the mask (pruning rate 1.0 keeps every weight — see
# defect 3) and with a *magnitude* mask at the same sparsity?

# %%
before, _ = run_seed(1.0)                  # identical training; rand < 1.0 keeps everything
mag = copy.deepcopy(before)
mag_masks = compute_masks(mag, 0.5, scope="layer")
apply_masks_(mag, mag_masks)
print(f"before the mask            : {accuracy(before, val_split):.4f}")
print(f"random 50 % (seed, + biases): {accuracy(seed_model, val_split):.4f}")
print(f"magnitude 50 % (weights)    : {accuracy(mag, val_split):.4f}")

# %% [markdown]
# **Defect 3 — the keep-rate is inverted.** `uniform < pruning_rate` is multiplied in, so it is the
# *keep* mask: `pruning_rate=0.9` keeps ≈ 90 % and prunes ≈ 10 %. With the document's 0.5 the bug is
# invisible. (Also **defect 4**: a Bernoulli draw per weight gives only *approximately* the requested
# rate, not an exact count.)

# %%
rate_sparsity = {}
for rate in (0.1, 0.5, 0.9):
    m, _ = run_seed(rate, epochs=1)
    w = torch.cat([l.weight.flatten() for l in m if isinstance(l, nn.Linear)])
    rate_sparsity[rate] = float((w == 0).float().mean())
    print(f"pruning_rate={rate}: measured weight sparsity = {rate_sparsity[rate]:.4f}")
claim(abs(rate_sparsity[0.9] - 0.1) < 0.02 and abs(rate_sparsity[0.1] - 0.9) < 0.02,
      "the keep-rate is inverted: pruning_rate=0.9 prunes about 10 %")

# %% [markdown]
# **Defect 5 — biases are pruned too** (see the zero fractions of `0.bias` and `2.bias` above): 138
# biases are 1.4 % of the 9,610 parameters, so pruning them saves nothing, while a zeroed bias shifts every
# output of that neuron. (The Keras version also prunes the output layer's bias, i.e. class priors.)
#
# **Defect 6 — softmax output + `from_logits=True`.** The model already ends in a softmax; the loss
# applies another one. The probabilities live in [0, 1], so the second softmax can never be confident:
# even a perfect one-hot prediction has a loss of `log(1 + 9/e)`:

# %%
perfect = torch.zeros(1, 10); perfect[0, 3] = 1.0          # softmax output: certain and correct
print("loss of a perfect prediction with double softmax:", round(float(nn.CrossEntropyLoss()(perfect, torch.tensor([3]))), 4))
print("log(1 + 9/e) =", round(math.log(1 + 9 / math.e), 4))
with_sm, _ = run_seed(1.0, softmax=True)
no_sm, _ = run_seed(1.0, softmax=False)
print(f"30 epochs, double softmax: val acc {accuracy(with_sm, val_split):.4f}, "
      f"val loss {evaluate(with_sm, val_split)['loss']:.4f}")
print(f"30 epochs, real logits    : val acc {accuracy(no_sm, val_split):.4f}, "
      f"val loss {evaluate(no_sm, val_split)['loss']:.4f}")
claim(abs(accuracy(with_sm, val_split) - accuracy(no_sm, val_split)) < 0.03 and
      evaluate(with_sm, val_split)["loss"] > math.log(1 + 9 / math.e), "similar accuracy, loss above 1.46")
n_bias = sum(p.numel() for n, p in keras_like_model().named_parameters() if n.endswith("bias"))
n_all = sum(p.numel() for p in keras_like_model().parameters())
claim(n_bias == 138 and n_all == 9610, "138 biases of 9,610 parameters (defect 5)")

# %% [markdown]
# On this easy task the accuracy after 30 epochs happens to be similar (measured above), but the loss
# can never drop below 1.46, the reported loss values are meaningless for calibration or early
# stopping, and the training signal is weakened (a softmax of values in [0, 1] is nearly flat) — the
# accuracy being fine here is not a property of the code.

# %% [markdown]
# **Defect 7 — a new optimizer every epoch resets Adam.** Adam's moment estimates and step counter
# start from zero each epoch, so bias correction restarts and the first steps of every epoch are
# full-size "sign" steps. The optimizer returned after 30 epochs has seen only one epoch of steps:

# %%
print("Adam step counter at the end:", seed_adam_steps, " | steps actually taken:",
      30 * math.ceil(len(train_split) / 32))

# %% [markdown]
# **Defect 8 — checkpoints of the wrong model.** Weights are saved at epochs 0, 10, 20, … — all
# *before* the pruning, so no checkpoint ever holds the pruned model, and the final pruned model is
# not saved at all. In Keras 3 the call itself fails: `save_weights` requires a filename ending in
# `.weights.h5` and raises `ValueError` for `model_epoch_0.h5` (reported in keras-team/keras-io
# issue #1568). The original also writes 10 files into the working directory as a side effect.

# %%
print("checkpoints:", list(checkpoints))
print("zeros in the last checkpoint's first kernel:", int((checkpoints["model_epoch_20.h5"]["0.weight"] == 0).sum()))

# %% [markdown]
# **Defect 9 — nothing depends on the learning rate.** The "learning-rate-based" pruning uses
# `learning_rate` only to build Adam. The masks are identical for two learning rates (same mask
# seed), and the 解析's "根据学习率调整权重和偏置" (adjusts weights by the learning rate) describes code
# that does not exist (**defect 10**):

# %%
m_a, _ = run_seed(0.5, epochs=2, lr=0.001)
m_b, _ = run_seed(0.5, epochs=2, lr=0.01)
same = all(torch.equal(a.weight != 0, b.weight != 0) for a, b in zip(m_a, m_b) if isinstance(a, nn.Linear))
print("identical pruning masks for lr=0.001 and lr=0.01:", same)

# %% [markdown]
# **Defect count for S2-C4: 10** (undefined `data_loader`; prune-once-at-the-end with no retraining;
# random instead of importance; inverted keep-rate; approximate rate; biases pruned; double softmax;
# optimizer reset every epoch; checkpoints before pruning / Keras 3 filename error / disk side
# effects; learning rate irrelevant and a 解析 that describes non-existent behaviour).
#
# **What "dynamic pruning during training" should be** — magnitude masks recomputed *during*
# training on a schedule, with the masks enforced after every step — is implemented and measured in
# the next section. The one honest link to the learning rate: Zhu & Gupta (2017) note that pruning
# should finish while the learning rate is still high enough for the network to recover, so the
# pruning schedule is chosen *together with* the learning-rate schedule.

# %% [markdown] tags=["seed:S4-E2"]
# ## S4-E2 · Exercise: how to prune dynamically during training
#
# **Exercise (document 004):** 如何在神经网络训练过程中进行动态剪枝？ *(How do you prune dynamically
# while training a neural network?)* The document's solution (verbatim):
#
# > **解答：**
# > 1. **梯度计算**：在模型训练过程中，计算每个权重的梯度。
# > 2. **重要性评估**：根据梯度信息评估权重的重要性，通常可以使用梯度绝对值或梯度平方和进行评估。
# > 3. **剪枝决策**：设置一个重要性阈值，若权重的重要性低于该阈值，则在下一轮训练中进行剪枝。
# > 4. **剪枝执行**：根据剪枝决策，移除重要性较低的权重或层。
# > 5. **继续训练**：在剪枝后继续模型训练，直至达到预定的训练目标。
#
# *Translation:* "1. compute each weight's gradient during training; 2. assess importance from the
# gradient, usually its absolute value or the sum of squared gradients; 3. set an importance
# threshold and prune weights below it in the next round; 4. remove the unimportant weights or
# layers; 5. continue training until the target is reached."
#
# **What is wrong or missing**
#
# 1. **Gradient magnitude alone is not importance.** Near convergence every gradient is ≈ 0, and a
#    large weight with a small gradient would be pruned. First-order saliency is the *product*
#    `|w · ∂L/∂w|` (Molchanov et al., 2017/2019), second-order uses the Hessian (LeCun et al. 1990
#    *OBD*; Hassibi & Stork 1993 *OBS*); the standard in-training criterion is simply `|w|`
#    (Han et al., 2015; Zhu & Gupta, 2017).
# 2. **No schedule and no target.** A fixed importance threshold gives an unpredictable sparsity; the
#    standard is a *sparsity schedule* that ramps from `s_i` to `s_f` (AGP).
# 3. **No mask enforcement.** "Prune, then continue training" lets pruned weights regrow unless the
#    mask is re-applied after every step (measured in S0-C3 above).
# 4. "移除…层" — removing whole *layers* during training is a different (structural) operation with
#    different consequences; the answer mixes granularities.
# 5. Nothing about how often masks are updated, when pruning stops (leave time to recover), or how to
#    compare against the one-shot baseline.
#
# **Gradual magnitude pruning (Zhu & Gupta, 2017).** Every Δt steps between `t0` and `t0 + nΔt`
# recompute per-layer magnitude masks for
#
# $$s_t = s_f + (s_i - s_f)\left(1 - \frac{t - t_0}{n\,\Delta t}\right)^3 ,$$
#
# and re-apply the current mask after every optimizer step. The cubic prunes fast early (many
# redundant weights) and slowly near the end (few weights left to lose). Move the sliders to see the
# schedule (pure function, no training):

# ### Your turn 2 · the AGP schedule
#
# Write `agp_sparsity(step, initial, final, start, n_steps, interval)`: `initial` up to `t0`,
# the value of the last update `t0 + kΔt` at or before `step` in between (or the continuous
# formula — both are accepted), `final` from `t0 + nΔt` on.

# %% tags=["answer:agp_sparsity"]
def agp_sparsity(step, initial, final, start, n_steps, interval):
    ### BEGIN SOLUTION
    if step <= start:
        return float(initial)
    k = min((step - start) // interval, n_steps)              # the last update at or before step
    return float(final + (initial - final) * (1 - k / n_steps) ** 3)
    ### END SOLUTION

# %% tags=["check:agp_sparsity"]
check("agp_sparsity", agp_sparsity)

# %% [markdown]
# The slider below draws the library's schedule; your function must agree with it at every update:

# %%
from pruninglab.pruning import agp_schedule
from pruninglab.labs.retrain import compute_agp, render_agp, live_agp
if ready("agp_sparsity", agp_sparsity):
    mine = [agp_sparsity(20 + 15 * k, 0.0, 0.9, 20, 10, 15) for k in range(11)]
    print("your schedule equals the library's at every update:",
          bool(np.allclose(mine, agp_schedule(0.0, 0.9, 20, 10, 15))))

agp = compute_agp(initial=0.0, final=0.9, start=20, n_steps=10, interval=15)
print("mask updates at steps:", agp["update_steps"].tolist())
print("sparsity at updates  :", np.round(agp["update_sparsity"], 4).tolist())
print("half of the pruning is done by step", agp["half_point_step"])

# %% tags=["nbval-ignore-output"]
predict("q-agp-half", "With s_f = 0.9, t0 = 20, n = 10 updates every Δt = 15 steps (pruning ends at step "
        "170): by which step is HALF of the final sparsity (0.45) reached?", lo=20, hi=170)

# %% tags=["nbval-ignore-output"]
slider_ui(compute_agp, live_agp(warm=agp),
          initial=sparsity_slider(0.0, hi=0.9, description="initial s_i"),
          final=sparsity_slider(0.9, hi=0.99, description="final s_f"),
          start=int_slider(20, 0, 200, 5, "start t0"),
          n_steps=int_slider(10, 1, 50, 1, "n (updates)"),
          interval=int_slider(15, 1, 100, 1, "interval Δt"))

# %%
render_agp(agp)
_ = reveal("q-agp-half", f"step {agp['half_point_step']}")

# %% [markdown]
# ### Your turn 3 · S4-E2 solved: prune *during* training
#
# Write `gradual_prune(weights, grad_fn, total_steps, final, start, n_updates, interval, lr,
# momentum)`: ONE velocity for the whole run (one optimizer); at every step `t = t0 + kΔt`
# (`k = 0..n`) recompute per-layer magnitude masks of the *current* weights at `s_t` (your
# `agp_sparsity`, from `s_i = 0`) and zero the pruned weights; at every step call
# `grads = grad_fn(w, t)` and your `masked_sgd_step`. Return the final weights and masks.

# %% tags=["answer:gradual_prune"]
def gradual_prune(weights, grad_fn, total_steps, final, start, n_updates, interval, lr, momentum):
    ### BEGIN SOLUTION
    w = [a.copy() for a in weights]
    velocity = [np.zeros_like(a) for a in w]                 # ONE optimizer state for the whole run
    masks = [np.ones(a.shape, dtype=bool) for a in w]
    for t in range(total_steps):
        k, r = divmod(t - start, interval)
        if t >= start and r == 0 and k <= n_updates:         # a mask update at t0 + kΔt
            s = agp_sparsity(t, 0.0, final, start, n_updates, interval)
            for i, a in enumerate(w):                        # per-layer magnitude mask of CURRENT w
                drop = np.argsort(np.abs(a), axis=None, kind="stable")[:round(s * a.size)]
                keep = np.ones(a.size, dtype=bool)
                keep[drop] = False
                masks[i] = keep.reshape(a.shape)
                w[i] = np.where(masks[i], a, 0.0)
        grads = grad_fn(w, t)
        w, velocity = masked_sgd_step(w, grads, masks, velocity, lr, momentum, 0.0)
    return w, masks
    ### END SOLUTION

# %% tags=["check:gradual_prune"]
check("gradual_prune", gradual_prune)

# %% [markdown]
# **Gradual vs one-shot, fair version.** Both arms run *your* `gradual_prune` from the reference MLP
# with the same optimizer (SGD + momentum, one velocity), the same number of steps (8 epochs) and
# step-level mask updates: *one-shot* has one update (all 95 % at step 1), *gradual* has 16 AGP
# updates over the first 5 epochs. Three minibatch orders (seeds); **validation** accuracy.

# %% tags=["nbval-ignore-output"]
predict("q-gradual", "Which ends with the higher val accuracy at 95 % sparsity?",
        choices=["one-shot", "gradual", "a tie (inside the seed spread)"])

# %% tags=["nbval-ignore-output"]
from pruninglab.labs.retrain import cached_gradual_vs_oneshot   # gradual_vs_oneshot, cached under your sources
gv = None
if ready("gradual_prune", gradual_prune):     # 6 runs of 8 epochs the first time (progress bar)
    gv = cached_gradual_vs_oneshot(gradual_prune, final=0.95, epochs=8, prune_epochs=5, n_updates=16,
                                   progress=True)

# %%
if gv:
    for arm in ("oneshot", "gradual"):
        print(f"{arm:8s}: val acc mean {gv[arm + '_mean']:.4f} (min {gv[arm + '_min']:.4f}, "
              f"max {gv[arm + '_max']:.4f}) over seeds {gv['seeds']}; weight sparsity "
              f"{gv['sparsity'][arm]:.4f}")
    tie = gv["gradual_min"] <= gv["oneshot_max"] and gv["oneshot_min"] <= gv["gradual_max"]
    reveal("q-gradual", "a tie" if tie else max(("oneshot", "gradual"), key=lambda a: gv[a + "_mean"]))
    display(md("With one optimizer and the same step budget, {verdict}: mean val accuracy "
               "{g:.1%} (gradual) vs {o:.1%} (one-shot), seed ranges {gl:.1%}–{gh:.1%} and "
               "{ol:.1%}–{oh:.1%}.",
               verdict=("the two are tied (the seed ranges overlap)" if tie else
                        ("gradual pruning is ahead" if gv["gradual_mean"] > gv["oneshot_mean"]
                         else "one-shot pruning is ahead")),
               g=gv["gradual_mean"], o=gv["oneshot_mean"], gl=gv["gradual_min"], gh=gv["gradual_max"],
               ol=gv["oneshot_min"], oh=gv["oneshot_max"]))

# %% [markdown]
# Zhu & Gupta (2017) report the advantage of gradual pruning on large models trained for many
# epochs; here the comparison is fair (same optimizer state, same steps, step-level updates) and
# measured over several seeds, so the sentence above is what this MLP shows.
#
# **Lottery ticket (Frankle & Carbin, 2019), one round.** Train from a seeded init `θ0`, prune
# 90 % per layer by magnitude, then *reset* the surviving weights to `θ0` (the original paper resets
# to the initialisation; *rewinding* to an early training iteration `θ_k` is the later work of
# Frankle, Dziugaite, Roy & Carbin, 2019/2020, "Stabilizing the Lottery Ticket Hypothesis" /
# "Linear Mode Connectivity and the Lottery Ticket Hypothesis") and train the sparse network;
# control: the same mask with a *new* random init. Validation accuracy.

# %% tags=["nbval-ignore-output"]
from pruninglab.labs.retrain import cached_lottery_ticket

# lottery_ticket: 3 runs of 15 epochs (about 8 s the first time: progress bar), cached on disk
lt = cached_lottery_ticket(sparsity=0.9, epochs=15, lr=1e-3, progress=True)

# %%
print(f"dense trained          : val {lt['dense']['val']:.4f}")
print(f"90 % mask, reset to θ0  : val {lt['rewind']['val']:.4f} (sparsity {lt['rewind']['sparsity']:.4f})")
print(f"90 % mask, random init  : val {lt['random_reinit']['val']:.4f}")

# %% [markdown] tags=["seed:S2-Q1"]
# ## S2-Q1 · What is automated pruning? · 自动化剪枝
#
# **Question (document 002):** 自动化剪枝算法的基本概念是什么？ *(What is the basic concept of
# automated pruning?)*
#
# > **答案：** 自动化剪枝算法是指在深度学习模型训练过程中，通过算法自动识别并删除对模型性能贡献不大的网络结构和参数，以减小模型大小和加速推理过程。
# >
# > **解析：** 自动化剪枝算法可以显著降低深度学习模型对计算资源和存储空间的需求，提高模型的部署效率和性能。
#
# *Translation:* "Automated pruning means that *during training* an algorithm automatically
# identifies and deletes structures and parameters that contribute little, to shrink the model and
# speed up inference. Analysis: it significantly reduces compute and storage needs and improves
# deployment efficiency and performance."
#
# **Corrected answer.** Every pruning algorithm "automatically" deletes low-importance weights once
# you give it a criterion and an amount — that is just pruning. *Automated* pruning automates the
# **hyper-parameters a human used to hand-tune**: *how much* to prune in each layer (and which
# structure), subject to a global budget (size, FLOPs, measured latency). Examples: per-layer
# sensitivity analysis (Han et al., 2015; Distiller), AMC — reinforcement learning picks per-layer
# ratios (He et al., 2018), NetAdapt — greedy, driven by measured latency on the target device
# (Yang et al., 2018). It can run after training or during training; "during training" is not the
# definition.
#
# **Wrong or missing in the document:** (1) defines it as "pruning during training" (that is
# gradual/dynamic pruning, a different axis); (2) never says *what* is automated (per-layer
# sparsity/structure under a budget); (3) "accelerate inference" unconditionally — only with
# structured pruning or sparse kernels; (4) no search/objective/validation data mentioned.
#
# **Measurement.** Scan each layer's sensitivity on the **validation** split (prune one layer at a
# time, others dense), let a greedy allocator pick per-layer sparsities for a global target, and
# compare with uniform pruning at the *same* global sparsity (no fine-tuning, to isolate the
# allocation). Test accuracy is only reported.

# %% [markdown]
# ### Your turn 4 · the sensitivity scan
#
# For each layer $l$ and each grid value $s_j$, prune **only** layer $l$ by magnitude (its
# $\mathrm{round}(s_j n_l)$ smallest $|w|$ set to 0, ties by flat index), keep every other layer
# dense, and score the network on the **validation** split:
#
# $$\mathrm{scan}[l, j] = \mathrm{acc}_{\text{val}}\big(W_1, \dots, W_l \odot M(W_l, s_j), \dots, W_L\big).$$
#
# Write `layer_sensitivity(weights, evaluate, grid)`: `weights` is a list of numpy arrays (one per
# layer), `evaluate(weights)` returns the validation accuracy of the network with those weights
# (`evaluate(weights, "test")` exists but refuses: the scan *chooses*, so it must not look at the
# test split), `grid` the sparsities. Return the `(L, G)` array; do not modify the inputs.

# %% tags=["answer:layer_sensitivity"]
def layer_sensitivity(weights, evaluate, grid):
    ### BEGIN SOLUTION
    scan = np.zeros((len(weights), len(grid)))
    for l, w in enumerate(weights):
        order = np.argsort(np.abs(w), axis=None, kind="stable")   # smallest |w| first
        for j, s in enumerate(grid):
            keep = np.ones(w.size, dtype=bool)
            keep[order[:round(s * w.size)]] = False
            trial = list(weights)                     # every other layer: its DENSE weights
            trial[l] = np.where(keep.reshape(w.shape), w, 0).astype(w.dtype)
            scan[l, j] = evaluate(trial)              # default split: validation
    return scan
    ### END SOLUTION

# %% tags=["check:layer_sensitivity"]
check("layer_sensitivity", layer_sensitivity)

# %% [markdown]
# **Your scan on the reference MLP** (3 layers × 13 sparsities = 39 validation evaluations). The
# allocation experiments below use *your* scan (until it passes, they use the library's
# `sensitivity_scan` so the notebook still runs). Predict first:

# %% tags=["nbval-ignore-output"]
predict("q-scan", "Pruned ALONE to 90 %, which layer costs the most validation accuracy?",
        choices=["fc1 (64→256, 16,384 weights)", "fc2 (256→128, 32,768 weights)",
                 "fc3 (128→10, 1,280 weights)"])

# %%
from pruninglab.pruning import sensitivity_scan, allocate_sparsity, model_weights
from pruninglab.labs.retrain import (SCAN_SPARSITIES, compute_allocation, render_allocation,
                                     live_allocation, learner_scan, cached_library_scan)

ref_mlp = load_reference("mlp")
library_scan = cached_library_scan("mlp", SCAN_SPARSITIES)   # sensitivity_scan on val, cached on disk
if ready("layer_sensitivity", layer_sensitivity):
    scan = learner_scan(layer_sensitivity, ref_mlp, val_split, SCAN_SPARSITIES)
    print("your scan equals the library's sensitivity_scan:", scan == library_scan)
else:
    scan = library_scan
    print("(until then: the library's sensitivity_scan)")
sizes = {n: w.numel() for n, w in model_weights(ref_mlp).items()}
print("val accuracy when pruning ONE layer (dense val acc %.4f):" % accuracy(ref_mlp, val_split))
print("sparsity", " ".join(f"{s:5.2f}" for s in SCAN_SPARSITIES))
for n, a in scan.items():
    print(f"{n:8s}", " ".join(f"{x:5.3f}" for x in a), f"  ({sizes[n]} weights)")
j90 = SCAN_SPARSITIES.index(0.9)
worst90 = min(scan, key=lambda n: scan[n][j90])
_ = reveal("q-scan", f"{worst90} (val {scan[worst90][j90]:.4f} at 90 %)")

# %% [markdown]
# ### Your turn 4 · choose the per-layer sparsities yourself
#
# Given the scan as an array `scan[l, j]` (val accuracy with layer `l` pruned to `grid[j]`), the
# layer sizes `n_l` and a global target `T`, pick one grid value per layer so that
# `Σ s_l n_l ≥ T Σ n_l` with a small predicted drop `Σ (scan[l, 0] − scan[l, j_l])` (the scan
# assumes the layers' effects add up). Then compare with the library's `allocate_sparsity`.

# %% tags=["answer:allocate_budget"]
import itertools

def allocate_budget(scan, sizes, grid, target):
    ### BEGIN SOLUTION
    L, G = scan.shape
    best, best_drop = None, np.inf
    for combo in itertools.product(range(G), repeat=L):      # every choice of grid values
        s = grid[list(combo)]
        if np.sum(s * sizes) < target * np.sum(sizes) - 1e-9:
            continue                                         # misses the weight budget
        drop = np.sum(scan[:, 0] - scan[np.arange(L), list(combo)])
        if drop < best_drop - 1e-12:
            best, best_drop = s, drop
    return best.astype(float)
    ### END SOLUTION

# %% tags=["check:allocate_budget"]
check("allocate_budget", allocate_budget)

# %% tags=["nbval-ignore-output"]
predict("q-alloc", "Your allocation is the best one the scan's model can find. On the real network "
        "(val, 90 % of the weights removed), will it beat the library's greedy allocation?",
        choices=["yes, clearly", "a tie (inside the spread of the 359 val images)", "no, it scores lower"])

# %%
from pruninglab.labs.retrain import compare_allocations
ca_md = md("*(Write `allocate_budget` above to compare your allocation with the library's.)*")
if ready("allocate_budget", allocate_budget):
    ca = compare_allocations(allocate_budget, scan, 0.9)
    for k in ("yours", "library", "uniform"):
        al = ", ".join(f"{n}={v:.2f}" for n, v in ca[k]["allocation"].items())
        print(f"{k:8s}: [{al}]  weights removed {ca[k]['sparsity']:.4f}, val acc {ca[k]['val']:.4f}"
              f" (scan's additive prediction {ca[k]['predicted']:.4f})")
    print(f"yours − library: {100 * ca['diff']:+.1f} points, paired bootstrap 90 % interval "
          f"[{100 * ca['diff_lo']:+.1f}, {100 * ca['diff_hi']:+.1f}] over the {ca['n_val']} val images")
    y, lib = ca["yours"], ca["library"]
    tie = ca["diff_lo"] <= 0 <= ca["diff_hi"]
    verdict = ("a tie: the interval contains 0" if tie else
               "yours is ahead" if ca["diff"] > 0 else "the library's is ahead")
    _ = reveal("q-alloc", verdict)
    claim(y["predicted"] >= lib["predicted"] - 1e-12, "the exhaustive choice is the optimum of the scan's model")
    claim(y["val"] < y["predicted"] - 0.05 and lib["val"] < lib["predicted"] - 0.05,
          "the real drop is much larger than the sum of the single-layer drops")
    ahead = ("So the greedy allocator's different split of the budget ({al}) suits the real network "
             "better here, although its prediction was worse. " if not tie and ca["diff"] < 0 else
             "The ranking of the two is not settled by this validation set. " if tie else
             "Here the model's optimum is also ahead on the network. ")
    ca_md = md(
        "**Why the optimum of the scan can lose on the network.** Your exhaustive search finds the best "
        "allocation *of the scan's model*: it predicts {py:.1%} for yours and {pl:.1%} for the library's. "
        "Measured, yours scores {my:.1%} and the library's {ml:.1%} ({d:+.1f} points; paired bootstrap 90 % "
        "interval {lo:+.1f} to {hi:+.1f} points over the {n} validation images) — {verdict}. Both "
        "predictions are far too optimistic ({ey:+.1f} and {el:+.1f} points): the scan prunes one layer at a "
        "time with the others dense and adds up the single-layer drops, but pruning `fc1`, `fc2` and `fc3` "
        "*together* interacts (each layer's errors feed the next), so the real drop is much larger than the "
        "sum, and its order between two allocations need not follow the sum. " + ahead +
        "Lessons: an allocation from a scan is a heuristic — measure the candidates on validation (and "
        "fine-tune, which shrinks the differences); a difference inside the spread of the validation set "
        "is a tie.",
        py=y["predicted"], pl=lib["predicted"], my=y["val"], ml=lib["val"], d=100 * ca["diff"],
        lo=100 * ca["diff_lo"], hi=100 * ca["diff_hi"], n=ca["n_val"], verdict=verdict,
        ey=100 * (y["val"] - y["predicted"]), el=100 * (lib["val"] - lib["predicted"]),
        al=", ".join(f"`{n}` {v:.2f}" for n, v in lib["allocation"].items()))
ca_md

# %%
for target in (0.8, 0.9, 0.95):
    res = compute_allocation(target, scan)
    alloc = ", ".join(f"{n}={s:.3f}" for n, s in res["allocation"].items())
    print(f"target {target:.2f}: auto [{alloc}]  measured {res['auto']['sparsity']:.4f}")
    print(f"    uniform val {res['uniform']['val']:.4f} | auto val {res['auto']['val']:.4f}")

# %% tags=["nbval-ignore-output"]
predict("q-alloc-95", "At 95 % global sparsity, how much higher is the automatic allocation's val accuracy "
        "than uniform pruning (percentage points)?", lo=-100, hi=100)

# %% tags=["nbval-ignore-output"]
slider_ui(compute_allocation, live_allocation(),
          target=sparsity_slider(0.9, hi=0.97, description="global sparsity"),
          scan=__import__("ipywidgets").fixed(scan))

# %%
render_allocation(compute_allocation(0.9, scan))
r95 = compute_allocation(0.95, scan)
_ = reveal("q-alloc-95", f"{100 * (r95['auto']['val'] - r95['uniform']['val']):+.1f} points")
r90a = compute_allocation(0.9, scan)
al90 = r90a["allocation"]
claim(al90["fc3"] < 0.9 < al90["fc2"], "the allocator spares fc3 and prunes fc2 harder at 90 %")
gains = [compute_allocation(t, scan) for t in (0.8, 0.9, 0.95)]
claim(all(g["auto"]["val"] - g["uniform"]["val"] > 0.05 for g in gains[1:]), "auto clearly beats uniform at 90 and 95 %")
md("The allocator leaves the small, sensitive output layer `fc3` (1,280 weights) less pruned "
   "({a3:.2f} at a 90 % budget) and pushes the big `fc2` harder ({a2:.2f}): at the same number of remaining "
   "weights the network is markedly more accurate without any retraining ({g90:+.1f} points at 90 %, "
   "{g95:+.1f} at 95 %, {g80:+.1f} at 80 %). (Caveats: the scan assumes "
   "layers' effects add up (see above); it prunes one layer at a time; the allocation is chosen on val; the "
   "test split is used once, at the end of the notebook.)",
   a3=al90["fc3"], a2=al90["fc2"], g80=100 * (gains[0]["auto"]["val"] - gains[0]["uniform"]["val"]),
   g90=100 * (gains[1]["auto"]["val"] - gains[1]["uniform"]["val"]),
   g95=100 * (gains[2]["auto"]["val"] - gains[2]["uniform"]["val"]))

# %% [markdown] tags=["seed:S2-Q3"]
# ## S2-Q3 · How to implement automated pruning · 自动化剪枝的实现
#
# **Question (document 002):** 如何实现自动化剪枝？ *(How do you implement automated pruning?)*
#
# > **答案：** 实现自动化剪枝通常需要以下步骤：
# >
# > 1. 数据预处理：对输入数据进行归一化、标准化等处理，以提高剪枝效果。
# > 2. 模型训练：使用大量数据对深度学习模型进行训练。
# > 3. 剪枝算法：采用不同的剪枝算法，如L1范数、L2范数、L0范数等，对模型进行剪枝。
# > 4. 模型评估：评估剪枝后模型的性能，如准确率、召回率等。
# > 5. 优化调整：根据模型评估结果，对剪枝策略进行调整和优化。
# >
# > **解析：** 自动化剪枝的关键在于选择合适的剪枝算法和调整剪枝策略，以平衡模型大小和性能。
#
# *Translation:* "1. preprocess data (normalise/standardise) to improve pruning; 2. train the model on
# lots of data; 3. prune with an algorithm such as L1, L2 or L0 norm; 4. evaluate accuracy, recall,
# etc.; 5. adjust the strategy from the evaluation. Key: choose the algorithm and tune the strategy."
#
# **What is wrong or missing:** (1) data normalisation has nothing to do with pruning quality;
# (2) "L0 norm" is not a pruning criterion — the L0 *norm* just counts non-zeros; L0 *regularisation*
# (Louizos et al., 2018) is a training penalty; (3) step 5 is the whole problem ("adjust the
# strategy") left unspecified — nothing is automated; (4) no budget/constraint (size, FLOPs,
# latency), no search space (per-layer sparsity, granularity), no validation/test separation;
# (5) no fine-tuning step; (6) recall as *the* metric is arbitrary — use the task's metric on held-out
# data.
#
# **The real loop** (what `sensitivity_scan` + `allocate_sparsity` above implement, in its simplest form):
#
# 1. **Define the budget** — global sparsity, parameter bytes, FLOPs/MACs, or *measured latency* on
#    the target hardware (NetAdapt).
# 2. **Define the search space** — per-layer sparsity (and granularity: weights, N:M, channels).
# 3. **Estimate each choice's cost in accuracy on validation data** — sensitivity scan (one layer at a
#    time), or a learned policy (AMC's RL agent), or greedy measured steps (NetAdapt).
# 4. **Pick the allocation** that meets the budget with the smallest predicted loss.
# 5. **Prune and fine-tune** with masks enforced (or prune gradually, AGP); iterate 3–5 if needed.
# 6. **Report once on the test set**, together with the *measured* size and latency.
#
# Measured cost of step 3 here:

# %%
n_evals = len(scan) * len(SCAN_SPARSITIES)
print(f"sensitivity scan: {len(scan)} layers × {len(SCAN_SPARSITIES)} sparsities = {n_evals} validation evaluations")

# %% tags=["nbval-ignore-output"]
from pruninglab.utils import Timer
scan_fn = ((lambda: learner_scan(layer_sensitivity, ref_mlp, val_split, SCAN_SPARSITIES))
           if ready("layer_sensitivity", layer_sensitivity, quiet=True) else
           (lambda: sensitivity_scan(ref_mlp, val_split, SCAN_SPARSITIES)))
with Timer() as t_scan:
    scan_fn()
print(f"wall time of the scan on this machine: {t_scan.seconds:.2f} s")

# %% [markdown] tags=["seed:S2-Q4"]
# ## S2-Q4 · Advantages of automated pruning · 自动化剪枝的优势
#
# **Question (document 002):** 自动化剪枝算法的优势是什么？ *(What are the advantages of automated pruning?)*
#
# > **答案：** 自动化剪枝算法的优势包括：
# >
# > * 降低模型大小和计算资源需求，提高部署效率。
# > * 减少人工干预，降低开发成本。
# > * 提高模型推理速度，提高实时性能。
# >
# > **解析：** 自动化剪枝算法为深度学习模型提供了更高效的部署解决方案，有助于推动人工智能技术的广泛应用。
#
# *Translation:* "Smaller models and lower resource needs; less human intervention, lower development
# cost; faster inference, better real-time performance."
#
# **Corrected, with nuance.**
#
# * **Better accuracy at the same budget** than uniform hand-set ratios — the main advantage, measured
#   above (uniform vs auto at 80/90/95 %).
# * **Less manual tuning** — but *not free*: the search costs compute (a scan is `layers × grid`
#   evaluations; AMC/NetAdapt cost many more, plus fine-tuning). "降低开发成本" holds for people-time,
#   not necessarily for machine-time.
# * **Size:** fewer non-zeros only shrink storage when stored in a sparse format, and below ≈ 33 %
#   sparsity CSR is *bigger* than dense (table in S0-C3).
# * **Speed:** only if the budget is expressed in something the hardware rewards (channels, N:M,
#   measured latency). An unstructured mask on a dense kernel does the same arithmetic — measured here:

# %%
auto90 = load_reference("mlp")
alloc90 = allocate_sparsity(auto90, scan, 0.9, sparsities=SCAN_SPARSITIES)
apply_masks_(auto90, compute_masks(auto90, alloc90, scope="layer"))
b_dense, b_auto = storage_bytes_dense_csr(dense), storage_bytes_dense_csr(auto90)
print(f"dense: {b_dense['dense_bytes'] / 1024:.1f} KiB; auto-90 % in CSR: {b_auto['csr_bytes'] / 1024:.1f} KiB "
      f"({b_dense['dense_bytes'] / b_auto['csr_bytes']:.1f}× smaller), nonzeros {b_auto['nonzeros']} of {b_auto['params']}")

# %% tags=["nbval-ignore-output"]
from pruninglab.hardware import measure_latency
x1 = val_split.x[:1]
def median_latency_us(model):
    with torch.no_grad():
        return 1e6 * measure_latency(lambda: model(x1))["median_s"]
print(f"batch-1 latency, dense           : {median_latency_us(dense):.1f} µs")
print(f"batch-1 latency, 90 % zeros (mask): {median_latency_us(auto90):.1f} µs  (same dense kernels)")

# %% [markdown]
# **Defects in the document's answer:** (1) speed-up stated unconditionally; (2) development cost
# claimed to fall, ignoring search and fine-tuning compute; (3) the real advantage — better
# accuracy/budget trade-off than hand-set per-layer ratios — is not mentioned; (4) no measurement.

# %% [markdown] tags=["seed:S4-Q4"]
# ## S4-Q4 · Practical challenges of pruning and their remedies · 剪枝的实际挑战与对策
#
# **Question (document 004):** 剪枝技术在实际应用中面临哪些挑战？请列举一些解决方案。 *(Which challenges does
# pruning face in practice? List some remedies.)* The document's answer (verbatim, abridged to its
# four headings and the two contradictory items):
#
# > 1. **误剪问题（Mis-pruning）** … **解决方案**： **动态阈值调整** … **渐进式剪枝**：逐步减少剪枝力度，逐步移除网络中的冗余部分，减小误剪风险。 **恢复策略** …
# > 2. **恢复问题（Un-pruning）**
# >    - **定义**：恢复是指在剪枝后，重新引入被剪枝的部分，以恢复模型性能。
# >    - **解决方案**：
# >      - **渐进式恢复**：逐步增加剪枝力度，重新引入网络中的冗余部分，避免一次性恢复导致的模型性能波动。
# >      - **自适应恢复**：根据模型性能的变化，自适应地调整恢复策略，确保模型性能的稳定。
# > 3. **剪枝后的模型性能下降** … **剪枝策略优化** … **额外训练** …
# > 4. **计算复杂度和时间成本** … **并行计算**：利用并行计算技术，如GPU加速 … **算法优化**：… 如使用低秩分解、稀疏矩阵运算等。
#
# *Translation of the key items:* "1. Mis-pruning — remedies: dynamic threshold adjustment;
# **progressive pruning: gradually *decrease* the pruning strength**; recovery by extra training.
# 2. **Un-pruning** — defined as re-introducing pruned parts to recover performance; remedies:
# **progressive recovery: gradually *increase* the pruning strength, re-introducing redundant
# parts**, adaptive recovery. 3. Accuracy drop after pruning — optimise strategy, extra training.
# 4. Computational cost — parallel computing (GPU), algorithm optimisation (low-rank, sparse ops)."
#
# **What is wrong:** (1) "Un-pruning" as a standard challenge is invented — regrowth exists in
# dynamic sparse training (e.g. RigL, Evci et al. 2020) as a *method*, not a problem category;
# (2) "渐进式恢复: 逐步增加剪枝力度…重新引入" contradicts itself (increase pruning to re-introduce
# weights?), and "渐进式剪枝: 逐步减少剪枝力度" inverts gradual pruning (AGP *increases* sparsity,
# with decreasing increments); (3) items 1 and 3 are the same problem (accuracy loss) listed twice;
# (4) the main practical challenge — **pruned models are often not faster** — is missing; (5) layer
# sensitivity, hardware-friendly structure, and validation discipline are missing; (6) "use the GPU"
# is not a pruning remedy.
#
# **Corrected list (challenge → remedy → where measured):**
#
# | challenge | remedy | evidence |
# |---|---|---|
# | accuracy drop | fine-tune with masks enforced; prune gradually (AGP); iterate prune/retrain | S0-Q3 sweep, S4-E2 |
# | pruned weights regrow during retraining | re-apply masks after each step | S0-C3 defect 11 |
# | no speed-up from unstructured zeros | structured (filters/channels), N:M 2:4 (Mishra et al., 2021), sparse kernels only at high sparsity | S2-Q4 latency |
# | storage not smaller | sparse formats (CSR/bitmask/relative index), only beyond a break-even sparsity | S0-C3 table |
# | layers differ in sensitivity | per-layer allocation by sensitivity scan / search | S2-Q1 |
# | choosing on the test set | tune on validation, report test once | every experiment here |
# | cost of retraining/search | prune once + short fine-tune; cheap proxies (scan without fine-tuning) | S2-Q3 timing |

# %% [markdown] tags=["seed:S4-Q7b"]
# ## S4-Q7b · Interview: challenges of pruning and how to solve them · 剪枝的挑战与解决方法
#
# **Question (document 004):** 剪枝技术在实际应用中面临哪些挑战？如何解决这些挑战？ The document's answer repeats
# S4-Q4 (verbatim excerpt):
#
# > 1. **误剪问题**：剪枝过程中可能误剪掉对模型性能有贡献的权重或层，影响模型性能。解决方案包括动态阈值调整、渐进式剪枝和恢复策略。
# > 2. **恢复问题**：剪枝后可能需要恢复模型性能，以补偿误剪带来的性能下降。解决方案包括渐进式恢复和自适应恢复策略。
# > 3. **剪枝后的性能下降**：剪枝后模型的性能可能下降，需要额外的训练或调整来恢复性能。解决方案包括剪枝策略优化和额外训练。
# > 4. **计算复杂度和时间成本**：剪枝过程中可能需要大量的计算资源，导致计算复杂度和时间成本增加。解决方案包括并行计算和算法优化。
#
# *Translation:* "1. mis-pruning — dynamic thresholds, progressive pruning, recovery; 2. recovery
# problem — progressive and adaptive recovery; 3. accuracy drop — strategy optimisation, extra
# training; 4. compute/time cost — parallel computing, algorithm optimisation."
#
# **Same errors as S4-Q4:** items 1–3 are one problem (accuracy loss) split in three; "recovery
# problem" is not a standard challenge; no mention of "sparse ≠ fast", layer sensitivity, or
# hardware constraints.
#
# **A concise model answer (≈ 1 minute):** "Three things bite in practice. *Accuracy*: one-shot
# pruning beyond ~80 % hurts, so I fine-tune with masks enforced, or prune gradually with AGP, and I
# allocate per-layer sparsity from a validation sensitivity scan because layers differ a lot.
# *Speed*: unstructured zeros do not make dense kernels faster, so if latency matters I use channel
# pruning or 2:4 sparsity on hardware that supports it, and I *measure* latency on the target.
# *Process*: retraining and search cost compute, and every choice is made on validation data with the
# test set reported once."

# %% [markdown] tags=["seed:S4-Q5"]
# ## S4-Q5 · Progress in industry and academia · 工业界与学术界进展
#
# **Question (document 004):** 剪枝技术在国内头部一线大厂和学术界的研究进展如何？请举例说明。 *(What progress have
# leading companies and academia made on pruning? Give examples.)* The document's answer (verbatim
# excerpt):
#
# > - **层次化剪枝**：清华大学、北京大学等国内顶尖高校在层次化剪枝方面取得了重要研究成果。例如，清华大学提出了一种基于层次化剪枝的卷积神经网络结构压缩方法，显著减少了模型参数数量，同时保持了较高的模型精度。
# > - **动态剪枝**：中国科学院自动化研究所提出了一种动态剪枝算法，通过在训练过程中动态调整剪枝策略，实现了模型参数数量和计算复杂度的有效降低。
# > - **腾讯AI Lab**：腾讯AI Lab在剪枝技术方面取得了多项研究成果，并在实际应用中取得了显著效果。例如，腾讯AI Lab提出了一种基于深度学习的图像识别模型剪枝方法，成功应用于腾讯云的图像识别服务，提高了模型效率。
#
# *Translation:* "Tsinghua and Peking University made important results in hierarchical pruning, e.g.
# Tsinghua proposed a hierarchical-pruning CNN compression method…; the CAS Institute of Automation
# proposed a dynamic pruning algorithm…; Tencent AI Lab proposed an image-recognition pruning method
# applied in Tencent Cloud…" (and similar paragraphs on Zhejiang University, Baidu PaddlePaddle and
# Alibaba PAI).
#
# **What is wrong:** no paper, author, year, venue or number is given for any claim, so none can be
# checked; "hierarchical pruning" is not an established named method; the paragraphs are
# interchangeable boilerplate ("显著减少…同时保持较高精度"). An interview answer should name
# verifiable milestones. (PaddleSlim, Baidu's compression toolkit for PaddlePaddle, does exist — the
# one checkable item — but no result is cited.)
#
# **Verifiable milestones** (each is a paper or a public tool you can look up):
#
# | year | work | contribution |
# |---|---|---|
# | 1990 | LeCun, Denker, Solla — *Optimal Brain Damage* (NeurIPS) | second-order (diagonal Hessian) saliency |
# | 1993 | Hassibi & Stork — *Optimal Brain Surgeon* (NeurIPS) | full inverse-Hessian saliency + weight update |
# | 2015 | Han, Pool, Tran, Dally — *Learning both Weights and Connections* (NeurIPS) | magnitude pruning + retraining: 9–13× fewer params on AlexNet/VGG-16, no accuracy loss |
# | 2016 | Han, Mao, Dally — *Deep Compression* (ICLR) | prune + k-means sharing + Huffman: 35× (AlexNet), 49× (VGG-16) |
# | 2017 | Li, Kadav, Durdanovic, Samet, Graf — *Pruning Filters for Efficient ConvNets* (ICLR) | L1 filter pruning, real FLOP reduction |
# | 2017 | Molchanov, Tyree, Karras, Aila, Kautz (ICLR) | first-order Taylor importance |
# | 2017 | Zhu & Gupta — *To prune, or not to prune* | AGP gradual pruning schedule |
# | 2018 | He, Lin, Liu, Wang, Li, Han — *AMC* (ECCV) | RL-based automated per-layer ratios |
# | 2018 | Yang et al. — *NetAdapt* (ECCV) | latency-driven automated pruning with measured tables |
# | 2019 | Frankle & Carbin — *The Lottery Ticket Hypothesis* (ICLR) | sparse trainable subnetworks, reset to the initialisation |
# | 2020/21 | NVIDIA Ampere 2:4 sparse tensor cores; Mishra et al. 2021 — *Accelerating Sparse Deep Neural Networks* | hardware-supported N:M structured sparsity |
# | 2023 | Frantar & Alistarh — *SparseGPT* (ICML) | one-shot pruning of 100B+ LLMs to 50–60 % |
# | 2023 | Sun, Liu, Bair, Kolter — *Wanda* | pruning LLMs by \|weight\| × input-activation norm, no retraining |
# | 2023 | Fang et al. — *DepGraph* (CVPR), library Torch-Pruning | dependency-aware structured pruning for arbitrary architectures |
#
# Tools: `torch.nn.utils.prune` (PyTorch; masks only — no speed-up by itself), PaddleSlim (Baidu),
# Torch-Pruning (Fang et al.), NVIDIA's ASP for 2:4.

# %% [markdown] tags=["seed:S4-Q6"]
# ## S4-Q6 · Summary and outlook · 总结与展望
#
# **Question (document 004):** 总结剪枝技术的研究现状和应用前景，并探讨未来的发展方向。 *(Summarise the state and
# prospects of pruning and discuss future directions.)* The document's answer (verbatim excerpt):
#
# > 1. **算法创新**：针对不同类型的神经网络结构，研究者提出了多种剪枝算法，如基于阈值的剪枝、基于梯度的剪枝、基于强度的剪枝和层次化剪枝等。这些算法在模型压缩率和性能提升方面取得了显著的进展。
# > …
# > 3. **优化策略**：针对剪枝过程中存在的挑战，如误剪、恢复和性能下降等问题，研究者提出了多种优化策略，如动态阈值调整、渐进式剪枝、渐进式恢复等，有效提高了剪枝技术的应用效果。
# > …
# > 3. **硬件加速**：结合硬件加速技术（如GPU、FPGA等），提高剪枝算法的执行效率，降低计算复杂度。
#
# *Translation:* "Algorithmic innovation: threshold-, gradient-, strength-based and hierarchical
# pruning made significant progress in compression and performance; optimisation strategies such as
# dynamic thresholds, progressive pruning and *progressive recovery*; outlook: cross-domain fusion,
# adaptive pruning, hardware acceleration (GPU, FPGA) to *speed up the pruning algorithm*, end-to-end
# pruning."
#
# **What is wrong:** it recycles the invented categories ("strength-based", "hierarchical",
# "progressive recovery") and uncited industry claims; "hardware acceleration" is framed as running
# the *pruning algorithm* faster, when the real issue is making the *pruned model* faster on hardware;
# no concrete open problem.
#
# **Corrected summary.** (1) Unstructured magnitude pruning + retraining compresses
# over-parameterised models by ~10× at equal accuracy (Han et al., 2015), but compression ≠ speed.
# (2) Speed comes from structure the hardware exploits: filters/channels (Li et al., 2017), N:M 2:4
# (Mishra et al., 2021), chosen with measured latency (NetAdapt). (3) *How much* to prune per layer is
# best automated against a budget (sensitivity, AMC, NetAdapt). (4) Pruning combines with quantization
# (Deep Compression) — the next notebooks. **Outlook:** one-shot pruning of large language models
# without retraining (SparseGPT, Wanda); structured pruning of arbitrary graphs (DepGraph);
# hardware–software co-design of sparse formats and accelerators; understanding *why* sparse
# subnetworks train (lottery tickets).

# %% [markdown]
# ## Test report (once, for the chosen setting)
#
# The setting chosen on validation in this notebook: automatic per-layer allocation at 90 % global
# sparsity from the val scan (`auto90` above, no fine-tuning).

# %% tags=["test-report"]
test_split = load_digits("test")
print(f"dense reference MLP: test accuracy {accuracy(dense, test_split):.4f}")
print(f"auto-90 % allocation: test accuracy {accuracy(auto90, test_split):.4f} "
      f"(val {accuracy(auto90, val_split):.4f})")

# %% [markdown]
# ## Check yourself
#
# 1. In the S0-Q3 sweep, at which sparsity does fine-tuning make the largest difference, and why does
#    it make almost none at 30 % and at 99 %?
#
# <details><summary>Answer</summary>
# Read the largest gap between the two columns of the table (it is in the 90–95 % region for this
# MLP). At 30 % the pruned model is already as good as dense — there is nothing to recover; at 99 %
# too little capacity is left (about 500 weights) for a few epochs to recover anything.
# </details>
#
# 2. Why must the mask be re-applied *after* every optimizer step instead of only zeroing the weights
#    once before fine-tuning?
#
# <details><summary>Answer</summary>
# Gradients of pruned weights are generally non-zero, so every step moves them away from zero; and
# optimizer state carried over from earlier steps (momentum / Adam's moments from dense training or
# from before a mask update) keeps moving them even if the gradient is zeroed. The S0-C3 experiment shows the
# "90 % sparse" model becoming dense again after 3 epochs without enforcement.
# </details>
#
# 3. In `dynamic_learning_rate_pruning`, what sparsity do you get for `pruning_rate=0.9`, and why?
#
# <details><summary>Answer</summary>
# About 10 %: `uniform < 0.9` is true for ~90 % of the entries and that boolean is *multiplied in*,
# so it is the keep-mask. It is also random (no importance) and only approximately 0.1.
# </details>
#
# 4. Write the AGP formula and say what happens between two mask updates.
#
# <details><summary>Answer</summary>
# s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))³ at t = t0, t0+Δt, …, t0+nΔt. Between updates the
# previous mask (and sparsity) stays in force and is re-applied after every step.
# </details>
#
# 5. What exactly does an *automated* pruning method automate, and which data split should it use?
#
# <details><summary>Answer</summary>
# The choice of how much (and which structure) to prune in each layer under a global budget (size,
# FLOPs or measured latency). It must choose on the validation split; the test split is used once to
# report.
# </details>
#
# 6. Your 90 %-sparse MLP has the same batch-1 latency as the dense one. Give two ways to make pruning
#    pay off in latency.
#
# <details><summary>Answer</summary>
# Structured pruning (remove whole neurons/channels so the dense matrices shrink), or N:M (2:4)
# sparsity on hardware with sparse tensor cores; alternatively a sparse kernel at very high sparsity
# and small batch. Always measure on the target device.
# </details>
