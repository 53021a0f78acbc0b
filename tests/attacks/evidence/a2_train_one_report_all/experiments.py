"""Parts 3-5: batch size, learning rate and optimizer experiments.

Each experiment trains one fresh model per setting with ``training.train_run``, records
every run to its own TensorBoard run directory under ``log_dir``, and returns every
run's per-epoch history. All inputs here are already normalized float32 pixels in
[0, 1] (do not normalize them again). ``best_setting`` picks the winner of such results.

Run directory names (under ``log_dir``), made by :func:`run_dir_name`:

- batch sizes:    ``batch_size_8``, ``batch_size_32``, ``batch_size_512``
- learning rates: ``learning_rate_1``, ``learning_rate_0.1``, ..., ``learning_rate_0.0001``
- optimizers:     ``optimizer_sgd``, ``optimizer_adam``, ...
"""

import math
import os

from architecture import build_model
from training import train_run

DEFAULT_BATCH_SIZES = (8, 32, 512)
DEFAULT_LEARNING_RATES = (1.0, 0.1, 0.01, 0.001, 0.0001)
DEFAULT_OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "nadam")


def run_dir_name(setting_name, value):
    """Name of one run's directory, e.g. ``run_dir_name("learning_rate", 0.001)``.

    Numbers are written with ``format(value, "g")``: 1.0 -> "1", 0.0001 -> "0.0001".

    Parameters
    ----------
    setting_name : str
        "batch_size", "learning_rate" or "optimizer".
    value : int, float or str
        The setting's value.

    Returns
    -------
    str
        ``f"{setting_name}_{value}"`` with numbers formatted as above.
    """
    text = format(value, "g") if isinstance(value, (int, float)) else str(value)
    return f"{setting_name}_{text}"


def run_batch_size_experiment(x_train, y_train, x_val, y_val, log_dir, *,
                              batch_sizes=DEFAULT_BATCH_SIZES, epochs=5, optimizer="adam",
                              learning_rate=0.001, seed=42, build_fn=None):
    """Part 3: train one fresh model per batch size.

    Parameters
    ----------
    x_train : np.ndarray of shape (n_train, 784), float32 in [0, 1]
    y_train : np.ndarray of shape (n_train,), int
    x_val : np.ndarray of shape (n_val, 784), float32 in [0, 1]
    y_val : np.ndarray of shape (n_val,), int
    log_dir : str or os.PathLike
        Parent folder; run ``b`` is logged to ``log_dir/batch_size_<b>``.
    batch_sizes : sequence of int
    epochs, optimizer, learning_rate, seed
        The same for every run.
    build_fn : callable or None
        Model builder (None: ``architecture.build_model``).

    Returns
    -------
    dict of int to dict
        ``{batch_size: history}``, one entry per batch size, in the given order; each
        history as returned by ``train_run``.
    """
    if build_fn is None:
        build_fn = build_model
    # BEGIN SOLUTION
    return {
        batch_size: train_run(
            build_fn, x_train, y_train, x_val, y_val,
            os.path.join(log_dir, run_dir_name("batch_size", batch_size)),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
        for batch_size in batch_sizes
    }
    # END SOLUTION


def run_learning_rate_experiment(x_train, y_train, x_val, y_val, log_dir, *,
                                 learning_rates=DEFAULT_LEARNING_RATES, epochs=5,
                                 batch_size=32, optimizer="adam", seed=42, build_fn=None):
    """Part 4: train one fresh model per learning rate.

    Too high a learning rate makes the loss jump around or blow up; too low a rate
    crawls. Run ``lr`` is logged to ``log_dir/learning_rate_<lr>`` (see ``run_dir_name``).

    Parameters
    ----------
    x_train, y_train, x_val, y_val, log_dir
        As in ``run_batch_size_experiment``.
    learning_rates : sequence of float
    epochs, batch_size, optimizer, seed
        The same for every run.
    build_fn : callable or None

    Returns
    -------
    dict of float to dict
        ``{learning_rate: history}``, one entry per learning rate, in the given order.
    """
    if build_fn is None:
        build_fn = build_model
    # BEGIN SOLUTION
    return {
        learning_rate: train_run(
            build_fn, x_train, y_train, x_val, y_val,
            os.path.join(log_dir, run_dir_name("learning_rate", learning_rate)),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
        for learning_rate in learning_rates
    }
    # END SOLUTION


def run_optimizer_experiment(x_train, y_train, x_val, y_val, log_dir, *,
                             optimizers=DEFAULT_OPTIMIZERS, epochs=5, batch_size=32,
                             learning_rate=0.001, seed=42, build_fn=None):
    """Part 5: train one fresh model per optimizer, all at the same learning rate.

    Run ``name`` is logged to ``log_dir/optimizer_<name>``.

    Parameters
    ----------
    x_train, y_train, x_val, y_val, log_dir
        As in ``run_batch_size_experiment``.
    optimizers : sequence of str
        Optimizer names understood by ``architecture.build_model``.
    epochs, batch_size, learning_rate, seed
        The same for every run.
    build_fn : callable or None

    Returns
    -------
    dict of str to dict
        ``{optimizer_name: history}``, one entry per optimizer, in the given order.
    """
    if build_fn is None:
        build_fn = build_model
    # BEGIN SOLUTION
    return {
        name: train_run(
            build_fn, x_train, y_train, x_val, y_val,
            os.path.join(log_dir, run_dir_name("optimizer", name)),
            optimizer=name, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
        for name in optimizers
    }
    # END SOLUTION


def best_setting(results, metric="val_accuracy"):
    """Pick the setting whose run ended best.

    Parameters
    ----------
    results : dict
        ``{setting: history}`` as returned by the experiments above.
    metric : str, default="val_accuracy"
        History key to compare at the last epoch. Higher is better, except for
        metrics whose name contains "loss", where lower is better. A NaN value counts
        as the worst possible; ties go to the setting that comes first.

    Returns
    -------
    object
        The key of ``results`` with the best final value.

    Raises
    ------
    ValueError
        If ``results`` is empty, or a run has no ``metric`` (the message names the
        metric and the keys that were found).
    """
    # BEGIN SOLUTION
    if not results:
        raise ValueError("best_setting: results is empty, expected at least one run")
    lower_is_better = "loss" in metric

    def score(setting):
        history = results[setting]
        if metric not in history or not history[metric]:
            raise ValueError(f"best_setting: run {setting!r} has no {metric!r} "
                             f"(found keys: {sorted(history)})")
        value = float(history[metric][-1])
        if math.isnan(value):
            return -math.inf
        return -value if lower_is_better else value

    best = None
    for setting in results:
        if best is None or score(setting) > score(best):
            best = setting
    return best
    # END SOLUTION
