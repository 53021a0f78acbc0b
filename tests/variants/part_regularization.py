"""Correct-but-different solutions of Part 11 (``regularization.py``)."""

from variants.corpus import Variant

M = "regularization.py"
MODEL = '''    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    layers = [keras.Input(shape=(input_dim,)),
              keras.layers.Dense(250, activation="sigmoid", name="hidden",
                                 kernel_regularizer=regularizer)]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization(name="batch_norm"))
    if dropout > 0:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
    layers.append(keras.layers.Dense(n_classes, activation="softmax", name="output"))
    model = keras.Sequential(layers, name="mlp")
'''
FUNCTIONAL = '''    inputs = keras.Input(shape=(input_dim,))
    hidden = keras.layers.Dense(
        250, activation="sigmoid", name="hidden",
        kernel_regularizer=keras.regularizers.l1_l2(l1=0.0, l2=l2) if l2 else None)(inputs)
    if batch_norm:
        hidden = keras.layers.BatchNormalization(name="batch_norm")(hidden)
    if dropout:
        hidden = keras.layers.Dropout(rate=dropout, name="dropout")(hidden)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="output")(hidden)
    model = keras.Model(inputs, outputs, name="mlp")
'''
SHIFTS = '''    shifted = np.empty_like(square)
    for i in range(n):
        dy, dx = 0, 0
        while dy == 0 and dx == 0:
            dy, dx = shifts_rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2)
        top, left = MAX_SHIFT - dy, MAX_SHIFT - dx
        shifted[i] = padded[i, top:top + IMAGE_SIDE, left:left + IMAGE_SIDE]
'''
ROLLED = '''    shifted = np.empty_like(square)
    for i in range(n):
        dy, dx = 0, 0
        while dy == 0 and dx == 0:
            dy, dx = shifts_rng.integers(-MAX_SHIFT, MAX_SHIFT + 1, size=2)
        moved = np.roll(square[i], (int(dy), int(dx)), axis=(0, 1))
        # blank the band that wrapped around
        if dy > 0:
            moved[:dy, :] = 0
        elif dy < 0:
            moved[dy:, :] = 0
        if dx > 0:
            moved[:, :dx] = 0
        elif dx < 0:
            moved[:, dx:] = 0
        shifted[i] = moved
'''
EXPERIMENT = '''    histories = {}
    for name, (options, (x, y), callbacks) in runs.items():
        keras.utils.set_random_seed(seed)
        model = build_fn(n_classes, **{"learning_rate": learning_rate, **options})
        tensorboard = keras.callbacks.TensorBoard(log_dir=os.path.join(log_dir, name))
        history = model.fit(x, y, batch_size=batch_size, epochs=epochs,
                            validation_data=(x_val, y_val),
                            callbacks=callbacks + [tensorboard], verbose=0)
        histories[name] = {key: [float(v) for v in values]
                           for key, values in history.history.items()}
    return histories
'''
SPELLED_OUT = '''    del runs

    def fit(name, x, y, callbacks=(), **options):
        keras.utils.set_random_seed(seed)
        model = build_fn(n_classes, learning_rate=options.pop("learning_rate", learning_rate),
                         **options)
        board = keras.callbacks.TensorBoard(os.path.join(log_dir, name))
        return model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                         validation_data=(x_val, y_val), callbacks=[*callbacks, board])

    stopper = keras.callbacks.EarlyStopping(monitor="val_loss", mode="min", min_delta=0.0,
                                            patience=patience, restore_best_weights=True)
    decay = keras.optimizers.schedules.ExponentialDecay(
        learning_rate, decay_steps=steps_per_epoch, decay_rate=decay_rate)
    return {"baseline": fit("baseline", x_train, y_train),
            "l2": fit("l2", x_train, y_train, l2=l2),
            "dropout": fit("dropout", x_train, y_train, dropout=dropout),
            "early_stopping": fit("early_stopping", x_train, y_train, [stopper]),
            "schedule": fit("schedule", x_train, y_train, learning_rate=decay),
            "augmented": fit("augmented", x_augmented, y_augmented)}
'''

TRAINING_LOOP = "    for name, (options, (x, y), callbacks) in runs.items():"
RETURNED = ("                           for key, values in history.history.items()}\n"
            "    return histories\n")

VARIANTS = (
    Variant("regularization_functional_api_l1_l2",
            "build_regularized_model with the functional API and keras.regularizers.l1_l2(l1=0, "
            "l2=l2) on the hidden kernel",
            ((M, MODEL, FUNCTIONAL),)),
    Variant("regularization_roll_then_blank",
            "augment_drawings shifts with np.roll and blanks the band that wrapped around",
            ((M, SHIFTS, ROLLED),)),
    Variant("regularization_experiment_spelled_out",
            "each run written out, History objects returned, EarlyStopping(mode='min', "
            "min_delta=0.0) and ExponentialDecay built in place",
            ((M, EXPERIMENT, SPELLED_OUT),)),
    Variant("regularization_runs_trained_in_reverse",
            "the runs train in reverse order and are returned in the documented order (each "
            "history pairs with its own fit by the run's traits, not by position)",
            ((M, TRAINING_LOOP, TRAINING_LOOP.replace("runs.items()", "reversed(runs.items())")),
             (M, RETURNED, RETURNED.replace("return histories",
                                            "return {name: histories[name] for name in runs}")))),
)
