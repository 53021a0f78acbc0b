"""Part 1: normalization of the inputs.

Quick, Draw! bitmaps arrive as raw pixel intensities: uint8 values 0-255, one row of
784 pixels (28 x 28) per drawing. Scaling them to [0, 1] keeps the sigmoid units out of
saturation at the start of training, so the model converges much faster. This part
scales the pixels and runs the experiment that shows it in TensorBoard.
"""

import os

import numpy as np

from architecture import build_model
from training import train_run

#: Run directory names, under the experiment's log_dir.
RAW_RUN = "raw"
NORMALIZED_RUN = "normalized"


def normalize_pixels(x):
    """Scale raw pixel intensities to floats in [0, 1].

    Parameters
    ----------
    x : np.ndarray of shape (n, 784), dtype uint8
        Raw pixel intensities 0-255. Must not be modified.

    Returns
    -------
    np.ndarray of shape (n, 784), dtype float32
        A new array with every pixel divided by 255: 0 stays 0.0 and 255 becomes 1.0.
    """
    # BEGIN SOLUTION
    return np.asarray(x, dtype=np.float32) / np.float32(255.0)
    # END SOLUTION


def run_normalization_experiment(x_train, y_train, x_val, y_val, log_dir, *, epochs=5,
                                 batch_size=32, optimizer="adam", learning_rate=0.001,
                                 seed=42, build_fn=None):
    """Train the same model on raw and on normalized pixels, with the same seed.

    Two runs, each with ``training.train_run`` (or your own equivalent):

    - ``"raw"``: the uint8 pixels as they are, logged to ``log_dir/raw``;
    - ``"normalized"``: ``normalize_pixels`` applied to both the training and the
      validation inputs, logged to ``log_dir/normalized``.

    Parameters
    ----------
    x_train : np.ndarray of shape (n_train, 784), dtype uint8
    y_train : np.ndarray of shape (n_train,), int
    x_val : np.ndarray of shape (n_val, 784), dtype uint8
    y_val : np.ndarray of shape (n_val,), int
    log_dir : str or os.PathLike
        Parent folder of the two run directories.
    epochs, batch_size, optimizer, learning_rate, seed
        The same for both runs.
    build_fn : callable or None, default=None
        Model builder with ``architecture.build_model``'s signature; None means
        ``build_model``. The grader passes its own.

    Returns
    -------
    dict
        ``{"raw": history, "normalized": history}`` where each history is the dict
        returned by ``train_run`` (keys "loss", "accuracy", "val_loss", "val_accuracy";
        one float per epoch).
    """
    if build_fn is None:
        build_fn = build_model
    # BEGIN SOLUTION
    inputs = {
        RAW_RUN: (x_train, x_val),
        NORMALIZED_RUN: (normalize_pixels(x_train), normalize_pixels(x_val)),
    }
    histories = {}
    for run_name, (run_x_train, run_x_val) in inputs.items():
        histories[run_name] = train_run(
            build_fn, run_x_train, y_train, run_x_val, y_val, os.path.join(log_dir, run_name),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
    return histories
    # END SOLUTION
