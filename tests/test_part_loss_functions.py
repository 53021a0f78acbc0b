"""Part 9 (loss functions): the grader's own expected values are keras.losses' values.

The part's test file computes every expected value with NumPy in the grader's process
(which never imports TensorFlow). Here, once, Keras computes the same losses on the same
inputs (in float64, as the part asks) and TensorFlow's autodiff the same gradients; each
value test of the part is then run on those numbers: it must pass on them, and fail when
they are off by 1%.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from grader import artifacts, calibration, config, engine, parts
from grader.parts import loss_functions as part


def _keras_number(loss, y_true, y_pred):
    return {"number": float(np.asarray(loss(np.asarray(y_true), np.asarray(y_pred))))}


def _keras_outputs():
    mse = keras.losses.MeanSquaredError(dtype="float64")
    outputs = {"squared_error_values": [_keras_number(mse, t, p) for t, p in part.MSE_CASES]}
    for step, loss_class, cases in (
            ("binary_ce_values", keras.losses.BinaryCrossentropy, part.BCE_CASES),
            ("sparse_ce_values", keras.losses.SparseCategoricalCrossentropy, part.SCCE_CASES)):
        outputs[step] = [_keras_number(loss_class(from_logits=logits, dtype="float64"),
                                       np.array(t, dtype=np.float64), np.array(p, dtype=np.float64))
                         for t, p, logits, _ in cases]
    outputs["logit_gradient_values"] = [_tape_gradients(z, label) for z, label in part.GRADIENT_CASES]
    return outputs


def _tape_gradients(logits, label):
    """Both gradients with respect to the logits, by tf.GradientTape on keras.losses."""
    z = tf.Variable(np.array([logits], dtype=np.float64))
    one_hot = np.eye(len(logits))[[label]]
    with tf.GradientTape(persistent=True) as tape:
        cross_entropy = keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, dtype="float64")(np.array([label]), z)
        mse = keras.losses.MeanSquaredError(dtype="float64")(one_hot, tf.nn.softmax(z))
    record = {"keys": ["cross_entropy", "mse"]}
    for key, loss in (("cross_entropy", cross_entropy), ("mse", mse)):
        gradient = tape.gradient(loss, z).numpy()[0]
        record[key] = {"shape": [len(logits)], "values": gradient.tolist()}
    return record


@pytest.fixture(scope="module")
def keras_outputs():
    return _keras_outputs()


def _env(outputs):
    env = {name: artifacts.Step(name, True, "", value={"outputs": values})
           for name, values in outputs.items()}
    env["sources"] = {"losses": "import numpy as np\n"}
    return env


def _value_cases():
    cases = engine.ExceptionTestFile.from_file(str(parts.load("loss_functions").test_file)).test_cases
    return [case for case in cases if not {"loss_concept_answers", "loss_comparison"}
            & set(engine.case_parameters(case))]


def test_keras_values_pass_every_value_test(keras_outputs):
    """Do the part's expected values (NumPy, in the grader) equal keras.losses' and
    tf.GradientTape's on the part's inputs, extremes included?"""
    env = _env(keras_outputs)
    results = {case.name: engine.run_case(case, env) for case in _value_cases()}
    assert len(results) == 10  # 9.1-9.9 and 9.12
    assert {name: message for name, (passed, message) in results.items() if not passed} == {}


def test_values_off_by_one_percent_fail(keras_outputs):
    """Can every value test fail: do values 1% off keras' fail them?"""
    off = {step: [dict(output, number=output["number"] * 1.01) if "number" in output else
                  {**output, **{key: {"shape": output[key]["shape"],
                                      "values": [v * 1.01 + 1e-3 for v in output[key]["values"]]}
                                for key in ("cross_entropy", "mse")}}
                  for output in outputs]
           for step, outputs in keras_outputs.items()}
    env = _env(off)
    for case in _value_cases():
        if case.name.split()[0] in ("9.2", "9.3"):  # the form tests: any finite number passes
            continue
        passed, message = engine.run_case(case, env)
        assert not passed and message.startswith("Expected"), (case.name, message)


def test_the_gradients_show_why_mse_learns_slowly(keras_outputs):
    """On the confidently wrong cases, is keras' cross-entropy gradient large and MSE's
    through the softmax tiny (the claim 9.9 and MSE_ON_SOFTMAX rest on)?"""
    for index in part.CONFIDENTLY_WRONG:
        record = keras_outputs["logit_gradient_values"][index]
        assert np.abs(record["cross_entropy"]["values"]).max() > 0.9
        assert np.abs(record["mse"]["values"]).max() < 0.01


def test_numpy_only_check_names_the_import(keras_outputs):
    """Does a losses.py that imports Keras earn none of the computed values, with the line
    named?"""
    env = _env(keras_outputs)
    env["sources"] = {"losses": "import numpy as np\nfrom keras import losses as kl\n"}
    for case in _value_cases():
        passed, message = engine.run_case(case, env)
        assert not passed and "'keras' on line 2" in message, (case.name, message)


# ---------------------------------------------------------------- the loss experiment

def _loss_run(setting, *, loss, labels, val_labels=None, model=0, accuracy=0.8):
    from grader import runs
    profile = config.GRADE
    settings = part.experiment_settings(profile)
    steps = settings["epochs"] * -(-profile.n_train // settings["batch_size"])
    return runs.Run(
        setting=setting, label=f"the {setting} run", dir_name=setting,
        model={"optimizer": settings["optimizer"], "learning_rate": settings["learning_rate"],
               "loss": loss},
        fit={"model": model, "epochs": settings["epochs"], "batch_size": settings["batch_size"]},
        held_out_accuracy=accuracy, verified=True,
        facts={"x_rows": profile.n_train, "val_rows": profile.n_val, "steps": steps,
               "steps_before": 0, "full_data": True, "labels": labels,
               "val_labels": val_labels or labels})


def _loss_experiment(*runs_):
    from grader import runs
    profile = config.GRADE
    return runs.Experiment(name="loss_comparison", setting_name="run", runs=list(runs_),
                           result_error=None, returned_keys=[], n_fits=len(runs_),
                           n_models=len(runs_), epochs=part.experiment_settings(profile)["epochs"], n_train=profile.n_train,
                           n_val=profile.n_val, verifiable=True)


def _loss_case(number):
    cases = engine.ExceptionTestFile.from_file(str(parts.load("loss_functions").test_file)).test_cases
    return next(case for case in cases if case.name.startswith(f"{number} "))


AS_ASKED = {"cross_entropy": dict(loss="sparse_categorical_crossentropy", labels="labels"),
            "mean_squared_error": dict(loss="mean_squared_error", labels="one_hot", model=1)}
GAP_THRESHOLDS = {"loss_experiment.accuracy_gap": {"min": 0.36, "max": 0.49, "std": 0.05,
                                                    "mean": 0.44},
                  "loss_experiment.cross_entropy.held_out_accuracy":
                      {"min": 0.79, "max": 0.85, "std": 0.02, "mean": 0.82}}


@pytest.mark.parametrize("mse_run, says", [
    (dict(loss="mean_squared_error", labels="labels", model=1), "one-hot"),
    (dict(loss="mean_squared_error", labels="one_hot", val_labels="labels", model=1),
     "validation labels"),
    (dict(loss="sparse_categorical_crossentropy", labels="labels", model=1),
     "loss='mean_squared_error'"),
])
def test_each_way_the_mse_run_is_not_as_asked_is_named(mse_run, says):
    """9.14 names the MSE run's loss or labels; 9.18 then leaves the runs alone (one
    mistake, one test)."""
    env = {"loss_comparison": _loss_experiment(
        _loss_run("cross_entropy", **AS_ASKED["cross_entropy"]),
        _loss_run("mean_squared_error", accuracy=0.8, **mse_run)),
        "profile": config.GRADE, "thresholds": calibration.Thresholds(GAP_THRESHOLDS)}
    passed, message = engine.run_case(_loss_case("9.14"), env)
    assert not passed and says in message, message
    assert engine.run_case(_loss_case("9.18"), env) == (True, "passed")


@pytest.mark.parametrize("mse_accuracy, passes", [(0.42, True), (0.70, False), (0.85, False)])
def test_mse_must_lag_by_half_the_references_smallest_gap(mse_accuracy, passes):
    env = {"loss_comparison": _loss_experiment(
        _loss_run("cross_entropy", accuracy=0.82, **AS_ASKED["cross_entropy"]),
        _loss_run("mean_squared_error", accuracy=mse_accuracy, **AS_ASKED["mean_squared_error"])),
        "profile": config.GRADE, "thresholds": calibration.Thresholds(GAP_THRESHOLDS)}
    assert engine.run_case(_loss_case("9.14"), env) == (True, "passed")
    passed, message = engine.run_case(_loss_case("9.18"), env)
    assert passed == passes, message
    if not passes:
        assert "0.180 below" in message
