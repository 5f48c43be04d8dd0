"""Command line: ``python -m pruninglab <command>``.

Commands
--------
grade PATH...   grade submitted notebooks in confined processes; table, ``--json``,
                ``--csv gradebook.csv``, ``--feedback DIR``, ``-j N`` (:mod:`pruninglab.grading.cli`)
release OUTDIR  write a course release: learner + instructor notebooks and an nbgrader course
                layout (:mod:`pruninglab.grading.release`)
quiz            mock interview in the terminal (:mod:`pruninglab.interview.cli`)

Adding a command is one entry in :data:`COMMANDS`: ``name: (module, help)``, where the module
defines ``add_arguments(parser)`` and ``run(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "grade": ("pruninglab.grading.cli", "grade submitted exercise notebooks (confined, gradebook)"),
    "release": ("pruninglab.grading.release", "write learner/instructor notebooks and an nbgrader course"),
    "quiz": ("pruninglab.interview.cli", "interview practice in the terminal (zh/en): answers from stdin"),
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m pruninglab",
                                     description="pruninglab command-line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    # only the chosen command's module is imported (the grader's registry, the interview bank
    # and their numpy/torch imports are not paid by the other commands)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            p.set_defaults(func=mod.run)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
