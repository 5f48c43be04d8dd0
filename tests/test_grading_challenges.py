import copy

import pytest
import torch

from pruninglab.grading import challenges as C
from pruninglab.models import load_reference


def _sd(m):
    return {k: v.detach().clone() for k, v in m.state_dict().items()}


def test_reference_eligible_and_pruned_csr_is_smaller():
    subs = C.reference_submissions()
    rows = C.leaderboard(subs, "smallest")
    by = {r["name"]: r for r in rows}
    assert all(r["eligible"] for r in rows), C.format_leaderboard(rows)
    assert by["reference 60 % pruned, CSR"]["bytes"] < by["reference dense fp32"]["bytes"]
    assert rows[0]["rank"] == 1 and rows[0]["name"] == "reference 60 % pruned, CSR"


def test_false_bit_claim_and_low_accuracy_are_rejected():
    ref = load_reference("mlp")
    r = C.measure({"state_dict": _sd(ref), "format": "dense", "bits": 4}, "smallest")
    assert not r["eligible"] and any("distinct" in x for x in r["reasons"])
    broken = copy.deepcopy(ref)
    with torch.no_grad():
        broken.fc3.weight.zero_()
    r = C.measure({"state_dict": _sd(broken)}, "smallest")
    assert not r["eligible"] and any("accuracy" in x for x in r["reasons"])


def test_structured_smaller_mlp_is_rebuilt_and_timed():
    from pruninglab.models import DigitsMLP
    small = DigitsMLP((32, 16))
    r = C.measure({"state_dict": _sd(small)}, "fastest")
    assert r["params"] == 64 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10
    assert r["latency_us"] > 0 and not r["eligible"]          # untrained: below 96 %


def test_bad_submission_errors():
    with pytest.raises(TypeError, match="submission"):
        C.measure([], "smallest")
    with pytest.raises(ValueError, match="challenge"):
        C.measure({"state_dict": {}}, "biggest")
    with pytest.raises(ValueError, match="state_dict"):
        C.build_mlp({"x": torch.zeros(1)})
