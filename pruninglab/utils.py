"""Reproducibility and small utilities shared by the library, notebooks and tests."""
from __future__ import annotations

import os
import random
import time
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["seed_everything", "notebook_setup", "num_threads", "Timer", "repo_root"]


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
    """
    from ._validate import check_int
    check_int(seed, "seed", lo=0)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    if threads is not None:
        check_int(threads, "threads", lo=1)
        torch.set_num_threads(threads)


def notebook_setup(seed: int = 0) -> None:
    """One call at the top of every notebook: seeds, deterministic torch, stable printing
    and plotting defaults (fixed figure size and DPI, no interactive backend surprises)."""
    seed_everything(seed)
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    torch.set_printoptions(precision=4, sci_mode=False, linewidth=100)
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
