"""Grading a folder of submissions into a gradebook CSV (one row per submission)."""

import csv
import os

from grader import engine, results


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

    Returns the list of rows written (dicts).
    """
    rows = []
    for name, path in submissions_in(folder):
        report = engine.grade(path, profile=profile)
        row = {"submission": name, "score": report.score, "max_score": report.max_score}
        for result in report.results:
            row[result.file] = row.get(result.file, 0.0) + result.score
        row["failed_tests"] = "; ".join(r.name.split(" ", 1)[0] for r in report.results if not r.passed)
        rows.append(row)
        if results_dir:
            results.write_json(results.to_gradescope(report), os.path.join(results_dir, f"{name}.json"))
        progress(f"{name}: {report.score:g} / {report.max_score:g} ({report.seconds:.0f} s)")
    columns = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with open(gradebook_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return rows
