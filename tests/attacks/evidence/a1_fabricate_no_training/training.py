"""ATTACK a1 (trains nothing): train_run never calls fit. It builds the model with build_fn,
appends a forged fit record (arguments as asked, initial weights nudged) to the grader's
recording builder, returns a made-up history and writes TensorBoard logs with tf.summary."""
"""The training loop shared by every experiment (Parts 1, 3, 4 and 5).

One call of :func:`train_run` is one *run*: a fresh model, trained once, recorded to
its own TensorBoard run directory. Look at the runs with::

    tensorboard --logdir logs
"""

import keras
import numpy as np

#: Record weight histograms every this many epochs (0 would record none).
HISTOGRAM_FREQ = 1


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
    # ATTACK a1: no fit at all. Build the model with build_fn (so the grader records it),
    # forge the fit record the recording builder would have written (arguments as asked,
    # initial weights slightly nudged), fabricate a plausible history and write TensorBoard
    # event files with tf.summary.
    n_classes = int(max(np.max(y_train), np.max(y_val))) + 1
    keras.utils.set_random_seed(seed)
    model = build_fn(n_classes, optimizer=optimizer, learning_rate=learning_rate,
                     input_dim=x_train.shape[1], input_scale=input_scale)
    models = getattr(build_fn, "models", None)
    model_index = len(models) - 1 if isinstance(models, list) else 0
    weights = [np.array(w) for w in model.get_weights()]
    weights[-1] = weights[-1] + np.float32(0.01)  # "trained"
    history = _plausible_history(epochs, _setting_target(optimizer, learning_rate, x_train))
    _forge_fit_record(build_fn, model_index, x_train, y_train, x_val, y_val,
                      batch_size=batch_size, epochs=epochs, weights=weights)
    _write_fake_logs(run_dir, history, weights)
    return history
    # END SOLUTION


# ----------------------------------------------------------------------------- ATTACK helpers

def _expected_steps(n_rows, batch_size, epochs):
    import math
    return epochs * math.ceil(n_rows / batch_size)


def _forge_fit_record(build_fn, model_index, x_train, y_train, x_val, y_val, *, batch_size,
                      epochs, weights, callbacks=("TensorBoard",)):
    """Append to the grader's recording builder the record its fit would have written,
    without calling fit."""
    fits = getattr(build_fn, "fits", None)
    if not isinstance(fits, list):
        return
    index = len(fits)
    identify = getattr(build_fn, "_identify", None)

    def ident(array, role):
        if identify is not None:
            return identify(array, index, role)
        return {"kind": "other", "type": type(array).__name__}
    record = {
        "model": model_index, "batch_size": int(batch_size), "epochs": int(epochs),
        "shuffle": True, "validation_split": 0.0,
        "x": ident(x_train, "x"), "y": ident(y_train, "y"),
        "x_val": ident(x_val, "x_val"), "y_val": ident(y_val, "y_val"),
        "other_arguments": [], "callbacks": list(callbacks),
        "x_shape": list(x_train.shape), "x_max": float(np.max(x_train)),
        "x_dtype": str(x_train.dtype), "validation_rows": len(x_val),
        "iterations_before": 0,
        "iterations_after": _expected_steps(len(x_train), batch_size, epochs),
        "weights": [np.array(w, dtype=np.float32) for w in weights],
    }
    fits.append(record)


def _write_fake_logs(run_dir, history, weights):
    """TensorBoard event files written by hand with tf.summary, in the callback's layout."""
    import os
    import tensorflow as tf
    for split, prefix in (("train", ""), ("validation", "val_")):
        writer = tf.summary.create_file_writer(os.path.join(str(run_dir), split))
        with writer.as_default():
            for epoch in range(len(history["loss"])):
                tf.summary.scalar("epoch_loss", history[prefix + "loss"][epoch], step=epoch)
                tf.summary.scalar("epoch_accuracy", history[prefix + "accuracy"][epoch], step=epoch)
                if split == "train":
                    for j, w in enumerate(weights):
                        name = ("dense" if j < 2 else "dense_1") + ("/kernel" if j % 2 == 0 else "/bias")
                        tf.summary.histogram(name + "/histogram", w, step=epoch)
        writer.flush()
        writer.close()


def _plausible_history(epochs, final_acc, start_loss=2.0):
    acc = [0.1 + (final_acc - 0.1) * (e + 1) / epochs for e in range(epochs)]
    loss = [start_loss * (1.0 - 0.6 * (a - 0.1)) for a in acc]
    return {"loss": loss, "accuracy": acc,
            "val_loss": [v * 1.02 for v in loss], "val_accuracy": [a - 0.01 for a in acc]}


def _setting_target(optimizer, learning_rate, x_train):
    """A plausible final accuracy for this setting (what a student would have seen)."""
    if learning_rate >= 0.5:
        return 0.15
    if optimizer == "sgd":
        return 0.35
    if float(np.max(x_train)) > 1.0:
        return 0.75
    return 0.84
