"""Deterministic on-disk cache for slow, deterministic precomputations.

``cached(name, version, compute, **params)`` returns ``compute(**params)``, stored under a key
made of ``name``, ``version`` (bump it when the computation changes), the parameters and the
pruninglab/torch/numpy versions. Values are saved with ``torch.save`` and loaded with
``torch.load(..., weights_only=True)``, so a value may contain tensors, numpy arrays (stored as
tensors and converted back), dicts, lists, tuples, str, int, float, bool and None.

Location: ``$PRUNINGLAB_CACHE`` or ``<repo>/build/cache`` (git-ignored). ``PRUNINGLAB_CACHE=off``
disables caching. A corrupt or unreadable entry is recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

__all__ = ["cached", "cache_dir"]


def cache_dir() -> Path | None:
    env = os.environ.get("PRUNINGLAB_CACHE")
    if env == "off":
        return None
    if env:
        return Path(env)
    from .utils import repo_root
    return repo_root() / "build" / "cache"


def _key(name, version, params) -> str:
    import numpy, torch
    from . import __version__ as plv
    blob = json.dumps([name, version, plv, torch.__version__, numpy.__version__,
                       sorted((k, repr(v)) for k, v in params.items())])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


_ND = "__ndarray__"


def _encode(x):
    import numpy as np
    import torch
    if isinstance(x, np.ndarray):
        return {_ND: torch.from_numpy(np.ascontiguousarray(x)).clone()}
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return {k: _encode(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return ("__tuple__", [_encode(v) for v in x])
    if isinstance(x, list):
        return [_encode(v) for v in x]
    return x


def _decode(x):
    if isinstance(x, dict):
        if set(x) == {_ND}:
            return x[_ND].numpy()
        return {k: _decode(v) for k, v in x.items()}
    if isinstance(x, tuple) and len(x) == 2 and x[0] == "__tuple__":
        return tuple(_decode(v) for v in x[1])
    if isinstance(x, list):
        return [_decode(v) for v in x]
    return x


def cached(name: str, version: int, compute, **params):
    """``compute(**params)``, cached on disk (see module docstring)."""
    if not isinstance(name, str) or not name:
        raise TypeError("name must be a non-empty str")
    if not isinstance(version, int):
        raise TypeError("version must be an int")
    if not callable(compute):
        raise TypeError("compute must be callable")
    d = cache_dir()
    if d is None:
        return compute(**params)
    import torch
    path = d / f"{name}-{_key(name, version, params)}.pt"
    value = _load(path)
    if value is not _MISS:
        return value
    d.mkdir(parents=True, exist_ok=True)
    # One computation per key even when two kernels (e.g. the learner and the instructor build of
    # a notebook under pytest-xdist) ask at once: the second waits on the lock, then loads.
    with _locked(path.with_suffix(".lock")):
        value = _load(path)
        if value is not _MISS:
            return value
        value = compute(**params)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(_encode(value), tmp)
        os.replace(tmp, path)
    return value


_MISS = object()


def _load(path: Path):
    if not path.is_file():
        return _MISS
    import torch
    try:
        return _decode(torch.load(path, weights_only=True))
    except Exception:  # noqa: BLE001 - corrupt entry: recompute
        return _MISS


class _locked:
    """Exclusive advisory lock on ``path`` (no-op where ``fcntl`` is missing, e.g. Windows)."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def __enter__(self):
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX
            return self
        self.fh = open(self.path, "a+")
        fcntl.flock(self.fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if self.fh is not None:
            import fcntl
            fcntl.flock(self.fh, fcntl.LOCK_UN)
            self.fh.close()
        return False
