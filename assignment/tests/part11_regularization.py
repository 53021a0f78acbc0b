"""Part 11: fighting overfitting and tuning the schedule. Otter exception-based test file.

11.1-11.4 judge the models ``build_regularized_model`` builds (one property each: the
plain model, L2 on the hidden kernel, batch normalization after the hidden layer, dropout
before the output); 11.5 ``make_schedule``; 11.6-11.8 the augmentation, every expected
value computed here from the grader's own drawings; 11.9-11.17 the experiment, whose runs
the grader re-trained itself (``grader.replay``): every figure is read from that replay's
history and from the verified weights, never from what the part claimed; 11.18-11.21 the
answers.

The experiment trains on a small subset of the training split (``SUBSET_ROWS`` rows, see
the part's ``__init__.py``); ``_as_given`` holds each run to the rows the grader passed in,
read from the part's saved copies on the trusted side.
"""

import dataclasses
import math

import numpy as np
from otter.test_files import test_case

from grader import evaluate
from grader import experiment_checks as ex
from grader.checks import check, check_at_least, check_step, fail, shown
from grader.choices import choice as _answer
from grader.parts.regularization import (EXPERIMENT, MODEL_CASES, SCHEDULE_ARGUMENTS,
                                         SCHEDULE_STEPS, SUBSET_ROWS, final_gap,
                                         hidden_weight_ratio)

OK_FORMAT = False
name = "Part 11: regularization"

SIDE = 28
MAX_SHIFT = 2
#: Share of the inked drawings augment_drawings must move (a (0, 0) shift moves none).
MIN_MOVED = 0.8
#: Relative tolerance between the grader's cross-entropy of the final weights (float64)
#: and the val_loss Keras logged for an epoch (float32).
VAL_LOSS_TOLERANCE = 2e-3
EPOCHS = EXPERIMENT["epochs"]


# ------------------------------------------------------------------------------ models

def _call(case):
    n_classes, options = next((n, o) for name, n, o in MODEL_CASES if name == case)
    shown_options = "".join(f", {key}={value!r}" for key, value in options.items())
    return f"build_regularized_model({n_classes}{shown_options})"


def _layers(step, case):
    """The layers of the model built for ``case``; fails when the call raised."""
    check_step(step)
    entry = step.value.get(case) or {}
    if not entry.get("ok"):
        error = entry.get("error") or {}
        fail(f"{_call(case)} to return a model", f"an error: {error.get('summary', '?')}"
             + (f"\n{error['traceback']}" if error.get("traceback") else ""))
    return entry["model"]["layers"]


def _classes(layers):
    return [layer["class_name"] for layer in layers]


def _dense(layers):
    return [index for index, layer in enumerate(layers) if layer["class_name"] == "Dense"]


def _written(layers):
    return " -> ".join(layer["class_name"] for layer in layers) or "no layers"


@test_case(name="11.1 with no options, the plain required model (no regularizer, batch norm "
                "or dropout)", points=1, hidden=False)
def test_plain_model(regularized_models):
    layers = _layers(regularized_models, "default")
    dense = _dense(layers)
    check(len(dense) == 2 and layers[dense[0]]["units"] == 250 and
          layers[dense[-1]]["units"] == 10,
          f"{_call('default')}: Dense(250, sigmoid) -> Dense(10, softmax)", _written(layers),
          "build the required model; add the other layers only when their option asks for them")
    extra = [cls for cls in _classes(layers) if cls in ("BatchNormalization", "Dropout")]
    check(not extra, f"{_call('default')} without BatchNormalization or Dropout layers",
          _written(layers), "add BatchNormalization only when batch_norm=True and Dropout only "
          "when dropout > 0")
    regularized = [layer["class_name"] for layer in layers if layer["kernel_regularizer"]]
    check(not regularized, f"{_call('default')} without a kernel regularizer (l2=0)",
          f"a regularizer on {', '.join(regularized)}", "pass kernel_regularizer only when l2 > 0")


@test_case(name="11.2 L2 on the hidden layer's kernel, with the factor asked for", points=2,
           hidden=False)
def test_l2_on_hidden(regularized_models):
    for case in ("everything", "l2_only"):
        factor = dict(next(o for n, _, o in MODEL_CASES if n == case))["l2"]
        layers = _layers(regularized_models, case)
        dense = _dense(layers)
        check(len(dense) >= 2, f"{_call(case)} to have a hidden and an output Dense layer",
              _written(layers))
        hidden, output = layers[dense[0]], layers[dense[-1]]
        found = hidden["kernel_regularizer"]
        check(found is not None, f"{_call(case)}: the hidden Dense layer with "
              f"kernel_regularizer=keras.regularizers.L2({factor})",
              "no kernel regularizer on the hidden layer" + (
                  " (but one on the output layer)" if output["kernel_regularizer"] else ""),
              "pass kernel_regularizer=keras.regularizers.L2(l2) to the hidden Dense layer")
        check(math.isclose(found["l2"], factor, rel_tol=1e-5) and found["l1"] == 0.0,
              f"an L2 factor of {factor} (and no L1)",
              f"{found['class_name']} with l2={found['l2']:g}, l1={found['l1']:g}",
              "pass the l2 argument itself: keras.regularizers.L2(l2)")
        on_output = output["kernel_regularizer"]
        check(on_output is None, f"{_call(case)}: no regularizer on the output layer (only the "
              "hidden kernel is regularized)",
              f"{(on_output or {}).get('class_name')} on the output layer",
              "regularize the hidden Dense layer only")


@test_case(name="11.3 BatchNormalization right after the hidden layer", points=1, hidden=False)
def test_batch_norm_place(regularized_models):
    for case in ("everything", "batch_norm_only"):
        layers = _layers(regularized_models, case)
        classes = _classes(layers)
        dense = _dense(layers)
        check("BatchNormalization" in classes, f"{_call(case)} to have a BatchNormalization "
              "layer", _written(layers), "append keras.layers.BatchNormalization() when "
              "batch_norm is True")
        check(bool(dense) and classes.index("BatchNormalization") == dense[0] + 1,
              f"{_call(case)}: BatchNormalization directly after the hidden Dense layer",
              _written(layers), "put it between the hidden layer and the (dropout and) output")
    for case in ("default", "l2_only", "dropout_only"):
        layers = _layers(regularized_models, case)
        check("BatchNormalization" not in _classes(layers),
              f"{_call(case)} without BatchNormalization", _written(layers),
              "add it only when batch_norm=True")


@test_case(name="11.4 Dropout with the rate asked for, right before the output layer", points=1,
           hidden=False)
def test_dropout_place(regularized_models):
    for case in ("everything", "dropout_only"):
        rate = dict(next(o for n, _, o in MODEL_CASES if n == case))["dropout"]
        layers = _layers(regularized_models, case)
        classes = _classes(layers)
        dense = _dense(layers)
        check("Dropout" in classes, f"{_call(case)} to have a Dropout layer", _written(layers),
              "append keras.layers.Dropout(dropout) when dropout > 0")
        where = classes.index("Dropout")
        check(bool(dense) and where == dense[-1] - 1,
              f"{_call(case)}: Dropout directly before the output Dense layer",
              _written(layers), "dropout after the softmax would zero class probabilities: put "
              "it between the hidden layer (or its batch normalization) and the output layer")
        found = layers[where]["rate"]
        check(found is not None and math.isclose(found, rate, rel_tol=1e-6),
              f"Dropout({rate})", f"Dropout({found})", "pass the dropout argument as the rate")
    for case in ("default", "l2_only", "batch_norm_only"):
        layers = _layers(regularized_models, case)
        check("Dropout" not in _classes(layers), f"{_call(case)} without Dropout",
              _written(layers), "add it only when dropout > 0")


# ---------------------------------------------------------------------------- schedule

def _expected_rates(initial, decay_steps, decay_rate, steps):
    return [initial * decay_rate ** (step / decay_steps) for step in steps]


@test_case(name="11.5 make_schedule: an ExponentialDecay that decays per optimizer step",
           points=1, hidden=False)
def test_make_schedule(schedule_values):
    check_step(schedule_values)
    found = schedule_values.value
    call = "make_schedule({}, {}, {})".format(*SCHEDULE_ARGUMENTS)
    check(found["class_name"] == "ExponentialDecay",
          f"{call} to return keras.optimizers.schedules.ExponentialDecay",
          f"a {found['class_name']}", "return keras.optimizers.schedules.ExponentialDecay(...)")
    values = found.get("values")
    check(values is not None, f"{call}(step) to give a learning rate",
          found.get("values_error", "none"))
    expected = _expected_rates(*SCHEDULE_ARGUMENTS, SCHEDULE_STEPS)
    same = all(math.isclose(a, b, rel_tol=1e-4) for a, b in zip(values, expected))
    staircase = found["config"].get("staircase")
    check(same, f"the learning rates {[round(v, 6) for v in expected]} at optimizer steps "
          f"{list(SCHEDULE_STEPS)}", f"{[round(v, 6) for v in values]}",
          "staircase=False (smooth decay), and pass the three arguments in their order"
          if staircase else "initial_learning_rate * decay_rate ** (step / decay_steps): pass "
          "the three arguments as they are")


# ------------------------------------------------------------------------ augmentation

def _shifted(images, dy, dx):
    """``images`` (n, 28, 28) moved down by dy and right by dx, blank paper moved in."""
    out = np.zeros_like(images)
    rows_to = slice(max(dy, 0), SIDE + min(dy, 0))
    rows_from = slice(max(-dy, 0), SIDE + min(-dy, 0))
    cols_to = slice(max(dx, 0), SIDE + min(dx, 0))
    cols_from = slice(max(-dx, 0), SIDE + min(-dx, 0))
    out[:, rows_to, cols_to] = images[:, rows_from, cols_from]
    return out


def _offsets():
    return [(dy, dx) for dy in range(-MAX_SHIFT, MAX_SHIFT + 1)
            for dx in range(-MAX_SHIFT, MAX_SHIFT + 1)]


def _match(originals, augmented, move):
    """Per row: does ``augmented`` equal ``move(originals, dy, dx)`` for some small offset?"""
    square = originals.reshape(-1, SIDE, SIDE).astype(np.float64)
    found = augmented.reshape(-1, SIDE, SIDE).astype(np.float64)
    matched = np.zeros(len(square), dtype=bool)
    for dy, dx in _offsets():
        moved = move(square, dy, dx)
        matched |= np.all(np.abs(moved - found) <= 1e-6, axis=(1, 2))
    return matched


def _rolled(images, dy, dx):
    return np.roll(images, (dy, dx), axis=(1, 2))


def _check_shifts(originals, augmented, what):
    """Every row of ``augmented`` is its original moved by at most MAX_SHIFT pixels."""
    shifted = _match(originals, augmented, _shifted)
    if shifted.all():
        return
    first = int(np.argmin(shifted))
    wrapped = _match(originals, augmented, _rolled)
    flat = np.zeros(len(originals), dtype=bool)
    for shift in range(-MAX_SHIFT * (SIDE + 1), MAX_SHIFT * (SIDE + 1) + 1):
        flat |= np.all(np.abs(np.roll(originals, shift, axis=1) - augmented) <= 1e-6, axis=1)
    hint = ("move each 28 x 28 drawing by a whole (dy, dx) of at most 2 pixels each way, "
            "filling the uncovered border with 0")
    if wrapped[first]:
        hint = ("the drawing wraps around the edge (np.roll moves the pixels that leave one "
                "side back in on the other): fill the uncovered border with 0 instead")
    elif flat[first]:
        hint = ("each row was rolled as a flat vector of 784 pixels, so the drawing's lines "
                "wrap into the next row: reshape to (n, 28, 28) before shifting")
    fail(f"{what}: every drawing to be its original moved by at most {MAX_SHIFT} pixels up/down "
         "and left/right (blank paper moved in)",
         f"{int((~shifted).sum())} of {len(shifted)} drawings that are not (the first: row "
         f"{first})", hint)


def _augmentation_arrays(augmentation):
    check_step(augmentation)
    return augmentation.arrays


@test_case(name="11.6 augment_drawings: same shape, dtype and value range, input unchanged, "
                "one seed one result", points=1, hidden=False)
def test_augment_form(augmentation, augment_given):
    arrays = _augmentation_arrays(augmentation)
    x, _ = augment_given
    first = arrays["first"]
    check(first.shape == x.shape, f"augment_drawings(images of shape {x.shape}) to return the "
          "same shape", f"{first.shape}", "return one augmented row of 784 pixels per drawing")
    check(first.dtype == x.dtype, f"dtype {x.dtype}", f"{first.dtype}",
          "keep the dtype of the input (e.g. with .astype(images.dtype))")
    low, high = float(np.min(first)), float(np.max(first))
    check(bool(np.all(np.isfinite(first))) and low >= float(x.min()) and high <= float(x.max()),
          f"values within the input's range [{x.min():g}, {x.max():g}]",
          f"values from {low:.4g} to {high:.4g}", "move pixels; do not change their values")
    check(np.array_equal(arrays["input_after"], x), "the images passed in to be unchanged",
          "changed input images", "work on a copy (np.pad and slicing make new arrays)")
    check(np.array_equal(arrays["again"], first), "the same result for the same seed",
          "two different results", "draw the shifts from np.random.default_rng(seed)")
    check(not np.array_equal(arrays["other"], first), "another result for another seed",
          "the same result", "draw the shifts from np.random.default_rng(seed), not a fixed one")


@test_case(name="11.8 augmented_training_set: the originals, then their shifted copies, labels "
                "kept", points=1, hidden=False)
def test_augmented_training_set(augmentation, augment_given):
    arrays = _augmentation_arrays(augmentation)
    x, y = augment_given
    outcome = augmentation.value["training_set"]
    if "error" in outcome:
        fail("augmented_training_set(x, y, seed) to return (x_augmented, y_augmented)",
             f"an error: {outcome['error'].get('summary', '?')}")
    check("not_a_pair" not in outcome, "a pair (x_augmented, y_augmented)",
          shown(outcome.get("not_a_pair")), "return x_augmented, y_augmented")
    set_x, set_y = arrays["set_x"], arrays["set_y"]
    n = len(x)
    check(set_x.shape == (2 * n, x.shape[1]) and set_y.shape == (2 * n,),
          f"shapes {(2 * n, x.shape[1])} and {(2 * n,)}", f"{set_x.shape} and {set_y.shape}",
          "concatenate the originals and one augmented copy of each")
    check(np.array_equal(set_x[:n], x), "the first n rows to be the original drawings",
          "other rows", "np.concatenate([x, augment_drawings(x, seed)])")
    check(np.array_equal(set_x[n:], arrays["first"]),
          "the last n rows to be augment_drawings(x, seed)", "other rows",
          "np.concatenate([x, augment_drawings(x, seed)]) with the seed given")
    check(np.array_equal(set_y, np.concatenate([y, y])),
          "the labels to be y twice (a shifted drawing keeps its label)",
          "other labels", "np.concatenate([y, y]), in the order of the drawings")


# -------------------------------------------------------------------------- experiment

def _option(run, key, default):
    """An option the run's model was built with (recorded by the grader's builder)."""
    return (run.model or {}).get(key, default)


def _early_stopping(fit):
    """The EarlyStopping configuration a fit was given, or None."""
    recorded = (fit or {}).get("early_stopping")
    if isinstance(recorded, dict):
        return recorded
    for callback in (fit or {}).get("callbacks") or []:
        if isinstance(callback, dict) and callback.get("class_name") == "EarlyStopping":
            return callback.get("config") or callback
    return None


def _as_given(experiment, subset_xy):
    """The experiment as the shared checks must see it: each run's epochs are the epochs
    it really trained (the early_stopping run's replay ends before its budget, kept in
    ``fit["budget"]``). The rows each run trained on are judged by the part's
    ``build_experiment`` (``facts["full_data"]``)."""
    runs = []
    for run in experiment.runs:
        if run.fit is None:
            runs.append(run)
            continue
        fit = dict(run.fit)
        trained = len((ex.trusted_history(experiment, run) or {}).get("loss") or [])
        fit["budget"] = fit.get("epochs")
        if _early_stopping(fit) is not None and trained:
            fit["epochs"] = trained
        runs.append(dataclasses.replace(run, fit=fit))
    return dataclasses.replace(experiment, runs=runs)


def _run(experiment, setting):
    return experiment.run(setting)


def _model_problems(run):
    """How ``run``'s model differs from what its name asks for."""
    wanted = {"l2": EXPERIMENT["l2"] if run.setting == "l2" else 0.0,
              "dropout": EXPERIMENT["dropout"] if run.setting == "dropout" else 0.0}
    problems = []
    for key, value in wanted.items():
        found = _option(run, key, 0.0)
        if not isinstance(found, (int, float)) or not math.isclose(found, value, abs_tol=1e-12,
                                                                   rel_tol=1e-6):
            problems.append((f"the model for {run.label} built with {key}={value:g}",
                             f"{key}={found!r}", f"pass {key}={key} to build_fn for this run "
                             "only" if value else f"leave {key} out of this run's build_fn call"))
    if _option(run, "batch_norm", False):
        problems.append((f"the model for {run.label} without batch normalization",
                         "batch_norm=True", "leave batch_norm out of build_fn"))
    rate = _option(run, "learning_rate", None)
    if run.setting != "schedule" and not (isinstance(rate, (int, float)) and math.isclose(
            rate, EXPERIMENT["learning_rate"], rel_tol=1e-6)):
        problems.append((f"the model for {run.label} built with "
                         f"learning_rate={EXPERIMENT['learning_rate']:g}",
                         f"learning_rate={rate!r}", "pass learning_rate=learning_rate to build_fn"))
    return problems


def _fit_problems(run):
    fit = run.fit
    problems = []
    budget = fit.get("budget", fit.get("epochs"))
    if budget != EPOCHS:
        problems.append((f"epochs={EPOCHS} for {run.label}", f"epochs={budget!r}",
                         "pass epochs=epochs to fit (early stopping ends the run sooner "
                         "by itself)"))
    if fit.get("batch_size") not in (EXPERIMENT["batch_size"],) and not (
            fit.get("batch_size") is None and EXPERIMENT["batch_size"] == 32):
        problems.append((f"batch_size={EXPERIMENT['batch_size']} for {run.label}",
                         f"batch_size={fit.get('batch_size')!r}", "pass batch_size=batch_size"))
    if fit.get("x_val") is None:
        problems.append((f"validation_data=(x_val, y_val) for {run.label}", "none",
                         "pass validation_data=(x_val, y_val) to fit"))
    return problems


def _as_asked(experiment, run):
    """Did ``run`` train a fresh model, as asked, verified by the replay?"""
    if run.fit is None or run.facts.get("steps_before") != 0 or \
            ex.unverified(experiment, run):
        return False
    return not _model_problems(run) and not _fit_problems(run)


@test_case(name="11.9 one history per run", points=1, hidden=False)
def test_experiment_histories(regularization_experiment, regularization_subset):
    ex.check_histories(_as_given(regularization_experiment, regularization_subset))


@test_case(name="11.10 a fresh model per run, built and trained with that run's settings",
           points=2, hidden=False)
def test_experiment_settings(regularization_experiment, regularization_subset):
    experiment = _as_given(regularization_experiment, regularization_subset)
    ex.check_fresh_models(experiment)
    for run in experiment.runs:
        problems = _model_problems(run) + _fit_problems(run)
        if problems:
            fail(*problems[0])


@test_case(name="11.11 each run logged to log_dir/<name>, the logs equal to the histories",
           points=1, hidden=False)
def test_experiment_logs(regularization_experiment, regularization_subset):
    experiment = _as_given(regularization_experiment, regularization_subset)
    ex.check_run_dirs(experiment)
    ex.check_logs_match_history(experiment)


def _validates_as_given(run):
    """Did ``run`` validate on the grader's own (normalized) x_val, as given?"""
    reference = (run.fit or {}).get("x_val")
    return isinstance(reference, dict) and reference.get("kind") == "grader" and \
        reference.get("name") == "x_val_normalized"


def _es_run(experiment):
    run = _run(experiment, "early_stopping")
    config = _early_stopping(run.fit)
    given = ", ".join(map(str, (run.fit or {}).get("callbacks") or []))
    check(config is not None, "keras.callbacks.EarlyStopping among the early_stopping run's "
          "callbacks", f"the callbacks {given}" if given else "no callbacks",
          "pass callbacks=[EarlyStopping(...), TensorBoard(...)] to fit")
    return run, config


@test_case(name="11.14 early stopping watches val_loss with the patience asked for, and stops "
                "before the epoch budget", points=1, hidden=False)
def test_early_stopping_stops(regularization_experiment, regularization_subset, thresholds):
    experiment = _as_given(regularization_experiment, regularization_subset)
    ex.require_verified(experiment)
    run, config = _es_run(experiment)
    check(config.get("monitor") == "val_loss", 'EarlyStopping(monitor="val_loss")',
          f"monitor={config.get('monitor')!r}", "stop on the validation loss, not the training "
          "loss")
    check(config.get("patience") == EXPERIMENT["patience"],
          f"EarlyStopping(patience={EXPERIMENT['patience']})",
          f"patience={config.get('patience')!r}", "pass patience=patience")
    if not _as_asked(experiment, run) or thresholds is None or thresholds.stats(
            "regularization.early_stopping.stopped_early")["min"] < 1.0:
        return  # a mis-set run is 11.10's to report; the self-check has no reference
        # figures; the reference itself does not always stop early: no requirement
    trained = len(ex.trusted_history(experiment, run)["loss"])
    check(trained < EPOCHS, f"the early_stopping run to stop before its {EPOCHS}-epoch budget",
          f"{trained} epochs", "check the monitor, the patience and min_delta (leave it 0)")


def _cross_entropy(weights, x, y):
    probabilities = evaluate.predict_proba(weights, x)
    picked = np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1.0 - 1e-7)
    return -float(np.log(picked).mean())


@test_case(name="11.16 the schedule run's learning rate decays once per epoch, as logged",
           points=2, hidden=False)
def test_schedule_run(regularization_experiment, regularization_subset):
    experiment = _as_given(regularization_experiment, regularization_subset)
    ex.require_verified(experiment)
    run = _run(experiment, "schedule")
    rate = _option(run, "learning_rate", None)
    steps_per_epoch = math.ceil(SUBSET_ROWS / EXPERIMENT["batch_size"])
    wanted = {"initial_learning_rate": EXPERIMENT["learning_rate"],
              "decay_steps": steps_per_epoch, "decay_rate": EXPERIMENT["decay_rate"]}
    asked = "learning_rate=make_schedule({initial_learning_rate:g}, {decay_steps}, " \
            "{decay_rate:g})".format(**wanted)
    check(isinstance(rate, dict), f"the schedule run's model built with {asked}",
          f"learning_rate={rate!r}", "pass the schedule itself as build_fn's learning_rate")
    for key, value in wanted.items():
        found = rate.get(key)
        hint = "pass the learning rate, the steps of one epoch and decay_rate"
        if key == "decay_steps":
            hint = (f"decay_steps counts optimizer steps: one epoch is ceil({SUBSET_ROWS} / "
                    f"{EXPERIMENT['batch_size']}) = {steps_per_epoch} of them")
        check(isinstance(found, (int, float)) and math.isclose(found, value, rel_tol=1e-6),
              f"{asked} ({key}={value:g})", f"{key}={found!r}", hint)
    check(not rate.get("staircase"), "staircase=False", "staircase=True",
          "use make_schedule's ExponentialDecay as it is")
    if run.log is None:
        fail(f"TensorBoard logs in log_dir/{run.dir_name}", run.log_error or "none")
    logged = run.log.scalars.get(("train", "epoch_learning_rate")) or {}
    series = [logged[step] for step in sorted(logged)]
    trained = len((ex.trusted_history(experiment, run) or {}).get("loss") or [])
    expected = [wanted["initial_learning_rate"] * wanted["decay_rate"] ** (epoch + 1)
                for epoch in range(trained)]
    check(len(series) == len(expected) and all(
        math.isclose(a, b, rel_tol=1e-4) for a, b in zip(series, expected)),
          f"the logged epoch_learning_rate {[round(v, 6) for v in expected]} (multiplied by "
          f"{wanted['decay_rate']:g} each epoch)", f"{[round(v, 6) for v in series]}",
          "log the run with keras.callbacks.TensorBoard(log_dir/schedule): it records the "
          "optimizer's learning rate after every epoch")


# ----------------------------------------------------------------------------- answers
