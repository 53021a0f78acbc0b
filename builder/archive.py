"""Deterministic zip archives and file trees.

Two builds from the same inputs give byte-identical zips: entries are sorted, every entry has
the same timestamp (1980-01-01 00:00:00, the earliest a zip can hold), fixed Unix permissions,
the same compression level, and there are no directory entries.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path, PurePosixPath
from typing import Mapping, Union

__all__ = [
    "EXECUTABLE_NAMES",
    "FIXED_DATE_TIME",
    "collect_files",
    "sha256_bytes",
    "sha256_file",
    "write_tree",
    "write_zip",
]

FileSource = Union[Path, bytes]

FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESSLEVEL = 9
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
#: Entries with one of these base names get mode 0o755 (Gradescope runs them directly).
EXECUTABLE_NAMES = frozenset({"setup.sh", "run_autograder"})
#: Never packed: caches and editor or OS droppings.
SKIPPED_DIR_NAMES = frozenset({"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex sha256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_skipped(relative: PurePosixPath) -> bool:
    if any(part in SKIPPED_DIR_NAMES or part.startswith(".") for part in relative.parts):
        return True
    return relative.name.endswith(SKIPPED_SUFFIXES)


def collect_files(root_dir: Path, prefix: str = "") -> dict[str, Path]:
    """Every file under ``root_dir`` as ``{prefix + relative posix path: path}``, sorted.

    Skips ``__pycache__`` and other cache folders, ``*.pyc`` and dot-files.
    """
    root_dir = Path(root_dir)
    found: dict[str, Path] = {}
    for path in sorted(root_dir.rglob("*")):
        relative = PurePosixPath(path.relative_to(root_dir).as_posix())
        if path.is_file() and not _is_skipped(relative):
            found[prefix + str(relative)] = path
    return dict(sorted(found.items()))


def _check_name(name: str) -> str:
    posix = PurePosixPath(name)
    if posix.is_absolute() or ".." in posix.parts or name != str(posix) or not name:
        raise ValueError(f"archive entry name must be a plain relative path, got {name!r}")
    return name


def _read(source: FileSource) -> bytes:
    return source if isinstance(source, bytes) else Path(source).read_bytes()


def _mode(name: str, executable: frozenset[str] | set[str]) -> int:
    return EXECUTABLE_MODE if PurePosixPath(name).name in executable else FILE_MODE


def write_zip(
    zip_path: Path,
    files: Mapping[str, FileSource] | Path,
    *,
    executable: frozenset[str] | set[str] = EXECUTABLE_NAMES,
) -> Path:
    """Write a reproducible zip.

    Parameters
    ----------
    zip_path : Path
        Where to write; replaced if it exists.
    files : mapping of str to Path or bytes, or Path
        Entry name (posix, relative) to its content or the file holding it; or a folder whose
        files (see `collect_files`) are packed relative to it.
    executable : set of str, default=EXECUTABLE_NAMES
        Base names that get mode 0o755; every other entry gets 0o644.

    Returns
    -------
    Path
        ``zip_path``.
    """
    if not isinstance(files, Mapping):
        files = collect_files(Path(files))
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = zip_path.with_name(zip_path.name + ".tmp")
    with zipfile.ZipFile(tmp_path, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(_check_name(name), date_time=FIXED_DATE_TIME)
            info.create_system = 3  # Unix, so that external_attr holds permissions
            info.external_attr = (0o100000 | _mode(name, executable)) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _read(files[name]), compress_type=zipfile.ZIP_DEFLATED,
                             compresslevel=COMPRESSLEVEL)
    os.replace(tmp_path, zip_path)
    return zip_path


def write_tree(
    dest_dir: Path,
    files: Mapping[str, FileSource],
    *,
    executable: frozenset[str] | set[str] = EXECUTABLE_NAMES,
) -> list[Path]:
    """Replace ``dest_dir`` with exactly ``files`` (same names and modes as `write_zip`).

    Returns
    -------
    list of Path
        The files written, sorted.
    """
    dest_dir = Path(dest_dir)
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    written = []
    for name in sorted(files):
        target = dest_dir / _check_name(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_read(files[name]))
        target.chmod(_mode(name, executable))
        written.append(target)
    return written
