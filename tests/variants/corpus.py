"""Correct-but-different solutions: each must earn every point.

Every variant is ``solutions/`` with a few text replacements (each ``old`` text must occur
exactly once in its module). ``tests/test_variants.py`` grades them.
"""

import dataclasses
import importlib
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Variant:
    """One correct way of solving a part that the reference does not take.

    Attributes
    ----------
    name : str
    approach : str
        What the variant does differently, in one line.
    replacements : tuple of (module, old, new)
    """

    name: str
    approach: str
    replacements: tuple

    @property
    def modules(self):
        return sorted({module[:-3] for module, _, _ in self.replacements})


SEQUENTIAL = '''    layers = [keras.Input(shape=(input_dim,))]
    if input_scale is not None:
        layers.append(keras.layers.Rescaling(input_scale))
    layers.append(keras.layers.Dense(HIDDEN_UNITS, activation=HIDDEN_ACTIVATION,
                                     name=HIDDEN_LAYER_NAME))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name=OUTPUT_LAYER_NAME))
    model = keras.Sequential(layers, name=MODEL_NAME)
'''

FUNCTIONAL = '''    inputs = keras.Input(shape=(input_dim,))
    features = inputs
    if input_scale is not None:
        features = keras.layers.Rescaling(input_scale)(features)
    hidden = keras.layers.Dense(HIDDEN_UNITS, activation=HIDDEN_ACTIVATION)(features)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(hidden)
    model = keras.Model(inputs=inputs, outputs=outputs)
'''

OPTIMIZER_BY_NAME = "    return OPTIMIZERS[key](learning_rate=learning_rate)\n"

OPTIMIZER_BY_CLASS = '''    if key == "sgd":
        return keras.optimizers.SGD(learning_rate=learning_rate)
    elif key == "adam":
        return keras.optimizers.Adam(learning_rate=learning_rate)
    elif key == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate=learning_rate)
    elif key == "adagrad":
        return keras.optimizers.Adagrad(learning_rate=learning_rate)
    else:
        return keras.optimizers.Nadam(learning_rate=learning_rate)
'''

OPTIMIZER_BY_STRING = '''    return keras.optimizers.get({"class_name": key, "config": {"learning_rate": learning_rate}})
'''

DIVIDE = "    return np.asarray(x, dtype=np.float32) / np.float32(255.0)\n"

BY_MAX = '''    x = np.asarray(x, dtype=np.float32)
    return x / x.max()
'''

# The usual call: every pixel column scaled by its own min and max in this array.
MIN_MAX_SCALER = '''    from sklearn.preprocessing import MinMaxScaler
    return MinMaxScaler().fit_transform(np.asarray(x, dtype=np.float32)).astype(np.float32)
'''

# One scaler for all pixels, fitted on the intensity range 0-255.
MIN_MAX_SCALER_0_255 = '''    from sklearn.preprocessing import MinMaxScaler
    column = np.asarray(x, dtype=np.float32).reshape(-1, 1)
    scaler = MinMaxScaler().fit(np.array([[0.0], [255.0]]))
    return scaler.transform(column).reshape(np.shape(x)).astype(np.float32)
'''

REFERENCE_RUNS = '''    inputs = {
        RAW_RUN: (x_train, x_val),
        NORMALIZED_RUN: (normalize_pixels(x_train), normalize_pixels(x_val)),
    }
    histories = {}
    for run_name, (run_x_train, run_x_val) in inputs.items():
        histories[run_name] = train_run(
            build_fn, run_x_train, y_train, run_x_val, y_val, os.path.join(log_dir, run_name),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
    return histories
'''

# The model rescales raw pixels itself: same runs, raw inputs, input_scale for one of them.
RESCALING_RUNS = '''    histories = {}
    for run_name, scale in ((RAW_RUN, None), (NORMALIZED_RUN, 1 / 255)):
        histories[run_name] = train_run(
            build_fn, x_train, y_train, x_val, y_val, os.path.join(log_dir, run_name),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed, input_scale=scale,
        )
    return histories
'''


def comprehension(key, values, setting):
    return f'''    return {{
        {key}: train_run(
            build_fn, x_train, y_train, x_val, y_val,
            os.path.join(log_dir, run_dir_name("{setting}", {key})),
            optimizer={"name" if setting == "optimizer" else "optimizer"}, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
        for {key} in {values}
    }}
'''


def explicit_loop(key, values, setting):
    return f'''    histories = {{}}
    for {key} in {values}:
        run_dir = os.path.join(log_dir, run_dir_name("{setting}", {key}))
        history = train_run(build_fn, x_train, y_train, x_val, y_val, run_dir,
                            optimizer={"name" if setting == "optimizer" else "optimizer"},
                            learning_rate=learning_rate, batch_size=batch_size,
                            epochs=epochs, seed=seed)
        histories[{key}] = history
    return histories
'''


LOOPS = (("batch_size", "batch_sizes", "batch_size"),
         ("learning_rate", "learning_rates", "learning_rate"),
         ("name", "optimizers", "optimizer"))

TENSORBOARD_CALLBACK = '''    tensorboard = keras.callbacks.TensorBoard(log_dir=str(run_dir), histogram_freq=HISTOGRAM_FREQ)
'''

# Hand-written logging: per-epoch scalars and a histogram of every layer's kernel.
SUMMARY_CALLBACK = '''    import tensorflow as tf

    class SummaryLogger(keras.callbacks.Callback):
        def __init__(self, directory):
            super().__init__()
            self.writer = tf.summary.create_file_writer(str(directory))

        def on_epoch_end(self, epoch, logs=None):
            with self.writer.as_default():
                for name, value in (logs or {}).items():
                    tf.summary.scalar(name, value, step=epoch)
                for layer in self.model.layers:
                    if getattr(layer, "kernel", None) is not None:
                        tf.summary.histogram(f"{layer.name}/kernel", layer.kernel, step=epoch)
            self.writer.flush()

        def on_train_end(self, logs=None):
            self.writer.close()

    tensorboard = SummaryLogger(run_dir)
'''

HIDDEN_AND_OUTPUT = '''    layers.append(keras.layers.Dense(HIDDEN_UNITS, activation=HIDDEN_ACTIVATION,
                                     name=HIDDEN_LAYER_NAME))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name=OUTPUT_LAYER_NAME))
'''

# The same layers with each activation as a layer of its own.
ACTIVATION_LAYERS = '''    layers.append(keras.layers.Dense(HIDDEN_UNITS))
    layers.append(keras.layers.Activation(HIDDEN_ACTIVATION))
    layers.append(keras.layers.Dense(n_classes))
    layers.append(keras.layers.Activation("softmax"))
'''

# Activation functions instead of their names, and a Softmax layer after a linear output.
ACTIVATION_FUNCTIONS = '''    layers.append(keras.layers.Dense(HIDDEN_UNITS, activation=keras.activations.sigmoid))
    layers.append(keras.layers.Dense(n_classes))
    layers.append(keras.layers.Softmax())
'''

# The optimizer class found by its own name, compared in lower case.
OPTIMIZER_BY_CLASS_NAME = '''    for optimizer_class in (keras.optimizers.SGD, keras.optimizers.Adam, keras.optimizers.RMSprop,
                            keras.optimizers.Adagrad, keras.optimizers.Nadam):
        if optimizer_class.__name__.lower() == key:
            return optimizer_class(learning_rate=learning_rate)
'''

VARIANTS = (
    Variant("functional_api", "build_model with the functional API instead of Sequential",
            (("architecture.py", SEQUENTIAL, FUNCTIONAL),)),
    Variant("optimizers_by_class", "an if/elif chain of optimizer classes",
            (("architecture.py", OPTIMIZER_BY_NAME, OPTIMIZER_BY_CLASS),)),
    Variant("optimizers_by_string", "keras.optimizers.get with the name and a config",
            (("architecture.py", OPTIMIZER_BY_NAME, OPTIMIZER_BY_STRING),)),
    Variant("normalize_by_max", "normalize_pixels divides by x.max()",
            (("normalization.py", DIVIDE, BY_MAX),)),
    Variant("normalize_min_max_scaler", "sklearn's MinMaxScaler().fit_transform(x) per pixel column, as float32",
            (("normalization.py", DIVIDE, MIN_MAX_SCALER),)),
    Variant("normalize_min_max_scaler_0_255", "one sklearn MinMaxScaler fitted on the range 0-255, as float32",
            (("normalization.py", DIVIDE, MIN_MAX_SCALER_0_255),)),
    Variant("normalize_in_the_model",
            "the normalized run feeds raw pixels to a model with a Rescaling(1/255) layer",
            (("normalization.py", REFERENCE_RUNS, RESCALING_RUNS),)),
    Variant("explicit_loops", "for loops filling a dict instead of dict comprehensions",
            tuple(("experiments.py", comprehension(*loop), explicit_loop(*loop)) for loop in LOOPS)),
    Variant("tf_summary_logging",
            "a custom callback writes the scalars and kernel histograms with tf.summary",
            (("training.py", TENSORBOARD_CALLBACK, SUMMARY_CALLBACK),)),
    Variant("activation_layers",
            "Dense(250) + Activation('sigmoid') and Dense(n_classes) + Activation('softmax')",
            (("architecture.py", HIDDEN_AND_OUTPUT, ACTIVATION_LAYERS),)),
    Variant("activation_functions_and_softmax_layer",
            "activation=keras.activations.sigmoid, and keras.layers.Softmax() after a linear output",
            (("architecture.py", HIDDEN_AND_OUTPUT, ACTIVATION_FUNCTIONS),)),
    Variant("optimizer_by_class_name",
            "the optimizer class whose __name__ in lower case is the name (any case)",
            (("architecture.py", OPTIMIZER_BY_NAME, OPTIMIZER_BY_CLASS_NAME),)),
    Variant("history_object_returned",
            "train_run returns the keras History object (the grader reads its .history)",
            (("training.py", "return to_floats(history.history)", "return history"),)),
    Variant("keys_written_differently",
            "result keys as strings ('16', '0.001') and optimizer names in upper case ('SGD')",
            (("experiments.py", "        batch_size: train_run(", "        str(batch_size): train_run("),
             ("experiments.py", "        learning_rate: train_run(",
              "        str(learning_rate): train_run("),
             ("experiments.py", "        name: train_run(", "        name.upper(): train_run("))),
    Variant("iterations_int_of_np_ceil", "iterations_per_epoch returns int(np.ceil(n / b))",
            (("concepts.py", "import math\n", "import math\n\nimport numpy as np\n"),
             ("concepts.py", "return math.ceil(n_samples / batch_size)",
              "return int(np.ceil(n_samples / batch_size))"))),
)

#: Parts may keep their variants in tests/variants/part_<name>.py (a ``VARIANTS`` tuple of
#: ``Variant``, importing it from ``variants.corpus``); they join the corpus here.
VARIANTS += tuple(variant for path in sorted(Path(__file__).resolve().parent.glob("part_*.py"))
                  for variant in importlib.import_module(f"variants.{path.stem}").VARIANTS)

