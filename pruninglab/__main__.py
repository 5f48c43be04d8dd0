"""Command line: ``python -m pruninglab <command>``.

Commands
--------
grade PATH...   execute submitted notebooks and print a score table (see
                :mod:`pruninglab.grading.cli`); ``--json`` for machine-readable output.
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pruninglab",
                                     description="pruninglab command-line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    from .grading import cli
    g = sub.add_parser("grade", help="grade submitted exercise notebooks",
                       description="execute notebooks and print a score table")
    cli.add_arguments(g)
    g.set_defaults(func=cli.run)
    from .interview import cli as quiz_cli  # interview practice (issue 12)
    qz = sub.add_parser("quiz", help="interview practice in the terminal (zh/en)",
                        description="mock interview: answers from stdin, summary and history")
    quiz_cli.add_arguments(qz)
    qz.set_defaults(func=quiz_cli.run)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
