"""Run only the cells of a notebook that its slider UIs need (tests of every slider, in-process).

``ui_slice(cells)`` takes the code cells of a notebook (sources) and returns the indices of the
cells to execute so that every cell that builds a ``slider_ui`` runs with what it uses: a
backward slice over top-level names, computed with :mod:`ast`:

* a cell *provides* a name when it binds it at top level (assignment, ``for``/``with`` target,
  ``import``, ``def``/``class``) — or may change the object bound to it: attribute / item
  assignment (``m.w = …``, ``m[k] = …``), a method call on it (``m.fit(…)``), or passing it to a
  function whose name ends in ``_`` (the in-place convention) or to ``train``/``finetune``-like
  calls. The rule over-approximates on purpose: an extra cell costs time, a missing one a wrong
  state;
* a cell *uses* every name it loads (also inside its functions: they run later);
* needed = the UI cells, the first code cell (``notebook_setup()``: seeds), and, transitively,
  every earlier cell that provides a name a needed cell uses (all earlier providers, not only the
  last one, because of the in-place changes above).

Cells tagged ``raises-exception`` are kept only when needed; the caller runs them allowing the
exception. This is a test helper: notebooks themselves always run top to bottom.
"""
from __future__ import annotations

import ast
import builtins
from typing import Sequence

__all__ = ["provides_uses", "ui_slice", "is_ui_cell"]

_MUTATING_CALLS = ("train", "finetune", "fine_tune", "fit", "calibrate", "prune", "apply",
                   "load_state_dict", "seed_everything", "manual_seed", "notebook_setup")
_BUILTINS = set(dir(builtins))


def is_ui_cell(src: str) -> bool:
    """True for a cell that builds a slider UI."""
    return "slider_ui(" in src


def _target_names(node, out: set) -> None:
    if isinstance(node, ast.Name):
        out.add(node.id)
    elif isinstance(node, (ast.Tuple, ast.List)):
        for e in node.elts:
            _target_names(e, out)
    elif isinstance(node, ast.Starred):
        _target_names(node.value, out)
    elif isinstance(node, (ast.Attribute, ast.Subscript)):
        base = node
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if isinstance(base, ast.Name):
            out.add(base.id)


def _call_name(func) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def provides_uses(src: str) -> tuple[set, set]:
    """``(provided, used)`` top-level names of one cell (see the module doc)."""
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return set(), set()
    provided: set = set()
    used: set = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                _target_names(t, provided)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            _target_names(node.target, provided)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            _target_names(node.optional_vars, provided)
        elif isinstance(node, ast.NamedExpr):
            _target_names(node.target, provided)
        elif isinstance(node, ast.Delete):
            for t in node.targets:
                _target_names(t, provided)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                provided.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            provided.add(node.name)
        elif isinstance(node, ast.Call):
            f = node.func
            name = _call_name(f)
            if isinstance(f, ast.Attribute):  # m.fit(...), m.weight.data.mul_(...)
                _target_names(f.value, provided)
            if name.endswith("_") or any(k in name for k in _MUTATING_CALLS):
                for a in list(node.args) + [k.value for k in node.keywords]:
                    _target_names(a, provided)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            used.add(node.id)
    # names only defined inside function bodies / comprehensions are not top level, but listing
    # them as provided only adds cells (safe); loads of builtins never need a cell
    return provided, used - _BUILTINS


def ui_slice(sources: Sequence[str], ui_cells: Sequence[int] | None = None) -> list[int]:
    """Indices (sorted) of the code cells to run so that the UI cells get what they use."""
    srcs = list(sources)
    if not srcs:
        return []
    uis = [i for i, s in enumerate(srcs) if is_ui_cell(s)] if ui_cells is None else list(ui_cells)
    pu = [provides_uses(s) for s in srcs]
    needed = set(uis) | {0}
    todo = sorted(needed, reverse=True)
    while todo:
        i = todo.pop()
        for name in pu[i][1]:
            for j in range(i):
                if j not in needed and name in pu[j][0]:
                    needed.add(j)
                    todo.append(j)
    return sorted(needed)
