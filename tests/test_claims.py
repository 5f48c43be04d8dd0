import pytest

from pruninglab.claims import ClaimError, claim, claim_between, claim_close, md


def test_claim_passes_silently_and_fails_with_statement(capsys):
    claim(2 > 1, "two beats one")
    assert capsys.readouterr().out == ""
    with pytest.raises(ClaimError, match="one beats two"):
        claim(1 > 2, "one beats two")


def test_claim_close_and_between():
    claim_close(0.905, 0.90, 0.01, "accuracy")
    with pytest.raises(ClaimError, match="accuracy"):
        claim_close(0.85, 0.90, 0.01, "accuracy")
    claim_between(5, 1, 10, "x")
    with pytest.raises(ClaimError):
        claim_between(11, 1, 10, "x")
    with pytest.raises(ValueError):
        claim_close(float("nan"), 1, 0.1, "x")
    with pytest.raises(TypeError):
        claim_close("a", 1, 0.1, "x")
    with pytest.raises(TypeError):
        claim(True, "")


def test_md_renders_values_in_plain_text():
    m = md("kept {acc:.1%} at {s:.0%}", acc=0.9512, s=0.9)
    assert repr(m) == "kept 95.1% at 90%" == m._repr_markdown_()


def test_spread_verdict_uses_the_ranges_not_the_means():
    from pruninglab.claims import spread_verdict, verdict_tally
    assert spread_verdict([0.90, 0.91], [0.80, 0.85]) == "higher"
    assert spread_verdict([0.70], [0.80, 0.85]) == "lower"
    # means differ by 4 points, but the ranges overlap: a tie
    assert spread_verdict([0.80, 0.96], [0.84, 0.84, 0.84]) == "tie"
    assert spread_verdict([0.85], [0.85]) == "tie"               # equal points
    assert spread_verdict(0.9, [0.8]) == "higher"                # a deterministic arm: one number
    with pytest.raises(ValueError, match="a_runs"):
        spread_verdict([], [1.0])
    with pytest.raises(ValueError, match="b_runs"):
        spread_verdict([1.0], [float("nan")])
    with pytest.raises(TypeError, match="a_runs"):
        spread_verdict("0.9", [1.0])
    assert verdict_tally(["tie", "higher", "tie"]) == {"higher": 1, "tie": 2, "lower": 0}
    assert verdict_tally([]) == {"higher": 0, "tie": 0, "lower": 0}
    with pytest.raises(ValueError, match="verdicts"):
        verdict_tally(["win"])
    with pytest.raises(TypeError, match="verdicts"):
        verdict_tally("tie")


def test_structured_lab_reexports_the_same_verdict():
    from pruninglab import claims
    from pruninglab.labs import structured
    assert structured.spread_verdict is claims.spread_verdict
