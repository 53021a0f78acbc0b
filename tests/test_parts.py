"""Part declarations (grader/parts/<name>/) and the assignment's configuration
(grader/assignment.toml): one place per part, totals derived, bad configuration named."""

import re
from pathlib import Path

import pytest

from conftest import REPO
from grader import config, engine, parts


def _python_sources(*folders):
    for folder in folders:
        for path in sorted((REPO / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                yield path


def test_no_module_outside_a_part_names_its_steps():
    """Is every step of a part named only inside that part's folder (its declaration and its
    test file), never in the engine, the calibration, the builder or another part?"""
    offenders = []
    for part in parts.PARTS.values():
        for step in part.step_names:
            word = re.compile(rf"\b{re.escape(step)}\b")
            for path in _python_sources("grader", "builder"):
                if part.folder in path.parents:
                    continue
                for number, line in enumerate(path.read_text().splitlines(), start=1):
                    if word.search(line):
                        offenders.append(f"{path.relative_to(REPO)}:{number}: {step} ({part.name})")
    assert offenders == []


def test_every_test_case_uses_only_its_own_parts_steps():
    """Does each part's test file ask only for its own steps and the values the engine or
    the part itself provides?"""
    for part in parts.PARTS.values():
        allowed = set(part.step_names) | set(engine.PROVIDED) | set(part.provides)
        test_file = engine.ExceptionTestFile.from_file(str(part.test_file))
        assert test_file.test_cases, part.name
        for case in test_file.test_cases:
            assert set(engine.case_parameters(case)) <= allowed, (part.name, case.name)


def test_parts_follow_the_configuration_order():
    """Are the parts, the student modules and the test files the ones grader/assignment.toml
    lists, in its order?"""
    assert list(parts.PARTS) == list(config.ASSIGNMENT.parts)
    assert [f.name for f in engine.load_test_files()] == \
        [engine.ExceptionTestFile.from_file(str(p.test_file)).name for p in parts.PARTS.values()]
    modules = parts.student_modules()
    for part in parts.PARTS.values():
        assert set(part.graded_modules) <= set(modules)
        assert all((REPO / "solutions" / f"{m}.py").is_file() for m in part.graded_modules)


def test_total_points_is_derived_from_the_test_files():
    """Is the assignment's total the sum of its test cases' points (nothing hard-coded)?"""
    written = sum(float(case.points or 0) for test_file in engine.load_test_files()
                  for case in test_file.test_cases)
    assert parts.total_points() == pytest.approx(written)
    assert written > 0


def _assignment(tmp_path, text):
    path = Path(tmp_path) / "assignment.toml"
    path.write_text(text)
    return config.Assignment.load(path)


GOOD = (REPO / "grader" / "assignment.toml").read_text()


def test_configured_points_scale_a_part(tmp_path):
    """Does `points = N` on a part's line make that part worth N, its cases scaled in
    proportion?"""
    assignment = _assignment(tmp_path, GOOD.replace("concepts = {}", "concepts = { points = 30 }"))
    cases = engine.ExceptionTestFile.from_file(str(parts.PARTS["concepts"].test_file)).test_cases
    scale = parts.part_points("concepts", cases, assignment)
    assert sum(float(c.points) for c in cases) * scale == pytest.approx(30)
    assert parts.part_points("architecture", cases, assignment) == 1.0


@pytest.mark.parametrize("edit, says", [
    (("concepts = {}", "concepts = { points = -2 }"), "concepts"),
    (("concepts = {}", "concepts = { pionts = 2 }"), "concepts"),
    (("epochs = 3", 'epochs = "three"'), "epochs"),
    (("epochs = 3", "epoch = 3"), "epoch"),
    (("batch_sizes = [16, 128]", "batch_sizes = [16, 16]"), "sweeps"),
    (("[profiles.check]", "[profiles.quick]"), "profiles.check"),
    (("n_train = 2000", "n_train = 2000 ]"), "TOML"),
])
def test_bad_configuration_is_named(tmp_path, edit, says):
    """Does a malformed grader/assignment.toml fail with a message naming the file and the
    key, instead of grading with a wrong setting?"""
    old, new = edit
    assert old in GOOD
    with pytest.raises(config.ConfigurationError) as error:
        _assignment(tmp_path, GOOD.replace(old, new, 1))
    assert "assignment.toml" in str(error.value) and says in str(error.value)


def test_unknown_part_is_named():
    """Does a [parts] line without a folder name the folders that exist?"""
    with pytest.raises(config.ConfigurationError, match="no part 'regularisation'"):
        parts.load("regularisation")


def test_profile_sweeps_read_as_attributes_and_round_trip():
    """Are a profile's sweeps readable by name, and does the profile survive the JSON trip
    to the sandbox (lists for tuples)?"""
    import dataclasses
    import json
    grade = config.GRADE
    assert grade.batch_sizes == tuple(dict(grade.sweeps)["batch_sizes"])
    again = config.Profile(**json.loads(json.dumps(dataclasses.asdict(grade))))
    assert again == grade
    with pytest.raises(AttributeError, match="no setting or sweep 'batch_size_list'"):
        getattr(grade, "batch_size_list")


def test_committed_calibration_fits_the_assignment():
    """Does grader/calibration.json fit the configured profile, data, reference modules and
    library versions of every calibrated part (what `make dist` requires before building)?
    A failure here means: run `make calibrate` and commit its output."""
    from grader import calibrate, release
    assert calibrate.stale_parts(REPO / "solutions", config.CALIBRATION_FILE) == {}
    release.check_calibration(REPO)


def test_stale_calibration_names_the_part_and_the_command(tmp_path):
    """Does a sweep changed after calibration make the release check fail naming that part
    and `make calibrate`, and only that part?"""
    import dataclasses
    from grader import calibrate
    sweeps = dict(config.GRADE.sweeps)
    sweeps["batch_sizes"] = sweeps["batch_sizes"] + (64,)
    changed = dataclasses.replace(config.GRADE, sweeps=sweeps)
    stale = calibrate.stale_parts(REPO / "solutions", config.CALIBRATION_FILE, changed)
    assert list(stale) == ["batch_size"]


def _points_by_part(assignment=config.ASSIGNMENT):
    """{part name: (points, public points)}, scaled as configured."""
    figures = {}
    for name, part in parts.PARTS.items():
        cases = engine.ExceptionTestFile.from_file(str(part.test_file)).test_cases
        scale = parts.part_points(name, cases, assignment)
        figures[name] = (sum(float(c.points or 0) for c in cases) * scale,
                         sum(float(c.points or 0) for c in cases if not c.hidden) * scale)
    return figures


def test_readme_points_are_the_configured_ones():
    """Does README's points sentence ("Parts 1-2 20 each, ...: 140 in all, 73 of them in
    public tests") give each part's points, the total and the public points the
    configuration and the test files give?"""
    text = " ".join((REPO / "README.md").read_text().split())
    sentence = re.search(r"configured now: (.*?): (\d+(?:\.\d+)?) in all, (\d+(?:\.\d+)?) of them "
                         r"in public tests", text)
    assert sentence, "README.md: the points sentence under the parts table is missing"
    stated = {}
    for first, last, points in re.findall(r"Parts? (\d+)(?:-(\d+))? (\d+(?:\.\d+)?)",
                                          sentence.group(1)):
        for number in range(int(first), int(last or first) + 1):
            stated[number] = float(points)
    figures = _points_by_part()
    assert stated == {number: pytest.approx(points)
                      for number, (points, _) in enumerate(figures.values(), start=1)}
    assert float(sentence.group(2)) == pytest.approx(parts.total_points())
    assert float(sentence.group(3)) == pytest.approx(sum(public for _, public in figures.values()))
