# %% [markdown]
# # 08 · The hardware lab: memory, energy, roofline, measured latency, latency-aware pruning
#
# The seed documents promise "hardware-aware pruning" and "hardware co-design" but never put a
# number on the hardware. This notebook does: every slider shows what **sparsity**, **structure**
# and **bit-width** do to the hardware — bytes stored, energy spent, where a layer sits on the
# roofline — next to what they do to **accuracy**. Then we *measure* this machine and prune a
# network to a measured latency budget.
#
# **Learning goals**
#
# 1. Compute the storage of a layer in dense, bitmask, CSR/CSC/COO, relative-index (Deep
#    Compression / EIE), 2:4, block-sparse and codebook formats, and find each break-even sparsity.
# 2. Estimate inference energy with the Horowitz (ISSCC 2014) 45 nm table and explain why memory,
#    not arithmetic, dominates — and why int8 saves so much (multipliers scale ~quadratically).
# 3. Place layers on a roofline (Williams et al. 2009) and predict how batch size, bit-width,
#    unstructured sparsity and 2:4 move them.
# 4. Measure dense vs sparse vs channel-pruned vs int8 layers on *this* CPU; find the sparse
#    break-even point and the latency staircase over channel counts.
# 5. Prune to a **latency budget** with a measured lookup table (NetAdapt) and compare with
#    FLOP-proportional and uniform pruning.
#
# **Seed items in this notebook:** S1-Q1, S1-Q2, S1-Q3, S1-Q4 (document 001, "hardware-aware
# pruning").
#
# **Measured vs modelled.** Cells that *time* something are tagged `nbval-ignore-output`: their
# numbers change from run to run and machine to machine, so nothing below is a "fact" about your
# computer until you run it. Everything else (bytes, pJ, FLOP/byte, accuracies) is computed
# deterministically from formulas and the reference models and is re-checked by nbval.

# %%
from pruninglab.utils import notebook_setup; notebook_setup()

import matplotlib.pyplot as plt
import numpy as np
import torch

from pruninglab import hardware as hw
from pruninglab.labs import hardware as lab
from pruninglab.models import load_reference
from pruninglab.ui import slider_ui, sparsity_slider, bits_slider, dropdown

plt.rcParams["figure.dpi"] = plt.rcParams["savefig.dpi"] = 120   # sharp on HiDPI screens

mlp, cnn = load_reference("mlp"), load_reference("cnn")
for name, m in (("mlp", mlp), ("cnn", cnn)):
    prof = hw.layer_profile(m, (1, 64) if name == "mlp" else (1, 1, 8, 8))
    print(name, [(r["name"], r["weight_shape"], r["macs"]) for r in prof])

# %% [markdown]
# ## 1 · Memory: how many bytes does a pruned layer really take?
#
# A pruned weight is still stored unless the *format* leaves it out — and every sparse format
# pays for *where* the kept weights are. With `n` weights viewed as a `rows × cols` matrix, `nnz`
# kept, `b` value bits, `i` index bits, `p` pointer bits (all in `pruninglab.hardware.storage`):
#
# | format | bits | note |
# |---|---|---|
# | dense | `n·b` | |
# | bitmask | `n + nnz·b` | 1 presence bit per position; beats dense when `s > 1/b` |
# | CSR / CSC | `nnz·(b+i) + (rows+1)·p` | beats dense roughly when `d < b/(b+i)`; here `p = 32` |
# | COO | `nnz·(b+2i)` | |
# | relative (Han et al. 2016; EIE) | `(nnz + fillers)·(b+r)` | `r`-bit gap to previous entry; filler zero when a gap exceeds `2^r` |
# | 2:4 (Mishra et al. 2021) | `n/2·(b+2)` | exactly 2 of every 4 kept, 2-bit position each |
# | block (BSR) | `B·(bh·bw·b + i) + (rows/bh+1)·p` | whole blocks pruned |
# | codebook (Han et al. 2016) | `n·c + 2^c·b` | `c`-bit cluster index per weight |
#
# Hand check on the MLP's `fc2` (128 × 256 = 32,768 weights) at 90 % sparsity, int8 values,
# 16-bit column indices, 32-bit row pointers: `nnz = 3277`; CSR = 3277·24 + 129·32 = 82,776 bits
# = 10,347 bytes.

# %%
fc2 = mlp.fc2.weight.detach()
print("fc2 dense fp32 bytes:", hw.storage_bytes(fc2, None, 32, "dense"))
print("fc2 dense int8 bytes:", hw.storage_bytes(fc2.shape, 0.0, 8, "dense"))
for fmt in hw.FORMATS:
    kw = {"index_bits": 16} if fmt in ("csr", "csc", "coo", "block") else {}
    print(f"  {fmt:18s} 90 % sparse, int8: {hw.storage_bytes(tuple(fc2.shape), 0.9, 8, fmt, **kw) if fmt != '2:4' else hw.storage_bytes(tuple(fc2.shape), 0.5, 8, fmt):>7,d} bytes"
          + ("   (2:4 is always exactly 50 %)" if fmt == "2:4" else ""))

# %% [markdown]
# **One CSR convention, stated.** In this notebook CSR stores `i`-bit column indices and
# **`p = 32`-bit row pointers** (`pruninglab.hardware.storage_bits`' default `ptr_bits=32`: a pointer
# must count up to `nnz`, which 16 bits cannot for large layers). The graded exercise `csr_bytes`
# of `notebooks/exercises/` uses `p = i` (pointers as wide as the indices). Both, computed:

# %%
from pruninglab.claims import md, claim, claim_close
from pruninglab.grading import check, solution
from pruninglab.labs.learner import ready, predict, reveal

fc2_90 = hw.storage_bits(tuple(mlp.fc2.weight.shape), 0.9, 8, "csr", index_bits=16)
fc2_90_p16 = hw.storage_bits(tuple(mlp.fc2.weight.shape), 0.9, 8, "csr", index_bits=16, ptr_bits=16)
md("fc2 at 90 % sparsity, int8 values, 16-bit column indices: **{a:,} B** with 32-bit row pointers "
   "(this notebook) and **{b:,} B** with 16-bit row pointers (exercise `csr_bytes`); the difference "
   "is 129 pointers × 16 bits = {d:,} B.", a=-(-fc2_90 // 8), b=-(-fc2_90_p16 // 8),
   d=-(-fc2_90 // 8) - -(-fc2_90_p16 // 8))

# %% [markdown]
# ### Exercise 1 · Storage bytes of a format (6 points)
#
# Write `format_bytes(weights, fmt, value_bits, index_bits, pointer_bits)` for `fmt` in `dense`,
# `bitmask`, `csr`, `coo` (rows = `weights.shape[0]`, a 1-D vector is one row; `n` entries, `nnz`
# nonzeros, `b` value bits, `i` index bits, `p` pointer bits): dense `n·b`; bitmask `n + nnz·b`;
# CSR `nnz·(b + i) + (rows + 1)·p`; COO `nnz·(b + 2i)`; return `ceil(bits / 8)` as an int, and raise
# `ValueError` for any other format.

# %% tags=["answer:format_bytes"]
def format_bytes(weights, fmt, value_bits, index_bits, pointer_bits):
    """Bytes of `weights` stored in `fmt` (dense, bitmask, csr, coo), rounded up."""
    ### BEGIN SOLUTION
    w = np.asarray(weights)
    rows = w.shape[0] if w.ndim > 1 else 1
    n, nnz = w.size, int(np.count_nonzero(w))
    b, i, p = value_bits, index_bits, pointer_bits
    bits = {"dense": lambda: n * b, "bitmask": lambda: n + nnz * b,
            "csr": lambda: nnz * (b + i) + (rows + 1) * p, "coo": lambda: nnz * (b + 2 * i)}
    if fmt not in bits:
        raise ValueError(f"fmt must be one of {sorted(bits)}, got {fmt!r}")
    return -(-bits[fmt]() // 8)
    ### END SOLUTION

# %% tags=["check:format_bytes"]
check("format_bytes", format_bytes)

# %% tags=["nbval-ignore-output"]
predict("q08-formats", "fc2 pruned to 90 %, int8 values, 16-bit indices: which format is smallest?",
        choices=["dense", "bitmask", "csr", "coo"])

# %%
if ready("format_bytes", format_bytes):
    table = lab.format_table(format_bytes, sparsity=0.9, bits=8, index_bits=16, pointer_bits=32)
    for row in table:
        print(f"{row['format']:8s} yours {row['yours']:7,d} B   library {row['library']:7,d} B")
    reveal("q08-formats", min(table, key=lambda r: r["yours"])["format"])

# %% [markdown]
# **Break-even sparsity** — the smallest sparsity at which a format is no larger than dense (exact,
# over integer `nnz`, for a 1024 × 1024 matrix). Note how index width decides it: fp32 values with
# 32-bit indices need > 50 % sparsity, int8 values with 16-bit indices need > 2/3, and int8 with
# 32-bit indices > 80 %. Quantize first, and a sparse format gets *harder* to justify.

# %%
rows = []
for fmt in ("bitmask", "csr", "coo", "relative", "2:4", "block", "relative_codebook"):
    line = [fmt]
    for b, i in ((32, 32), (32, 16), (8, 32), (8, 16), (4, 8)):
        kw = {"index_bits": i} if fmt in ("csr", "coo", "block") else {}
        be = hw.break_even_sparsity(fmt, b, (1024, 1024), **kw)
        line.append("never" if be is None else f"{be:.3f}")
    rows.append(line)
print(f"{'format':18s}" + "".join(f"{h:>10s}" for h in ("b32/i32", "b32/i16", "b8/i32", "b8/i16", "b4/i8")))
for line in rows:
    print(f"{line[0]:18s}" + "".join(f"{v:>10s}" for v in line[1:]))
print("(relative formats use a 4-bit gap index, EIE style; codebook: 16 clusters)")
be_csr = {(b, i): hw.break_even_sparsity("csr", b, (1024, 1024), index_bits=i) for b, i in ((32, 32), (8, 16), (8, 32))}
claim(0.5 <= be_csr[(32, 32)] < 0.51 and 2 / 3 <= be_csr[(8, 16)] < 0.67 and 0.8 <= be_csr[(8, 32)] < 0.81,
      "CSR break-even: > 50 % (fp32, i32), > 2/3 (int8, i16), > 80 % (int8, i32)")

# %%
grid = np.linspace(0, 0.99, 100)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for ax, b in zip(axes, (32, 8)):
    dense_bits = hw.storage_bits((1024, 1024), 0.0, b, "dense")
    for fmt, kw in (("bitmask", {}), ("csr", {"index_bits": 16}), ("coo", {"index_bits": 16}),
                    ("relative", {}), ("block", {"index_bits": 16})):
        ax.plot(grid, [hw.storage_bits((1024, 1024), s, b, fmt, **kw) / dense_bits for s in grid],
                label=fmt)
    ax.plot([0.5], [hw.storage_bits((1024, 1024), 0.5, b, "2:4") / dense_bits], "s", ms=7,
            label="2:4 (exactly 50 %)")
    ax.axhline(1.0, color="k", lw=1, ls="--", label="dense (break-even)")
    ax.set_yscale("log")                  # every curve whole: from 5× dense down to 1/50
    ax.set(title=f"{b}-bit values, 16-bit indices, 32-bit pointers", xlabel="sparsity")
    ax.title.set_fontsize(10)
axes[0].set_ylabel("size / dense size (log scale)")
axes[0].legend(fontsize=7, loc="lower left")
fig.tight_layout()
plt.show()
n_rel99 = hw.storage_bits((1024, 1024), 0.99, 1, "relative") / (1 + hw.DEFAULT_INDEX_BITS["relative"])
claim(0.8 < n_rel99 / (1024 * 1024 / 16) < 1.3, "a 99 %-sparse layer in 4-bit relative format stores about n/16 entries")
_rel = lambda s, b: hw.storage_bits((1024, 1024), s, b, "relative") / hw.storage_bits((1024, 1024), 0.0, b, "dense")  # noqa: E731
claim(all(_rel(0.9, b) - _rel(0.95, b) > 2 * (_rel(0.98, b) - _rel(0.99, b)) > 0 for b in (32, 8))
      and all(_rel(0.99, b) > hw.storage_bits((1024, 1024), 0.99, b, f, **kw) / hw.storage_bits((1024, 1024), 0.0, b, "dense")
              for b in (32, 8) for f, kw in (("csr", {"index_bits": 16}), ("coo", {"index_bits": 16}),
                                            ("block", {"index_bits": 16}))),
      "the relative-index curve levels off at very high sparsity and ends above CSR, COO and block at 99 %")

# %% [markdown]
# Where a curve crosses the dashed line is its break-even sparsity. The relative-index curve levels
# off at very high sparsity (it stops falling and ends above CSR, COO and block at 99 %): with a
# 4-bit gap, every run of more than 16 zeros costs a filler entry, so a 99 %-sparse layer still
# stores about `n/16` entries (Han et al. 2016 use 5 bits for FC
# and 8 for conv layers for this reason).
#
# ### Slider: storage of a whole model vs accuracy
#
# `lab.compute_storage` prunes every layer of a reference model by magnitude (per layer, no
# fine-tuning), quantizes the weights symmetrically to `bits`, evaluates validation accuracy and
# computes the storage in the chosen format. The validated cell prints one setting; the slider
# cell below is yours to play with.

# %%
res = lab.compute_storage(sparsity=0.9, bits=8, format="csr", index_bits=16, model="mlp")
print({k: res[k] for k in ("layers", "total_bytes", "dense_bytes", "fp32_bytes")})
print(f"vs dense int8: {res['ratio_vs_dense']:.2f}x smaller; vs fp32: {res['ratio_vs_fp32']:.2f}x; "
      f"val accuracy {res['accuracy']:.4f} (dense fp32 {res['dense_accuracy']:.4f})")
lab.render_storage(res)

# %% tags=["nbval-ignore-output"]
predict("q08-storage", "fc2 (128 × 256), int8 values, CSR with 16-bit indices: from which sparsity on is it "
        "no larger than dense int8?", choices=["~33 %", "~50 %", "~67 %", "~90 %"])

# %% tags=["nbval-ignore-output"]
slider_ui(lab.compute_storage, lab.live_storage(),
          sparsity=sparsity_slider(0.9, hi=0.98),
          bits=bits_slider(8, lo=2, hi=32),
          format=dropdown(hw.FORMATS, "csr", "format"),
          index_bits=dropdown([8, 16, 32], 16, "index bits"),
          model=dropdown(lab.MODELS, "mlp", "model"))

# %%
_ = reveal("q08-storage", f"{hw.break_even_sparsity('csr', 8, (128, 256), index_bits=16):.3f} "
           "(each kept value costs 8 + 16 bits instead of 8, plus the row pointers)")

# %% [markdown]
# ## 2 · Energy: arithmetic is cheap, moving data is not
#
# Horowitz (ISSCC 2014, 45 nm, 0.9 V): an 8-bit integer add costs 0.03 pJ, a 32-bit float
# multiply 3.7 pJ, a 64-bit read from a 1 MB SRAM 100 pJ and from DRAM 1.3–2.6 nJ. Han et al.
# (2015) quote the same table per 32-bit access: SRAM 5 pJ, DRAM 640 pJ. Between the tabulated
# bit-widths we fit `E ∝ b^α` through the two table points (derived):

# %%
for kind, ops in (("int", (8, 32)), ("fp", (16, 32))):
    for op in ("add", "mult"):
        print(f"{kind:3s} {op:4s}: {ops[0]}b {hw.op_energy(op, ops[0], kind):.2f} pJ, "
              f"{ops[1]}b {hw.op_energy(op, ops[1], kind):.2f} pJ -> alpha = "
              f"{hw.scaling_exponent(op, kind):.2f}")
print(f"int8 MAC (int32 accumulate) {hw.mac_energy(8):.2f} pJ; fp32 MAC {hw.mac_energy(32, 'fp'):.2f} pJ"
      f" -> {hw.mac_energy(32, 'fp') / hw.mac_energy(8):.1f}x")
print(f"one 32-bit DRAM read = {hw.access_energy(32, 'han_dram') / hw.op_energy('add', 32):.0f} "
      "32-bit int adds (Han et al. 2015: ~6400x)")

# %%
bits = np.arange(4, 33)
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(bits, [hw.op_energy("mult", int(b)) for b in bits], label=f"int multiply (α≈{hw.scaling_exponent('mult', 'int'):.1f})")
ax.plot(bits, [hw.op_energy("add", int(b)) for b in bits], label=f"int add (α≈{hw.scaling_exponent('add', 'int'):.1f})")
ax.plot([8, 32], [0.2, 3.1], "ko", label="Horowitz table")
ax.plot([8, 32], [0.03, 0.1], "ko")
ax.set(xlabel="bits", ylabel="pJ per operation", yscale="log",
       title="multipliers scale ~quadratically, adders ~linearly")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Per-layer energy of one inference (batch 1) of the MLP, weights in DRAM, activations in SRAM.
# "dense" means a dense engine that multiplies the zeros too; a sparse format means an EIE-like
# engine that skips them but reads the indices.

# %%
for label, kw in (("fp32 dense", dict(bits=32)),
                  ("int8 dense", dict(bits=8)),
                  ("int8 dense engine, 90 % pruned", dict(bits=8, sparsity=0.9)),
                  ("int8 CSR (16-bit idx) 90 % pruned", dict(bits=8, sparsity=0.9, format="csr", index_bits=16)),
                  ("int4 relative idx 90 % pruned", dict(bits=4, sparsity=0.9, format="relative"))):
    e = hw.model_energy(mlp, (1, 64), **kw)
    print(f"{label:36s} total {e['total_pj'] / 1e3:8.1f} nJ  compute {e['compute_pj'] / 1e3:7.1f}  "
          f"memory {e['memory_pj'] / 1e3:8.1f}  ({100 * e['memory_pj'] / e['total_pj']:.0f} % memory)")

# %%
e_i8 = hw.model_energy(mlp, (1, 64), bits=8)
e_i8_90 = hw.model_energy(mlp, (1, 64), bits=8, sparsity=0.9)
e_i8_sram = hw.model_energy(mlp, (1, 64), bits=8, weight_memory="han_sram")
claim(e_i8["total_pj"] == e_i8_90["total_pj"], "a dense engine at 90 % sparsity costs what the unpruned model costs")
claim(sum(l["weight_pj"] for l in e_i8["layers"]) > 0.99 * e_i8["total_pj"], "> 99 % of the energy is weight fetches from DRAM")
md("Pruning without a format and an engine that exploit it saves **nothing**: the int8 dense engine "
   "at 90 % sparsity costs exactly what the unpruned int8 model costs ({e:.1f} nJ). With batch 1 and "
   "the weights in DRAM, **{share:.1f} %** of the energy is fetching weights — which is why Deep "
   "Compression aimed at fitting the model in on-chip SRAM. The int8 MLP's weights are {kb:.0f} KB "
   "(the fp32 ones {kb32:.0f} KB): a model of ~200 KB fits a 256 KB–1 MB on-chip SRAM, and then the "
   "same inference costs **{es:.1f} nJ**, weight memory {share_s:.0f} % of it (the slider's "
   "`weights in` option). Larger batches reuse each fetched weight (the slider's `batch`).",
   e=e_i8["total_pj"] / 1e3, share=100 * sum(l["weight_pj"] for l in e_i8["layers"]) / e_i8["total_pj"],
   kb=sum(l["weight_bits"] for l in e_i8["layers"]) / 8 / 1000,
   kb32=4 * sum(p.numel() for n, p in mlp.named_parameters() if n.endswith("weight")) / 1000,
   es=e_i8_sram["total_pj"] / 1e3,
   share_s=100 * sum(l["weight_pj"] for l in e_i8_sram["layers"]) / e_i8_sram["total_pj"])

# %%
res = lab.compute_energy(sparsity=0.9, bits=8, format="csr", batch=1, model="mlp")
print([(l["name"], round(l["compute_pj"]), round(l["weight_pj"]), round(l["act_pj"])) for l in res["layers"]])
print(f"{res['per_sample_pj'] / 1e3:.1f} nJ/sample, {res['saving_vs_fp32']:.1f}x less than dense fp32, "
      f"val accuracy {res['accuracy']:.4f}")
lab.render_energy(res)

# %% tags=["nbval-ignore-output"]
predict("q08-batch", "int8 CSR at 90 %, weights in DRAM: going from batch 1 to batch 64, how much less "
        "energy does one sample cost?", choices=["about 60×", "about 10×", "about 2×", "about the same"])

# %% tags=["nbval-ignore-output"]
slider_ui(lab.compute_energy, lab.live_energy(),
          sparsity=sparsity_slider(0.9, hi=0.98),
          bits=bits_slider(8, lo=2, hi=32),
          format=dropdown(hw.FORMATS, "csr", "format"),
          batch=dropdown([1, 8, 64, 256], 1, "batch"),
          model=dropdown(lab.MODELS, "mlp", "model"),
          weight_memory=dropdown([("DRAM", "han_dram"), ("SRAM (on chip)", "han_sram")], "han_dram",
                                 "weights in"))

# %%
e1, e64 = (lab.compute_energy(sparsity=0.9, bits=8, format="csr", batch=b, model="mlp")["per_sample_pj"]
           for b in (1, 64))
_ = reveal("q08-batch", f"{e1 / e64:.1f}× less per sample (the weights are fetched once per batch and "
           "dominate; only the activations scale with the batch)")

# %% [markdown]
# ### Exercise 3 · Energy of a layer from the Horowitz table (6 points)
#
# One MAC = one multiply + one accumulate add (Horowitz 2014, 45 nm): int8 `0.2 + 0.1` pJ (the
# products are summed in a 32-bit accumulator), fp16 `1.1 + 0.4`, fp32 `3.7 + 0.9`. For a dense
# layer `in → out` on a batch: compute `batch·in·out·E_MAC`; weights `in·out·bits·e_w` (fetched
# **once per batch**); activations `batch·(in + out)·bits·e_a`, with `e_w`, `e_a` in pJ per bit
# (DRAM 640 pJ / 32 bits = 20 pJ/bit, SRAM 5 pJ / 32 bits, Han et al. 2015).
# Return `(compute_pj, weight_pj, act_pj)` for `bits` in {8, 16, 32}.

# %% tags=["answer:fc_energy"]
def fc_energy(in_features, out_features, batch, bits, weight_pj_per_bit, act_pj_per_bit):
    """(compute, weight-memory, activation-memory) energy in pJ of one batch through a FC layer."""
    ### BEGIN SOLUTION
    mac = {8: 0.2 + 0.1, 16: 1.1 + 0.4, 32: 3.7 + 0.9}[bits]
    compute = batch * in_features * out_features * mac
    weight = in_features * out_features * bits * weight_pj_per_bit
    act = batch * (in_features + out_features) * bits * act_pj_per_bit
    return compute, weight, act
    ### END SOLUTION

# %% tags=["check:fc_energy"]
check("fc_energy", fc_energy)

# %% tags=["nbval-ignore-output"]
predict("q08-sram", "int8 MLP, batch 1: what share of the energy is weight memory if the weights sit "
        "in on-chip SRAM instead of DRAM?", choices=["> 99 %", "~80 %", "~50 %", "< 20 %"])

# %%
if ready("fc_energy", fc_energy):
    e_dram = lab.energy_with(fc_energy, bits=8, batch=1, weight_memory="han_dram")
    e_sram = lab.energy_with(fc_energy, bits=8, batch=1, weight_memory="han_sram")
    for e in (e_dram, e_sram):
        print(f"weights in {'DRAM' if e['weight_memory'] == 'han_dram' else 'SRAM'}: "
              f"{e['per_sample_pj'] / 1e3:8.1f} nJ per inference, weight memory "
              f"{100 * e['weight_share']:.1f} % of it")
        for r in e["layers"]:
            print(f"   {r['layer']}: yours {tuple(round(v, 1) for v in (r['compute_pj'], r['weight_pj'], r['act_pj']))}"
                  f"  library {tuple(round(v, 1) for v in r['library'])}")
    reveal("q08-sram", f"{100 * e_sram['weight_share']:.0f} %")


# %% [markdown]
# ## 3 · Roofline: is a layer limited by compute or by memory?
#
# `P = min(π, β·I)` with `I = FLOPs / bytes moved` (Williams, Waterman, Patterson 2009). A
# batch-1 fully connected layer performs 2 FLOPs per weight it loads, so `I ≈ 2 / bytes per
# weight`: 0.5 FLOP/B in fp32, 2 in int8 — far left of every ridge point below. Profiles come from
# vendor datasheets; entries marked *derived* in `pruninglab.hardware.roofline` are computed from
# datasheet clocks/widths, not quoted.

# %%
for key, p in hw.PROFILES.items():
    peaks = ", ".join(f"{k} {v / 1e12:g} T" for k, v in p.peaks.items())
    ridge = {b: p.ridge(b) for b in (32, 16, 8)}
    print(f"{key:10s} {peaks:40s} {p.bandwidth / 1e9:8.3f} GB/s  ridge(int8) "
          f"{ridge[8] if ridge[8] is None else round(ridge[8], 1)} FLOP/B  2:4 HW: {p.sparse24}")

# %% [markdown]
# ### Exercise 2 · Arithmetic intensity and the roofline bound of a layer (6 points)
#
# A fully connected layer `in → out` on a batch performs `2·batch·in·out` FLOPs (a MAC is a
# multiply and an add) and moves `(in·out + batch·(in + out))·bits/8` bytes: the weights **once per
# batch** (every sample reuses them) plus the input and output activations. Intensity
# `I = FLOPs / bytes`; attainable performance `min(π, β·I)`; the layer is memory-bound when
# `β·I < π`. Return `(intensity, attainable, "memory" or "compute")`.

# %% tags=["answer:fc_roofline"]
def fc_roofline(in_features, out_features, batch, bits, peak_flops, bandwidth):
    """(FLOP/byte intensity, attainable FLOP/s, 'memory' | 'compute') of a dense FC layer."""
    ### BEGIN SOLUTION
    flops = 2 * batch * in_features * out_features
    nbytes = (in_features * out_features + batch * (in_features + out_features)) * bits / 8
    intensity = flops / nbytes
    attainable = min(peak_flops, bandwidth * intensity)
    return intensity, attainable, "memory" if bandwidth * intensity < peak_flops else "compute"
    ### END SOLUTION

# %% tags=["check:fc_roofline"]
check("fc_roofline", fc_roofline)

# %% tags=["nbval-ignore-output"]
predict("q08-roof-batch", "From batch 1 to batch 64, by how much does fc2's intensity grow (int8, "
        "Orin Nano)?", choices=["~64x", "~30-40x", "~2x", "not at all"])

# %%
if ready("fc_roofline", fc_roofline):
    roof = lab.roofline_with(fc_roofline, "Orin Nano", bits=8, batches=(1, 64))
    for r in roof:
        print(f"batch {r['batch']:3d} {r['layer']}: intensity {r['intensity']:7.2f} FLOP/B "
              f"(library {r['library_intensity']:7.2f}), {r['bound']}-bound, ridge {r['ridge']:.0f}")
    by = {(r["batch"], r["layer"]): r for r in roof}
    growth = {n: by[(64, n)]["intensity"] / by[(1, n)]["intensity"] for n in ("fc1", "fc2", "fc3")}
    reveal("q08-roof-batch", f"{growth['fc2']:.0f}x")

# %%
for batch in (1, 64):
    for structure, s in (("dense", 0.0), ("unstructured", 0.9), ("2:4", 0.5)):
        r = lab.compute_roofline("Orin Nano", bits=8, batch=batch, structure=structure, sparsity=s)
        pts = [(l["name"], round(l["intensity"], 2), l["bound"]) for l in r["current"]["layers"]]
        print(f"batch {batch:3d} {structure:12s} modelled speedup {r['speedup']:.2f}x  {pts}")

# %%
r64 = {st: lab.compute_roofline("Orin Nano", bits=8, batch=64, structure=st, sparsity=s)
       for st, s in (("dense", 0.0), ("unstructured", 0.9))}
r1 = lab.compute_roofline("Orin Nano", bits=8, batch=1, structure="dense", sparsity=0.0)
g = [l64["intensity"] / l1["intensity"] for l64, l1 in zip(r64["dense"]["current"]["layers"], r1["current"]["layers"])]
n_mem = sum(l["bound"] == "memory" for l in r64["dense"]["current"]["layers"])
s1_unstr = lab.compute_roofline("Orin Nano", bits=8, batch=1, structure="unstructured", sparsity=0.9)["speedup"]
claim(r64["unstructured"]["speedup"] < s1_unstr, "the sparse-kernel speedup falls from batch 1 to batch 64")
md("Reading the table: at batch 1 every layer is memory-bound, so the modelled speedup of a format "
   "equals how many bytes it saves (2:4 saves `1 − (b+2)/(2b)` = 37.5 % of the weight bytes at int8; "
   "90 % unstructured with 16-bit indices saves more bytes even though its kernel roof is lower). At "
   "batch 64 the weights are reused, but intensity does **not** grow 64×: the activations grow with "
   "the batch too, so fc1 / fc2 / fc3 grow **{g0:.0f}× / {g1:.0f}× / {g2:.0f}×** (to {i0:.0f} / {i1:.0f} / "
   "{i2:.0f} FLOP/B), and on Orin Nano (int8 ridge {ridge:.0f} FLOP/B) **{nm} of 3** layers are still "
   "memory-bound. Closer to the ridge, the lower roof of irregular sparse kernels starts to bite: the "
   "modelled speedup of 90 % unstructured falls from {s1:.2f}× at batch 1 to {s64:.2f}× at batch 64. The "
   "sparse-kernel roof (25 % of peak) is an **assumption** for illustration; section 4 measures the real "
   "ratio on this CPU.", g0=g[0], g1=g[1], g2=g[2],
   i0=r64["dense"]["current"]["layers"][0]["intensity"], i1=r64["dense"]["current"]["layers"][1]["intensity"],
   i2=r64["dense"]["current"]["layers"][2]["intensity"], ridge=r1["current"]["ridge"], nm=n_mem,
   s1=s1_unstr, s64=r64["unstructured"]["speedup"])

# %%
res = lab.compute_roofline(profile="A100", bits=16, batch=64, structure="2:4", sparsity=0.5, model="cnn")
print(f"ridge {res['current']['ridge']:.1f} FLOP/B, speedup {res['speedup']:.2f}x, val accuracy "
      f"{res['accuracy']:.4f} (2:4 magnitude, no fine-tuning)")
lab.render_roofline(res)

# %% [markdown]
# "This machine" is measured (a 768 × 768 fp32 matmul for the peak, a 64 MiB copy for the
# bandwidth, one thread): machine-dependent, hence not validated.

# %% tags=["nbval-ignore-output"]
mach = hw.measure_machine()
print(f"this machine, {mach['threads']} thread: peak {mach['peak_flops'] / 1e9:.1f} GFLOP/s, "
      f"bandwidth {mach['bandwidth'] / 1e9:.1f} GB/s, ridge {mach['peak_flops'] / mach['bandwidth']:.1f} FLOP/B")

# %% [markdown]
# In the slider below the sparsity control only matters for `structure = unstructured`: it is
# disabled (with the reason in its tooltip and in the printed line) for `dense` (nothing pruned) and
# `2:4` (always exactly 50 %).

# %% tags=["nbval-ignore-output"]
predict("q08-roof24", "Orin Nano, int8, batch 1, structure 2:4: what speedup over dense does the roofline "
        "model give the MLP?", choices=["~2×", "~1.6×", "~1.2×", "none"])

# %% tags=["nbval-ignore-output"]
slider_ui(lab.compute_roofline, lab.live_roofline(),
          profile=dropdown(lab.PROFILE_CHOICES, "Orin Nano", "profile"),
          bits=bits_slider(8, lo=2, hi=32),
          batch=dropdown(lab.ROOFLINE_BATCHES, 1, "batch"),
          structure=dropdown(hw.STRUCTURES, "dense", "structure"),
          sparsity=sparsity_slider(0.9, hi=0.98),
          model=dropdown(lab.MODELS, "mlp", "model"),
          disabled_when=lab.roofline_rules())

# %%
_ = reveal("q08-roof24", f"{lab.compute_roofline('Orin Nano', bits=8, batch=1, structure='2:4', sparsity=0.5)['speedup']:.2f}× "
           "(memory-bound: the speedup is the byte saving, 2 of 4 values kept plus 2-bit positions)")

# %% [markdown]
# ## 4 · Measured latency on this machine
#
# Method (`pruninglab.hardware.latency`): warm-up calls, then repeats of a calibrated number of
# calls, **median** per call. A 1024 × 1024 fully connected layer at 90 % sparsity in four
# variants: dense with the masked weight, `torch.sparse` CSR, channel-pruned (10 % of the output
# channels kept, a smaller dense matmul), and int8 dynamic quantization. All timings below are
# machine-dependent (ignored by nbval).

# %% tags=["nbval-ignore-output"]
for batch in (1, 64):
    t = hw.time_linear_variants(1024, 1024, batch, 0.9)
    print(f"batch {batch:3d}: " + ", ".join(f"{k} {v * 1e6:7.1f} µs" for k, v in t.items())
          + f"  | dense/csr {t['dense'] / t['sparse_csr']:.2f}x, dense/channel {t['dense'] / t['channel']:.1f}x"
          + (f", dense/int8 {t['dense'] / t['int8']:.1f}x" if "int8" in t else ""))

# %% tags=["nbval-ignore-output"]
sps = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)
be = {b: hw.sparse_break_even(1024, 1024, b, sps, repeats=5) for b in (1, 64)}
fig, ax = plt.subplots(figsize=(6.5, 3.2))
for b, r in be.items():
    ax.plot(r["sparsity"], np.array(r["dense_s"]) / np.array(r["csr_s"]), "o-", label=f"batch {b}")
ax.axhline(1, color="k", ls="--", lw=1)
ax.set(xlabel="sparsity", ylabel="speedup of CSR over dense", yscale="log",
       title="torch.sparse CSR vs dense, 1024x1024, this machine")
ax.legend()
fig.tight_layout()
plt.show()
for b, r in be.items():
    print(f"batch {b}: CSR faster than dense from sparsity {r['break_even']} on (measured points {sps})")
order = "earlier at batch 1 (as in Han et al. 2016)" if (be[1]["break_even"] or 2) < (be[64]["break_even"] or 2) \
    else "not earlier at batch 1 (the opposite of Han et al. 2016's CPU/GPU result)"
print(f"on this machine CSR breaks even {order}")

# %% [markdown]
# **Han et al. 2016 (Deep Compression, Appendix A) vs this machine.** Its CPU/GPU measurements
# (MKL, cuBLAS / cuSPARSE) found sparse kernels *faster* than dense at batch 1 and *slower* at batch 64. The roofline explains
# the first half: at batch 1 a layer is memory-bound, and CSR moves fewer bytes. It does not
# guarantee that a particular sparse library realises it: `torch.sparse`'s CPU CSR kernel pays a
# fixed per-call cost (format checks, dispatch, a row loop with irregular accesses) that at batch 1
# is comparable to the whole dense matrix-vector product, and it amortises that cost over 64 columns
# at batch 64 — so on a machine like this one the break-even can come *earlier* at batch 64, the
# opposite order. Both are measurements of kernels, not laws; the printed line above says which
# way it went on this machine.

# %% [markdown]
# **The staircase.** A latency lookup table over output-channel counts of one layer (256 inputs,
# batch 256). Vectorised kernels process channels in groups (vector/tile widths), so latency moves
# in steps and some "smaller" layers are not faster — sometimes slower — than larger ones (on this
# machine: the list printed below the figure).

# %% tags=["nbval-ignore-output"]
lut1 = hw.latency_lut(range(8, 257, 4), kind="linear", in_features=256, batch=256)
cs = np.array(list(lut1))
ts = np.array(list(lut1.values())) * 1e6
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(cs, ts, ".-", label="measured")
ax.plot(cs[cs % 16 == 0], ts[cs % 16 == 0], "o", mfc="none", color="k", label="multiple of 16")
ax.plot(cs, ts[-1] * cs / cs[-1], "--", color="gray", label="∝ channels (FLOP model)")
ax.set(xlabel="output channels", ylabel="µs", title="latency lookup table of one layer (this machine)")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
worse = [(int(c), int(c2)) for c, c2, t, t2 in zip(cs[:-1], cs[1:], ts[:-1], ts[1:]) if t2 < t]
print("channel counts c where c+4 channels were measured FASTER than c:", [w[0] for w in worse])

# %% [markdown]
# ### Exercise 4 · One greedy NetAdapt step (10 points)
#
# Given the current widths `config = {layer: channels}`, a per-layer lookup table
# `lut[layer][channels] → latency` (network latency = sum over layers), a `target` latency and
# `acc_table[layer][c]` = accuracy of the network with only `layer` shrunk to `c`: for every layer
# (in order) take the **largest** width in its table below the current one whose **total** latency
# meets the target (that is, remove as few channels as possible); among these candidates keep the
# most **accurate** (ties: the first layer). Return `(new_config, layer)`, or `(config, None)` when
# no layer can reach the target. Do not modify `config`.

# %% tags=["answer:netadapt_step"]
def netadapt_step(config, lut, target, acc_table):
    """One NetAdapt iteration (Yang et al. 2018): (new config, pruned layer or None)."""
    ### BEGIN SOLUTION
    best = None
    for layer in config:
        for c in sorted((c for c in lut[layer] if c < config[layer]), reverse=True):
            trial = {**config, layer: c}
            if sum(lut[k][trial[k]] for k in trial) <= target:
                if best is None or acc_table[layer][c] > best[0]:
                    best = (acc_table[layer][c], layer, trial)
                break
    return (dict(config), None) if best is None else (best[2], best[1])
    ### END SOLUTION

# %% tags=["check:netadapt_step"]
check("netadapt_step", netadapt_step)

# %% [markdown]
# **Experiment: your step inside the NetAdapt loop.** A deterministic staircase table (a layer's
# latency grows by one step per 16 channels, as vector units do), an accuracy model where `fc1`'s
# channels matter twice as much as `fc2`'s, a budget of 30 µs reached in 4 steps; the same search
# with the library's `netadapt_prune` for comparison.

# %% tags=["nbval-ignore-output"]
predict("q08-netadapt", "Which layer will your NetAdapt shrink first?", choices=["fc1", "fc2"])

# %%
if ready("netadapt_step", netadapt_step):
    lut_s = lab.staircase_lut()
    acc_s = lambda cfg: 1.0 - 0.002 * (256 - cfg["fc1"]) - 0.001 * (128 - cfg["fc2"])
    mine = lab.netadapt_with(netadapt_step, {"fc1": 256, "fc2": 128}, lut_s, 30.0, acc_s, steps=4)
    for h in mine["history"]:
        print(f"shrink {h['layer']}: {h['config']}, latency {h['latency']:.1f} µs, accuracy {h['accuracy']:.3f}")
    lib_na = hw.netadapt_prune({"fc1": 256, "fc2": 128}, lambda c: sum(lut_s[k][c[k]] for k in c),
                               30.0, acc_s, steps=4, granularity=16, min_channels=16)
    print("library netadapt_prune:", lib_na["config"], f"{lib_na['latency']:.1f} µs")
    claim(mine["config"] == lib_na["config"], "your NetAdapt reaches the library's configuration")
    reveal("q08-netadapt", mine["history"][0]["layer"])

# %% [markdown]
# ## 5 · Pruning to a latency budget (NetAdapt) vs FLOP-proportional vs uniform
#
# NetAdapt (Yang et al. 2018): measure a per-layer **lookup table** on the target; then, greedily,
# for each layer find the fewest channels to remove so the looked-up latency drops by the step's
# target, fine-tune each candidate briefly, keep the most accurate, repeat until the budget is
# met. Baselines at the same budgets: *uniform* (one keep-ratio, latency-checked with the same
# table) and *FLOP-proportional* (assumes latency ∝ FLOPs — the usual proxy). Channels are pruned
# by L1 norm (Li et al. 2017) and physically removed; every configuration gets the same 2-epoch
# fine-tune; every choice and comparison uses *val* (the test split is reported once, at the end of
# this section); latency is then **measured end to end**.
#
# The algorithm itself is unit-tested on a synthetic staircase table (`tests/test_hardware_latency.py`);
# here it runs on measured tables, so the result below is machine-dependent.

# %% tags=["nbval-ignore-output"]
study = lab.latency_budget_study((0.8, 0.6, 0.45, 0.3), batch=256, granularity=16)
print(f"unpruned: LUT {study['full_lut_s'] * 1e6:.0f} µs, measured {study['full_measured_s'] * 1e6:.0f} µs, "
      f"val acc {study['full_val_acc']:.4f}")
print(f"{'budget':>6s} {'method':>18s} {'fc1':>4s} {'fc2':>4s} {'LUT µs':>7s} {'meas µs':>8s} "
      f"{'kFLOPs':>7s} {'in budget':>9s} {'val':>6s}")
for r in study["rows"]:
    print(f"{r['budget_fraction']:6.2f} {r['method']:>18s} {r['config']['fc1']:4d} {r['config']['fc2']:4d} "
          f"{r['lut_latency_s'] * 1e6:7.0f} {r['measured_s'] * 1e6:8.0f} {r['flops'] / 1e3:7.1f} "
          f"{str(r['within_budget_lut']):>9s} {r['val_acc']:6.3f}")
lab.render_budget_study(study)

# %% tags=["nbval-ignore-output"]
rows = study["rows"]
miss = [r for r in rows if r["method"] == "flop-proportional" and not r["within_budget_lut"]]
print(f"FLOP-proportional configurations over their latency budget: {len(miss)} of "
      f"{sum(r['method'] == 'flop-proportional' for r in rows)}")
for f in sorted({r["budget_fraction"] for r in rows}):
    rr = {r["method"]: r for r in rows if r["budget_fraction"] == f}
    print(f"budget {f:.2f}: val acc netadapt {rr['netadapt']['val_acc']:.3f} / uniform "
          f"{rr['uniform']['val_acc']:.3f} / flop-prop {rr['flop-proportional']['val_acc']:.3f}; "
          f"measured µs {rr['netadapt']['measured_s'] * 1e6:.0f} / {rr['uniform']['measured_s'] * 1e6:.0f} / "
          f"{rr['flop-proportional']['measured_s'] * 1e6:.0f}")
print("Pareto-optimal (measured latency, val acc):",
      [(rows[i]["method"], rows[i]["budget_fraction"]) for i in study["pareto"]])

# %% [markdown]
# **Test once.** Everything above chose on the validation split. The one setting this notebook
# reports on the test split: the NetAdapt configuration at 45 % of the full latency (its
# configuration depends on this machine's measured table, so the number is not validated).

# %% tags=["test-report", "nbval-ignore-output"]
from pruninglab.data import load_digits
from pruninglab.train import accuracy as _accuracy
chosen = next(r for r in rows if r["method"] == "netadapt" and r["budget_fraction"] == 0.45)
key = f"{chosen['config']['fc1']}x{chosen['config']['fc2']}"
print(f"chosen: NetAdapt at budget 0.45, {key}, measured {chosen['measured_s'] * 1e6:.0f} µs on this machine: "
      f"val {chosen['val_acc']:.3f}, test {_accuracy(study['models'][key], load_digits('test')):.3f} "
      f"(unpruned test {_accuracy(mlp, load_digits('test')):.3f})")

# %% [markdown]
# **How to read it honestly.** On a tiny MLP and a CPU the three methods end up close: the layers
# are small, the lookup table is noisy at the microsecond scale, and 2 epochs of fine-tuning
# recover most of the accuracy. What does hold by construction is that NetAdapt and uniform respect
# the *looked-up* budget, while the FLOP proxy can miss it (its latency is not proportional to
# FLOPs: fixed overheads, the staircase). Whether NetAdapt wins on accuracy at equal *measured*
# latency on your machine is what the table above says — do not take it from the text.

# %% [markdown] tags=["seed:S1-Q1"]
# ## S1-Q1 · What is the basic principle of hardware-aware pruning? · 硬件感知剪枝的基本原理
#
# **Question (document 001):** 硬件感知剪枝的基本原理是什么？ *(What is the basic principle of
# hardware-aware pruning?)*
#
# > **答案：** 硬件感知剪枝技术主要是通过分析网络的权重和激活值，识别并删除那些对网络性能影响不大的神经元。这种方法可以大幅减少模型的计算量，提高推理速度和降低能耗。
#
# *Translation:* "Hardware-aware pruning mainly analyses the network's weights and activation
# values to identify and delete the neurons that have little influence on network performance.
# This can greatly reduce the model's computation, raise inference speed and lower energy."
#
# **Corrected answer.** Hardware-aware pruning chooses *what* to remove (granularity/pattern) and
# *how much per layer* by the **cost on the target hardware** — measured latency, energy or memory
# — not only by importance. Two ingredients: (1) a pattern the hardware can exploit: channels /
# filters (smaller dense GEMMs, any hardware; Li et al. 2017), N:M 2:4 on sparse tensor cores
# (Mishra et al. 2021), blocks matching the tile size, or very high unstructured sparsity for a
# zero-skipping engine such as EIE (Han et al. 2016); (2) the hardware cost **inside the
# optimisation loop** — a measured latency lookup table (NetAdapt, Yang et al. 2018), an energy
# model (Yang et al. 2017, energy-aware pruning), or a latency budget — so the algorithm never
# removes weights that cost accuracy but save no time (the staircase in section 4).
#
# **What the document gets wrong or leaves out:**
# 1. Its definition is ordinary importance pruning (weights/activations) — nothing about hardware.
# 2. "删除神经元" (delete neurons) mixes granularities: weight pruning removes connections, not
#    neurons; which one you choose *is* the hardware question.
# 3. "大幅减少计算量，提高推理速度" is stated unconditionally; fewer nonzeros ≠ less time (section 4:
#    the dense kernel's time does not change with sparsity; CSR needs high sparsity).
# 4. No cost model, no target device, no measurement, no pattern constraint.
#
# **Evidence from this lab** (measured in the next cell, machine-dependent): dense-kernel latency of
# the masked 1024 × 1024 layer vs sparsity, and the channel-pruned equivalent.

# %% tags=["nbval-ignore-output"]
r1 = be[1]
print("dense kernel, batch 1, µs at sparsity", dict(zip(r1["sparsity"], [round(t * 1e6, 1) for t in r1["dense_s"]])))
print(f"-> dense-kernel time, slowest / fastest over these sparsities: {max(r1['dense_s']) / min(r1['dense_s']):.2f}× "
      "(the same MACs at every sparsity, zeros multiplied: any difference is measurement noise)")
print(f"-> CSR (torch.sparse) beats dense only from s = {r1['break_even']} (batch 1) and "
      f"{be[64]['break_even']} (batch 64) on this machine")

# %% [markdown] tags=["seed:S1-Q2"]
# ## S1-Q2 · How does hardware-aware pruning differ from ordinary pruning? · 硬件感知剪枝与普通剪枝的区别
#
# **Question (document 001):** 硬件感知剪枝与普通剪枝技术有何区别？ *(How does hardware-aware
# pruning differ from ordinary pruning?)*
#
# > **答案：** 普通剪枝技术不考虑目标硬件的特性，而硬件感知剪枝技术会根据目标硬件的架构和性能特点进行剪枝，从而实现最佳的性能优化。
#
# *Translation:* "Ordinary pruning does not consider the target hardware's characteristics, while
# hardware-aware pruning prunes according to the target hardware's architecture and performance
# characteristics, thereby achieving the best performance optimisation."
#
# **Corrected answer.** The one-sentence contrast is right but empty. Concretely: ordinary
# (magnitude, Han et al. 2015) pruning optimises *accuracy vs number of nonzeros* and assumes that
# fewer parameters/FLOPs mean faster inference. Hardware-aware pruning optimises *accuracy vs a
# hardware metric* (latency, energy, memory traffic) and (a) restricts the sparsity **pattern** to
# what the target accelerates, (b) **allocates** sparsity per layer by measured cost, since
# layers differ (memory- vs compute-bound, section 3), and (c) **validates** with measurement on
# the target. It does not guarantee "the best" optimisation: NetAdapt is greedy, and lookup tables
# ignore inter-layer effects.
#
# **What the document gets wrong or leaves out:**
# 1. No mechanism: *which* characteristics (pattern support, tile widths, bandwidth, bit-widths)?
# 2. "最佳的性能优化" (optimal) is overclaimed — the methods are heuristics under a budget.
# 3. Does not name the metric that changes (measured latency/energy instead of FLOPs/params).
# 4. Ignores that FLOPs are a poor latency proxy (the FLOP-proportional baseline above can miss its
#    budget; the staircase).
#
# **Evidence** (modelled, deterministic): the same 50 % sparsity is worth very different things
# depending on pattern and hardware (CNN, int8, batch 64; accuracy without fine-tuning).

# %%
for prof in ("A100", "Orin Nano", "STM32F746"):
    for structure, s in (("unstructured", 0.5), ("2:4", 0.5)):
        r = lab.compute_roofline(prof, bits=8, batch=64, structure=structure, sparsity=s, model="cnn")
        print(f"{prof:10s} {structure:12s} s={s:.1f}: modelled speedup {r['speedup']:.2f}x, "
              f"val acc (no fine-tune) {r['accuracy']:.3f}")

# %% [markdown] tags=["seed:S1-Q3"]
# ## S1-Q3 · How is hardware-aware pruning implemented? · 硬件感知剪枝的实现
#
# **Question (document 001):** 如何实现硬件感知剪枝？ *(How do you implement hardware-aware
# pruning?)*
#
# > **答案：** 实现硬件感知剪枝通常需要以下步骤：
# > - **权重剪枝**：根据权重的重要性对神经元进行排序，然后删除不重要或冗余的神经元。
# > - **激活剪枝**：通过训练后的网络，分析激活值，删除那些很少被激活的神经元。
# > - **硬件仿真**：在剪枝后，对网络在目标硬件上进行仿真，以评估剪枝效果。
#
# *Translation:* "It usually needs these steps: **weight pruning** — sort neurons by the importance
# of their weights and delete unimportant or redundant neurons; **activation pruning** — analyse
# the activations of the trained network and delete rarely activated neurons; **hardware
# simulation** — after pruning, simulate the network on the target hardware to evaluate the
# effect."
#
# **Corrected answer (what section 5 implements).**
# 1. Choose a pattern the target runs fast (channels here; 2:4 on Ampere+ GPUs).
# 2. **Measure** a per-layer latency lookup table on the target (section 4) — or use an analytic
#    model (roofline/energy) when you cannot measure.
# 3. Loop: set a latency target slightly below the current one; for every layer, find via the
#    table the fewest channels to remove to reach it; rank channels by an importance criterion
#    (L1 norm, Li et al. 2017; Taylor, Molchanov et al. 2019; APoZ, Hu et al. 2016); shrink; short
#    fine-tune; pick the candidate with the best **validation** accuracy (NetAdapt, Yang et al. 2018).
# 4. Stop at the budget; fine-tune longer; **measure** the final model end to end and report test
#    accuracy once.
#
# **What the document gets wrong or leaves out:**
# 1. The hardware appears only *after* pruning ("硬件仿真" to evaluate) — that is evaluation, not
#    hardware-awareness: the constraint must be **in the loop** and decide what is pruned.
# 2. Its two "steps" (weight and activation pruning) are ordinary criteria, alternatives rather
#    than successive steps, and neither mentions the hardware.
# 3. "根据权重的重要性对神经元进行排序" again conflates weights and neurons (which norm? which axis?).
# 4. "仿真" instead of measurement: simulators are useful, but a measured table is cheap and catches
#    effects (staircase, fixed overheads) that FLOP counts and simple simulators miss.
# 5. No budget, no per-layer allocation, no fine-tuning, no validation/test discipline.
#
# **Evidence** (deterministic, from the unit-tested algorithm on a synthetic staircase table where
# latency is `ceil(channels/8)` per layer and layer `a` matters 3× more than `b`): NetAdapt removes
# channels only in multiples of the step width and from the less important layer.

# %%
staircase = lambda cfg: sum(-(-c // 8) for c in cfg.values())
acc_model = lambda cfg: 1.0 - 0.003 * (32 - cfg["a"]) - 0.001 * (32 - cfg["b"])
flops = lambda cfg: 64 * cfg["a"] + cfg["a"] * cfg["b"]
na = hw.netadapt_prune({"a": 32, "b": 32}, staircase, 6, acc_model, steps=2)
un = hw.uniform_prune({"a": 32, "b": 32}, staircase, 6)
fp = hw.flop_proportional_prune({"a": 32, "b": 32}, flops, 8, 6)
claim(na["config"]["a"] == 32 and na["config"]["b"] % 8 == 0 and na["config"]["b"] < 32,
      "NetAdapt removes channels in multiples of the step width, from the less important layer")
print("netadapt :", na["config"], "latency", na["latency"], "acc", round(na["accuracy"], 4))
print("uniform  :", un["config"], "latency", un["latency"], "acc", round(acc_model(un["config"]), 4))
print("flop-prop:", fp["config"], "latency", staircase(fp["config"]), "acc", round(acc_model(fp["config"]), 4))

# %% [markdown] tags=["seed:S1-Q4"]
# ## S1-Q4 · What is the effect of hardware-aware pruning on model performance? · 硬件感知剪枝对模型性能的影响
#
# **Question (document 001):** 硬件感知剪枝对模型性能有何影响？ *(What effect does
# hardware-aware pruning have on model performance?)*
#
# > **答案：** 硬件感知剪枝可以有效减少模型的参数数量，提高模型的推理速度和降低能耗，但可能会影响模型的性能。因此，需要在剪枝过程中平衡性能和精度。
#
# *Translation:* "Hardware-aware pruning can effectively reduce the number of parameters, raise
# inference speed and lower energy, but it may affect the model's performance. Therefore
# performance and accuracy must be balanced during pruning."
#
# **Corrected answer.** Separate the two meanings of "performance" (性能) that the answer mixes:
# **accuracy** and **speed/efficiency**. Hardware-aware pruning trades accuracy for a *measured*
# speed/energy/memory gain; how much depends on pattern, hardware, batch and bit-width:
# structured (channel) pruning gives real speedups on any hardware but costs more accuracy per
# removed parameter than unstructured pruning; unstructured sparsity saves storage only above the
# format's break-even (section 1) and time only above the kernel's break-even (section 4); 2:4
# gives ≤ 2× math on sparse tensor cores with little accuracy loss after retraining (Mishra et al.
# 2021). Report both axes: accuracy **and** measured latency/energy, as a Pareto curve (section 5).
#
# **What the document gets wrong or leaves out:**
# 1. Uses 性能 for both speed ("提高推理速度") and accuracy ("可能会影响模型的性能") in one
#    sentence, then "平衡性能和精度" — the trade-off is stated in words that contradict each other.
# 2. "减少参数数量" is not the goal of hardware-aware pruning (parameters are a proxy); a
#    hardware-aware method may prefer removing *fewer* parameters that cost more time.
# 3. No numbers, no conditions (batch, bit-width, pattern, hardware), no mention of fine-tuning to
#    recover accuracy.
#
# **Evidence** (deterministic here; measured version in section 5): accuracy and modelled cost side
# by side for the MLP at batch 1 on the edge GPU profile.

# %%
for s in (0.0, 0.5, 0.8, 0.9, 0.95):
    st = lab.compute_storage(sparsity=s, bits=8, format="csr", index_bits=16)
    en = lab.compute_energy(sparsity=s, bits=8, format="csr", batch=1)
    rf = lab.compute_roofline("Orin Nano", bits=8, batch=1, structure="unstructured", sparsity=s)
    print(f"s={s:.2f}: val acc {st['accuracy']:.3f} | CSR {st['total_bytes']:6d} B vs dense int8 "
          f"{st['dense_bytes']} B | {en['per_sample_pj'] / 1e3:6.1f} nJ | modelled speedup {rf['speedup']:.2f}x")

# %% [markdown]
# ## Check yourself
#
# Write your answer to each question first (on paper or in a cell of your own), then open its
# collapsed answer.
#
# 1. An int8 layer is 70 % sparse. Is CSR with 16-bit column indices smaller than dense?
#
# <details><summary>Answer</summary>
# Barely. CSR costs <code>nnz·(8+16)</code> bits versus <code>n·8</code>: it needs density below 1/3,
# i.e. sparsity above ≈ 66.7 % (plus the row pointers). At 70 % it is ≈ 0.9× dense; a bitmask
# (<code>n + nnz·8</code> = 0.425·n·8 bits) is much better at this sparsity.
# </details>
#
# 2. Why does pruning a batch-1 fully connected layer save energy only if the format *and* the
#    engine exploit the zeros?
#
# <details><summary>Answer</summary>
# A dense engine fetches and multiplies every weight, zeros included: same DRAM traffic, same MACs.
# Memory dominates (> 99 % here, since a 32-bit DRAM read is ~6400 32-bit adds), so the saving
# comes from not <em>fetching</em> the zeros — a compressed format — and from skipping their MACs.
# </details>
#
# 3. On the roofline, what happens to a fully connected layer when the batch grows from 1 to 64, and
#    why does that make unstructured sparse kernels less attractive?
#
# <details><summary>Answer</summary>
# Each loaded weight is reused 64 times, but the activations grow with the batch too, so the
# intensity grows far less than 64× (the table above: roughly 9–37× for the MLP) and the layer moves
# *toward* the ridge — on Orin Nano it is still memory-bound; on a machine with a lower ridge it can
# cross it. Near or past the ridge, irregular sparse kernels run below the dense peak and lose.
# Han et al. (2016, Appendix A) saw sparse kernels win at batch 1 and lose at batch 64. A particular
# library can behave differently (torch's CPU CSR kernel has its own overheads, which dominate at
# batch 1): compare with the measurement in section 4 before you generalise.
# </details>
#
# 4. Give two reasons why FLOP-proportional pruning can miss a latency budget.
#
# <details><summary>Answer</summary>
# Latency is not proportional to FLOPs: fixed per-layer overheads (kernel launch, activation
# functions, memory-bound layers whose time follows bytes, not FLOPs) and the staircase (channel
# counts that do not fill a vector/tile take as long as the next multiple). A measured lookup table
# captures both.
# </details>
#
# 5. What single change turns the document's S1-Q3 recipe into hardware-aware pruning?
#
# <details><summary>Answer</summary>
# Put the hardware cost inside the selection loop: choose how many channels (of which layer) to
# remove by a measured latency/energy table under a budget, instead of pruning by importance first
# and "simulating" afterwards.
# </details>
