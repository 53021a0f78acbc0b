"""The trusted side of the sandbox: prepares a private work folder, starts the worker
with a clean environment, and asks it to run each part.

The grading process never imports student code or TensorFlow; it only reads the files
each part leaves behind (see ``grader.artifacts``). It is a child subreaper too, and
kills whatever is left of the worker's process tree when it closes the worker, so even
a process that outlives a killed worker does not outlive the grade.
"""

import dataclasses
import json
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from grader import safefs
from grader.config import PACKAGE_ROOT
from grader.sandbox import locks, oslimits

_WORKER_START_SECONDS = 120.0
#: How long past a part's wall-time limit the grader waits for the worker's answer.
_REPLY_GRACE_SECONDS = 20.0


class WorkerError(RuntimeError):
    """The grading worker could not start (not a problem with the submission)."""


@dataclasses.dataclass
class PartOutcome:
    """How one part's process ended, as the worker saw it."""

    part: str
    outdir: str
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    output_exceeded: bool = False
    disk_exceeded: bool = False
    cpu_exceeded: bool = False
    wall_limit_seconds: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_private_mb: float = 0.0
    memory_counted_by: str = ""
    leftover_processes_killed: int = 0
    leftover_files_removed: dict | None = None
    output: str = ""
    output_bytes: int = 0
    isolation: dict | None = None
    worker_error: str | None = None
    limits: object = None

    @property
    def abnormal(self):
        """True when the part's process did not end by itself with exit code 0."""
        return self.problem() is not None

    def problem(self):
        """A sentence for the student when the process did not end normally, else None."""
        limits = self.limits
        if self.worker_error:
            return self.worker_error
        if self.timed_out:
            return (f"the part ran out of time (its limit is {self.wall_limit_seconds:g} s) and was "
                    "stopped: look for an infinite loop, a wait for input, or far more training "
                    "than asked for")
        if self.memory_exceeded:
            limit = f" ({limits.memory_mb} MB)" if limits else ""
            return (f"the part used more memory than allowed{limit} and was stopped: look for "
                    "very large arrays, or data copied again and again")
        if self.output_exceeded:
            return ("the part printed far too much output and was stopped: remove print() calls "
                    "inside loops (training progress is in the TensorBoard logs)")
        if self.disk_exceeded:
            return ("the part wrote too much to disk and was stopped: write only the "
                    "TensorBoard logs asked for")
        if self.cpu_exceeded:
            limit = f" ({limits.cpu_seconds} s)" if limits else ""
            return (f"the part used more CPU time than allowed{limit} and was stopped: look for "
                    "an infinite loop or far more training than asked for")
        if self.signal is not None:
            name = oslimits.describe_signal(self.signal)
            if self.signal == signal.SIGKILL:
                return (f"the part's process was killed ({name}): by your code, or because it "
                        "ran out of memory")
            return f"the part's process crashed or was killed by {name}"
        if self.exit_code == 70:
            return ("the grader's code failed while running this part (exit code 70); if your "
                    "code does not change the grader, please tell the course staff")
        if self.exit_code not in (0, None):
            return (f"the part's process exited with code {self.exit_code} before finishing: "
                    "does your code call os._exit() or exit the interpreter?")
        return None


class Worker:
    """Context manager around one sandbox worker process.

    Parameters
    ----------
    data : dict of str to np.ndarray
        What the sandbox may see (never the held-out split).
    submission_dir : str
        The staged submission; copied into a private work folder.
    profile : grader.config.Profile
    limits : grader.config.Limits
    workdir : str, optional
    hidden_paths : sequence of str
        Folders and files the parts must not see (hidden in a mount namespace when the
        grader is root and the container allows it).
    deadline : float, optional
        ``time.monotonic()`` value by which everything must be done: part wall-time
        limits and waits are shortened to fit.
    """

    def __init__(self, data, submission_dir, profile, limits, workdir=None, hidden_paths=(),
                 deadline=None):
        self.limits = limits
        self.profile = profile
        self.deadline = deadline if deadline is not None else math.inf
        self.identity = oslimits.sandbox_identity()
        # A hidden path that is a symbolic link is hidden at its target too (a bind mount or
        # chmod on the link itself would miss the folder it points to).
        self.hidden_paths = sorted({q for p in hidden_paths if p
                                    for q in (os.path.abspath(p), os.path.realpath(p))})
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="train-grader-")
        self.submission_dir = os.path.join(self.workdir, "submission")
        shutil.copytree(submission_dir, self.submission_dir)
        self.data_path = os.path.join(self.workdir, "data.npz")
        np.savez(self.data_path, **data)
        self._share_with_sandbox(self.workdir)
        self.log_path = os.path.join(self.workdir, "worker.log")
        self.process = None
        self.worker_pid = None
        self._children_before = set()

    def _share_with_sandbox(self, path):
        """Let the sandbox user read the submission and data, and nobody else: as root the
        work folder belongs to the grade's own sandbox group (0750/0640), so the parts of
        another grade running at the same time cannot read this submission."""
        group = self.identity[1] if self.identity is not None else None
        dir_mode, file_mode = (0o750, 0o640) if group is not None else (0o755, 0o644)
        for root, dirs, files in os.walk(path):
            for name in [root] + [os.path.join(root, d) for d in dirs]:
                os.chmod(name, dir_mode)
                if group is not None:
                    os.lchown(name, 0, group)
            for name in files:
                os.chmod(os.path.join(root, name), file_mode)
                if group is not None:
                    os.lchown(os.path.join(root, name), 0, group)

    def remaining(self):
        return self.deadline - time.monotonic()

    def __enter__(self):
        environment = {
            "PATH": "/usr/bin:/bin",
            "HOME": self.workdir,
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "TF_DETERMINISTIC_OPS": "1",
            "TF_ENABLE_ONEDNN_OPTS": "0",
            # glibc's per-thread malloc arenas: 2 instead of 8 per core keeps 12-16 MB less
            # of a training process resident (same numbers; bench/cgroup_grade.py)
            "MALLOC_ARENA_MAX": "2",
            "PYTHONPATH": str(PACKAGE_ROOT),
        }
        for name in ("TRAIN_GRADER_MAX_OUTPUT_MB", "TRAIN_GRADER_MAX_DISK_MB", "TRAIN_GRADER_ASSIGNMENT"):
            if os.environ.get(name):
                environment[name] = os.environ[name]
        if self.identity is not None:  # hidden files stay out of reach without namespaces too
            locks.lock_paths(self.hidden_paths, keep=_interpreter_paths() + [self.workdir])
        oslimits.make_undumpable()  # same-user parts cannot reach our pipes via /proc
        oslimits.become_subreaper()
        self._children_before = set(oslimits.children_map().get(os.getpid(), []))
        sandbox = {"hidden": self.hidden_paths, "keep": _interpreter_paths() + [self.workdir],
                   # Emulates a container without namespaces (tests, diagnosis).
                   "no_namespaces": os.environ.get("TRAIN_GRADER_NO_NAMESPACES") == "1",
                   # Counts memory without a cgroup of the part's own (tests, diagnosis).
                   "no_cgroup": os.environ.get("TRAIN_GRADER_NO_CGROUP") == "1"}
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-s", "-m", "grader.sandbox.worker", self.data_path,
                 json.dumps(dataclasses.asdict(self.limits)), json.dumps(sandbox)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                cwd=self.workdir, env=environment, text=True, bufsize=1, start_new_session=True)
        finally:
            os.close(log)
        ready = self._read_reply(min(_WORKER_START_SECONDS, max(self.remaining(), 1.0)))
        if not ready or not ready.get("ready"):
            log = self.log_tail()
            self.__exit__(None, None, None)  # __exit__ is not called when __enter__ raises
            raise WorkerError("the grading worker did not start (TensorFlow import failed or "
                              f"timed out); its log ends with:\n{log}")
        self.worker_pid = ready.get("pid")
        return self

    def log_tail(self, limit=2000):
        """The end of the worker's own log (for the course staff, not the student)."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - limit))
                return handle.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _read_reply(self, timeout):
        stream = self.process.stdout
        ready, _, _ = select.select([stream], [], [], max(timeout, 0.0))
        if not ready:
            return None
        line = stream.readline()
        try:
            return json.loads(line) if line else None
        except ValueError:
            return None

    def run_part(self, part, wall_seconds=None, inputs=None):
        """Run one part in a fresh sandboxed child; returns its ``PartOutcome``.

        ``wall_seconds`` shortens the part's wall-time limit (to fit the whole grade's budget);
        ``inputs`` (JSON-able) is what the trusted side tells the part's probes
        (``grader.parts.Part.inputs``).
        """
        outdir = os.path.join(self.workdir, "parts", part)
        os.makedirs(outdir)
        if self.identity is not None:
            os.chown(os.path.dirname(outdir), 0, self.identity[1])
            os.chmod(os.path.dirname(outdir), 0o750)
        else:
            os.chmod(os.path.dirname(outdir), 0o755)
        if self.identity is not None:
            os.chown(outdir, *self.identity)
        wall = min(self.limits.wall_seconds, wall_seconds or math.inf)
        request = {"part": part, "outdir": outdir, "submission": self.submission_dir,
                   "profile": dataclasses.asdict(self.profile),
                   "reference_model": self.profile.reference_model, "wall_seconds": wall,
                   "inputs": inputs or {}}
        outcome = PartOutcome(part=part, outdir=outdir, wall_limit_seconds=wall, limits=self.limits)
        if self.process is None or self.process.poll() is not None:
            outcome.worker_error = f"not run: the grading worker is not running{self._ended()}"
            return outcome
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError:
            outcome.worker_error = f"not run: the grading worker is not running{self._ended()}"
            return outcome
        reply = self._read_reply(wall + _REPLY_GRACE_SECONDS)
        if reply is None:  # the worker died (EOF) or hung: a grader failure, not the part's
            try:
                died = self.process.wait(timeout=1) is not None
            except subprocess.TimeoutExpired:
                died = False
            outcome.worker_error = ("the grading worker " + ("died" if died else "stopped answering")
                                    + f" while running this part{self._ended()}")
            self.close()
            return outcome
        for field in dataclasses.fields(PartOutcome):
            if field.name in reply and field.name not in ("part", "outdir", "limits"):
                setattr(outcome, field.name, reply[field.name])
        if self.identity is not None:
            _take_back(outdir)
        return outcome

    def replay(self, jobs_dir, wall_seconds):
        """Have the worker replay the training jobs in ``jobs_dir`` (see
        ``grader.sandbox.replayer``) in a child that never runs student code.

        Raises WorkerError when the worker is gone or the replay did not finish: the
        evidence for the student's runs could not be made, which is not their fault.
        """
        if self.process is None or self.process.poll() is not None:
            raise WorkerError("the grading worker stopped before it could replay the runs")
        request = {"replay": jobs_dir, "wall_seconds": wall_seconds}
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except OSError:
            raise WorkerError("the grading worker stopped before it could replay the runs") from None
        reply = self._read_reply(wall_seconds + _REPLY_GRACE_SECONDS)
        if reply is None:
            self.close()
            raise WorkerError("the grading worker stopped answering while replaying runs")
        if not reply.get("replayed"):
            raise WorkerError(f"the replay of the training runs failed: {reply.get('problem')}; "
                              f"worker log:\n{self.log_tail()}")
        return reply

    def close(self):
        """Stop the worker and kill anything left of its process tree."""
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.process is not None:
            for kill in (lambda: os.killpg(self.process.pid, signal.SIGKILL),
                         lambda: self.process.kill()):
                try:
                    kill()
                except (ProcessLookupError, PermissionError):
                    pass
            self.process.wait()
            self.process.stdout.close()
        # Orphans of a dead worker re-parent to us (a subreaper): kill them too, but
        # leave alone the children this process had before the worker started.
        oslimits.kill_descendants(os.getpid(), exclude=self._children_before)

    def _ended(self):
        """How the worker process ended, for a message: '' while it runs."""
        code = self.process.poll() if self.process is not None else None
        if code is None:
            return ""
        return f" (it was killed by {oslimits.describe_signal(-code)})" if code < 0 \
            else f" (it exited with code {code})"

    def __exit__(self, *exc_info):
        self.close()
        # The parts' folders are untrusted trees (any depth, links): never shutil.rmtree.
        if self._own_workdir and not safefs.remove_tree(self.workdir):
            print(f"warning: could not remove the work folder {self.workdir}", file=sys.stderr)
        return False


def _take_back(outdir):
    """Give a finished part's folder back to root, so later parts can neither add to it
    nor read it (the part's records and saved arrays stay the grader's: a later part
    could otherwise load an earlier part's trained weights and claim them as its own)."""
    os.lchown(outdir, 0, 0)
    os.chmod(outdir, 0o700)


def _interpreter_paths():
    """Folders the sandboxed parts need even when they lie inside a hidden folder."""
    paths = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    return sorted(p for p in paths if p and p != os.sep)
