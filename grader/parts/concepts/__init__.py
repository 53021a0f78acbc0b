"""Part 6: concept checks: ``gradient_descent``, ``iterations_per_epoch`` and the
multiple-choice answers of ``concepts.py``.

The questions are the answer names the test file asks for with ``_answer(concept_answers,
"NAME")`` (read from the trusted test file, never from the submission): adding a question
is its answer in ``solutions/concepts.py`` plus one test case.
"""

import math
import re

import numpy as np

from grader.parts import Part
from grader.probes import to_float_list, value_record

GRADIENT_DESCENT_CASES = ((0.1, 50, 0.0), (0.25, 4, 10.0), (1.1, 10, 0.0))
ITERATION_CASES = ((1000, 32), (1000, 1000), (60000, 1), (7, 8), (2000, 16))
#: Most answers one concepts.py may hold (a bound on what the probe records).
MAX_ANSWERS = 100
_ASKED = re.compile(r"_answer\(\s*concept_answers\s*,\s*[\"']([A-Z][A-Z0-9_]*)[\"']")


def questions(test_source):
    """The answer names the test file asks for, in order of first mention."""
    return {"questions": list(dict.fromkeys(_ASKED.findall(test_source)))}


def step_concept_answers(ctx):
    module = ctx.module("concepts")
    names = [name for name in ctx.inputs.get("questions", [])][:MAX_ANSWERS]
    names += sorted(name for name in vars(module) if name.isupper() and
                    isinstance(vars(module).get(name + "_CHOICES"), dict) and name not in names)
    answers = {}
    for name in names[:MAX_ANSWERS]:
        value = getattr(module, name, "<missing>")
        answers[name] = value[:200] if isinstance(value, str) else value_record(value)
    return {"answers": answers}, {}


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



def _one_output_per_case(cases):
    def check(value, arrays, inputs):
        outputs = value.get("outputs") if isinstance(value, dict) else None
        if not isinstance(outputs, list) or len(outputs) != len(cases):
            return f"{len(cases)} results, one per case the grader asked for"
        value["cases"] = [list(case) for case in cases]  # the grader's, never the record's
        return None
    return check


def _every_question(value, arrays, inputs):
    asked = inputs.get("questions", [])
    answers = value.get("answers") if isinstance(value, dict) else None
    if not isinstance(answers, dict) or not set(asked) <= set(answers):
        return f"the answers {', '.join(asked)}"
    return None


PART = Part(
    title="concepts",
    graded_modules=("concepts",),
    steps=(step_concept_answers, step_descent_paths, step_iteration_counts),
    record_checks={"descent_paths": _one_output_per_case(GRADIENT_DESCENT_CASES),
                   "iteration_counts": _one_output_per_case(ITERATION_CASES),
                   "concept_answers": _every_question},
    inputs=questions,
)
