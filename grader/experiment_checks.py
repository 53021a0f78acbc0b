"""Checks shared by the experiment test files (Parts 1, 3, 4 and 5).

Each takes an ``grader.runs.Experiment`` and raises AssertionError with a message for
the student. ``metrics`` computes the figures that calibration records for the same runs.
"""

import math

from grader.checks import check, check_at_least, check_at_most, fail

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
LOG_TOLERANCE = 1e-4
#: History's final val_accuracy vs the grader's own evaluation of the final weights.
RECOMPUTED_TOLERANCE = 0.01


def check_histories(experiment):
    """One history per setting, with the four per-epoch series of the right length."""
    if experiment.result_error:
        raise AssertionError(experiment.result_error)
    for run in experiment.runs:
        check(run.history is not None, f"an entry for {run.label} in the returned dict",
              f"keys {experiment.returned_keys}",
              "return a dict keyed by the setting itself (e.g. 0.01 or 'sgd'), one entry per run")
        missing = [key for key in HISTORY_KEYS if key not in run.history]
        check(not missing, f"history keys {list(HISTORY_KEYS)} for {run.label}",
              f"{sorted(run.history)}", "pass validation_data to fit and the metric 'accuracy' to "
              "compile, and return history.history")
        for key in HISTORY_KEYS:
            check(len(run.history[key]) == experiment.epochs,
                  f"{experiment.epochs} values of {key!r} for {run.label} (one per epoch)",
                  f"{len(run.history[key])}", "train for the number of epochs you were given")


def check_fresh_models(experiment):
    """Every run trains its own, new model exactly once."""
    for run in experiment.runs:
        check(run.fit is not None, f"a model trained for {run.label}",
              f"{experiment.n_fits} fit calls for {len(experiment.runs)} settings",
              "build a model with build_fn and call fit once for every setting")
    models = [run.fit["model"] for run in experiment.runs]
    check(len(set(models)) == len(models), "a fresh model for every setting",
          f"{len(set(models))} model(s) trained for {len(models)} settings",
          "call build_fn inside your loop, so later runs do not continue training an earlier model")
    for run in experiment.runs:
        check(run.fit["iterations_before"] == 0, f"the model for {run.label} to start untrained",
              f"it had already taken {run.fit['iterations_before']} training steps",
              "build a new model for every run")


def _expected_steps(experiment, batch_size):
    return experiment.epochs * math.ceil(experiment.n_train / batch_size)


def check_settings(experiment, *, learning_rate=None, optimizer=None, batch_size=None):
    """Each run used its own setting and the given defaults, on the right data."""
    for run in experiment.runs:
        if run.fit is None:
            fail(f"a model trained for {run.label}", "none", "call fit once per setting")
        want_lr = run.setting if experiment.setting_name == "learning_rate" else learning_rate
        want_opt = run.setting if experiment.setting_name == "optimizer" else optimizer
        want_bs = run.setting if experiment.setting_name == "batch_size" else batch_size
        if want_lr is not None:
            check(math.isclose(run.model["learning_rate"], want_lr, rel_tol=1e-6),
                  f"the model for {run.label} built with learning_rate={want_lr:g}",
                  f"learning_rate={run.model['learning_rate']:g}",
                  "pass learning_rate=... to build_fn")
        if want_opt is not None:
            check(run.model["optimizer"] == want_opt,
                  f"the model for {run.label} built with optimizer={want_opt!r}",
                  f"optimizer={run.model['optimizer']!r}", "pass optimizer=<name> to build_fn")
        check(run.fit["epochs"] == experiment.epochs, f"{experiment.epochs} epochs for {run.label}",
              f"epochs={run.fit['epochs']!r}", "pass epochs=epochs to fit")
        shape = run.fit.get("x_shape")
        check(shape is not None and shape[0] == experiment.n_train,
              f"{run.label} to train on the {experiment.n_train} training rows",
              f"{shape[0] if shape else 'no array'} rows",
              "fit on x_train, y_train (not the validation data)")
        check(run.fit.get("validation_rows") == experiment.n_val,
              f"validation_data with the {experiment.n_val} validation rows for {run.label}",
              f"{run.fit.get('validation_rows')!r}", "pass validation_data=(x_val, y_val) to fit")
        if want_bs is not None:
            steps = run.fit["iterations_after"] - run.fit["iterations_before"]
            check(steps == _expected_steps(experiment, want_bs),
                  f"{_expected_steps(experiment, want_bs)} training steps for {run.label} "
                  f"(batch size {want_bs})", f"{steps} steps",
                  "pass batch_size=... to fit")


def check_run_dirs(experiment):
    """Each run has its own TensorBoard folder with per-epoch train and validation curves."""
    for run in experiment.runs:
        check(run.log is not None, f"TensorBoard logs in log_dir/{run.dir_name}",
              run.log_error or "none", "give every run its own log_dir/<run name> directory and a "
              "keras.callbacks.TensorBoard callback")
        for kind in ("loss", "accuracy"):
            for split in ("train", "validation"):
                series = run.log.series(kind, split)
                check(series is not None and len(series) == experiment.epochs,
                      f"{experiment.epochs} per-epoch {split} {kind} values in log_dir/{run.dir_name}",
                      "none" if series is None else f"{len(series)}",
                      "log every epoch (the callback's default update_freq='epoch') and pass "
                      "validation_data to fit")


def check_histograms(experiment, min_layers=2):
    """Each run records weight histograms for every layer with weights."""
    for run in experiment.runs:
        if run.log is None:
            fail(f"TensorBoard logs in log_dir/{run.dir_name}", run.log_error or "none")
        tags = run.log.weight_histogram_tags()
        check(len(tags) >= min_layers,
              f"weight histograms of at least {min_layers} layers in log_dir/{run.dir_name}",
              f"{len(tags)} ({', '.join(tags) or 'none'})",
              "use keras.callbacks.TensorBoard(log_dir, histogram_freq=1)")


def check_logs_match_history(experiment):
    """The logged curves are the same numbers as the returned histories."""
    pairs = (("loss", "train", "loss"), ("accuracy", "train", "accuracy"),
             ("loss", "validation", "val_loss"), ("accuracy", "validation", "val_accuracy"))
    for run in experiment.runs:
        if run.log is None or run.history is None:
            fail(f"both a history and TensorBoard logs for {run.label}", "one of them missing")
        for kind, split, key in pairs:
            logged = run.log.series(kind, split) or []
            returned = run.history.get(key) or []
            same = len(logged) == len(returned) and all(
                math.isclose(a, b, rel_tol=LOG_TOLERANCE, abs_tol=LOG_TOLERANCE)
                for a, b in zip(logged, returned))
            check(same, f"the logged {split} {kind} of {run.label} to equal the returned "
                  f"history[{key!r}] {[round(v, 4) for v in returned]}",
                  f"{[round(v, 4) for v in logged]}",
                  "return the history of the same fit that wrote this run's logs")


def check_weights_match_history(experiment):
    """The final val_accuracy returned is what the trained weights really score."""
    for run in experiment.runs:
        if run.val_accuracy_recomputed is None:
            fail(f"trained weights for {run.label}", run.weights_error or "none")
        reported = run.final("val_accuracy")
        check(reported is not None and abs(reported - run.val_accuracy_recomputed) <= RECOMPUTED_TOLERANCE,
              f"the returned final val_accuracy of {run.label} to match its trained model "
              f"({run.val_accuracy_recomputed:.4f} when the grader evaluates it)",
              "none" if reported is None else f"{reported:.4f}",
              "return each run's own history, unchanged")


def metric_name(prefix, run, metric):
    setting = format(run.setting, "g") if isinstance(run.setting, (int, float)) else run.setting
    return f"{prefix}.{setting}.{metric}"


def check_convergence(experiment, thresholds, prefix, *, bounded_above=()):
    """Held-out accuracy of every run's weights inside the reference's envelope."""
    for run in experiment.runs:
        if run.held_out_accuracy is None:
            fail(f"trained weights for {run.label}", run.weights_error or "none")
        name = metric_name(prefix, run, "held_out_accuracy")
        check_at_least(run.held_out_accuracy, thresholds.lower(name),
                       f"held-out accuracy for {run.label}",
                       f"the reference reaches {thresholds.stats(name)['min']:.3f} or more; check "
                       "the data you train on, the epochs and the setting passed to build_fn")
        if run.setting in bounded_above:
            check_at_most(run.held_out_accuracy, thresholds.upper(name),
                          f"held-out accuracy for {run.label}",
                          f"the reference reaches at most {thresholds.stats(name)['max']:.3f} "
                          "with this setting; is the setting really applied to this run?")


def check_loss_falls(experiment, thresholds, prefix):
    """Where the reference's training loss always falls, the student's falls too."""
    for run in experiment.runs:
        name = metric_name(prefix, run, "loss_falls")
        if thresholds.stats(name)["min"] < 1.0:
            continue  # the reference's loss does not always fall here: no requirement
        losses = (run.history or {}).get("loss") or []
        check(len(losses) >= 2 and losses[-1] < losses[0],
              f"the training loss of {run.label} to fall from the first to the last epoch "
              "(as the reference's does)", f"{[round(v, 4) for v in losses]}",
              "check the learning rate and the data passed to fit")


def metrics(experiment, prefix):
    """Figures calibration records for every run of this experiment."""
    figures = {}
    for run in experiment.runs:
        if run.held_out_accuracy is not None:
            figures[metric_name(prefix, run, "held_out_accuracy")] = run.held_out_accuracy
        losses = (run.history or {}).get("loss") or []
        if len(losses) >= 2:
            figures[metric_name(prefix, run, "loss_falls")] = float(losses[-1] < losses[0])
        if run.final("val_accuracy") is not None:
            figures[metric_name(prefix, run, "val_accuracy")] = run.final("val_accuracy")
    return figures
