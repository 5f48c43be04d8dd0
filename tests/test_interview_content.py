"""Cards, glossary and bank content (issue 12): counts, bilingual completeness, links, sources."""
import re
from collections import Counter
from pathlib import Path

import pytest

from pruninglab import interview as I
from pruninglab.seeds import catalog

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def _index_notebooks():
    rows = {}
    for line in (ROOT / "notebooks" / "INDEX.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (S\d-[A-Z]\d+[ab]?) \|.*\[(\w+)\.ipynb\]", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def test_24_cards_one_per_seed_question_bilingual():
    qs = [i.id for i in catalog() if i.kind == "Q"]
    cs = I.cards()
    assert [c.seed_id for c in cs] == qs and len(cs) == 24
    for c in cs:
        for lang in ("zh", "en"):
            s = c.lang(lang)
            assert s["answer"] and s["trap"] and len(s["points"]) >= 3
            assert 2 <= len(s["followups"]) <= 4 and all(q and a for q, a in s["followups"])
        assert CJK.search(c.zh["answer"]) and CJK.search(c.zh["trap"])
        assert not CJK.search(c.en["answer"]), c.seed_id
        assert len(c.zh["followups"]) == len(c.en["followups"])
        assert len(c.zh["points"]) == len(c.en["points"])
        assert (ROOT / c.link).exists()


def test_card_notebook_is_the_one_anchoring_the_seed_item():
    idx = _index_notebooks()
    for c in I.cards():
        assert idx[c.seed_id] == c.notebook, c.seed_id
        src = (ROOT / "notebooks" / "src" / f"{c.notebook}.py").read_text(encoding="utf-8")
        assert f"seed:{c.seed_id}" in src


def test_cards_use_standard_chinese_terms():
    text = "".join(c.zh["answer"] + "".join(c.zh["points"]) for c in I.cards())
    for term in ["非结构化剪枝", "结构化剪枝", "通道剪枝", "稀疏度", "微调", "掩码", "敏感度分析", "渐进式剪枝", "彩票假设"]:
        assert term in text, term


def test_s4q5_names_the_verified_chinese_work():
    c = I.card("S4-Q5")
    for w in ["Network Slimming", "ThiNet", "Channel Pruning", "FPGM", "MetaPruning", "HRank",
              "PaddleSlim", "NNI", "PocketFlow", "Golden-Stick", "ICCV 2017", "CVPR 2019", "CVPR 2020"]:
        assert w in c.zh["answer"] and w in c.en["answer"], w


def test_render_card_text_and_errors():
    t = I.render_card(I.card("S0-Q1"), "zh")
    assert "30 秒回答" in t and "追问" in t and "01_pruning_fundamentals" in t
    assert "Follow-ups" in I.render_card(I.card("S0-Q1"), "en")
    with pytest.raises(ValueError, match="lang"):
        I.render_card(I.card("S0-Q1"), "fr")
    with pytest.raises(ValueError, match="seed_id"):
        I.card("S9-Q9")


def test_glossary_at_least_80_terms_with_definitions_and_notebooks():
    g = I.glossary()
    assert len(g) >= 80
    assert len({t.en.lower() for t in g}) == len(g)
    nbs = {p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")}
    for t in g:
        assert t.zh and t.en and t.definition and t.notebook in nbs, t
        assert "\n" not in t.definition and len(t.definition) < 160


def test_bank_size_kinds_llm_and_fields():
    b = I.bank()
    assert len(b) >= 150
    kinds = Counter(i.kind for i in b)
    assert set(kinds) == {"choice", "number", "open"} and min(kinds.values()) >= 20
    assert sum(i.llm for i in b) >= 40
    assert len({i.id for i in b}) == len(b)
    for i in b:
        assert i.topic in I.TOPICS and 1 <= i.difficulty <= 3 and i.source
        assert i.prompt["zh"] and i.prompt["en"]
        if i.kind == "open":
            assert len(i.rubric) >= 4
        if i.kind == "choice":
            assert len(i.options) == 4 and len(set(i.options)) == 4
    # every notebook topic and the LLM-era topics are covered
    assert set(I.TOPICS) == {i.topic for i in b}
    llm_text = " ".join(i.prompt["en"] + " ".join(i.options) for i in b if i.llm)
    for key in ["GPTQ", "AWQ", "SmoothQuant", "LLM.int8", "group", "FP8", "MX", "KV", "decod",
                "SparseGPT", "Wanda", "2:4"]:
        assert key in llm_text, key


def test_bank_filters_and_item_lookup():
    assert all(i.llm for i in I.bank(llm=True))
    assert all(i.kind == "open" for i in I.bank(kind="open"))
    assert I.item("q-sym-scale").kind == "choice"
    assert I.item("gen-kv_cache_gib-99").generator == "kv_cache_gib"   # endless: any seed
    with pytest.raises(ValueError, match="topic"):
        I.bank(topic="nope")
    with pytest.raises(ValueError, match="item_id"):
        I.item("nope")


def test_printable_pages_are_current():
    from pruninglab.interview import printable
    for path, text in printable.outputs().items():
        assert path.read_text(encoding="utf-8") == text, f"run python -m pruninglab.interview.printable ({path})"
    assert printable.main(["--check"]) == 0


def test_seed_question_headings_show_the_chinese_term():
    for c in I.cards():
        src = (ROOT / "notebooks" / "src" / f"{c.notebook}.py").read_text(encoding="utf-8").split("\n")
        k = next(k for k, l in enumerate(src) if f'"seed:{c.seed_id}"' in l)
        heading = src[k + 1]
        assert heading.startswith(f"# ## {c.seed_id}") and CJK.search(heading), heading
