"""Mock interview: draw N questions across topics, optional timer, score, weak-topic summary,
history file and a score-by-topic plot.

* :class:`MockInterview` ``(n=8, lang="zh", seed=0, topics=None, time_limit=None, llm=None,
  clock=time.monotonic)`` — ``.items``; ``.answer(item_id, response)``; ``.finish()`` ->
  :class:`MockResult`.
* History: one JSON object per line, appended to :func:`history_path` — ``$PRUNINGLAB_HISTORY``
  if set, else ``~/.pruninglab/interview_history.jsonl``. :func:`load_history`,
  :func:`plot_history` (score per topic over sessions).
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._validate import check_int, check_number
from .bank import TOPICS, Item, bank, grade_item, topic_link

__all__ = ["MockInterview", "MockResult", "history_path", "append_history", "load_history",
           "plot_history", "draw"]

WEAK = 0.6   # a topic scoring below this fraction is reported as weak


def draw(n: int, seed: int = 0, topics=None, llm=None, kinds=None) -> list:
    """``n`` distinct items spread over topics: topics are visited round-robin in a seeded
    order and one unused item is drawn from each in turn."""
    n = check_int(n, "n", lo=1)
    rng = np.random.default_rng(check_int(seed, "seed", lo=0))
    if topics is not None:
        topics = [topics] if isinstance(topics, str) else list(topics)
        bad = [t for t in topics if t not in TOPICS]
        if bad:
            raise ValueError(f"topics must be among {sorted(TOPICS)}, got {bad}")
    pool = {}
    for it in bank(llm=llm):
        if (topics is None or it.topic in topics) and (kinds is None or it.kind in kinds):
            pool.setdefault(it.topic, []).append(it)
    if not pool:
        raise ValueError("no bank items match topics/llm/kinds")
    for t in pool:
        pool[t] = [pool[t][k] for k in rng.permutation(len(pool[t]))]
    order = [sorted(pool)[k] for k in rng.permutation(len(pool))]
    out = []
    while len(out) < n and any(pool.values()):
        for t in order:
            if pool[t] and len(out) < n:
                out.append(pool[t].pop())
    return out


@dataclass
class MockResult:
    lang: str
    seed: int
    scores: dict                 # item id -> score in [0, 1]
    topics: dict                 # item id -> topic
    elapsed: float
    time_limit: float | None
    late: list = field(default_factory=list)   # ids answered after the time limit (scored 0)

    @property
    def total(self) -> float:
        return float(sum(self.scores.values()))

    @property
    def by_topic(self) -> dict:
        acc = {}
        for iid, s in self.scores.items():
            acc.setdefault(self.topics[iid], []).append(s)
        return {t: float(np.mean(v)) for t, v in sorted(acc.items())}

    @property
    def weak_topics(self) -> list:
        return [t for t, v in self.by_topic.items() if v < WEAK]

    def summary(self) -> str:
        zh = self.lang == "zh"
        lines = [(f"得分 {self.total:.2f}/{len(self.scores)}" if zh else f"score {self.total:.2f}/{len(self.scores)}")
                 + (f"，用时 {self.elapsed:.0f} s" if zh else f", {self.elapsed:.0f} s")
                 + ((f"（限时 {self.time_limit:.0f} s）" if zh else f" (limit {self.time_limit:.0f} s)")
                    if self.time_limit else "")]
        if self.late:
            lines.append(("超时作答（计 0 分）: " if zh else "answered after the limit (0 points): ") + ", ".join(self.late))
        for t, v in self.by_topic.items():
            name = TOPICS[t][0] if zh else TOPICS[t][1]
            lines.append(f"  {name}: {v:.0%}")
        if self.weak_topics:
            lines.append("薄弱主题（去复习）:" if zh else "weak topics (review):")
            for t in self.weak_topics:
                lines.append(f"  {TOPICS[t][0] if zh else TOPICS[t][1]} → {topic_link(t)}")
        else:
            lines.append("没有薄弱主题。" if zh else "no weak topics.")
        return "\n".join(lines)

    def record(self) -> dict:
        return {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "lang": self.lang, "seed": self.seed,
                "n": len(self.scores), "score": self.total, "by_topic": self.by_topic,
                "elapsed": round(self.elapsed, 1), "time_limit": self.time_limit}


class MockInterview:
    def __init__(self, n: int = 8, lang: str = "zh", seed: int = 0, topics=None,
                 time_limit: float | None = None, llm=None, kinds=None, clock=time.monotonic):
        if lang not in ("zh", "en"):
            raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
        self.lang, self.seed = lang, check_int(seed, "seed", lo=0)
        self.time_limit = None if time_limit is None else check_number(time_limit, "time_limit", lo=0.0,
                                                                       lo_inclusive=False)
        self.items: list[Item] = draw(n, seed, topics, llm, kinds)
        self._clock = clock
        self._t0 = clock()
        self.responses: dict = {}
        self._late: list = []

    @property
    def elapsed(self) -> float:
        return self._clock() - self._t0

    @property
    def remaining(self) -> float | None:
        return None if self.time_limit is None else max(0.0, self.time_limit - self.elapsed)

    def answer(self, item_id: str, response) -> float:
        """Record an answer; returns its score (0 if given after the time limit)."""
        it = next((i for i in self.items if i.id == item_id), None)
        if it is None:
            raise ValueError(f"item_id {item_id!r} is not part of this interview")
        if self.time_limit is not None and self.elapsed > self.time_limit:
            self._late.append(item_id)
            self.responses[item_id] = None
            return 0.0
        self.responses[item_id] = response
        return grade_item(it, response)

    def finish(self, history: bool | str | Path = False) -> MockResult:
        """Score the session; ``history=True`` appends to :func:`history_path`, a path appends there."""
        scores = {i.id: (0.0 if i.id in self._late else grade_item(i, self.responses.get(i.id)))
                  for i in self.items}
        res = MockResult(self.lang, self.seed, scores, {i.id: i.topic for i in self.items}, self.elapsed,
                         self.time_limit, list(self._late))
        if history:
            append_history(res, None if history is True else history)
        return res


def history_path(path=None) -> Path:
    if path is not None:
        return Path(path)
    env = os.environ.get("PRUNINGLAB_HISTORY")
    return Path(env) if env else Path.home() / ".pruninglab" / "interview_history.jsonl"


def append_history(result: MockResult, path=None) -> Path:
    p = history_path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "a", encoding="utf-8") as f:
        f.write(json.dumps(result.record(), ensure_ascii=False) + "\n")
    return p


def load_history(path=None) -> list:
    p = history_path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_history(path=None, ax=None, records=None):
    """Score per topic (fraction correct) against session number; returns the Axes."""
    import matplotlib.pyplot as plt
    recs = load_history(path) if records is None else records
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5), dpi=120)
    topics = sorted({t for r in recs for t in r["by_topic"]})
    for t in topics:
        xs = [k + 1 for k, r in enumerate(recs) if t in r["by_topic"]]
        ys = [100 * r["by_topic"][t] for r in recs if t in r["by_topic"]]
        ax.plot(xs, ys, marker="o", label=TOPICS[t][1] if t in TOPICS else t)
    ax.set_xlabel("session (#)")
    ax.set_ylabel("score (% of points)")
    ax.set_ylim(-5, 105)
    ax.set_title("mock-interview score by topic over sessions")
    if topics:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.figure.tight_layout()
    return ax
