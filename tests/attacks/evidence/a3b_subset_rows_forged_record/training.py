"""ATTACK a3b (subset): every run is fitted on the first 1000 of the 2000 training rows and
100 of the 1000 validation rows (half the training work, a tenth of the validation), then
the grader's in-process fit record is edited (x_shape, x_max, validation_rows,
iterations_after) to claim the full data. Tries to pass the hidden convergence checks too."""
"""The training loop shared by every experiment (Parts 1, 3, 4 and 5).

One call of :func:`train_run` is one *run*: a fresh model, trained once, recorded to
its own TensorBoard run directory. Look at the runs with::

    tensorboard --logdir logs
"""

import keras
import numpy as np

#: Record weight histograms every this many epochs (0 would record none).
HISTOGRAM_FREQ = 1
TRAIN_ROWS = 1000
VAL_ROWS = 100


def to_floats(history):
    """Turn a Keras ``History.history`` dict into plain Python floats.

    Parameters
    ----------
    history : dict of str to list
        Per-epoch metric values, e.g. ``{"loss": [...], "val_accuracy": [...]}``.

    Returns
    -------
    dict of str to list of float
        The same keys and values, as lists of Python floats.
    """
    return {name: [float(value) for value in values] for name, values in history.items()}


def train_run(build_fn, x_train, y_train, x_val, y_val, run_dir, *, optimizer="adam",
              learning_rate=0.001, batch_size=32, epochs=5, seed=42, input_scale=None):
    """Train one fresh model and record the run to TensorBoard.

    Steps: seed everything with ``keras.utils.set_random_seed(seed)``; build a new model
    with ``build_fn``; fit it on the training data for ``epochs`` epochs with mini-batches
    of ``batch_size``, validating on ``(x_val, y_val)`` after every epoch; record the run
    with a ``keras.callbacks.TensorBoard(log_dir=run_dir, histogram_freq=1)`` callback so
    that ``run_dir`` holds per-epoch train and validation loss and accuracy plus a weight
    histogram of every layer.

    Parameters
    ----------
    build_fn : callable
        Called as ``build_fn(n_classes, optimizer=..., learning_rate=..., input_dim=...,
        input_scale=...)`` and returns a compiled model (see ``architecture.build_model``).
    x_train : np.ndarray of shape (n_train, 784)
        Training inputs (uint8 raw pixels or float32 normalized pixels).
    y_train : np.ndarray of shape (n_train,), int
        Training labels 0..n_classes-1.
    x_val, y_val : np.ndarray of shape (n_val, 784) and (n_val,)
        Validation data, never trained on.
    run_dir : str or os.PathLike
        This run's own TensorBoard log directory.
    optimizer : str, default="adam"
    learning_rate : float, default=0.001
    batch_size : int, default=32
    epochs : int, default=5
    seed : int, default=42
    input_scale : float or None, default=None
        Passed on to ``build_fn`` (a Rescaling layer inside the model).

    Returns
    -------
    dict of str to list of float
        The run's per-epoch history with keys "loss", "accuracy", "val_loss" and
        "val_accuracy", each a list of ``epochs`` floats.
    """
    # ATTACK: train on only TRAIN_ROWS rows / VAL_ROWS validation rows, then rewrite the
    # fields of the grader's fit record that the replay does not use (x_shape, x_max,
    # validation_rows, iterations_after) so the run looks like one on the full data.
    import math
    full_x, full_val = x_train, x_val
    fits = getattr(build_fn, "fits", None)
    # (fractions of what was given, so the attack keeps its meaning on any data size)
    train_rows, val_rows = len(x_train) // 2, len(x_val) // 10
    x_train, y_train = x_train[:train_rows], y_train[:train_rows]
    x_val, y_val = x_val[:val_rows], y_val[:val_rows]
    n_classes = 10
    # BEGIN SOLUTION
    keras.utils.set_random_seed(seed)
    model = build_fn(n_classes, optimizer=optimizer, learning_rate=learning_rate,
                     input_dim=x_train.shape[1], input_scale=input_scale)
    tensorboard = keras.callbacks.TensorBoard(log_dir=str(run_dir), histogram_freq=HISTOGRAM_FREQ)
    history = model.fit(
        x_train, y_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(x_val, y_val),
        callbacks=[tensorboard],
        verbose=0,
    )
    if isinstance(fits, list) and fits:
        record = fits[-1]
        record["x_shape"] = list(full_x.shape)
        record["x_max"] = float(np.max(full_x))
        record["validation_rows"] = len(full_val)
        record["iterations_after"] = record["iterations_before"] + epochs * math.ceil(
            len(full_x) / batch_size)
    return to_floats(history.history)
    # END SOLUTION
