# %% [markdown]
# # 面试速答卡 · Interview answer cards
#
# One card for each of the 24 seed interview questions, 简体中文 first, English second, with the
# same content: a **30-second answer** (30 秒回答), the **key points** an interviewer listens for
# (要点), **follow-up questions** (追问, answers folded: try first), **the seed's trap** (what the
# seed document says and why it is wrong) and the **notebook section** that proves it.
#
# The cards are data in the library (`pruninglab.interview.cards()`); the same data renders
# this page and the printable page `docs/interview_cards.html` / `.md`
# (`python -m pruninglab.interview.printable`). The glossary (术语表) is at the end.

# %%
from pruninglab.utils import notebook_setup; notebook_setup()
from IPython.display import HTML, display
from pruninglab.interview import card_html, cards, cards_ui, glossary

print(f"{len(cards())} cards, {len(glossary())} glossary terms")

# %% [markdown]
# ## Browse one card · 逐张浏览
#
# Pick a seed ID and a language (interactive; not validated).

# %% tags=["nbval-ignore-output"]
cards_ui()

# %% [markdown]
# ## All cards · 全部速答卡

# %%
for c in cards():
    display(HTML(card_html(c, open_answers=False)))

# %% [markdown]
# ## 术语表 · Glossary
#
# Chinese term, English term, one-line definition, and the notebook where it is taught.

# %%
for t in glossary():
    print(f"{t.zh}｜{t.en}: {t.definition}  [{t.notebook}]")

# %% [markdown]
# ## Check yourself
#
# Cover the card and answer S0-Q1 (什么是剪枝？) aloud in Chinese in 30 seconds, using the
# terms 非结构化剪枝, 结构化剪枝, 稀疏度, 掩码 and 微调; then compare with the card's key points.
#
# <details><summary>What a good answer contains</summary>
#
# Removing or zeroing weights or structures by an importance criterion, fine-tuning afterwards,
# the unstructured/structured distinction, and that the gains are at inference and depend on the
# storage format and hardware (not faster training).
# </details>
