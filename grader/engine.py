"""Grading a submission: run its parts in the sandbox, turn what they left into the
values the test files ask for, and run the otter-format test cases in this (trusted)
process.

    load and fingerprint everything trusted (test files, calibration, grader files)
    -> stage submission -> load data -> run parts in the sandbox -> read steps
    -> check the grader's files are unchanged -> build experiments -> run test cases
    -> withhold any message quoting hidden files -> GradeReport

Everything the grade trusts is read before any student code runs, and the whole grade
keeps to one time budget (``TRAIN_GRADER_TOTAL_SECONDS``, default 540 s, inside
Gradescope's default 10 minutes): parts that would start after it are not run, and the
last part's wall-time limit is shortened to fit.
"""

import dataclasses
import hashlib
import inspect
import json
import os
import re
import sys
import tempfile
import time
import traceback

from otter.test_files.exception_test import ExceptionTestFile

import datasets
from grader import artifacts, calibration, replay, runs, submission, tblogs
from grader.parts import PARTS, STEP_TO_PART, part_points
from grader.integrity import (TrustedFiles, files_under, meaningful_lines, quotes_secret,
                              read_lines, secret_lines, submission_files)
from grader.config import CALIBRATION_FILE, HELD_OUT_FILE, PACKAGE_DIR, PACKAGE_ROOT, Limits
from grader.sandbox import oslimits
from grader.sandbox.supervisor import Worker, WorkerError  # noqa: F401 - re-exported

#: Values the engine provides to test functions besides step results (and the parts'
#: own ``Part.provides``). ``sources`` maps each staged module name to its text, read on
#: the trusted side before any student code runs (for static checks such as "NumPy only").
PROVIDED = ("thresholds", "profile", "env", "sources")
#: Default whole-grade time budget in seconds (``TRAIN_GRADER_TOTAL_SECONDS``).
DEFAULT_TOTAL_SECONDS = 540.0
#: Part of the budget kept for scoring and writing results after the last part.
SCORING_RESERVE_SECONDS = 15.0
#: A part is not started with less than this many seconds of budget left.
MIN_PART_SECONDS = 5.0
#: Attempts at a grade that fails for a reason that is not the student's (see ``grade``).
GRADE_ATTEMPTS = 2
#: Another attempt is made only with at least this many seconds of the budget left.
MIN_RETRY_SECONDS = 30.0
#: Student-visible output of a part that ended abnormally, shown in the notes.
OUTPUT_NOTE_CHARS = 1500
WITHHELD = ("[This message was withheld: it quoted files of the grader that submissions "
            "must not read.]")
DATA_ENV_VAR = "TRAIN_QUICKDRAW_DATA"


@dataclasses.dataclass
class TestResult:
    name: str
    file: str
    score: float
    max_score: float
    hidden: bool
    message: str

    @property
    def passed(self):
        return self.score >= self.max_score


@dataclasses.dataclass
class GradeReport:
    results: list
    notes: list
    part_outcomes: dict
    seconds: float
    tampered: list = dataclasses.field(default_factory=list)
    #: Why no grade could be made, when that is not the student's doing (the worker did
    #: not start or died, the grader failed), after every attempt; None for a grade.
    infrastructure_failure: str | None = None
    attempts: int = 1

    @property
    def score(self):
        return round(sum(r.score for r in self.results), 4)

    @property
    def max_score(self):
        return round(sum(r.max_score for r in self.results), 4)


def total_seconds(environ=None):
    """The whole grade's time budget: ``TRAIN_GRADER_TOTAL_SECONDS`` or the default."""
    raw = (os.environ if environ is None else environ).get("TRAIN_GRADER_TOTAL_SECONDS")
    try:
        return float(raw) if raw else DEFAULT_TOTAL_SECONDS
    except ValueError:
        raise ValueError(f"TRAIN_GRADER_TOTAL_SECONDS={raw!r}: expected a number of seconds") from None


def load_test_files(tests_dir=None):
    """The otter test files: each selected part's (``grader/parts/<name>/tests.py``, in the
    assignment's order, points scaled as configured), or every file in ``tests_dir``."""
    if tests_dir is not None:
        return [ExceptionTestFile.from_file(os.path.join(tests_dir, name))
                for name in sorted(os.listdir(tests_dir))
                if name.endswith(".py") and not name.startswith("_")]
    files = []
    for name, part in PARTS.items():
        test_file = ExceptionTestFile.from_file(str(part.test_file))
        scale = part_points(name, test_file.test_cases)
        if scale != 1.0:
            for case in test_file.test_cases:
                case.points = round(float(case.points or 0) * scale, 4)
        files.append(test_file)
    return files


def case_parameters(case):
    return list(inspect.signature(case.body.test_func).parameters)


@dataclasses.dataclass(frozen=True)
class DataIdentity:
    """What the grade's data is: a description and a checksum covering every split."""

    description: str
    sha256: str


def held_out_seed(profile, path=HELD_OUT_FILE):
    """The secret seed of the held-out split: ``grader/held_out.json`` (autograder only).
    Without it (the student bundle) the self-check uses a public stand-in."""
    try:
        with open(path) as handle:
            return int(json.load(handle)["seed"])
    except (OSError, ValueError, KeyError, TypeError):
        return profile.data_seed + 1


def load_data(profile):
    """The grader's splits of the configured data source, plus its identity.

    Train and validation come from the public data seed. The held-out split, which never
    enters the sandbox, is drawn with a seed only the autograder holds, so no student can
    regenerate it: separately generated drawings for the synthetic data, and a secret
    choice of rows for data files.
    """
    secret = held_out_seed(profile)
    needed = profile.n_train + profile.n_val
    dataset = datasets.load_source(n_per_class=profile.n_per_class, seed=profile.data_seed)
    k = len(dataset.class_names)
    if dataset.description.startswith("synthetic"):
        if len(dataset.y) < needed:
            dataset = datasets.load_source(n_per_class=-(-needed // k), seed=profile.data_seed)
        splits = datasets.split(dataset, n_train=profile.n_train, n_val=profile.n_val, n_test=0,
                                seed=profile.data_seed)
        held_out = datasets.load_source(n_per_class=-(-profile.n_test // k), seed=secret)
        splits["test"] = datasets.split(held_out, n_train=0, n_val=0, n_test=profile.n_test,
                                        seed=secret)["test"]
        sha = hashlib.sha256((dataset.sha256 + held_out.sha256).encode()).hexdigest()
    else:
        if len(dataset.y) < needed + profile.n_test:  # fewer classes than the profile assumes
            per_class = -(-(needed + profile.n_test) // k)
            dataset = datasets.load_source(n_per_class=per_class, seed=profile.data_seed)
        splits = datasets.split(dataset, n_train=profile.n_train, n_val=profile.n_val,
                                n_test=profile.n_test, seed=secret)
        sha = hashlib.sha256((dataset.sha256 + str(secret)).encode()).hexdigest()
    data = {}
    for split_name, (x, y) in splits.items():
        data[f"x_{split_name}"], data[f"y_{split_name}"] = x, y
    return data, DataIdentity(description=dataset.description, sha256=sha)


# ----------------------------------------------------------------- running parts

def collect(submission_dir, profile, steps_needed, data, *, limits=None, hidden_paths=(),
            deadline=None, replay_runs=True):
    """Run the parts that hold ``steps_needed`` and return ``(env, outcomes)``.

    ``env`` maps each step name to a ``grader.artifacts.Step`` or, for experiment steps
    that ran, a ``grader.runs.Experiment``. ``replay_runs=False`` skips the replay of
    the runs (``make calibrate`` measures the trusted reference: its runs need no evidence).
    Raises ``WorkerError`` when the sandbox worker cannot start.
    """
    limits = limits or Limits.from_env()
    deadline = deadline if deadline is not None else time.monotonic() + total_seconds()
    selected = [name for name in PARTS if any(STEP_TO_PART.get(s) == name for s in steps_needed)]
    sandbox_data = {k: v for k, v in data.items() if not k.endswith("_test")}
    env, outcomes, step_arrays = {}, {}, {}
    array_budget = artifacts.grade_array_budget(sandbox_data)
    with Worker(sandbox_data, submission_dir, profile, limits, hidden_paths=hidden_paths,
                deadline=deadline) as worker:
        for name in selected:
            part = PARTS[name]
            inputs = part_inputs(part)
            left = deadline - time.monotonic()
            if left < MIN_PART_SECONDS:
                outcome = None
                problem = "not run: the whole grade ran out of time in earlier parts"
            else:
                outcome = worker.run_part(name, wall_seconds=left, inputs=inputs)
                problem = outcome.problem()
            outcomes[name] = outcome
            outdir = outcome.outdir if outcome else ""
            for step_name in part.step_names:
                if outcome is None:
                    env[step_name] = artifacts.Step(step_name, False, outdir, error=problem)
                    continue
                step = artifacts.read_step(outdir, step_name, problem, array_budget)
                step_arrays[step_name] = step.arrays
                env[step_name] = _finish_step(step, part, inputs, data, profile)
        experiments = [value for value in env.values() if isinstance(value, runs.Experiment)]
        if profile.reference_model and experiments and replay_runs:
            replay.verify(experiments, step_arrays, data, profile,
                          replay.context(_data_sha256(data), profile), worker,
                          wall_seconds=max(deadline - time.monotonic() - SCORING_RESERVE_SECONDS,
                                           MIN_PART_SECONDS))
    return env, outcomes


def _data_sha256(data):
    """Checksum of the arrays the sandbox was given (the replays depend on them)."""
    digest = hashlib.sha256()
    for name in sorted(data):
        if not name.endswith("_test"):
            digest.update(name.encode() + data[name].dtype.str.encode()
                          + repr(data[name].shape).encode() + data[name].tobytes())
    return digest.hexdigest()


def part_inputs(part):
    """What the trusted side tells ``part``'s probes, derived from its test file."""
    if part.inputs is None:
        return {}
    return part.inputs(part.test_file.read_text())


def _check_record(step, part, inputs):
    """The step's record, held to the shape its part declares (``Part.record_checks``):
    one output per case the grader asked for (the cases themselves are taken from the
    grader, never from the record), every answer asked for... A record written by student
    code instead of the probes cannot make a check pass vacuously."""
    check = part.record_checks.get(step.name)
    problem = check(step.value, step.arrays, inputs) if check else None
    if problem is None:
        return step
    return artifacts.Step(step.name, False, step.outdir, error=(
        f"the grader could not use this step's results: expected {problem} "
        "(was a result file written by something other than the grader?)"))


def _finish_step(step, part, inputs, data, profile):
    if step.ok:
        step = _check_record(step, part, inputs)
    sweep = part.experiments.get(step.name)
    if not step.ok or sweep is None:
        return step
    try:
        if sweep.build is not None:
            experiment = sweep.build(step, profile, data)
        else:
            experiment = runs.build_experiment(step, sweep.setting, sweep.values(profile), data,
                                               epochs=profile.epochs, label=sweep.label.format)
    except Exception as problem:  # noqa: BLE001 - untrusted input must not crash the grade
        return artifacts.Step(step.name, False, step.outdir,
                              error=f"the grader could not make sense of this experiment's results "
                                    f"({type(problem).__name__}); were result files altered?")
    if experiment.n_fits == 0 and not experiment.result_error:
        return artifacts.Step(step.name, False, step.outdir, error=(
            "no model was trained with the build_fn the grader passed in (0 calls of fit on "
            "a model it built), so nothing this experiment returned or logged can be "
            "credited: build every run's model with build_fn and train it with fit"))
    return experiment


def run_case(case, env):
    """Run one test case: ``(passed, message)``. Never raises."""
    for parameter in case_parameters(case):
        value = env.get(parameter)
        if isinstance(value, artifacts.Step) and not value.ok:
            return False, value.error
    try:
        case.body.call_func(env)
    except AssertionError as failure:
        return False, str(failure) or "check failed"
    except calibration.CalibrationError as problem:
        return False, f"grader configuration problem: {problem}"
    except Exception as error:  # a test-file bug must not crash or leak the test source
        return False, f"internal grader error in this check ({type(error).__name__}); " \
                      "please report it to the course staff"
    return True, "passed"


def _owner(test_file):
    """The part a test file belongs to: its folder (``grader/parts/<name>/tests.py``) or, for
    a flat copy of the test files (``tests_dir``), its name (``<name>.py``)."""
    path = os.path.abspath(test_file.path)
    for name, part in PARTS.items():
        if path == os.path.abspath(part.test_file):
            return name
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if stem in PARTS else None


def _selected(case, parts, owner=None):
    """Is ``case`` graded when only ``parts`` are (None: all)? A case belongs to its test
    file's part; a case of an unknown file, to the parts of the steps it reads."""
    if parts is None:
        return True
    if owner is not None:
        return owner in parts
    steps = [p for p in case_parameters(case) if p in STEP_TO_PART]
    return bool(steps) and all(STEP_TO_PART[s] in parts for s in steps)


def grade(submission_path, *, profile, include_hidden=True, tests_dir=None,
          calibration_path=CALIBRATION_FILE, limits=None, parts=None, protected_paths=(),
          deadline=None):
    """Grade one submission and return a GradeReport (never raises for student faults).

    Parameters
    ----------
    submission_path : str or Path
        A folder or a .zip.
    profile : grader.config.Profile
    include_hidden : bool, default=True
        Also run the hidden test cases (needs the calibration file).
    parts : collection of str, optional
        Grade only these parts (names of ``grader.PARTS``); default all.
    protected_paths : sequence of str
        More folders or files the sandboxed parts must not see (e.g. the results folder).
    deadline : float, optional
        ``time.monotonic()`` value by which the report must be ready; default now plus
        ``TRAIN_GRADER_TOTAL_SECONDS``.

    A grade that could not be made for a reason that is not the student's (the worker
    did not start or died, a part could not be started, the grader itself failed) is
    tried once more; if that fails too, the report has no results and says why in
    ``infrastructure_failure`` (results.json: score 0, "not a problem with your code").

    Raises
    ------
    grader.calibration.CalibrationError
        If hidden tests are included and the calibration file does not fit the data.
    """
    started = time.monotonic()
    deadline = deadline if deadline is not None else started + total_seconds()
    arguments = dict(profile=profile, include_hidden=include_hidden, tests_dir=tests_dir,
                     calibration_path=calibration_path, limits=limits, parts=parts,
                     protected_paths=protected_paths, deadline=deadline)
    failures, outcomes = [], {}
    for attempt in range(1, GRADE_ATTEMPTS + 1):
        try:
            report = _grade_once(submission_path, retried=attempt > 1, **arguments)
        except calibration.CalibrationError:
            raise  # the grader's configuration: another attempt cannot help
        except Exception as error:  # noqa: BLE001 - WorkerError, or a bug of the grader
            failure = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            traceback.print_exc()
        else:
            report.seconds, report.attempts = round(time.monotonic() - started, 2), attempt
            if report.infrastructure_failure is None:
                return report
            failure, outcomes = report.infrastructure_failure, report.part_outcomes
        failures.append(failure)
        print(f"grade attempt {attempt} failed (not the student's doing): {failure}",
              file=sys.stderr)
        if deadline - time.monotonic() < MIN_RETRY_SECONDS:
            break
    summary = failures[-1].splitlines()[0][:500] if failures[-1] else "unknown failure"
    return GradeReport(results=[], notes=[], part_outcomes=outcomes,
                       seconds=round(time.monotonic() - started, 2),
                       infrastructure_failure=f"{summary} (tried {len(failures)} time(s))",
                       attempts=len(failures))


def _infrastructure_failure(outcomes, retried):
    """Why the parts did not give a grade, when that is not the student's doing; else None.

    The one place that tells the grader's failures from the student's: a part the
    worker could not run or answer for (``PartOutcome.worker_error``), and, in a second
    attempt, a part left out for lack of time (the failed first attempt used it).
    Timeouts, memory, exit codes and signals of a part are the student's.
    """
    for part, outcome in outcomes.items():
        if outcome is not None and outcome.worker_error:
            return f"part {part!r}: {outcome.worker_error}"
        if outcome is not None and outcome.memory_exceeded and _container_too_small(outcome):
            return (f"part {part!r} was stopped at {outcome.limits.memory_mb} MB, the most this "
                    f"container leaves a part; the reference's parts need about "
                    f"{MIN_PART_MEMORY_MB} MB: give the container at least 768 MB")
        if outcome is None and retried:
            return (f"part {part!r} was not run: the time went to an earlier attempt that "
                    "failed")
    return None


#: A part memory limit below this, derived from a small container (not set by the staff
#: with TRAIN_GRADER_MEMORY_MB), cannot train the reference: a part stopped for memory
#: there is the container's fault, not the student's (bench/cgroup_grade.py at 512 MB).
MIN_PART_MEMORY_MB = 256


def _container_too_small(outcome):
    return (outcome.limits is not None and outcome.limits.memory_mb < MIN_PART_MEMORY_MB
            and not os.environ.get("TRAIN_GRADER_MEMORY_MB"))


def _grade_once(submission_path, *, profile, include_hidden, tests_dir, calibration_path,
                limits, parts, protected_paths, deadline, retried):
    """One attempt at ``grade``; the report says why when the parts could not be run."""
    started = time.monotonic()
    # Everything trusted is read and fingerprinted before any student code runs.
    # (the parts' test files lie in PACKAGE_DIR; a flat copy of them, in ``tests_dir``)
    trusted = TrustedFiles([root for root in (PACKAGE_DIR, tests_dir, calibration_path,
                            os.path.dirname(os.path.abspath(datasets.__file__))) if root])
    test_files = load_test_files(tests_dir)
    cases = [(test_file, case) for test_file in test_files for case in test_file.test_cases
             if (include_hidden or not case.hidden) and _selected(case, parts, _owner(test_file))]
    data, dataset = load_data(profile)
    env = {"profile": profile, "sources": {}}
    for part in PARTS.values():
        env.update({name: make(data) for name, make in part.provides.items()})
    if include_hidden:
        env["thresholds"] = calibration.load(calibration_path, dataset_sha256=dataset.sha256,
                                             profile=profile)
    secret = secret_lines(
        test_files,
        extra_files=[calibration_path, PACKAGE_DIR / "reference_model.py", HELD_OUT_FILE,
                     *files_under(PACKAGE_ROOT / "solutions")],
        public_files=files_under(PACKAGE_ROOT / "assignment"))
    hidden_paths = [PACKAGE_ROOT, PACKAGE_DIR, tests_dir, calibration_path,
                    os.environ.get(DATA_ENV_VAR), os.path.abspath(os.fspath(submission_path)),
                    *_home_folders(), *protected_paths]
    notes = []
    outcomes = {}
    with tempfile.TemporaryDirectory(prefix="train-submission-") as staged:
        try:
            found = submission.stage(submission_path, staged)
        except submission.SubmissionError as problem:
            found = None
            notes.append(str(problem))
        if found is not None:
            if found.get("summary"):  # what was found and what is expected, first
                notes.append(found["summary"])
            if found["missing"]:
                notes.append("missing from the submission: " + ", ".join(found["missing"]))
            if found["log_runs"]:
                notes.append(f"logs/ holds {found['log_runs']} run folder(s); they are not graded: "
                             "the grader re-runs your code and reads the logs it writes")
            notes.extend(found.get("problems", []))
            env["sources"] = {os.path.basename(path)[:-3]: "\n".join(read_lines(path))
                              for path in submission_files(staged) if path.endswith(".py")}
            secret -= meaningful_lines(line for path in submission_files(staged)
                                  for line in read_lines(path))
        steps_needed = {p for _, case in cases for p in case_parameters(case) if p in STEP_TO_PART}
        if found is None:
            step_env = {s: artifacts.Step(s, False, "", error=notes[-1]) for s in STEP_TO_PART}
        else:
            with tblogs.grade_budget():  # the logs of every experiment read together
                step_env, outcomes = collect(staged, profile, steps_needed, data, limits=limits,
                                             hidden_paths=hidden_paths, deadline=deadline)
            failure = _infrastructure_failure(outcomes, retried)
            if failure:
                return GradeReport(results=[], notes=[], part_outcomes=outcomes,
                                   seconds=round(time.monotonic() - started, 2),
                                   infrastructure_failure=failure)
    # Parts that run as the grader's own user (no root) could have rewritten its files.
    tampered = trusted.changed() if oslimits.sandbox_identity() is None else []
    env.update(step_env)
    env["env"] = env
    results = []
    for test_file, case in cases:
        passed, message = run_case(case, env)
        if tampered:
            passed, message = False, ("not graded: the grader's own files were changed while "
                                      "this submission's code ran")
        points = float(case.points or 0)
        message = message if passed else _with_hint(case, message)
        if quotes_secret(message, secret):
            message = WITHHELD
        results.append(TestResult(name=case.name, file=test_file.name, score=points if passed else 0.0,
                                  max_score=points, hidden=case.hidden, message=message))
    if tampered:
        notes.append("Your code changed files of the grader while it ran "
                     f"({len(tampered)} file(s)), so it was given no points. "
                     "Submissions must not write outside their own folders.")
    notes.extend(_output_notes(outcomes, staged))
    notes = [WITHHELD if quotes_secret(note, secret) else note for note in notes]
    return GradeReport(results=results, notes=notes, part_outcomes=outcomes,
                       seconds=round(time.monotonic() - started, 2), tampered=tampered)


def _home_folders():
    """Home folders of root and of the user running the grader (they may hold credentials)."""
    homes = {os.path.expanduser("~"), os.path.expanduser("~root")}
    return sorted(h for h in homes if h and h not in (os.sep, "~", "~root"))


_FRAME = re.compile(r'^\s*File "([^"]*)", line \d+')


def student_output(text, submission_dir):
    """A part's output with traceback frames outside the student's files removed."""
    lines, skip_source = [], False
    prefixes = [os.path.join(submission_dir, "")]
    for line in text.splitlines():
        match = _FRAME.match(line)
        if match:
            path = match.group(1)
            skip_source = not any(path.startswith(p) or "/submission/" in path for p in prefixes)
            if skip_source:
                continue
        elif skip_source and line.startswith("    "):
            skip_source = False
            continue
        else:
            skip_source = False
        lines.append(line)
    text = "\n".join(lines)
    text = re.sub(r"/\S*/submission/", "", text)
    return text


def _output_notes(outcomes, staged):
    notes = []
    for part, outcome in outcomes.items():
        if outcome is None or not outcome.abnormal or not outcome.output.strip():
            continue
        shown = student_output(outcome.output, staged)
        if len(shown) > OUTPUT_NOTE_CHARS:
            shown = "[...]\n" + shown[-OUTPUT_NOTE_CHARS:]
        notes.append(f"Output of part '{part}' before it stopped ({outcome.output_bytes} bytes "
                     f"in all; the end is shown):\n{shown}")
    return notes


def _with_hint(case, message):
    hint = case.failure_message
    return f"{message}\n{hint}" if hint else message
