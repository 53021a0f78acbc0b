"""Helpers shared by test_failure_modes.py and test_attacks.py: grade a hostile or broken
submission under short limits, and look at everything a student would see.

Grades run in the self-check profile (small data) with the hidden tests included,
against a calibration file made for that profile, so a grade takes seconds.
"""

import ast
import functools
import json
import os
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions"
ASSIGNMENT = REPO / "assignment"
#: Every part's otter test file (grader/parts/<name>/tests.py).
TEST_FILES = sorted(REPO.glob("grader/parts/*/tests.py"))
CALIBRATION = REPO / "grader" / "calibration.json"
GRADER_ONLY = [REPO / "grader" / "reference_model.py"]

#: Short limits, so a grader that fails to contain an attack fails the test quickly.
TEST_LIMITS = {
    "TRAIN_GRADER_WALL_SECONDS": "20",
    "TRAIN_GRADER_CPU_SECONDS": "40",
    "TRAIN_GRADER_MEMORY_MB": "700",
    "TRAIN_GRADER_TOTAL_SECONDS": "150",
    "TRAIN_GRADER_MAX_OUTPUT_MB": "4",
    "TRAIN_GRADER_OUTPUT_KB": "8",
}
#: A grade under TEST_LIMITS of at most two parts must end well within this.
GRADE_SECONDS_BOUND = 100.0


def is_root():
    return os.geteuid() == 0


def set_limits(monkeypatch, **overrides):
    """Apply TEST_LIMITS (and overrides, e.g. ``WALL_SECONDS=8``) for one test."""
    for name, value in {**TEST_LIMITS, **{f"TRAIN_GRADER_{k}": str(v) for k, v in overrides.items()}}.items():
        monkeypatch.setenv(name, value)


@functools.lru_cache(maxsize=None)
def _check_dataset_sha():
    from grader import engine
    from grader.config import CHECK
    return engine.load_data(CHECK)[1].sha256


def check_calibration(folder):
    """A calibration file for the self-check profile (metrics copied from the real file;
    the hidden checks the attacks target do not depend on them)."""
    from grader.config import CHECK
    try:
        metrics = json.loads(CALIBRATION.read_text())["metrics"]
    except (OSError, ValueError, KeyError):
        metrics = {}
    profile = CHECK.to_dict()
    path = Path(folder) / "calibration.json"
    path.write_text(json.dumps({"dataset": {"sha256": _check_dataset_sha()}, "profile": profile,
                                "metrics": metrics}))
    return path


def grade(submission, folder, *, parts, tests_dir=None, calibration=None, include_hidden=True):
    """Grade ``submission`` in the check profile; returns ``(report, seconds)``."""
    from grader import engine
    from grader.config import CHECK
    calibration = calibration or check_calibration(folder)
    started = time.monotonic()
    report = engine.grade(submission, profile=CHECK, include_hidden=include_hidden,
                          tests_dir=tests_dir, calibration_path=calibration, parts=parts)
    return report, time.monotonic() - started


def gradescope_document(report):
    """The results.json document, round-tripped through strict JSON (as Gradescope reads it)."""
    from grader import results
    return json.loads(json.dumps(results.to_gradescope(report), allow_nan=False))


def visible_text(report):
    """Everything a student can see: results.json (also what publishing reveals) plus the
    untruncated messages and notes it is made from."""
    return "\n".join([json.dumps(gradescope_document(report))]
                     + [r.message for r in report.results] + list(report.notes))


def scores(report):
    """{test name: (score, max_score)}."""
    return {r.name: (r.score, r.max_score) for r in report.results}


def messages(report, prefix):
    """The messages of the tests whose names start with ``prefix``, joined."""
    return "\n".join(r.message for r in report.results if r.name.startswith(prefix))


def _normalized(line):
    return " ".join(line.split())


def _hidden_case_lines(path):
    """Stripped source lines of the hidden test cases of one otter test file."""
    text = Path(path).read_text()
    tree = ast.parse(text)
    lines = text.splitlines()
    hidden, public = set(), set()
    spans = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and any(
                    k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in decorator.keywords):
                start = min(d.lineno for d in node.decorator_list) - 1
                spans.append((start, node.end_lineno))
    for number, line in enumerate(lines):
        target = hidden if any(low <= number < high for low, high in spans) else public
        target.add(_normalized(line))
    return hidden - public


def secret_lines(min_chars=20):
    """Lines no student may see: hidden test cases (not also in public code), the
    calibration, grader-only code, and solution lines that are not in the skeleton."""
    secret = set()
    for path in TEST_FILES:
        secret |= _hidden_case_lines(path)
    public = {_normalized(line) for path in ASSIGNMENT.glob("*.py") for line in path.read_text().splitlines()}
    for path in sorted(SOLUTIONS.glob("*.py")):
        secret |= {_normalized(line) for line in path.read_text().splitlines()} - public
    for path in [CALIBRATION, *GRADER_ONLY]:
        if path.exists():
            secret |= {_normalized(line) for line in path.read_text().splitlines()}
    return {line for line in secret if len(line) >= min_chars and any(c.isalpha() for c in line)}


def leaked_lines(report, exclude_folder=None):
    """Secret lines that appear in what the student sees (minus lines of their own files)."""
    own = set()
    if exclude_folder is not None:
        own = {_normalized(line) for path in Path(exclude_folder).glob("*.py")
               for line in path.read_text().splitlines()}
    seen = _normalized(visible_text(report))
    return sorted(line for line in secret_lines() - own if line in seen)


def survivors(marker):
    """Pids of live processes whose name, command line or environment holds ``marker``."""
    found = []
    needle = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        for name in ("comm", "cmdline", "environ"):
            try:
                with open(f"/proc/{entry}/{name}", "rb") as handle:
                    if needle in handle.read():
                        found.append(int(entry))
                        break
            except OSError:
                continue
    return found


def wait_for_no_survivors(marker, seconds=3.0):
    """Survivors still there after ``seconds`` (killed processes take a moment to vanish)."""
    deadline = time.monotonic() + seconds
    while True:
        alive = survivors(marker)
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def make_marker(name):
    """A unique 15-character tag (the kernel keeps 15 characters of a process name)."""
    return ("atk" + os.urandom(6).hex())[:15]


def copy_name(path):
    """A file's name in a flat copy: a part's ``tests.py`` is named after its part."""
    path = Path(path)
    return f"{path.parent.name}.py" if path.name == "tests.py" else path.name


def world_readable_copy(files, name="grader-copy"):
    """Copies of ``files`` in a fresh world-readable folder under /tmp (pytest's own
    temporary folders are private to root, which would hide them for the wrong reason)."""
    import shutil
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix=f"train-{name}-"))
    os.chmod(folder, 0o755)
    for path in files:
        name = copy_name(path)
        shutil.copy(path, folder / name)
        os.chmod(folder / name, 0o644)
    return folder
