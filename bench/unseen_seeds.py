"""Does the reference earn every point at seeds the calibration never saw?

Grades ``solutions/`` with the real command line (``python -m grader grade SUBMISSION
--seed S``, the grade profile, hidden tests included) once per seed, optionally with only
some parts selected (an assignment file made from ``grader/assignment.toml`` with a
shorter ``[parts]`` table, passed as ``TRAIN_GRADER_ASSIGNMENT``), and prints one line per
seed: the score, the seconds it took and every test that lost points with the first line of
its message. Ends with a summary line; exits 1 when any seed lost a point.

Not a test (20 seeds of the training parts take about half an hour on 2 cores): run it by
hand after a recalibration, or after changing a part's thresholds.

Usage::

    python bench/unseen_seeds.py [--parts backprop,regularization] [--first 201] [--count 20]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))

from grader.config import ASSIGNMENT_FILE  # noqa: E402


def assignment_with(parts, directory):
    """An assignment file like the configured one with only ``parts`` (in its order)."""
    text = ASSIGNMENT_FILE.read_text()
    configured = tomllib.loads(text)["parts"]
    unknown = sorted(set(parts) - set(configured))
    if unknown:
        raise SystemExit(f"--parts: {', '.join(unknown)} not in {ASSIGNMENT_FILE} "
                         f"(expected some of {', '.join(configured)})")
    start = re.search(r"^\[parts\][ \t]*$", text, re.M).end()
    end = re.search(r"^\[", text[start:], re.M).start() + start
    kept = [line for line in text[start:end].splitlines()
            if line.split("=")[0].strip() in parts or not line.strip()]
    text = text[:start] + "\n".join(kept) + "\n\n" + text[end:]
    path = Path(directory) / "assignment.toml"
    path.write_text(text)
    return path


def grade(submission, seed, environ):
    """``(score, max_score, [failed test lines], seconds)`` of one grade at ``seed``."""
    with tempfile.TemporaryDirectory() as directory:
        results = Path(directory) / "results.json"
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "grader", "grade", str(submission),
                               "--seed", str(seed), "--results", str(results)],
                              cwd=HERE, env=environ, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if not results.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            return None, None, [f"no results (exit {done.returncode}): {' | '.join(tail)}"], seconds
        report = json.loads(results.read_text())
    failed = [f"{test['name']}: {(test.get('output') or '').strip().splitlines()[0:1]}"
              for test in report.get("tests", []) if test.get("score", 0) < test.get("max_score", 0)]
    score = sum(test.get("score", 0) for test in report.get("tests", []))
    max_score = sum(test.get("max_score", 0) for test in report.get("tests", []))
    return score, max_score, failed, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", help="comma-separated part names (default: every part)")
    parser.add_argument("--first", type=int, default=201, help="first seed (default 201)")
    parser.add_argument("--count", type=int, default=20, help="number of seeds (default 20)")
    parser.add_argument("--submission", default=str(HERE / "solutions"))
    args = parser.parse_args(argv)
    calibrated = set(json.loads((HERE / "grader" / "calibration.json").read_text())["seeds"])
    seeds = [seed for seed in range(args.first, args.first + args.count)]
    if calibrated & set(seeds):
        raise SystemExit(f"seeds {sorted(calibrated & set(seeds))} are calibration seeds: "
                         "choose --first past them")
    environ = dict(os.environ)
    with tempfile.TemporaryDirectory() as directory:
        if args.parts:
            environ["TRAIN_GRADER_ASSIGNMENT"] = str(assignment_with(args.parts.split(","),
                                                                     directory))
        losing = 0
        for seed in seeds:
            score, max_score, failed, seconds = grade(args.submission, seed, environ)
            full = score is not None and score == max_score and not failed
            losing += not full
            print(f"seed {seed}: {score}/{max_score} in {seconds:.0f} s"
                  + "".join(f"\n    {line}" for line in failed), flush=True)
    print(f"{len(seeds) - losing} of {len(seeds)} seeds at full marks"
          + (f" (parts: {args.parts})" if args.parts else ""))
    return 1 if losing else 0


if __name__ == "__main__":
    sys.exit(main())
