"""Probes: the grader's code that calls the student's functions inside the sandboxed part
process and writes what came back to the part's output folder.

Each part is a list of steps. A step calls student code with the grader's inputs and
returns ``(value, arrays)``: ``value`` is JSON-able, ``arrays`` a dict of NumPy arrays.
The step's outcome goes to ``<step>.json`` (and ``<step>.npz``) as soon as it ends, so a
crash later in the part keeps earlier results. Everything written here is treated by the
scorer as untrusted input.

Runs with TensorFlow imported; never imported by the trusted grading process.
"""

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

#: Optimizer names build_model must accept.
OPTIMIZER_NAMES = ("sgd", "adam", "rmsprop", "adagrad", "nadam")
NORMALIZE_SAMPLE_ROWS = 200
#: Largest array (elements) the recording builder copies for the replay: 2 x the training set.
MAX_SAVED_ELEMENTS = 4_000_000


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
    if threads:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    keras = keras_module


#: Parts whose experiments get the grader-only reference builder as ``build_fn``.
REFERENCE_BUILDER_PARTS = ("normalization", "batch_size", "learning_rate", "optimizer")


def preload(part, request):
    """Load what a part needs from grader-only files, in the part's process, before its
    isolation hides them. The worker itself never imports the grader-only builder, so it
    is never in the memory of a part that does not need it (Part 2 above all)."""
    if request.get("reference_model") and part in REFERENCE_BUILDER_PARTS:
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
                 input_scale=None):
        keras.utils.set_random_seed(self.seed)
        model = self.make_model(n_classes, optimizer=optimizer, learning_rate=learning_rate,
                                input_dim=input_dim, input_scale=input_scale)
        index = len(self.models)
        self.models.append({"n_classes": int(n_classes), "optimizer": str(optimizer).lower(),
                            "learning_rate": float(learning_rate), "input_dim": int(input_dim),
                            "input_scale": None if input_scale is None else float(input_scale)})
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
        self.profile = Profile(**{k: tuple(v) if isinstance(v, list) else v
                                  for k, v in request["profile"].items()})
        self.submission_dir = os.path.abspath(request["submission"])
        self.outdir = os.path.abspath(request["outdir"])
        self.use_reference_model = bool(request.get("reference_model"))

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


def step_normalize(ctx):
    sample = ctx.data["x_val"][:NORMALIZE_SAMPLE_ROWS].copy()
    result = ctx.module("normalization").normalize_pixels(sample)
    if not isinstance(result, np.ndarray):
        raise StepError(f"normalize_pixels returned {type(result).__name__}, expected a NumPy array")
    if result.dtype == object:
        raise StepError("normalize_pixels returned an array of Python objects, expected float32")
    return {"dtype": str(result.dtype), "shape": list(result.shape)}, \
        {"result": result, "input_after": sample}


def _experiment(ctx, step_name, function_name, settings_keyword, settings, x_train, x_val,
                **kwargs):
    module = ctx.module("normalization" if function_name == "run_normalization_experiment"
                        else "experiments")
    builder = RecordingBuilder(ctx.model_maker(), ctx.profile.seed, ctx.known_arrays())
    arguments = dict(epochs=ctx.profile.epochs, seed=ctx.profile.seed, build_fn=builder, **kwargs)
    if settings_keyword is not None:
        arguments[settings_keyword] = tuple(settings)
    keras.utils.set_random_seed(ctx.profile.seed)
    results = getattr(module, function_name)(
        x_train, ctx.data["y_train"], x_val, ctx.data["y_val"], ctx.log_dir(step_name), **arguments)
    error = None
    runs = []
    try:
        if not isinstance(results, dict):
            raise StepError(f"{function_name} returned {type(results).__name__}, expected a dict "
                            "of {setting: history}")
        for key, history in results.items():
            runs.append({"key": key_to_json(key),
                         "history": history_to_json(history, f"the history for {key!r}")})
    except StepError as problem:
        error = str(problem)
    value = {"runs": runs, "result_error": error, "builder": builder.to_json(),
             "settings": list(settings)}
    return value, builder.arrays()


def step_normalization_experiment(ctx):
    p = ctx.profile
    return _experiment(ctx, "normalization_experiment", "run_normalization_experiment", None,
                       ["raw", "normalized"], ctx.data["x_train"], ctx.data["x_val"],
                       batch_size=p.batch_size, optimizer=p.optimizer, learning_rate=p.learning_rate)


def step_batch_size_experiment(ctx):
    p = ctx.profile
    return _experiment(ctx, "batch_size_experiment", "run_batch_size_experiment", "batch_sizes",
                       p.batch_sizes, ctx.normalized("train"), ctx.normalized("val"),
                       optimizer=p.optimizer, learning_rate=p.learning_rate)


def step_learning_rate_experiment(ctx):
    p = ctx.profile
    return _experiment(ctx, "learning_rate_experiment", "run_learning_rate_experiment",
                       "learning_rates", p.learning_rates, ctx.normalized("train"),
                       ctx.normalized("val"), batch_size=p.batch_size, optimizer=p.optimizer)


def step_optimizer_experiment(ctx):
    p = ctx.profile
    return _experiment(ctx, "optimizer_experiment", "run_optimizer_experiment", "optimizers",
                       p.optimizers, ctx.normalized("train"), ctx.normalized("val"),
                       batch_size=p.batch_size, learning_rate=p.learning_rate)


def describe_model(model):
    """Structure, loss, metrics and optimizer of a compiled model, as plain data.

    ``dense`` lists the model's Dense layers as ``{"units", "activation", "written"}``
    whatever way each activation was given: ``Dense(250, activation="sigmoid")``,
    ``Dense(250, activation=keras.activations.sigmoid)``, or ``Dense(250)`` followed by
    ``Activation("sigmoid")`` (or an activation layer such as ``Softmax()``) describe the
    same layer. ``written`` is the layer as the student wrote it, for messages.
    """
    if not isinstance(model, keras.Model):
        raise StepError(f"build_model returned {type(model).__name__}, expected a keras Model")
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        config = layer.get_config()
        activation = config.get("activation")
        layers.append({
            "class_name": type(layer).__name__,
            "units": config.get("units"),
            "activation": activation if isinstance(activation, str) or activation is None
            else str(activation),
            "scale": _number_or_none(config.get("scale")),
            "offset": _number_or_none(config.get("offset")),
        })
    optimizer = getattr(model, "optimizer", None)
    compile_config = model.get_compile_config() if getattr(model, "compiled", False) else None
    return {
        "layers": layers,
        "dense": _dense_pairs(model),
        "input_shape": _shape_list(getattr(model, "input_shape", None)),
        "output_shape": _shape_list(getattr(model, "output_shape", None)),
        "compiled": compile_config is not None,
        "loss": _describe_loss(getattr(model, "loss", None)),
        "metrics": _describe_metrics((compile_config or {}).get("metrics")),
        "optimizer": None if optimizer is None else {
            "class_name": type(optimizer).__name__,
            "learning_rate": float(np.asarray(optimizer.learning_rate)),
        },
    }


#: Layers that only apply an activation, by class name -> the activation they apply.
ACTIVATION_LAYERS = {"Softmax": "softmax", "ReLU": "relu", "LeakyReLU": "leaky_relu",
                     "ELU": "elu", "PReLU": "prelu"}


def _flat_layers(model):
    """The model's layers in order, with the layers of nested models in their place."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _flat_layers(layer)
        elif not isinstance(layer, keras.layers.InputLayer):
            yield layer


def _activation_name(activation):
    """'sigmoid' for "sigmoid", keras.activations.sigmoid, tf.nn.sigmoid, ...; 'linear' for
    none."""
    if activation is None:
        return "linear"
    name = activation if isinstance(activation, str) else \
        getattr(activation, "__name__", None) or type(activation).__name__
    name = str(name).lower()
    return name[:-3] if name.endswith("_v2") else name


def _dense_pairs(model):
    """The Dense layers as (units, activation) pairs, each with the activation layers that
    directly follow it folded in (see ``describe_model``)."""
    pairs = []
    for layer in _flat_layers(model):
        kind = type(layer).__name__
        if kind == "Dense":
            units = getattr(layer, "units", None)
            units = int(units) if isinstance(units, (int, np.integer)) else None
            activation = _activation_name(getattr(layer, "activation", None))
            written = f"Dense({units})" if activation == "linear" else \
                f"Dense({units}, activation={activation!r})"
            pairs.append({"units": units, "activation": activation, "written": written})
        elif pairs and (kind == "Activation" or kind in ACTIVATION_LAYERS):
            activation = ACTIVATION_LAYERS.get(kind) or \
                _activation_name(getattr(layer, "activation", None))
            last = pairs[-1]
            last["written"] += f" + Activation({activation!r})" if kind == "Activation" \
                else f" + {kind}()"
            if last["activation"] == "linear":
                last["activation"] = activation
            elif activation != "linear":
                last["activation"] = f"{last['activation']}, then {activation}"
    return pairs


def _number_or_none(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _shape_list(shape):
    if shape is None or not isinstance(shape, tuple):
        return None
    return [None if d is None else int(d) for d in shape]


def _describe_loss(loss):
    if loss is None:
        return None
    if isinstance(loss, str):
        return {"name": loss, "from_logits": False}
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    return {"name": getattr(loss, "__name__", None) or type(loss).__name__,
            "from_logits": bool(config.get("from_logits", False))}


def _describe_metrics(metrics):
    names = []
    for metric in metrics or []:
        if isinstance(metric, str):
            names.append(metric)
        elif isinstance(metric, dict):
            names.append(str(metric.get("class_name") or metric.get("config", {}).get("name")))
        else:
            names.append(str(getattr(metric, "name", type(metric).__name__)))
    return names


def step_build_default(ctx):
    return describe_model(ctx.module("architecture").build_model(10)), {}


def step_build_custom(ctx):
    return describe_model(ctx.module("architecture").build_model(
        7, optimizer="sgd", learning_rate=0.05)), {}


def step_build_scaled(ctx):
    return describe_model(ctx.module("architecture").build_model(10, input_scale=1 / 255)), {}


def step_build_optimizers(ctx):
    build_model = ctx.module("architecture").build_model
    found = {}
    for name in OPTIMIZER_NAMES:
        try:
            optimizer = describe_model(build_model(10, optimizer=name, learning_rate=0.02))["optimizer"]
            found[name] = {"ok": True, "optimizer": optimizer}
        except Exception as error:  # one bad name must not hide the others
            found[name] = {"ok": False, "error": student_traceback(error, ctx.submission_dir)}
    return found, {}


#: Optimizer names as students may write them; build_model takes names in any case.
MIXED_CASE_OPTIMIZER_NAMES = ("SGD", "Adam", "RMSprop", "AdaGrad", "NADAM")


def step_build_mixed_case(ctx):
    build_model = ctx.module("architecture").build_model
    found = {}
    for name in MIXED_CASE_OPTIMIZER_NAMES:
        try:
            optimizer = describe_model(build_model(10, optimizer=name, learning_rate=0.02))["optimizer"]
            found[name] = {"ok": True, "optimizer": optimizer}
        except Exception as error:  # one bad name must not hide the others
            found[name] = {"ok": False, "error": student_traceback(error, ctx.submission_dir)}
    return found, {}


def step_build_unknown_optimizer(ctx):
    try:
        model = ctx.module("architecture").build_model(10, optimizer="adamw_typo")
    except Exception as error:
        return {"raised": type(error).__name__, "is_value_error": isinstance(error, ValueError),
                "message": str(error)[:500]}, {}
    optimizer = getattr(model, "optimizer", None)
    return {"raised": None, "optimizer": type(optimizer).__name__ if optimizer else None}, {}


BEST_SETTING_CASES = (
    ("val_accuracy", {8: [0.5, 0.7], 32: [0.6, 0.8], 512: [0.7, 0.75]}),
    ("val_loss", {"sgd": [2.0, 1.2], "adam": [1.0, 0.4], "rmsprop": [0.9, 0.5]}),
    ("val_accuracy", {1.0: [0.2, float("nan")], 0.01: [0.5, 0.6], 0.001: [0.4, 0.6]}),
    ("loss", {16: [1.0, 0.30], 128: [1.0, 0.31]}),
    # the best epoch is not the last one: 8 peaked highest (0.9) but ended lowest
    ("val_accuracy", {8: [0.9, 0.6], 32: [0.5, 0.7], 512: [0.8, 0.65]}),
)


def step_best_setting(ctx):
    best_setting = ctx.module("experiments").best_setting
    answers = []
    for metric, finals in BEST_SETTING_CASES:
        results = {key: {"loss": list(values), "val_loss": list(values),
                         "accuracy": list(values), "val_accuracy": list(values)}
                   for key, values in finals.items()}
        try:
            answers.append({"ok": True, "key": key_to_json(best_setting(results, metric=metric))})
        except Exception as error:
            answers.append({"ok": False, "error": student_traceback(error, ctx.submission_dir)})
    try:
        best_setting({}, metric="val_accuracy")
        empty = {"raised": None}
    except Exception as error:
        empty = {"raised": type(error).__name__, "is_value_error": isinstance(error, ValueError)}
    return {"answers": answers, "empty": empty}, {}


GRADIENT_DESCENT_CASES = ((0.1, 50, 0.0), (0.25, 4, 10.0), (1.1, 10, 0.0))
ITERATION_CASES = ((1000, 32), (1000, 1000), (60000, 1), (7, 8), (2000, 16))
ANSWER_NAMES = ("TOO_HIGH_LEARNING_RATE_SYMPTOM", "PER_PARAMETER_OPTIMIZER", "WHY_NORMALIZE")


def step_concepts(ctx):
    module = ctx.module("concepts")
    answers = {}
    for name in ANSWER_NAMES:
        value = getattr(module, name, "<missing>")
        answers[name] = value[:200] if isinstance(value, str) else value_record(value)
    return {"answers": answers}, {}


def step_gradient_descent(ctx):
    function = ctx.module("concepts").gradient_descent
    outputs = []
    for learning_rate, n_steps, x0 in GRADIENT_DESCENT_CASES:
        positions = function(learning_rate, n_steps, x0=x0)
        outputs.append(to_float_list(list(positions), "gradient_descent's result"))
    return {"cases": [list(c) for c in GRADIENT_DESCENT_CASES], "outputs": outputs}, {}


def step_iterations_per_epoch(ctx):
    function = ctx.module("concepts").iterations_per_epoch
    outputs = []
    for n_samples, batch_size in ITERATION_CASES:
        value = function(n_samples, batch_size)
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            outputs.append(int(value))
            continue
        record = value_record(value)  # not an int: kept with the number it stands for, if any
        if isinstance(value, (float, np.floating)) and math.isfinite(float(value)):
            record["number"] = float(value)
        outputs.append(record)
    return {"cases": [list(c) for c in ITERATION_CASES], "outputs": outputs}, {}


#: Part name -> (modules it grades, modules it only needs importable, steps in order).
#: A needed-only module that fails to import is replaced by a placeholder, so a broken
#: architecture.py does not cost the experiments' points (they use the grader's builder).
PARTS = {
    "normalization": (("training", "normalization"), ("architecture",),
                      (step_normalize, step_normalization_experiment)),
    "architecture": (("architecture",), (),
                     (step_build_default, step_build_custom, step_build_optimizers,
                      step_build_mixed_case, step_build_unknown_optimizer, step_build_scaled)),
    "batch_size": (("training", "experiments"), ("architecture",), (step_batch_size_experiment,)),
    "learning_rate": (("training", "experiments"), ("architecture",),
                      (step_learning_rate_experiment,)),
    "optimizer": (("training", "experiments"), ("architecture",),
                  (step_optimizer_experiment, step_best_setting)),
    "concepts": (("concepts",), (), (step_concepts, step_gradient_descent,
                                     step_iterations_per_epoch)),
}


def step_name(step):
    return step.__name__[len("step_"):]


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
    ctx = Context(data, request)
    graded_modules, needed_modules, steps = PARTS[part]
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
    for step in steps:
        name = step_name(step)
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
