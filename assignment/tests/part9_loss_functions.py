"""Part 9: loss functions. Otter exception-based test file.

Every expected value is computed here, in the grader's process, from the inputs the part
declares (``grader/parts/loss_functions/__init__.py``), never read from what the
submission recorded. 9.2 and 9.3 judge the form of the results (one finite number per
call, even at probabilities of 0 and 1 and logits of +-1000); 9.1 and 9.4-9.7 judge the
values, one function (and input kind) each; 9.8-9.9 the gradients of ``logit_gradients``;
9.10-9.11 the two answers. A failed value names the mistake it looks like (a sum instead
of a mean, swapped terms, logits taken for probabilities...).
The docstrings' examples (``EXAMPLES``) are among the cases; the public 9.12 judges them
(and 9.1 and 9.8 the examples of their functions), so the self-check catches every mistake
an example in a docstring shows.

``losses.py`` must compute with NumPy: a submission that imports TensorFlow, Keras,
PyTorch or JAX there earns none of the computed values (9.1-9.9).

9.13-9.18 judge the experiment of ``loss_experiment.py`` (the same model trained with
cross-entropy on the integer labels and with MSE on one-hot labels), like the other
training parts: every run replayed (the evidence rule of ``grader.experiment_checks``),
9.14 names each way a run did not train as asked (its loss, its labels, its settings),
9.17-9.18 set the runs trained as asked against the reference's calibrated figures.
"""

import ast
import math

import numpy as np
from otter.test_files import test_case

from grader import experiment_checks as ex
from grader.checks import check, check_at_least, check_step, fail, shown
from grader.choices import choice as _answer
from grader.parts.loss_functions import (BCE_CASES, EXAMPLES, GRADIENT_CASES, MSE_CASES,
                                         RUN_LABELS, RUN_LOSSES, SCCE_CASES, accuracy_gap,
                                         experiment_settings, model_loss)

OK_FORMAT = False
name = "Part 9: loss functions"

#: Libraries that would compute the losses or the gradients instead of the student.
NOT_NUMPY = ("tensorflow", "keras", "tf_keras", "torch", "jax", "jaxlib", "sklearn")
TOLERANCE = 1e-5


def _numpy_only(sources):
    """Fail unless losses.py is free of the libraries that would do the work."""
    source = (sources or {}).get("losses")
    if source is None:
        return
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return  # the steps report it
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Name) and node.id in ("__import__", "importlib"):
            names = [node.id]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                node.value.split(".")[0] in NOT_NUMPY:
            names = [node.value]
        for module in names:
            if module.split(".")[0] in NOT_NUMPY + ("importlib", "__import__"):
                fail("losses.py to compute with NumPy only",
                     f"{module!r} on line {node.lineno}",
                     "write the formulas with NumPy (np.log, np.exp, np.clip...) instead of "
                     "calling a deep-learning library")


def _example(case):
    """Is ``case`` one of the docstrings' examples (``EXAMPLES``)?"""
    return any(case in examples for examples in EXAMPLES.values())


def _call(function, case):
    """How a call looked: ``binary_crossentropy([0, 1], [0.1, 0.8], from_logits=True)``."""
    y_true, y_pred = _plain(case[0]), _plain(case[1])
    logits = ", from_logits=True" if len(case) > 2 and case[2] else ""
    return f"{function}({y_true}, {y_pred}{logits})"


def _plain(values):
    return str(np.array(values).tolist())


def _found(output):
    """What a call returned, as the student would see it."""
    if "error" in output:
        error = output["error"]
        text = f"an error: {error.get('summary', '?')}"
        return text + (f"\n{error['traceback']}" if error.get("traceback") else "")
    if "number" in output:
        return f"{output['number']:.7g}"
    if "shape" in output:
        return f"an array of shape {tuple(output['shape'])} ({output.get('repr', '')[:60]})"
    return shown(output)


def _number(function, case, output):
    """The single number one call returned; fails for an error, an array, NaN or inf."""
    if "error" in output:
        fail(f"{_call(function, case)} to return a number", _found(output))
    check("number" in output, f"{_call(function, case)} to return one number: the mean over "
          "the batch, as keras.losses does", _found(output),
          "average the per-example losses with np.mean and return that single value")
    value = output["number"]
    check(math.isfinite(value), f"{_call(function, case)} to be finite", _found(output),
          _non_finite_hint(function, case))
    return value


def _non_finite_hint(function, case):
    if function == "mean_squared_error":
        return "square the differences and take their mean"
    if case[2]:
        return ("exp(1000) overflows to inf: never exponentiate a large positive logit "
                "(for the sigmoid, use log(1 + exp(-|z|)); for the softmax, subtract each "
                "row's maximum first)")
    return ("clip the probabilities into [EPSILON, 1 - EPSILON] before taking a log: log(0) "
            "is -inf, and 0 * -inf is NaN")


def _close(found, expected):
    return math.isclose(found, expected, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def _judge(function, case, output, expected, mistakes, hint):
    """Check one value; the hint names the first known mistake whose value it matches."""
    found = _number(function, case, output)
    if _close(found, expected):
        return
    for mistake, value in mistakes:
        if value is not None and math.isfinite(value) and _close(found, value):
            hint = mistake
            break
    fail(f"{_call(function, case)} = {expected:.7g}", f"{found:.7g}", hint)


SUM_NOT_MEAN = ("keras.losses average over the batch (and over the last axis): take the "
                "mean of the per-entry losses, not their sum")


@test_case(name="9.1 mean_squared_error averages the squared errors", points=1, hidden=False)
def test_mse_values(squared_error_values, sources):
    _numpy_only(sources)
    check_step(squared_error_values)
    for case, output in zip(MSE_CASES, squared_error_values.value["outputs"]):
        difference = np.array(case[1], dtype=np.float64) - np.array(case[0], dtype=np.float64)
        squares = difference * difference
        mistakes = [(SUM_NOT_MEAN, float(squares.sum())),
                    ("no square root: MSE is the mean of the squared errors, not its root",
                     math.sqrt(squares.mean())),
                    ("square the errors: the mean of (y_true - y_pred) ** 2",
                     float(np.abs(difference).mean()))]
        if squares.ndim == 2 and squares.shape[1] > 1:
            mistakes.append(("Keras averages the squared errors over the last axis too "
                             "(each example's outputs), not only over the batch",
                             float(squares.sum(axis=1).mean())))
        _judge("mean_squared_error", case, output, float(squares.mean()), mistakes,
               "the mean over every entry of (y_true - y_pred) ** 2")


@test_case(name="9.2 each loss returns one finite number: the mean over the batch", points=1,
           hidden=False)
def test_one_number(squared_error_values, binary_ce_values, sparse_ce_values, sources):
    _numpy_only(sources)
    for function, step, cases in (("mean_squared_error", squared_error_values, MSE_CASES),
                                  ("binary_crossentropy", binary_ce_values, BCE_CASES),
                                  ("sparse_categorical_crossentropy", sparse_ce_values,
                                   SCCE_CASES)):
        check_step(step)
        for case, output in zip(cases, step.value["outputs"]):
            if len(case) < 4 or not case[3]:
                _number(function, case, output)


@test_case(name="9.3 no NaN or inf at probabilities of 0 and 1 and logits of +-1000", points=1,
           hidden=False)
def test_finite_at_extremes(binary_ce_values, sparse_ce_values, sources):
    _numpy_only(sources)
    for function, step, cases in (("binary_crossentropy", binary_ce_values, BCE_CASES),
                                  ("sparse_categorical_crossentropy", sparse_ce_values,
                                   SCCE_CASES)):
        check_step(step)
        for case, output in zip(cases, step.value["outputs"]):
            if case[3]:
                _number(function, case, output)


def _judge_bce_probabilities(case, output):
    y = np.array(case[0], dtype=np.float64)
    p = np.minimum(np.maximum(np.array(case[1], dtype=np.float64), 1e-7), 1.0 - 1e-7)
    log_likelihood = y * np.log(p) + (1.0 - y) * np.log1p(-p)
    swapped = (1.0 - y) * np.log(p) + y * np.log1p(-p)
    p32 = np.clip(np.array(case[1], dtype=np.float32), np.float32(1e-7), np.float32(1 - 1e-7))
    in_float32 = y * np.log(p32.astype(np.float64)) + (1.0 - y) * np.log(
        (np.float32(1) - p32).astype(np.float64))
    mistakes = [(SUM_NOT_MEAN, -float(log_likelihood.sum())),
                ("compute in float64: in float32, 1 - 1e-7 rounds to 0.99999988 and the "
                 "loss at p = 1 comes out as 15.9 instead of 16.1", -float(in_float32.mean())),
                ("the terms are swapped: y * log(p) is the label-1 term and "
                 "(1 - y) * log(1 - p) the label-0 term", -float(swapped.mean())),
                ("cross-entropy is MINUS the mean log-likelihood: mind the sign",
                 float(log_likelihood.mean()))]
    if y.ndim == 2:
        mistakes.append(("Keras averages over the last axis too (each example's "
                         "outputs), not only over the batch",
                         -float(log_likelihood.sum(axis=1).mean())))
    _judge("binary_crossentropy", case, output, -float(log_likelihood.mean()), mistakes,
           "with y_pred as probabilities (from_logits=False, the default): clip them "
           "into [EPSILON, 1 - EPSILON] (EPSILON = 1e-7, as Keras), then "
           "-(y * log(p) + (1 - y) * log(1 - p)), averaged")


def _judge_bce_logits(case, output):
    y = np.array(case[0], dtype=np.float64)
    z = np.array(case[1], dtype=np.float64)
    per_entry = np.logaddexp(0.0, z) - y * z
    # the usual mistakes, for the hint
    as_probabilities = np.minimum(np.maximum(z, 1e-7), 1.0 - 1e-7)
    ignored = -(y * np.log(as_probabilities) + (1.0 - y) * np.log1p(-as_probabilities))
    with np.errstate(over="ignore"):
        sigmoid = np.minimum(np.maximum(1.0 / (1.0 + np.exp(-z)), 1e-7), 1.0 - 1e-7)
    through_sigmoid = -(y * np.log(sigmoid) + (1.0 - y) * np.log1p(-sigmoid))
    swapped = np.logaddexp(0.0, z) - (1.0 - y) * z
    mistakes = []
    if _close(float(through_sigmoid.mean()), float(ignored.mean())):
        # at +-1000 (the docstring's example) the two mistakes give the same number
        mistakes.append(("the logits were clipped into [1e-7, 1 - 1e-7]: either taken as "
                         "probabilities (from_logits=True means y_pred holds logits, not "
                         "probabilities) or put through a clipped sigmoid (a clipped sigmoid "
                         "loses the loss beyond -log(1e-7) = 16.1); compute the loss from z "
                         "directly, stably: max(z, 0) - z * y + log(1 + exp(-|z|))",
                         float(ignored.mean())))
    mistakes += [("a clipped sigmoid loses the loss beyond -log(1e-7) = 16.1: compute the "
                 "loss from the logits directly, stably, e.g. "
                 "max(z, 0) - z * y + log(1 + exp(-|z|))", float(through_sigmoid.mean())),
                ("from_logits=True means y_pred holds logits, not probabilities: the "
                 "logits were clipped as if they were probabilities", float(ignored.mean())),
                (SUM_NOT_MEAN, float(per_entry.sum())),
                ("the terms are swapped: with p = sigmoid(z), y goes with log(p) and "
                 "1 - y with log(1 - p)", float(swapped.mean()))]
    _judge("binary_crossentropy", case, output, float(per_entry.mean()), mistakes,
           "with from_logits=True: p = sigmoid(z), computed stably from z (exact for "
           "z = +-1000), then the same cross-entropy, averaged")


def _judge_scce_probabilities(case, output):
    labels = np.array(case[0], dtype=np.int64)
    rows = np.arange(labels.size)
    # Keras: the log of the clipped probabilities, renormalised by a log-softmax.
    log_p = np.log(np.minimum(np.maximum(np.array(case[1], dtype=np.float64), 1e-7),
                              1.0 - 1e-7))
    log_p = log_p - np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    picked = log_p[rows, labels]
    mistakes = [(SUM_NOT_MEAN, -float(picked.sum())),
                ("take -log of the probability of each example's own label, "
                 "p[i, y_true[i]], not of the other classes", -float(log_p.mean())),
                ("cross-entropy is MINUS the mean log-probability: mind the sign",
                 float(picked.mean()))]
    _judge("sparse_categorical_crossentropy", case, output, -float(picked.mean()), mistakes,
           "-log(p[i, y_true[i]]) with p clipped into [EPSILON, 1 - EPSILON] "
           "(EPSILON = 1e-7, as Keras), averaged over the batch")


def _judge_scce_logits(case, output):
    labels = np.array(case[0], dtype=np.int64)
    z = np.array(case[1], dtype=np.float64)
    rows = np.arange(labels.size)
    top = z.max(axis=1, keepdims=True)
    log_softmax = z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
    losses = -log_softmax[rows, labels]
    # the usual mistakes, for the hint
    clipped_z = np.log(np.minimum(np.maximum(z, 1e-7), 1.0 - 1e-7))
    clipped_z = clipped_z - np.log(np.exp(clipped_z).sum(axis=1, keepdims=True))
    softmax = np.minimum(np.maximum(np.exp(log_softmax), 1e-7), 1.0 - 1e-7)
    mistakes = [("from_logits=True means y_pred holds logits, not probabilities: the "
                 "logits were clipped as if they were probabilities",
                 -float(clipped_z[rows, labels].mean())),
                ("a clipped softmax loses the loss beyond -log(1e-7) = 16.1: compute "
                 "log-probabilities from the logits with the log-sum-exp trick",
                 -float(np.log(softmax[rows, labels]).mean())),
                (SUM_NOT_MEAN, float(losses.sum()))]
    _judge("sparse_categorical_crossentropy", case, output, float(losses.mean()), mistakes,
           "with from_logits=True: log p = z - m - log(sum(exp(z - m))) with m each row's "
           "maximum (the log-sum-exp trick), then -log p[i, y_true[i]], averaged")


def _gradient(output, key, k, case):
    """The gradient ``key`` of one call, as a float array of shape (k,)."""
    call = f"logit_gradients({_plain(case[0])}, {case[1]})"
    if "error" in output:
        fail(f"{call} to return the two gradients", _found(output))
    check("not_a_dict" not in output, f"{call} to return a dict", shown(output.get("not_a_dict")),
          'return {"cross_entropy": ..., "mse": ...}')
    record = output.get(key)
    check(isinstance(record, dict) and "values" in record,
          f"{call} to hold the key {key!r} with an array", shown(output.get("keys")),
          'return {"cross_entropy": ..., "mse": ...}')
    check(record["shape"] == [k], f"{call}[{key!r}] of shape ({k},), like the logits",
          f"shape {tuple(record['shape'])}", "one partial derivative per logit")
    values = np.array(record["values"], dtype=np.float64)
    check(bool(np.all(np.isfinite(values))), f"finite values in {call}[{key!r}]",
          _plain(values.round(6)), "subtract the largest logit before exponentiating")
    return values, call


def _judge_gradient(values, expected, call, key, mistakes, hint):
    if np.allclose(values, expected, rtol=1e-5, atol=1e-7):
        return
    for mistake, value in mistakes:
        if np.allclose(values, value, rtol=1e-5, atol=1e-7):
            hint = mistake
            break
    fail(f"{call}[{key!r}] = {_plain(np.round(expected, 6))}", _plain(np.round(values, 6)),
         hint)


@test_case(name="9.8 logit_gradients: cross-entropy's gradient is softmax(z) - one_hot(label)",
           points=1, hidden=False)
def test_cross_entropy_gradient(logit_gradient_values, sources):
    _numpy_only(sources)
    check_step(logit_gradient_values)
    for case, output in zip(GRADIENT_CASES, logit_gradient_values.value["outputs"]):
        z = np.array(case[0], dtype=np.float64)
        values, call = _gradient(output, "cross_entropy", z.size, case)
        weights = np.exp(z - z.max())
        target = np.eye(z.size)[case[1]]
        expected = weights / weights.sum() - target
        _judge_gradient(values, expected, call, "cross_entropy",
                        [("the gradient of the loss points away from the label: "
                          "softmax(z) - one_hot(label), not the reverse", -expected)],
                        "softmax(z) minus the one-hot vector of the label")


def _judge_mse_gradient(case, output):
    z = np.array(case[0], dtype=np.float64)
    k = z.size
    values, call = _gradient(output, "mse", k, case)
    weights = np.exp(z - z.max())
    p = weights / weights.sum()
    jacobian = np.diag(p) - np.outer(p, p)  # d p_i / d z_j
    d_p = (2.0 / k) * (p - np.eye(k)[case[1]])
    expected = jacobian.T @ d_p
    _judge_gradient(values, expected, call, "mse",
                    [("that is the gradient with respect to the probabilities p: the "
                      "gradient with respect to the logits goes through the softmax, "
                      "multiply by its Jacobian dp_i/dz_j = p_i * (delta_ij - p_j)", d_p),
                     ("MSE is the MEAN over the k classes: divide the squared-error "
                      "gradient by k", expected * k),
                     ("MSE's derivative is 2 * (p - y) / k: the factor 2 is missing",
                      expected / 2.0)],
                    "the chain rule: dL/dz_j = sum_i dL/dp_i * p_i * (delta_ij - p_j), "
                    "with dL/dp = 2 * (p - y) / k")


@test_case(name="9.12 the docstrings' examples: binary_crossentropy, "
                "sparse_categorical_crossentropy and logit_gradients' MSE gradient", points=1,
           hidden=False)
def test_docstring_examples(binary_ce_values, sparse_ce_values, logit_gradient_values, sources):
    _numpy_only(sources)
    for step, cases, judges in (
            (binary_ce_values, BCE_CASES, (_judge_bce_probabilities, _judge_bce_logits)),
            (sparse_ce_values, SCCE_CASES, (_judge_scce_probabilities, _judge_scce_logits))):
        check_step(step)
        for case, output in zip(cases, step.value["outputs"]):
            if _example(case):
                judges[bool(case[2])](case, output)
    check_step(logit_gradient_values)
    for case, output in zip(GRADIENT_CASES, logit_gradient_values.value["outputs"]):
        if _example(case):
            _judge_mse_gradient(case, output)


# -------------------------------------------------------------------------- experiment

#: How each run's labels should look, and how to make them, for messages.
LABEL_WORDS = {"labels": ("the integer labels y_train and y_val as given",
                          "pass y_train and y_val to the cross-entropy run unchanged"),
               "one_hot": ("one-hot labels: one_hot(y_train, n_classes) and one_hot(y_val, "
                           "n_classes), one 0/1 column per class",
                           "MSE compares one number per class: give the MSE run one_hot(y) "
                           "for training AND validation")}


def _found_labels(kind):
    return {"labels": "the integer labels", "one_hot": "one-hot labels",
            None: "labels that are neither"}[kind]


def _loss_problems(experiment, run, profile):
    """Every way ``run`` did not train as asked: its loss, its labels, the settings."""
    if run.fit is None:
        return [(f"a model trained for {run.label}", "none", "call fit once per run")]
    problems = []
    wanted, found = RUN_LOSSES[run.setting], model_loss(run.model)
    if found != wanted:
        problems.append((f"the model for {run.label} built with loss={wanted!r}",
                         f"loss={found!r}", f"pass loss={wanted!r} to build_fn for this run"))
    want_labels = RUN_LABELS[run.setting]
    for fact, which in (("labels", "training"), ("val_labels", "validation")):
        kind = run.facts.get(fact)
        if kind != want_labels:
            problems.append((f"{run.label} to use {LABEL_WORDS[want_labels][0]} (its "
                             f"{which} labels)", _found_labels(kind),
                             LABEL_WORDS[want_labels][1]))
            break
    settings = experiment_settings(profile)
    problems += ex.run_problems(experiment, run, learning_rate=settings["learning_rate"],
                                optimizer=settings["optimizer"],
                                batch_size=settings["batch_size"])
    return problems


def _as_asked(experiment, run, profile):
    """Did ``run`` train a fresh model of its own exactly as asked, verified by the replay?"""
    if run.fit is None or run.facts.get("steps_before") != 0 or ex.unverified(experiment, run):
        return False
    if sum(other.fit is not None and other.fit["model"] == run.fit["model"]
           for other in experiment.runs) > 1:
        return False
    return not _loss_problems(experiment, run, profile)


@test_case(name="9.13 one history per loss", points=1, hidden=False)
def test_loss_comparison_histories(loss_comparison):
    ex.check_histories(loss_comparison)


@test_case(name="9.14 a fresh model per run: cross-entropy on the integer labels, MSE on "
                "one-hot labels, both with the settings asked for", points=2, hidden=False)
def test_loss_comparison_settings(loss_comparison, profile):
    ex.check_fresh_models(loss_comparison)
    for run in loss_comparison.runs:
        problems = _loss_problems(loss_comparison, run, profile)
        if problems:
            fail(*problems[0])


@test_case(name="9.15 each run logged to log_dir/<name>, the logs equal to the histories",
           points=1, hidden=False)
def test_loss_comparison_logs(loss_comparison):
    ex.check_run_dirs(loss_comparison)
    ex.check_logs_match_history(loss_comparison)
