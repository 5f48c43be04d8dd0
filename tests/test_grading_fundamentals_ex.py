"""Notebook 01's exercises: the reference solutions (independent oracle and the notebook's answer
cells) get full marks; every seed bug / classic mistake is rejected with its specific hint."""
import numpy as np
import pytest

from pruninglab.grading import EXERCISES, grade
from pruninglab.grading._fundamentals_ex import MUTANTS, REFERENCE, LinearStep, oracle_iterative
from pruninglab.grading.solutions import solution_source

IDS = ["magnitude_mask", "global_threshold_masks", "iterative_threshold_prune"]


def notebook_solution(exercise_id):
    src = solution_source(exercise_id)
    assert src and "### BEGIN SOLUTION" in src
    ns = {"np": np}
    exec(src, ns)
    return ns[EXERCISES[exercise_id].function_name]


@pytest.mark.parametrize("exercise_id", IDS)
def test_registered_for_notebook_01_with_points(exercise_id):
    ex = EXERCISES[exercise_id]
    assert ex.notebook == "01_pruning_fundamentals" and ex.points >= 5
    assert EXERCISES["iterative_threshold_prune"].points > EXERCISES["magnitude_mask"].points


@pytest.mark.parametrize("exercise_id", IDS)
@pytest.mark.parametrize("seed", [0, 3, 11])
def test_references_get_full_marks(exercise_id, seed):
    for fn in (REFERENCE[exercise_id], notebook_solution(exercise_id)):
        r = grade(exercise_id, fn, seed=seed)
        assert r.passed and r.score == r.max_score, str(r)


CASES = [(ex, name, fac, word) for ex, ms in MUTANTS.items() for name, fac, word in ms]


@pytest.mark.parametrize("exercise_id,name,factory,word", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_mutants_rejected_with_specific_hint(exercise_id, name, factory, word):
    r = grade(exercise_id, factory(), seed=2)
    assert not r.passed
    assert word in str(r), str(r)


def test_seed_bugs_of_notebook_01_are_among_the_mutants():
    names = " ".join(n for ms in MUTANTS.values() for n, _, _ in ms)
    for seed_id in ("S0-C2", "S1-C5", "S2-C1", "S2-C2"):
        assert seed_id in names


def test_linear_step_pulls_pruned_weights_back_so_the_mask_matters():
    w = {"fc1": np.array([[1.0, 0.1], [0.05, -2.0]])}
    step = LinearStep({"fc1": np.eye(2)}, {"fc1": np.ones((2, 2))}, lr=0.5)
    good, masks = oracle_iterative(w, 1.0, 1, step, 2)
    bad, _ = oracle_iterative(w, 1.0, 1, step, 2, reapply=False)
    assert (good["fc1"][~masks["fc1"]] == 0).all()
    assert (bad["fc1"][~masks["fc1"]] != 0).any()
    # exact answer by hand: std of [1, .1, .05, -2] = 1.1063..., q=1 prunes |w| < 1.106 -> only -2 kept
    assert masks["fc1"].tolist() == [[False, False], [False, True]]
    # X = I (m = 2 columns): W <- W - 0.5 (W - 1) / 2: -2 -> -1.25 -> -0.6875 after two steps
    assert good["fc1"][1, 1] == pytest.approx(-0.6875)


def test_stub_is_not_attempted():
    def stub(*a):
        raise NotImplementedError()
    for ex in IDS:
        assert grade(ex, stub).status == "not attempted"
