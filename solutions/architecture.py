"""Part 2: the required architecture.

Build and compile the model the whole assignment trains: 784 input pixels, one hidden
``Dense`` layer of 250 sigmoid units, and a softmax output with one unit per class,
trained with sparse categorical cross-entropy and reporting accuracy.

The optimizer is chosen by name so that the experiments in Parts 3-5 can sweep it.
"""

import keras

#: Optimizer names accepted by :func:`build_model`, mapped to their Keras classes.
OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
    "nadam": keras.optimizers.Nadam,
}

HIDDEN_UNITS = 250
HIDDEN_ACTIVATION = "sigmoid"

#: Names of the model and its layers. Fixed names give every run the same TensorBoard tags
#: (``mlp/hidden/kernel/histogram``, ...), so runs can be overlaid in one chart; without
#: them Keras numbers the layers per process (``sequential_3/dense_6/kernel``).
MODEL_NAME = "mlp"
HIDDEN_LAYER_NAME = "hidden"
OUTPUT_LAYER_NAME = "output"


def make_optimizer(name, learning_rate):
    """Create a fresh Keras optimizer from its name.

    Parameters
    ----------
    name : str
        One of the keys of ``OPTIMIZERS`` ("sgd", "adam", "rmsprop", "adagrad", "nadam"),
        in any case: "adam", "Adam" and "ADAM" all name Adam.
    learning_rate : float
        The optimizer's learning rate (step size), > 0.

    Returns
    -------
    keras.optimizers.Optimizer
        A new optimizer instance with that learning rate.

    Raises
    ------
    ValueError
        If ``name`` is not a known optimizer. The message lists the valid names.
        (Do not fall back silently to Adam: a typo must not go unnoticed.)
    """
    # BEGIN SOLUTION
    key = str(name).lower()
    if key not in OPTIMIZERS:
        valid = ", ".join(sorted(OPTIMIZERS))
        raise ValueError(f"unknown optimizer {name!r}: expected one of {valid}")
    return OPTIMIZERS[key](learning_rate=learning_rate)
    # END SOLUTION


def build_model(n_classes=10, *, optimizer="adam", learning_rate=0.001, input_dim=784,
                input_scale=None):
    """Build and compile the required model.

    Layers, in order:

    1. an input of ``input_dim`` features, shape ``(batch, input_dim)``;
    2. only if ``input_scale`` is not None: a ``keras.layers.Rescaling(input_scale)`` layer,
       so the model itself normalizes raw pixels (e.g. ``input_scale=1/255``);
    3. ``Dense(250, activation="sigmoid", name="hidden")``;
    4. ``Dense(n_classes, activation="softmax", name="output")``.

    Give the model the name ``"mlp"`` (``keras.Sequential(layers, name=MODEL_NAME)``) and
    the layers the names above (``HIDDEN_LAYER_NAME``, ``OUTPUT_LAYER_NAME``): then the
    weight histograms of every run sit under the same TensorBoard tags
    (``mlp/hidden/kernel``, ``mlp/output/kernel``, ...) and TensorBoard overlays raw and
    normalized, or learning rate 1 and 0.001, in one chart. (The names are not graded;
    without them Keras numbers layers per process: ``sequential_3/dense_6/kernel``.)

    Compiled with the optimizer ``make_optimizer(optimizer, learning_rate)``, the loss
    ``"sparse_categorical_crossentropy"`` (labels are integers 0..n_classes-1, shape
    ``(batch,)``) and the metric ``"accuracy"``.

    Parameters
    ----------
    n_classes : int, default=10
        Number of output classes.
    optimizer : str, default="adam"
        Optimizer name in any case ("adam", "Adam", ...), see ``make_optimizer``.
    learning_rate : float, default=0.001
        Learning rate passed to the optimizer.
    input_dim : int, default=784
        Number of input features (28 x 28 pixels).
    input_scale : float or None, default=None
        If given, a Rescaling layer with this scale comes first.

    Returns
    -------
    keras.Model
        A compiled model mapping float32 ``(batch, input_dim)`` to softmax probabilities
        ``(batch, n_classes)``.

    Raises
    ------
    ValueError
        For an unknown optimizer name (see ``make_optimizer``).
    """
    # BEGIN SOLUTION
    layers = [keras.Input(shape=(input_dim,))]
    if input_scale is not None:
        layers.append(keras.layers.Rescaling(input_scale))
    layers.append(keras.layers.Dense(HIDDEN_UNITS, activation=HIDDEN_ACTIVATION,
                                     name=HIDDEN_LAYER_NAME))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name=OUTPUT_LAYER_NAME))
    model = keras.Sequential(layers, name=MODEL_NAME)
    model.compile(
        optimizer=make_optimizer(optimizer, learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model
    # END SOLUTION
