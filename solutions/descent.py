"""Part 8: gradient descent variants and the loss landscape (NumPy only).

A line ``y_hat = w * x + b`` is fitted to points ``(x, y)`` by minimising the mean squared
error

    L(w, b) = mean((w * x + b - y) ** 2)

with gradient descent. The same loop makes batch, stochastic and mini-batch gradient
descent: only ``batch_size`` changes (``len(x)``, ``1``, or something in between). The
loss over a grid of ``(w, b)`` is the *loss landscape*; the notebook draws its contour
lines with the three paths on top.

Two multiple-choice answers sit at the bottom of the module: set each to the letter of
the one best choice (a string such as "a").
"""

import numpy as np


def make_line_data(n_samples=100, seed=0):
    """Noisy points around a straight line, to try the functions below (given, not graded).

    Parameters
    ----------
    n_samples : int, default=100
    seed : int, default=0

    Returns
    -------
    x, y : np.ndarray of float64, shape (n_samples,)
        ``x`` spread over [-1, 3] in a random order; ``y = 1.5 * x - 0.5 + noise``.
    """
    rng = np.random.default_rng(seed)
    x = rng.permutation(np.linspace(-1.0, 3.0, n_samples))
    y = 1.5 * x - 0.5 + rng.normal(0.0, 0.5, n_samples)
    return x, y


def mse_loss(w, b, x, y):
    """Mean squared error of the line ``w * x + b`` on the points ``(x, y)``.

    Parameters
    ----------
    w, b : float
        Slope and intercept.
    x, y : np.ndarray of float64, shape (m,)
        The points (the whole data set, or one mini-batch of it).

    Returns
    -------
    float
        ``mean((w * x + b - y) ** 2)``, e.g. 0.25 for ``w=1, b=0, x=[0, 1], y=[0.5, 1.5]``.
    """
    # BEGIN SOLUTION
    return float(np.mean((w * x + b - y) ** 2))
    # END SOLUTION


def mse_gradient(w, b, x, y):
    """Gradient of ``mse_loss`` with respect to ``w`` and ``b``, averaged over the points.

    With the errors ``e = w * x + b - y``: ``dL/dw = 2 * mean(e * x)`` and
    ``dL/db = 2 * mean(e)``.

    Parameters
    ----------
    w, b : float
    x, y : np.ndarray of float64, shape (m,)
        The points of one batch (m >= 1).

    Returns
    -------
    tuple of float
        ``(dL/dw, dL/db)``, e.g. ``(1.0, 2.0)`` for ``w=1, b=0, x=[0, 1], y=[-1, 0]``.
    """
    # BEGIN SOLUTION
    errors = w * x + b - y
    return float(2.0 * np.mean(errors * x)), float(2.0 * np.mean(errors))
    # END SOLUTION


def run_gradient_descent(x, y, batch_size, *, learning_rate=0.05, epochs=10, start=(0.0, 0.0),
                         seed=0):
    """Fit ``y = w * x + b`` by mini-batch gradient descent on the mean squared error.

    Every epoch shuffles the example indices with ``rng.permutation(len(x))`` from one
    ``rng = np.random.default_rng(seed)`` made at the start, then walks through them in
    batches of ``batch_size`` consecutive shuffled indices; the last batch of an epoch is
    smaller when ``batch_size`` does not divide ``len(x)``. Each batch makes one update:

        w, b = w - learning_rate * dL/dw, b - learning_rate * dL/db

    with the gradient of the batch's mean squared error (``mse_gradient`` on the batch).
    ``batch_size = len(x)`` is batch gradient descent (one update per epoch),
    ``batch_size = 1`` stochastic gradient descent (one update per example), anything
    in between mini-batch gradient descent. The same ``seed`` gives the same path.

    Parameters
    ----------
    x, y : np.ndarray of float64, shape (n,)
        The whole data set.
    batch_size : int
        Examples per update, 1 <= batch_size <= n.
    learning_rate : float, default=0.05
    epochs : int, default=10
        Passes over the data.
    start : tuple of float, default=(0.0, 0.0)
        The starting point ``(w0, b0)``.
    seed : int, default=0
        Seed of the shuffling.

    Returns
    -------
    path : np.ndarray of float64, shape (n_updates + 1, 2)
        ``(w, b)`` at the start, then after every update, where
        ``n_updates = epochs * ceil(n / batch_size)``.
    losses : np.ndarray of float64, shape (n_updates,)
        ``losses[k]`` is the loss on the **whole** data set **after** update k, i.e.
        ``mse_loss(*path[k + 1], x, y)``.

    Examples
    --------
    >>> x, y = make_line_data(100)
    >>> path, losses = run_gradient_descent(x, y, 16, epochs=2, start=(-1.0, 3.0))
    >>> path.shape, losses.shape     # 2 epochs of ceil(100 / 16) = 7 updates
    ((15, 2), (14,))
    """
    # BEGIN SOLUTION
    rng = np.random.default_rng(seed)  # one generator for every epoch's shuffle
    w, b = float(start[0]), float(start[1])
    path, losses = [(w, b)], []
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for first in range(0, len(x), batch_size):
            batch = order[first:first + batch_size]
            grad_w, grad_b = mse_gradient(w, b, x[batch], y[batch])
            w, b = w - learning_rate * grad_w, b - learning_rate * grad_b
            path.append((w, b))
            losses.append(mse_loss(w, b, x, y))
    return np.array(path, dtype=np.float64), np.array(losses, dtype=np.float64)
    # END SOLUTION


def loss_grid(x, y, w_values, b_values):
    """The loss landscape: ``mse_loss`` at every ``(w, b)`` of a grid.

    Parameters
    ----------
    x, y : np.ndarray of float64, shape (n,)
    w_values : np.ndarray of float64, shape (n_w,)
    b_values : np.ndarray of float64, shape (n_b,)

    Returns
    -------
    np.ndarray of float64, shape (n_b, n_w)
        ``losses[i, j] = mse_loss(w_values[j], b_values[i], x, y)``: one row per ``b``,
        one column per ``w``, the layout ``plt.contour(w_values, b_values, losses)``
        expects (as ``np.meshgrid(w_values, b_values)`` lays out its grids).

    Examples
    --------
    >>> loss_grid(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([0.0, 1.0, 2.0]),
    ...           np.array([0.0, 1.0])).shape
    (2, 3)
    """
    # BEGIN SOLUTION
    w_grid, b_grid = np.meshgrid(np.asarray(w_values, dtype=np.float64),
                                 np.asarray(b_values, dtype=np.float64))
    errors = w_grid[..., None] * x + b_grid[..., None] - y
    return np.mean(errors ** 2, axis=-1)
    # END SOLUTION


NOISY_PATH_REASON_CHOICES = {
    "a": "The learning rate is changed at every update.",
    "b": "Each update follows the gradient of one example, a noisy estimate of the whole "
         "data set's gradient.",
    "c": "The loss landscape changes shape from one epoch to the next.",
    "d": "Shuffling adds random numbers to the weights.",
}
# Why does the stochastic path (batch_size=1) zigzag across the contour lines while the
# batch path goes smoothly downhill?
# BEGIN SOLUTION
NOISY_PATH_REASON = "b"
# END SOLUTION
# BEGIN PROMPT
# NOISY_PATH_REASON = None  # one of "a", "b", "c", "d"
# END PROMPT

WHY_MINI_BATCH_CHOICES = {
    "a": "Mini-batches always reach a lower final loss than batch gradient descent.",
    "b": "Mini-batch gradient descent needs no learning rate.",
    "c": "Many updates per epoch, as with stochastic gradient descent, but each from a less "
         "noisy gradient estimate, computed on many examples at once (vectorized).",
    "d": "It is the only variant that visits every example in an epoch.",
}
# Why does most training code (Keras' fit: batch_size=32) use mini-batches rather than
# batch or stochastic gradient descent?
# BEGIN SOLUTION
WHY_MINI_BATCH = "c"
# END SOLUTION
# BEGIN PROMPT
# WHY_MINI_BATCH = None  # one of "a", "b", "c", "d"
# END PROMPT
