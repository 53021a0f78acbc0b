"""Mutants of Part 10 (hyperparameter search with keras-tuner, ``search.py``)."""

from mutants.corpus import Mutant

CHOICE = 'learning_rate = hp.Choice("learning_rate", list(learning_rates))'
GRID = "return keras_tuner.GridSearch(hypermodel, **common)"
BEST = "best = tuner.oracle.get_best_trials(1)[0]"
SCORE = '"val_accuracy": float(trial.score)}'
SEED = "common = dict(objective=OBJECTIVE, seed=seed, "
SEARCH = "tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val, y_val),"

MUTANTS = (
    Mutant("search_space_missing_a_value",
           "the learning-rate choice leaves out the last value it was given",
           (("search.py", CHOICE,
             'learning_rate = hp.Choice("learning_rate", list(learning_rates)[:-1])'),),
           fails=("10.1", "10.3", "10.4"),
           says={"10.1": "exactly the values given", "10.3": "missing",
                 "10.4": "max_trials=3"},
           docstring='build_tunable_model: hp.Choice("learning_rate", learning_rates): "Every '
                     'value the search may try, exactly these"'),
    Mutant("grid_search_with_max_trials",
           "GridSearch is given the random search's max_trials (3 of the 4 combinations)",
           (("search.py", GRID,
             "return keras_tuner.GridSearch(hypermodel, max_trials=max_trials, **common)"),),
           fails=("10.3",), says={"10.3": "each of the 4 combinations once"},
           docstring='make_tuner: "grid" (keras_tuner.GridSearch, every combination: no '
                     'max_trials)'),
    Mutant("best_is_the_lowest_val_accuracy",
           "the best trial is taken as the one with the lowest score",
           (("search.py", BEST, "best = min(finished, key=lambda trial: trial.score)"),),
           fails=("10.7",), says={"10.7": "highest val_accuracy"},
           docstring='run_search returns "best": the trial with the highest val_accuracy'),
    Mutant("reported_training_accuracy",
           "each trial is reported with its last training accuracy, not its val_accuracy",
           (("search.py", SCORE,
             '"val_accuracy": float(trial.metrics.get_last_value("accuracy"))}'),),
           fails=("10.6",), says={"10.6": "its training's"},
           docstring='trial_record: "val_accuracy": the trial\'s score (its best epoch\'s '
                     'val_accuracy, trial.score)'),
    Mutant("tuner_not_seeded",
           "the tuners are made without the seed (keras-tuner draws a seed of its own)",
           (("search.py", SEED, "common = dict(objective=OBJECTIVE, "),),
           fails=("10.10",), says={"10.10": "seed=seed"},
           docstring='make_tuner: "samples with seed"'),
    Mutant("bayesian_made_with_random_search",
           "the Bayesian search is made with RandomSearch (copied from the line above)",
           (("search.py", "return keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials,",
             "return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials,"),
            ("search.py", "num_initial_points=BAYESIAN_INITIAL_POINTS,", "")),
           fails=("10.10",), says={"10.10": "picks with its Gaussian process"},
           docstring='make_tuner: "bayesian" (keras_tuner.BayesianOptimization, with '
                     'num_initial_points=2 random trials'),
    Mutant("search_without_tensorboard",
           "tuner.search gets no TensorBoard callback, so no HParams sessions are logged",
           (("search.py", "callbacks=[tensorboard], verbose=0)", "verbose=0)"),),
           fails=("10.9",), says={"10.9": "HParams"},
           docstring='run_search: callbacks=[keras.callbacks.TensorBoard(directory/<method>'
                     '_logs)]'),
    Mutant("search_trains_on_the_validation_data",
           "tuner.search trains on the validation split and validates on the training split",
           (("search.py", SEARCH,
             "tuner.search(x_val, y_val, epochs=epochs, validation_data=(x_train, y_train),"),),
           fails=("10.5",), says={"10.5": "training rows"},
           docstring="run_search: tuner.search(x_train, y_train, epochs=epochs, "
                     "validation_data=(x_val, y_val), ...)"),
    Mutant("random_beats_grid_never",
           "answers that grid search always beats random search",
           (("search.py", 'RANDOM_BEATS_GRID = "b"', 'RANDOM_BEATS_GRID = "a"'),),
           fails=("10.11",), says={"10.11": "the right choice"},
           unseen="which letter is right is the question itself: a hidden test judges it"),
)
