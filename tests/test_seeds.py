"""Correct work always passes: the reference earns every point, hidden tests included, on
5 training seeds it was not calibrated on (each also replays all its runs live: no shipped
replay is for these seeds, so the evidence rule is exercised end to end)."""

import json

import pytest

from conftest import SOLUTIONS, grade
from grader.config import CALIBRATION_FILE
from grader.parts import total_points

SEEDS = tuple(range(101, 106))


@pytest.mark.slow
def test_reference_passes_on_5_unseen_seeds():
    """Does the reference earn every point of the configured assignment on each of seeds
    101-105? (All failing seeds are reported at once, with the failing tests' messages.)"""
    calibrated = set(json.loads(CALIBRATION_FILE.read_text())["seeds"])
    assert not calibrated & set(SEEDS), "the seeds must be ones the calibration did not use"
    failures = {}
    for seed in SEEDS:
        report = grade(SOLUTIONS, seed=seed)
        failed = [f"{r.name}: {r.message.splitlines()[0]}" for r in report.results if not r.passed]
        if failed or report.score != total_points() or report.max_score != total_points():
            failures[seed] = (report.score, failed)
    assert failures == {}, "\n".join(f"seed {seed}: {score}/{total_points():g}\n  " + "\n  ".join(failed)
                                     for seed, (score, failed) in failures.items())
