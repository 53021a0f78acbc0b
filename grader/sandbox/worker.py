"""The sandbox worker: imports TensorFlow once, then forks one limited child per part.

Started by ``supervisor.Worker`` as ``python -m grader.sandbox.worker DATA LIMITS SANDBOX``.
It reads one JSON request per line on stdin (``{"part": ..., "outdir": ...}``), runs the
part in a forked child with the limits applied, and answers one JSON line on its
original stdout. Student code never runs in this process itself, only in its children.

A part's child, before any student code runs: starts its own session, reads stdin from
/dev/null and writes to a pipe this process drains (keeping only a capped tail), leaves
the network and hides the grader's folders (root only, in its own namespaces), limits
its CPU time, address space, file sizes, open files and processes, switches to the
sandbox user (root only), and reports which of these took effect. This process watches
its wall time, the private memory of its whole process tree and the amount of output,
and when the part ends kills every process it left behind (it is a child subreaper, so
processes that ``setsid()`` or double-fork are still its descendants).
"""

import json
import math
import os
import select
import signal
import sys
import time

from grader.config import PART_MEMORY_MB, Limits
from grader.sandbox import cgroup, oslimits, replayer, scratch

_POLL_SECONDS = 0.05
_MEMORY_POLL_SECONDS = 0.1
#: A part that prints more than this many MB is stopped (TRAIN_GRADER_MAX_OUTPUT_MB).
DEFAULT_MAX_OUTPUT_MB = 32
#: A part that fills the disk by more than this many MB is stopped (TRAIN_GRADER_MAX_DISK_MB).
DEFAULT_MAX_DISK_MB = 1024


class OutputTail:
    """Keeps the first quarter and the last three quarters of ``keep_bytes`` of a
    stream, and counts the rest."""

    def __init__(self, keep_bytes):
        self.head_bytes = keep_bytes // 4
        self.tail_bytes = keep_bytes - self.head_bytes
        self.head = b""
        self.tail = b""
        self.total = 0

    def add(self, chunk):
        self.total += len(chunk)
        if len(self.head) < self.head_bytes:
            room = self.head_bytes - len(self.head)
            self.head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self.tail = (self.tail + chunk[-self.tail_bytes:])[-self.tail_bytes:]

    def text(self):
        shown = len(self.head) + len(self.tail)
        middle = f"\n[... {self.total - shown} bytes of output not shown ...]\n" \
            if self.total > shown else ""
        return (self.head + middle.encode() + self.tail).decode("utf-8", "replace")


def _run_child(request, data, output_write, status_write, control_fds, limits, identity, sandbox,
               meter=None):
    """Body of the forked child: isolate, then run the part's probes. Never returns."""
    try:
        if isinstance(meter, cgroup.PartCgroup):
            meter.join()  # first: every page this process touches from now on is the part's
        os.setsid()
        for fd in control_fds:
            os.close(fd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        if devnull != 0:
            os.dup2(devnull, 0)
            os.close(devnull)
        os.dup2(output_write, 1)
        os.dup2(output_write, 2)
        os.close(output_write)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = open(2, "w", buffering=1, closefd=False, errors="replace")
        from grader import probes
        probes.preload(request["part"], request)  # grader-only files, before they are hidden
        isolation = oslimits.Isolation()
        isolation.no_new_privileges = oslimits.forbid_new_privileges()
        if not sandbox.get("no_namespaces"):
            isolation.network_namespace = oslimits.leave_network()
            isolation.ipc_namespace = oslimits.leave_ipc()
            isolation.hidden_paths = oslimits.hide_paths(sandbox.get("hidden", ()),
                                                         sandbox.get("keep", ()))
        outdir = request["outdir"]
        os.chdir(outdir)
        oslimits.apply_rlimits(limits, dedicated_user=identity is not None)
        if identity is not None:
            oslimits.drop_privileges(identity)
        oslimits.die_with_parent()  # after the user switch, which clears it
        isolation.uid = os.geteuid()
        os.environ["HOME"] = outdir
        os.environ["TMPDIR"] = outdir
        os.write(status_write, json.dumps(vars(isolation)).encode())
        os.close(status_write)
        from grader import probes
        probes.run_part(request["part"], data, request)
    except BaseException:  # the probes report student errors themselves; this is ours
        import traceback
        traceback.print_exc()
        os._exit(70)
    os._exit(0)


def _megabytes_setting(variable, default):
    try:
        return int(float(os.environ.get(variable, default)) * 2**20)
    except ValueError:
        return int(default * 2**20)


def _free_bytes(path):
    try:
        info = os.statvfs(path)
    except OSError:
        return 0
    return info.f_bavail * info.f_frsize


def _supervise(pid, output_read, limits, wall_seconds, started, outdir, meter):
    """Wait for the part's child, streaming its output and enforcing the wall-time,
    memory, output and disk limits. ``meter`` counts the part's memory (a
    ``cgroup.PartCgroup`` or ``cgroup.PssMeter``)."""
    tail = OutputTail(limits.output_kb * 1024)
    verdict = {"timed_out": False, "memory_exceeded": False, "output_exceeded": False,
               "disk_exceeded": False}
    max_output = _megabytes_setting("TRAIN_GRADER_MAX_OUTPUT_MB", DEFAULT_MAX_OUTPUT_MB)
    max_disk = _megabytes_setting("TRAIN_GRADER_MAX_DISK_MB", DEFAULT_MAX_DISK_MB)
    free_at_start = _free_bytes(outdir)
    status = None
    next_memory_check = 0.0
    stream_open = True
    while status is None:
        if stream_open:
            ready, _, _ = select.select([output_read], [], [], _POLL_SECONDS)
            if ready:
                chunk = os.read(output_read, 1 << 20)
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
        if now - started > wall_seconds:
            verdict["timed_out"] = True
        elif tail.total > max_output:
            verdict["output_exceeded"] = True
        elif now >= next_memory_check:
            if meter.charge(pid) > limits.memory_mb * 2**20 or meter.oom_kills():
                verdict["memory_exceeded"] = True
            elif free_at_start - _free_bytes(outdir) > max_disk:
                verdict["disk_exceeded"] = True
            # A slow count (PSS of big processes) runs at most a third of the time.
            next_memory_check = now + max(_MEMORY_POLL_SECONDS, 2 * (time.monotonic() - now))
        if any(verdict.values()):
            for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
                try:
                    kill()
                except ProcessLookupError:
                    pass
            _, status = os.waitpid(pid, 0)
    if meter.oom_kills():  # the kernel stopped the part at its cgroup's memory limit
        verdict["memory_exceeded"] = True
    return status, tail, verdict


def _drain(fd, tail=None, limit=1 << 16):
    """Read what is left in a pipe without blocking; returns bytes when no tail is given."""
    os.set_blocking(fd, False)
    collected = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        if tail is not None:
            tail.add(chunk)
        elif len(collected) < limit:
            collected += chunk
    return collected


def run_request(request, data, control_fds, limits, identity, sandbox):
    """Fork, run one part, clean up every process and file it left, and describe what
    happened."""
    wall_seconds = min(limits.wall_seconds, float(request.get("wall_seconds") or math.inf))
    output_read, output_write = os.pipe()
    status_read, status_write = os.pipe()
    meter = cgroup.part_meter(limits, identity, use_cgroup=not sandbox.get("no_cgroup"))
    started = time.monotonic()
    cpu_before = os.times()
    pid = os.fork()
    if pid == 0:
        _run_child(request, data, output_write, status_write,
                   control_fds + (output_read, status_read), limits, identity, sandbox, meter)
    os.close(output_write)
    os.close(status_write)
    try:
        status, tail, verdict = _supervise(pid, output_read, limits, wall_seconds, started,
                                           request["outdir"], meter)
    finally:
        leftovers = oslimits.kill_descendants(os.getpid(), identity=identity, reap_all=True)
        if isinstance(meter, cgroup.PartCgroup):
            meter.remove()
    # Files the part left where its user may write (root: the sandbox uid is the grade's
    # own); its own folder is read by the grader, and removed with the work folder.
    removed = scratch.clean(identity[0]) if identity is not None else None
    _drain(output_read, tail)  # what the killed processes wrote last
    os.close(output_read)
    try:
        isolation = json.loads(_drain(status_read) or b"null")
    except ValueError:
        isolation = None
    os.close(status_read)
    cpu_after = os.times()
    cpu_seconds = (cpu_after.children_user + cpu_after.children_system) \
        - (cpu_before.children_user + cpu_before.children_system)
    signal_number = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    cpu_exceeded = signal_number == signal.SIGXCPU or (
        signal_number == signal.SIGKILL and cpu_seconds >= limits.cpu_seconds - 0.5)
    return {
        "part": request["part"],
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": signal_number,
        "timed_out": verdict["timed_out"],
        "memory_exceeded": verdict["memory_exceeded"],
        "output_exceeded": verdict["output_exceeded"],
        "disk_exceeded": verdict["disk_exceeded"],
        "cpu_exceeded": bool(cpu_exceeded and not any(verdict.values())),
        "wall_limit_seconds": round(wall_seconds, 3),
        "wall_seconds": round(time.monotonic() - started, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "peak_private_mb": round(meter.peak() / 2**20, 1),
        "memory_counted_by": meter.describe(),
        "leftover_processes_killed": leftovers,
        "leftover_files_removed": removed,
        "output": tail.text(),
        "output_bytes": tail.total,
        "isolation": isolation,
    }


def usable_cpus():
    """CPUs this process may use: its affinity, capped by the CPU quota of its cgroups
    (v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``, as ``cgroup.container_limits`` reads them)."""
    count = len(os.sched_getaffinity(0))
    try:
        from grader.sandbox import cgroup
        _, cpus = cgroup.container_limits()
    except Exception:  # noqa: BLE001 - an unreadable cgroup only leaves the affinity
        cpus = None
    if cpus:
        count = min(count, max(1, math.ceil(cpus)))
    return max(1, count)


#: The most replay processes at once (``replayer.run_replay``).
MAX_REPLAY_PROCESSES = 2


def replay_processes(limits):
    """One replay process per usable CPU, at most ``MAX_REPLAY_PROCESSES``; one only when
    a part's memory limit is below the full ``PART_MEMORY_MB`` (the container is small:
    each replay process holds about 200 MB of its own)."""
    if limits.memory_mb < PART_MEMORY_MB[0]:
        return 1
    return min(MAX_REPLAY_PROCESSES, usable_cpus())


def main(argv):
    """Serve part requests until stdin closes."""
    data_path, limits_json = argv[1], argv[2]
    sandbox = json.loads(argv[3]) if len(argv) > 3 else {}
    limits = Limits(**json.loads(limits_json))
    control_in = sys.stdin.fileno()
    control_out = os.dup(1)
    os.dup2(2, 1)  # anything TensorFlow prints must not reach the control channel
    reply_stream = os.fdopen(control_out, "w", buffering=1)
    oslimits.make_undumpable()
    oslimits.become_subreaper()
    oslimits.die_with_parent()
    identity = oslimits.sandbox_identity(os.getppid())

    import numpy as np
    with np.load(data_path, allow_pickle=False) as archive:
        data = {name: archive[name] for name in archive.files}
    from grader import probes
    probes.prepare_worker(threads=usable_cpus())
    reply_stream.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        if "replay" in request:  # grader-only training, in a child that never runs student code
            reply = replayer.run_replay(request, data, (control_in, control_out),
                                        processes=replay_processes(limits))
        else:
            reply = run_request(request, data, (control_in, control_out), limits, identity, sandbox)
        reply_stream.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
