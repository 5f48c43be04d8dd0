"""The course release works with the real nbgrader CLI (pinned in requirements-nbgrader.txt,
installed by ``make nbgrader-venv`` into build/nbgrader-venv so that the project's own pins stay
untouched): generate_assignment strips the solutions, autograde scores a correct submission with
full marks and the untouched stub with 0 (in the gradebook and in the exported grades.csv).
Skipped when that venv is absent.

The ``nbgrader`` commands run one after the other in ONE process of that venv
(``tests/nbgrader_driver.py``: the CLI application itself, in-process as nbgrader's own test suite
runs it) instead of one CLI start each."""
import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from pruninglab.grading.release import release

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "build" / "nbgrader-venv" / "bin"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (VENV / "nbgrader").exists(),
                                reason="run `make nbgrader-venv` first (separate venv with nbgrader)")]
if os.environ.get("CI") and not (VENV / "nbgrader").exists():   # `make test` builds it: never skip in CI
    raise RuntimeError("build/nbgrader-venv is missing: `make test` should have created it")


def _driver(course, steps):
    env = dict(os.environ, PATH=f"{VENV}:{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    p = subprocess.run([str(VENV / "python"), str(ROOT / "tests" / "nbgrader_driver.py"), str(course),
                        json.dumps(steps)], cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_generate_and_autograde(tmp_path):
    out = tmp_path / "rel"
    release(out)                  # the `python -m pruninglab release` command: tests/test_grading_cli.py
    course = out / "nbgrader"
    res = _driver(course, [
        ["nbgrader", "generate_assignment", "ex01_pruning", "--create", "--force"],
        ["submit", "ex01_pruning", "alice", "solve"],     # the released notebook, solved
        ["submit", "ex01_pruning", "bob", "stub"],        # the released notebook, untouched
        ["nbgrader", "autograde", "ex01_pruning", "--create", "--force"],
        ["nbgrader", "export"],
        ["scores", "ex01_pruning", "alice", "bob"],
    ])
    text = (course / "release" / "ex01_pruning" / "ex01_pruning.ipynb").read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError" in text
    for student in ("alice", "bob"):   # the autograded notebooks are the executed submissions
        assert (course / "autograded" / student / "ex01_pruning" / "ex01_pruning.ipynb").exists()
    scores = {r["student_id"]: (float(r["score"]), float(r["max_score"]))
              for r in csv.DictReader(open(course / "grades.csv", encoding="utf-8"))}
    assert scores == {"alice": (40.0, 40.0), "bob": (0.0, 40.0)}
    assert res["scores"] == {"alice": [40.0, 40.0], "bob": [0.0, 40.0]}
