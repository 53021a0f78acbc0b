"""``make calibrate``: grade the reference over several seeds and record its spread.

Writes ``grader/calibration.json``: per metric the mean, std, min and max over the
seeds, plus the dataset's sha256, the grading profile, the library versions, the seeds,
the threshold rule, the date, and per calibrated part (a part with experiments) a
*fingerprint* of everything its figures depend on: the profile's settings for it, the
data, the reference modules it runs, the grader's reference model, the library versions
and the seeds. Only the parts whose fingerprint changed are measured again (``--all``
re-measures every part), so adding a batch size re-trains the batch-size sweep only.

``make dist`` refuses to build while a fingerprint differs (``stale_parts``). Re-running
with the same inputs leaves the file unchanged (the date is kept when nothing changed).
"""

import datetime
import hashlib
import importlib.metadata
import json
import os
import tempfile
from pathlib import Path

from grader import calibration, engine, experiment_checks, parts, submission
from grader.config import GRADE, PACKAGE_DIR

#: Fewest seeds `make calibrate` accepts: a spread needs several runs to mean anything.
MIN_SEEDS = 5
DEFAULT_SEEDS = (1, 2, 3, 4, 5)


def calibrated_parts():
    """``{name: Part}`` of the selected parts whose figures are calibrated."""
    return {name: part for name, part in parts.PARTS.items() if part.calibrated}


def versions():
    names = ("tensorflow-cpu", "keras", "numpy", "tensorboard", "otter-grader")
    found = {}
    for name in names:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def _shared_settings(profile):
    """The profile's settings every part depends on (all but the sweeps and the seed)."""
    sweeps = {name for name, _ in profile.sweeps}
    return {k: v for k, v in profile.to_dict().items() if k not in sweeps and k != "seed"}


def fingerprint(part, solutions_dir, profile, dataset_sha256, seeds):
    """What part ``part``'s calibrated figures depend on, as one sha256."""
    solutions = Path(solutions_dir)
    document = {
        "settings": _shared_settings(profile),
        "sweeps": {step: sweep.values(profile) for step, sweep in sorted(part.experiments.items())},
        "dataset_sha256": dataset_sha256,
        "part": parts.source_digest([part.folder / "__init__.py"]),
        # the modules it grades (the ones it only needs are not run: the experiments get
        # the grader's reference model builder)
        "solutions": parts.source_digest(solutions / f"{module}.py"
                                         for module in part.graded_modules),
        "reference_model": parts.source_digest([PACKAGE_DIR / "reference_model.py"]),
        "versions": versions(),
        "seeds": sorted(seeds),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def read_document(path):
    """The calibration file as a dict ({} when it is absent or unreadable)."""
    try:
        with open(path) as handle:
            document = json.load(handle)
        return document if isinstance(document, dict) else {}
    except (OSError, ValueError):
        return {}


def stale_parts(solutions_dir, path, profile=GRADE, dataset_sha256=None, seeds=None):
    """``{part name: why}`` for each calibrated part whose recorded fingerprint is not the
    current one (or that has no figures yet). Empty: the calibration fits."""
    document = read_document(path)
    if dataset_sha256 is None:
        dataset_sha256 = engine.load_data(profile)[1].sha256
    seeds = seeds or document.get("seeds") or DEFAULT_SEEDS
    recorded = document.get("parts") if isinstance(document.get("parts"), dict) else {}
    stale = {}
    for name, part in calibrated_parts().items():
        if name not in recorded:
            stale[name] = "never calibrated"
        elif recorded[name] != fingerprint(part, solutions_dir, profile, dataset_sha256, seeds):
            stale[name] = ("its settings, the data, its reference modules, the reference model, "
                           "the library versions or the seeds changed")
    return stale


def measure(solutions_dir, profile, data, selected=None):
    """Metrics of one graded run of ``solutions_dir`` with ``profile``, for the parts
    ``selected`` (``{name: Part}``; default: every calibrated part)."""
    selected = selected if selected is not None else calibrated_parts()
    steps = {step for part in selected.values() for step in part.experiments}
    with tempfile.TemporaryDirectory(prefix="train-calibrate-") as staged:
        submission.stage(solutions_dir, staged)
        env, _ = engine.collect(staged, profile, steps, data, replay_runs=False)
    figures = {}
    for part in selected.values():
        for step_name, sweep in part.experiments.items():
            experiment = env[step_name]
            if not hasattr(experiment, "runs"):
                raise RuntimeError(f"the reference failed in {step_name}: {experiment.error}")
            figures.update(experiment_checks.metrics(experiment, sweep.metrics))
        if part.extra_metrics:
            figures.update(part.extra_metrics(env))
    return figures


def _metric_owner(name, selected):
    prefixes = {sweep.metrics for part in selected.values() for sweep in part.experiments.values()}
    return name.split(".", 1)[0] in prefixes


def write_replay_cache(solutions_dir, selected=None, profile=GRADE, progress=print, folder=None):
    """Replay the reference's runs of the ``selected`` parts (default: every calibrated
    part) at the grading seed into ``folder`` (default ``grader/replay_cache/``, shipped in
    the autograder zip), so grading a correct submission costs no replay training. Returns
    the file names written, by part."""
    from grader import replay
    selected = selected if selected is not None else calibrated_parts()
    folder = Path(folder or replay.SHIPPED_CACHE_DIR)
    folder.mkdir(exist_ok=True)
    written = {}
    previous = os.environ.get(replay.CACHE_ENV_VAR)
    os.environ[replay.CACHE_ENV_VAR] = str(folder)
    try:
        data, _ = engine.load_data(profile)
        for name, part in selected.items():
            progress(f"replaying the reference's {name} runs at seed {profile.seed} ...")
            with tempfile.TemporaryDirectory(prefix="train-calibrate-") as staged:
                submission.stage(solutions_dir, staged)
                env, _ = engine.collect(staged, profile, set(part.experiments), data)
            unverified = [f"{step}: {run.label}" for step in part.experiments
                          for run in getattr(env[step], "runs", []) if not run.verified]
            if unverified or any(not hasattr(env[step], "runs") for step in part.experiments):
                raise RuntimeError(f"the reference's {name} runs did not verify against their "
                                   f"replay: {unverified}")
            written[name] = sorted({f"{run.replay_digest}.json" for step in part.experiments
                                    for run in env[step].runs})
    finally:
        if previous is None:
            os.environ.pop(replay.CACHE_ENV_VAR, None)
        else:
            os.environ[replay.CACHE_ENV_VAR] = previous
    return written


def main(solutions_dir, output, *, seeds=DEFAULT_SEEDS, every_part=False, profile=GRADE,
         progress=print):
    """Re-measure the stale calibrated parts (all with ``every_part``) and rewrite
    ``output`` and the replays in ``replay_cache/`` beside it (``grader/replay_cache/`` for
    the shipped file); returns the names of the parts measured."""
    if len(set(seeds)) < MIN_SEEDS:
        raise ValueError(f"calibration needs at least {MIN_SEEDS} different seeds, got {list(seeds)}")
    data, dataset = engine.load_data(profile)
    previous = read_document(output)
    same_seeds = sorted(previous.get("seeds") or []) == sorted(seeds)
    stale = calibrated_parts() if every_part or not same_seeds else {
        name: calibrated_parts()[name]
        for name in stale_parts(solutions_dir, output, profile, dataset.sha256, seeds)}
    if not stale:
        progress(f"{output} is current for every calibrated part: nothing to measure")
        return []
    progress(f"calibrating {', '.join(stale)} over seeds {list(seeds)} ...")
    per_seed = []
    for seed in seeds:
        progress(f"calibrating: seed {seed} ...")
        per_seed.append(measure(solutions_dir, profile.with_seed(seed), data, stale))
    names = sorted(set().union(*per_seed))
    metrics = {name: stats for name, stats in (previous.get("metrics") or {}).items()
               if not _metric_owner(name, stale)}
    metrics.update({name: calibration.summarize([figures[name] for figures in per_seed
                                                 if name in figures]) for name in names})
    # Parts this assignment file leaves out keep their figures and replays (another
    # assignment file, e.g. TRAIN_GRADER_ASSIGNMENT, may still use them).
    replays = {name: files for name, files in (previous.get("replays") or {}).items()
               if name not in stale}
    replay_dir = Path(output).resolve().parent / "replay_cache"
    keep = {file for files in replays.values() for file in files}
    for old in replay_dir.glob("*.json"):
        if old.name not in keep:
            old.unlink()
    replays.update(write_replay_cache(solutions_dir, stale, profile, progress, replay_dir))
    document = {
        "about": "Reference-solution figures over several seeds; thresholds follow 'rule'. "
                 "Regenerate with `make calibrate`.",
        "rule": calibration.RULE,
        "profile": profile.to_dict(),
        "dataset": {"description": dataset.description, "sha256": dataset.sha256},
        "versions": versions(),
        "seeds": list(seeds),
        "metrics": metrics,
        "parts": {**{name: digest for name, digest in (previous.get("parts") or {}).items()
                     if name not in calibrated_parts()},
                  **{name: fingerprint(part, solutions_dir, profile, dataset.sha256, seeds)
                     for name, part in calibrated_parts().items()}},
        "replays": replays,
    }
    if {k: v for k, v in previous.items() if k != "date"} == document:
        document["date"] = previous.get("date")
    else:
        document["date"] = datetime.date.today().isoformat()
    with open(output, "w") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)
        handle.write("\n")
    progress(f"wrote {output}: {len(metrics)} metrics; measured {', '.join(stale)} "
             f"over seeds {list(seeds)}")
    for name, stats in sorted(metrics.items()):
        if name.endswith("held_out_accuracy"):
            progress(f"  {name:<48} min {stats['min']:.3f}  mean {stats['mean']:.3f}  "
                     f"max {stats['max']:.3f}  std {stats['std']:.3f}")
    return list(stale)
