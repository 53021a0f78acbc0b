"""Does the trusted side survive any file a submission or a sandboxed part can make?

Each test builds the hostile input for real (hard links, a zip with a bad CRC, folders
1,100-1,500 deep, a forged .npy header, a zip bomb, FIFOs and symlinks named like event
files, a lone surrogate in an exception message) and checks that the grader neither
crashes nor hangs, leaves no file behind, writes valid UTF-8 JSON and says what it
found. Most call the reading functions directly; one grade covers a whole submission.
"""

import io
import json
import os
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

import sandbox_harness as harness
from conftest import SOLUTIONS, make_submission
from grader import artifacts, safefs, submission, tblogs  # tblogs first: it stubs TensorFlow

from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402


class Hung(Exception):
    pass


def within(seconds, function, *args):
    """``function(*args)``, failing the test if it takes longer than ``seconds`` (SIGALRM
    also interrupts a blocking open() of a FIFO)."""
    def on_alarm(signum, frame):
        raise Hung(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    started = time.monotonic()
    try:
        return function(*args), time.monotonic() - started
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def deep_tree():
    """Makes trees too deep for ``shutil.rmtree`` (pytest's own clean-up included) and
    removes them after the test."""
    made = []

    def make(top, depth, name="d"):
        made.append(top)
        return _deep_tree(top, depth, name)
    yield make
    for top in made:
        safefs.remove_tree(top)


def _deep_tree(top, depth, name):
    """``depth`` nested folders under ``top``, made relative to an open folder so the
    whole path may exceed PATH_MAX; a file in each. Returns the deepest folder's depth."""
    os.makedirs(top, exist_ok=True)
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            os.close(os.open("f.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
            child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
    finally:
        os.close(fd)
    return depth


@pytest.fixture
def private_tmp(monkeypatch):
    """A fresh folder for every temporary folder the grader makes in this process (other
    jobs on the machine use /tmp too), traversable by the sandbox user; checked empty."""
    import shutil
    import tempfile
    folder = tempfile.mkdtemp(prefix="train-hostile-tmp-")
    os.chmod(folder, 0o755)
    monkeypatch.setattr(tempfile, "tempdir", folder)
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ staging a submission

def test_hard_linked_module_is_not_staged(tmp_path):
    """Is a top-level module that is a hard link to a host file refused, with a note,
    while the other modules are staged?"""
    host_file = tmp_path / "host-secret.py"
    host_file.write_text("SECRET = 'host data'\n")
    folder = make_submission(tmp_path)
    (folder / "concepts.py").unlink()
    os.link(host_file, folder / "concepts.py")
    staged = tmp_path / "staged"
    found = submission.stage(folder, staged)
    assert "concepts.py" not in found["modules"] and "concepts.py" in found["missing"]
    assert not (staged / "concepts.py").exists()
    assert "normalization.py" in found["modules"]
    assert any("concepts.py is a hard link" in p and "not graded" in p for p in found["problems"])


def test_symlinked_module_is_named_not_followed(tmp_path):
    """Is a module that is a symlink to a host file (or a FIFO) left unread, with a note?"""
    host_file = tmp_path / "host-secret.py"
    host_file.write_text("SECRET = 'host data'\n")
    folder = make_submission(tmp_path)
    (folder / "concepts.py").unlink()
    (folder / "concepts.py").symlink_to(host_file)
    (folder / "training.py").unlink()
    os.mkfifo(folder / "training.py")
    found, _ = within(10, submission.stage, folder, tmp_path / "staged")
    assert sorted(found["missing"]) == ["concepts.py", "training.py"]
    assert "concepts.py: a symbolic link, not read; it was not graded" in found["problems"]
    assert "training.py: a FIFO, not read; it was not graded" in found["problems"]


def corrupt_zip(path, member, base=SOLUTIONS):
    """A zip of ``base``'s modules in a folder, with one byte of ``member``'s data flipped."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as bundle:
        for module in sorted(base.glob("*.py")):
            bundle.write(module, f"work/{module.name}")
    with zipfile.ZipFile(path) as bundle:
        info = bundle.getinfo(f"work/{member}")
    data = bytearray(path.read_bytes())
    local_name_length = int.from_bytes(data[info.header_offset + 26:info.header_offset + 28], "little")
    local_extra_length = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
    offset = info.header_offset + 30 + local_name_length + local_extra_length + 10
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))
    return path


def test_zip_member_with_a_bad_crc_is_reported(tmp_path):
    """Is a corrupt member named in a note while the good members are staged?"""
    archive = corrupt_zip(tmp_path / "submission.zip", "experiments.py")
    staged = tmp_path / "staged"
    found, seconds = within(10, submission.stage, archive, staged)
    assert "experiments.py" not in found["modules"] and "concepts.py" in found["modules"]
    assert found["missing"] == ["experiments.py"]
    assert any("member work/experiments.py of your zip is corrupt" in p and "CRC" in p
               for p in found["problems"]), found["problems"]
    assert sorted(p.name for p in staged.iterdir()) == sorted(found["modules"])


def test_logs_tree_1100_folders_deep(tmp_path, deep_tree):
    """Is a submission whose logs/ is 1,100 folders deep staged quickly, without a
    RecursionError, its modules taken and the deep part left unread?"""
    folder = make_submission(tmp_path)
    deep_tree(folder / "logs" / "run1", 1100)
    found, seconds = within(20, submission.stage, folder, tmp_path / "staged")
    assert seconds < 5
    assert found["missing"] == [] and found["log_runs"] == 1


# --------------------------------------------------------------- arrays a part left behind

def step_folder(tmp_path, npz_bytes=None):
    """A part's output folder with an ok record for step 'normalize' (and its .npz)."""
    outdir = tmp_path / "out"
    outdir.mkdir()
    (outdir / "normalize.json").write_text(json.dumps({"ok": True, "value": {}}))
    if npz_bytes is not None:
        (outdir / "normalize.npz").write_bytes(npz_bytes)
    return outdir


def forged_npz(shape, descr="<f8"):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("result.npy", header.getvalue() + b"\0" * 64)
    return archive.getvalue()


def test_npz_header_declaring_8_tib(tmp_path):
    """Is a 300-byte npz whose header declares 8 TiB refused before anything is
    allocated, with a message naming the array and the sizes?"""
    raw = forged_npz((2**40,))
    assert len(raw) < 400
    outdir = step_folder(tmp_path, raw)
    step, seconds = within(10, artifacts.read_step, str(outdir), "normalize", None)
    assert not step.ok and seconds < 1
    assert "'result.npy' declares shape (1099511627776,)" in step.error
    assert "was a result file altered?" in step.error


def test_npz_zip_bomb(tmp_path):
    """Is an npz that inflates to 320 MB (zeros, 0.3 MB on disk) refused from its
    directory, without inflating it?"""
    path = tmp_path / "bomb.npz"
    size = 320 * 2**20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        with bundle.open("result.npy", "w", force_zip64=True) as member:
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f8", "fortran_order": False, "shape": (size // 8,)})
            member.write(header.getvalue())
            for _ in range(size // 2**24):
                member.write(bytes(2**24))
    outdir = step_folder(tmp_path, path.read_bytes())
    step, seconds = within(10, artifacts.read_step, str(outdir), "normalize", None)
    assert not step.ok and seconds < 1
    assert "normalize.npz unpacks to 320 MB, more than 256 MB" in step.error


@pytest.mark.parametrize("kind", ["object", "symlink", "hardlink", "fifo"])
def test_npz_other_hostile_forms(tmp_path, kind):
    """Object arrays, and an npz that is a symlink, a hard link or a FIFO: refused."""
    good = tmp_path / "good.npz"
    np.savez(good, result=np.zeros(3))
    outdir = step_folder(tmp_path)
    target = outdir / "normalize.npz"
    if kind == "object":
        np.savez(target, result=np.array([{"a": 1}], dtype=object))
    elif kind == "symlink":
        target.symlink_to(good)
    elif kind == "hardlink":
        os.link(good, target)
    else:
        os.mkfifo(target)
    step, _ = within(10, artifacts.read_step, str(outdir), "normalize", None)
    expected = {"object": "has dtype object, expected numbers", "symlink": "symbolic link",
                "hardlink": "hard link", "fifo": "is a FIFO"}[kind]
    assert not step.ok and expected in step.error, step.error


def test_steps_share_one_array_budget_per_grade(tmp_path):
    """Each step's arrays pass the per-file caps, but together they may not exceed the
    grade's budget: the step that would go over is refused, naming the budget (a part
    once made the grading process hold 1.75 GB this way), and the budget grows with a
    larger profile's data."""
    budget = artifacts.ArrayBudget(3 * 2**20)
    outdir = step_folder(tmp_path)
    np.savez(outdir / "normalize.npz", result=np.zeros(2**20 // 8 * 2))  # 2 MB
    first = artifacts.read_step(str(outdir), "normalize", None, budget)
    assert first.ok and budget.used >= 2 * 2**20
    second = artifacts.read_step(str(outdir), "normalize", None, budget)
    assert not second.ok and "more than the 3 MB they may hold in all" in second.error
    small = {"x_train": np.zeros((2000, 784), np.uint8), "x_val": np.zeros((1000, 784), np.uint8)}
    large = {"x_train": np.zeros((20000, 784), np.uint8), "x_val": np.zeros((5000, 784), np.uint8)}
    assert artifacts.grade_array_budget(small).limit == artifacts.MIN_GRADE_ARRAY_BYTES
    assert artifacts.grade_array_budget(large).limit == 8 * 4 * 25000 * 784


def test_legitimate_npz_still_loads(tmp_path):
    """And what the probes write still loads, values, shapes and order intact."""
    outdir = step_folder(tmp_path)
    expected = {"a": np.arange(12.0).reshape(3, 4), "b": np.asfortranarray(np.ones((2, 5), np.float32)),
                "c": np.array(7, dtype=np.int64)}
    np.savez(outdir / "normalize.npz", **expected)
    step = artifacts.read_step(str(outdir), "normalize", None)
    assert step.ok
    for name, array in expected.items():
        assert step.arrays[name].dtype == array.dtype and np.array_equal(step.arrays[name], array)
        assert step.arrays[name].flags.writeable


# --------------------------------------------------------------------- removing a part's folder

def test_folder_1500_deep_in_a_part_outdir_is_removed(tmp_path, private_tmp, deep_tree):
    """Does closing the worker remove its work folder when a part left a folder 1,500
    deep (paths far past PATH_MAX), a folder it may not enter, a FIFO and symlinks
    to host files, without touching the host files?"""
    from grader.config import CHECK, Limits
    from grader.sandbox.supervisor import Worker
    host_file = tmp_path / "host.txt"
    host_file.write_text("keep me")
    host_folder = tmp_path / "host-folder"
    host_folder.mkdir()
    (host_folder / "inside.txt").write_text("keep me too")
    staged = tmp_path / "staged"
    staged.mkdir()
    worker = Worker({}, str(staged), CHECK, Limits.from_env())
    outdir = Path(worker.workdir) / "parts" / "concepts"
    deep_tree(outdir, 1500, name="d" * 100)
    os.mkfifo(outdir / "events.out.tfevents.fifo")
    (outdir / "link-to-file").symlink_to(host_file)
    (outdir / "link-to-folder").symlink_to(host_folder)
    (outdir / "locked").mkdir()
    (outdir / "locked" / "x").write_text("x")
    os.chmod(outdir / "locked", 0)
    _, seconds = within(60, worker.__exit__, None, None, None)
    assert not os.path.exists(worker.workdir) and list(private_tmp.iterdir()) == []
    assert host_file.read_text() == "keep me" and (host_folder / "inside.txt").exists()


def test_remove_tree_does_not_follow_a_symlinked_top(tmp_path):
    """A symlink given as the tree is removed itself, not what it points to."""
    target = tmp_path / "target"
    target.mkdir()
    (target / "file").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert safefs.remove_tree(link)
    assert not link.is_symlink() and (target / "file").exists()


# ------------------------------------------------------------------------ TensorBoard logs

def write_events(folder, losses=(1.0, 0.5, 0.25), pad_mb=0):
    """A real event file with one ``epoch_loss`` scalar per epoch (plus ``pad_mb`` MB of
    graph events, which the reader keeps but the grader ignores); its path."""
    os.makedirs(folder, exist_ok=True)
    before = set(os.listdir(folder))
    writer = EventFileWriter(str(folder))
    for step, loss in enumerate(losses):
        value = summary_pb2.Summary.Value(tag="epoch_loss", simple_value=loss)
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0 + step,
                                         summary=summary_pb2.Summary(value=[value])))
    for _ in range(pad_mb):
        writer.add_event(event_pb2.Event(step=0, wall_time=1.0, graph_def=bytes(2**20)))
    writer.close()
    (name,) = set(os.listdir(folder)) - before
    return Path(folder) / name


def train_losses(run):
    return run.series("loss", "train")


def test_fifo_named_like_an_event_file(tmp_path):
    """Is a FIFO named events.out.tfevents.x beside a real event file skipped, not
    opened (which blocks until the grade is killed)?"""
    run_dir = tmp_path / "logs" / "run"
    write_events(run_dir / "train")
    os.mkfifo(run_dir / "train" / "events.out.tfevents.x")
    run, seconds = within(10, tblogs.read_run, str(run_dir))
    assert train_losses(run) == [1.0, 0.5, 0.25] and seconds < 5


def test_100_symlinks_to_one_event_file(tmp_path):
    """Are 100 symlinks to one 8 MB event file skipped (the old reader parsed all 100:
    800 MB), only the run's own file read?"""
    big = write_events(tmp_path / "elsewhere", losses=(9.0,), pad_mb=8)
    run_dir = tmp_path / "logs" / "run"
    write_events(run_dir / "train")
    for index in range(100):
        (run_dir / "train" / f"events.out.tfevents.{index}.link").symlink_to(big)
    run, seconds = within(30, tblogs.read_run, str(run_dir))
    assert train_losses(run) == [1.0, 0.5, 0.25] and seconds < 5


def test_symlink_to_dev_zero_named_like_an_event_file(tmp_path):
    """Is an event-file symlink to /dev/zero (or any device) never opened?"""
    run_dir = tmp_path / "logs" / "run"
    write_events(run_dir / "train")
    (run_dir / "train" / "events.out.tfevents.zero").symlink_to("/dev/zero")
    run, seconds = within(10, tblogs.read_run, str(run_dir))
    assert train_losses(run) == [1.0, 0.5, 0.25] and seconds < 5


def test_only_links_gives_a_message_naming_them(tmp_path):
    """A run holding only a symlink and a hard link: an error saying what was skipped."""
    real = write_events(tmp_path / "elsewhere")
    run_dir = tmp_path / "logs" / "run"
    (run_dir / "train").mkdir(parents=True)
    (run_dir / "train" / "events.out.tfevents.1").symlink_to(real)
    os.link(real, run_dir / "train" / "events.out.tfevents.2")
    with pytest.raises(tblogs.LogError) as caught:
        tblogs.read_run(str(run_dir))
    assert "holds no TensorBoard event files" in str(caught.value)
    assert "a symbolic link" in str(caught.value) and "a hard link" in str(caught.value)


def test_log_sizes_are_bounded_per_run_and_per_experiment(tmp_path, monkeypatch):
    """Is a run over the per-run cap refused, and are runs refused once the experiment's
    log_dir holds more than its cap in all, before anything is parsed?"""
    monkeypatch.setattr(tblogs, "MAX_LOG_BYTES", 2 * 2**20)
    monkeypatch.setattr(tblogs, "MAX_EXPERIMENT_LOG_BYTES", 6 * 2**20)
    log_dir = tmp_path / "logs"
    write_events(log_dir / "big" / "train", pad_mb=3)
    with pytest.raises(tblogs.LogError, match="more than the 2 MB read per run"):
        tblogs.read_run(str(log_dir / "big"))
    write_events(log_dir / "small" / "train", pad_mb=1)
    assert train_losses(tblogs.read_run(str(log_dir / "small"))) == [1.0, 0.5, 0.25]
    write_events(log_dir / "more" / "train", pad_mb=2)
    with pytest.raises(tblogs.LogError, match="more than the 6 MB read per experiment"):
        tblogs.read_run(str(log_dir / "small"))


def test_log_bytes_are_bounded_per_grade(tmp_path, monkeypatch):
    """Within one grade's budget, every experiment's runs together: once the event files
    read reach it, further runs are refused before they are parsed, with the budget named
    (400 MB of tiny records spread over experiments once outlasted the grade's time)."""
    monkeypatch.setattr(tblogs, "MAX_GRADE_LOG_BYTES", 3 * 2**20)
    for experiment in ("one", "two"):
        write_events(tmp_path / experiment / "run" / "train", pad_mb=2)
    with tblogs.grade_budget():
        assert train_losses(tblogs.read_run(str(tmp_path / "one" / "run"))) == [1.0, 0.5, 0.25]
        with pytest.raises(tblogs.LogError, match="past the 3 MB read in all"):
            tblogs.read_run(str(tmp_path / "two" / "run"))
    assert train_losses(tblogs.read_run(str(tmp_path / "two" / "run"))) == [1.0, 0.5, 0.25]


def test_deep_run_folder_and_no_private_copies_left(tmp_path, private_tmp, deep_tree):
    """A run folder 1,100 deep is read to a bounded depth, and the private copies the
    reader makes are all removed."""
    run_dir = tmp_path / "logs" / "run"
    write_events(run_dir / "train")
    deep_tree(run_dir / "deep", 1100)
    run, seconds = within(20, tblogs.read_run, str(run_dir))
    assert train_losses(run) == [1.0, 0.5, 0.25] and seconds < 5
    assert list(private_tmp.iterdir()) == []


def test_scalar_tensor_with_a_forged_shape(tmp_path):
    """A 'scalar' whose tensor declares 2**40 elements (TensorBoard would allocate them
    all from one stored value) is ignored, not expanded."""
    from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2
    run_dir = tmp_path / "logs" / "run"
    write_events(run_dir / "train")
    writer = EventFileWriter(str(run_dir / "validation"))
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=2**40)])
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, float_val=[1.0])
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"))
    value = summary_pb2.Summary.Value(tag="epoch_loss", tensor=tensor, metadata=metadata)
    writer.add_event(event_pb2.Event(step=0, wall_time=1.0, summary=summary_pb2.Summary(value=[value])))
    writer.close()
    run, seconds = within(10, tblogs.read_run, str(run_dir))
    assert train_losses(run) == [1.0, 0.5, 0.25] and run.series("loss", "validation") == []


# ------------------------------------------------------ text from student code, in results

def fake_report(message):
    from grader.engine import GradeReport, TestResult
    return GradeReport(results=[TestResult("6.1 check", "part6", 0.0, 5.0, False, message)],
                       notes=[f"note {message}"], part_outcomes={}, seconds=1.0)


def test_lone_surrogates_are_written_as_valid_utf8(tmp_path):
    """Do a table and a results.json made from messages holding lone surrogates encode
    as UTF-8, the surrogates replaced?"""
    from grader import cli, results
    report = fake_report("ValueError: \ud800 and \udcff")
    table = results.format_table(report)
    table.encode("utf-8")
    assert "ValueError: ? and ?" in table
    target = cli.ResultsFile(tmp_path / "results.json")
    target.write(results.to_gradescope(report))
    text = (tmp_path / "results.json").read_bytes().decode("utf-8")
    assert "\\ud" not in text.lower()
    assert json.loads(text)["tests"][0]["output"].startswith("ValueError: ? and ?")
    results.write_json(results.to_gradescope(report), tmp_path / "other.json")
    json.loads((tmp_path / "other.json").read_bytes().decode("utf-8"))


def test_grade_of_a_zip_with_a_corrupt_member_and_a_surrogate_message(tmp_path, monkeypatch,
                                                                      private_tmp):
    """One real grade (Part 6 only): a zip whose experiments.py is corrupt and whose
    gradient_descent raises ValueError('\\ud800'). Part 6 keeps the points it can earn,
    the corrupt member is named in a note, the surrogate reaches neither the table nor
    results.json unencoded, and nothing is left in /tmp."""
    harness.set_limits(monkeypatch)
    base = make_submission(tmp_path, [("concepts.py", "    positions = [float(x0)]\n",
                                       "    raise ValueError('bad \\ud800 value')\n")])
    archive = corrupt_zip(tmp_path / "submission.zip", "experiments.py", base=base)
    report, seconds = harness.grade(archive, tmp_path, parts=("concepts",))
    assert seconds < harness.GRADE_SECONDS_BOUND
    found = harness.scores(report)
    shown = results_text(report)
    assert found and all(score == 0 for name, (score, _) in found.items()
                         if name.startswith(("6.1 ", "6.2 ", "6.9 "))), shown
    assert any(score == top > 0 for score, top in found.values()), shown
    assert any("member work/experiments.py of your zip is corrupt" in note for note in report.notes)
    from grader import results
    table = results.format_table(report)
    assert "bad ? value" in table
    document = json.dumps(harness.gradescope_document(report), ensure_ascii=False)
    document.encode("utf-8")
    assert "bad ? value" in document
    assert list(private_tmp.iterdir()) == []


def results_text(report):
    from grader import results
    return results.format_table(report) + f"\n{report.infrastructure_failure}\n{report.part_outcomes}"


# ------------------------------------------------------------ stopping the grade, grade-all

def test_grade_timeout_is_not_swallowed(tmp_path, monkeypatch):
    """Is GradeTimeout a BaseException that the untrusted-input handlers (reading logs,
    building an experiment, running a case, the retry of a failed grade) let through?"""
    from grader import engine, runs
    from grader.cli import GradeTimeout
    assert not issubclass(GradeTimeout, Exception)

    def stop(*args, **kwargs):
        raise GradeTimeout("the grade took longer than its time budget")

    run_dir = tmp_path / "logs" / "run"
    write_events(run_dir / "train")
    monkeypatch.setattr(tblogs.event_accumulator.EventAccumulator, "Reload", stop)
    with pytest.raises(GradeTimeout):
        tblogs.read_run(str(run_dir))
    monkeypatch.setattr(runs, "build_experiment", stop)
    step = artifacts.Step("batch_size_experiment", True, str(tmp_path), value={})
    monkeypatch.setattr(engine, "_check_record", lambda step, part, inputs: step)
    with pytest.raises(GradeTimeout):
        engine._finish_step(step, engine.PARTS["batch_size"], {}, {}, harness_profile())

    class Case:
        class body:
            test_func = staticmethod(lambda: None)
            call_func = staticmethod(stop)
    with pytest.raises(GradeTimeout):
        engine.run_case(Case, {})
    calls = []
    monkeypatch.setattr(engine, "_grade_once", lambda *a, **k: calls.append(1) or stop())
    with pytest.raises(GradeTimeout):
        engine.grade("anything", profile=harness_profile())
    assert calls == [1]


def harness_profile():
    from grader.config import CHECK
    return CHECK


def test_grade_all_survives_one_failing_submission(tmp_path, monkeypatch):
    """Does grade-all write a row for every submission when one grade raises and one
    could not be made, rewrite the CSV after each, and exit non-zero?"""
    from grader import cli, engine, gradebook
    from grader.engine import GradeReport
    folder = tmp_path / "submissions"
    for name in ("alice", "bob", "carol"):
        (folder / name).mkdir(parents=True)
    gradebook_path = tmp_path / "gradebook.csv"
    seen = []

    def fake_grade(path, **kwargs):
        name = os.path.basename(path)
        if seen:  # the CSV so far is on disk before the next submission is graded
            text = gradebook_path.read_text()
            assert text.count("\n") == 4 and text.count("not graded yet") == 3 - len(seen)
        seen.append(name)
        if name == "alice":
            raise RuntimeError("boom \ud800")
        if name == "bob":
            return GradeReport([], [], {}, 1.0, infrastructure_failure="the worker died (tried 2 time(s))")
        return fake_report("fine")
    monkeypatch.setattr(engine, "grade", fake_grade)
    status = cli.main(["grade-all", str(folder), "--gradebook", str(gradebook_path),
                       "--results-dir", str(tmp_path / "json"), "--jobs", "0"])
    assert status == 2 and seen == ["alice", "bob", "carol"]
    import csv
    rows = {row["submission"]: row for row in csv.DictReader(gradebook_path.open(encoding="utf-8"))}
    problem = rows["alice"]["problem"]
    assert problem.startswith(gradebook.COULD_NOT_GRADE) and "boom ?" in problem
    assert "the worker died" in rows["bob"]["problem"] and float(rows["bob"]["score"]) == 0
    assert rows["carol"]["score"] == "0.0" and not rows["carol"]["problem"]
    for name in ("alice", "bob"):
        document = json.loads((tmp_path / "json" / f"{name}.json").read_text(encoding="utf-8"))
        assert document["score"] == 0 and "not a problem with your code" in document["output"]
