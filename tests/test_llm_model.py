"""The notebook-09 LM: corpus/tokenizer, model + KV cache, compression driver, activations,
KV quantization, storage formats, shipped weights and results."""
import math

import numpy as np
import pytest
import torch

from pruninglab.llm import activations as act
from pruninglab.llm.compress import compress_model, model_sparsity
from pruninglab.llm.data import (VOCAB_SIZE, calibration_batch, decode, encode, eval_batches,
                                 load_split)
from pruninglab.llm.formats import E2M1_VALUES, format_bits, quantize_format
from pruninglab.llm.kvcache import (decode as greedy, kv_cache_bytes, kv_quantizer,
                                    measured_cache_bytes)
from pruninglab.llm.model import LMConfig, TinyGPT, load_lm, perplexity


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return TinyGPT(LMConfig(ctx=16, d_model=32, n_layer=2, n_head=2)).eval()


def test_tokenizer_roundtrip_and_errors():
    s = "def f(x):\n    return x ~ 1"
    assert decode(encode(s)) == s and VOCAB_SIZE == 96
    with pytest.raises(ValueError, match="text"):
        encode("caf\u00e9")
    with pytest.raises(TypeError, match="text"):
        encode(3)


def test_splits_disjoint_sizes_and_batches():
    sizes = {s: len(load_split(s)) for s in ("train", "val", "test")}
    assert sizes["train"] > 10 * sizes["val"] > 0 and sizes["test"] > 0
    assert not load_split("val").flags.writeable
    c = calibration_batch(4, 8, seed=1)
    assert c.shape == (4, 8) and c.dtype == torch.int64
    assert torch.equal(c, calibration_batch(4, 8, seed=1))
    e = eval_batches("val", 8, 81)
    assert e.shape == (10, 9)
    with pytest.raises(ValueError, match="split"):
        load_split("dev")


def test_cache_decoding_matches_full_forward(tiny):
    prompt = torch.tensor([[5, 6, 7]])
    toks, cache = greedy(tiny, prompt, 6)
    full = tiny(toks[:, :-1])
    assert torch.equal(full[:, 2:].argmax(-1), toks[:, 3:])
    assert measured_cache_bytes(cache) == kv_cache_bytes(2, 2, 16, 8, 1, 4)
    with pytest.raises(ValueError, match="new_tokens"):
        greedy(tiny, prompt, 20)


def test_kv_formula():
    assert kv_cache_bytes(32, 32, 128, 4096, 1, 2) == 2 ** 31  # LLaMA-2-7B, 4k tokens, fp16 = 2 GiB
    assert kv_cache_bytes(1, 1, 1, 1, 1, 0.5) == 1.0
    with pytest.raises(ValueError, match="bytes_per_element"):
        kv_cache_bytes(1, 1, 1, 1, 1, 0)
    with pytest.raises(ValueError, match="n_layers"):
        kv_cache_bytes(-1, 1, 1, 1)


def test_kv_quantizer_error_shrinks_with_bits(tiny):
    x = eval_batches("val", 16, 200)
    p = perplexity(tiny, x)
    err = [abs(perplexity(tiny, x, kv_quant=kv_quantizer(b, "per-token")) - p) for b in (8, 2)]
    assert err[0] < err[1]
    with pytest.raises(ValueError, match="granularity"):
        kv_quantizer(4, "per-row")


def test_compress_model_copies_and_reaches_pattern(tiny):
    calib = calibration_batch(4, 16)
    before = {k: v.clone() for k, v in tiny.state_dict().items()}
    for meth in ("magnitude", "wanda", "sparsegpt"):
        m = compress_model(tiny, meth, calib, sparsity=0.5)
        assert model_sparsity(m) == pytest.approx(0.5, abs=0.01)
        nm = compress_model(tiny, meth, calib, prune_n=2, prune_m=4)
        w = nm.blocks[0].mlp.fc1.weight
        assert ((w == 0).reshape(w.shape[0], -1, 4).sum(-1) >= 2).all()
    q = compress_model(tiny, "gptq", calib, bits=3, group_size=16)
    assert len(torch.unique(q.blocks[1].attn.proj.weight[0, :16])) <= 8
    assert all(torch.equal(before[k], v) for k, v in tiny.state_dict().items())
    with pytest.raises(ValueError, match="calib"):
        compress_model(tiny, "wanda")
    with pytest.raises(ValueError, match="method"):
        compress_model(tiny, "obd", calib)
    with pytest.raises(TypeError, match="model"):
        compress_model(torch.nn.Linear(2, 2), "rtn")


def test_smoothquant_is_exact_before_quantization(tiny):
    calib = calibration_batch(4, 16)
    x = calib[:2]
    ref = tiny(x)
    sm = act.w8a8_model(tiny, calib, smooth=True, w_bits=16, a_bits=16)
    assert torch.allclose(sm(x), ref, atol=2e-3)
    amax = act.channel_absmax(tiny, calib)
    assert set(amax) >= {"blocks.0.attn.qkv", "blocks.1.mlp.fc2"}
    assert act.outlier_ratio(torch.tensor([1.0, 1.0, 10.0])) == 10.0
    with pytest.raises(ValueError, match="alpha"):
        act.smooth_scales(torch.ones(3), torch.ones(2, 3), alpha=2)


def test_formats_exact_bits_and_grids():
    assert format_bits("mxfp4") == 4.25 and format_bits("fp16") == 16
    assert format_bits("fp8_e4m3", 1024) == 8 + 32 / 1024
    g = torch.Generator().manual_seed(0)
    W = torch.randn(4, 64, generator=g)
    q = quantize_format(W, "mxfp4")
    for blk_w, blk_q in zip(W.reshape(-1, 32), q.reshape(-1, 32)):
        scale = 2.0 ** (math.floor(math.log2(float(blk_w.abs().max()))) - 2)
        assert torch.isin((blk_q / scale).abs(), E2M1_VALUES).all()
    e4 = quantize_format(W, "fp8_e4m3")
    assert (e4 - W).abs().max() < (quantize_format(W, "mxfp4") - W).abs().max()
    assert torch.equal(quantize_format(torch.tensor([448.0, 1.0]), "fp8_e4m3")[0], torch.tensor(448.0))
    with pytest.raises(ValueError, match="W"):
        quantize_format(torch.ones(3, 10), "mxfp4")
    with pytest.raises(ValueError, match="fmt"):
        quantize_format(W, "fp6")


def test_shipped_model_and_results_agree():
    from pruninglab.llm.experiments import EVAL_TOKENS
    from pruninglab.llm.reference import load_results
    m = load_lm()
    r = load_results()
    assert r["params"] == sum(p.numel() for p in m.parameters())
    p = perplexity(m, eval_batches("val", m.cfg.ctx, EVAL_TOKENS))
    assert p == pytest.approx(r["dense"], abs=2e-3)
    assert p < 0.1 * VOCAB_SIZE  # far better than uniform guessing


def test_seed_entry_consistent_with_the_full_sweep():
    """The per-seed key settings are the sweep's settings; seed 0 of ``"seeds"`` (when shipped)
    repeats the full sweep's numbers exactly (same model, calibration and validation tokens)."""
    from pruninglab.llm.experiments import KEY_SETTINGS, key_from_sweep
    from pruninglab.llm.reference import load_results
    r = load_results()
    key = key_from_sweep(r)
    assert set(key) == {"dense", *KEY_SETTINGS}
    assert key["sparsegpt 2:4"] == r["nm"]["2:4"]["sparsegpt"]
    if "seeds" in r:
        s = r["seeds"]
        assert s["settings"] == list(KEY_SETTINGS) and len(s["seeds"]) >= 3
        assert s["per_seed"]["0"] == key
        assert len({s["per_seed"][str(x)]["dense"] for x in s["seeds"]}) == len(s["seeds"])  # distinct models


def test_train_reference_lm_options_are_validated():
    from pruninglab.train_reference import main
    with pytest.raises(SystemExit):
        main(["--seeds", "1"])                 # --seeds needs --model lm
    with pytest.raises(SystemExit):
        main(["--model", "cnn", "--results-only"])
