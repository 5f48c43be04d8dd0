"""LLM-era interview items link to the notebook-09 section that teaches them."""
from pathlib import Path

import pytest

from pruninglab.interview import bank
from pruninglab.interview.bank import (ITEM_SECTION, LLM_SECTIONS, TOPIC_SECTION, TOPICS, section_anchor,
                                       topic_link)
from pruninglab.interview.generators import GENERATORS

ROOT = Path(__file__).resolve().parent.parent
NB09 = (ROOT / "notebooks" / "src" / "09_llm_compression.py").read_text(encoding="utf-8")


def test_every_llm_section_is_a_heading_of_notebook_09():
    headings = {ln[len("# ## "):].strip() for ln in NB09.splitlines() if ln.startswith("# ## ")}
    assert set(LLM_SECTIONS.values()) <= headings
    assert set(TOPIC_SECTION.values()) | set(ITEM_SECTION.values()) <= set(LLM_SECTIONS)


def test_llm_topics_and_items_point_to_notebook_09_sections():
    assert {t for t in TOPICS if t.startswith("llm_")} == set(TOPIC_SECTION)
    ids = {i.id for i in bank()} | set(GENERATORS)
    assert set(ITEM_SECTION) <= ids                      # no override names a missing item
    llm_items = [i for i in bank() if i.topic in TOPIC_SECTION]
    assert len(llm_items) >= 40
    for it in llm_items:
        assert it.notebook == "09_llm_compression" and it.section in LLM_SECTIONS.values(), it.id
        assert it.link == f"notebooks/09_llm_compression.ipynb#{section_anchor(it.section)}"
    by_id = {i.id: i for i in bank()}
    assert by_id["llm-smoothquant"].section.startswith("3 ·")
    assert by_id["llm-fp8"].section.startswith("5 ·")
    assert by_id["llm-wanda"].section.startswith("1 ·")
    assert by_id["llm-gptq"].section.startswith("2 ·")
    assert by_id["llm-kv-formula"].section.startswith("4 ·")
    gen = [i for i in bank() if i.generator == "group_bits"][0]
    assert gen.section.startswith("2 ·")                  # Exercise 3 of notebook 09
    pre = [i for i in bank() if not i.llm and i.topic == "quantization"][0]
    assert pre.section is None and pre.link == "notebooks/05_quantization.ipynb"


def test_topic_link_and_anchor():
    assert section_anchor("3 · Activation outliers") == "3-·-Activation-outliers"
    assert topic_link("llm_serving").endswith("#4-·-Inference-cost:-the-KV-cache-and-decode-speed")
    assert topic_link("hardware") == "notebooks/08_hardware_lab.ipynb"
    with pytest.raises(ValueError, match="topic"):
        topic_link("nope")
