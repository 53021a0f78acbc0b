"""Part 7 (backprop.py): correct backpropagations the reference does not write."""

from variants.corpus import Variant

REFERENCE_BACKWARD = '''    n = x.shape[0]
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
'''

# Every product and sum written with np.einsum; the one-hot labels as a matrix.
EINSUM_BACKWARD = '''    n = x.shape[0]
    hidden, probabilities = forward(x, params)
    onehot = np.eye(probabilities.shape[1])[y]
    d_logits = (probabilities - onehot) / n
    d_hidden = np.einsum("nk,hk->nh", d_logits, params["W2"])
    d_z1 = np.einsum("nh,nh,nh->nh", d_hidden, hidden, 1.0 - hidden)
    return {
        "W1": np.einsum("ni,nh->ih", x, d_z1),
        "b1": np.einsum("nh->h", d_z1),
        "W2": np.einsum("nh,nk->hk", hidden, d_logits),
        "b2": np.einsum("nk->k", d_logits),
    }
'''

# One example at a time: outer products accumulated in a loop, then the mean.
LOOP_BACKWARD = '''    n = x.shape[0]
    grads = {name: np.zeros_like(value) for name, value in params.items()}
    for i in range(n):
        hidden, probabilities = forward(x[i:i + 1], params)
        error = probabilities[0].copy()
        error[y[i]] = error[y[i]] - 1.0
        back = (params["W2"] @ error) * hidden[0] * (1.0 - hidden[0])
        grads["W2"] += np.outer(hidden[0], error)
        grads["b2"] += error
        grads["W1"] += np.outer(x[i], back)
        grads["b1"] += back
    return {name: grad / n for name, grad in grads.items()}
'''

VARIANTS = (
    Variant("backprop_einsum_onehot_matrix",
            "backward with np.einsum for every product and sum, one-hot labels as a matrix",
            (("backprop.py", REFERENCE_BACKWARD, EINSUM_BACKWARD),)),
    Variant("backprop_loop_per_example",
            "backward one example at a time (outer products in a loop), averaged at the end",
            (("backprop.py", REFERENCE_BACKWARD, LOOP_BACKWARD),)),
    Variant("backprop_log_space_helpers",
            "sigmoid and softmax written in log space (np.logaddexp, log-sum-exp); the loss "
            "from a boolean mask, clipped as Keras clips; gradient_step updates params in "
            "place",
            (("backprop.py", "    return 1.0 / (1.0 + np.exp(-z))\n",
              "    return np.exp(-np.logaddexp(0.0, -z))\n"),
             ("backprop.py", '''    shifted = logits - logits.max(axis=1, keepdims=True)
    exps = np.exp(shifted)
    return exps / exps.sum(axis=1, keepdims=True)
''', '''    top = np.max(logits, axis=1, keepdims=True)
    log_norm = top + np.log(np.sum(np.exp(logits - top), axis=1, keepdims=True))
    return np.exp(logits - log_norm)
'''),
             ("backprop.py", '''    picked = probabilities[np.arange(len(y)), y]
    return float(-np.mean(np.log(picked)))
''', '''    mask = np.arange(probabilities.shape[1])[None, :] == np.asarray(y)[:, None]
    return -np.log(np.clip(probabilities[mask], 1e-7, 1.0 - 1e-7)).sum() / len(y)
'''),
             ("backprop.py",
              "    return {name: params[name] - learning_rate * grads[name] for name in PARAMETER_NAMES}\n",
              '''    for name in PARAMETER_NAMES:
        params[name] -= learning_rate * grads[name]
    return params
'''))),
)
