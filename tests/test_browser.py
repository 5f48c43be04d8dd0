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
import re
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
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        cmd.append("--allow-root")
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


def _dismiss_dialogs(page) -> None:
    """Accept a 'Select Kernel' (or any other) dialog if one is showing."""
    for _ in range(3):
        btn = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
        if not btn.count():
            return
        btn.first.click()
        time.sleep(0.5)


def _open(browser, base, token, name):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(60_000)
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # wait until the kernel is connected and idle (the status bar says "… | Idle")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        _dismiss_dialogs(page)
        if page.evaluate("() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                         ".some(e => /\\|\\s*Idle/.test(e.textContent))"):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the kernel did not become idle within 90 s")
    toast_no = page.locator(".Toastify button:text-is('No')")  # "get notified about news?"
    if toast_no.count():
        toast_no.first.click()
    # start from a clean slate: no stored outputs, no execution counts
    page.click(".lm-MenuBar-itemLabel:text-is('Edit')")
    page.click(".lm-Menu-itemLabel:text-is('Clear Outputs of All Cells')")
    page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output').length === 0",
                           timeout=30_000)
    return page


def _prompts(page) -> dict:
    return page.evaluate(
        "() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());"
        " const s = document.querySelector('.jp-Notebook-ExecutionIndicator');"
        " return {prompts: ps, status: s ? s.getAttribute('data-status') : null}; }")


def _run_all(page, timeout_s: float = 240.0) -> None:
    """Run -> Run All Cells, then wait until every code cell shows an execution count.

    The kernel may still be connecting when the notebook first renders; a Run All issued then
    is dropped, so it is re-issued (at most 4 times) while no cell has started. A run that
    stops early (an untagged error) leaves cells at ``[ ]:`` and fails with their positions.
    """
    deadline = time.monotonic() + timeout_s
    for attempt in range(4):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        started = time.monotonic()
        while time.monotonic() - started < 20:
            _dismiss_dialogs(page)
            if any(p != "[ ]:" for p in _prompts(page)["prompts"]):
                break
            time.sleep(0.5)
        else:
            continue  # nothing started: the kernel was not ready yet, click again
        break
    idle_since = None
    state = _prompts(page)
    while time.monotonic() < deadline:
        state = _prompts(page)
        running = any(p == "[*]:" for p in state["prompts"])
        if not running and state["status"] == "idle":
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 3.0:  # stays idle: the run is over
                not_run = [i for i, p in enumerate(state["prompts"]) if not re.fullmatch(r"\[\d+\]:", p)]
                assert not not_run, f"Run All stopped early; code cells not executed: {not_run} ({state})"
                return
        else:
            idle_since = None
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
    # every key press is a value change; wait until the output has settled on the final value
    deadline = time.monotonic() + 60
    after, last, stable_since = before, None, None
    while time.monotonic() < deadline:
        after = _slider_output(page, index)
        if after != last:
            last, stable_since = after, time.monotonic()
        elif (after and after["img"] and after["text"] != before["text"]
              and time.monotonic() - stable_since > 2.0):
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
        # the text shown is the result for the value the slider now reads
        assert f"sparsity {round(100 * float(a['readout']))}%" in a["text"], (a["readout"], a["text"])
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
