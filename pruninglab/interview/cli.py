"""Terminal front end: ``python -m pruninglab quiz [--n N] [--lang zh|en] [--seed S]
[--topic T ...] [--llm] [--time-limit SECONDS] [--history PATH | --no-history]``.

Reads one answer per question from stdin: a letter A–D (or 0–3) for multiple choice, a number for
numeric questions, and for open questions (answer aloud first) the numbers of the rubric points
you covered, comma-separated (empty = none). Feedback follows each answer; a summary with weak
topics and notebook links ends the session, which is appended to the history file.
"""
from __future__ import annotations

import argparse
import sys

from .bank import TOPICS
from .mock import MockInterview, history_path

__all__ = ["add_arguments", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, default=8, help="number of questions (default 8)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--topic", action="append", choices=sorted(TOPICS), help="restrict to topic(s)")
    p.add_argument("--llm", action="store_true", help="LLM-era questions only")
    p.add_argument("--time-limit", type=float, default=None, help="seconds for the whole session")
    p.add_argument("--history", default=None, help="history file (default $PRUNINGLAB_HISTORY or ~/.pruninglab/…)")
    p.add_argument("--no-history", action="store_true", help="do not append to the history file")


def _parse(it, line):
    s = line.strip()
    if it.kind == "choice":
        if len(s) == 1 and s.upper() in "ABCD"[:len(it.options)]:
            return "ABCD".index(s.upper())
        return int(s) if s.isdigit() else None
    if it.kind == "number":
        return s or None
    return [int(x) - 1 for x in s.replace("，", ",").split(",") if x.strip().isdigit()]


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.6g}"


def run(args, stdin=None, stdout=None) -> int:
    stdin, out = stdin or sys.stdin, stdout or sys.stdout
    zh = args.lang == "zh"
    try:
        iv = MockInterview(args.n, args.lang, args.seed, args.topic, args.time_limit, llm=True if args.llm else None)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for k, it in enumerate(iv.items, 1):
        print(f"\n[{k}/{len(iv.items)}] ({it.topic}) {it.text(args.lang)}", file=out)
        if it.kind == "choice":
            for j, o in enumerate(it.options):
                print(f"  {'ABCD'[j]}. {o}", file=out)
            print("> " + ("选项字母：" if zh else "option letter:"), file=out, flush=True)
        elif it.kind == "number":
            print("> " + ("数字：" if zh else "a number:"), file=out, flush=True)
        else:
            print("  " + ("先口头回答，然后输入你覆盖到的要点编号（逗号分隔）：" if zh
                          else "Answer aloud, then type the numbers of the points you covered (comma-separated):"), file=out)
            for j, r in enumerate(it.rubric, 1):
                print(f"   {j}. {r}", file=out)
            print("> ", file=out, flush=True)
        line = stdin.readline()
        if not line:
            print("(end of input)", file=out)
            break
        score = iv.answer(it.id, _parse(it, line))
        if it.kind == "choice":
            fb = f"{'ABCD'[it.correct]}. {it.options[it.correct]}"
        elif it.kind == "number":
            fb = f"{_fmt(it.answer)} — {it.explanation}"
        else:
            fb = f"{score:.0%}"
        print(("得分" if zh else "score") + f" {score:.2f}  ({fb})", file=out)
        print(("  复习：" if zh else "  taught in: ") + it.link, file=out)
    res = iv.finish()
    print("\n" + res.summary(), file=out)
    if not args.no_history:
        from .mock import append_history
        p = append_history(res, args.history)
        print(("已记录到 " if zh else "saved to ") + str(p), file=out)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m pruninglab quiz")
    add_arguments(p)
    return run(p.parse_args(argv))
