"""Mutants of Part 9 (loss functions in NumPy, ``losses.py``; the loss experiment,
``loss_experiment.py``)."""

from mutants.corpus import Mutant

CLIP = "probabilities = np.clip(outputs, EPSILON, 1.0 - EPSILON)"
BCE_MEAN = "    return float(np.mean(per_entry))\n"
BCE_TERMS = """        per_entry = -(labels * np.log(probabilities)
                      + (1.0 - labels) * np.log(1.0 - probabilities))"""
BCE_LOGITS = """        per_entry = (np.maximum(outputs, 0.0) - outputs * labels
                     + np.log1p(np.exp(-np.abs(outputs))))"""
SHIFT = "shifted = scores - np.max(scores, axis=-1, keepdims=True)"
MSE_GRADIENT = '"mse": p * (d_loss_d_p - np.dot(p, d_loss_d_p))}'
MSE_LABELS = ('"mean_squared_error": (one_hot(y_train, n_classes), '
              'one_hot(y_val, n_classes))}')
CE_LABELS = 'labels = {"cross_entropy": (y_train, y_val),'
RUN_LOSSES = '''RUN_LOSSES = {"cross_entropy": "sparse_categorical_crossentropy",
              "mean_squared_error": "mean_squared_error"}'''

MUTANTS = (
    Mutant("bce_log_without_clipping",
           "binary_crossentropy takes the log of the probabilities as they are (log(0) at 0 and 1)",
           (("losses.py", CLIP, "probabilities = outputs"),),
           fails=("9.3", "9.4"), says={"*": "clip the probabilities"},
           docstring=('binary_crossentropy: "exactly 0 and 1 included: clip them into [EPSILON, '
                      '1 - EPSILON] first"; "finite whatever the inputs"')),
    Mutant("bce_sum_over_the_batch",
           "binary_crossentropy returns the sum of the per-entry losses, not their mean",
           (("losses.py", BCE_MEAN, "    return float(np.sum(per_entry))\n"),),
           fails=("9.4", "9.5", "9.12"), says={"*": "not their sum"},
           docstring=('binary_crossentropy: "averaged over the batch"; '
                      'round(binary_crossentropy([1, 0], [0.9, 0.2]), 4) = 0.1643')),
    Mutant("bce_terms_swapped",
           "binary_crossentropy pairs y with log(1 - p) and 1 - y with log(p)",
           (("losses.py", BCE_TERMS,
             """        per_entry = -((1.0 - labels) * np.log(probabilities)
                      + labels * np.log(1.0 - probabilities))"""),),
           fails=("9.4", "9.12"), says={"*": "swapped"},
           docstring=('binary_crossentropy: "-(y * log(p) + (1 - y) * log(1 - p))"; '
                      'round(binary_crossentropy([1, 0], [0.9, 0.2]), 4) = 0.1643')),
    Mutant("bce_from_logits_ignored",
           "binary_crossentropy treats logits as probabilities whatever from_logits says",
           (("losses.py", "    if from_logits:\n        # max(z, 0)",
             "    if False:\n        # max(z, 0)"),),
           fails=("9.5", "9.12"), says={"*": "not probabilities"},
           docstring='binary_crossentropy([0, 1], [1000.0, 1000.0], from_logits=True) = 500.0'),
    Mutant("bce_logits_through_a_clipped_sigmoid",
           "from_logits: sigmoid first, then the clipped probability formula (16.1 instead of 1000)",
           (("losses.py", BCE_LOGITS,
             """        probabilities = np.clip(1.0 / (1.0 + np.exp(-outputs)), EPSILON, 1.0 - EPSILON)
        per_entry = -(labels * np.log(probabilities)
                      + (1.0 - labels) * np.log(1.0 - probabilities))"""),),
           fails=("9.5", "9.12"), says={"*": "clipped sigmoid"},
           docstring=('binary_crossentropy: "it must be exact for z = +-1000 ... a clipped '
                      'sigmoid gives 16.1 instead"; its example gives 500.0')),
    Mutant("softmax_without_the_max",
           "sparse_categorical_crossentropy exponentiates the logits without subtracting the max",
           (("losses.py", SHIFT, "shifted = scores"),),
           fails=("9.3", "9.7", "9.12"), says={"*": "exp(1000) overflows"},
           docstring=('sparse_categorical_crossentropy([1], [[1000.0, 0.0]], from_logits=True) ='
                      ' 1000.0 ("exact for logits of +-1000")')),
    Mutant("mse_gradient_with_respect_to_probabilities",
           "logit_gradients' MSE gradient stops at dL/dp, without the softmax's Jacobian",
           (("losses.py", MSE_GRADIENT, '"mse": d_loss_d_p}'),),
           fails=("9.9", "9.12"), says={"*": "Jacobian"},
           docstring=('logit_gradients([0.0, 0.0], 0)["mse"] = array([-0.25, 0.25]) ("multiplied'
                      ' by the softmax\'s Jacobian")')),
    # ---- the loss experiment (loss_experiment.py)
    # (MSE on the integer labels is no mutant: Keras stops it with an InvalidArgumentError
    # at the first batch, so the student meets it in their own run.)
    Mutant("both_runs_mean_squared_error",
           "both runs are built with MSE and trained on one-hot labels",
           (("loss_experiment.py", RUN_LOSSES, RUN_LOSSES.replace(
               '"cross_entropy": "sparse_categorical_crossentropy"',
               '"cross_entropy": "mean_squared_error"')),
            ("loss_experiment.py", CE_LABELS,
             'labels = {"cross_entropy": (one_hot(y_train, n_classes), '
             'one_hot(y_val, n_classes)),')),
           fails=("9.14",), says={"9.14": "loss='sparse_categorical_crossentropy'"},
           docstring=('run_loss_experiment: "cross_entropy": '
                      'loss="sparse_categorical_crossentropy", fitted on (x_train, y_train)')),
    Mutant("both_runs_cross_entropy",
           "both runs are built with the default loss (sparse categorical cross-entropy)",
           (("loss_experiment.py", RUN_LOSSES, RUN_LOSSES.replace(
               '"mean_squared_error": "mean_squared_error"',
               '"mean_squared_error": "sparse_categorical_crossentropy"')),
            ("loss_experiment.py", MSE_LABELS, '"mean_squared_error": (y_train, y_val)}')),
           fails=("9.14",), says={"9.14": "loss='mean_squared_error'"},
           docstring='run_loss_experiment: "mean_squared_error": loss="mean_squared_error"'),
)
