"""Notebook 04/06 exercises: the reference solutions (the answer cells of the notebook sources)
get full marks; every seed-bug / classic-mistake mutant is rejected with a hint."""
import pytest

from pruninglab.grading import grade
from pruninglab.grading._joint_ex import MUTANTS as JOINT_MUTANTS
from pruninglab.grading._retrain_ex import MUTANTS as RETRAIN_MUTANTS
from pruninglab.grading.solutions import solution_source

IDS = ["masked_sgd_step", "agp_sparsity", "layer_sensitivity", "allocate_budget", "gradual_prune", "deep_compression_bits"]


def reference(exercise_id):
    """Execute the answer cells (with solutions) of the notebook sources in one namespace."""
    ns = {}
    for eid in IDS:
        code = solution_source(eid)
        assert code is not None, eid
        exec(compile(code, f"<answer:{eid}>", "exec"), ns)
    return ns[exercise_id]


@pytest.mark.parametrize("eid", IDS)
def test_reference_full_marks(eid):
    fn = reference(eid)
    for seed in (1, 7):
        r = grade(eid, fn, seed=seed)
        assert all(c.passed for c in r.checks), str(r)


MUTANTS = [(eid, item, name, fac) for m in (RETRAIN_MUTANTS, JOINT_MUTANTS)
           for eid, lst in m.items() for item, name, fac in lst]


@pytest.mark.parametrize("eid,item,name,fac", MUTANTS, ids=[f"{m[0]}-{m[2]}" for m in MUTANTS])
def test_mutant_rejected_with_hint(eid, item, name, fac):
    r = grade(eid, fac(), seed=1)
    failed = [c for c in r.checks if not c.passed]
    assert failed, f"{name} ({item}) accepted"
    assert all(c.hint for c in failed if not c.skipped)
