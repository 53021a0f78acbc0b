"""The trusted side of the sandbox: prepares a private work folder, starts the worker
with a clean environment, and asks it to run each part.

The grading process never imports student code or TensorFlow; it only reads the files
each part leaves behind (see ``grader.artifacts``).
"""

import dataclasses
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from grader.config import PACKAGE_ROOT
from grader.sandbox import oslimits

_WORKER_START_SECONDS = 120.0


@dataclasses.dataclass
class PartOutcome:
    """How one part's process ended, as the worker saw it."""

    part: str
    outdir: str
    exit_code: int | None = None
    signal: int | None = None
    timed_out: bool = False
    memory_exceeded: bool = False
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_private_mb: float = 0.0
    leftover_processes_killed: int = 0
    output: str = ""
    output_bytes: int = 0
    worker_error: str | None = None

    def problem(self):
        """A sentence for the student when the process did not end normally, else None."""
        if self.worker_error:
            return self.worker_error
        if self.timed_out:
            return ("the part ran out of time and was stopped: look for an infinite loop, "
                    "a wait for input, or far more training than asked for")
        if self.memory_exceeded:
            return "the part used more memory than allowed and was stopped"
        if self.signal is not None:
            return f"the part's process was killed by signal {self.signal}"
        if self.exit_code not in (0, None):
            return f"the part's process exited with code {self.exit_code} before finishing"
        return None


class Worker:
    """Context manager around one sandbox worker process."""

    def __init__(self, data, submission_dir, profile, limits, workdir=None):
        self.limits = limits
        self.profile = profile
        self.identity = oslimits.sandbox_identity()
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="train-grader-")
        self.submission_dir = os.path.join(self.workdir, "submission")
        shutil.copytree(submission_dir, self.submission_dir)
        self.data_path = os.path.join(self.workdir, "data.npz")
        np.savez(self.data_path, **data)
        self._share_with_sandbox(self.workdir)
        self.process = None

    def _share_with_sandbox(self, path):
        """Let the sandbox user read the submission and data (and nothing else of ours)."""
        os.chmod(self.workdir, 0o755)
        for root, dirs, files in os.walk(path):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
            for name in files:
                os.chmod(os.path.join(root, name), 0o644)

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
            "PYTHONPATH": str(PACKAGE_ROOT),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-m", "grader.sandbox.worker", self.data_path,
             json.dumps(dataclasses.asdict(self.limits))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self.workdir, env=environment, text=True, bufsize=1, start_new_session=True)
        ready = self._read_reply(_WORKER_START_SECONDS)
        if not ready or not ready.get("ready"):
            raise RuntimeError("the grading worker did not start (TensorFlow import failed?)")
        return self

    def _read_reply(self, timeout):
        stream = self.process.stdout
        ready, _, _ = select.select([stream], [], [], timeout)
        if not ready:
            return None
        line = stream.readline()
        return json.loads(line) if line else None

    def run_part(self, part):
        """Run one part in a fresh sandboxed child; returns its ``PartOutcome``."""
        outdir = os.path.join(self.workdir, "parts", part)
        os.makedirs(outdir)
        os.chmod(os.path.dirname(outdir), 0o755)
        if self.identity is not None:
            os.chown(outdir, *self.identity)
        request = {"part": part, "outdir": outdir, "submission": self.submission_dir,
                   "profile": dataclasses.asdict(self.profile),
                   "reference_model": self.profile.reference_model}
        outcome = PartOutcome(part=part, outdir=outdir)
        if self.process.poll() is not None:
            outcome.worker_error = "the grading worker is not running"
            return outcome
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = self._read_reply(self.limits.wall_seconds + 60)
        if reply is None:
            outcome.worker_error = "the grading worker stopped answering"
            self.close()
            return outcome
        for field in dataclasses.fields(PartOutcome):
            if field.name in reply and field.name not in ("part", "outdir"):
                setattr(outcome, field.name, reply[field.name])
        return outcome

    def close(self):
        if self.process is not None and self.process.poll() is None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        if self.process is not None:
            for stream in (self.process.stdout,):
                stream.close()

    def __exit__(self, *exc_info):
        self.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        return False
