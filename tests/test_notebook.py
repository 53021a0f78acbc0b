"""The notebook edition, executed headless with nbclient as a student would run it: on the
reference (every cell runs, every check passes, plots are drawn) and on the untouched
skeleton (runs to the end, every check says "not attempted", nothing crashes). At the
self-check's size (``TRAIN_NOTEBOOK_SIZE=check``) on the embedded data; TensorBoard cells
are tagged ``skip-execution`` and skipped (a headless run must not start a server)."""

import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from conftest import ASSIGNMENT, REPO, SOLUTIONS

PYTHON = sys.executable
NOTEBOOK = "train_assignment.ipynb"


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([PYTHON, "-m", "builder", "dist", "--out", str(out)], cwd=REPO, check=True,
                   capture_output=True, timeout=300)
    return out / "student"


def execute(folder, monkeypatch):
    """Run every cell of the folder's notebook; returns (notebook, seconds)."""
    from nbclient import NotebookClient
    monkeypatch.setenv("TRAIN_NOTEBOOK_SIZE", "check")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(folder / NOTEBOOK, as_version=4)
    started = time.monotonic()
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    seconds = time.monotonic() - started
    print(f"{folder.name}: notebook executed in {seconds:.1f} s")
    return notebook, seconds


def outputs(cell, kind=None):
    found = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and kind in (None, "text"):
            found.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            if kind in (None, "text"):
                found.append(output.data.get("text/plain", ""))
            if kind == "png" and "image/png" in output.data:
                found.append(output.data["image/png"])
        elif output.output_type == "error":
            found.append(f"ERROR {output.ename}: {output.evalue}")
    return found


def expected_checks():
    from builder import student_readme
    return len(student_readme.assignment_parts(REPO))


def check_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"
            and cell.source.startswith("# Public tests of this part")]


def _copy(student_bundle, tmp_path, name, modules_from=None):
    folder = tmp_path / name
    shutil.copytree(student_bundle, folder)
    if modules_from is not None:
        for path in modules_from.glob("*.py"):
            shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.slow
def test_notebook_on_the_reference(student_bundle, tmp_path, monkeypatch):
    """Does every cell of the notebook run on the reference, every part's check pass, and
    every experiment draw its plot (and its logs)?"""
    folder = _copy(student_bundle, tmp_path, "reference", SOLUTIONS)
    notebook, _ = execute(folder, monkeypatch)
    errors = [text for cell in notebook.cells for text in outputs(cell) if text.startswith("ERROR")]
    assert errors == []
    checks = check_cells(notebook)
    assert len(checks) == expected_checks()
    for cell in checks:
        text = "".join(outputs(cell))
        assert "public tests passed" in text and "The autograder also runs hidden tests" in text, text
    plots = [cell for cell in notebook.cells if cell.source.startswith(("plot_histories", "plot_descent",
                                                                         "show_drawings"))]
    assert len(plots) == 6 and all(outputs(cell, "png") for cell in plots)
    for experiment in ("normalization", "batch_size", "learning_rate", "optimizer"):
        assert any((folder / "logs" / experiment).iterdir()), experiment
    assert not any("not attempted" in "".join(outputs(cell)) for cell in notebook.cells)


@pytest.mark.slow
def test_notebook_on_the_skeleton(student_bundle, tmp_path, monkeypatch):
    """Does the notebook run to the end on the untouched skeleton, each check saying "not
    attempted" and naming what to fill in, with no error and no traceback?"""
    folder = _copy(student_bundle, tmp_path, "skeleton", ASSIGNMENT)
    notebook, _ = execute(folder, monkeypatch)
    texts = [text for cell in notebook.cells for text in outputs(cell)]
    assert not any(text.startswith("ERROR") or "Traceback" in text for text in texts)
    checks = check_cells(notebook)
    assert len(checks) == expected_checks()
    for cell in checks:
        text = "".join(outputs(cell))
        assert "not attempted yet (fill in " in text, text
    assert any("nothing to plot yet" in text for text in texts)
