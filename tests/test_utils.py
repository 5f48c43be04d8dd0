"""pruninglab.utils: seeding is identical whether torch is imported before or after
``notebook_setup`` / ``seed_everything`` (lazy seeding through an import hook), deterministic mode
is set without importing ``torch._inductor``, and bad arguments raise naming the argument.

The lazy cases need a process in which torch is not imported yet: each runs in a fresh
interpreter (``python -c``, ≈ 1–2 s each, so there are only two). The reference values are
torch's, NumPy's and Python's own generators seeded directly, computed here."""
import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from pruninglab.utils import num_threads, seed_everything

# what a notebook sees after its setup call (torch imported only here), printed as JSON
_STATE = """
import json, sys
assert 'torch' not in sys.modules, 'the setup call imported torch'
import torch
out = {"rand": torch.rand(4).tolist(), "det": torch.are_deterministic_algorithms_enabled(),
       "warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
       "threads": torch.get_num_threads(), "print": repr(torch.tensor([1 / 3, 1e-7])),
       "np": __import__("numpy").random.rand(2).tolist(), "py": __import__("random").random(),
       "inductor_loaded": "torch._inductor" in sys.modules}
"""


def _lazy(setup: str, after: str = "") -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="2")
    code = f"{setup}\n{_STATE}\n{after}\nprint(json.dumps(out))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def _reference(seed: int, printoptions: bool) -> dict:
    """The values an eager ``torch.manual_seed(seed)`` / ``np.random.seed`` / ``random.seed`` give."""
    ref = {"rand": torch.rand(4, generator=torch.Generator().manual_seed(seed)).tolist(),
           "np": np.random.RandomState(seed).rand(2).tolist(), "py": random.Random(seed).random()}
    if printoptions:
        with torch._tensor_str.printoptions(precision=4, sci_mode=False, linewidth=100):
            ref["print"] = repr(torch.tensor([1 / 3, 1e-7]))
    return ref


def test_notebook_setup_before_torch_import_equals_eager_seeding():
    out = _lazy("from pruninglab.utils import notebook_setup; notebook_setup(7)",
                "import torch._inductor.config as cfg\nout['inductor_det'] = cfg.deterministic\n"
                "out['hooks_left'] = [type(f).__name__ for f in sys.meta_path if type(f).__name__ == '_AfterImport']")
    for k, v in _reference(7, printoptions=True).items():
        assert out[k] == v, k
    assert out["det"] is True and out["warn_only"] is False and out["threads"] == 1
    assert out["inductor_loaded"] is False     # torch.use_deterministic_algorithms would import it
    assert out["inductor_det"] is True         # ... and set this flag: set when it is imported
    assert out["hooks_left"] == []             # nothing pending: the import hook removed itself


def test_pending_calls_replace_each_other_like_eager_calls():
    # eager: seed 1 with one thread, then seed 5 leaving the pool alone -> seed 5, one thread;
    # then torch's own use_deterministic_algorithms(False) (importing inductor's config, which
    # fires our pending flag first) must still win
    out = _lazy("from pruninglab.utils import seed_everything\nseed_everything(1)\n"
                "seed_everything(5, threads=None)",
                "torch.use_deterministic_algorithms(False)\nimport torch._inductor.config as cfg\n"
                "out['after_false'] = [torch.are_deterministic_algorithms_enabled(), cfg.deterministic]")
    for k, v in _reference(5, printoptions=False).items():
        assert out[k] == v, k
    assert out["threads"] == 1 and out["det"] is True
    assert out["after_false"] == [False, False]


def test_seed_everything_with_torch_imported_applies_at_once():
    seed_everything(11)
    assert torch.are_deterministic_algorithms_enabled() and torch.get_num_threads() == 1
    ref = _reference(11, printoptions=False)
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
