"""Test order for ``make test`` (pytest-xdist, ``--dist loadscope --no-loadscope-reorder``).

xdist hands whole files (scopes) to its two workers in collection order. The order below is
"longest first" and keeps the two builds of a notebook apart:

1. the few long single tests (real nbgrader CLI, headless browser) start at once instead of
   forming a tail at the end of the run;
2. the instructor builds run next and fill the deterministic disk cache
   (``pruninglab.cache.cached``) with each notebook's heavy precomputations;
3. the unit tests;
4. the learner builds last: the same precomputations now load from the cache instead of running
   a second time — or waiting on the cache lock while the other worker runs them, which is what
   xdist's default order (largest scope first, so a notebook's two builds side by side) did.

Only the order changes; which tests run, and what they assert, does not.
"""
from __future__ import annotations

_FIRST = ("tests/test_grading_nbgrader.py", "tests/test_browser.py")


def _rank(nodeid: str) -> int:
    path = nodeid.split("::", 1)[0]
    if path in _FIRST:
        return 0
    if path.startswith("instructor/"):
        return 1
    if path.startswith("notebooks/"):
        return 3
    return 2


def pytest_collection_modifyitems(session, config, items):
    items.sort(key=lambda it: _rank(it.nodeid))   # stable: file and cell order kept within a rank
