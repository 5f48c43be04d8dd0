"""Three exercises of three notebooks (Exercises 1 ``magnitude_prune``, 05 ``affine_quantize``,
08 ``fc_roofline``) driven the way a learner meets them in JupyterLab: the shipped stub (from
the learner build) -> the experiment refuses politely -> ``check()`` says "not attempted" ->
``solution()`` refuses before an attempt -> a classic mistake gets its specific hint -> now
``solution()`` shows the reference -> the fixed function passes -> ``predict()`` records a guess
in its widget -> the notebook's experiment runs the learner's function -> ``reveal()`` compares.
(Notebook 01's exercises go through the same flow with its sliders in
tests/test_labs_fundamentals.py::test_three_exercises_end_to_end_as_a_learner.)"""
import json
from pathlib import Path

import numpy as np

from pruninglab.grading import EXERCISES, check, solution
from pruninglab.grading import _hardware_ex as H
from pruninglab.grading import _quant_ex as Q
from pruninglab.grading.solutions import solution_source
from pruninglab.labs.learner import PREDICTIONS, predict, ready, reveal

ROOT = Path(__file__).resolve().parent.parent


def _learner_cell(notebook, eid):
    path = next((ROOT / "notebooks").rglob(f"{notebook}.ipynb"))
    for c in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if f"answer:{eid}" in c.get("metadata", {}).get("tags", []):
            return c["source"] if isinstance(c["source"], str) else "".join(c["source"])
    raise AssertionError(f"no answer cell for {eid} in {path}")


def _define(src, eid):
    ns = {"np": np, "math": __import__("math")}
    exec(src, ns)
    return ns[EXERCISES[eid].function_name]


def _mutant(module, eid, label):
    return next(f for name, f, _ in module.MUTANTS[eid] if name == label)()


def _mistake_mp(weights, sparsity):          # int() truncates instead of round()
    k = int(weights.size * sparsity)
    out = weights.copy()
    out.flat[np.argsort(np.abs(weights), axis=None, kind="stable")[:k]] = 0
    return out


def _experiment(eid, fn):
    from pruninglab.grading import experiments as E
    from pruninglab.labs import hardware as LH
    from pruninglab.labs import quantization as LQ
    if eid == "magnitude_prune":
        rows = E.prune_sweep(fn, [0.0, 0.9])
        assert rows[1]["nonzeros"] < 0.11 * rows[0]["nonzeros"] and rows[1]["accuracy"] > 0.5
        return rows[1]["accuracy"] < rows[0]["accuracy"]
    if eid == "affine_quantize":
        aff = LQ.accuracy_with_quantizer(fn, "affine", bits=(2, 8))
        assert aff["accuracy"][1] > 0.9 and aff["max_abs_error"][1] < aff["max_abs_error"][0]
        return aff["accuracy"][1] > aff["accuracy"][0]
    roof = LH.roofline_with(fn, "Orin Nano", bits=8, batches=(1, 64))
    for r in roof:
        assert abs(r["intensity"] - r["library_intensity"]) < 1e-9 * r["library_intensity"]
    return {r["bound"] for r in roof if r["batch"] == 1} == {"memory"}


FLOW = [("magnitude_prune", "ex01_pruning", lambda: _mistake_mp, "int() truncates"),
        ("affine_quantize", "05_quantization", lambda: _mutant(Q, "affine_quantize", "no zero-point"),
         "zero-point"),
        ("fc_roofline", "08_hardware_lab", lambda: _mutant(H, "fc_roofline", "max of the roofs"),
         "MINIMUM")]


def test_three_exercises_as_a_learner_meets_them(capsys, monkeypatch):
    from collections import Counter

    from pruninglab.grading import core
    monkeypatch.setattr(core, "_attempts", Counter())      # a fresh kernel: no attempt yet
    for eid, notebook, mistake, word in FLOW:
        assert EXERCISES[eid].notebook == notebook
        stub = _define(_learner_cell(notebook, eid), eid)
        assert not ready(eid, stub)
        assert "write it in the exercise cell" in capsys.readouterr().out
        check(eid, stub)
        assert "not attempted" in capsys.readouterr().out
        solution(eid)
        assert capsys.readouterr().out.startswith("Try first")
        check(eid, mistake())
        out = capsys.readouterr().out
        assert "PASSED" not in out and word in out, out
        solution(eid)
        ref_src = solution_source(eid, notebook)
        assert capsys.readouterr().out.strip() == ref_src.strip()
        mine = _define(ref_src, eid)
        check(eid, mine)
        assert "-- PASSED" in capsys.readouterr().out
        assert ready(eid, mine)
        ui = predict(f"q-{eid}", "does the measured effect go the way you expect?", choices=["yes", "no"])
        ui.children[1].value = "yes"                       # the learner clicks a choice
        assert PREDICTIONS[f"q-{eid}"] == "yes" and "recorded" in ui.children[2].value
        measured = _experiment(eid, mine)
        line = reveal(f"q-{eid}", "yes" if measured else "no")
        assert line.endswith("your prediction: yes") and capsys.readouterr().out.strip() == line
