"""Evidence for the experiment runs: every claimed run is re-trained where no student code
ever ran, and credited only when the part's claimed weights are what that training gives.

Inside a part, student code and the grader's recording builder share one process, so
every record the part leaves (which arguments a fit got, the weights after it, the
histories, the TensorBoard logs) is a claim. The recording builder seeds Keras right
before it builds a model and right before each fit, so a run is fully determined by its
recorded arguments. After the parts, this module turns each claimed run into a *replay
job* (the same builder, seed, fit arguments and arrays), has the worker train it in a
child that never ran student code (``grader.sandbox.replayer``), and compares:

* the claimed final weights with the replay's, through the class probabilities both
  give on the first ``FINGERPRINT_ROWS`` rows of the run's own training inputs
  (``Run.verified``: mean absolute difference at most ``FINGERPRINT_TOLERANCE``);
* the experiment checks then compare the returned histories and the logged curves with
  the replay's history (``Run.replay_history``), never with each other.

A run trained as asked has a canonical job (the grader's arrays, the profile's
settings), the same for every submission: its replay is cached on disk
(``TRAIN_GRADER_REPLAY_CACHE``, default ``grader/replay_cache/``, written by
``make calibrate`` for the default seed and shipped in the autograder zip), so grading a
correct submission costs no extra training. A claim that does not match a cached replay
is replayed once more live, so a cache made on another machine never costs a student.
"""

import dataclasses
import hashlib
import importlib.metadata
import json
import math
import os
import stat
import sys
import tempfile

import numpy as np

from grader import evaluate, safefs
from grader.config import PACKAGE_DIR
from grader.sandbox.replayer import known_arrays

#: Bump when what a job means changes (the cache is keyed on it).
REPLAY_VERSION = 1
FINGERPRINT_ROWS = 256
#: Mean absolute difference of class probabilities up to which two weight sets are the
#: same training (same-machine replays differ by < 1e-6; different settings by > 0.01).
FINGERPRINT_TOLERANCE = 2e-3
CACHE_ENV_VAR = "TRAIN_GRADER_REPLAY_CACHE"
#: ``1`` ignores the shipped cache (benchmarks of the replay's cost).
NO_SHIPPED_ENV_VAR = "TRAIN_GRADER_NO_SHIPPED_REPLAYS"
#: Written by ``python -m grader replay-cache`` (part of ``make calibrate``), shipped in the
#: autograder zip, read-only while grading.
SHIPPED_CACHE_DIR = PACKAGE_DIR / "replay_cache"
MAX_CACHE_FILE_BYTES = 2 * 1024 * 1024
OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "nadam")
ARRAY_ROLES = ("x", "y", "x_val", "y_val")
#: A replay of more rows x epochs than this many times the grade's own training set x
#: epochs is not attempted (a small subset may be trained for more epochs).
MAX_EPOCH_FACTOR = 3
MIN_ROW_EPOCH_BUDGET = 60_000
MAX_EPOCHS = 200
MAX_HIDDEN_UNITS = 2048
SCHEDULES = {"ExponentialDecay": {"initial_learning_rate": (1e-12, 1e3), "decay_steps": (1, 1e7),
                                  "decay_rate": (1e-6, 10.0)}}
EARLY_STOPPING_MONITORS = ("val_loss", "val_accuracy", "loss", "accuracy")
#: Losses the replay compiles with (``grader.reference_model.LOSSES``; a test keeps the two
#: lists equal). A run with the default loss has no ``loss`` in its job key.
LOSSES = ("sparse_categorical_crossentropy", "mean_squared_error")
DEFAULT_LOSS = LOSSES[0]


class NotReplayable(ValueError):
    """A claimed run the grader cannot re-train (the message says why, for the student)."""


@dataclasses.dataclass
class Job:
    key: dict
    arrays: dict  # role -> np.ndarray (trusted copies)
    digest: str = ""

    def __post_init__(self):
        text = json.dumps(self.key, sort_keys=True)
        self.digest = hashlib.sha256(text.encode()).hexdigest()[:40]


def cache_dirs():
    """Where cached replays are looked up: the runtime cache (``TRAIN_GRADER_REPLAY_CACHE``,
    if set), then the one shipped with the grader (``grader/replay_cache/``)."""
    runtime = os.environ.get(CACHE_ENV_VAR)
    shipped = None if os.environ.get(NO_SHIPPED_ENV_VAR) == "1" else str(SHIPPED_CACHE_DIR)
    return [folder for folder in (runtime, shipped) if folder]


def context(dataset_sha256, profile):
    """What every replay of this grade depends on besides the job itself."""
    versions = {}
    for name in ("tensorflow-cpu", "tensorflow", "keras", "numpy"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    builder_path = PACKAGE_DIR / "reference_model.py"
    builder_sha = hashlib.sha256(builder_path.read_bytes()).hexdigest() \
        if builder_path.exists() else None
    return {"version": REPLAY_VERSION, "dataset_sha256": dataset_sha256,
            "n_train": profile.n_train, "n_val": profile.n_val, "data_seed": profile.data_seed,
            "versions": versions, "reference_model_sha256": builder_sha}


def _number(value, what, *, low, high, integer=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not low <= value <= high or \
            (integer and value != int(value)):
        raise NotReplayable(f"{what}={value!r}")
    return int(value) if integer else float(value)


def _flag(value, what):
    if not isinstance(value, bool):
        raise NotReplayable(f"{what}={value!r}")
    return value


def job_for(experiment, run, step_arrays, data, profile, replay_context, known=None):
    """The replay job of ``run``'s claimed training: its model built as recorded, then
    every fit that model had up to and including the run's own (a model trained twice
    is replayed twice). NotReplayable says why there is none.

    ``known`` is ``known_arrays(data)``, made once for all the jobs of a grade (each job
    holds its arrays until the replay: a copy per job cost 9 MB a run)."""
    model = run.model or {}
    optimizer = str(model.get("optimizer"))
    if optimizer not in OPTIMIZERS:
        raise NotReplayable(f"optimizer={optimizer!r}")
    key_model = {
        "n_classes": _number(model.get("n_classes"), "n_classes", low=2, high=100, integer=True),
        "optimizer": optimizer,
        "learning_rate": _learning_rate(model.get("learning_rate")),
        "input_dim": _number(model.get("input_dim"), "input_dim", low=784, high=784, integer=True),
        "input_scale": None if model.get("input_scale") is None else
        _number(model["input_scale"], "input_scale", low=-1e6, high=1e6),
        "hidden_units": _number(model.get("hidden_units", 250), "hidden_units", low=1,
                                high=MAX_HIDDEN_UNITS, integer=True),
        "l2": _number(model.get("l2", 0.0), "l2", low=0.0, high=10.0),
        "dropout": _number(model.get("dropout", 0.0), "dropout", low=0.0, high=0.95),
        "batch_norm": _flag(model.get("batch_norm", False), "batch_norm"),
    }
    loss = model.get("loss", DEFAULT_LOSS)
    if not isinstance(loss, str) or loss not in LOSSES:
        found = repr(loss) if isinstance(loss, str) else \
            f"a {loss.get('type')}" if isinstance(loss, dict) else repr(loss)
        raise NotReplayable(f"loss={found[:80]} (build_fn takes loss="
                            f"{' or '.join(map(repr, LOSSES))}, as a string)")
    if loss != DEFAULT_LOSS:
        key_model["loss"] = loss
    chain = [fit for index, fit in enumerate(experiment.fits)
             if fit.get("model") == run.fit.get("model") and index <= run.fit_index]
    if any(fit.get("iterations_after") is None for fit in chain):
        # The recording builder notes a fit before it runs and its result after: a fit that
        # raised (or was stopped) trained nothing, and replaying it would only spend the
        # grader's time on settings that may not train at all.
        raise NotReplayable("a fit of this model did not finish in your code (it raised an "
                            "error or was stopped), so there is no training to check")
    known = known_arrays(data) if known is None else known
    key_fits, arrays = [], {}
    for position, fit in enumerate(chain):
        key_fit, fit_arrays = _fit_key(fit, key_model["n_classes"], known, step_arrays, profile,
                                       loss)
        key_fits.append(key_fit)
        arrays.update({f"{position}.{role}": array for role, array in fit_arrays.items()})
    budget = max(MAX_EPOCH_FACTOR * profile.epochs * (profile.n_train + profile.n_val),
                 MIN_ROW_EPOCH_BUDGET)
    row_epochs = sum(fit["epochs"] * len(arrays[f"{position}.x"])
                     for position, fit in enumerate(key_fits))
    if row_epochs > budget:
        raise NotReplayable(f"{row_epochs} rows x epochs of training in all (at most {budget})")
    key = {"context": replay_context, "seed": int(profile.seed), "model": key_model,
           "fits": key_fits}
    last = len(chain) - 1
    return Job(key=key, arrays={**arrays, "x": arrays[f"{last}.x"]})


def _learning_rate(value):
    """A learning rate in range, or a schedule the replay knows with its settings in range."""
    if not isinstance(value, dict):
        return _number(value, "learning_rate", low=1e-12, high=1e3)
    name = value.get("schedule")
    if name not in SCHEDULES:
        raise NotReplayable(f"a learning-rate schedule {name!r} (use "
                            "keras.optimizers.schedules.ExponentialDecay)")
    record = {"schedule": name}
    for field, (low, high) in SCHEDULES[name].items():
        record[field] = _number(value.get(field), field, low=low, high=high,
                                integer=field == "decay_steps")
    record["staircase"] = _flag(value.get("staircase", False), "staircase")
    return record


def _early_stopping(value):
    """The EarlyStopping settings the replay re-creates (only Keras's own class)."""
    if not isinstance(value, dict) or value.get("class") != "EarlyStopping":
        raise NotReplayable(f"an early-stopping callback of class {value.get('class')!r} "
                            "(use keras.callbacks.EarlyStopping)" if isinstance(value, dict)
                            else "an early-stopping callback it cannot read")
    monitor, mode = value.get("monitor"), value.get("mode")
    if monitor not in EARLY_STOPPING_MONITORS or mode not in ("auto", "min", "max"):
        raise NotReplayable(f"EarlyStopping(monitor={monitor!r}, mode={mode!r})")
    restore = _flag(value.get("restore_best_weights"), "restore_best_weights")
    baseline = value.get("baseline")
    return {"monitor": monitor, "mode": mode, "restore_best_weights": restore,
            "patience": _number(value.get("patience"), "patience", low=0, high=MAX_EPOCHS,
                                integer=True),
            "min_delta": _number(value.get("min_delta"), "min_delta", low=0.0, high=1e3),
            "baseline": None if baseline is None else
            _number(baseline, "baseline", low=-1e6, high=1e6),
            "start_from_epoch": _number(value.get("start_from_epoch"), "start_from_epoch",
                                        low=0, high=MAX_EPOCHS, integer=True)}


def _fit_key(fit, n_classes, known, step_arrays, profile, loss=DEFAULT_LOSS):
    if fit.get("other_arguments"):
        raise NotReplayable("fit was also given " + ", ".join(map(str, fit["other_arguments"])))
    # Twice the grader's rows: an augmented training set (Part 11) is the given rows plus a
    # moved copy of each, and at small grading data its subset is the whole training split.
    # The rows x epochs budget of ``job_for`` bounds the replay's cost either way.
    n_rows_max = 2 * (profile.n_train + profile.n_val)
    batch_size = fit.get("batch_size")
    key = {
        "batch_size": None if batch_size is None else
        _number(batch_size, "batch_size", low=1, high=n_rows_max, integer=True),
        "epochs": _number(fit.get("epochs"), "epochs", low=1, high=MAX_EPOCHS, integer=True),
        "shuffle": fit.get("shuffle") if isinstance(fit.get("shuffle"), bool) else None,
        "validation_split": _number(fit.get("validation_split") or 0.0, "validation_split",
                                    low=0.0, high=0.5),
        "arrays": {},
    }
    if fit.get("early_stopping") is not None:
        key["early_stopping"] = _early_stopping(fit["early_stopping"])
    if key["shuffle"] is None:
        raise NotReplayable(f"shuffle={fit.get('shuffle')!r}")
    arrays = {}
    for role in ARRAY_ROLES:
        reference = fit.get(role)
        if reference is None and role in ("x_val", "y_val"):
            continue
        array, entry = _resolve(reference, role, known, step_arrays)
        key["arrays"][role], arrays[role] = entry, array
    if ("x_val" in arrays) != ("y_val" in arrays):
        raise NotReplayable("validation_data without both inputs and labels")
    _check_shapes(arrays, n_classes, n_rows_max, loss)
    if key["validation_split"] and "x_val" not in arrays:
        kept = math.floor(len(arrays["x"]) * (1.0 - key["validation_split"]))
        if not 1 <= kept < len(arrays["x"]):
            raise NotReplayable(f"validation_split={key['validation_split']:g} of "
                                f"{len(arrays['x'])} rows leaves {kept} to train on")
    return key, arrays


def _resolve(reference, role, known, step_arrays):
    what = {"x": "the training inputs", "y": "the training labels",
            "x_val": "the validation inputs", "y_val": "the validation labels"}[role]
    if not isinstance(reference, dict):
        raise NotReplayable(f"{what} were not NumPy arrays")
    if reference.get("kind") == "grader" and reference.get("name") in known:
        return known[reference["name"]], {"kind": "grader", "name": reference["name"]}
    if reference.get("kind") == "saved":
        array = step_arrays.get(str(reference.get("array")))
        if array is None:
            raise NotReplayable(f"{what} are missing from the part's records")
        array = np.ascontiguousarray(array)
        digest = hashlib.sha256(array.dtype.str.encode() + repr(array.shape).encode()
                                + array.tobytes()).hexdigest()
        return array, {"kind": "saved", "sha256": digest}
    raise NotReplayable(f"{what} were {reference.get('type', 'not arrays')}")


def _check_shapes(arrays, n_classes, n_rows_max, loss=DEFAULT_LOSS):
    """Inputs of 784 finite pixels; labels one integer class per row, or (a model compiled
    with mean squared error) one row of ``n_classes`` finite targets per row, e.g. one-hot."""
    for inputs, labels in (("x", "y"), ("x_val", "y_val")):
        if inputs not in arrays:
            continue
        x, y = arrays[inputs], arrays[labels]
        if x.ndim != 2 or x.shape[1] != 784 or not 1 <= len(x) <= n_rows_max:
            raise NotReplayable(f"inputs of shape {x.shape}")
        if not np.all(np.isfinite(x)):
            raise NotReplayable("inputs with NaN or infinity")
        if loss == "mean_squared_error" and y.ndim == 2 and y.shape == (len(x), n_classes) \
                and y.dtype.kind in "biuf" and np.all(np.isfinite(y)):
            continue  # targets per class (one-hot labels)
        if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu" or \
                (len(y) and (y.min() < 0 or y.max() >= n_classes)):
            raise NotReplayable(f"labels of shape {y.shape} and dtype {y.dtype}" + (
                f" (with loss={loss!r}: one integer class per row, or a row of {n_classes} "
                "targets, e.g. one-hot, per row)" if loss != DEFAULT_LOSS else ""))


# ------------------------------------------------------------------------ fingerprints

def fingerprint(weights, job):
    """Class probabilities of ``weights`` on the first rows of the job's training inputs."""
    rows = job.arrays["x"][:FINGERPRINT_ROWS]
    probabilities = evaluate.predict_proba(weights, rows, job.key["model"]["input_scale"])
    return np.nan_to_num(probabilities, nan=-1.0)


def distance(claimed_weights, reference_probabilities, job):
    """Mean absolute difference between the claimed weights' probabilities and the
    replay's; infinity when the claimed weights do not fit the architecture."""
    try:
        evaluate.check_model_weights(claimed_weights, job.key["model"])
    except evaluate.WeightsError:
        return math.inf
    claimed = fingerprint(claimed_weights, job)
    reference = np.asarray(reference_probabilities, dtype=np.float64)
    if claimed.shape != reference.shape:
        return math.inf
    return float(np.mean(np.abs(claimed - reference)))


# ------------------------------------------------------------------------------- cache

def read_cached(job):
    """The cached replay of ``job`` (``{"history", "probabilities"}``) or None."""
    for folder in cache_dirs():
        entry = _read_entry(os.path.join(folder, job.digest + ".json"))
        if isinstance(entry, dict) and entry.get("key") == json.loads(json.dumps(job.key)):
            return entry
    return None


def _read_entry(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CACHE_FILE_BYTES:
            return None
        try:
            return json.loads(handle.read())
        except ValueError:
            return None


def write_cached(job, entry):
    """Keep a live replay in the runtime cache, if one is configured."""
    folder = os.environ.get(CACHE_ENV_VAR)
    if not folder:
        return
    try:
        os.makedirs(folder, exist_ok=True)
        handle = tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False)
        with handle:
            json.dump({"key": job.key, **entry}, handle, sort_keys=True)
            handle.write("\n")
        os.replace(handle.name, os.path.join(folder, job.digest + ".json"))
    except OSError:
        pass  # a read-only cache only costs time


# ------------------------------------------------------------------------------ replay

def run_jobs(jobs, worker, wall_seconds):
    """Replay ``jobs`` in the worker; returns {digest: {"history", "probabilities"}}."""
    if not jobs:
        return {}
    folder = tempfile.mkdtemp(prefix="train-replay-")
    try:
        listing = []
        for index, job in enumerate(jobs):
            entry = {"id": f"job{index}", "seed": job.key["seed"], "model": job.key["model"],
                     "fits": []}
            for position, fit in enumerate(job.key["fits"]):
                files = {}
                for role, reference in fit["arrays"].items():
                    if reference["kind"] == "grader":
                        files[role] = reference
                    else:
                        name = f"job{index}_{position}_{role}.npy"
                        np.save(os.path.join(folder, name), job.arrays[f"{position}.{role}"],
                                allow_pickle=False)
                        files[role] = {"kind": "file", "file": name}
                entry["fits"].append({**{k: v for k, v in fit.items() if k != "arrays"},
                                      "arrays": files})
            listing.append(entry)
        with open(os.path.join(folder, "jobs.json"), "w") as handle:
            json.dump(listing, handle)
        reply = worker.replay(folder, wall_seconds)
        if reply and reply.get("timed_out"):
            print(f"note: the replay of {len(jobs)} training job(s) was stopped at its "
                  f"{wall_seconds:.0f} s limit; the jobs it did not reach are unverified",
                  file=sys.stderr)
        results = {}
        for index, job in enumerate(jobs):
            out = os.path.join(folder, "out", f"job{index}")
            if not os.path.exists(out + ".json"):  # the replay's time ran out before it
                results[job.digest] = {"out_of_time": True}
                continue
            with open(out + ".json") as handle:
                record = json.load(handle)
            if "error" in record:  # these settings did not train in the clean process
                results[job.digest] = {"error": str(record["error"])[:300]}
                continue
            with np.load(out + ".npz", allow_pickle=False) as archive:
                weights = [archive[f"w{i}"] for i in range(len(archive.files))]
            history = record["history"]
            entry = {"history": history,
                     "probabilities": np.round(fingerprint(weights, job), 7).tolist()}
            write_cached(job, entry)
            results[job.digest] = entry
        return results
    finally:
        safefs.remove_tree(folder)


def verify(experiments, step_arrays, data, profile, replay_context, worker, wall_seconds):
    """Replay every claimed run of ``experiments`` and set ``Run.verified``,
    ``Run.replay_history``, ``Run.replay_distance`` and ``Run.replay_problem``.

    ``step_arrays`` maps an experiment's name to its step's arrays (the saved inputs).
    Raises ``WorkerError`` when the replay itself failed (not the student's fault).
    """
    pending = []  # (run, job, entry or None)
    known = known_arrays(data)
    for experiment in experiments:
        experiment.verifiable = True
        for run in experiment.runs:
            if run.fit is None or run.model is None:
                continue
            try:
                job = job_for(experiment, run, step_arrays.get(experiment.name, {}), data,
                              profile, replay_context, known)
            except NotReplayable as problem:
                run.replay_problem = (f"the grader cannot re-train this run to check it: {problem}"
                                      " (train with fit(x, y, batch_size=..., epochs=..., "
                                      "validation_data=(x_val, y_val), callbacks=[...]) only)")
                continue
            except Exception as problem:  # noqa: BLE001 - the record is the part's: untrusted
                run.replay_problem = ("the grader could not read this run's record of its model "
                                      f"and fit ({type(problem).__name__}: {str(problem)[:200]}): "
                                      "was the recording builder or its model changed?")
                continue
            run.replay_digest = job.digest
            pending.append((run, job, read_cached(job)))
    _match(pending)
    live = {}
    for run, job, entry in pending:
        if not run.verified and job.digest not in live:
            live[job.digest] = job
    if live:
        replayed = run_jobs(list(live.values()), worker, wall_seconds)
        _match([(run, job, replayed[job.digest]) for run, job, _ in pending
                if job.digest in replayed and not run.verified])


def _match(pending):
    for run, job, entry in pending:
        if entry is None:
            continue
        if entry.get("out_of_time"):
            run.replay_problem = (
                "the grader ran out of time re-training your runs before it reached this one "
                "(the runs before it trained for longer than the assignment's runs do: train "
                "only the runs the instructions ask for, with the epochs they give)")
            continue
        if "error" in entry:
            run.replay_problem = ("the grader could not re-train this run with the settings "
                                  f"your fit used ({entry['error']})")
            continue
        try:
            run.replay_distance = distance(run.weights or [], entry["probabilities"], job)
        except Exception as problem:  # noqa: BLE001 - the claimed weights are the part's
            run.replay_problem = ("the grader could not compare this run's saved weights with "
                                  f"its re-training ({type(problem).__name__}: "
                                  f"{str(problem)[:200]})")
            continue
        run.verified = run.replay_distance <= FINGERPRINT_TOLERANCE
        run.replay_history = entry["history"]
