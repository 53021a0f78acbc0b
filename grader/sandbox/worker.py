"""The sandbox worker: imports TensorFlow once, then forks one limited child per part.

Started by ``supervisor.Worker`` as ``python -m grader.sandbox.worker WORKDIR``. It
reads one JSON request per line on stdin (``{"part": ..., "outdir": ...}``), runs the
part in a forked child with the limits applied, and answers one JSON line on its
original stdout. Student code never runs in this process itself, only in its children.
"""

import json
import os
import select
import signal
import sys
import time

from grader.config import Limits
from grader.sandbox import oslimits

_POLL_SECONDS = 0.05
_MEMORY_POLL_SECONDS = 0.2


class OutputTail:
    """Keeps the first and last bytes of a stream, and counts the rest."""

    def __init__(self, keep_bytes):
        self.keep = keep_bytes
        self.head = b""
        self.tail = b""
        self.total = 0

    def add(self, chunk):
        self.total += len(chunk)
        if len(self.head) < self.keep // 4:
            room = self.keep // 4 - len(self.head)
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail = (self.tail + chunk)[-self.keep:]

    def text(self):
        shown = len(self.head) + len(self.tail)
        middle = f"\n[... {self.total - shown} bytes of output not shown ...]\n" \
            if self.total > shown else ""
        return (self.head + middle.encode() + self.tail).decode("utf-8", "replace")


def _run_child(request, data, output_write, control_fds, limits, identity):
    """Body of the forked child: isolate, then run the part's probes. Never returns."""
    try:
        os.setsid()
        for fd in control_fds:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(output_write, 1)
        os.dup2(output_write, 2)
        os.close(output_write)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        oslimits.die_with_parent()
        oslimits.leave_network()
        outdir = request["outdir"]
        os.chdir(outdir)
        oslimits.apply_rlimits(limits, dedicated_user=identity is not None)
        if identity is not None:
            oslimits.drop_privileges(identity)
        os.environ["HOME"] = outdir
        from grader import probes
        probes.run_part(request["part"], data, request)
    except BaseException:  # the probes report student errors themselves; this is ours
        import traceback
        traceback.print_exc()
        os._exit(70)
    os._exit(0)


def _supervise(pid, output_read, limits, started):
    """Wait for the part's child, streaming its output and enforcing wall and memory limits."""
    tail = OutputTail(limits.output_kb * 1024)
    verdict = {"timed_out": False, "memory_exceeded": False}
    status = None
    next_memory_check = 0.0
    peak_private = 0
    stream_open = True
    while status is None:
        if stream_open:
            ready, _, _ = select.select([output_read], [], [], _POLL_SECONDS)
            if ready:
                chunk = os.read(output_read, 65536)
                if chunk:
                    tail.add(chunk)
                else:
                    stream_open = False
        else:
            time.sleep(_POLL_SECONDS)
        done, raw_status = os.waitpid(pid, os.WNOHANG)
        if done:
            status = raw_status
            break
        now = time.monotonic()
        if now - started > limits.wall_seconds:
            verdict["timed_out"] = True
        elif now >= next_memory_check:
            next_memory_check = now + _MEMORY_POLL_SECONDS
            private = sum(oslimits.private_memory_bytes(p) for p in [pid] + oslimits.descendants(pid))
            peak_private = max(peak_private, private)
            if private > limits.memory_mb * 1024 * 1024:
                verdict["memory_exceeded"] = True
        if verdict["timed_out"] or verdict["memory_exceeded"]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
    return status, tail, verdict, peak_private


def run_request(request, data, control_fds, limits, identity):
    """Fork, run one part, clean up every process it left, and describe what happened."""
    output_read, output_write = os.pipe()
    started = time.monotonic()
    cpu_before = os.times()
    pid = os.fork()
    if pid == 0:
        os.close(output_read)
        _run_child(request, data, output_write, control_fds, limits, identity)
    os.close(output_write)
    status, tail, verdict, peak_private = _supervise(pid, output_read, limits, started)
    leftovers = oslimits.kill_descendants(os.getpid(), identity=identity)
    while True:  # drain what the killed processes wrote
        ready, _, _ = select.select([output_read], [], [], 0)
        if not ready:
            break
        chunk = os.read(output_read, 65536)
        if not chunk:
            break
        tail.add(chunk)
    os.close(output_read)
    cpu_after = os.times()
    return {
        "part": request["part"],
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": verdict["timed_out"],
        "memory_exceeded": verdict["memory_exceeded"],
        "wall_seconds": round(time.monotonic() - started, 3),
        "cpu_seconds": round((cpu_after.children_user + cpu_after.children_system)
                             - (cpu_before.children_user + cpu_before.children_system), 3),
        "peak_private_mb": round(peak_private / 2**20, 1),
        "leftover_processes_killed": leftovers,
        "output": tail.text(),
        "output_bytes": tail.total,
    }


def main(argv):
    """Serve part requests until stdin closes."""
    data_path, limits_json = argv[1], argv[2]
    limits = Limits(**json.loads(limits_json))
    control_in = sys.stdin.fileno()
    control_out = os.dup(1)
    os.dup2(2, 1)  # anything TensorFlow prints must not reach the control channel
    reply_stream = os.fdopen(control_out, "w", buffering=1)
    oslimits.become_subreaper()
    oslimits.die_with_parent()
    identity = oslimits.sandbox_identity(os.getppid())

    import numpy as np
    with np.load(data_path, allow_pickle=False) as archive:
        data = {name: archive[name] for name in archive.files}
    from grader import probes
    probes.prepare_worker()
    reply_stream.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        reply = run_request(request, data, (control_in, control_out), limits, identity)
        reply_stream.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
