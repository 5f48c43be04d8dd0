# %% [markdown]
# # Interview practice · 面试练习: the seed questions as a quiz
#
# The five seed documents are Chinese interview-prep texts. Their answers contain wrong claims;
# this quiz turns those claims into **distractors**: every multiple-choice question offers the
# seed's own answer next to the correct one (option positions and lengths are balanced, so the
# layout gives nothing away), and the feedback after you answer quotes the seed (in Chinese,
# translated) and says why it is wrong. The full analysis of each item (IDs like S0-Q1, S3-C2)
# is in the topic notebooks; see `notebooks/INDEX.md`.
#
# * 面试速答卡 (answer cards) for all 24 seed questions, bilingual: `notebooks/interview/answer_cards.ipynb`
# * Mock interview over the whole question bank (zh / en, timed, history): `notebooks/interview/mock_interview.ipynb`,
#   or in a terminal: `python -m pruninglab quiz --lang zh --n 8`
#
# Answer in the widget below, or programmatically with `grade_quiz({"train_speed": 0, ...})`
# (option index, or a number for the numeric questions).

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
# **Check answers**; the feedback then explains each answer. (Interactive: this cell's output is
# not part of the validated notebook.)

# %% tags=["nbval-ignore-output"]
ui = quiz_ui()
ui

# %% [markdown]
# ## How would the seed documents score?
#
# Answering every question the way the seed documents do (only the score is shown here, so the
# answer key stays hidden until you have answered yourself):

# %%
print(grade_quiz(seed_answers()).summary())

# %% [markdown]
# ## The question bank · 题库
#
# Beyond the seed items, `pruninglab.interview.bank()` holds multiple-choice, numeric and open
# ("explain / design", self-scored against a rubric) questions on every notebook's topic and on
# LLM-era compression (GPTQ, AWQ, SmoothQuant, LLM.int8 outliers, group-wise scales, FP8/MX,
# KV-cache memory, memory-bound decoding, SparseGPT/Wanda, 2:4). Numeric questions come from
# seeded generators, so there are endless variants. Counts per topic and kind:

# %%
from collections import Counter
from pruninglab.interview import GENERATORS, bank, generate

b = bank()
print(f"{len(b)} items, {sum(i.llm for i in b)} on LLM-era topics, {len(GENERATORS)} generators")
for (topic, kind), n in sorted(Counter((i.topic, i.kind) for i in b).items()):
    print(f"  {topic:13s} {kind:7s} {n}")
print("\nA generated question (seed 7), prompt only:")
print(" ", generate("kv_cache_gib", 7).prompt["en"])

# %% [markdown]
# ## A short mock interview · 模拟面试
#
# Eight questions across topics, in Chinese; press **交卷** to score them. (Interactive; not
# validated. The full mock-interview notebook also keeps a history of your sessions.)

# %% tags=["nbval-ignore-output"]
from pruninglab.interview import MockInterview, mock_ui

mock_ui(MockInterview(8, "zh", seed=0))

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
