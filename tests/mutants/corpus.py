"""The mutant corpus: realistic student mistakes, each a whole submission.

Every mutant is ``solutions/`` with a few text replacements (each ``old`` text must occur
exactly once in its module, so a stale mutant fails loudly), the ids of the tests it must
fail (every other test must pass), and the words each failing test's message must use so
that the student can tell what went wrong.

``tests/test_mutants.py`` grades every mutant and checks all of that;
``tests/mutants/expected_scores.md`` is rendered from this table (regenerate it with
``python tests/mutants/corpus.py``; a fast test fails when it is stale).
"""

import dataclasses
import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXPECTED_SCORES = HERE / "expected_scores.md"


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One student mistake.

    Attributes
    ----------
    name : str
    mistake : str
        What the student did wrong, in one line.
    replacements : tuple of (module, old, new)
        Text replacements applied to a copy of solutions/.
    fails : tuple of str
        Ids ("1.10", "3.2", ...) of exactly the tests this mistake must fail.
    says : dict of str to str
        ``{test id: text}``: that test's message must contain the text (any case); the id
        "*" stands for every failing test. Together they name the mistake.
    never_says : dict of str to str
        ``{test id: text}``: that test's message must not contain the text (a misleading
        diagnosis this mistake used to get); "*" as in ``says``.
    """

    name: str
    mistake: str
    replacements: tuple
    fails: tuple
    says: dict
    never_says: dict = dataclasses.field(default_factory=dict)
    docstring: str = ""
    unseen: str = ""

    @property
    def visible(self):
        """Does a docstring show this mistake?"""
        return bool(self.docstring)

    @property
    def modules(self):
        """Names of the modules this mutant changes (without .py)."""
        return sorted({module[:-3] for module, _, _ in self.replacements})


# --------------------------------------------------------------------------- shared text

BATCH_SIZE_RUNS = '''    return {
        batch_size: train_run(
            build_fn, x_train, y_train, x_val, y_val,
            os.path.join(log_dir, run_dir_name("batch_size", batch_size)),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
        for batch_size in batch_sizes
    }
'''

# One model, built before the loop, trained again for every batch size.
MODEL_REUSED = '''    model = build_fn(int(max(y_train.max(), y_val.max())) + 1, optimizer=optimizer,
                     learning_rate=learning_rate, input_dim=x_train.shape[1])
    histories = {}
    for batch_size in batch_sizes:
        board = keras.callbacks.TensorBoard(
            os.path.join(log_dir, run_dir_name("batch_size", batch_size)), histogram_freq=1)
        history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs,
                            validation_data=(x_val, y_val), callbacks=[board], verbose=0)
        histories[batch_size] = history.history
    return histories
'''

# Every key gets the history of the last run (the variable outlives the loop).
LAST_HISTORY_FOR_ALL = '''    for batch_size in batch_sizes:
        history = train_run(
            build_fn, x_train, y_train, x_val, y_val,
            os.path.join(log_dir, run_dir_name("batch_size", batch_size)),
            optimizer=optimizer, learning_rate=learning_rate, batch_size=batch_size,
            epochs=epochs, seed=seed,
        )
    return {batch_size: history for batch_size in batch_sizes}
'''

NORMALIZED_INPUTS = "NORMALIZED_RUN: (normalize_pixels(x_train), normalize_pixels(x_val)),"
RAW_INPUTS = "RAW_RUN: (x_train, x_val),"
DIVIDE = "return np.asarray(x, dtype=np.float32) / np.float32(255.0)"

# ------------------------------------------------------------------------------ corpus

MUTANTS = (
    # ---- Part 1: normalization
    Mutant("forgot_to_normalize",
           "the normalized run trains on the raw pixels",
           (("normalization.py", NORMALIZED_INPUTS, "NORMALIZED_RUN: (x_train, x_val),"),),
           fails=("1.6", "1.11"), says={"1.6": "normalize_pixels", "1.11": "normalized run"},
           docstring=('run_normalization_experiment: "normalized": normalize_pixels applied to '
                      'both the training and the validation inputs')),
    Mutant("normalized_to_float_0_255",
           "normalize_pixels casts to float32 but does not divide by 255",
           (("normalization.py", DIVIDE, "return np.asarray(x, dtype=np.float32)"),),
           fails=("1.3", "1.6", "1.11"), says={"1.3": "255", "1.6": "normalize_pixels"},
           docstring=('normalize_pixels returns "A new array with every pixel divided by 255: 0 '
                      'stays 0.0 and 255 becomes 1.0"')),
    # 1.10 is the one threshold-dependent outcome of the corpus: a model trained on 0/1 pixels
    # misreads the grey levels of the held-out drawings (0.783 against a floor of 0.799 at the
    # default seed when this was written).
    Mutant("integer_division",
           "normalize_pixels uses // 255, leaving only 0s and 1s",
           (("normalization.py", DIVIDE, "return (np.asarray(x) // 255).astype(np.float32)"),),
           fails=("1.3", "1.4", "1.10"), says={"1.3": "integer division"},
           docstring=('normalize_pixels: "every pixel divided by 255" (a grey 128 is 0.502, not '
                      '0)')),
    Mutant("raw_run_normalized_too",
           "both runs train on normalized pixels",
           (("normalization.py", RAW_INPUTS,
             "RAW_RUN: (normalize_pixels(x_train), normalize_pixels(x_val)),"),),
           fails=("1.6", "1.11"), says={"1.6": "the raw run to train on the raw 0-255 pixels"},
           docstring=('run_normalization_experiment: "raw": the uint8 pixels as they are, logged'
                      ' to log_dir/raw')),
    Mutant("raw_and_normalized_swapped",
           "the run returned and logged as 'raw' trains on normalized pixels, and vice versa",
           (("normalization.py", RAW_INPUTS,
             "RAW_RUN: (normalize_pixels(x_train), normalize_pixels(x_val)),"),
            ("normalization.py", NORMALIZED_INPUTS, "NORMALIZED_RUN: (x_train, x_val),")),
           fails=("1.12",), says={"1.12": "swapped"},
           docstring=('run_normalization_experiment: "raw": the uint8 pixels as they are, logged'
                      ' to log_dir/raw (and returned as "raw")')),
    Mutant("validation_data_not_normalized",
           "the normalized run trains on normalized pixels but validates on raw ones",
           (("normalization.py", NORMALIZED_INPUTS,
             "NORMALIZED_RUN: (normalize_pixels(x_train), x_val),"),),
           fails=("1.6",), says={"1.6": "x_val prepared like its x_train"},
           docstring=('run_normalization_experiment: normalize_pixels applied to both the '
                      'training and the validation inputs')),
    # ---- Part 2: architecture
    Mutant("relu_hidden_layer",
           "the hidden layer uses relu instead of sigmoid",
           (("architecture.py", 'HIDDEN_ACTIVATION = "sigmoid"', 'HIDDEN_ACTIVATION = "relu"'),),
           fails=("2.1",), says={"2.1": "activation='relu'"},
           docstring='build_model: 3. Dense(250, activation="sigmoid", name="hidden")'),
    Mutant("softmax_on_the_hidden_layer",
           "softmax on the hidden layer and sigmoid on the output",
           (("architecture.py", 'HIDDEN_ACTIVATION = "sigmoid"', 'HIDDEN_ACTIVATION = "softmax"'),
            ("architecture.py", 'keras.layers.Dense(n_classes, activation="softmax",',
             'keras.layers.Dense(n_classes, activation="sigmoid",')),
           fails=("2.1", "2.2"), says={"2.1": "activation='softmax'", "2.2": "activation='sigmoid'"},
           docstring=('build_model: 3. Dense(250, activation="sigmoid"); 4. Dense(n_classes, '
                      'activation="softmax")')),
    Mutant("wrong_hidden_unit_count",
           "128 hidden units instead of 250",
           (("architecture.py", "HIDDEN_UNITS = 250", "HIDDEN_UNITS = 128"),),
           fails=("2.1",), says={"2.1": "Dense(128"},
           docstring='build_model: 3. Dense(250, activation="sigmoid", name="hidden")'),
    Mutant("output_units_hardcoded",
           "the output layer always has 10 units, whatever n_classes is",
           (("architecture.py", 'keras.layers.Dense(n_classes, activation="softmax",',
             'keras.layers.Dense(10, activation="softmax",'),),
           fails=("2.2",), says={"2.2": "build_model(7)"},
           docstring='build_model: 4. Dense(n_classes, activation="softmax", name="output")'),
    Mutant("categorical_crossentropy",
           "categorical instead of sparse categorical cross-entropy",
           (("architecture.py", 'loss="sparse_categorical_crossentropy"',
             'loss="categorical_crossentropy"'),),
           fails=("2.3",), says={"2.3": "sparse_categorical_crossentropy"},
           docstring=('build_model: the loss "sparse_categorical_crossentropy" (labels are '
                      'integers 0..n_classes-1)')),
    Mutant("learning_rate_ignored_by_build_model",
           "the optimizer is created with its default learning rate",
           (("architecture.py", "return OPTIMIZERS[key](learning_rate=learning_rate)",
             "return OPTIMIZERS[key]()"),),
           fails=("2.4", "2.5"), says={"*": "learning"},
           docstring='make_optimizer returns "A new optimizer instance with that learning rate"'),
    Mutant("optimizer_names_mapped_wrongly",
           "'nadam' is mapped to Adam",
           (("architecture.py", '"nadam": keras.optimizers.Nadam,', '"nadam": keras.optimizers.Adam,'),),
           fails=("2.5", "2.8"), says={"2.5": "optimizer='nadam' -> Nadam",
                                       "2.8": "optimizer='NADAM' -> Nadam"},
           docstring='OPTIMIZERS (given): "nadam" maps to keras.optimizers.Nadam'),
    Mutant("unknown_optimizer_falls_back_to_adam",
           "an unknown optimizer name silently gives Adam",
           (("architecture.py", "raise ValueError(f\"unknown optimizer {name!r}: expected one of {valid}\")",
             "return keras.optimizers.Adam(learning_rate=learning_rate)"),),
           fails=("2.6",), says={"2.6": "raise ValueError"},
           docstring=('make_optimizer raises ValueError "If name is not a known optimizer" ("Do '
                      'not fall back silently to Adam")')),
    Mutant("input_scale_ignored",
           "build_model never adds the Rescaling layer",
           (("architecture.py", "        layers.append(keras.layers.Rescaling(input_scale))\n",
             "        pass\n"),),
           fails=("2.7", "2.9"), says={"*": "Rescaling"},
           docstring=('build_model: "only if input_scale is not None: a '
                      'keras.layers.Rescaling(input_scale) layer" (e.g. input_scale=1/255)')),
    # ---- training.py: every experiment
    Mutant("no_tensorboard_callback",
           "fit is called without the TensorBoard callback",
           (("training.py", "callbacks=[tensorboard],", "callbacks=[],"),),
           fails=("1.7", "1.8", "1.9", "3.3", "3.4", "3.5", "4.3", "4.4", "4.5",
                  "5.3", "5.4", "5.5"),
           says={"*": "TensorBoard"},
           docstring=('train_run: "record the run with a '
                      'keras.callbacks.TensorBoard(log_dir=run_dir, histogram_freq=1) callback"')),
    Mutant("histogram_freq_0",
           "the TensorBoard callback records no weight histograms (histogram_freq=0)",
           (("training.py", "HISTOGRAM_FREQ = 1", "HISTOGRAM_FREQ = 0"),),
           fails=("1.8", "3.4", "4.4", "5.4"), says={"*": "histogram_freq=1"},
           docstring=('train_run: "a keras.callbacks.TensorBoard(log_dir=run_dir, '
                      'histogram_freq=1) callback"')),
    Mutant("batch_size_ignored",
           "fit is called without batch_size (Keras' default 32 for every run)",
           (("training.py", "        batch_size=batch_size,\n", ""),),
           fails=("3.2",), says={"3.2": "batch_size="},
           docstring=('train_run: "fit it on the training data for epochs epochs with mini-'
                      'batches of batch_size"')),
    Mutant("validation_data_used_for_training",
           "fit trains on x_val, y_val instead of x_train, y_train",
           (("training.py", "        x_train, y_train,\n", "        x_val, y_val,\n"),),
           fails=("1.6", "3.2", "4.2", "5.2"), says={"*": "not the validation data"},
           docstring=('train_run: "fit it on the training data"; x_val, y_val: "Validation data,'
                      ' never trained on"')),
    # ---- experiments.py: Parts 3-5
    Mutant("model_reused_across_runs",
           "one model is built before the loop and trained again for every batch size",
           (("experiments.py", "import math\nimport os\n", "import math\nimport os\n\nimport keras\n"),
            ("experiments.py", BATCH_SIZE_RUNS, MODEL_REUSED)),
           fails=("3.2",), says={"3.2": "a fresh model for every setting"},
           docstring='run_batch_size_experiment: "train one fresh model per batch size"'),
    Mutant("history_from_the_wrong_run",
           "every batch size is returned with the last run's history",
           (("experiments.py", BATCH_SIZE_RUNS, LAST_HISTORY_FOR_ALL),),
           fails=("3.5", "3.6"), says={"3.5": "history", "3.6": "the history of the run for batch size 128"},
           docstring=('run_batch_size_experiment returns "{batch_size: history}, one entry per '
                      'batch size; each history as returned by train_run"')),
    Mutant("all_runs_logged_to_one_directory",
           "every learning-rate run logs to log_dir itself",
           (("experiments.py",
             'os.path.join(log_dir, run_dir_name("learning_rate", learning_rate)),', "log_dir,"),),
           fails=("4.3", "4.4", "4.5"), says={"*": "straight into log_dir"},
           docstring=('run_learning_rate_experiment: "Run lr is logged to '
                      'log_dir/learning_rate_<lr>"')),
    Mutant("learning_rate_not_passed",
           "the learning-rate experiment never passes the rate on (every run at 0.001)",
           (("experiments.py",
             'run_dir_name("learning_rate", learning_rate)),\n'
             "            optimizer=optimizer, learning_rate=learning_rate,",
             'run_dir_name("learning_rate", learning_rate)),\n'
             "            optimizer=optimizer,"),),
           fails=("4.2",), says={"4.2": "learning_rate=1"},
           docstring='run_learning_rate_experiment: "train one fresh model per learning rate"'),
    Mutant("optimizer_not_passed",
           "the optimizer experiment never passes the optimizer on (every run is Adam)",
           (("experiments.py", "optimizer=name, learning_rate=learning_rate,",
             "learning_rate=learning_rate,"),),
           fails=("5.2",), says={"5.2": "optimizer='sgd'"},
           docstring='run_optimizer_experiment: "train one fresh model per optimizer"'),
    Mutant("best_setting_ignores_loss_direction",
           "best_setting always takes the highest value, even for losses",
           (("experiments.py", 'lower_is_better = "loss" in metric', "lower_is_better = False"),),
           fails=("5.9", "5.10"), says={"*": "lower is better"},
           docstring=('best_setting: "Higher is better, except for metrics whose name contains '
                      '\\"loss\\", where lower is better"')),
    # ---- Part 6: concepts
    Mutant("gradient_step_wrong_sign",
           "gradient descent steps up the gradient",
           (("concepts.py", "positions.append(x - learning_rate * 2.0 * (x - 3.0))",
             "positions.append(x + learning_rate * 2.0 * (x - 3.0))"),),
           fails=("6.2", "6.9"), says={"*": "step against it"},
           docstring=('gradient_descent: "x_next = x - learning_rate * 2 * (x - 3). With '
                      'learning_rate 0.1 the positions approach 3"')),
    Mutant("iterations_drop_the_last_batch",
           "iterations_per_epoch uses floor division",
           (("concepts.py", "return math.ceil(n_samples / batch_size)",
             "return n_samples // batch_size"),),
           fails=("6.4", "6.10"), says={"*": "last batch"},
           docstring=('iterations_per_epoch: "The last mini-batch may be smaller"; "e.g. 1000 '
                      'samples with batch size 32 -> 32"')),
    # ---- each mistake costs its own tests (issue 11, item 6)
    Mutant("best_setting_best_epoch",
           "best_setting compares each run's best epoch instead of its last",
           (("experiments.py", "value = float(history[metric][-1])",
             "value = float(min(history[metric]) if lower_is_better else max(history[metric]))"),),
           fails=("5.8",), says={"5.8": "not each run's best epoch"},
           docstring='best_setting: "History key to compare at the last epoch"'),
    # 5.9 judges the key of the pair: the choice itself is right.
    Mutant("best_setting_returns_a_pair",
           "best_setting returns the (key, history) pair instead of the key",
           (("experiments.py", "    return best\n", "    return best, results[best]\n"),),
           fails=("5.8",), says={"5.8": "not a (key, history) pair"},
           never_says={"5.8": "found None"},
           docstring='best_setting returns "The key of results with the best final value"'),
    Mutant("optimizer_names_case_sensitive",
           "build_model(optimizer='Adam') raises: names are not compared in lower case",
           (("architecture.py", "key = str(name).lower()", "key = str(name)"),),
           fails=("2.5", "2.8"), says={"*": "any case"},
           docstring=('make_optimizer: "in any case: \\"adam\\", \\"Adam\\" and \\"ADAM\\" all name '
                      'Adam"')),
    Mutant("relu_as_an_activation_layer",
           "the hidden layer is Dense(250) followed by Activation('relu')",
           (("architecture.py",
             "    layers.append(keras.layers.Dense(HIDDEN_UNITS, activation=HIDDEN_ACTIVATION,\n"
             "                                     name=HIDDEN_LAYER_NAME))\n",
             "    layers.append(keras.layers.Dense(HIDDEN_UNITS, name=HIDDEN_LAYER_NAME))\n"
             "    layers.append(keras.layers.Activation(\"relu\"))\n"),),
           fails=("2.1",), says={"2.1": "Dense(250) + Activation('relu')"},
           docstring='build_model: 3. Dense(250, activation="sigmoid", name="hidden")'),
    Mutant("from_logits_after_softmax",
           "the loss is told the softmax outputs are logits (from_logits=True)",
           (("architecture.py", 'loss="sparse_categorical_crossentropy"',
             "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)"),),
           fails=("2.3",), says={"2.3": "already ends in softmax"},
           never_says={"2.3": "one-hot"},
           docstring=('build_model: the loss "sparse_categorical_crossentropy" on a model '
                      'returning "softmax probabilities"')),
    Mutant("iterations_np_ceil_float",
           "iterations_per_epoch returns np.ceil's float (32.0), not an int",
           (("concepts.py", "import math\n", "import math\n\nimport numpy as np\n"),
            ("concepts.py", "return math.ceil(n_samples / batch_size)",
             "return np.ceil(n_samples / batch_size)")),
           fails=("6.3",), says={"6.3": "32.0 (a numpy float64)"},
           docstring='iterations_per_epoch returns "int: Updates per epoch"'),
    Mutant("concept_answer_left_none",
           "one multiple-choice answer is left at None",
           (("concepts.py", 'WHY_NORMALIZE = "c"', "WHY_NORMALIZE = None"),),
           fails=("6.5", "6.8"), says={"6.5": "found None"},
           docstring=('concepts.py: "set the answer constant to the letter of the one best '
                      'choice (a string such as \\"a\\")"')),
    # z-scores are not the [0, 1] the docstring asks for (1.3, 1.6); the grader evaluates the
    # run's weights on pixels / 255, which its model was not trained for (1.11). Its history
    # is its own model's: nothing may suggest that two runs' results were swapped.
    Mutant("normalize_by_z_score",
           "normalize_pixels standardizes (x - mean) / std instead of scaling into [0, 1]",
           (("normalization.py", DIVIDE,
             "x = np.asarray(x, dtype=np.float32)\n    return (x - x.mean()) / x.std()"),),
           # (1.12 passes: the returned histories are what the z-scored runs really produced.)
           fails=("1.3", "1.6", "1.11"), says={"1.3": "divide the 0-255 intensities by 255",
                                                      "1.6": "scaled into [0, 1]"},
           never_says={"*": "swapped"},
           docstring=('normalize_pixels returns "A new array with every pixel divided by 255: 0 '
                      'stays 0.0 and 255 becomes 1.0"')),
    # The settings tests name the mistake, and only they: the histories and run-directory
    # tests judge each run against the epochs it really trained (its replayed fit's).
    Mutant("epochs_argument_ignored",
           "train_run always trains 5 epochs, whatever epochs it is given",
           (("training.py", "        epochs=epochs,\n", "        epochs=5,\n"),),
           fails=("1.6", "3.2", "4.2", "5.2"),
           says={"1.6": "epochs=epochs", "3.2": "epochs=epochs", "4.2": "epochs=epochs",
                 "5.2": "epochs=epochs"},
           docstring='train_run: "fit it on the training data for epochs epochs"'),
    # The settings tests name the mistake, and only they: the grader's replay of each run
    # validates on the same split-off rows, so the returned histories are what it produced.
    Mutant("validation_split_instead_of_validation_data",
           "fit validates on validation_split=0.2 of the training rows, not on x_val, y_val",
           (("training.py", "validation_data=(x_val, y_val),", "validation_split=0.2,"),),
           fails=("1.6", "3.2", "4.2", "5.2"),
           says={"1.6": "validation_data=(x_val, y_val)", "3.2": "validation_data=(x_val, y_val)",
                 "4.2": "validation_data=(x_val, y_val)", "5.2": "validation_data=(x_val, y_val)"},
           docstring='train_run: "validating on (x_val, y_val) after every epoch"'),
)

#: Parts may keep their mutants in tests/mutants/part_<name>.py (a ``MUTANTS`` tuple of
#: ``Mutant``, importing it from ``mutants.corpus``); they join the corpus here.
if __name__ != "__main__":  # (the script below imports this module as mutants.corpus)
    MUTANTS += tuple(mutant for path in sorted(HERE.glob("part_*.py"))
                     for mutant in importlib.import_module(f"mutants.{path.stem}").MUTANTS)


# ------------------------------------------------------------------------- the table

def points_by_test():
    """{test id: (points, hidden)} from the live grader test files."""
    from grader import engine
    points = {}
    for test_file in engine.load_test_files():
        for case in test_file.test_cases:
            points[case.name.split()[0]] = (float(case.points or 0), bool(case.hidden))
    return points


def render(mutants=MUTANTS):
    """The markdown table of expected scores."""
    points = points_by_test()
    total = sum(p for p, _ in points.values())
    lines = [
        "# Mutant corpus: expected scores",
        "",
        "Generated from `tests/mutants/corpus.py` by `python tests/mutants/corpus.py`; "
        "`tests/test_mutants.py` grades every mutant (GRADE profile, default seed) and "
        "checks that it fails exactly these tests, scores exactly this, and that every "
        "failing message says what went wrong. Hidden tests are marked (h).",
        "",
        f"| mutant | mistake | tests failed | points lost | expected score (of {total:g}) "
        "| the messages say |",
        "|---|---|---|---|---|---|",
    ]
    for mutant in mutants:
        lost = sum(points[test_id][0] for test_id in mutant.fails)
        failed = ", ".join(test_id + (" (h)" if points[test_id][1] else "") for test_id in mutant.fails)
        says = "; ".join(f"{'all' if test_id == '*' else test_id}: " + text.replace("|", "\\|")
                         for test_id, text in mutant.says.items())
        lines.append(f"| `{mutant.name}` | {mutant.mistake} | {failed} | {lost:g} | {total - lost:g} "
                     f"| {says} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent)]  # the repository and tests/
    from mutants import corpus
    EXPECTED_SCORES.write_text(corpus.render())
    print(f"wrote {EXPECTED_SCORES}")
