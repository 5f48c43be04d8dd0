"""End-to-end: JupyterLab in headless Chromium, driven by Playwright (issue 7).

Starts JupyterLab from this environment on 127.0.0.1 with a random token, serving a *copy*
of ``notebooks/`` (so autosave never touches the validated notebooks), opens the start notebook
and a topic notebook, runs all cells, checks that no cell shows an error, moves a sparsity
slider with the keyboard and checks that the displayed text and plot change. Screenshots go
to ``test-output/browser/``. Everything started here is stopped in ``finally`` blocks.

Chromium: Debian's ``chromium`` package (``apt-get install -y chromium`` if missing, as root);
Playwright is used with ``executable_path="/usr/bin/chromium"``; ``playwright install`` is never run.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "test-output" / "browser"
CHROMIUM = "/usr/bin/chromium"
START = "00_start_here.ipynb"
TOPIC = os.environ.get("PRUNINGLAB_BROWSER_TOPIC", "01_pruning_fundamentals.ipynb")


def _ensure_chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        r = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env,
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:  # stale package lists on a fresh machine
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
            r = subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env,
                               capture_output=True, text=True, timeout=900)
        if r.returncode == 0 and Path(CHROMIUM).exists():
            return CHROMIUM
        pytest.fail(f"could not install chromium: {r.stderr[-2000:]}")
    if os.environ.get("CI"):
        pytest.fail("chromium is missing and cannot be installed (not root): apt-get install chromium")
    pytest.skip("Debian chromium not installed (run as root: apt-get install -y chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A running JupyterLab server on a copy of notebooks/; yields (base_url, token)."""
    _ensure_chromium()
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    port, token = _free_port(), secrets.token_hex(16)
    log = open(work / "jupyter.log", "w")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "cfg"), JUPYTER_RUNTIME_DIR=str(work / "rt"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "ws"), PRUNINGLAB_ROOT=str(ROOT))
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work / 'notebooks'}",
           "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("JupyterLab did not start:\n" + (work / "jupyter.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_ensure_chromium(), headless=True,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                    "--disable-component-update", "--disable-sync", "--no-first-run",
                                    "--disable-quic"])
        try:
            yield b
        finally:
            b.close()


def _open(browser, base, token, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # wait for the kernel to be ready
    page.wait_for_function(
        "() => { const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return s && s.getAttribute('data-status') === 'idle'; }", timeout=90_000)
    return page


def _run_all(page, timeout_s: float = 240.0) -> None:
    page.click(".lm-MenuBar-itemLabel:text-is('Run')")
    page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
    deadline = time.monotonic() + timeout_s
    time.sleep(1.0)
    while time.monotonic() < deadline:
        state = page.evaluate(
            "() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());"
            " const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
            " return {prompts: ps, status: s ? s.getAttribute('data-status') : null}; }")
        busy = any(p in ("[*]:", "[ ]:", "[]:", "") for p in state["prompts"])
        if not busy and state["status"] == "idle":
            return
        time.sleep(0.5)
    raise AssertionError(f"notebook did not finish within {timeout_s} s: {state}")


def _errors(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
        ".map(e => e.textContent.slice(0, 300))")


def _slider_output(page, index: int = 0) -> dict:
    return page.evaluate(
        "(i) => { const w = document.querySelectorAll('.widget-interact')[i];"
        " if (!w) return null;"
        " const out = w.querySelector('.widget-output');"
        " const img = out ? out.querySelector('img') : null;"
        " const readout = w.querySelector('.widget-readout');"
        " return {text: out ? out.innerText : '', img: img ? img.src : null,"
        "         readout: readout ? readout.innerText : null}; }", index)


def _move_slider(page, index: int, presses: int) -> dict:
    before = _slider_output(page, index)
    handle = page.locator(".widget-interact").nth(index).locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    deadline = time.monotonic() + 30
    after = before
    while time.monotonic() < deadline:
        after = _slider_output(page, index)
        if after and after["text"] != before["text"] and after["img"] and after["img"] != before["img"]:
            break
        time.sleep(0.3)
    return {"before": before, "after": after}


def test_start_notebook_runs_and_slider_updates(lab, browser):
    base, token = lab
    page = _open(browser, base, token, START)
    try:
        _run_all(page)
        page.screenshot(path=str(OUT / "00_after_run_all.png"), full_page=False)
        errs = _errors(page)
        assert not errs, f"cells show errors/stderr: {errs}"
        n_ui = page.locator(".widget-interact").count()
        assert n_ui >= 1, "no interactive widget rendered"
        moved = _move_slider(page, 0, presses=20)
        page.locator(".widget-interact").nth(0).scroll_into_view_if_needed()
        page.screenshot(path=str(OUT / "00_after_slider.png"), full_page=False)
        b, a = moved["before"], moved["after"]
        assert b["img"] and a["img"], "the slider output shows no plot image"
        assert a["readout"] != b["readout"], f"keyboard did not move the slider: {b['readout']} -> {a['readout']}"
        assert a["text"] != b["text"], f"displayed text did not change: {b['text']!r}"
        assert a["img"] != b["img"], "plot image did not change"
    finally:
        page.close()


def test_topic_notebook_runs_without_errors(lab, browser):
    base, token = lab
    if not (ROOT / "notebooks" / TOPIC).exists():
        pytest.fail(f"topic notebook {TOPIC} is missing")
    page = _open(browser, base, token, TOPIC)
    try:
        _run_all(page, timeout_s=300)
        page.screenshot(path=str(OUT / f"{Path(TOPIC).stem}_after_run_all.png"), full_page=False)
        import json
        nb = json.loads((ROOT / "notebooks" / TOPIC).read_text())
        expected = sum("raises-exception" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
        errs = _errors(page)
        assert len(errs) == expected, \
            f"{len(errs)} cells show errors but only {expected} cells are tagged raises-exception: {errs}"
        if page.locator(".widget-interact").count():
            moved = _move_slider(page, 0, presses=10)
            assert moved["after"]["text"] != moved["before"]["text"]
            page.screenshot(path=str(OUT / f"{Path(TOPIC).stem}_after_slider.png"), full_page=False)
    finally:
        page.close()
