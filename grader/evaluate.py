"""Re-deriving accuracy in the trusted process: a NumPy forward pass of the required
architecture over weights that the student's training produced.

The grader built those models itself (``probes.RecordingBuilder``), so their structure
is known: optional rescaling, Dense(hidden_units, sigmoid), optional BatchNormalization,
(Dropout: nothing at inference), Dense(n_classes, softmax).
"""

import numpy as np


class WeightsError(ValueError):
    """The saved weights do not fit the required architecture."""


#: Keras's BatchNormalization default.
BATCH_NORM_EPSILON = 1e-3


def expected_shapes(n_classes, input_dim=784, hidden_units=250, batch_norm=False):
    """Shapes of ``model.get_weights()`` of the grader's builder with these options."""
    norm = [(hidden_units,)] * 4 if batch_norm else []  # gamma, beta, moving mean, variance
    return [(input_dim, hidden_units), (hidden_units,), *norm, (hidden_units, n_classes),
            (n_classes,)]


def check_weights(weights, n_classes, input_dim=784, hidden_units=250, batch_norm=False):
    """Raise WeightsError unless ``weights`` have the shapes of the grader's model."""
    expected = expected_shapes(n_classes, input_dim, hidden_units, batch_norm)
    found = [tuple(np.shape(w)) for w in weights]
    if found != expected:
        raise WeightsError(f"weights have shapes {found}, expected {expected}")


def check_model_weights(weights, model):
    """check_weights for a model record of the recording builder (its options)."""
    check_weights(weights, model["n_classes"], model.get("input_dim", 784),
                  model.get("hidden_units", 250), model.get("batch_norm", False) is True)


def predict_proba(weights, x, scale=None):
    """Softmax probabilities of the grader's MLP, shape (n, n_classes), float64.

    ``scale`` multiplies the inputs first (the model's Rescaling layer, if any); eight
    weight arrays mean a BatchNormalization layer after the hidden one.
    """
    arrays = [np.asarray(w, dtype=np.float64) for w in weights]
    kernel1, bias1, kernel2, bias2 = arrays[0], arrays[1], arrays[-2], arrays[-1]
    inputs = np.asarray(x, dtype=np.float64)
    if scale is not None:
        inputs = inputs * scale
    with np.errstate(over="ignore", invalid="ignore"):
        hidden = 1.0 / (1.0 + np.exp(-(inputs @ kernel1 + bias1)))
        if len(arrays) == 8:
            gamma, beta, mean, variance = arrays[2:6]
            hidden = (hidden - mean) / np.sqrt(variance + BATCH_NORM_EPSILON) * gamma + beta
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
