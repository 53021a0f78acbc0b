"""What the evidence design costs a grade: the reference graded with the shipped replay
cache (every run verified without training) and with no cache (every run replayed live).

    python bench/evidence_cost.py [--repeats 2]

Prints wall seconds and the replay's share for both, as a Markdown table for README.
Run it on an otherwise idle machine; inside the LMS-sized cgroup use bench/cgroup_grade.py.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def grade_seconds(extra_env):
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, **extra_env, "TRAIN_GRADER_REPLAY_CACHE": folder}
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "grader", "grade", "solutions", "--results",
             os.path.join(folder, "results.json")],
            cwd=REPO, env=env, capture_output=True, text=True)
        seconds = time.monotonic() - started
        if completed.returncode != 0 or "100 / 100" not in completed.stdout:
            raise SystemExit(f"the reference did not score 100:\n{completed.stdout[-2000:]}"
                             f"\n{completed.stderr[-2000:]}")
        return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    rows = {"shipped replay cache (the LMS case)": {},
            "no cache: every run replayed live": {"TRAIN_GRADER_NO_SHIPPED_REPLAYS": "1"}}
    print("| grade of the reference | wall s (each run) |")
    print("|---|---|")
    for label, env in rows.items():
        figures = [grade_seconds(env) for _ in range(args.repeats)]
        print(f"| {label} | {', '.join(f'{f:.1f}' for f in figures)} |")


if __name__ == "__main__":
    main()
