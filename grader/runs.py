"""Matching what an experiment returned, trained and logged to the settings it was asked
to run, and re-deriving each run's accuracy from its weights.

An ``Experiment`` is what the experiment test files receive: one ``Run`` per expected
setting, in the order the grader asked for them.
"""

import dataclasses
import math
import os

import numpy as np

from grader import evaluate, tblogs
from grader.artifacts import finite

KERAS_DEFAULT_BATCH_SIZE = 32


#: Sweeps whose runs are named rather than numbered: each run's folder is its name
#: (``raw``, ``normalized``; ``baseline``, ``l2``, ... of the regularization part).
NAMED_RUNS = ("input", "run")


def run_dir_name(setting_name, value):
    """The documented run directory name, e.g. ``learning_rate_0.001`` or ``optimizer_sgd``."""
    text = format(value, "g") if isinstance(value, (int, float)) else str(value)
    return f"{setting_name}_{text}"


@dataclasses.dataclass
class Run:
    """One expected run, with everything the grader found for it."""

    setting: object
    label: str
    dir_name: str
    history: dict | None = None
    model: dict | None = None
    fit: dict | None = None
    weights: list | None = None
    held_out_accuracy: float | None = None
    val_accuracy_recomputed: float | None = None
    log: tblogs.RunLog | None = None
    log_error: str | None = None
    weights_error: str | None = None
    fit_index: int | None = None
    #: Set by ``grader.replay.verify``: the claimed weights are what re-training this run
    #: with its recorded arguments in a clean process gives.
    verified: bool = False
    replay_history: dict | None = None
    replay_distance: float | None = None
    replay_problem: str | None = None
    #: The replay job this run was checked against (its cache file is <digest>.json).
    replay_digest: str | None = None
    #: Largest pixel of the arrays the fit got, by role ("x", "x_val"), measured by the
    #: grader on the arrays themselves (the grader's own or the part's saved copy).
    input_max: dict = dataclasses.field(default_factory=dict)
    #: Measured by the grader from the arrays and the (replayed) arguments of the fits:
    #: ``x_rows``, ``val_rows``, ``steps`` (optimizer steps of this fit), ``steps_before``
    #: (of earlier fits of the same model) and ``full_data`` (trained on one of the
    #: grader's whole arrays, or a row-for-row transformation of one). Never the part's
    #: own claims of them.
    facts: dict = dataclasses.field(default_factory=dict)

    def final(self, metric):
        """Last value of ``metric`` in the returned history, or None."""
        values = (self.history or {}).get(metric)
        return finite(values[-1]) if values else None


@dataclasses.dataclass
class Experiment:
    """All runs of one experiment step."""

    name: str
    setting_name: str
    runs: list
    result_error: str | None
    returned_keys: list
    n_fits: int
    n_models: int
    epochs: int
    n_train: int
    n_val: int
    fits: list = dataclasses.field(default_factory=list)
    models: list = dataclasses.field(default_factory=list)
    #: True once ``grader.replay.verify`` has checked the runs (grading); False in the
    #: self-check, where the student's own builder cannot be replayed by the grader.
    verifiable: bool = False

    def run(self, setting):
        for run in self.runs:
            if run.setting == setting:
                return run
        raise KeyError(setting)


def _key_matches(key, setting):
    """Is the returned ``key`` (a ``probes.key_to_json`` record) the key of ``setting``?

    Names match in any case ('SGD' for 'sgd'); numbers match by value, whatever their
    type: 16.0 or np.int64(16) for 16, and a string that reads as the number ('16',
    '0.001', '1e-3') too. The key is the student's label for a run; how it was written
    is not what the experiment teaches.
    """
    kind, value = key.get("type"), key.get("value")
    if isinstance(setting, str):
        return kind == "str" and str(value).strip().lower() == setting.lower()
    if kind == "str" and isinstance(value, str):
        try:
            value, kind = float(value.strip()), "float"
        except ValueError:
            return False
    if kind in ("int", "float") and isinstance(value, (int, float)) and math.isfinite(value):
        return math.isclose(float(value), float(setting), rel_tol=1e-9)
    return False


def _describe_key(key):
    """A returned key as the student wrote it, e.g. ``16``, ``'0.001'`` or
    ``(16, {...}) (a tuple)``."""
    if "value" in key:
        return repr(key["value"])
    text, kind = str(key.get("repr", "?")), key.get("class")
    if not kind:
        return text
    return f"{text} ({'an' if str(kind)[:1].lower() in 'aeiou' else 'a'} {kind})"


def _fit_matches(setting_name, setting, fit, model):
    """Does this fit look like the run for ``setting``? Used to pair fits with settings."""
    if setting_name == "learning_rate":
        return math.isclose(model["learning_rate"], float(setting), rel_tol=1e-6)
    if setting_name == "optimizer":
        return model["optimizer"] == setting
    if setting_name == "batch_size":
        return fit.get("batch_size") == setting
    if setting_name == "input":
        normalized = model.get("input_scale") is not None or (
            fit.get("x_max") is not None and fit["x_max"] <= 1.0)
        return normalized == (setting == "normalized")
    return False


def build_experiment(step, setting_name, settings, data, *, epochs, label, matches=None):
    """Turn an experiment step into an Experiment.

    Parameters
    ----------
    step : grader.artifacts.Step
        A successful experiment step.
    setting_name : str
        "input" (normalization), "batch_size", "learning_rate" or "optimizer".
    settings : sequence
        The settings the grader asked for, in order.
    data : dict
        The grader's arrays: x_train, x_val, y_val, x_test, y_test (uint8 pixels).
    epochs : int
    label : callable
        ``label(setting) -> str`` for messages, e.g. "learning rate 0.1".
    matches : callable, optional
        ``matches(setting, fit, model) -> bool``: does this fit look like the run for
        ``setting``? (a part's named runs; default: by the swept setting). A setting that no
        fit, or several, match takes the fit in the position of its returned entry.
    """
    matches = matches or (lambda setting, fit, model: _fit_matches(setting_name, setting, fit,
                                                                   model))
    value = step.value or {}
    returned = value.get("runs") or []
    builder = value.get("builder") or {}
    models, fits = builder.get("models") or [], builder.get("fits") or []
    runs = []
    used_fits = set()
    for setting in settings:
        dir_name = setting if setting_name in NAMED_RUNS else run_dir_name(setting_name, setting)
        run = Run(setting=setting, label=label(setting), dir_name=dir_name)
        index = next((i for i, item in enumerate(returned) if _key_matches(item["key"], setting)), None)
        if index is not None:
            run.history = returned[index].get("history")
        candidates = [i for i, fit in enumerate(fits) if i not in used_fits
                      and matches(setting, fit, models[fit["model"]])]
        fit_index = candidates[0] if len(candidates) == 1 else None
        if fit_index is None and index is not None and index < len(fits) and index not in used_fits:
            fit_index = index
        if fit_index is not None:
            used_fits.add(fit_index)
            run.fit_index = fit_index
            run.fit = fits[fit_index]
            run.input_max = _input_maxima(run.fit, step.arrays, data)
            run.facts = fit_facts(fits, fit_index, step.arrays, data)
            run.model = models[run.fit["model"]]
            run.weights = [step.arrays[f"fit{fit_index}_w{j}"] for j in range(4)
                           if f"fit{fit_index}_w{j}" in step.arrays]
            _score_weights(run, setting_name, data)
        log_dir = os.path.join(step.outdir, f"{step.name}_logs")
        try:
            run.log = tblogs.read_run(os.path.join(log_dir, dir_name))
        except tblogs.LogError as problem:
            run.log_error = f"{problem}; {_describe_log_dir(log_dir)}"
        runs.append(run)
    return Experiment(
        name=step.name, setting_name=setting_name, runs=runs, result_error=value.get("result_error"),
        returned_keys=[_describe_key(item["key"]) for item in returned],
        n_fits=len(fits), n_models=len(models), epochs=epochs,
        n_train=len(data["x_train"]), n_val=len(data["x_val"]), fits=fits, models=models,
    )


def _grader_split(reference):
    """The split a ``{"kind": "grader", "name": ...}`` reference names (x_train, x_val,
    y_train, y_val), or None."""
    if isinstance(reference, dict) and reference.get("kind") == "grader":
        name = str(reference.get("name"))
        return next((split for split in ("x_train", "x_val", "y_train", "y_val")
                     if name.startswith(split)), None)
    return None


def _saved_array(reference, arrays):
    """The part's saved copy a ``{"kind": "saved", ...}`` reference points to, or None."""
    if isinstance(reference, dict) and reference.get("kind") == "saved":
        return arrays.get(str(reference.get("array")))
    return None


def _rows(reference, arrays, data):
    """Rows of the array a fit got, measured on the array itself."""
    split, array = _grader_split(reference), _saved_array(reference, arrays)
    if split is not None:
        return len(data[split])
    return int(array.shape[0]) if array is not None and array.ndim >= 1 else None


def _steps(fit, arrays, data):
    rows, epochs = _rows(fit.get("x"), arrays, data), fit.get("epochs")
    batch_size = fit.get("batch_size") or KERAS_DEFAULT_BATCH_SIZE
    if rows is None or not isinstance(epochs, int) or not isinstance(batch_size, int) or \
            isinstance(epochs, bool) or batch_size < 1:
        return None
    split = fit.get("validation_split") or 0.0
    if isinstance(split, (int, float)) and 0 < split < 1:
        rows = int(rows * (1.0 - split))
    return epochs * math.ceil(rows / batch_size)


def fit_facts(fits, index, arrays, data):
    """What the grader itself knows of fit ``index`` (see ``Run.facts``)."""
    fit = fits[index]
    chain = [f for i, f in enumerate(fits) if f.get("model") == fit.get("model") and i <= index]
    steps = [_steps(f, arrays, data) for f in chain]
    return {
        "x_rows": _rows(fit.get("x"), arrays, data),
        "val_rows": _rows(fit.get("x_val"), arrays, data),
        "steps": steps[-1],
        "steps_before": None if None in steps else sum(steps[:-1]),
        "full_data": all(_whole_array(f.get("x"), arrays, data) for f in chain),
    }


def label_encoding(reference, arrays, data, split):
    """How a fit's labels (``reference``, a record of the recording builder) encode the
    grader's ``split`` labels ("y_train" or "y_val"), measured on the arrays themselves:

    * ``"labels"``: the grader's integer labels (its own array, or an integer copy equal
      row for row);
    * ``"one_hot"``: their one-hot encoding (one row per label, every value exactly 0 or 1,
      a single 1 per row, at the label's column);
    * None: anything else (other rows, another order, smoothed or shuffled labels).
    """
    truth = data[split]
    named = _grader_split(reference)
    if named is not None:
        return "labels" if named == split else None
    array = _saved_array(reference, arrays)
    if array is None or array.dtype.kind not in "biuf" or len(array) != len(truth):
        return None
    if array.ndim == 1:
        return "labels" if array.dtype.kind in "iu" and np.array_equal(array, truth) else None
    if array.ndim != 2 or array.shape[1] <= int(np.max(truth, initial=0)):
        return None
    binary = np.all((array == 0) | (array == 1)) and np.all(np.sum(array == 1, axis=1) == 1)
    return "one_hot" if binary and np.array_equal(np.argmax(array, axis=1), truth) else None


#: Share of neighbouring-value pairs that may break the "function of the raw pixel" rule.
ROW_FOR_ROW_TOLERANCE = 0.001


def _whole_array(reference, arrays, data):
    """Did a fit get one of the grader's whole input arrays, or x_train (or x_val)
    transformed pixel by pixel (the student's own normalization), row for row?"""
    if _grader_split(reference) is not None:
        return _grader_split(reference) in ("x_train", "x_val")
    array = _saved_array(reference, arrays)
    if array is None or array.ndim != 2 or array.dtype.kind not in "biuf":
        return False
    return any(array.shape == data[split].shape and _same_rows(array, data[split])
               for split in ("x_train", "x_val"))


def _same_rows(found, raw):
    """Is ``found`` the grader's ``raw`` array transformed pixel by pixel, row for row?
    Column by column, every value must be a non-decreasing function of the raw pixel
    (``/ 255``, min-max or z-scaling per column, ``// 255`` ...): equal raw values map to
    equal values and larger ones to no smaller ones. A subset, another order or other data
    breaks that almost everywhere."""
    found = np.asarray(found, dtype=np.float64)
    raw = np.asarray(raw)
    if not np.all(np.isfinite(found)):
        return False
    order = np.argsort(raw, axis=0, kind="stable")
    found_sorted = np.diff(np.take_along_axis(found, order, axis=0), axis=0)
    raw_sorted = np.diff(np.take_along_axis(raw.astype(np.float64), order, axis=0), axis=0)
    broken = ((raw_sorted == 0) & (found_sorted != 0)) | ((raw_sorted > 0) & (found_sorted < 0))
    return float(np.mean(broken)) <= ROW_FOR_ROW_TOLERANCE


def _input_maxima(fit, arrays, data):
    maxima = {}
    for role in ("x", "x_val"):
        reference = fit.get(role)
        split, array = _grader_split(reference), _saved_array(reference, arrays)
        if split is not None:
            normalized = str(reference.get("name")).endswith("normalized")
            maxima[role] = 1.0 if normalized else float(np.max(data[split]))
        elif array is not None and array.size and array.dtype.kind in "biuf":
            maxima[role] = float(np.max(array))
    return maxima


#: Sub-folders the TensorBoard callback writes straight into the directory it is given.
CALLBACK_FOLDERS = ("train", "validation")


def _describe_log_dir(log_dir):
    """What the experiment did write under its log_dir, for a missing run's message."""
    found = tblogs.list_runs(log_dir)
    if not os.path.isdir(log_dir) or not found:
        return "nothing was logged under log_dir (was a TensorBoard callback passed to fit?)"
    if set(CALLBACK_FOLDERS) & set(found):
        return (f"log_dir itself holds {', '.join(f + '/' for f in found)}: runs were logged "
                "straight into log_dir instead of each into its own log_dir/<run name>")
    shown = ", ".join(found[:8]) + (", ..." if len(found) > 8 else "")
    return f"log_dir holds the run directories {shown}"


def _inputs_for(run, setting_name, x):
    """The pixels in the form this run's model was trained on: rescaled by the model
    itself, raw 0-255 (the normalization experiment's runs that trained on raw pixels),
    or divided by 255."""
    if run.model.get("input_scale") is not None:
        return x.astype(np.float32), run.model["input_scale"]
    if setting_name == "input":
        x_max = run.input_max.get("x")
        trained_on_raw = run.setting == "raw" if x_max is None else x_max > 1.0
        if trained_on_raw:
            return x.astype(np.float32), None
    return x.astype(np.float32) / np.float32(255.0), None


def _score_weights(run, setting_name, data):
    try:
        evaluate.check_model_weights(run.weights, run.model)
    except evaluate.WeightsError as problem:
        run.weights_error = str(problem)
        return
    x_test, scale = _inputs_for(run, setting_name, data["x_test"])
    run.held_out_accuracy = evaluate.accuracy(run.weights, x_test, data["y_test"], scale)
    x_val, scale = _inputs_for(run, setting_name, data["x_val"])
    run.val_accuracy_recomputed = evaluate.accuracy(run.weights, x_val, data["y_val"], scale)
