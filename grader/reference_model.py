"""The grader's own model builder (autograder only: never shipped to students).

When grading, the experiments of Parts 1 and 3-5 (and every later training part) receive
models built here instead of the student's ``build_model``, so a Part 2 mistake costs
Part 2's points only. The options beyond today's required architecture (``hidden_units``,
``l2``, ``dropout``, ``batch_norm``, a learning-rate schedule) serve the search and
regularization parts, ``loss`` Part 9's experiment; their defaults build exactly the
required model.
"""

#: Steps per execution: identical results, far less per-step overhead on CPU.
STEPS_PER_EXECUTION = 16
#: Learning-rate schedules the builder (and so the replay) accepts, by class name.
SCHEDULES = ("ExponentialDecay",)
#: Losses the builder (and so the replay) compiles with; the first is the default.
#: ``mean_squared_error`` is Part 9's experiment: MSE between the softmax output and one-hot
#: labels (Keras resolves the metric "accuracy" to categorical accuracy for those).
LOSSES = ("sparse_categorical_crossentropy", "mean_squared_error")
DEFAULT_LOSS = LOSSES[0]


def learning_rate_value(keras, learning_rate):
    """A float, or the schedule a ``{"schedule": name, **config}`` record describes."""
    if isinstance(learning_rate, dict):
        config = {k: v for k, v in learning_rate.items() if k != "schedule"}
        if learning_rate.get("schedule") not in SCHEDULES:
            raise ValueError(f"unknown learning-rate schedule {learning_rate.get('schedule')!r}")
        return getattr(keras.optimizers.schedules, learning_rate["schedule"])(**config)
    if isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate
    return float(learning_rate)


def builder(keras):
    """Return ``make_model(n_classes, *, optimizer, learning_rate, input_dim, input_scale,
    hidden_units=250, l2=0.0, dropout=0.0, batch_norm=False,
    loss="sparse_categorical_crossentropy")``."""
    classes = {"sgd": keras.optimizers.SGD, "adam": keras.optimizers.Adam,
               "rmsprop": keras.optimizers.RMSprop, "adagrad": keras.optimizers.Adagrad,
               "nadam": keras.optimizers.Nadam}

    def make_model(n_classes, *, optimizer, learning_rate, input_dim, input_scale,
                   hidden_units=250, l2=0.0, dropout=0.0, batch_norm=False,
                   loss=DEFAULT_LOSS):
        name = str(optimizer).lower()
        if name not in classes:
            raise ValueError(f"unknown optimizer {optimizer!r}: expected one of {', '.join(classes)}")
        if not isinstance(loss, str) or loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}: expected one of {', '.join(LOSSES)} "
                             "(the name, as a string)")
        stack = [keras.Input(shape=(int(input_dim),))]
        if input_scale is not None:
            stack.append(keras.layers.Rescaling(float(input_scale)))
        regularizer = keras.regularizers.L2(float(l2)) if l2 else None
        stack.append(keras.layers.Dense(int(hidden_units), activation="sigmoid", name="hidden",
                                        kernel_regularizer=regularizer))
        if batch_norm:
            stack.append(keras.layers.BatchNormalization(name="batch_norm"))
        if dropout:
            stack.append(keras.layers.Dropout(float(dropout), name="dropout"))
        stack.append(keras.layers.Dense(int(n_classes), activation="softmax", name="output"))
        model = keras.Sequential(stack, name="mlp")  # the same tags in every run's logs
        model.compile(optimizer=classes[name](learning_rate=learning_rate_value(keras, learning_rate)),
                      loss=loss, metrics=["accuracy"],
                      steps_per_execution=STEPS_PER_EXECUTION)
        return model

    return make_model
