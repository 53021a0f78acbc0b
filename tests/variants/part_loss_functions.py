"""Correct-but-different solutions of Part 9 (``losses.py``, ``loss_experiment.py``)."""

from variants.corpus import Variant

BCE_BRANCHES = """    if from_logits:
        # max(z, 0) - z * y + log(1 + exp(-|z|)): exp never sees a positive argument.
        per_entry = (np.maximum(outputs, 0.0) - outputs * labels
                     + np.log1p(np.exp(-np.abs(outputs))))
    else:
        probabilities = np.clip(outputs, EPSILON, 1.0 - EPSILON)
        per_entry = -(labels * np.log(probabilities)
                      + (1.0 - labels) * np.log(1.0 - probabilities))
"""

SCCE_BODY = """    labels = np.asarray(y_true).astype(np.int64).reshape(-1)
    scores = np.asarray(y_pred, dtype=np.float64)
    if not from_logits:
        # As Keras: clipped probabilities are log-probabilities up to a constant per row.
        scores = np.log(np.clip(scores, EPSILON, 1.0 - EPSILON))
    shifted = scores - np.max(scores, axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    return float(-np.mean(log_probabilities[np.arange(labels.size), labels]))
"""

MSE_GRADIENT = """    d_loss_d_p = 2.0 * (p - target) / p.size
    return {"cross_entropy": p - target, "mse": p * (d_loss_d_p - np.dot(p, d_loss_d_p))}
"""

LOSS_RUNS = '''    labels = {"cross_entropy": (y_train, y_val),
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
'''

VARIANTS = (
    # log(sigmoid(z)) = -logaddexp(0, -z); probabilities: log1p(-p) for log(1 - p), and
    # EPSILON added inside the logs instead of clipping (differs by ~1e-7 at 0 and 1).
    Variant("losses_logaddexp_and_log1p",
            "binary cross-entropy with np.logaddexp for logits, log(p + eps) and "
            "log1p(eps - p) for probabilities",
            (("losses.py", BCE_BRANCHES,
              """    if from_logits:
        log_p, log_not_p = -np.logaddexp(0.0, -outputs), -np.logaddexp(0.0, outputs)
    else:
        log_p, log_not_p = np.log(outputs + EPSILON), np.log1p(EPSILON - outputs)
    per_entry = -(labels * log_p + (1.0 - labels) * log_not_p)
"""),)),
    # SciPy's logsumexp (SciPy is pinned), the labels as a one-hot matrix, the Jacobian as
    # a matrix, per-example losses in Python lists.
    Variant("losses_scipy_logsumexp_one_hot",
            "sparse cross-entropy with scipy.special.logsumexp and a one-hot matrix; the "
            "MSE gradient with an explicit Jacobian matrix",
            (("losses.py", "import numpy as np\n",
              "import numpy as np\nfrom scipy.special import logsumexp\n"),
             ("losses.py", SCCE_BODY,
              """    y_pred = np.array(y_pred, dtype=float)
    k = y_pred.shape[1]
    one_hot = np.eye(k)[np.array(y_true, dtype=int)]
    if from_logits:
        log_p = y_pred - logsumexp(y_pred, axis=1, keepdims=True)
    else:
        log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))
    per_example = [-np.sum(row * log_row) for row, log_row in zip(one_hot, log_p)]
    return sum(per_example) / len(per_example)
"""),
             ("losses.py", MSE_GRADIENT,
              """    jacobian = np.diag(p) - np.outer(p, p)
    mse = jacobian.T @ (2.0 / len(p) * (p - target))
    return dict(cross_entropy=p - target, mse=mse)
"""))),
    # The loss experiment without the loop and one_hot: keras.utils.to_categorical (float64
    # one-hot labels), the runs' fits written out, the History objects returned as they are.
    Variant("loss_experiment_to_categorical",
            "run_loss_experiment with keras.utils.to_categorical, two explicit fits, History "
            "objects returned",
            (("loss_experiment.py", LOSS_RUNS,
              """    histories = {}
    keras.utils.set_random_seed(seed)
    model = build_fn(n_classes, optimizer=optimizer, learning_rate=learning_rate)
    histories["cross_entropy"] = model.fit(
        x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0,
        validation_data=(x_val, y_val),
        callbacks=[keras.callbacks.TensorBoard(f"{log_dir}/cross_entropy")])
    keras.utils.set_random_seed(seed)
    model = build_fn(n_classes, optimizer=optimizer, learning_rate=learning_rate,
                     loss="mean_squared_error")
    histories["mean_squared_error"] = model.fit(
        x_train, keras.utils.to_categorical(y_train, n_classes), batch_size=batch_size,
        epochs=epochs, verbose=0,
        validation_data=(x_val, keras.utils.to_categorical(y_val, n_classes)),
        callbacks=[keras.callbacks.TensorBoard(f"{log_dir}/mean_squared_error")])
    return histories
"""),)),
)
