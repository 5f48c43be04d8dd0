# %% [markdown]
# # 模拟面试 · Mock interview
#
# N questions drawn across topics from the question bank (`pruninglab.interview.bank()`:
# multiple choice, numeric questions from seeded generators, and open "explain / design"
# questions you answer aloud and then score against a rubric), optionally timed, in 中文 or
# English. The summary names your weak topics with the notebook to review, and each session is
# appended to a local history file (`$PRUNINGLAB_HISTORY`, default
# `~/.pruninglab/interview_history.jsonl`) so that a plot shows your score by topic over time.
#
# Without JupyterLab: `python -m pruninglab quiz --lang zh --n 8 --time-limit 600`.

# %%
from pruninglab.utils import notebook_setup; notebook_setup()
from pruninglab.interview import MockInterview, TOPICS, bank, mock_ui, plot_history

for key, (zh, en, nb) in TOPICS.items():
    n = len(bank(topic=key))
    print(f"{key:13s} {zh}｜{en}: {n} items → {nb}")

# %% [markdown]
# ## Your interview · 开始面试
#
# Change `n`, `lang`, `seed` or `time_limit` (seconds; answers after the limit score 0), run the
# cell, answer, and press **交卷 / Finish**. The result is saved to your history file.
# (Interactive; not validated.)

# %% tags=["nbval-ignore-output"]
interview = MockInterview(n=8, lang="zh", seed=2026, time_limit=None)
ui = mock_ui(interview, history=True)
ui

# %% [markdown]
# ## Progress over sessions · 历史成绩
#
# Your own history (interactive: depends on your file; not validated):

# %% tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt
plot_history()
plt.show()

# %% [markdown]
# ## What the plot looks like: a simulated learner
#
# A deterministic demonstration with a temporary history file: a simulated candidate answers
# each question correctly with a probability that grows from session to session (0.3 → 0.9), so
# the score by topic should rise.

# %%
import tempfile
from pathlib import Path
import numpy as np
from pruninglab.interview import load_history

rng = np.random.default_rng(0)
hist = Path(tempfile.mkdtemp()) / "demo_history.jsonl"
for session, p in enumerate(np.linspace(0.3, 0.9, 5)):
    iv = MockInterview(12, "en", seed=session, topics=["quantization", "hardware", "llm_serving"])
    for it in iv.items:
        right = rng.random() < p
        if it.kind == "choice":
            iv.answer(it.id, it.correct if right else (it.correct + 1) % len(it.options))
        elif it.kind == "number":
            iv.answer(it.id, it.answer if right else 2 * it.answer + 1)
        else:
            iv.answer(it.id, [k for k in range(len(it.rubric)) if rng.random() < p])
    iv.finish(history=hist)
recs = load_history(hist)
for k, r in enumerate(recs, 1):
    print(f"session {k}: {r['score']:.2f}/{r['n']}  " + ", ".join(f"{t} {v:.0%}" for t, v in r["by_topic"].items()))
plot_history(hist)
plt.show()

# %% [markdown]
# ## Check yourself
#
# Why does the mock interview draw questions round-robin over topics instead of uniformly from
# the whole bank?
#
# <details><summary>Answer</summary>
#
# Topics differ in size (the generators add many numeric items to some); uniform draws would
# over-sample the large topics, and a short interview would not tell you which topics are weak.
# </details>
