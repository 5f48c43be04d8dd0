"""Shared pytest configuration: hypothesis profile, fixtures for the reference data."""
import contextlib
import os

import pytest
from hypothesis import HealthCheck, settings

# Deterministic, CI-friendly property tests: a fixed number of examples, no wall-clock deadline
# (timing is measured by benchmarks/, never by tests).
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Submission notebooks used by the grader tests are data, not notebooks to validate.
collect_ignore_glob = ["fixtures/*"]


@pytest.fixture(autouse=True)
def _deterministic_torch():
    import torch
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def digits():
    from pruninglab.data import load_digits
    return {s: load_digits(s) for s in ("train", "val", "test")}


@pytest.fixture(scope="session")
def digits_images():
    from pruninglab.data import load_digits
    return {s: load_digits(s, images=True) for s in ("train", "val", "test")}


@pytest.fixture
def mlp():
    from pruninglab.models import load_reference
    return load_reference("mlp")


@pytest.fixture
def cnn():
    from pruninglab.models import load_reference
    return load_reference("cnn")


# -- real browser (tests marked ``browser``): ONE JupyterLab server, ONE Chromium and one run of
# each notebook, used by tests/test_browser.py (its only user: every browser test is in that one
# module, which xdist's loadscope gives to one worker). Module scope, not session: the server, its
# kernels (torch imported) and Chromium stop as soon as that module is done instead of idling
# (JupyterLab keeps polling) until the worker's last test, and their shutdown (seconds) is not
# added at the very end of the run.
@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """``(base_url, token)`` of a JupyterLab on a copy of notebooks/ (benchmarks/browser_lab.py)."""
    from benchmarks import browser_lab as bl
    try:
        bl.ensure_chromium()
    except bl.BrowserUnavailable as e:
        if os.environ.get("CI"):
            pytest.fail(str(e))
        pytest.skip(str(e))
    with bl.lab_server(tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab):
    """Headless Debian Chromium (Playwright, executable_path=/usr/bin/chromium)."""
    from benchmarks import browser_lab as bl
    with bl.chromium() as b:
        yield b


@pytest.fixture(scope="module")
def ran_notebook(lab, browser):
    """``ran_notebook("00_start_here.ipynb") -> page``: opened, outputs cleared and Run All done
    once; later calls return the same page (no second Run All)."""
    from benchmarks import browser_lab as bl
    base, token = lab
    pages: dict = {}
    failed: dict = {}

    def get(name: str, timeout_s: float = 400.0):
        if name in failed:  # a second test on a notebook whose run failed: same failure
            raise AssertionError(f"{name}: the earlier Run All failed: {failed[name]}")
        if name not in pages:
            page = pages[name] = bl.open_notebook(browser, base, token, name)
            try:
                bl.run_all(page, timeout_s=timeout_s)
            except BaseException as e:
                failed[name] = repr(e)[:2000]
                raise
        return pages[name]

    yield get
    for page in pages.values():
        with contextlib.suppress(Exception):
            page.close()
