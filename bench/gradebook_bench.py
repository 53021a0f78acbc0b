"""Wall time of ``grade-all`` for a class of 20: sequential vs parallel vs a Dask LocalCluster.

    python bench/gradebook_bench.py [--count 20] [--profile grade] [--modes ...] [--json out]

The class is made of real submissions: copies of the reference (each with its own
comment, so each is graded), variants (correct but different), mutants (realistic
mistakes), the untouched skeleton and a zip with a corrupt member. Modes:

* ``sequential``: one grade after another in this process, a fresh sandbox worker (and
  TensorFlow import) per grade: what ``grade-all`` did before (``--jobs 0``);
* ``pool-1``: one persistent grading process (TensorFlow imported once);
* ``parallel``: ``--jobs`` = the usable CPUs (2 here), each process pinned to its own CPU;
* ``dask``: a ``distributed.LocalCluster`` of 2 single-threaded worker processes on
  127.0.0.1, through ``--scheduler``.

Every mode grades from scratch (its own store, no replay cache kept between modes) and
must give the same gradebook CSV; the script prints seconds per mode, per submission and
the projection for 200 submissions (``200 * (wall - first_grade_overhead) / count``
would flatter; the projection here is simply ``wall * 200 / count``).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def make_class(folder, count):
    from conftest import ASSIGNMENT, SOLUTIONS, make_submission
    from mutants.corpus import MUTANTS
    from variants.corpus import VARIANTS
    from test_gradebook import corrupt_zip
    folder.mkdir(parents=True)
    made = []
    shutil.copytree(ASSIGNMENT, folder / "skeleton",
                    ignore=shutil.ignore_patterns("__pycache__", "tests"))
    made.append("skeleton")
    corrupt_zip(folder / "corrupt.zip", "experiments.py")
    made.append("corrupt")
    rest = count - len(made)
    n_variants = n_mutants = rest * 3 // 10
    for prefix, corpus, wanted in (("variant", VARIANTS, n_variants),
                                   ("mutant", MUTANTS, n_mutants)):
        taken = 0
        for item in corpus:
            if taken == wanted:
                break
            try:
                make_submission(folder, item.replacements, name=f"{prefix}_{item.name}")
            except AssertionError:  # an entry that no longer applies to solutions/
                shutil.rmtree(folder / f"{prefix}_{item.name}", ignore_errors=True)
                continue
            made.append(item.name)
            taken += 1
    index = 0
    while len(made) < count:
        index += 1
        target = folder / f"reference_{index:02d}"
        shutil.copytree(SOLUTIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
        with open(target / "concepts.py", "a") as handle:
            handle.write(f"\n# student {index}\n")
        made.append(target.name)
    return made


def run_mode(mode, folder, out, profile, jobs):
    from grader import gradebook
    options = dict(profile=profile, progress=False, regrade=True)
    started = time.monotonic()
    if mode == "dask":
        import distributed
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            run = gradebook.grade_all(folder, out / "gradebook.csv",
                                      scheduler=cluster.scheduler_address, **options)
    else:
        chosen = {"sequential": 0, "pool-1": 1, "parallel": jobs}[mode]
        run = gradebook.grade_all(folder, out / "gradebook.csv", jobs=chosen, **options)
    wall = time.monotonic() - started
    seconds = [r.get("seconds") or 0 for r in run.records.values()]
    return {"mode": mode, "wall_seconds": round(wall, 1), "submissions": len(run.rows),
            "could_not_grade": len(run.failed), "sum_grade_seconds": round(sum(seconds), 1),
            "projected_200_minutes": round(wall * 200 / len(run.rows) / 60, 1),
            "csv": (out / "gradebook.csv").read_text()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--profile", default="grade")
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--modes", nargs="+", default=["sequential", "parallel", "dask"],
                        choices=["sequential", "pool-1", "parallel", "dask"])
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    os.environ.pop("TRAIN_GRADER_REPLAY_CACHE", None)  # every mode replays what it must
    from grader import gradebook
    jobs = args.jobs or gradebook.default_jobs()
    work = Path(tempfile.mkdtemp(prefix="gradebook-bench-"))
    try:
        made = make_class(work / "class", args.count)
        print(f"{len(made)} submissions ({args.profile} profile), {os.cpu_count()} CPUs, "
              f"parallel jobs {jobs}, load {os.getloadavg()[0]:.1f}", flush=True)
        figures = []
        for mode in args.modes:
            figure = run_mode(mode, work / "class", work / mode, args.profile, jobs)
            figures.append(figure)
            print(f"{mode:>10}: {figure['wall_seconds']:7.1f} s wall for {figure['submissions']} "
                  f"({figure['wall_seconds'] / figure['submissions']:.1f} s each; "
                  f"{figure['could_not_grade']} could not grade); 200 submissions: "
                  f"{figure['projected_200_minutes']} min; load now {os.getloadavg()[0]:.1f}",
                  flush=True)
        same = len({f["csv"] for f in figures}) == 1
        print("same gradebook CSV in every mode:", same)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump([{k: v for k, v in f.items() if k != "csv"} for f in figures]
                          + [{"same_csv": same}], handle, indent=2)
        return 0 if same else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
