"""Part 8: gradient descent variants and the loss landscape. Otter exception-based test file.

Every expected value is computed here, from the grader's own problem
(``grader.parts.descent_variants.line_problem`` at the grade's seed): the least-squares
minimum (``np.linalg.lstsq``), the batch path, the whole data set's loss at each returned
point, the grid's losses. The record holds only what ``descent.py`` returned.

Each mistake costs its own test: 8.1 judges the shapes and 8.2 the number of updates; the
other run tests judge what they can on the rows there are (8.3 the batch path's values,
8.4 the recorded losses against the returned points, 8.5 the last point, 8.6 the noise of
the losses, 8.7 the seeding, 8.8 which example each stochastic update used, recovered from
its step: for one example the step is proportional to (x_i, 1)). 8.9 judges the grid's
layout and 8.10 its values (in either layout).

The public 8.13 judges the batch run's first update (the docstring's update rule with the
mean gradient; 8.3 the whole path), and 8.4 is public (the docstring says what losses[k]
is), so the self-check catches the mistakes a student can see in the docstring.
"""

import math

import numpy as np
from otter.test_files import test_case

from grader.checks import check, check_step
from grader.choices import choice as _answer
from grader.parts.descent_variants import GRID_B, GRID_W, line_problem, run_settings

OK_FORMAT = False
name = "Part 8: gradient descent variants"

VARIANTS = ("batch", "stochastic", "mini_batch")


def _run(runs, run_name):
    return runs.arrays[f"{run_name}_path"], runs.arrays[f"{run_name}_losses"]


def _described(run_name, setting):
    return f"{run_name.replace('_', '-')} run (batch_size={setting['batch_size']})"


def _points(path):
    """The path's (w, b) rows, or None when it is not an array of (w, b) rows."""
    return path if path.ndim == 2 and path.shape[1] == 2 else None


def _loss_at(x, y, points):
    """The whole data set's mean squared error at each (w, b) row."""
    with np.errstate(all="ignore"):
        return np.array([np.mean((w * x + b - y) ** 2) for w, b in points], dtype=np.float64)


def _same(found, expected, rtol=1e-6, atol=1e-9):
    return found.shape == expected.shape and bool(
        np.all(np.isclose(found, expected, rtol=rtol, atol=atol, equal_nan=True)))


def _pair(point):
    return "(" + ", ".join(f"{v:.4g}" for v in point) + ")"


@test_case(name="8.1 run_gradient_descent returns the path from the start and one loss per update",
           points=1, hidden=False)
def test_run_shapes(descent_variant_runs):
    check_step(descent_variant_runs)
    settings = run_settings(0)
    for run_name in VARIANTS:
        path, losses = _run(descent_variant_runs, run_name)
        what = _described(run_name, settings[run_name])
        check(_points(path) is not None, f"a path of shape (n_updates + 1, 2) for the {what}",
              f"shape {path.shape}", "stack the (w, b) pairs: np.array(path) with one row per point")
        check(len(path) and np.allclose(path[0], settings[run_name]["start"]),
              f"the path of the {what} to start at start={tuple(settings[run_name]['start'])}",
              f"first row {_pair(path[0]) if len(path) else 'none'}",
              "put the starting point in the path before the first update")
        check(losses.ndim == 1 and len(losses) == len(path) - 1,
              f"one loss per update for the {what}: shape ({len(path) - 1},)",
              f"shape {losses.shape}", "append one loss after each update (not one per epoch)")


@test_case(name="8.2 each epoch makes ceil(n / batch_size) updates", points=1, hidden=False)
def test_updates_per_epoch(descent_variant_runs):
    check_step(descent_variant_runs)
    settings = run_settings(0)
    n = len(line_problem(0)[0])
    for run_name in VARIANTS:
        path, losses = _run(descent_variant_runs, run_name)
        setting = settings[run_name]
        per_epoch = -(-n // setting["batch_size"])
        expected = setting["epochs"] * per_epoch
        found = len(path) - 1 if _points(path) is not None else len(losses)
        check(found == expected,
              f"{expected} updates for the {_described(run_name, setting)}: {setting['epochs']} "
              f"epochs of ceil({n} / {setting['batch_size']}) = {per_epoch}",
              f"{found} ({found / setting['epochs']:g} per epoch)",
              "a smaller last batch still makes one update: for first in range(0, n, batch_size)")


def _step_hint(found_step, expected_step, batch_size):
    """What a wrong first step of the batch path says about the update rule."""
    scale = float(np.dot(found_step, expected_step) / np.dot(expected_step, expected_step))
    aligned = np.allclose(found_step, scale * expected_step, rtol=1e-3, atol=1e-12)
    if aligned and math.isclose(scale, -1.0, rel_tol=1e-3):
        return ("this step goes uphill: subtract the gradient, w - learning_rate * dL/dw "
                "(the gradient points up the slope)")
    if aligned and math.isclose(scale, batch_size, rel_tol=1e-3):
        return (f"this step is {batch_size} times too long: take the mean of the errors' "
                "products over the batch (np.mean), not their sum")
    if aligned and math.isclose(scale, 0.5, rel_tol=1e-3):
        return "this step is half as long: dL/dw = 2 * mean(e * x) and dL/db = 2 * mean(e)"
    return ("one update is w - learning_rate * 2 * mean(e * x), b - learning_rate * 2 * "
            "mean(e), with e = w * x + b - y over the batch: here the whole data set, every "
            "example once")


def _check_batch_path(descent_variant_runs, profile, updates=None):
    """The batch run's path against the grader's own, over its first ``updates`` updates
    (None: every epoch)."""
    check_step(descent_variant_runs)
    x, y = line_problem(profile.seed)
    setting = run_settings(profile.seed)["batch"]
    path, _ = _run(descent_variant_runs, "batch")
    check(_points(path) is not None, "a path of (w, b) rows (see 8.1)", f"shape {path.shape}")
    rate = setting["learning_rate"]
    w, b = setting["start"]
    expected = [(w, b)]
    with np.errstate(all="ignore"):
        for _ in range(min(len(path) - 1, setting["epochs"] if updates is None else updates)):
            residuals = (w * x + b) - y  # the docstring's update on the whole data set
            w, b = w - rate * 2.0 * np.mean(residuals * x), b - rate * 2.0 * np.mean(residuals)
            expected.append((w, b))
    expected = np.array(expected)
    rows = min(len(path), len(expected))
    close = np.all(np.isclose(path[:rows], expected[:rows], rtol=1e-6, atol=1e-9), axis=1)
    if close.all():
        return
    k = int(np.argmin(close))
    if k == 0:
        hint = "start at start=(w0, b0)"
    else:
        hint = _step_hint(path[k] - path[k - 1], expected[k] - expected[k - 1], len(x))
    check(False, f"(w, b) = {_pair(expected[k])} after update {k} of the batch run "
                 f"(learning rate {rate}, starting at {_pair(expected[0])})",
          _pair(path[k]), hint)


@test_case(name="8.4 losses[k] is the whole data set's loss after update k", points=1, hidden=False)
def test_losses_after_update(descent_variant_runs, profile):
    check_step(descent_variant_runs)
    x, y = line_problem(profile.seed)
    settings = run_settings(profile.seed)
    for run_name in VARIANTS:
        path, losses = _run(descent_variant_runs, run_name)
        check(_points(path) is not None and losses.ndim == 1,
              "a path of (w, b) rows and a 1-D array of losses (see 8.1)",
              f"shapes {path.shape} and {losses.shape}")
        rows = min(len(losses), len(path) - 1)
        after = _loss_at(x, y, path[1:rows + 1])
        if _same(losses[:rows], after):
            continue
        if _same(losses[:rows], _loss_at(x, y, path[:rows])):
            hint = "record the loss after the update, at the new (w, b), not before it"
        else:
            hint = ("compute mean((w * x + b - y) ** 2) over the whole data set (x, y), not "
                    "over the batch, at the (w, b) the update reached")
        k = int(np.argmin(np.isclose(losses[:rows], after, rtol=1e-6, atol=1e-9, equal_nan=True)))
        check(False, f"losses[{k}] = {after[k]:.6g} for the {_described(run_name, settings[run_name])}: "
                     f"the loss of the whole data set at path[{k + 1}] = {_pair(path[k + 1])}",
              f"{losses[k]:.6g}", hint)


#: How far each run may end from the least-squares minimum (the reference over 50 seeds:
#: at most 0.0005 for the batch run, 0.10 stochastic, 0.12 mini-batch).
TOLERANCE = {"batch": 0.1, "stochastic": 0.3, "mini_batch": 0.3}


def _direction_changes(losses):
    """Fraction of updates after which the loss turns (up after down, or down after up)."""
    with np.errstate(all="ignore"):
        steps = np.diff(losses)
        tiny = 1e-12 * (1.0 + np.abs(losses[1:]))
        signs = np.where(np.abs(steps) > tiny, np.sign(steps), 0.0)
        pairs = np.isfinite(steps[:-1]) & np.isfinite(steps[1:])
    if not pairs.any():
        return 0.0
    return float(np.mean((signs[:-1] * signs[1:] < 0)[pairs]))


@test_case(name="8.6 the stochastic path's losses are noisier than the batch path's", points=1,
           hidden=False)
def test_stochastic_noisier(descent_variant_runs):
    check_step(descent_variant_runs)
    noise = {run_name: _direction_changes(_run(descent_variant_runs, run_name)[1])
             for run_name in ("batch", "stochastic")}
    check(noise["stochastic"] > noise["batch"],
          "the stochastic run's loss to go up and down more often than the batch run's",
          f"it turns after {noise['stochastic']:.0%} of the stochastic updates and "
          f"{noise['batch']:.0%} of the batch updates",
          "with batch_size=1 each update follows one example's gradient; with batch_size=n "
          "the whole data set's. Plot the two loss curves")


@test_case(name="8.7 the same seed gives the same path, another seed another stochastic path",
           points=1, hidden=False)
def test_seeded_shuffling(descent_variant_runs):
    check_step(descent_variant_runs)
    for run_name in ("stochastic", "mini_batch"):
        first, again = (_run(descent_variant_runs, name)[0] for name in (run_name, f"{run_name}_same_seed"))
        check(first.shape == again.shape and np.array_equal(first, again, equal_nan=True),
              f"the same path from two {run_name.replace('_', '-')} runs with the same seed",
              "two different paths",
              "make one generator from the seed argument, np.random.default_rng(seed), inside "
              "the function and shuffle with it (np.random.shuffle and np.random.permutation "
              "use a global state that the seed argument does not reset)")
    first, other = (_run(descent_variant_runs, name)[0] for name in ("stochastic", "stochastic_other_seed"))
    check(not (first.shape == other.shape and np.array_equal(first, other, equal_nan=True)),
          "different stochastic paths for two different seeds (another order of the examples)",
          "the same path for both seeds",
          "shuffle the example indices every epoch with the permutation method of a generator "
          "made from seed, then take the batches in that order")


@test_case(name="8.9 loss_grid has one row per b value and one column per w value", points=1,
           hidden=False)
def test_grid_layout(landscape_grid_losses):
    check_step(landscape_grid_losses)
    grid = landscape_grid_losses.arrays["losses"]
    expected = (len(GRID_B), len(GRID_W))
    hint = ("row i is b_values[i], column j is w_values[j]: np.meshgrid(w_values, b_values) "
            "makes grids of this layout")
    check(grid.shape == expected, f"shape {expected} for {len(GRID_B)} b values and "
          f"{len(GRID_W)} w values", f"shape {grid.shape}",
          hint + (" (yours is transposed)" if grid.shape == expected[::-1] else ""))


@test_case(name="8.13 the batch run's first update is the docstring's w - learning_rate * dL/dw, "
                "b - learning_rate * dL/db", points=1, hidden=False)
def test_first_batch_update(descent_variant_runs, profile):
    _check_batch_path(descent_variant_runs, profile, updates=1)
