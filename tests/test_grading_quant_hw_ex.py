"""Notebooks 05 and 08 exercises: the oracles and the notebooks' answer cells get full marks;
every seed bug / classic mistake is rejected with its specific hint."""
import numpy as np
import pytest

from pruninglab.grading import EXERCISES, grade
from pruninglab.grading import _hardware_ex as H
from pruninglab.grading import _quant_ex as Q
from pruninglab.grading.solutions import solution_source

MODS = {**{k: (Q, "05_quantization") for k in Q.REFERENCE},
        **{k: (H, "08_hardware_lab") for k in H.REFERENCE}}


def notebook_solution(exercise_id):
    src = solution_source(exercise_id)
    assert src and "### BEGIN SOLUTION" in src, exercise_id
    import math
    ns = {"np": np, "math": math}     # the notebook imports these at the top
    exec(src, ns)
    return ns[EXERCISES[exercise_id].function_name]


@pytest.mark.parametrize("exercise_id", sorted(MODS))
def test_registered_with_notebook_and_points(exercise_id):
    ex = EXERCISES[exercise_id]
    assert ex.notebook == MODS[exercise_id][1] and ex.points >= 5
    assert EXERCISES["integer_requant_linear"].points > EXERCISES["per_channel_quantize"].points


@pytest.mark.parametrize("exercise_id", sorted(MODS))
@pytest.mark.parametrize("seed", [0, 7])
def test_references_get_full_marks(exercise_id, seed):
    for fn in (MODS[exercise_id][0].REFERENCE[exercise_id], notebook_solution(exercise_id)):
        r = grade(exercise_id, fn, seed=seed)
        assert r.passed and r.score == r.max_score, str(r)


CASES = [(ex, name, fac, word) for M in (Q, H) for ex, ms in M.MUTANTS.items()
         for name, fac, word in ms]


@pytest.mark.parametrize("exercise_id,name,factory,word", CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_mutants_rejected_with_specific_hint(exercise_id, name, factory, word):
    r = grade(exercise_id, factory(), seed=2)
    assert not r.passed
    assert word in str(r), str(r)


def test_seed_bug_s3_c2_is_among_the_mutants():
    names = " ".join(n for ms in Q.MUTANTS.values() for n, _, _ in ms)
    assert "S3-C2" in names and "precision=1" in names
    assert any("S4-Q1" in n for n, _, _ in H.MUTANTS["format_bytes"])


def test_oracles_agree_with_the_library():
    import torch
    from pruninglab import hardware as hw
    from pruninglab.quantization import quantize
    from pruninglab.quantization.model import quantize_multiplier
    rng = np.random.default_rng(0)
    w = rng.standard_normal((6, 9))
    for bits in (2, 4, 8):
        q, s, z = Q.oracle_affine(w, bits)
        r = quantize(torch.from_numpy(w), bits=bits, scheme="affine", per_channel=False)
        assert np.array_equal(q, r.codes.numpy()) and np.isclose(s, float(r.scale))
        assert z == int(torch.as_tensor(r.zero_point))
        q, s = Q.oracle_per_channel(w, bits)
        r = quantize(torch.from_numpy(w), bits=bits, scheme="symmetric", per_channel=True)
        assert np.array_equal(q, r.codes.numpy())
        assert np.allclose(s, torch.as_tensor(r.scale).numpy().ravel())
    for m in (0.1, 0.05, 3e-6, 0.999):
        assert Q.quantize_multiplier(m) == quantize_multiplier(m)
    for f in ("dense", "bitmask", "csr", "coo"):
        wz = w * (rng.random(w.shape) < 0.3)
        kw = {"index_bits": 16, "ptr_bits": 32} if f == "csr" else (
            {"index_bits": 16} if f == "coo" else {})
        assert H.oracle_format_bytes(wz, f, 8, 16, 32) == -(-hw.storage_bits(torch.from_numpy(wz), None, 8, f, **kw) // 8)
