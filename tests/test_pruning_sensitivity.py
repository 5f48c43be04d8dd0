"""Sensitivity scan (one layer at a time, validation split) and greedy sparsity allocation."""
import pytest
import torch

from pruninglab.data import load_digits
from pruninglab.models import load_reference
from pruninglab.pruning import (allocate_sparsity, compute_masks, prunable_layers, prune_model,
                                sensitivity_scan, sparsity_of)
from pruninglab.train import accuracy

GRID = [0.0, 0.5, 0.8, 0.9, 0.95]


def test_scan_shape_model_unchanged_and_first_point_dense():
    model = load_reference("mlp")
    va = load_digits("val")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    scan = sensitivity_scan(model, va, GRID)
    assert list(scan) == ["fc1", "fc2", "fc3"] and all(len(v) == len(GRID) for v in scan.values())
    base = accuracy(model, va)
    assert all(v[0] == base for v in scan.values())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    # matches pruning that single layer by hand
    p, _ = prune_model(model, {"fc2": 0.9}, scope="layer")
    assert scan["fc2"][3] == accuracy(p, va)


def test_allocation_exact_target_and_usable():
    model = load_reference("mlp")
    va = load_digits("val")
    scan = sensitivity_scan(model, va, GRID)
    alloc = allocate_sparsity(model, scan, 0.85, sparsities=GRID)
    sizes = {n: m.weight.numel() for n, m in prunable_layers(model).items()}
    achieved = sum(alloc[n] * sizes[n] for n in alloc) / sum(sizes.values())
    assert abs(achieved - 0.85) < 1e-9
    assert all(0 <= v <= GRID[-1] for v in alloc.values())
    masks = compute_masks(model, alloc, scope="layer")
    assert abs(sparsity_of(masks) - 0.85) < 1e-3
    # the big fc2 (32768 weights) takes more sparsity than the small classifier fc3
    assert alloc["fc2"] > alloc["fc3"]
    assert allocate_sparsity(model, va, 0.85, sparsities=GRID) == alloc   # from a split: same


def test_hand_made_scan_prefers_insensitive_layer():
    model = load_reference("mlp")
    scan = {"fc1": [1.0, 0.5, 0.1], "fc2": [1.0, 1.0, 0.99], "fc3": [1.0, 0.2, 0.1]}
    alloc = allocate_sparsity(model, scan, 0.5, sparsities=[0.0, 0.5, 0.9])
    assert alloc["fc2"] > 0.7 and alloc["fc1"] < 0.05 and alloc["fc3"] == 0.0


def test_bad_input():
    model = load_reference("mlp")
    with pytest.raises(ValueError, match="test"):
        sensitivity_scan(model, load_digits("test"), GRID)
    with pytest.raises(ValueError, match="sparsities"):
        sensitivity_scan(model, load_digits("val"), [0.5, 0.2])
    with pytest.raises(ValueError, match="sparsities"):
        sensitivity_scan(model, load_digits("val"), [0.5, 1.0])
    with pytest.raises(ValueError, match="fc7"):
        sensitivity_scan(model, load_digits("val"), GRID, layers=["fc7"])
    scan = {"fc1": [1.0, 0.9], "fc2": [1.0, 0.9], "fc3": [1.0, 0.9]}
    with pytest.raises(ValueError, match="sparsities"):
        allocate_sparsity(model, scan, 0.5)
    with pytest.raises(ValueError, match="target"):
        allocate_sparsity(model, scan, 0.95, sparsities=[0.0, 0.9])
    with pytest.raises(ValueError, match="points"):
        allocate_sparsity(model, scan, 0.5, sparsities=[0.0, 0.5, 0.9])
    with pytest.raises(TypeError, match="scan_or_split"):
        allocate_sparsity(model, [1, 2], 0.5)
