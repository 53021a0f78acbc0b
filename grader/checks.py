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


def shown(value):
    """``value`` as the student would write it, for "found ..." in messages.

    The probes record a value the grader cannot keep as it is (None where a letter was
    asked, a NumPy scalar, a tuple) as ``{"type": ..., "repr": ...}`` (see
    ``grader.probes.value_record``); it is shown as the value itself with its type, e.g.
    ``32.0 (a numpy float64)``, never as the record.
    """
    if isinstance(value, dict) and {"type", "repr"} <= set(value) and set(value) <= \
            {"type", "repr", "number"}:
        kind, text = str(value["type"]), str(value["repr"])
        if kind == "NoneType":
            return "None"
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        return f"{text} ({article} {kind})"
    return repr(value)


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
