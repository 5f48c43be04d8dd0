"""End to end through the teacher's grader: every instructor notebook (the reference answers in
their answer cells) scores full marks on every exercise it contains, and its learner build
(stubs) scores 0 — graded in confined processes, as a submission would be."""
from pathlib import Path

import pytest

from pruninglab.grading import EXERCISES
from pruninglab.grading.cli import grade_submission

ROOT = Path(__file__).resolve().parent.parent
INSTRUCTOR = sorted((ROOT / "instructor").rglob("*.ipynb"))


def test_every_exercise_is_taught_in_some_notebook():
    taught = set()
    for nb in INSTRUCTOR:
        taught |= {e for e, ex in EXERCISES.items() if f'"answer:{e}"' in nb.read_text()}
    assert set(EXERCISES) - taught == set()


@pytest.mark.parametrize("path", INSTRUCTOR, ids=lambda p: p.stem)
def test_reference_answers_score_full_marks_and_stubs_zero(path):
    row = grade_submission(path, seed=1)
    graded = {e: v for e, v in row["exercises"].items() if v["status"] != "not found"}
    assert graded, f"no answer cells found in {path.name}"
    bad = {e: (v["points"], v["max_points"], v["reason"]) for e, v in graded.items()
           if v["points"] != v["max_points"]}
    assert not bad
    learner = ROOT / "notebooks" / path.relative_to(ROOT / "instructor")
    row = grade_submission(learner, seed=1)
    assert all(v["points"] == 0 for v in row["exercises"].values()), row["exercises"]
