"""The exercise notebooks: stubs only (no solutions), no seed anchors, and with the reference
solutions in the answer cells (the instructor build), every check passes and every experiment
cell runs."""
import json
from pathlib import Path

import pytest

from pruninglab.grading.solutions import solution_source

ROOT = Path(__file__).resolve().parent.parent

NOTEBOOKS = ["ex01_pruning", "ex02_quantization_storage", "interview_quiz"]


def _nb(name):
    return json.loads((ROOT / "notebooks" / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8"))


def _src(cell):
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_structure(name):
    nb = _nb(name)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert _src(code[0]).startswith("from pruninglab.utils import notebook_setup; notebook_setup()")
    for c in nb["cells"]:
        assert not any(t.startswith("seed") for t in c.get("metadata", {}).get("tags", []))
        for o in c.get("outputs", []):
            assert o.get("name") != "stderr" and o.get("output_type") != "error"
    assert "Check yourself" in "".join(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    for c in code:  # every learner function is a stub: no solution is shipped
        if _src(c).lstrip().startswith("def ") and "YOUR CODE HERE" in _src(c):
            assert "raise NotImplementedError" in _src(c)


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("name", NOTEBOOKS[:2])
def test_with_reference_solutions_everything_passes(name):
    """The instructor build is the learner build with the reference solutions of the notebook
    source in its answer cells (checked here cell by cell). Strict nbval executes it in
    ``make test`` and compares every output with the stored one (none of the cells checked here
    is ``nbval-ignore-output``), and tests/test_builds.py keeps it current with its source: so
    its stored outputs are what running the reference solutions gives, without a third kernel
    run here."""
    ins = json.loads((ROOT / "instructor" / "exercises" / f"{name}.ipynb").read_text(encoding="utf-8"))
    learner = _nb(name)
    assert [_tags(c) for c in ins["cells"]] == [_tags(c) for c in learner["cells"]]
    answers = 0
    for ci, cl in zip(ins["cells"], learner["cells"]):
        ids = [t[7:] for t in _tags(ci) if t.startswith("answer:")]
        if ids:
            answers += 1
            assert _src(ci).strip() == solution_source(ids[0], notebook=name).strip()
            assert "raise NotImplementedError" in _src(cl)
        elif "### BEGIN SOLUTION" not in _src(ci):
            assert _src(ci) == _src(cl)
    code = [c for c in ins["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") and "nbval-ignore-output" not in _tags(c)
               for c in code if "check(" in _src(c) or "implemented(" in _src(c))
    assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    text = "\n".join("".join(o.get("text", "")) for c in code for o in c.get("outputs", [])
                     if o.get("output_type") == "stream")
    checks = [c for c in code if any(t.startswith("check:") for t in _tags(c))]
    assert answers == len(checks) >= 3
    assert text.count("-- PASSED") == len(checks), text
    assert "not implemented yet" not in text and "to run this experiment" not in text
    assert "accuracy" in text
