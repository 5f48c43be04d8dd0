"""A small decoder-only transformer (GPT-2 style, pre-LayerNorm) for notebook 09.

``TinyGPT``: token + learned position embeddings, ``n_layer`` blocks of causal multi-head
self-attention (``attn.qkv``: d -> 3d, ``attn.proj``: d -> d) and an MLP (``mlp.fc1``: d -> 4d,
GELU, ``mlp.fc2``: 4d -> d), final LayerNorm, output head tied to the token embedding (Radford et
al. 2019; Vaswani et al. 2017). The 4·n_layer ``nn.Linear`` layers inside the blocks are what the
compression methods of notebook 09 prune and quantize (as in SparseGPT / Wanda / GPTQ, which leave
embeddings and head dense).

``forward(idx, cache=None, kv_quant=None)`` returns logits; with ``cache`` (a list that
``forward`` fills with one ``(K, V)`` pair per layer) it runs incremental decoding. ``kv_quant``
(a callable applied to K and V, shape ``(batch, heads, tokens, head_dim)``) simulates a
quantized KV cache: attention reads the quantized K and V, exactly what a cache that stores them
quantized would return.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .._validate import check_int
from .data import VOCAB_SIZE

__all__ = ["LMConfig", "TinyGPT", "linear_layers", "load_lm", "lm_weights_path", "perplexity",
           "DEFAULT_CONFIG"]


@dataclass(frozen=True)
class LMConfig:
    vocab_size: int = VOCAB_SIZE
    ctx: int = 64
    d_model: int = 128
    n_layer: int = 4
    n_head: int = 4

    def __post_init__(self):
        for k, v in asdict(self).items():
            check_int(v, k, lo=1)
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")


DEFAULT_CONFIG = LMConfig()


class Attention(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.n_head, self.d = cfg.n_head, cfg.d_model
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, x, cache=None, layer=0, kv_quant=None):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        past = 0
        if cache is not None:
            if len(cache) > layer:
                pk, pv = cache[layer]
                past = pk.shape[2]
                k, v = torch.cat([pk, k], 2), torch.cat([pv, v], 2)
                cache[layer] = (k, v)
            else:
                cache.append((k, v))
        if kv_quant is not None:
            k, v = kv_quant(k, "k"), kv_quant(v, "v")
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.n_head)
        Tk = k.shape[2]
        causal = torch.ones(T, Tk, dtype=torch.bool).tril(diagonal=past)
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        return self.proj(y)


class MLP(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.fc1 = nn.Linear(cfg.d_model, 4 * cfg.d_model)
        self.fc2 = nn.Linear(4 * cfg.d_model, cfg.d_model)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class Block(nn.Module):
    def __init__(self, cfg: LMConfig):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.attn, self.mlp = Attention(cfg), MLP(cfg)

    def forward(self, x, cache=None, layer=0, kv_quant=None):
        x = x + self.attn(self.ln1(x), cache, layer, kv_quant)
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, cfg: LMConfig = DEFAULT_CONFIG):
        super().__init__()
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos = nn.Embedding(cfg.ctx, cfg.d_model)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.apply(self._init)
        for b in self.blocks:  # GPT-2: scale residual projections by 1/sqrt(2 n_layer)
            for lin in (b.attn.proj, b.mlp.fc2):
                nn.init.normal_(lin.weight, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, idx, cache=None, kv_quant=None):
        if not torch.is_tensor(idx) or idx.dim() != 2 or idx.dtype != torch.int64:
            raise TypeError("idx must be an int64 tensor of shape (batch, tokens)")
        past = cache[0][0].shape[2] if cache else 0
        T = idx.shape[1]
        if past + T > self.cfg.ctx:
            raise ValueError(f"idx: {past}+{T} tokens exceed the context length {self.cfg.ctx}")
        x = self.tok(idx) + self.pos(torch.arange(past, past + T))
        for i, b in enumerate(self.blocks):
            x = b(x, cache, i, kv_quant)
        return self.ln_f(x) @ self.tok.weight.T


def linear_layers(model: TinyGPT) -> list[str]:
    """Names of the prunable/quantizable linear layers, in forward order."""
    return [n for n, m in model.named_modules() if isinstance(m, nn.Linear)]


def lm_weights_path():
    from ..utils import repo_root
    return repo_root() / "data" / "reference_lm.pt"


def load_lm(path=None) -> TinyGPT:
    """The shipped language model (``data/reference_lm.pt``, fp16 on disk, fp32 in memory), eval mode."""
    sd = torch.load(path or lm_weights_path(), weights_only=True)
    cfg = LMConfig(**{k: int(v) for k, v in sd.pop("__config__").items()})
    model = TinyGPT(cfg)
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    return model.eval()


@torch.no_grad()
def perplexity(model: TinyGPT, batches: torch.Tensor, batch_size: int = 64, kv_quant=None) -> float:
    """exp(mean next-token cross-entropy) over ``batches`` (from :func:`eval_batches`), in nats ->
    perplexity per character."""
    if not torch.is_tensor(batches) or batches.dim() != 2 or batches.shape[1] < 2:
        raise TypeError("batches must be a 2-D int64 tensor of windows (use eval_batches)")
    total, n = 0.0, 0
    for i in range(0, len(batches), batch_size):
        b = batches[i:i + batch_size]
        logits = model(b[:, :-1], kv_quant=kv_quant)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), b[:, 1:].reshape(-1),
                                 reduction="sum").item()
        n += b[:, 1:].numel()
    return math.exp(total / n)
