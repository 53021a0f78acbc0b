"""Command line: a thin layer over `builder.pipeline`.

    python -m builder dist [--root .] [--out DIR]   build assignment/ and dist/, print a report
    python -m builder check-stale [--root .]         exit 1 if assignment/ is not what dist would write

Exit status: 0 success, 1 stale assignment/, 2 build error (the message names file and line).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .markers import MarkerError
from .pipeline import BuildError, build_dist, stale_assignment_files
from .public_tests import HiddenTestError

EXIT_OK, EXIT_STALE, EXIT_BUILD_ERROR = 0, 1, 2
BUILD_ERRORS = (MarkerError, HiddenTestError, BuildError)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m builder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    dist = commands.add_parser("dist", help="write assignment/ and the student and autograder bundles")
    dist.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    dist.add_argument("--out", type=Path, default=None, help="output folder (default: ROOT/dist)")
    stale = commands.add_parser("check-stale", help="fail if assignment/ is out of date with solutions/ or the parts' test files")
    stale.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv``; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "dist":
            report = build_dist(args.root, args.out)
            print(report.summary())
            return EXIT_OK
        problems = stale_assignment_files(args.root)
    except BUILD_ERRORS as exc:
        print(f"make dist failed ({type(exc).__name__}):\n{exc}", file=sys.stderr)
        return EXIT_BUILD_ERROR
    if problems:
        print("assignment/ is stale; run `make dist` and commit the result:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_STALE
    print("assignment/ is up to date")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
