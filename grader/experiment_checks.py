"""Checks shared by the experiment test files (Parts 1, 3, 4 and 5).

Each takes an ``grader.runs.Experiment`` and raises AssertionError with a message for
the student. ``metrics`` computes the figures that calibration records for the same runs.

Evidence rule: while grading, a run earns points only when ``grader.replay`` verified
it (its recorded weights are what re-training it with its recorded arguments, in a
process that never ran student code, produces). Every check below first requires that
(``require_verified``), and compares returned histories and logged curves with the
replay's history, never with each other: a run that was not really trained earns
nothing anywhere, in any test. In the self-check (no replay) the records are taken as
they are.

One rule keeps a mistake from costing twice: the checks against the reference's figures
(``check_convergence``, ``check_loss_falls``) judge only runs trained as asked (a fresh
model, the given data, epochs and settings; see ``trained_as_asked``). A run trained
otherwise fails its experiment's settings test, which names the problem, and its figures
are not set against the reference's, which were measured for the runs as asked.
"""

import math

from grader.checks import check, check_at_least, check_at_most, fail

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")
LOG_TOLERANCE = 1e-4
#: Returned or logged values vs the replay's: accuracies absolute, losses relative.
HISTORY_ACCURACY_TOLERANCE = 3e-3
HISTORY_LOSS_TOLERANCE = 3e-3


def unverified(experiment, run):
    """``(expected, found, hint)`` when ``run``'s training is not established, else None."""
    if run.fit is None:
        return (f"a model trained for {run.label} (built with the build_fn the grader passed in, "
                "trained with its fit)", "no such training",
                "build every run's model with build_fn and call fit on it once")
    if experiment.verifiable and run.verified and not run.facts.get("full_data"):
        return (f"{run.label} trained on the whole training set you were given (every run of "
                f"an experiment trains on all {experiment.n_train} rows of x_train)",
                f"training on {run.facts.get('x_rows')!r} rows that are not the whole x_train",
                "pass x_train, y_train to fit as they are (or normalized, in Part 1)")
    if not experiment.verifiable or run.verified:
        return None
    expected = (f"the model trained for {run.label} to hold the weights its fit produced (the "
                "grader re-trained a fresh model with the arguments your fit call received, in a "
                "clean process, and compared the two)")
    if run.replay_problem:
        return expected, run.replay_problem, "call fit once per run with the given arrays"
    found = ("weights that no such training produces" if run.replay_distance is None or
             not math.isfinite(run.replay_distance) else
             f"weights whose predictions differ from it (mean probability difference "
             f"{run.replay_distance:.3f})")
    callbacks = [name for name in (run.fit.get("callbacks") or [])
                 if name not in ("TensorBoard", "History", "ProgbarLogger")]
    hint = ("train each run's model with one fit call on the model build_fn returned, and do not "
            "change the model, its weights or the random seed between build_fn and fit")
    if callbacks:
        hint += f" (your fit also had the callbacks {', '.join(callbacks)}: do they change training?)"
    return expected, found, hint


def require_verified(experiment):
    """Fail unless every run's training is established (see the module's evidence rule)."""
    for run in experiment.runs:
        problem = unverified(experiment, run)
        if problem:
            fail(*problem)


def trusted_history(experiment, run):
    """The run's history as the grader itself measured it (the replay's), or the returned
    one in the self-check."""
    return run.replay_history if experiment.verifiable else run.history


def _same_series(key, found, expected):
    if len(found) != len(expected):
        return False
    tolerance = HISTORY_LOSS_TOLERANCE if "loss" in key else HISTORY_ACCURACY_TOLERANCE
    for a, b in zip(found, expected):
        if math.isnan(a) and math.isnan(b):
            continue
        limit = tolerance * max(abs(b), 1.0) if "loss" in key else tolerance
        if not abs(a - b) <= limit:
            return False
    return True
#: History's final val_accuracy vs the grader's own evaluation of the final weights.
RECOMPUTED_TOLERANCE = 0.01


def check_histories(experiment):
    """One history per setting, each the complete record of its run as it really trained.

    This test is scored on what it owns, so that one mistake costs its own test: an entry
    for every setting, holding the training series and, when that run's fit was given
    validation data, the validation series, with one value per epoch *that run trained*.
    A run trained for other epochs, or without validation_data, is the settings test's to
    report (once); its faithful history is not failed again here. A run that was not
    trained at all earns nothing (``require_verified``).
    """
    if experiment.result_error:
        raise AssertionError(experiment.result_error)
    for run in experiment.runs:
        check(run.history is not None, f"an entry for {run.label} in the returned dict",
              _returned_keys(experiment),
              "return a dict keyed by the setting itself (e.g. 0.01 or 'sgd'), one entry per run")
        fit = run.fit or {}
        validated = not fit or fit.get("validation_rows") is not None or \
            bool(fit.get("validation_split"))
        required = HISTORY_KEYS if validated else ("loss", "accuracy")
        missing = [key for key in required if key not in run.history]
        check(not missing, f"history keys {list(required)} for {run.label}",
              f"{sorted(run.history)}", "pass validation_data to fit and the metric 'accuracy' to "
              "compile, and return history.history")
        epochs = fit.get("epochs")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            epochs = experiment.epochs
        for key in required:
            check(len(run.history[key]) == epochs,
                  f"{epochs} values of {key!r} for {run.label} (one per epoch it trained)",
                  f"{len(run.history[key])}", "return the history of this run's fit, unchanged")
    require_verified(experiment)  # a well-formed history of a run never trained earns nothing


def _returned_keys(experiment):
    """The keys the experiment returned, as the student wrote them."""
    if not experiment.returned_keys:
        return "an empty dict"
    return "the keys " + ", ".join(str(key) for key in experiment.returned_keys)


def check_fresh_models(experiment):
    """Every run trains its own, new model exactly once."""
    require_verified(experiment)
    for run in experiment.runs:
        check(run.fit is not None, f"a model trained for {run.label}",
              f"{experiment.n_fits} fit calls for {len(experiment.runs)} settings",
              "build a model with build_fn and call fit once for every setting")
    models = [run.fit["model"] for run in experiment.runs]
    check(len(set(models)) == len(models), "a fresh model for every setting",
          f"{len(set(models))} model(s) trained for {len(models)} settings",
          "call build_fn inside your loop, so later runs do not continue training an earlier model")
    for run in experiment.runs:
        before = run.facts.get("steps_before")
        check(before == 0, f"the model for {run.label} to start untrained",
              f"it had already taken {before} training steps", "build a new model for every run")


def _expected_steps(experiment, batch_size):
    return experiment.epochs * math.ceil(experiment.n_train / batch_size)


def _input_problem(run):
    """Why ``run`` of the normalization experiment did not train (and validate) on the
    inputs its name says (raw 0-255 pixels, or pixels scaled into [0, 1]), or None.
    Unknown is no problem. The maxima are measured on the arrays the fit really got."""
    scaled_in_model = run.model.get("input_scale") is not None
    x_max = run.input_max.get("x")
    val_max = run.input_max.get("x_val")
    if run.setting == "normalized":
        if not scaled_in_model and x_max is not None and x_max > 1.0:
            return ("the normalized run to train on pixels scaled into [0, 1]",
                    f"training pixels up to {x_max:g}",
                    "apply normalize_pixels to x_train and x_val for the normalized run")
        if not scaled_in_model and val_max is not None and val_max > 1.0:
            return ("the normalized run to validate on pixels scaled into [0, 1], like its "
                    "training pixels", f"validation pixels up to {val_max:g}",
                    "validate each run on x_val prepared like its x_train: normalize both")
        return None
    if scaled_in_model or (x_max is not None and x_max <= 1.0):
        found = "a model that rescales its inputs (input_scale)" if scaled_in_model else \
            f"training pixels no larger than {x_max:g}, i.e. normalized ones"
        return ("the raw run to train on the raw 0-255 pixels", found,
                "pass x_train and x_val to the raw run unchanged; normalize only the other run")
    if val_max is not None and val_max <= 1.0:
        return ("the raw run to validate on raw 0-255 pixels, like its training pixels",
                f"validation pixels no larger than {val_max:g}",
                "pass x_val to the raw run unchanged")
    return None


def run_problems(experiment, run, *, learning_rate=None, optimizer=None, batch_size=None):
    """Every way ``run`` did not train as asked, as ``[(expected, found, hint), ...]``.

    The swept setting comes from the run itself; ``learning_rate``, ``optimizer`` and
    ``batch_size`` are the defaults every run must use (None: not checked).
    """
    if run.fit is None:
        return [(f"a model trained for {run.label}", "none", "call fit once per setting")]
    problems = []
    if experiment.setting_name == "input":
        problem = _input_problem(run)
        if problem:
            problems.append(problem)
    want_lr = run.setting if experiment.setting_name == "learning_rate" else learning_rate
    want_opt = run.setting if experiment.setting_name == "optimizer" else optimizer
    want_bs = run.setting if experiment.setting_name == "batch_size" else batch_size
    if want_lr is not None and not math.isclose(run.model["learning_rate"], want_lr, rel_tol=1e-6):
        problems.append((f"the model for {run.label} built with learning_rate={want_lr:g}",
                         f"learning_rate={run.model['learning_rate']:g}",
                         "pass learning_rate=... to build_fn"))
    if want_opt is not None and run.model["optimizer"] != want_opt:
        problems.append((f"the model for {run.label} built with optimizer={want_opt!r}",
                         f"optimizer={run.model['optimizer']!r}", "pass optimizer=<name> to build_fn"))
    if run.fit["epochs"] != experiment.epochs:
        problems.append((f"{experiment.epochs} epochs for {run.label}", f"epochs={run.fit['epochs']!r}",
                         "pass epochs=epochs to fit"))
    rows = run.facts.get("x_rows")
    if rows != experiment.n_train:
        problems.append((f"{run.label} to train on the {experiment.n_train} training rows",
                         f"{'no array of' if rows is None else rows} rows",
                         "fit on x_train, y_train (all of them, not the validation data)"))
    if run.facts.get("val_rows") != experiment.n_val:
        problems.append((f"validation_data with the {experiment.n_val} validation rows for {run.label}",
                         f"{run.facts.get('val_rows')!r}", "pass validation_data=(x_val, y_val) to fit"))
    if want_bs is not None:
        steps = run.facts.get("steps")
        if steps != _expected_steps(experiment, want_bs):
            which = "" if experiment.setting_name == "batch_size" else f" (batch size {want_bs})"
            problems.append((f"{_expected_steps(experiment, want_bs)} training steps for {run.label}{which}",
                             f"{steps} steps", "pass batch_size=... to fit"))
    return problems


def check_settings(experiment, *, learning_rate=None, optimizer=None, batch_size=None):
    """Each run used its own setting (for Part 1: its own inputs) and the given defaults,
    on the right data."""
    for run in experiment.runs:
        problems = run_problems(experiment, run, learning_rate=learning_rate, optimizer=optimizer,
                                batch_size=batch_size)
        if problems:
            fail(*problems[0])


def trained_as_asked(experiment, run, profile):
    """Did ``run`` train a fresh model of its own exactly as asked by ``profile``?"""
    if run.fit is None or run.facts.get("steps_before") != 0 or unverified(experiment, run):
        return False
    if sum(other.fit is not None and other.fit["model"] == run.fit["model"]
           for other in experiment.runs) > 1:
        return False
    return not run_problems(experiment, run, learning_rate=profile.learning_rate,
                            optimizer=profile.optimizer, batch_size=profile.batch_size)


def _no_logs(run):
    return f"TensorBoard logs in log_dir/{run.dir_name}", run.log_error or "none"


def check_run_dirs(experiment):
    """Each run has its own TensorBoard folder with a train and a validation curve of one
    value per epoch the run trained (its verified fit's epochs: a wrong number of epochs
    is the settings test's to charge; a run trained without validation data is not asked
    for validation curves, its settings test charges that)."""
    require_verified(experiment)
    for run in experiment.runs:
        check(run.log is not None, *_no_logs(run),
              "give every run its own log_dir/<run name> directory and a "
              "keras.callbacks.TensorBoard callback")
        epochs = run.fit.get("epochs") if run.fit else None
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            epochs = experiment.epochs
        validated = run.fit is None or run.fit.get("x_val") is not None or \
            bool(run.fit.get("validation_split"))
        for kind in ("loss", "accuracy"):
            for split in ("train", "validation") if validated else ("train",):
                series = run.log.series(kind, split)
                check(series is not None and len(series) == epochs,
                      f"{epochs} per-epoch {split} {kind} values in log_dir/{run.dir_name}",
                      "none" if series is None else f"{len(series)}",
                      "log every epoch (the callback's default update_freq='epoch') and pass "
                      "validation_data to fit")


def check_histograms(experiment, min_layers=2):
    """Each run records weight histograms for every layer with weights."""
    require_verified(experiment)
    for run in experiment.runs:
        if run.log is None:
            fail(*_no_logs(run), "histograms are part of each run's TensorBoard logs")
        tags = run.log.weight_histogram_tags()
        check(len(tags) >= min_layers,
              f"weight histograms of at least {min_layers} layers in log_dir/{run.dir_name}",
              f"{len(tags)} ({', '.join(tags) or 'none'})",
              "use keras.callbacks.TensorBoard(log_dir, histogram_freq=1)")


def check_logs_match_history(experiment):
    """The logged curves are the returned histories, and those are curves some run of this
    experiment really produced (the replays' histories while grading). Which run's curves
    went under which name is judged by the returned-histories test alone."""
    require_verified(experiment)
    pairs = (("loss", "train", "loss"), ("accuracy", "train", "accuracy"),
             ("loss", "validation", "val_loss"), ("accuracy", "validation", "val_accuracy"))
    for run in experiment.runs:
        if run.history is None:
            fail(f"a returned history for {run.label}", f"keys {experiment.returned_keys}")
        if run.log is None:
            fail(*_no_logs(run), "the logged curves are compared with the returned histories")
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
        if experiment.verifiable:
            check(_produced_by_some_run(experiment, run.history),
                  f"the curves logged and returned for {run.label} to be ones a run of this "
                  "experiment produced (the grader re-trained every run)",
                  "curves that none of the re-trained runs has",
                  "log and return what each fit really produced, unchanged")


def _produced_by_some_run(experiment, history):
    return any(other.verified and other.replay_history and all(
        _same_series(key, history.get(key) or [], other.replay_history.get(key) or [])
        for key in HISTORY_KEYS) for other in experiment.runs)


def check_weights_match_history(experiment):
    """The returned histories are what each run's training really produced.

    While grading they are compared, epoch by epoch, with the replay's history. In the
    self-check (no replay) the final val_accuracy is compared with the grader's own
    evaluation of the recorded weights; in the normalization experiment, where students
    normalize the validation pixels themselves, it must at least be closer to its own
    run's model than to the other's.
    """
    require_verified(experiment)
    if experiment.verifiable:
        _check_histories_replayed(experiment)
        return
    for run in experiment.runs:
        if run.val_accuracy_recomputed is None:
            fail(f"trained weights for {run.label}", run.weights_error or "none")
    for run in experiment.runs:
        reported = run.final("val_accuracy")
        own = run.val_accuracy_recomputed
        distance = math.inf if reported is None else abs(reported - own)
        others = [other for other in experiment.runs if other is not run
                  and abs(other.val_accuracy_recomputed - own) > RECOMPUTED_TOLERANCE]
        closer = [other for other in others
                  if reported is not None and abs(reported - other.val_accuracy_recomputed) < distance]
        if experiment.setting_name == "input":
            matches = reported is not None and (distance <= RECOMPUTED_TOLERANCE or not closer)
        else:
            matches = distance <= RECOMPUTED_TOLERANCE
        check(matches, f"the returned final val_accuracy of {run.label} to match its trained model "
              f"({own:.4f} when the grader evaluates it)",
              "none" if reported is None else f"{reported:.4f}",
              "return each run's own history, unchanged")


def _check_histories_replayed(experiment):
    for run in experiment.runs:
        returned = run.history or {}
        expected = run.replay_history or {}
        for key in HISTORY_KEYS:
            found, wanted = returned.get(key) or [], expected.get(key) or []
            if _same_series(key, found, wanted):
                continue
            hint = "return each run's own history.history, unchanged"
            twins = [other.label for other in experiment.runs if other is not run
                     and other.replay_history and all(
                         _same_series(k, returned.get(k) or [], other.replay_history.get(k) or [])
                         for k in HISTORY_KEYS)]
            if twins:
                hint = (f"it is the history of the run for {twins[0]}: are two runs' results "
                        "swapped, or one run's history returned for another? " + hint)
            fail(f"the returned history[{key!r}] of {run.label} to be its training's "
                 f"{[round(v, 4) for v in wanted]}", f"{[round(v, 4) for v in found]}", hint)


def metric_name(prefix, run, metric):
    setting = format(run.setting, "g") if isinstance(run.setting, (int, float)) else run.setting
    return f"{prefix}.{setting}.{metric}"


def check_convergence(experiment, thresholds, prefix, profile, *, bounded_above=()):
    """Held-out accuracy of every run trained as asked inside the reference's envelope.
    Every run must be verified first: nothing passes on runs that were not trained."""
    require_verified(experiment)
    for run in experiment.runs:
        if not trained_as_asked(experiment, run, profile):
            continue  # a knob set wrongly on the whole data: its settings test reports it
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


def check_loss_falls(experiment, thresholds, prefix, profile):
    """Where the reference's training loss always falls, the student's falls too (runs
    trained as asked only)."""
    require_verified(experiment)
    for run in experiment.runs:
        if not trained_as_asked(experiment, run, profile):
            continue
        name = metric_name(prefix, run, "loss_falls")
        if thresholds.stats(name)["min"] < 1.0:
            continue  # the reference's loss does not always fall here: no requirement
        losses = (trusted_history(experiment, run) or {}).get("loss") or []
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
