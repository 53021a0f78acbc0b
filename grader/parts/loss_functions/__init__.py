"""Part 9: loss functions in NumPy (``losses.py``): mean squared error, binary and sparse
categorical cross-entropy (with ``from_logits``), the gradients of cross-entropy and of MSE
with respect to the logits, and two multiple-choice answers.

Nothing is trained: every probe calls a pure function on the grader's fixed inputs below,
and the test file computes the expected values itself from the same constants (never from
the record). The inputs include the numerical traps: probabilities of exactly 0 and 1, and
logits of +-1000.
"""

import numpy as np

from grader.choices import every_question, questions, record_answers
from grader.parts import Part, one_output_per_case
from grader.probes import student_traceback, value_record

#: ``(y_true, y_pred)`` pairs for ``mean_squared_error``.
MSE_CASES = (
    ((1.5, -0.5, 2.0, 0.0), (1.0, 0.0, 2.5, -1.0)),
    (((0.0, 1.0, 0.0), (1.0, 0.0, 0.0)), ((0.2, 0.7, 0.1), (0.5, 0.3, 0.2))),
    (((3.0,), (-1.0,), (0.5,)), ((2.0,), (-1.0,), (0.0,))),
)

#: ``(y_true, y_pred, from_logits, extreme)`` for ``binary_crossentropy``; ``extreme`` marks
#: the inputs where a naive formula gives NaN, inf or a wrong number.
BCE_CASES = (
    ((0, 1, 1, 0), (0.1, 0.8, 0.6, 0.3), False, False),
    (((1, 0), (0, 1), (1, 1)), ((0.9, 0.2), (0.4, 0.7), (0.55, 0.95)), False, False),
    ((1, 0, 1, 0), (1.0, 0.0, 0.0, 1.0), False, True),
    ((0, 1, 1), (0.0, 1.0, 0.5), False, True),
    ((0, 1, 1, 0), (-1.2, 2.0, 0.3, 0.8), True, False),
    (((1, 0), (0, 1), (1, 1)), ((2.5, -0.5), (0.1, -3.0), (4.0, 1.5)), True, False),
    ((1, 0, 1, 0), (1000.0, -1000.0, -1000.0, 1000.0), True, True),
    ((1, 0, 1), (-1000.0, 1000.0, 30.0), True, True),
)

#: ``(labels, y_pred, from_logits, extreme)`` for ``sparse_categorical_crossentropy``.
SCCE_CASES = (
    ((0, 2, 1), ((0.7, 0.2, 0.1), (0.1, 0.3, 0.6), (0.25, 0.5, 0.25)), False, False),
    ((3, 0), ((0.1, 0.2, 0.3, 0.4), (0.05, 0.05, 0.8, 0.1)), False, False),
    ((0, 1, 2), ((1.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)), False, True),
    ((1, 1), ((0.0, 1.0), (0.5, 0.5)), False, True),
    ((1, 0, 3), ((0.5, 2.0, -1.0, 0.0), (3.0, 1.0, 0.2, -0.7), (-2.0, 0.0, 1.0, 1.5)), True,
     False),
    ((2, 0), ((1.0, 1.0, 1.0), (-0.3, 0.9, 0.4)), True, False),
    ((0, 1, 2), ((1000.0, 0.0, -1000.0), (1000.0, 0.0, -1000.0), (-1000.0, -1000.0, 1000.0)),
     True, True),
    ((0, 2), ((-1000.0, -1000.0, -1000.0), (-1000.0, 1000.0, 999.0)), True, True),
)

#: ``(logits, label)`` for ``logit_gradients``; ``CONFIDENTLY_WRONG`` indexes the cases
#: whose largest logit is not the label's.
GRADIENT_CASES = (
    ((8.0, 0.0, 0.0), 1),
    ((0.5, -1.0, 2.0, 0.0), 2),
    ((0.0, 0.0, 0.0, 0.0, 0.0), 4),
    ((-3.0, 9.0, 1.0), 0),
)

#: The examples of ``losses.py``'s docstrings, in the form of the cases above. They are
#: asked for with the rest (last in each tuple); the public tests judge them, so the
#: self-check catches every mistake a docstring's own example shows.
EXAMPLES = {
    "mean_squared_error": (((1.0, 2.0), (1.0, 4.0)),),
    "binary_crossentropy": (((1, 0), (0.9, 0.2), False, False),
                            ((0, 1), (1000.0, 1000.0), True, True)),
    "sparse_categorical_crossentropy": (((0, 1), ((0.5, 0.5), (0.2, 0.8)), False, False),
                                        ((1,), ((1000.0, 0.0),), True, True)),
    "logit_gradients": (((0.0, 0.0), 0),),
}
MSE_CASES += EXAMPLES["mean_squared_error"]
BCE_CASES += EXAMPLES["binary_crossentropy"]
SCCE_CASES += EXAMPLES["sparse_categorical_crossentropy"]
GRADIENT_CASES += EXAMPLES["logit_gradients"]
CONFIDENTLY_WRONG = (0, 3)



def _loss_record(value):
    """What one call returned: ``{"number": x}`` for a single number, else how it looks
    (an array's shape, or the value's type and repr)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value_record(value)
    if array.ndim == 0:
        return {"number": float(array)}
    return {"shape": list(array.shape), **value_record(value)}


def _calls(ctx, function, arguments):
    """One record per call of ``function(*args, **kwargs)``: its result or its error."""
    outputs = []
    for args, kwargs in arguments:
        try:
            outputs.append(_loss_record(function(*args, **kwargs)))
        except Exception as error:  # one failing case must not hide the others
            outputs.append({"error": student_traceback(error, ctx.submission_dir)})
    return outputs


def _float(values):
    return np.array(values, dtype=np.float64)


def step_squared_error_values(ctx):
    function = ctx.module("losses").mean_squared_error
    return {"outputs": _calls(ctx, function, [((_float(t), _float(p)), {})
                                              for t, p in MSE_CASES])}, {}


def _cross_entropy_calls(cases, labels_dtype):
    """Probabilities are passed without ``from_logits`` (its default must be False)."""
    return [((np.array(t, dtype=labels_dtype), _float(p)), {"from_logits": True} if logits else {})
            for t, p, logits, _ in cases]


def step_binary_ce_values(ctx):
    function = ctx.module("losses").binary_crossentropy
    return {"outputs": _calls(ctx, function, _cross_entropy_calls(BCE_CASES, np.float64))}, {}


def step_sparse_ce_values(ctx):
    function = ctx.module("losses").sparse_categorical_crossentropy
    return {"outputs": _calls(ctx, function, _cross_entropy_calls(SCCE_CASES, np.int64))}, {}


def step_logit_gradient_values(ctx):
    function = ctx.module("losses").logit_gradients
    outputs = []
    for logits, label in GRADIENT_CASES:
        try:
            result = function(_float(logits), label)
        except Exception as error:
            outputs.append({"error": student_traceback(error, ctx.submission_dir)})
            continue
        if not isinstance(result, dict):
            outputs.append({"not_a_dict": value_record(result)})
            continue
        record = {"keys": sorted(str(key)[:40] for key in list(result)[:10])}
        for key in ("cross_entropy", "mse"):
            if key not in result:
                continue
            try:
                array = np.asarray(result[key], dtype=np.float64)
                record[key] = {"shape": list(array.shape), "values": array.reshape(-1)[:64].tolist()}
            except (TypeError, ValueError):
                record[key] = value_record(result[key])
        outputs.append(record)
    return {"outputs": outputs}, {}


def step_loss_concept_answers(ctx):
    return record_answers(ctx.module("losses"), ctx.inputs.get("questions", [])), {}


PART = Part(
    title="loss functions",
    graded_modules=("losses",),
    steps=(step_squared_error_values, step_binary_ce_values, step_sparse_ce_values,
           step_logit_gradient_values, step_loss_concept_answers),
    record_checks={"squared_error_values": one_output_per_case(len(MSE_CASES), each=dict),
                   "binary_ce_values": one_output_per_case(len(BCE_CASES), each=dict),
                   "sparse_ce_values": one_output_per_case(len(SCCE_CASES), each=dict),
                   "logit_gradient_values": one_output_per_case(len(GRADIENT_CASES), each=dict),
                   "loss_concept_answers": every_question},
    inputs=questions,
)
