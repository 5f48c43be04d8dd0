"""Parameter / non-zero / MAC counts: exact integers on the reference models."""
import pytest
import torch
from torch import nn

from pruninglab.models import DigitsCNN, DigitsMLP, load_reference
from pruninglab.pruning import count_nonzero, count_params, layer_stats, model_summary, prune_model

MLP_PARAMS = 64 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


def test_mlp_params_and_macs():
    m = DigitsMLP()
    assert count_params(m) == MLP_PARAMS == 50826
    rows = layer_stats(m, (64,))
    assert [r["macs_dense"] for r in rows] == [64 * 256, 256 * 128, 128 * 10]
    s = model_summary(m, (64,))
    assert s["macs_dense"] == 64 * 256 + 256 * 128 + 128 * 10
    assert s["params"] == MLP_PARAMS and s["weight_params"] == 64 * 256 + 256 * 128 + 128 * 10


def test_cnn_conv_macs():
    m = DigitsCNN()
    rows = {r["name"]: r for r in layer_stats(m, (1, 8, 8))}
    assert rows["conv1"]["macs_dense"] == 16 * 1 * 9 * 8 * 8
    assert rows["conv2"]["macs_dense"] == 32 * 16 * 9 * 8 * 8
    assert rows["conv3"]["macs_dense"] == 64 * 32 * 9 * 4 * 4
    assert rows["fc"]["macs_dense"] == 256 * 10
    assert count_params(m) == 25978                    # recorded in data/reference_metrics.json


def test_effective_macs_and_nonzeros_after_pruning():
    model = load_reference("mlp")
    pruned, masks = prune_model(model, 0.5, scope="layer")
    rows = {r["name"]: r for r in layer_stats(pruned, (64,))}
    assert rows["fc1"]["weight_nonzeros"] == 64 * 256 // 2
    assert rows["fc1"]["macs_effective"] == pytest.approx(64 * 256 / 2)
    assert rows["fc1"]["sparsity"] == 0.5
    assert count_nonzero(pruned) == count_nonzero(model) - sum(int((~m).sum()) for m in masks.values())


def test_stats_do_not_change_model_mode_or_bn():
    m = DigitsCNN().train()
    before = m.bn1.running_mean.clone()
    layer_stats(m, (1, 8, 8))
    assert m.training and torch.equal(m.bn1.running_mean, before)


def test_bad_input_shape():
    with pytest.raises(TypeError, match="input_shape"):
        layer_stats(DigitsMLP(), "64")
    with pytest.raises(ValueError, match="input_shape"):
        layer_stats(DigitsMLP(), (0,))
    with pytest.raises(TypeError, match="model"):
        count_params("mlp")
