"""Reference models: architecture, trained weights, recorded accuracy, deterministic training."""
import json

import pytest
import torch

from pruninglab.data import load_digits
from pruninglab.models import DigitsCNN, DigitsMLP, build_model, load_reference, reference_metrics
from pruninglab.train import accuracy, evaluate, train
from pruninglab.utils import repo_root, seed_everything


def test_parameter_counts_exact():
    assert sum(p.numel() for p in DigitsMLP().parameters()) == 64 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    cnn = sum(p.numel() for p in DigitsCNN().parameters())
    assert cnn == 1 * 16 * 9 + 2 * 16 + 16 * 32 * 9 + 2 * 32 + 32 * 64 * 9 + 2 * 64 + 256 * 10 + 10


@pytest.mark.parametrize("name,floor", [("mlp", 0.95), ("cnn", 0.95)])
def test_reference_accuracy_is_recorded_and_reproduced(name, floor):
    model = load_reference(name)
    test = load_digits("test", images=(name == "cnn"))
    acc = accuracy(model, test)
    assert acc >= floor
    assert acc == pytest.approx(reference_metrics()[name]["accuracy"]["test"], abs=1e-5)


def test_checkpoints_load_with_weights_only():
    path = repo_root() / "data" / "reference_mlp.pt"
    state = torch.load(path, weights_only=True)
    assert set(state) == set(DigitsMLP().state_dict())


def test_load_reference_returns_independent_copies():
    a, b = load_reference("mlp"), load_reference("mlp")
    with torch.no_grad():
        a.fc1.weight.zero_()
    assert b.fc1.weight.abs().sum() > 0


def test_unknown_model_name():
    with pytest.raises(ValueError, match="name"):
        build_model("resnet")


def test_training_is_deterministic():
    tr = load_digits("train")
    weights = []
    for _ in range(2):
        seed_everything(0)
        m = build_model("mlp")
        train(m, tr, epochs=1, seed=0)
        weights.append(m.fc1.weight.detach().clone())
    assert torch.equal(weights[0], weights[1])


def test_train_rejects_bad_arguments():
    tr = load_digits("train")
    m = build_model("mlp")
    with pytest.raises(ValueError, match="lr"):
        train(m, tr, epochs=1, lr=0.0)
    with pytest.raises(ValueError, match="optimizer"):
        train(m, tr, epochs=1, optimizer="rmsprop")
    with pytest.raises(TypeError, match="split"):
        accuracy(m, (tr.x, tr.y))


def test_after_step_hook_runs_every_step():
    tr = load_digits("train")
    m = build_model("mlp")
    calls = []
    train(m, tr, epochs=1, batch_size=100, after_step=lambda: calls.append(1))
    assert len(calls) == 11  # ceil(1078 / 100)


def test_evaluate_keys_and_range(mlp, digits):
    out = evaluate(mlp, digits["val"])
    assert set(out) == {"accuracy", "loss"} and 0.9 < out["accuracy"] <= 1.0 and out["loss"] > 0


def test_fast_max_pool_equals_max_pool2d_bit_for_bit():
    from pruninglab.models import _max_pool2
    g = torch.Generator().manual_seed(0)
    x = torch.relu(torch.randn(5, 3, 8, 8, generator=g))        # ReLU zeros give ties
    ref = torch.nn.functional.max_pool2d(x, 2)
    with torch.no_grad():
        assert torch.equal(_max_pool2(x), ref)
        odd = torch.randn(2, 3, 5, 7, generator=g)                   # odd sizes: ATen's pooling
        assert torch.equal(_max_pool2(odd), torch.nn.functional.max_pool2d(odd, 2))
    xg = x.clone().requires_grad_(True)                             # autograd on: max_pool2d
    _max_pool2(xg).sum().backward()
    xr = x.clone().requires_grad_(True)
    torch.nn.functional.max_pool2d(xr, 2).sum().backward()
    assert torch.equal(xg.grad, xr.grad)


def test_cnn_logits_identical_with_and_without_autograd():
    m = load_reference("cnn")
    val = load_digits("val", images=True)
    with torch.no_grad():
        fast = m(val.x)
    slow = m(val.x).detach()                                       # grad enabled: max_pool2d
    assert torch.equal(fast, slow)
