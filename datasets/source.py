"""Where the assignment's data comes from, chosen by one setting, and how it is split.

By default the data is drawn by :mod:`datasets.synthetic` (nothing is downloaded).
Instructors can point the environment variable ``TRAIN_QUICKDRAW_DATA`` at real data:

* a ``.npz`` file in the course's ``quickdraw10.npz`` format, or
* a folder of official Quick, Draw! ``numpy_bitmap`` ``<category>.npy`` files.
"""

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import synthetic
from .quickdraw import DataFormatError, load_category_dir, load_npz

DATA_ENV_VAR = "TRAIN_QUICKDRAW_DATA"
"""Environment variable naming the data source; empty or unset means synthetic data."""

QUICKDRAW10_CLASS_NAMES = ("apple", "anvil", "airplane", "banana", "The Eiffel Tower",
                           "The Mona Lisa", "The Great Wall of China", "alarm clock", "ant",
                           "asparagus")
"""The categories behind labels 0..9 of the course's ``quickdraw10.npz``."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Class-blocked bitmaps with their labels and where they came from.

    Attributes
    ----------
    x : numpy.ndarray
        ``(N, 784)`` uint8 bitmaps (read-only).
    y : numpy.ndarray
        ``(N,)`` int64 labels ``0 .. k-1`` (read-only).
    class_names : tuple of str
        The name of each label.
    description : str
        Where the data came from, for logs and reports.
    """

    x: np.ndarray
    y: np.ndarray
    class_names: tuple
    description: str

    def __post_init__(self):
        for array in (self.x, self.y):
            array.flags.writeable = False

    @property
    def sha256(self):
        """Hex SHA-256 of the bitmaps, labels and class names (identifies the data)."""
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(self.x).tobytes())
        digest.update(self.y.astype("<i8").tobytes())
        digest.update(json.dumps(list(self.class_names)).encode("utf-8"))
        return digest.hexdigest()


def _first_per_class(x, y, n_per_class):
    """The first n_per_class rows of each label, class-blocked, labels renumbered 0..k-1."""
    labels = np.unique(y)
    rows = np.concatenate([np.flatnonzero(y == label)[:n_per_class] for label in labels])
    return x[rows], np.searchsorted(labels, y[rows]).astype(np.int64), labels


def load_source(spec=None, *, n_per_class, seed=0):
    """Load the assignment's data set.

    Parameters
    ----------
    spec : str, optional
        Data source: a path to a ``quickdraw10.npz``-format file, a folder of
        ``numpy_bitmap`` ``.npy`` files, or empty for synthetic data. Default:
        the environment variable :data:`DATA_ENV_VAR`.
    n_per_class : int
        Images per class: drawn (synthetic) or the first ones of each class (files).
    seed : int, optional
        Seed of the synthetic drawings (unused for files).

    Returns
    -------
    Dataset

    Raises
    ------
    DataFormatError
        If the setting is not one of the accepted forms or the files are malformed.
    """
    origin = "data source" if spec is not None else f"{DATA_ENV_VAR}"
    spec = (os.environ.get(DATA_ENV_VAR, "") if spec is None else str(spec)).strip()
    if not spec:
        x, y, names = synthetic.generate(n_per_class, seed=seed)
        return Dataset(x, y, names, f"synthetic Quick, Draw! ({len(names)} classes x "
                                    f"{n_per_class}, seed {seed})")
    path = Path(spec).expanduser()
    if path.suffix.lower() == ".npz":
        x, y, labels = _first_per_class(*load_npz(path), n_per_class)
        names = tuple(QUICKDRAW10_CLASS_NAMES[label] if label < len(QUICKDRAW10_CLASS_NAMES)
                      else f"class {label}" for label in labels)
        return Dataset(x, y, names, f"{path.name} at {path.resolve()} "
                                    f"({len(names)} classes, {len(y)} images)")
    if path.is_dir():
        x, y, names = load_category_dir(path, limit_per_class=n_per_class)
        return Dataset(x, y, names, f"numpy_bitmap folder {path.resolve()} "
                                    f"({len(names)} classes x {len(y) // len(names)})")
    raise DataFormatError(
        f"{origin} {spec!r}: expected a path to a .npz file in quickdraw10.npz format "
        f"(arr_0 (N, 784) uint8, arr_1 (N,) labels), an existing folder of Quick, Draw! "
        f"numpy_bitmap <category>.npy files, or empty for the built-in synthetic data "
        f"(set with {DATA_ENV_VAR})")


def _quotas(size, k, start):
    """Split size into k near-equal per-class counts; the extras go to the k classes
    from position start on (cyclically), so that class totals stay balanced."""
    quota = np.full(k, size // k, dtype=np.int64)
    quota[(start + np.arange(size % k)) % k] += 1
    return quota


def split(dataset, *, n_train, n_val, n_test, seed):
    """Split a data set into stratified, disjoint, shuffled train/val/test sets.

    Parameters
    ----------
    dataset : Dataset
        The data to split.
    n_train, n_val, n_test : int
        Rows in each part; each class gets an equal share (as far as possible).
    seed : int
        Seed of the choice and order of rows.

    Returns
    -------
    dict
        ``{"train": (x, y), "val": (x, y), "test": (x, y)}`` with fresh arrays.

    Raises
    ------
    ValueError
        If a class has too few rows for its share.
    """
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    for name, size in sizes.items():
        if int(size) != size or size < 0:
            raise ValueError(f"n_{name} must be a non-negative integer, got {size!r}")
    k = len(dataset.class_names)
    shuffler = np.random.default_rng(seed)
    order = shuffler.permutation(k)              # which classes receive the odd extra rows
    quotas, start = {}, 0
    for name, size in sizes.items():
        quotas[name] = np.empty(k, dtype=np.int64)
        quotas[name][order] = _quotas(int(size), k, start)
        start += int(size) % k
    need = sum(quotas.values())
    counts = np.bincount(dataset.y, minlength=k)
    short = np.flatnonzero(counts < need)
    if len(short):
        c = short[0]
        raise ValueError(
            f"not enough rows: n_train + n_val + n_test = {n_train} + {n_val} + {n_test} = "
            f"{n_train + n_val + n_test} needs {need[c]} rows of class {dataset.class_names[c]!r} "
            f"({k} classes, {len(dataset.y)} rows in all) but it has {counts[c]}")
    parts = {name: [] for name in sizes}
    for c in range(k):
        rows = shuffler.permutation(np.flatnonzero(dataset.y == c))
        taken = 0
        for name in sizes:
            parts[name].append(rows[taken:taken + quotas[name][c]])
            taken += quotas[name][c]
    result = {}
    for name in sizes:
        rows = shuffler.permutation(np.concatenate(parts[name]))
        result[name] = (dataset.x[rows], dataset.y[rows])
    return result
