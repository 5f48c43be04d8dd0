"""``python -m pruninglab release OUTDIR``: a course release folder.

* ``OUTDIR/learner/`` -- every learner notebook (``notebooks/**/*.ipynb``, outputs kept, no
  solutions: the release stops with an error if a ``### BEGIN SOLUTION`` marker or a reference
  body is found), each exercise notebook stamped with ``metadata.pruninglab.assignment``;
* ``OUTDIR/instructor/`` -- the instructor builds (``instructor/**``, solutions kept) plus the
  learner notebooks that have no instructor build (nothing to hide in them);
* ``OUTDIR/nbgrader/`` -- an nbgrader course: ``nbgrader_config.py`` and
  ``source/<assignment>/<assignment>.ipynb`` for each graded notebook (the instructor build:
  solution regions marked with nbgrader's ``### BEGIN/END SOLUTION``, answer cells with
  ``grade_id`` ``answer_<id>``, check cells with ``points`` from the registry; the check cells
  end with the partial score, which nbgrader reads as partial credit), ready for
  ``nbgrader generate_assignment`` / ``autograde`` (tested in ``tests/test_grading_nbgrader.py``). The points that count in our own gradebook
  still come from ``python -m pruninglab grade`` (confined processes); nbgrader's autograde runs
  the notebook in a kernel and is offered for LMS / JupyterHub integration.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

__all__ = ["release", "add_arguments", "run"]

CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.root = __file__.rsplit("/", 1)[0] if "/" in __file__ else "."
c.CourseDirectory.course_id = "pruninglab"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ExecutePreprocessor.timeout = 300
'''


# nbgrader's autograde gives a test cell full points unless it raises, or the number it
# displays last (partial credit). check() never raises, so the nbgrader copy of each check cell
# prints the same report and ends with the partial score.
NBGRADER_CHECK = """from pruninglab.grading import grade as _grade
_report = _grade("{id}", {fn}, seed=0)
print(_report)
round({points} * _report.score / _report.max_score, 2) if _report.status == "graded" else 0.0"""


def _root() -> Path:
    from ..utils import repo_root
    return repo_root()


def _stamp(nb: dict, assignment: str) -> dict:
    nb.setdefault("metadata", {}).setdefault("pruninglab", {})["assignment"] = assignment
    return nb


def release(outdir, *, root: Path | None = None) -> dict:
    """Write the release; returns ``{"learner": [...], "instructor": [...], "nbgrader": [...]}``."""
    from .core import EXERCISES, assignments
    root = Path(root or _root())
    out = Path(outdir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty")
    table = assignments()
    done = {"learner": [], "instructor": [], "nbgrader": []}
    learner = sorted(p for p in (root / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    instructor = {p.relative_to(root / "instructor"): p for p in (root / "instructor").rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts} if (root / "instructor").is_dir() else {}
    for p in learner:
        rel = p.relative_to(root / "notebooks")
        text = p.read_text(encoding="utf-8")
        if "### BEGIN SOLUTION" in text:
            raise RuntimeError(f"{p} contains a solution region: rebuild it with tools/nbbuild.py")
        nb = json.loads(text)
        if p.stem in table:
            _stamp(nb, p.stem)
        dst = out / "learner" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        done["learner"].append(dst)
        src_i = instructor.get(rel, p)
        dst_i = out / "instructor" / rel
        dst_i.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src_i, dst_i)
        done["instructor"].append(dst_i)
    course = out / "nbgrader"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
    for name in sorted(table):
        matches = [r for r in instructor if r.stem == name]
        if not matches:
            continue
        nb = json.loads(instructor[matches[0]].read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"], cell["execution_count"] = [], None
                gid = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id", "")
                if gid.startswith("check_") and gid[6:] in EXERCISES:
                    cell["source"] = NBGRADER_CHECK.format(id=gid[6:], fn=EXERCISES[gid[6:]].function_name,
                                                           points=EXERCISES[gid[6:]].points)
        dst = course / "source" / name / f"{name}.ipynb"
        dst.parent.mkdir(parents=True)
        dst.write_text(json.dumps(_stamp(nb, name), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        done["nbgrader"].append(dst)
    return done


def add_arguments(p) -> None:
    p.add_argument("outdir", help="empty or new folder for the release")


def run(args) -> int:
    try:
        done = release(args.outdir)
    except (FileExistsError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for k, v in done.items():
        print(f"{k}: {len(v)} notebook(s) in {Path(args.outdir) / k}")
    return 0
