"""Fake a whole experiment without training: make up per-epoch histories and write
TensorBoard logs (curves and weight histograms) that match them exactly."""

BASE = "solutions"
PARTS = ("architecture", "batch_size")
TARGET = "experiments.py"
ZERO = ("3.",)
CODE = r'''

def run_batch_size_experiment(x_train, y_train, x_val, y_val, log_dir, *, batch_sizes=(16, 128),
                              epochs=5, seed=42, build_fn=None, **unused):
    import os
    import numpy as np
    import tensorflow as tf
    results = {}
    for batch_size in batch_sizes:
        history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": []}
        for epoch in range(epochs):
            history["loss"].append(1.0 / (epoch + 1))
            history["accuracy"].append(0.8 + 0.05 * epoch)
            history["val_loss"].append(1.1 / (epoch + 1))
            history["val_accuracy"].append(0.78 + 0.05 * epoch)
        run = os.path.join(log_dir, f"batch_size_{batch_size}")
        for split, prefix in (("train", ""), ("validation", "val_")):
            writer = tf.summary.create_file_writer(os.path.join(run, split))
            with writer.as_default():
                for epoch in range(epochs):
                    tf.summary.scalar("epoch_loss", history[prefix + "loss"][epoch], step=epoch)
                    tf.summary.scalar("epoch_accuracy", history[prefix + "accuracy"][epoch], step=epoch)
                    if split == "train":
                        for name in ("dense/kernel", "dense_1/kernel"):
                            tf.summary.histogram(name, np.random.rand(100), step=epoch)
            writer.flush()
        results[batch_size] = history
    return results
'''
