# %% [markdown]
# # Start here: pruning and quantization, with a hardware point of view
#
# > **First: run the cells.** Use *Run ▸ Run All Cells* in the menu (or Shift+Enter cell by cell).
# > Until a cell has run in *your* kernel, an interactive cell shows only text such as
# > `interactive(children=(FloatSlider(value=0.5, …` or `VBox(children=(HTML(…` — that is a widget
# > waiting for a kernel, not an error. After running, a slider looks like
# > `sparsity ━━━━━●━━━━ 0.50` with a figure below it that redraws when you drag the knob, and a
# > prediction question is a small list of radio buttons ("Predict first: …").
#
# This workbook teaches **neural-network pruning** (removing weights, neurons or channels) and
# **quantization** (storing and computing with fewer bits) — and what they do to the *hardware*:
# memory, energy and latency.
#
# It is built around five Chinese interview-prep documents (面试题库) that circulate widely. They
# are full of errors: wrong definitions, code that crashes, "pruning" that deletes random
# weights or keeps the wrong ones, "quantization" that does not quantize. Every one of their
# 38 items is reproduced here: the original text quoted and translated, each defect **shown by
# running it**, then a corrected implementation from the `pruninglab` library, run on a real
# trained model, with the claim **measured** where it can be.
#
# ## How to use this workbook
#
# * **Run the cells in order** (Shift+Enter, or *Run → Run All Cells*). Every number you see is
#   computed by the code above it; re-running gives the same numbers (everything is seeded).
# * **Sliders.** Interactive cells let you move a sparsity, threshold, ratio or bit-width and
#   watch accuracy *and* hardware cost change. Each slider is backed by a plain function that
#   you can also call yourself — the cell just before the slider does exactly that.
# * **Your turn cells.** In the topic notebooks you write the core algorithms yourself (e.g. the
#   magnitude mask, a global threshold and the iterative prune + fine-tune design in notebook 01):
#   the answer cell holds a stub that raises `NotImplementedError`; replace it, run the `check(...)`
#   cell below it — `pruninglab.grading.check("exercise_id", your_function)` grades it with fixed and
#   hidden random cases and explains every failed check — and the notebook's experiments then run
#   *your* function. Until then they print what to write first. More graded exercises and interview
#   quizzes are in [exercises/ex01_pruning.ipynb](exercises/ex01_pruning.ipynb),
#   [exercises/ex02_quantization_storage.ipynb](exercises/ex02_quantization_storage.ipynb) and
#   [exercises/interview_quiz.ipynb](exercises/interview_quiz.ipynb).
# * **Seed items** carry their catalog ID (e.g. `S2-C1`) in the section heading;
#   [`INDEX.md`](INDEX.md) maps every ID to its notebook.
#
# ## Map of the notebooks
#
# | notebook | topic |
# |---|---|
# | [01_pruning_fundamentals](01_pruning_fundamentals.ipynb) | magnitude, threshold, random and global pruning; what the documents get wrong about "weight pruning" |
# | [02_structured_pruning](02_structured_pruning.ipynb) | neurons, filters, channels; zero-masks vs physically smaller models |
# | [03_data_driven_criteria](03_data_driven_criteria.ipynb) | mean activation, APoZ and Taylor importance computed on real data |
# | [04_prune_retrain_automated](04_prune_retrain_automated.ipynb) | fine-tuning, iterative/AGP schedules, sensitivity scans, automatic per-layer sparsity |
# | [05_quantization](05_quantization.ipynb) | integer codes, scale and zero-point, per-channel, QAT, k-means |
# | [06_joint_pruning_quantization](06_joint_pruning_quantization.ipynb) | prune → quantize pipelines and their real size |
# | [07_pruning_in_practice](07_pruning_in_practice.ipynb) | does pruning speed up training? inference? measured |
# | [08_hardware_lab](08_hardware_lab.ipynb) | storage formats, energy, roofline, measured latency, latency-aware pruning |
# | [exercises/ex01_pruning](exercises/ex01_pruning.ipynb) | graded pruning exercises (also [ex02_quantization_storage](exercises/ex02_quantization_storage.ipynb) and the [interview_quiz](exercises/interview_quiz.ipynb)) |

# %%
from pruninglab.utils import notebook_setup
notebook_setup()  # seeds everything, one torch thread: same numbers on every run

import numpy as np
import torch
import matplotlib.pyplot as plt

from pruninglab.data import load_digits
from pruninglab.models import load_reference
from pruninglab.train import accuracy

# %% [markdown]
# ## The data and the reference model
#
# The data are the UCI handwritten digits: 1,797 grey-scale images of 8×8 pixels (CC BY 4.0,
# shipped in `data/`). They are split once, with a fixed seed, into **train** (to learn),
# **validation** (to *choose* sparsities and bit-widths) and **test** (held out: reported, never
# tuned on). The reference model is a small multilayer perceptron 64 → 256 → 128 → 10, trained by
# `python -m pruninglab.train_reference`.

# %%
train, val = (load_digits(s) for s in ("train", "val"))
model = load_reference("mlp")
print(model)
n_params = sum(p.numel() for p in model.parameters())
print(f"splits: train {len(train)}, val {len(val)} images (and a held-out test split, below)")
print(f"parameters: {n_params:,} = 64·256+256 + 256·128+128 + 128·10+10 = {64*256+256 + 256*128+128 + 128*10+10:,}")
print(f"validation accuracy {100 * accuracy(model, val):.2f}%")

# %% [markdown]
# The test split is looked at once per notebook, for the setting that was chosen (here: the
# reference model itself):

# %% tags=["test-report"]
test = load_digits("test")
print(f"test split: {len(test)} images; test accuracy of the reference MLP {100 * accuracy(model, test):.2f}%")

# %% [markdown]
# ## A first taste: magnitude pruning
#
# The simplest useful criterion (Han et al., 2015, *Learning both Weights and Connections for
# Efficient Neural Networks*): weights with a small absolute value contribute little, so set the
# smallest ones to **exactly zero**. For a target sparsity $s$ over $n$ weights, zero the
# $k = \mathrm{round}(n\,s)$ weights of smallest $|w|$:
#
# $$ m_i = \begin{cases} 0 & |w_i| \text{ is among the } k \text{ smallest} \\ 1 & \text{otherwise} \end{cases}
# \qquad w' = m \odot w $$
#
# The mask $m$ is computed by a *pure* function; applying it is a separate step. A check on a
# tiny tensor, where the answer is known exactly:

# %%
from pruninglab.pruning import magnitude_mask, apply_mask

w = np.array([[0.9, -0.1, 0.4],
              [-0.7, 0.05, -0.3]])
m = magnitude_mask(w, sparsity=0.5)      # k = round(6 · 0.5) = 3 zeros: |0.05|, |-0.1|, |-0.3|
print(m.astype(int))
print(apply_mask(w, m))
print("zeros:", int((apply_mask(w, m) == 0).sum()), "| input unchanged:", w[1, 1] == 0.05)

# %% [markdown]
# Now the whole model. `compute_magnitude` (in `pruninglab.labs.start`) prunes a *copy* of the
# reference MLP — one global threshold across the three weight matrices, or the same sparsity in
# each layer — and measures validation accuracy and weight memory: dense float32 (zeros are
# still stored) versus CSR (only nonzeros, plus a 32-bit column index each and a row-pointer
# array). Here is 90 % sparsity:

# %%
from pruninglab.labs.start import compute_magnitude, render_magnitude, live_magnitude

r = compute_magnitude(0.9, scope="global")
print(f"validation accuracy at 90% global sparsity: {100 * r['val_accuracy']:.2f}%")
print(f"nonzero weights: {r['nonzero']:,} of {r['weights']:,}")
print(f"per-layer sparsity chosen by the global threshold: {r['layer_sparsity']}")
print(f"memory: dense {r['dense_bytes']:,} B, CSR {r['csr_bytes']:,} B")
render_magnitude(r)  # the same picture the slider below redraws

# %% [markdown]
# ### Try it: the sparsity slider
#
# Move the slider (or click it and use the arrow keys). The grey curve is the accuracy over the
# whole range; the red dot is your setting. Notice two things:
# 1. accuracy holds up remarkably well to high sparsity *without any retraining* — and then
#    collapses; the knee is where fine-tuning (notebook 04) earns its keep;
# 2. CSR only saves memory once enough weights are gone: at low sparsity the indices cost more
#    than the zeros they replace (notebook 08 computes the break-even point for every format).

# Before you move it, predict (the answer is recorded, then compared with the measurement below):

# %% tags=["nbval-ignore-output"]
from pruninglab.labs.learner import predict, reveal

predict("q00-knee", "Global magnitude pruning, no retraining: above which sparsity does validation "
        "accuracy first fall below 90 %?", choices=["30 %", "60 %", "80 %", "95 %"])

# %% tags=["nbval-ignore-output"]
from pruninglab.ui import slider_ui, sparsity_slider, dropdown

slider_ui(compute_magnitude, live_magnitude(),
          sparsity=sparsity_slider(0.5, hi=0.98),
          scope=dropdown(["global", "layer"], description="scope"))

# %%
from pruninglab.labs.start import sweep_magnitude

knee = next((s for s, a in sweep_magnitude("global") if a < 0.9), None)
_ = reveal("q00-knee", f"first swept sparsity below 90 % accuracy: {knee:.0%}" if knee is not None
           else "never below 90 % up to 98 %")

# %% [markdown]
# ## Graded exercises in one line
#
# In the exercise notebooks you write a function and call `check`. It never raises: it prints a
# report with each check passed or failed and *why*. Here the learner has not written anything
# yet, so the grader says so:

# %%
from pruninglab.grading import check

def my_magnitude_prune(weights, sparsity):
    raise NotImplementedError("your code here")

check("magnitude_prune", my_magnitude_prune)

# %% [markdown]
# ## Check yourself
#
# 1. Why does the workbook choose sparsities on the *validation* split and report the *test* split?
#    <details><summary>Answer</summary>Choosing a setting on the data you report on makes the
#    reported number optimistically biased (you tuned on it). Validation is for decisions; test is
#    looked at once, at the end.</details>
# 2. At 90 % sparsity, the pruned MLP still does the same number of multiply-adds in PyTorch. Why?
#    <details><summary>Answer</summary>The zeros are still stored in dense tensors and a dense
#    matrix multiply multiplies by them. Only a sparse format with a sparse kernel, or physically
#    removing neurons/channels (structured pruning), reduces the work — see notebooks 02, 07 and 08.</details>
# 3. Below which sparsity does CSR with 32-bit values and 32-bit indices use *more* memory than dense?
#    <details><summary>Answer</summary>Each nonzero costs 8 bytes instead of 4, so CSR needs density
#    below 1/2 (sparsity above 50 %, plus a little for the row pointers) to win.</details>
