"""No positional or length tell in the multiple-choice items (issue 12)."""
from collections import Counter

from pruninglab.interview import bank, grade_item


def _choices():
    return [i for i in bank() if i.kind == "choice"]


def test_correct_position_is_balanced():
    items = _choices()
    n = len(items)
    counts = Counter(i.correct for i in items)
    assert set(counts) == {0, 1, 2, 3}
    for pos in range(4):
        assert 0.2 <= counts[pos] / n <= 0.3, counts


def test_correct_option_is_not_systematically_longest_or_shortest():
    items = _choices()
    n = len(items)
    longest = sum(len(i.options[i.correct]) == max(map(len, i.options)) for i in items) / n
    shortest = sum(len(i.options[i.correct]) == min(map(len, i.options)) for i in items) / n
    assert longest <= 0.35, longest        # chance level is 0.25
    assert shortest >= 0.1, shortest       # and "never the shortest" is no tell either
    ratio = sum(len(i.options[i.correct]) / (sum(map(len, i.options)) / 4) for i in items) / n
    assert 0.85 <= ratio <= 1.15, ratio


def test_length_rank_of_correct_option_is_spread():
    ranks = Counter()
    for i in _choices():
        lens = sorted(map(len, i.options), reverse=True)
        ranks[lens.index(len(i.options[i.correct]))] += 1
    assert len(ranks) >= 3 and max(ranks.values()) / sum(ranks.values()) < 0.7, ranks


def test_options_are_deterministic_and_grading_accepts_only_the_index():
    a, b = _choices(), _choices()
    assert [i.options for i in a] == [i.options for i in b]
    it = a[0]
    assert grade_item(it, it.correct) == 1.0
    assert grade_item(it, (it.correct + 1) % 4) == 0.0
    assert grade_item(it, True if it.correct == 1 else False) == 0.0   # bool is not an index
    assert grade_item(it, None) == 0.0


def test_open_items_self_scored_against_rubric():
    it = next(i for i in bank() if i.kind == "open")
    assert grade_item(it, []) == 0.0
    assert grade_item(it, range(len(it.rubric))) == 1.0
    assert grade_item(it, [0, 0, 99]) == 1 / len(it.rubric)
