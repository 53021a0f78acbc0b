"""OS-level isolation for one part's process: resource limits, no network, hidden grader
files, an unprivileged user, and killing everything the part started.

Linux only. Features that need root (network and mount namespaces, user switch,
process-count limit) are skipped when the grader does not run as root, or when the
container does not allow them; each part reports which ones were in force
(``Isolation``) and ``describe_isolation`` summarises what this machine allows.
"""

import ctypes
import dataclasses
import errno
import os
import resource
import signal
import time

_CLONE_NEWNS = 0x00020000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWNET = 0x40000000
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_MS_RDONLY = 1
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
#: Open files a part's process may hold (RLIMIT_NOFILE).
MAX_OPEN_FILES = 1024
#: Address space a part may reserve beyond the worker's (RLIMIT_AS), whatever its memory
#: limit: TensorFlow reserves far more than it touches (thread stacks, allocator arenas).
ADDRESS_SPACE_RESERVE_MB = 4096

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p)


@dataclasses.dataclass
class Isolation:
    """Which protections were in force for one part (reported by the part's child before
    any student code runs, so the report can be trusted)."""

    uid: int = -1
    network_namespace: bool = False
    ipc_namespace: bool = False
    hidden_paths: bool = False
    no_new_privileges: bool = False


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
    return _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def die_with_parent():
    """Ask the kernel to SIGKILL this process when its parent dies."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def make_undumpable():
    """Make this process's /proc entries (open pipes, memory, environment) inaccessible
    to other processes of the same user: a part running as the grader's own user (no
    root) cannot open the worker's control pipe through ``/proc/<pid>/fd``."""
    return _libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) == 0


def forbid_new_privileges():
    """No set-uid program started from here on can gain privileges (sudo, su, ...)."""
    return _libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0


def leave_network():
    """Move into a fresh network namespace with no interfaces up. Returns True on success."""
    if not is_root():
        return False
    return _libc.unshare(_CLONE_NEWNET) == 0


def leave_ipc():
    """Move into a fresh IPC namespace: System V shared memory and POSIX message queues
    the part makes are its own, and are freed with its last process. True on success."""
    if not is_root():
        return False
    return _libc.unshare(_CLONE_NEWIPC) == 0


def _mount(source, target, fstype, flags, options=None):
    encode = (lambda s: None if s is None else os.fsencode(s))
    if _libc.mount(encode(source), encode(target), encode(fstype), flags, encode(options)) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {target}: {os.strerror(error)}")


#: Folders the system needs: never hidden, whatever the configuration says.
_NEVER_HIDDEN = {"/", "/bin", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sys", "/tmp", "/usr"}


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def hide_paths(hidden, keep=()):
    """Make ``hidden`` folders look empty (and ``hidden`` files read as empty) to this
    process and everything it starts, in a private mount namespace.

    Folders in ``keep`` that lie inside a hidden folder stay visible at the same path
    (the virtual environment, when it sits inside the grader's folder). Root only (the
    container must allow mount namespaces); returns True when every path is hidden.
    Nothing done here is visible outside this process's new mount namespace.
    """
    if not is_root():
        return False
    # A symbolic link is hidden at its target (the caller lists both): mounting over the
    # link itself would follow it and fail for a folder.
    paths = sorted({os.path.realpath(p) for p in hidden if p and os.path.lexists(p)}
                   - _NEVER_HIDDEN)
    paths = [p for p in paths if not any(q != p and _inside(p, q) and os.path.isdir(q) for q in paths)]
    if not paths:
        return True
    if _libc.unshare(_CLONE_NEWNS) != 0:
        return False
    try:  # first and foremost: nothing mounted below may propagate to the host
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    except OSError:
        return False
    keep = sorted({os.path.abspath(k) for k in keep if k})
    ok = True
    for path in paths:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                _hide_folder(path, [k for k in keep if k != path and _inside(k, path)])
            else:
                _mount("/dev/null", path, None, _MS_BIND)
        except OSError:
            ok = False
    return ok


def _hide_folder(path, keep):
    """Mount an empty tmpfs over ``path``, put the ``keep`` paths back, make it read-only."""
    restore = []
    for kept in keep:  # open them before they disappear under the tmpfs
        if os.path.islink(kept):
            restore.append((kept, "link", os.readlink(kept)))
        elif os.path.isdir(kept):
            restore.append((kept, "dir", os.open(kept, os.O_PATH | os.O_DIRECTORY)))
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    _mount("tmpfs", path, "tmpfs", flags, "size=64k,mode=0755")
    for kept, kind, source in restore:
        if os.path.lexists(kept):
            continue
        os.makedirs(os.path.dirname(kept), exist_ok=True)
        if kind == "link":
            os.symlink(source, kept)
        else:
            os.makedirs(kept, exist_ok=True)
            _mount(f"/proc/self/fd/{source}", kept, None, _MS_BIND | _MS_REC)
            os.close(source)
    _mount(None, path, None, _MS_REMOUNT | _MS_RDONLY | flags)


def drop_privileges(identity):
    """Switch to the unprivileged (uid, gid) for good."""
    uid, gid = identity
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def apply_rlimits(limits, *, dedicated_user):
    """Apply CPU, address-space, file-size, open-file and process limits to this process.

    The address-space limit is the current size plus 4 GB or four times the memory
    limit, whichever is more (TensorFlow reserves far more address space than it
    touches); the memory the part really uses is counted by the worker
    (``grader.sandbox.cgroup``).
    """
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
    file_bytes = limits.max_file_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    reserve_mb = max(4 * limits.memory_mb, ADDRESS_SPACE_RESERVE_MB)  # thread stacks, arenas
    address_space = virtual_memory_bytes(os.getpid()) + reserve_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _lower_limit(resource.RLIMIT_NOFILE, MAX_OPEN_FILES)
    if dedicated_user:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))


def _lower_limit(which, value):
    soft, hard = resource.getrlimit(which)
    if hard == resource.RLIM_INFINITY or hard > value:
        hard = value
    resource.setrlimit(which, (min(value, hard), hard))


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


def descendants(pid, *, exclude=()):
    """Every live descendant of ``pid`` (not including it), skipping the subtrees of
    the pids in ``exclude``."""
    tree = children_map()
    found, stack = [], [c for c in tree.get(pid, []) if c not in exclude]
    while stack:
        child = stack.pop()
        found.append(child)
        stack.extend(c for c in tree.get(child, []) if c not in exclude)
    return found


def kill_descendants(pid, *, identity=None, exclude=(), reap_all=False, timeout=5.0):
    """SIGKILL every descendant of ``pid`` (except the subtrees of ``exclude``) and reap
    them, repeating until none is left, so processes that fork, ``setsid()`` or
    double-fork while being killed are caught too (orphans re-parent to ``pid``, a
    child subreaper). With the grade's sandbox ``identity``, every process of that uid
    is killed as well (the uid is this grade's own, see ``sandbox_identity``).
    ``reap_all`` also collects every other exited child of this process. Returns how
    many processes were killed.
    """
    killed = set()
    deadline = time.monotonic() + timeout
    while True:
        if identity is not None:
            _kill_all_of_user(identity)
        remaining = descendants(pid, exclude=exclude)
        if not remaining or time.monotonic() > deadline:
            break
        for child in remaining:
            try:
                os.kill(child, signal.SIGKILL)
                killed.add(child)
            except ProcessLookupError:
                pass
        _reap(remaining, reap_all)
        time.sleep(0.01)
    _reap(killed, reap_all)
    return len(killed)


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


def _reap(pids, reap_all):
    """Collect the given exited children (others' children are skipped), and with
    ``reap_all`` every exited child of this process."""
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
    while reap_all:
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


def can_read(identity, path):
    """Whether ``identity`` (uid, gid) could open ``path`` (or list it, for a folder),
    checked in a forked helper that switches to that user. Root only; None otherwise."""
    if not is_root() or identity is None:
        return None
    helper = os.fork()
    if helper == 0:
        try:
            drop_privileges(identity)
            if os.path.isdir(path):
                os.listdir(path)
            else:
                os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(helper, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def describe_signal(number):
    """``SIGKILL (9)``-style name of a signal number."""
    try:
        return f"{signal.Signals(number).name} ({number})"
    except ValueError:
        return f"signal {number}"


def describe_isolation():
    """Human-readable list of the isolation features this machine allows."""
    identity = sandbox_identity()
    features = ["separate process per part", "wall-clock, CPU, memory, file-size and open-file limits",
                "all processes of a part killed when it ends"]
    if identity is not None:
        features += [f"runs as uid {identity[0]} (no access to files only root can read)",
                     "no network and grader folders hidden, where the container allows "
                     "namespaces (CAP_SYS_ADMIN)", "process-count limit"]
    else:
        features.append("NOT root: same user as the grader, network not blocked, "
                        "grader files readable")
    return features
