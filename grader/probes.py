"""Probes: the grader's code that calls the student's functions inside the sandboxed part
process and writes what came back to the part's output folder.

Each part is a list of steps. A step calls student code with the grader's inputs and
returns ``(value, arrays)``: ``value`` is JSON-able, ``arrays`` a dict of NumPy arrays.
The step's outcome goes to ``<step>.json`` (and ``<step>.npz``) as soon as it ends, so a
crash later in the part keeps earlier results. Everything written here is treated by the
scorer as untrusted input.

Runs with TensorFlow imported; never imported by the trusted grading process.
"""

import gc
import importlib
import json
import math
import os
import sys
import traceback
import types

import numpy as np

from grader.config import Profile

keras = None  # set by prepare_worker()

#: Largest array (elements) the recording builder copies for the replay: 2 x the training set.
MAX_SAVED_ELEMENTS = 4_000_000
#: The loss of the grader's reference model (``grader.reference_model.DEFAULT_LOSS``): the
#: recording builder passes ``loss`` on only when a call asks for another one.
DEFAULT_LOSS = "sparse_categorical_crossentropy"


def prepare_worker(threads=None):
    """Import TensorFlow and Keras once in the worker, before any fork.

    ``threads`` sizes TensorFlow's thread pools to the CPUs the grader may really use
    (a container limited to 1 CPU on a 64-core host would otherwise start 64 threads).
    """
    global keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras as keras_module
    tf.config.experimental.enable_op_determinism()
    import grader.parts  # noqa: F401 - every part's declaration, read before parts hide grader/
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    keras = keras_module
    # Everything imported so far lives as long as the worker: frozen, a full collection
    # (keras-tuner runs two per trial, the probes one per fit) no longer walks TensorFlow's
    # hundreds of thousands of objects: 0.175 s -> 0.012 s each, 2.8 s of Part 10's 18 s.
    gc.collect()
    gc.freeze()


def preload(part, request):
    """Load what a part needs from grader-only files, in the part's process, before its
    isolation hides them. The worker itself never imports the grader-only builder, so it
    is never in the memory of a part that does not need it (Part 2 above all)."""
    from grader import parts
    if request.get("reference_model") and parts.PARTS[part].reference_builder:
        from grader import reference_model  # noqa: F401


# ----------------------------------------------------------------------------- helpers

class StepError(Exception):
    """A problem with what student code returned, phrased for the student."""


def student_traceback(error, submission_dir):
    """The error and the last frames of the traceback that lie in the student's files."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if os.path.abspath(frame.filename).startswith(submission_dir + os.sep)]
    lines = []
    for frame in frames[-6:]:
        lines.append(f'  File "{os.path.basename(frame.filename)}", line {frame.lineno}, '
                     f"in {frame.name}")
        if frame.line:
            lines.append(f"    {frame.line}")
    if isinstance(error, SystemExit):
        code = error.code if isinstance(error.code, (int, type(None))) else "..."
        summary = f"your code called sys.exit({code!r}) (or exit()); return a value instead"
    elif isinstance(error, MemoryError):
        summary = "MemoryError: your code ran out of memory (the grader limits each part's memory)"
    elif isinstance(error, EOFError):
        summary = "your code tried to read from standard input (input()); the grader provides none"
    else:
        try:
            summary = f"{type(error).__name__}: {error}"
        except Exception:  # an exception whose str() fails
            summary = f"{type(error).__name__} (its message could not be shown)"
    if isinstance(error, SyntaxError) and error.filename and \
            os.path.abspath(error.filename).startswith(submission_dir + os.sep):
        lines.append(f'  File "{os.path.basename(error.filename)}", line {error.lineno}')
        if error.text:
            lines.append(f"    {error.text.strip()}")
    summary = summary.replace(submission_dir + os.sep, "")
    return {"type": type(error).__name__, "summary": summary[:2000], "traceback": "\n".join(lines)}


def to_float_list(values, what):
    """Per-epoch values as a list of floats, or StepError."""
    try:
        return [float(np.asarray(v)) for v in values]
    except (TypeError, ValueError) as error:
        raise StepError(f"{what} must be a list of numbers, one per epoch ({error})") from None


def value_record(value):
    """A value the grader does not keep as it is, in the student's terms: its type and how
    it prints, e.g. ``{"type": "numpy float64", "repr": "32.0"}`` for ``np.float64(32.0)``
    (shown as ``32.0 (a numpy float64)`` by ``grader.checks.shown``)."""
    kind = type(value)
    package = str(getattr(kind, "__module__", "") or "").split(".")[0]
    name = kind.__name__ if package in ("builtins", "") else f"{package} {kind.__name__}"
    try:
        text = str(value) if package == "numpy" else repr(value)
    except Exception:  # a value whose repr fails
        text = f"<{kind.__name__}>"
    return {"type": name[:60], "repr": text[:80]}


def described(value):
    """``value`` as the student would see it, with its type: ``32.0 (a numpy float64)``."""
    record = value_record(value)
    if record["type"] == "NoneType":
        return "None"
    article = "an" if record["type"][:1].lower() in "aeiou" else "a"
    return f"{record['repr']} ({article} {record['type']})"


def history_to_json(history, what):
    """Validate one returned history dict and make it JSON-able.

    A keras ``History`` object (what ``fit`` returns) is read through its ``.history``
    dict: it holds the same numbers, so returning it instead of ``history.history`` is
    accepted rather than failing every check that reads the history.
    """
    if isinstance(history, keras.callbacks.History) and isinstance(
            getattr(history, "history", None), dict):
        history = history.history
    if not isinstance(history, dict):
        raise StepError(f"{what} should be a dict of per-epoch lists (history.history), found "
                        f"{described(history)}")
    return {str(name): to_float_list(values, f"{what}[{name!r}]") for name, values in history.items()}


def key_to_json(key):
    """A result key with its type, so the scorer can match it to a setting; any other
    value (a tuple, a bool, an array) is recorded as the student would see it."""
    if isinstance(key, (bool, np.bool_)):
        return {"type": "other", "repr": repr(bool(key)), "class": "bool"}
    if isinstance(key, (int, np.integer)):
        return {"type": "int", "value": int(key)}
    if isinstance(key, (float, np.floating)):
        return {"type": "float", "value": float(key) if math.isfinite(float(key)) else None}
    if isinstance(key, str):
        return {"type": "str", "value": key[:200]}
    record = value_record(key)
    result = {"type": "other", "repr": record["repr"], "class": record["type"]}
    if isinstance(key, tuple) and len(key) == 2 and not isinstance(key[0], tuple):
        result["pair_key"] = key_to_json(key[0])  # a (key, history) pair: its key
    return result


# ------------------------------------------------------------------- grader model builder

def _plain_number(value):
    """A JSON-able form of a fit argument: NumPy scalars as Python numbers, other objects
    as a short description (the replay then reports it as an argument it cannot use)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":
        return value.item()
    return {"type": type(value).__name__}


def _same(value, default):
    """``value`` is the option's default (``0`` for ``0.0``; never a bool for a number)."""
    if isinstance(default, bool):
        return value is default
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value == default


def learning_rate_record(learning_rate):
    """A float, or ``{"schedule": class name, **its config}`` for a Keras schedule."""
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        record = {"schedule": type(learning_rate).__name__[:60]}
        try:
            config = learning_rate.get_config()
        except Exception:  # noqa: BLE001 - a schedule without a config cannot be replayed
            return record
        for name, value in list(config.items())[:10]:
            if name != "name":
                record[str(name)[:40]] = value if isinstance(value, bool) else _plain_number(value)
        return record
    return _plain_number(learning_rate)


#: EarlyStopping settings the replay uses (read from the callback object after its init).
EARLY_STOPPING_FIELDS = ("monitor", "patience", "min_delta", "mode", "restore_best_weights",
                         "baseline", "start_from_epoch")


def early_stopping_record(callbacks):
    """The settings of the (first) ``keras.callbacks.EarlyStopping`` among ``callbacks``, or
    None. A subclass is recorded by its own class name (the replay does not know it)."""
    if not isinstance(callbacks, (list, tuple)):
        return None
    for callback in callbacks[:20]:
        if isinstance(callback, keras.callbacks.EarlyStopping):
            record = {"class": type(callback).__name__[:60]}
            for field in EARLY_STOPPING_FIELDS:
                value = getattr(callback, field, None)
                record[field] = value if isinstance(value, bool) or value is None else \
                    str(value)[:40] if isinstance(value, str) else _plain_number(value)
            return record
    return None


class RecordingBuilder:
    """The model builder passed to the student's experiments as ``build_fn``.

    Builds each model with ``make_model`` (the grader's reference architecture when
    grading, so Part 2 mistakes do not cost experiment points; the student's own
    ``build_model`` in the self-check) and records every call and every ``fit`` of the
    models it built: the arguments, which of the grader's arrays it was given (or a copy
    of any other array), the optimizer steps taken and the weights right after the fit.

    It seeds Keras right before it builds a model and right before each fit, so every
    run is reproducible from its recorded arguments alone: the trusted side replays it
    in a process that never ran student code (``grader.replay``) and credits the run only
    when the weights recorded here are the ones that replay produces. Everything recorded
    here is a claim; the replay is the evidence.
    """

    def __init__(self, make_model, seed=0, known_arrays=None):
        self.make_model = make_model
        self.seed = int(seed)
        self.known_arrays = known_arrays or {}
        self.models = []
        self.fits = []
        self.saved = {}

    def _identify(self, array, fit_index, role):
        """Name of the grader's array ``array`` equals, ``"saved"`` (a copy is kept for the
        replay) or ``"other"`` (not an array the replay could use)."""
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf" or \
                array.size > MAX_SAVED_ELEMENTS:
            return {"kind": "other", "type": type(array).__name__}
        for name, known in self.known_arrays.items():
            if array is known or (array.dtype == known.dtype and array.shape == known.shape
                                  and np.array_equal(array, known)):
                return {"kind": "grader", "name": name}
        key = f"fit{fit_index}_{role}"
        self.saved[key] = np.array(array)
        return {"kind": "saved", "array": key, "dtype": str(array.dtype),
                "shape": list(array.shape)}

    def __call__(self, n_classes=10, *, optimizer="adam", learning_rate=0.001, input_dim=784,
                 input_scale=None, hidden_units=250, l2=0.0, dropout=0.0, batch_norm=False,
                 loss=DEFAULT_LOSS):
        options = {name: value for name, value, default in (
            ("hidden_units", hidden_units, 250), ("l2", l2, 0.0), ("dropout", dropout, 0.0),
            ("batch_norm", batch_norm, False)) if not _same(value, default)}
        if not (isinstance(loss, str) and loss == DEFAULT_LOSS):
            options["loss"] = loss
        keras.utils.set_random_seed(self.seed)
        # Options left at their defaults are not passed: the student's own build_model (the
        # self-check's builder) needs to accept only what an experiment really asks of it.
        model = self.make_model(n_classes, optimizer=optimizer, learning_rate=learning_rate,
                                input_dim=input_dim, input_scale=input_scale, **options)
        index = len(self.models)
        self.models.append({"n_classes": _plain_number(n_classes),
                            "optimizer": str(optimizer).lower()[:40],
                            "learning_rate": learning_rate_record(learning_rate),
                            "input_dim": _plain_number(input_dim),
                            "input_scale": None if input_scale is None else _plain_number(input_scale),
                            "hidden_units": _plain_number(hidden_units), "l2": _plain_number(l2),
                            "dropout": _plain_number(dropout),
                            "batch_norm": batch_norm if isinstance(batch_norm, bool)
                            else repr(batch_norm)[:40],
                            "loss": loss[:60] if isinstance(loss, str)
                            else {"type": type(loss).__name__[:60]}})
        original_fit = model.fit
        builder = self

        def recording_fit(x=None, y=None, batch_size=None, epochs=1, verbose="auto",
                          callbacks=None, validation_split=0.0, validation_data=None,
                          shuffle=True, **other):
            fit_index = len(builder.fits)
            validation = validation_data if isinstance(validation_data, (tuple, list)) else None
            record = {
                "model": index,
                "batch_size": _plain_number(batch_size),
                "epochs": _plain_number(epochs),
                "shuffle": shuffle if isinstance(shuffle, bool) else repr(shuffle)[:40],
                "validation_split": _plain_number(validation_split),
                "x": builder._identify(x, fit_index, "x"),
                "y": builder._identify(y, fit_index, "y"),
                "x_val": builder._identify(validation[0], fit_index, "x_val")
                if validation and len(validation) >= 2 else None,
                "y_val": builder._identify(validation[1], fit_index, "y_val")
                if validation and len(validation) >= 2 else None,
                "other_arguments": sorted(str(name)[:40] for name in other)[:20],
                "callbacks": [type(c).__name__[:60] for c in (callbacks or [])][:20]
                if isinstance(callbacks, (list, tuple)) else [],
                "early_stopping": early_stopping_record(callbacks),
                "x_shape": list(np.shape(x)) if isinstance(x, np.ndarray) else None,
                "x_max": float(np.max(x)) if isinstance(x, np.ndarray) and x.size
                and x.dtype.kind in "biuf" else None,
                "x_dtype": str(x.dtype) if isinstance(x, np.ndarray) else type(x).__name__,
                "validation_rows": (len(validation[0]) if validation and len(validation) >= 2
                                    else None),
                "iterations_before": int(model.optimizer.iterations.numpy()),
            }
            builder.fits.append(record)
            keras.utils.set_random_seed(builder.seed)
            result = original_fit(x=x, y=y, batch_size=batch_size, epochs=epochs, verbose=verbose,
                                  callbacks=callbacks, validation_split=validation_split,
                                  validation_data=validation_data, shuffle=shuffle, **other)
            record["iterations_after"] = int(model.optimizer.iterations.numpy())
            record["weights"] = [np.array(w) for w in model.get_weights()]
            gc.collect()  # earlier runs' models (a model and its recording fit are a cycle)
            return result

        object.__setattr__(model, "fit", recording_fit)
        return model

    def to_json(self):
        fits = [{k: v for k, v in fit.items() if k != "weights"} for fit in self.fits]
        return {"models": self.models, "fits": fits, "seed": self.seed}

    def arrays(self):
        weights = {f"fit{i}_w{j}": w for i, fit in enumerate(self.fits)
                   for j, w in enumerate(fit.get("weights", []))}
        return {**weights, **self.saved}


# ------------------------------------------------------------------------------- steps

class Context:
    """What a step can use: the student's modules, the data, the profile, a log folder."""

    def __init__(self, data, request):
        self.data = data
        self.profile = Profile(**request["profile"])
        self.submission_dir = os.path.abspath(request["submission"])
        self.outdir = os.path.abspath(request["outdir"])
        self.use_reference_model = bool(request.get("reference_model"))
        #: What the trusted side told this part (``grader.parts.Part.inputs``).
        self.inputs = request.get("inputs") or {}

    def module(self, name):
        return importlib.import_module(name)

    def model_maker(self):
        """The grader's reference builder when grading; the student's own in the self-check."""
        if self.use_reference_model:
            from grader import reference_model
            return reference_model.builder(keras)
        return self.module("architecture").build_model

    def log_dir(self, step_name):
        return os.path.join(self.outdir, f"{step_name}_logs")

    def known_arrays(self):
        """The arrays the grader hands to experiments, by the names the replay knows them by."""
        from grader.sandbox.replayer import known_arrays
        return known_arrays(self.data)

    def normalized(self, split):
        return self.data[f"x_{split}"].astype(np.float32) / np.float32(255.0)


def run_experiment(ctx, step_name, module_name, function_name, settings_keyword, settings,
                   x_train, x_val, *, y_train=None, y_val=None, make_model=None, **kwargs):
    """Call the student's experiment ``module_name.function_name`` with the grader's data,
    a recording ``build_fn`` and the settings; record every run it returns and every fit
    the builder saw (the replay re-trains them on the trusted side).

    ``y_train``/``y_val`` default to the grader's labels (pass them with a subset of the
    inputs); ``make_model`` to ``ctx.model_maker()`` (a part whose self-check builds with
    another student function passes that one); ``epochs`` (in ``kwargs``) to the profile's.
    ``settings_keyword=None``: the function takes no settings argument, ``settings`` names
    the runs it must return (an experiment of named runs).
    """
    module = ctx.module(module_name)
    builder = RecordingBuilder(make_model or ctx.model_maker(), ctx.profile.seed,
                               ctx.known_arrays())
    arguments = {"epochs": ctx.profile.epochs, **kwargs, "seed": ctx.profile.seed,
                 "build_fn": builder}
    if settings_keyword is not None:
        arguments[settings_keyword] = tuple(settings)
    keras.utils.set_random_seed(ctx.profile.seed)
    results = getattr(module, function_name)(
        x_train, ctx.data["y_train"] if y_train is None else y_train, x_val,
        ctx.data["y_val"] if y_val is None else y_val, ctx.log_dir(step_name), **arguments)
    error = None
    runs = []
    try:
        if not isinstance(results, dict):
            kind = "setting" if settings_keyword is not None else "run name"
            raise StepError(f"{function_name} returned {type(results).__name__}, expected a dict "
                            f"of {{{kind}: history}}")
        for key, history in results.items():
            runs.append({"key": key_to_json(key),
                         "history": history_to_json(history, f"the history for {key!r}")})
    except StepError as problem:
        error = str(problem)
    value = {"runs": runs, "result_error": error, "builder": builder.to_json(),
             "settings": list(settings)}
    return value, builder.arrays()




# ------------------------------------------------------------------------------ runner

def _write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(value, handle, allow_nan=False)
    os.replace(tmp, path)


def _sanitize(value):
    """Replace non-finite floats (JSON cannot hold them) by tagged strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"nonfinite": repr(value)}
    if isinstance(value, dict):
        return {k: _sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitize(v) for v in value]
    return value


def _placeholder_module(name, error):
    """Stands in for a student module that failed to import but is not graded in this part."""
    module = types.ModuleType(name)
    message = f"{name}.py could not be imported ({type(error).__name__}: {error})"

    def __getattr__(attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)

        def unavailable(*args, **kwargs):
            raise RuntimeError(message)
        return unavailable
    module.__getattr__ = __getattr__
    return module


def run_part(part, data, request):
    """Run every step of ``part``, writing each outcome to the output folder."""
    from grader import parts
    ctx = Context(data, request)
    declaration = parts.PARTS[part]  # imported by prepare_worker, before any isolation
    graded_modules, needed_modules = declaration.graded_modules, declaration.needed_modules
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path[:] = [ctx.submission_dir] + [entry for entry in sys.path
                                          if os.path.abspath(entry or ".") != package_root]
    keras.utils.set_random_seed(ctx.profile.seed)
    import_error = None
    for name in needed_modules + graded_modules:
        try:
            importlib.import_module(name)
        except BaseException as error:  # SyntaxError, SystemExit, anything at import time
            sys.modules.pop(name, None)
            if name in graded_modules:
                if import_error is None:
                    import_error = student_traceback(error, ctx.submission_dir)
                    import_error["summary"] = f"{name}.py failed to import: {import_error['summary']}"
            else:
                sys.modules[name] = _placeholder_module(name, error)
    for step in declaration.steps:
        name = parts.step_name(step)
        path = os.path.join(ctx.outdir, name)
        if import_error is not None:
            _write_json(path + ".json", {"ok": False, "error": import_error})
            continue
        try:
            value, arrays = step(ctx)
            if arrays:
                np.savez(path + ".npz", **arrays)
            _write_json(path + ".json", {"ok": True, "value": _sanitize(value)})
        except StepError as problem:
            _write_json(path + ".json", {"ok": False, "error": {
                "type": "StepError", "summary": str(problem), "traceback": ""}})
        except BaseException as error:
            _write_json(path + ".json", {"ok": False,
                                         "error": student_traceback(error, ctx.submission_dir)})
        value = arrays = None
        gc.collect()  # the step's models, before the next step builds its own
