"""The calibration on real drawings, beside the embedded default's and the course's figures.

Runs exactly what ``make calibrate`` runs (``grader.calibrate.build_document``: the
reference graded in the grading profile, once per seed) with ``TRAIN_QUICKDRAW_DATA``
pointing at real Quick, Draw! drawings, and prints a markdown table of every held-out
and validation figure next to the same figures in ``grader/calibration.json`` (the
embedded synthetic default) and the course's published figures for ``quickdraw10``.

The real data is read where it lies; nothing is copied into the project. Usage::

    python bench/real_data.py [--data ../shared/data/quickdraw-real] [--seeds 1 2 3 4 5]
                              [--epochs 3] [--json out.json]
"""

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from datasets.source import DATA_ENV_VAR  # noqa: E402
from grader.config import CALIBRATION_FILE, GRADE  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "quickdraw-real"

#: The course's published validation accuracies (quickdraw10.npz, 10 classes, 10 epochs).
COURSE = {
    "normalization.normalized.val_accuracy": (0.871, 0.878),
    "normalization.raw.val_accuracy": (0.780, 0.789),
}

#: Rows of the table, in order: (metric, label).
ROWS = (
    ("normalization.normalized.val_accuracy", "normalized run, validation accuracy"),
    ("normalization.raw.val_accuracy", "raw run, validation accuracy"),
    ("normalization.normalized.held_out_accuracy", "normalized run, held-out accuracy"),
    ("normalization.raw.held_out_accuracy", "raw run, held-out accuracy"),
    ("normalization.gap.held_out_accuracy", "normalized minus raw, held-out"),
    ("batch_size.16.held_out_accuracy", "batch size 16, held-out"),
    ("batch_size.128.held_out_accuracy", "batch size 128, held-out"),
    ("learning_rate.0.001.held_out_accuracy", "Adam, learning rate 0.001, held-out"),
    ("learning_rate.1.held_out_accuracy", "Adam, learning rate 1, held-out"),
    ("optimizer.adam.held_out_accuracy", "Adam 0.001, held-out"),
    ("optimizer.rmsprop.held_out_accuracy", "RMSprop 0.001, held-out"),
    ("optimizer.sgd.held_out_accuracy", "SGD 0.001, held-out"),
)


def calibrate_on(data_dir, seeds, profile):
    """``build_document`` with ``TRAIN_QUICKDRAW_DATA`` set to ``data_dir`` for the call."""
    from grader import calibrate
    previous = os.environ.get(DATA_ENV_VAR)
    os.environ[DATA_ENV_VAR] = str(data_dir)
    try:
        return calibrate.build_document(str(ROOT / "solutions"), seeds, profile=profile,
                                        progress=lambda line: print(line, file=sys.stderr))
    finally:
        if previous is None:
            os.environ.pop(DATA_ENV_VAR, None)
        else:
            os.environ[DATA_ENV_VAR] = previous


def cell(stats):
    if not stats:
        return "-"
    if stats["min"] == stats["max"]:
        return f"{stats['mean']:.3f}"
    return f"{stats['mean']:.3f} ({stats['min']:.3f}-{stats['max']:.3f})"


def table(default, real, *, epochs):
    """Markdown: one row per figure; mean (min-max) over the seeds of each document."""
    lines = [
        f"| figure | embedded default ({len(default['seeds'])} seeds) | "
        f"real drawings ({len(real['seeds'])} seeds) | course, quickdraw10, 10 epochs |",
        "|---|---|---|---|",
    ]
    for metric, label in ROWS:
        course = COURSE.get(metric)
        lines.append(f"| {label} | {cell(default['metrics'].get(metric))} | "
                     f"{cell(real['metrics'].get(metric))} | "
                     f"{f'{course[0]:.3f}-{course[1]:.3f}' if course else '-'} |")
    lines += [
        "",
        f"Grading profile: {GRADE.n_train} train / {GRADE.n_val} validation / {GRADE.n_test} "
        f"held-out drawings, {epochs} epochs, batch size {GRADE.batch_size}.",
        f"Embedded default: {default['dataset']['description']}.",
        f"Real drawings: {real['dataset']['description']}.",
        "Chance level is 1/k for k classes (0.100 for 10, 0.167 for 6).",
        "The course's figures are for 10 classes, 100,000 drawings and 10 epochs: a bigger "
        "and longer run than the grading profile's, quoted for scale.",
    ]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA),
                        help="a folder of numpy_bitmap <category>.npy files or a quickdraw10.npz")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--epochs", type=int, default=GRADE.epochs,
                        help="epochs per run (the grading profile's by default)")
    parser.add_argument("--json", help="also write the real-data calibration document here")
    args = parser.parse_args(argv)
    if not Path(args.data).exists():
        parser.error(f"{args.data} does not exist (the real drawings live outside the project, "
                     "in ../shared/data/quickdraw-real)")
    profile = dataclasses.replace(GRADE, epochs=args.epochs)
    started = time.monotonic()
    real = calibrate_on(args.data, args.seeds, profile)
    default = json.loads(Path(CALIBRATION_FILE).read_text())
    if args.json:
        Path(args.json).write_text(json.dumps(real, indent=1, sort_keys=True) + "\n")
    print(table(default, real, epochs=args.epochs))
    print(f"\n({time.monotonic() - started:.0f} s for {len(args.seeds)} seeds)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
