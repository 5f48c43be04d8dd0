"""Values as data between the grader and the sandboxed child: JSON + ``.npy`` files, no pickle.

Supported (both directions): ``None``, ``bool``, ``int`` (any size), ``float`` (nan/inf
included), ``complex``, ``str``, numpy scalars (dtype kept), numpy arrays of any non-object
dtype, ``tuple``, ``list``, ``dict`` (keys: str/int/float/bool/None/tuple of those),
``torch.Tensor`` (dtype and ``requires_grad`` kept; sent as numpy, bfloat16 via float32) and a
``torch.nn.Module`` *returned* by the learner (comes back as a :class:`ModuleState`: class name
+ ``state_dict`` of tensors). Anything else comes back as an :class:`Unsupported` placeholder
(type name and a short repr), which the judges then reject like any wrong type.

Decoding never unpickles: arrays are read with ``np.load(..., allow_pickle=False)`` from files
whose names are checked, with limits on nesting depth, item count and total bytes. This file
imports only the standard library and numpy (torch lazily) because the child imports it as a
top-level module.
"""
from __future__ import annotations

import json
import math
import os
import re

import numpy as np

__all__ = ["encode", "decode", "dump", "load", "Unsupported", "ModuleState", "ProtocolError",
           "grader_callable"]

# Grader-side callables that an exercise passes to the learner's function (e.g. a deterministic
# fine-tune ``step``). They cross the boundary as (class source, state): the CHILD rebuilds them
# by executing the grader's own class source; the GRADER rebuilds returned ones only from this
# registry of its own classes (it never executes anything the child sends).
_CALLABLES: dict = {}


def grader_callable(cls):
    """Class decorator: instances can be passed to learner code in the confined process.
    The class must define ``__grader_state__() -> dict`` (constructor keyword arguments made of
    encodable values) and use only ``np`` (numpy) and builtins."""
    _CALLABLES[cls.__name__] = cls
    return cls

MAX_DEPTH = 32
MAX_ITEMS = 100_000
MAX_BYTES = 512 * 2 ** 20
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,80}\.npy$")


class ProtocolError(ValueError):
    """The data could not be decoded (malformed, too large, or unsafe)."""


class Unsupported:
    """A value the protocol cannot carry (e.g. a function or a custom object)."""

    def __init__(self, type_name: str, text: str):
        self.type_name, self.text = type_name, text

    def __repr__(self):
        return f"<{self.type_name} (not transferable): {self.text}>"


class ModuleState(dict):
    """A learner's ``nn.Module`` as data: its class name and ``state_dict`` (name -> tensor)."""

    def __init__(self, class_name: str, state: dict):
        super().__init__(state)
        self.class_name = class_name

    def __repr__(self):
        return f"<{self.class_name} state: {sorted(self)}>"


class _Enc:
    def __init__(self, folder: str, stem: str):
        self.folder, self.stem, self.n, self.items = folder, stem, 0, 0

    def array(self, a: np.ndarray) -> str:
        name = f"{self.stem}-{self.n}.npy"
        self.n += 1
        np.save(os.path.join(self.folder, name), a, allow_pickle=False)
        return name

    def __call__(self, x, depth=0):
        self.items += 1
        if depth > MAX_DEPTH or self.items > MAX_ITEMS:
            return {"t": "unsupported", "type": type(x).__name__, "repr": "too deeply nested / too many items"}
        if x is None:
            return {"t": "none"}
        if isinstance(x, (bool, np.bool_)) and not isinstance(x, np.ndarray):
            if isinstance(x, np.bool_):
                return {"t": "npscalar", "f": self.array(np.asarray(x))}
            return {"t": "bool", "v": bool(x)}
        if isinstance(x, np.generic):
            if x.dtype.kind == "O":
                return _unsupported(x)
            return {"t": "npscalar", "f": self.array(np.asarray(x))}
        if type(x) is int or (isinstance(x, int) and not isinstance(x, bool)):
            return {"t": "int", "v": str(int(x))}
        if isinstance(x, float):
            return {"t": "float", "v": repr(float(x))}
        if isinstance(x, complex):
            return {"t": "complex", "v": [repr(x.real), repr(x.imag)]}
        if isinstance(x, str):
            return {"t": "str", "v": x[:100_000]}
        if isinstance(x, np.ndarray):
            if x.dtype.kind in "OV" or x.dtype.hasobject:
                return _unsupported(x)
            return {"t": "ndarray", "f": self.array(np.ascontiguousarray(x))}
        if isinstance(x, (tuple, list)):
            return {"t": "tuple" if isinstance(x, tuple) else "list",
                    "items": [self(v, depth + 1) for v in x]}
        if isinstance(x, dict):
            return {"t": "dict", "items": [[self(k, depth + 1), self(v, depth + 1)] for k, v in x.items()]}
        if hasattr(type(x), "__grader_state__") and callable(x):
            import inspect
            src = getattr(type(x), "__grader_source__", None)
            if src is None:
                src = inspect.getsource(type(x))
            return {"t": "callable", "cls": type(x).__name__, "src": src,
                    "state": self(x.__grader_state__(), depth + 1)}
        mod = type(x).__module__ or ""
        if mod.startswith("torch"):
            import torch
            if isinstance(x, torch.Tensor):
                t = x.detach().cpu()
                dtype = str(t.dtype).replace("torch.", "")
                arr = (t.float() if t.dtype == torch.bfloat16 else t).numpy()
                return {"t": "tensor", "f": self.array(arr), "dtype": dtype,
                        "grad": bool(x.requires_grad)}
            if isinstance(x, torch.nn.Module):
                return {"t": "module", "class": type(x).__name__,
                        "state": self(dict(x.state_dict()), depth + 1)}
        return _unsupported(x)


def _unsupported(x):
    try:
        text = repr(x)[:200]
    except Exception:  # noqa: BLE001
        text = "?"
    return {"t": "unsupported", "type": type(x).__name__[:80], "repr": text}


def encode(value, folder: str, stem: str = "v"):
    """JSON-able description of ``value``; arrays are written as ``folder/stem-N.npy``."""
    return _Enc(folder, stem)(value)


class _Dec:
    def __init__(self, folder: str, trusted_code: bool = False):
        self.folder, self.items, self.bytes = folder, 0, 0
        self.trusted_code = trusted_code

    def array(self, name):
        if not isinstance(name, str) or not _NAME.match(name) or name.startswith("."):
            raise ProtocolError(f"bad array file name {name!r}")
        path = os.path.join(self.folder, name)
        if os.path.islink(path) or not os.path.isfile(path):
            raise ProtocolError(f"missing array file {name!r}")
        self.bytes += os.path.getsize(path)
        if self.bytes > MAX_BYTES:
            raise ProtocolError("returned arrays are too large")
        a = np.load(path, allow_pickle=False)
        if not isinstance(a, np.ndarray):
            raise ProtocolError("not an array")
        return a

    def __call__(self, d, depth=0):
        self.items += 1
        if depth > MAX_DEPTH + 2 or self.items > MAX_ITEMS * 3:
            raise ProtocolError("too deeply nested or too many items")
        if not isinstance(d, dict):
            raise ProtocolError("malformed value")
        t = d.get("t")
        if t == "none":
            return None
        if t == "bool":
            return bool(d["v"])
        if t == "int":
            v = d["v"]
            if not isinstance(v, str) or len(v) > 5000:
                raise ProtocolError("bad int")
            return int(v)
        if t == "float":
            return float(d["v"])
        if t == "complex":
            return complex(float(d["v"][0]), float(d["v"][1]))
        if t == "str":
            return str(d["v"])
        if t == "ndarray":
            return self.array(d["f"])
        if t == "npscalar":
            a = self.array(d["f"])
            if a.ndim != 0:
                raise ProtocolError("bad scalar")
            return a[()]
        if t in ("tuple", "list"):
            items = [self(v, depth + 1) for v in d["items"]]
            return tuple(items) if t == "tuple" else items
        if t == "dict":
            out = {}
            for k, v in d["items"]:
                key = self(k, depth + 1)
                try:
                    hash(key)
                except TypeError as e:
                    raise ProtocolError("unhashable key") from e
                out[key] = self(v, depth + 1)
            return out
        if t == "tensor":
            import torch
            a = self.array(d["f"])
            dtype = getattr(torch, str(d.get("dtype", "")), None)
            ten = torch.from_numpy(a.copy())
            if isinstance(dtype, torch.dtype):
                ten = ten.to(dtype)
            if d.get("grad") and ten.is_floating_point():
                ten.requires_grad_(True)
            return ten
        if t == "module":
            state = self(d["state"], depth + 1)
            if not isinstance(state, dict):
                raise ProtocolError("bad module state")
            return ModuleState(str(d.get("class", "Module"))[:80], state)
        if t == "callable":
            name = str(d.get("cls", ""))[:80]
            state = self(d["state"], depth + 1)
            if not isinstance(state, dict):
                raise ProtocolError("bad callable state")
            if self.trusted_code:            # the child: rebuild from the grader's source
                ns = {"np": np, "grader_callable": lambda c: c, "__name__": "grader_callable"}
                exec(compile(str(d["src"]), f"<grader {name}>", "exec"), ns)  # noqa: S102
                cls = ns[name]
                cls.__grader_source__ = str(d["src"])
                return cls(**state)
            cls = _CALLABLES.get(name)      # the grader: only its own registered classes
            if cls is None:
                return Unsupported(name, "callable")
            return cls(**state)
        if t == "unsupported":
            return Unsupported(str(d.get("type", "?"))[:80], str(d.get("repr", ""))[:200])
        raise ProtocolError(f"unknown value type {t!r}")


def decode(d, folder: str, *, trusted_code: bool = False):
    """The value described by ``d`` (arrays read from ``folder``); raises :class:`ProtocolError`.
    ``trusted_code=True`` only in the confined child decoding the grader's inputs."""
    try:
        return _Dec(folder, trusted_code)(d)
    except ProtocolError:
        raise
    except (KeyError, TypeError, ValueError, OSError, IndexError) as e:
        raise ProtocolError(f"malformed value: {type(e).__name__}: {e}") from e


def dump(obj, path: str) -> None:
    """Write JSON (nan/inf allowed as strings inside encoded values only)."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def load(path: str, max_bytes: int = 64 * 2 ** 20):
    if os.path.islink(path) or os.path.getsize(path) > max_bytes:
        raise ProtocolError("result file too large or a link")
    with open(path, encoding="utf-8") as f:
        return json.loads(f.read(), parse_constant=lambda c: math.nan)
