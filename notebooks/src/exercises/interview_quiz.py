# %% [markdown]
# # Interview practice · the seed questions as a quiz
#
# The five seed documents are Chinese interview-prep texts. Their answers contain wrong claims;
# this quiz turns those claims into **distractors**: every multiple-choice question offers the
# seed's own answer (quoted in Chinese, translated) next to the correct one, and the
# explanation says why the seed is wrong, with a checkable reference. The full analysis of each
# item (IDs like S0-Q1, S3-C2) is in the topic notebooks; see `notebooks/INDEX.md`.
#
# Answer in the widget below, or programmatically with
# `grade_quiz({"train_speed": 1, "csr_bigger": 58, ...})` (option index, or a number for the
# numeric questions).

# %%
from pruninglab.utils import notebook_setup; notebook_setup()
from pruninglab.grading.quiz import QUESTIONS, grade_quiz, quiz_ui, render_question, seed_answers

print(f"{len(QUESTIONS)} questions\n")
for q in QUESTIONS:
    print(render_question(q))
    print()

# %% [markdown]
# ## Take the quiz
#
# Pick one option per question (type a number for the numeric ones), then press
# **Check answers**. (Interactive: this cell's output is not part of the validated notebook.)

# %% tags=["nbval-ignore-output"]
ui = quiz_ui()
ui

# %% [markdown]
# ## How would the seed documents score?
#
# Answering every question the way the seed documents do:

# %%
print(grade_quiz(seed_answers()))

# %% [markdown]
# ## Where each distractor comes from
#
# The seed's words for each question (so you can find them in `data/seeds/`):

# %%
for q in QUESTIONS:
    print(f"[{q.id}] {q.seed_claim}")

# %% [markdown]
# ## Check yourself
#
# 1. A colleague says "we pruned 50 % of the weights, so the model trains twice as fast". What
#    do you ask?
#
# <details><summary>Answer</summary>
#
# Which pruning (unstructured masks change nothing for dense kernels), when (pruning usually
# happens after or during training and needs retraining, Han et al. 2015), and whether any
# speed-up was measured, at inference, on the target hardware.
# </details>
#
# 2. Name two of the seed documents' coding items whose "pruning" leaves every tensor shape
#    unchanged and two that change the shape in a way that breaks the network.
#
# <details><summary>Answer</summary>
#
# Unchanged shapes: S3-C1 (random elementwise mask), S2-C3 (random inverted mask), S2-C2
# (rescaling). Broken shapes: S2-C1 (`np.delete`, flattens), S0-C2 (`np.compress`), S1-C5
# (ragged lists).
# </details>
