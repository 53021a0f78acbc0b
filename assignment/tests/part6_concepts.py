"""Part 6: check for understanding. Otter exception-based test file.

Each mistake costs its own test: 6.3 is the one test that asks for an int, so a count
returned as an integer-valued float (``np.ceil``: ``32.0``) fails 6.3 only, and 6.4 judges
the number itself. 6.5 checks the form of every answer; 6.6-6.8 each judge one answer.
Values the grader could not keep as they are (None, NumPy scalars) are shown as the
student would write them (``grader.checks.shown``).
"""

import math

from otter.test_files import test_case

from grader.checks import check, check_step, shown

OK_FORMAT = False
name = "Part 6: concepts"

LETTERS = ("a", "b", "c", "d")


@test_case(name="6.1 gradient_descent returns the n_steps + 1 positions", points=1, hidden=False)
def test_gradient_descent_shape(descent_paths):
    check_step(descent_paths)
    for (rate, n_steps, x0), positions in zip(descent_paths.value["cases"],
                                              descent_paths.value["outputs"]):
        check(len(positions) == n_steps + 1 and positions[0] == x0,
              f"{n_steps + 1} positions starting at x0={x0} for n_steps={n_steps}",
              f"{len(positions)} positions starting at {positions[0] if positions else None}",
              "include the starting point, then append one position per step")


@test_case(name="6.3 iterations_per_epoch returns integers", points=1, hidden=False)
def test_iterations_type(iteration_counts):
    check_step(iteration_counts)
    for value in iteration_counts.value["outputs"]:
        check(isinstance(value, int), "an int (a count of updates)", shown(value),
              "math.ceil returns an int; np.ceil returns a float: wrap it in int(...)")


def _number(value):
    """The count returned: an int, or the number an integer-valued float stands for (6.3
    alone asks for an int)."""
    if isinstance(value, int):
        return value
    number = value.get("number") if isinstance(value, dict) else None
    return number if isinstance(number, (int, float)) else None


@test_case(name="6.5 every answer is one of 'a', 'b', 'c', 'd'", points=1, hidden=False)
def test_answers_format(concept_answers):
    check_step(concept_answers)
    for question, answer in concept_answers.value["answers"].items():
        check(isinstance(answer, str) and answer.strip().lower() in LETTERS,
              f"{question} to be one of {LETTERS}", shown(answer),
              "set it to one letter, as a string: e.g. \"b\"")


def _answer(concept_answers, question):
    value = concept_answers.value["answers"][question]
    return value.strip().lower() if isinstance(value, str) else None
