"""Write the printable card pages: ``python -m pruninglab.interview.printable [--check]``.

Writes ``docs/interview_cards.md`` and ``docs/interview_cards.html`` from the card and glossary
data; ``--check`` exits 1 if the files on disk are not up to date (a test uses it).
"""
from __future__ import annotations

import argparse
import sys

from ..utils import repo_root
from .cards import cards_html_page, cards_markdown


def outputs():
    d = repo_root() / "docs"
    return {d / "interview_cards.md": cards_markdown(), d / "interview_cards.html": cards_html_page()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pruninglab.interview.printable")
    ap.add_argument("--check", action="store_true", help="only check that the files are current")
    a = ap.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        if a.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale: " + ", ".join(stale) + " (run python -m pruninglab.interview.printable)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
