"""One source, two builds: the learner notebooks carry no solution code and both builds are
up to date with ``notebooks/src`` (rebuild with ``python tools/nbbuild.py SRC``)."""
import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("nbbuild", ROOT / "tools" / "nbbuild.py")
nbbuild = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbbuild)
SOURCES = sorted(nbbuild.SRC.rglob("*.py"))


def _code(nb):
    return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_learner_build_is_current(src):
    nb = nbbuild.parse(src.read_text(encoding="utf-8"))
    built = nbformat.read(nbbuild.OUT["learner"] / src.relative_to(nbbuild.SRC).with_suffix(".ipynb"), 4)
    assert _code(built) == _code(nbbuild.learner_version(nb)), "stale: rebuild with tools/nbbuild.py"


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_instructor_build_is_current(src):
    nb = nbbuild.parse(src.read_text(encoding="utf-8"))
    dst = nbbuild.OUT["instructor"] / src.relative_to(nbbuild.SRC).with_suffix(".ipynb")
    if not nbbuild.has_solutions(nb):
        assert not dst.exists(), f"{dst} is left over (its source has no solution region)"
        return
    built = nbformat.read(dst, 4)
    assert _code(built) == _code(nb), "stale: rebuild with tools/nbbuild.py"


def test_learner_notebooks_contain_no_solution_code():
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        text = json.dumps([c["source"] for c in json.loads(path.read_text())["cells"]])
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, path


def test_strip_solutions_keeps_indentation_and_rejects_unbalanced():
    code = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert nbbuild.strip_solutions(code) == ("def f(x):\n    # YOUR CODE HERE\n"
                                              "    raise NotImplementedError()\n")
    for bad in ("### BEGIN SOLUTION\nx", "x\n### END SOLUTION",
                "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"):
        with pytest.raises(ValueError):
            nbbuild.strip_solutions(bad)
