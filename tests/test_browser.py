"""End-to-end: JupyterLab in headless Chromium, driven by Playwright (issues 7, 15).

Starts JupyterLab from this environment (project Jupyter config ``jupyter/``: no news pop-up)
on a *copy* of ``notebooks/`` (``benchmarks/browser_lab.py``), runs all cells of the start
notebook and of notebook 01, checks that no cell shows an unexpected error, then moves EVERY
slider and dropdown of those notebooks once and checks that the interactive's displayed text or
picture changes (or that the control is disabled, with its reason shown). Latency is measured and
published by ``make bench-browser`` (``benchmarks/bench_browser_sliders.py``), never asserted.
Every slider of every notebook 00–09 is also moved in-process (no browser) by
``tests/test_notebook_sliders.py``.

One JupyterLab server, one Chromium and one Run All per notebook per pytest worker: the fixtures
``lab`` / ``browser`` / ``ran_notebook`` live in ``tests/conftest.py`` (module scope) and are
shared by every test here. The Chinese answer cards (issue 12) are checked here too (one module,
so that xdist's ``loadscope`` keeps every browser test on one worker and one server). Waits are conditions polled in the page, never
fixed sleeps.

``PRUNINGLAB_BROWSER_NOTEBOOKS=all`` (or a comma-separated list of stems) extends the slider check
to other notebooks. Screenshots go to ``test-output/browser/``.

Chromium: Debian's ``chromium`` package (installed with apt-get when root); Playwright is used with
``executable_path="/usr/bin/chromium"``; ``playwright install`` is never run. As root the CJK font
``fonts-noto-cjk`` is installed too, so Chinese text renders as glyphs.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-output" / "browser"
START = "00_start_here"
DEFAULT = [START, "01_pruning_fundamentals"]


def _selected() -> list[str]:
    env = os.environ.get("PRUNINGLAB_BROWSER_NOTEBOOKS", "").strip()
    if env == "all":
        return sorted(q.stem for q in (ROOT / "notebooks").glob("*.ipynb"))
    if env:
        return [s.strip().removesuffix(".ipynb") for s in env.split(",") if s.strip()]
    topic = os.environ.get("PRUNINGLAB_BROWSER_TOPIC")  # issue 7's variable: one extra notebook
    return DEFAULT if not topic else [START, topic.removesuffix(".ipynb")]


def _expected_errors(stem: str) -> int:
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text())
    return sum("raises-exception" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])


@pytest.mark.parametrize("stem", _selected())
def test_notebook_runs_and_every_control_changes_the_view(ran_notebook, stem):
    from benchmarks import browser_lab as bl
    if not (ROOT / "notebooks" / f"{stem}.ipynb").exists():
        pytest.fail(f"notebook {stem} is missing")
    OUT.mkdir(parents=True, exist_ok=True)
    page = ran_notebook(f"{stem}.ipynb")
    assert not bl.news_popup_showing(page), "the JupyterLab news pop-up covers the first screen"
    page.screenshot(path=str(OUT / f"{stem}_after_run_all.png"))
    errs = bl.errors(page)
    expected = _expected_errors(stem)
    assert len(errs) == expected, \
        f"{len(errs)} cells show errors/stderr but {expected} cells are tagged raises-exception: {errs}"
    ctrls = bl.indexed_controls(page)
    if stem == START:
        assert ctrls, "no interactive widget rendered in the start notebook"
    dead = []
    for c, nth in ctrls:
        r = bl.move(page, c, nth, step=0, until="change", quiet_s=0.2, timeout_s=20)
        if r["disabled"]:
            # a disabled control must say why, in its interactive's output
            assert "⊘" in r["before"]["text"], f"{c} is disabled without a reason shown"
            continue
        if not (r["text_changed"] or r["img_changed"]):
            dead.append((c["ui"], c["label"], c["kind"], r["before"]["text"][:120]))
        if c["kind"] == "slider":
            assert r["has_img"], f"{stem} ui#{c['ui']} {c['label']}: the output shows no picture"
    page.screenshot(path=str(OUT / f"{stem}_after_moves.png"))
    assert not dead, f"{stem}: moving these controls changed nothing on screen: {dead}"


def test_start_slider_text_matches_its_readout(ran_notebook):
    """The text shown is the result for the value the slider reads after a few key presses
    (same page as the start notebook's run above: no second Run All)."""
    from benchmarks import browser_lab as bl
    page = ran_notebook(f"{START}.ipynb")
    c, nth = next((c, n) for c, n in bl.indexed_controls(page) if c["kind"] == "slider")
    for k in range(4):
        r = bl.move(page, c, nth, step=k, until="change", quiet_s=0.2, timeout_s=20)
    readout = page.locator(".widget-interact").nth(c["ui"]).locator(".widget-readout").first.inner_text()
    assert f"sparsity {round(100 * float(readout))}%" in r["after"]["text"], (readout, r["after"]["text"])


def test_cjk_text_has_a_font():
    """Chinese text needs a CJK font or it renders as boxes (installed here when root)."""
    from benchmarks import browser_lab as bl
    if not bl.ensure_cjk_font():
        if bl._is_root():
            pytest.fail("could not install fonts-noto-cjk")
        pytest.skip("no CJK font and not root: apt-get install fonts-noto-cjk")
    assert bl.has_cjk_font()


# --- Chinese answer cards (issue 12): notebooks/interview/answer_cards.ipynb and the printable
# page docs/interview_cards.html; CJK glyphs need a CJK font (fonts-noto-cjk, apt-get when root).

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


def test_answer_card_renders_in_chinese(lab, browser, cjk_font):
    """The saved outputs (strict nbval checks they equal a fresh run) rendered by JupyterLab: no
    Run All needed to check the glyphs."""
    from benchmarks import browser_lab as bl
    base, token = lab
    page = bl.open_notebook(browser, base, token, NOTEBOOK, clear=False)
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
    page.close()


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
