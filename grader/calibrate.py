"""``make calibrate``: grade the reference over several seeds and record its spread.

Writes ``grader/calibration.json``: per metric the mean, std, min and max over the
seeds, plus the dataset's sha256, the grading profile, the library versions, the seeds,
the threshold rule and the date. Re-running with the same inputs leaves the file
unchanged (the date is kept when nothing else changed).
"""

import dataclasses
import datetime
import importlib.metadata
import json
import os
import tempfile

from grader import calibration, engine, experiment_checks, submission
from grader.config import GRADE

EXPERIMENT_PREFIXES = {
    "normalization_experiment": "normalization",
    "batch_size_experiment": "batch_size",
    "learning_rate_experiment": "learning_rate",
    "optimizer_experiment": "optimizer",
}


def measure(solutions_dir, profile, data):
    """Metrics of one graded run of ``solutions_dir`` with ``profile``."""
    with tempfile.TemporaryDirectory(prefix="train-calibrate-") as staged:
        submission.stage(solutions_dir, staged)
        env, outcomes = engine.collect(staged, profile, set(EXPERIMENT_PREFIXES), data)
    figures = {}
    for step_name, prefix in EXPERIMENT_PREFIXES.items():
        experiment = env[step_name]
        if not hasattr(experiment, "runs"):
            raise RuntimeError(f"the reference failed in {step_name}: {experiment.error}")
        figures.update(experiment_checks.metrics(experiment, prefix))
    normalization = env["normalization_experiment"]
    figures["normalization.gap.held_out_accuracy"] = (
        normalization.run("normalized").held_out_accuracy - normalization.run("raw").held_out_accuracy)
    return figures


def write_replay_cache(solutions_dir, profile=GRADE, progress=print):
    """Replay the reference's runs at the grading seed into ``grader/replay_cache/`` (shipped
    in the autograder zip), so grading a correct submission costs no replay training."""
    from grader import replay
    folder = replay.SHIPPED_CACHE_DIR
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    progress(f"replaying the reference's runs at seed {profile.seed} into {folder} ...")
    previous = os.environ.get(replay.CACHE_ENV_VAR)
    os.environ[replay.CACHE_ENV_VAR] = str(folder)
    try:
        data, _ = engine.load_data(profile)
        with tempfile.TemporaryDirectory(prefix="train-calibrate-") as staged:
            submission.stage(solutions_dir, staged)
            env, _ = engine.collect(staged, profile, set(EXPERIMENT_PREFIXES), data)
    finally:
        if previous is None:
            os.environ.pop(replay.CACHE_ENV_VAR, None)
        else:
            os.environ[replay.CACHE_ENV_VAR] = previous
    unverified = [f"{name}: {run.label}" for name in EXPERIMENT_PREFIXES
                  for run in getattr(env[name], "runs", []) if not run.verified]
    if unverified or any(not hasattr(env[name], "runs") for name in EXPERIMENT_PREFIXES):
        raise RuntimeError(f"the reference's runs did not verify against their replay: {unverified}")
    progress(f"wrote {len(list(folder.glob('*.json')))} replays to {folder}")


def versions():
    names = ("tensorflow-cpu", "keras", "numpy", "tensorboard", "otter-grader")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def build_document(solutions_dir, seeds, profile=GRADE, progress=print):
    data, dataset = engine.load_data(profile)
    per_seed = []
    for seed in seeds:
        progress(f"calibrating: seed {seed} ...")
        per_seed.append(measure(solutions_dir, profile.with_seed(seed), data))
    names = sorted(set().union(*per_seed))
    metrics = {name: calibration.summarize([figures[name] for figures in per_seed if name in figures])
               for name in names}
    return {
        "about": "Reference-solution figures over several seeds; thresholds follow 'rule'. "
                 "Regenerate with `make calibrate`.",
        "rule": calibration.RULE,
        "profile": {k: (list(v) if isinstance(v, tuple) else v)
                    for k, v in dataclasses.asdict(profile).items()},
        "dataset": {"description": dataset.description, "sha256": dataset.sha256},
        "versions": versions(),
        "seeds": list(seeds),
        "metrics": metrics,
    }


#: Fewest seeds `make calibrate` accepts: a spread needs several runs to mean anything.
MIN_SEEDS = 5


def main(solutions_dir, output, *, seeds):
    if len(set(seeds)) < MIN_SEEDS:
        raise ValueError(f"calibration needs at least {MIN_SEEDS} different seeds, got {list(seeds)}")
    document = build_document(solutions_dir, seeds)
    previous = None
    if os.path.exists(output):
        with open(output) as handle:
            previous = json.load(handle)
    if previous is not None and {k: v for k, v in previous.items() if k != "date"} == document:
        document["date"] = previous.get("date")
    else:
        document["date"] = datetime.date.today().isoformat()
    with open(output, "w") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)
        handle.write("\n")
    print(f"wrote {output}: {len(document['metrics'])} metrics over seeds {seeds}")
    for name, stats in sorted(document["metrics"].items()):
        if name.endswith("held_out_accuracy"):
            print(f"  {name:<48} min {stats['min']:.3f}  mean {stats['mean']:.3f}  "
                  f"max {stats['max']:.3f}  std {stats['std']:.3f}")
