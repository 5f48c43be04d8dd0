"""ipywidgets front ends (tests drive them by setting ``.value`` and clicking).

* :func:`mock_ui` ``(interview)`` — one input per question (radio buttons for choice, a text box
  for numbers, one checkbox per rubric line for open questions) and a "finish" button; after a
  click ``ui.result`` is the :class:`~pruninglab.interview.mock.MockResult` and the output shows
  the summary (no expected value is shown before the learner finishes).
* :func:`cards_ui` ``()`` — a seed-ID dropdown and a zh/en toggle showing one answer card.
"""
from __future__ import annotations

from .cards import card_html, cards
from .mock import MockInterview

__all__ = ["mock_ui", "cards_ui"]


def mock_ui(interview: MockInterview, history=False):
    import ipywidgets as w
    lang = interview.lang
    rows, inputs = [], {}
    for k, it in enumerate(interview.items, 1):
        rows.append(w.HTML(f"<b>{k}.</b> [{it.topic}, {'★' * it.difficulty}] {it.text(lang)}"))
        if it.kind == "choice":
            widget = w.RadioButtons(options=[(f"{'ABCD'[j]}. {o}", j) for j, o in enumerate(it.options)],
                                    value=None, layout=w.Layout(width="auto"))
        elif it.kind == "number":
            widget = w.Text(value="", placeholder="数字" if lang == "zh" else "a number")
        else:
            boxes = [w.Checkbox(value=False, description=r, indent=False, layout=w.Layout(width="auto"))
                     for r in it.rubric]
            rows.append(w.HTML("<i>先口头作答，再勾选你答到的要点：</i>" if lang == "zh"
                               else "<i>Answer aloud, then tick the points you covered:</i>"))
            widget = w.VBox(boxes)
        inputs[it.id] = widget
        rows.append(widget)
    button = w.Button(description="交卷" if lang == "zh" else "Finish", button_style="primary")
    output = w.Output()
    box = w.VBox(rows + [button, output])
    box.inputs, box.button, box.output, box.result, box.interview = inputs, button, output, None, interview

    def _on_click(_):
        for it in interview.items:
            widget = inputs[it.id]
            if it.kind == "choice":
                v = widget.value
            elif it.kind == "number":
                v = widget.value.strip() or None
            else:
                v = [j for j, b in enumerate(widget.children) if b.value]
            if v is not None:
                interview.answer(it.id, v)
        box.result = interview.finish(history=history)
        output.clear_output()
        with output:
            print(box.result.summary())

    button.on_click(_on_click)
    return box


def cards_ui(lang: str = "zh"):
    import ipywidgets as w
    ids = [c.seed_id for c in cards()]
    pick = w.Dropdown(options=ids, value=ids[0], description="seed")
    toggle = w.ToggleButtons(options=[("中文", "zh"), ("English", "en")], value=lang)
    view = w.HTML()

    def _show(*_):
        c = next(c for c in cards() if c.seed_id == pick.value)
        view.value = card_html(c, langs=(toggle.value,), open_answers=False)

    pick.observe(_show, "value")
    toggle.observe(_show, "value")
    _show()
    box = w.VBox([w.HBox([pick, toggle]), view])
    box.pick, box.toggle, box.view = pick, toggle, view
    return box
