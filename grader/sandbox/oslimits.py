"""OS-level isolation for one part's process: resource limits, no network, an
unprivileged user, and killing everything the part started.

Linux only. Features that need root (network namespace, user switch) are skipped
when the grader does not run as root; ``describe_isolation`` says which are active.
"""

import ctypes
import errno
import os
import resource
import signal
import time

_CLONE_NEWNET = 0x40000000
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1

_libc = ctypes.CDLL(None, use_errno=True)


def is_root():
    """True when running with effective uid 0."""
    return os.geteuid() == 0


#: Student code runs as a uid of its own per grade: 200000 + (grading process id % 100000).
#: No passwd entry is needed, and killing "every process of the sandbox uid" after a part
#: can never touch another grade running on the same machine.
SANDBOX_UID_BASE = 200000


def sandbox_identity(grade_pid=None):
    """The (uid, gid) student code runs as when the grader is root, else None.

    Parameters
    ----------
    grade_pid : int, optional
        Process id of the grading (trusted) process; defaults to this process's.
    """
    if not is_root():
        return None
    uid = SANDBOX_UID_BASE + (os.getpid() if grade_pid is None else grade_pid) % 100000
    return uid, uid


def become_subreaper():
    """Make orphaned descendants re-parent to this process, so none can escape a kill."""
    _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def die_with_parent():
    """Ask the kernel to SIGKILL this process when its parent dies."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def leave_network():
    """Move into a fresh network namespace with no interfaces up. Returns True on success."""
    if not is_root():
        return False
    return _libc.unshare(_CLONE_NEWNET) == 0


def drop_privileges(identity):
    """Switch to the unprivileged (uid, gid) for good."""
    uid, gid = identity
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def apply_rlimits(limits, *, dedicated_user):
    """Apply CPU, address-space, file-size and process limits to this process.

    The address-space limit is the current size plus a generous multiple of the memory
    limit (TensorFlow reserves far more address space than it touches); resident memory
    itself is watched by the supervisor loop.
    """
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    file_bytes = limits.max_file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    address_space = virtual_memory_bytes(os.getpid()) + 4 * limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if dedicated_user:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))


def virtual_memory_bytes(pid):
    """VmSize of a process in bytes (0 if it is gone)."""
    return _status_field(pid, "VmSize")


def _status_field(pid, field):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def private_memory_bytes(pid):
    """Memory a process does not share with others (Private_Clean + Private_Dirty)."""
    total = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
    except OSError:
        return 0
    return total


def children_map():
    """Map of parent pid -> list of child pids, read from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid):
    """Every live descendant of ``pid`` (not including it)."""
    tree = children_map()
    found, stack = [], list(tree.get(pid, []))
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(tree.get(child, []))
    return found


def kill_descendants(pid, *, identity=None, timeout=5.0):
    """SIGKILL every descendant of ``pid`` and reap them; with a dedicated sandbox
    identity, also kill every process that identity owns. Returns how many were killed."""
    killed = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if identity is not None:
            _kill_all_of_user(identity)
        remaining = descendants(pid)
        if not remaining:
            break
        for child in remaining:
            try:
                os.kill(child, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        _reap_all()
        time.sleep(0.02)
    _reap_all()
    return killed


def _kill_all_of_user(identity):
    """Fork a helper that becomes the sandbox user and sends SIGKILL to all its processes."""
    helper = os.fork()
    if helper == 0:
        try:
            drop_privileges(identity)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def _reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        except OSError as error:
            if error.errno == errno.EINTR:
                continue
            return
        if pid == 0:
            return


def describe_isolation():
    """Human-readable list of the isolation features active on this machine."""
    identity = sandbox_identity()
    features = ["separate process per part", "wall-clock, CPU, memory and file-size limits",
                "all processes of a part killed when it ends"]
    if identity is not None:
        features += [f"runs as uid {identity[0]} (no access to the grader's files)",
                     "no network (own network namespace)", "process-count limit"]
    else:
        features.append("NOT root: same user as the grader, network not blocked")
    return features
