"""The exercise registry as a whole (issue 10 "done when"):

* ``pruninglab.grading.exercises()`` lists every exercise: every answer cell of every notebook
  source is registered, every exercise module is loaded, >= 20 of them in notebooks 01-08, all
  in notebooks/INDEX.md;
* ``Exercise.library`` names, for every exercise, the library function(s) its answer
  re-implements: each name resolves, an answer calling it is flagged "uses reference", the
  reference answer is not;
* every seed-document coding item (S*-C*) and design exercise (S*-E*) maps onto rejected
  mutants of some exercise, and every module's mutants are graded by a test.
The per-exercise grading (reference full marks, each mutant rejected with its hint) is tested
per notebook (tests/test_grading_*_ex.py, test_grading_core.py, test_llm_exercises.py) and
through the confined grader (test_grading_instructor_builds.py)."""
import importlib
import json
import re
from pathlib import Path

import pytest

from pruninglab import seeds
from pruninglab.grading import EXERCISES, exercises
from pruninglab.grading.core import EXERCISE_MODULES
from pruninglab.grading.seed_bugs import SEED_BUGS
from pruninglab.grading.solutions import solution_source
from pruninglab.grading.submission import integrity_flags

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "notebooks" / "src"
_HEADER = re.compile(r"^# %%.*tags=(\[.*?\])", re.M)
SEED_ID = re.compile(r"\bS\d-[CE]\d+\b")


def _answer_tags():
    out = {}
    for path in sorted(SRC.rglob("*.py")):
        for m in _HEADER.finditer(path.read_text(encoding="utf-8")):
            for t in json.loads(m.group(1)):
                if t.startswith("answer:"):
                    out.setdefault(t[7:], []).append(path.stem)
    return out


def test_exercises_lists_every_answer_cell_and_module():
    listed = [e for e, _ in exercises()]
    assert listed == list(EXERCISES) and len(set(listed)) == len(listed)
    modules = sorted(p.stem for p in (ROOT / "pruninglab" / "grading").glob("_*_ex.py")
                     if re.search(r"^EXERCISES\s*=", p.read_text(encoding="utf-8"), re.M))
    assert modules == sorted(EXERCISE_MODULES)
    tags = _answer_tags()
    assert set(tags) == set(EXERCISES), (set(tags) ^ set(EXERCISES))
    for e, ex in EXERCISES.items():            # taught (at least) in the notebook it is registered for
        assert ex.notebook in tags[e], (e, ex.notebook, tags[e])
    topic = [e for e, ex in EXERCISES.items() if re.match(r"0[1-8]_", ex.notebook)]
    assert len(topic) >= 20
    index = (ROOT / "notebooks" / "INDEX.md").read_text(encoding="utf-8")
    assert [e for e in EXERCISES if f"`{e}`" not in index and f"| {e} |" not in index] == []


def _resolve(name):
    mod, attr = name.rsplit(".", 1)
    return getattr(importlib.import_module(mod), attr)


@pytest.mark.parametrize("eid", list(EXERCISES))
def test_library_names_resolve_and_calling_them_is_flagged(eid):
    ex = EXERCISES[eid]
    assert ex.library, f"{eid}: set Exercise.library to the library function its answer re-implements"
    ref = solution_source(eid, ex.notebook)
    assert not [f for f in integrity_flags(ref, ex) if f.startswith("uses reference")]
    for name in ex.library:
        assert name.startswith("pruninglab.") and callable(_resolve(name)), name
        mod, fn = name.rsplit(".", 1)
        for src in (f"from {mod} import {fn}\ndef {ex.function_name}(*a):\n    return {fn}(*a)\n",
                    f"import {mod} as lib\ndef {ex.function_name}(*a):\n    return lib.{fn}(*a)\n"):
            assert any(f.startswith("uses reference") for f in integrity_flags(src, ex)), src


def _module_mutants():
    """``[(module, exercise id, label text, factory)]`` from every exercise module's MUTANTS
    (entries are (name, fn), (name, factory, hint word) or (seed id, name, factory))."""
    out = []
    for m in EXERCISE_MODULES:
        mod = importlib.import_module(f"pruninglab.grading.{m}")
        for eid, entries in getattr(mod, "MUTANTS", {}).items():
            for entry in entries:
                text = " ".join(x for x in entry if isinstance(x, str))
                out.append((m, eid, text, next(x for x in entry if callable(x))))
    return out


def test_every_seed_code_item_maps_onto_mutants_that_tests_grade():
    mapped: dict = {}
    for eid, bugs in SEED_BUGS.items():
        for sid, name, _ in bugs:
            mapped.setdefault(sid, set()).add(eid)
    for _, eid, text, _ in _module_mutants():
        for sid in SEED_ID.findall(text):
            mapped.setdefault(sid, set()).add(eid)
    assert {e for es in mapped.values() for e in es} <= set(EXERCISES)
    code_items = {i.id for i in seeds.catalog() if i.kind in ("C", "E")}
    assert len(code_items) == 14
    # the design exercises are exercises themselves (S4-E1 iterative_threshold_prune, S4-E2
    # gradual_prune); their seed-typical wrong designs are mutants as well
    assert "iterative_threshold_prune" in EXERCISES and "gradual_prune" in EXERCISES
    assert code_items - set(mapped) <= {"S4-E1"}, sorted(code_items - set(mapped))
    # every module's mutants are graded by a per-notebook test (which asserts the rejection)
    tests_text = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")}
    for m in {m for m, _, _, _ in _module_mutants()}:
        users = [n for n, t in tests_text.items() if m in t and "MUTANTS" in t]
        assert users, f"no test grades the MUTANTS of {m}"
