"""Loaders for real Quick, Draw! bitmaps: the course's ``quickdraw10.npz`` and the
official per-category ``numpy_bitmap`` ``.npy`` files.

Every problem with a file raises :class:`DataFormatError`, whose message names the
file, what was expected and what was found.
"""

from pathlib import Path

import numpy as np

PIXELS = 28 * 28
"""Values per bitmap."""


class DataFormatError(ValueError):
    """A data file or setting is not in the expected Quick, Draw! format."""


def _open(path, what, mmap_mode=None):
    """``np.load`` without pickles; any failure becomes a DataFormatError naming the file."""
    try:
        return np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    except FileNotFoundError:
        raise DataFormatError(f"{path}: file not found, expected {what}") from None
    except (OSError, ValueError, EOFError) as error:
        raise DataFormatError(f"{path}: cannot be read as {what} ({error})") from None


def _bitmaps(array, path, name, expected):
    """Check that array holds (N, 784) uint8 bitmaps (a (N, 1, 784) block is flattened)."""
    if array.ndim == 3 and array.shape[1] == 1:
        array = array.reshape(len(array), -1)
    if array.ndim != 2 or array.shape[1] != PIXELS:
        raise DataFormatError(f"{path}: {name} has shape {array.shape}, expected {expected}")
    if array.dtype != np.uint8:
        raise DataFormatError(f"{path}: {name} has dtype {array.dtype}, expected {expected}")
    if len(array) == 0:
        raise DataFormatError(f"{path}: {name} has no rows, expected {expected}")
    return array


def load_npz(path):
    """Load the course's ``quickdraw10.npz``.

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` archive with ``arr_0``: ``(N, 784)`` uint8 bitmaps and
        ``arr_1``: ``(N,)`` non-negative integer labels.

    Returns
    -------
    x : numpy.ndarray
        ``(N, 784)`` uint8 bitmaps.
    y : numpy.ndarray
        ``(N,)`` int64 labels.

    Raises
    ------
    DataFormatError
        If the file is missing, unreadable, not an ``.npz`` archive, lacks a key,
        or holds arrays of the wrong shape, dtype or length, or negative labels.
    """
    what = "an .npz archive with arr_0 (N, 784) uint8 bitmaps and arr_1 (N,) integer labels"
    archive = _open(path, what)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DataFormatError(f"{path}: is a single .npy array, expected {what}")
    with archive:
        for key in ("arr_0", "arr_1"):
            if key not in archive.files:
                raise DataFormatError(
                    f"{path}: missing key {key!r} (found keys: {sorted(archive.files)}), "
                    f"expected {what}")
        try:
            x, y = archive["arr_0"], archive["arr_1"]
        except (OSError, ValueError, EOFError) as error:
            raise DataFormatError(
                f"{path}: cannot read its arrays ({error}), expected {what}") from None
    x = _bitmaps(x, path, "key 'arr_0'", "(N, 784) uint8 bitmaps")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise DataFormatError(
            f"{path}: key 'arr_1' has shape {y.shape} and dtype {y.dtype}, "
            "expected (N,) integer labels")
    if len(x) != len(y):
        raise DataFormatError(f"{path}: arr_0 has {len(x)} rows but arr_1 has {len(y)} labels")
    if y.min() < 0:
        raise DataFormatError(
            f"{path}: arr_1 has negative labels (min {y.min()}), expected labels >= 0")
    return np.ascontiguousarray(x), y.astype(np.int64)


def load_category_npy(path, limit=None):
    """Load one official ``numpy_bitmap`` category file.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file of ``(n, 784)`` or ``(n, 1, 784)`` uint8 bitmaps.
    limit : int, optional
        Return only the first ``limit`` rows.

    Returns
    -------
    numpy.ndarray
        ``(n, 784)`` uint8 bitmaps (at most ``limit`` rows).

    Raises
    ------
    DataFormatError
        If the file is missing or unreadable, not a plain ``.npy`` array (an
        ``.npz`` archive, pickled objects), or of the wrong shape or dtype.
    """
    what = "a .npy array of (n, 784) or (n, 1, 784) uint8 bitmaps"
    if limit is not None and (int(limit) != limit or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, got {limit!r}")
    array = _open(path, what, mmap_mode="r")  # official files are large: read only the rows kept
    if not isinstance(array, np.ndarray):
        array.close()
        raise DataFormatError(f"{path}: is an .npz archive, expected {what}")
    array = _bitmaps(array, path, "the array", "(n, 784) or (n, 1, 784) uint8 bitmaps")
    return np.array(array if limit is None else array[: int(limit)], order="C")


def load_category_dir(directory, categories=None, limit_per_class=None):
    """Load a folder of official ``numpy_bitmap`` files, one class per file.

    Parameters
    ----------
    directory : str or os.PathLike
        Folder holding ``<category>.npy`` files.
    categories : sequence of str, optional
        Category names (file names without ``.npy``) in label order; default
        every ``*.npy`` in the folder, sorted by name.
    limit_per_class : int, optional
        Keep the first ``limit_per_class`` rows of each class, and no more than
        the smallest class has, so that all classes have the same count.

    Returns
    -------
    x : numpy.ndarray
        ``(N, 784)`` uint8 bitmaps, class-blocked: all of class 0, then class 1, ...
    y : numpy.ndarray
        ``(N,)`` int64 labels ``0 .. k-1``.
    class_names : tuple of str
        The category of each label.

    Raises
    ------
    DataFormatError
        If the folder is missing or has no ``.npy`` files, a named category has
        no file, or a file is not in the expected format.
    """
    directory = Path(directory)
    what = "a folder of <category>.npy files"
    if not directory.is_dir():
        raise DataFormatError(f"{directory}: not a folder, expected {what}")
    found = sorted(p.stem for p in directory.glob("*.npy") if p.is_file())
    if not found:
        raise DataFormatError(f"{directory}: no .npy files found, expected {what}")
    names = tuple(found) if categories is None else tuple(categories)
    missing = [name for name in names if name not in found]
    if missing or not names:
        raise DataFormatError(
            f"{directory}: no file for categories {missing} (found categories: {found})")
    arrays = [load_category_npy(directory / f"{name}.npy", limit_per_class) for name in names]
    if limit_per_class is not None:
        count = min(len(a) for a in arrays)
        arrays = [a[:count] for a in arrays]
    x = np.concatenate(arrays)
    y = np.repeat(np.arange(len(arrays), dtype=np.int64), [len(a) for a in arrays])
    return x, y, names
