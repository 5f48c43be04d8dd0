"""The UI slice of a notebook (benchmarks/notebook_slice.py): which cells a slider cell needs."""
from benchmarks.notebook_slice import provides_uses, ui_slice


def test_slice_keeps_providers_and_in_place_changes_drops_the_rest():
    cells = [
        "from pruninglab.utils import notebook_setup; notebook_setup()",   # 0: always kept
        "import numpy as np\nmodel = build()",                              # 1: provides model
        "slow = expensive_experiment(model)",                               # 2: not needed
        "prune_(model, 0.5)",                                               # 3: changes model in place
        "model.fc1.weight.data[:] = 0",                                     # 4: changes model
        "report = summary(slow)",                                           # 5: not needed
        "ui = slider_ui(compute, live(), model=fixed(model))",              # 6: the UI cell
        "late = model",                                                     # 7: after the UI
    ]
    assert ui_slice(cells) == [0, 1, 3, 4, 6]


def test_provides_uses_sees_imports_defs_targets_and_method_calls():
    p, u = provides_uses("from a import b as c\ndef f(x):\n    return g(x)\nfor i, j in z: pass\n"
                         "m.fit(d)\nwith open(q) as fh: pass")
    assert {"c", "f", "i", "j", "m", "fh"} <= p
    assert {"g", "z", "m", "d", "q"} <= u and "open" not in u
    assert provides_uses("this is not python(") == (set(), set())
