"""Keeping the grader's hidden files out of the sandbox user's reach with plain
permissions, for containers where mount namespaces are not allowed.

As root the parts run as a uid of their own, which is "other" to every file of the
grader. ``lock_paths`` removes the "other" permissions from each hidden path, except
along the way to the folders the parts must still reach (the virtual environment, when
it lies inside the grader's checkout, and the grade's own work folder): there it locks
the siblings instead. Nothing is restored afterwards: the grader's files stay readable
by their owner and group, which is all the grader itself needs. Symbolic links are never
followed.
"""

import os
import stat


#: System folders that are never locked, even when a hidden path names one (a results
#: file written straight into /tmp makes /tmp a "hidden folder").
NEVER_LOCKED = frozenset({"/", "/bin", "/boot", "/dev", "/dev/shm", "/etc", "/home", "/lib",
                          "/lib64", "/mnt", "/opt", "/proc", "/run", "/srv", "/sys", "/tmp",
                          "/usr", "/var", "/var/tmp"})


def _inside(path, folder):
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def lock_paths(hidden, keep=()):
    """Remove "other" permissions from ``hidden`` paths, keeping a way to ``keep``.

    Returns the paths whose permissions were changed (for the staff's log)."""
    keep = [os.path.abspath(k) for k in keep if k]
    changed = []
    pending = sorted({os.path.abspath(p) for p in hidden if p} - NEVER_LOCKED)
    while pending:
        path = pending.pop()
        try:
            info = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        inner_keeps = [k for k in keep if k != path and _inside(k, path)]
        if any(_inside(path, k) for k in keep) or path in NEVER_LOCKED:
            continue  # a kept folder (or inside one), or a system folder, stays as it is
        if inner_keeps and stat.S_ISDIR(info.st_mode):
            # Traversable (x) but not listable for others; lock every entry but the way on.
            _set_other(path, info, stat.S_IXOTH, changed)
            try:
                names = os.listdir(path)
            except OSError:
                continue
            pending.extend(os.path.join(path, name) for name in names)
            continue
        _set_other(path, info, 0, changed)
    return changed


def _set_other(path, info, other_bits, changed):
    mode = stat.S_IMODE(info.st_mode)
    wanted = (mode & ~0o007) | (mode & other_bits)  # only ever takes permissions away
    if wanted != mode:
        try:
            os.chmod(path, wanted)
            changed.append(path)
        except OSError:
            pass
