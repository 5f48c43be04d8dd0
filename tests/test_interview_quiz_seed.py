"""The seed-question quiz gives nothing away: balanced option positions, no length tell, and no
expected value in the saved notebook outputs (issue 12)."""
import json
from collections import Counter
from pathlib import Path

from pruninglab.grading.quiz import QUESTIONS, grade_quiz, seed_answers

ROOT = Path(__file__).resolve().parent.parent


def test_correct_positions_vary_and_lengths_give_no_tell():
    mc = [q for q in QUESTIONS if q.options]
    pos = Counter(q.correct for q in mc)
    assert len(pos) == 3 and max(pos.values()) <= len(mc) // 2, pos
    longest = sum(len(q.options[q.correct]) == max(map(len, q.options)) for q in mc)
    assert longest <= len(mc) * 0.4, longest
    assert all(len(q.options) >= 3 for q in mc)   # with 2 options, naming the seed's gives the answer


def test_summary_hides_the_answer_key():
    r = grade_quiz(seed_answers())
    s = r.summary()
    assert s.startswith(f"quiz: 0/{len(QUESTIONS)}")
    for q in QUESTIONS:
        assert q.explanation[:40] not in s
        assert f"expected {q.correct}" not in s


def _outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for c in nb["cells"]:
        if "nbval-ignore-output" in c.get("metadata", {}).get("tags", []):
            continue
        for o in c.get("outputs", []):
            t = o.get("text") or "".join(o.get("data", {}).get("text/plain", ""))
            out.append(t if isinstance(t, str) else "".join(t))
    return "\n".join(out)


def test_saved_quiz_notebook_outputs_show_no_answers():
    text = _outputs(ROOT / "notebooks" / "exercises" / "interview_quiz.ipynb")
    assert "quiz: 0/" in text
    for q in QUESTIONS:
        assert q.explanation[:40] not in text, q.id
        assert q.seed_claim[:30] not in text, q.id
    assert "expected" not in text and "correct." not in text
    from pruninglab.interview import generate
    g = generate("kv_cache_gib", 7)
    assert g.prompt["en"] in text and g.explanation not in text
