"""The assignment's parts. Each part is one folder of this package, holding everything
about it:

    grader/parts/<name>/__init__.py   PART = Part(...): the student modules it grades, its
                                      probe steps (the functions that call student code in
                                      the sandbox), its experiments and what they calibrate
    grader/parts/<name>/tests.py      its otter test file (public and hidden cases)

``grader/assignment.toml`` chooses which parts make up the assignment, in which order, and
their points. The engine, the calibration, the builder and README's tables read the parts
from here; no module outside a part's folder names its steps (a test checks this).

Adding a part: a new folder with those two files (copy ``concepts/``), its reference
module in ``solutions/``, and one line in ``[parts]`` of ``grader/assignment.toml``.
"""

import dataclasses
import hashlib
import importlib
from pathlib import Path
from typing import Callable

from grader.config import ASSIGNMENT, ConfigurationError

PARTS_DIR = Path(__file__).resolve().parent
TEST_FILE_NAME = "tests.py"


@dataclasses.dataclass(frozen=True)
class Sweep:
    """An experiment step: the runs a student's function trains, one per setting.

    Attributes
    ----------
    setting : str
        What varies between runs ("batch_size", "learning_rate", "optimizer", "input").
    settings : str or tuple
        The profile sweep holding the settings (``profile.<settings>``), or the settings
        themselves when they do not depend on the profile (``("raw", "normalized")``).
    label : str
        How one run is named in messages, e.g. ``"batch size {}"``.
    metrics : str
        Prefix of this experiment's calibrated metrics (``<metrics>.<setting>.<metric>``).
    build : callable, optional
        ``build(step, profile, data) -> grader.runs.Experiment`` for an experiment whose
        runs are not known before it runs (a search's trials); by default one run per
        setting (``grader.runs.build_experiment``).
    """

    setting: str
    settings: object
    label: str
    metrics: str
    build: Callable = None

    def values(self, profile):
        if isinstance(self.settings, str):
            return list(getattr(profile, self.settings))
        return list(self.settings)


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of the assignment (``PART`` in ``grader/parts/<name>/__init__.py``).

    Attributes
    ----------
    title : str
        Shown to students ("normalization").
    graded_modules : tuple of str
        Student modules this part grades: a failed import fails every step.
    needed_modules : tuple of str
        Modules its steps only need importable; a failed import is replaced by a
        placeholder, so another part's mistake does not cost this part.
    steps : tuple of callables
        Probe steps ``step_<name>(ctx) -> (value, arrays)``, run in order in the sandbox.
    experiments : dict
        ``{step name: Sweep}`` for the steps that train runs (replayed, calibrated).
    record_checks : dict
        ``{step name: check(value, arrays, inputs) -> problem or None}``: the shape the step's
        record must have (one output per case the grader asked for...), so a record
        written by student code cannot make a check pass vacuously. A check may also put
        the grader's own inputs back into ``value`` (the cases it asked for).
    reference_builder : bool
        The experiments get the grader-only reference model builder when grading.
    extra_metrics : callable, optional
        ``extra_metrics(env) -> {name: value}``: calibrated figures beyond the per-run ones.
    provides : dict
        ``{name: make(data) -> value}``: values the part's test cases take as parameters
        besides step results (made on the trusted side from the grader's data).
    inputs : callable, optional
        ``inputs(test_source) -> JSON-able``: what the trusted side tells the part's probes,
        derived from the part's test file (``ctx.inputs`` in the sandbox).
    """

    title: str
    graded_modules: tuple
    steps: tuple
    needed_modules: tuple = ()
    experiments: dict = dataclasses.field(default_factory=dict)
    record_checks: dict = dataclasses.field(default_factory=dict)
    reference_builder: bool = False
    extra_metrics: Callable = None
    provides: dict = dataclasses.field(default_factory=dict)
    inputs: Callable = None
    name: str = ""
    folder: Path = None

    @property
    def step_names(self):
        return tuple(step_name(step) for step in self.steps)

    @property
    def test_file(self):
        return self.folder / TEST_FILE_NAME

    @property
    def calibrated(self):
        return bool(self.experiments)


def one_output_per_case(count, *, each=None, cases=None):
    """A record check (``Part.record_checks``) for a step whose value is ``{"outputs":
    [...]}``: one output per case the grader asked for (``count``), each an instance of
    ``each`` when given. With ``cases`` (the grader's own cases), they are put into the
    value as ``value["cases"]`` for the test file, never taken from the record."""
    def check(value, arrays, inputs):
        outputs = value.get("outputs") if isinstance(value, dict) else None
        if not isinstance(outputs, list) or len(outputs) != count or \
                (each is not None and not all(isinstance(output, each) for output in outputs)):
            return f"{count} results, one per case the grader asked for"
        if cases is not None:
            value["cases"] = [list(case) for case in cases]
        return None
    return check


def step_name(step):
    return step.__name__[len("step_"):]


def available():
    """Names of every part folder, whether or not the assignment uses it."""
    return sorted(path.name for path in PARTS_DIR.iterdir()
                  if (path / "__init__.py").is_file() and not path.name.startswith("_"))


def load(name):
    """The declaration of part ``name`` (``grader/parts/<name>/``)."""
    if name not in available():
        raise ConfigurationError(f"{ASSIGNMENT.source} [parts]: no part {name!r}; the parts are "
                                 f"the folders of {PARTS_DIR}: {', '.join(available())}")
    module = importlib.import_module(f"grader.parts.{name}")
    part = getattr(module, "PART", None)
    if not isinstance(part, Part):
        raise ConfigurationError(f"{module.__file__}: expected PART = Part(...)")
    return dataclasses.replace(part, name=name, folder=PARTS_DIR / name)


def selected(assignment=ASSIGNMENT):
    """``{name: Part}`` of the assignment's parts, in its order; step names are unique."""
    parts = {name: load(name) for name in assignment.parts}
    owner = {}
    for part in parts.values():
        for name in part.step_names:
            if name in owner:
                raise ConfigurationError(f"parts {owner[name]!r} and {part.name!r} both have a "
                                         f"step {name!r}: step names must be unique")
            owner[name] = part.name
    return parts


PARTS = selected()
#: Step name -> part name, for every selected part.
STEP_TO_PART = {name: part.name for part in PARTS.values() for name in part.step_names}
#: Step name -> Sweep, for every experiment step.
EXPERIMENTS = {name: sweep for part in PARTS.values() for name, sweep in part.experiments.items()}


def student_modules(parts=None):
    """The modules a submission holds: those the parts grade or need, in order."""
    names = []
    for part in (parts or PARTS).values():
        names += [m for m in part.graded_modules + part.needed_modules if m not in names]
    return tuple(names)


def part_points(name, cases, assignment=ASSIGNMENT):
    """Scale factor for the points of part ``name``'s ``cases``: the configured total over
    the test file's (1.0 without a configured total)."""
    configured = assignment.parts.get(name, {}).get("points")
    written = sum(float(case.points or 0) for case in cases)
    return 1.0 if configured is None or not written else float(configured) / written


def total_points(assignment=ASSIGNMENT):
    """The assignment's total: every selected part's points, as configured or written."""
    from otter.test_files.exception_test import ExceptionTestFile
    total = 0.0
    for name, part in PARTS.items():
        cases = ExceptionTestFile.from_file(str(part.test_file)).test_cases
        total += sum(float(c.points or 0) for c in cases) * part_points(name, cases, assignment)
    return round(total, 4)


def source_digest(paths):
    """sha256 over the named files' bytes (missing files count as absent)."""
    digest = hashlib.sha256()
    for path in sorted(map(Path, paths)):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    return digest.hexdigest()
