"""A process that imports TensorFlow once and forks a fresh sandbox worker per grade.

``grade-all`` grades many submissions in one persistent grading process
(``grader.gradebook_pool``). Starting ``python -m grader.sandbox.worker`` for every grade
costs a TensorFlow import (about 9 s here) each time; instead, the grading process keeps
one *zygote*: a process started with the worker's clean environment that imports
TensorFlow and the worker's modules and then only forks. Each fork becomes the grade's
worker (``grader.sandbox.worker.main``) with the pipes, environment, folder and command
line the supervisor asked for, exactly as if it had been started with ``subprocess``.

What the zygote holds is what a freshly started worker holds before it reads its data:
no submission, no data, nothing secret. It never runs student code itself; the worker it
forks forks the parts as usual. It is a child subreaper (orphans of a dead worker
re-parent here and are reaped), and dies with the grading process.

Protocol on a ``SOCK_SEQPACKET`` socket (one JSON message per packet, file descriptors
by ``SCM_RIGHTS``):

* ``{"op": "spawn", "argv", "env", "cwd", "grade_pid"}`` with fds [stdin, stdout, stderr]
  -> ``{"pid": pid}`` with fds [pidfd of the new worker];
* ``{"op": "status", "pid"}`` -> ``{"status": wait status}`` (waits for that worker);
* ``{"op": "exit"}`` -> the zygote exits.
"""

import json
import os
import select
import signal
import socket
import sys
import traceback

MAX_MESSAGE = 1 << 20


def _private_tmp():
    """In the part's own mount namespace, give it empty /tmp, /var/tmp and /dev/shm.

    Two grades of a class run at the same time under different uids; a part must not
    find (or leave) files there that another grade's part can read. Root only, after the
    worker made the part's mount namespace (``oslimits.hide_paths``)."""
    from grader.sandbox import oslimits
    original = oslimits.hide_paths

    def namespace():
        try:
            return os.readlink("/proc/self/ns/mnt")
        except OSError:
            return None

    def hide_paths(hidden, keep=()):
        before = namespace()
        result = original(hidden, keep)
        if result and oslimits.is_root() and before is not None and namespace() != before:
            result = _empty_scratch(oslimits, keep) and result
        return result

    oslimits.hide_paths = hide_paths


#: Scratch folders a part gets empty (and its own) when grades run side by side.
PRIVATE_SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")


def _empty_scratch(oslimits, keep):
    """Mount an empty tmpfs on each scratch folder, putting back the ``keep`` folders
    inside it (the grade's own work folder lives in /tmp). Only ever called inside the
    part's private mount namespace."""
    ok = True
    for folder in PRIVATE_SCRATCH:
        if not os.path.isdir(folder) or os.path.islink(folder):
            continue
        kept = []
        for path in sorted({os.path.abspath(k) for k in keep if k}):
            if path != folder and path.startswith(folder + os.sep) and os.path.isdir(path):
                kept.append((path, os.open(path, os.O_PATH | os.O_DIRECTORY)))
        try:
            oslimits._mount("tmpfs", folder, "tmpfs", oslimits._MS_NOSUID | oslimits._MS_NODEV,
                            "mode=1777")
            for path, fd in kept:
                os.makedirs(path, mode=0o755, exist_ok=True)
                oslimits._mount(f"/proc/self/fd/{fd}", path, None,
                                oslimits._MS_BIND | oslimits._MS_REC)
        except OSError:
            ok = False
        finally:
            for _, fd in kept:
                os.close(fd)
    return ok


def _become_worker(request, fds, control):
    """In the forked child: turn into the grade's sandbox worker. Never returns."""
    code = 1
    try:
        control.close()
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(number, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        argv = list(request["argv"])  # [python, -s, -m, grader.sandbox.worker, args...]
        if "-m" in argv:
            argv = argv[argv.index("-m") + 1:]
        sys.argv = argv
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        from grader.sandbox import oslimits, worker
        # The worker names its sandbox uid after its parent, the grading process; here the
        # parent is the zygote, so it is told which grading process it serves.
        original = oslimits.sandbox_identity
        oslimits.sandbox_identity = (
            lambda grade_pid=None: original(request["grade_pid"]))
        if request.get("private_tmp", True):
            _private_tmp()
        code = worker.main(sys.argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - report, then exit like a failed worker
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


def serve(control):
    """Answer spawn and status requests until told to exit or the socket closes."""
    statuses = {}

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            statuses[pid] = status

    while True:
        reap()  # orphans that re-parented here, and workers that ended
        ready, _, _ = select.select([control], [], [], 0.05)
        if not ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 8)
        except InterruptedError:
            continue
        if not message:
            return 0
        request = json.loads(message)
        if request["op"] == "exit":
            return 0
        if request["op"] == "spawn":
            pid = os.fork()
            if pid == 0:
                _become_worker(request, fds, control)
            for fd in fds:
                os.close(fd)
            pidfd = os.pidfd_open(pid)
            socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
            os.close(pidfd)
        elif request["op"] == "status":
            pid = int(request["pid"])
            if pid not in statuses:
                try:
                    _, statuses[pid] = os.waitpid(pid, 0)
                except ChildProcessError:
                    statuses[pid] = 0
            control.send(json.dumps({"status": statuses.pop(pid)}).encode())


def main(argv):
    control = socket.socket(fileno=int(argv[1]))
    from grader.sandbox import oslimits
    oslimits.die_with_parent()
    oslimits.become_subreaper()
    oslimits.make_undumpable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grading process's to handle
    os.dup2(2, 1)  # nothing TensorFlow prints reaches a pipe of ours
    # What every worker imports, loaded once here (imported for their side effect).
    import numpy  # noqa: F401  # pyflakes: disable
    import tensorflow  # noqa: F401
    import keras  # noqa: F401
    from grader import probes  # noqa: F401
    from grader.sandbox import worker  # noqa: F401
    del numpy, tensorflow, keras, probes, worker
    control.send(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    return serve(control)


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no interpreter teardown with TensorFlow loaded (seconds, for nothing)
