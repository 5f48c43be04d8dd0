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
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
