"""The gradebook's store: every grade kept under (submission content, grader fingerprint).

A rerun of ``grade-all`` looks each submission up by the sha256 of its content and the
fingerprint of everything that decides its grade (the grader's code, tests, calibration,
held-out seed and shipped replays, the data code and data file, the profile and options,
the grading limits, the versions of TensorFlow, Keras, NumPy and otter). Found: nothing is
graded. A test fixed, a threshold recalibrated, a package upgraded: the fingerprint
changes and every submission is graded again; a student who resubmits changes the
content hash and only they are graded again.

Layout: ``<store>/<fingerprint[:20]>/<content sha256>.json``, one record per file,
written atomically (a Ctrl-C leaves whole records only). Records of a grade that could
not be made are not kept: a rerun tries them again.
"""

import hashlib
import json
import os
import stat
import tempfile
from importlib import metadata

from grader.config import PACKAGE_DIR, PACKAGE_ROOT

#: Modules of the gradebook itself: they do not change a grade, so not the fingerprint.
NOT_FINGERPRINTED = {"gradebook.py", "gradebook_store.py", "gradebook_pool.py",
                     "gradebook_zygote.py", "classreport.py", "cli.py", "__main__.py"}
#: Packages whose versions can change a grade.
PACKAGES = ("tensorflow-cpu", "tensorflow", "keras", "numpy", "otter-grader", "tensorboard")
#: Settings that only change how fast a grade is made, not what it is.
SPEED_ONLY_SETTINGS = {"TRAIN_GRADER_REPLAY_CACHE", "TRAIN_GRADER_NO_SHIPPED_REPLAYS"}
#: Files larger than this are hashed by size and modification time only (data files).
HASH_LIMIT_BYTES = 256 * 2**20


def _walk(top):
    """(relative path, lstat) of every entry under ``top``, sorted, links not followed."""
    found = []
    pending = [""]
    while pending:
        relative = pending.pop()
        folder = os.path.join(top, relative)
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            found.append((os.path.join(relative, name), info))
            if stat.S_ISDIR(info.st_mode):
                pending.append(os.path.join(relative, name))
    return sorted(found, key=lambda item: item[0])


def _file_digest(path, digest):
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def content_hash(path):
    """sha256 of a submission: a zip's bytes, or a folder's entries (names, kinds, file
    contents and link targets; nothing is followed)."""
    digest = hashlib.sha256()
    if not os.path.isdir(path):
        digest.update(b"file\0")
        _file_digest(path, digest)
        return digest.hexdigest()
    digest.update(b"folder\0")
    for relative, info in _walk(path):
        full = os.path.join(path, relative)
        digest.update(relative.encode("utf-8", "surrogateescape") + b"\0")
        if stat.S_ISREG(info.st_mode):
            digest.update(b"f\0")
            try:
                _file_digest(full, digest)
            except OSError:
                digest.update(b"unreadable")
        elif stat.S_ISLNK(info.st_mode):
            digest.update(b"l\0" + os.fsencode(os.readlink(full)))
        elif stat.S_ISDIR(info.st_mode):
            digest.update(b"d")
        else:
            digest.update(b"o%o" % stat.S_IFMT(info.st_mode))
        digest.update(b"\0")
    return digest.hexdigest()


def _tree_digest(top, digest, *, skip_names=()):
    for relative, info in _walk(top):
        parts = relative.split(os.sep)
        if "__pycache__" in parts or relative.endswith(".pyc") or parts[-1] in skip_names:
            continue
        if stat.S_ISREG(info.st_mode):
            digest.update(relative.encode() + b"\0")
            _file_digest(os.path.join(top, relative), digest)
            digest.update(b"\0")


def grader_fingerprint(options, *, package_dir=PACKAGE_DIR, package_root=PACKAGE_ROOT,
                       environ=None):
    """sha256 of everything that decides a grade besides the submission (see module doc).

    ``options``: the grading options (profile name, seed, hidden tests, parts).
    """
    environ = os.environ if environ is None else environ
    digest = hashlib.sha256()
    digest.update(json.dumps(options, sort_keys=True).encode() + b"\0")
    top_level = {name for name in NOT_FINGERPRINTED}
    for relative, info in _walk(package_dir):
        parts = relative.split(os.sep)
        if ("__pycache__" in parts or relative.endswith(".pyc")
                or (len(parts) == 1 and parts[0] in top_level)):
            continue
        if stat.S_ISREG(info.st_mode):
            digest.update(b"grader/" + relative.encode() + b"\0")
            _file_digest(os.path.join(package_dir, relative), digest)
            digest.update(b"\0")
    datasets_dir = os.path.join(package_root, "datasets")
    if os.path.isdir(datasets_dir):
        digest.update(b"datasets\0")
        _tree_digest(datasets_dir, digest)
    for name in sorted(environ):
        if (name.startswith("TRAIN_GRADER_") and name not in SPEED_ONLY_SETTINGS) \
                or name == "TRAIN_QUICKDRAW_DATA":
            digest.update(f"{name}={environ[name]}\0".encode())
    data = environ.get("TRAIN_QUICKDRAW_DATA")
    if data:
        for relative, info in ([("", os.stat(data))] if os.path.isfile(data) else _walk(data)):
            digest.update(f"{relative}:{info.st_size}:{int(info.st_mtime)}\0".encode())
    for package in PACKAGES:
        try:
            digest.update(f"{package}=={metadata.version(package)}\0".encode())
        except metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()


class Store:
    """Records of grades in ``folder`` (see the module doc)."""

    def __init__(self, folder):
        self.folder = os.path.abspath(folder)
        os.makedirs(self.folder, mode=0o700, exist_ok=True)

    def _path(self, content_sha256, fingerprint):
        if not (content_sha256.isalnum() and fingerprint.isalnum()):
            raise ValueError("a content hash and a fingerprint are hex digits")
        return os.path.join(self.folder, fingerprint[:20], f"{content_sha256}.json")

    def get(self, content_sha256, fingerprint):
        """The record kept for this content and fingerprint, or None."""
        try:
            with open(self._path(content_sha256, fingerprint), encoding="utf-8") as handle:
                record = json.load(handle)
        except (OSError, ValueError):
            return None
        if record.get("fingerprint") != fingerprint or record.get("status") != "graded":
            return None
        return record

    def put(self, record):
        """Keep ``record`` (only grades that were made; see the module doc)."""
        if record.get("status") != "graded":
            return False
        path = self._path(record["content_sha256"], record["fingerprint"])
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".record-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                json.dump(record, stream, allow_nan=False)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        return True

    def __len__(self):
        return sum(name.endswith(".json") for _, _, names in os.walk(self.folder) for name in names)
