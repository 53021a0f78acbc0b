"""What a part leaves on disk and in tmpfs outside its own folder, counted and removed.

As root a part runs as the grade's own sandbox uid, which can write in its own folder and
in the world-writable scratch folders (``/tmp``, ``/var/tmp``, ``/dev/shm``, ...). Files
there outlive the part: in ``/dev/shm`` (and a tmpfs ``/tmp``) they are memory. After each
part the worker removes every entry the sandbox uid owns in those folders. Everything here
uses ``lstat`` and folder descriptors: no symbolic link is ever followed, no other file
system is entered while looking, and trees are removed iteratively
(``safefs.remove_tree``), so a tree of any depth goes.
"""

import ctypes
import os
import stat

from grader import safefs

#: World-writable folders a sandboxed part can write in, besides its own folder.
SCRATCH_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")


def tmpfs_folders(folders=SCRATCH_DIRS, mounts="/proc/self/mounts"):
    """The ``folders`` that live on a tmpfs (their files are memory)."""
    table = []
    try:
        with open(mounts) as handle:
            for line in handle:
                fields = line.split()
                if len(fields) >= 3:
                    table.append((fields[1].replace("\\040", " "), fields[2]))
    except OSError:
        return []
    found = []
    for folder in folders:
        best = max((m for m in table if folder == m[0] or folder.startswith(m[0].rstrip("/") + "/")),
                   key=lambda m: len(m[0]), default=None)
        if best is not None and best[1] == "tmpfs" and os.path.isdir(folder):
            found.append(folder)
    return found


def owned_entries(uid, folders=SCRATCH_DIRS, limit=100_000):
    """Paths of the outermost entries that ``uid`` owns inside ``folders`` (not the
    folders themselves), looking only where ``uid`` could have gone: folders it owns are
    reported whole, others are entered when "other" may search them. At most ``limit``
    entries are looked at."""
    found, looked = [], 0
    for top in folders:
        try:
            device = os.lstat(top).st_dev
        except OSError:
            continue
        pending = [top]
        while pending and looked < limit:
            folder = pending.pop()
            try:
                names = os.listdir(folder)
            except OSError:
                continue
            for name in names:
                looked += 1
                path = os.path.join(folder, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if info.st_dev != device:
                    continue
                if info.st_uid == uid:
                    found.append(path)
                elif stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IXOTH:
                    pending.append(path)
    return found


def tree_size(path):
    """(entries, bytes on disk) of a file or folder tree, links not followed."""
    entries = size = 0
    pending = [path]
    while pending:
        current = pending.pop()
        try:
            info = os.lstat(current)
        except OSError:
            continue
        entries += 1
        size += info.st_blocks * 512
        if stat.S_ISDIR(info.st_mode):
            try:
                pending.extend(os.path.join(current, n) for n in os.listdir(current))
            except OSError:
                pass
    return entries, size


def owned_bytes(uid, folders):
    """Bytes of the entries ``uid`` owns in ``folders`` (e.g. the tmpfs ones)."""
    return sum(tree_size(path)[1] for path in owned_entries(uid, folders, limit=20_000))


def shared_memory_segments(uid, table="/proc/sysvipc/shm"):
    """[(shmid, bytes)] of the System V shared memory segments ``uid`` owns (they outlive
    their processes; a part in its own IPC namespace has none here)."""
    found = []
    try:
        with open(table) as handle:
            header = handle.readline().split()
            for line in handle:
                row = dict(zip(header, line.split()))
                if row.get("uid") == str(uid):
                    found.append((int(row["shmid"]), int(row["size"])))
    except (OSError, KeyError, ValueError):
        pass
    return found


def shared_memory_segment_bytes(uid):
    return sum(size for _, size in shared_memory_segments(uid))


def remove_shared_memory_segments(uid):
    """Mark the segments of ``uid`` for removal (freed once no process maps them)."""
    libc = ctypes.CDLL(None, use_errno=True)
    removed = 0
    for shmid, _ in shared_memory_segments(uid):
        removed += libc.shmctl(shmid, 0, None) == 0  # IPC_RMID
    return removed


def clean(uid, folders=SCRATCH_DIRS):
    """Remove every entry ``uid`` owns in ``folders`` and its System V shared memory;
    returns a report ``{"entries": removed, "bytes": size, "left": not removed,
    "paths": [first 10], "shm_segments": removed}``."""
    report = {"entries": 0, "bytes": 0, "left": 0, "paths": []}
    segments = shared_memory_segments(uid)
    report["bytes"] += sum(size for _, size in segments)
    report["shm_segments"] = remove_shared_memory_segments(uid)
    stuck = set()
    while True:  # again, for entries beyond one look's limit
        found = [path for path in owned_entries(uid, folders) if path not in stuck]
        if not found:
            return report
        for path in found:
            entries, size = tree_size(path)
            report["bytes"] += size
            if safefs.remove_tree(path):
                report["entries"] += entries
            else:
                report["left"] += 1
                stuck.add(path)
            if len(report["paths"]) < 10:
                report["paths"].append(path)
