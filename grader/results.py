"""Writing a GradeReport: Gradescope's results.json and a readable table.

Messages and notes hold text from student code (exception messages, output), which may
be any Python string, including lone surrogates that UTF-8 cannot encode: every string
is made valid UTF-8 (``clean_text``) before it is printed or written, so results.json is
always valid UTF-8 JSON.
"""

import json
import os
import tempfile

#: Gradescope visibility of hidden test results (shown once grades are published).
HIDDEN_VISIBILITY = "after_published"
MAX_OUTPUT_CHARS = 4000


#: Start of the message of a grade that could not be made (see ``failure_document``).
COULD_NOT_GRADE = "The autograder could not grade this submission"


def clean_text(text):
    """``str(text)`` as valid UTF-8: lone surrogates (and anything else UTF-8 cannot
    encode) become '?'."""
    try:
        text = str(text)
    except Exception:  # noqa: BLE001 - an object whose __str__ fails
        text = "[text that could not be shown]"
    return text.encode("utf-8", "replace").decode("utf-8")


def clean(document):
    """``document`` (dicts, lists, strings, numbers) with every string made valid UTF-8."""
    if isinstance(document, str):
        return clean_text(document)
    if isinstance(document, dict):
        return {clean_text(key): clean(value) for key, value in document.items()}
    if isinstance(document, (list, tuple)):
        return [clean(value) for value in document]
    return document


def _cap(text):
    text = clean_text(text)
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + "\n[... cut ...]"


def to_gradescope(report):
    """The report as a dict in Gradescope's results.json schema. A report whose grade
    could not be made (``report.infrastructure_failure``) becomes ``failure_document``."""
    if getattr(report, "infrastructure_failure", None):
        document = failure_document(report.infrastructure_failure)
        document["execution_time"] = int(report.seconds)
        return document
    tests = []
    for result in report.results:
        tests.append({
            "name": result.name,
            "score": result.score,
            "max_score": result.max_score,
            "status": "passed" if result.passed else "failed",
            "output": _cap(result.message),
            "visibility": HIDDEN_VISIBILITY if result.hidden else "visible",
        })
    document = {
        "score": report.score,
        "tests": tests,
        "execution_time": int(report.seconds),
        "stdout_visibility": "hidden",
    }
    if report.notes:
        document["output"] = _cap("\n".join(report.notes))
    return clean(document)


def failure_document(message):
    """A valid results.json for when grading itself could not complete."""
    return {"score": 0, "tests": [], "stdout_visibility": "hidden",
            "output": _cap(f"{COULD_NOT_GRADE}: {clean_text(message)}\nPlease tell the course "
                           "staff; this is not a problem with your code.")}


def write_json(document, path):
    """Write atomically, so a reader never sees half a file."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".results-")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(clean(document), stream, indent=2, allow_nan=False)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def format_table(report, *, show_hidden_messages=True):
    """A plain-text per-test table with the total, and each failure's message below it."""
    return clean_text(_table(report, show_hidden_messages))


def _table(report, show_hidden_messages):
    if getattr(report, "infrastructure_failure", None):
        return failure_document(report.infrastructure_failure)["output"]
    width = max([len(r.name) for r in report.results] + [20])
    lines = [f"{'test':<{width}}  {'score':>11}  visibility", "-" * (width + 26)]
    for result in report.results:
        visibility = "hidden" if result.hidden else "public"
        mark = "ok " if result.passed else "FAIL"
        lines.append(f"{result.name:<{width}}  {result.score:>4g} / {result.max_score:<4g}  "
                     f"{visibility} {mark}")
    lines.append("-" * (width + 26))
    lines.append(f"{'total':<{width}}  {report.score:>4g} / {report.max_score:<4g}  "
                 f"({report.seconds:.1f} s)")
    failures = [r for r in report.results if not r.passed
                and (show_hidden_messages or not r.hidden)]
    if failures:
        lines.append("")
        lines.append("What to fix:")
        for result in failures:
            lines.append(f"* {result.name}:")
            lines.extend("    " + line for line in result.message.splitlines()[:12])
    for note in report.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)
