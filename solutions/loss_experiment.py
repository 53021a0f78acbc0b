"""Part 9 (continued): does the loss matter? Mean squared error against cross-entropy.

``losses.py`` shows on paper why a classifier is trained with cross-entropy: through the
softmax, MSE's gradient is small, and it vanishes for a confidently wrong prediction. This
module shows it in training. Two runs of the same model, the same data and the same
settings, differing in the loss only:

- ``"cross_entropy"``: ``sparse_categorical_crossentropy`` (the model's own loss) on the
  integer labels, as every other part trains;
- ``"mean_squared_error"``: ``mean_squared_error`` between the softmax output and the
  ONE-HOT labels (label 2 of 4 classes is ``[0, 0, 1, 0]``): MSE compares one number per
  class, so the labels must have one column per class too.

Plain SGD makes the difference plain (Adam rescales every step by the gradient's own size,
which hides much of MSE's small gradients): after a few epochs the MSE run's validation
accuracy is far below the cross-entropy run's. Compare the two in TensorBoard::

    tensorboard --logdir logs/loss_experiment

All pixels here are normalized float32 values in [0, 1], one row of 784 per drawing. This
module may use Keras (``losses.py`` must not).
"""

import os

import keras
import numpy as np

from architecture import build_model

#: The two runs, by name, and the loss each compiles with.
RUN_LOSSES = {"cross_entropy": "sparse_categorical_crossentropy",
              "mean_squared_error": "mean_squared_error"}


def build_model_with_loss(n_classes, *, loss="sparse_categorical_crossentropy", **options):
    """``architecture.build_model`` compiled with ``loss`` (a Keras loss name) instead of
    its own: a ``build_fn`` for :func:`run_loss_experiment` when you try it yourself (the
    grader passes its own builder, which takes the same ``loss`` argument)."""
    model = build_model(n_classes, **options)
    if loss != "sparse_categorical_crossentropy":
        model.compile(optimizer=model.optimizer, loss=loss, metrics=["accuracy"])
    return model


def one_hot(labels, n_classes):
    """One-hot encoding of integer labels.

    Parameters
    ----------
    labels : np.ndarray of shape (n,), int
        Classes 0..n_classes-1.
    n_classes : int

    Returns
    -------
    np.ndarray of shape (n, n_classes), float32
        Row ``i`` is all zeros but a 1.0 in column ``labels[i]``.

    Examples
    --------
    >>> one_hot(np.array([2, 0]), 3)
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    # BEGIN SOLUTION
    return np.eye(int(n_classes), dtype=np.float32)[np.asarray(labels)]
    # END SOLUTION


def run_loss_experiment(x_train, y_train, x_val, y_val, log_dir, *, build_fn=None, epochs=3,
                        batch_size=32, optimizer="sgd", learning_rate=0.5, seed=42):
    """Train the same model twice, once per loss, on the same data and settings.

    Every run: ``keras.utils.set_random_seed(seed)``, a new model
    ``build_fn(n_classes, optimizer=optimizer, learning_rate=learning_rate, loss=<its loss>)``
    (``n_classes`` is given: 1 + the largest label of ``y_train`` and ``y_val``), then ONE
    ``fit`` with ``batch_size``, ``epochs``, ``validation_data`` and a
    ``keras.callbacks.TensorBoard(log_dir/<name>)`` callback. The runs, by name:

    - ``"cross_entropy"``: ``loss="sparse_categorical_crossentropy"``, fitted on
      ``(x_train, y_train)`` and validated on ``(x_val, y_val)``: the integer labels;
    - ``"mean_squared_error"``: ``loss="mean_squared_error"``, fitted on
      ``(x_train, one_hot(y_train, n_classes))`` and validated on
      ``(x_val, one_hot(y_val, n_classes))``.

    Parameters
    ----------
    x_train : np.ndarray of shape (n_train, 784), float32 in [0, 1]
    y_train : np.ndarray of shape (n_train,), int
    x_val : np.ndarray of shape (n_val, 784), float32 in [0, 1]
    y_val : np.ndarray of shape (n_val,), int
    log_dir : str or os.PathLike
        Parent folder: run ``name`` is logged to ``log_dir/<name>``.
    build_fn : callable or None, default=None
        Model builder taking ``loss=`` (None: :func:`build_model_with_loss`). The grader
        passes its own.
    epochs : int, default=3
    batch_size : int, default=32
    optimizer : str, default="sgd"
    learning_rate : float, default=0.5
    seed : int, default=42

    Returns
    -------
    dict of str to dict
        ``{"cross_entropy": history, "mean_squared_error": history}``; each history is
        ``history.history`` of the run's fit (keys "loss", "accuracy", "val_loss",
        "val_accuracy", one float per epoch).
    """
    if build_fn is None:
        build_fn = build_model_with_loss
    n_classes = 1 + int(max(np.max(y_train), np.max(y_val)))
    # BEGIN SOLUTION
    labels = {"cross_entropy": (y_train, y_val),
              "mean_squared_error": (one_hot(y_train, n_classes), one_hot(y_val, n_classes))}
    histories = {}
    for name, loss in RUN_LOSSES.items():
        train_labels, val_labels = labels[name]
        keras.utils.set_random_seed(seed)
        model = build_fn(n_classes, optimizer=optimizer, learning_rate=learning_rate, loss=loss)
        tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(log_dir, name))
        history = model.fit(x_train, train_labels, batch_size=batch_size, epochs=epochs,
                            validation_data=(x_val, val_labels), callbacks=[tensorboard],
                            verbose=0)
        histories[name] = {key: [float(v) for v in values]
                           for key, values in history.history.items()}
    return histories
    # END SOLUTION
