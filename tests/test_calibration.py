"""Calibration: the threshold rule, the file `make calibrate` writes, and grading that
refuses a calibration made for other data."""

import datetime
import json
import math

import pytest

from conftest import SOLUTIONS
from grader import calibrate, calibration, engine
from grader.config import CALIBRATION_FILE, GRADE

REQUIRED_STATS = ("mean", "std", "min", "max")


@pytest.fixture(scope="module")
def live():
    """The committed calibration file, as JSON."""
    return json.loads(CALIBRATION_FILE.read_text())


# ------------------------------------------------------------------------------ the rule

def test_summarize_gives_mean_population_std_min_max():
    """Are mean, population std, min and max computed from the values?"""
    stats = calibration.summarize([0.80, 0.84, 0.82])
    assert stats["mean"] == pytest.approx(0.82)
    assert stats["std"] == pytest.approx(math.sqrt((0.02 ** 2 * 2) / 3), abs=1e-6)
    assert (stats["min"], stats["max"]) == (0.8, 0.84)
    assert stats["values"] == [0.8, 0.84, 0.82]


@pytest.mark.parametrize("std, margin", [(0.0, 0.03), (0.005, 0.03), (0.01, 0.03), (0.02, 0.06)])
def test_margin_is_three_std_but_never_below_the_floor(std, margin):
    """Is the margin max(3 * std, 0.03), and lower/upper = min - margin / max + margin?"""
    thresholds = calibration.Thresholds({"m": {"mean": 0.8, "std": std, "min": 0.78, "max": 0.83}})
    assert thresholds.margin("m") == pytest.approx(margin)
    assert thresholds.lower("m") == pytest.approx(0.78 - margin)
    assert thresholds.upper("m") == pytest.approx(0.83 + margin)


def test_an_unknown_metric_asks_for_make_calibrate():
    """Does a metric missing from the file raise CalibrationError naming `make calibrate`?"""
    with pytest.raises(calibration.CalibrationError, match="make calibrate"):
        calibration.Thresholds({}).lower("normalization.raw.held_out_accuracy")


def test_rule_text_matches_the_constants(live):
    """Does the file state the rule the grader applies?"""
    assert live["rule"] == calibration.RULE
    assert "3 * std" in calibration.RULE and "0.03" in calibration.RULE


# ------------------------------------------------------------------------- the live file

def test_live_file_records_what_the_issue_asks(live):
    """Does calibration.json hold K >= 5 seeds, mean/std/min/max per metric over all of
    them, the dataset's sha256, TF and Keras versions, the grading profile and a date?"""
    assert len(set(live["seeds"])) >= calibrate.MIN_SEEDS
    for name, stats in live["metrics"].items():
        assert set(REQUIRED_STATS) <= set(stats), name
        assert len(stats["values"]) == len(live["seeds"]), name
        assert stats["min"] <= stats["mean"] <= stats["max"], name
    assert len(live["dataset"]["sha256"]) == 64
    assert live["versions"]["tensorflow-cpu"] and live["versions"]["keras"]
    assert live["profile"]["name"] == "grade"
    datetime.date.fromisoformat(live["date"])


def test_live_file_matches_the_data_and_profile_graded_now(live):
    """Was the committed file made for the data and profile the grader uses now? (If not:
    run `make calibrate`.)"""
    _, dataset = engine.load_data(GRADE)
    assert live["dataset"]["sha256"] == dataset.sha256, "stale calibration: run `make calibrate`"
    calibration.load(CALIBRATION_FILE, dataset_sha256=dataset.sha256, profile=GRADE)


def test_every_threshold_the_tests_use_is_calibrated(live):
    """Does the file hold held-out accuracy and loss-falls figures for every run of every
    experiment in the grading profile?"""
    expected = set()
    for prefix, settings in (("normalization", ("raw", "normalized")),
                             ("batch_size", GRADE.batch_sizes),
                             ("learning_rate", GRADE.learning_rates),
                             ("optimizer", GRADE.optimizers)):
        for setting in settings:
            text = format(setting, "g") if isinstance(setting, (int, float)) else setting
            expected |= {f"{prefix}.{text}.held_out_accuracy", f"{prefix}.{text}.loss_falls"}
    assert expected <= set(live["metrics"])


# ------------------------------------------------------------------- writing the file

def _fake_measure(value):
    """calibrate.measure's stand-in: one figure per calibrated part, ``value`` at every seed."""
    def measure(solutions_dir, profile, data, selected=None):
        return {f"{part.name}.fake.held_out_accuracy": value for part in selected.values()}
    return measure


def test_regenerating_gives_the_same_file_and_keeps_the_date(tmp_path, monkeypatch):
    """Does `make calibrate` measure only what is stale (nothing, the second time), leave an
    unchanged calibration byte for byte (date kept), date a changed one today, and keep its
    replays beside the file it writes (never in grader/replay_cache/)?"""
    output = tmp_path / "calibration.json"
    written = []
    monkeypatch.setattr(calibrate, "measure", _fake_measure(0.8))
    monkeypatch.setattr(calibrate, "write_replay_cache",
                        lambda *a, **k: written.append(a[4]) or {n: [] for n in a[1]})
    measured = calibrate.main(str(SOLUTIONS), str(output), seeds=[1, 2, 3, 4, 5])
    assert measured == list(calibrate.calibrated_parts())
    assert written == [tmp_path / "replay_cache"]
    document = json.loads(output.read_text())
    document["date"] = "2000-01-01"
    output.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    first = output.read_bytes()
    assert calibrate.main(str(SOLUTIONS), str(output), seeds=[1, 2, 3, 4, 5]) == []
    assert output.read_bytes() == first
    monkeypatch.setattr(calibrate, "measure", _fake_measure(0.7))
    calibrate.main(str(SOLUTIONS), str(output), seeds=[1, 2, 3, 4, 5], every_part=True)
    document = json.loads(output.read_text())
    assert document["date"] == datetime.date.today().isoformat()
    assert all(stats["values"] == [0.7] * 5 for stats in document["metrics"].values())


def test_make_calibrate_refuses_fewer_than_five_seeds(tmp_path):
    """Does `make calibrate` insist on K >= 5 seeds before training anything?"""
    with pytest.raises(ValueError, match="5"):
        calibrate.main(str(SOLUTIONS), str(tmp_path / "c.json"), seeds=[1, 2, 3, 3])


# ---------------------------------------------------------------- the checksum guard

def test_grading_with_a_calibration_for_other_data_stops_and_says_make_calibrate(tmp_path, live):
    """Does grading against a calibration file whose dataset sha256 differs stop with a
    clear error that names both checksums and `make calibrate`, before running anything?"""
    document = dict(live, dataset=dict(live["dataset"], sha256="f" * 64))
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(document))
    with pytest.raises(calibration.CalibrationError) as raised:
        engine.grade(SOLUTIONS, profile=GRADE, calibration_path=path)
    message = str(raised.value)
    assert "make calibrate" in message and "f" * 64 in message
    _, dataset = engine.load_data(GRADE)
    assert dataset.sha256 in message


def test_grading_without_a_calibration_file_says_make_calibrate(tmp_path):
    with pytest.raises(calibration.CalibrationError, match="make calibrate"):
        engine.grade(SOLUTIONS, profile=GRADE, calibration_path=tmp_path / "missing.json")


def test_cli_reports_the_checksum_error_and_still_writes_results(tmp_path, monkeypatch, live, capsys):
    """Does `python -m grader grade` turn the error into a failed results.json and exit 2?"""
    from grader import cli
    document = dict(live, dataset=dict(live["dataset"], sha256="f" * 64))
    path = tmp_path / "calibration.json"
    path.write_text(json.dumps(document))
    real_grade = engine.grade
    monkeypatch.setattr(engine, "grade", lambda *a, **k: real_grade(*a, **dict(k, calibration_path=path)))
    results = tmp_path / "results.json"
    assert cli.main(["grade", str(SOLUTIONS), "--results", str(results)]) == 2
    assert "make calibrate" in capsys.readouterr().err
    assert json.loads(results.read_text())["score"] == 0


# ------------------------------------------------------- the live file is reproducible

@pytest.mark.slow
def test_live_file_reproduces_its_first_seed(live):
    """Does grading the reference with the file's first seed give the figures recorded for
    that seed (the file is current and calibration is deterministic)?"""
    data, _ = engine.load_data(GRADE)
    seed = live["seeds"][0]
    figures = calibrate.measure(str(SOLUTIONS), GRADE.with_seed(seed), data)
    assert set(figures) == set(live["metrics"])
    for name, value in figures.items():
        assert value == pytest.approx(live["metrics"][name]["values"][0], abs=0.003), name
