# %% [markdown]
# # Exercises 1 · Pruning by hand
#
# Four graded exercises in the style of the MIT 6.5940 labs: **formula → stub → check on tiny
# tensors → bigger experiment** on the reference digits MLP (64 → 256 → 128 → 10).
#
# How it works
# * Replace each `raise NotImplementedError` with your code, run the cell, then run the
#   `check(...)` cell under it. `check` prints a report: every test case, passed or failed, with
#   *what input* was used, *what was expected* and *what came back*, plus a hint.
# * The grader uses fixed edge cases (sparsity 0, ties, negative weights, 1-D and 4-D tensors,
#   all-zero tensors) and **hidden random cases**; the report prints their seed so that you can
#   replay them with `grade(id, fn, seed=...)`.
# * It also checks that your function does not modify its input, is deterministic and is quiet
#   (no warnings, nothing on stderr). Each call has a 2 s time limit, so an infinite loop costs
#   points, not your kernel.
# * The "bigger experiment" cells run only once your function is implemented.
#
# The seed documents' own code for these tasks (items S2-C1, S2-C2, S2-C3, S3-C1, S0-C1, S0-C2,
# S1-C5, S2-C5, analysed in the topic notebooks) fails these checks: after each exercise we
# show what the grader says about it.

# %%
from pruninglab.utils import notebook_setup; notebook_setup()
import numpy as np
import matplotlib.pyplot as plt
from pruninglab.grading import check, grade, exercises, implemented
from pruninglab.grading import experiments, seed_bugs

for exercise_id, description in exercises():
    print(f"{exercise_id:20s} {description}")

# %% [markdown]
# ## 1 · `magnitude_prune`: fine-grained magnitude pruning
#
# Han et al. (2015) prune the connections with the smallest magnitude. For a tensor with $n$
# entries and target sparsity $s \in [0, 1)$, zero exactly $k = \operatorname{round}(n\,s)$
# entries, those with the smallest $|w|$:
#
# $$ m_i = \begin{cases} 0 & \text{if } i \text{ is among the } k \text{ smallest } |w_i| \\ 1 & \text{otherwise}\end{cases}, \qquad w' = m \odot w .$$
#
# Contract: `magnitude_prune(weights: np.ndarray, sparsity: float) -> np.ndarray` with the same
# shape and dtype; the input is not modified. With ties, any $k$ of the tied entries may be
# chosen, but **exactly** $k$. Useful: `np.argsort(np.abs(w), axis=None)`, `out.flat[idx] = 0`.

# %% tags=["answer:magnitude_prune"]
def magnitude_prune(weights, sparsity):
    """Zero the round(weights.size * sparsity) entries with the smallest |w|."""
    ### BEGIN SOLUTION
    k = round(weights.size * sparsity)
    out = weights.copy()
    order = np.argsort(np.abs(weights), axis=None, kind="stable")
    out.flat[order[:k]] = 0
    return out
    ### END SOLUTION

# %% tags=["check:magnitude_prune"]
check("magnitude_prune", magnitude_prune)

# %% [markdown]
# What the grader says about the seed document's version (S2-C1 deletes the small weights
# with `np.delete`; adapted to this signature in `pruninglab.grading.seed_bugs`):

# %%
print(grade("magnitude_prune", seed_bugs.s2_c1_magnitude, seed=0).summary())

# %% [markdown]
# **Bigger experiment.** Prune every layer of the reference MLP with *your* function and measure
# the test accuracy (no fine-tuning). The storage stays dense here (4 bytes per weight, zeros
# included): the zeros only save memory in a sparse format (exercise 2, `csr_bytes`).

# %%
if implemented("magnitude_prune", magnitude_prune):
    rows = experiments.prune_sweep(magnitude_prune, [0.0, 0.5, 0.7, 0.8, 0.9, 0.95])
    for r in rows:
        print(f"sparsity {r['sparsity']:.2f}: accuracy {r['accuracy']:.3f}, "
              f"nonzeros {r['nonzeros']:6d}, dense bytes {r['dense_bytes']}")
    fig, ax = plt.subplots()
    ax.plot([r["sparsity"] for r in rows], [r["accuracy"] for r in rows], "o-")
    ax.set_xlabel("sparsity (every layer)"); ax.set_ylabel("test accuracy")
    ax.set_title("your magnitude_prune on the reference MLP, no fine-tuning")
    plt.show()
else:
    print("magnitude_prune is not implemented yet: this experiment runs once it is.")

# %% [markdown]
# ## 2 · `threshold_prune`: an absolute threshold
#
# $$ w'_i = \begin{cases} 0 & |w_i| < t \\ w_i & |w_i| \ge t \end{cases} $$
#
# Contract: `threshold_prune(weights, threshold) -> np.ndarray`, same shape (and dtype), input
# not modified. The threshold is **absolute** (not a fraction of $\max|w|$), and an entry with
# $|w| = t$ is kept. (Han et al. 2015 choose the threshold per layer as a quality parameter
# times the layer's standard deviation; that choice is the caller's business.)

# %% tags=["answer:threshold_prune"]
def threshold_prune(weights, threshold):
    """Zero every entry with |w| < threshold."""
    ### BEGIN SOLUTION
    return np.where(np.abs(weights) >= threshold, weights, 0).astype(weights.dtype)
    ### END SOLUTION

# %% tags=["check:threshold_prune"]
check("threshold_prune", threshold_prune)

# %% [markdown]
# Seed item S0-C2 overwrites its threshold argument inside the loop over layers
# (`pruning_threshold = pruning_threshold * np.max(np.abs(weights_matrix))`), so the threshold
# compounds from layer to layer. Successive calls of the adapted version play the layers:

# %%
print(grade("threshold_prune", seed_bugs.make_s0_c2_weight_pruning(), seed=0).summary())

# %% [markdown]
# And S2-C2 ("L2-norm pruning") rescales the whole tensor instead of zeroing anything:

# %%
print(grade("threshold_prune", seed_bugs.s2_c2_l2_norm_pruning, seed=0).summary())

# %% [markdown]
# ## 3 · `n_m_prune`: N:M semi-structured sparsity
#
# In every group of $m$ consecutive weights along the **last** axis keep the $n$ largest $|w|$
# and zero the others. 2:4 is the pattern that NVIDIA's sparse tensor cores accelerate
# (Mishra et al. 2021): exactly 50 % sparsity, but with a regular layout that hardware can
# exploit, unlike unstructured pruning.
#
# Contract: `n_m_prune(weights, n, m) -> np.ndarray`, same shape and dtype; the last dimension
# is a multiple of $m$. Hint: `weights.reshape(-1, m)` puts each group on a row.

# %% tags=["answer:n_m_prune"]
def n_m_prune(weights, n, m):
    """Keep the n largest |w| in every group of m consecutive weights (last axis)."""
    ### BEGIN SOLUTION
    groups = weights.reshape(-1, m)
    order = np.argsort(np.abs(groups), axis=1, kind="stable")
    out = groups.copy()
    np.put_along_axis(out, order[:, : m - n], 0, axis=1)
    return out.reshape(weights.shape)
    ### END SOLUTION

# %% tags=["check:n_m_prune"]
check("n_m_prune", n_m_prune)

# %%
if implemented("n_m_prune", n_m_prune):
    rows = experiments.prune_sweep(lambda w, s: n_m_prune(w, 2, 4), [0.5])
    print(f"2:4 on every layer: accuracy {rows[0]['accuracy']:.3f}, nonzeros {rows[0]['nonzeros']}")
    if implemented("magnitude_prune", magnitude_prune):
        un = experiments.prune_sweep(magnitude_prune, [0.5])[0]
        print(f"unstructured 50 %: accuracy {un['accuracy']:.3f}, nonzeros {un['nonzeros']}")
else:
    print("n_m_prune is not implemented yet: this experiment runs once it is.")

# %% [markdown]
# ## 4 · `neuron_prune`: structured pruning that really shrinks the layers
#
# A fully-connected layer computes $y = W x + b$ with $W \in \mathbb{R}^{out \times in}$; the
# next layer uses $W_{next} \in \mathbb{R}^{out_{next} \times out}$. Removing output neuron $j$
# means deleting **row** $j$ of $W$, entry $j$ of $b$ and **column** $j$ of $W_{next}$. Score each
# neuron by the L2 norm of its row, $\lVert W_{j,:} \rVert_2$, and remove the $k$ smallest
# (Li et al. 2017 use the L1 norm of filters; here we ask for L2).
#
# Contract: `neuron_prune(W, b, W_next, k) -> (W2, b2, W_next2)` with shapes
# $(out-k, in)$, $(out-k,)$, $(out_{next}, out-k)$; the kept neurons compute exactly what they
# computed before.

# %% tags=["answer:neuron_prune"]
def neuron_prune(W, b, W_next, k):
    """Physically remove the k output neurons of W with the smallest L2 row norm."""
    ### BEGIN SOLUTION
    norms = np.linalg.norm(W, axis=1)
    keep = np.sort(np.argsort(norms, kind="stable")[k:])
    return W[keep].copy(), b[keep].copy(), W_next[:, keep].copy()
    ### END SOLUTION

# %% tags=["check:neuron_prune"]
check("neuron_prune", neuron_prune)

# %% [markdown]
# The seed's "structured" pruning (S3-C1) only applies a random elementwise mask, so nothing
# shrinks:

# %%
print(grade("neuron_prune", seed_bugs.s3_c1_structure_pruning_neurons, seed=0).summary())

# %%
if implemented("neuron_prune", neuron_prune):
    for r in experiments.neuron_experiment(neuron_prune, [0, 64, 128, 192, 224]):
        print(f"removed {r['k']:3d} of 256 fc1 neurons: {r['hidden1']:3d} left, "
              f"{r['params']:6d} parameters, accuracy {r['accuracy']:.3f}")
else:
    print("neuron_prune is not implemented yet: this experiment runs once it is.")

# %% [markdown]
# ## Check yourself
#
# 1. Why must `magnitude_prune` zero **exactly** `round(n*s)` entries even when magnitudes tie?
#
# <details><summary>Answer</summary>
#
# A comparison `|w| <= kth_value` zeroes every weight equal to the threshold, so with repeated
# magnitudes (common after quantization or in small integer tensors) the sparsity overshoots the
# target; the schedule and the size accounting downstream assume the requested sparsity.
# Selecting indices (argsort / argpartition) gives exactly k.
# </details>
#
# 2. Your pruned MLP at 90 % sparsity still takes the same number of bytes in the experiment of
#    exercise 1. Why, and what would change that?
#
# <details><summary>Answer</summary>
#
# The zeros are stored as dense float32 values. Memory only drops with a sparse format (CSR,
# bitmask: exercise `csr_bytes`) or with structured pruning that shrinks the tensors
# (`neuron_prune`); compute only drops with kernels or hardware that skip the zeros.
# </details>
#
# 3. In `neuron_prune`, why do you remove a **column** of `W_next` and not a row?
#
# <details><summary>Answer</summary>
#
# `W_next` has shape (out_next, out): its columns correspond to its inputs, which are the
# outputs of the pruned layer. Removing neuron j removes input j of the next layer.
# </details>
#
# 4. Why is 2:4 sparsity "semi-structured", and what does the hardware gain from it?
#
# <details><summary>Answer</summary>
#
# Which weights are zero is free (magnitude-based), but the count per group of 4 is fixed, so
# the values compress to half with 2-bit position metadata and sparse tensor cores can skip the
# zeros at a fixed rate (Mishra et al. 2021: up to 2× peak math throughput).
# </details>
