"""Part 10 (hyperparameter search): the trusted side's checks on hand-made trials.

Each check of ``grader/parts/hyperparameter_search/trials.py`` is run on a search whose
trials are written here (verified, with a replay history), once as a correct submission
makes it (it must pass) and once with one mistake (it must fail, naming it). The replica
of keras-tuner's seeded draws is compared with keras-tuner itself, and the HParams reader
with sessions TensorBoard's own API wrote.
"""

import math
import os

import pytest

from grader import artifacts, runs, tblogs
from grader.parts import hyperparameter_search as part
from grader.parts.hyperparameter_search import trials as t

N_TRAIN, N_VAL = 2000, 1000
#: A replayed val_accuracy per configuration (higher rate and more units: better).
SCORES = {(0.01, 32): 0.80, (0.01, 128): 0.86, (0.001, 32): 0.59, (0.001, 128): 0.75}
GRID = [(lr, units) for lr in part.LEARNING_RATES for units in part.HIDDEN_UNITS]


class Profile:
    seed = 7


def _run(index, configuration, *, verified=True, steps_before=0):
    learning_rate, units = configuration
    run = runs.Run(setting=t.label(configuration), label=f"trial {index + 1}", dir_name="")
    run.fit_index = index
    run.fit = {"model": index, "epochs": part.EPOCHS}
    run.model = {"n_classes": 10, "optimizer": "adam", "learning_rate": learning_rate,
                 "hidden_units": units, "input_scale": None}
    run.facts = {"x_rows": N_TRAIN, "val_rows": N_VAL, "full_data": True,
                 "steps": part.EPOCHS * math.ceil(N_TRAIN / 32), "steps_before": steps_before}
    run.verified = verified
    run.replay_history = {"val_accuracy": [SCORES[configuration]]}
    run.held_out_accuracy = SCORES[configuration] - 0.01
    return run


def _search(method, configurations, *, reported=None, best=None, sessions=None):
    trials = [_run(i, c) for i, c in enumerate(configurations)]
    entries = [{"learning_rate": lr, "hidden_units": units, "val_accuracy": SCORES[(lr, units)]}
               for lr, units in configurations] if reported is None else reported
    top = max(configurations, key=SCORES.get) if best is None else best
    experiment = t.SearchExperiment(
        name=f"{method}_search", setting_name="trial", runs=trials, result_error=None,
        returned_keys=[], n_fits=len(trials), n_models=len(trials), epochs=part.EPOCHS,
        n_train=N_TRAIN, n_val=N_VAL, method=method, verifiable=True,
        reported={"trials": entries, "best": {"learning_rate": top[0], "hidden_units": top[1],
                                              "val_accuracy": SCORES[top]}},
        sessions=[{"folder": str(i), "hparams": {"learning_rate": lr, "hidden_units": float(u)}}
                  for i, (lr, u) in enumerate(configurations)] if sessions is None else sessions)
    return experiment


def _fails(check, *args, says):
    with pytest.raises(AssertionError) as failure:
        check(*args)
    assert says.lower() in str(failure.value).lower(), str(failure.value)


def test_grid_coverage():
    t.check_trial_count(_search("grid", GRID))
    _fails(t.check_trial_count, _search("grid", GRID[:3]), says="missing learning rate 0.001")
    _fails(t.check_trial_count, _search("grid", GRID + GRID[:1]), says="repeating")


def test_budget_of_random_and_bayesian():
    t.check_trial_count(_search("random", GRID[:3]))
    _fails(t.check_trial_count, _search("random", GRID[:2]), says="max_trials=3")
    _fails(t.check_trial_count, _search("random", [GRID[0], GRID[0], GRID[1]]), says="repeating")
    t.check_trial_count(_search("bayesian", [GRID[0], GRID[1], GRID[1]]))  # the GP may repeat


def test_every_check_needs_verified_trials():
    search = _search("grid", GRID)
    search.runs[2].verified = False
    for check in (t.check_trial_count, t.check_trials_as_asked, t.check_reported_scores,
                  t.check_best, t.check_sessions):
        _fails(check, search, says="trial 3")


def test_trials_as_asked():
    t.check_trials_as_asked(_search("grid", GRID))
    search = _search("grid", GRID)
    search.runs[1].facts["x_rows"] = N_VAL
    _fails(t.check_trials_as_asked, search, says="training rows")
    search = _search("grid", GRID)
    search.runs[3].facts["steps_before"] = 63
    _fails(t.check_trials_as_asked, search, says="fresh model")


def test_reported_scores():
    t.check_reported_scores(_search("grid", GRID))
    wrong = [{"learning_rate": lr, "hidden_units": u, "val_accuracy": SCORES[(lr, u)] + 0.01}
             for lr, u in GRID]
    _fails(t.check_reported_scores, _search("grid", GRID, reported=wrong), says="its training's")
    _fails(t.check_reported_scores, _search("grid", GRID, reported=[]), says="reported once")
    search = _search("grid", GRID)
    search.reported["best"]["val_accuracy"] = 0.5
    _fails(t.check_reported_scores, search, says="the best trial's own score")


def test_reported_score_of_the_best_or_last_epoch():
    """keras-tuner's trial.score is the best epoch's; the last epoch's is accepted too."""
    search = _search("grid", GRID)
    search.runs[0].replay_history = {"val_accuracy": [0.80, 0.78]}
    search.reported["trials"][0]["val_accuracy"] = 0.78
    t.check_reported_scores(search)
    search.reported["trials"][0]["val_accuracy"] = 0.79
    _fails(t.check_reported_scores, search, says="0.8000")


def test_best():
    t.check_best(_search("grid", GRID))
    _fails(t.check_best, _search("grid", GRID, best=(0.001, 32)), says="highest val_accuracy")


def test_best_held_out(tmp_path):
    from grader import calibration
    metrics = {f"hyperparameter_search.{t.label(c)}.held_out_accuracy":
               calibration.summarize([SCORES[c] - 0.01] * 5) for c in GRID}
    thresholds = calibration.Thresholds(metrics)
    t.check_best_held_out(_search("grid", GRID), thresholds)
    search = _search("grid", GRID)
    search.runs[1].held_out_accuracy = 0.6  # the best trial's weights do not generalize
    _fails(t.check_best_held_out, search, thresholds, says="held-out accuracy of the best trial")


def test_sessions():
    t.check_sessions(_search("grid", GRID))
    _fails(t.check_sessions, _search("grid", GRID, sessions=[]), says="HParams sessions")
    other = [{"folder": "0", "hparams": {"learning_rate": 0.1, "hidden_units": 32.0}}]
    _fails(t.check_sessions, _search("grid", GRID, sessions=other), says="an HParams session")


def _tunable(space, builds=((0.001, 128),)):
    calls = [{"returned": {"type": "keras Sequential", "repr": "<Sequential>"}, "is_model": True,
              "builds": [{"learning_rate": lr, "hidden_units": u} for lr, u in builds]}] * 2
    return artifacts.Step("tunable_model", True, "", value={"space": space, "calls": calls})


def _declared(**values):
    return [{"name": name, "class": "Choice", "values": list(v)} for name, v in values.items()]


def test_space():
    t.check_space(_tunable(_declared(learning_rate=(0.01, 0.001), hidden_units=(32, 128))))
    t.check_space(_tunable(_declared(hidden_units=(128, 32), learning_rate=(0.001, 0.01))))
    _fails(t.check_space, _tunable(_declared(learning_rate=(0.01,), hidden_units=(32, 128))),
           says="exactly the values given")
    _fails(t.check_space, _tunable(_declared(learning_rate=(0.01, 0.001), hidden_units=(32, 128),
                                             dropout=(0.0, 0.5))), says="only the hyperparameters")
    t.check_builds_with_values(_tunable(_declared()))
    _fails(t.check_builds_with_values, _tunable(_declared(), builds=((0.01, 128),)),
           says="learning rate 0.001 with 128 hidden units")


def _keras_tuner_draws(seed, declared, count):
    """What keras-tuner's own random oracle draws first for ``seed``."""
    import keras_tuner
    hp = keras_tuner.HyperParameters()
    for name, values in declared:
        hp.Choice(name, values)
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=count,
                                                    seed=seed, hyperparameters=hp)
    drawn = []
    for _ in range(count):
        values = oracle._random_values()
        if values is None:
            break
        oracle._tried_so_far.add(oracle._compute_values_hash(values))
        drawn.append(dict(values))
    return drawn


@pytest.mark.parametrize("declared", [
    list(part.space().items()),
    [("hidden_units", [128, 32]), ("learning_rate", [0.001, 0.01])],
    [("learning_rate", [0.01]), ("hidden_units", [32, 128])]])
def test_seeded_draws_are_keras_tuners(declared):
    for seed in (1, 2, 7, 42, 1234):
        assert t.seeded_sequence(seed, declared, 3) == _keras_tuner_draws(seed, declared, 3)


def keras_tuner_bayesian_trials(seed, declared, score_of, count=3):
    """The trials keras-tuner's own ``BayesianOptimizationOracle`` (2 random points) makes
    for ``seed`` when each trial scores ``score_of(values)``."""
    import tempfile

    import keras_tuner
    hp = keras_tuner.HyperParameters()
    for name, values in declared:
        hp.Choice(name, values)
    oracle = keras_tuner.oracles.BayesianOptimizationOracle(
        objective=keras_tuner.Objective("val_accuracy", "max"), max_trials=count,
        num_initial_points=t.BAYESIAN_INITIAL_POINTS, seed=seed, hyperparameters=hp)
    with tempfile.TemporaryDirectory() as folder:
        oracle._set_project_dir(folder, "search")
        made = []
        for _ in range(count):
            trial = oracle.create_trial("tuner0")
            made.append(dict(trial.hyperparameters.values))
            oracle.update_trial(trial.trial_id, {"val_accuracy": score_of(made[-1])})
            trial.status = "COMPLETED"
            oracle.end_trial(trial)
    return made


@pytest.mark.parametrize("seed", [2, 8, 43, 60])
@pytest.mark.parametrize("declared", [
    list(part.space().items()),
    [("hidden_units", [128, 32]), ("learning_rate", [0.001, 0.01])]])
def test_bayesian_picks_are_keras_tuners(seed, declared):
    """The replica of the Gaussian process's pick is keras-tuner's own third trial (bench:
    120 of 120 cases at 60 seeds, both declaration orders)."""
    def score_of(values):
        return SCORES[(values["learning_rate"], values["hidden_units"])]
    made = keras_tuner_bayesian_trials(seed, declared, score_of)
    assert t.bayesian_picks(seed, declared, [(v, score_of(v)) for v in made]) == made[2:]


def test_seeded():
    draws = t.seeded_sequence(part.tuner_seed(Profile.seed), list(part.space().items()), 3)
    configurations = [(d["learning_rate"], d["hidden_units"]) for d in draws]
    t.check_seeded(_search("random", configurations), None, Profile)
    # Bayesian optimization: its two initial trials are random draws; the third is its
    # Gaussian process's pick, from the (replayed) scores of the first two
    made = keras_tuner_bayesian_trials(part.tuner_seed(Profile.seed), list(part.space().items()),
                                 lambda v: SCORES[(v["learning_rate"], v["hidden_units"])])
    bayesian = [(v["learning_rate"], v["hidden_units"]) for v in made]
    assert bayesian[:2] == configurations[:2]
    t.check_seeded(_search("bayesian", bayesian), None, Profile)
    # RandomSearch posing as Bayesian optimization: same first two draws, a random third
    assert configurations[2] != bayesian[2]
    _fails(t.check_seeded, _search("bayesian", configurations), None, Profile,
           says="picks with its Gaussian process")
    others = [c for c in GRID if c not in configurations] + configurations[:2]
    _fails(t.check_seeded, _search("random", others), None, Profile, says="seed=8")
    # the first configuration three times (a "Bayesian" search that never drew again)
    _fails(t.check_seeded, _search("bayesian", configurations[:1] * 3), None, Profile,
           says="seed=8")
    # too few trials is 10.4's to charge: the draws there are judged
    t.check_seeded(_search("bayesian", configurations[:1]), None, Profile)


def test_grid_order_is_grid_searchs():
    """GridSearch visits the combinations in the declared order, the last hyperparameter
    declared changing fastest: the same combinations in another order (another tuner that
    happened to cover the grid) fail 10.3, and the order follows the space as declared."""
    t.check_grid_order(_search("grid", GRID), None)
    _fails(t.check_grid_order, _search("grid", GRID[::-1]), None, says="GridSearch")
    assert [tuple(c.values()) for c in t.grid_order([("hidden_units", [128, 32]),
                                                     ("learning_rate", [0.01, 0.001])])] == \
        [(128, 0.01), (128, 0.001), (32, 0.01), (32, 0.001)]  # measured with keras-tuner 1.4.8


def test_seeded_on_the_space_declared():
    """A space declared without a value (10.1's mistake) is what the oracle draws from: the
    seed is judged on it, so that mistake does not cost 10.10 too."""
    reduced = [("learning_rate", [0.01]), ("hidden_units", [32, 128])]
    draws = t.seeded_sequence(part.tuner_seed(Profile.seed), reduced, 3)
    assert len(draws) == 2  # two combinations: the space runs out, as keras-tuner's does
    configurations = [(d["learning_rate"], d["hidden_units"]) for d in draws]
    step = _tunable(_declared(learning_rate=(0.01,), hidden_units=(32, 128)))
    t.check_seeded(_search("random", configurations), step, Profile)


def test_hparams_sessions_as_tensorboard_writes_them(tmp_path):
    """Sessions written with TensorBoard's HParams API are read back; a symlink or a FIFO
    named like an event file is skipped, never opened."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hparams_api
    for trial, (lr, units) in enumerate(GRID):
        session = hparams_api.hparams_pb({"learning_rate": lr, "hidden_units": units},
                                         trial_id=str(trial))
        with tf.summary.create_file_writer(str(tmp_path / "logs" / f"{trial:04d}" / "execution0")
                                           ).as_default():
            tf.summary.experimental.write_raw_pb(session.SerializeToString(), step=0)
    os.symlink("/dev/zero", tmp_path / "logs" / "0000" / "events.out.tfevents.link")
    os.mkfifo(tmp_path / "logs" / "0001" / "events.out.tfevents.fifo")
    sessions, _ = tblogs.read_hparams_sessions(str(tmp_path / "logs"))
    assert sorted((s["hparams"]["learning_rate"], s["hparams"]["hidden_units"]) for s in sessions) \
        == sorted((lr, float(u)) for lr, u in GRID)
    with pytest.raises(tblogs.LogError):
        tblogs.read_hparams_sessions(str(tmp_path / "missing"))
