"""Mock interview, history, plot, widgets and the terminal quiz (issue 12)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from pruninglab.interview import (MockInterview, bank, cards_ui, draw, load_history, mock_ui,
                                  plot_history)
from pruninglab.interview.bank import TOPICS

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def _right(it):
    return it.correct if it.kind == "choice" else (it.answer if it.kind == "number" else range(len(it.rubric)))


def test_draw_spreads_over_topics_and_is_seeded():
    items = draw(len(TOPICS), seed=3)
    assert len({i.topic for i in items}) == len(TOPICS)
    assert [i.id for i in draw(10, seed=3)] == [i.id for i in draw(10, seed=3)]
    assert [i.id for i in draw(10, seed=3)] != [i.id for i in draw(10, seed=4)]
    assert all(i.llm for i in draw(6, seed=0, llm=True))
    assert {i.topic for i in draw(5, topics=["quantization"])} == {"quantization"}
    with pytest.raises(ValueError, match="topics"):
        draw(3, topics=["nope"])
    with pytest.raises(ValueError, match="lang"):
        MockInterview(3, lang="de")


def test_scoring_weak_topics_and_timer():
    clock = Clock()
    iv = MockInterview(6, "en", seed=2, time_limit=60, clock=clock)
    first, *rest = iv.items
    iv.answer(first.id, _right(first))
    clock.t = 61.0                                   # past the limit: later answers score 0
    for it in rest:
        assert iv.answer(it.id, _right(it)) == 0.0
    res = iv.finish()
    assert res.total == 1.0 and len(res.late) == 5
    assert set(res.weak_topics) >= {i.topic for i in rest if i.topic != first.topic}
    s = res.summary()
    assert "weak topics" in s and "notebooks/" in s and "limit 60" in s
    zh = MockInterview(4, "zh", seed=2).finish().summary()
    assert "薄弱主题" in zh


def test_full_marks_and_history_file_and_plot(tmp_path):
    h = tmp_path / "hist.jsonl"
    for seed in (0, 1):
        iv = MockInterview(5, "zh", seed=seed)
        for it in iv.items:
            iv.answer(it.id, _right(it))
        res = iv.finish(history=h)
        assert res.total == 5 and not res.weak_topics
    iv = MockInterview(5, "zh", seed=2)
    iv.finish(history=h)                              # nothing answered: all weak
    recs = load_history(h)
    assert len(recs) == 3 and recs[0]["score"] == 5 and recs[2]["score"] == 0
    ax = plot_history(h)
    assert ax.get_xlabel().startswith("session") and "%" in ax.get_ylabel()
    assert len(ax.lines) == len({t for r in recs for t in r["by_topic"]})
    assert load_history(tmp_path / "missing.jsonl") == []


def test_history_default_path_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv("PRUNINGLAB_HISTORY", str(tmp_path / "env.jsonl"))
    MockInterview(2, "en", seed=0).finish(history=True)
    assert len(load_history()) == 1


def test_mock_widget_driven(tmp_path):
    iv = MockInterview(8, "en", seed=5)
    ui = mock_ui(iv, history=tmp_path / "w.jsonl")
    assert ui.result is None
    for it in iv.items:
        wdg = ui.inputs[it.id]
        if it.kind == "choice":
            wdg.value = it.correct
        elif it.kind == "number":
            wdg.value = repr(it.answer)
        else:
            for b in wdg.children:
                b.value = True
    ui.button.click()
    assert ui.result.total == pytest.approx(8)
    assert len(load_history(tmp_path / "w.jsonl")) == 1
    iv2 = MockInterview(8, "zh", seed=5)
    ui2 = mock_ui(iv2)
    ui2.button.click()                                # nothing answered
    assert ui2.result.total == 0 and ui2.result.weak_topics


def test_widget_hides_answers_before_finishing():
    iv = MockInterview(6, "en", seed=7, kinds=("number",))
    ui = mock_ui(iv)
    shown = " ".join(getattr(c, "value", "") for c in ui.children if hasattr(c, "value") and isinstance(c.value, str))
    for it in iv.items:
        assert it.explanation not in shown


def test_cards_widget_switches_language_and_card():
    ui = cards_ui()
    assert "剪枝" in ui.view.value and "S0-Q1" in ui.view.value
    ui.toggle.value = "en"
    assert "30-second answer" in ui.view.value
    ui.pick.value = "S4-Q5"
    assert "ThiNet" in ui.view.value and "<details>" in ui.view.value


def _quiz(args, stdin, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PRUNINGLAB_HISTORY=str(tmp_path / "cli.jsonl"))
    return subprocess.run([sys.executable, "-m", "pruninglab", "quiz", *args], input=stdin, text=True,
                          capture_output=True, env=env, timeout=120, cwd=tmp_path)


def _quiz_here(args, stdin, tmp_path, monkeypatch, capsys):
    """The same entry point (``python -m pruninglab`` -> ``main``) in this process."""
    import io

    from pruninglab.__main__ import main
    monkeypatch.setenv("PRUNINGLAB_HISTORY", str(tmp_path / "cli.jsonl"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    rc = main(["quiz", *args])
    return subprocess.CompletedProcess(args, rc, capsys.readouterr().out, "")


def test_terminal_quiz_via_stdin_stdout(tmp_path, monkeypatch, capsys):
    iv = MockInterview(6, "en", seed=11)             # the CLI draws the same items for the same seed
    lines = []
    for it in iv.items:
        if it.kind == "choice":
            lines.append("ABCD"[it.correct])
        elif it.kind == "number":
            lines.append(repr(it.answer))
        else:
            lines.append(",".join(str(k + 1) for k in range(len(it.rubric))))
    # a real terminal process once (stdin/stdout pipes, history file from the environment) ...
    r = _quiz(["--n", "6", "--lang", "en", "--seed", "11"], "\n".join(lines) + "\n", tmp_path)
    assert r.returncode == 0, r.stderr
    assert "[1/6]" in r.stdout and "score 6.00/6" in r.stdout and "no weak topics" in r.stdout
    assert len(load_history(tmp_path / "cli.jsonl")) == 1
    # ... the other sessions through the same entry point in this process
    r = _quiz_here(["--n", "4", "--lang", "zh", "--seed", "1", "--no-history"], "\n\n\n\n", tmp_path,
                   monkeypatch, capsys)
    assert r.returncode == 0 and "得分 0.00/4" in r.stdout and "薄弱主题" in r.stdout
    assert len(load_history(tmp_path / "cli.jsonl")) == 1
    r = _quiz_here(["--n", "3", "--lang", "en", "--no-history"], "", tmp_path, monkeypatch, capsys)   # EOF at once
    assert r.returncode == 0 and "end of input" in r.stdout
