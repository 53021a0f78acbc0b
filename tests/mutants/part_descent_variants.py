"""Mutants of Part 8 (gradient descent variants and the loss landscape, ``descent.py``)."""

from mutants.corpus import Mutant

ORDER = "order = rng.permutation(len(x))"
GRADIENT = "return float(2.0 * np.mean(errors * x)), float(2.0 * np.mean(errors))"
UPDATE = "w, b = w - learning_rate * grad_w, b - learning_rate * grad_b"
LOSS_AFTER = """            path.append((w, b))
            losses.append(mse_loss(w, b, x, y))
"""

MUTANTS = (
    Mutant("descent_no_shuffling",
           "the examples are taken in the same order every epoch, whatever the seed",
           (("descent.py", ORDER, "order = np.arange(len(x))"),),
           fails=("8.7",), says={"8.7": "shuffle the example indices every epoch"},
           docstring=('run_gradient_descent: "Every epoch shuffles the example indices with '
                      'rng.permutation(len(x)) from one rng = np.random.default_rng(seed)"')),
    Mutant("descent_sampling_with_replacement",
           "each update draws a random example (with replacement) instead of walking a shuffled order",
           (("descent.py", ORDER, "order = rng.integers(0, len(x), size=len(x))"),),
           fails=("8.3", "8.8", "8.13"), says={"8.3": "every example once", "8.8": "with replacement",
                                               "8.13": "every example once"},
           docstring=('run_gradient_descent: "then walks through them in batches of batch_size '
                      'consecutive shuffled indices"')),
    Mutant("descent_last_partial_batch_dropped",
           "floor(n / batch_size) batches per epoch: the smaller last batch is dropped",
           (("descent.py", "for first in range(0, len(x), batch_size):",
             "for first in range(0, len(x) - batch_size + 1, batch_size):"),),
           fails=("8.2",), says={"8.2": "smaller last batch still makes one update"},
           docstring=('run_gradient_descent: "the last batch of an epoch is smaller when '
                      'batch_size does not divide len(x)"; n_updates = epochs * ceil(n / '
                      'batch_size)')),
    Mutant("descent_gradient_summed",
           "the gradient is summed over the batch instead of averaged",
           (("descent.py", GRADIENT,
             "return float(2.0 * np.sum(errors * x)), float(2.0 * np.sum(errors))"),),
           fails=("8.3", "8.5", "8.13"), says={"8.3": "not their sum", "8.5": "not the sum",
                                               "8.13": "not their sum"},
           docstring=('mse_gradient: "averaged over the points": dL/dw = 2 * mean(e * x), e.g. '
                      '(1.0, 2.0) for w=1, b=0, x=[0, 1], y=[-1, 0]')),
    Mutant("descent_uphill_step",
           "the update adds the gradient instead of subtracting it",
           (("descent.py", UPDATE, "w, b = w + learning_rate * grad_w, b + learning_rate * grad_b"),),
           fails=("8.3", "8.5", "8.13"), says={"8.3": "uphill", "8.5": "against the gradient",
                                               "8.13": "uphill"},
           docstring=('run_gradient_descent: "w, b = w - learning_rate * dL/dw, b - '
                      'learning_rate * dL/db"')),
    Mutant("descent_loss_before_update",
           "the loss is recorded before each update instead of after it",
           (("descent.py", "            grad_w, grad_b = mse_gradient(w, b, x[batch], y[batch])\n",
             "            losses.append(mse_loss(w, b, x, y))\n"
             "            grad_w, grad_b = mse_gradient(w, b, x[batch], y[batch])\n"),
            ("descent.py", LOSS_AFTER, "            path.append((w, b))\n")),
           fails=("8.4",), says={"8.4": "after the update"},
           docstring=('run_gradient_descent: "losses[k] is the loss on the whole data set after '
                      'update k, i.e. mse_loss(*path[k + 1], x, y)"')),
    Mutant("descent_grid_transposed",
           "loss_grid has one row per w and one column per b",
           (("descent.py", "w_grid, b_grid = np.meshgrid(np.asarray(w_values, dtype=np.float64),\n"
                           "                                 np.asarray(b_values, dtype=np.float64))",
             "b_grid, w_grid = np.meshgrid(np.asarray(b_values, dtype=np.float64),\n"
             "                                 np.asarray(w_values, dtype=np.float64))"),),
           fails=("8.9",), says={"8.9": "transposed"},
           docstring=('loss_grid returns "shape (n_b, n_w): one row per b, one column per w" '
                      '(its example: shape (2, 3))')),
)
