"""Interview practice in 简体中文 and English (issue 12).

* :func:`cards` — the 24 answer cards (面试速答卡) for the seed questions: 30-second answer, key
  points, 追问 (follow-ups) with short answers, the seed's trap, the notebook that proves it.
* :func:`glossary` — zh↔en terms with a one-line definition and the notebook teaching them.
* :func:`bank` — the question bank (:class:`Item` with ``.topic``, ``.kind`` choice/number/open,
  ``.difficulty``, ``.source``, ``.llm``); :data:`GENERATORS` / :func:`generate` — seeded,
  endless numeric variants.
* :class:`MockInterview`, :func:`mock_ui`, :func:`plot_history` — mock interviews with history;
  ``python -m pruninglab quiz`` — the terminal front end.
* ``python -m pruninglab.interview.printable`` — writes the printable pages under ``docs/``.
"""
from .bank import Item, TOPICS, bank, grade_item, item
from .cards import Card, Term, card, card_html, cards, glossary, render_card
from .generators import GENERATORS, generate, stream
from .mock import MockInterview, MockResult, append_history, draw, history_path, load_history, plot_history
from .widgets import cards_ui, mock_ui

__all__ = ["Item", "TOPICS", "bank", "grade_item", "item", "Card", "Term", "card", "card_html", "cards",
           "glossary", "render_card", "GENERATORS", "generate", "stream", "MockInterview", "MockResult",
           "append_history", "draw", "history_path", "load_history", "plot_history", "cards_ui", "mock_ui"]
