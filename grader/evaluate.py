"""Re-deriving accuracy in the trusted process: a NumPy forward pass of the required
architecture over weights that the student's training produced.

The grader built those models itself (``probes.RecordingBuilder``), so their structure
is known: optional rescaling, Dense(250, sigmoid), Dense(n_classes, softmax).
"""

import numpy as np


class WeightsError(ValueError):
    """The saved weights do not fit the required architecture."""


def check_weights(weights, n_classes, input_dim=784, hidden_units=250):
    """Raise WeightsError unless ``weights`` are [W1, b1, W2, b2] of the required shapes."""
    expected = [(input_dim, hidden_units), (hidden_units,), (hidden_units, n_classes), (n_classes,)]
    found = [tuple(np.shape(w)) for w in weights]
    if found != expected:
        raise WeightsError(f"weights have shapes {found}, expected {expected}")


def predict_proba(weights, x, scale=None):
    """Softmax probabilities of the required MLP, shape (n, n_classes), float64.
    ``scale`` multiplies the inputs first (the model's Rescaling layer, if any)."""
    kernel1, bias1, kernel2, bias2 = (np.asarray(w, dtype=np.float64) for w in weights)
    inputs = np.asarray(x, dtype=np.float64)
    if scale is not None:
        inputs = inputs * scale
    with np.errstate(over="ignore", invalid="ignore"):
        hidden = 1.0 / (1.0 + np.exp(-(inputs @ kernel1 + bias1)))
        logits = hidden @ kernel2 + bias2
        logits = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


def accuracy(weights, x, y, scale=None):
    """Fraction of rows whose most probable class is the label (NaN weights score 0)."""
    if not all(np.all(np.isfinite(w)) for w in weights):
        return 0.0
    predicted = np.argmax(predict_proba(weights, x, scale), axis=1)
    return float(np.mean(predicted == np.asarray(y)))
