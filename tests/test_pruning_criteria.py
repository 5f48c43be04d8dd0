"""Data-driven criteria: APoZ / mean activation (forward hooks), first-order Taylor."""
import pytest
import torch
from torch import nn

from pruninglab.data import Split, load_digits
from pruninglab.models import load_reference
from pruninglab.pruning import activation_stats, shrink_model, taylor_scores
from pruninglab.train import accuracy


def _tiny():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        seq[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
        seq[0].bias.zero_()
        seq[2].weight.copy_(torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]))
        seq[2].bias.zero_()
    x = torch.tensor([[1.0, -1.0], [2.0, 3.0]])
    return seq, Split("t", x, torch.tensor([0, 1]))


def test_activation_stats_tiny_exact():
    seq, split = _tiny()
    st = activation_stats(seq, split)
    # relu(x W^T): sample1 -> [1, 0, 0]; sample2 -> [2, 3, 0]
    assert st["0"]["mean"].tolist() == [1.5, 1.5, 0.0]
    assert st["0"]["apoz"].tolist() == [0.0, 0.5, 1.0]


def test_taylor_tiny_matches_manual_autograd():
    seq, split = _tiny()
    loss = nn.functional.cross_entropy(seq(split.x), split.y)
    g = torch.autograd.grad(loss, [seq[0].weight, seq[0].bias])
    expect = ((g[0] * seq[0].weight).sum(1) + g[1] * seq[0].bias).abs()
    got = taylor_scores(seq, split, layers=["0"])["0"]
    assert torch.allclose(got, expect.detach(), atol=1e-7)
    per_w = taylor_scores(seq, split, layers=["0"], structured=False)["0"]
    assert torch.allclose(per_w, (g[0] * seq[0].weight).abs().detach(), atol=1e-7)
    assert seq[0].weight.grad is None                    # .grad untouched


def test_cnn_stats_shapes_and_model_unchanged():
    model = load_reference("cnn").train()
    va = load_digits("val", images=True)
    before = model.bn2.running_mean.clone()
    st = activation_stats(model, va)
    assert set(st) == {"conv1", "conv2", "conv3"} and st["conv3"]["apoz"].shape == (64,)
    assert ((st["conv2"]["apoz"] >= 0) & (st["conv2"]["apoz"] <= 1)).all()
    ts = taylor_scores(model, va)
    assert ts["conv2"].shape == (32,) and ts["fc"].shape == (10,)
    assert model.training and torch.equal(model.bn2.running_mean, before)


def test_criteria_drive_shrink():
    model = load_reference("mlp")
    tr, va = load_digits("train"), load_digits("val")
    st = activation_stats(model, tr)
    taylor = taylor_scores(model, tr)
    for crit in ({"fc1": 1 - st["fc1"]["apoz"]}, {"fc1": taylor["fc1"]}, "l1"):
        small = shrink_model(model, {"fc1": 0.5}, criterion=crit)
        assert small.fc1.out_features == 128 and accuracy(small, va) > 0.5


def test_bad_input():
    model = load_reference("mlp")
    with pytest.raises(TypeError, match="split"):
        activation_stats(model, torch.zeros(3, 64))
    with pytest.raises(ValueError, match="fc3"):
        activation_stats(model, load_digits("val"), layers=["fc3"])
    with pytest.raises(ValueError, match="fc9"):
        taylor_scores(model, load_digits("val"), layers=["fc9"])
    with pytest.raises(TypeError, match="structured"):
        taylor_scores(model, load_digits("val"), structured="yes")


def test_taylor_variants_2019_and_2017():
    import math
    from pruninglab.labs.criteria import tiny_relu_network
    from pruninglab.pruning import taylor_scores
    model, data = tiny_relu_network()
    full = taylor_scores(model, data, layers=["0"])["0"]
    # one minibatch = the whole split: the 2019 criterion is the square of the full one
    one = taylor_scores(model, data, layers=["0"], batch_size=4, variant="molchanov2019")["0"]
    assert torch.allclose(one, full ** 2, atol=1e-7)
    # two minibatches: mean of the per-minibatch squares, which differs from full^2
    two = taylor_scores(model, data, layers=["0"], batch_size=2, variant="molchanov2019")["0"]
    assert not torch.allclose(two, full ** 2, atol=1e-4)
    assert two[1] == 0                              # dead unit
    act = taylor_scores(model, data, layers=["0"], variant="molchanov2017")["0"]
    assert act[1] == 0 and act.shape == (4,)
    # unit 0 by hand: a = x0, dL_n/da = (p0 - y0)·(1) - (p1 - y1)·(1) ... checked numerically
    x = data.x.clone().requires_grad_()
    with pytest.raises(ValueError, match="variant"):
        taylor_scores(model, data, variant="molchanov2018")
    with pytest.raises(ValueError, match="structured"):
        taylor_scores(model, data, structured=False, variant="molchanov2019")
    assert math.isfinite(float(act.sum())) and x is not None


def test_taylor_2019_minibatch_order_seed(digits):
    from pruninglab.models import load_reference
    model, tr = load_reference("mlp"), digits["train"]
    base = taylor_scores(model, tr, layers=["fc2"], batch_size=64, variant="molchanov2019")["fc2"]
    a = taylor_scores(model, tr, layers=["fc2"], batch_size=64, variant="molchanov2019", seed=1)["fc2"]
    b = taylor_scores(model, tr, layers=["fc2"], batch_size=64, variant="molchanov2019", seed=1)["fc2"]
    c = taylor_scores(model, tr, layers=["fc2"], batch_size=64, variant="molchanov2019", seed=2)["fc2"]
    assert torch.equal(a, b)                                   # seeded
    assert not torch.allclose(a, base) and not torch.allclose(a, c)   # the order matters
    assert torch.equal(a == 0, base == 0)                      # dead units stay exactly 0
    # one minibatch holding the whole split: the order cannot matter (up to rounding)
    n = len(tr)
    w = taylor_scores(model, tr, layers=["fc2"], batch_size=n, variant="molchanov2019", seed=3)["fc2"]
    w0 = taylor_scores(model, tr, layers=["fc2"], batch_size=n, variant="molchanov2019")["fc2"]
    assert torch.allclose(w, w0, rtol=1e-4, atol=1e-12)
    assert torch.equal(tr.x, digits["train"].x)                # the split is not reordered in place
    with pytest.raises(ValueError, match="seed"):
        taylor_scores(model, tr, variant="full", seed=0)
    with pytest.raises(ValueError, match="seed"):
        taylor_scores(model, tr, variant="molchanov2019", seed=-1)


def test_taylor_2017_matches_brute_force():
    from pruninglab.labs.criteria import tiny_relu_network
    from pruninglab.pruning import taylor_scores
    model, data = tiny_relu_network()
    act = taylor_scores(model, data, layers=["0"], variant="molchanov2017")["0"]
    vals = []
    for n in range(len(data)):
        z = model[0](data.x[n:n + 1])
        a = torch.relu(z)
        a.retain_grad()
        loss = torch.nn.functional.cross_entropy(model[2](a), data.y[n:n + 1])
        loss.backward()
        vals.append((a * a.grad).abs().detach()[0])
    assert torch.allclose(act, torch.stack(vals).mean(0), atol=1e-6)
