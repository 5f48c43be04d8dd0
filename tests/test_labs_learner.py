"""``pruninglab.labs.learner.predict``: the number box starts at a neutral value (issue 14)."""
import pytest

from pruninglab.labs.learner import PREDICTIONS, predict


def _box(ui):
    return ui.children[1]


def test_number_box_starts_at_zero_inside_symmetric_bounds():
    box = _box(predict("t-sym", "gain in points?", lo=-100, hi=100))   # notebook 04's q-alloc-95
    assert box.value == 0.0 and box.min == -100 and box.max == 100


@pytest.mark.parametrize("lo, hi, start", [(5, 10, 5), (-10, -2, -2), (None, None, 0.0), (3, None, 3),
                                           (None, -1, -1)])
def test_number_box_start_is_zero_moved_into_the_bounds(lo, hi, start):
    assert _box(predict("t-b", "x?", lo=lo, hi=hi)).value == start


def test_explicit_start_value_and_its_checks():
    assert _box(predict("t-v", "x?", lo=0, hi=1, value=0.5)).value == 0.5
    with pytest.raises(ValueError, match="value"):
        predict("t-v", "x?", lo=0, hi=1, value=2)
    with pytest.raises(ValueError, match="lo"):
        predict("t-v", "x?", lo=2, hi=1)


def test_a_change_is_recorded():
    ui = predict("t-rec", "x?", lo=-100, hi=100)
    PREDICTIONS.pop("t-rec", None)
    _box(ui).value = 12.5
    assert PREDICTIONS["t-rec"] == 12.5
