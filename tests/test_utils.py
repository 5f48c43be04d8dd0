"""pruninglab.utils: seeding is identical whether torch is imported before or after
``notebook_setup`` / ``seed_everything`` (lazy seeding through an import hook), deterministic mode
is set without importing ``torch._inductor``, and bad arguments raise naming the argument.

The real lazy case needs a process in which torch is not imported yet: ONE fresh interpreter
(``python -c``, ≈ 1.5 s), which also checks that the modules the torch-free notebooks import
(exercises, quiz, interview) do not import torch. The import hook's rules (pending actions replaced like later eager
calls, run right after the module's own code and before the importer continues, hook removed
once nothing is pending) are checked in this process on small throw-away modules. The reference
values are torch's, NumPy's and Python's own generators seeded directly, computed here."""
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from pruninglab import utils
from pruninglab.utils import num_threads, seed_everything

# a notebook's first cell, then what the notebook sees of torch once it imports it
_LAZY = """
import json, sys
from pruninglab.utils import notebook_setup; notebook_setup(7)
assert 'torch' not in sys.modules, 'notebook_setup imported torch'
# what the torch-free notebooks' first cells import (exercises, quiz, interview): still no torch
import pruninglab.grading, pruninglab.grading.experiments, pruninglab.grading.seed_bugs
import pruninglab.grading.quiz, pruninglab.interview, pruninglab.labs.learner
assert 'torch' not in sys.modules, [m for m in sys.modules if m.startswith('pruninglab')]
import torch
out = {"rand": torch.rand(4).tolist(), "det": torch.are_deterministic_algorithms_enabled(),
       "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
       "threads": torch.get_num_threads(), "print": repr(torch.tensor([1 / 3, 1e-7])),
       "np": __import__("numpy").random.rand(2).tolist(), "py": __import__("random").random(),
       "inductor_loaded": "torch._inductor" in sys.modules}
import torch._inductor.config as cfg
out["inductor_det"] = cfg.deterministic
out["hooks_left"] = [type(f).__name__ for f in sys.meta_path if type(f).__name__ == "_AfterImport"]
print(json.dumps(out))
"""


def _reference(seed: int) -> dict:
    """The values an eager ``torch.manual_seed`` / ``np.random.seed`` / ``random.seed`` give."""
    ref = {"rand": torch.rand(4, generator=torch.Generator().manual_seed(seed)).tolist(),
           "np": np.random.RandomState(seed).rand(2).tolist(), "py": random.Random(seed).random()}
    with torch._tensor_str.printoptions(precision=4, sci_mode=False, linewidth=100):
        ref["print"] = repr(torch.tensor([1 / 3, 1e-7]))
    return ref


def test_notebook_setup_before_torch_import_equals_eager_seeding():
    p = subprocess.run([sys.executable, "-c", _LAZY], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, OMP_NUM_THREADS="2"))
    assert p.returncode == 0, p.stderr[-3000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    for k, v in _reference(7).items():
        assert out[k] == v, k
    assert out["det"] is True and out["warn_only"] is False and out["threads"] == 1
    assert out["inductor_loaded"] is False     # torch.use_deterministic_algorithms would import it
    assert out["inductor_det"] is True         # ... and set this flag: set when it is imported
    assert out["hooks_left"] == []             # nothing pending: the import hook removed itself


@pytest.fixture
def fresh_module(tmp_path, monkeypatch):
    """``make(name, body)``: a module file ``name.py`` on sys.path, not imported yet."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(name, body="x = 1\n"):
        (tmp_path / f"{name}.py").write_text(body)
        made.append(name)
        return name

    yield make
    for name in made:
        sys.modules.pop(name, None)
        utils._PENDING.pop(name, None)
    utils._HOOK.drop_if_idle()


def test_pending_actions_run_after_the_module_in_first_set_order_and_replace(fresh_module):
    name = fresh_module("pl_fake_a", "order = []\nvalue = 'module'\n")
    log = []
    utils._when_imported(name, "seed", lambda m: (m.order.append("seed 1"), log.append(m.value)))
    utils._when_imported(name, "threads", lambda m: m.order.append("threads"))
    utils._when_imported(name, "seed", lambda m: m.order.append("seed 5"))   # replaces seed 1
    assert name not in sys.modules and utils._HOOK in sys.meta_path
    mod = __import__(name)
    assert mod.order == ["seed 5", "threads"] and log == []
    assert name not in utils._PENDING
    assert (utils._HOOK in sys.meta_path) == bool(utils._PENDING)   # (other modules may wait)
    assert type(mod.__spec__.loader).__name__ == "SourceFileLoader"   # the real loader, not ours
    assert mod.__loader__ is mod.__spec__.loader
    utils._when_imported(name, "now", lambda m: m.order.append("now"))  # imported: runs at once
    assert mod.order[-1] == "now" and name not in utils._PENDING


def test_importer_runs_after_the_hook_so_its_own_settings_win(fresh_module):
    # torch.use_deterministic_algorithms(False) imports inductor's config (our pending action
    # sets the flag True) and then sets it False: the importer's assignment must come last
    name = fresh_module("pl_fake_cfg", "deterministic = False\n")
    user = fresh_module("pl_fake_user", f"import {name}\n{name}.deterministic = False\n")
    utils._when_imported(name, "deterministic", lambda cfg: setattr(cfg, "deterministic", True))
    __import__(user)
    assert sys.modules[name].deterministic is False


def test_seed_everything_with_torch_imported_applies_at_once():
    seed_everything(11)
    assert torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == 1
    ref = _reference(11)
    assert torch.rand(4).tolist() == ref["rand"] and np.random.rand(2).tolist() == ref["np"]
    assert random.random() == ref["py"]
    with num_threads(2):
        assert torch.get_num_threads() == 2
        seed_everything(0, threads=None)        # leaves the pool alone
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("kw, name", [({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
                                      ({"threads": 0}, "threads"), ({"threads": "2"}, "threads")])
def test_bad_arguments_name_the_argument(kw, name):
    with pytest.raises((ValueError, TypeError), match=name):
        seed_everything(**kw)


def test_bad_threads_seeds_nothing():
    random.seed(123)
    x = random.random()
    random.seed(123)
    with pytest.raises(ValueError):
        seed_everything(0, threads=0)
    assert random.random() == x
