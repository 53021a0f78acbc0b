"""Persistent grading processes for ``grade-all``: one grade at a time each, many grades
per process, TensorFlow imported once per process.

A *grading process* (``python -m grader.gradebook_pool``) reads one JSON task per line on
stdin and answers one JSON line (``{"record": ...}``) per task. It grades with
``engine.grade`` as a single grade does (same sandbox, same per-part limits), with one
difference: the sandbox worker of each grade is forked from the process's zygote
(``grader.gradebook_zygote``), which imported TensorFlow once, instead of being started
from scratch. Each grading process has its own sandbox uid (the engine derives it from
the grading process's id), and after every grade every process of that uid is killed
and every file it owns in /tmp, /var/tmp, /dev/shm, /run/lock and /dev/mqueue removed.

``GradingProcess`` is the parent's handle on one such process (the local pool and every
Dask worker use it); ``dask_grade`` is the task a Dask worker runs.
"""

import base64
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import traceback

from grader.config import PACKAGE_ROOT

#: Seconds a grade may take past the engine's own budget before its process is stopped.
GRADE_MARGIN_SECONDS = 90.0
#: Seconds a grading process may take to start (imports, zygote's TensorFlow import).
START_SECONDS = 180.0


# ------------------------------------------------------------ the worker, forked from a zygote

class Zygote:
    """The grading process's handle on its zygote (see ``grader.gradebook_zygote``)."""

    def __init__(self, env):
        self.env = dict(env)
        self.home = tempfile.mkdtemp(prefix="train-zygote-")
        os.chmod(self.home, 0o755)
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        zygote_env = dict(self.env, HOME=self.home)
        self.log = open(os.path.join(self.home, "zygote.log"), "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-m", "grader.gradebook_zygote", str(child.fileno())],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, pass_fds=[child.fileno()],
            cwd=self.home, env=zygote_env, start_new_session=True)
        child.close()
        self.control = parent
        self.control.settimeout(START_SECONDS)
        try:
            ready = json.loads(self.control.recv(65536) or b"{}")
        except (OSError, ValueError):
            ready = {}
        if not ready.get("ready"):
            self.close()
            raise RuntimeError("the zygote did not start")
        self.control.settimeout(None)
        self.pid = self.process.pid

    def alive(self):
        return self.process.poll() is None

    def spawn(self, argv, env, cwd, fds, grade_pid):
        request = {"op": "spawn", "argv": list(argv), "env": dict(env), "cwd": cwd,
                   "grade_pid": grade_pid}
        socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
        message, received, _, _ = socket.recv_fds(self.control, 65536, 1)
        return json.loads(message)["pid"], received[0]

    def status(self, pid):
        self.control.send(json.dumps({"op": "status", "pid": pid}).encode())
        return json.loads(self.control.recv(65536))["status"]

    def close(self):
        try:
            self.control.send(json.dumps({"op": "exit"}).encode())
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.control.close()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


class ZygotePopen:
    """The part of ``subprocess.Popen`` that ``supervisor.Worker`` uses, for a worker
    forked by the zygote."""

    def __init__(self, zygote, args, *, stdin, stdout, stderr, cwd, env, text=True, bufsize=1,
                 start_new_session=True):
        self.args = args
        self.returncode = None
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        try:
            self.pid, self.pidfd = zygote.spawn(args, env, cwd, [stdin_read, stdout_write, stderr],
                                                os.getpid())
        finally:
            os.close(stdin_read)
            os.close(stdout_write)
        self.zygote = zygote
        self.stdin = open(stdin_write, "w", buffering=1)
        self.stdout = open(stdout_read, "r")

    def poll(self):
        if self.returncode is None:
            ready, _, _ = select.select([self.pidfd], [], [], 0)
            if ready:
                self._collect()
        return self.returncode

    def _collect(self):
        status = self.zygote.status(self.pid)
        self.returncode = (-os.WTERMSIG(status) if os.WIFSIGNALED(status)
                           else os.WEXITSTATUS(status))
        os.close(self.pidfd)
        self.pidfd = None

    def wait(self, timeout=None):
        if self.returncode is None:
            ready, _, _ = select.select([self.pidfd], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._collect()
        return self.returncode

    def kill(self):
        if self.returncode is None:
            os.kill(self.pid, signal.SIGKILL)

    def send_signal(self, number):
        if self.returncode is None:
            os.kill(self.pid, number)


def _pooled_worker_class():
    """``supervisor.Worker`` whose worker process is forked from this process's zygote.

    Everything else (work folder, permissions, locks, limits, the ready handshake,
    closing and killing) is the supervisor's own code: only its ``subprocess.Popen``
    call is answered by the zygote."""
    from grader.sandbox import oslimits, supervisor

    class _Subprocess:
        """``subprocess`` as the supervisor module sees it while a pooled worker starts."""

        def __getattr__(self, name):
            return getattr(subprocess, name)

        def Popen(self, args, **kwargs):  # noqa: N802 - the name the supervisor calls
            # One zygote per environment the worker is started with (HOME is the grade's).
            env = {k: v for k, v in kwargs["env"].items() if k != "HOME"}
            return ZygotePopen(_zygote_for(env), args, **kwargs)

    class PooledWorker(supervisor.Worker):
        def __enter__(self):
            started_with = supervisor.subprocess
            supervisor.subprocess = _Subprocess()
            try:
                return super().__enter__()
            finally:
                supervisor.subprocess = started_with

        def close(self):
            zygote = _ZYGOTE.get("zygote")
            if zygote is not None:  # the zygote outlives the grade
                self._children_before = set(self._children_before) | {zygote.pid}
            super().close()
            if zygote is not None:  # orphans that re-parented to the zygote, and the uid's
                oslimits.kill_descendants(zygote.pid, identity=self.identity)

    return PooledWorker


_ZYGOTE = {}


def _zygote_for(env):
    zygote = _ZYGOTE.get("zygote")
    if zygote is not None and (zygote.env != env or not zygote.alive()):
        zygote.close()
        zygote = None
    if zygote is None:
        zygote = _ZYGOTE["zygote"] = Zygote(env)
    return zygote


def close_zygote():
    zygote = _ZYGOTE.pop("zygote", None)
    if zygote is not None:
        zygote.close()


def use_pooled_workers():
    """Make ``engine.grade`` in this process fork its workers from a zygote. Returns
    False (and changes nothing) when the engine has no ``Worker`` to replace."""
    from grader import engine
    if not hasattr(engine, "Worker"):
        return False
    engine.Worker = _pooled_worker_class()
    return True


# ------------------------------------------------------------------ one grade, in this process

def grade_task(task):
    """Grade one task (see ``grader.gradebook.make_task``) in this process; returns the
    record ``grader.gradebook.record_from_report`` makes. Never raises an Exception."""
    from grader import gradebook
    started = time.monotonic()
    staged = None
    try:
        path = task.get("path")
        if task.get("payload") is not None:  # sent over the network: rebuilt privately
            staged = tempfile.mkdtemp(prefix="train-gradebook-")
            path = unpack_payload(base64.b64decode(task["payload"]), task["payload_kind"], staged,
                                  task["name"])
        return gradebook.grade_one(task, path)
    except BaseException as error:  # noqa: BLE001 - one submission must not lose the gradebook
        traceback.print_exc()
        if isinstance(error, KeyboardInterrupt):
            raise
        return gradebook.failure_record(task, f"{type(error).__name__}: {error}",
                                        time.monotonic() - started)
    finally:
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        _clean_after_grade()


#: True in a grading process of its own (``serve``): its descendants are all the grade's.
_DEDICATED = {"process": False}


def _clean_after_grade():
    """Nothing of this process's sandbox uid outlives a grade: processes and files."""
    from grader.sandbox import oslimits, scratch
    identity = oslimits.sandbox_identity()
    if identity is not None:
        if _DEDICATED["process"]:
            oslimits.kill_descendants(os.getpid(), identity=identity,
                                      exclude={z.pid for z in _ZYGOTE.values()})
        scratch.clean(identity[0])


def pack_payload(path):
    """``(bytes, kind)`` of a submission to send to another machine: a zip as it is, a
    folder as an uncompressed tar (regular files, folders and symbolic links as they are)."""
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            return handle.read(), "zip"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        bundle.add(path, arcname=".", recursive=True,
                   filter=lambda info: info if (info.isfile() or info.isdir() or info.issym())
                   else None)
    return buffer.getvalue(), "tar"


def unpack_payload(payload, kind, folder, name):
    """Write a payload of ``pack_payload`` under ``folder``; returns the submission's path."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "submission"
    if kind == "zip":
        target = os.path.join(folder, safe + ".zip")
        with open(target, "wb") as handle:
            handle.write(payload)
        return target
    target = os.path.join(folder, safe)
    os.makedirs(target)
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r") as bundle:
        for member in bundle.getmembers():
            relative = os.path.normpath(member.name)
            if relative.startswith(("..", "/")) or relative == ".":
                continue
            destination = os.path.join(target, relative)
            parent = os.path.realpath(os.path.dirname(destination))
            if parent != os.path.realpath(target) and \
                    not parent.startswith(os.path.realpath(target) + os.sep):
                continue  # below a symbolic link: never written through it
            if os.path.lexists(destination):
                continue
            if member.isdir():
                os.makedirs(destination, exist_ok=True)
            elif member.issym():
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                os.symlink(member.linkname, destination)  # never followed here
            elif member.isfile():
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                source = bundle.extractfile(member)
                with open(destination, "xb") as handle:
                    shutil.copyfileobj(source, handle)
    return target


# ------------------------------------------------------------ the grading process's main loop

def serve(stdin, reply):
    """Grade the tasks read from ``stdin`` (one JSON line each) until it closes."""
    from grader import engine
    _DEDICATED["process"] = True
    pooled = use_pooled_workers()
    reply.write(json.dumps({"ready": True, "pid": os.getpid(), "pooled": pooled}) + "\n")
    reply.flush()
    for line in stdin:
        task = json.loads(line)
        budget = engine.total_seconds() + GRADE_MARGIN_SECONDS / 2
        signal.alarm(int(budget))
        try:
            record = grade_task(task)
        finally:
            signal.alarm(0)
        reply.write(json.dumps({"record": record}, allow_nan=False) + "\n")
        reply.flush()
    return 0


class _Stop(BaseException):
    """The grading process was told to stop (SIGTERM) or ran past its time (SIGALRM)."""


def _on_signal(number, frame):
    raise _Stop("the grade took longer than its time budget" if number == signal.SIGALRM
                else f"the grading process was stopped ({signal.Signals(number).name})")


def main():
    reply = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints must not reach the reply channel
    from grader.sandbox import oslimits
    oslimits.die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGALRM, _on_signal)
    try:
        return serve(sys.stdin, reply)
    except _Stop:
        return 3
    finally:
        close_zygote()


class GradingProcess:
    """The parent's handle on one grading process (``python -m grader.gradebook_pool``).

    ``cpus``: CPUs to pin it to (its workers then size TensorFlow's thread pools to them).
    """

    def __init__(self, cpus=None, wait=True):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH"))
                                            if p)
        preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "grader.gradebook_pool"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, cwd=str(PACKAGE_ROOT), env=env, text=True, bufsize=1,
            start_new_session=True, preexec_fn=preexec)
        self.task = None
        self.started = None
        self.pooled = None
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Wait for the process's greeting (it has imported the engine)."""
        hello = self._read(START_SECONDS)
        if not hello or not hello.get("ready"):
            self.stop()
            raise RuntimeError("a grading process did not start")
        self.pooled = hello.get("pooled")
        return self

    def fileno(self):
        return self.process.stdout.fileno()

    def _read(self, timeout):
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.process.stdout.readline()
        try:
            return json.loads(line) if line else None
        except ValueError:
            return None

    def send(self, task):
        self.task, self.started = task, time.monotonic()
        self.process.stdin.write(json.dumps(task) + "\n")
        self.process.stdin.flush()

    def receive(self):
        """The record of the task sent, once readable; None when the process died."""
        answer = self._read(0)
        self.task = None
        return answer.get("record") if answer else None

    def overdue(self, budget):
        return self.task is not None and time.monotonic() - self.started > budget

    def alive(self):
        return self.process.poll() is None

    def stop(self, grace=15.0):
        """Stop the process: SIGTERM (it closes its grade's sandbox), then SIGKILL."""
        if self.process.poll() is None:
            try:
                self.process.stdin.close()
            except OSError:
                pass
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()
        self.process.stdout.close()

    def grade(self, task, timeout):
        """Send ``task`` and wait for its record (None: the process died or timed out)."""
        self.send(task)
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            return None
        return self.receive()


# ----------------------------------------------------------------------------------- Dask

_DASK = {"lock": threading.Lock(), "process": None}


def dask_grade(task):
    """A Dask task: grade ``task`` (with its payload) in this Dask worker's own persistent
    grading process, and return its record. Grades of one Dask worker run one at a time."""
    from grader import engine, gradebook
    with _DASK["lock"]:
        fingerprint = gradebook.grader_fingerprint(task["options"])
        if fingerprint != task["fingerprint"]:
            return gradebook.failure_record(
                task, "this Dask worker has another version of the grader, its calibration or "
                "its packages than the machine that sent the work (fingerprint "
                f"{fingerprint[:12]} vs {task['fingerprint'][:12]}); install the same checkout "
                "on every worker", 0.0)
        process = _DASK["process"]
        if process is None or not process.alive():
            process = _DASK["process"] = GradingProcess()
        started = time.monotonic()
        record = process.grade(task, engine.total_seconds() + GRADE_MARGIN_SECONDS)
        if record is None:
            process.stop()
            _DASK["process"] = None
            record = gradebook.failure_record(
                task, "the grading process died or stopped answering", time.monotonic() - started)
        record["worker"] = f"dask:{socket.gethostname()}:{os.getpid()}"
        return record


if __name__ == "__main__":
    raise SystemExit(main())
