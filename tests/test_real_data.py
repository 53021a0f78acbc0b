"""Do real Quick, Draw! drawings show what the assignment teaches, with the reference in
the grading configuration? One seed of the calibration on ../shared/data/quickdraw-real
(selected with TRAIN_QUICKDRAW_DATA, read in place, never copied into the project)."""

import pytest

from conftest import REAL_QUICKDRAW, SHARED_DATA, SOLUTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"no shared data folder at {SHARED_DATA} (the real drawings are not part of "
                    "the project; CI provides them at ../shared/data)")
    if not any(REAL_QUICKDRAW.glob("*.npy")):
        pytest.skip(f"no real Quick, Draw! .npy files in {REAL_QUICKDRAW}")
    from datasets.source import DATA_ENV_VAR
    from grader import calibrate, engine
    from grader.config import GRADE
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DATA_ENV_VAR, str(REAL_QUICKDRAW))
        data, dataset = engine.load_data(GRADE)
        assert "numpy_bitmap" in dataset.description
        return calibrate.measure(str(SOLUTIONS), GRADE.with_seed(1), data)


def test_normalized_beats_raw(figures):
    """Does the normalized run beat the raw one on held-out real drawings?"""
    assert figures["normalization.normalized.held_out_accuracy"] > \
        figures["normalization.raw.held_out_accuracy"]


def test_learning_rate_1_is_worse_than_0_001(figures):
    """Is Adam at learning rate 1 behind Adam at 0.001 on real drawings?"""
    assert figures["learning_rate.1.held_out_accuracy"] < \
        figures["learning_rate.0.001.held_out_accuracy"]


def test_sgd_learns_slower_than_adam(figures):
    """After the same epochs at 0.001, is SGD behind Adam on real drawings?"""
    assert figures["optimizer.sgd.held_out_accuracy"] < figures["optimizer.adam.held_out_accuracy"]


def test_real_data_is_not_copied_into_the_project():
    """Does no real-data file live inside the project tree?"""
    import os
    from conftest import REPO
    names = {path.name for path in REAL_QUICKDRAW.glob("*.npy")}
    copies = []
    for root, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in (".venv", ".git")]
        copies += [os.path.join(root, name) for name in files if name in names]
    assert copies == []
