"""`make dist` on the real tree: up to date, reproducible byte for byte, leak-free, and
the student version holds no hidden test."""

import ast
import subprocess
import sys
import zipfile

import pytest

from conftest import ASSIGNMENT, REPO, SOLUTIONS

PYTHON = sys.executable


def _build(out):
    completed = subprocess.run([PYTHON, "-m", "builder", "dist", "--out", str(out)], cwd=REPO,
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return out


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("a")), _build(tmp_path_factory.mktemp("b"))


def test_assignment_is_not_stale():
    """Is the committed assignment/ exactly what `make dist` generates from solutions/?"""
    completed = subprocess.run([PYTHON, "-m", "builder", "check-stale"], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_two_builds_are_identical(two_builds):
    """Do two runs of `make dist` produce byte-identical files, zips included?"""
    from builder.pipeline import output_digests
    first, second = (output_digests(out) for out in two_builds)
    assert first and first == second
    assert any(name.endswith("autograder.zip") for name in first)
    assert any(name.endswith("student.zip") for name in first)


def _solution_lines():
    from builder.markers import solution_lines
    from builder.pipeline import TRIVIAL_LINE
    lines = set()
    for path in SOLUTIONS.glob("*.py"):
        lines.update(line for line in solution_lines(path.read_text(), path.name)
                     if len(line) >= 12 and not TRIVIAL_LINE.fullmatch(line))
    return lines


def test_no_solution_line_reaches_students(two_builds):
    """Does no substantial line of a solution block appear in anything students receive?"""
    solution = _solution_lines()
    assert solution, "the solutions have no solution blocks?"
    with zipfile.ZipFile(two_builds[0] / "student.zip") as bundle:
        texts = {name: bundle.read(name).decode("utf-8", "replace") for name in bundle.namelist()}
    texts.update({str(p): p.read_text() for p in ASSIGNMENT.rglob("*.py")})
    for name, text in texts.items():
        leaked = {line.strip() for line in text.splitlines()} & solution
        assert not leaked, f"{name} contains solution lines {sorted(leaked)[:3]}"
    assert not any("calibration.json" in n or "reference_model" in n or "held_out" in n
                   or "replay_cache" in n for n in texts)


def _hidden_flags(source):
    flags = []
    for node in ast.parse(source).body:
        for decorator in getattr(node, "decorator_list", []):
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "test_case":
                hidden = [k.value.value for k in decorator.keywords if k.arg == "hidden"]
                flags.append(bool(hidden and hidden[0]))
    return flags


def test_student_version_has_public_tests_only(two_builds):
    """Are hidden test cases absent from assignment/tests and the student zip, while every
    public case is kept?"""
    from builder.pipeline import test_files
    for source, public_name in test_files(REPO):
        full = _hidden_flags((REPO / source).read_text())
        public = _hidden_flags((ASSIGNMENT / "tests" / public_name).read_text())
        assert True in full and True not in public
        assert len(public) == full.count(False)
    with zipfile.ZipFile(two_builds[0] / "student.zip") as bundle:
        for name in bundle.namelist():
            if name.startswith("grader/parts/") and name.endswith("/tests.py"):
                assert True not in _hidden_flags(bundle.read(name).decode())


def test_autograder_zip_has_what_gradescope_needs(two_builds):
    """Does the autograder zip hold setup.sh, run_autograder, the hidden tests and the
    calibration, and no solutions?"""
    with zipfile.ZipFile(two_builds[0] / "autograder" / "autograder.zip") as bundle:
        names = set(bundle.namelist())
    assert {"setup.sh", "run_autograder", "requirements.txt", "grader/calibration.json",
            "grader/reference_model.py", "grader/held_out.json"} <= names
    shipped = {f"grader/replay_cache/{p.name}" for p in (REPO / "grader" / "replay_cache").glob("*.json")}
    assert shipped and shipped <= names  # a correct submission is graded without replay training
    assert not any(n.startswith(("solutions/", "assignment/", "tests/")) for n in names)
