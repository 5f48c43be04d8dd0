"""The "bigger experiment" step of the exercise notebooks: run the LEARNER's function on the
reference digits MLP (64-256-128-10, :func:`pruninglab.models.load_reference`) and measure
accuracy and memory. The learner's function is called on each layer's weight as a numpy array;
the model is rebuilt from what it returns (the reference model itself is never modified).
"""
from __future__ import annotations

import numpy as np

# torch is imported inside the functions: an exercise notebook imports this module in its first
# cell, and its learner build (stubs: no experiment runs) then never pays for importing torch

__all__ = ["LAYERS", "apply_to_weights", "prune_sweep", "quant_sweep", "neuron_experiment"]

LAYERS = ("fc1", "fc2", "fc3")


def _test_split():
    from ..data import load_digits
    return load_digits("test")


def _accuracy(model) -> float:
    from ..train import accuracy
    return float(accuracy(model, _test_split()))


def apply_to_weights(transform, layers=LAYERS):
    """A copy of the reference MLP whose layer weights are ``transform(W)`` (numpy float32)."""
    import torch
    from ..models import load_reference
    model = load_reference("mlp")
    for name in layers:
        lin = getattr(model, name)
        new = np.asarray(transform(lin.weight.detach().numpy().copy()), dtype=np.float32)
        if new.shape != tuple(lin.weight.shape):
            raise ValueError(f"transform changed the shape of {name}.weight from "
                             f"{tuple(lin.weight.shape)} to {new.shape}")
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(new))
    return model


def prune_sweep(prune, sparsities, *, csr_bytes=None, value_bits=32, index_bits=16):
    """Accuracy and storage of the MLP when ``prune(W, s)`` is applied to every layer.

    Returns one dict per sparsity: ``sparsity``, ``accuracy`` (test split), ``nonzeros``,
    ``dense_bytes`` (value_bits per weight) and, when ``csr_bytes`` is given, ``csr_bytes``
    computed with the learner's function."""
    rows = []
    for s in sparsities:
        pruned = {}

        def t(w, s=s):
            out = prune(w, s)
            pruned[len(pruned)] = np.asarray(out)
            return out
        model = apply_to_weights(t)
        row = {"sparsity": float(s), "accuracy": _accuracy(model),
               "nonzeros": int(sum(np.count_nonzero(w) for w in pruned.values())),
               "dense_bytes": int(sum(w.size for w in pruned.values()) * value_bits // 8)}
        if csr_bytes is not None:
            row["csr_bytes"] = int(sum(csr_bytes(w, value_bits, index_bits) for w in pruned.values()))
        rows.append(row)
    return rows


def quant_sweep(quantize, bits_list):
    """Accuracy when every layer's weight is replaced by ``codes * scale`` from the learner's
    ``quantize(W, bits)``, and the weight memory at ``bits`` per weight (+ one fp32 scale)."""
    rows = []
    n = 0
    for bits in bits_list:
        sizes = []

        def t(w, bits=bits):
            codes, scale = quantize(w, bits)
            sizes.append(w.size)
            return np.asarray(codes, dtype=np.float64) * float(scale)
        model = apply_to_weights(t)
        n = sum(sizes)
        rows.append({"bits": int(bits), "accuracy": _accuracy(model),
                     "weight_bytes": int(-(-n * bits // 8) + 4 * len(sizes))})
    return rows, n * 4


def neuron_experiment(neuron_prune, ks):
    """Remove ``k`` hidden neurons of ``fc1`` with the learner's ``neuron_prune`` (W = fc1.weight,
    b = fc1.bias, W_next = fc2.weight) and rebuild a physically smaller MLP.

    Returns one dict per k: ``k``, ``hidden1`` (neurons left), ``params``, ``accuracy``."""
    import torch
    from ..models import load_reference
    rows = []
    for k in ks:
        model = load_reference("mlp")
        W = model.fc1.weight.detach().numpy().copy()
        b = model.fc1.bias.detach().numpy().copy()
        Wn = model.fc2.weight.detach().numpy().copy()
        W2, b2, Wn2 = neuron_prune(W, b, Wn, int(k))
        h = W2.shape[0]
        model.fc1 = torch.nn.Linear(W.shape[1], h)
        fc2 = torch.nn.Linear(h, Wn.shape[0])
        with torch.no_grad():
            model.fc1.weight.copy_(torch.from_numpy(np.asarray(W2, np.float32)))
            model.fc1.bias.copy_(torch.from_numpy(np.asarray(b2, np.float32)))
            fc2.weight.copy_(torch.from_numpy(np.asarray(Wn2, np.float32)))
            fc2.bias.copy_(model.fc2.bias)
        model.fc2 = fc2
        rows.append({"k": int(k), "hidden1": int(h),
                     "params": int(sum(p.numel() for p in model.parameters())),
                     "accuracy": _accuracy(model)})
    return rows
