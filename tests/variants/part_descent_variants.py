"""Correct-but-different solutions of Part 8 (``descent.py``)."""

from variants.corpus import Variant

VARIANTS = (
    Variant("descent_design_matrix_python_shuffle",
            "the gradient as 2 / m * X^T (X theta - y) with a design matrix [x, 1], the loss "
            "with np.dot, shuffling by Python's random.Random(seed), lists returned",
            (("descent.py",
              "    errors = w * x + b - y\n"
              "    return float(2.0 * np.mean(errors * x)), float(2.0 * np.mean(errors))\n",
              "    design = np.column_stack([x, np.ones_like(x)])\n"
              "    residual = design @ np.array([w, b]) - y\n"
              "    grad = 2.0 / len(x) * design.T @ residual\n"
              "    return grad[0], grad[1]\n"),
             ("descent.py", "    return float(np.mean((w * x + b - y) ** 2))\n",
              "    errors = w * x + b - y\n"
              "    return np.dot(errors, errors) / len(errors)\n"),
             ("descent.py", "import numpy as np\n", "import random\n\nimport numpy as np\n"),
             ("descent.py", "    rng = np.random.default_rng(seed)  # one generator for every epoch's shuffle\n"
                           "    w, b = float(start[0])",
              "    rng = random.Random(seed)\n    w, b = float(start[0])"),
             ("descent.py", "order = rng.permutation(len(x))",
              "order = list(range(len(x)))\n"
              "        rng.shuffle(order)\n"
              "        order = np.array(order)"),
             ("descent.py",
              "    return np.array(path, dtype=np.float64), np.array(losses, dtype=np.float64)\n",
              "    return [list(point) for point in path], losses\n"))),
    Variant("descent_grid_loops",
            "loss_grid with two explicit loops, returned as a list of lists",
            (("descent.py",
              "    w_grid, b_grid = np.meshgrid(np.asarray(w_values, dtype=np.float64),\n"
              "                                 np.asarray(b_values, dtype=np.float64))\n"
              "    errors = w_grid[..., None] * x + b_grid[..., None] - y\n"
              "    return np.mean(errors ** 2, axis=-1)\n",
              "    rows = []\n"
              "    for b in b_values:\n"
              "        row = []\n"
              "        for w in w_values:\n"
              "            row.append(mse_loss(w, b, x, y))\n"
              "        rows.append(row)\n"
              "    return rows\n"),)),
)
