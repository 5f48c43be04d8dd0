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


def test_cell_times_and_silent_slow_cells(tmp_path):
    """The no-silent-waits audit (issue 15): cell wall times from nbclient's timestamps, progress
    detected from a tqdm widget or text bar, and slow_cells flags only slow cells without one."""
    from benchmarks.slow_cells import silent_slow
    nb = nbformat.v4.new_notebook()
    ts = lambda s: f"2026-12-03T08:00:{s:06.3f}Z"
    bar = {"output_type": "display_data", "metadata": {},
           "data": {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "  0%|"}}
    for src, a, b, outs in (("import x", 0, 0.5, []), ("train()", 1, 9.25, [bar]),
                            ("sweep()", 10, 14.5, [{"output_type": "stream", "name": "stdout", "text": "done\n"}]),
                            ("slow_text()", 15, 19, [{"output_type": "stream", "name": "stderr",
                                                      "text": "100%|###| 5/5 [00:04<00:00,  1.2it/s]\n"}])):
        c = nbformat.v4.new_code_cell(src, outputs=outs)
        c.metadata["execution"] = {"iopub.execute_input": ts(a), "shell.execute_reply": ts(b)}
        nb.cells.append(c)
    rows = nbbuild.cell_times(nb)
    assert [r["seconds"] for r in rows] == [0.5, 8.25, 4.5, 4.0]
    assert [r["progress"] for r in rows] == [False, True, False, True]
    (tmp_path / "nb.json").write_text(json.dumps({"notebook": "x.ipynb", "cells": rows}))
    silent, slow = silent_slow(tmp_path, 3.0)
    assert [c["first_line"] for c in silent] == ["sweep()"] and len(slow) == 3
