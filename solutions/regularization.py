"""Part 11: fighting overfitting, and tuning the schedule.

A network with 250 hidden units trained on a few hundred drawings learns them by heart:
its training loss falls towards zero while the validation loss stops falling and then
rises. The gap between the two curves is overfitting. This part fights it four ways and
compares each with the unregularized run in TensorBoard:

- **L2 weight decay**: a penalty ``l2 * sum(w ** 2)`` on the hidden layer's kernel keeps
  the weights small;
- **dropout**: during training, each hidden unit's output is zeroed with probability
  ``dropout`` (the others are scaled up by ``1 / (1 - dropout)``); at inference nothing
  is dropped;
- **early stopping**: stop when the validation loss has not improved for ``patience``
  epochs and go back to the weights of the best epoch;
- **data augmentation**: more (slightly different) training drawings, made by shifting
  each drawing by a pixel or two.

It also adds **batch normalization** to the model (normalizes the hidden layer's outputs
with the batch's statistics while training, with running averages at inference) and a
**learning-rate schedule** (``ExponentialDecay``: the step size shrinks as training goes).

Layer order of the model (the same as the grader's own builder, so every run's
TensorBoard tags match):

    Input(784) -> Dense(250, sigmoid, name="hidden", kernel_regularizer=L2(l2))
               -> [BatchNormalization(name="batch_norm")] -> [Dropout(dropout, name="dropout")]
               -> Dense(n_classes, softmax, name="output")

All pixels in this part are normalized float32 values in [0, 1], one row of 784 per
drawing (28 x 28, row after row).
"""

import math
import os

import keras
import numpy as np

#: Largest shift, in pixels, of an augmented drawing (up/down and left/right).
MAX_SHIFT = 2
#: Image side: each row of 784 pixels is a 28 x 28 drawing.
IMAGE_SIDE = 28
#: Run names: the keys of the experiment's result and the run folders under log_dir.
RUN_NAMES = ("baseline", "l2", "dropout", "early_stopping", "schedule", "augmented")

OPTIMIZERS = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
              "rmsprop": keras.optimizers.RMSprop, "adagrad": keras.optimizers.Adagrad,
              "nadam": keras.optimizers.Nadam}


def build_regularized_model(n_classes=10, *, l2=0.0, dropout=0.0, batch_norm=False,
                            optimizer="adam", learning_rate=0.001, input_dim=784):
    """The required network with optional L2, batch normalization and dropout, compiled.

    Layers, in this order (the optional ones only when asked for):

    1. ``keras.Input(shape=(input_dim,))``;
    2. ``Dense(250, activation="sigmoid", name="hidden")``, with
       ``kernel_regularizer=keras.regularizers.L2(l2)`` when ``l2 > 0`` (on this layer's
       kernel only: not on its bias, not on the output layer);
    3. ``BatchNormalization(name="batch_norm")`` when ``batch_norm`` (right after the
       hidden layer);
    4. ``Dropout(dropout, name="dropout")`` when ``dropout > 0`` (right before the output
       layer, never after it);
    5. ``Dense(n_classes, activation="softmax", name="output")``.

    The model is named ``"mlp"`` and compiled with the optimizer ``optimizer`` (a name as in
    ``architecture.make_optimizer``) at ``learning_rate``, the loss
    ``"sparse_categorical_crossentropy"`` and ``metrics=["accuracy"]``.

    Parameters
    ----------
    n_classes : int, default=10
        Units of the output layer.
    l2 : float, default=0.0
        L2 factor on the hidden kernel; 0 means no regularizer.
    dropout : float, default=0.0
        Fraction of hidden outputs dropped while training; 0 means no Dropout layer.
    batch_norm : bool, default=False
        Add a BatchNormalization layer after the hidden layer.
    optimizer : str, default="adam"
        "sgd", "adam", "rmsprop", "adagrad" or "nadam" (any case).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule, default=0.001
        A fixed step size, or a schedule such as the one ``make_schedule`` returns.
    input_dim : int, default=784

    Returns
    -------
    keras.Model
        Compiled; input shape (None, input_dim), output shape (None, n_classes), float32
        class probabilities.
    """
    # BEGIN SOLUTION
    name = str(optimizer).lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: expected one of "
                         f"{', '.join(OPTIMIZERS)}")
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    layers = [keras.Input(shape=(input_dim,)),
              keras.layers.Dense(250, activation="sigmoid", name="hidden",
                                 kernel_regularizer=regularizer)]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization(name="batch_norm"))
    if dropout > 0:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="output"))
    model = keras.Sequential(layers, name="mlp")
    model.compile(optimizer=OPTIMIZERS[name](learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
    # END SOLUTION


def make_schedule(initial_learning_rate, decay_steps, decay_rate):
    """A learning rate that decays exponentially with the optimizer's step count.

    At optimizer step ``t`` the learning rate is
    ``initial_learning_rate * decay_rate ** (t / decay_steps)`` (smoothly, not in stairs).
    For example ``make_schedule(0.01, 7, 0.5)`` gives 0.01 at step 0 and 0.005 at step 7.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : int
        Optimizer steps (mini-batches, not epochs) over which the rate is multiplied by
        ``decay_rate`` once.
    decay_rate : float
        In (0, 1].

    Returns
    -------
    keras.optimizers.schedules.ExponentialDecay
        With ``staircase=False``; pass it as ``learning_rate`` to an optimizer (or to
        ``build_fn``).
    """
    # BEGIN SOLUTION
    return keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=initial_learning_rate, decay_steps=decay_steps,
        decay_rate=decay_rate, staircase=False)
    # END SOLUTION


def augment_drawings(images, seed):
    """Shift every drawing by a random small offset: a label-preserving augmentation.

    Each image (a row of 784 pixels, 28 x 28) is moved by its own ``(dy, dx)``, each drawn
    from ``-MAX_SHIFT .. MAX_SHIFT`` with ``np.random.default_rng(seed)`` (``(0, 0)`` is
    drawn again, so every drawing moves). Pixels moved in from outside the frame are 0
    (blank paper); pixels moved out of the frame are lost: nothing wraps around to the
    other side (``np.roll`` alone would).

    Parameters
    ----------
    images : np.ndarray of shape (n, 784), float32 in [0, 1]
        Not modified.
    seed : int
        Same seed, same shifts.

    Returns
    -------
    np.ndarray of shape (n, 784), float32
        A new array: row ``i`` is ``images[i]`` shifted. Values stay within the input's range.
    """
    # BEGIN SOLUTION
    shifts_rng = np.random.default_rng(seed)
    n = len(images)
    square = np.asarray(images).reshape(n, IMAGE_SIDE, IMAGE_SIDE)
    padded = np.pad(square, ((0, 0), (MAX_SHIFT, MAX_SHIFT), (MAX_SHIFT, MAX_SHIFT)))
    shifted = np.empty_like(square)
    for i in range(n):
        dy, dx = 0, 0
        while dy == 0 and dx == 0:
            dy, dx = shifts_rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2)
        top, left = MAX_SHIFT - dy, MAX_SHIFT - dx
        shifted[i] = padded[i, top:top + IMAGE_SIDE, left:left + IMAGE_SIDE]
    return shifted.reshape(n, IMAGE_SIDE * IMAGE_SIDE).astype(np.asarray(images).dtype)
    # END SOLUTION


def augmented_training_set(x, y, seed):
    """The training set doubled: the originals, then one shifted copy of each.

    Parameters
    ----------
    x : np.ndarray of shape (n, 784), float32 in [0, 1]
        Training drawings (never validation or test drawings: those stay as they are).
    y : np.ndarray of shape (n,), int
        Their labels.
    seed : int
        Passed on to ``augment_drawings``.

    Returns
    -------
    tuple of np.ndarray
        ``(x_augmented, y_augmented)`` of shapes (2n, 784) and (2n,): rows ``0..n-1`` are
        ``x`` unchanged, rows ``n..2n-1`` are ``augment_drawings(x, seed)``; the labels are
        ``y`` twice (a shifted drawing keeps its label).
    """
    # BEGIN SOLUTION
    x_augmented = np.concatenate([x, augment_drawings(x, seed)])
    y_augmented = np.concatenate([y, y])
    return x_augmented, y_augmented
    # END SOLUTION


def run_regularization_experiment(x_train, y_train, x_val, y_val, log_dir, *, epochs=12,
                                  batch_size=32, learning_rate=0.01, seed=42, l2=0.001,
                                  dropout=0.7, patience=2, decay_rate=0.7, build_fn=None):
    """Train the overfitting baseline and each remedy, one fresh model per run.

    Every run: ``keras.utils.set_random_seed(seed)``, a new model from ``build_fn`` with
    the Adam optimizer at ``learning_rate`` unless said otherwise, then ONE ``fit`` with
    ``batch_size``, ``epochs``, ``validation_data=(x_val, y_val)`` (always the validation
    data as given: never augmented) and a ``keras.callbacks.TensorBoard(log_dir/<name>)``
    callback. The runs, by name:

    - ``"baseline"``: no regularization (it overfits);
    - ``"l2"``: ``build_fn(..., l2=l2)``;
    - ``"dropout"``: ``build_fn(..., dropout=dropout)``;
    - ``"early_stopping"``: the baseline model with a second callback,
      ``keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
      restore_best_weights=True)``: it stops before ``epochs`` and keeps the best epoch's
      weights;
    - ``"schedule"``: ``learning_rate=make_schedule(learning_rate, decay_steps,
      decay_rate)`` with ``decay_steps`` = the optimizer steps of one epoch,
      ``math.ceil(len(x_train) / batch_size)``: the rate is multiplied by ``decay_rate``
      once per epoch (TensorBoard logs it as ``epoch_learning_rate``);
    - ``"augmented"``: trained on ``augmented_training_set(x_train, y_train, seed)``.

    Parameters
    ----------
    x_train : np.ndarray of shape (n_train, 784), float32 in [0, 1]
        A deliberately small training set (the grader passes a few hundred drawings).
    y_train : np.ndarray of shape (n_train,), int
    x_val : np.ndarray of shape (n_val, 784), float32 in [0, 1]
    y_val : np.ndarray of shape (n_val,), int
    log_dir : str or os.PathLike
        Parent folder: run ``name`` is logged to ``log_dir/<name>``.
    epochs : int, default=12
        Epoch budget of every run (the early-stopping run stops sooner).
    batch_size : int, default=32
    learning_rate : float, default=0.01
    seed : int, default=42
    l2 : float, default=0.001
    dropout : float, default=0.7
    patience : int, default=2
    decay_rate : float, default=0.7
    build_fn : callable or None, default=None
        Model builder with ``build_regularized_model``'s keyword arguments; None means
        ``build_regularized_model``. The grader passes its own.

    Returns
    -------
    dict of str to dict
        ``{name: history}`` for the six names above, in that order; each history is
        ``history.history`` of the run's fit (keys "loss", "accuracy", "val_loss",
        "val_accuracy", one float per epoch the run trained).
    """
    if build_fn is None:
        build_fn = build_regularized_model
    # BEGIN SOLUTION
    n_classes = 1 + int(max(y_train.max(), y_val.max()))
    steps_per_epoch = math.ceil(len(x_train) / batch_size)
    x_augmented, y_augmented = augmented_training_set(x_train, y_train, seed)
    early_stopping = dict(monitor="val_loss", patience=patience, restore_best_weights=True)
    runs = {  # name: (build_fn options, training data, extra callbacks)
        "baseline": ({}, (x_train, y_train), []),
        "l2": ({"l2": l2}, (x_train, y_train), []),
        "dropout": ({"dropout": dropout}, (x_train, y_train), []),
        "early_stopping": ({}, (x_train, y_train),
                           [keras.callbacks.EarlyStopping(**early_stopping)]),
        "schedule": ({"learning_rate": make_schedule(learning_rate, steps_per_epoch,
                                                     decay_rate)}, (x_train, y_train), []),
        "augmented": ({}, (x_augmented, y_augmented), []),
    }
    histories = {}
    for name, (options, (x, y), callbacks) in runs.items():
        keras.utils.set_random_seed(seed)
        model = build_fn(n_classes, **{"learning_rate": learning_rate, **options})
        tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(log_dir, name))
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs,
                            validation_data=(x_val, y_val),
                            callbacks=callbacks + [tensorboard], verbose=0)
        histories[name] = {key: [float(v) for v in values]
                           for key, values in history.history.items()}
    return histories
    # END SOLUTION


# ---------------------------------------------------------------- concept questions
# Answer each with one letter, as a string (e.g. "b").

WHEN_TO_STOP_CHOICES = {
    "a": "When the training loss stops falling: the model has learned all it can.",
    "b": "When the validation loss has not improved for a few epochs; then keep the weights "
         "of the epoch with the lowest validation loss.",
    "c": "When the training accuracy reaches 100%.",
    "d": "After a fixed number of epochs chosen before training, whatever the curves show.",
}
# When should training stop, and which weights should you keep?
# BEGIN SOLUTION
WHEN_TO_STOP = "b"
# END SOLUTION
# BEGIN PROMPT
# WHEN_TO_STOP = None  # one of "a", "b", "c", "d"
# END PROMPT

L2_EFFECT_CHOICES = {
    "a": "It adds l2 * sum(w**2) to the loss, so each step also pulls every weight towards 0: "
         "the weights stay small and the function the network computes stays smoother.",
    "b": "It removes the weights below l2, making the network sparse.",
    "c": "It divides the learning rate by l2 for the regularized layer.",
    "d": "It normalizes each weight vector to length 1 after every step.",
}
# What does an L2 penalty on a layer's kernel do to its weights?
# BEGIN SOLUTION
L2_EFFECT = "a"
# END SOLUTION
# BEGIN PROMPT
# L2_EFFECT = None  # one of "a", "b", "c", "d"
# END PROMPT

DROPOUT_AT_INFERENCE_CHOICES = {
    "a": "Units are still dropped at random, so predictions vary from call to call; average "
         "several calls.",
    "b": "Half of the units are removed for good once training ends.",
    "c": "Nothing is dropped: the Dropout layer passes its inputs through unchanged "
         "(model(x, training=False) is deterministic); the scaling by 1 / (1 - rate) during "
         "training already kept the expected outputs equal.",
    "d": "The outputs are multiplied by the dropout rate.",
}
# What does a Dropout layer do when the trained model predicts?
# BEGIN SOLUTION
DROPOUT_AT_INFERENCE = "c"
# END SOLUTION
# BEGIN PROMPT
# DROPOUT_AT_INFERENCE = None  # one of "a", "b", "c", "d"
# END PROMPT

BATCH_NORM_AT_INFERENCE_CHOICES = {
    "a": "It normalizes with the mean and variance of whatever batch it is given, as in "
         "training.",
    "b": "It is switched off: inputs pass through unchanged.",
    "c": "It normalizes with the mean and variance of the whole training set, recomputed "
         "before each prediction.",
    "d": "It normalizes with the moving averages of the batch means and variances it "
         "collected while training, so a prediction does not depend on the other examples "
         "in the batch.",
}
# What does a BatchNormalization layer do when the trained model predicts?
# BEGIN SOLUTION
BATCH_NORM_AT_INFERENCE = "d"
# END SOLUTION
# BEGIN PROMPT
# BATCH_NORM_AT_INFERENCE = None  # one of "a", "b", "c", "d"
# END PROMPT
