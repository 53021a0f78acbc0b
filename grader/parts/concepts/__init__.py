"""Part 6: concept checks: ``gradient_descent``, ``iterations_per_epoch`` and the
multiple-choice answers of ``concepts.py``.

The questions are the answer names the test file asks for with ``_answer(concept_answers,
"NAME")`` (read from the trusted test file, never from the submission): adding a question
is its answer in ``solutions/concepts.py`` plus one test case.
"""

import math

import numpy as np

from grader.choices import every_question, questions, record_answers
from grader.parts import Part, one_output_per_case
from grader.probes import to_float_list, value_record

GRADIENT_DESCENT_CASES = ((0.1, 50, 0.0), (0.25, 4, 10.0), (1.1, 10, 0.0))
ITERATION_CASES = ((1000, 32), (1000, 1000), (60000, 1), (7, 8), (2000, 16))
def step_concept_answers(ctx):
    return record_answers(ctx.module("concepts"), ctx.inputs.get("questions", [])), {}


def step_descent_paths(ctx):
    function = ctx.module("concepts").gradient_descent
    outputs = []
    for learning_rate, n_steps, x0 in GRADIENT_DESCENT_CASES:
        positions = function(learning_rate, n_steps, x0=x0)
        outputs.append(to_float_list(list(positions), "gradient_descent's result"))
    return {"cases": [list(c) for c in GRADIENT_DESCENT_CASES], "outputs": outputs}, {}


def step_iteration_counts(ctx):
    function = ctx.module("concepts").iterations_per_epoch
    outputs = []
    for n_samples, batch_size in ITERATION_CASES:
        value = function(n_samples, batch_size)
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            outputs.append(int(value))
            continue
        record = value_record(value)  # not an int: kept with the number it stands for, if any
        if isinstance(value, (float, np.floating)) and math.isfinite(float(value)):
            record["number"] = float(value)
        outputs.append(record)
    return {"cases": [list(c) for c in ITERATION_CASES], "outputs": outputs}, {}



PART = Part(
    title="concepts",
    graded_modules=("concepts",),
    steps=(step_concept_answers, step_descent_paths, step_iteration_counts),
    record_checks={"descent_paths": one_output_per_case(len(GRADIENT_DESCENT_CASES),
                                                        cases=GRADIENT_DESCENT_CASES),
                   "iteration_counts": one_output_per_case(len(ITERATION_CASES),
                                                           cases=ITERATION_CASES),
                   "concept_answers": every_question},
    inputs=questions,
)
