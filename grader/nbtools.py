"""What the notebook edition (``train_assignment.ipynb``) calls: data, safe experiment runs,
plots and a one-line public check per part, learntools-style.

The student writes the ``.py`` modules; the notebook imports them (with ``%autoreload 2``,
so an edit is picked up when a cell runs again) and calls the helpers here:

    data = load_data()                         # the embedded drawings, split like the grader
    results = attempt(normalization.run_normalization_experiment, ...)
    plot_histories(results, "normalization")   # pandas DataFrame -> curves per setting
    check("normalization", own=[...])          # passed / not attempted / what to fix

Nothing here raises for a student's mistake: an unfinished function is reported as "not
attempted", any other error as its traceback, and the notebook runs on to the end.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import sys
import time
import traceback
from pathlib import Path

import numpy as np

#: ``TRAIN_NOTEBOOK_SIZE=check`` makes the notebook as small as the self-check (the
#: package's CI executes it that way); unset, the notebook trains on more data for
#: smoother curves.
SIZE_ENV_VAR = "TRAIN_NOTEBOOK_SIZE"
#: The stub every unfinished function of the skeleton raises.
STUB_TEXT = "not implemented yet"


@dataclasses.dataclass(frozen=True)
class Size:
    """How much data and training the notebook's experiments use."""

    name: str
    n_per_class: int
    n_train: int
    n_val: int
    n_test: int
    epochs: int
    #: Settings of the sweeps (None: the experiment function's own defaults).
    batch_sizes: tuple | None = None
    learning_rates: tuple | None = None
    optimizers: tuple | None = None

    def sweep(self, name):
        """``{"batch_sizes": (...)}`` for a sweep this size fixes, else ``{}`` (defaults)."""
        values = getattr(self, name)
        return {} if values is None else {name: values}


#: The notebook's own size: about a minute per experiment on a laptop.
FULL = Size("full", n_per_class=300, n_train=2000, n_val=500, n_test=500, epochs=5)


def check_size():
    """The self-check's profile as a Size (the package's CI executes the notebook so)."""
    from grader.config import CHECK
    return Size("check", n_per_class=CHECK.n_per_class, n_train=CHECK.n_train,
                n_val=CHECK.n_val, n_test=CHECK.n_test, epochs=CHECK.epochs,
                batch_sizes=tuple(CHECK.batch_sizes), learning_rates=tuple(CHECK.learning_rates),
                optimizers=tuple(CHECK.optimizers))


def size(environ=None):
    """``FULL``, or the self-check's size when ``TRAIN_NOTEBOOK_SIZE=check``."""
    environ = os.environ if environ is None else environ
    return check_size() if environ.get(SIZE_ENV_VAR, "").lower() == "check" else FULL


def load_data(chosen=None):
    """The embedded drawings (or ``TRAIN_QUICKDRAW_DATA``), split as the grader splits.

    Returns
    -------
    dict
        ``{"train": (x, y), "val": (x, y), "test": (x, y)}``, x uint8 ``(n, 784)`` raw
        pixels 0-255, y int ``(n,)`` labels.
    """
    import datasets
    chosen = chosen or size()
    source = datasets.load_source(n_per_class=chosen.n_per_class)
    return datasets.split(source, n_train=chosen.n_train, n_val=chosen.n_val,
                          n_test=chosen.n_test, seed=0)


_told = []


def scaled(x, normalize=None):
    """``normalize(x)`` (the student's ``normalize_pixels``) when it is written; until
    then the pixels divided by 255 here, so that Parts 3-5 can run before Part 1 is done."""
    if normalize is not None:
        try:
            return normalize(x)
        except NotImplementedError:
            if not _told:
                print("normalize_pixels is not written yet: Parts 3-5 use the notebook's own "
                      "scaling for now.")
                _told.append(True)
    return x.astype(np.float32) * np.float32(1 / 255)


# --------------------------------------------------------------------------- running code


def attempt(function, *args, **kwargs):
    """Call ``function``; an unfinished function or an error is reported, not raised.

    Returns
    -------
    The function's result, or None when it raised (the notebook goes on).
    """
    started = time.monotonic()
    try:
        result = function(*args, **kwargs)
    except NotImplementedError as error:
        print(f"not attempted yet: {error}")
        return None
    except Exception:  # the student's own error: show it, keep the notebook going
        print(f"{getattr(function, '__name__', 'the call')} raised an error; its traceback "
              "(the last lines are in your code):", file=sys.stderr)
        traceback.print_exc(limit=-8)
        return None
    print(f"{getattr(function, '__name__', 'done')}: {time.monotonic() - started:.1f} s")
    return result


# --------------------------------------------------------------------------- plots


def plot_histories(results, experiment, *, title=None, calibration=None):
    """Plot validation loss and accuracy per epoch for each setting of one experiment,
    with the reference's calibrated range where the calibration file is there.

    Parameters
    ----------
    results : dict or None
        ``{setting: history}`` as an experiment returns it (None: nothing to plot).
    experiment : str
        "normalization", "batch_size", "learning_rate" or "optimizer".
    title : str, optional
    calibration : path, optional
        Default ``grader/calibration.json`` when present.

    Returns
    -------
    matplotlib Figure or None
    """
    from grader import feedback
    if not results:  # nothing ran yet
        print("nothing to plot yet: run the experiment above first")
        return None
    try:
        frame = feedback.histories_frame(results)
    except (TypeError, ValueError, KeyError) as error:
        print(f"cannot plot these results: {error}")
        return None
    figure = feedback.plot_experiment(frame, experiment, title=title,
                                      band=feedback.reference_band(experiment, calibration))
    last = frame[frame["epoch"] == frame.groupby("setting")["epoch"].transform("max")]
    table = last.pivot_table(index="setting", columns="metric", values="value", sort=False)
    _display(table.round(3))
    return figure


def show_drawings(x, y, *, count=10):
    """The first drawing of each of the first ``count`` classes, with its label."""
    from matplotlib.figure import Figure
    labels = [int(label) for label in dict.fromkeys(np.asarray(y).tolist())][:count]
    figure = Figure(figsize=(1.3 * len(labels), 1.6), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(labels)))
    for axis, label in zip(axes, sorted(labels)):
        row = int(np.flatnonzero(np.asarray(y) == label)[0])
        axis.imshow(np.asarray(x[row]).reshape(28, 28), cmap="gray_r")
        axis.set_title(f"label {label}", fontsize="small")
        axis.axis("off")
    return figure


def plot_descent(descents):
    """Positions x over the steps of gradient descent on (x - 3)^2, one line per rate.

    ``descents`` is ``{learning_rate: [x0, x1, ...] or None}``."""
    from matplotlib.figure import Figure
    done = {rate: path for rate, path in descents.items() if path}
    if not done:
        print("nothing to plot yet: write gradient_descent in concepts.py")
        return None
    figure = Figure(figsize=(7, 3.5), layout="constrained")
    axis = figure.subplots()
    for rate, path in done.items():
        values = [float(v) for v in path]
        axis.plot(range(len(values)), values, marker=".", label=f"learning rate {rate:g}")
    axis.axhline(3, color="0.5", linestyle="--", linewidth=1)
    axis.set_xlabel("step")
    axis.set_ylabel("x")
    axis.set_ylim(-3, 9)
    axis.set_title("gradient descent on y = (x - 3)^2 (the minimum is x = 3)")
    axis.legend(fontsize="small")
    return figure


def _display(value):
    try:
        from IPython.display import display
    except ImportError:  # outside Jupyter
        print(value)
    else:
        display(value)


# --------------------------------------------------------------------------- checks


@dataclasses.dataclass
class CheckResult:
    """What ``check`` found for one part."""

    part: str
    status: str  # "passed", "not attempted", "failed"
    text: str

    def __repr__(self):
        return self.text

    def _repr_pretty_(self, printer, cycle):
        printer.text(self.text)


def stub_functions(folder, qualified_names):
    """The names (``module.function``) that still raise the skeleton's NotImplementedError
    stub, or that are module-level answers still set to None."""
    left = []
    for qualified in qualified_names:
        module, _, name = qualified.partition(".")
        path = Path(folder) / f"{module}.py"
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue  # missing or broken: the real check says so
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                if _raises_stub(node):
                    left.append(qualified)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == name for t in node.targets):
                if isinstance(node.value, ast.Constant) and node.value.value is None:
                    left.append(qualified)
    return left


def _raises_stub(function):
    for node in ast.walk(function):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and getattr(node.exc.func, "id", None) == "NotImplementedError":
            text = " ".join(a.value for a in node.exc.args
                            if isinstance(a, ast.Constant) and isinstance(a.value, str))
            if STUB_TEXT in text:
                return True
    return False


def check(part, *, own=(), uses=(), folder=".", seed=None):
    """Run the public tests of one part on the modules in ``folder``.

    Parameters
    ----------
    part : str
        The part's name ("normalization", "architecture", "batch_size", "learning_rate",
        "optimizer", "concepts").
    own : sequence of str
        The part's own functions and answers (``"module.name"``): when every one is still
        the skeleton's, the part is "not attempted" and no test runs.
    uses : sequence of str
        Functions of other parts this one needs (``training.train_run``): named when
        still unfinished.
    folder : str
        Where the modules are (the notebook's folder).

    The first check of a notebook session grades every part at once (one TensorFlow
    start-up instead of eleven) and keeps the report until a module changes, so the
    other checks of a top-to-bottom run cost nothing. After a module changed, a check
    grades its own part only (``python -m grader check --part``: 6-10 s for Parts 1-9
    instead of about 45 s for all), kept the same way.

    Returns
    -------
    CheckResult
        Shown as one line when passed or not attempted, else one line per failed test
        with what to fix.
    """
    from grader import envcheck, results
    left_own = stub_functions(folder, own)
    if own and len(left_own) == len(own):
        return CheckResult(part, "not attempted",
                           f"{part}: not attempted yet (fill in {', '.join(left_own)})")
    lines = []
    left_uses = stub_functions(folder, uses)
    if left_own or left_uses:
        lines.append("still the skeleton's: " + ", ".join(left_own + left_uses))
    problems = envcheck.find_problems(folder, student_modules())
    lines += [problem.message() for problem in problems]
    report = _self_check(folder, seed, part)
    if report.infrastructure_failure:
        return CheckResult(part, "failed", f"{part}: the self-check could not run "
                           f"({report.infrastructure_failure})")
    mine = part_results(report, part)
    failed = [r for r in mine if not r.passed]
    score, max_score = sum(r.score for r in mine), sum(r.max_score for r in mine)
    summary = (f"{part}: {len(mine) - len(failed)}/{len(mine)} public tests passed "
               f"({score:g}/{max_score:g} points)")
    if not failed and not problems:
        return CheckResult(part, "passed", summary + ". The autograder also runs hidden tests.")
    lines = [summary, *lines, *(f"note: {note}" for note in report.notes)]
    for result in failed:
        lines.append(f"* {result.name}:")
        lines += ["    " + line for line in result.message.splitlines()[:12]]
    return CheckResult(part, "failed", results.clean_text("\n".join(lines)))


def part_names():
    """The assignment's part names, in order (Part 1 first)."""
    from grader.parts import PARTS
    return list(PARTS)


def part_results(report, part):
    """The results of one part's test cases: their names start with the part's number
    ("1.3 normalize_pixels scales into [0, 1]" is Part 1's)."""
    number = part_names().index(part) + 1
    return [r for r in report.results if r.name.split(" ", 1)[0].split(".", 1)[0] == str(number)]


def student_modules():
    """The module names a submission holds."""
    from grader.envcheck import submission_modules
    return submission_modules()


#: The kept self-check reports: ``{(folder, seed, modules digest, part or None): report}``
#: (None: every part). Emptied when the modules change.
_reports = {}


def _modules_digest(folder):
    import hashlib
    digest = hashlib.sha256()
    for module in student_modules():
        path = Path(folder) / f"{module}.py"
        digest.update(module.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


#: Has this session's self-check graded every part once? (Then a change grades one part.)
_checked_every_part = False


def _self_check(folder, seed, part):
    """The public self-check: of every part the first time, then of ``part`` only once a
    module changed; each report kept while the modules stay the same."""
    global _checked_every_part
    from grader import engine
    from grader.config import CHECK
    key = (str(Path(folder).resolve()), seed, _modules_digest(folder))
    for asked in (key + (None,), key + (part,)):
        if asked in _reports:
            return _reports[asked]
    if any(kept[:3] != key for kept in _reports):
        _reports.clear()
    profile = CHECK.with_seed(seed) if seed is not None else CHECK
    only = [part] if _checked_every_part and part is not None else None
    _checked_every_part = True
    _reports[key + (only[0] if only else None,)] = report = engine.grade(
        str(folder), profile=profile, include_hidden=False, parts=only)
    return report
