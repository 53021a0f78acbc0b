"""Mutants of Part 11 (fighting overfitting and tuning the schedule, ``regularization.py``)."""

from mutants.corpus import Mutant

M = "regularization.py"
HIDDEN = '''              keras.layers.Dense(250, activation="sigmoid", name="hidden",
                                 kernel_regularizer=regularizer)]'''
OUTPUT = ('    layers.append(keras.layers.Dense(n_classes, activation="softmax", '
          'name="output"))')
DROPOUT = '''    if dropout > 0:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))
'''
HIDDEN_PLAIN = '              keras.layers.Dense(250, activation="sigmoid", name="hidden")]'
OUTPUT_REGULARIZED = ('    layers.append(keras.layers.Dense(n_classes, activation="softmax", '
                      'name="output",\n' + ' ' * 37 + 'kernel_regularizer=regularizer))')
SHIFT = '''        shifted[i] = padded[i, top:top + IMAGE_SIDE, left:left + IMAGE_SIDE]'''
EARLY = 'early_stopping = dict(monitor="val_loss", patience=patience, restore_best_weights=True)'
VALIDATION = '''                            validation_data=(x_val, y_val),'''
SCHEDULE = '        "schedule": ({"learning_rate": make_schedule(learning_rate, steps_per_epoch,'

MUTANTS = (
    Mutant("l2_on_the_output_layer",
           "the L2 regularizer is put on the output layer's kernel instead of the hidden one's",
           ((M, HIDDEN, HIDDEN_PLAIN), (M, OUTPUT, OUTPUT_REGULARIZED)),
           fails=("11.2",), says={"*": "output layer"},
           docstring='build_regularized_model: "kernel_regularizer=keras.regularizers.L2(l2) when '
                     'l2 > 0 (on this layer\'s kernel only: not on its bias, not on the output '
                     'layer)"'),
    Mutant("dropout_after_the_output",
           "the Dropout layer comes after the softmax output layer",
           ((M, DROPOUT, ""),
            (M, OUTPUT, OUTPUT + '''
    if dropout > 0:
        layers.append(keras.layers.Dropout(dropout, name="dropout"))''')),
           fails=("11.4",), says={"*": "before the output"},
           docstring='build_regularized_model: "Dropout(dropout, name="dropout") when dropout > 0 '
                     '(right before the output layer, never after it)"'),
    Mutant("early_stopping_without_restoring_the_best_weights",
           "EarlyStopping stops on val_loss but keeps the last epoch's weights",
           ((M, EARLY, EARLY.replace("restore_best_weights=True", "restore_best_weights=False")),),
           fails=("11.15",), says={"*": "restore_best_weights"},
           docstring='run_regularization_experiment: "EarlyStopping(monitor="val_loss", '
                     'patience=patience, restore_best_weights=True): it stops before epochs and '
                     'keeps the best epoch\'s weights"'),
    Mutant("early_stopping_on_the_training_loss",
           "EarlyStopping watches the training loss, which keeps falling: it never stops",
           ((M, EARLY, EARLY.replace('monitor="val_loss"', 'monitor="loss"')),),
           fails=("11.14",), says={"*": "val_loss"},
           docstring='run_regularization_experiment: "keras.callbacks.EarlyStopping('
                     'monitor="val_loss", patience=patience, restore_best_weights=True)"'),
    Mutant("validation_data_augmented",
           "the augmented run validates on shifted validation drawings too",
           ((M, VALIDATION, '''                            validation_data=(
                                (augment_drawings(x_val, seed), y_val) if name == "augmented"
                                else (x_val, y_val)),'''),),
           fails=("11.17",), says={"*": "validate"},
           docstring='run_regularization_experiment: "validation_data=(x_val, y_val) (always the '
                     'validation data as given: never augmented)"'),
    Mutant("schedule_decays_every_step",
           "the schedule's decay_steps is 1, so the rate is multiplied by decay_rate after every "
           "mini-batch instead of once per epoch",
           ((M, SCHEDULE, SCHEDULE.replace("steps_per_epoch", "1")),),
           fails=("11.16",), says={"*": "decay_steps"},
           docstring='run_regularization_experiment: "decay_steps = the optimizer steps of one '
                     'epoch, math.ceil(len(x_train) / batch_size): the rate is multiplied by '
                     'decay_rate once per epoch"'),
    Mutant("shifts_wrap_around",
           "augment_drawings shifts with np.roll: ink leaving one edge comes back on the other",
           ((M, SHIFT, '''        shifted[i] = np.roll(square[i], (dy, dx), axis=(0, 1))'''),),
           fails=("11.7",), says={"*": "wraps around"},
           docstring='augment_drawings: "nothing wraps around to the other side (np.roll alone '
                     'would)"'),
)
