"""Run several nbgrader commands in ONE process (build/nbgrader-venv's python; used by
tests/test_grading_nbgrader.py, not collected by pytest: its name does not start with test_).

    python tests/nbgrader_driver.py COURSE STEPS_JSON

``STEPS_JSON`` is a list of steps, run in order in the folder COURSE:

* ``["nbgrader", ARG, ...]``: the ``nbgrader`` command line itself (``NbGraderApp``: argument
  parsing, ``nbgrader_config.py`` found in the course folder, the subcommand's converter), run
  in this process the way nbgrader's own test suite runs it (``nbgrader.tests.run_nbgrader``:
  ``initialize(argv)``, ``start()``, ``reset()``); a non-zero exit stops the driver;
* ``["submit", ASSIGNMENT, STUDENT, "solve" | "stub"]``: writes submitted/STUDENT/ASSIGNMENT/
  from the released notebook, its answer cells filled with the reference solutions (``solve``)
  or left as released (``stub``);
* ``["scores", ASSIGNMENT, STUDENT, ...]``: each student's score and max score read from the
  gradebook (nbgrader's ``Gradebook`` API).

Prints one JSON line: ``{"seconds": [[step, s], ...], "scores": {student: [score, max_score]}}``.
One process instead of one CLI start per command: each start pays nbgrader's imports (≈ 2 s on
an idle machine, half of it ``jsonschema``'s RFC 3987 grammar).
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from io import StringIO
from pathlib import Path


def nbgrader(args: list[str]) -> None:
    """``nbgrader ARGS`` in this process; raises RuntimeError (with the log) on a non-zero exit."""
    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp
    app = NbGraderApp.instance()
    log = StringIO()
    code = 0
    try:
        app.initialize(args)
        app.init_logging(logging.StreamHandler, [log], color=False, subapps=True)
        app.start()
    except NoStart:                        # what jupyter_core raises after a subcommand's start()
        pass
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        app.reset()
    if code != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} exited with {code}:\n{log.getvalue()[-4000:]}")


def submit(course: Path, assignment: str, student: str, how: str) -> None:
    from pruninglab.grading.solutions import solution_source
    if how not in ("solve", "stub"):
        raise ValueError(f"submit: how must be 'solve' or 'stub', got {how!r}")
    nb = json.loads((course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8"))
    if how == "solve":
        for c in nb["cells"]:
            gid = c["metadata"].get("nbgrader", {}).get("grade_id", "")
            if gid.startswith("answer_"):
                c["source"] = "\n".join(ln for ln in solution_source(gid[7:]).split("\n")
                                        if ln.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
    dst = course / "submitted" / student / assignment / f"{assignment}.ipynb"
    dst.parent.mkdir(parents=True)
    dst.write_text(json.dumps(nb), encoding="utf-8")


def scores(course: Path, assignment: str, *students: str) -> dict:
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    cd = CourseDirectory(config=PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config())
    with Gradebook(cd.db_url, cd.course_id) as gb:
        return {s: [gb.find_submission(assignment, s).score, gb.find_submission(assignment, s).max_score]
                for s in students}


def main(argv: list[str]) -> int:
    course, steps = Path(argv[0]).resolve(), json.loads(argv[1])
    os.chdir(course)                       # where the CLI is run from
    out: dict = {"seconds": [], "scores": {}}
    for step in steps:
        t = time.perf_counter()
        kind, *args = step
        if kind == "nbgrader":
            nbgrader(args)
        elif kind == "submit":
            submit(course, *args)
        elif kind == "scores":
            out["scores"].update(scores(course, *args))
        else:
            raise SystemExit(f"unknown step {step!r}")
        out["seconds"].append([" ".join(step), round(time.perf_counter() - t, 3)])
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
