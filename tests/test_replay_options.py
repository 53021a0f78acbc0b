"""The replay verifies runs of the grader's builder with every option later parts use
(``hidden_units``, ``l2``, ``dropout``, ``batch_norm``, an ExponentialDecay learning rate,
an EarlyStopping callback with restored weights), and only those runs.

In-process: a RecordingBuilder trains as a part would, ``grader.replay`` turns each fit into
a job, ``grader.sandbox.replayer`` re-trains it, and the claimed weights must be what the
replay gives (or, for a record that does not tell the truth, must not be).
"""

import copy
import json
import os
import subprocess
import sys
import time
import types

import numpy as np
import pytest

from grader import probes, reference_model, replay
from grader.config import GRADE
from grader.sandbox import replayer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

probes.prepare_worker()
keras = probes.keras


class InProcessWorker:
    def __init__(self, data):
        self.data = data

    def replay(self, folder, wall_seconds):
        replayer.replay_jobs(folder, self.data)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return {"x_train": rng.integers(0, 256, (240, 784), dtype=np.uint8),
            "y_train": rng.integers(0, 4, 240),
            "x_val": rng.integers(0, 256, (80, 784), dtype=np.uint8),
            "y_val": rng.integers(0, 4, 80)}


@pytest.fixture(scope="module")
def recorded(data):
    """Two models trained through the recording builder: every option at once with early
    stopping, then a plain one on a subset the grader does not know by name."""
    known = replayer.known_arrays(data)
    builder = probes.RecordingBuilder(reference_model.builder(keras), seed=GRADE.seed,
                                      known_arrays=known)
    x, y = known["x_train_normalized"], data["y_train"]
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9)
    model = builder(4, learning_rate=schedule, hidden_units=32, l2=1e-3, dropout=0.3,
                    batch_norm=True)
    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", patience=1,
                                            restore_best_weights=True)
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0, callbacks=[stopper],
                        validation_data=(known["x_val_normalized"], data["y_val"]))
    plain = builder(4, optimizer="sgd", learning_rate=0.1)
    plain.fit(x[:100], y[:100], epochs=2, verbose=0)
    return json.loads(json.dumps(builder.to_json())), builder.arrays(), history.history


def _weights(arrays, fit_index):
    count = sum(1 for name in arrays if name.startswith(f"fit{fit_index}_w"))
    return [arrays[f"fit{fit_index}_w{j}"] for j in range(count)]


def _jobs(record, arrays, data):
    experiment = types.SimpleNamespace(fits=record["fits"])
    return [replay.job_for(experiment, types.SimpleNamespace(
        model=record["models"][fit["model"]], fit=fit, fit_index=index), arrays, data, GRADE,
        {"test": 1}) for index, fit in enumerate(record["fits"])]


def test_every_option_is_recorded(recorded):
    record, _, history = recorded
    model, fit = record["models"][0], record["fits"][0]
    assert model["learning_rate"] == {"schedule": "ExponentialDecay", "initial_learning_rate": 0.01,
                                      "decay_steps": 100, "decay_rate": 0.9,
                                      "staircase": False}
    assert (model["hidden_units"], model["l2"], model["dropout"], model["batch_norm"]) == \
        (32, 1e-3, 0.3, True)
    assert fit["early_stopping"]["restore_best_weights"] is True
    assert len(history["loss"]) < 20, "the run was meant to stop early"


def test_replay_reproduces_every_option_and_early_stopping(recorded, data):
    record, arrays, history = recorded
    jobs = _jobs(record, arrays, data)
    replayed = replay.run_jobs(jobs, InProcessWorker(data), 300)
    for index, job in enumerate(jobs):
        entry = replayed[job.digest]
        assert replay.distance(_weights(arrays, index), entry["probabilities"], job) \
            <= replay.FINGERPRINT_TOLERANCE
    assert replayed[jobs[0].digest]["history"]["loss"] == pytest.approx(history["loss"], rel=1e-4)


#: The worker's replay in a process of its own, as the worker runs it: TensorFlow imported
#: and prepared but never run before the fork (this test process has trained, and a child
#: forked from it would hang in TensorFlow's thread pools). Notes which process trained
#: which job.
REPLAY_LIKE_THE_WORKER = """
import json, os, sys
import numpy as np
from grader import probes
from grader.sandbox import replayer
probes.prepare_worker(threads=2)
data_file, folder, processes = sys.argv[1], sys.argv[2], int(sys.argv[3])
with np.load(data_file) as archive:
    data = {name: archive[name] for name in archive.files}
real_replay_job = replayer._replay_job
def noting(job, *rest):
    open(os.path.join(folder, job["id"] + "." + str(os.getpid()) + ".trained"), "w").close()
    return real_replay_job(job, *rest)
replayer._replay_job = noting
print(json.dumps(replayer.run_replay({"replay": folder, "wall_seconds": 300}, data, (),
                                     processes=processes)))
"""


class FreshWorker:
    def __init__(self, data, processes, scratch):
        self.data, self.processes, self.scratch = data, processes, scratch
        self.trained, self.reply = [], None

    def replay(self, folder, wall_seconds):
        data_file = os.path.join(self.scratch, "data.npz")
        np.savez(data_file, **self.data)
        done = subprocess.run([sys.executable, "-c", REPLAY_LIKE_THE_WORKER, data_file, folder,
                               str(self.processes)], cwd=ROOT, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
        self.reply = json.loads(done.stdout.strip().splitlines()[-1])
        self.trained = sorted(name for name in os.listdir(folder) if name.endswith(".trained"))
        return self.reply


def test_two_replay_processes_train_each_job_once_with_the_same_results(recorded, data,
                                                                         tmp_path):
    """Two forked replay processes share the jobs (each claims the next one): every job is
    trained by exactly one of them, and the weights and histories are those one process
    gives."""
    record, arrays, _ = recorded
    jobs = _jobs(record, arrays, data)
    results = {}
    for processes in (1, 2):
        worker = FreshWorker(data, processes, tmp_path)
        results[processes] = replay.run_jobs(jobs, worker, 300)
        assert worker.reply["replayed"] and worker.reply["processes"] == processes
        assert sorted(name.split(".")[0] for name in worker.trained) == \
            sorted(f"job{index}" for index in range(len(jobs))), worker.trained
        assert len({name.split(".")[1] for name in worker.trained}) <= processes
    for job in jobs:
        assert results[2][job.digest]["history"] == results[1][job.digest]["history"]
        assert results[2][job.digest]["probabilities"] == results[1][job.digest]["probabilities"]


LIES = (("models", "dropout", 0.6), ("models", "l2", 0.1), ("models", "batch_norm", False),
        ("models", "hidden_units", 16), ("fits", "early_stopping", None))


def test_a_record_that_does_not_tell_the_truth_is_not_verified(recorded, data):
    """Each lie about the first run (one option or the callback changed in its record)
    makes a job whose replay does not give the claimed weights."""
    record, arrays, _ = recorded
    jobs = []
    for where, field, value in LIES:
        lying = copy.deepcopy(record)
        lying[where][0][field] = value
        jobs.append(_jobs(lying, arrays, data)[0])
    replayed = replay.run_jobs(jobs, InProcessWorker(data), 300)
    for lie, job in zip(LIES, jobs):
        assert replay.distance(_weights(arrays, 0), replayed[job.digest]["probabilities"], job) \
            > replay.FINGERPRINT_TOLERANCE, f"a record with {lie} was verified"


@pytest.mark.parametrize("field, value, says", [
    ("learning_rate", {"schedule": "PiecewiseConstantDecay"}, "ExponentialDecay"),
    ("learning_rate", {"schedule": "ExponentialDecay", "initial_learning_rate": 0.1,
                       "decay_steps": 0, "decay_rate": 0.5}, "decay_steps"),
    ("dropout", 1.0, "dropout"), ("batch_norm", "yes", "batch_norm"),
    ("hidden_units", 10**6, "hidden_units"),
])
def test_options_the_replay_cannot_use_are_named(recorded, data, field, value, says):
    record, arrays, _ = recorded
    lying = copy.deepcopy(record)
    lying["models"][0][field] = value
    with pytest.raises(replay.NotReplayable, match=says):
        _jobs(lying, arrays, data)


def test_only_keras_early_stopping_is_replayed(recorded, data):
    record, arrays, _ = recorded
    lying = copy.deepcopy(record)
    lying["fits"][0]["early_stopping"]["class"] = "MyEarlyStopping"
    with pytest.raises(replay.NotReplayable, match="keras.callbacks.EarlyStopping"):
        _jobs(lying, arrays, data)


def test_training_budget_counts_rows_times_epochs(recorded, data, monkeypatch):
    monkeypatch.setattr(replay, "MIN_ROW_EPOCH_BUDGET", 30_000)
    record, arrays, _ = recorded
    lying = copy.deepcopy(record)
    lying["fits"][1]["epochs"] = replay.MAX_EPOCHS  # 100 rows x 200 epochs: within 30 000
    _jobs(lying, arrays, data)
    lying["fits"][0]["epochs"] = replay.MAX_EPOCHS  # 240 rows x 200 epochs: over 30 000
    with pytest.raises(replay.NotReplayable, match="rows x epochs"):
        _jobs(lying, arrays, data)


def test_a_fit_that_did_not_finish_is_not_replayed(recorded, data):
    """A fit the part noted but that raised (no result recorded) trained nothing: it is
    refused before any replay, so settings that cannot train never reach the clean process
    (a red-team submission crashed the replay this way and the grade was lost)."""
    record, arrays, _ = recorded
    unfinished = copy.deepcopy(record)
    del unfinished["fits"][1]["iterations_after"]
    with pytest.raises(replay.NotReplayable, match="did not finish"):
        _jobs(unfinished, arrays, data)[1]


def test_a_validation_split_that_leaves_no_training_rows_is_refused(recorded, data):
    record, arrays, _ = recorded
    lying = copy.deepcopy(record)
    lying["fits"][1]["validation_split"] = 0.5
    _jobs(lying, arrays, data)  # 50 of 100 rows train: replayable
    lying["fits"][1]["x"] = {"kind": "saved", "array": "one_row"}
    lying["fits"][1]["y"] = {"kind": "saved", "array": "one_label"}
    tiny = {**arrays, "one_row": arrays["fit1_x"][:1], "one_label": arrays["fit1_y"][:1]}
    with pytest.raises(replay.NotReplayable, match="leaves 0 to train on"):
        _jobs(lying, tiny, data)


def test_a_job_that_fails_in_the_replay_costs_its_run_only(recorded, data, monkeypatch):
    """An exception while re-training one job marks that job's run (its problem named), and
    every other job of the same replay is still re-trained and verified."""
    record, arrays, _ = recorded
    jobs = _jobs(record, arrays, data)
    real = replayer._replay_job

    def failing_first(job, *rest):
        if job["model"]["optimizer"] == "sgd":
            raise ValueError("settings that do not train")
        return real(job, *rest)

    monkeypatch.setattr(replayer, "_replay_job", failing_first)
    replayed = replay.run_jobs(jobs, InProcessWorker(data), 300)
    assert "settings that do not train" in replayed[jobs[1].digest]["error"]
    assert replay.distance(_weights(arrays, 0), replayed[jobs[0].digest]["probabilities"],
                           jobs[0]) <= replay.FINGERPRINT_TOLERANCE
    run = types.SimpleNamespace(weights=_weights(arrays, 1), replay_problem=None,
                                verified=False)
    replay._match([(run, jobs[1], replayed[jobs[1].digest])])
    assert not run.verified and "could not re-train" in run.replay_problem


class ForkingWorker:
    """The worker's own path: ``processes`` forked children, killed at the limit."""

    def __init__(self, data, processes):
        self.data, self.processes = data, processes

    def replay(self, folder, wall_seconds):
        return replayer.run_replay({"replay": folder, "wall_seconds": wall_seconds}, self.data,
                                   (), processes=self.processes)


@pytest.mark.parametrize("processes", [1, 2])
def test_a_replay_that_runs_out_of_time_keeps_the_jobs_it_finished(recorded, data, monkeypatch,
                                                                   processes):
    """The replay children are stopped at their wall limit: the jobs they finished are still
    used, the job one was on and those after it are unverified with a message saying why,
    and the grade goes on (before, the whole grade failed as the grader's own error)."""
    record, arrays, _ = recorded
    jobs = _jobs(record, arrays, data)

    def first_quick_second_endless(job, *rest):
        if job["model"]["optimizer"] == "sgd":  # the second job never ends
            time.sleep(120)
        return _weights(arrays, 0), {"loss": [1.0]}

    monkeypatch.setattr(replayer, "_replay_job", first_quick_second_endless)
    monkeypatch.setattr(replay, "write_cached", lambda job, entry: None)  # keep the cache real
    started = time.monotonic()
    replayed = replay.run_jobs(jobs, ForkingWorker(data, processes), 3)
    assert time.monotonic() - started < 30
    assert replayed[jobs[0].digest]["history"] == {"loss": [1.0]}
    assert replayed[jobs[1].digest] == {"out_of_time": True}
    run = types.SimpleNamespace(weights=_weights(arrays, 1), replay_problem=None,
                                verified=False)
    replay._match([(run, jobs[1], replayed[jobs[1].digest])])
    assert not run.verified and "ran out of time" in run.replay_problem


def test_the_builder_and_the_replay_accept_the_same_schedules():
    """The reference builder's schedules (``reference_model.SCHEDULES``) and the replay's
    bounds per schedule (``replay.SCHEDULES``) name the same ones: a schedule added to one
    only would be built but never verified, or verified but never built."""
    assert set(replay.SCHEDULES) == set(reference_model.SCHEDULES)


def test_a_malformed_record_costs_its_run_not_the_grade(recorded, data):
    """Records are the part's claims: values of the wrong type in them (a list where a name
    or a schedule's name belongs) leave those runs unverified with the reason, where they
    used to raise out of the replay and fail the whole grade as the grader's own error."""
    record, arrays, _ = recorded
    lying = copy.deepcopy(record)
    lying["fits"][0]["x"] = dict(lying["fits"][0]["x"], name=["x_train_normalized"])
    lying["models"][1]["learning_rate"] = {"schedule": ["ExponentialDecay"]}
    runs = [types.SimpleNamespace(model=lying["models"][fit["model"]], fit=fit, fit_index=index,
                                  weights=_weights(arrays, index), verified=False,
                                  replay_problem=None, replay_digest=None, replay_history=None,
                                  replay_distance=None)
            for index, fit in enumerate(lying["fits"])]
    experiment = types.SimpleNamespace(name="lying", fits=lying["fits"], runs=runs,
                                       verifiable=False)
    replay.verify([experiment], {"lying": arrays}, data, GRADE, {"test": 1},
                  InProcessWorker(data), 60)
    for run in runs:
        assert not run.verified and "could not read this run's record" in run.replay_problem
        assert "TypeError" in run.replay_problem


def test_the_builder_and_the_replay_accept_the_same_losses():
    """The losses the reference builder compiles with and those the replay accepts are the
    same ones, with the same default (a default run's job key has no ``loss``)."""
    assert replay.LOSSES == reference_model.LOSSES
    assert replay.DEFAULT_LOSS == reference_model.DEFAULT_LOSS == probes.DEFAULT_LOSS


def test_the_default_loss_builds_the_model_it_always_built(data):
    """``loss`` left out or given as the default: the same compiled loss, the same initial
    weights, and the recording builder does not pass it on (the self-check's builder, the
    student's own build_model, needs to accept only what an experiment asks of it)."""
    make_model = reference_model.builder(keras)
    models = []
    for options in ({}, {"loss": reference_model.DEFAULT_LOSS}):
        keras.utils.set_random_seed(3)
        models.append(make_model(4, optimizer="adam", learning_rate=0.001, input_dim=784,
                                 input_scale=None, **options))
    assert models[0].loss == models[1].loss == "sparse_categorical_crossentropy"
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_array_equal(a, b)
    seen = []
    builder = probes.RecordingBuilder(lambda *args, **kwargs: seen.append(kwargs) or models[0],
                                      known_arrays=replayer.known_arrays(data))
    builder(4, loss=reference_model.DEFAULT_LOSS)
    assert "loss" not in seen[0] and builder.models[0]["loss"] == reference_model.DEFAULT_LOSS


@pytest.fixture(scope="module")
def mse_recorded(data):
    """Part 9's MSE run: the grader's builder with loss="mean_squared_error", trained on
    one-hot labels (a copy the recording builder saves) and validated on one-hot labels."""
    known = replayer.known_arrays(data)
    builder = probes.RecordingBuilder(reference_model.builder(keras), seed=GRADE.seed,
                                      known_arrays=known)
    eye = np.eye(4, dtype=np.float32)
    model = builder(4, optimizer="sgd", learning_rate=0.5, loss="mean_squared_error")
    history = model.fit(known["x_train_normalized"], eye[data["y_train"]], epochs=2,
                        batch_size=32, verbose=0,
                        validation_data=(known["x_val_normalized"], eye[data["y_val"]]))
    return json.loads(json.dumps(builder.to_json())), builder.arrays(), history.history


def test_an_mse_run_on_one_hot_labels_is_recorded_and_replayed(mse_recorded, data):
    record, arrays, history = mse_recorded
    assert record["models"][0]["loss"] == "mean_squared_error"
    assert record["fits"][0]["y"]["kind"] == "saved" and record["fits"][0]["y"]["shape"] == [240, 4]
    assert 0.0 <= history["val_accuracy"][-1] <= 1.0  # categorical accuracy on one-hot labels
    job = _jobs(record, arrays, data)[0]
    assert job.key["model"]["loss"] == "mean_squared_error"
    entry = replay.run_jobs([job], InProcessWorker(data), 300)[job.digest]
    assert replay.distance(_weights(arrays, 0), entry["probabilities"], job) \
        <= replay.FINGERPRINT_TOLERANCE
    assert entry["history"]["loss"] == pytest.approx(history["loss"], rel=1e-4)


def test_a_lie_about_the_loss_is_not_verified(mse_recorded, data):
    """The MSE run claimed as a cross-entropy run cannot be replayed on its one-hot labels,
    and claimed with other (integer) labels, it does not give the claimed weights; a loss
    the replay does not know is named."""
    record, arrays, _ = mse_recorded
    lying = copy.deepcopy(record)
    del lying["models"][0]["loss"]
    with pytest.raises(replay.NotReplayable, match="labels of shape"):
        _jobs(lying, arrays, data)
    lying["fits"][0]["y"] = {"kind": "grader", "name": "y_train"}
    lying["fits"][0]["y_val"] = {"kind": "grader", "name": "y_val"}
    job = _jobs(lying, arrays, data)[0]
    entry = replay.run_jobs([job], InProcessWorker(data), 300)[job.digest]
    assert replay.distance(_weights(arrays, 0), entry["probabilities"], job) \
        > replay.FINGERPRINT_TOLERANCE
    for loss, says in (("categorical_crossentropy", "categorical_crossentropy"),
                       ({"type": "MeanSquaredError"}, "MeanSquaredError")):
        lying["models"][0]["loss"] = loss
        with pytest.raises(replay.NotReplayable, match=says):
            _jobs(lying, arrays, data)


def test_one_hot_labels_count_as_the_graders_only_when_they_encode_them(data):
    """``runs.label_encoding``: the grader's labels by name or equal copy, their exact
    one-hot encoding; never other rows, another order, or smoothed labels."""
    from grader import runs
    y = data["y_train"]
    eye = np.eye(4)

    def kind(array, split="y_train"):
        return runs.label_encoding({"kind": "saved", "array": "a"}, {"a": array}, data, split)

    assert runs.label_encoding({"kind": "grader", "name": "y_train"}, {}, data, "y_train") \
        == "labels"
    assert runs.label_encoding({"kind": "grader", "name": "y_val"}, {}, data, "y_train") is None
    assert kind(y.astype(np.int32)) == "labels"
    assert kind(eye[y].astype(np.float32)) == "one_hot"
    assert kind(eye[y].astype(np.uint8)) == "one_hot"
    assert kind(eye[y][::-1]) is None                     # another order
    assert kind(eye[y][:100]) is None                     # a subset
    assert kind(eye[np.roll(y, 1)]) is None               # shifted labels
    assert kind(eye[y] * 0.9 + 0.025) is None             # label smoothing
    assert kind(eye[y].astype(np.float32), "y_val") is None
    assert kind(y.astype(np.float32)) is None             # float class numbers
