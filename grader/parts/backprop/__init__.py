"""Part 7: backpropagation by hand (``backprop.py``, NumPy only).

The probes call the student's ``forward``, ``sparse_cross_entropy``, ``softmax``,
``backward`` and ``gradient_step`` on small fixed inputs that both sides make from the
constants below (``make_case``): the trusted test file rebuilds the same inputs and
computes every expected value itself (gradients analytically and by finite differences),
never reading one from a record. No step reads the grading data, so the part costs
well under a second.
"""

import copy

import numpy as np

from grader.choices import every_question, questions, record_answers
from grader.parts import Part, one_output_per_case
from grader.probes import StepError, value_record

#: The parameter names, in the order ``backward`` returns them.
PARAMETER_NAMES = ("W1", "b1", "W2", "b2")

#: Fixed inputs: (seed, n examples, n_inputs, n_hidden, n_classes). The second case is the
#: required network (784 -> 250 sigmoid -> 10 softmax); the others are small, with
#: different sizes on every axis so that a transposed or mis-summed gradient has a wrong
#: shape.
CASES = ((11, 5, 6, 4, 3), (12, 8, 784, 250, 10), (13, 7, 10, 5, 4))
#: The case whose every weight the self-consistency gradient check perturbs.
CHECK_CASE = 0
#: Central-difference step of the gradient checks.
EPSILON = 1e-5
#: gradient_step: the case, and its learning rate (the gradients are made-up arrays).
STEP_CASE, STEP_LEARNING_RATE = 2, 0.1
#: A few steps of gradient descent with the student's own backward and gradient_step.
DESCENT_CASE, DESCENT_STEPS, DESCENT_LEARNING_RATE = 2, 3, 0.5
#: sparse_cross_entropy: (seed, n, n_classes) of made-up probabilities and labels.
LOSS_CASES = ((21, 6, 3), (22, 9, 10))
#: softmax on logits far outside exp's range: a naive exp overflows to inf and gives NaN.
EXTREME_LOGITS = ((1000.0, 0.0, -1000.0), (-1000.0, -1000.0, -999.0), (800.0, 800.0, 0.0),
                  (0.5, -0.5, 0.0))
#: Most answers one backprop.py may hold (a bound on what the probe records).


def make_case(index):
    """``(x, y, params)`` of ``CASES[index]``, float64, the same on both sides.

    Inputs are in [0, 1] like normalized pixels; weights are scaled so that the hidden
    units work in the sigmoid's steep range (no gradient is near zero by saturation).
    """
    seed, n, n_inputs, n_hidden, n_classes = CASES[index]
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, n_inputs))
    y = rng.permutation(np.arange(n) % n_classes).astype(np.int64)
    params = {
        "W1": rng.normal(0.0, np.sqrt(3.0 / n_inputs), size=(n_inputs, n_hidden)),
        "b1": rng.normal(0.0, 0.5, size=n_hidden),
        "W2": rng.normal(0.0, 1.5 / np.sqrt(n_hidden), size=(n_hidden, n_classes)),
        "b2": rng.normal(0.0, 0.5, size=n_classes),
    }
    return x, y, params


def made_up_gradients(index):
    """Arrays shaped like ``CASES[index]``'s parameters, for ``gradient_step`` alone."""
    _, _, params = make_case(index)
    rng = np.random.default_rng(100 + index)
    return {name: rng.normal(0.0, 1.0, size=value.shape) for name, value in params.items()}


def loss_case(index):
    """``(probabilities, y)`` of ``LOSS_CASES[index]``: rows of positive probabilities
    (at least 1e-3, so clipping as Keras does changes nothing) that sum to 1."""
    seed, n, n_classes = LOSS_CASES[index]
    rng = np.random.default_rng(seed)
    raw = rng.dirichlet(np.full(n_classes, 2.0), size=n) + 1e-3
    return raw / raw.sum(axis=1, keepdims=True), rng.integers(0, n_classes, size=n)


# ------------------------------------------------------------------------------ probes

def _array(value, what):
    """``value`` as a NumPy array of numbers, or StepError naming what was returned."""
    try:
        array = np.asarray(value)
    except Exception:  # an object NumPy cannot read
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise StepError(f"{what} must be a NumPy array of numbers, found {type(value).__name__}")
    return array


def _number(value, what):
    try:
        return float(np.asarray(value, dtype=np.float64))
    except (TypeError, ValueError):
        raise StepError(f"{what} must be one number (a float), found "
                        f"{value_record(value)['repr']} ({value_record(value)['type']})") from None


def _fresh(index):
    """A case's inputs, copied: student code may change what it is given."""
    x, y, params = make_case(index)
    return x.copy(), y.copy(), copy.deepcopy(params)


def _gradient_dict(grads, what="backward"):
    """``(record, arrays)`` of a returned gradient dict: which names it holds, the arrays."""
    if not isinstance(grads, dict):
        raise StepError(f"{what} returned {type(grads).__name__}, expected a dict "
                        "{'W1': ..., 'b1': ..., 'W2': ..., 'b2': ...}")
    keys = [str(key)[:40] for key in list(grads)[:20]]
    arrays = {name: _array(grads[name], f"{what}'s {name!r}")
              for name in PARAMETER_NAMES if name in grads}
    return {"keys": keys}, arrays


def step_backprop_forward_pass(ctx):
    forward = ctx.module("backprop").forward
    outputs, arrays = [], {}
    for index in range(len(CASES)):
        x, _, params = _fresh(index)
        result = forward(x, params)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise StepError(f"forward returned {type(result).__name__}, expected a tuple "
                            "(hidden, probabilities)")
        arrays[f"{index}_hidden"] = _array(result[0], "forward's hidden")
        arrays[f"{index}_probabilities"] = _array(result[1], "forward's probabilities")
        outputs.append({})
    return {"outputs": outputs}, arrays


def step_backprop_loss_values(ctx):
    loss = ctx.module("backprop").sparse_cross_entropy
    outputs = []
    for index in range(len(LOSS_CASES)):
        probabilities, y = loss_case(index)
        outputs.append(_number(loss(probabilities, y), "sparse_cross_entropy's result"))
    return {"outputs": outputs}, {}


def step_backprop_softmax_rows(ctx):
    logits = np.array(EXTREME_LOGITS, dtype=np.float64)
    with np.errstate(all="ignore"):
        result = ctx.module("backprop").softmax(logits.copy())
    return {"outputs": [{}]}, {"probabilities": _array(result, "softmax's result")}


def step_backprop_gradients(ctx):
    backward = ctx.module("backprop").backward
    outputs, arrays = [], {}
    for index in range(len(CASES)):
        x, y, params = _fresh(index)
        record, grads = _gradient_dict(backward(x, y, params))
        outputs.append(record)
        arrays.update({f"{index}_{name}": grad for name, grad in grads.items()})
    return {"outputs": outputs}, arrays


def step_backprop_gradient_check(ctx):
    """The student's backward on the check case, and the student's own loss (forward, then
    sparse_cross_entropy) with every weight moved by +EPSILON and -EPSILON in turn."""
    module = ctx.module("backprop")
    x, y, params = _fresh(CHECK_CASE)
    record, arrays = _gradient_dict(module.backward(x.copy(), y.copy(), copy.deepcopy(params)))

    def loss(moved):
        _, probabilities = module.forward(x.copy(), moved)
        return _number(module.sparse_cross_entropy(probabilities, y.copy()),
                       "sparse_cross_entropy's result")

    for name in PARAMETER_NAMES:
        plus, minus = np.zeros_like(params[name]), np.zeros_like(params[name])
        for position in np.ndindex(params[name].shape):
            for sign, into in ((1.0, plus), (-1.0, minus)):
                moved = copy.deepcopy(params)
                moved[name][position] += sign * EPSILON
                into[position] = loss(moved)
        arrays[f"plus_{name}"], arrays[f"minus_{name}"] = plus, minus
    return {"outputs": [record]}, arrays


def step_backprop_step_update(ctx):
    gradient_step = ctx.module("backprop").gradient_step
    _, _, params = _fresh(STEP_CASE)
    result = gradient_step(params, made_up_gradients(STEP_CASE), STEP_LEARNING_RATE)
    record, arrays = _gradient_dict(result, "gradient_step")
    return {"outputs": [record]}, arrays


def step_backprop_descent_path(ctx):
    """DESCENT_STEPS steps of the student's backward then gradient_step; the parameters
    after each step (the trusted side computes the loss of each)."""
    module = ctx.module("backprop")
    x, y, params = _fresh(DESCENT_CASE)
    outputs, arrays = [], {}
    for step in range(DESCENT_STEPS):
        grads = module.backward(x.copy(), y.copy(), copy.deepcopy(params))
        _, shaped = _gradient_dict(grads)
        for name in PARAMETER_NAMES:
            if name in shaped and shaped[name].shape != params[name].shape:
                raise StepError(f"backward's {name!r} has shape {shaped[name].shape}, its "
                                f"parameter {params[name].shape}: a gradient must have its "
                                "parameter's shape to take a step (see 7.2)")
        result = module.gradient_step(params, grads, DESCENT_LEARNING_RATE)
        record, found = _gradient_dict(result, "gradient_step")
        missing = [name for name in PARAMETER_NAMES if name not in found]
        if missing:
            raise StepError(f"gradient_step returned no {', '.join(missing)}")
        params = {name: np.array(found[name], dtype=np.float64) for name in PARAMETER_NAMES}
        arrays.update({f"{step}_{name}": value.copy() for name, value in params.items()})
        outputs.append(record)
    return {"outputs": outputs}, arrays


def step_backprop_answers(ctx):
    return record_answers(ctx.module("backprop"), ctx.inputs.get("questions", [])), {}


# ------------------------------------------------------------------------ record checks

PART = Part(
    title="backpropagation",
    graded_modules=("backprop",),
    steps=(step_backprop_forward_pass, step_backprop_loss_values, step_backprop_softmax_rows,
           step_backprop_gradients, step_backprop_gradient_check, step_backprop_step_update,
           step_backprop_descent_path, step_backprop_answers),
    record_checks={"backprop_forward_pass": one_output_per_case(len(CASES)),
                   "backprop_loss_values": one_output_per_case(len(LOSS_CASES)),
                   "backprop_softmax_rows": one_output_per_case(1),
                   "backprop_gradients": one_output_per_case(len(CASES)),
                   "backprop_gradient_check": one_output_per_case(1),
                   "backprop_step_update": one_output_per_case(1),
                   "backprop_descent_path": one_output_per_case(DESCENT_STEPS),
                   "backprop_answers": every_question},
    inputs=questions,
)
