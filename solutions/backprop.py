"""Part 7: backpropagation by hand, with NumPy only.

The required network of Part 2, written out: a hidden layer of sigmoid units and a softmax
output, trained with sparse categorical cross-entropy::

    z1 = x @ W1 + b1          (n, n_hidden)
    h  = sigmoid(z1)          (n, n_hidden)
    z2 = h @ W2 + b2          (n, n_classes)
    p  = softmax(z2)          (n, n_classes), each row sums to 1
    L  = mean over the n examples of -log p[i, y[i]]

Backpropagation is the chain rule applied from the loss back to each weight, reusing
every intermediate gradient once. Write it with NumPy only: no TensorFlow, Keras, PyTorch,
JAX or autograd in this file (the grader checks the imports). Check your ``backward``
against finite differences of your own loss, as the public test 7.3 does:
``(loss(w + eps) - loss(w - eps)) / (2 * eps)`` for a few weights, eps = 1e-5, and a
relative error ``|a - b| / (|a| + |b|)`` near 1e-7 (1e-2 means a bug).

Parameters are a dict ``{"W1": (n_inputs, n_hidden), "b1": (n_hidden,), "W2":
(n_hidden, n_classes), "b2": (n_classes,)}`` of float arrays (``init_params`` makes one).
Every function keeps the dtype of its inputs (float64 in the grader's tests).
"""

import numpy as np

#: The parameter names, in order.
PARAMETER_NAMES = ("W1", "b1", "W2", "b2")


def init_params(n_inputs=784, n_hidden=250, n_classes=10, seed=0):
    """Random parameters for the network (Glorot-uniform weights, zero biases).

    Given: use it to try your functions, for example
    ``backward(x, y, init_params(784, 250, 10))``.

    Parameters
    ----------
    n_inputs, n_hidden, n_classes : int
        784, 250 and 10 for the required network.
    seed : int

    Returns
    -------
    dict of str to np.ndarray (float64)
        ``{"W1": (n_inputs, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_classes),
        "b2": (n_classes,)}``.
    """
    generator = np.random.default_rng(seed)
    limit1 = np.sqrt(6.0 / (n_inputs + n_hidden))
    limit2 = np.sqrt(6.0 / (n_hidden + n_classes))
    return {
        "W1": generator.uniform(-limit1, limit1, size=(n_inputs, n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": generator.uniform(-limit2, limit2, size=(n_hidden, n_classes)),
        "b2": np.zeros(n_classes),
    }


def sigmoid(z):
    """The logistic function, element by element.

    Parameters
    ----------
    z : np.ndarray of any shape

    Returns
    -------
    np.ndarray of the same shape and dtype
        ``1 / (1 + exp(-z))``, each value in (0, 1); ``sigmoid(0) = 0.5``.
    """
    # BEGIN SOLUTION
    return 1.0 / (1.0 + np.exp(-z))
    # END SOLUTION


def softmax(logits):
    """Row-wise softmax, numerically stable.

    Subtract each row's maximum before ``np.exp`` (this does not change the result and keeps
    ``exp`` from overflowing): a row ``[1000, 0, -1000]`` must give ``[1, 0, 0]``, not NaN.

    Parameters
    ----------
    logits : np.ndarray of shape (n, n_classes)

    Returns
    -------
    np.ndarray of shape (n, n_classes), same dtype
        Probabilities: each row is positive and sums to 1.
    """
    # BEGIN SOLUTION
    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=1, keepdims=True)
    # END SOLUTION


def forward(x, params):
    """Forward pass of the network.

    Parameters
    ----------
    x : np.ndarray of shape (n, n_inputs), float
        Inputs, e.g. normalized pixels.
    params : dict
        ``{"W1", "b1", "W2", "b2"}`` (see the module docstring).

    Returns
    -------
    hidden : np.ndarray of shape (n, n_hidden)
        ``sigmoid(x @ W1 + b1)``; ``backward`` needs it for the sigmoid's derivative.
    probabilities : np.ndarray of shape (n, n_classes)
        ``softmax(hidden @ W2 + b2)``.

    Examples
    --------
    >>> hidden, probabilities = forward(np.zeros((2, 784)), init_params(784, 250, 10))
    >>> hidden.shape, probabilities.shape
    ((2, 250), (2, 10))
    """
    # BEGIN SOLUTION
    hidden = sigmoid(x @ params["W1"] + params["b1"])
    probabilities = softmax(hidden @ params["W2"] + params["b2"])
    return hidden, probabilities
    # END SOLUTION


def sparse_cross_entropy(probabilities, y):
    """Mean sparse categorical cross-entropy.

    Parameters
    ----------
    probabilities : np.ndarray of shape (n, n_classes)
        Rows of class probabilities (``forward``'s second result).
    y : np.ndarray of shape (n,), int
        The true class of each example, 0 .. n_classes - 1.

    Returns
    -------
    float
        ``mean_i(-log(probabilities[i, y[i]]))``: the average over the batch, as Keras's
        ``sparse_categorical_crossentropy`` loss reports it. Uniform probabilities over 10
        classes give ``log(10) = 2.3026``.
    """
    # BEGIN SOLUTION
    picked = probabilities[np.arange(len(y)), y]
    return float(-np.mean(np.log(picked)))
    # END SOLUTION


def backward(x, y, params):
    """Gradients of the mean sparse cross-entropy with respect to every parameter.

    Run ``forward``, then apply the chain rule from the loss back to the inputs:

    - the gradient of the mean loss with respect to the logits ``z2`` is
      ``(probabilities - onehot(y)) / n``;
    - ``W2`` and ``b2`` get it through ``z2 = hidden @ W2 + b2``;
    - ``hidden`` gets it through ``W2``, then ``z1`` through the sigmoid's derivative
      ``hidden * (1 - hidden)``;
    - ``W1`` and ``b1`` get it through ``z1 = x @ W1 + b1``.

    Parameters
    ----------
    x : np.ndarray of shape (n, n_inputs), float
    y : np.ndarray of shape (n,), int
    params : dict
        ``{"W1", "b1", "W2", "b2"}``.

    Returns
    -------
    dict of str to np.ndarray
        ``{"W1", "b1", "W2", "b2"}``: each gradient has the shape and dtype of its
        parameter (``dL/dW1`` is (n_inputs, n_hidden), ``dL/db1`` is (n_hidden,), ...).

    Examples
    --------
    >>> params = init_params(784, 250, 10)
    >>> grads = backward(np.full((4, 784), 0.5), np.array([0, 1, 2, 3]), params)
    >>> {name: grad.shape for name, grad in grads.items()}["W1"]
    (784, 250)
    """
    # BEGIN SOLUTION
    n = x.shape[0]
    hidden, probabilities = forward(x, params)
    d_logits = probabilities.copy()
    d_logits[np.arange(n), y] -= 1.0
    d_logits /= n
    d_hidden = d_logits @ params["W2"].T
    d_z1 = d_hidden * hidden * (1.0 - hidden)
    return {
        "W1": x.T @ d_z1,
        "b1": d_z1.sum(axis=0),
        "W2": hidden.T @ d_logits,
        "b2": d_logits.sum(axis=0),
    }
    # END SOLUTION


def gradient_step(params, grads, learning_rate):
    """One step of gradient descent.

    Parameters
    ----------
    params : dict
        ``{"W1", "b1", "W2", "b2"}``.
    grads : dict
        Their gradients, as ``backward`` returns them.
    learning_rate : float
        Step size, > 0.

    Returns
    -------
    dict of str to np.ndarray
        ``{name: params[name] - learning_rate * grads[name]}`` for every parameter, each with
        its parameter's shape. (Returning new arrays or updating ``params`` in place are
        both fine.)
    """
    # BEGIN SOLUTION
    return {name: params[name] - learning_rate * grads[name] for name in PARAMETER_NAMES}
    # END SOLUTION


SATURATED_FACTOR_CHOICES = {
    "a": "x.T, the layer's inputs: raw pixels are large, so this factor is large too.",
    "b": "hidden * (1 - hidden), the sigmoid's derivative: it is almost 0 when z1 is far "
         "from 0.",
    "c": "probabilities - onehot(y), the output error: it is almost 0 when the prediction "
         "is wrong.",
    "d": "None: a product of factors cannot vanish unless the loss is 0.",
}
# dL/dW1 = x.T @ ((d_logits @ W2.T) * hidden * (1 - hidden)). On raw 0-255 pixels (Part 1),
# z1 = x @ W1 + b1 is large for most hidden units. Which factor then makes dL/dW1 almost zero,
# so the raw run learns slowly?
# BEGIN SOLUTION
SATURATED_FACTOR = "b"
# END SOLUTION
# BEGIN PROMPT
# SATURATED_FACTOR = None  # one of "a", "b", "c", "d"
# END PROMPT

OUTPUT_GRADIENT_CHOICES = {
    "a": "probabilities / n",
    "b": "(probabilities - onehot(y)) / n",
    "c": "-log(probabilities[range(n), y]) / n",
    "d": "probabilities * (1 - probabilities) / n",
}
# With softmax followed by the mean cross-entropy over n examples, what is the gradient of
# the loss with respect to the logits z2 (the chain rule through softmax and the log,
# simplified)?
# BEGIN SOLUTION
OUTPUT_GRADIENT = "b"
# END SOLUTION
# BEGIN PROMPT
# OUTPUT_GRADIENT = None  # one of "a", "b", "c", "d"
# END PROMPT
