"""Structured pruning: zero-masks == torch ln_structured; physical shrink == zero-masked model."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp
from torch import nn
from torch.nn.utils import prune

from pruninglab.data import load_digits
from pruninglab.models import DigitsCNN, DigitsMLP, load_reference
from pruninglab.pruning import (count_params, keep_indices, prune_neurons_numpy, shrink_model,
                                structure_scores, structured_keep, structured_mask, zero_structures)
from pruninglab.train import accuracy


def test_scores_and_keep_tiny():
    w = np.array([[1.0, -1.0], [0.5, 0.0], [3.0, 4.0]], dtype=np.float32)
    np.testing.assert_allclose(structure_scores(w, 1), [2.0, 0.5, 7.0])
    np.testing.assert_allclose(structure_scores(w, 2), [np.sqrt(2), 0.5, 5.0])
    np.testing.assert_allclose(structure_scores(w, 1, dim=1), [4.5, 5.0])
    np.testing.assert_array_equal(keep_indices(np.array([3.0, 1.0, 1.0, 2.0]), 0.5), [0, 3])
    k = keep_indices(torch.tensor([3.0, 1.0, 2.0]), 0.34)
    assert isinstance(k, torch.Tensor) and k.tolist() == [0, 2]
    np.testing.assert_array_equal(structured_mask(w, 0.34),
                                  [[True, True], [False, False], [True, True]])


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("amount", [0.25, 0.5, 0.7])
@pytest.mark.parametrize("shape", [(12, 10), (16, 8, 3, 3)])
def test_structured_equals_ln_structured(p, dim, amount, shape):
    w = torch.randn(shape, generator=torch.Generator().manual_seed(5))
    holder = nn.Module()
    holder.weight = nn.Parameter(w.clone())
    prune.ln_structured(holder, "weight", amount=amount, n=p, dim=dim)
    ours = structured_mask(w, amount, p=p, dim=dim)
    assert torch.equal(ours, holder.weight_mask.bool())
    np.testing.assert_array_equal(structured_mask(w.numpy(), amount, p=p, dim=dim), ours.numpy())


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(np.float32, st.tuples(st.integers(2, 9), st.integers(1, 6)),
                  elements=st.floats(-10, 10, width=32)), st.floats(0, 0.49))
def test_structured_mask_whole_rows_no_mutation(w, a):
    w0 = w.copy()
    m = structured_mask(w, a)
    assert (m.all(1) | (~m).all(1)).all()                       # whole rows
    assert int((~m.all(1)).sum()) == round(a * w.shape[0])
    np.testing.assert_array_equal(w, w0)


def _check_equal(model, ratios, x, **kw):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    small = shrink_model(model, ratios, **kw).eval()
    masked = zero_structures(model, ratios, **kw).eval()
    with torch.no_grad():
        assert torch.allclose(small(x), masked(x), atol=1e-5)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    return small


def test_shrink_mlp_exact_and_smaller():
    model = load_reference("mlp")
    x = load_digits("val").x
    small = _check_equal(model, {"fc1": 0.5, "fc2": 0.25}, x)
    assert (small.fc1.out_features, small.fc2.in_features, small.fc2.out_features, small.fc3.in_features) \
        == (128, 128, 96, 96)
    assert count_params(small) == 64 * 128 + 128 + 128 * 96 + 96 + 96 * 10 + 10


def test_shrink_cnn_exact_including_flatten_to_fc():
    model = load_reference("cnn")
    x = load_digits("val", images=True).x
    small = _check_equal(model, {"conv1": 0.25, "conv2": 0.5, "conv3": 0.5}, x)
    assert small.conv3.out_channels == 32 and small.bn3.num_features == 32 and small.fc.in_features == 128
    assert small.conv2.in_channels == 12 and small.conv2.out_channels == 16
    # unmasked BN would NOT give zero output: masking only the conv weights differs
    naive = load_reference("cnn")
    keep = structured_keep(model, {"conv3": 0.5})["conv3"]
    drop = torch.ones(64, dtype=torch.bool)
    drop[keep] = False
    with torch.no_grad():
        naive.conv3.weight[drop] = 0
        assert not torch.allclose(naive(x), shrink_model(model, {"conv3": 0.5}).eval()(x), atol=1e-3)


def test_shrink_sequential_and_scores_dict():
    torch.manual_seed(0)
    seq = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 16), nn.BatchNorm1d(16), nn.ReLU(),
                        nn.Linear(16, 3)).eval()
    x = torch.randn(7, 10)
    scores = {"0": torch.arange(20.0), "2": np.arange(16.0)[::-1].copy()}
    small = _check_equal(seq, {"0": 0.5, "2": 0.25}, x, criterion=scores)
    assert small[0].out_features == 10 and small[2].in_features == 10 and small[3].num_features == 12
    assert torch.equal(small[0].weight, seq[0].weight[10:])   # highest scores kept


def test_shrunk_cnn_accuracy_moderate():
    model = load_reference("cnn")
    va = load_digits("val", images=True)
    small = shrink_model(model, {"conv3": 0.25})
    assert accuracy(small, va) > 0.5


def test_prune_neurons_numpy():
    W = np.array([[1.0, 1.0], [0.1, 0.0], [2.0, 0.0]])
    b = np.array([1.0, 2.0, 3.0])
    Wn = np.array([[1.0, 2.0, 3.0]])
    W2, b2, Wn2, keep = prune_neurons_numpy(W, b, Wn, 1)
    np.testing.assert_array_equal(keep, [0, 2])
    np.testing.assert_array_equal(W2, [[1.0, 1.0], [2.0, 0.0]])
    np.testing.assert_array_equal(b2, [1.0, 3.0])
    np.testing.assert_array_equal(Wn2, [[1.0, 3.0]])
    assert W.shape == (3, 2)
    with pytest.raises(ValueError, match="W_next"):
        prune_neurons_numpy(W, b, np.ones((1, 2)), 1)
    with pytest.raises(ValueError, match="k"):
        prune_neurons_numpy(W, b, Wn, 3)


def test_bad_input():
    m = DigitsMLP()
    with pytest.raises(ValueError, match="fc3.*cannot be shrunk"):
        shrink_model(m, {"fc3": 0.5})
    with pytest.raises(ValueError, match="unknown layer 'fc7'"):
        shrink_model(m, {"fc7": 0.5})
    with pytest.raises(ValueError, match="ratios"):
        shrink_model(m, {"fc1": 1.0})
    with pytest.raises(ValueError, match="criterion"):
        shrink_model(m, {"fc1": 0.5}, criterion="l3")
    with pytest.raises(ValueError, match="criterion"):
        shrink_model(m, {"fc1": 0.5}, criterion={"fc1": torch.ones(3)})
    with pytest.raises(ValueError, match="fc"):
        shrink_model(DigitsCNN(), {"fc": 0.5})
    with pytest.raises(ValueError, match="p must be"):
        structure_scores(np.ones((2, 2)), p=3)
    with pytest.raises(ValueError, match="amount"):
        keep_indices(np.ones(2), 0.9)
    with pytest.raises(ValueError, match="scores"):
        keep_indices(np.ones((2, 2)), 0.5)
    with pytest.raises(TypeError, match="model"):
        shrink_model(nn.Linear(2, 2), {"": 0.5})
