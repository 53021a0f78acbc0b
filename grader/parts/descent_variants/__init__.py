"""Part 8: gradient descent variants and the loss landscape (``descent.py``, NumPy only).

The grader makes its own line-fitting problem (``line_problem``, from the grade's seed) and
asks ``run_gradient_descent`` for a batch, a stochastic and a mini-batch run, then the
stochastic and mini-batch runs again with the same seed and the stochastic run with another
seed; ``loss_grid`` for the landscape on the grader's grid; and the two answers.

Everything the tests expect (the least-squares minimum, the batch path, the losses of the
returned points, the grid's losses) is computed on the trusted side from ``line_problem``,
never read from the record: the record holds only what the student's functions returned.
"""

import numpy as np

from grader.choices import every_question, questions, record_answers
from grader.parts import Part
from grader.probes import StepError, value_record

#: Examples of the grader's problem. 16 does not divide it: the last mini-batch is smaller.
N_POINTS = 100
#: Where every run starts, (w0, b0): far from any minimum ``line_problem`` makes.
START = (-1.0, 3.0)
#: The runs asked for: (name, batch size (None: the whole data set), learning rate,
#: epochs, seed offset from the grade's seed).
RUNS = (
    ("batch", None, 0.1, 100, 0),
    ("stochastic", 1, 0.01, 10, 0),
    ("mini_batch", 16, 0.05, 40, 0),
    ("stochastic_same_seed", 1, 0.01, 10, 0),
    ("mini_batch_same_seed", 16, 0.05, 40, 0),
    ("stochastic_other_seed", 1, 0.01, 10, 1),
)
#: The loss-landscape grid (n_w != n_b, so a transposed grid shows in its shape).
GRID_W = np.linspace(-1.5, 3.5, 41)
GRID_B = np.linspace(-2.5, 3.5, 31)


def line_problem(seed):
    """The grader's data: ``x`` spread evenly over [-1, 3] (every two values at least 0.04
    apart) in a random order, ``y`` a random line plus noise -> (x, y), float64 (N_POINTS,)."""
    rng = np.random.default_rng(20_240_000 + int(seed))
    x = rng.permutation(np.linspace(-1.0, 3.0, N_POINTS))
    slope, intercept = rng.uniform(0.5, 2.0), rng.uniform(-1.5, 1.5)
    y = slope * x + intercept + rng.normal(0.0, 0.5, N_POINTS)
    return x, y


def run_settings(seed):
    """``{name: {batch_size, learning_rate, epochs, seed, start}}`` of the runs asked for."""
    return {name: {"batch_size": N_POINTS if size is None else size, "learning_rate": rate,
                   "epochs": epochs, "seed": int(seed) + offset, "start": list(START)}
            for name, size, rate, epochs, offset in RUNS}


def _float_array(value, what):
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise StepError(f"{what} must be an array of numbers ({error})") from None
    if array.size > 10_000_000:
        raise StepError(f"{what} holds {array.size} numbers; far more than asked for")
    return array


def step_descent_variant_runs(ctx):
    x, y = line_problem(ctx.profile.seed)
    function = ctx.module("descent").run_gradient_descent
    arrays = {}
    for name, setting in run_settings(ctx.profile.seed).items():
        result = function(x.copy(), y.copy(), setting["batch_size"],
                          learning_rate=setting["learning_rate"], epochs=setting["epochs"],
                          start=tuple(setting["start"]), seed=setting["seed"])
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise StepError("run_gradient_descent must return a pair (path, losses), found "
                            f"{value_record(result)['repr']}")
        arrays[f"{name}_path"] = _float_array(result[0], "the path")
        arrays[f"{name}_losses"] = _float_array(result[1], "the losses")
    return {"runs": list(run_settings(ctx.profile.seed))}, arrays


def step_landscape_grid_losses(ctx):
    x, y = line_problem(ctx.profile.seed)
    grid = ctx.module("descent").loss_grid(x.copy(), y.copy(), GRID_W.copy(), GRID_B.copy())
    return {"grid": "loss_grid"}, {"losses": _float_array(grid, "loss_grid's result")}


def step_descent_quiz_answers(ctx):
    return record_answers(ctx.module("descent"), ctx.inputs.get("questions", [])), {}


def _every_run(value, arrays, inputs):
    names = [name for name, *_ in RUNS]
    wanted = {f"{name}_{kind}" for name in names for kind in ("path", "losses")}
    if not isinstance(value, dict) or value.get("runs") != names or not wanted <= set(arrays):
        return "a path and losses for each of the runs " + ", ".join(names)
    return None


def _grid_array(value, arrays, inputs):
    return None if "losses" in arrays else "the loss grid as an array"


PART = Part(
    title="gradient descent variants",
    graded_modules=("descent",),
    steps=(step_descent_variant_runs, step_landscape_grid_losses, step_descent_quiz_answers),
    record_checks={"descent_variant_runs": _every_run, "landscape_grid_losses": _grid_array,
                   "descent_quiz_answers": every_question},
    inputs=questions,
)
