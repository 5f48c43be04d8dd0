"""Grading reports: a list of checks, each passed or failed with a helpful hint."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

__all__ = ["Check", "Report"]


@dataclass
class Check:
    """One graded check. ``detail`` says what input was used, what was expected (in words)
    and what came back; for a failure ``hint`` says what is probably wrong."""
    name: str
    passed: bool
    points: int = 1
    detail: str = ""
    hint: str = ""
    skipped: bool = False

    @property
    def earned(self) -> int:
        return self.points if self.passed else 0


@dataclass
class Report:
    exercise_id: str
    checks: list = field(default_factory=list)
    status: str = "graded"          # "graded" | "not attempted" | "error"
    seed: int | None = None
    notes: list = field(default_factory=list)
    max_points: int | None = None   # used when there are no checks (not attempted / error)

    @property
    def score(self) -> int:
        return sum(c.earned for c in self.checks)

    @property
    def max_score(self) -> int:
        if self.max_points is not None and not self.checks:
            return self.max_points
        return sum(c.points for c in self.checks)

    @property
    def passed(self) -> bool:
        return self.status == "graded" and bool(self.checks) and self.score == self.max_score

    def to_dict(self) -> dict:
        return {"exercise": self.exercise_id, "score": self.score, "max_score": self.max_score,
                "passed": self.passed, "status": self.status, "seed": self.seed,
                "failed": [c.name for c in self.checks if not c.passed]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    # -- rendering -------------------------------------------------------------------------
    def _headline(self) -> str:
        if self.status == "not attempted":
            return (f"{self.exercise_id}: not attempted yet (0/{self.max_score}) -- replace "
                    f"`raise NotImplementedError` with your code and re-run the check.")
        if self.status == "error":
            return f"{self.exercise_id}: could not grade (0/{self.max_score})"
        verdict = "PASSED" if self.passed else "not yet"
        return f"{self.exercise_id}: {self.score}/{self.max_score} -- {verdict}"

    def __str__(self) -> str:
        """Every check; a hint repeated by several failed checks is printed in full once and
        then referred to ("same hint as <first case>"); skipped checks are summarized."""
        lines = [self._headline()]
        first_with: dict = {}
        skipped = [c for c in self.checks if c.skipped]
        for c in self.checks:
            if c.skipped and len(skipped) > 2 and c is not skipped[0]:
                continue
            mark = "skip" if c.skipped else ("ok  " if c.passed else "FAIL")
            name = c.name if not (c.skipped and len(skipped) > 2) else \
                f"{c.name} and {len(skipped) - 1} more case(s)"
            lines.append(f"  [{mark}] {name}" + (f" ({c.points} pts)" if c.points != 1 else ""))
            if not c.passed and not c.skipped:
                if c.detail:
                    lines.extend("         " + ln for ln in c.detail.splitlines())
                if c.hint and c.hint in first_with:
                    lines.append(f"         hint: same as for '{first_with[c.hint]}' above")
                elif c.hint:
                    first_with[c.hint] = c.name
                    lines.extend("         hint: " + ln if i == 0 else "               " + ln
                                 for i, ln in enumerate(c.hint.splitlines()))
        for n in self.notes:
            lines.append(f"  note: {n}")
        if self.seed is not None and self.status == "graded":
            lines.append(f"  hidden random cases used seed={self.seed} "
                         f"(reproduce: grade({self.exercise_id!r}, fn, seed={self.seed}))")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def summary(self, n_failures: int = 1) -> str:
        """The headline, the first ``n_failures`` failed test cases and every failed behaviour
        check (inputs modified, non-deterministic, noisy), with their hints."""
        lines = [self._headline()]
        behaviour = ("does not modify its inputs", "deterministic", "quiet (no stderr output, no warnings)")
        failed = [c for c in self.checks if not c.passed and not c.skipped]
        shown = [c for c in failed if c.name not in behaviour][:n_failures]
        shown += [c for c in failed if c.name in behaviour]
        for c in shown:
            lines.append(f"  [FAIL] {c.name}")
            lines.extend("         " + ln for ln in c.detail.splitlines() if ln)
            if c.hint:
                lines.append("         hint: " + c.hint)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        color = "#1a7f37" if self.passed else "#b35900"
        rows = []
        for c in self.checks:
            mark = "&#10004;" if c.passed else ("&#8212;" if c.skipped else "&#10008;")
            info = "" if c.passed else "<br>".join(
                e(x) for x in ([c.detail] if c.detail else []) + ([f"hint: {c.hint}"] if c.hint else []))
            rows.append(f"<tr><td>{mark}</td><td>{e(c.name)}</td><td>{c.earned}/{c.points}</td>"
                        f"<td style='text-align:left'>{info}</td></tr>")
        notes = "".join(f"<li>{e(n)}</li>" for n in self.notes)
        seed = (f"<p><small>hidden random cases used seed={self.seed}</small></p>"
                if self.seed is not None and self.status == "graded" else "")
        return (f"<div><b style='color:{color}'>{e(self._headline())}</b>"
                f"<table>{''.join(rows)}</table>"
                f"{'<ul>' + notes + '</ul>' if notes else ''}{seed}</div>")
