"""Scores that are evidence: experiment points only for runs the grader re-trained itself.

Every experiment run a part claims is replayed in a process that never ran student code
(``grader.replay``); a run whose recorded weights are not what that replay produces earns
nothing in any test. These tests grade real submissions, with the grader's own builder
and the replay on, on the small self-check data (seconds per grade):

* the reference earns every experiment point (the replay agrees with honest training);
* submissions that forge the grader's records, or train one model and report it for
  every setting, earn no experiment point, and are told why;
* the attack corpus in ``tests/attacks/evidence/`` (written against README and the
  student bundle only, without reading the grader) earns no experiment point either.
"""

import dataclasses
import json
from pathlib import Path

import pytest

import sandbox_harness as harness
from conftest import make_submission

from grader import engine
from grader.config import CHECK
from grader.parts import EXPERIMENTS

#: The self-check's data and sizes, but graded as the autograder grades: the grader's own
#: builder in the experiments and every run replayed.
PROFILE = dataclasses.replace(CHECK, name="evidence", reference_model=True)
EXPERIMENT_PARTS = ("normalization", "batch_size", "learning_rate", "optimizer")
EXPERIMENT_STEPS = set(EXPERIMENTS)
EVIDENCE_CORPUS = Path(__file__).parent / "attacks" / "evidence"


def _calibration(folder):
    """A calibration for PROFILE: the real file's metrics, PROFILE's data and profile."""
    metrics = json.loads(harness.CALIBRATION.read_text())["metrics"]
    profile = PROFILE.to_dict()
    path = Path(folder) / "calibration.json"
    path.write_text(json.dumps({"dataset": {"sha256": engine.load_data(PROFILE)[1].sha256},
                                "profile": profile, "metrics": metrics}))
    return path


def grade(submission, folder, *, include_hidden=True):
    return engine.grade(submission, profile=PROFILE, include_hidden=include_hidden,
                        calibration_path=_calibration(folder), parts=EXPERIMENT_PARTS)


def experiment_results(report):
    """Results of the test cases that judge an experiment (not normalize_pixels or
    best_setting, which are plain function calls)."""
    cases = {case.name: case for test_file in engine.load_test_files() for case in test_file.test_cases}
    return [result for result in report.results
            if set(engine.case_parameters(cases[result.name])) & EXPERIMENT_STEPS]


def experiment_points(report):
    return sum(result.score for result in experiment_results(report))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    return grade(harness.SOLUTIONS, tmp_path_factory.mktemp("reference"), include_hidden=False)


def test_reference_earns_every_public_experiment_point(reference):
    """Honest training, replayed by the grader, matches: no point lost to the evidence rule."""
    results = experiment_results(reference)
    assert results
    lost = {r.name: r.message for r in results if not r.passed}
    assert not lost, lost


#: Replaces keras.Model.fit before the grader's builder captures it: no training at all,
#: the weights left as built, a made-up history. The recording builder still writes
#: records claiming every fit happened as asked (the 73-point attack of issue 11).
NO_TRAINING = r'''

import keras as _keras


class _FakeHistory:
    def __init__(self, epochs):
        self.history = {"loss": [1.0 / (e + 1) for e in range(epochs)],
                        "accuracy": [0.8 + 0.03 * e for e in range(epochs)],
                        "val_loss": [1.1 / (e + 1) for e in range(epochs)],
                        "val_accuracy": [0.78 + 0.03 * e for e in range(epochs)]}


def _no_fit(self, x=None, y=None, batch_size=None, epochs=1, **kwargs):
    self.optimizer.iterations.assign(epochs * -(-len(x) // (batch_size or 32)))
    return _FakeHistory(epochs)


_keras.Model.fit = _no_fit
'''

#: Trains the first run for real, then reports that run's weights (one output bias
#: nudged) and history for every later run, without training them.
ONE_MODEL = r'''

import keras as _keras
import numpy as _np

_real_fit = _keras.Model.fit
_first = {}


def _one_fit(self, *args, **kwargs):
    if not _first:
        history = _real_fit(self, *args, **kwargs)
        _first["weights"] = self.get_weights()
        _first["history"] = history
        _first["steps"] = int(self.optimizer.iterations.numpy())
        return history
    weights = [w.copy() for w in _first["weights"]]
    weights[-1][0] += 0.01 * len(_first)
    _first[len(_first)] = True
    self.set_weights(weights)
    self.optimizer.iterations.assign(_first["steps"])
    return _first["history"]


_keras.Model.fit = _one_fit
'''


def _with_code(tmp_path, code):
    submission = make_submission(tmp_path)
    for module in ("training.py",):
        path = submission / module
        path.write_text(path.read_text() + code)
    return submission


def test_no_training_earns_no_experiment_point(tmp_path):
    """Records that claim training which never happened earn nothing, in any test."""
    report = grade(_with_code(tmp_path, NO_TRAINING), tmp_path)
    assert experiment_results(report)
    assert experiment_points(report) == 0, {r.name: r.score for r in experiment_results(report)}
    messages = " ".join(r.message for r in experiment_results(report))
    assert "re-trained a fresh model" in messages


def test_one_model_for_every_setting_earns_nothing_for_the_others(tmp_path):
    """One real fit reported for every setting: the settings it did not train earn
    nothing (and so no experiment test passes, since every test covers every run)."""
    report = grade(_with_code(tmp_path, ONE_MODEL), tmp_path)
    assert experiment_points(report) == 0, {r.name: r.score for r in experiment_results(report)}
    assert "mean probability difference" in " ".join(r.message for r in experiment_results(report))


def _corpus():
    return sorted(path for path in EVIDENCE_CORPUS.iterdir() if path.is_dir()
                  and (path / "experiments.py").is_file())


#: Attacks of the corpus that train their experiments honestly and go after grader-only
#: files instead: they must get nothing from them (Part 2 uses the grader's builder if it
#: can find one; Part 6 answers from the hidden tests if it can read them).
GRADER_FILE_ATTACKS = {"a4_grader_only_files": ("2.", "6.6", "6.7", "6.8"),
                       "a4b_grader_files_from_experiments": ("2.", "6.6", "6.7", "6.8")}


def test_evidence_corpus_is_present():
    """The corpus below is what the parametrized test grades: is it there?"""
    assert len(_corpus()) >= 5, EVIDENCE_CORPUS


@pytest.mark.slow
@pytest.mark.parametrize("attack", _corpus(), ids=lambda path: path.name)
def test_evidence_corpus_earns_nothing_it_did_not_do(attack, tmp_path):
    """Each attack of tests/attacks/evidence/ (README there) earns no experiment point
    for work it did not do, and nothing from grader-only files."""
    zero = GRADER_FILE_ATTACKS.get(attack.name)
    if zero:
        report = engine.grade(attack, profile=PROFILE, include_hidden=True,
                              calibration_path=_calibration(tmp_path),
                              parts=("architecture", "concepts"))
        earned = {r.name: r.score for r in report.results if r.name.startswith(zero) and r.score}
    else:
        report = grade(attack, tmp_path)
        earned = {r.name: r.score for r in experiment_results(report) if r.score}
    assert not earned, f"{attack.name} earned points it did not earn: {earned}"
