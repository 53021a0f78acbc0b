"""Part 6: check for understanding. Otter exception-based test file.

Each mistake costs its own test: 6.3 is the one test that asks for an int, so a count
returned as an integer-valued float (``np.ceil``: ``32.0``) fails 6.3 only, and 6.4 judges
the number itself. 6.5 checks the form of every answer; 6.6-6.8 each judge one answer.
The public 6.9 and 6.10 judge the docstrings' own examples (learning rate 0.1 from 0; 1000
samples in batches of 32), so the self-check catches what a student can see there; the
hidden 6.2 and 6.4 judge every case.
Values the grader could not keep as they are (None, NumPy scalars) are shown as the
student would write them (``grader.checks.shown``).
"""

import math

from otter.test_files import test_case

from grader.checks import check, check_step, fail, shown

OK_FORMAT = False
name = "Part 6: concepts"

LETTERS = ("a", "b", "c", "d")
#: The docstrings' own examples (public tests 6.9 and 6.10 judge them; 6.2 and 6.4 every case).
DOCSTRING_DESCENT = (0.1, 50, 0.0)
DOCSTRING_ITERATIONS = (1000, 32)


@test_case(name="6.1 gradient_descent returns the n_steps + 1 positions", points=1, hidden=False)
def test_gradient_descent_shape(descent_paths):
    check_step(descent_paths)
    for (rate, n_steps, x0), positions in zip(descent_paths.value["cases"],
                                              descent_paths.value["outputs"]):
        check(len(positions) == n_steps + 1 and positions[0] == x0,
              f"{n_steps + 1} positions starting at x0={x0} for n_steps={n_steps}",
              f"{len(positions)} positions starting at {positions[0] if positions else None}",
              "include the starting point, then append one position per step")


def _check_positions(case, positions):
    rate, n_steps, x0 = case
    expected = [x0]
    while len(expected) <= n_steps:  # the docstring's step, n_steps times
        expected.append(expected[-1] - rate * 2 * (expected[-1] - 3))
    same = len(positions) == len(expected) and all(
        math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9) for a, b in zip(positions, expected))
    check(same, f"positions {[round(v, 4) for v in expected[:5]]}... for learning rate {rate} "
          f"from x0={x0}", f"{[round(v, 4) for v in positions[:5]]}...",
          "the gradient of (x - 3)**2 is 2 * (x - 3); step against it")


@test_case(name="6.3 iterations_per_epoch returns integers", points=1, hidden=False)
def test_iterations_type(iteration_counts):
    check_step(iteration_counts)
    for value in iteration_counts.value["outputs"]:
        check(isinstance(value, int), "an int (a count of updates)", shown(value),
              "math.ceil returns an int; np.ceil returns a float: wrap it in int(...)")


def _check_count(case, value):
    n_samples, batch_size = case
    expected = -(-n_samples // batch_size)
    check(_number(value) == expected, f"{expected} for {n_samples} samples, batch size {batch_size}",
          shown(value), "a smaller last batch still counts as one update: math.ceil(n / batch)")


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


@test_case(name="6.9 gradient_descent: the docstring's example (learning rate 0.1 approaches 3)",
           points=1, hidden=False)
def test_gradient_descent_example(descent_paths):
    check_step(descent_paths)
    for case, positions in zip(descent_paths.value["cases"], descent_paths.value["outputs"]):
        if tuple(case) == DOCSTRING_DESCENT:
            _check_positions(case, positions)
            return
    fail(f"the case {DOCSTRING_DESCENT} among the ones the grader asked for", "none")


@test_case(name="6.10 iterations_per_epoch: the docstring's example (1000 samples, batch size "
                "32 -> 32)", points=1, hidden=False)
def test_iterations_example(iteration_counts):
    check_step(iteration_counts)
    for case, value in zip(iteration_counts.value["cases"], iteration_counts.value["outputs"]):
        if tuple(case) == DOCSTRING_ITERATIONS:
            _check_count(case, value)
            return
    fail(f"the case {DOCSTRING_ITERATIONS} among the ones the grader asked for", "none")
