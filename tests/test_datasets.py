"""Tests of the datasets package: synthetic drawings, real-format loaders, source and split."""

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import datasets
from datasets import (CLASS_NAMES, DATA_ENV_VAR, DataFormatError, Dataset, generate,
                      load_category_dir, load_category_npy, load_npz, load_source, split)
from datasets.source import QUICKDRAW10_CLASS_NAMES
from datasets.synthetic import ALL_CLASS_NAMES

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "data" / "quickdraw-real"

# sha256 of generate(4, seed=0)'s bytes. If you change the generator on purpose, update
# this: every grade drawn from the synthetic data changes with it.
GOLDEN_SHA256 = "429f0a80220bb475bb0c964c311cebd828fcb8c8363f30da6b1c9c02b27f5a71"


@pytest.fixture(scope="module")
def drawn():
    """A small synthetic data set shared by the read-only tests."""
    return generate(60, seed=0)


def bitmaps(n, value=0):
    """n blank (or constant) bitmaps."""
    return np.full((n, 784), value, dtype=np.uint8)


def write_npz(path, **arrays):
    """Save arrays into an npz at path and return the path."""
    np.savez(path, **arrays)
    return path


# ----------------------------------------------------------------------------- synthetic

def test_same_seed_gives_identical_bytes():
    """Does the same seed give byte-identical bitmaps, labels and names?"""
    first, second = generate(25, seed=7), generate(25, seed=7)
    assert first[0].tobytes() == second[0].tobytes()
    assert first[1].tobytes() == second[1].tobytes()
    assert first[2] == second[2]


def test_different_seeds_give_different_drawings():
    """Do different seeds give different drawings of every class?"""
    (a, y, _), (b, _, _) = generate(10, seed=0), generate(10, seed=1)
    for label in range(len(CLASS_NAMES)):
        assert not np.array_equal(a[y == label], b[y == label])


def test_generator_output_is_pinned():
    """Is generate(4, seed=0) still the data set every earlier grade was drawn from?"""
    x, y, names = generate(4, seed=0)
    digest = hashlib.sha256(x.tobytes() + y.tobytes() + "|".join(names).encode()).hexdigest()
    assert digest == GOLDEN_SHA256, "synthetic data changed; update GOLDEN_SHA256 if on purpose"


def test_shapes_dtypes_and_class_blocked_labels(drawn):
    """Are the bitmaps (N, 784) uint8 and the labels int64, all of class 0 first?"""
    x, y, names = drawn
    assert len(names) >= 10 and names == CLASS_NAMES
    assert all(isinstance(name, str) for name in names)
    assert x.shape == (60 * len(names), 784) and x.dtype == np.uint8
    assert y.shape == (60 * len(names),) and y.dtype == np.int64
    assert np.array_equal(y, np.repeat(np.arange(len(names)), 60))


def test_white_strokes_on_black(drawn):
    """Is the background mostly 0, with strokes that reach (nearly) 255 in every image?"""
    x, _, _ = drawn
    assert (x == 0).mean(axis=1).min() > 0.4
    assert (x == 0).mean() > 0.6
    assert x.max(axis=1).min() >= 250
    assert (x >= 200).mean() > 0.05


def test_anti_aliased_edges(drawn):
    """Are there grey edge pixels between background and ink, as in the real bitmaps?"""
    x, _, _ = drawn
    grey = (x > 0) & (x < 200)
    assert grey.mean() > 0.05


def test_drawings_fill_the_box(drawn):
    """Does the longest side of nearly every drawing span most of the 28 pixels?"""
    ink = drawn[0].reshape(-1, 28, 28) > 0
    longest = np.maximum(ink.any(axis=2).sum(axis=1), ink.any(axis=1).sum(axis=1))
    assert np.percentile(longest, 5) >= 22


def test_class_mean_images_differ(drawn):
    """Are the classes' mean images clearly different from each other?"""
    x, y, names = drawn
    means = np.stack([x[y == c].mean(axis=0) for c in range(len(names))])
    gaps = np.sqrt(((means[:, None] - means[None]) ** 2).sum(axis=-1))
    assert gaps[np.triu_indices(len(names), 1)].min() > 300


def test_classes_learnable_but_not_trivial(drawn):
    """Does a nearest-class-mean rule beat chance by far without being near perfect?"""
    x, y, names = drawn
    means = np.stack([x[y == c].mean(axis=0) for c in range(len(names))])
    fresh_x, fresh_y, _ = generate(60, seed=1)
    distance = ((fresh_x[:, None, :].astype(np.float64) - means[None]) ** 2).sum(axis=-1)
    accuracy = (distance.argmin(axis=1) == fresh_y).mean()
    assert 0.5 < accuracy < 0.97


def test_class_subset_and_extra_families():
    """Can a subset or an extra family be asked for, each class drawing the same images?"""
    x, y, names = generate(5, seed=3, classes=["star", "lightning"])
    assert names == ("star", "lightning") and np.array_equal(y, [0] * 5 + [1] * 5)
    default, labels, _ = generate(5, seed=3)
    assert np.array_equal(x[:5], default[labels == CLASS_NAMES.index("star")])
    assert set(CLASS_NAMES) <= set(ALL_CLASS_NAMES)


@pytest.mark.parametrize("kwargs", [
    {"n_per_class": -1}, {"n_per_class": 2.5}, {"n_per_class": 3, "seed": -2},
    {"n_per_class": 3, "classes": ["circle", "unicorn"]},
    {"n_per_class": 3, "classes": ["circle", "circle"]},
])
def test_bad_generate_arguments(kwargs):
    """Are impossible generate() arguments refused with a ValueError?"""
    with pytest.raises(ValueError):
        generate(**kwargs)


def test_zero_and_one_per_class():
    """Do the edge sizes 0 and 1 per class give well-formed arrays?"""
    x, y, _ = generate(0)
    assert x.shape == (0, 784) and y.shape == (0,)
    x, y, _ = generate(1, seed=9)
    assert x.shape == (len(CLASS_NAMES), 784) and x.max(axis=1).min() > 0


def test_import_is_numpy_only():
    """Does importing datasets leave tensorflow and keras unimported?"""
    code = "import sys, datasets; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_public_api():
    """Does the package re-export its documented names?"""
    for name in ("DataFormatError", "Dataset", "load_source", "split", "generate", "CLASS_NAMES",
                 "load_npz", "load_category_npy", "load_category_dir", "DATA_ENV_VAR"):
        assert hasattr(datasets, name)
    assert DATA_ENV_VAR == "TRAIN_QUICKDRAW_DATA"
    assert issubclass(DataFormatError, ValueError)


# ----------------------------------------------------------------------------- quickdraw10.npz

def test_npz_round_trip_accepts_any_integer_labels(tmp_path):
    """Is a well-formed npz read back unchanged, with int32 labels returned as int64?"""
    x = np.arange(6 * 784, dtype=np.int64).reshape(6, 784).astype(np.uint8)
    y = np.array([0, 0, 1, 1, 2, 2], dtype=np.int32)
    got_x, got_y = load_npz(write_npz(tmp_path / "quickdraw10.npz", arr_0=x, arr_1=y))
    assert np.array_equal(got_x, x) and got_x.dtype == np.uint8
    assert np.array_equal(got_y, y) and got_y.dtype == np.int64


def test_npz_missing_key_names_file_and_keys_found(tmp_path):
    """Is a wrong key in the npz reported with the file name and the keys found?"""
    path = write_npz(tmp_path / "quickdraw10.npz", x=bitmaps(3), y=np.zeros(3, np.int64))
    with pytest.raises(DataFormatError) as error:
        load_npz(path)
    message = str(error.value)
    assert "quickdraw10.npz" in message and "'arr_0'" in message and "['x', 'y']" in message


def test_npz_only_second_key_missing(tmp_path):
    """Is a missing arr_1 named when arr_0 is present?"""
    path = write_npz(tmp_path / "data.npz", arr_0=bitmaps(3))
    with pytest.raises(DataFormatError, match=r"missing key 'arr_1' \(found keys: \['arr_0'\]\)"):
        load_npz(path)


def test_npz_image_shaped_bitmaps(tmp_path):
    """Are (N, 28, 28) bitmaps reported with the shape found and the shape expected?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=np.zeros((100, 28, 28), np.uint8),
                     arr_1=np.zeros(100, np.int64))
    with pytest.raises(DataFormatError) as error:
        load_npz(path)
    assert str(error.value) == (f"{path}: key 'arr_0' has shape (100, 28, 28), "
                                "expected (N, 784) uint8 bitmaps")


def test_npz_float_bitmaps(tmp_path):
    """Are float64 bitmaps (e.g. already divided by 255) refused, naming both dtypes?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=np.zeros((4, 784)),
                     arr_1=np.zeros(4, np.int64))
    with pytest.raises(DataFormatError, match="float64.*uint8"):
        load_npz(path)


def test_npz_row_and_label_counts_differ(tmp_path):
    """Is a label count that differs from the row count reported with both numbers?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=bitmaps(100),
                     arr_1=np.zeros(99, np.int64))
    with pytest.raises(DataFormatError, match="arr_0 has 100 rows but arr_1 has 99 labels"):
        load_npz(path)


def test_npz_negative_labels(tmp_path):
    """Are negative labels refused?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=bitmaps(2), arr_1=np.array([0, -1]))
    with pytest.raises(DataFormatError, match="negative"):
        load_npz(path)


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0]), np.array([[0, 1]]),
                                    np.array(["a", "b"])])
def test_npz_labels_not_integer_vector(tmp_path, labels):
    """Are float, 2-D or string labels refused, naming what was found?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=bitmaps(2), arr_1=labels)
    with pytest.raises(DataFormatError, match=r"arr_1.*expected \(N,\) integer labels"):
        load_npz(path)


def test_npz_with_pickled_objects(tmp_path):
    """Is an npz holding pickled Python objects refused instead of unpickled?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=np.array([{"x": 1}], dtype=object),
                     arr_1=np.zeros(1, np.int64))
    with pytest.raises(DataFormatError, match="quickdraw10.npz"):
        load_npz(path)


def test_npz_missing_not_zip_or_single_array(tmp_path):
    """Are a missing file, a text file and a plain .npy array each reported with the file?"""
    with pytest.raises(DataFormatError, match="nothere.npz: file not found"):
        load_npz(tmp_path / "nothere.npz")
    text = tmp_path / "text.npz"
    text.write_text("apple,banana\n")
    with pytest.raises(DataFormatError, match="text.npz: cannot be read"):
        load_npz(text)
    single = tmp_path / "single.npz"
    with open(single, "wb") as handle:
        np.save(handle, bitmaps(2))
    with pytest.raises(DataFormatError, match="single.npz: is a single .npy array"):
        load_npz(single)


def test_npz_empty(tmp_path):
    """Is an npz with no images refused?"""
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=bitmaps(0), arr_1=np.zeros(0, np.int64))
    with pytest.raises(DataFormatError, match="no rows"):
        load_npz(path)


# ----------------------------------------------------------------------------- numpy_bitmap .npy

def test_npy_flattens_official_layout_and_limits(tmp_path):
    """Is an official (n, 1, 784) file returned as (n, 784), cut to the first `limit` rows?"""
    block = np.arange(5 * 784, dtype=np.int64).reshape(5, 1, 784).astype(np.uint8)
    np.save(tmp_path / "cat.npy", block)
    assert np.array_equal(load_category_npy(tmp_path / "cat.npy"), block.reshape(5, 784))
    first = load_category_npy(tmp_path / "cat.npy", limit=2)
    assert first.shape == (2, 784) and first.flags.writeable
    assert np.array_equal(first, block.reshape(5, 784)[:2])


@pytest.mark.parametrize("array, found", [
    (np.zeros((3, 28, 28), np.uint8), r"\(3, 28, 28\)"),
    (np.zeros((3, 100), np.uint8), r"\(3, 100\)"),
    (np.zeros((3, 784), np.float32), "float32"),
    (np.zeros(784, np.uint8), r"\(784,\)"),
])
def test_npy_wrong_shape_or_dtype(tmp_path, array, found):
    """Is a wrong shape or dtype reported with the file, what was found and what is expected?"""
    np.save(tmp_path / "cat.npy", array)
    with pytest.raises(DataFormatError, match=f"cat.npy: .*{found}.*expected"):
        load_category_npy(tmp_path / "cat.npy")


def test_npy_pickled_objects(tmp_path):
    """Is a pickled object array refused instead of unpickled?"""
    np.save(tmp_path / "cat.npy", np.array([None, {"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataFormatError, match="cat.npy: cannot be read"):
        load_category_npy(tmp_path / "cat.npy")


def test_npy_not_npy(tmp_path):
    """Are a text file, an npz archive and a missing file each refused, naming the file?"""
    (tmp_path / "notes.npy").write_text("not an array")
    with pytest.raises(DataFormatError, match="notes.npy: cannot be read"):
        load_category_npy(tmp_path / "notes.npy")
    np.savez(tmp_path / "archive.npz", bitmaps(2))
    with pytest.raises(DataFormatError, match="archive.npz: is an .npz archive"):
        load_category_npy(tmp_path / "archive.npz")
    with pytest.raises(DataFormatError, match="gone.npy: file not found"):
        load_category_npy(tmp_path / "gone.npy")


# ----------------------------------------------------------------------------- category folders

@pytest.fixture
def category_dir(tmp_path):
    """A folder with three categories of 4, 3 and 5 bitmaps, filled with 1, 2 and 3."""
    for value, (name, count) in enumerate([("zebra", 4), ("apple", 3), ("moon", 5)], start=1):
        np.save(tmp_path / f"{name}.npy", bitmaps(count, value).reshape(count, 1, 784))
    (tmp_path / "README.txt").write_text("not data")
    return tmp_path


def test_dir_sorted_by_name_and_class_blocked(category_dir):
    """Are the files taken in name order, labelled 0..k-1, with class-blocked rows?"""
    x, y, names = load_category_dir(category_dir)
    assert names == ("apple", "moon", "zebra")
    assert np.array_equal(y, [0] * 3 + [1] * 5 + [2] * 4) and y.dtype == np.int64
    assert np.array_equal(x[:, 0], [2] * 3 + [3] * 5 + [1] * 4) and x.shape == (12, 784)


def test_dir_named_categories_in_given_order(category_dir):
    """Are named categories loaded in the order given?"""
    x, y, names = load_category_dir(category_dir, categories=["zebra", "apple"])
    assert names == ("zebra", "apple")
    assert np.array_equal(x[:, 0], [1] * 4 + [2] * 3) and np.array_equal(y, [0] * 4 + [1] * 3)


def test_dir_limit_gives_equal_counts(category_dir):
    """Does limit_per_class cut every class to the same count (at most the smallest)?"""
    _, y, _ = load_category_dir(category_dir, limit_per_class=2)
    assert np.array_equal(np.bincount(y), [2, 2, 2])
    _, y, _ = load_category_dir(category_dir, limit_per_class=4)
    assert np.array_equal(np.bincount(y), [3, 3, 3])


def test_dir_missing_category_lists_found(category_dir):
    """Is a named category without a file reported with the categories found?"""
    with pytest.raises(DataFormatError,
                       match=r"\['banana'\] \(found categories: \['apple', 'moon', 'zebra'\]\)"):
        load_category_dir(category_dir, categories=["apple", "banana"])


def test_dir_without_npy_files_or_missing(tmp_path):
    """Are a folder without .npy files and a missing folder reported by name?"""
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFormatError, match="empty: no .npy files"):
        load_category_dir(tmp_path / "empty")
    with pytest.raises(DataFormatError, match="absent: not a folder"):
        load_category_dir(tmp_path / "absent")


def test_dir_bad_file_is_named(category_dir):
    """Is a malformed file in the folder reported by its name?"""
    np.save(category_dir / "moon.npy", np.zeros((2, 784), np.int16))
    with pytest.raises(DataFormatError, match="moon.npy: .*int16"):
        load_category_dir(category_dir)


def test_real_quickdraw_files_load():
    """Do the real numpy_bitmap files load, and do the synthetic drawings have similar ink?"""
    if not REAL_DATA.is_dir():
        pytest.skip("../shared/data/quickdraw-real not present: real Quick, Draw! reference "
                    "data is only on development/CI machines")
    x, y, names = load_category_dir(REAL_DATA, limit_per_class=500)
    assert len(names) >= 2 and x.shape == (500 * len(names), 784) and x.dtype == np.uint8
    assert np.array_equal(np.bincount(y), [500] * len(names))
    synthetic, _, _ = generate(50, seed=0)
    for stat in (lambda a: a.mean(), lambda a: (a > 0).mean(), lambda a: (a > 200).mean()):
        assert 0.7 < stat(synthetic) / stat(x) < 1.4


# ----------------------------------------------------------------------------- source

def test_default_source_is_synthetic(monkeypatch):
    """With the setting unset or blank, is the synthetic data set drawn from the seed?"""
    for value in (None, "  "):
        if value is None:
            monkeypatch.delenv(DATA_ENV_VAR, raising=False)
        else:
            monkeypatch.setenv(DATA_ENV_VAR, value)
        data = load_source(n_per_class=6, seed=2)
        x, y, names = generate(6, seed=2)
        assert np.array_equal(data.x, x) and np.array_equal(data.y, y)
        assert data.class_names == names
        assert data.description == f"synthetic Quick, Draw! ({len(names)} classes x 6, seed 2)"


def test_env_var_picks_up_npz(tmp_path, monkeypatch):
    """Does the setting load a quickdraw10.npz, keeping the first n_per_class of each class?"""
    y = np.array([1, 0, 1, 0, 1, 0, 1], dtype=np.int64)
    x = bitmaps(7)
    x[:, 0] = np.arange(7)
    path = write_npz(tmp_path / "quickdraw10.npz", arr_0=x, arr_1=y)
    monkeypatch.setenv(DATA_ENV_VAR, str(path))
    data = load_source(n_per_class=2)
    assert np.array_equal(data.x[:, 0], [1, 3, 0, 2]) and np.array_equal(data.y, [0, 0, 1, 1])
    assert data.class_names == QUICKDRAW10_CLASS_NAMES[:2]
    assert "quickdraw10.npz" in data.description and str(tmp_path) in data.description


def test_quickdraw10_class_names():
    """Are the ten quickdraw10.npz categories named in label order?"""
    assert QUICKDRAW10_CLASS_NAMES == ("apple", "anvil", "airplane", "banana", "The Eiffel Tower",
                                       "The Mona Lisa", "The Great Wall of China", "alarm clock",
                                       "ant", "asparagus")


def test_source_folder(category_dir):
    """Does a folder spec load its categories, n_per_class each?"""
    data = load_source(str(category_dir), n_per_class=2)
    assert data.class_names == ("apple", "moon", "zebra")
    assert np.array_equal(data.y, [0, 0, 1, 1, 2, 2]) and str(category_dir) in data.description


def test_bad_setting_names_setting_and_forms(tmp_path, monkeypatch):
    """Is a setting that is neither .npz nor folder reported with the accepted forms?"""
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "data.csv"))
    with pytest.raises(DataFormatError) as error:
        load_source(n_per_class=3)
    message = str(error.value)
    assert DATA_ENV_VAR in message and "data.csv" in message
    assert ".npz" in message and "folder" in message and "synthetic" in message


def test_missing_npz_setting(tmp_path):
    """Is a .npz setting pointing nowhere reported with the file name?"""
    with pytest.raises(DataFormatError, match="quickdraw10.npz: file not found"):
        load_source(str(tmp_path / "quickdraw10.npz"), n_per_class=3)


def test_dataset_fingerprint_and_read_only():
    """Does sha256 identify the data (same data same hash, any change a new one) and are the
    arrays read-only?"""
    x, y, names = generate(3, seed=0)
    first = Dataset(x.copy(), y.copy(), names, "a")
    assert first.sha256 == Dataset(x.copy(), y.copy(), names, "b").sha256
    changed = x.copy()
    changed[0, 0] ^= 1
    assert first.sha256 != Dataset(changed, y.copy(), names, "a").sha256
    assert first.sha256 != Dataset(x.copy(), y.copy(), names[::-1], "a").sha256
    with pytest.raises(ValueError):
        first.x[0, 0] = 1


# ----------------------------------------------------------------------------- split

@pytest.fixture(scope="module")
def numbered():
    """10 classes x 40 rows; pixels 0-1 hold the row number, so rows can be traced."""
    y = np.repeat(np.arange(10, dtype=np.int64), 40)
    x = np.zeros((400, 784), np.uint8)
    x[:, 0], x[:, 1] = np.arange(400) // 256, np.arange(400) % 256
    return Dataset(x, y, tuple(f"c{i}" for i in range(10)), "numbered")


def rows_of(x):
    """The row numbers written into pixels 0-1 by the numbered fixture."""
    return x[:, 0].astype(int) * 256 + x[:, 1]


def test_split_sizes_disjoint_and_consistent(numbered):
    """Are the parts the requested sizes, disjoint, and labelled like their source rows?"""
    parts = split(numbered, n_train=253, n_val=61, n_test=47, seed=1)
    assert [len(parts[k][1]) for k in ("train", "val", "test")] == [253, 61, 47]
    rows = [set(rows_of(parts[k][0])) for k in ("train", "val", "test")]
    assert sum(map(len, rows)) == 361 and len(set.union(*rows)) == 361
    for x, y in parts.values():
        assert np.array_equal(numbered.y[rows_of(x)], y)
        assert x.dtype == np.uint8 and y.dtype == np.int64 and x.flags.writeable


def test_split_stratified(numbered):
    """Does every class get an equal share of each part (within one row)?"""
    parts = split(numbered, n_train=253, n_val=61, n_test=47, seed=1)
    total = np.zeros(10, int)
    for _, y in parts.values():
        counts = np.bincount(y, minlength=10)
        assert counts.max() - counts.min() <= 1
        total += counts
    assert total.max() - total.min() <= 1


def test_split_deterministic_and_shuffled(numbered):
    """Does one seed give the same split, another seed a different one, both shuffled?"""
    a = split(numbered, n_train=200, n_val=50, n_test=50, seed=3)
    b = split(numbered, n_train=200, n_val=50, n_test=50, seed=3)
    c = split(numbered, n_train=200, n_val=50, n_test=50, seed=4)
    for key in ("train", "val", "test"):
        assert np.array_equal(a[key][0], b[key][0]) and np.array_equal(a[key][1], b[key][1])
        assert not np.array_equal(a[key][0], c[key][0])
        assert np.any(np.diff(a[key][1]) < 0)


def test_split_too_few_rows(numbered):
    """Is a split needing more rows than a class has refused with the numbers?"""
    with pytest.raises(ValueError, match=r"300 \+ 60 \+ 60 = 420 .*needs 42 .*has 40"):
        split(numbered, n_train=300, n_val=60, n_test=60, seed=0)


def test_held_out_split_cannot_be_regenerated_from_the_student_bundle(monkeypatch):
    """The held-out images come from a seed only the autograder holds: none of them is
    among what the student bundle's generator makes at any public seed (the profiles'
    data seeds, the self-check's stand-in seed, the usual small seeds), while the
    training and validation images are (so the check itself can find a match)."""
    from grader import engine
    from grader.config import GRADE
    monkeypatch.delenv(DATA_ENV_VAR, raising=False)
    data, _ = engine.load_data(GRADE)
    held_out = {row.tobytes() for row in data["x_test"]}
    public_seeds = sorted({GRADE.data_seed, GRADE.data_seed + 1, *range(0, 6), 42, 123, 1234})
    regenerated = set()
    for seed in public_seeds:
        x, _, _ = generate(GRADE.n_per_class, seed=seed)
        regenerated |= {row.tobytes() for row in x}
    assert {row.tobytes() for row in data["x_train"]} <= regenerated  # the check can match
    assert not held_out & regenerated
    assert engine.held_out_seed(GRADE) not in public_seeds
