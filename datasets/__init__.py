"""Quick, Draw! data for the "Module 2: Train" assignment.

The default data set is drawn on the spot by :func:`generate` (nothing is
downloaded); the environment variable ``TRAIN_QUICKDRAW_DATA``
(:data:`DATA_ENV_VAR`) can point :func:`load_source` at real Quick, Draw! files
instead. Only numpy is imported.
"""

from .quickdraw import DataFormatError, load_category_dir, load_category_npy, load_npz
from .source import DATA_ENV_VAR, Dataset, load_source, split
from .synthetic import CLASS_NAMES, generate

__all__ = [
    "CLASS_NAMES",
    "DATA_ENV_VAR",
    "DataFormatError",
    "Dataset",
    "generate",
    "load_category_dir",
    "load_category_npy",
    "load_npz",
    "load_source",
    "split",
]
