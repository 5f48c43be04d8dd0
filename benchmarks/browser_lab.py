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


def shutdown_kernels(base: str, token: str) -> int:
    """Shut down every kernel session of the server (REST API); the number shut down."""
    import json as _json
    req = urllib.request.Request(f"{base}/api/sessions?token={token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        sessions = _json.loads(r.read())
    for s in sessions:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(urllib.request.Request(
                f"{base}/api/sessions/{s['id']}?token={token}", method="DELETE"), timeout=30).close()
    return len(sessions)


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


_DIALOG = ".jp-Dialog .jp-Dialog-button.jp-mod-accept"

_KERNEL_STATE = """
(dialog) => {
  if (document.querySelector(dialog)) return 'dialog';
  const idle = [...document.querySelectorAll('.jp-StatusBar-TextItem')]
    .some(e => /\\|\\s*Idle/.test(e.textContent));
  return idle ? 'idle' : false;
}
"""


def _dismiss_dialogs(page) -> None:
    """Accept a 'Select Kernel' (or any other) dialog if one is showing."""
    for _ in range(3):
        btn = page.locator(_DIALOG)
        if not btn.count():
            return
        btn.first.click()
        with contextlib.suppress(Exception):  # wait for it to go (no fixed sleep)
            page.wait_for_selector(_DIALOG, state="detached", timeout=2_000)


def news_popup_showing(page) -> bool:
    return bool(page.locator(".Toastify__toast:has-text('news')").count())


def _wait(page, js: str, arg=None, timeout_s: float = 60.0, polling: int = 100):
    """Evaluate ``js`` in the page every ``polling`` ms until it returns a truthy value."""
    return page.wait_for_function(js, arg=arg, timeout=timeout_s * 1000, polling=polling).json_value()


# before the page's scripts: note when each websocket message is sent / arrives (performance.now(),
# a ring of the last 2000–4000), so a move's time splits into browser / server+kernel legs
_WS_TIMES = """
(() => {
  const W = window.WebSocket, log = window.__pl_ws = {rx: [], tx: []};
  const push = (a, t) => { a.push(t); if (a.length > 4000) a.splice(0, 2000); };
  class TimedWebSocket extends W {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', () => push(log.rx, performance.now()));
    }
    send(data) { push(log.tx, performance.now()); return super.send(data); }
  }
  window.WebSocket = TimedWebSocket;
})();
"""


def open_notebook(browser, base, token, name, clear: bool = True):
    """Open ``name`` in a new page, wait for its kernel to be idle; by default clear all outputs."""
    page = browser.new_page(viewport=VIEWPORT)
    page.add_init_script(_WS_TIMES)
    page.set_default_timeout(60_000)
    page.goto(f"{base}/lab/tree/{name}?token={token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    deadline = time.monotonic() + 90
    while True:  # the status bar says "… | Idle" once the kernel is up; a dialog may ask first
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the kernel did not become idle within 90 s")
        try:
            state = _wait(page, _KERNEL_STATE, _DIALOG, timeout_s=left)
        except Exception as e:  # playwright TimeoutError
            raise AssertionError("the kernel did not become idle within 90 s") from e
        if state == "idle":
            break
        _dismiss_dialogs(page)
    if clear:  # start from a clean slate: no stored outputs, no execution counts
        page.click(".lm-MenuBar-itemLabel:text-is('Edit')")
        page.click(".lm-Menu-itemLabel:text-is('Clear Outputs of All Cells')")
        page.wait_for_function("() => document.querySelectorAll('.jp-OutputArea-output').length === 0",
                               timeout=30_000)
    return page


_RUN_STATE = """
() => { const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
  const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts: ps, status: s ? s.getAttribute('data-status') : null}; }
"""

# true once every code cell shows an execution count and the kernel is idle, or once the kernel
# has been idle for ``grace`` ms with no cell running (a run that stopped early: the caller reports)
_RUN_DONE = """
(grace) => {
  const ps = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
  const s = document.querySelector('.jp-Notebook-ExecutionIndicator');
  const idle = s && s.getAttribute('data-status') === 'idle' && !ps.includes('[*]:');
  if (!idle) { window.__pl_idle_since = null; return false; }
  if (ps.every(p => /^\\[\\d+\\]:$/.test(p))) return 'done';
  const now = performance.now();
  window.__pl_idle_since = window.__pl_idle_since || now;
  return now - window.__pl_idle_since > grace ? 'stopped' : false;
}
"""

_STARTED = "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].some(e => e.textContent.trim() !== '[ ]:')"

# every widget output has its view, and every interactive's output shows something
_WIDGETS_RENDERED = """
() => {
  const views = [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.widget-view+json"]')];
  if (views.some(v => v.childElementCount === 0)) return false;
  return [...document.querySelectorAll('.widget-interact')].every(ui => {
    const out = ui.querySelector('.widget-output');
    return !out || !!out.querySelector('img') || out.innerText.trim().length > 0;
  });
}
"""


def _prompts(page) -> dict:
    return page.evaluate(_RUN_STATE)


def run_all(page, timeout_s: float = 300.0) -> None:
    """Run -> Run All Cells, then wait until every code cell shows an execution count.

    A Run All issued while the kernel is still connecting is dropped, so it is re-issued (at most
    4 times) while no cell has started. A run that stops early (an untagged error) leaves cells at
    ``[ ]:`` and fails with their positions. Waits are conditions polled in the page (100 ms),
    never fixed sleeps; at the end, waits (at most 20 s) until every widget view is rendered.
    """
    deadline = time.monotonic() + timeout_s
    for _ in range(4):
        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        started = time.monotonic() + 20
        ok = False
        while time.monotonic() < started:
            if page.locator(_DIALOG).count():
                _dismiss_dialogs(page)
            try:
                _wait(page, _STARTED, timeout_s=min(2.0, max(0.1, started - time.monotonic())))
                ok = True
                break
            except Exception:  # playwright TimeoutError: not started yet
                continue
        if ok:
            break
    page.evaluate("() => { window.__pl_idle_since = null; }")
    try:
        _wait(page, _RUN_DONE, 3000, timeout_s=max(1.0, deadline - time.monotonic()), polling=200)
    except Exception as e:  # playwright TimeoutError
        raise AssertionError(f"notebook did not finish within {timeout_s} s: {_prompts(page)}") from e
    state = _prompts(page)
    not_run = [i for i, p in enumerate(state["prompts"]) if not re.fullmatch(r"\[\d+\]:", p)]
    assert not not_run, f"Run All stopped early; code cells not executed: {not_run} ({state})"
    wait_widgets_rendered(page)


def wait_widgets_rendered(page, timeout_s: float = 20.0) -> bool:
    """Wait until every widget output shows its view (False if that took longer than ``timeout_s``)."""
    try:
        _wait(page, _WIDGETS_RENDERED, timeout_s=timeout_s)
        return True
    except Exception:  # playwright TimeoutError: the callers' assertions say what is missing
        return False


def errors(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
        ".map(e => e.textContent.slice(0, 300))")


# -- controls and timed moves ---------------------------------------------------------------------
_INSTALL = """
() => {
  if (window.__pl) return;
  const pl = window.__pl = {t0: null, muts: [], obs: null, long: []};
  try {  // main-thread tasks over 50 ms (Long Tasks API): the browser's own share of a slow move
    new PerformanceObserver(l => { for (const e of l.getEntries()) pl.long.push([e.startTime, e.duration]); })
      .observe({type: 'longtask'});
  } catch (e) { }
  const mark = (e) => { pl.t0 = performance.now(); pl.muts = []; };
  document.addEventListener('keydown', mark, true);
  document.addEventListener('change', (e) => { if (e.target.tagName === 'SELECT') mark(e); }, true);
}
"""

# resolves once no DOM mutation has come anywhere in the page for ``quiet`` ms (or after ``most`` ms)
_PAGE_QUIET = """
([quiet, most]) => new Promise(resolve => {
  const t0 = performance.now(); let last = t0;
  const obs = new MutationObserver(() => { last = performance.now(); });
  obs.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  const tick = () => {
    const now = performance.now();
    if (now - last >= quiet || now - t0 >= most) { obs.disconnect(); resolve(now - t0); }
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})
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


# quiet mode (benchmark): true once a mutation came and none for ``quiet`` ms, or none at all for
# ``none`` ms after the input; change mode (test): true once the UI's output differs from
# ``before`` and no mutation came for ``quiet`` ms
_SETTLED = """
([i, before, quiet, none, mode]) => {
  const pl = window.__pl, now = performance.now();
  const last = pl.muts.length ? pl.muts[pl.muts.length - 1] : null;
  if (mode === 'change') {
    if (last === null || now - last < quiet) return false;
    const out = document.querySelectorAll('.widget-interact')[i].querySelector('.widget-output');
    const text = out ? out.innerText : '';
    const imgs = out ? [...out.querySelectorAll('img')].map(e => e.src) : [];
    return text !== before.text || imgs.join('\\n') !== before.imgs.join('\\n');
  }
  if (last !== null) return now - last > quiet;
  return pl.t0 !== null && now - pl.t0 > none;
}
"""


def move(page, c: dict, nth: int, step: int, quiet_s: float = 0.6, timeout_s: float = 30.0,
         until: str = "quiet", settle_s: float | None = None) -> dict:
    """Move control ``c`` (the ``nth`` slider/dropdown of its UI) once; return the timing.

    Slider: one arrow key on the focused handle (right, or left at the top of the range).
    Dropdown: select option number ``step`` (cyclic, never the current one). A disabled control
    is not moved (``disabled`` True, nothing waited for).

    ``until="quiet"`` (benchmark): the latency is the time from the input event to the last
    mutation of the UI's output, once no mutation has come for ``quiet_s`` (or none at all for
    10 s). ``until="change"`` (tests): returns as soon as the UI's output text or picture differs
    from before the move and no mutation has come for ``quiet_s`` (give ~0.2 s); ``timeout_s``
    bounds the wait for a control that changes nothing. All waits are conditions polled in the page.

    ``settle_s`` (default 0.2 s for ``"quiet"``, 0 for ``"change"``): after the control is
    scrolled into view, this long passes and then the page must be quiet (no DOM mutation
    anywhere for 150 ms, at most 2 s of waiting) before the input event, so the benchmark times
    the move and not JupyterLab rendering the cells that scrolling just revealed (a learner
    cannot move a control within milliseconds of it appearing).
    """
    if until not in ("quiet", "change"):
        raise ValueError(f"until must be 'quiet' or 'change', got {until!r}")
    page.evaluate(_INSTALL)
    page.evaluate(_OBSERVE, c["ui"])
    before = page.evaluate(_SNAPSHOT, c["ui"])
    el = _control_el(page, c, nth)
    el.scroll_into_view_if_needed()
    settle = (0.2 if until == "quiet" else 0.0) if settle_s is None else float(settle_s)
    if settle > 0:
        page.wait_for_timeout(1000 * settle)
        page.evaluate(_PAGE_QUIET, [150, 2000])
    disabled = control_disabled(page, c, nth)
    if c["kind"] == "slider":
        handle = el.locator(".noUi-handle").first
        if not disabled:
            now = float(handle.get_attribute("aria-valuenow") or 0)
            hi = float(handle.get_attribute("aria-valuemax") or 0)
            handle.focus()
            page.keyboard.press("ArrowLeft" if now >= hi else "ArrowRight")
    else:
        sel = el.locator("select")
        if not disabled:
            cur = sel.input_value()
            choices = [o for o in c["options"] if o != cur] or c["options"]
            sel.select_option(choices[step % len(choices)])
    if not disabled:
        arg = [c["ui"], before, 1000 * quiet_s, 10_000, until]
        with contextlib.suppress(Exception):  # playwright TimeoutError: nothing changed in time
            _wait(page, _SETTLED, arg, timeout_s=timeout_s, polling=50 if until == "quiet" else 100)
    res = page.evaluate("() => ({t0: window.__pl.t0, muts: window.__pl.muts.slice(), "
                        "origin: performance.timeOrigin, long: window.__pl.long.slice(), "
                        "tx: (window.__pl_ws || {tx: []}).tx.slice(-200), "
                        "rx: (window.__pl_ws || {rx: []}).rx.slice(-400)})")
    after = page.evaluate(_SNAPSHOT, c["ui"])
    lat = (res["muts"][-1] - res["t0"]) if (res["muts"] and res["t0"] is not None) else None
    long_ms, tx_ms, rx_ms = 0.0, None, None
    if lat is not None:  # the part of main-thread long tasks inside [input, last mutation]
        t0, t1 = res["t0"], res["t0"] + lat
        long_ms = sum(max(0.0, min(t1, s + d) - max(t0, s)) for s, d in res["long"])
        tx = [t for t in res["tx"] if t0 <= t <= t1]   # first message sent after the input
        rx = [t for t in res["rx"] if t0 <= t <= t1]   # last message received before the last change
        tx_ms = (tx[0] - t0) if tx else None
        rx_ms = (rx[-1] - t0) if rx else None
    return {"latency_ms": lat, "mutations": len(res["muts"]), "disabled": disabled,
            "t0_epoch_s": None if res["t0"] is None else (res["origin"] + res["t0"]) / 1000,
            "first_ms": (res["muts"][0] - res["t0"]) if lat is not None else None,
            "long_task_ms": long_ms, "ws_sent_ms": tx_ms, "ws_received_ms": rx_ms,
            "text_changed": after["text"] != before["text"], "img_changed": after["imgs"] != before["imgs"],
            "has_img": bool(after["imgs"]), "before": before, "after": after}


def control_disabled(page, c: dict, nth: int) -> bool:
    """Whether control ``c`` (the ``nth`` of its kind in its UI) is greyed out (``disabled_when``)."""
    el = _control_el(page, c, nth)
    if c["kind"] == "slider":
        handle = el.locator(".noUi-handle").first
        return bool(el.locator("[disabled]").count()) or bool(handle.evaluate(
            "h => !!h.closest('[disabled]') || h.getAttribute('aria-disabled') === 'true' "
            "|| !!h.closest('.noUi-target[disabled]')"))
    return el.locator("select").is_disabled()


def enable(page, c: dict, nth: int, controls: list[tuple[dict, int]]) -> str | None:
    """Make a disabled control usable by choosing, untimed, another option of one dropdown of
    the same UI (e.g. 08's roofline: structure "unstructured" enables the sparsity slider).
    Returns ``"label=option"`` that did it, or None (still disabled; the dropdown is put back)."""
    for d, k in controls:
        if d["ui"] != c["ui"] or d["kind"] != "dropdown" or (d is c):
            continue
        sel = _control_el(page, d, k).locator("select")
        if sel.is_disabled():
            continue
        start = sel.input_value()
        for opt in d["options"]:
            if opt == start:
                continue
            before = page.evaluate(_SNAPSHOT, c["ui"])
            page.evaluate(_INSTALL)
            page.evaluate(_OBSERVE, c["ui"])
            sel.select_option(opt)
            with contextlib.suppress(Exception):
                _wait(page, _SETTLED, [c["ui"], before, 200, 10_000, "change"], timeout_s=10, polling=100)
            if not control_disabled(page, c, nth):
                return f"{d['label'] or 'dropdown'}={opt}"
        sel.select_option(start)
    return None


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
