"""The question bank: :class:`Item` and :func:`bank`.

Items come from three places: hand-written multiple-choice and open questions
(:mod:`._bank_data`) and fixed-seed variants of every parametric generator
(:mod:`.generators`, :data:`GENERATOR_SEEDS` per generator). Multiple-choice options are written
correct-first in the data and shuffled here deterministically: the items are ordered by a hash
of their id and item *j* gets its correct answer at position ``j mod n_options``, so correct
positions are balanced across the bank; the distractors are permuted by a seeded RNG.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ._bank_data import CHOICE, OPEN

__all__ = ["Item", "bank", "item", "TOPICS", "TOPIC_NOTEBOOK", "grade_item", "GENERATOR_SEEDS",
           "LLM_SECTIONS", "TOPIC_SECTION", "ITEM_SECTION", "topic_link", "section_anchor"]

#: topic -> (中文, English, notebook that teaches it)
TOPICS = {
    "fundamentals": ("剪枝基础", "pruning fundamentals", "01_pruning_fundamentals"),
    "structured": ("结构化剪枝", "structured pruning", "02_structured_pruning"),
    "criteria": ("数据驱动准则", "data-driven criteria", "03_data_driven_criteria"),
    "retrain_auto": ("微调与自动化剪枝", "retraining and automated pruning", "04_prune_retrain_automated"),
    "quantization": ("量化", "quantization", "05_quantization"),
    "joint": ("剪枝与量化联合", "joint pruning and quantization", "06_joint_pruning_quantization"),
    "practice": ("工程实践与存储", "practice and storage", "07_pruning_in_practice"),
    "hardware": ("硬件感知与屋顶线", "hardware and roofline", "08_hardware_lab"),
    "llm_quant": ("大模型量化", "LLM quantization", "09_llm_compression"),
    "llm_sparsity": ("大模型稀疏", "LLM sparsity", "09_llm_compression"),
    "llm_serving": ("大模型推理与 KV cache", "LLM serving and KV cache", "09_llm_compression"),
}
TOPIC_NOTEBOOK = {k: v[2] for k, v in TOPICS.items()}

#: the ``##`` sections of notebook 09 (heading text, verbatim; a test checks they exist)
LLM_SECTIONS = {
    "pruning": "1 · One-shot pruning: magnitude vs Wanda vs SparseGPT",
    "quant": "2 · Weight-only quantization: RTN vs GPTQ, per channel vs group-wise, AWQ",
    "outliers": "3 · Activation outliers and SmoothQuant (W8A8)",
    "serving": "4 · Inference cost: the KV cache and decode speed",
    "formats": "5 · Storage formats with their exact bits",
}
#: topic -> its default section of notebook 09
TOPIC_SECTION = {"llm_sparsity": "pruning", "llm_quant": "quant", "llm_serving": "serving"}
#: items (hand-written ids, or generator names) taught in another section than their topic's
ITEM_SECTION = {
    "llm-smoothquant": "outliers", "llm-smooth-why": "outliers", "llm-int8": "outliers",
    "open-llm-outliers": "outliers",
    "llm-fp8": "formats", "llm-mx": "formats", "open-llm-formats": "formats",
    "llm-kv-quant": "serving",   # KV-cache quantization: section 4
    "llm-w4-why": "serving",     # why 4-bit weights speed decoding: the bandwidth bound, section 4
}


def section_anchor(heading: str) -> str:
    """The link fragment JupyterLab and nbconvert give a markdown heading (spaces → ``-``)."""
    return heading.strip().replace(" ", "-")


def topic_link(topic: str, section: str | None = None) -> str:
    """``notebooks/<nb>.ipynb`` of ``topic``, with ``#<anchor>`` of its notebook-09 section
    (``section``: a key of :data:`LLM_SECTIONS`; default the topic's)."""
    if topic not in TOPICS:
        raise ValueError(f"topic must be one of {sorted(TOPICS)}, got {topic!r}")
    path = f"notebooks/{TOPIC_NOTEBOOK[topic]}.ipynb"
    key = section or TOPIC_SECTION.get(topic)
    return path + (f"#{section_anchor(LLM_SECTIONS[key])}" if key else "")
GENERATOR_SEEDS = (0, 1, 2, 3)


@dataclass(frozen=True)
class Item:
    """One bank item. ``prompt`` is ``{"zh": ..., "en": ...}``. Choice items: ``options`` and
    ``correct`` (index); number items: ``answer`` and relative ``tolerance``; open items:
    ``rubric`` (checklist)."""
    id: str
    topic: str
    kind: str                   # "choice" | "number" | "open"
    difficulty: int             # 1 (basic) .. 3 (hard)
    source: str
    llm: bool
    prompt: dict
    options: tuple = ()
    correct: int | None = None
    answer: float | None = None
    tolerance: float = 0.0
    rubric: tuple = ()
    explanation: str = ""
    generator: str | None = None
    params: dict = field(default_factory=dict, compare=False)

    @property
    def notebook(self) -> str:
        return TOPIC_NOTEBOOK[self.topic]

    @property
    def section(self) -> str | None:
        """Heading of the notebook section that teaches this item (LLM topics: notebook 09), or
        None where the whole notebook does."""
        key = ITEM_SECTION.get(self.generator or self.id) or TOPIC_SECTION.get(self.topic)
        return LLM_SECTIONS[key] if key else None

    @property
    def link(self) -> str:
        """``notebooks/<nb>.ipynb``, with ``#<anchor>`` of :attr:`section` where there is one."""
        base = f"notebooks/{self.notebook}.ipynb"
        return base + (f"#{section_anchor(self.section)}" if self.section else "")

    def text(self, lang: str = "en") -> str:
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
        return self.prompt[lang]


def _h(s: str) -> int:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16)


def _choice_items():
    rows = sorted(CHOICE, key=lambda r: _h(r[0]))
    out = []
    for j, (iid, topic, diff, src, llm, zh, en, correct, distractors) in enumerate(rows):
        n = 1 + len(distractors)
        pos = j % n
        rng = np.random.default_rng(_h(iid) % (2 ** 32))
        d = [distractors[k] for k in rng.permutation(len(distractors))]
        opts = d[:pos] + [correct] + d[pos:]
        out.append(Item(iid, topic, "choice", diff, src, llm, {"zh": zh, "en": en}, tuple(opts), pos,
                        explanation=f"correct: {correct}"))
    return out


def _open_items():
    return [Item(iid, topic, "open", diff, src, llm, {"zh": zh, "en": en}, rubric=tuple(rubric),
                 explanation="score yourself against the rubric")
            for iid, topic, diff, src, llm, zh, en, rubric in OPEN]


@lru_cache(maxsize=1)
def _bank():
    from .generators import GENERATORS
    items = _choice_items() + _open_items()
    items += [g(s) for g in GENERATORS.values() for s in GENERATOR_SEEDS]
    ids = [i.id for i in items]
    assert len(set(ids)) == len(ids), "duplicate bank ids"
    return tuple(items)


def bank(topic: str | None = None, kind: str | None = None, llm: bool | None = None) -> tuple:
    """All bank items (optionally filtered by ``topic``, ``kind`` and ``llm``)."""
    if topic is not None and topic not in TOPICS:
        raise ValueError(f"topic must be one of {sorted(TOPICS)}, got {topic!r}")
    if kind is not None and kind not in ("choice", "number", "open"):
        raise ValueError(f"kind must be 'choice', 'number' or 'open', got {kind!r}")
    return tuple(i for i in _bank() if (topic is None or i.topic == topic)
                 and (kind is None or i.kind == kind) and (llm is None or i.llm == llm))


def item(item_id: str) -> Item:
    for i in _bank():
        if i.id == item_id:
            return i
    if item_id.startswith("gen-"):
        from .generators import generate
        name, _, seed = item_id[4:].rpartition("-")
        if seed.isdigit():
            return generate(name, int(seed))
    raise ValueError(f"item_id {item_id!r} is not in the bank")


def grade_item(it: Item, response) -> float:
    """Score in [0, 1]. choice: option index (int, not bool); number: a float within the
    relative tolerance (absolute 1e-9 for zero answers); open: the collection of rubric indices
    the learner ticks (self-assessment) -> fraction of the rubric. ``None`` scores 0."""
    if response is None:
        return 0.0
    if it.kind == "choice":
        return float(isinstance(response, (int, np.integer)) and not isinstance(response, bool)
                     and int(response) == it.correct)
    if it.kind == "number":
        try:
            v = float(response)
        except (TypeError, ValueError):
            return 0.0
        return float(math.isfinite(v) and math.isclose(v, it.answer, rel_tol=max(it.tolerance, 1e-9),
                                                        abs_tol=1e-9))
    ticked = {int(k) for k in response if 0 <= int(k) < len(it.rubric)}
    return len(ticked) / len(it.rubric)
