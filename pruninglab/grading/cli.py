"""``python -m pruninglab grade PATH...``: the teacher's grader (nothing runs in a learner kernel).

For each submitted notebook (folders expand to ``*.ipynb``):

1. the notebook is read as JSON (never executed); its *answer cells* are found by metadata
   (:mod:`.submission`); every other cell is ignored;
2. the assignment (which exercises, how many points each) comes from the registry
   (``Exercise.notebook`` / ``Exercise.points``): ``--assignment NAME``, or the assignment
   name found in the path (nbgrader layout ``submitted/<student>/<assignment>/...`` or a file
   named after it), or the notebook metadata ``pruninglab.assignment``;
3. each exercise's answer code runs in its own confined child process on the fixed, error and
   hidden cases (:mod:`.isolated`); the returned data are judged here. The exercise's score is
   ``points * passed checks / checks`` (rounded to 0.1; 0 if no test case passed); a missing answer cell scores 0 "not
   found", a stub 0 "not attempted", a syntax error 0 with the error;
4. integrity flags from the answer's AST: "uses reference", "suspicious (...)".

Options: ``--json``, ``--csv gradebook.csv`` (one row per submission: student, assignment, one
column per exercise, total, max, flags, status), ``--feedback DIR`` (one Markdown file per
submission with the same report and hints as ``check()``), ``-j N`` (N submissions in
parallel), ``--seed`` (hidden cases; default: drawn once per run and recorded),
``--time-limit`` (CPU seconds per call), ``--memory-mb``.

Exit status: 0 when every submission could be read (whatever the learners scored), 2 when a
path is missing, is not a notebook, or its assignment is unknown.
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .core import EXERCISES, assignments

__all__ = ["expand_paths", "grade_submission", "render_table", "write_gradebook",
           "write_feedback", "main", "add_arguments", "run"]


def expand_paths(paths) -> list[Path]:
    """Files as given; folders expand to their ``*.ipynb`` (recursively, sorted, skipping
    ``.ipynb_checkpoints``)."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*.ipynb") if ".ipynb_checkpoints" not in q.parts)
        else:
            out.append(p)
    return out


BEHAVIOUR = ("does not modify its inputs", "deterministic", "quiet (no stderr output, no warnings)")


def _score(report, points: int) -> float:
    """``points * passed / checks``; 0 when no test case passed (an answer that only loops,
    raises or exits earns nothing for "did not modify its inputs" / "quiet")."""
    if report.status != "graded" or not report.checks:
        return 0.0
    if not any(c.passed for c in report.checks if c.name not in BEHAVIOUR):
        return 0.0
    return round(points * report.score / report.max_score, 1)


def grade_submission(path, *, assignment: str | None = None, seed: int = 0, limits=None,
                     stage=None) -> dict:
    """Grade one notebook; returns the gradebook row as a dict (see module docstring)."""
    from .isolated import grade_source
    from .submission import integrity_flags, parse_error, read_submission
    table = assignments()
    sub = read_submission(path, assignment=assignment, known=table)
    row = {"path": str(path), "student": sub.student, "assignment": sub.assignment,
           "status": "ok", "tool_error": False, "exercises": {}, "score": 0.0, "max_score": 0,
           "flags": [], "seed": seed}
    if sub.assignment not in table:
        row.update(status=sub.error or f"unknown assignment {sub.assignment!r} (use --assignment; "
                                       f"known: {', '.join(sorted(table))})", tool_error=True)
        return row
    ids = table[sub.assignment]
    row["max_score"] = sum(EXERCISES[i].points for i in ids)
    if sub.error:
        row.update(status=sub.error, tool_error=True)
    for i in ids:
        ex = EXERCISES[i]
        entry = {"points": 0.0, "max_points": ex.points, "status": "not found",
                 "reason": "no answer cell for this exercise (deleted or its metadata removed)",
                 "flags": [], "report": ""}
        row["exercises"][i] = entry
        if sub.error:
            entry["reason"] = sub.error
            continue
        src = sub.answers.get(i)
        if src is None:
            continue
        err = parse_error(src)
        entry["flags"] = integrity_flags(src, ex)
        if err:
            entry.update(status="parse error", reason=err)
            continue
        # answers this exercise builds on (e.g. gradual_prune calls the learner's agp_sparsity)
        deps = [sub.answers[u] for u in ex.uses if u in sub.answers and not parse_error(sub.answers[u])]
        if deps:
            src = "\n\n".join(deps + [src])
        report, runner = grade_source(ex, src, seed=seed, limits=limits, stage=stage)
        entry["points"] = _score(report, ex.points)
        entry["status"] = report.status
        entry["reason"] = "; ".join(report.notes[:2]) if report.status != "graded" else \
            f"{report.score}/{report.max_score} checks passed"
        entry["checks"], entry["max_checks"] = report.score, report.max_score
        entry["report"] = str(report)
        entry["confinement"] = runner.measures
    row["score"] = round(sum(e["points"] for e in row["exercises"].values()), 1)
    row["flags"] = sorted({f"{i}: {f}" for i, e in row["exercises"].items() for f in e["flags"]})
    return row


def render_table(rows) -> str:
    """A plain-text table: one row per submission, one column per exercise."""
    cols = [e for e in EXERCISES if any(e in r["exercises"] for r in rows)]
    header = ["student", "assignment"] + cols + ["total", "flags/status"]
    body = []
    for r in rows:
        cells = [r["student"], r["assignment"]]
        for e in cols:
            x = r["exercises"].get(e)
            if x is None:
                cells.append("")
            else:
                tag = {"not attempted": " (stub)", "not found": " (not found)",
                       "parse error": " (syntax)", "error": " (error)"}.get(x["status"], "")
                cells.append(f"{x['points']:g}/{x['max_points']}{tag}")
        cells.append(f"{r['score']:g}/{r['max_score']}")
        notes = ([] if r["status"] == "ok" else [r["status"]]) + \
            [f.split(" (")[0] for f in r["flags"]]
        cells.append("; ".join(dict.fromkeys(notes)) or "ok")
        body.append(cells)
    widths = [max(len(str(x[i])) for x in [header] + body) for i in range(len(header))]
    fmt = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(c) for c in body])


def write_gradebook(rows, path) -> None:
    """CSV: student, assignment, one column per exercise (points), total, max, flags, status."""
    cols = [e for e in EXERCISES if any(e in r["exercises"] for r in rows)]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment"] + cols + ["total", "max", "flags", "status", "seed", "file"])
        for r in rows:
            w.writerow([r["student"], r["assignment"]]
                       + [r["exercises"][e]["points"] if e in r["exercises"] else "" for e in cols]
                       + [r["score"], r["max_score"], "; ".join(r["flags"]), r["status"], r["seed"],
                          r["path"]])


def feedback_markdown(row) -> str:
    lines = [f"# Feedback: {row['student']} — {row['assignment']}", "",
             f"**Total: {row['score']:g} / {row['max_score']}**", ""]
    if row["status"] != "ok":
        lines += [f"Problem with the submission: {row['status']}", ""]
    for i, e in row["exercises"].items():
        lines += [f"## {i}: {e['points']:g} / {e['max_points']}", ""]
        if e["status"] != "graded":
            lines += [f"*{e['status']}*: {e['reason']}", ""]
        for f in e["flags"]:
            lines += [f"*flag*: {f}", ""]
        if e.get("report"):
            lines += ["```text", e["report"], "```", ""]
    return "\n".join(lines)


def write_feedback(rows, folder) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for r in rows:
        safe = "".join(c if c.isalnum() or c in "._-@" else "_" for c in r["student"]) or "unknown"
        p = folder / f"{safe}__{r['assignment'] or 'unknown'}.md"
        p.write_text(feedback_markdown(r), encoding="utf-8")
        out.append(p)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pruninglab grade",
                                description="grade submitted exercise notebooks")
    add_arguments(p)
    return run(p.parse_args(argv))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("paths", nargs="+", help="notebooks or folders (folders expand to *.ipynb)")
    p.add_argument("--assignment", help="grade every path as this assignment (notebook name, e.g. "
                                        "ex01_pruning); default: from the path or metadata")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--csv", metavar="GRADEBOOK", help="write the gradebook CSV here")
    p.add_argument("--feedback", metavar="DIR", help="write one Markdown feedback file per submission")
    p.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded in parallel")
    p.add_argument("--seed", type=int, default=None, help="seed of the hidden cases (default: random, recorded)")
    p.add_argument("--time-limit", type=float, default=2.0, help="CPU seconds per call (default 2)")
    p.add_argument("--memory-mb", type=int, default=4096, help="address-space limit per answer (MB)")


def run(args) -> int:
    import random
    from .isolated import Limits, Stage
    if args.jobs < 1 or args.time_limit <= 0 or args.memory_mb < 256:
        print("error: -j must be >= 1, --time-limit > 0, --memory-mb >= 256", file=sys.stderr)
        return 2
    if args.assignment is not None and args.assignment not in assignments():
        print(f"error: unknown assignment {args.assignment!r}; known: {', '.join(sorted(assignments()))}",
              file=sys.stderr)
        return 2
    paths = expand_paths(args.paths)
    if not paths:
        print("error: no notebooks found in " + ", ".join(args.paths), file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10 ** 6)
    limits = Limits(time_limit=args.time_limit, memory_mb=args.memory_mb)
    with Stage() as stage:
        job = lambda p: grade_submission(p, assignment=args.assignment, seed=seed,  # noqa: E731
                                         limits=limits, stage=stage)
        if args.jobs == 1:
            rows = [job(p) for p in paths]
        else:
            with ThreadPoolExecutor(args.jobs) as pool:
                rows = list(pool.map(job, paths))
    ids = {}
    for r in rows:
        ids.setdefault((r["student"], r["assignment"]), []).append(r)
    for group in ids.values():
        if len(group) > 1:
            for r in group:
                r["flags"].append("duplicate student id")
    if args.csv:
        write_gradebook(rows, args.csv)
    if args.feedback:
        write_feedback(rows, args.feedback)
    if args.json:
        print(json.dumps(rows, indent=1, sort_keys=True))
    else:
        print(render_table(rows))
        print(f"(hidden cases: seed {seed}; reproduce with --seed {seed})")
    bad = [r for r in rows if r["tool_error"]]
    for r in bad:
        print(f"error: {r['path']}: {r['status']}", file=sys.stderr)
    return 2 if bad else 0
