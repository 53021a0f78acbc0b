"""Part 11 (regularization): the trusted side's checks on hand-made records.

No model is trained here: each test gives the part's test cases records of the shape the
probes write (model descriptions, schedule values, augmented drawings, an early-stopped
run) and asks whether the right ones pass and each realistic mistake fails, with a
message that names it. The whole part, trained, is graded by tests/test_mutants.py and
tests/test_variants.py (tests/mutants/part_regularization.py, tests/variants/...).
"""

import dataclasses

import numpy as np
import pytest

from grader import artifacts, engine, parts, runs
from grader.parts import regularization as part
from grader.parts.regularization import tests as checks

SIDE = 28


def _cases():
    test_file = engine.ExceptionTestFile.from_file(str(parts.load("regularization").test_file))
    return {case.name.split()[0]: case for case in test_file.test_cases}


CASES = _cases()


def _run_case(test_id, env):
    return engine.run_case(CASES[test_id], env)


# ------------------------------------------------------------------------------ models

def _dense(units, activation, l2=None):
    regularizer = None if l2 is None else {"class_name": "L2", "l1": 0.0, "l2": l2}
    return {"class_name": "Dense", "units": units, "activation": activation,
            "kernel_regularizer": regularizer, "bias_regularizer": None, "rate": None}


def _layer(class_name, rate=None):
    return {"class_name": class_name, "units": None, "activation": None,
            "kernel_regularizer": None, "bias_regularizer": None, "rate": rate}


def reference_layers(n_classes, l2=0.0, dropout=0.0, batch_norm=False):
    """What the probe records for the reference's model with these options."""
    layers = [_dense(250, "sigmoid", l2 or None)]
    if batch_norm:
        layers.append(_layer("BatchNormalization"))
    if dropout:
        layers.append(_layer("Dropout", dropout))
    layers.append(_dense(n_classes, "softmax"))
    return layers


def _models_env(make_layers=reference_layers):
    value = {name: {"ok": True, "model": {"layers": make_layers(n_classes, **options),
                                          "output_shape": [None, n_classes]}}
             for name, n_classes, options in part.MODEL_CASES}
    return {"regularized_models": artifacts.Step("regularized_models", True, "", value=value)}


MODEL_TESTS = ("11.1", "11.2", "11.3", "11.4")


def _failed(env, test_ids):
    outcomes = {test_id: _run_case(test_id, env) for test_id in test_ids}
    return {test_id: message for test_id, (passed, message) in outcomes.items() if not passed}


def test_reference_models_pass():
    """Do the reference's model descriptions pass every model test?"""
    assert _failed(_models_env(), MODEL_TESTS) == {}


def _l2_on_output(n_classes, l2=0.0, dropout=0.0, batch_norm=False):
    layers = reference_layers(n_classes, 0.0, dropout, batch_norm)
    layers[-1] = _dense(n_classes, "softmax", l2 or None)
    return layers


def _dropout_last(n_classes, l2=0.0, dropout=0.0, batch_norm=False):
    layers = reference_layers(n_classes, l2, 0.0, batch_norm)
    return layers + ([_layer("Dropout", dropout)] if dropout else [])


def _norm_before_hidden(n_classes, l2=0.0, dropout=0.0, batch_norm=False):
    layers = reference_layers(n_classes, l2, dropout, False)
    return ([_layer("BatchNormalization")] if batch_norm else []) + layers


def _wrong_rate(n_classes, l2=0.0, dropout=0.0, batch_norm=False):
    return reference_layers(n_classes, l2, 0.5 if dropout else 0.0, batch_norm)


@pytest.mark.parametrize("make_layers, test_id, words", [
    (_l2_on_output, "11.2", "output layer"),
    (_dropout_last, "11.4", "before the output"),
    (_norm_before_hidden, "11.3", "directly after the hidden"),
    (_wrong_rate, "11.4", "Dropout(0.3)"),
])
def test_each_misplaced_layer_fails_its_own_test(make_layers, test_id, words):
    """Does each misplaced layer fail exactly its own model test, naming the mistake?"""
    failed = _failed(_models_env(make_layers), MODEL_TESTS)
    assert set(failed) == {test_id} and words.lower() in failed[test_id].lower(), failed


# ---------------------------------------------------------------------------- schedule

def _schedule_env(values, staircase=False):
    initial, decay_steps, rate = part.SCHEDULE_ARGUMENTS
    value = {"class_name": "ExponentialDecay", "values": values,
             "config": {"initial_learning_rate": initial, "decay_steps": decay_steps,
                        "decay_rate": rate, "staircase": staircase}}
    return {"schedule_values": artifacts.Step("schedule_values", True, "", value=value)}


def test_schedule_values():
    """Does an exact ExponentialDecay pass 11.5, and a staircase or per-step one fail?"""
    initial, decay_steps, rate = part.SCHEDULE_ARGUMENTS
    smooth = [initial * rate ** (step / decay_steps) for step in part.SCHEDULE_STEPS]
    assert _run_case("11.5", _schedule_env(smooth)) == (True, "passed")
    stairs = [initial * rate ** (step // decay_steps) for step in part.SCHEDULE_STEPS]
    passed, message = _run_case("11.5", _schedule_env(stairs, staircase=True))
    assert not passed and "staircase=False" in message
    per_step = [initial * rate ** step for step in part.SCHEDULE_STEPS]
    passed, message = _run_case("11.5", _schedule_env(per_step))
    assert not passed and "decay_rate ** (step / decay_steps)" in message


# ------------------------------------------------------------------------ augmentation

def _drawings(n=16, seed=0):
    """Drawings with ink up to the border (as half the grader's drawings have)."""
    rng = np.random.default_rng(seed)
    images = (rng.random((n, SIDE, SIDE)) < 0.15).astype(np.float32)
    return images.reshape(n, SIDE * SIDE)


def _moved(images, how, seed=1):
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    for i, image in enumerate(images.reshape(-1, SIDE, SIDE)):
        dy, dx = rng.integers(1, 3, size=2) * rng.choice([-1, 1], size=2)
        if how == "flat":
            out[i] = np.roll(image.reshape(-1), int(dx))
        elif how == "roll":
            out[i] = np.roll(image, (dy, dx), axis=(0, 1)).reshape(-1)
        else:
            out[i] = checks._shifted(image[None], int(dy), int(dx))[0].reshape(-1)
    return out


def test_shift_check_accepts_shifts_and_names_wrapping():
    """Is a zero-filled shift accepted, and are a 2-D roll and a flat roll each refused with
    their own hint?"""
    images = _drawings()
    checks._check_shifts(images, _moved(images, "shift"), "test")
    with pytest.raises(AssertionError, match="wraps around the edge"):
        checks._check_shifts(images, _moved(images, "roll"), "test")
    with pytest.raises(AssertionError, match="flat vector"):
        checks._check_shifts(images, _moved(images, "flat"), "test")


def test_rows_given_holds_each_run_to_the_subset():
    """Does a run count as trained on the grader's rows only with exactly those rows (the
    augmented run: those rows first, then as many more)?"""
    x, y = _drawings(10), np.arange(10) % 3

    def run(setting, x_fit, y_fit):
        made = runs.Run(setting=setting, label=setting, dir_name=setting)
        made.facts["trained_on"] = {"x": x_fit, "y": y_fit}
        return made

    assert part.rows_given(run("baseline", x, y), x, y)
    assert not part.rows_given(run("baseline", x[::-1], y[::-1]), x, y)
    assert not part.rows_given(run("baseline", x[:5], y[:5]), x, y)
    doubled = np.concatenate([x, _moved(x, "shift")]), np.concatenate([y, y])
    assert part.rows_given(run("augmented", *doubled), x, y)
    assert not part.rows_given(run("baseline", *doubled), x, y)


def test_trained_on_reads_saved_copies_and_the_graders_named_arrays():
    """A fit given one of the grader's own arrays is recorded by name, not copied (with a
    small grading profile the 200-row subset is the whole training split): the trusted side
    must read it from the grader's data, or every run counts as trained on other rows."""
    x, y = _drawings(4).astype(np.float32), np.arange(4) % 3
    known = {"x_train_normalized": x, "y_train": y}
    by_name = {"x": {"kind": "grader", "name": "x_train_normalized"},
               "y": {"kind": "grader", "name": "y_train"}}
    found = part._trained_on(by_name, {}, known)
    assert found["x"] is x and found["y"] is y
    saved = {"x": {"kind": "saved", "array": "fit0_x"}, "y": {"kind": "saved", "array": "fit0_y"}}
    found = part._trained_on(saved, {"fit0_x": x[:2], "fit0_y": y[:2]}, known)
    assert len(found["x"]) == len(found["y"]) == 2
    assert part._trained_on({"x": {"kind": "other"}}, {}, known) == {"x": None, "y": None}


def test_an_unshifted_augmented_copy_does_not_pass():
    """The augmented run must train on moved copies: the rows given twice (a red-team
    submission's "augmentation") lose 11.17 with a message that says so."""
    x, y = _drawings(10), np.arange(10) % 3
    passed, message = _run_case("11.17", _augmented_env(x, y, np.concatenate([x, x])))
    assert not passed and "0% moved" in message
    assert _run_case("11.17", _augmented_env(x, y, np.concatenate([x, _moved(x, "shift")]))) \
        == (True, "passed")


def _augmented_env(x, y, x_trained):
    """An experiment of one augmented run that trained on ``x_trained`` (labels twice)."""
    fit = {"model": 0, "epochs": part.EXPERIMENT["epochs"], "batch_size": 32,
           "x_val": {"kind": "grader", "name": "x_val_normalized"}}
    run = runs.Run(setting="augmented", label="the augmented run", dir_name="augmented",
                   history={"loss": [1.0]}, fit=fit, model={"n_classes": 10}, fit_index=0,
                   facts={"full_data": True, "steps_before": 0,
                          "trained_on": {"x": x_trained, "y": np.concatenate([y, y])}})
    experiment = runs.Experiment(name="regularization_experiment", setting_name="run",
                                 runs=[run], result_error=None, returned_keys=[], n_fits=1,
                                 n_models=1, epochs=part.EXPERIMENT["epochs"],
                                 n_train=len(x), n_val=40)
    return {"regularization_experiment": experiment, "regularization_subset": (x, y)}


def test_each_run_pairs_with_its_own_fit_in_any_order():
    """Does each run name match exactly one of the six fits the reference makes, whatever
    order they were made in (its model's options, its EarlyStopping, its doubled rows)?"""
    plain = {"l2": 0.0, "dropout": 0.0, "learning_rate": 0.01}
    rows = [part.SUBSET_ROWS, 784]
    records = {
        "baseline": ({"x_shape": rows}, plain),
        "l2": ({"x_shape": rows}, {**plain, "l2": 0.001}),
        "dropout": ({"x_shape": rows}, {**plain, "dropout": 0.7}),
        "early_stopping": ({"x_shape": rows, "early_stopping": {"class": "EarlyStopping"}}, plain),
        "schedule": ({"x_shape": rows},
                     {**plain, "learning_rate": {"schedule": "ExponentialDecay"}}),
        "augmented": ({"x_shape": [2 * part.SUBSET_ROWS, 784]}, plain),
    }
    for name in part.RUN_NAMES:
        assert [other for other, (fit, model) in reversed(records.items())
                if part.run_matches(name, fit, model)] == [name]
    # a run given two remedies matches none: it takes its returned position instead
    fit, model = {"x_shape": rows}, {**plain, "l2": 0.001, "dropout": 0.7}
    assert not any(part.run_matches(name, fit, model) for name in part.RUN_NAMES)


# ---------------------------------------------------------------------- early stopping

def _early_stopped(val_losses, restore=True, monitor="val_loss"):
    """An early_stopping run whose final weights give val loss ``own`` on the data below."""
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.05, (784, 250)), np.zeros(250), rng.normal(0, 0.5, (250, 10)),
               np.zeros(10)]
    x_val = rng.random((40, 784)).astype(np.float32)
    y_val = rng.integers(0, 10, 40)
    own = checks._cross_entropy(weights, x_val, y_val)
    history = {"loss": [1.0] * len(val_losses), "accuracy": [0.5] * len(val_losses),
               "val_loss": [own + delta for delta in val_losses],
               "val_accuracy": [0.5] * len(val_losses)}
    fit = {"model": 0, "epochs": part.EXPERIMENT["epochs"], "batch_size": 32,
           "x_val": {"kind": "grader", "name": "x_val_normalized"},
           "early_stopping": {"class": "EarlyStopping", "monitor": monitor,
                              "patience": part.EXPERIMENT["patience"],
                              "restore_best_weights": restore}}
    run = runs.Run(setting="early_stopping", label="the early_stopping run",
                   dir_name="early_stopping", history=history, fit=fit, weights=weights,
                   model={"n_classes": 10, "learning_rate": 0.01}, fit_index=0,
                   facts={"full_data": True, "steps_before": 0})
    experiment = runs.Experiment(name="regularization_experiment", setting_name="run",
                                 runs=[run], result_error=None, returned_keys=[], n_fits=1,
                                 n_models=1, epochs=part.EXPERIMENT["epochs"],
                                 n_train=part.SUBSET_ROWS, n_val=40)
    return {"regularization_experiment": experiment,
            "regularization_subset": (None, None),
            "regularization_validation": (x_val, y_val)}


def test_restored_weights_are_judged_by_their_own_validation_loss():
    """Do final weights that give the best epoch's val_loss pass 11.15, and ones that give
    the last epoch's fail it, naming restore_best_weights?"""
    assert _run_case("11.15", _early_stopped([0.2, 0.0, 0.05, 0.08])) == (True, "passed")
    passed, message = _run_case("11.15", _early_stopped([0.2, -0.1, -0.05, 0.0]))
    assert not passed and "the last epoch's" in message and "restore_best_weights" in message
    passed, message = _run_case("11.15", _early_stopped([0.2, 0.0, 0.05], restore=False))
    assert not passed and "restore_best_weights=True" in message


def test_restore_is_not_judged_when_training_loss_is_watched():
    """Is a run that watched the training loss left to 11.14 (one mistake, one test)?"""
    env = _early_stopped([0.2, -0.1, 0.0], monitor="loss")
    assert _run_case("11.15", env) == (True, "passed")
    passed, message = _run_case("11.14", {**env, "thresholds": None})
    assert not passed and 'monitor="val_loss"' in message


def test_record_shapes():
    """Does the part declare what the engine needs: its steps, the experiment's named runs
    and the values its test cases take?"""
    declared = parts.load("regularization")
    assert declared.step_names == ("regularized_models", "schedule_values", "augmentation",
                                   "regularization_experiment", "regularization_answers")
    assert runs.NAMED_RUNS and "run" in runs.NAMED_RUNS
    assert set(declared.provides) == {"augment_given", "regularization_subset",
                                      "regularization_validation"}
    assert dataclasses.asdict(declared.experiments["regularization_experiment"])["settings"] == \
        part.RUN_NAMES
