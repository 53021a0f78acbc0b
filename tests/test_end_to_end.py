"""The workflows end to end, as the course's users meet them: the instructor builds dist,
the reference earns every point, the untouched skeleton earns none, one wrong part costs
that part only, and the Gradescope zip works in a simulated /autograder layout."""

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from grader.parts import total_points

from conftest import ASSIGNMENT, REPO, SOLUTIONS, grade, make_submission, scores_by_part

pytestmark = pytest.mark.slow
PYTHON = sys.executable
#: The configured assignment's total (grader/assignment.toml and the parts' test files).
TOTAL = total_points()


def test_reference_earns_every_point(reference_report):
    """Does the reference solution earn every point of the configured assignment, hidden
    tests included?"""
    failed = [(r.name, r.message) for r in reference_report.results if not r.passed]
    assert failed == []
    assert reference_report.max_score == TOTAL
    assert reference_report.score == TOTAL


def test_skeleton_earns_nothing_without_crashing(skeleton_report):
    """Does the untouched skeleton score 0, with a message on every test?"""
    assert skeleton_report.max_score == TOTAL
    assert skeleton_report.score == 0
    for result in skeleton_report.results:
        assert result.message.strip(), result.name
    messages = " ".join(r.message for r in skeleton_report.results)
    assert "not implemented yet" in messages


def test_broken_architecture_costs_part_2_only(tmp_path, reference_report):
    """Does a syntax error in architecture.py cost Part 2's points and nothing else?"""
    submission = make_submission(tmp_path, [("architecture.py", "def build_model(", "def build_model(:")])
    report = grade(submission)
    parts = scores_by_part(report)
    assert parts["Part 2: architecture"] == (0.0, 20.0)
    for part, (score, max_score) in parts.items():
        if part != "Part 2: architecture":
            assert score == max_score, part
    part2 = [r for r in report.results if r.file == "Part 2: architecture"]
    assert all("SyntaxError" in r.message and "architecture.py" in r.message for r in part2)


def test_wrong_concepts_answer_costs_that_question_only(tmp_path):
    """Does one wrong multiple-choice answer cost exactly its 2 points?"""
    submission = make_submission(tmp_path, [("concepts.py", 'WHY_NORMALIZE = "c"', 'WHY_NORMALIZE = "a"')])
    report = grade(submission)
    failed = [r.name for r in report.results if not r.passed]
    assert failed == ["6.8 why normalization speeds up training"]
    assert report.score == TOTAL - 2


def test_cli_writes_gradescope_results(tmp_path):
    """Does `python -m grader grade` write a valid results.json and exit 0 for a zero score?"""
    results = tmp_path / "out" / "results.json"
    completed = subprocess.run([PYTHON, "-m", "grader", "grade", str(ASSIGNMENT), "--results", str(results)],
                               cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    document = json.loads(results.read_text())
    assert document["score"] == 0
    from grader import engine
    expected_cases = sum(len(test_file.test_cases) for test_file in engine.load_test_files())
    assert len(document["tests"]) == expected_cases
    for test in document["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility", "status"}
    assert "total" in completed.stdout and f"0 / {TOTAL:g}" in completed.stdout


def test_zip_submission_is_accepted(tmp_path):
    """Is a .zip with the modules inside one folder graded like the folder itself?"""
    archive = tmp_path / "submission.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in sorted(SOLUTIONS.glob("*.py")):
            bundle.write(path, f"my-work/{path.name}")
    from grader import submission
    staged = tmp_path / "staged"
    found = submission.stage(archive, staged)
    assert found["missing"] == []
    assert sorted(p.name for p in staged.iterdir()) == sorted(p.name for p in SOLUTIONS.glob("*.py"))


@pytest.fixture(scope="module")
def built_dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([PYTHON, "-m", "builder", "dist", "--out", str(out)], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    return out


def _run_autograder(root, autograder_zip, submission_dir):
    source = root / "source"
    with zipfile.ZipFile(autograder_zip) as bundle:
        bundle.extractall(source)
    os.chmod(source / "run_autograder", 0o755)
    (root / "results").mkdir()
    shutil.copytree(submission_dir, root / "submission")
    environment = dict(os.environ, AUTOGRADER_ROOT=str(root), AUTOGRADER_PYTHON=PYTHON)
    completed = subprocess.run([str(source / "run_autograder")], cwd=source, env=environment,
                               capture_output=True, text=True, timeout=600)
    return completed, json.loads((root / "results" / "results.json").read_text())


@pytest.mark.parametrize("submission, expected", [(SOLUTIONS, "all"), (ASSIGNMENT, 0)],
                         ids=["reference", "skeleton"])
def test_autograder_zip_in_simulated_gradescope(tmp_path, built_dist, submission, expected):
    """Does the autograder zip, unpacked into source/ with submission/ and results/ beside
    it, grade the reference to full marks and the skeleton to 0?"""
    completed, document = _run_autograder(tmp_path, built_dist / "autograder" / "autograder.zip",
                                          submission)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert document["score"] == (TOTAL if expected == "all" else expected)
    assert sum(t["max_score"] for t in document["tests"]) == TOTAL


def test_student_bundle_self_check_runs_on_its_own(tmp_path, built_dist):
    """Does the student zip's own `python -m grader check .` work without the repo, scoring
    the untouched skeleton 0 and the reference's modules every public point?"""
    student = tmp_path / "student"
    with zipfile.ZipFile(built_dist / "student.zip") as bundle:
        bundle.extractall(student)
    assert not (student / "grader" / "reference_model.py").exists()
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    completed = subprocess.run([PYTHON, "-m", "grader", "check", "."], cwd=student, env=environment,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    from grader import engine
    public_points = sum(case.points for test_file in engine.load_test_files()
                        for case in test_file.test_cases if not case.hidden)
    assert f" 0 / {public_points:g}" in completed.stdout
    for path in SOLUTIONS.glob("*.py"):
        shutil.copy(path, student / path.name)
    completed = subprocess.run([PYTHON, "-m", "grader", "check", "."], cwd=student, env=environment,
                               capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert f"{public_points:g} / {public_points:g}" in completed.stdout, completed.stdout[-3000:]


def test_gradebook_for_a_folder_of_submissions(tmp_path):
    """Does `grade-all` write one gradebook row per submission with per-part scores?"""
    folder = tmp_path / "submissions"
    folder.mkdir()
    shutil.copytree(ASSIGNMENT, folder / "alice", ignore=shutil.ignore_patterns("tests"))
    bob = make_submission(tmp_path, base=ASSIGNMENT, name="bob")
    shutil.copy(SOLUTIONS / "concepts.py", bob / "concepts.py")
    shutil.make_archive(str(folder / "bob"), "zip", bob)
    gradebook = tmp_path / "gradebook.csv"
    completed = subprocess.run([PYTHON, "-m", "grader", "grade-all", str(folder), "--gradebook",
                                str(gradebook)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr[-2000:]
    import csv
    rows = {row["submission"]: row for row in csv.DictReader(gradebook.open())}
    assert sorted(rows) == ["alice", "bob"]
    assert float(rows["alice"]["score"]) == 0
    assert float(rows["bob"]["score"]) == 15 == float(rows["bob"]["Part 6: concepts"])
