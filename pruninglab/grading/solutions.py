"""Reveal a reference solution *after* trying: :func:`solution`.

The reference solutions live once, in the notebook sources (``notebooks/src/**/*.py``), inside
the answer cell tagged ``answer:<exercise_id>`` between ``### BEGIN SOLUTION`` and
``### END SOLUTION``. The learner notebooks never contain them; ``solution(id)`` reads the source
(present in a clone of the repository, absent from a course release) and shows the answer cell
only after the learner has graded an attempt of that exercise in this session (``force=True``
skips that rule).
"""
from __future__ import annotations

import json
import re

__all__ = ["solution", "solution_source"]

_HEADER = re.compile(r"^# %%.*tags=(\[.*?\])")


def solution_source(exercise_id: str, notebook: str | None = None) -> str | None:
    """The answer cell's code (with solution) for ``exercise_id``, or None if no source has it.

    An exercise may be answered in more than one notebook (``agp_sparsity``: notebook 04 and
    Exercises 2): the first source in path order is used, or the one of ``notebook`` (a source
    file stem, e.g. ``"ex02_quantization_storage"``) when given."""
    from ..utils import repo_root
    from .core import _get
    _get(exercise_id)
    src = repo_root() / "notebooks" / "src"
    if not src.is_dir():
        return None
    for path in sorted(src.rglob("*.py")):
        if notebook is not None and path.stem != notebook:
            continue
        lines = path.read_text(encoding="utf-8").split("\n")
        for i, line in enumerate(lines):
            m = _HEADER.match(line)
            if not m:
                continue
            try:
                tags = json.loads(m.group(1))
            except ValueError:
                continue
            if f"answer:{exercise_id}" in tags:
                body = []
                for nxt in lines[i + 1:]:
                    if nxt.startswith("# %%"):
                        break
                    body.append(nxt)
                return "\n".join(body).strip("\n")
    return None


def solution(exercise_id: str, *, force: bool = False) -> None:
    """Print the reference solution of ``exercise_id`` (after an attempt, or with ``force``)."""
    from .core import _attempts, _get
    _get(exercise_id)
    if not force and _attempts[exercise_id] == 0:
        print(f"Try first: write your function and run check({exercise_id!r}, ...) once; then "
              f"solution({exercise_id!r}) shows the reference (or solution({exercise_id!r}, "
              "force=True)).")
        return
    code = solution_source(exercise_id)
    if code is None:
        print(f"No solution source for {exercise_id!r} in this copy (course releases do not "
              "ship them; ask your instructor).")
        return
    print(code)
