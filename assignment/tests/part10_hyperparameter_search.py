"""Part 10: hyperparameter search. Otter exception-based test file.

The trials are the fits of models the grader's ``build_fn`` built; while grading each one
is replayed in a clean process, and every check below judges verified trials only
(``trials.py``). One mistake, its own test: the search space is 10.1's (the searches are
then judged on the space the student declared), the grid's coverage 10.3's, the other
budgets 10.4's, how trials train 10.5's, the reported scores 10.6's, which trial is the
best 10.7's, the seed and the tuners' own draws and picks 10.10's.
"""

from otter.test_files import test_case

from grader.choices import check_choice
from grader.parts.hyperparameter_search import trials as t

OK_FORMAT = False
name = "Part 10: hyperparameter search"


@test_case(name="10.1 build_tunable_model declares hp.Choice learning_rate and hidden_units "
                "with exactly the values given", points=2, hidden=False)
def test_space(tunable_model):
    t.check_space(tunable_model)


@test_case(name="10.2 build_tunable_model builds one model with build_fn and hp's values",
           points=2, hidden=False)
def test_builds_with_values(tunable_model):
    t.check_builds_with_values(tunable_model)


@test_case(name="10.3 grid search tries every combination once, in GridSearch's order",
           points=2, hidden=False)
def test_grid_coverage(grid_search, tunable_model):
    t.check_trial_count(grid_search)
    t.check_grid_order(grid_search, tunable_model)


@test_case(name="10.4 random search and Bayesian optimization run max_trials trials each",
           points=2, hidden=False)
def test_trial_budget(random_search, bayesian_search):
    t.check_trial_count(random_search)
    t.check_trial_count(bayesian_search)


@test_case(name="10.5 every trial trains a fresh model once on the data given", points=2,
           hidden=False)
def test_trials_as_asked(grid_search, random_search, bayesian_search):
    for search in (grid_search, random_search, bayesian_search):
        t.check_trials_as_asked(search)


@test_case(name="10.6 every trial is reported with its own val_accuracy", points=2, hidden=False)
def test_reported_scores(grid_search, random_search, bayesian_search):
    for search in (grid_search, random_search, bayesian_search):
        t.check_reported_scores(search)


@test_case(name="10.7 best is the trial with the highest val_accuracy", points=2, hidden=False)
def test_best(grid_search, random_search, bayesian_search):
    for search in (grid_search, random_search, bayesian_search):
        t.check_best(search)


@test_case(name="10.9 one TensorBoard HParams session per trial", points=2, hidden=False)
def test_sessions(grid_search, random_search, bayesian_search):
    for search in (grid_search, random_search, bayesian_search):
        t.check_sessions(search)


@test_case(name="10.10 the searches make keras-tuner's trials for the seed given (random draws, "
                "then Bayesian optimization's picks)", points=1, hidden=False)
def test_seeded(random_search, bayesian_search, tunable_model, profile):
    t.check_seeded(random_search, tunable_model, profile)
    t.check_seeded(bayesian_search, tunable_model, profile)
