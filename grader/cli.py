"""Command line: ``python -m grader {grade,check,calibrate}``. A thin layer over
``grader.engine`` and ``grader.calibrate``."""

import argparse
import os
import sys
import traceback

from grader import results
from grader.config import CALIBRATION_FILE, CHECK, GRADE, SEED_ENV_VAR


def _profile(name, seed):
    profile = {"grade": GRADE, "check": CHECK}[name]
    seed = seed if seed is not None else os.environ.get(SEED_ENV_VAR)
    return profile.with_seed(seed) if seed not in (None, "") else profile


def cmd_grade(args):
    """Grade with public and hidden tests; always writes results when --results is given."""
    from grader import engine
    try:
        report = engine.grade(args.submission, profile=_profile("grade", args.seed))
    except Exception as error:  # grading itself failed: still leave a valid results file
        if args.results:
            results.write_json(results.failure_document(f"{type(error).__name__}: {error}"),
                               args.results)
        print(f"grading failed: {type(error).__name__}: {error}", file=sys.stderr)
        if not isinstance(error, (ValueError, RuntimeError)):
            traceback.print_exc()
        return 2
    if args.results:
        results.write_json(results.to_gradescope(report), args.results)
    print(results.format_table(report))
    return 0


def cmd_check(args):
    """The student's self-check: public tests, small data, seconds."""
    from grader import engine
    report = engine.grade(args.submission, profile=_profile("check", args.seed), include_hidden=False)
    print(results.format_table(report))
    print("\nThis self-check runs the public tests only, on a small data set. "
          "The autograder also runs hidden tests.")
    return 0


def cmd_grade_all(args):
    """Grade every folder or zip in a folder into a gradebook CSV."""
    from grader import gradebook
    rows = gradebook.grade_all(args.folder, args.gradebook, profile=_profile("grade", args.seed),
                               results_dir=args.results_dir)
    print(f"wrote {args.gradebook}: {len(rows)} submission(s)")
    return 0


def cmd_calibrate(args):
    from grader import calibrate
    calibrate.main(args.solutions, args.output, seeds=args.seeds)
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a submission folder or .zip")
    grade.add_argument("submission")
    grade.add_argument("--results", help="where to write Gradescope's results.json")
    grade.add_argument("--seed", type=int, default=None, help=f"training seed (or ${SEED_ENV_VAR})")
    grade.add_argument("--gradescope", action="store_true",
                       help="running inside Gradescope's /autograder layout (no extra effect yet)")
    grade.set_defaults(run=cmd_grade)
    grade_all = commands.add_parser("grade-all", help="grade a folder of submissions into a CSV")
    grade_all.add_argument("folder", help="one sub-folder or .zip per student")
    grade_all.add_argument("--gradebook", default="gradebook.csv")
    grade_all.add_argument("--results-dir", default=None, help="also write <name>.json per student")
    grade_all.add_argument("--seed", type=int, default=None)
    grade_all.set_defaults(run=cmd_grade_all)
    check = commands.add_parser("check", help="run the public tests on your work")
    check.add_argument("submission", nargs="?", default=".")
    check.add_argument("--seed", type=int, default=None)
    check.set_defaults(run=cmd_check)
    calibrate = commands.add_parser("calibrate", help="measure the reference over several seeds")
    calibrate.add_argument("--solutions", default="solutions")
    calibrate.add_argument("--output", default=str(CALIBRATION_FILE))
    calibrate.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    calibrate.set_defaults(run=cmd_calibrate)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)
