"""Visual feedback for the student: their runs' curves against the reference's range.

Two uses:

* the notebook edition plots the histories an experiment returned
  (:func:`histories_frame` -> :func:`plot_experiment`);
* ``make check`` (``python -m grader check``) reads the TensorBoard logs the student's own
  experiments wrote under ``logs/<experiment>/<run>`` and writes one PNG per experiment
  plus ``feedback/index.html`` linking them (:func:`write_feedback`).

The reference's range is the calibrated band of the grader's hidden tests
(``grader/calibration.json``: final validation accuracy over the reference's seeds in the
grading profile, widened by the calibration's margin). That file is the autograder's and
the instructor's, not in the student bundle: without it the curves are drawn alone and
the page says so. The grader's own output stays text (the LMS shows text).
"""

from __future__ import annotations

import html
import math
import os
from pathlib import Path

from grader.config import CALIBRATION_FILE

#: Experiments, in the order students meet them: (log folder / calibration prefix, title).
EXPERIMENTS = (
    ("normalization", "Part 1: raw vs normalized pixels"),
    ("batch_size", "Part 3: batch size"),
    ("learning_rate", "Part 4: learning rate"),
    ("optimizer", "Part 5: optimizers"),
)
TITLES = dict(EXPERIMENTS)
#: Run directory prefixes of the experiments (``batch_size_32`` -> setting "32").
RUN_PREFIXES = {"batch_size": "batch_size_", "learning_rate": "learning_rate_",
                "optimizer": "optimizer_"}
METRICS = ("val_loss", "val_accuracy")
FEEDBACK_DIR = "feedback"


def setting_label(value):
    """How a setting is written in run names and the calibration: 1.0 -> "1"."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return format(value, "g")
    return str(value)


def histories_frame(results):
    """A long pandas DataFrame (setting, epoch, metric, value) of ``{setting: history}``.

    ``history`` is a dict of per-epoch lists (or a Keras ``History``); epochs count from 1.
    """
    import pandas as pd
    rows = []
    for setting, history in results.items():
        history = getattr(history, "history", history)
        for metric, values in history.items():
            for epoch, value in enumerate(values, start=1):
                rows.append((setting_label(setting), epoch, str(metric), float(value)))
    if not rows:
        raise ValueError("the results hold no per-epoch values")
    return pd.DataFrame(rows, columns=["setting", "epoch", "metric", "value"])


def reference_band(experiment, calibration=None):
    """``{setting: (lower, upper)}`` of the reference's final validation accuracy, or {}
    when the calibration file is not there (the student bundle) or cannot be read."""
    from grader import calibration as calibration_module
    path = Path(calibration) if calibration is not None else CALIBRATION_FILE
    if not path.is_file():
        return {}
    try:
        thresholds = calibration_module.load(path)
    except calibration_module.CalibrationError:
        return {}
    band = {}
    prefix, suffix = f"{experiment}.", ".val_accuracy"
    for metric in sorted(thresholds.metrics):
        if metric.startswith(prefix) and metric.endswith(suffix):
            setting = metric[len(prefix):-len(suffix)]
            band[setting] = (max(0.0, thresholds.lower(metric)), min(1.0, thresholds.upper(metric)))
    return band


def plot_experiment(frame, experiment, *, title=None, band=None):
    """Validation loss and accuracy per epoch, one line per setting; the reference's range
    of final validation accuracy as a shaded bar in the same colour at the last epoch.

    Returns a ``matplotlib.figure.Figure`` (not registered with pyplot: the notebook shows
    it once, and a PNG is written without a display).
    """
    from matplotlib.figure import Figure
    band = band or {}
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    axes = figure.subplots(1, 2)
    settings = list(dict.fromkeys(frame["setting"]))
    colours = {s: f"C{i % 10}" for i, s in enumerate(settings)}
    last_epoch = int(frame["epoch"].max())
    for axis, metric in zip(axes, METRICS):
        for setting in settings:
            rows = frame[(frame["setting"] == setting) & (frame["metric"] == metric)]
            if rows.empty:
                continue
            values = [v if math.isfinite(v) else float("nan") for v in rows["value"]]
            axis.plot(rows["epoch"], values, marker="o", color=colours[setting], label=setting)
            if metric == "val_accuracy" and setting in band:
                lower, upper = band[setting]
                axis.fill_between([last_epoch - 0.25, last_epoch + 0.25], lower, upper,
                                  color=colours[setting], alpha=0.2, linewidth=0)
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric.replace("_", " "))
        axis.set_xticks(range(1, last_epoch + 1))
        axis.grid(alpha=0.3)
        if metric == "val_loss" and _spread(frame, metric) > 50:
            axis.set_yscale("log")
    axes[1].set_ylim(0, 1)
    axes[1].legend(title=_legend_title(experiment), fontsize="small")
    note = ("shaded: the reference's range of final validation accuracy (grading profile)"
            if band else "the reference's range is not in this bundle (the autograder holds it)")
    figure.suptitle(title or TITLES.get(experiment, experiment))
    figure.text(0.5, -0.02, note, ha="center", va="top", fontsize="small", color="0.35")
    return figure


def _spread(frame, metric):
    values = [v for v in frame[frame["metric"] == metric]["value"] if math.isfinite(v) and v > 0]
    return max(values) / min(values) if values else 1.0


def _legend_title(experiment):
    return {"normalization": "input", "batch_size": "batch size",
            "learning_rate": "learning rate", "optimizer": "optimizer"}.get(experiment)


# --------------------------------------------------------------------------- from logs


def read_runs(experiment_dir, experiment):
    """``{setting: history}`` from the TensorBoard logs of one experiment's runs.

    Each run folder ``<experiment_dir>/<run>/validation`` holds ``epoch_loss`` and
    ``epoch_accuracy`` (Keras's callback layout); runs without them are left out.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    results = {}
    prefix = RUN_PREFIXES.get(experiment, "")
    for run in sorted(p for p in Path(experiment_dir).iterdir() if p.is_dir()):
        validation = run / "validation"
        if not validation.is_dir():
            continue
        accumulator = EventAccumulator(str(validation), size_guidance={"scalars": 0, "tensors": 0})
        accumulator.Reload()
        history = {}
        for metric, tag in (("val_loss", "epoch_loss"), ("val_accuracy", "epoch_accuracy")):
            events = _scalar_events(accumulator, tag)
            if events:
                history[metric] = [value for _, value in sorted(events)]
        if history:
            name = run.name[len(prefix):] if prefix and run.name.startswith(prefix) else run.name
            results[name] = history
    return dict(sorted(results.items(), key=lambda item: _setting_order(item[0])))


def _setting_order(name):
    try:
        return (0, float(name), name)
    except ValueError:
        return (1, 0.0, name)


def _scalar_events(accumulator, tag):
    tags = accumulator.Tags()
    if tag in tags.get("scalars", []):
        return [(e.step, float(e.value)) for e in accumulator.Scalars(tag)]
    if tag in tags.get("tensors", []):
        from tensorboard.util import tensor_util
        return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto)))
                for e in accumulator.Tensors(tag)]
    return []


def write_feedback(log_root, out_dir=None, *, calibration=None):
    """One PNG per experiment found under ``log_root`` and an ``index.html`` linking them.

    Parameters
    ----------
    log_root : path
        Folder holding ``normalization/``, ``batch_size/``, ``learning_rate/``,
        ``optimizer/`` (each with one folder per run), as the notebook and README write.
    out_dir : path, default=<log_root>/../feedback
    calibration : path, optional

    Returns
    -------
    Path or None
        The HTML page, or None when no experiment's logs were found.
    """
    log_root = Path(log_root)
    out_dir = Path(out_dir) if out_dir is not None else log_root.parent / FEEDBACK_DIR
    sections = []
    for experiment, title in EXPERIMENTS:
        folder = log_root / experiment
        if not folder.is_dir():
            continue
        results = read_runs(folder, experiment)
        if not results:  # no run with validation scalars
            continue
        band = reference_band(experiment, calibration)
        frame = histories_frame(results)
        out_dir.mkdir(parents=True, exist_ok=True)
        image = out_dir / f"{experiment}.png"
        plot_experiment(frame, experiment, title=title, band=band).savefig(image, dpi=90, bbox_inches="tight")
        sections.append(_section(experiment, title, image.name, results, band))
    if not sections:
        return None
    page = out_dir / "index.html"
    page.write_text(_page(sections, bool(reference_band("normalization", calibration))),
                    encoding="utf-8")
    return page


def _section(experiment, title, image, results, band):
    rows = []
    for setting, history in results.items():
        accuracy = (history.get("val_accuracy") or [float("nan")])[-1]
        low_high = band.get(setting)
        if low_high is None:
            verdict, shown = "", "-"
        else:
            shown = f"{low_high[0]:.2f} - {low_high[1]:.2f}"
            inside = low_high[0] <= accuracy <= low_high[1]
            verdict = "inside" if inside else (
                "above: the reference does not get there" if accuracy > low_high[1]
                else "below: the reference does better")
        rows.append(f"<tr><td>{html.escape(setting)}</td><td>{accuracy:.3f}</td>"
                    f"<td>{shown}</td><td>{html.escape(verdict)}</td></tr>")
    return (f"<h2>{html.escape(title)}</h2>\n<img src=\"{html.escape(image)}\" alt=\"{html.escape(title)}\">\n"
            f"<table><tr><th>{html.escape(_legend_title(experiment) or 'setting')}</th>"
            f"<th>your final val accuracy</th><th>reference range</th><th></th></tr>\n"
            + "\n".join(rows) + "\n</table>")


def _page(sections, has_band):
    about = ("Shaded bars and the last column: the reference solution's range of final "
             "validation accuracy over several seeds in the grading profile (2,000 drawings, "
             "3 epochs), widened by the grader's margin. Your runs use your own sizes and "
             "epochs, so compare the shape: which setting wins, which one fails."
             if has_band else
             "The reference's range is not in this bundle (the autograder holds it): compare "
             "your settings with each other and with the course notes.")
    body = "\n".join(sections)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Your training runs"
            "</title>\n<style>body{font-family:sans-serif;max-width:980px;margin:auto}"
            "img{max-width:100%}td,th{padding:2px 10px;text-align:left}</style></head><body>\n"
            f"<h1>Your training runs</h1>\n<p>{html.escape(about)}</p>\n{body}\n"
            f"<p>From the logs under <code>logs/</code>; open them in TensorBoard with "
            f"<code>tensorboard --logdir logs</code>.</p>\n</body></html>\n")


def feedback_summary(page):
    """One line for the terminal."""
    shown = os.path.relpath(page)
    return f"curves of your runs: {os.path.abspath(page) if shown.startswith('..') else shown} " \
           "(open it in a browser)"
