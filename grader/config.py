"""Grading configuration: what data, which settings and what limits each part runs with.

Two profiles share one shape: ``GRADE`` (the autograder and ``make grade``; thresholds
are calibrated for it) and ``CHECK`` (the student's self-check: tiny, public tests only).
"""

import dataclasses
import math
import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE_ROOT = PACKAGE_DIR.parent
TESTS_DIR = PACKAGE_DIR / "tests"
CALIBRATION_FILE = PACKAGE_DIR / "calibration.json"
#: The secret seed of the held-out split (autograder only, never in the student bundle).
HELD_OUT_FILE = PACKAGE_DIR / "held_out.json"

#: The modules a submission holds, by part. Each is imported from the submission folder.
STUDENT_MODULES = ("normalization", "architecture", "training", "experiments", "concepts")

#: Environment variable that overrides the grading seed (used by the 20-seed check).
SEED_ENV_VAR = "TRAIN_GRADER_SEED"


@dataclasses.dataclass(frozen=True)
class Profile:
    """One grading configuration.

    Attributes
    ----------
    name : str
    n_per_class : int
        Drawings per class taken from the data source.
    n_train, n_val, n_test : int
        Split sizes. ``test`` is the held-out set: it never enters the sandbox.
    epochs, batch_size, learning_rate, optimizer
        Defaults every experiment run uses unless the experiment sweeps that knob.
    batch_sizes, learning_rates, optimizers : tuple
        The settings the sweeps of Parts 3-5 are called with.
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
    batch_sizes: tuple
    learning_rates: tuple
    optimizers: tuple
    reference_model: bool = False
    seed: int = 0
    data_seed: int = 0

    def with_seed(self, seed):
        """A copy of this profile with another training seed."""
        return dataclasses.replace(self, seed=int(seed))


GRADE = Profile(
    name="grade",
    n_per_class=400,
    n_train=2000,
    n_val=1000,
    n_test=1000,
    epochs=3,
    batch_size=32,
    learning_rate=0.001,
    optimizer="adam",
    batch_sizes=(16, 128),
    learning_rates=(1.0, 0.001),
    optimizers=("sgd", "adam", "rmsprop"),
    reference_model=True,
)

CHECK = Profile(
    name="check",
    n_per_class=60,
    n_train=300,
    n_val=150,
    n_test=150,
    epochs=2,
    batch_size=32,
    learning_rate=0.001,
    optimizer="adam",
    batch_sizes=(32, 128),
    learning_rates=(1.0, 0.001),
    optimizers=("sgd", "adam"),
)

PROFILES = {profile.name: profile for profile in (GRADE, CHECK)}


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
