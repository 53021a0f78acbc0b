"""The student's side: the bundle's README and notebook, comparable TensorBoard runs, one
environment (imports the grader lacks), visual feedback, and submissions as students make
them (issue 7)."""

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import nbformat
import pytest

from conftest import REPO, SOLUTIONS

PYTHON = sys.executable


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Two builds of dist into separate folders (to compare them byte for byte)."""
    outs = []
    for _ in range(2):
        out = tmp_path_factory.mktemp("dist")
        subprocess.run([PYTHON, "-m", "builder", "dist", "--out", str(out)], cwd=REPO, check=True,
                       capture_output=True, timeout=300)
        outs.append(out)
    return outs


# --------------------------------------------------------------------------- README, notebook


def test_bundle_has_readme_and_notebook(built):
    """Do dist/student/ and student.zip hold README.md and the notebook, the notebook valid
    for nbformat and the README with the points of every part?"""
    out = built[0]
    with zipfile.ZipFile(out / "student.zip") as bundle:
        names = set(bundle.namelist())
        readme = bundle.read("README.md").decode()
        notebook = bundle.read("train_assignment.ipynb")
    assert {"README.md", "train_assignment.ipynb"} <= names
    assert (out / "student" / "README.md").read_text() == readme
    nbformat.validate(nbformat.reads(notebook.decode(), as_version=4))
    from builder import student_readme
    _, total, public = student_readme.parts_table(REPO)
    assert total >= 100 and 0 < public < total
    for text in ("make install", "make check", "tensorboard --logdir logs", "train_assignment.ipynb",
                 f"Total: {total:g} points; {public:g} of them", "hidden tests", "logs you made earn nothing",
                 "Part 1: normalizing the inputs", "Part 6: check for understanding"):
        assert text in readme, text
    for placeholder in ("{notebook}", "{parts_table}", "{total_points}", "{public_points}",
                        "{public_tests}"):
        assert placeholder not in readme


def test_bundle_is_byte_reproducible_with_the_docs(built):
    """Are README.md, the notebook and the student zip the same bytes in two builds?"""
    first, second = built
    for name in ("student/README.md", "student/train_assignment.ipynb", "student.zip"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_notebook_has_every_part_section():
    """Does every part get its goal, experiment, plot, TensorBoard (skipped headless) and
    check cell, and do the setup cells load autoreload?"""
    from builder import notebook
    node = notebook.render_notebook()
    sources = [cell.source for cell in node.cells]
    assert any("%autoreload 2" in source for source in sources)
    for part in notebook.PARTS:
        assert any(part["title"] in s for s in sources), part["part"]
        assert sum(f"check({json.dumps(part['part'])}" in s for s in sources) == 1
    tensorboard = [cell for cell in node.cells if "%tensorboard" in cell.source]
    assert len(tensorboard) == sum(1 for part in notebook.PARTS if part.get("logdir"))
    assert all(cell.metadata["tags"] == [notebook.SKIP_TAG] for cell in tensorboard)
    assert [cell.id for cell in node.cells] == [f"cell-{i:02d}" for i in range(len(node.cells))]


def test_solution_line_in_a_notebook_cell_is_a_leak():
    """Is a solution line quoted inside a notebook cell caught by the leak check (the JSON
    quoting hides it from a line-by-line reading)?"""
    from builder import notebook, pipeline, student_readme
    skeletons = pipeline.render_skeletons(REPO)
    forbidden = pipeline._forbidden_solution_lines(REPO, skeletons)
    line = next(line for line in forbidden if "keras.utils.set_random_seed" in line)
    parts = [dict(notebook.PARTS[0], plot=line)] + notebook.PARTS[1:]
    files = {"train_assignment.ipynb": notebook.notebook_bytes(parts)}
    leaks = student_readme.notebook_leaks(files, forbidden, {})
    assert len(leaks) == 1 and "solution line from solutions/" in leaks[0]
    assert student_readme.notebook_leaks({"train_assignment.ipynb": notebook.notebook_bytes()},
                                         forbidden, pipeline._hidden_names(REPO)) == []


# --------------------------------------------------------------------------- one environment

STUDENT_MODULES = ("normalization", "architecture", "training", "experiments", "concepts")


def _submission_with(tmp_path, extra_lines, module="experiments.py"):
    folder = tmp_path / "work"
    folder.mkdir()
    for path in SOLUTIONS.glob("*.py"):
        (folder / path.name).write_text(path.read_text())
    with open(folder / module, "a") as handle:
        handle.write("\n" + textwrap.dedent(extra_lines))
    return folder


def test_import_missing_from_the_grading_environment_is_named(tmp_path):
    """Is an import of an unpinned package named with its file, line and fix, even when the
    package is installed here (pip is in every venv, but not pinned)?"""
    from grader import envcheck
    folder = _submission_with(tmp_path, """\
        import seaborn as sns
        import pip
        import matplotlib.pyplot as plt
        from sklearn.preprocessing import MinMaxScaler
        try:
            import tqdm_not_pinned
        except ImportError:
            tqdm_not_pinned = None
        """)
    problems = envcheck.find_problems(folder, STUDENT_MODULES)
    assert [(p.file, p.module) for p in problems] == [("experiments.py", "seaborn"),
                                                      ("experiments.py", "pip")]
    message = problems[0].message()
    lines = (folder / "experiments.py").read_text().splitlines()
    assert lines[problems[0].line - 1] == "import seaborn as sns"
    assert "experiments.py line" in message and "'seaborn'" in message
    assert "grading environment does not have" in message and "Fix: remove the import" in message
    assert envcheck.find_problems(SOLUTIONS, STUDENT_MODULES) == []


def test_import_of_a_helper_file_is_named(tmp_path):
    """Is a module that imports a helper file of the student's own named as such?"""
    from grader import envcheck
    folder = _submission_with(tmp_path, "from helpers import smooth\n")
    (folder / "helpers.py").write_text("def smooth(x):\n    return x\n")
    [problem] = envcheck.find_problems(folder, STUDENT_MODULES)
    assert problem.local and problem.module == "helpers"
    assert "move the code you need from 'helpers' into experiments.py" in problem.message()


def test_self_check_flags_the_import_first(tmp_path, monkeypatch):
    """Does `python -m grader check` print the import problem before the test table?"""
    from grader import cli, engine
    folder = _submission_with(tmp_path, "import seaborn\n")
    calls = []

    def fake_grade(path, **kwargs):
        calls.append((path, kwargs))
        return engine.GradeReport(results=[], notes=[], part_outcomes={}, seconds=0.0)

    monkeypatch.setattr(engine, "grade", fake_grade)
    stdout = io.StringIO()
    with redirect_stdout(stdout):
        assert cli.main(["check", str(folder)]) == 0
    text = stdout.getvalue()
    assert text.startswith("WARNING: experiments.py line"), text[:300]
    assert "'seaborn'" in text and text.index("WARNING") < text.index("total")
    assert calls and calls[0][1]["include_hidden"] is False


def test_check_one_part_by_number_or_name(tmp_path, monkeypatch):
    """`check --part 7,loss_functions` grades those parts only, in the assignment's order;
    a number or name that is no part is refused with the list of parts, before grading."""
    from grader import cli, engine
    from grader.parts import PARTS
    names = list(PARTS)
    calls = []
    monkeypatch.setattr(engine, "grade", lambda path, **kwargs: calls.append(kwargs) or
                        engine.GradeReport(results=[], notes=[], part_outcomes={}, seconds=0.0))
    with redirect_stdout(io.StringIO()):
        assert cli.main(["check", str(SOLUTIONS), "--part", f"{names[8]},7"]) == 0
        assert cli.main(["check", str(SOLUTIONS)]) == 0
    assert calls[0]["parts"] == [names[6], names[8]] and calls[1]["parts"] is None
    stderr = io.StringIO()
    with redirect_stderr(stderr), redirect_stdout(io.StringIO()):
        assert cli.main(["check", str(SOLUTIONS), "--part", str(len(names) + 1)]) == 2
    assert f"'{len(names) + 1}' is not a part" in stderr.getvalue()
    assert f"1 {names[0]}" in stderr.getvalue() and len(calls) == 2


def test_notebook_check_regrades_only_its_part_after_an_edit(tmp_path, monkeypatch):
    """The notebook's check(): every part the first time, nothing again while the modules
    stay the same, then only the asked part after a module changed."""
    from grader import engine, nbtools
    folder = _submission_with(tmp_path, "")
    calls = []
    monkeypatch.setattr(engine, "grade", lambda path, **kwargs: calls.append(kwargs["parts"]) or
                        engine.GradeReport(results=[], notes=[], part_outcomes={}, seconds=0.0))
    monkeypatch.setattr(nbtools, "_reports", {})
    monkeypatch.setattr(nbtools, "_checked_every_part", False)
    nbtools.check("normalization", folder=str(folder))
    nbtools.check("batch_size", folder=str(folder))
    assert calls == [None]
    with open(folder / "experiments.py", "a") as handle:
        handle.write("\n# edited\n")
    nbtools.check("batch_size", folder=str(folder))
    nbtools.check("batch_size", folder=str(folder))
    assert calls == [None, ["batch_size"]]


def test_pins_cover_the_notebook():
    """Are matplotlib, ipykernel and nbclient pinned, so the notebook's environment is the
    grader's?"""
    from grader import envcheck
    pinned = envcheck.pinned_distributions(REPO)
    assert {"matplotlib", "ipykernel", "nbclient", "nbformat", "pandas"} <= pinned


# --------------------------------------------------------------------------- TensorBoard tags

TRAIN_RUNS = textwrap.dedent("""\
    import os, sys
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.path.insert(0, sys.argv[1])
    sys.path.insert(0, sys.argv[2])
    import keras
    import datasets
    import normalization, experiments
    from grader import reference_model
    data = datasets.split(datasets.load_source(n_per_class=20), n_train=120, n_val=60,
                          n_test=20, seed=0)
    (x, y), (xv, yv) = data["train"], data["val"]
    log_dir = sys.argv[3]
    normalization.run_normalization_experiment(x, y, xv, yv, os.path.join(log_dir, "normalization"),
                                               epochs=2)
    build = reference_model.builder(keras)
    experiments.run_learning_rate_experiment(
        normalization.normalize_pixels(x), y, normalization.normalize_pixels(xv), yv,
        os.path.join(log_dir, "learning_rate"), learning_rates=(1.0, 0.001), epochs=2,
        build_fn=lambda n, **kw: build(n, **kw))
    """)


@pytest.fixture(scope="module")
def run_logs(tmp_path_factory):
    """Logs of four runs: raw and normalized with the reference's build_model, learning
    rates 1 and 0.001 with the grader's reference builder (one process, like a student's)."""
    logs = tmp_path_factory.mktemp("logs")
    script = logs / "train.py"
    script.write_text(TRAIN_RUNS)
    subprocess.run([PYTHON, str(script), str(SOLUTIONS), str(REPO), str(logs / "runs")],
                   check=True, capture_output=True, timeout=300)
    return logs / "runs"


def _tags(run_dir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    tags = {}
    for split in ("train", "validation"):
        accumulator = EventAccumulator(str(run_dir / split), size_guidance={"tensors": 0})
        accumulator.Reload()
        tags[split] = set(accumulator.Tags()["tensors"])
    return tags


def test_runs_share_tensorboard_tags(run_logs):
    """Do two runs of one process, and runs of the student's and of the grader's builder,
    log the same scalar and histogram tags (so TensorBoard overlays them)?"""
    raw = _tags(run_logs / "normalization" / "raw")
    normalized = _tags(run_logs / "normalization" / "normalized")
    rate_1 = _tags(run_logs / "learning_rate" / "learning_rate_1")
    rate_small = _tags(run_logs / "learning_rate" / "learning_rate_0.001")
    assert raw == normalized == rate_1 == rate_small
    assert {"mlp/hidden/kernel/histogram", "mlp/output/kernel/histogram",
            "epoch_loss", "epoch_accuracy"} <= raw["train"]
    assert {"epoch_loss", "epoch_accuracy"} <= raw["validation"]


# --------------------------------------------------------------------------- visual feedback


def test_feedback_page_with_the_reference_band(run_logs, tmp_path):
    """Does the feedback draw one PNG per experiment and an HTML page linking them, with the
    reference's range from the calibration (and without it, saying so)?"""
    from grader import feedback
    from grader.config import CALIBRATION_FILE
    page = feedback.write_feedback(run_logs, tmp_path / "with", calibration=CALIBRATION_FILE)
    text = page.read_text()
    for experiment in ("normalization", "learning_rate"):
        image = tmp_path / "with" / f"{experiment}.png"
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 5000
        assert f'src="{experiment}.png"' in text
    assert feedback.reference_band("learning_rate", CALIBRATION_FILE)["1"][1] < 0.9
    assert "reference solution&#x27;s range" in text and "<td>1</td>" in text
    page = feedback.write_feedback(run_logs, tmp_path / "without", calibration=tmp_path / "none.json")
    assert "not in this bundle" in page.read_text()
    assert feedback.write_feedback(tmp_path / "no-logs", tmp_path / "x") is None


def test_histories_frame_is_long_format():
    """Is {setting: history} turned into (setting, epoch, metric, value) rows, numbers
    written as in run names?"""
    from grader import feedback
    frame = feedback.histories_frame({1.0: {"val_loss": [2.0, 1.0]}, 0.001: {"val_loss": [1.5, 0.5]}})
    assert list(frame.columns) == ["setting", "epoch", "metric", "value"]
    assert list(frame["setting"].unique()) == ["1", "0.001"] and frame["epoch"].max() == 2


# --------------------------------------------------------------------------- submissions


def _zip(tmp_path, members):
    path = tmp_path / "submission.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


def _modules():
    return {path.name: path.read_text() for path in sorted(SOLUTIONS.glob("*.py"))}


def test_notebook_alone_is_explained(tmp_path):
    """Does a zip holding only a notebook get a first note naming the notebook, the five
    expected modules, and what to submit?"""
    from grader import submission
    found = submission.stage(_zip(tmp_path, {"train_assignment.ipynb": "{}"}), tmp_path / "s")
    summary = found["summary"]
    assert found["modules"] == [] and found["missing"] and set(_modules()) <= set(found["missing"])
    assert "train_assignment.ipynb: a notebook is not graded" in summary
    assert all(name in summary for name in found["missing"])
    assert "Submit the .py files" in summary


def test_nested_folder_is_graded_and_explained(tmp_path):
    """Are modules two folders deep (with macOS droppings and a stray file) graded, with a
    note naming the folder and the stray file?"""
    from grader import submission
    members = {f"Homework/train/{name}": text for name, text in _modules().items()}
    members.update({"__MACOSX/Homework/._x": "junk", "Homework/notes.txt": "mine"})
    found = submission.stage(_zip(tmp_path, members), tmp_path / "s")
    assert sorted(found["modules"]) == sorted(_modules()) and found["missing"] == []
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted(_modules())
    assert "in Homework/train/" in found["summary"] and "Not graded: Homework/notes.txt" in found["summary"]


def test_expected_layouts_get_no_summary(tmp_path):
    """Do the five files at the top level, inside one folder, or with the bundle's own files
    and the notebook around them, get no summary note?"""
    from grader import submission
    layouts = {
        "top": _modules(),
        "folder": {f"my-work/{name}": text for name, text in _modules().items()},
        "bundle": {**_modules(), "train_assignment.ipynb": "{}", "README.md": "x",
                   "grader/cli.py": "", "logs/normalization/raw/events": "x"},
    }
    for label, members in layouts.items():
        (tmp_path / label).mkdir()
        found = submission.stage(_zip(tmp_path / label, members), tmp_path / f"s-{label}")
        assert found["summary"] is None, (label, found["summary"])
        assert found["missing"] == [], label


def test_extra_python_file_outside_the_module_folder_is_not_staged(tmp_path):
    """Is a .py file outside the folder the modules are in left out (and named)?"""
    from grader import submission
    members = {f"work/{name}": text for name, text in _modules().items()}
    members["scratch.py"] = "print('hello')\n"
    found = submission.stage(_zip(tmp_path, members), tmp_path / "s")
    assert "scratch.py" not in found["modules"]
    assert not (tmp_path / "s" / "scratch.py").exists()
    assert "Not graded: scratch.py" in found["summary"]
