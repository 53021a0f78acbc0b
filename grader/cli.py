"""Command line: ``python -m grader {grade,check,calibrate}``. A thin layer over
``grader.engine`` and ``grader.calibrate``.

``grade --results PATH`` always leaves a valid Gradescope results file at PATH: a grade,
or a score of 0 saying why grading failed (the worker did not start or died, the
calibration does not fit, the time budget ran out, anything else). A grade that could
not be made exits with status 2, so the staff see an autograder failure; problems the
student's code caused are part of the grade (status 0).
"""

import argparse
import json
import os
import signal
import sys
import time
import traceback

from grader import results
from grader.config import CALIBRATION_FILE, CHECK, GRADE, SEED_ENV_VAR

#: Seconds past the grade's own time budget after which the grade is abandoned.
ALARM_MARGIN_SECONDS = 30


class GradeTimeout(BaseException):
    """The whole grade went past its time budget, or was stopped from outside.

    A BaseException, like KeyboardInterrupt: the ``except Exception`` clauses that keep
    untrusted input from crashing the grade must not swallow it.
    """


def _profile(name, seed):
    profile = {"grade": GRADE, "check": CHECK}[name]
    seed = seed if seed is not None else os.environ.get(SEED_ENV_VAR)
    return profile.with_seed(seed) if seed not in (None, "") else profile


class ResultsFile:
    """Where results.json goes, with its folder opened before any student code runs, so
    the file lands in that very folder even if the path was tampered with meanwhile."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.folder = os.path.dirname(self.path)
        self.name = os.path.basename(self.path)
        os.makedirs(self.folder, exist_ok=True)
        self.folder_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)

    def write(self, document):
        """Write ``document`` atomically; returns True when a valid file is in place."""
        text = json.dumps(results.clean(document), indent=2, allow_nan=False)
        temporary = f".{self.name}.{os.getpid()}.tmp"
        try:
            os.unlink(temporary, dir_fd=self.folder_fd)
        except FileNotFoundError:
            pass
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644,
                     dir_fd=self.folder_fd)
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, self.name, src_dir_fd=self.folder_fd, dst_dir_fd=self.folder_fd)
        return True


def _on_alarm(signum, frame):
    raise GradeTimeout("the grade took longer than its time budget")


def _on_terminate(signum, frame):
    raise GradeTimeout(f"the grade was stopped from outside ({signal.Signals(signum).name})")


def cmd_grade(args):
    """Grade with public and hidden tests; always writes results when --results is given."""
    from grader import engine
    started = time.monotonic()
    target = ResultsFile(args.results) if args.results else None
    if target is not None:  # nothing there must pass for a grade while (or if) we fail
        target.write(results.failure_document("grading did not finish"))
    budget = engine.total_seconds()
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    previous_term = signal.signal(signal.SIGTERM, _on_terminate)
    signal.alarm(int(budget + ALARM_MARGIN_SECONDS))
    try:
        report = engine.grade(args.submission, profile=_profile("grade", args.seed),
                              protected_paths=[target.folder] if target else (),
                              deadline=started + budget)
        document = results.to_gradescope(report)
        json.dumps(document, allow_nan=False)
    except BaseException as error:  # grading itself failed: still leave a valid results file
        signal.alarm(0)
        message = results.clean_text(f"{type(error).__name__}: {error}" if str(error)
                                     else type(error).__name__)
        if target is not None:
            target.write(results.failure_document(message.splitlines()[0][:500]))
        print(f"grading failed: {message}", file=sys.stderr)
        if not isinstance(error, (ValueError, RuntimeError, GradeTimeout)):
            traceback.print_exc()
        if isinstance(error, KeyboardInterrupt):
            raise
        return 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        signal.signal(signal.SIGTERM, previous_term)
    if target is not None:
        target.write(document)
    print(results.format_table(report))
    _report_isolation(report)
    if report.infrastructure_failure:
        print(f"grading failed after {report.attempts} attempt(s): "
              f"{results.clean_text(report.infrastructure_failure)}", file=sys.stderr)
        return 2
    return 0


def _report_isolation(report):
    """For the course staff (stdout is hidden from students on Gradescope)."""
    for part, outcome in report.part_outcomes.items():
        if outcome is None:
            continue
        print(f"[{part}] {outcome.wall_seconds:.1f} s wall, {outcome.cpu_seconds:.1f} s CPU, "
              f"{outcome.peak_private_mb:.0f} MB private, isolation {outcome.isolation}, "
              f"{outcome.leftover_processes_killed} leftover process(es) killed"
              + (f", {outcome.problem()}" if outcome.problem() else ""), file=sys.stderr)
    if report.tampered:
        print("WARNING: the submission changed these grader files while it ran (restore them, "
              "e.g. with git): " + ", ".join(report.tampered), file=sys.stderr)


def chosen_parts(spec):
    """The part names ``--part`` asks for ("7", "backprop", "7,9"), in the assignment's
    order; None for every part. Raises ValueError naming what is not a part."""
    from grader.parts import PARTS
    if not spec:
        return None
    names = list(PARTS)
    chosen = set()
    for item in (piece.strip() for piece in str(spec).split(",")):
        if item.isdigit() and 1 <= int(item) <= len(names):
            chosen.add(names[int(item) - 1])
        elif item in PARTS:
            chosen.add(item)
        else:
            listing = ", ".join(f"{number} {name}" for number, name in enumerate(names, 1))
            raise ValueError(f"--part {item!r} is not a part of this assignment: expected a "
                             f"number or a name of {listing}")
    return [name for name in names if name in chosen]


def cmd_check(args):
    """The student's self-check: first the imports the grading environment lacks, then the
    public tests (small data, seconds), then pictures of the student's own runs when
    ``logs/`` holds some (``feedback/index.html``)."""
    from grader import engine, envcheck, feedback
    if os.path.isdir(args.submission):
        for problem in envcheck.find_problems(args.submission, envcheck.submission_modules()):
            print(f"WARNING: {problem.message()}\n")
    try:
        chosen = chosen_parts(args.part)
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    report = engine.grade(args.submission, profile=_profile("check", args.seed),
                          include_hidden=False, parts=chosen)
    print(results.format_table(report))
    if report.infrastructure_failure:
        return 2
    print("\nThis self-check runs the public tests only, on a small data set. "
          "The autograder also runs hidden tests.")
    logs = args.logs or os.path.join(args.submission, "logs")
    if os.path.isdir(logs):
        try:
            page = feedback.write_feedback(logs, args.feedback)
        except Exception as error:  # pictures are extra: never fail the self-check for them
            print(f"(no pictures of your runs: {type(error).__name__}: {error})")
        else:
            if page is not None:
                print(feedback.feedback_summary(page))
    return 0


def cmd_grade_all(args):
    """Grade every folder or zip in a folder into a gradebook, in parallel and resumably
    (see ``grader.gradebook``)."""
    from grader import gradebook
    parts = [p for p in (args.parts or "").split(",") if p] or None
    try:
        run = gradebook.grade_all(
            args.folder, args.gradebook, profile=args.profile, seed=args.seed,
            include_hidden=False if args.public_only else None, parts=parts, jobs=args.jobs,
            scheduler=args.scheduler, results_dir=args.results_dir, report_dir=args.report_dir,
            store_dir=args.store, regrade=args.regrade, progress=not args.no_progress,
            student_id_pattern=args.student_id_regex)
    except KeyboardInterrupt as stop:
        run = stop.args[0] if stop.args and isinstance(stop.args[0], gradebook.Run) else None
        print("interrupted: the grades made so far are kept; run the same command again to "
              "finish" + (f" ({run.paths['gradebook']})" if run else ""), file=sys.stderr)
        return 130
    failed = run.failed
    print(f"wrote {run.paths['gradebook']}: {len(run.rows)} submission(s), {run.graded} graded "
          f"now, {run.reused} already graded (store {run.paths['store']})"
          + (f"; {len(failed)} could not be graded: {', '.join(failed)}" if failed else ""))
    print(f"LMS export: {run.paths['lms']}; class report: "
          f"{os.path.join(run.paths['report'], 'index.html')}; results: {run.paths['results']}")
    return 2 if failed else 0


def cmd_calibrate(args):
    from grader import calibrate
    calibrate.main(args.solutions, args.output, seeds=args.seeds, every_part=args.all)
    return 0


def cmd_release(args):
    from grader import release
    try:
        report = release.release(out=args.out, grade=not args.no_grade)
    except release.ReleaseError as problem:
        print(f"make dist stopped, nothing was written:\n{problem}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def cmd_parts(args):
    """The assignment's parts as configured: modules, test points, what is calibrated."""
    from otter.test_files.exception_test import ExceptionTestFile
    from grader import parts
    print(f"{'#':>2}  {'part':<16} {'modules':<34} {'public':>6} {'hidden':>6}  calibrated")
    total = public = 0.0
    for number, (name, part) in enumerate(parts.PARTS.items(), start=1):
        cases = ExceptionTestFile.from_file(str(part.test_file)).test_cases
        scale = parts.part_points(name, cases)
        shown = sum(float(c.points or 0) for c in cases if not c.hidden) * scale
        hidden = sum(float(c.points or 0) for c in cases if c.hidden) * scale
        total, public = total + shown + hidden, public + shown
        print(f"{number:>2}  {name:<16} {', '.join(part.graded_modules):<34} {shown:>6g} "
              f"{hidden:>6g}  {'yes' if part.calibrated else 'no'}")
    print(f"total {total:g} points, {public:g} in public tests (grader/assignment.toml)")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a submission folder or .zip")
    grade.add_argument("submission")
    grade.add_argument("--results", help="where to write Gradescope's results.json")
    grade.add_argument("--seed", type=int, default=None, help=f"training seed (or ${SEED_ENV_VAR})")
    grade.set_defaults(run=cmd_grade)
    grade_all = commands.add_parser("grade-all", help="grade a folder of submissions into a "
                                    "gradebook (in parallel, resumable, with a class report)")
    grade_all.add_argument("folder", help="one sub-folder or .zip per student")
    grade_all.add_argument("--gradebook", default="gradebook.csv",
                           help="the gradebook CSV; the LMS export, results, report and store "
                                "go next to it (<stem>-lms.csv, -results/, -report/, -store/)")
    grade_all.add_argument("--results-dir", default=None, help="where <name>.json go")
    grade_all.add_argument("--report-dir", default=None, help="where the class report goes")
    grade_all.add_argument("--store", default=None, help="where grades are kept for reruns")
    grade_all.add_argument("--jobs", type=int, default=None,
                           help="grades at once on this machine (default: its usable CPUs; "
                                "0: one by one in this process)")
    grade_all.add_argument("--scheduler", default=None,
                           help="a Dask scheduler (tcp://host:8786): grade on its workers")
    grade_all.add_argument("--profile", choices=("grade", "check"), default="grade")
    grade_all.add_argument("--parts", default=None, help="grade only these parts (comma-separated)")
    grade_all.add_argument("--public-only", action="store_true", help="leave out hidden tests")
    grade_all.add_argument("--regrade", action="store_true", help="ignore grades already kept")
    grade_all.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade_all.add_argument("--student-id-regex", default=None,
                           help="student id from the submission name: the group 'id' of this "
                                "regular expression (default: the whole name)")
    grade_all.add_argument("--seed", type=int, default=None)
    grade_all.set_defaults(run=cmd_grade_all)
    check = commands.add_parser("check", help="run the public tests on your work")
    check.add_argument("submission", nargs="?", default=".")
    check.add_argument("--seed", type=int, default=None)
    check.add_argument("--logs", default=None,
                       help="your experiments' TensorBoard logs (default: SUBMISSION/logs)")
    check.add_argument("--feedback", default=None,
                       help="where the pictures of your runs go (default: next to the logs, feedback/)")
    check.add_argument("--part", default=None,
                       help="check only these parts: numbers or names, comma-separated "
                            "(e.g. 7 or backprop,9); default every part")
    check.set_defaults(run=cmd_check)
    calibrate = commands.add_parser("calibrate", help="measure the reference over several seeds")
    calibrate.add_argument("--solutions", default="solutions")
    calibrate.add_argument("--output", default=str(CALIBRATION_FILE))
    calibrate.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    calibrate.add_argument("--all", action="store_true",
                           help="re-measure every calibrated part, not only the stale ones")
    calibrate.set_defaults(run=cmd_calibrate)
    parts_command = commands.add_parser("parts", help="list the assignment's parts and points")
    parts_command.set_defaults(run=cmd_parts)
    release = commands.add_parser(
        "release", help="make dist: check the calibration, grade the reference (full marks) "
                        "and the skeleton (zero), then build the bundles")
    release.add_argument("--out", default=None, help="output folder (default: dist/)")
    release.add_argument("--no-grade", action="store_true",
                         help="skip grading the reference and the skeleton (not for release)")
    release.set_defaults(run=cmd_release)
    return parser


def main(argv=None):
    for stream in (sys.stdout, sys.stderr):  # text from student code must never stop a print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    return args.run(args)
