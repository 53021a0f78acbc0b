"""Small ``check_*`` helpers for test-file authors.

Each raises AssertionError with a student-facing message that says what was expected,
what was found, and what to try. Test files call them instead of bare ``assert``.
"""

import math


def fail(expected, found, hint=None):
    """Raise the standard three-part message."""
    message = f"Expected {expected}, found {found}."
    if hint:
        message += f" Try: {hint}"
    raise AssertionError(message)


def check(condition, expected, found, hint=None):
    """``fail(expected, found, hint)`` unless ``condition``."""
    if not condition:
        fail(expected, found, hint)


def check_step(step):
    """Fail with the step's own error if student code did not run to the end."""
    if step is None:
        raise AssertionError("This check could not run: the grader has no result for it.")
    if not step.ok:
        raise AssertionError(step.error)


def check_at_least(value, lower, what, hint=None):
    check(value is not None and not math.isnan(value) and value >= lower,
          f"{what} of at least {lower:.3f}", "none" if value is None else f"{value:.3f}", hint)


def check_at_most(value, upper, what, hint=None):
    check(value is not None and not math.isnan(value) and value <= upper,
          f"{what} of at most {upper:.3f}", "none" if value is None else f"{value:.3f}", hint)


def check_close(found, expected, what, *, tolerance=1e-4, hint=None):
    ok = found is not None and math.isclose(found, expected, rel_tol=tolerance, abs_tol=tolerance)
    check(ok, f"{what} = {expected:.6g}", "none" if found is None else f"{found:.6g}", hint)
