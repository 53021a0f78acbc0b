"""Part 9: loss functions, in NumPy.

The three losses Keras offers for the three usual tasks, written by hand so that their
numerical traps are yours to avoid:

- ``mean_squared_error``: regression (a real number per output);
- ``binary_crossentropy``: yes/no answers (one probability, or one logit, per output);
- ``sparse_categorical_crossentropy``: one class out of k, with integer labels.

Each returns what ``keras.losses`` returns with its default reduction: ONE number, the
mean over the batch. Both cross-entropies take probabilities by default and logits
(scores before the sigmoid / softmax) with ``from_logits=True``; they must stay finite and
exact for probabilities of exactly 0 and 1 and for logits as large as +-1000:

- probabilities are clipped into ``[EPSILON, 1 - EPSILON]`` before any log, as Keras
  does (log(0) is -inf, and 0 * -inf is NaN);
- logits are never pushed through ``exp`` as they are (``exp(1000)`` overflows to inf):
  use ``log(1 + exp(-|z|))`` for the sigmoid and subtract the row's maximum before
  the softmax (the log-sum-exp trick).

Use NumPy only (SciPy's special functions are fine): the grader checks that no
TensorFlow, Keras, PyTorch or JAX is imported. Compute in float64.

``logit_gradients`` then shows why classifiers are trained with cross-entropy rather than
MSE: for a confidently wrong prediction, MSE's gradient through the softmax vanishes.
"""

import numpy as np

#: Probabilities are clipped into [EPSILON, 1 - EPSILON] (keras.config.epsilon()).
EPSILON = 1e-7


def mean_squared_error(y_true, y_pred):
    """Mean squared error, averaged over the batch (``keras.losses.MeanSquaredError()``).

    Keras takes the mean of the squared errors over the last axis (one loss per
    example), then the mean over the batch: together, the mean over every entry.

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, m)
        Targets.
    y_pred : array-like, the same shape as ``y_true``
        Predictions.

    Returns
    -------
    float
        The mean of ``(y_true - y_pred) ** 2`` over every entry.

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0], [1.0, 4.0])
    2.0
    """
    # BEGIN SOLUTION
    errors = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.square(errors)))
    # END SOLUTION


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Binary cross-entropy, averaged over the batch (``keras.losses.BinaryCrossentropy``).

    For a label y in {0, 1} and a predicted probability p of the label 1, the loss is
    ``-(y * log(p) + (1 - y) * log(1 - p))``; it is averaged over every entry (the last
    axis, then the batch, as Keras does).

    Parameters
    ----------
    y_true : array-like of shape (n,) or (n, m)
        Labels, 0 or 1.
    y_pred : array-like, the same shape as ``y_true``
        Probabilities in [0, 1] (exactly 0 and 1 included: clip them into
        ``[EPSILON, 1 - EPSILON]`` first), or logits of any size when ``from_logits``.
    from_logits : bool, default=False
        ``y_pred`` holds logits z, with p = sigmoid(z) = 1 / (1 + exp(-z)). Compute the
        loss from z directly, stably: it must be exact for z = +-1000 (for y = 0 and
        z = 1000 the loss is 1000), where ``exp(1000)`` overflows and a clipped
        sigmoid gives 16.1 instead.

    Returns
    -------
    float
        The mean loss, finite whatever the inputs.

    Examples
    --------
    >>> round(binary_crossentropy([1, 0], [0.9, 0.2]), 4)
    0.1643
    >>> binary_crossentropy([0, 1], [1000.0, 1000.0], from_logits=True)
    500.0
    """
    # BEGIN SOLUTION
    labels = np.asarray(y_true, dtype=np.float64)
    outputs = np.asarray(y_pred, dtype=np.float64)
    if from_logits:
        # max(z, 0) - z * y + log(1 + exp(-|z|)): exp never sees a positive argument.
        per_entry = (np.maximum(outputs, 0.0) - outputs * labels
                     + np.log1p(np.exp(-np.abs(outputs))))
    else:
        probabilities = np.clip(outputs, EPSILON, 1.0 - EPSILON)
        per_entry = -(labels * np.log(probabilities)
                      + (1.0 - labels) * np.log(1.0 - probabilities))
    return float(np.mean(per_entry))
    # END SOLUTION


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    """Sparse categorical cross-entropy, averaged over the batch
    (``keras.losses.SparseCategoricalCrossentropy``).

    For an integer label c and predicted class probabilities p (one row), the loss is
    ``-log(p[c])``; it is averaged over the batch.

    Parameters
    ----------
    y_true : array-like of shape (n,), int
        Class labels 0 .. k-1 (not one-hot).
    y_pred : array-like of shape (n, k)
        Rows of class probabilities (each summing to 1; exact 0s and 1s included: clip
        them into ``[EPSILON, 1 - EPSILON]`` before the log), or rows of logits when
        ``from_logits``.
    from_logits : bool, default=False
        ``y_pred`` holds logits z, with p = softmax(z). Compute log p with the
        log-sum-exp trick, ``log p[c] = z[c] - m - log(sum(exp(z - m)))`` where m is
        the row's maximum: exact for logits of +-1000, where ``exp(z)`` overflows.

    Returns
    -------
    float
        The mean loss, finite whatever the inputs.

    Examples
    --------
    >>> round(sparse_categorical_crossentropy([0, 1], [[0.5, 0.5], [0.2, 0.8]]), 4)
    0.4581
    >>> sparse_categorical_crossentropy([1], [[1000.0, 0.0]], from_logits=True)
    1000.0
    """
    # BEGIN SOLUTION
    labels = np.asarray(y_true).astype(np.int64).reshape(-1)
    scores = np.asarray(y_pred, dtype=np.float64)
    if not from_logits:
        # As Keras: clipped probabilities are log-probabilities up to a constant per row.
        scores = np.log(np.clip(scores, EPSILON, 1.0 - EPSILON))
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return float(-np.mean(log_probabilities[np.arange(labels.size), labels]))
    # END SOLUTION


def logit_gradients(logits, label):
    """Gradients of two classification losses with respect to one example's logits.

    With p = softmax(z) and y the one-hot vector of ``label`` (k classes):

    - cross-entropy ``-log(p[label])``: its gradient is ``p - y``;
    - MSE on the softmax outputs ``mean((p - y) ** 2)`` (the mean over the k classes, as
      ``mean_squared_error(y, p)``): by the chain rule, ``dL/dp = 2 * (p - y) / k``
      multiplied by the softmax's Jacobian ``dp_i/dz_j = p_i * (delta_ij - p_j)``.

    Try a confidently wrong prediction (``logits=[8, 0, 0], label=1``): the
    cross-entropy gradient stays near 1 in size, MSE's almost vanishes (every term
    carries a factor p_i, and p[label] is tiny), so MSE barely moves the weights just
    when they are most wrong.

    Parameters
    ----------
    logits : array-like of shape (k,)
        One example's logits.
    label : int
        Its class, 0 .. k-1.

    Returns
    -------
    dict
        ``{"cross_entropy": np.ndarray of shape (k,), "mse": np.ndarray of shape (k,)}``,
        the two gradients with respect to the logits.

    Examples
    --------
    >>> gradients = logit_gradients([0.0, 0.0], 0)
    >>> gradients["cross_entropy"]
    array([-0.5,  0.5])
    >>> gradients["mse"]
    array([-0.25,  0.25])
    """
    # BEGIN SOLUTION
    z = np.asarray(logits, dtype=np.float64)
    exponentials = np.exp(z - np.max(z))
    p = exponentials / np.sum(exponentials)
    target = np.zeros_like(p)
    target[int(label)] = 1.0
    d_loss_d_p = 2.0 * (p - target) / p.size
    return {"cross_entropy": p - target, "mse": p * (d_loss_d_p - np.dot(p, d_loss_d_p))}
    # END SOLUTION


LOSS_FOR_TASK_CHOICES = {
    "a": "price of a house: binary cross-entropy; spam or not: MSE; which of 10 drawings "
         "(labels 0-9): sparse categorical cross-entropy",
    "b": "price of a house: MSE; spam or not: binary cross-entropy; which of 10 drawings "
         "(labels 0-9): sparse categorical cross-entropy",
    "c": "price of a house: MSE; spam or not: sparse categorical cross-entropy; which of "
         "10 drawings (labels 0-9): categorical cross-entropy on the integer labels",
    "d": "price of a house: sparse categorical cross-entropy; spam or not: MSE; which of "
         "10 drawings (labels 0-9): binary cross-entropy",
}
# Which loss fits each task: a regression (a house's price), a binary decision (spam or
# not, one sigmoid output) and a multi-class one with integer labels (the drawings)?
# BEGIN SOLUTION
LOSS_FOR_TASK = "b"
# END SOLUTION
# BEGIN PROMPT
# LOSS_FOR_TASK = None  # one of "a", "b", "c", "d"
# END PROMPT

MSE_ON_SOFTMAX_CHOICES = {
    "a": "MSE's gradient is larger than cross-entropy's, so every step overshoots unless "
         "the learning rate is made much smaller.",
    "b": "Squaring the errors makes the loss non-convex in the probabilities, so gradient "
         "descent gets stuck in local minima.",
    "c": "MSE treats the classes as ordered numbers (class 3 closer to 2 than to 9), so "
         "its gradient points the wrong way.",
    "d": "Through the softmax, MSE's gradient with respect to the logits carries a factor "
         "p_i for every class, so it almost vanishes when the network is confidently wrong "
         "(the true class's p near 0); cross-entropy's gradient, p - y, stays large then.",
}
# Why does a softmax classifier trained with MSE on its outputs learn slowly (see
# logit_gradients)?
# BEGIN SOLUTION
MSE_ON_SOFTMAX = "d"
# END SOLUTION
# BEGIN PROMPT
# MSE_ON_SOFTMAX = None  # one of "a", "b", "c", "d"
# END PROMPT
