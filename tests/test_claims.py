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
