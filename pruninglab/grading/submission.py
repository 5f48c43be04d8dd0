"""Read a submitted notebook as DATA: its answer cells, student id, assignment; integrity flags.

Nothing here executes the submission. An answer cell is a code cell whose metadata says so:
nbgrader ``metadata.nbgrader.grade_id == "answer_<id>"`` or the tag ``answer:<id>`` (both are
written by ``tools/nbbuild.py``). Several cells for one id are concatenated in notebook order.
Every other cell (check cells, demonstrations, experiments, anything the learner added) is
ignored by the grader.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Submission", "read_submission", "answer_cells", "integrity_flags", "student_id"]

MAX_NOTEBOOK_BYTES = 50 * 2 ** 20


@dataclass
class Submission:
    path: str
    student: str = ""
    assignment: str = ""
    answers: dict = field(default_factory=dict)     # exercise id -> source
    error: str = ""                                 # the notebook could not be read


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def answer_cells(nb: dict) -> dict[str, str]:
    """``{exercise id: code}`` from the cells whose metadata marks them as answers."""
    out: dict[str, list[str]] = {}
    for cell in nb.get("cells", []) if isinstance(nb, dict) else []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        md = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        ids = set()
        gid = (md.get("nbgrader") or {}).get("grade_id") if isinstance(md.get("nbgrader"), dict) else None
        if isinstance(gid, str) and gid.startswith("answer_"):
            ids.add(gid[len("answer_"):])
        for t in md.get("tags", []) if isinstance(md.get("tags"), list) else []:
            if isinstance(t, str) and t.startswith("answer:"):
                ids.add(t[len("answer:"):])
        for i in ids:
            out.setdefault(i, []).append(_src(cell))
    return {k: "\n\n".join(v) for k, v in out.items()}


def student_id(path: Path, assignment: str, nb: dict | None = None) -> str:
    """nbgrader layout ``.../<student>/<assignment>/<notebook>.ipynb`` -> ``<student>``; else the
    file name without the assignment name (``alice_ex01_pruning.ipynb`` -> ``alice``); else the
    notebook metadata ``pruninglab.student``; else the file stem."""
    parts = path.parts
    if assignment and len(parts) >= 3 and parts[-2] == assignment:
        return parts[-3]
    stem = path.stem
    if assignment and assignment in stem:
        rest = stem.replace(assignment, "").strip("_-. ")
        if rest:
            return rest
    meta = ((nb or {}).get("metadata") or {}).get("pruninglab") if isinstance(nb, dict) else None
    if isinstance(meta, dict) and isinstance(meta.get("student"), str) and meta["student"].strip():
        return re.sub(r"[^\w.@-]", "_", meta["student"].strip())[:80]
    return stem


def _assignment(path: Path, nb: dict, known) -> str:
    names = sorted(known, key=len, reverse=True)
    for part in reversed(path.parts):
        for a in names:
            if a in part:
                return a
    meta = (nb.get("metadata") or {}).get("pruninglab") if isinstance(nb.get("metadata"), dict) else None
    if isinstance(meta, dict) and meta.get("assignment") in known:
        return meta["assignment"]
    return ""


def read_submission(path, *, assignment: str | None = None, known=()) -> Submission:
    path = Path(path)
    sub = Submission(str(path))
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES >> 20} MB")
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
    except FileNotFoundError:
        sub.error = "no such file"
        sub.student = path.stem
        sub.assignment = assignment or ""
        return sub
    except Exception as e:  # noqa: BLE001 - invalid JSON, binary, wrong structure
        sub.error = f"not a notebook ({type(e).__name__}: {str(e)[:120]})"
        sub.assignment = assignment or _assignment(path, {}, known)
        sub.student = student_id(path, sub.assignment)
        return sub
    sub.assignment = assignment or _assignment(path, nb, known)
    sub.student = student_id(path, sub.assignment, nb)
    sub.answers = answer_cells(nb)
    return sub


# ---------------------------------------------------------------------------- integrity

_REFERENCE_MODULES = ("pruninglab.grading", "tests", "solutions")
_SUSPICIOUS = {"exec", "eval", "compile", "__import__", "open", "globals", "breakpoint"}
_SUSPICIOUS_MODULES = {"os", "sys", "subprocess", "importlib", "ctypes", "signal", "socket",
                       "shutil", "pathlib", "builtins", "inspect", "gc", "resource", "multiprocessing",
                       "threading"}


def integrity_flags(source: str, ex) -> list[str]:
    """Flags for the gradebook, decided on the AST (the code is never run here):

    * ``"uses reference"``: imports the reference solutions (``pruninglab.grading``, the
      ``tests``/``solutions`` packages) or calls the library's own implementation of this
      exercise (a name in ``ex.library``, or any ``pruninglab`` function named like the entry);
    * ``"suspicious: ..."``: uses exec/eval/open/__import__ or imports os/sys/subprocess/
      ctypes/... (not wrong in itself, but worth a look; the sandbox contains it anyway).
    A parse error is returned by :func:`parse_error` instead."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    aliases: dict[str, str] = {}
    flags: list[str] = []
    uses_ref, suspicious = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[(a.asname or a.name).split(".")[0] if not a.asname else a.asname] = \
                    a.name if a.asname else a.name.split(".")[0]
                if a.name.startswith(_REFERENCE_MODULES):
                    uses_ref.append(f"import {a.name}")
                if a.name.split(".")[0] in _SUSPICIOUS_MODULES:
                    suspicious.add(f"import {a.name}")
        elif isinstance(node, ast.ImportFrom):
            mod = node.module or ""
            for a in node.names:
                aliases[a.asname or a.name] = f"{mod}.{a.name}"
                full = f"{mod}.{a.name}"
                if mod.startswith(_REFERENCE_MODULES) or full.startswith(_REFERENCE_MODULES):
                    uses_ref.append(f"from {mod} import {a.name}")
            if mod.split(".")[0] in _SUSPICIOUS_MODULES:
                suspicious.add(f"from {mod} import ...")
        elif isinstance(node, ast.Call):
            name = _qualname(node.func, aliases)
            if name in _SUSPICIOUS:
                suspicious.add(f"{name}()")
            if name and name.startswith("pruninglab.") and (
                    name in ex.library or name.rsplit(".", 1)[-1] == ex.function_name
                    or any(name.rsplit(".", 1)[-1] == lib.rsplit(".", 1)[-1] for lib in ex.library)):
                uses_ref.append(f"calls {name}")
    if uses_ref:
        flags.append("uses reference (" + ", ".join(sorted(set(uses_ref))[:3]) + ")")
    if suspicious:
        flags.append("suspicious (" + ", ".join(sorted(suspicious)[:4]) + ")")
    return flags


def parse_error(source: str) -> str:
    try:
        ast.parse(source)
    except SyntaxError as e:
        return f"SyntaxError: {e.msg} (line {e.lineno}: {(e.text or '').strip()[:80]})"
    except (ValueError, TypeError) as e:  # null bytes etc.
        return f"{type(e).__name__}: {e}"
    return ""


def _qualname(node, aliases) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    root = aliases.get(node.id, node.id)
    return ".".join([root] + parts[::-1])
