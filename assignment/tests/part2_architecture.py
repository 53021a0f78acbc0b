"""Part 2: the required architecture. Otter exception-based test file.

Each test judges one property of the model ``build_model`` returns, so each mistake costs
its own test. The layers are read as (Dense units, activation) pairs whatever way the
activation was written (``Dense(250, activation="sigmoid")``, ``Dense(250)`` followed by
``Activation("sigmoid")`` or an activation layer such as ``Softmax()``; see
``grader.probes.describe_model``), and the loss is judged for the model as built
(``from_logits=True`` is a mistake only on a model that already ends in softmax). A call
of ``build_model`` that raised fails the tests that need its model: nothing could be
checked, and no point is given for work that could not be checked.

The public 2.8 and 2.9 judge what the docstrings show (names in any case; the
``input_scale=1/255`` example), so the self-check catches those mistakes; the hidden 2.5 and
2.7 judge the same and more (every name at another learning rate; no Rescaling without
``input_scale``).
"""

import math

from otter.test_files import test_case

from grader.checks import check, check_step

OK_FORMAT = False
name = "Part 2: architecture"

OPTIMIZER_CLASSES = {"sgd": "SGD", "adam": "Adam", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                     "nadam": "Nadam"}
#: Names in any case -> the class they must give (build_model's docstring: any case).
MIXED_CASE_CLASSES = {"SGD": "SGD", "Adam": "Adam", "RMSprop": "RMSprop", "AdaGrad": "Adagrad",
                      "NADAM": "Nadam"}
SPARSE_CE = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"}
ACCURACY = {"accuracy", "acc", "sparse_categorical_accuracy", "SparseCategoricalAccuracy"}


def dense_layers(description):
    """The model's Dense layers as ``{"units", "activation", "written"}``, activations
    given as separate layers folded in."""
    return [layer for layer in description.get("dense") or [] if isinstance(layer, dict)]


@test_case(name="2.1 one hidden Dense layer of 250 sigmoid units", points=3, hidden=False)
def test_hidden_layer(build_default):
    check_step(build_default)
    model = build_default.value
    check(model["input_shape"] == [None, 784], "input shape (None, 784)", str(model["input_shape"]),
          "start the model with keras.Input(shape=(784,))")
    dense = dense_layers(model)
    check(len(dense) == 2, "exactly 2 Dense layers (hidden and output)", f"{len(dense)}",
          "use one hidden Dense layer followed by the output layer")
    hidden = dense[0]
    check(hidden.get("units") == 250 and hidden.get("activation") == "sigmoid",
          "the hidden layer to be Dense(250, activation='sigmoid')", f"{hidden.get('written')}",
          "set units=250 and activation='sigmoid' on the first Dense layer")


@test_case(name="2.2 softmax output with one unit per class", points=3, hidden=False)
def test_output_layer(build_default, build_custom):
    for step, n_classes in ((build_default, 10), (build_custom, 7)):
        check_step(step)
        dense = dense_layers(step.value)
        check(bool(dense), "Dense layers", "none", "build the model from keras.layers.Dense layers")
        output = dense[-1]
        check(output.get("units") == n_classes and output.get("activation") == "softmax",
              f"build_model({n_classes}) to end in Dense({n_classes}, activation='softmax')",
              f"{output.get('written')}",
              "use n_classes units and the softmax activation on the last layer only")


@test_case(name="2.3 compiled with sparse categorical cross-entropy and accuracy", points=3,
           hidden=False)
def test_loss_and_metric(build_default):
    check_step(build_default)
    model = build_default.value
    check(model["compiled"], "a compiled model", "an uncompiled model", "call model.compile(...)")
    loss = model["loss"] or {}
    check(loss.get("name") in SPARSE_CE,
          "loss='sparse_categorical_crossentropy' (labels are integers)", f"{loss.get('name')!r}",
          "categorical_crossentropy needs one-hot labels; ours are integers 0..n_classes-1")
    dense = dense_layers(model)
    ends_in_softmax = bool(dense) and dense[-1].get("activation") == "softmax"
    check(not (loss.get("from_logits") and ends_in_softmax),
          "from_logits=False (the default)", "from_logits=True",
          "the model already ends in softmax, so its outputs are probabilities, not logits: "
          "from_logits must be False (or simply loss='sparse_categorical_crossentropy')")
    check(any(metric in ACCURACY for metric in model["metrics"]), "metrics=['accuracy']",
          f"{model['metrics']}", "pass metrics=['accuracy'] to compile")


@test_case(name="2.4 optimizer and learning rate as asked", points=2, hidden=False)
def test_optimizer_arguments(build_default, build_custom):
    for step, name, rate in ((build_default, "adam", 0.001), (build_custom, "sgd", 0.05)):
        check_step(step)
        found = step.value["optimizer"] or {}
        check(found.get("class_name") == OPTIMIZER_CLASSES[name],
              f"a {OPTIMIZER_CLASSES[name]} optimizer for optimizer={name!r}",
              f"{found.get('class_name')}", "look the optimizer up by its name")
        check(math.isclose(found.get("learning_rate", -1), rate, rel_tol=1e-5),
              f"learning rate {rate}", f"{found.get('learning_rate')}",
              "pass learning_rate to the optimizer's constructor")


def _check_mixed_case(build_mixed_case):
    check_step(build_mixed_case)
    for name, expected in MIXED_CASE_CLASSES.items():
        entry = build_mixed_case.value.get(name) or {}
        check(entry.get("ok"), f"build_model(optimizer={name!r}) to work (names in any case, "
              "as the docstring says)", (entry.get("error") or {}).get("summary", "an error"),
              "compare the name in lower case: name.lower()")
        found = entry.get("optimizer") or {}
        check(found.get("class_name") == expected, f"optimizer={name!r} -> {expected}",
              f"{found.get('class_name')}", "compare the name in lower case: name.lower()")


@test_case(name="2.6 an unknown optimizer name raises ValueError listing the valid names",
           points=3, hidden=False)
def test_unknown_optimizer(build_unknown_optimizer):
    check_step(build_unknown_optimizer)
    outcome = build_unknown_optimizer.value
    check(outcome["raised"] is not None, "build_model(optimizer='adamw_typo') to raise ValueError",
          f"a model with optimizer {outcome.get('optimizer')}",
          "do not fall back to a default optimizer; raise ValueError instead")
    check(outcome["is_value_error"], "a ValueError", outcome["raised"],
          "raise ValueError(...) for an unknown name")
    listed = [name for name in OPTIMIZER_CLASSES if name in outcome["message"].lower()]
    check(len(listed) == len(OPTIMIZER_CLASSES), "the message to list every valid name "
          f"({', '.join(OPTIMIZER_CLASSES)})", f"{outcome['message']!r}",
          "include the valid names in the error message")


def _check_rescaling_first(build_scaled):
    check_step(build_scaled)
    layers = build_scaled.value["layers"]
    check(bool(layers) and layers[0]["class_name"] == "Rescaling"
          and math.isclose(layers[0]["scale"] or 0, 1 / 255, rel_tol=1e-5),
          "build_model(input_scale=1/255) to start with Rescaling(1/255)",
          f"first layer {layers[0]['class_name'] if layers else None}",
          "append keras.layers.Rescaling(input_scale) before the Dense layers")


@test_case(name="2.8 optimizer names work in any case ('Adam', 'NADAM', ...), as the docstring "
                "says", points=1, hidden=False)
def test_mixed_case_names(build_mixed_case):
    _check_mixed_case(build_mixed_case)


@test_case(name="2.9 the docstring's example: build_model(input_scale=1/255) starts with "
                "Rescaling(1/255)", points=1, hidden=False)
def test_input_scale_example(build_scaled):
    _check_rescaling_first(build_scaled)
