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
           fails=("8.7",), says={"8.7": "shuffle the example indices every epoch"}),
    Mutant("descent_sampling_with_replacement",
           "each update draws a random example (with replacement) instead of walking a shuffled order",
           (("descent.py", ORDER, "order = rng.integers(0, len(x), size=len(x))"),),
           fails=("8.3", "8.8"), says={"8.3": "every example once", "8.8": "with replacement"}),
    Mutant("descent_last_partial_batch_dropped",
           "floor(n / batch_size) batches per epoch: the smaller last batch is dropped",
           (("descent.py", "for first in range(0, len(x), batch_size):",
             "for first in range(0, len(x) - batch_size + 1, batch_size):"),),
           fails=("8.2",), says={"8.2": "smaller last batch still makes one update"}),
    Mutant("descent_gradient_summed",
           "the gradient is summed over the batch instead of averaged",
           (("descent.py", GRADIENT,
             "return float(2.0 * np.sum(errors * x)), float(2.0 * np.sum(errors))"),),
           fails=("8.3", "8.5"), says={"8.3": "not their sum", "8.5": "not the sum"}),
    Mutant("descent_uphill_step",
           "the update adds the gradient instead of subtracting it",
           (("descent.py", UPDATE, "w, b = w + learning_rate * grad_w, b + learning_rate * grad_b"),),
           fails=("8.3", "8.5"), says={"8.3": "uphill", "8.5": "against the gradient"}),
    Mutant("descent_loss_before_update",
           "the loss is recorded before each update instead of after it",
           (("descent.py", "            grad_w, grad_b = mse_gradient(w, b, x[batch], y[batch])\n",
             "            losses.append(mse_loss(w, b, x, y))\n"
             "            grad_w, grad_b = mse_gradient(w, b, x[batch], y[batch])\n"),
            ("descent.py", LOSS_AFTER, "            path.append((w, b))\n")),
           fails=("8.4",), says={"8.4": "after the update"}),
    Mutant("descent_grid_transposed",
           "loss_grid has one row per w and one column per b",
           (("descent.py", "w_grid, b_grid = np.meshgrid(np.asarray(w_values, dtype=np.float64),\n"
                           "                                 np.asarray(b_values, dtype=np.float64))",
             "b_grid, w_grid = np.meshgrid(np.asarray(b_values, dtype=np.float64),\n"
             "                                 np.asarray(w_values, dtype=np.float64))"),),
           fails=("8.9",), says={"8.9": "transposed"}),
)
