"""Test helpers for the grader.

The reference solutions live once, in the notebook sources (``notebooks/src/**``, answer cell
tagged ``answer:<id>``, body between ``### BEGIN/END SOLUTION``); :func:`reference` reads them
through :func:`pruninglab.grading.solutions.solution_source`, as the learner's ``solution(id)``
does. ``common_bugs`` holds the classic learner mistakes (the seed bugs are in
``pruninglab.grading.seed_bugs`` and in each exercise module's ``MUTANTS``)."""


def reference(exercise_id: str, notebook: str | None = None):
    """The reference function of ``exercise_id`` from its notebook source (``notebook``: a
    source file stem, for an exercise answered in more than one notebook)."""
    from pruninglab.grading import EXERCISES
    from pruninglab.grading._common import DEFAULT_PREAMBLE
    from pruninglab.grading.solutions import solution_source
    ex = EXERCISES[exercise_id]
    src = solution_source(exercise_id, notebook)
    assert src and "### BEGIN SOLUTION" in src, f"no reference answer cell for {exercise_id!r}"
    ns = {"__name__": f"reference_{exercise_id}"}
    exec(DEFAULT_PREAMBLE if ex.preamble is None else ex.preamble, ns)
    exec(compile(src, f"<answer:{exercise_id}>", "exec"), ns)
    return ns[ex.function_name]
