"""Part 10: hyperparameter search with keras-tuner.

Instead of trying learning rates by hand (Part 4), let a tuner try every combination
of a learning rate and a hidden-layer width, or a budget of them, and keep the best:

- grid search (``keras_tuner.GridSearch``): every combination once;
- random search (``keras_tuner.RandomSearch``): ``max_trials`` combinations drawn at
  random (without repeats);
- Bayesian optimization (``keras_tuner.BayesianOptimization``): a few random trials,
  then each next trial where a Gaussian-process model of the scores so far expects the
  most improvement (on a space this small it may try a combination again).

Every *trial* builds one fresh model with the trial's hyperparameters and fits it once;
its score is its ``val_accuracy``. keras-tuner writes each search's state and each
trial's best weights under ``directory/<method>``, and, given a TensorBoard callback,
each trial's curves plus one TensorBoard **HParams** session (the trial's learning rate
and hidden units) under ``directory/<method>_logs/<trial id>``. Compare the trials in
TensorBoard's HPARAMS tab::

    tensorboard --logdir search/grid_logs
"""

import functools
import os

import keras
import keras_tuner
import numpy as np

DEFAULT_LEARNING_RATES = (0.01, 0.001)
DEFAULT_HIDDEN_UNITS = (32, 128)
#: The search methods, by name, and the keras-tuner class each one uses.
METHODS = ("grid", "random", "bayesian")
#: Objective every search maximizes (a metric of each trial's fit).
OBJECTIVE = "val_accuracy"
#: Random trials Bayesian optimization makes before its Gaussian process picks trials.
BAYESIAN_INITIAL_POINTS = 2


def build_search_model(n_classes=10, *, learning_rate=0.001, hidden_units=250,
                       optimizer="adam", input_dim=784):
    """The required network with a hidden layer of ``hidden_units`` (given: not graded).

    ``Input(input_dim)`` -> ``Dense(hidden_units, sigmoid)`` -> ``Dense(n_classes,
    softmax)``, compiled with Adam, sparse categorical cross-entropy and accuracy. The
    default builder of :func:`build_tunable_model` (the grader passes its own).

    Parameters
    ----------
    n_classes : int, default=10
    learning_rate : float, default=0.001
    hidden_units : int, default=250
        Width of the hidden layer.
    optimizer : str, default="adam"
        "adam" or "sgd".
    input_dim : int, default=784

    Returns
    -------
    keras.Model
        A new compiled model named "mlp" with layers "hidden" and "output".
    """
    optimizers = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}
    model = keras.Sequential([
        keras.Input(shape=(int(input_dim),)),
        keras.layers.Dense(int(hidden_units), activation="sigmoid", name="hidden"),
        keras.layers.Dense(int(n_classes), activation="softmax", name="output"),
    ], name="mlp")
    model.compile(optimizer=optimizers[str(optimizer).lower()](learning_rate=learning_rate),
                  metrics=["accuracy"], loss="sparse_categorical_crossentropy")
    return model


def build_tunable_model(hp, build_fn=None, n_classes=10, learning_rates=DEFAULT_LEARNING_RATES,
                        hidden_units=DEFAULT_HIDDEN_UNITS):
    """A keras-tuner hypermodel function: one model for the hyperparameters ``hp`` holds.

    Declare the search space on ``hp`` (keras-tuner calls this function once per trial,
    with that trial's values, and also before the search to learn the space):

    - ``hp.Choice("learning_rate", learning_rates)``
    - ``hp.Choice("hidden_units", hidden_units)``

    then build the model with exactly the values they return:
    ``build_fn(n_classes, learning_rate=<the learning rate>, hidden_units=<the units>)``.

    Parameters
    ----------
    hp : keras_tuner.HyperParameters
    build_fn : callable or None
        Model builder (None: :func:`build_search_model`); the grader passes its own.
    n_classes : int, default=10
    learning_rates : sequence of float
        Every value the search may try, exactly these.
    hidden_units : sequence of int
        Every hidden-layer width the search may try, exactly these.

    Returns
    -------
    keras.Model
        The compiled model ``build_fn`` returned.
    """
    if build_fn is None:
        build_fn = build_search_model
    # BEGIN SOLUTION
    learning_rate = hp.Choice("learning_rate", list(learning_rates))
    units = hp.Choice("hidden_units", list(hidden_units))
    return build_fn(n_classes, learning_rate=learning_rate, hidden_units=units)
    # END SOLUTION


def make_tuner(method, hypermodel, directory, *, max_trials, seed):
    """The keras-tuner tuner for ``method``.

    Every tuner maximizes ``"val_accuracy"``, trains each trial once
    (``executions_per_trial=1``), starts afresh (``overwrite=True``: an old search in the
    same folder is not continued), samples with ``seed``, and keeps its files in
    ``directory/<method>`` (``project_name=method``).

    Parameters
    ----------
    method : str
        "grid" (``keras_tuner.GridSearch``, every combination: no ``max_trials``),
        "random" (``keras_tuner.RandomSearch``) or "bayesian"
        (``keras_tuner.BayesianOptimization``, with ``num_initial_points=2`` random trials
        before the Gaussian process picks).
    hypermodel : callable or keras_tuner.HyperModel
    directory : str or os.PathLike
    max_trials : int
        Trials of the random and Bayesian searches (not given to GridSearch: a grid of 4
        combinations searched with max_trials=3 would leave one out).
    seed : int

    Returns
    -------
    keras_tuner.Tuner

    Raises
    ------
    ValueError
        If ``method`` is not one of ``METHODS``.
    """
    # BEGIN SOLUTION
    common = dict(objective=OBJECTIVE, seed=seed, executions_per_trial=1, overwrite=True,
                  directory=str(directory), project_name=method)
    if method == "grid":
        return keras_tuner.GridSearch(hypermodel, **common)
    if method == "random":
        return keras_tuner.RandomSearch(hypermodel, max_trials=max_trials, **common)
    if method == "bayesian":
        return keras_tuner.BayesianOptimization(hypermodel, max_trials=max_trials,
                                                num_initial_points=BAYESIAN_INITIAL_POINTS,
                                                **common)
    raise ValueError(f"unknown search method {method!r}: expected one of {', '.join(METHODS)}")
    # END SOLUTION


def trial_record(trial):
    """One finished keras-tuner trial as plain data.

    Parameters
    ----------
    trial : keras_tuner.engine.trial.Trial

    Returns
    -------
    dict
        ``{"hyperparameters": {"learning_rate": float, "hidden_units": int},
        "val_accuracy": float}``: the trial's values and its score (its best epoch's
        val_accuracy, ``trial.score``).
    """
    # BEGIN SOLUTION
    values = trial.hyperparameters.values
    return {"hyperparameters": {"learning_rate": float(values["learning_rate"]),
                                "hidden_units": int(values["hidden_units"])},
            "val_accuracy": float(trial.score)}
    # END SOLUTION


def run_search(method, x_train, y_train, x_val, y_val, directory, *,
               learning_rates=DEFAULT_LEARNING_RATES, hidden_units=DEFAULT_HIDDEN_UNITS,
               max_trials=3, epochs=2, seed=42, build_fn=None):
    """Search learning rate x hidden units with ``method`` and report every trial.

    Steps: seed everything with ``keras.utils.set_random_seed(seed)`` (the tuner's own
    ``seed`` only drives which trials it picks); make the tuner (:func:`make_tuner`) on
    :func:`build_tunable_model` with ``build_fn``, ``n_classes`` and the two value lists;
    search with ``tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val,
    y_val), callbacks=[keras.callbacks.TensorBoard(directory/<method>_logs)], verbose=0)``
    (keras-tuner gives each trial its own log folder and HParams session); then report
    every trial and the best one.

    Parameters
    ----------
    method : str
        "grid", "random" or "bayesian".
    x_train : np.ndarray of shape (n_train, 784), float32 in [0, 1]
    y_train : np.ndarray of shape (n_train,), int
    x_val : np.ndarray of shape (n_val, 784), float32 in [0, 1]
    y_val : np.ndarray of shape (n_val,), int
    directory : str or os.PathLike
        The tuner's folder (``directory/<method>``) and the logs'
        (``directory/<method>_logs``).
    learning_rates : sequence of float
    hidden_units : sequence of int
    max_trials : int, default=3
        Trials of the random and Bayesian searches (grid search tries every combination).
    epochs : int, default=2
        Epochs of every trial's fit.
    seed : int, default=42
        Seeds Keras and the tuner (keras-tuner takes ``seed=0`` as no seed: pass >= 1).
    build_fn : callable or None
        Model builder passed on to :func:`build_tunable_model`.

    Returns
    -------
    dict
        ``{"trials": [trial, ...], "best": trial}``, one ``trial`` per trial the search
        ran, each as :func:`trial_record` returns it; ``"best"`` is the trial with the
        highest ``val_accuracy``.
    """
    n_classes = 1 + int(max(np.max(y_train), np.max(y_val)))
    # BEGIN SOLUTION
    keras.utils.set_random_seed(seed)
    hypermodel = functools.partial(build_tunable_model, build_fn=build_fn, n_classes=n_classes,
                                   learning_rates=learning_rates, hidden_units=hidden_units)
    tuner = make_tuner(method, hypermodel, directory, max_trials=max_trials, seed=seed)
    log_dir = os.path.join(str(directory), f"{method}_logs")
    tensorboard = keras.callbacks.TensorBoard(log_dir=log_dir)
    tuner.search(x_train, y_train, epochs=epochs, validation_data=(x_val, y_val),
                 callbacks=[tensorboard], verbose=0)
    finished = [trial for trial in tuner.oracle.trials.values() if trial.score is not None]
    best = tuner.oracle.get_best_trials(1)[0]
    return {"trials": [trial_record(trial) for trial in finished], "best": trial_record(best)}
    # END SOLUTION


RANDOM_BEATS_GRID_CHOICES = {
    "a": "Never: grid search always finds a better configuration for the same budget.",
    "b": "When only a few of many hyperparameters matter: for the same number of trials, "
         "random search tries more distinct values of each important one.",
    "c": "Only when the search space has a single hyperparameter.",
    "d": "When the training data is small, because random search trains on less of it.",
}
# When does random search beat grid search for the same number of trials?
# BEGIN SOLUTION
RANDOM_BEATS_GRID = "b"
# END SOLUTION
# BEGIN PROMPT
# RANDOM_BEATS_GRID = None  # one of "a", "b", "c", "d"
# END PROMPT

BAYESIAN_NEXT_TRIAL_CHOICES = {
    "a": "The next combination in a fixed order, like grid search.",
    "b": "A random combination, independent of earlier trials.",
    "c": "A model (a Gaussian process) of the scores of the trials so far: it tries where "
         "that model expects the most improvement.",
    "d": "The gradient of the validation accuracy with respect to the hyperparameters.",
}
# How does Bayesian optimization choose its next trial?
# BEGIN SOLUTION
BAYESIAN_NEXT_TRIAL = "c"
# END SOLUTION
# BEGIN PROMPT
# BAYESIAN_NEXT_TRIAL = None  # one of "a", "b", "c", "d"
# END PROMPT
