"""Reproducibility and small utilities shared by the library, notebooks and tests.

Importing this module does not import PyTorch (≈ 1 s). :func:`seed_everything` and
:func:`notebook_setup` seed NumPy and Python at once and PyTorch as soon as it is imported: now
if it already is, otherwise right after its import finishes (an import hook, removed once it ran),
so a notebook that never uses torch never pays for it and one that does gets exactly the state
an eager call would have given (torch's generator, deterministic mode, thread count and print
options are only read by torch itself).
"""
from __future__ import annotations

import importlib.abc
import os
import random
import sys
import time
from contextlib import contextmanager

import numpy as np

__all__ = ["seed_everything", "notebook_setup", "num_threads", "Timer", "repo_root"]

# module name -> {action key: fn(module)}: run once, right after that module's import, in the
# order the keys were first set (a later call with the same key replaces the action, as a later
# eager call would overwrite the earlier one's effect)
_PENDING: dict[str, dict[str, object]] = {}


class _Loader(importlib.abc.Loader):
    """Wraps a module's real loader: runs the pending actions after ``exec_module``."""

    def __init__(self, loader, name: str):
        self._loader, self._name = loader, name

    def __getattr__(self, attr):          # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, attr)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        spec = getattr(module, "__spec__", None)
        if spec is not None and spec.loader is self:   # the module sees its real loader
            spec.loader = self._loader
        if getattr(module, "__loader__", None) is self:
            module.__loader__ = self._loader
        self._loader.exec_module(module)
        for fn in _PENDING.pop(self._name, {}).values():
            fn(module)
        _HOOK.drop_if_idle()


class _AfterImport(importlib.abc.MetaPathFinder):
    """``sys.meta_path`` entry, present only while some action is pending."""

    def find_spec(self, name, path=None, target=None):
        if name not in _PENDING:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader, name)
                return spec
        return None

    def install(self) -> None:
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def drop_if_idle(self) -> None:
        if not _PENDING and self in sys.meta_path:
            sys.meta_path.remove(self)


_HOOK = _AfterImport()


def _when_imported(name: str, key: str, fn) -> None:
    """Call ``fn(module)`` now if module ``name`` is imported, else right after its import."""
    mod = sys.modules.get(name)
    if mod is not None:
        fn(mod)
        return
    _PENDING.setdefault(name, {})[key] = fn
    _HOOK.install()


def _deterministic(torch) -> None:
    """``torch.use_deterministic_algorithms(True)`` without its import of ``torch._inductor``
    (dynamo, sympy: ≈ 1 s per process, more than ``import torch``): the same C++ switch, and
    inductor's ``deterministic`` flag set when (if ever) its config module is imported."""
    torch._C._set_deterministic_algorithms(True, warn_only=False)
    _when_imported("torch._inductor.config", "deterministic",
                   lambda cfg: setattr(cfg, "deterministic", True))


def repo_root():
    """The repository root (the folder holding ``data/`` and ``notebooks/``)."""
    from pathlib import Path
    env = os.environ.get("PRUNINGLAB_ROOT")
    return Path(env) if env else Path(__file__).resolve().parent.parent


def seed_everything(seed: int = 0, *, threads: int | None = 1) -> None:
    """Seed Python, NumPy and PyTorch and make PyTorch deterministic.

    ``threads=1`` (the default) pins PyTorch's intra-op thread pool to one thread, so that
    floating-point reductions happen in the same order whatever ``OMP_NUM_THREADS`` says:
    notebook outputs are then identical with 1 or 2 threads, which nbval checks. Pass
    ``threads=None`` to leave the pool alone (latency measurements do this).

    PyTorch is seeded now if it is imported, otherwise right after its import (see the module
    docstring): importing this module or calling this function does not import it.
    """
    from ._validate import check_int
    check_int(seed, "seed", lo=0)
    if threads is not None:
        check_int(threads, "threads", lo=1)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    _when_imported("torch", "seed", lambda torch: torch.manual_seed(seed))
    _when_imported("torch", "deterministic", _deterministic)
    if threads is not None:
        _when_imported("torch", "threads", lambda torch: torch.set_num_threads(threads))


def notebook_setup(seed: int = 0) -> None:
    """One call at the top of every notebook: seeds, deterministic torch, stable printing
    and plotting defaults (fixed figure size and DPI, no interactive backend surprises)."""
    seed_everything(seed)
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    _when_imported("torch", "printoptions",
                   lambda torch: torch.set_printoptions(precision=4, sci_mode=False, linewidth=100))
    try:
        import matplotlib
        matplotlib.rcParams.update({
            "figure.figsize": (7.0, 3.6), "figure.dpi": 80, "savefig.dpi": 80,
            "axes.grid": True, "grid.alpha": 0.3, "font.size": 10,
        })
    except ImportError:  # pragma: no cover
        pass
    _inline_backend()


def _inline_backend() -> None:
    """Inside an IPython kernel, draw figures inline whatever ``MPLBACKEND`` says, so that
    ``plt.show()`` always produces the same output (PNG + text/plain) that nbval compares."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return
    ip = get_ipython()
    if ip is not None and getattr(ip, "kernel", None) is not None:
        ip.run_line_magic("matplotlib", "inline")
        # HiDPI: static figures (plt.show) are saved at twice the figure dpi and shown at their
        # logical size (PNG width/height metadata). ``savefig.dpi`` would not do it (the inline
        # backend passes the figure's dpi) and would switch off the sliders' blitting, which
        # needs savefig.dpi == figure.dpi; LivePlot sliders keep figure.dpi (their own PNGs).
        ip.run_line_magic("config", "InlineBackend.figure_formats = ['retina']")


@contextmanager
def num_threads(n: int):
    """Temporarily set PyTorch's intra-op thread count (restored afterwards)."""
    import torch
    old = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(old)


class Timer:
    """``with Timer() as t: ...`` then ``t.seconds`` (wall clock, perf_counter)."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False
