"""Grading a submission: run its parts in the sandbox, turn what they left into the
values the test files ask for, and run the otter-format test cases in this (trusted)
process.

    stage submission -> load data -> run parts in the sandbox -> read steps
    -> build experiments -> run test cases -> GradeReport
"""

import dataclasses
import inspect
import os
import tempfile
import time

from otter.test_files.exception_test import ExceptionTestFile

import datasets
from grader import artifacts, calibration, probes, runs, submission
from grader.config import TESTS_DIR, CALIBRATION_FILE, Limits
from grader.sandbox.supervisor import Worker

#: Experiment step -> (setting name, profile attribute holding the settings, label format).
EXPERIMENT_STEPS = {
    "normalization_experiment": ("input", None, "the {} run"),
    "batch_size_experiment": ("batch_size", "batch_sizes", "batch size {}"),
    "learning_rate_experiment": ("learning_rate", "learning_rates", "learning rate {:g}"),
    "optimizer_experiment": ("optimizer", "optimizers", "optimizer {!r}"),
}
STEP_TO_PART = {probes.step_name(step): part
                for part, (_, _, steps) in probes.PARTS.items() for step in steps}
#: Values the engine provides to test functions besides step results.
PROVIDED = ("thresholds", "profile", "normalize_input", "env")
#: Whole-grade time budget; parts that would start after it are not run.
TOTAL_SECONDS = float(os.environ.get("TRAIN_GRADER_TOTAL_SECONDS", "540"))


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

    @property
    def score(self):
        return round(sum(r.score for r in self.results), 4)

    @property
    def max_score(self):
        return round(sum(r.max_score for r in self.results), 4)


def load_test_files(tests_dir=TESTS_DIR):
    """Every otter test file in ``tests_dir``, sorted by file name."""
    files = []
    for name in sorted(os.listdir(tests_dir)):
        if name.endswith(".py") and not name.startswith("_"):
            files.append(ExceptionTestFile.from_file(os.path.join(tests_dir, name)))
    return files


def case_parameters(case):
    return list(inspect.signature(case.body.test_func).parameters)


def load_data(profile):
    """The grader's splits of the configured data source, plus its description."""
    dataset = datasets.load_source(n_per_class=profile.n_per_class, seed=profile.data_seed)
    needed = profile.n_train + profile.n_val + profile.n_test
    if len(dataset.y) < needed:  # fewer classes than the profile assumes (e.g. 6 real categories)
        per_class = -(-needed // len(dataset.class_names))
        dataset = datasets.load_source(n_per_class=per_class, seed=profile.data_seed)
    splits = datasets.split(dataset, n_train=profile.n_train, n_val=profile.n_val,
                            n_test=profile.n_test, seed=profile.data_seed)
    data = {}
    for split_name, (x, y) in splits.items():
        data[f"x_{split_name}"], data[f"y_{split_name}"] = x, y
    return data, dataset


def collect(submission_dir, profile, steps_needed, data, *, limits=None):
    """Run the parts that hold ``steps_needed`` and return ``(env, outcomes)``.

    ``env`` maps each step name to a ``grader.artifacts.Step`` or, for experiment steps
    that ran, a ``grader.runs.Experiment``.
    """
    limits = limits or Limits.from_env()
    parts = [part for part in probes.PARTS if any(STEP_TO_PART.get(s) == part for s in steps_needed)]
    sandbox_data = {k: v for k, v in data.items() if not k.endswith("_test")}
    env, outcomes = {}, {}
    started = time.monotonic()
    with Worker(sandbox_data, submission_dir, profile, limits) as worker:
        for part in parts:
            if time.monotonic() - started > TOTAL_SECONDS:
                outcome = None
                problem = "not run: the whole grade ran out of time in earlier parts"
            else:
                outcome = worker.run_part(part)
                problem = outcome.problem()
            outcomes[part] = outcome
            outdir = outcome.outdir if outcome else ""
            for step in probes.PARTS[part][2]:
                name = probes.step_name(step)
                if outcome is None:
                    env[name] = artifacts.Step(name, False, outdir, error=problem)
                    continue
                env[name] = _finish_step(artifacts.read_step(outdir, name, problem), data, profile)
    return env, outcomes


def _finish_step(step, data, profile):
    if not step.ok or step.name not in EXPERIMENT_STEPS:
        return step
    setting_name, attribute, label = EXPERIMENT_STEPS[step.name]
    settings = ["raw", "normalized"] if attribute is None else list(getattr(profile, attribute))
    try:
        return runs.build_experiment(step, setting_name, settings, data, epochs=profile.epochs,
                                     label=label.format)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as problem:
        return artifacts.Step(step.name, False, step.outdir,
                              error=f"the grader could not make sense of this experiment's results "
                                    f"({type(problem).__name__}); were result files altered?")


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


def grade(submission_path, *, profile, include_hidden=True, tests_dir=TESTS_DIR,
          calibration_path=CALIBRATION_FILE, limits=None):
    """Grade one submission and return a GradeReport (never raises for student faults)."""
    started = time.monotonic()
    test_files = load_test_files(tests_dir)
    cases = [(test_file, case) for test_file in test_files for case in test_file.test_cases
             if include_hidden or not case.hidden]
    data, dataset = load_data(profile)
    env = {"profile": profile,
           "normalize_input": data["x_val"][:probes.NORMALIZE_SAMPLE_ROWS]}
    if include_hidden:
        env["thresholds"] = calibration.load(calibration_path, dataset_sha256=dataset.sha256,
                                             profile=profile)
    notes = []
    with tempfile.TemporaryDirectory(prefix="train-submission-") as staged:
        try:
            found = submission.stage(submission_path, staged)
        except submission.SubmissionError as problem:
            found = None
            notes.append(str(problem))
        if found is not None:
            if found["missing"]:
                notes.append("missing from the submission: " + ", ".join(found["missing"]))
            if found["log_runs"]:
                notes.append(f"logs/ holds {found['log_runs']} run folder(s); they are not graded: "
                             "the grader re-runs your code and reads the logs it writes")
        steps_needed = {p for _, case in cases for p in case_parameters(case) if p in STEP_TO_PART}
        if found is None:
            step_env = {s: artifacts.Step(s, False, "", error=notes[-1]) for s in STEP_TO_PART}
            outcomes = {}
        else:
            step_env, outcomes = collect(staged, profile, steps_needed, data, limits=limits)
    env.update(step_env)
    env["env"] = env
    results = []
    for test_file, case in cases:
        passed, message = run_case(case, env)
        points = float(case.points or 0)
        results.append(TestResult(name=case.name, file=test_file.name, score=points if passed else 0.0,
                                  max_score=points, hidden=case.hidden,
                                  message=message if passed else _with_hint(case, message)))
    return GradeReport(results=results, notes=notes, part_outcomes=outcomes,
                       seconds=round(time.monotonic() - started, 2))


def _with_hint(case, message):
    hint = case.failure_message
    return f"{message}\n{hint}" if hint else message
