"""Part 6: check for understanding.

Two small functions and three multiple-choice answers. For each question, set the
answer constant to the letter of the one best choice (a string such as "a").
"""

import math


def gradient_descent(learning_rate, n_steps, x0=0.0):
    """Minimise y = (x - 3)**2 by plain gradient descent.

    The derivative is dy/dx = 2 * (x - 3); one step is
    ``x_next = x - learning_rate * 2 * (x - 3)``.

    Parameters
    ----------
    learning_rate : float
        Step size, > 0.
    n_steps : int
        Number of steps, >= 0.
    x0 : float, default=0.0
        Starting point.

    Returns
    -------
    list of float
        The ``n_steps + 1`` positions ``[x0, x1, ..., x_n]``. With learning_rate 0.1 the
        positions approach 3; above 1.0 they move further from 3 at every step.
    """
    # BEGIN SOLUTION
    positions = [float(x0)]
    for _ in range(n_steps):
        x = positions[-1]
        positions.append(x - learning_rate * 2.0 * (x - 3.0))
    return positions
    # END SOLUTION


def iterations_per_epoch(n_samples, batch_size):
    """Number of weight updates (mini-batches) in one epoch.

    Parameters
    ----------
    n_samples : int
        Training examples, >= 1.
    batch_size : int
        Examples per mini-batch, >= 1. The last mini-batch may be smaller.

    Returns
    -------
    int
        Updates per epoch, e.g. 1000 samples with batch size 32 -> 32.
    """
    # BEGIN SOLUTION
    return math.ceil(n_samples / batch_size)
    # END SOLUTION


TOO_HIGH_LEARNING_RATE_CHOICES = {
    "a": "The training loss falls smoothly but very slowly.",
    "b": "The training loss jumps around or grows, and accuracy stays near chance.",
    "c": "Training accuracy reaches 100% while validation accuracy falls.",
    "d": "Nothing changes: the learning rate only affects the training time.",
}
# What do you see in TensorBoard when the learning rate is far too high?
# BEGIN SOLUTION
TOO_HIGH_LEARNING_RATE_SYMPTOM = "b"
# END SOLUTION
# BEGIN PROMPT
# TOO_HIGH_LEARNING_RATE_SYMPTOM = None  # one of "a", "b", "c", "d"
# END PROMPT

PER_PARAMETER_OPTIMIZER_CHOICES = {
    "a": "SGD with a fixed learning rate",
    "b": "Adam",
    "c": "Plain batch gradient descent",
    "d": "None: every optimizer uses one step size for all weights",
}
# Which optimizer adapts a separate step size for every parameter?
# BEGIN SOLUTION
PER_PARAMETER_OPTIMIZER = "b"
# END SOLUTION
# BEGIN PROMPT
# PER_PARAMETER_OPTIMIZER = None  # one of "a", "b", "c", "d"
# END PROMPT

WHY_NORMALIZE_CHOICES = {
    "a": "It makes the model smaller, so each epoch is faster.",
    "b": "It removes the need for a validation set.",
    "c": "Small inputs keep sigmoid units out of saturation and keep gradients on a "
         "similar scale, so gradient descent converges in fewer steps.",
    "d": "It increases the number of training examples.",
}
# Why does scaling pixels from 0-255 to 0-1 speed up training?
# BEGIN SOLUTION
WHY_NORMALIZE = "c"
# END SOLUTION
# BEGIN PROMPT
# WHY_NORMALIZE = None  # one of "a", "b", "c", "d"
# END PROMPT
