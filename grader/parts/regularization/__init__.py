"""Part 11: fighting overfitting and tuning the schedule (``regularization.py``).

Steps, each calling student code with the grader's own inputs:

* ``regularized_models``: ``build_regularized_model`` with several option sets, each model
  described layer by layer (class, units, activation, kernel regularizer, dropout rate);
* ``schedule_values``: ``make_schedule`` on fixed arguments: its class, config and values;
* ``augmentation``: ``augment_drawings`` (twice with one seed, once with another) and
  ``augmented_training_set`` on a sample of the grader's validation drawings;
* ``regularization_experiment``: ``run_regularization_experiment`` on a deliberately small
  training subset (``SUBSET_ROWS`` normalized drawings, where the required model overfits
  within a few epochs) and the whole normalized validation set, with the grader's
  recording builder; every run is replayed on the trusted side like the other experiments;
* ``regularization_answers``: the multiple-choice answers.

The experiment's runs train on arrays the grader does not name (the subset, its augmented
copy), so ``build_experiment`` reads every fit's saved training arrays on the trusted side
(the arrays the replay trains on): the tests judge what each run really trained on from
those, never from what the part claimed about them.
"""

import dataclasses

import numpy as np

from grader import probes
from grader.choices import every_question, questions, record_answers
from grader.parts import Part, Sweep
from grader.probes import StepError, student_traceback, value_record

#: Training rows the experiment gets: few enough that the required model overfits fast.
SUBSET_ROWS = 200
#: The experiment's settings (the student function's keyword arguments).
EXPERIMENT = {"epochs": 12, "batch_size": 32, "learning_rate": 0.01, "l2": 0.001,
              "dropout": 0.7, "patience": 2, "decay_rate": 0.7}
RUN_NAMES = ("baseline", "l2", "dropout", "early_stopping", "schedule", "augmented")

#: ``build_regularized_model`` calls: (name, positional n_classes, keyword options).
MODEL_CASES = (
    ("default", 10, {}),
    ("everything", 10, {"l2": 0.01, "dropout": 0.3, "batch_norm": True}),
    ("l2_only", 7, {"l2": 0.005}),
    ("dropout_only", 10, {"dropout": 0.4}),
    ("batch_norm_only", 10, {"batch_norm": True}),
)
#: ``make_schedule(initial_learning_rate, decay_steps, decay_rate)``, and the optimizer
#: steps at which its value is read.
SCHEDULE_ARGUMENTS = (0.01, 7, 0.5)  # the docstring's example
SCHEDULE_STEPS = (0, 7, 1, 14, 23)
#: Drawings ``augment_drawings`` is given (normalized rows of the validation split) and
#: the seeds it is called with (the first twice).
AUGMENT_ROWS = 64
AUGMENT_SEEDS = (3, 4)


# ---------------------------------------------------------------------------- models

def _number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _regularizer(regularizer):
    """``{"class_name", "l1", "l2"}`` of a kernel regularizer, or None."""
    if regularizer is None:
        return None
    try:
        config = regularizer.get_config()
    except Exception:  # a regularizer without a config: described by its class only
        config = {}
    return {"class_name": type(regularizer).__name__[:60],
            "l1": _number(config.get("l1")) or 0.0, "l2": _number(config.get("l2")) or 0.0}


def _layers(model):
    """The model's layers in order (nested models flattened), Input layers left out."""
    for layer in model.layers:
        if isinstance(layer, probes.keras.Model):
            yield from _layers(layer)
        elif not isinstance(layer, probes.keras.layers.InputLayer):
            yield layer


def describe_layers(model):
    """Each layer as plain data: class, units, activation, regularizers, dropout rate."""
    if not isinstance(model, probes.keras.Model):
        raise StepError(f"build_regularized_model returned {type(model).__name__}, expected a "
                        "keras Model")
    described = []
    for layer in list(_layers(model))[:20]:
        activation = getattr(layer, "activation", None)
        described.append({
            "class_name": type(layer).__name__[:60],
            "units": getattr(layer, "units", None) if isinstance(getattr(layer, "units", None),
                                                                 int) else None,
            "activation": None if activation is None else
            str(getattr(activation, "__name__", activation))[:40],
            "kernel_regularizer": _regularizer(getattr(layer, "kernel_regularizer", None)),
            "bias_regularizer": _regularizer(getattr(layer, "bias_regularizer", None)),
            "rate": _number(getattr(layer, "rate", None)),
        })
    return {"layers": described, "output_shape": [None if d is None else int(d) for d in
                                                  getattr(model, "output_shape", ())]}


def step_regularized_models(ctx):
    build = ctx.module("regularization").build_regularized_model
    found = {}
    for name, n_classes, options in MODEL_CASES:
        try:
            found[name] = {"ok": True, "model": describe_layers(build(n_classes, **options))}
        except Exception as error:  # one failing option set must not hide the others
            found[name] = {"ok": False, "error": student_traceback(error, ctx.submission_dir)}
    return found, {}


def _every_model(value, arrays, inputs):
    if not isinstance(value, dict) or set(value) != {name for name, _, _ in MODEL_CASES}:
        return "one model description per option set the grader asked for"
    return None


# -------------------------------------------------------------------------- schedule

def step_schedule_values(ctx):
    schedule = ctx.module("regularization").make_schedule(*SCHEDULE_ARGUMENTS)
    record = {"class_name": type(schedule).__name__[:60], "config": {}, "values": None}
    try:
        config = schedule.get_config()
        record["config"] = {key: (value if isinstance(value, bool) else _number(value))
                            for key, value in config.items()
                            if key in ("initial_learning_rate", "decay_steps", "decay_rate",
                                       "staircase")}
    except Exception as error:
        record["config_error"] = f"{type(error).__name__}: {error}"[:300]
    try:
        record["values"] = [float(np.asarray(schedule(step))) for step in SCHEDULE_STEPS]
    except Exception as error:
        record["values_error"] = student_traceback(error, ctx.submission_dir)["summary"]
    return record, {}


def _schedule_recorded(value, arrays, inputs):
    if not isinstance(value, dict) or not {"class_name", "config", "values"} <= set(value):
        return "the schedule's class, config and values"
    return None


# ---------------------------------------------------------------------- augmentation

def augment_input(data):
    """The drawings ``augment_drawings`` is given (both sides make them from the data)."""
    return (data["x_val"][:AUGMENT_ROWS].astype(np.float32) / np.float32(255.0),
            data["y_val"][:AUGMENT_ROWS].copy())


def _array_or_record(value, what):
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        raise StepError(f"{what} returned {probes.described(value)}, expected a NumPy array "
                        "of numbers")
    return value


def step_augmentation(ctx):
    module = ctx.module("regularization")
    x, y = augment_input(ctx.data)
    given = x.copy()
    first = _array_or_record(module.augment_drawings(given, AUGMENT_SEEDS[0]), "augment_drawings")
    again = _array_or_record(module.augment_drawings(x.copy(), AUGMENT_SEEDS[0]),
                             "augment_drawings")
    other = _array_or_record(module.augment_drawings(x.copy(), AUGMENT_SEEDS[1]),
                             "augment_drawings")
    arrays = {"first": first, "again": again, "other": other, "input_after": given}
    value = {"training_set": None}
    try:
        result = module.augmented_training_set(x.copy(), y.copy(), AUGMENT_SEEDS[0])
        if not isinstance(result, tuple) or len(result) != 2:
            value["training_set"] = {"not_a_pair": value_record(result)}
        else:
            arrays["set_x"] = _array_or_record(result[0], "augmented_training_set")
            arrays["set_y"] = _array_or_record(result[1], "augmented_training_set")
            value["training_set"] = {"ok": True}
    except StepError as problem:
        value["training_set"] = {"error": {"summary": str(problem), "traceback": ""}}
    except Exception as error:
        value["training_set"] = {"error": student_traceback(error, ctx.submission_dir)}
    return value, arrays


def _augmentation_recorded(value, arrays, inputs):
    if not {"first", "again", "other", "input_after"} <= set(arrays) or \
            not isinstance(value, dict) or not isinstance(value.get("training_set"), dict):
        return "the three augment_drawings results and augmented_training_set's"
    if value["training_set"].get("ok") and not {"set_x", "set_y"} <= set(arrays):
        return "augmented_training_set's arrays"
    return None


# ------------------------------------------------------------------------ experiment

def subset(data):
    """The experiment's training rows: the first ``SUBSET_ROWS`` of the grader's training
    split, normalized (both sides make them from the data)."""
    x = data["x_train"][:SUBSET_ROWS].astype(np.float32) / np.float32(255.0)
    return x, data["y_train"][:SUBSET_ROWS].copy()


def _student_maker(module):
    """The student's own ``build_regularized_model`` behind the recording builder's call
    (the self-check; grading uses the grader's reference builder)."""
    def make_model(n_classes, *, optimizer="adam", learning_rate=0.001, input_dim=784,
                   l2=0.0, dropout=0.0, batch_norm=False, **_ignored):
        return module.build_regularized_model(
            n_classes, l2=l2, dropout=dropout, batch_norm=batch_norm, optimizer=optimizer,
            learning_rate=learning_rate, input_dim=input_dim)
    return make_model


def step_regularization_experiment(ctx):
    module = ctx.module("regularization")
    maker = ctx.model_maker() if ctx.use_reference_model else _student_maker(module)
    x_train, y_train = subset(ctx.data)
    return probes.run_experiment(ctx, "regularization_experiment", "regularization",
                                 "run_regularization_experiment", None, RUN_NAMES, x_train,
                                 ctx.normalized("val"), y_train=y_train, make_model=maker,
                                 **EXPERIMENT)


def _trained_on(fit, arrays, known):
    """The training inputs and labels a fit got, as the replay trains on them: the part's
    saved copies (the subset and its augmented copy are not arrays the grader names), or
    the grader's own array a fit was given by name (with a small grading profile the subset
    is the whole training split, which the recording builder recognises)."""
    found = {}
    for role in ("x", "y"):
        reference = fit.get(role) if isinstance(fit.get(role), dict) else {}
        if reference.get("kind") == "saved":
            found[role] = arrays.get(str(reference.get("array")))
        elif reference.get("kind") == "grader":
            found[role] = known.get(str(reference.get("name")))
        else:
            found[role] = None
    return found


def rows_given(run, x_given, y_given):
    """Did ``run`` train on the rows the grader passed in (the augmented run: those rows
    first, then as many more)?"""
    x, y = run.facts["trained_on"]["x"], run.facts["trained_on"]["y"]
    if x is None or y is None or x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        return False
    rows = len(x_given)
    expected = 2 * rows if run.setting == "augmented" else rows
    return len(x) == expected and x.shape[1] == x_given.shape[1] and \
        bool(np.allclose(x[:rows], x_given, atol=1e-6)) and np.array_equal(y[:rows], y_given)


def run_traits(fit, model):
    """What sets a fit apart among the experiment's runs, from its records: the options its
    model was built with, its EarlyStopping, and more training rows than the subset."""
    rows = (fit.get("x_shape") or [None])[0]
    return {"l2": model.get("l2") not in (0, 0.0, None),
            "dropout": model.get("dropout") not in (0, 0.0, None),
            "early_stopping": fit.get("early_stopping") is not None,
            "schedule": isinstance(model.get("learning_rate"), dict),
            "augmented": isinstance(rows, int) and rows > SUBSET_ROWS}


def run_matches(name, fit, model):
    """Is this fit the run ``name`` (it has that run's trait and no other; the baseline
    none)? Pairs each returned history with its fit whatever order the runs trained in."""
    traits = run_traits(fit, model)
    return not any(value for trait, value in traits.items() if trait != name) and \
        (name == "baseline" or traits[name])


def build_experiment(step, profile, data):
    """The experiment as the grader reads it: one run per name, trained on the subset.

    ``facts["trained_on"]`` holds each fit's training arrays (read on this, the trusted,
    side from the part's saved copies: the arrays the replay trains on), and
    ``facts["full_data"]`` says whether they are the rows the grader passed in, so the
    shared experiment checks hold every run to this part's training set."""
    from grader import runs  # trusted side only (its log reader must not load in a part)
    experiment = runs.build_experiment(step, "run", RUN_NAMES, data, epochs=EXPERIMENT["epochs"],
                                       label="the {} run".format, matches=run_matches)
    from grader.sandbox.replayer import known_arrays
    known = known_arrays(data)
    x_given, y_given = subset(data)
    for run in experiment.runs:
        if run.fit is not None:
            run.facts["trained_on"] = _trained_on(run.fit, step.arrays, known)
            run.facts["full_data"] = rows_given(run, x_given, y_given)
    return dataclasses.replace(experiment, n_train=SUBSET_ROWS)


def validation(data):
    """The validation split as the experiment gets it (normalized)."""
    return data["x_val"].astype(np.float32) / np.float32(255.0), data["y_val"]


def final_gap(history):
    """Validation loss minus training loss at the last epoch: the overfitting gap."""
    return history["val_loss"][-1] - history["loss"][-1]


def hidden_weight_ratio(regularized_weights, baseline_weights):
    """Norm of the hidden kernel after the L2 run over the baseline's: L2's own effect.

    (L2's narrowing of the final gap, about 0.1, is not robust at this factor: one seed in
    20 measured widened it by 0.06, while this ratio stayed within 0.29-0.32.)"""
    return float(np.linalg.norm(regularized_weights[0]) / np.linalg.norm(baseline_weights[0]))


def _figures(env):
    """Calibrated figures beyond the per-run ones: how much L2 shrinks the hidden weights,
    how much L2 and dropout narrow the baseline's gap, and whether the early_stopping run
    stopped before its budget."""
    from grader.experiment_checks import trusted_history
    experiment = env["regularization_experiment"]
    history = {run.setting: trusted_history(experiment, run) for run in experiment.runs}
    baseline_gap = final_gap(history["baseline"])
    stopped = history["early_stopping"]
    weights = {run.setting: run.weights for run in experiment.runs}
    return {"regularization.l2.hidden_weight_ratio":
                hidden_weight_ratio(weights["l2"], weights["baseline"]),
            "regularization.l2.gap_narrowing": baseline_gap - final_gap(history["l2"]),
            "regularization.dropout.gap_narrowing": baseline_gap - final_gap(history["dropout"]),
            "regularization.early_stopping.stopped_early":
                float(len(stopped["loss"]) < EXPERIMENT["epochs"]),
            "regularization.early_stopping.epochs": float(len(stopped["loss"])),
            "regularization.early_stopping.last_minus_best_val_loss":
                stopped["val_loss"][-1] - min(stopped["val_loss"])}


def step_regularization_answers(ctx):
    return record_answers(ctx.module("regularization"), ctx.inputs.get("questions", [])), {}


PART = Part(
    title="regularization",
    graded_modules=("regularization",),
    steps=(step_regularized_models, step_schedule_values, step_augmentation,
           step_regularization_experiment, step_regularization_answers),
    experiments={"regularization_experiment": Sweep(
        setting="run", settings=RUN_NAMES, label="the {} run", metrics="regularization",
        build=build_experiment)},
    record_checks={"regularized_models": _every_model, "schedule_values": _schedule_recorded,
                   "augmentation": _augmentation_recorded,
                   "regularization_answers": every_question},
    reference_builder=True,
    extra_metrics=_figures,
    provides={"augment_given": augment_input, "regularization_subset": subset,
              "regularization_validation": validation},
    inputs=questions,
)
