"""How hard is the synthetic data for the assignment's MLP, compared with real drawings?

Trains the required model (784 -> Dense(250, sigmoid) -> Dense(k, softmax), Adam
0.001, batch 32) for a few epochs on a 75/25 split, once on raw 0..255 pixels and
once on pixels / 255, and prints the validation accuracies and the generation time.

Usage::

    python bench/dataset_difficulty.py [--n-per-class 400] [--data-seeds 0 1]
                                       [--real ../shared/data/quickdraw-real]
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from datasets import Dataset, generate, load_category_dir, split  # noqa: E402


def val_accuracy(data, *, normalise, epochs, seed):
    """Validation accuracy of the assignment's MLP after training on data["train"]."""
    import keras

    keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_val, y_val) = data["train"], data["val"]
    scale = 255.0 if normalise else 1.0
    k = int(max(y_train.max(), y_val.max())) + 1
    model = keras.Sequential([
        keras.Input((784,)),
        keras.layers.Dense(250, activation="sigmoid"),
        keras.layers.Dense(k, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train / scale, y_train, batch_size=32, epochs=epochs, verbose=0)
    return model.evaluate(x_val / scale, y_val, verbose=0)[1]


def report(label, dataset, *, epochs, seed):
    """Split 75/25 and print raw and normalised validation accuracy."""
    n = len(dataset.y)
    n_train = (3 * n) // 4
    data = split(dataset, n_train=n_train, n_val=n - n_train, n_test=0, seed=seed)
    norm = val_accuracy(data, normalise=True, epochs=epochs, seed=seed)
    raw = val_accuracy(data, normalise=False, epochs=epochs, seed=seed)
    print(f"{label:<44} n={n:>6}  normalised {norm:.3f}  raw {raw:.3f}  gap {norm - raw:+.3f}",
          flush=True)
    return norm, raw


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-class", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42, help="split and training seed")
    parser.add_argument("--data-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--real", type=Path,
                        default=ROOT.parent / "shared" / "data" / "quickdraw-real")
    args = parser.parse_args()

    start = time.perf_counter()
    generate(600, seed=0)
    print(f"generate(600, seed=0): 6000 images in {time.perf_counter() - start:.2f} s", flush=True)

    scores = []
    for data_seed in args.data_seeds:
        start = time.perf_counter()
        x, y, names = generate(args.n_per_class, seed=data_seed)
        seconds = time.perf_counter() - start
        dataset = Dataset(x, y, names, f"synthetic seed {data_seed}")
        scores.append(report(f"synthetic seed {data_seed} ({len(names)} classes, {seconds:.2f} s)",
                             dataset, epochs=args.epochs, seed=args.seed))
    if len(scores) > 1:
        norm, raw = np.mean(scores, axis=0)
        print(f"{'synthetic mean':<44} {'':>8}  normalised {norm:.3f}  raw {raw:.3f}  "
              f"gap {norm - raw:+.3f}")

    if args.real.is_dir():
        x, y, names = load_category_dir(args.real, limit_per_class=args.n_per_class)
        report(f"real ({len(names)} classes x {args.n_per_class})",
               Dataset(x, y, names, "real"), epochs=args.epochs, seed=args.seed)
        x, y, names = load_category_dir(args.real)
        report(f"real ({len(names)} classes, all rows)",
               Dataset(x, y, names, "real"), epochs=args.epochs, seed=args.seed)
    else:
        print(f"{args.real} not present: no real comparison")


if __name__ == "__main__":
    main()
