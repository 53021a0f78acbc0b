"""Does the embedded default data show what the assignment teaches, with the reference
solution in the grading configuration?"""

import pytest

from conftest import SOLUTIONS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def figures():
    from grader import calibrate, engine
    from grader.config import GRADE
    data, _ = engine.load_data(GRADE)
    return calibrate.measure(str(SOLUTIONS), GRADE, data)


def test_normalized_accuracy_in_target_band(figures):
    """Is the normalized held-out accuracy between 0.80 and 0.95 (hard, not trivial)?"""
    assert 0.80 <= figures["normalization.normalized.held_out_accuracy"] <= 0.95


def test_normalized_beats_raw(figures):
    """Does normalization win clearly (by at least 3 points)?"""
    assert figures["normalization.normalized.held_out_accuracy"] >= \
        figures["normalization.raw.held_out_accuracy"] + 0.03


def test_learning_rate_1_is_clearly_worse(figures):
    """Is Adam at learning rate 1 at least 15 points behind Adam at 0.001?"""
    assert figures["learning_rate.1.held_out_accuracy"] <= \
        figures["learning_rate.0.001.held_out_accuracy"] - 0.15


def test_sgd_learns_slower_than_adam(figures):
    """Is SGD at 0.001 at least 15 points behind Adam at 0.001 after the same epochs?"""
    assert figures["optimizer.sgd.held_out_accuracy"] <= \
        figures["optimizer.adam.held_out_accuracy"] - 0.15
