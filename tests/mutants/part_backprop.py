"""Part 7 (backprop.py): realistic mistakes in a backpropagation written by hand."""

from mutants.corpus import Mutant

MUTANTS = (
    Mutant("backprop_forgot_sigmoid_derivative",
           "backward passes the gradient through the sigmoid as if its derivative were 1",
           (("backprop.py", "d_z1 = d_hidden * hidden * (1.0 - hidden)", "d_z1 = d_hidden"),),
           fails=("7.3", "7.9"),
           says={"*": "sigmoid's derivative"},
           docstring=('backward: "then z1 through the sigmoid\'s derivative hidden * (1 - '
                      'hidden)"')),
    Mutant("backprop_softmax_gradient_without_onehot",
           "the gradient at the logits is probabilities / n: the one-hot labels are not "
           "subtracted",
           (("backprop.py", "    d_logits[np.arange(n), y] -= 1.0\n", ""),),
           fails=("7.3", "7.9", "7.10"),
           says={"7.3": "onehot", "7.9": "onehot", "7.10": "loss to fall"},
           docstring=('backward: "the gradient of the mean loss with respect to the logits z2 is'
                      ' (probabilities - onehot(y)) / n"')),
    Mutant("backprop_gradient_not_averaged",
           "backward sums the per-example gradients instead of averaging them over the batch",
           (("backprop.py", "    d_logits /= n\n", ""),),
           fails=("7.3", "7.9"),
           says={"7.3": "divide by n", "7.9": "divide by n"},
           docstring=('backward: "the gradient of the mean loss with respect to the logits z2 is'
                      ' (probabilities - onehot(y)) / n"')),
    Mutant("backprop_transposed_weight_gradient",
           "dL/dW1 is computed as d_z1.T @ x, the transpose of the weight's shape",
           (("backprop.py", '"W1": x.T @ d_z1,', '"W1": d_z1.T @ x,'),),
           fails=("7.2", "7.3", "7.9", "7.10"),
           says={"7.2": "transposed", "7.3": "transposed", "7.9": "transposed",
                 "7.10": "shape"},
           docstring=('backward: "each gradient has the shape and dtype of its parameter (dL/dW1'
                      ' is (n_inputs, n_hidden))"')),
    Mutant("backprop_bias_gradient_wrong_axis",
           "dL/db1 sums over the hidden units (axis=1) instead of over the batch (axis=0)",
           (("backprop.py", '"b1": d_z1.sum(axis=0),', '"b1": d_z1.sum(axis=1),'),),
           fails=("7.2", "7.3", "7.9", "7.10"),
           says={"7.2": "axis=0", "7.3": "axis=0", "7.9": "axis=0", "7.10": "shape"},
           docstring=('backward: "each gradient has the shape and dtype of its parameter (... '
                      'dL/db1 is (n_hidden,))"')),
    Mutant("backprop_unstable_softmax",
           "softmax exponentiates the logits without subtracting each row's maximum",
           (("backprop.py", "    shifted = logits - logits.max(axis=1, keepdims=True)\n",
             "    shifted = logits\n"),),
           fails=("7.8",),
           says={"7.8": "maximum"},
           docstring='softmax: "a row [1000, 0, -1000] must give [1, 0, 0], not NaN"'),
    Mutant("backprop_loss_summed",
           "sparse_cross_entropy returns the sum over the batch, not the mean",
           (("backprop.py", "return float(-np.mean(np.log(picked)))",
             "return float(-np.sum(np.log(picked)))"),),
           fails=("7.3", "7.7"),
           says={"7.3": "mean", "7.7": "the sum"},
           docstring=('sparse_cross_entropy: "mean_i(-log(probabilities[i, y[i]])): the average '
                      'over the batch"')),
    Mutant("backprop_gradient_tape",
           "backward lets TensorFlow's GradientTape compute the gradients",
           (("backprop.py", '''    n = x.shape[0]
    hidden, probabilities = forward(x, params)
    d_logits = probabilities.copy()
''', '''    import tensorflow as tf
    variables = {name: tf.Variable(value) for name, value in params.items()}
    with tf.GradientTape() as tape:
        hidden = tf.sigmoid(x @ variables["W1"] + variables["b1"])
        logits = hidden @ variables["W2"] + variables["b2"]
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
    grads = tape.gradient(loss, variables)
    return {name: grad.numpy() for name, grad in grads.items()}
    n = x.shape[0]
    hidden, probabilities = forward(x, params)
    d_logits = probabilities.copy()
'''),),
           fails=("7.5",),
           says={"7.5": "tensorflow (line"},
           docstring='backprop.py: "Write it with NumPy only"'),
)
