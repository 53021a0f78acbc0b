"""The attack corpus (tests/attacks/): is every hostile submission contained?

For each attack: does it get no point it did not earn, does the grade finish within its
limits, does no hidden test or solution text reach what the student sees, and is no
process it started alive after the grade? Attacks are graded with short limits, in the
self-check profile, on the parts they need (plus Part 2 as a control that must keep its
full marks). Protections that need root (another user, namespaces) are asserted when the
tests run as root, and the tests that need them are skipped otherwise.
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import sandbox_harness as harness
from conftest import make_submission

ATTACKS_DIR = Path(__file__).parent / "attacks"
ATTACKS = sorted(path.stem for path in ATTACKS_DIR.glob("*.py") if not path.stem.startswith("_"))
ROOT_ONLY = "needs root: without it the parts run as the grader's own user, with its network"


def load_attack(name):
    spec = importlib.util.spec_from_file_location(f"attack_{name}", ATTACKS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(tmp_path, attack, **placeholders):
    """The attack's submission: its base, a solved Part 2 (the control) and the attack's
    code, with placeholders filled in."""
    base = {"assignment": harness.ASSIGNMENT, "solutions": harness.SOLUTIONS}[attack.BASE]
    target = make_submission(tmp_path, getattr(attack, "REPLACEMENTS", ()), base=base)
    shutil.copy(harness.SOLUTIONS / "architecture.py", target)  # the control part: solved
    code = getattr(attack, "CODE", "")
    for key, value in placeholders.items():
        code = code.replace(f"__{key}__", str(value))
    if code:
        path = target / attack.TARGET
        path.write_text(path.read_text() + "\n" + code)
    return target


def secret_patterns(*extra):
    """Glob patterns of the grader's hidden material, for attacks that go looking for it."""
    repo = harness.REPO
    return [str(repo / "grader/parts/*/tests.py"), str(repo / "grader/calibration.json"),
            str(repo / "grader/reference_model.py"), str(repo / "solutions/*.py"), *extra]


def assert_contained(report, seconds, attack, marker, submission):
    """The checks every attack must pass."""
    assert seconds < harness.GRADE_SECONDS_BOUND, f"the grade took {seconds:.0f} s"
    found = harness.scores(report)
    for prefix in attack.ZERO:
        earned = {name: score for name, (score, _) in found.items() if name.startswith(prefix) and score}
        assert not earned, f"unearned points: {earned}"
    control = {name: score for name, score in found.items() if name.startswith("2.")}
    assert control and all(score == top for score, top in control.values()), \
        f"the control part (2) lost points: {control}"
    assert harness.gradescope_document(report)["tests"]
    assert not harness.leaked_lines(report, exclude_folder=submission)
    assert not harness.wait_for_no_survivors(marker), "processes outlived the grade"


def run_attack(name, tmp_path, monkeypatch, *, limits=None, **placeholders):
    attack = load_attack(name)
    harness.set_limits(monkeypatch, **(limits or {}))
    marker = harness.make_marker(name)
    submission = build(tmp_path, attack, MARKER=marker, **placeholders)
    report, seconds = harness.grade(submission, tmp_path, parts=attack.PARTS)
    assert_contained(report, seconds, attack, marker, submission)
    return report, marker


def outcome(report, part):
    return report.part_outcomes[part]


def test_every_attack_has_a_test():
    """Is every module in tests/attacks/ exercised by a test below?"""
    tested = {name[len("test_"):] for name in globals() if name.startswith("test_")}
    assert set(ATTACKS) <= tested | FORGED_RESULTS, set(ATTACKS) - tested - FORGED_RESULTS


# ------------------------------------------------------------------------ the corpus

def test_patch_grader(tmp_path, monkeypatch):
    """Does patching otter and the grader inside the sandbox change nothing outside it?"""
    import otter.test_files.exception_test as exception_test
    from grader import checks, engine
    before = (exception_test.test_case.call_func, exception_test.ExceptionTestFile.from_file,
              checks.check, checks.check_step, engine.run_case)
    report, _ = run_attack("patch_grader", tmp_path, monkeypatch)
    after = (exception_test.test_case.call_func, exception_test.ExceptionTestFile.from_file,
             checks.check, checks.check_step, engine.run_case)
    assert before == after
    assert "could not use this step's results" in harness.messages(report, "6.")


@pytest.mark.skipif(os.geteuid() != 0, reason=ROOT_ONLY)
def test_cross_part_read(tmp_path, monkeypatch):
    """Can a part read what an earlier part of the same grade left in its folder? (As
    root, no: the finished folder is the grader's.)"""
    report, marker = run_attack("cross_part_read", tmp_path, monkeypatch)
    backprop = {name: score for name, score in harness.scores(report).items()
                if name.startswith("7.")}
    assert backprop and all(score == top for score, top in backprop.values()), backprop
    assert marker not in harness.messages(report, "7.")


def test_results_write(tmp_path):
    """Can a submission write results.json, now or later from a detached process? (The
    real command line, in a subprocess, as on Gradescope.)"""
    attack = load_attack("results_write")
    marker = harness.make_marker("results_write")
    folder = harness.world_readable_copy([], "results")
    os.chmod(folder, 0o777)  # even a careless, world-writable results folder
    results = folder / "results.json"
    submission = build(tmp_path, attack, MARKER=marker, RESULTS=results)
    calibration = harness.check_calibration(tmp_path)
    code = ("import sys; from grader import cli, engine, config; "
            "grade = engine.grade; "
            f"engine.grade = lambda *a, **k: grade(*a, **{{**k, 'profile': config.CHECK, "
            f"'calibration_path': {str(calibration)!r}, 'parts': {attack.PARTS!r}}}); "
            "sys.exit(cli.main(sys.argv[1:]))")
    env = {**os.environ, **harness.TEST_LIMITS}
    try:
        completed = subprocess.run([sys.executable, "-c", code, "grade", str(submission), "--results",
                                    str(results)], cwd=harness.REPO, env=env, capture_output=True,
                                   text=True, timeout=harness.GRADE_SECONDS_BOUND)
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert not harness.wait_for_no_survivors(marker, seconds=5), "the detached writer survived"
        document = json.loads(results.read_text())
        assert document["score"] < 100 and marker not in results.read_text()
        earned = [t for t in document["tests"] if t["name"].startswith("6.") and t["score"]]
        assert not earned and document["tests"]
        assert sorted(os.listdir(folder)) == ["results.json"]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_leak_hidden(tmp_path, monkeypatch):
    """Does hidden material stay out of what the student sees, through messages, echoed
    answers, printed output and a crash's output tail?"""
    report, marker = run_attack("leak_hidden", tmp_path, monkeypatch, SECRETS=secret_patterns())
    assert outcome(report, "concepts").signal == 9  # the crash path (output tail shown) ran
    if harness.is_root():  # the files were not even readable: hidden in the part's namespace
        assert outcome(report, "concepts").isolation["hidden_paths"]


def test_leak_hidden_without_namespaces(tmp_path, monkeypatch):
    """Without mount namespaces (a container without CAP_SYS_ADMIN): as root, does the
    grader itself take the hidden files of this checkout out of the sandbox user's reach
    (and root-only copies stay unreadable)? Without root, where the parts can read them,
    is what the attack reads still withheld from every message?"""
    monkeypatch.setenv("TRAIN_GRADER_NO_NAMESPACES", "1")
    locked = harness.world_readable_copy(harness.TEST_FILES, "locked-tests")
    try:
        os.chmod(locked, 0o700)  # as run_autograder does to /autograder/source
        report, marker = run_attack("leak_hidden", tmp_path, monkeypatch,
                                    SECRETS=secret_patterns(str(locked / "concepts.py")))
    finally:
        shutil.rmtree(locked, ignore_errors=True)
    texts = [r.message for r in report.results] + report.notes
    if harness.is_root():
        output = outcome(report, "concepts").output
        assert f"{marker} could not read {locked}" in output
        for hidden in (harness.CALIBRATION, *harness.GRADER_ONLY):
            assert f"{marker} could not read {hidden}" in output, f"{hidden} was readable"
    else:
        assert any("withheld" in text for text in texts), "nothing was read, so nothing was tested"


FORGED_RESULTS = {"exit_early", "symlink_results"}


@pytest.mark.skipif(not harness.is_root(), reason=ROOT_ONLY)
def test_leak_hidden_from_locked_autograder(tmp_path):
    """In a simulated Gradescope container without namespaces (no CAP_SYS_ADMIN), does
    run_autograder's lock-down alone keep the hidden tests, calibration, grader-only code
    and results out of the sandbox's reach? (The real entry point, grade profile.)"""
    attack = load_attack("leak_hidden")
    marker = harness.make_marker("locked")
    root = harness.world_readable_copy([], "autograder")
    try:
        shutil.copytree(harness.REPO / "grader", root / "source" / "grader",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(harness.REPO / "datasets", root / "source" / "datasets",
                        ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(harness.REPO / "builder" / "templates" / "run_autograder", root / "source")
        secrets = [str(path).replace(str(harness.REPO), str(root / "source")) for path in
                   [*harness.TEST_FILES, harness.CALIBRATION, *harness.GRADER_ONLY]]
        secrets.append(str(root / "results" / "results.json"))
        submission = build(tmp_path, attack, MARKER=marker, SECRETS=secrets)
        shutil.copytree(submission, root / "submission")
        for folder, dirs, files in os.walk(root):  # a careless, world-readable upload
            for name in dirs:
                os.chmod(os.path.join(folder, name), 0o755)
            for name in files:
                os.chmod(os.path.join(folder, name), 0o644)
        env = {**os.environ, **harness.TEST_LIMITS, "AUTOGRADER_ROOT": str(root),
               "AUTOGRADER_PYTHON": sys.executable, "TRAIN_GRADER_NO_NAMESPACES": "1"}
        completed = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                                   capture_output=True, text=True, timeout=300)
        document = json.loads((root / "results" / "results.json").read_text())
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert completed.returncode == 0 and document["tests"], completed.stderr[-3000:]
    assert not [t for t in document["tests"] if t["name"].startswith("6.") and t["score"]]
    text = json.dumps(document)
    assert f"{marker} could not read" in text and "PermissionError" in text
    assert "withheld" not in text  # nothing was read, so there was nothing to withhold
    seen = " ".join(text.split())
    assert not [line for line in harness.secret_lines() if json.dumps(line)[1:-1] in seen]
    assert not harness.wait_for_no_survivors(marker)


@pytest.mark.parametrize("name", sorted(FORGED_RESULTS))
def test_forged_results(name, tmp_path, monkeypatch):
    """Do records written by student code instead of the probes (wrong, nested, links,
    FIFOs) earn nothing, without hanging or crashing the grader?"""
    report, _ = run_attack(name, tmp_path, monkeypatch, SECRETS=secret_patterns())
    text = harness.messages(report, "6.")
    assert "internal grader error" not in text



def test_process_flood(tmp_path, monkeypatch):
    """Are 200 sleeping processes (half in their own sessions) all killed?"""
    report, _ = run_attack("process_flood", tmp_path, monkeypatch)
    assert outcome(report, "concepts").leftover_processes_killed >= 150


#: How a part's memory is counted: a cgroup of its own (root, writable cgroups), or the
#: PSS of its process tree plus its tmpfs files (TRAIN_GRADER_NO_CGROUP=1, as in a
#: container whose cgroup file system is read-only).
MEMORY_METERS = ["cgroup", "pss"]


def use_meter(monkeypatch, meter):
    if meter == "pss":
        monkeypatch.setenv("TRAIN_GRADER_NO_CGROUP", "1")
    else:
        monkeypatch.delenv("TRAIN_GRADER_NO_CGROUP", raising=False)


def assert_counted_by(report, meter):
    counted = outcome(report, "concepts").memory_counted_by
    if meter == "pss" or not harness.is_root():
        assert counted == "pss"
    else:  # where cgroups cannot be made (read-only, no controller) the PSS meter is used
        assert counted in ("cgroup v1", "cgroup v2", "pss")


@pytest.mark.parametrize("meter", MEMORY_METERS)
def test_memory_bomb(tmp_path, monkeypatch, meter):
    """Is a memory bomb in the part and in a detached grandchild stopped?"""
    use_meter(monkeypatch, meter)
    report, _ = run_attack("memory_bomb", tmp_path, monkeypatch, limits={"MEMORY_MB": 400})
    assert "memory" in harness.messages(report, "6.").lower()
    assert_counted_by(report, meter)


def _scratch_leftovers(marker):
    return [os.path.join(folder, name) for folder in ("/dev/shm", "/tmp", "/var/tmp")
            if os.path.isdir(folder) for name in os.listdir(folder) if marker in name]


@pytest.mark.parametrize("meter", MEMORY_METERS)
def test_tmpfs_fill(tmp_path, monkeypatch, meter):
    """Are files in /dev/shm counted as the part's memory (it is stopped), and is nothing
    it wrote to /dev/shm, /tmp or /var/tmp left after the grade (as root), without
    following the links it planted or tripping on a folder 1,500 levels deep?"""
    use_meter(monkeypatch, meter)
    canary_folder = harness.world_readable_copy([harness.SOLUTIONS / "concepts.py"], "canary")
    canary = canary_folder / "concepts.py"
    marker = None
    try:
        report, marker = run_attack("tmpfs_fill", tmp_path, monkeypatch,
                                    limits={"MEMORY_MB": 200}, CANARY=canary)
        concepts = outcome(report, "concepts")
        assert concepts.memory_exceeded, concepts
        assert "memory" in harness.messages(report, "6.").lower()
        assert_counted_by(report, meter)
        assert canary.read_text() == (harness.SOLUTIONS / "concepts.py").read_text()
        if harness.is_root():
            assert not _scratch_leftovers(marker), "files outlived the part"
            removed = concepts.leftover_files_removed
            assert removed["entries"] > 1500 and removed["left"] == 0, removed
            assert removed["bytes"] > 96 * 2**20, removed  # /tmp and /var/tmp, and /dev/shm
    finally:
        for path in _scratch_leftovers(marker) if marker else ():  # without root: ours to remove
            from grader import safefs
            safefs.remove_tree(path)
        shutil.rmtree(canary_folder, ignore_errors=True)


@pytest.mark.parametrize("meter", MEMORY_METERS)
def test_shared_memory(tmp_path, monkeypatch, meter):
    """Is MAP_SHARED memory that two processes of the part touch (shared, not private,
    pages) counted, so the part is stopped at its memory limit?"""
    use_meter(monkeypatch, meter)
    report, _ = run_attack("shared_memory", tmp_path, monkeypatch, limits={"MEMORY_MB": 250})
    concepts = outcome(report, "concepts")
    assert concepts.memory_exceeded and not concepts.timed_out, concepts
    assert concepts.peak_private_mb >= 200 or concepts.memory_counted_by.startswith("cgroup")
    assert_counted_by(report, meter)


def test_infinite_loop(tmp_path, monkeypatch):
    """Are spinning threads and processes stopped at the wall-time limit? (The memory
    limit is far away: only the wall-time limit can stop it.)"""
    report, _ = run_attack("infinite_loop", tmp_path, monkeypatch,
                           limits={"WALL_SECONDS": 6, "MEMORY_MB": 4096})
    concepts = outcome(report, "concepts")
    assert "ran out of time" in harness.messages(report, "6.")
    assert concepts.timed_out and not concepts.memory_exceeded, concepts
    assert 6 <= concepts.wall_seconds < 6 + 5


def test_ignore_sigterm(tmp_path, monkeypatch):
    """Does ignoring SIGTERM help a process survive? (The grader uses SIGKILL.)"""
    report, _ = run_attack("ignore_sigterm", tmp_path, monkeypatch, limits={"WALL_SECONDS": 5})
    assert "ran out of time" in harness.messages(report, "6.")


@pytest.mark.skipif(not harness.is_root(), reason=ROOT_ONLY)
def test_network(tmp_path, monkeypatch):
    """Can a part connect to a port on 127.0.0.1 that this test listens on?"""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.setblocking(False)
        report, marker = run_attack("network", tmp_path, monkeypatch,
                                    PORT=listener.getsockname()[1])
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert outcome(report, "concepts").isolation["network_namespace"]
    assert f"{marker} network:" in outcome(report, "concepts").output
    assert "connected" not in outcome(report, "concepts").output


def test_stdout_flood(tmp_path, monkeypatch):
    """Is endless output (from the part and a detached child) stopped, and is what the
    student sees capped?"""
    report, _ = run_attack("stdout_flood", tmp_path, monkeypatch)
    concepts = outcome(report, "concepts")
    assert concepts.output_exceeded and "far too much output" in harness.messages(report, "6.")
    assert len(concepts.output) <= 8 * 1024 + 200
    assert len(json.dumps(harness.gradescope_document(report))) < 200_000


def test_stdin_wait(tmp_path, monkeypatch):
    """Does waiting for input end at once, with a message about standard input?"""
    report, _ = run_attack("stdin_wait", tmp_path, monkeypatch)
    assert "standard input" in harness.messages(report, "6.")
    assert outcome(report, "concepts").wall_seconds < 10


def test_rewrite_grader(tmp_path, monkeypatch):
    """Can a part rewrite the test files, the calibration, or add a module to the grader
    package? Test files and calibration are world-readable copies here, as in a careless
    deployment; the real grader folder is only ever asked to take a new file."""
    attack = load_attack("rewrite_grader")
    harness.set_limits(monkeypatch)
    marker = harness.make_marker("rewrite_grader")
    copies = harness.world_readable_copy(
        [*harness.TEST_FILES, harness.check_calibration(tmp_path)], "rewrite")
    planted = harness.REPO / "grader" / f"{marker}.py"
    try:
        before = {p.name: p.read_bytes() for p in copies.iterdir()}
        submission = build(tmp_path, attack, MARKER=marker, GRADER_DIR=harness.REPO / "grader",
                           SECRETS=[str(copies / "*")])
        report, seconds = harness.grade(submission, tmp_path, parts=attack.PARTS, tests_dir=copies,
                                        calibration=copies / "calibration.json")
        after = {p.name: p.read_bytes() for p in copies.iterdir()}
        assert_contained(report, seconds, attack, marker, submission)
        assert not planted.exists(), "the part added a module to the grader package"
        if harness.is_root():
            assert before == after, "the sandbox user rewrote the grader's files"
            assert "written" not in outcome(report, "concepts").output
        else:  # same user: the files can change, but the grade notices and gives nothing
            assert report.tampered and report.score == 0
    finally:
        planted.unlink(missing_ok=True)
        shutil.rmtree(copies, ignore_errors=True)


def test_fake_logs(tmp_path, monkeypatch):
    """Do made-up histories with matching hand-written TensorBoard logs earn nothing?"""
    report, _ = run_attack("fake_logs", tmp_path, monkeypatch)
    assert "no model was trained with the build_fn" in harness.messages(report, "3.")


def test_control_pipe(tmp_path, monkeypatch):
    """Can a part forge the worker's replies through /proc, or stop or kill the worker?"""
    report, marker = run_attack("control_pipe", tmp_path, monkeypatch)
    concepts = outcome(report, "concepts")
    assert "FORGED REPLY" not in json.dumps(harness.gradescope_document(report))
    assert concepts.worker_error is None and concepts.isolation is not None
    if harness.is_root():
        assert "'written'" not in concepts.output and "'sent'" not in concepts.output


# ---------------------------------------------------------------- engine guarantees

def test_trusted_files_are_loaded_before_student_code(tmp_path, monkeypatch):
    """Does the engine read test files and calibration before any part runs, and notice
    (and give no points) when they change while parts run?"""
    from grader import engine
    copies = harness.world_readable_copy(
        [*harness.TEST_FILES, harness.check_calibration(tmp_path)], "trusted")
    seen = {}

    def fake_collect(submission_dir, profile, steps_needed, data, **kwargs):
        seen["cases_loaded"] = True
        (copies / "concepts.py").write_text("raise SystemExit('tampered')\n")
        (copies / "calibration.json").write_text("{}")
        return {}, {}

    monkeypatch.setattr(engine, "collect", fake_collect)
    monkeypatch.setattr(engine.oslimits, "sandbox_identity", lambda: None)  # as without root
    try:
        report, _ = harness.grade(harness.SOLUTIONS, tmp_path, parts=("concepts",), tests_dir=copies,
                                  calibration=copies / "calibration.json")
    finally:
        shutil.rmtree(copies, ignore_errors=True)
    assert seen["cases_loaded"] and report.results, "test files were read before the parts ran"
    assert report.score == 0 and report.tampered
    assert any("changed files of the grader" in note for note in report.notes)


@pytest.mark.skipif(not harness.is_root(), reason=ROOT_ONLY)
def test_sandbox_user_cannot_read_locked_files(tmp_path):
    """What can the sandbox user read? Not root-only files (as run_autograder leaves the
    grader source and results), but the packages it needs."""
    from grader.sandbox import oslimits
    identity = oslimits.sandbox_identity()
    locked = harness.world_readable_copy([harness.CALIBRATION if harness.CALIBRATION.exists()
                                          else harness.REPO / "grader/parts/concepts/tests.py"], "locked")
    try:
        os.chmod(locked, 0o700)
        assert oslimits.can_read(identity, str(locked)) is False
        os.chmod(locked, 0o755)
        assert oslimits.can_read(identity, str(locked)) is True
    finally:
        shutil.rmtree(locked, ignore_errors=True)
    import numpy
    assert oslimits.can_read(identity, numpy.__file__)
