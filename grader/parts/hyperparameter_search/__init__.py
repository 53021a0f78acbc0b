"""Part 10: hyperparameter search with keras-tuner (``search.py``).

Probe steps (sandbox): the hypermodel function on keras-tuner ``HyperParameters`` the
grader made (``tunable_model``), then one search per method (``grid_search``,
``random_search``, ``bayesian_search``), each with a recording ``build_fn`` so that every
trial's training is replayed on the trusted side, and the two concept answers.

Every trial of every search trains the same way (a fresh model, one fit of ``EPOCHS`` on
the grader's normalized training data, validated on its validation data), so a
configuration trains to the same weights in every search: the replays of a correct
submission are the four grid trials, cached by calibration. The trusted side
(``grader/parts/hyperparameter_search/trials.py``) turns the fits into trials.
"""

import math
import os
import sys

import numpy as np

from grader import choices, probes
from grader.parts import Part, Sweep

#: The search space every search is given (2 x 2: the grid has 4 trials).
LEARNING_RATES = (0.01, 0.001)
HIDDEN_UNITS = (32, 128)
#: ``max_trials`` every search is given: the budget of random search and Bayesian
#: optimization; grid search must not take it (it tries all 4 combinations).
MAX_TRIALS = 3
METHODS = ("grid", "random", "bayesian")
#: Epochs of every trial's fit (a trial's cost is mostly its model's tracing: one epoch
#: already separates the four configurations).
EPOCHS = 1
#: The searches' folder under the part's output folder (keras-tuner's files there, each
#: method's TensorBoard logs in ``<SEARCH_FOLDER>/<method>_logs``).
SEARCH_FOLDER = "search"
#: Most trials read from one returned result.
MAX_REPORTED_TRIALS = 100
#: Most models the hypermodel step's builder may build.
MAX_BUILDS = 10

if "tensorflow" in sys.modules:  # the sandbox worker: prepare_worker imports TensorFlow first
    # keras-tuner once, before any part forks: each part saves the import, and what it
    # imports is loaded before the part's isolation hides anything.
    import keras_tuner  # noqa: F401


def space():
    """The search space, as the student's ``run_search`` is given it."""
    return {"learning_rate": list(LEARNING_RATES), "hidden_units": list(HIDDEN_UNITS)}


def tuner_seed(grade_seed):
    """The ``seed`` each search is given: the grade's seed + 1, because keras-tuner takes
    ``seed=0`` for "no seed" (it then draws one of its own). Training does not depend on
    it: the recording builder seeds every model with the grade's seed."""
    return int(grade_seed) + 1


def trials_expected(method):
    """Trials ``method`` must run: every combination for the grid, else its budget."""
    combinations = len(LEARNING_RATES) * len(HIDDEN_UNITS)
    return combinations if method == "grid" else MAX_TRIALS


# ------------------------------------------------------------------------ sandbox side

def _model_maker(ctx, module):
    """The grader's reference builder when grading; in the self-check the student's own
    ``search.build_search_model`` (Part 2's ``build_model`` has no ``hidden_units``)."""
    if ctx.use_reference_model:
        return ctx.model_maker()
    own = module.build_search_model

    def make(n_classes, *, optimizer="adam", learning_rate=0.001, input_dim=784,
             input_scale=None, hidden_units=250, **unused):
        return own(n_classes, learning_rate=learning_rate, hidden_units=hidden_units,
                   optimizer=optimizer, input_dim=input_dim)
    return make


def _n_classes(ctx):
    return int(max(np.max(ctx.data["y_train"]), np.max(ctx.data["y_val"]))) + 1


def _hp_space(hp):
    """What a ``HyperParameters`` object declares: ``[{"name", "class", "values"}]``."""
    declared = []
    for entry in list(getattr(hp, "space", []))[:20]:
        values = getattr(entry, "values", None)
        declared.append({
            "name": str(getattr(entry, "name", "?"))[:60],
            "class": type(entry).__name__[:40],
            "values": [probes._plain_number(v) for v in list(values)[:20]]
            if isinstance(values, (list, tuple)) else None,
        })
    return declared


def step_tunable_model(ctx):
    """``build_tunable_model`` twice: on a fresh ``HyperParameters`` (the space it declares,
    the model built with the first values), and on one preset to the last values (the model
    must be built with the values ``hp`` holds)."""
    import keras_tuner
    module = ctx.module("search")
    builder = probes.RecordingBuilder(_model_maker(ctx, module), ctx.profile.seed)
    calls = []
    fresh = keras_tuner.HyperParameters()
    preset = keras_tuner.HyperParameters()
    preset.values.update({"learning_rate": LEARNING_RATES[-1], "hidden_units": HIDDEN_UNITS[-1]})
    for hp in (fresh, preset):
        before = len(builder.models)
        model = module.build_tunable_model(hp, build_fn=builder, n_classes=_n_classes(ctx),
                                           learning_rates=LEARNING_RATES, hidden_units=HIDDEN_UNITS)
        calls.append({"returned": probes.value_record(model),
                      "is_model": isinstance(model, probes.keras.Model),
                      "builds": builder.models[before:][:MAX_BUILDS]})
    return {"space": _hp_space(fresh), "calls": calls}, {}


def _number(value, what):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                    np.floating)):
        raise probes.StepError(f"{what} should be a number, found {probes.described(value)}")
    number = float(value)
    return number if math.isfinite(number) else None


def _trial_json(entry, what):
    """One reported trial as ``{"learning_rate", "hidden_units", "val_accuracy"}``."""
    if not isinstance(entry, dict):
        raise probes.StepError(f"{what} should be a dict with 'hyperparameters' and "
                               f"'val_accuracy', found {probes.described(entry)}")
    values = entry.get("hyperparameters")
    if not isinstance(values, dict):
        raise probes.StepError(f"{what}['hyperparameters'] should be a dict "
                               "{'learning_rate': ..., 'hidden_units': ...}, found "
                               f"{probes.described(values)}")
    record = {}
    for name in ("learning_rate", "hidden_units"):
        if name not in values:
            raise probes.StepError(f"{what}['hyperparameters'] has no {name!r} (keys: "
                                   f"{sorted(map(str, values))[:10]})")
        record[name] = _number(values[name], f"{what}['hyperparameters'][{name!r}]")
    if "val_accuracy" not in entry:
        raise probes.StepError(f"{what} has no 'val_accuracy' (keys: "
                               f"{sorted(map(str, entry))[:10]})")
    record["val_accuracy"] = _number(entry["val_accuracy"], f"{what}['val_accuracy']")
    return record


def _result_json(result):
    """The returned ``{"trials": [...], "best": {...}}`` as plain records, or StepError."""
    if not isinstance(result, dict) or "trials" not in result or "best" not in result:
        raise probes.StepError("run_search should return a dict {'trials': [...], 'best': {...}}, "
                               f"found {probes.described(result)}")
    trials = result["trials"]
    if not isinstance(trials, (list, tuple)):
        raise probes.StepError("result['trials'] should be a list, found "
                               f"{probes.described(trials)}")
    if len(trials) > MAX_REPORTED_TRIALS:
        raise probes.StepError(f"result['trials'] holds {len(trials)} entries; the search ran a "
                               "handful of trials")
    return {"trials": [_trial_json(entry, f"result['trials'][{i}]") for i, entry in
                       enumerate(trials)],
            "best": _trial_json(result["best"], "result['best']")}


def run_search_step(ctx, method):
    """Call the student's ``run_search(method, ...)`` with the grader's normalized data, the
    search space and a recording ``build_fn``; record what it returned and every fit."""
    module = ctx.module("search")
    builder = probes.RecordingBuilder(_model_maker(ctx, module), ctx.profile.seed,
                                      ctx.known_arrays())
    directory = os.path.join(ctx.outdir, SEARCH_FOLDER)
    probes.keras.utils.set_random_seed(ctx.profile.seed)
    result = module.run_search(
        method, ctx.normalized("train"), ctx.data["y_train"], ctx.normalized("val"),
        ctx.data["y_val"], directory, learning_rates=LEARNING_RATES, hidden_units=HIDDEN_UNITS,
        max_trials=MAX_TRIALS, epochs=EPOCHS,
        seed=tuner_seed(ctx.profile.seed), build_fn=builder)
    reported, error = None, None
    try:
        reported = _result_json(result)
    except probes.StepError as problem:
        error = str(problem)
    value = {"method": method, "reported": reported, "result_error": error,
             "builder": builder.to_json()}
    return value, builder.arrays()


def step_grid_search(ctx):
    return run_search_step(ctx, "grid")


def step_random_search(ctx):
    return run_search_step(ctx, "random")


def step_bayesian_search(ctx):
    return run_search_step(ctx, "bayesian")


def step_search_answers(ctx):
    return choices.record_answers(ctx.module("search"), ctx.inputs.get("questions", [])), {}


# ------------------------------------------------------------------------ trusted side

def _build(method):
    def build(step, profile, data):
        from grader.parts.hyperparameter_search import trials  # trusted side only
        return trials.build_search(step, profile, data, method)
    return build


def _tunable_recorded(value, arrays, inputs):
    if not isinstance(value, dict) or not isinstance(value.get("space"), list) or \
            not isinstance(value.get("calls"), list) or len(value["calls"]) != 2:
        return "the declared space and the two calls of build_tunable_model"
    return None


def _trial_recorded(entry):
    return isinstance(entry, dict) and set(entry) == {"learning_rate", "hidden_units",
                                                      "val_accuracy"} and all(
        value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
        for value in entry.values())


def _search_recorded(method):
    def check(value, arrays, inputs):
        if not isinstance(value, dict) or value.get("method") != method or \
                not isinstance(value.get("builder"), dict):
            return f"the {method} search's result and the fits of its trials"
        reported = value.get("reported")
        if reported is not None and not (
                isinstance(reported, dict) and isinstance(reported.get("trials"), list)
                and len(reported["trials"]) <= MAX_REPORTED_TRIALS
                and all(map(_trial_recorded, reported["trials"]))
                and _trial_recorded(reported.get("best"))):
            return f"the {method} search's trials as the grader records them"
        return None
    return check


def _config_label(learning_rate, hidden_units):
    return f"lr{learning_rate:g}_units{hidden_units}"


PART = Part(
    title="hyperparameter search",
    graded_modules=("search",),
    steps=(step_tunable_model, step_grid_search, step_random_search, step_bayesian_search,
           step_search_answers),
    experiments={f"{method}_search": Sweep(
        setting="trial", settings=tuple(_config_label(lr, units) for lr in LEARNING_RATES
                                        for units in HIDDEN_UNITS),
        label="trial {}", metrics="hyperparameter_search", build=_build(method))
        for method in METHODS},
    record_checks={"tunable_model": _tunable_recorded,
                   **{f"{method}_search": _search_recorded(method) for method in METHODS},
                   "search_answers": choices.every_question},
    reference_builder=True,
    inputs=choices.questions,
)
