"""Exercises of notebooks 02/03: the reference solutions (read from the notebook sources) score
full marks, every seed bug / classic mistake is rejected with a specific hint, and the
notebooks' experiments give the same figures with the reference as with the library."""
import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.data import load_digits
from pruninglab.grading import grade
from pruninglab.grading._criteria_ex import MUTANTS as CRIT_MUTANTS
from pruninglab.grading._structured_ex import MUTANTS as STRUCT_MUTANTS
from pruninglab.grading.solutions import solution_source
from pruninglab.labs import criteria as LC
from pruninglab.labs import structured as LS
from pruninglab.models import load_reference
from pruninglab.pruning import activation_stats, taylor_scores
from pruninglab.train import accuracy

IDS = ["shrink_neurons", "prune_conv_filters", "apoz_and_mean", "taylor_importance"]
MUTANTS = {**STRUCT_MUTANTS, **CRIT_MUTANTS}


def reference(exercise_id):
    src = solution_source(exercise_id)
    assert src and "### BEGIN SOLUTION" in src
    ns = {"np": np, "torch": torch, "nn": nn, "relu_net": LC.relu_net}
    exec(src, ns)
    return ns[exercise_id]


@pytest.mark.parametrize("ex", IDS)
def test_reference_full_marks(ex):
    r = grade(ex, reference(ex), seed=3)
    failed = [c.label for c in r.checks if not c.passed]
    assert not failed, str(r)


@pytest.mark.parametrize("ex,name,factory", [(e, n, f) for e, ms in MUTANTS.items() for n, f in ms])
def test_mutant_rejected_with_hint(ex, name, factory):
    r = grade(ex, factory(), seed=3)
    failed = [c for c in r.checks if not c.passed]
    assert failed, f"mutant {name!r} accepted"
    generic = ("I_j = (1/M)", "mean_j = E[relu(z_j)], APoZ_j")
    assert any(c.hint and not c.hint.startswith(generic) for c in failed), \
        f"{name}: only generic hints: {[c.hint for c in failed]}"


def test_seed_bugs_are_among_the_mutants():
    names = " ".join(n for ms in MUTANTS.values() for n, _ in ms)
    for sid in ("S0-C1", "S3-C1", "S2-C3", "S1-C6", "S2-C5"):
        assert sid in names


def test_stub_is_not_attempted():
    def stub(*a):
        raise NotImplementedError()
    for ex in IDS:
        assert grade(ex, stub).status == "not attempted"


@pytest.fixture(scope="module")
def models():
    return load_reference("mlp"), load_reference("cnn")


def test_notebook02_experiments_same_with_reference(models):
    mlp, cnn = models
    val, val_img = load_digits("val"), load_digits("val", images=True)
    mine = LS.learner_sweep(LS.shrink_mlp_with, reference("shrink_neurons"), mlp, val, (0.25, 0.5, 0.75))
    lib = [accuracy(LS.structured_prune(mlp, r, "l2"), val) for r in mine["ratios"]]
    assert np.allclose(mine["accuracy"], lib)
    mine_c = LS.learner_sweep(LS.shrink_cnn_with, reference("prune_conv_filters"), cnn, val_img, (0.25, 0.5))
    lib_c = [accuracy(LS.structured_prune(cnn, r, "l1"), val_img) for r in mine_c["ratios"]]
    assert np.allclose(mine_c["accuracy"], lib_c)
    # a wrong function gives different figures (the experiment really runs it)
    wrong = dict(STRUCT_MUTANTS["shrink_neurons"])["L1 instead of L2"]()
    other = LS.learner_sweep(LS.shrink_mlp_with, wrong, mlp, val, (0.5,))
    assert LS.count_params(LS.shrink_mlp_with(wrong, mlp, 0.5)) == other["params"][0]


def test_notebook03_experiments_same_with_reference(models):
    mlp, _ = models
    train = load_digits("train")
    params = LC.numpy_params(mlp, ["fc1", "fc2", "fc3"])
    m, a = reference("apoz_and_mean")(params, LC.minibatches(train, 128))
    lib = activation_stats(mlp, train, layers=["fc1"])["fc1"]
    assert np.allclose(m, lib["mean"].numpy(), atol=1e-5)
    assert np.array_equal(a == 1, lib["apoz"].numpy() == 1)
    xb, yb = LC.minibatches(train, 64, labels=True)
    t = reference("taylor_importance")(params, xb, yb)
    lib19 = taylor_scores(mlp, train, layers=["fc1"], batch_size=64, variant="molchanov2019")["fc1"]
    assert np.allclose(t, lib19.numpy(), rtol=1e-3, atol=1e-5 * float(lib19.max()))


def test_relu_net_layout():
    params, x = LC.tiny_relu_params()
    model = LC.relu_net(params)
    assert isinstance(model[1], nn.ReLU) and len(model) == 3
    tiny, data = LC.tiny_relu_network()
    with torch.no_grad():
        assert torch.allclose(model(torch.as_tensor(x)), tiny(data.x))
    with pytest.raises(TypeError, match="params"):
        LC.relu_net([np.ones((2, 2))])
