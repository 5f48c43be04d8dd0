"""Model-level masks: compute (pure) / apply (in place) / prune_model / check_masks_hold."""
import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.models import DigitsCNN, DigitsMLP, load_reference
from pruninglab.pruning import (apply_masks_, check_masks_hold, compute_masks, prunable_layers,
                                prune_model, sparsity_of)


def _state(m):
    return {k: v.clone() for k, v in m.state_dict().items()}


def test_prunable_layers_names():
    assert list(prunable_layers(DigitsMLP())) == ["fc1", "fc2", "fc3"]
    assert list(prunable_layers(DigitsCNN())) == ["conv1", "conv2", "conv3", "fc"]
    assert list(prunable_layers(DigitsCNN(), nn.Conv2d)) == ["conv1", "conv2", "conv3"]


@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("method", ["magnitude", "random"])
def test_compute_masks_pure_and_exact(scope, method):
    model = load_reference("mlp")
    before = _state(model)
    masks = compute_masks(model, 0.8, scope=scope, method=method)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    sizes = {n: m.weight.numel() for n, m in prunable_layers(model).items()}
    pruned = {n: int((~m).sum()) for n, m in masks.items()}
    if scope == "layer":
        assert pruned == {n: round(0.8 * s) for n, s in sizes.items()}
    else:
        assert sum(pruned.values()) == round(0.8 * sum(sizes.values()))
    assert all(m.dtype == torch.bool for m in masks.values())


def test_global_is_uneven_layer_is_even():
    model = load_reference("mlp")
    g = {n: 1 - m.float().mean().item() for n, m in compute_masks(model, 0.9).items()}
    assert max(g.values()) - min(g.values()) > 0.05          # one threshold, different per-layer sparsities
    lay = compute_masks(model, 0.9, scope="layer")
    assert all(abs(sparsity_of(m) - 0.9) < 1e-3 for m in lay.values())


def test_per_layer_dict_and_layers_subset():
    model = load_reference("cnn")
    masks = compute_masks(model, {"conv2": 0.5}, scope="layer")
    assert int((~masks["conv1"]).sum()) == 0 and sparsity_of(masks["conv2"]) == 0.5
    sub = compute_masks(model, 0.5, layers=["conv3"])
    assert list(sub) == ["conv3"]


def test_apply_prune_model_check_hold():
    model = load_reference("mlp")
    before = _state(model)
    pruned, masks = prune_model(model, 0.7)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])                      # original untouched
    assert check_masks_hold(pruned, masks) and not check_masks_hold(model, masks)
    assert abs(sparsity_of({n: m.weight for n, m in prunable_layers(pruned).items()}) - 0.7) < 1e-4
    assert torch.equal(pruned.fc1.bias, model.fc1.bias)        # biases not pruned
    m2 = load_reference("mlp")
    assert apply_masks_(m2, masks) is m2 and check_masks_hold(m2, masks)


def test_random_seeded():
    model = load_reference("mlp")
    a = compute_masks(model, 0.5, method="random", seed=1)
    b = compute_masks(model, 0.5, method="random", seed=1)
    c = compute_masks(model, 0.5, method="random", seed=2)
    assert all(torch.equal(a[n], b[n]) for n in a) and not all(torch.equal(a[n], c[n]) for n in a)


def test_bad_input():
    model = DigitsMLP()
    with pytest.raises(ValueError, match="fc9.*known.*fc1"):
        compute_masks(model, 0.5, layers=["fc9"])
    with pytest.raises(ValueError, match="sparsity"):
        compute_masks(model, 1.0)
    with pytest.raises(TypeError, match="sparsity"):
        compute_masks(model, "0.5")
    with pytest.raises(ValueError, match="scope"):
        compute_masks(model, 0.5, scope="net")
    with pytest.raises(ValueError, match="method"):
        compute_masks(model, 0.5, method="taylor")
    with pytest.raises(ValueError, match="scope='layer'"):
        compute_masks(model, {"fc1": 0.5})
    with pytest.raises(TypeError, match="model"):
        compute_masks(np.ones(3), 0.5)
    with pytest.raises(ValueError, match="masks.*shape"):
        apply_masks_(model, {"fc1": torch.ones(3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="unknown layer 'nope'"):
        apply_masks_(model, {"nope": torch.ones(3, dtype=torch.bool)})
    with pytest.raises(ValueError, match="no prunable"):
        compute_masks(nn.ReLU(), 0.5)
