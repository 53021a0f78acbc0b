"""Memory counted where it really lives: the container's limits, and one part's charge.

* ``container_limits`` reads the memory and CPU limits of the cgroup this process runs
  in (cgroup v2 ``memory.max``/``cpu.max``, cgroup v1 ``memory.limit_in_bytes``/
  ``cpu.cfs_quota_us``), so the grader's defaults fit the container it grades in.
* ``PartCgroup`` is a cgroup of its own for one part (root only, where the cgroup file
  system is writable): the kernel charges it every page the part's processes touch,
  anonymous memory, ``MAP_SHARED`` memory and files in ``/dev/shm`` or a tmpfs ``/tmp``
  alike, enforces the part's limit itself (its OOM killer acts inside the part's cgroup,
  before the container's), and caps its processes.
* ``PssMeter`` is the fallback without a writable cgroup: the proportional set size of
  the worker and the part's process tree, minus the worker's own before the part, plus
  the tmpfs files the part's user owns and the memory files (``memfd``) it holds open.

The root of the cgroup file system and ``/proc/self/cgroup`` are parameters, so tests can
point them at a fake tree.
"""

import os
import signal
import stat
import time

from grader.sandbox import oslimits, scratch

CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"
#: cgroup v1 writes "no limit" as a number near 2**63.
_V1_UNLIMITED = 2**60


def _read(path):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return None


def _write(path, text):
    with open(path, "w") as handle:
        handle.write(str(text))


def _keyed(text):
    """``key value`` lines (memory.stat, memory.events, memory.oom_control) as a dict."""
    values = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            values[parts[0]] = int(parts[1])
    return values


def own_paths(proc_cgroup=PROC_CGROUP):
    """{controller: path} of this process's cgroups; the cgroup v2 path is under ""."""
    paths = {}
    for line in (_read(proc_cgroup) or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        for controller in fields[1].split(",") if fields[1] else [""]:
            paths[controller] = fields[2]
    return paths


def _v2_root(root):
    """The cgroup v2 mount: the root itself (unified) or ``unified/`` (hybrid)."""
    for candidate in (root, os.path.join(root, "unified")):
        if os.path.exists(os.path.join(candidate, "cgroup.controllers")):
            return candidate
    return None


def _v1_dir(root, controller):
    for name in os.listdir(root) if os.path.isdir(root) else ():
        if controller in name.split(",") and os.path.isdir(os.path.join(root, name)):
            return os.path.join(root, name)
    return None


def _chain(mount, path):
    """The cgroup folders from this process's own up to the mount's root (those that
    exist: in a container the mount often shows only the container's own cgroup)."""
    folders = []
    parts = [p for p in (path or "/").split("/") if p]
    while True:
        folder = os.path.join(mount, *parts)
        if os.path.isdir(folder):
            folders.append(folder)
        if not parts:
            return folders
        parts.pop()


def container_limits(root=CGROUP_ROOT, proc_cgroup=PROC_CGROUP):
    """``(memory_bytes, cpus)`` this process's cgroups allow (the tightest along the way
    to the root), each None when unlimited or unknown. cgroup v2 first, then v1."""
    paths = own_paths(proc_cgroup)
    memory, cpus = [], []
    v2 = _v2_root(root)
    if v2 is not None:
        for folder in _chain(v2, paths.get("")):
            raw = _read(os.path.join(folder, "memory.max"))
            if raw and raw.isdigit():
                memory.append(int(raw))
            raw = (_read(os.path.join(folder, "cpu.max")) or "").split()
            if len(raw) == 2 and raw[0].isdigit() and raw[1].isdigit() and int(raw[1]):
                cpus.append(int(raw[0]) / int(raw[1]))
    mount = _v1_dir(root, "memory")
    if mount:
        for folder in _chain(mount, paths.get("memory")):
            raw = _read(os.path.join(folder, "memory.limit_in_bytes"))
            if raw and raw.isdigit() and int(raw) < _V1_UNLIMITED:
                memory.append(int(raw))
    mount = _v1_dir(root, "cpu")
    if mount:
        for folder in _chain(mount, paths.get("cpu")):
            quota = _read(os.path.join(folder, "cpu.cfs_quota_us"))
            period = _read(os.path.join(folder, "cpu.cfs_period_us"))
            if quota and period and quota.isdigit() and period.isdigit() and int(period):
                cpus.append(int(quota) / int(period))
    return (min(memory) if memory else None), (min(cpus) if cpus else None)


class PartCgroup:
    """A cgroup of one part's processes, with a memory and a process limit.

    Create it with ``create`` (None when cgroups cannot be used here); the part's child
    calls ``join`` before any student code runs; the worker polls ``charge``, ``oom_kills``
    and ``peak``, and ends with ``kill`` and ``remove``.
    """

    def __init__(self, version, memory_dir, pids_dir=None):
        self.version = version
        self.memory_dir = memory_dir
        self.pids_dir = pids_dir
        self._peak = 0

    @classmethod
    def create(cls, name, memory_bytes, max_pids, root=CGROUP_ROOT, proc_cgroup=PROC_CGROUP):
        """A new cgroup ``name`` below this process's own, or None (not root, read-only
        cgroup file system, no memory controller, or a cgroup v2 parent that holds
        processes itself and so cannot hand the memory controller to children)."""
        if os.geteuid() != 0:
            return None
        paths = own_paths(proc_cgroup)
        v2 = _v2_root(root)
        if v2 is not None and "memory" in (_read(os.path.join(v2, "cgroup.controllers")) or "").split():
            parent = os.path.join(v2, *[p for p in paths.get("", "/").split("/") if p])
            group = cls._make(parent, name)
            if group is not None:
                try:
                    _write(os.path.join(group, "memory.max"), memory_bytes)
                    for limit, value in (("memory.swap.max", 0), ("pids.max", max_pids)):
                        if os.path.exists(os.path.join(group, limit)):
                            _write(os.path.join(group, limit), value)
                    return cls(2, group)
                except OSError:
                    _rmdir(group)
        mount = _v1_dir(root, "memory")
        if mount is None:
            return None
        parent = os.path.join(mount, *[p for p in paths.get("memory", "/").split("/") if p])
        group = cls._make(parent, name)
        if group is None:
            return None
        try:
            _write(os.path.join(group, "memory.limit_in_bytes"), memory_bytes)
            if os.path.exists(os.path.join(group, "memory.memsw.limit_in_bytes")):
                try:
                    _write(os.path.join(group, "memory.memsw.limit_in_bytes"), memory_bytes)
                except OSError:
                    pass
        except OSError:
            _rmdir(group)
            return None
        pids_group = None
        pids_mount = _v1_dir(root, "pids")
        if pids_mount:
            pids_parent = os.path.join(pids_mount, *[p for p in paths.get("pids", "/").split("/") if p])
            pids_group = cls._make(pids_parent, name)
            if pids_group is not None:
                try:
                    _write(os.path.join(pids_group, "pids.max"), max_pids)
                except OSError:
                    _rmdir(pids_group)
                    pids_group = None
        return cls(1, group, pids_group)

    @staticmethod
    def _make(parent, name):
        if not os.path.isdir(parent):
            return None
        _sweep(parent, name.rsplit("-", 2)[0] + "-")
        if os.path.exists(os.path.join(parent, "cgroup.subtree_control")):
            enabled = (_read(os.path.join(parent, "cgroup.subtree_control")) or "").split()
            wanted = [c for c in ("memory", "pids")
                      if c not in enabled and c in (_read(os.path.join(parent, "cgroup.controllers")) or "").split()]
            try:
                if wanted:  # EBUSY when the parent holds processes (and is not the root)
                    _write(os.path.join(parent, "cgroup.subtree_control"),
                           " ".join("+" + c for c in wanted))
            except OSError:
                return None
        group = os.path.join(parent, name)
        try:
            os.mkdir(group)
        except FileExistsError:
            pass
        except OSError:
            return None
        v2 = os.path.exists(os.path.join(parent, "cgroup.subtree_control"))
        if v2 and not os.path.exists(os.path.join(group, "memory.max")):
            _rmdir(group)  # the memory controller is not ours to use
            return None
        return group

    def describe(self):
        return f"cgroup v{self.version}"

    def join(self, pid=0):
        """Move ``pid`` (0: the calling process) into this cgroup."""
        for folder in (self.memory_dir, self.pids_dir):
            if folder:
                _write(os.path.join(folder, "cgroup.procs"), pid)

    def pids(self):
        """Processes in the cgroup now."""
        text = _read(os.path.join(self.memory_dir, "cgroup.procs")) or ""
        return [int(p) for p in text.split() if p.isdigit()]

    def charge(self, pid=None):
        """Bytes the part holds that the kernel cannot simply drop: anonymous memory
        (private or shared), tmpfs and ``/dev/shm`` files, shared memory, not the page
        cache of ordinary files."""
        values = _keyed(_read(os.path.join(self.memory_dir, "memory.stat")))
        if self.version == 2:
            used = values.get("anon", 0) + values.get("shmem", 0)
        else:
            used = values.get("total_rss", values.get("rss", 0)) + values.get(
                "total_shmem", values.get("shmem", 0))
        self._peak = max(self._peak, used)
        return used

    def peak(self):
        """The largest ``charge`` seen by the polls."""
        return self._peak

    def oom_kills(self):
        """How many processes the kernel killed for this cgroup's memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        return _keyed(_read(os.path.join(self.memory_dir, name))).get("oom_kill", 0)

    def kill(self, timeout=5.0):
        """SIGKILL every process in the cgroup, until none is left."""
        deadline = time.monotonic() + timeout
        kill_file = os.path.join(self.memory_dir, "cgroup.kill")
        while True:
            pids = self.pids()
            if not pids or time.monotonic() > deadline:
                return
            if os.path.exists(kill_file):
                try:
                    _write(kill_file, 1)
                except OSError:
                    pass
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def remove(self):
        """Kill what is left and delete the cgroup (its charges move to the parent)."""
        self.kill()
        for folder in (self.memory_dir, self.pids_dir):
            if folder:
                _rmdir(folder)


def _sweep(parent, prefix):
    """Remove empty cgroups ``<prefix><pid>-...`` left by workers that died (SIGKILL)
    before they could remove them."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        owner = name[len(prefix):].split("-")[0] if name.startswith(prefix) else ""
        if owner.isdigit() and not os.path.exists(f"/proc/{owner}"):
            _rmdir(os.path.join(parent, name), attempts=1)


def _rmdir(folder, attempts=50):
    for _ in range(attempts):  # busy for a moment while killed processes exit
        try:
            os.rmdir(folder)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.02)
    return False


def pss_bytes(pid):
    """Proportional set size of a process: every page it maps, divided by the number of
    processes mapping it (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def open_memory_files(pids):
    """Bytes of memory-backed files the processes hold open but that are in no folder
    (``memfd_create``, deleted ``/dev/shm`` files), each counted once."""
    seen, total = set(), 0
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            path = f"/proc/{pid}/fd/{fd}"
            try:
                target = os.readlink(path)
                if not (target.startswith("/memfd:") or (target.endswith(" (deleted)") and
                                                          target.startswith(("/dev/shm/", "/tmp/")))):
                    continue
                info = os.stat(path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode) and (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
    return total


class PssMeter:
    """The memory a part adds, without a cgroup: PSS of the worker and the part's
    process tree (shared pages, ``MAP_SHARED`` memory included, are counted once over
    the set), minus the worker's PSS before the part started, plus tmpfs files the part
    owns (``tmpfs_bytes``, a callable) and memory files it holds open."""

    #: The worker's own PSS is read again at least this often, and whenever the part's
    #: processes change (reading it costs as much as a part's: TensorFlow maps a lot).
    WORKER_REFRESH_SECONDS = 1.0

    def __init__(self, worker_pid, tmpfs_bytes=None):
        self.worker_pid = worker_pid
        self.baseline = pss_bytes(worker_pid)
        self.tmpfs_bytes = tmpfs_bytes or (lambda: 0)
        self.tmpfs_baseline = self.tmpfs_bytes()
        self._peak = 0
        self._worker = (None, 0.0, self.baseline)  # (part's pids, when read, PSS)

    def describe(self):
        return "pss"

    def charge(self, pid):
        """Bytes the process tree of ``pid`` (the part's child) holds now."""
        tree = [pid, *oslimits.descendants(pid)]
        pids, when, worker = self._worker
        now = time.monotonic()
        if pids != frozenset(tree) or now - when > self.WORKER_REFRESH_SECONDS:
            worker = pss_bytes(self.worker_pid)
            self._worker = (frozenset(tree), now, worker)
        used = worker + sum(pss_bytes(p) for p in tree) - self.baseline
        used += max(0, self.tmpfs_bytes() - self.tmpfs_baseline) + open_memory_files(tree)
        self._peak = max(self._peak, used)
        return max(used, 0)

    def peak(self):
        return max(self._peak, 0)

    def oom_kills(self):
        return 0


def part_meter(limits, identity, *, use_cgroup=True):
    """What counts one part's memory: a cgroup of its own when this process may make
    one (root, writable cgroup file system), else a ``PssMeter`` that adds the tmpfs
    files and System V shared memory of the part's user (the sandbox uid as root)."""
    if use_cgroup:
        group = PartCgroup.create(f"train-grader-{os.getpid()}-{time.monotonic_ns()}",
                                  limits.memory_mb * 2**20, limits.max_processes)
        if group is not None:
            return group
    uid = identity[0] if identity is not None else os.geteuid()
    folders = scratch.tmpfs_folders()
    return PssMeter(os.getpid(), lambda: scratch.owned_bytes(uid, folders)
                    + scratch.shared_memory_segment_bytes(uid))
