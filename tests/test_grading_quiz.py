import pytest

from pruninglab.grading.quiz import QUESTIONS, grade_quiz, quiz_ui, render_question, seed_answers
from pruninglab.seeds import catalog


def _right():
    return {q.id: q.correct for q in QUESTIONS}


def test_questions_are_well_formed():
    ids = {i.id for i in catalog()}
    assert len(QUESTIONS) >= 10 and len({q.id for q in QUESTIONS}) == len(QUESTIONS)
    for q in QUESTIONS:
        assert q.seed_id in ids and q.seed_claim and q.explanation
        if q.options:
            assert 0 <= q.correct < len(q.options) and q.seed_answer != q.correct
        else:
            assert q.seed_answer != pytest.approx(q.correct, rel=q.tolerance)
        assert q.id in render_question(q)


def test_correct_answers_score_full_and_seed_answers_score_zero():
    r = grade_quiz(_right())
    assert r.score == r.max_score == len(QUESTIONS)
    s = grade_quiz(seed_answers())
    assert s.score == 0
    assert all("seed document's claim" in t for _, ok, t in s.feedback if t and not ok
               and next(q for q in QUESTIONS if q.id == _).options)


def test_partial_and_bad_answers():
    a = _right()
    a["csr_bigger"] = "fifty-eight"
    a["train_speed"] = True          # bool is not an option index
    del a["definition"]
    r = grade_quiz(a)
    assert r.score == len(QUESTIONS) - 3
    assert "not answered" in str(r)
    with pytest.raises(ValueError, match="unknown"):
        grade_quiz({"nope": 1})
    with pytest.raises(TypeError, match="answers"):
        grade_quiz([1, 2])


def test_numeric_tolerance():
    assert grade_quiz({"sym_scale": 0.002}).feedback[[q.id for q in QUESTIONS].index("sym_scale")][1]
    r = grade_quiz({"csr_bigger": 58.0, "sym_scale": 0.254 / 128})
    assert r.score == 1


def test_widget_ui_grades_on_click():
    ui = quiz_ui()
    for q in QUESTIONS:
        ui.inputs[q.id].value = q.correct if q.options else str(q.correct)
    ui.button.click()
    assert ui.result.score == len(QUESTIONS)
    ui.inputs["train_speed"].value = 1
    ui.inputs["csr_bigger"].value = "16"
    ui.button.click()
    assert ui.result.score == len(QUESTIONS) - 2
