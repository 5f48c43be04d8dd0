"""Graded exercises, interview quizzes and the command-line grader.

Notebook use::

    from pruninglab.grading import check, exercises
    def magnitude_prune(weights, sparsity):
        ...
    check("magnitude_prune", magnitude_prune)     # prints a report, never raises

* :func:`exercises` -- ``[(id, one-line description)]``
* :func:`grade` -- returns a :class:`Report` (``score``, ``max_score``, ``passed``; ``print`` it
  or display it in Jupyter for a table of checks with hints)
* :func:`check` -- grade and print
* :mod:`pruninglab.grading.quiz` -- interview-practice questions (``grade_quiz``, ``quiz_ui``)
* :mod:`pruninglab.grading.seed_bugs` -- the seed documents' buggy code, adapted to the
  exercise signatures (the grader must reject each with a specific hint)
* ``python -m pruninglab grade PATH...`` -- the teacher's grader (:mod:`.cli`): answer cells
  read from the notebooks as data, each run in a confined process (:mod:`.isolated`), judged
  here; gradebook CSV, feedback files, ``-j N``. ``check()``/``grade()`` are the learner's
  feedback only (they run in the learner's kernel).
* ``python -m pruninglab release OUTDIR`` -- course release (:mod:`.release`)
"""
from .core import EXERCISES, check, exercises, grade, implemented
from .report import Check, Report
from .solutions import solution

__all__ = ["EXERCISES", "exercises", "grade", "check", "implemented", "Report", "Check", "solution"]
