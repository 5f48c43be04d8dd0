"""Real-browser check that the Chinese answer cards render (issue 12).

Opens ``notebooks/interview/answer_cards.ipynb`` in JupyterLab (headless Chromium; the session
fixtures ``lab`` / ``browser`` / ``ran_notebook`` of ``tests/conftest.py``, shared with
``tests/test_browser.py``: one server and one browser per pytest worker), runs it, and screenshots
the S0-Q1 card in Chinese to ``test-output/browser/interview_card_S0-Q1_zh.png``; also renders the
printable page ``docs/interview_cards.html`` from a file URL. CJK glyphs need a CJK font: Debian's
``fonts-noto-cjk`` is installed with apt-get when running as root and missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-output" / "browser"
NOTEBOOK = "interview/answer_cards.ipynb"


def _cjk_fonts() -> list[str]:
    if not shutil.which("fc-list"):
        return []
    r = subprocess.run(["fc-list", ":lang=zh-cn", "family"], capture_output=True, text=True)
    return [line for line in r.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cjk_font():
    fonts = _cjk_fonts()
    if not fonts and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "-q", "fonts-noto-cjk"], env=env,
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
            subprocess.run(["apt-get", "install", "-y", "-q", "fonts-noto-cjk"], env=env,
                           capture_output=True, text=True, timeout=900)
        subprocess.run(["fc-cache", "-f"], capture_output=True, timeout=300)
        fonts = _cjk_fonts()
    if not fonts:
        pytest.fail("no CJK font installed (apt-get install -y fonts-noto-cjk)")
    return fonts


def _glyph_widths(page, text: str) -> list[float]:
    """Rendered width of each character of ``text`` in the page's sans-serif font."""
    return page.evaluate(
        "(t) => { const c = document.createElement('canvas').getContext('2d');"
        " c.font = '32px sans-serif'; return [...t].map(ch => c.measureText(ch).width); }", text)


def test_answer_card_renders_in_chinese(ran_notebook, cjk_font):
    from benchmarks import browser_lab as bl
    page = ran_notebook(NOTEBOOK, timeout_s=240)
    assert not bl.errors(page), bl.errors(page)
    card = page.locator(".jp-OutputArea-output .card", has_text="S0-Q1 ·").first
    card.scroll_into_view_if_needed()
    text = card.inner_text()
    for s in ("请解释什么是剪枝", "30 秒回答", "非结构化剪枝", "追问", "种子文档的陷阱"):
        assert s in text, s
    # CJK glyphs are full-width: a Han character is much wider than an ASCII letter
    w = _glyph_widths(page, "剪枝i")
    assert w[0] > 1.5 * w[2] and w[1] > 1.5 * w[2], w
    OUT.mkdir(parents=True, exist_ok=True)
    card.screenshot(path=str(OUT / "interview_card_S0-Q1_zh.png"))


def test_printable_page_renders(browser, cjk_font):
    page = browser.new_page(viewport={"width": 1200, "height": 1600})
    try:
        page.goto((ROOT / "docs" / "interview_cards.html").as_uri())
        assert page.locator(".card").count() == 24
        first = page.locator(".card").first
        assert "剪枝" in first.inner_text()
        OUT.mkdir(parents=True, exist_ok=True)
        first.screenshot(path=str(OUT / "interview_printable_S0-Q1.png"))
    finally:
        page.close()
