"""Fake quantization with the straight-through estimator (STE), for quantization-aware training.

Forward (Jacob et al. 2018, §3, "simulated quantization")::

    x_hat = S · (clamp(round(x / S) + Z, q_min, q_max) − Z)

i.e. :func:`~pruninglab.quantization.linear.quantize_dequantize` — the float value the integer
model will actually use. ``round`` has zero gradient almost everywhere, so training through it
would stop. The **straight-through estimator** (Bengio, Léonard & Courville 2013; used by Jacob
et al. 2018) pretends the rounding is the identity::

    ∂x_hat/∂x ≈ 1   if q_min ≤ round(x / S) + Z ≤ q_max      (inside the clamp range)
                0   otherwise                               (clipped values get no gradient)

This is exactly the rule of PyTorch's ``torch.fake_quantize_per_tensor_affine``. The scale and
zero-point are recomputed from the current (detached) weights at every forward pass (no
gradient flows into them), so with the default range every weight is inside and the STE is the
identity; the mask matters when ``scale``/``zero_point`` are fixed (e.g. calibrated).

:func:`prepare_qat` returns a copy of a model whose Linear/Conv2d **weights** are fake-quantized
in ``forward`` (biases and activations stay float); train it with the ordinary loop, then
:func:`convert_qat` gives a plain model holding the quantized weights.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from .._validate import check_array, check_layer_names
from .linear import _check_bits_scheme, _bshape, quantize

__all__ = ["fake_quantize", "FakeQuantLinear", "FakeQuantConv2d", "prepare_qat", "convert_qat"]


class _FakeQuantSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, bits, scheme, per_channel, axis, scale, zero_point):
        q = quantize(x.detach(), bits, scheme, per_channel, axis, scale=scale,
                     zero_point=zero_point)
        if q.axis is None:
            s, z = q.scale, q.zero_point
        else:
            shape = _bshape(x.dim(), q.axis, len(q.scale))
            s = q.scale.reshape(shape)
            z = q.zero_point.reshape(shape)
        t = torch.round(x.detach().to(torch.float64) / s) + z
        inside = (t >= q.qmin) & (t <= q.qmax)
        ctx.save_for_backward(inside)
        return q.dequantize().to(x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        (inside,) = ctx.saved_tensors
        return grad_out * inside.to(grad_out.dtype), None, None, None, None, None, None


def fake_quantize(x: torch.Tensor, bits: int = 8, scheme: str = "symmetric",
                  per_channel: bool = False, axis: int = 0, *, scale=None,
                  zero_point=None) -> torch.Tensor:
    """Quantize-dequantize ``x`` in the forward pass with a straight-through gradient (module
    docstring). Same arguments as :func:`~pruninglab.quantization.linear.quantize`; torch only.
    Pure: returns a new tensor."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    check_array(x, "x")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {x.dtype}")
    _check_bits_scheme(bits, scheme)
    return _FakeQuantSTE.apply(x, bits, scheme, per_channel, axis, scale, zero_point)


class _FakeQuantMixin:
    def _setup_fq(self, bits, scheme, per_channel):
        _check_bits_scheme(bits, scheme)
        if not isinstance(per_channel, bool):
            raise TypeError(f"per_channel must be a bool, got {type(per_channel).__name__}")
        self.bits, self.scheme, self.per_channel = bits, scheme, per_channel

    def quantized_weight(self) -> torch.Tensor:
        """The fake-quantized weight used in ``forward`` (differentiable through the STE)."""
        return fake_quantize(self.weight, self.bits, self.scheme, self.per_channel, 0)

    def extra_repr(self) -> str:  # pragma: no cover - cosmetic
        return (super().extra_repr() + f", bits={self.bits}, scheme={self.scheme}, "
                f"per_channel={self.per_channel}")


class FakeQuantLinear(_FakeQuantMixin, nn.Linear):
    """``nn.Linear`` whose weight is fake-quantized (per output row if ``per_channel``)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 bits: int = 8, scheme: str = "symmetric", per_channel: bool = True):
        nn.Linear.__init__(self, in_features, out_features, bias=bias)
        self._setup_fq(bits, scheme, per_channel)

    @classmethod
    def from_float(cls, lin: nn.Linear, **kw) -> "FakeQuantLinear":
        """A new module with a copy of ``lin``'s parameters (``lin`` is not modified)."""
        m = cls(lin.in_features, lin.out_features, lin.bias is not None, **kw)
        with torch.no_grad():
            m.weight.copy_(lin.weight)
            if lin.bias is not None:
                m.bias.copy_(lin.bias)
        return m.train(lin.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.quantized_weight(), self.bias)


class FakeQuantConv2d(_FakeQuantMixin, nn.Conv2d):
    """``nn.Conv2d`` whose weight is fake-quantized (per output channel if ``per_channel``)."""

    def __init__(self, *args, bits: int = 8, scheme: str = "symmetric", per_channel: bool = True,
                 **kwargs):
        nn.Conv2d.__init__(self, *args, **kwargs)
        self._setup_fq(bits, scheme, per_channel)

    @classmethod
    def from_float(cls, conv: nn.Conv2d, **kw) -> "FakeQuantConv2d":
        m = cls(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                padding=conv.padding, dilation=conv.dilation, groups=conv.groups,
                bias=conv.bias is not None, padding_mode=conv.padding_mode, **kw)
        with torch.no_grad():
            m.weight.copy_(conv.weight)
            if conv.bias is not None:
                m.bias.copy_(conv.bias)
        return m.train(conv.training)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.quantized_weight(), self.bias)


def _quantizable(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if n and type(m) in (nn.Linear, nn.Conv2d)]


def _set_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def prepare_qat(model: nn.Module, bits: int = 8, scheme: str = "symmetric",
                per_channel: bool = True, layers=None) -> nn.Module:
    """A deep copy of ``model`` in which every ``nn.Linear`` / ``nn.Conv2d`` (or only ``layers``)
    is replaced by :class:`FakeQuantLinear` / :class:`FakeQuantConv2d` with the same weights.
    ``bits`` may be an int or a mapping ``{layer: bits}``. The input model is not modified."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    names = _quantizable(model) if layers is None else check_layer_names(model, layers, "layers")
    mods = dict(model.named_modules())
    for n in names:
        if type(mods[n]) not in (nn.Linear, nn.Conv2d):
            raise ValueError(f"layers: {n!r} is a {type(mods[n]).__name__}, not Linear/Conv2d")
    new = copy.deepcopy(model)
    for n in names:
        b = bits.get(n, 8) if isinstance(bits, dict) else bits
        old = new.get_submodule(n)
        cls = FakeQuantLinear if isinstance(old, nn.Linear) else FakeQuantConv2d
        _set_module(new, n, cls.from_float(old, bits=b, scheme=scheme, per_channel=per_channel))
    return new


def convert_qat(model: nn.Module) -> nn.Module:
    """A deep copy with every fake-quant module replaced by the plain module holding its
    quantized (dequantized) weight: same outputs, ordinary float forward."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    new = copy.deepcopy(model)
    for n, m in list(new.named_modules()):
        if isinstance(m, (FakeQuantLinear, FakeQuantConv2d)):
            if isinstance(m, FakeQuantLinear):
                plain = nn.Linear(m.in_features, m.out_features, m.bias is not None)
            else:
                plain = nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, stride=m.stride,
                                  padding=m.padding, dilation=m.dilation, groups=m.groups,
                                  bias=m.bias is not None, padding_mode=m.padding_mode)
            with torch.no_grad():
                plain.weight.copy_(m.quantized_weight())
                if m.bias is not None:
                    plain.bias.copy_(m.bias)
            _set_module(new, n, plain.train(m.training))
    return new
