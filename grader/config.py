"""Grading configuration: what data, which settings and what limits each part runs with.

Two profiles share one shape: ``GRADE`` (the autograder and ``make grade``; thresholds
are calibrated for it) and ``CHECK`` (the student's self-check: tiny, public tests only).
"""

import dataclasses
import math
import os
import tomllib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_ROOT = PACKAGE_DIR.parent
PARTS_DIR = PACKAGE_DIR / "parts"
CALIBRATION_FILE = PACKAGE_DIR / "calibration.json"
#: The secret seed of the held-out split (autograder only, never in the student bundle).
HELD_OUT_FILE = PACKAGE_DIR / "held_out.json"

#: The assignment's configuration: its parts, their points and the grading profiles.
#: ``TRAIN_GRADER_ASSIGNMENT`` names another assignment file (a course's variant, or a part
#: under development); the sandboxed worker is given the same variable.
ASSIGNMENT_FILE = Path(os.environ.get("TRAIN_GRADER_ASSIGNMENT") or PACKAGE_DIR / "assignment.toml")

#: Environment variable that overrides the grading seed (used by the 20-seed check).
SEED_ENV_VAR = "TRAIN_GRADER_SEED"


class ConfigurationError(ValueError):
    """The assignment's configuration file is malformed; the message names the key."""


@dataclasses.dataclass(frozen=True)
class Profile:
    """One grading configuration (a ``[profiles.<name>]`` table of ``grader/assignment.toml``).

    Attributes
    ----------
    name : str
    n_per_class : int
        Drawings per class taken from the data source.
    n_train, n_val, n_test : int
        Split sizes. ``test`` is the held-out set: it never enters the sandbox.
    epochs, batch_size, learning_rate, optimizer
        Defaults every experiment run uses unless the experiment sweeps that knob.
    sweeps : tuple of (str, tuple)
        The settings each sweep is run with, e.g. ``(("batch_sizes", (16, 128)), ...)``;
        ``profile.batch_sizes`` reads a sweep by its name.
    reference_model : bool
        True: the experiments get the grader's own model builder (``reference_model.py``,
        autograder only), so Part 2 mistakes cost Part 2 only. False: the student's own
        ``build_model`` (the self-check, which ships without the reference builder).
    seed : int
        Training seed passed to the student's functions and used by the sandbox.
    data_seed : int
        Seed of the synthetic data and of the split (fixed: it defines the data).
    """

    name: str
    n_per_class: int
    n_train: int
    n_val: int
    n_test: int
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str
    sweeps: tuple = ()
    reference_model: bool = False
    seed: int = 0
    data_seed: int = 0

    def __post_init__(self):
        pairs = self.sweeps.items() if isinstance(self.sweeps, dict) else self.sweeps
        object.__setattr__(self, "sweeps", tuple((str(name), tuple(values))
                                                 for name, values in pairs))

    def __getattr__(self, name):
        for sweep, values in self.__dict__.get("sweeps", ()):
            if sweep == name:
                return values
        raise AttributeError(f"the {self.__dict__.get('name', '?')!r} profile has no setting "
                             f"or sweep {name!r} (sweeps are set in {ASSIGNMENT_FILE.name})")

    def with_seed(self, seed):
        """A copy of this profile with another training seed."""
        return dataclasses.replace(self, seed=int(seed))

    def to_dict(self):
        """Plain JSON-able settings, each sweep as a key of its own (calibration records)."""
        plain = {field.name: getattr(self, field.name) for field in dataclasses.fields(self)
                 if field.name != "sweeps"}
        plain.update({name: list(values) for name, values in self.sweeps})
        return plain


_PROFILE_TYPES = {"n_per_class": int, "n_train": int, "n_val": int, "n_test": int, "epochs": int,
                  "batch_size": int, "learning_rate": (int, float), "optimizer": str,
                  "reference_model": bool, "seed": int, "data_seed": int}


def _profile_from_table(name, table, source):
    where = f"{source} [profiles.{name}]"
    if not isinstance(table, dict):
        raise ConfigurationError(f"{where}: expected a table of settings")
    unknown = set(table) - set(_PROFILE_TYPES) - {"sweeps"}
    if unknown:
        raise ConfigurationError(f"{where}: unknown setting(s) {sorted(unknown)}; expected "
                                 f"{sorted(_PROFILE_TYPES)} and [profiles.{name}.sweeps]")
    for key, kind in _PROFILE_TYPES.items():
        if key in table and (not isinstance(table[key], kind) or
                             (kind is int and isinstance(table[key], bool))):
            raise ConfigurationError(f"{where}: {key} = {table[key]!r}, expected a "
                                     f"{getattr(kind, '__name__', 'number')}")
    sweeps = table.get("sweeps", {})
    if not isinstance(sweeps, dict) or not all(
            isinstance(v, list) and v and len(set(map(repr, v))) == len(v) for v in sweeps.values()):
        raise ConfigurationError(f"{where}.sweeps: expected `name = [setting, ...]` lines, each a "
                                 f"non-empty list without repeats, found {sweeps!r}")
    values = {k: v for k, v in table.items() if k != "sweeps"}
    missing = {"n_per_class", "n_train", "n_val", "n_test", "epochs", "batch_size",
               "learning_rate", "optimizer"} - set(values)
    if missing:
        raise ConfigurationError(f"{where}: missing setting(s) {sorted(missing)}")
    values["learning_rate"] = float(values["learning_rate"])
    return Profile(name=name, sweeps=sweeps, **values)


@dataclasses.dataclass(frozen=True)
class Assignment:
    """``grader/assignment.toml``: the parts in order (``{name: {"points": ...}}``) and the
    grading profiles by name."""

    parts: dict
    profiles: dict
    source: str

    @classmethod
    def load(cls, path=None):
        path = Path(path or ASSIGNMENT_FILE)
        try:
            with open(path, "rb") as handle:
                document = tomllib.load(handle)
        except OSError as error:
            raise ConfigurationError(f"{path}: cannot read the assignment's configuration "
                                     f"({error.strerror})") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigurationError(f"{path}: not valid TOML ({error})") from None
        parts = document.get("parts")
        if not isinstance(parts, dict) or not parts:
            raise ConfigurationError(f"{path}: expected a [parts] table with one line per part, "
                                     f"e.g. `normalization = {{}}`")
        for name, options in parts.items():
            if not isinstance(options, dict) or set(options) - {"points"} or (
                    "points" in options and (isinstance(options["points"], bool) or
                                             not isinstance(options["points"], (int, float))
                                             or options["points"] <= 0)):
                raise ConfigurationError(f"{path} [parts] {name} = {options!r}: expected {{}} or "
                                         "{ points = <a positive number> }")
        profiles = document.get("profiles")
        if not isinstance(profiles, dict) or not {"grade", "check"} <= set(profiles):
            raise ConfigurationError(f"{path}: expected [profiles.grade] and [profiles.check]")
        return cls(parts=dict(parts),
                   profiles={name: _profile_from_table(name, table, path.name)
                             for name, table in profiles.items()},
                   source=str(path))


ASSIGNMENT = Assignment.load()
GRADE = ASSIGNMENT.profiles["grade"]
CHECK = ASSIGNMENT.profiles["check"]
PROFILES = dict(ASSIGNMENT.profiles)


#: Memory the rest of a grade holds while a part runs, that the kernel cannot reclaim:
#: the worker's TensorFlow import (about 260 MB anonymous, of its 600 MB resident), the
#: trusted grading process (about 160 MB at its peak), and slack for the kernel.
GRADE_UNRECLAIMABLE_MB = 480
#: The part's memory limit without a container limit, and its floor with one.
PART_MEMORY_MB = (1024, 128)
#: A part's wall-clock limit on one full CPU; a smaller CPU quota stretches it.
PART_WALL_SECONDS = 120.0


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits for one part's sandboxed process (and everything it starts).

    The defaults fit the container the grade runs in (``from_env``, ``for_container``).

    Attributes
    ----------
    wall_seconds : float
        Wall-clock limit of the part.
    cpu_seconds : int
        CPU-time limit (RLIMIT_CPU) of the part's process.
    memory_mb : int
        Memory the part's whole process tree adds to the worker's (anonymous and shared
        memory, tmpfs files; see ``grader.sandbox.cgroup``).
    max_processes : int
        Processes and threads the sandbox user may have (RLIMIT_NPROC; dedicated user only).
    max_file_mb : int
        Largest file the part may write (RLIMIT_FSIZE).
    output_kb : int
        Student-visible output kept per part (the tail of stdout and stderr).
    """

    wall_seconds: float = 120.0
    cpu_seconds: int = 240
    memory_mb: int = 1024
    max_processes: int = 512
    max_file_mb: int = 64
    output_kb: int = 8

    @classmethod
    def for_container(cls, memory_bytes=None, cpus=None, cpu_count=None):
        """Default limits for a container with ``memory_bytes`` of memory and ``cpus``
        CPUs of quota (None: unlimited) on ``cpu_count`` CPUs (default: this process's
        affinity).

        * memory: what the container has left after the rest of the grade
          (``GRADE_UNRECLAIMABLE_MB``), at most 1024 MB and at least 128 MB, so a part's
          memory bomb meets its own limit before the container's OOM killer;
        * wall time: 120 s on a full CPU, stretched for a quota below one CPU;
        * CPU time: what the part's CPUs can give in its wall time.
        """
        if cpu_count is None:
            cpu_count = len(os.sched_getaffinity(0))
        usable = min(cpu_count, cpus) if cpus else cpu_count
        wall = PART_WALL_SECONDS / min(1.0, usable)
        memory_mb = PART_MEMORY_MB[0]
        if memory_bytes:
            memory_mb = max(PART_MEMORY_MB[1],
                            min(memory_mb, memory_bytes // 2**20 - GRADE_UNRECLAIMABLE_MB))
        return cls(wall_seconds=wall, cpu_seconds=max(10, math.ceil(wall * usable)),
                   memory_mb=int(memory_mb))

    @classmethod
    def from_env(cls, environ=None, *, cgroup_root=None, proc_cgroup=None, cpu_count=None):
        """Limits for this container (``for_container`` on the limits of this process's
        cgroups; the cgroup root folder and ``/proc/self/cgroup`` may be replaced for
        tests), with overrides from ``TRAIN_GRADER_<FIELD>`` environment variables, e.g.
        ``TRAIN_GRADER_WALL_SECONDS=300``."""
        from grader.sandbox import cgroup
        environ = os.environ if environ is None else environ
        memory_bytes, cpus = cgroup.container_limits(cgroup_root or cgroup.CGROUP_ROOT,
                                                     proc_cgroup or cgroup.PROC_CGROUP)
        defaults = cls.for_container(memory_bytes, cpus, cpu_count)
        values = {}
        for field in dataclasses.fields(cls):
            variable = f"TRAIN_GRADER_{field.name.upper()}"
            raw = environ.get(variable)
            if not raw:
                continue
            cast = type(getattr(cls(), field.name))
            try:
                values[field.name] = cast(raw)
            except ValueError as error:
                raise ValueError(f"{variable}={raw!r}: expected a {cast.__name__} "
                                 f"for the {field.name} limit") from error
        return dataclasses.replace(defaults, **values)
