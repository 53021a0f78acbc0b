"""Grading a folder of submissions into a gradebook CSV (one row per submission).

One submission can never cost the gradebook: a grade that raises or could not be made
becomes a row with score 0 and a ``problem`` saying so, the loop goes on, and the CSV
is rewritten atomically after every submission (a crash or Ctrl-C leaves the rows so far).
"""

import csv
import os
import tempfile
import traceback

from grader import engine, results

COULD_NOT_GRADE = "could not grade (not a problem with the student's code)"


def submissions_in(folder):
    """Sub-folders and .zip files of ``folder``, sorted by name."""
    entries = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if os.path.isdir(path) or name.lower().endswith(".zip"):
            entries.append((os.path.splitext(name)[0] if name.lower().endswith(".zip") else name, path))
    return entries


def grade_all(folder, gradebook_path, *, profile, results_dir=None, progress=print):
    """Grade every submission in ``folder``; write the gradebook and optional results.json files.

    Returns the list of rows written (dicts); a row with a ``problem`` could not be graded.
    """
    rows = []
    for name, path in submissions_in(folder):
        row, document = _grade_one(name, path, profile)
        rows.append(row)
        if results_dir:
            results.write_json(document, os.path.join(results_dir, f"{name}.json"))
        write_csv(rows, gradebook_path)
        progress(results.clean_text(f"{name}: {row['score']:g} / {row['max_score'] or '?'}"
                                    + (f" ({row['problem']})" if row.get("problem") else "")))
    write_csv(rows, gradebook_path)
    return rows


def _grade_one(name, path, profile):
    """``(row, results document)`` for one submission; never raises an Exception."""
    try:
        report = engine.grade(path, profile=profile)
        document = results.to_gradescope(report)
    except Exception as error:  # noqa: BLE001 - one submission must not lose the gradebook
        traceback.print_exc()
        problem = _first_line(f"{COULD_NOT_GRADE}: {type(error).__name__}: {error}")
        return ({"submission": name, "score": 0, "max_score": "", "problem": problem},
                results.failure_document(f"{type(error).__name__}: {error}"))
    if report.infrastructure_failure:
        problem = _first_line(f"{COULD_NOT_GRADE}: {report.infrastructure_failure}")
        return ({"submission": name, "score": 0, "max_score": "", "problem": problem},
                document)
    row = {"submission": name, "score": report.score, "max_score": report.max_score}
    for result in report.results:
        row[result.file] = row.get(result.file, 0.0) + result.score
    row["failed_tests"] = "; ".join(r.name.split(" ", 1)[0] for r in report.results if not r.passed)
    return row, document


def _first_line(text, limit=300):
    return (text.splitlines() or [""])[0][:limit]


def write_csv(rows, path):
    """Write ``rows`` (columns: every key, in order of first appearance) atomically."""
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    path = os.path.abspath(path)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".gradebook-")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, fieldnames=columns)
            writer.writeheader()
            writer.writerows([{key: results.clean_text(value) if isinstance(value, str) else value
                               for key, value in row.items()} for row in rows])
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
