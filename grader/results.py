"""Writing a GradeReport: Gradescope's results.json and a readable table."""

import json
import os
import tempfile

#: Gradescope visibility of hidden test results (shown once grades are published).
HIDDEN_VISIBILITY = "after_published"
MAX_OUTPUT_CHARS = 4000


def _cap(text):
    text = str(text)
    return text if len(text) <= MAX_OUTPUT_CHARS else text[:MAX_OUTPUT_CHARS] + "\n[... cut ...]"


def to_gradescope(report):
    """The report as a dict in Gradescope's results.json schema."""
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
    return document


def failure_document(message):
    """A valid results.json for when grading itself could not complete."""
    return {"score": 0, "tests": [], "stdout_visibility": "hidden",
            "output": _cap("The autograder could not grade this submission: " + message
                           + "\nPlease tell the course staff; this is not a problem with your code.")}


def write_json(document, path):
    """Write atomically, so a reader never sees half a file."""
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".results-")
    with os.fdopen(handle, "w") as stream:
        json.dump(document, stream, indent=2)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def format_table(report, *, show_hidden_messages=True):
    """A plain-text per-test table with the total, and each failure's message below it."""
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
