"""Fake quantization, straight-through estimator and QAT."""

import numpy as np
import pytest
import torch
from torch import nn

from pruninglab.quantization import (FakeQuantConv2d, FakeQuantLinear, convert_qat, fake_quantize,
                                     prepare_qat, quantize_dequantize, quantize_model)


def test_forward_equals_quantize_dequantize():
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(0))
    for scheme in ("symmetric", "affine"):
        for pc in (False, True):
            assert torch.equal(fake_quantize(x, 4, scheme, pc), quantize_dequantize(x, 4, scheme, pc))


def test_ste_gradient_identity_inside_zero_outside():
    x = torch.tensor([-3.0, -0.4, 0.0, 0.26, 0.9, 5.0], requires_grad=True)
    y = fake_quantize(x, 3, scale=0.3)  # codes clamp at +-3 -> representable [-0.9, 0.9]
    y.backward(torch.arange(1.0, 7.0))
    # -3/0.3 = -10 and 5/0.3 = 16.7 are outside; 0.9/0.3 = 3 is inside
    assert torch.equal(x.grad, torch.tensor([0.0, 2.0, 3.0, 4.0, 5.0, 0.0]))
    # matches PyTorch's own fake-quant STE rule
    x2 = x.detach().clone().requires_grad_(True)
    torch.fake_quantize_per_tensor_affine(x2, 0.3, 0, -3, 3).backward(torch.arange(1.0, 7.0))
    assert torch.equal(x.grad, x2.grad)


def test_default_range_gradient_is_identity_and_pure():
    w = torch.randn(4, 3, requires_grad=True)
    w0 = w.detach().clone()
    fake_quantize(w, 2, per_channel=True).sum().backward()
    assert torch.equal(w.grad, torch.ones_like(w))
    assert torch.equal(w.detach(), w0)


def test_fake_quantize_bad_input():
    with pytest.raises(TypeError, match="x"):
        fake_quantize(np.ones(3), 8)
    with pytest.raises(TypeError, match="x"):
        fake_quantize(torch.ones(3, dtype=torch.int64), 8)
    with pytest.raises(ValueError, match="bits"):
        fake_quantize(torch.ones(3), 17)
    with pytest.raises(ValueError, match="x"):
        fake_quantize(torch.tensor([float("inf")]), 8)


def test_prepare_qat_copies_and_replaces(mlp):
    before = {k: v.clone() for k, v in mlp.state_dict().items()}
    q = prepare_qat(mlp, 4)
    assert all(torch.equal(v, mlp.state_dict()[k]) for k, v in before.items())
    assert type(mlp.fc1) is nn.Linear
    assert isinstance(q.fc1, FakeQuantLinear) and q.fc1.bits == 4
    x = torch.randn(3, 64)
    ref, _ = quantize_model(mlp, 4, per_channel=True)
    with torch.no_grad():
        assert torch.allclose(q(x), ref(x), atol=1e-5)
        plain = convert_qat(q)
        assert type(plain.fc1) is nn.Linear
        assert torch.allclose(plain(x), q(x), atol=1e-5)
    q2 = prepare_qat(mlp, {"fc1": 2, "fc2": 8}, layers=["fc1", "fc2"])
    assert type(q2.fc3) is nn.Linear and q2.fc1.bits == 2
    with pytest.raises(ValueError, match="layers"):
        prepare_qat(mlp, 4, layers=["fc7"])
    with pytest.raises(TypeError, match="model"):
        prepare_qat("mlp", 4)


def test_prepare_qat_cnn():
    from pruninglab.models import load_reference
    cnn = load_reference("cnn")
    q = prepare_qat(cnn, 8)
    assert isinstance(q.conv1, FakeQuantConv2d) and isinstance(q.fc, FakeQuantLinear)
    ref, _ = quantize_model(cnn, 8)
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(q(x), ref(x), atol=1e-5)
    with pytest.raises(ValueError, match="bn1"):
        prepare_qat(cnn, 8, layers=["bn1"])


def test_qat_recovers_low_bit_accuracy(mlp, digits):
    """Post-training 2-bit per-channel quantization loses ~24 points on the validation split;
    3 epochs of QAT recover them. (At 4 bits PTQ already keeps accuracy on this small model,
    and QAT keeps it too.)"""
    from pruninglab.train import accuracy, train
    from pruninglab.utils import seed_everything
    results = {}
    for bits in (4, 2):
        ptq, _ = quantize_model(mlp, bits, per_channel=True)
        seed_everything(0)
        q = prepare_qat(mlp, bits, per_channel=True)
        train(q, digits["train"], epochs=3, lr=5e-4, seed=0)
        results[bits] = (accuracy(ptq, digits["val"]), accuracy(convert_qat(q), digits["val"]))
    float_acc = accuracy(mlp, digits["val"])
    ptq2, qat2 = results[2]
    assert ptq2 < float_acc - 0.10          # 2-bit PTQ clearly hurts
    assert qat2 > ptq2 + 0.10               # QAT recovers most of it
    assert qat2 >= float_acc - 0.02
    ptq4, qat4 = results[4]
    assert qat4 >= ptq4 - 0.01 and qat4 >= float_acc - 0.01
