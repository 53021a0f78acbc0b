"""Reading and removing files that untrusted code wrote (a sandboxed part, a submission).

Three rules hold for every function here:

* no recursion, whatever the depth of the tree (an explicit stack instead);
* no symlink is ever followed, and only regular files with exactly one link are
  opened (``O_NOFOLLOW``, ``O_NONBLOCK`` so a FIFO cannot block, then ``fstat``);
* everything read is bounded: depth, number of entries, bytes.

They are meant for trees nobody changes any more while they are read (the part that
wrote them has been killed), so a name is checked once, when it is opened.
"""

import dataclasses
import errno
import os
import stat

_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
          (stat.S_ISDIR, "a folder"))


class UnsafeFile(ValueError):
    """A file that must not be read: not a regular file, a link, or too large."""


def kind_of(mode):
    """'a symbolic link', 'a FIFO', ... for a non-regular file's ``st_mode``."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path, *, dir_fd=None, label=None):
    """Open ``path`` for reading if it is a regular file with one link; ``(fd, stat)``.

    Raises FileNotFoundError if it does not exist and UnsafeFile otherwise.
    """
    label = label or os.path.basename(os.fspath(path))
    try:
        fd = os.open(path, _FILE_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        raise
    except OSError as error:
        reason = "it is a symbolic link" if error.errno == errno.ELOOP else error.strerror
        raise UnsafeFile(f"{label} could not be opened safely ({reason})") from None
    info = os.fstat(fd)
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = f"{label} is {kind_of(info.st_mode)}, expected a regular file"
    elif info.st_nlink != 1:  # a hard link to another file, maybe one of the grader's
        problem = f"{label} is a hard link ({info.st_nlink} names for one file), expected a plain file"
    if problem:
        os.close(fd)
        raise UnsafeFile(problem)
    return fd, info


def read_regular(path, max_bytes, *, dir_fd=None, label=None):
    """The bytes of a regular one-link file, None if it does not exist.

    Raises UnsafeFile if the file is anything else or larger than ``max_bytes``.
    """
    label = label or os.path.basename(os.fspath(path))
    try:
        fd, info = open_regular(path, dir_fd=dir_fd, label=label)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > max_bytes:
            raise UnsafeFile(f"{label} is larger than the {_size(max_bytes)} allowed "
                             f"({_size(info.st_size)})")
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:  # grew after fstat
        raise UnsafeFile(f"{label} is larger than the {_size(max_bytes)} allowed")
    return content


def copy_regular(path, destination, max_bytes, *, label=None):
    """Copy a regular one-link file to ``destination`` (created, private); its size.

    Raises UnsafeFile (see ``open_regular``) or if more than ``max_bytes`` would be copied.
    """
    label = label or os.path.basename(os.fspath(path))
    fd, info = open_regular(path, label=label)
    with os.fdopen(fd, "rb") as source:
        if info.st_size > max_bytes:
            raise UnsafeFile(f"{label} is larger than the {_size(max_bytes)} allowed")
        out = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        copied = 0
        with os.fdopen(out, "wb") as target:
            while chunk := source.read(1 << 20):
                copied += len(chunk)
                if copied > max_bytes:
                    raise UnsafeFile(f"{label} is larger than the {_size(max_bytes)} allowed")
                target.write(chunk)
    return copied


@dataclasses.dataclass
class Listing:
    """What ``list_files`` found.

    Attributes
    ----------
    files : list of (str, os.stat_result)
        Regular files (``lstat``), by path relative to the root, '/'-separated.
    skipped : list of str
        One line per entry left out and why (symlinks, FIFOs, too deep, ...), at most 20.
    truncated : bool
        True when the entry limit stopped the walk.
    """

    files: list = dataclasses.field(default_factory=list)
    skipped: list = dataclasses.field(default_factory=list)
    truncated: bool = False

    def skip(self, line):
        if len(self.skipped) < 20:
            self.skipped.append(line)


def list_files(root, *, max_depth, max_entries, skip_dirs=()):
    """Regular files under ``root`` down to ``max_depth`` folders deep, without recursion.

    Symlinks (to files or folders) and special files are listed in ``skipped``, never
    followed; folders named in ``skip_dirs`` are not entered. At most ``max_entries``
    entries are looked at.
    """
    listing = Listing()
    stack = [("", 0)]
    seen = 0
    while stack:
        relative, depth = stack.pop()
        try:
            with os.scandir(os.path.join(root, relative) if relative else root) as entries:
                for entry in entries:
                    seen += 1
                    if seen > max_entries:
                        listing.truncated = True
                        listing.skip(f"more than {max_entries} files and folders: the rest was not read")
                        return listing
                    name = f"{relative}/{entry.name}" if relative else entry.name
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISDIR(info.st_mode):
                        if entry.name in skip_dirs:
                            continue
                        if depth + 1 >= max_depth:
                            listing.skip(f"{_short(name)}/: more than {max_depth} folders deep, "
                                         "not read")
                        else:
                            stack.append((name, depth + 1))
                    elif stat.S_ISREG(info.st_mode):
                        listing.files.append((name, info))
                    else:
                        listing.skip(f"{_short(name)}: {kind_of(info.st_mode)}, not read")
        except OSError as error:
            listing.skip(f"{_short(relative or '.')}/: could not be listed ({error.strerror})")
    listing.files.sort()
    return listing


def remove_tree(path):
    """Remove ``path`` and everything under it, however deep; True when it is gone.

    Never follows a symlink (a link is removed, not what it points to), never recurses
    (one open folder at a time, going back up through '..' checked against the folder
    it came from), and makes folders it may not enter or change accessible first.
    """
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return _ignore(os.unlink, path)
    fd = _open_folder(path, None)
    if fd is None:
        return False
    frames = [[None, _identity(fd), None]]  # [name in parent, (dev, inode), subfolders left]
    try:
        while frames:
            frame = frames[-1]
            if frame[2] is None:
                frame[2] = _clear_files(fd)
            if frame[2]:
                name = frame[2].pop()
                child = _open_folder(name, fd)
                if child is not None:
                    os.close(fd)
                    fd = child
                    frames.append([name, _identity(fd), None])
                continue
            frames.pop()
            if not frames:
                break
            parent = os.open("..", _DIRECTORY_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = parent
            if _identity(fd) != frames[-1][1]:  # the tree was moved meanwhile: stop
                return False
            _retry_writable(lambda: os.rmdir(frame[0], dir_fd=fd), fd)
    except OSError:
        return False
    finally:
        os.close(fd)
    _ignore(os.rmdir, path)
    return not os.path.lexists(path)


def _clear_files(fd):
    """Unlink everything but folders in the open folder ``fd``; the folders' names."""
    while True:
        removed, folders = 0, []
        with os.scandir(fd) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.name)
                else:
                    removed += _retry_writable(lambda n=entry.name: os.unlink(n, dir_fd=fd), fd)
        if not removed:  # a listing made while removing may miss entries: list again
            return folders


def _open_folder(name, dir_fd):
    for attempt in range(2):
        try:
            return os.open(name, _DIRECTORY_FLAGS, dir_fd=dir_fd)
        except PermissionError:
            if attempt or not _ignore(lambda: os.chmod(name, 0o700, dir_fd=dir_fd)):
                return None
        except OSError:
            return None


def _retry_writable(action, fd):
    """Run ``action``; on EACCES make the folder ``fd`` writable and try again. 1 if done."""
    try:
        action()
        return 1
    except PermissionError:
        if _ignore(lambda: os.fchmod(fd, 0o700)) and _ignore(action):
            return 1
    except OSError:
        pass
    return 0


def _ignore(action, *args):
    try:
        action(*args)
        return True
    except OSError:
        return False


def _identity(fd):
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _size(count):
    return f"{count / 2**20:.0f} MB" if count >= 2**20 else f"{count} bytes"


def _short(name, limit=80):
    """A path for a message: at most ``limit`` characters, its end kept."""
    return name if len(name) <= limit else "..." + name[-(limit - 3):]
