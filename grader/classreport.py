"""The class report next to a gradebook: what a whole class got right and wrong.

``write_report(records, rows, folder)`` writes into ``folder``:

* ``index.html``: score histogram, pass rate of every test, the most common failure
  messages of each test with their counts ("40% fail 1.10: ..."), grading time per
  submission, and the submissions that could not be graded (with why);
* ``score_histogram.png``, ``pass_rate.png``, ``grading_time.png``: the charts;
* ``tests.csv`` (one row per test: pass rate and its three most common failures),
  ``failures.csv`` (one row per test and failure message, with its count and the
  submissions that got it), ``submissions.csv`` (score, status, grading seconds, where).

Failure messages are grouped by their first line with numbers replaced by ``#``, so
"found 0.53" and "found 0.61" count as one mistake; the most frequent wording is shown.
"""

import collections
import csv
import html
import os
import re

#: Failure messages listed per test (all are in failures.csv).
TOP_MESSAGES = 3
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def message_key(message):
    """The group a failure message belongs to: its first line, numbers as ``#``."""
    first = (message or "").strip().splitlines()[0] if (message or "").strip() else "(no message)"
    return _NUMBER.sub("#", first)[:300]


def test_statistics(records):
    """``[{id, name, part, hidden, max_score, graded, passed, pass_rate, failures}]`` in
    the order the tests run; ``failures`` is ``[(message, count, [submissions])]``, most
    common first."""
    tests = collections.OrderedDict()
    for record in records:
        if record.get("status") != "graded":
            continue
        for test in record.get("tests", []):
            entry = tests.setdefault(test["name"], {
                "id": test["id"], "name": test["name"], "part": test["part"],
                "hidden": test["hidden"], "max_score": test["max_score"], "graded": 0,
                "passed": 0, "groups": collections.OrderedDict()})
            entry["graded"] += 1
            if test["passed"]:
                entry["passed"] += 1
                continue
            group = entry["groups"].setdefault(message_key(test["message"]), {
                "count": 0, "wordings": collections.Counter(), "submissions": []})
            group["count"] += 1
            group["wordings"][test["message"] or "(no message)"] += 1
            group["submissions"].append(record["name"])
    found = []
    for entry in tests.values():
        groups = sorted(entry.pop("groups").values(), key=lambda g: -g["count"])
        entry["failures"] = [(g["wordings"].most_common(1)[0][0], g["count"], g["submissions"])
                             for g in groups]
        entry["pass_rate"] = entry["passed"] / entry["graded"] if entry["graded"] else 0.0
        found.append(entry)
    return found


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def _charts(records, statistics, folder):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot
    graded = [r for r in records if r.get("status") == "graded"]
    made = {}

    figure, axes = pyplot.subplots(figsize=(7, 3.5))
    scores = [r["score"] for r in graded]
    top = max([r["max_score"] for r in graded] or [1.0])
    axes.hist(scores, bins=min(20, max(5, len(set(scores)))), range=(0, top), color="#4c72b0",
              edgecolor="white")
    axes.set_xlabel(f"score (out of {top:g})")
    axes.set_ylabel("submissions")
    axes.set_title(f"Scores of {len(graded)} graded submission(s)")
    figure.tight_layout()
    figure.savefig(os.path.join(folder, "score_histogram.png"), dpi=100)
    pyplot.close(figure)
    made["score_histogram"] = "score_histogram.png"

    figure, axes = pyplot.subplots(figsize=(7, max(3.0, 0.22 * len(statistics) + 1)))
    labels = [s["id"] for s in statistics][::-1]
    rates = [100 * s["pass_rate"] for s in statistics][::-1]
    axes.barh(labels, rates, color=["#55a868" if r >= 50 else "#c44e52" for r in rates])
    axes.set_xlim(0, 100)
    axes.set_xlabel("% of graded submissions passing")
    axes.set_title("Pass rate per test")
    axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    figure.savefig(os.path.join(folder, "pass_rate.png"), dpi=100)
    pyplot.close(figure)
    made["pass_rate"] = "pass_rate.png"

    figure, axes = pyplot.subplots(figsize=(7, 3.5))
    names = [r["name"] for r in records]
    axes.bar(range(len(records)), [r.get("seconds") or 0 for r in records],
             color=["#4c72b0" if r.get("status") == "graded" else "#c44e52" for r in records])
    axes.set_xticks(range(len(records)))
    axes.set_xticklabels(names, rotation=90, fontsize=6 if len(names) > 20 else 8)
    axes.set_ylabel("seconds")
    axes.set_title("Grading time per submission (red: could not grade)")
    figure.tight_layout()
    figure.savefig(os.path.join(folder, "grading_time.png"), dpi=100)
    pyplot.close(figure)
    made["grading_time"] = "grading_time.png"
    return made


def write_report(records, rows, folder):
    """Write the class report for ``records`` (see the module doc); returns its index."""
    os.makedirs(folder, exist_ok=True)
    statistics = test_statistics(records)
    graded = [r for r in records if r.get("status") == "graded"]
    failed = [r for r in records if r.get("status") != "graded"]
    not_graded = [row for row in rows if row.get("status") == "not graded"]

    _write_csv(os.path.join(folder, "tests.csv"),
               ["test", "name", "part", "hidden", "points", "graded", "passed", "pass_rate",
                "failure_1", "count_1", "failure_2", "count_2", "failure_3", "count_3"],
               [[s["id"], s["name"], s["part"], s["hidden"], s["max_score"], s["graded"],
                 s["passed"], round(s["pass_rate"], 4)]
                + [x for message, count, _ in s["failures"][:TOP_MESSAGES]
                   for x in (message, count)]
                for s in statistics])
    _write_csv(os.path.join(folder, "failures.csv"),
               ["test", "message", "count", "share_of_graded", "submissions"],
               [[s["id"], message, count, round(count / s["graded"], 4), " ".join(names)]
                for s in statistics for message, count, names in s["failures"]])
    _write_csv(os.path.join(folder, "submissions.csv"),
               ["submission", "status", "score", "max_score", "seconds", "part_cpu_seconds",
                "worker", "problem"],
               [[r["name"], r["status"], r["score"], r["max_score"], r.get("seconds"),
                 r.get("cpu_seconds", ""), r.get("worker", ""), r.get("problem") or ""]
                for r in records])
    charts = _charts(records, statistics, folder)

    e = html.escape
    scores = sorted(r["score"] for r in graded)
    top = max([r["max_score"] for r in graded] or [0])
    mean = sum(scores) / len(scores) if scores else 0.0
    median = scores[len(scores) // 2] if scores else 0.0
    seconds = [r.get("seconds") or 0 for r in records]
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Class report</title>",
             "<style>body{font-family:sans-serif;max-width:70em;margin:auto}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
             "vertical-align:top;font-size:90%}.bad{color:#c44e52}</style></head><body>",
             "<h1>Class report</h1>",
             f"<p>{len(records) + len(not_graded)} submission(s): {len(graded)} graded, "
             f"{len(failed)} could not be graded"
             + (f", {len(not_graded)} not graded yet (interrupted run)" if not_graded else "")
             + f". Mean score {mean:.2f} / {top:g}, median {median:g}. Grading time: "
             f"{sum(seconds):.0f} s in all, {max(seconds or [0]):.0f} s at most.</p>",
             "<h2>Scores</h2>", f"<img src='{charts['score_histogram']}' alt='score histogram'>",
             "<h2>Tests</h2>", f"<img src='{charts['pass_rate']}' alt='pass rate per test'>",
             "<table><tr><th>test</th><th>points</th><th>pass rate</th>"
             "<th>most common failures (count)</th></tr>"]
    for s in statistics:
        failures = "<br>".join(
            f"<b>{count}</b> ({100 * count / s['graded']:.0f}%): {e(message)}"
            for message, count, _ in s["failures"][:TOP_MESSAGES])
        parts.append(f"<tr><td>{e(s['name'])}{' (hidden)' if s['hidden'] else ''}</td>"
                     f"<td>{s['max_score']:g}</td>"
                     f"<td{' class=bad' if s['pass_rate'] < 0.5 else ''}>"
                     f"{100 * s['pass_rate']:.0f}% ({s['passed']}/{s['graded']})</td>"
                     f"<td>{failures}</td></tr>")
    parts.append("</table>")
    parts += ["<h2>Grading time</h2>", f"<img src='{charts['grading_time']}' alt='grading time'>",
              "<h2>Could not be graded</h2>"]
    if failed or not_graded:
        parts.append("<table><tr><th>submission</th><th>why</th></tr>")
        parts += [f"<tr><td>{e(r['name'])}</td><td>{e(r.get('problem') or '')}</td></tr>"
                  for r in failed]
        parts += [f"<tr><td>{e(row['submission'])}</td><td>{e(row['problem'])}</td></tr>"
                  for row in not_graded]
        parts.append("</table>")
    else:
        parts.append("<p>None: every submission was graded.</p>")
    parts.append("<p>Files: <a href='tests.csv'>tests.csv</a>, <a href='failures.csv'>"
                 "failures.csv</a>, <a href='submissions.csv'>submissions.csv</a>.</p>"
                 "</body></html>")
    index = os.path.join(folder, "index.html")
    with open(index, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))
    return index
