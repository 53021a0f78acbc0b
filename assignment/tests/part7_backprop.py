"""Part 7: backpropagation by hand. Otter exception-based test file.

The inputs are the grader's fixed small cases (``grader.parts.backprop.make_case``), rebuilt
here on the trusted side; every expected value is computed here, never read from a record.
Gradients are compared as CS231n does, by the relative error
``max |a - b| / max(1e-8, |a| + |b|)`` per parameter: about 1e-7 or less for a right
gradient, 1e-2 or more for a wrong one.

Each mistake costs its own tests: 7.1/7.6 judge ``forward``, 7.7 ``sparse_cross_entropy``
(on the grader's probabilities, not the student's), 7.8 ``softmax`` on extreme logits,
7.2/7.3/7.9 ``backward`` (7.3 against finite differences of the student's own forward and
loss, 7.9 against the grader's gradients), 7.4 ``gradient_step`` (on made-up gradients),
7.10 the two together, 7.5 the imports (NumPy only), 7.11-7.12 the answers. 7.8 is public: it
is the softmax docstring's own example, which the self-check must catch. A gradient
that cannot be compared (a missing name, a wrong shape) fails the tests that compare it.
"""

import ast

import numpy as np
from otter.test_files import test_case

from grader.checks import check, check_step, fail, shown
from grader.choices import check_choice
from grader.parts.backprop import (CASES, CHECK_CASE, DESCENT_CASE, DESCENT_LEARNING_RATE,
                                   DESCENT_STEPS, EPSILON, EXTREME_LOGITS, LOSS_CASES,
                                   PARAMETER_NAMES, STEP_CASE, STEP_LEARNING_RATE, loss_case,
                                   made_up_gradients, make_case)

OK_FORMAT = False
name = "Part 7: backpropagation"

#: Relative error of a right gradient against the grader's analytic one (rounding only),
#: and against central differences (their own error is about 1e-9 here).
ANALYTIC_TOLERANCE = 1e-6
NUMERICAL_TOLERANCE = 1e-5
#: Libraries that would compute the gradients instead of the student.
AUTODIFF_LIBRARIES = ("tensorflow", "keras", "tf_keras", "torch", "jax", "jaxlib", "autograd",
                      "theano", "mxnet", "paddle", "chainer", "mlx")


def relative_error(found, expected):
    """CS231n's relative error: the largest ``|a - b| / max(1e-8, |a| + |b|)``."""
    found, expected = np.asarray(found, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(found)):
        return float("inf")
    return float(np.max(np.abs(found - expected) /
                        np.maximum(1e-8, np.abs(found) + np.abs(expected))))


def case_shapes(index):
    _, n, n_inputs, n_hidden, n_classes = CASES[index]
    return {"W1": (n_inputs, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_classes),
            "b2": (n_classes,)}


def gradients_of(step, index, prefix, output=0, what="backward"):
    """The gradient arrays ``<prefix><name>`` a step recorded for case ``index``, each
    checked to have its parameter's name and shape; fails naming the first that does not."""
    record = step.value["outputs"][output]
    keys = record.get("keys", []) if isinstance(record, dict) else []
    grads = {}
    for parameter, shape in case_shapes(index).items():
        array = step.arrays.get(prefix + parameter)
        check(array is not None, f"{what}'s dict to hold {parameter!r}",
              f"the keys {keys}", "return {'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}, named "
              "like the parameters")
        hint = ("it is transposed: dL/dW = (layer input).T @ (gradient at the layer's output)"
                if array.shape == shape[::-1] and len(shape) == 2 else
                "a bias gradient sums the per-example gradients over the batch (axis=0)"
                if parameter.startswith("b") else
                "each gradient has the shape of its parameter")
        check(array.shape == shape, f"{what}'s {parameter!r} to have shape {shape}",
              f"shape {array.shape}", hint)
        grads[parameter] = array
    return grads


def diagnose(found, expected, n):
    """What a wrong set of gradients most likely got wrong, from how it differs."""
    wrong = [p for p in PARAMETER_NAMES if relative_error(found[p], expected[p]) > 1e-3]
    ratios = [np.linalg.norm(found[p]) / max(np.linalg.norm(expected[p]), 1e-300) for p in wrong]
    if wrong and all(abs(ratio - n) < 0.01 * n for ratio in ratios):
        return (f"every wrong gradient is {n} times too large: the loss is the mean over the "
                f"batch, so divide by n (here {n})")
    if wrong and all(abs(ratio * n - 1) < 0.01 for ratio in ratios):
        return (f"every wrong gradient is {n} times too small: if your loss is a sum over the "
                "batch, make it the mean (sparse_cross_entropy averages; so does backward)")
    if wrong == ["b1"] or wrong == ["b2"] or wrong == ["b1", "b2"]:
        return "the bias gradients: sum the per-example gradients over the batch (axis=0)"
    if wrong and set(wrong) <= {"W1", "b1"}:
        return ("the output layer (W2, b2) is right, the hidden layer (W1, b1) is not: carry "
                "the gradient back through W2.T, then multiply by the sigmoid's derivative "
                "hidden * (1 - hidden)")
    return ("the output layer too: the gradient with respect to the logits is "
            "(probabilities - onehot(y)) / n; from there, the chain rule layer by layer")


def check_gradients(found, expected, tolerance, against, n):
    errors = {p: relative_error(found[p], expected[p]) for p in PARAMETER_NAMES}
    shown_errors = ", ".join(f"{p} {e:.1e}" for p, e in errors.items())
    check(max(errors.values()) < tolerance,
          f"a relative error below {tolerance:g} against {against} for every parameter",
          f"relative errors {shown_errors}", diagnose(found, expected, n))


@test_case(name="7.1 forward returns (hidden, probabilities) with the right shapes", points=1,
           hidden=False)
def test_forward_shapes(backprop_forward_pass):
    check_step(backprop_forward_pass)
    for index, (_, n, _, n_hidden, n_classes) in enumerate(CASES):
        hidden = backprop_forward_pass.arrays.get(f"{index}_hidden")
        probabilities = backprop_forward_pass.arrays.get(f"{index}_probabilities")
        check(hidden is not None and probabilities is not None, "both results of forward",
              "none", "return hidden, probabilities")
        for what, array, shape in (("hidden", hidden, (n, n_hidden)),
                                   ("probabilities", probabilities, (n, n_classes))):
            check(array.shape == shape, f"{what} of shape {shape} for {n} examples",
                  f"shape {array.shape}", "x @ W1 + b1 is (n, n_hidden); hidden @ W2 + b2 is "
                  "(n, n_classes)")
            check(array.dtype == np.float64, f"{what} as float64, the dtype of the inputs",
                  str(array.dtype), "do not cast to float32: the gradient checks need float64")
            check(bool(np.all(np.isfinite(array))), f"finite {what}", "NaN or inf",
                  "subtract each row's maximum before np.exp in softmax")
        check(bool(np.all((hidden > 0) & (hidden < 1))), "hidden activations in (0, 1)",
              f"values from {hidden.min():.3g} to {hidden.max():.3g}",
              "apply the sigmoid to x @ W1 + b1")
        sums = probabilities.sum(axis=1)
        check(bool(np.all(probabilities >= 0)) and np.allclose(sums, 1.0, atol=1e-6),
              "probabilities: each row positive, summing to 1",
              f"row sums {np.round(sums[:4], 4).tolist()}",
              "softmax divides each row's exponentials by that row's sum (axis=1)")


@test_case(name="7.2 backward returns a gradient for W1, b1, W2, b2 with its parameter's shape",
           points=1, hidden=False)
def test_gradient_shapes(backprop_gradients):
    check_step(backprop_gradients)
    for index in range(len(CASES)):
        grads = gradients_of(backprop_gradients, index, f"{index}_", index)
        for parameter, array in grads.items():
            check(array.dtype == np.float64, f"{parameter}'s gradient as float64 (as its parameter)",
                  str(array.dtype), "do not cast to float32 or int")


@test_case(name="7.3 backward agrees with finite differences of your own forward and loss",
           points=2, hidden=False)
def test_gradient_check(backprop_gradient_check):
    check_step(backprop_gradient_check)
    found = gradients_of(backprop_gradient_check, CHECK_CASE, "")
    numerical = {}
    for parameter in PARAMETER_NAMES:
        plus = backprop_gradient_check.arrays.get(f"plus_{parameter}")
        minus = backprop_gradient_check.arrays.get(f"minus_{parameter}")
        check(plus is not None and minus is not None and plus.shape == found[parameter].shape,
              f"your loss at every moved weight of {parameter}", "none",
              "forward and sparse_cross_entropy must run on the grader's inputs")
        numerical[parameter] = (plus - minus) / (2 * EPSILON)
    check_gradients(found, numerical,
                    NUMERICAL_TOLERANCE, "(loss(w + 1e-5) - loss(w - 1e-5)) / 2e-5 computed with "
                    "your forward and sparse_cross_entropy", CASES[CHECK_CASE][1])


@test_case(name="7.4 gradient_step moves each parameter by -learning_rate * gradient", points=1,
           hidden=False)
def test_gradient_step(backprop_step_update):
    check_step(backprop_step_update)
    found = gradients_of(backprop_step_update, STEP_CASE, "", what="gradient_step")
    _, _, params = make_case(STEP_CASE)
    grads = made_up_gradients(STEP_CASE)
    for parameter in PARAMETER_NAMES:
        expected = params[parameter] + (-STEP_LEARNING_RATE) * grads[parameter]
        check(np.allclose(found[parameter], expected, rtol=1e-9, atol=1e-12),
              f"{parameter} - {STEP_LEARNING_RATE} * its gradient", f"another {parameter}",
              "subtract the learning rate times the gradient (a step against the gradient)")


@test_case(name="7.5 backprop.py computes the gradients itself: no autodiff library", points=1,
           hidden=False)
def test_no_autodiff(sources, backprop_gradients):
    # The gradients must exist before how they were computed can earn a point (and the step
    # makes this case one of this part's: a grade of selected parts picks cases by steps).
    check_step(backprop_gradients)
    source = sources.get("backprop")
    check(source is not None, "backprop.py in your submission", "no backprop.py",
          "submit backprop.py with your other modules")
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        fail("backprop.py to be valid Python", f"a syntax error on line {error.lineno}")
    used = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if node.value.replace(".", "").isidentifier() else []
        used += [f"{name} (line {node.lineno})" for name in names
                 if name.split(".")[0] in AUTODIFF_LIBRARIES]
    check(not used, "backprop.py to use NumPy only", f"{', '.join(used)}",
          "write the chain rule yourself with NumPy; use tf.GradientTape only outside "
          "backprop.py, to check your results")


@test_case(name="7.8 softmax stays finite for large logits (the docstring's [1000, 0, -1000])",
           points=1, hidden=False)
def test_softmax_stable(backprop_softmax_rows):
    check_step(backprop_softmax_rows)
    logits = np.array(EXTREME_LOGITS, dtype=np.float64)
    exps = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = exps / exps.sum(axis=1, keepdims=True)
    found = backprop_softmax_rows.arrays.get("probabilities")
    check(found is not None and found.shape == expected.shape,
          f"probabilities of shape {expected.shape}", "another shape", "one row per row of logits")
    check(bool(np.all(np.isfinite(found))), "finite probabilities for logits such as "
          "[1000, 0, -1000]", "NaN or inf (np.exp(1000) overflows)",
          "subtract each row's maximum from its logits before np.exp: the result is the same")
    check(np.allclose(found, expected, atol=1e-9), "[1, 0, 0] for the logits [1000, 0, -1000]",
          f"{np.round(found[0], 4).tolist()}", "softmax of a row: exp(z - max(z)) / sum")
