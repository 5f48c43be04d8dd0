# %% [markdown]
# # Exercises 2 · Quantization, schedules and sparse storage
#
# Three graded exercises: **formula → stub → check → bigger experiment**, as in Exercises 1.
# Run the `check(...)` cell after writing each function; the report lists every case with a
# hint. Hidden random cases use the seed printed in the report. Reference solutions are not in
# this notebook.

# %%
from pruninglab.utils import notebook_setup; notebook_setup()
import numpy as np
import matplotlib.pyplot as plt
from pruninglab.grading import check, grade, implemented
from pruninglab.grading import experiments, seed_bugs

# %% [markdown]
# ## 1 · `symmetric_quantize`: linear symmetric quantization
#
# With $b$ bits and a symmetric grid (zero-point 0), the largest code is
# $q_{max} = 2^{b-1} - 1$ and (Jacob et al. 2018, symmetric variant)
#
# $$ S = \frac{\max_i |w_i|}{q_{max}}, \qquad q_i = \operatorname{clip}\big(\operatorname{round}(w_i / S),\,-q_{max},\,q_{max}\big), \qquad \hat w_i = S\,q_i, \quad |\hat w_i - w_i| \le S/2 .$$
#
# Contract: `symmetric_quantize(weights, bits) -> (codes, scale)`: `codes` an **integer** array
# of the input's shape, `scale` one float. `bits = 1` leaves no nonzero level
# ($2^0 - 1 = 0$): raise `ValueError`. An all-zero tensor gives all-zero codes (and no
# division-by-zero warning). Pick an integer dtype that can hold $b$-bit codes.

# %% tags=["answer:symmetric_quantize"]
def symmetric_quantize(weights, bits):
    """Integer codes and scale of symmetric per-tensor linear quantization."""
    ### BEGIN SOLUTION
    if bits < 2:
        raise ValueError(f"bits must be >= 2 for symmetric quantization, got {bits}")
    qmax = 2 ** (bits - 1) - 1
    maxabs = float(np.abs(weights).max())
    if maxabs == 0:
        return np.zeros(weights.shape, np.int32), 0.0
    scale = maxabs / qmax
    codes = np.clip(np.round(weights / scale), -qmax, qmax).astype(np.int32)
    return codes, scale
    ### END SOLUTION

# %% tags=["check:symmetric_quantize"]
check("symmetric_quantize", symmetric_quantize)

# %% [markdown]
# The seed's `low_bit_quantization` (S3-C2) computes `np.sign(w) * (np.abs(w) / 2**(p-1))`:
# a rescaling, with no rounding at all. Adapted to return `(that, 2**(p-1))`:

# %%
print(grade("symmetric_quantize", seed_bugs.s3_c2_pair, seed=0).summary())

# %% [markdown]
# **Bigger experiment.** Quantize every layer of the reference MLP with your function,
# dequantize ($S\,q$), and measure test accuracy and weight memory ($b$ bits per weight plus one
# fp32 scale per layer).

# %%
if implemented("symmetric_quantize", symmetric_quantize):
    rows, fp32_bytes = experiments.quant_sweep(symmetric_quantize, [2, 3, 4, 6, 8])
    print(f"fp32 weights: {fp32_bytes} bytes")
    for r in rows:
        print(f"{r['bits']} bits: accuracy {r['accuracy']:.3f}, {r['weight_bytes']} bytes "
              f"({fp32_bytes / r['weight_bytes']:.1f}x smaller)")
else:
    print("symmetric_quantize is not implemented yet: this experiment runs once it is.")

# %% [markdown]
# ## 2 · `agp_sparsity`: the gradual pruning schedule
#
# Zhu & Gupta (2017) raise the sparsity from $s_i$ to $s_f$ over $n$ pruning steps spaced
# $\Delta t$ training steps apart, starting at step $t_0$:
#
# $$ s_t = s_f + (s_i - s_f)\Big(1 - \frac{t - t_0}{n\,\Delta t}\Big)^3, \qquad t_0 \le t \le t_0 + n\,\Delta t ,$$
#
# with $s_t = s_i$ before $t_0$ and $s_t = s_f$ after $t_0 + n\Delta t$.
#
# Contract: `agp_sparsity(step, initial, final, start, n_steps, interval) -> float`. Between two
# update steps, both conventions are accepted: the formula evaluated at `step` (continuous) or
# held at the last update step.

# %% tags=["answer:agp_sparsity"]
def agp_sparsity(step, initial, final, start, n_steps, interval):
    """Zhu & Gupta (2017) cubic sparsity schedule, clamped before start and after the end."""
    ### BEGIN SOLUTION
    end = start + n_steps * interval
    if step <= start:
        return float(initial)
    if step >= end:
        return float(final)
    progress = (step - start) / (n_steps * interval)
    return float(final + (initial - final) * (1 - progress) ** 3)
    ### END SOLUTION

# %% tags=["check:agp_sparsity"]
check("agp_sparsity", agp_sparsity)

# %% [markdown]
# The seed's "dynamic learning-rate pruning" (S2-C4) trains all epochs and then prunes once at a
# fixed rate; as a schedule that is a jump at the end:

# %%
print(grade("agp_sparsity", seed_bugs.s2_c4_prune_once, seed=0).summary())

# %%
if implemented("agp_sparsity", agp_sparsity):
    steps = np.arange(0, 1201, 10)
    s = [agp_sparsity(int(t), 0.0, 0.9, 100, 20, 50) for t in steps]
    print(f"sparsity at steps 100, 350, 600, 1100: "
          f"{[round(agp_sparsity(t, 0.0, 0.9, 100, 20, 50), 4) for t in (100, 350, 600, 1100)]}")
    fig, ax = plt.subplots()
    ax.plot(steps, s)
    ax.set_xlabel("training step"); ax.set_ylabel("target sparsity")
    ax.set_title("your AGP schedule: 0 -> 0.9, start 100, 20 updates every 50 steps")
    plt.show()
else:
    print("agp_sparsity is not implemented yet: this experiment runs once it is.")

# %% [markdown]
# ## 3 · `csr_bytes`: what does a sparse matrix really cost?
#
# Compressed sparse row (CSR) storage of a matrix with `rows` rows and `nnz` nonzeros keeps the
# nonzero values, one column index per nonzero and a row-pointer array of `rows + 1` entries:
#
# $$ \text{bits} = nnz\,(b_{value} + b_{index}) + (rows + 1)\,b_{index}, \qquad \text{bytes} = \lceil \text{bits} / 8 \rceil .$$
#
# Contract: `csr_bytes(weights, value_bits, index_bits) -> int`. A 1-D vector is one row; a
# tensor with more dimensions is seen as `weights.shape[0]` rows (e.g. a conv weight
# (out, in, kh, kw) as out rows of in·kh·kw columns). The packed stream is rounded up once.

# %% tags=["answer:csr_bytes"]
def csr_bytes(weights, value_bits, index_bits):
    """Bytes of the CSR representation: values, column indices, rows+1 row pointers."""
    ### BEGIN SOLUTION
    rows = weights.shape[0] if weights.ndim > 1 else 1
    nnz = int(np.count_nonzero(weights))
    bits = nnz * (value_bits + index_bits) + (rows + 1) * index_bits
    return -(-bits // 8)  # ceil(bits / 8)
    ### END SOLUTION

# %% tags=["check:csr_bytes"]
check("csr_bytes", csr_bytes)

# %% [markdown]
# **Bigger experiment**: dense vs CSR bytes of the whole MLP after magnitude pruning. It needs
# your `csr_bytes` and your `magnitude_prune` from Exercises 1 (paste it in the next cell).
# With fp32 values and 16-bit indices, CSR beats dense only when the density is below
# $32/(32+16) = 2/3$.

# %%
def magnitude_prune(weights, sparsity):
    """Paste your solution from Exercises 1 here."""
    ### BEGIN SOLUTION
    k = round(weights.size * sparsity)
    out = weights.copy()
    order = np.argsort(np.abs(weights), axis=None, kind="stable")
    out.flat[order[:k]] = 0
    return out
    ### END SOLUTION

# %%
if implemented("csr_bytes", csr_bytes) and implemented("magnitude_prune", magnitude_prune):
    for r in experiments.prune_sweep(magnitude_prune, [0.0, 0.25, 0.5, 0.75, 0.9],
                                     csr_bytes=csr_bytes, value_bits=32, index_bits=16):
        print(f"sparsity {r['sparsity']:.2f}: dense {r['dense_bytes']} B, CSR {r['csr_bytes']} B, "
              f"accuracy {r['accuracy']:.3f}")
else:
    print("implement csr_bytes and paste magnitude_prune to run this experiment.")

# %% [markdown]
# ## Check yourself
#
# 1. Why is the symmetric 8-bit range [-127, 127] and not [-128, 127]?
#
# <details><summary>Answer</summary>
#
# With zero-point 0 the grid must be symmetric so that +max|w| and -max|w| map to codes of equal
# magnitude; using -128 would need a scale based on 128 on one side only. The lost code costs
# 1/256 of the range. (Affine quantization uses all 256 codes with a zero-point.)
# </details>
#
# 2. The seed's S3-C2 divides the weights by $2^{p-1}$. How many bytes does that save?
#
# <details><summary>Answer</summary>
#
# None: the result is still a float array of the same dtype, and its values are not on any
# grid, so they cannot be stored in fewer bits. Quantization needs rounding to integer codes.
# </details>
#
# 3. Why does AGP prune fast at first and slowly at the end?
#
# <details><summary>Answer</summary>
#
# Early on the network has plenty of redundant weights, so pruning many costs little; near the
# target every removed weight matters and the remaining weights need training steps to
# compensate (Zhu & Gupta 2017).
# </details>
#
# 4. At 50 % sparsity, is a layer smaller in CSR with int8 values and 16-bit indices?
#
# <details><summary>Answer</summary>
#
# No. Each kept value costs 8 + 16 = 24 bits against 8 bits dense, so CSR only wins below
# 1/3 density (above 2/3 sparsity), before counting the row pointers.
# </details>
