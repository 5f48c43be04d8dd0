"""The LM corpus and its character tokenizer.

Corpus: ``data/lm_corpus.txt.gz`` -- docstrings of 85 Python 3.11 standard-library modules (PSF
License), extracted once by ``tools/make_lm_corpus.py`` (printable ASCII + newline). Splits:
the text is cut into 2,048-character chunks; chunk ``k`` goes to validation when ``k % 20 == 18``,
to test when ``k % 20 == 19``, else to train (90 / 5 / 5 %, interleaved so every split sees every
module's style).

Tokenizer: one token per character over a fixed vocabulary of 96 symbols (newline + the 95
printable ASCII characters 32..126). A character-level tokenizer needs no training and no
library, and perplexity per character is directly comparable across every method in notebook 09.
"""
from __future__ import annotations

import gzip
from functools import lru_cache

import numpy as np
import torch

from .._validate import check_choice, check_int

__all__ = ["VOCAB", "VOCAB_SIZE", "encode", "decode", "corpus_text", "load_split", "calibration_batch",
           "eval_batches", "SPLITS"]

VOCAB = "\n" + "".join(chr(c) for c in range(32, 127))
VOCAB_SIZE = len(VOCAB)
_INDEX = {c: i for i, c in enumerate(VOCAB)}
SPLITS = ("train", "val", "test")
CHUNK = 2048


def encode(text: str) -> np.ndarray:
    """Characters -> token ids (uint8). Raises ValueError naming ``text`` for a character outside
    the vocabulary."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    try:
        return np.fromiter((_INDEX[c] for c in text), dtype=np.uint8, count=len(text))
    except KeyError as e:
        raise ValueError(f"text contains {e.args[0]!r}, which is not in the 96-symbol vocabulary "
                         "(newline + printable ASCII)") from None


def decode(ids) -> str:
    ids = np.asarray(ids).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= VOCAB_SIZE):
        raise ValueError(f"ids must lie in [0, {VOCAB_SIZE}), got range [{ids.min()}, {ids.max()}]")
    return "".join(VOCAB[int(i)] for i in ids)


@lru_cache(maxsize=1)
def corpus_text() -> str:
    from ..utils import repo_root
    with gzip.open(repo_root() / "data" / "lm_corpus.txt.gz", "rb") as f:
        return f.read().decode("ascii")


@lru_cache(maxsize=3)
def _split_ids(split: str) -> np.ndarray:
    text = corpus_text()
    chunks = [text[i:i + CHUNK] for i in range(0, len(text), CHUNK)]
    pick = {"val": lambda k: k % 20 == 18, "test": lambda k: k % 20 == 19,
            "train": lambda k: k % 20 < 18}[split]
    ids = encode("".join(c for k, c in enumerate(chunks) if pick(k)))
    ids.setflags(write=False)
    return ids


def load_split(split: str) -> np.ndarray:
    """Token ids (read-only uint8 array) of ``split`` in ``("train", "val", "test")``."""
    return _split_ids(check_choice(split, "split", SPLITS))


def calibration_batch(n_samples: int = 32, seq_len: int = 128, seed: int = 0,
                      split: str = "train") -> torch.Tensor:
    """``n_samples`` random windows of ``seq_len`` tokens from ``split`` (int64, shape
    ``(n_samples, seq_len)``) -- the calibration set of Wanda / SparseGPT / GPTQ / AWQ
    (Frantar & Alistarh 2023 use 128 random 2,048-token segments of C4)."""
    n_samples = check_int(n_samples, "n_samples", lo=1)
    seq_len = check_int(seq_len, "seq_len", lo=1)
    seed = check_int(seed, "seed", lo=0)
    ids = load_split(split)
    if seq_len >= len(ids):
        raise ValueError(f"seq_len must be < {len(ids)} (the {split} split), got {seq_len}")
    starts = np.random.default_rng(seed).integers(0, len(ids) - seq_len, size=n_samples)
    return torch.from_numpy(np.stack([ids[s:s + seq_len] for s in starts]).astype(np.int64))


def eval_batches(split: str = "val", seq_len: int = 128, max_tokens: int | None = None) -> torch.Tensor:
    """Non-overlapping windows of ``seq_len + 1`` tokens covering ``split`` (first ``max_tokens``
    tokens if given): inputs are ``[:, :-1]``, targets ``[:, 1:]``."""
    seq_len = check_int(seq_len, "seq_len", lo=1)
    ids = load_split(split)
    if max_tokens is not None:
        ids = ids[:check_int(max_tokens, "max_tokens", lo=seq_len + 1)]
    n = (len(ids) - 1) // seq_len
    x = np.stack([ids[i * seq_len:i * seq_len + seq_len + 1] for i in range(n)])
    return torch.from_numpy(x.astype(np.int64))
