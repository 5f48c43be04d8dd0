"""The course release works with the real nbgrader CLI (pinned in requirements-nbgrader.txt,
installed by ``make nbgrader-venv`` into build/nbgrader-venv so that the project's own pins stay
untouched): generate_assignment strips the solutions, autograde scores a correct submission with
full marks and the untouched stub with 0. Skipped when that venv is absent."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pruninglab.grading.solutions import solution_source

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "build" / "nbgrader-venv" / "bin"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not (VENV / "nbgrader").exists(),
                                reason="run `make nbgrader-venv` first (separate venv with nbgrader)")]
if os.environ.get("CI") and not (VENV / "nbgrader").exists():   # `make test` builds it: never skip in CI
    raise RuntimeError("build/nbgrader-venv is missing: `make test` should have created it")


def _nbg(course, *args):
    env = dict(os.environ, PATH=f"{VENV}:{os.environ['PATH']}", PYTHONPATH=str(ROOT))
    p = subprocess.run([str(VENV / "nbgrader"), *args], cwd=course, env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return p


def test_generate_and_autograde(tmp_path):
    out = tmp_path / "rel"
    p = subprocess.run([sys.executable, "-m", "pruninglab", "release", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    course = out / "nbgrader"
    _nbg(course, "generate_assignment", "ex01_pruning", "--create", "--force")
    released = course / "release" / "ex01_pruning" / "ex01_pruning.ipynb"
    text = released.read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" not in text and "raise NotImplementedError" in text
    for student, solve in (("alice", True), ("bob", False)):
        nb = json.loads(text)
        if solve:
            for c in nb["cells"]:
                gid = c["metadata"].get("nbgrader", {}).get("grade_id", "")
                if gid.startswith("answer_"):
                    c["source"] = "\n".join(ln for ln in solution_source(gid[7:]).split("\n")
                                             if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        dst = course / "submitted" / student / "ex01_pruning" / "ex01_pruning.ipynb"
        dst.parent.mkdir(parents=True)
        dst.write_text(json.dumps(nb), encoding="utf-8")
    _nbg(course, "autograde", "ex01_pruning", "--create", "--force")
    _nbg(course, "export")
    import csv
    scores = {r["student_id"]: (float(r["score"]), float(r["max_score"]))
              for r in csv.DictReader(open(course / "grades.csv", encoding="utf-8"))}
    assert scores["alice"] == (40.0, 40.0)
    assert scores["bob"] == (0.0, 40.0)
