"""Decisions on validation, test once (issue 14).

* The lab drivers (``pruninglab/labs``) never load the test split themselves: a notebook must
  pass it explicitly, so every use of it is visible in the notebook source.
* In every notebook source, code that names the test split (the string ``"test"``, names such as
  ``test_split`` / ``test_images`` / ``test_acc``) appears only in cells tagged ``test-report``,
  at most one per notebook: the final report of the chosen setting. Verbatim seed code
  (``seed-code:<ID>`` cells) is exempt (it is quoted, defects included).
"""
import io
import re
import tokenize
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "notebooks" / "src").rglob("*.py"))
NAME = re.compile(r"^(test|test_(split|images|set|data|loader|acc\w*)|[xX]_test|y_test)$")


def _test_tokens(code: str) -> list[str]:
    found = []
    try:
        toks = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return found
    for t in toks:
        if t.type == tokenize.NAME and NAME.match(t.string):
            found.append(t.string)
        elif t.type == tokenize.STRING and t.string.strip("rbuRBU").strip("'\"") == "test":
            found.append(t.string)
    return found


def test_lab_drivers_do_not_load_the_test_split():
    for path in sorted((ROOT / "pruninglab" / "labs").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"load_digits\(\s*['\"]test['\"]", text), path
        # nor by name in a loop such as ``for s in ("train", "val", "test")``
        assert not re.search(r"\(\s*['\"]train['\"]\s*,\s*['\"]val['\"]\s*,\s*['\"]test['\"]", text), path


def test_detector_finds_test_split_uses():
    assert _test_tokens('acc = accuracy(m, load_digits("test"))') == ['"test"']
    assert _test_tokens("print(test_split, val)") == ["test_split"]
    assert _test_tokens("contest = attest(1)  # test") == []


@pytest.mark.parametrize("src", SOURCES, ids=lambda p: p.stem)
def test_test_split_only_in_one_report_cell(src):
    nb = jupytext.reads(src.read_text(encoding="utf-8"), fmt="py:percent")
    reports, offenders = 0, []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if any(t.startswith("seed-code:") for t in tags):
            continue
        found = _test_tokens(cell.source)
        if "test-report" in tags:
            reports += 1
        elif found:
            offenders.append((i, sorted(set(found)), cell.source.splitlines()[0][:80]))
    assert reports <= 1, f"{src.name}: {reports} cells tagged test-report (at most one)"
    assert not offenders, f"{src.name}: test split used outside the test-report cell: {offenders}"
