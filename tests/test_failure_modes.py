"""Every way a submission can fail: is each one scored and explained?

Each failure is put into the reference solution's Part 6 (concepts.py), and Parts 2 and 6
are graded with short limits: do the affected checks score 0 with a message a student
understands (naming their own file and line, never the grader's internals), do the
unaffected checks keep their points, is results.json valid, and is the output a student
sees capped? Then: a NaN loss in an experiment, and the grade-level failures (the worker
cannot start or dies, the whole grade's time budget runs out, a calibration that does not
fit), which must still leave a valid results.json; a grade the worker's death spoiled is
retried once, then reported as "could not grade" with score 0 and exit status 2.
"""

import json
import os
import subprocess
import sys

import pytest

import sandbox_harness as harness
from conftest import make_submission

GRADIENT = "    positions = [float(x0)]\n"
#: Test ids with the space after them: "6.1 " is not a prefix of "6.10 ...".
GRADIENT_ONLY = ("6.1 ", "6.2 ", "6.9 ")  # the tests of gradient_descent
GRADIENT_STEPS = GRADIENT_ONLY + ("6.3 ", "6.4 ", "6.10 ")  # then iterations_per_epoch
AFTER_GRADIENT = ("6.5", "6.6", "6.7", "6.8")   # answers: recorded before gradient_descent runs
INTERNALS = ("probes.py", "grader/", "site-packages", "Traceback (most recent call last)",
             "worker.py", "/tmp/")


def in_gradient(code):
    """A replacement that runs ``code`` at the start of gradient_descent's body."""
    body = "".join(f"    {line}\n" for line in code.splitlines())
    return [("concepts.py", GRADIENT, body + GRADIENT)]


#: name -> (replacements, limits, fragments the message must hold, checks scoring 0)
MODES = {
    "syntax_error": ([("concepts.py", "def iterations_per_epoch(n_samples, batch_size):",
                       "def iterations_per_epoch(n_samples, batch_size:")], {},
                     ["SyntaxError", 'File "concepts.py", line'], ("6.",)),
    "import_error": ([("concepts.py", "import math\n", "import math\nimport no_such_module_xyz\n")], {},
                     ["ModuleNotFoundError", "no_such_module_xyz", 'File "concepts.py", line'], ("6.",)),
    "missing_function": ([("concepts.py", "def gradient_descent(", "def gradient_descent_v2(")], {},
                         ["AttributeError", "gradient_descent"], GRADIENT_ONLY),
    "wrong_signature": ([("concepts.py", "def gradient_descent(learning_rate, n_steps, x0=0.0):",
                          "def gradient_descent(learning_rate, n_steps):")], {},
                        ["TypeError", "gradient_descent() got an unexpected keyword argument 'x0'"],
                        GRADIENT_ONLY),
    "exception": (in_gradient("ratio = learning_rate / 0"), {},
                  ["ZeroDivisionError", 'File "concepts.py", line', "in gradient_descent",
                   "ratio = learning_rate / 0"], GRADIENT_ONLY),
    "timeout": (in_gradient("import time\ntime.sleep(1000)"), {"WALL_SECONDS": 5},
                ["ran out of time", "5 s"], GRADIENT_STEPS),
    "cpu_limit": (in_gradient("while True:\n    pass"), {"CPU_SECONDS": 2, "WALL_SECONDS": 30},
                  ["CPU time"], GRADIENT_STEPS),
    "memory_exhaustion": (in_gradient("blocks = []\nwhile True:\n    blocks.append(b'x' * 2**25)"),
                          {"MEMORY_MB": 300}, ["memory"], GRADIENT_STEPS),
    "killed_process": (in_gradient("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"), {},
                       ["killed", "SIGKILL"], GRADIENT_STEPS),
    "segfault": (in_gradient("import ctypes\nctypes.string_at(0)"), {},
                 ["crashed", "SIGSEGV"], GRADIENT_STEPS),
    "enormous_output": (in_gradient("while True:\n    print('x' * 1000)"), {},
                        ["printed far too much output"], GRADIENT_STEPS),
    "os_exit_0": (in_gradient("import os\nos._exit(0)"), {},
                  ["ended before this step finished", "os._exit()"], GRADIENT_STEPS),
    "os_exit_3": (in_gradient("import os\nos._exit(3)"), {},
                  ["exited with code 3", "os._exit()"], GRADIENT_STEPS),
    "sys_exit": (in_gradient("import sys\nsys.exit(3)"), {},
                 ["sys.exit(3)", "return a value instead"], GRADIENT_ONLY),
    "reading_stdin": (in_gradient("answer = input('learning rate? ')"), {},
                      ["standard input", 'File "concepts.py", line'], GRADIENT_ONLY),
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_failure_is_scored_and_explained(mode, tmp_path, monkeypatch):
    """Does this failure cost exactly the affected checks, with a clear message?"""
    replacements, limits, fragments, zero = MODES[mode]
    harness.set_limits(monkeypatch, **limits)
    submission = make_submission(tmp_path, replacements)
    report, seconds = harness.grade(submission, tmp_path, parts=("architecture", "concepts"))
    assert seconds < harness.GRADE_SECONDS_BOUND
    found = harness.scores(report)
    affected = {name: score for name, (score, _) in found.items() if name.startswith(zero)}
    assert affected and not any(affected.values()), affected
    unaffected = {name: pair for name, pair in found.items() if not name.startswith(zero)}
    assert all(score == top for score, top in unaffected.values()), unaffected
    text = harness.messages(report, zero[0] if len(zero[0]) > 2 else "6.1")
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    for internal in INTERNALS:
        assert internal not in "\n".join([text, *report.notes]), f"{internal!r} shown to the student"
    document = harness.gradescope_document(report)
    assert document["score"] == report.score
    assert all(len(test["output"]) <= 4100 for test in document["tests"])
    assert all(len(note) <= 2000 for note in report.notes)


def test_nan_loss(tmp_path, monkeypatch):
    """Does a NaN loss (inputs scaled by NaN) fail the normalization checks with messages
    about the values, not an internal error, and keep results.json strict JSON?"""
    harness.set_limits(monkeypatch)
    submission = make_submission(tmp_path, [(
        "normalization.py", "return np.asarray(x, dtype=np.float32) / np.float32(255.0)",
        "return np.asarray(x, dtype=np.float32) * np.float32('nan')")])
    report, _ = harness.grade(submission, tmp_path, parts=("architecture", "normalization"))
    found = harness.scores(report)
    assert found["1.3 normalize_pixels scales into [0, 1]"][0] == 0
    assert "NaN or infinity" in harness.messages(report, "1.3")
    assert all(score == top for name, (score, top) in found.items() if name.startswith("2."))
    assert "internal grader error" not in harness.messages(report, "1.")
    json.dumps(harness.gradescope_document(report), allow_nan=False)


def test_time_budget_is_kept(tmp_path, monkeypatch):
    """When an early part eats the whole grade's budget, are later parts reported as not
    run, and does the grade end within the budget?"""
    harness.set_limits(monkeypatch, TOTAL_SECONDS=25, WALL_SECONDS=120)
    submission = make_submission(tmp_path, [(
        "architecture.py", "def build_model(", "import time\ntime.sleep(1000)\n\n\ndef build_model(")])
    report, seconds = harness.grade(submission, tmp_path, parts=("architecture", "concepts"))
    assert seconds < 25 + 5
    assert report.part_outcomes["architecture"].timed_out
    assert "whole grade ran out of time" in harness.messages(report, "6.1")
    assert report.score == 0
    harness.gradescope_document(report)


def cli_grade(tmp_path, patch, *extra_env):
    """Run ``python -m grader grade`` in a subprocess after ``patch`` (Python code) ran;
    returns the results.json it left."""
    results = tmp_path / "out" / "results.json"
    calibration = harness.check_calibration(tmp_path)
    code = ("import sys; from grader import cli, engine, config; grade = engine.grade; "
            "engine.grade = lambda *a, **k: grade(*a, **{**k, 'profile': config.CHECK, "
            f"'calibration_path': k.get('calibration_path', {str(calibration)!r}), "
            "'parts': ('concepts',)}); " + patch + "; sys.exit(cli.main(sys.argv[1:]))")
    env = {**os.environ, **harness.TEST_LIMITS, **dict(extra_env)}
    completed = subprocess.run([sys.executable, "-c", code, "grade", str(harness.SOLUTIONS),
                                "--results", str(results)], cwd=harness.REPO, env=env,
                               capture_output=True, text=True, timeout=120)
    assert results.exists(), completed.stderr[-2000:]
    return json.loads(results.read_text()), completed


def test_results_written_when_the_worker_cannot_start(tmp_path):
    """Is a valid results.json (score 0, "not a problem with your code") written when
    the sandbox worker does not start?"""
    document, completed = cli_grade(
        tmp_path, "import grader.sandbox.supervisor as s; s._WORKER_START_SECONDS = 0.001")
    assert completed.returncode == 2
    assert document["score"] == 0 and document["tests"] == []
    assert "did not start" in document["output"] and "not a problem with your code" in document["output"]
    assert "tried 2 time(s)" in document["output"]  # one retry


def test_results_written_when_the_calibration_does_not_fit(tmp_path):
    """Is a valid results.json written when the calibration was made for other data?"""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"dataset": {"sha256": "0" * 64}, "profile": {}, "metrics": {}}))
    document, _ = cli_grade(
        tmp_path, f"engine.grade = (lambda g: lambda *a, **k: g(*a, **{{**k, 'calibration_path': {str(bad)!r}}}))(engine.grade)")
    assert document["score"] == 0 and "calibrat" in document["output"]


def test_results_written_when_the_grade_succeeds(tmp_path):
    """And the ordinary case, through the command line: full marks for Part 6."""
    document, completed = cli_grade(tmp_path, "pass")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert document["score"] == sum(t["max_score"] for t in document["tests"]) > 0


# ------------------------------------------- failures that are not the student's (issue 11.5)

def test_worker_death_is_classified_as_the_graders():
    """Is a part the worker could not run or answer for the grader's failure, and a part
    that timed out, ran out of memory, crashed or exited the student's?"""
    from grader import engine
    from grader.sandbox.supervisor import PartOutcome
    students = [PartOutcome("concepts", "", timed_out=True), PartOutcome("concepts", "", memory_exceeded=True),
                PartOutcome("concepts", "", signal=9), PartOutcome("concepts", "", exit_code=3),
                PartOutcome("concepts", "", exit_code=0)]
    for outcome in students:
        assert engine._infrastructure_failure({"concepts": outcome}, retried=False) is None
    assert engine._infrastructure_failure({"concepts": None}, retried=False) is None
    assert "earlier attempt" in engine._infrastructure_failure({"concepts": None}, retried=True)
    dead = PartOutcome("concepts", "", worker_error="not run: the grading worker is not running")
    assert "worker is not running" in engine._infrastructure_failure({"concepts": dead}, retried=False)


#: Patch for cli_grade: SIGKILL the sandbox worker (as the kernel's OOM killer would) just
#: before it is asked to run a part; ``ONCE`` only in the first attempt.
KILL_WORKER = """
import os, signal, grader.sandbox.supervisor as supervisor
run_part, killed = supervisor.Worker.run_part, []
def killing_run_part(self, *args, **kwargs):
    if not (ONCE and killed):
        killed.append(self.process.pid)
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
    return run_part(self, *args, **kwargs)
supervisor.Worker.run_part = killing_run_part
"""


def test_worker_killed_in_every_attempt_is_not_a_score(tmp_path):
    """When the worker dies in both attempts: score 0 and no tests in results.json, "could
    not grade ... not a problem with your code", both attempts named on stderr, exit 2."""
    document, completed = cli_grade(tmp_path, "exec(" + repr("ONCE = False\n" + KILL_WORKER) + ")")
    assert completed.returncode == 2, completed.stderr[-2000:]
    assert document["score"] == 0 and document["tests"] == []
    assert "could not grade" in document["output"] and "not a problem with your code" in document["output"]
    assert "grading worker is not running" in document["output"] and "tried 2 time(s)" in document["output"]
    assert "grade attempt 1 failed" in completed.stderr and "grade attempt 2 failed" in completed.stderr


def test_worker_killed_once_is_retried(tmp_path):
    """When the worker dies in the first attempt only, is the second attempt's full grade
    what results.json holds (exit 0)?"""
    document, completed = cli_grade(tmp_path, "exec(" + repr("ONCE = True\n" + KILL_WORKER) + ")")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "grade attempt 1 failed" in completed.stderr and "grade attempt 2" not in completed.stderr
    assert document["score"] == sum(t["max_score"] for t in document["tests"]) > 0
