"""Part 10, trusted side: a search's trials, made from the fits the recording builder saw,
and the checks its test file runs.

A *trial* is one fit of one model built with ``build_fn`` (keras-tuner builds one model per
trial and fits it once). Its configuration is what the model was built with (the recorded
``learning_rate`` and ``hidden_units``): a claim, but the replay re-trains the model with
exactly those, so a verified trial's configuration, weights and history are evidence.
Everything the search *returned* (its trials' scores, its best) is judged against the
verified trials; its HParams logs are read with TensorBoard's reader (``grader.tblogs``).

Imported by the trusted process only (it reads logs with ``grader.tblogs``, which must not
be imported where keras-tuner writes them).
"""

import dataclasses
import itertools
import math
import os
import random

import numpy as np

from grader import evaluate, runs, tblogs
from grader.checks import check, check_at_least, check_at_most, check_step, fail, shown
from grader.experiment_checks import HISTORY_ACCURACY_TOLERANCE, require_verified
from grader.parts import hyperparameter_search as part

#: keras-tuner's batch size when ``search`` is given none (Keras's default).
DEFAULT_BATCH_SIZE = 32
#: keras-tuner's ``Oracle._max_collisions``: draws it makes before a search space counts
#: as exhausted.
MAX_COLLISIONS = 20


@dataclasses.dataclass
class SearchExperiment(runs.Experiment):
    """One search: ``runs`` are its trials in the order they trained."""

    method: str = ""
    #: ``{"trials": [{"learning_rate", "hidden_units", "val_accuracy"}], "best": {...}}`` as
    #: returned (None when the result was malformed: ``result_error`` says how).
    reported: dict | None = None
    #: The HParams sessions under ``<directory>/<method>_logs`` (``tblogs.read_hparams_sessions``).
    sessions: list | None = None
    sessions_error: str | None = None


def config(run):
    """``(learning_rate, hidden_units)`` a trial's model was built with, or None."""
    model = run.model or {}
    learning_rate, units = model.get("learning_rate"), model.get("hidden_units")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or \
            isinstance(units, bool) or not isinstance(units, (int, float)):
        return None
    return float(learning_rate), units


def describe(configuration):
    if configuration is None:
        return "a model built without a plain learning rate and hidden units"
    learning_rate, units = configuration
    return f"learning rate {learning_rate:g} with {units:g} hidden units"


def label(configuration):
    """A configuration's metric name part, e.g. ``lr0.01_units32``."""
    if configuration is None:
        return "unknown"
    return f"lr{configuration[0]:g}_units{configuration[1]:g}"


def same_value(name, a, b):
    """Is ``a`` the value ``b`` of hyperparameter ``name``? Learning rates within a relative
    1e-6 (a float printed and read back), hidden units exactly."""
    if name == "learning_rate":
        return math.isclose(float(a), float(b), rel_tol=1e-6)
    return float(a) == float(b)


def same_config(a, b):
    """Are two ``(learning_rate, hidden_units)`` the same configuration?"""
    if a is None or b is None or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                     for v in (*a, *b)):
        return False
    return same_value("learning_rate", a[0], b[0]) and same_value("hidden_units", a[1], b[1])


def in_space(configuration):
    return configuration is not None and any(
        same_config(configuration, (lr, units))
        for lr in part.LEARNING_RATES for units in part.HIDDEN_UNITS)


# ------------------------------------------------------------------------- building

def build_search(step, profile, data, method):
    """The ``SearchExperiment`` of a search step: one trial per recorded fit."""
    value = step.value or {}
    builder = value.get("builder") or {}
    models, fits = list(builder.get("models") or []), list(builder.get("fits") or [])
    trials = []
    for index, fit in enumerate(fits):
        model = models[fit["model"]]
        run = runs.Run(setting="unknown", label="", dir_name="")
        run.fit_index, run.fit, run.model = index, fit, model
        run.setting = label(config(run))
        run.label = f"trial {len(trials) + 1} ({describe(config(run))})"
        run.facts = runs.fit_facts(fits, index, step.arrays, data)
        run.weights = _weights(step.arrays, index)
        _score(run, data)
        trials.append(run)
    experiment = SearchExperiment(
        name=step.name, setting_name="trial", runs=trials, result_error=value.get("result_error"),
        returned_keys=[], n_fits=len(fits), n_models=len(models), epochs=part.EPOCHS,
        n_train=len(data["x_train"]), n_val=len(data["x_val"]), fits=fits, models=models,
        method=method, reported=value.get("reported"))
    log_dir = os.path.join(step.outdir, part.SEARCH_FOLDER, f"{method}_logs")
    try:
        experiment.sessions, problems = tblogs.read_hparams_sessions(log_dir)
        if problems and not experiment.sessions:
            experiment.sessions_error = "; ".join(problems[:3])
    except tblogs.LogError as problem:
        experiment.sessions_error = str(problem)
    return experiment


def _weights(arrays, index):
    weights, j = [], 0
    while f"fit{index}_w{j}" in arrays and j < 16:
        weights.append(arrays[f"fit{index}_w{j}"])
        j += 1
    return weights


def _score(run, data):
    """Held-out and validation accuracy of the trial's final weights, by the grader."""
    try:
        evaluate.check_model_weights(run.weights, run.model)
    except (evaluate.WeightsError, KeyError, TypeError, ValueError) as problem:
        run.weights_error = str(problem)
        return
    scale = run.model.get("input_scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
        run.weights_error = f"input_scale={scale!r}"
        return
    for split, attribute in (("test", "held_out_accuracy"), ("val", "val_accuracy_recomputed")):
        x = data[f"x_{split}"].astype(np.float32)
        if scale is None:
            x = x / np.float32(255.0)
        setattr(run, attribute, evaluate.accuracy(run.weights, x, data[f"y_{split}"], scale))


# --------------------------------------------------------------------- trusted figures

def score(experiment, run):
    """A trial's val_accuracy as the grader measured it: keras-tuner's score (its best
    epoch's) from the replay's history; in the self-check, the final weights' own."""
    values = scores(experiment, run)
    return max(values) if values else None


def scores(experiment, run):
    """The values a trial's reported val_accuracy may be: its best epoch's (keras-tuner's
    ``trial.score``) or its last epoch's, from the replay's history (the final weights'
    own in the self-check)."""
    if not experiment.verifiable:
        return [] if run.val_accuracy_recomputed is None else [run.val_accuracy_recomputed]
    values = [v for v in (run.replay_history or {}).get("val_accuracy") or []
              if isinstance(v, (int, float)) and math.isfinite(v)]
    return sorted({max(values), values[-1]}) if values else []


def _matches(found, experiment, run):
    return found is not None and any(abs(found - value) <= HISTORY_ACCURACY_TOLERANCE
                                     for value in scores(experiment, run))


def problems_of(experiment, run):
    """How a trial did not train as every trial must (``[(expected, found, hint)]``)."""
    fit, facts, model = run.fit or {}, run.facts, run.model or {}
    problems = []
    if facts.get("steps_before") != 0:
        problems.append((f"{run.label} to train a fresh model", f"it had already taken "
                         f"{facts.get('steps_before')} training steps",
                         "let keras-tuner build one model per trial (build_fn inside the "
                         "hypermodel function)"))
    if sum(other.fit is not None and other.fit.get("model") == fit.get("model")
           for other in experiment.runs) > 1:
        problems.append((f"{run.label} to train its own model", "a model trained in several "
                         "trials", "build the model inside build_tunable_model, once per call"))
    if model.get("optimizer") != "adam":
        problems.append((f"{run.label} built with build_fn's default optimizer 'adam'",
                         f"optimizer={model.get('optimizer')!r}",
                         "call build_fn(n_classes, learning_rate=..., hidden_units=...)"))
    if fit.get("epochs") != experiment.epochs:
        problems.append((f"{experiment.epochs} epoch(s) for {run.label}",
                         f"epochs={fit.get('epochs')!r}", "pass epochs=epochs to tuner.search"))
    if facts.get("x_rows") != experiment.n_train or not facts.get("full_data"):
        problems.append((f"{run.label} to train on the {experiment.n_train} training rows given",
                         f"{facts.get('x_rows')!r} rows", "pass x_train, y_train to tuner.search"))
    if facts.get("val_rows") != experiment.n_val:
        problems.append((f"validation_data with the {experiment.n_val} validation rows for "
                         f"{run.label}", f"{facts.get('val_rows')!r}",
                         "pass validation_data=(x_val, y_val) to tuner.search"))
    steps = experiment.epochs * math.ceil(experiment.n_train / DEFAULT_BATCH_SIZE)
    if facts.get("steps") != steps:
        problems.append((f"{steps} training steps for {run.label} (batch size "
                         f"{DEFAULT_BATCH_SIZE}, keras-tuner's default)",
                         f"{facts.get('steps')!r}", "do not pass a batch_size to tuner.search"))
    return problems


def trained_as_asked(experiment, run):
    return not problems_of(experiment, run) and run.held_out_accuracy is not None


def best_trial(experiment):
    """The trial with the highest trusted score (the first of equals), or None."""
    scored = [(score(experiment, run), position, run)
              for position, run in enumerate(experiment.runs) if score(experiment, run) is not None]
    if not scored:
        return None
    return max(scored, key=lambda item: (item[0], -item[1]))[2]


# --------------------------------------------------------------------------- checks

def _verified(experiment):
    """Every trial's training established (``require_verified``), and at least one trial."""
    check(experiment.runs, f"the {experiment.method} search to train its trials' models with "
          "the build_fn the grader passed in", "no fit of a model build_fn built",
          "pass build_fn on to build_tunable_model (functools.partial or a lambda)")
    require_verified(experiment)


def _reported(experiment):
    if experiment.result_error:
        raise AssertionError(experiment.result_error)
    return experiment.reported


def _tunable(step):
    """The ``tunable_model`` record, held to the shape its probe writes (a record of another
    shape was not written by the grader)."""
    check_step(step)
    value = step.value
    space_ok = all(isinstance(e, dict) and isinstance(e.get("name"), str) and
                   isinstance(e.get("class"), str) and isinstance(e.get("values"), (list, type(None)))
                   for e in value["space"])
    calls_ok = all(isinstance(c, dict) and isinstance(c.get("builds"), list) and
                   all(isinstance(b, dict) for b in c["builds"]) and
                   isinstance(c.get("is_model"), bool) for c in value["calls"])
    check(space_ok and calls_ok, "the results of build_tunable_model as the grader records them",
          "a record of another shape", "was a result file written by something other than the "
          "grader?")
    return value


def check_space(tunable_model):
    """``build_tunable_model`` declares exactly two Choice hyperparameters with exactly
    the given values."""
    declared = {entry["name"]: entry for entry in _tunable(tunable_model)["space"]}
    given = {"learning_rate": "learning_rates", "hidden_units": "hidden_units"}
    for name, wanted in part.space().items():
        entry = declared.get(name)
        check(entry is not None, f"a hyperparameter named {name!r}",
              f"the hyperparameters {sorted(declared) or 'none'}",
              f'declare it with hp.Choice("{name}", {given[name]})')
        check(entry["class"] == "Choice", f"{name!r} declared with hp.Choice",
              f"hp.{entry['class']}", f'use hp.Choice("{name}", ...) with the values given')
        values = entry["values"] or []
        same = len(values) == len(wanted) and all(
            any(isinstance(v, (int, float)) and math.isclose(v, w, rel_tol=1e-9) for v in values)
            for w in wanted)
        check(same, f"{name!r} to take exactly the values given, {wanted}", f"{values}",
              "pass the whole sequence you were given to hp.Choice, every value once")
    extra = sorted(set(declared) - set(part.space()))
    check(not extra, "only the hyperparameters learning_rate and hidden_units",
          f"also {extra}", "search only the two hyperparameters asked for")


def check_builds_with_values(tunable_model):
    """``build_tunable_model`` builds one model with ``build_fn`` and the values ``hp``
    holds, and returns it."""
    calls = _tunable(tunable_model)["calls"]
    wanted = (float(part.LEARNING_RATES[-1]), part.HIDDEN_UNITS[-1])
    for call in calls:
        check(len(call["builds"]) == 1, "one model built with build_fn per call",
              f"{len(call['builds'])}", "call build_fn once and return its model")
        check(call["is_model"], "the model build_fn returned", shown(call["returned"]),
              "return build_fn(...)'s model")
    built = calls[1]["builds"][0]
    found = config(runs.Run(setting=None, label="", dir_name="", model=built))
    check(same_config(found, wanted),
          f"with hp holding learning_rate={wanted[0]:g} and hidden_units={wanted[1]}, "
          f"the model built with {describe(wanted)}", describe(found),
          "pass the values hp.Choice returns to build_fn(n_classes, learning_rate=..., "
          "hidden_units=...)")


def check_trial_count(experiment):
    """Grid search: every combination once. Random and Bayesian: ``max_trials`` distinct
    trials inside the space. Counted on the verified trials."""
    _verified(experiment)
    configurations = [config(run) for run in experiment.runs]
    outside = [describe(c) for c in configurations if not in_space(c)]
    check(not outside, "every trial inside the search space (learning rates "
          f"{list(part.LEARNING_RATES)}, hidden units {list(part.HIDDEN_UNITS)})",
          f"trials with {', '.join(outside[:3])}",
          "build each trial's model with the values hp.Choice returns")
    repeated = [describe(c) for i, c in enumerate(configurations)
                if any(same_config(c, d) for d in configurations[:i])]
    wanted = part.trials_expected(experiment.method)
    if experiment.method == "grid":
        missing = [describe((lr, units)) for lr in part.LEARNING_RATES
                   for units in part.HIDDEN_UNITS
                   if not any(same_config((lr, units), c) for c in configurations)]
        check(not missing and not repeated, f"grid search to try each of the {wanted} "
              "combinations once", f"{len(configurations)} trials"
              + (f", missing {', '.join(missing)}" if missing else "")
              + (f", repeating {', '.join(repeated)}" if repeated else ""),
              "use keras_tuner.GridSearch without max_trials (it stops after that many), on "
              "the whole space: every value of both lists in hp.Choice")
        return
    if experiment.method == "bayesian":
        repeated = []  # its Gaussian process may pick a tried combination again
    check(len(configurations) == wanted and not repeated,
          f"{experiment.method} search to run max_trials={wanted} "
          + ("trials" if experiment.method == "bayesian" else "distinct trials"),
          f"{len(configurations)} trials" + (f", repeating {', '.join(repeated)}" if repeated
                                              else ""),
          "pass max_trials=max_trials to the tuner and search once; a space declared with "
          "fewer combinations than max_trials runs out early")


def check_trials_as_asked(experiment):
    """Every trial trains a fresh model of its own, once, on the given data, for the
    given epochs (verified by the replay)."""
    _verified(experiment)
    for run in experiment.runs:
        problems = problems_of(experiment, run)
        if problems:
            fail(*problems[0])


def check_reported_scores(experiment):
    """Every trial the search ran is reported once, with its own val_accuracy (the
    grader's measure of it: the replay's best epoch)."""
    _verified(experiment)
    reported = _reported(experiment)
    entries = reported["trials"]
    for run in experiment.runs:
        mine = [entry for entry in entries if same_config(_config_of(entry), config(run))]
        twins = [other for other in experiment.runs if same_config(config(other), config(run))]
        check(len(mine) == len(twins), f"{run.label} reported once in result['trials']"
              + (f" ({len(twins)} trials tried it)" if len(twins) > 1 else ""),
              f"{len(mine)} entries with its hyperparameters",
              "report every trial of tuner.oracle.trials (or get_best_trials(n)) once")
        check(all(_matches(entry["val_accuracy"], experiment, run) for entry in mine),
              f"the val_accuracy reported for {run.label} to be its training's "
              f"{_number(score(experiment, run))}",
              ", ".join(_number(entry["val_accuracy"]) for entry in mine),
              "report each trial's own score (trial.score: its best epoch's val_accuracy)")
    trained = [config(run) for run in experiment.runs]
    ghosts = [entry for entry in entries if not any(
        same_config((entry["learning_rate"], entry["hidden_units"]), c) for c in trained)]
    check(not ghosts, "only trials the search trained in result['trials']",
          f"{len(ghosts)} more, e.g. {describe(_config_of(ghosts[0]))}" if ghosts else "",
          "report the trials of this search only")
    best = reported["best"]
    claimed = _trial_of(experiment, best)
    if claimed is not None:  # which trial is the best is 10.7's to judge
        check(_matches(best["val_accuracy"], experiment, claimed),
              f"result['best']['val_accuracy'] to be the score of {claimed.label}, "
              f"{_number(score(experiment, claimed))}", _number(best["val_accuracy"]),
              "report the best trial's own score")


def _config_of(entry):
    return entry["learning_rate"], entry["hidden_units"]


def _trial_of(experiment, entry):
    """The verified trial with the configuration of a reported entry, or None."""
    return next((run for run in experiment.runs
                 if same_config(_config_of(entry), config(run))), None)


def _number(value):
    return "none" if value is None else f"{value:.4f}"


def check_best(experiment):
    """``best`` is the trial with the highest val_accuracy of the verified trials."""
    _verified(experiment)
    best = _reported(experiment)["best"]
    top = best_trial(experiment)
    check(top is not None, "trials with a val_accuracy", "none", "validate every trial")
    highest = score(experiment, top)
    claimed = _trial_of(experiment, best)
    found = describe(_config_of(best))
    if claimed is not None:
        found += f" (val_accuracy {_number(score(experiment, claimed))})"
    check(claimed is not None and
          score(experiment, claimed) >= highest - HISTORY_ACCURACY_TOLERANCE,
          f"result['best'] to be the trial with the highest val_accuracy: "
          f"{describe(config(top))} ({_number(highest)})", found,
          "the objective val_accuracy is maximized: take tuner.oracle.get_best_trials(1)[0] "
          "or the trial with the largest score")


def check_best_held_out(experiment, thresholds):
    """The best verified trial's weights reach, on held-out data the sandbox never saw,
    what the reference's do for that configuration."""
    _verified(experiment)
    top = best_trial(experiment)
    check(top is not None, "trials with a val_accuracy", "none", "validate every trial")
    if not trained_as_asked(experiment, top):
        return  # its trials test names how it was trained otherwise
    name = f"hyperparameter_search.{top.setting}.held_out_accuracy"
    what = f"held-out accuracy of the best trial, {describe(config(top))}"
    hint = (f"the reference reaches {thresholds.stats(name)['min']:.3f}-"
            f"{thresholds.stats(name)['max']:.3f} with it; check the data the search trains on")
    check_at_least(top.held_out_accuracy, thresholds.lower(name), what, hint)
    check_at_most(top.held_out_accuracy, thresholds.upper(name), what, hint)


def check_sessions(experiment):
    """One HParams session per trial under ``directory/<method>_logs``, holding the
    trial's learning rate and hidden units."""
    _verified(experiment)
    logs = f"{part.SEARCH_FOLDER}/{experiment.method}_logs"
    check(experiment.sessions, f"TensorBoard HParams sessions in {logs}",
          experiment.sessions_error or "none",
          f"pass callbacks=[keras.callbacks.TensorBoard(os.path.join(directory, "
          f"'{experiment.method}_logs'))] to tuner.search")
    logged = [(s["hparams"].get("learning_rate"), s["hparams"].get("hidden_units"))
              for s in experiment.sessions]
    for run in experiment.runs:
        check(any(isinstance(lr, (int, float)) and isinstance(units, (int, float)) and
                  same_config((float(lr), units), config(run)) for lr, units in logged),
              f"an HParams session for {run.label} in {logs}",
              f"sessions for {', '.join(describe(c) for c in logged[:5]) or 'none'}",
              "give tuner.search the TensorBoard callback: keras-tuner logs each trial's "
              "hyperparameters")
    check(len(logged) == len(experiment.runs), f"{len(experiment.runs)} sessions in {logs}, "
          "one per trial", f"{len(logged)}", "log only this search's trials there "
          "(overwrite=True starts afresh)")


#: Random trials ``BayesianOptimization(num_initial_points=2)`` draws before its model picks.
BAYESIAN_INITIAL_POINTS = 2
#: ``keras_tuner.BayesianOptimizationOracle``'s defaults: the Gaussian process's noise
#: (``alpha``), the acquisition's exploration weight (``beta``), its starts of L-BFGS-B, and
#: the restarts of the process's own kernel fit.
BAYESIAN_ALPHA = 1e-4
BAYESIAN_BETA = 2.6
BAYESIAN_ACQUISITION_STARTS = 50
BAYESIAN_KERNEL_RESTARTS = 20


def seeded_sequence(seed, declared, count):
    """The configurations keras-tuner's random sampling draws first for ``seed``
    (``Oracle._random_values``: one ``random.Random(state)`` draw per hyperparameter, the
    state counting up from the seed, repeats drawn again). ``declared`` is
    ``[(name, values)]`` in declaration order."""
    state, drawn = seed, []
    while len(drawn) < count:
        for _ in range(MAX_COLLISIONS + 1):
            values = {}
            for name, choices in declared:
                probability = random.Random(state).random()
                state += 1
                values[name] = choices[min(int(math.floor(probability * len(choices))),
                                           len(choices) - 1)]
            if values not in drawn:
                break
        else:
            return drawn
        drawn.append(values)
    return drawn


def _declared(tunable_model):
    """``[(name, values)]`` as ``build_tunable_model`` declares them, in its order: the
    space the tuner's oracle really draws from (a wrong space is 10.1's to charge, not
    this test's). The given space when that step failed or declared other names."""
    given = list(part.space().items())
    if tunable_model is None or not getattr(tunable_model, "ok", False):
        return given
    try:
        declared = [(e["name"], list(e["values"])) for e in _tunable(tunable_model)["space"]]
    except (AssertionError, TypeError):
        return given
    if sorted(name for name, _ in declared) != sorted(part.space()) or any(
            not values or not all(isinstance(v, (int, float)) for v in values)
            for _, values in declared):
        return given
    return declared


def grid_order(declared):
    """The order ``keras_tuner.GridSearch`` visits the space in: every combination of the
    declared values, the last hyperparameter declared changing fastest (measured)."""
    names = [name for name, _ in declared]
    return [dict(zip(names, values)) for values in itertools.product(*(v for _, v in declared))]


def bayesian_picks(seed, declared, trials):
    """What ``keras_tuner.BayesianOptimization(num_initial_points=2, seed=seed)`` picks for
    each trial after its random ones, given the trials before it: ``trials`` is
    ``[(values, score)]`` in order (``values`` as ``seeded_sequence`` gives them, ``score``
    the trial's val_accuracy). Returns one ``values`` per trial from the third on.

    The oracle's ``populate_space``, step for step: each configuration embedded in [0, 1]
    per hyperparameter (a Choice's value at the centre of its bucket), a scikit-learn
    Gaussian process (Matern 2.5, normalized, ``random_state=seed``) fitted to the negated
    scores, and the lowest upper confidence bound ``mean - 2.6 std`` over L-BFGS-B runs
    from 50 starts drawn by ``numpy.random.RandomState(seed)``, mapped back to the buckets.
    Measured equal to keras-tuner's own third trial at 120 of 120 cases (60 seeds x both
    declaration orders, ``bench/bayesian_picks.py``; the test file repeats 8 of them).
    """
    from scipy import optimize
    from sklearn import gaussian_process
    choices = [list(values) for _, values in declared]
    bounds = np.array([[0.0, 1.0]] * len(declared))
    random_state = np.random.RandomState(seed)
    picks = []
    for position in range(BAYESIAN_INITIAL_POINTS, len(trials)):
        x = np.array([[(options.index(values[name]) + 0.5) / len(options)
                       for (name, _), options in zip(declared, choices)]
                      for values, _ in trials[:position]])
        y = np.array([-float(score) for _, score in trials[:position]])
        process = gaussian_process.GaussianProcessRegressor(
            kernel=gaussian_process.kernels.Matern(nu=2.5),
            n_restarts_optimizer=BAYESIAN_KERNEL_RESTARTS, normalize_y=True,
            alpha=BAYESIAN_ALPHA, random_state=seed)
        process.fit(np.nan_to_num(x, posinf=0, neginf=0), np.nan_to_num(y, posinf=0, neginf=0))

        def upper_confidence_bound(point):
            mean, std = process.predict(point.reshape(1, -1), return_std=True)
            return mean - BAYESIAN_BETA * std

        best, best_point = math.inf, None
        for start in random_state.uniform(bounds[:, 0], bounds[:, 1],
                                          size=(BAYESIAN_ACQUISITION_STARTS, len(declared))):
            result = optimize.minimize(upper_confidence_bound, x0=start, bounds=bounds,
                                       method="L-BFGS-B")
            value = result.fun if np.isscalar(result.fun) else result.fun[0]
            if value < best:
                best, best_point = value, result.x
        picks.append({name: options[min(int(math.floor(p * len(options))), len(options) - 1)]
                      for (name, _), options, p in zip(declared, choices, best_point)})
    return picks


def _declared_values(configuration, declared):
    """``{name: declared option}`` of a trial's ``(learning_rate, hidden_units)``, or None
    when a value is none of the options declared."""
    if configuration is None:
        return None
    values = {}
    for name, value in zip(("learning_rate", "hidden_units"), configuration):
        options = dict(declared).get(name) or []
        match = [option for option in options if same_value(name, option, value)]
        if not match:
            return None
        values[name] = match[0]
    return values


def _as_configs(values_list):
    return [(float(v["learning_rate"]), v["hidden_units"]) for v in values_list]


def _check_trial_order(wanted, found, what, fix):
    """The trials ``found`` are the configurations ``wanted``, in that order."""
    same = len(found) == len(wanted) and all(map(same_config, found, wanted))
    check(same, f"{what}: {', '.join(map(describe, wanted))}",
          ", ".join(describe(c) for c in found), fix)


def check_grid_order(experiment, tunable_model):
    """Grid search's trials come in ``GridSearch``'s order for the space declared (another
    tuner that happens to cover the grid visits it in another order)."""
    _verified(experiment)
    _check_trial_order(
        _as_configs(grid_order(_declared(tunable_model))),
        [config(run) for run in experiment.runs],
        "grid search's trials in keras_tuner.GridSearch's order (the last hyperparameter "
        "declared changes fastest)",
        "make the grid search with keras_tuner.GridSearch (another tuner visits the "
        "combinations in another order)")


def check_seeded(experiment, tunable_model, profile):
    """The random draws of the search are keras-tuner's for the seed given: the random
    search's trials, and the first ``BAYESIAN_INITIAL_POINTS`` trials of Bayesian
    optimization (random draws too, before its Gaussian process picks; measured equal to
    RandomSearch's first draws at 60 seeds). When the search was verified, Bayesian
    optimization's later trials must then be its Gaussian process's picks
    (``bayesian_picks``, from the replayed scores of the trials before each)."""
    _verified(experiment)
    count = len(experiment.runs) if experiment.method == "random" else \
        min(BAYESIAN_INITIAL_POINTS, len(experiment.runs))  # too few trials: 10.4's to charge
    seed = part.tuner_seed(profile.seed)
    declared = _declared(tunable_model)
    _check_trial_order(
        _as_configs(seeded_sequence(seed, declared, count)),
        [config(run) for run in experiment.runs[:count]],
        f"the trials a {experiment.method} search seeded with seed={seed} draws first",
        "pass seed=seed to the tuner (its oracle draws the trials) and search once")
    if experiment.method != "bayesian" or not experiment.verifiable or \
            len(experiment.runs) <= BAYESIAN_INITIAL_POINTS:
        return
    found = [config(run) for run in experiment.runs]
    trials = []
    for configuration, run in zip(found, experiment.runs):
        values = _declared_values(configuration, declared)
        trial_score = score(experiment, run)
        if values is None or trial_score is None:
            return  # a trial outside the declared space: 10.1's and 10.5's to charge
        trials.append((values, trial_score))
    picks = bayesian_picks(seed, declared, trials)
    scored = ", ".join(f"{describe(c)}: {s:.4f}" for c, (_, s) in zip(found[:-1], trials))
    _check_trial_order(
        _as_configs(picks), found[BAYESIAN_INITIAL_POINTS:],
        f"after its {BAYESIAN_INITIAL_POINTS} random trials, the trials "
        f"keras_tuner.BayesianOptimization (seed={seed}) picks with its Gaussian process "
        f"from the val_accuracy of the trials before ({scored})",
        "make the Bayesian search with keras_tuner.BayesianOptimization(..., "
        "num_initial_points=2, seed=seed): RandomSearch draws those trials at random")
