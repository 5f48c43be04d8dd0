import sys
from types import SimpleNamespace
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from solutions import reference  # noqa: E402

from pruninglab.grading import experiments as E  # noqa: E402

R = SimpleNamespace(**{e: reference(e) for e in ("magnitude_prune", "csr_bytes", "symmetric_quantize",
                                                 "neuron_prune")})


def test_prune_sweep_counts_and_accuracy():
    rows = E.prune_sweep(R.magnitude_prune, [0.0, 0.5, 0.95], csr_bytes=R.csr_bytes)
    n = 64 * 256 + 256 * 128 + 128 * 10
    assert [r["nonzeros"] for r in rows] == [n, sum(round(s * 0) or 0 for s in [0]) + n - sum(
        round(m * 0.5) for m in (64 * 256, 256 * 128, 128 * 10)), n - sum(
        round(m * 0.95) for m in (64 * 256, 256 * 128, 128 * 10))]
    assert all(r["dense_bytes"] == 4 * n for r in rows)
    assert rows[0]["csr_bytes"] > rows[0]["dense_bytes"] > rows[2]["csr_bytes"]
    assert rows[0]["accuracy"] > 0.9 and rows[2]["accuracy"] < rows[0]["accuracy"]


def test_shape_changing_transform_is_refused():
    with pytest.raises(ValueError, match="changed the shape"):
        E.apply_to_weights(lambda w: w[:1])


def test_quant_sweep_and_neuron_experiment():
    rows, fp32 = E.quant_sweep(R.symmetric_quantize, [8])
    assert fp32 == 4 * (64 * 256 + 256 * 128 + 128 * 10)
    assert rows[0]["weight_bytes"] == fp32 // 4 + 12 and rows[0]["accuracy"] > 0.9
    rows = E.neuron_experiment(R.neuron_prune, [0, 200])
    assert [r["hidden1"] for r in rows] == [256, 56]
    assert rows[1]["params"] == 64 * 56 + 56 + 56 * 128 + 128 + 128 * 10 + 10
    assert rows[0]["accuracy"] == pytest.approx(E.prune_sweep(R.magnitude_prune, [0.0])[0]["accuracy"])
