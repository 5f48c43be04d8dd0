"""KV cache: its size, a measured cache, quantizing it, decode throughput.

Size (derived): every layer stores one key and one value vector per token and KV head:

    bytes = 2 · n_layers · n_kv_heads · head_dim · seq_len · batch · bytes_per_element

(LLaMA-2-7B: 32 layers, 32 heads × 128, fp16 → 0.5 MiB per token, 2 GiB for 4,096 tokens).
Grouped-query attention (Ainslie et al. 2023) shrinks ``n_kv_heads``.

Quantized cache (simulated): K and V are fake-quantized (symmetric, round-to-nearest) either
**per token** (one scale per token and head, over head_dim) or **per channel** (one scale per
channel over the tokens; KIVI, Liu et al. 2024, quantizes keys per channel and values per token).
"""
from __future__ import annotations

import time

import torch

from .._validate import check_bits, check_choice, check_int
from .activations import fake_quant_symmetric
from .model import TinyGPT

__all__ = ["kv_cache_bytes", "measured_cache_bytes", "kv_quantizer", "decode", "decode_tokens_per_s",
           "weight_bytes", "GRANULARITIES"]

GRANULARITIES = ("per-token", "per-channel", "kivi")


def kv_cache_bytes(n_layers: int, n_kv_heads: int, head_dim: int, seq_len: int, batch: int = 1,
                   bytes_per_element: float = 2) -> float:
    """``2 · n_layers · n_kv_heads · head_dim · seq_len · batch · bytes_per_element``."""
    n = 2
    for name, v in (("n_layers", n_layers), ("n_kv_heads", n_kv_heads), ("head_dim", head_dim),
                    ("seq_len", seq_len), ("batch", batch)):
        n *= check_int(v, name, lo=0)
    from .._validate import check_number
    b = check_number(bytes_per_element, "bytes_per_element", lo=0.0, lo_inclusive=False)
    return n * b if not float(b).is_integer() else n * int(b)


def measured_cache_bytes(cache) -> int:
    """Bytes held by the K/V tensors of a cache filled by ``TinyGPT.forward(..., cache=...)``."""
    if not isinstance(cache, list) or not all(isinstance(p, tuple) and len(p) == 2 for p in cache):
        raise TypeError("cache must be the list of (K, V) pairs that TinyGPT.forward fills")
    return sum(t.numel() * t.element_size() for kv in cache for t in kv)


def kv_quantizer(bits: int, granularity: str = "per-token"):
    """A ``kv_quant`` callable for :meth:`TinyGPT.forward` (K, V of shape (B, heads, T, head_dim))."""
    bits = check_bits(bits, lo=2, hi=16)
    granularity = check_choice(granularity, "granularity", GRANULARITIES)

    def q(t, which):
        if granularity == "per-token" or (granularity == "kivi" and which == "v"):
            return fake_quant_symmetric(t, bits, dim=-1)
        return fake_quant_symmetric(t, bits, dim=-2)
    return q


@torch.no_grad()
def decode(model: TinyGPT, prompt: torch.Tensor, new_tokens: int):
    """Greedy decoding with a KV cache; returns (tokens, cache). The cache ends up holding
    ``prompt + new_tokens - 1`` tokens (the last one is never fed back)."""
    if not isinstance(model, TinyGPT):
        raise TypeError(f"model must be a TinyGPT, got {type(model).__name__}")
    new_tokens = check_int(new_tokens, "new_tokens", lo=0)
    if not torch.is_tensor(prompt) or prompt.dim() != 2 or prompt.dtype != torch.int64:
        raise TypeError("prompt must be an int64 tensor of shape (batch, tokens)")
    if prompt.shape[1] + new_tokens > model.cfg.ctx:
        raise ValueError(f"new_tokens: prompt + new tokens exceed the context ({model.cfg.ctx})")
    cache: list = []
    logits = model(prompt, cache=cache)
    out = [prompt]
    for k in range(new_tokens):
        nxt = logits[:, -1:].argmax(-1)
        out.append(nxt)
        if k < new_tokens - 1:  # the last token is returned, not fed back
            logits = model(nxt, cache=cache)
    return torch.cat(out, 1), cache


def decode_tokens_per_s(model: TinyGPT, new_tokens: int = 48, repeats: int = 3, batch: int = 1) -> float:
    """Median measured decode throughput (tokens/s, batch × new tokens / time) after a 1-token prompt."""
    prompt = torch.zeros(check_int(batch, "batch", lo=1), 1, dtype=torch.int64)
    decode(model, prompt, 4)
    times = []
    for _ in range(check_int(repeats, "repeats", lo=1)):
        t = time.perf_counter()
        decode(model, prompt, new_tokens)
        times.append(time.perf_counter() - t)
    times.sort()
    return batch * new_tokens / times[len(times) // 2]


def weight_bytes(model: TinyGPT, bytes_per_weight: float = 4) -> float:
    """Bytes of parameters read per decoded token (all weights once; embeddings counted once since
    the head is tied)."""
    return sum(p.numel() for p in model.parameters()) * bytes_per_weight
