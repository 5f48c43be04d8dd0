"""JupyterLab in headless Debian Chromium, driven by Playwright: shared by the browser test
(``tests/test_browser.py``) and the browser latency benchmark (``benchmarks/bench_browser_sliders.py``).

* :func:`lab_server` starts JupyterLab from this environment on 127.0.0.1 with a random token on a
  *copy* of ``notebooks/`` (autosave never touches the validated notebooks), with the project's
  Jupyter config (``jupyter/``: no news pop-up, no update check) and ``PYTHONPATH`` = this checkout.
* :func:`chromium` launches ``/usr/bin/chromium`` (Debian package; installed with apt-get when
  root; ``playwright install`` is never run); :func:`ensure_cjk_font` installs ``fonts-noto-cjk``
  when root so Chinese text renders as glyphs, not boxes.
* :func:`open_notebook`, :func:`run_all`, :func:`controls`, :func:`move` drive a notebook; a move
  is timed in the page from the input event (key press / ``change`` of a dropdown) to the *last*
  DOM mutation of that widget's output (text or image), seen by a ``MutationObserver``.
"""
from __future__ import annotations

import contextlib
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

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 900}


class BrowserUnavailable(RuntimeError):
    """Chromium is missing and cannot be installed here (not root / no apt-get)."""


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _apt_install(*packages: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:  # stale package lists on a fresh machine
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    return r


def ensure_chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if _is_root() and shutil.which("apt-get"):
        r = _apt_install("chromium")
        if r.returncode == 0 and Path(CHROMIUM).exists():
            return CHROMIUM
        raise BrowserUnavailable(f"could not install chromium: {r.stderr[-2000:]}")
    raise BrowserUnavailable("Debian chromium not installed (as root: apt-get install -y chromium)")


def has_cjk_font() -> bool:
    if not shutil.which("fc-list"):
        return False
    r = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True)
    return bool(r.stdout.strip())


def ensure_cjk_font() -> bool:
    """Install Debian's ``fonts-noto-cjk`` when root and no Chinese font is present; True if one is."""
    if has_cjk_font():
        return True
    if _is_root() and shutil.which("apt-get"):
        _apt_install("fonts-noto-cjk")
    return has_cjk_font()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab_env(work: Path, root: Path = ROOT) -> dict:
    """Environment for a JupyterLab that uses the project config and this checkout's package."""
    settings = work / "user-settings"
    if not settings.exists():
        shutil.copytree(root / "jupyter" / "lab" / "user-settings", settings)
    pp = os.environ.get("PRUNINGLAB_BROWSER_PYTHONPATH", str(root))
    return dict(os.environ, JUPYTER_CONFIG_DIR=str(root / "jupyter"),
                JUPYTERLAB_SETTINGS_DIR=str(settings), JUPYTER_RUNTIME_DIR=str(work / "rt"),
                JUPYTERLAB_WORKSPACES_DIR=str(work / "ws"), PRUNINGLAB_ROOT=str(root),
                PYTHONPATH=os.pathsep.join(p for p in (pp, os.environ.get("PYTHONPATH", "")) if p))


@contextlib.contextmanager
def lab_server(work: Path, notebooks: Path = ROOT / "notebooks"):
    """Yield ``(base_url, token)`` of a JupyterLab serving a copy of ``notebooks`` under ``work``."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    if (work / "notebooks").exists():
        shutil.rmtree(work / "notebooks")
    shutil.copytree(notebooks, work / "notebooks")
    port, token = _free_port(), secrets.token_hex(16)
    log = open(work / "jupyter.log", "w")
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={work / 'notebooks'}", "--ServerApp.open_browser=False"]
    if _is_root():  # containers and CI run as root
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=lab_env(work),
                            start_new_session=True)
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
                raise RuntimeError("JupyterLab did not start:\n" + (work / "jupyter.log").read_text()[-3000:])
            time.sleep(0.5)
        yield base, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    exe = ensure_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, headless=True,
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


def news_popup_showing(page) -> bool:
    return bool(page.locator(".Toastify__toast:has-text('news')").count())


def open_notebook(browser, base, token, name, clear: bool = True):
    page = browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(60_000)
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:  # the status bar says "… | Idle" once the kernel is up
        _dismiss_dialogs(page)
        if page.evaluate("() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]"
                         ".some(e => /\\|\\s*Idle/.test(e.textContent))"):
            break
        time.sleep(0.5)
    else:
        raise AssertionError("the kernel did not become idle within 90 s")
    if clear:  # start from a clean slate: no stored outputs, no execution counts
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


def run_all(page, timeout_s: float = 300.0) -> None:
    """Run -> Run All Cells, then wait until every code cell shows an execution count.

    A Run All issued while the kernel is still connecting is dropped, so it is re-issued (at most
    4 times) while no cell has started. A run that stops early (an untagged error) leaves cells at
    ``[ ]:`` and fails with their positions.
    """
    deadline = time.monotonic() + timeout_s
    for _ in range(4):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        started = time.monotonic()
        while time.monotonic() - started < 20:
            _dismiss_dialogs(page)
            if any(p != "[ ]:" for p in _prompts(page)["prompts"]):
                break
            time.sleep(0.5)
        else:
            continue
        break
    idle_since = None
    state = _prompts(page)
    while time.monotonic() < deadline:
        state = _prompts(page)
        running = any(p == "[*]:" for p in state["prompts"])
        if not running and state["status"] == "idle":
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 3.0:
                not_run = [i for i, p in enumerate(state["prompts"]) if not re.fullmatch(r"\[\d+\]:", p)]
                assert not not_run, f"Run All stopped early; code cells not executed: {not_run} ({state})"
                return
        else:
            idle_since = None
        time.sleep(0.5)
    raise AssertionError(f"notebook did not finish within {timeout_s} s: {state}")


def errors(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
        ".map(e => e.textContent.slice(0, 300))")


# -- controls and timed moves ---------------------------------------------------------------------
_INSTALL = """
() => {
  if (window.__pl) return;
  const pl = window.__pl = {t0: null, muts: [], obs: null};
  const mark = (e) => { pl.t0 = performance.now(); pl.muts = []; };
  document.addEventListener('keydown', mark, true);
  document.addEventListener('change', (e) => { if (e.target.tagName === 'SELECT') mark(e); }, true);
}
"""

_CONTROLS = """
() => [...document.querySelectorAll('.widget-interact')].map((ui, i) => {
  const own = (el) => !el.closest('.widget-output');   // controls, not widgets inside the output
  const cs = [];
  ui.querySelectorAll('.widget-slider, .widget-dropdown').forEach(el => {
    if (!own(el) || el.parentElement.closest('.widget-slider, .widget-dropdown')) return;
    const label = el.querySelector('.widget-label, label');
    const select = el.querySelector('select');
    cs.push({ui: i, kind: select ? 'dropdown' : 'slider', label: label ? label.innerText.trim() : '',
             options: select ? [...select.options].map(o => o.value) : null,
             value: select ? select.value : (el.querySelector('.widget-readout') || {}).innerText});
  });
  return cs;
}).flat()
"""

_OBSERVE = """
(i) => {
  const pl = window.__pl; if (pl.obs) pl.obs.disconnect();
  const out = document.querySelectorAll('.widget-interact')[i].querySelector('.widget-output');
  pl.obs = new MutationObserver(() => pl.muts.push(performance.now()));
  pl.obs.observe(out, {subtree: true, childList: true, characterData: true, attributes: true,
                       attributeFilter: ['src']});
  pl.muts = []; pl.t0 = null;
}
"""

_SNAPSHOT = """
(i) => { const ui = document.querySelectorAll('.widget-interact')[i];
  const out = ui.querySelector('.widget-output');
  const imgs = out ? [...out.querySelectorAll('img')].map(e => e.src) : [];
  return {text: out ? out.innerText : '', imgs: imgs}; }
"""


def controls(page) -> list[dict]:
    """Every control of every interactive UI (ui index, kind, label, options, value)."""
    return page.evaluate(_CONTROLS)


def _control_el(page, c: dict, nth: int):
    ui = page.locator(".widget-interact").nth(c["ui"])
    if c["kind"] == "slider":
        return ui.locator(".widget-slider:not(.widget-output *)").nth(nth)
    return ui.locator(".widget-dropdown:not(.widget-output *)").nth(nth)


def move(page, c: dict, nth: int, step: int, quiet_s: float = 0.6, timeout_s: float = 30.0) -> dict:
    """Move control ``c`` (the ``nth`` slider/dropdown of its UI) once; return the timing.

    Slider: one arrow key on the focused handle (right, or left at the top of the range).
    Dropdown: select option number ``step`` (cyclic, never the current one). The latency is the
    time from the input event to the last mutation of the UI's output, once no mutation has come
    for ``quiet_s``.
    """
    page.evaluate(_INSTALL)
    page.evaluate(_OBSERVE, c["ui"])
    before = page.evaluate(_SNAPSHOT, c["ui"])
    el = _control_el(page, c, nth)
    el.scroll_into_view_if_needed()
    disabled = False
    if c["kind"] == "slider":
        handle = el.locator(".noUi-handle").first
        disabled = bool(el.locator("[disabled]").count()) or \
            handle.evaluate("h => !!h.closest('[disabled]') || h.getAttribute('aria-disabled') === 'true' || !!h.closest('.noUi-target[disabled]')")
        now = float(handle.get_attribute("aria-valuenow") or 0)
        hi = float(handle.get_attribute("aria-valuemax") or 0)
        handle.focus()
        page.keyboard.press("ArrowLeft" if now >= hi else "ArrowRight")
    else:
        sel = el.locator("select")
        disabled = sel.is_disabled()
        opts = c["options"]
        cur = sel.input_value()
        choices = [o for o in opts if o != cur] or opts
        if not disabled:
            sel.select_option(choices[step % len(choices)])
    t_end = time.monotonic() + timeout_s
    last_n, last_change = -1, time.monotonic()
    while time.monotonic() < t_end:
        st = page.evaluate("() => ({n: window.__pl.muts.length})")
        if st["n"] != last_n:
            last_n, last_change = st["n"], time.monotonic()
        elif time.monotonic() - last_change > (quiet_s if last_n > 0 else max(10.0, quiet_s)):
            break
        time.sleep(0.05)
    res = page.evaluate("() => ({t0: window.__pl.t0, muts: window.__pl.muts.slice()})")
    after = page.evaluate(_SNAPSHOT, c["ui"])
    lat = (res["muts"][-1] - res["t0"]) if (res["muts"] and res["t0"] is not None) else None
    return {"latency_ms": lat, "mutations": len(res["muts"]), "disabled": disabled,
            "text_changed": after["text"] != before["text"], "img_changed": after["imgs"] != before["imgs"],
            "has_img": bool(after["imgs"]), "before": before, "after": after}


def indexed_controls(page) -> list[tuple[dict, int]]:
    """``(control, nth-of-its-kind-in-its-UI)`` for every control of every UI on the page."""
    seen: dict = {}
    out = []
    for c in controls(page):
        key = (c["ui"], c["kind"])
        k = seen.get(key, 0)
        seen[key] = k + 1
        out.append((c, k))
    return out
