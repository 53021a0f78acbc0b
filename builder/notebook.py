"""The notebook edition of the assignment, generated with nbformat by ``make dist``.

The student still writes the ``.py`` modules (as in CS231n); the notebook drives them: per
part, the learning goal, a cell that runs the experiment on the embedded data, a cell that
plots the returned histories (pandas DataFrame -> matplotlib curves of validation loss and
accuracy per setting), inline TensorBoard, and a one-line public check of that part
(``grader.nbtools.check``: passed / not attempted / what to fix).

The per-part sections come from `PARTS`, a plain list of dicts (one per part). The output is
byte-reproducible: fixed cell ids, no outputs, no execution counts, sorted JSON keys.
TensorBoard cells carry the ``skip-execution`` tag, which nbclient skips by default (a
headless run must not start a TensorBoard server); in Jupyter they run like any cell.
"""

from __future__ import annotations

import json

import nbformat

NOTEBOOK_NAME = "train_assignment.ipynb"
#: nbclient's default ``skip_cells_with_tag``.
SKIP_TAG = "skip-execution"

#: One dict per part, in the order students meet them.
#:
#: ``part``: the grader's part name (``check`` runs its public tests); ``title``;
#: ``goal``: the learning goal (markdown); ``own``: the part's functions and answers
#: (``module.name``; all still the skeleton's = "not attempted"); ``uses``: functions of other
#: parts it needs; ``prepare``: code run first (or None); ``experiment``: the cell that runs
#: it; ``plot``: the cell that shows it; ``more``: further cells (code), after the plot, for a
#: part with a second experiment; ``logdir``: its TensorBoard folder (or None).
PARTS = [
    {
        "part": "normalization",
        "title": "Part 1: normalizing the inputs",
        "goal": "Raw pixels (0-255) push the sigmoid units into saturation, where their "
                "gradient is almost zero; pixels scaled to [0, 1] keep them in their steep "
                "range. **Expect** the normalized run's validation loss to fall faster and its "
                "accuracy to end higher than the raw run's, with the same seed and settings. "
                "In TensorBoard's *Histograms* tab, compare `mlp/hidden/kernel` of the two "
                "runs: how far do the weights move from their start?",
        "write": "`normalize_pixels` and `run_normalization_experiment` in `normalization.py`, "
                 "and `train_run` in `training.py` (every experiment uses it).",
        "own": ["normalization.normalize_pixels", "normalization.run_normalization_experiment"],
        "uses": ["training.train_run", "architecture.build_model"],
        "prepare": None,
        "experiment": "normalization_results = attempt(\n"
                      "    normalization.run_normalization_experiment,\n"
                      "    x_train_raw, y_train, x_val_raw, y_val, \"logs/normalization\",\n"
                      "    epochs=SIZE.epochs)",
        "plot": "plot_histories(normalization_results, \"normalization\")",
        "logdir": "logs/normalization",
    },
    {
        "part": "architecture",
        "title": "Part 2: the required architecture",
        "goal": "One hidden `Dense` layer of 250 sigmoid units and a softmax output, trained "
                "with sparse categorical cross-entropy; the optimizer is chosen by name so "
                "that Part 5 can sweep it. **Expect** 784 x 250 + 250 = 196,250 weights in "
                "the hidden layer and 250 x 10 + 10 = 2,510 in the output layer. Name the "
                "model `mlp` and the layers `hidden` and `output` (see the docstring): every "
                "run then logs the same TensorBoard tags, so runs overlay in one chart.",
        "write": "`make_optimizer` and `build_model` in `architecture.py`.",
        "own": ["architecture.make_optimizer", "architecture.build_model"],
        "uses": [],
        "prepare": None,
        "experiment": "model = attempt(architecture.build_model)",
        "plot": "if model is not None:\n    model.summary()",
        "logdir": None,
    },
    {
        "part": "batch_size",
        "title": "Part 3: batch size",
        "goal": "A mini-batch gives one gradient estimate and one weight update. Small "
                "batches make many noisy updates per epoch, large ones few smooth updates. "
                "**Expect**, after the same number of epochs, the smallest batch size ahead "
                "and the largest behind: it made far fewer updates (see "
                "`iterations_per_epoch` in Part 6).",
        "write": "`run_batch_size_experiment` in `experiments.py`.",
        "own": ["experiments.run_batch_size_experiment"],
        "uses": ["training.train_run", "architecture.build_model"],
        "prepare": "# Parts 3-5 train on normalized pixels (your normalize_pixels, once it is written).\n"
                   "x_train = scaled(x_train_raw, normalization.normalize_pixels)\n"
                   "x_val = scaled(x_val_raw, normalization.normalize_pixels)",
        "experiment": "batch_size_results = attempt(\n"
                      "    experiments.run_batch_size_experiment,\n"
                      "    x_train, y_train, x_val, y_val, \"logs/batch_size\",\n"
                      "    epochs=SIZE.epochs, **SIZE.sweep(\"batch_sizes\"))",
        "plot": "plot_histories(batch_size_results, \"batch_size\")",
        "logdir": "logs/batch_size",
    },
    {
        "part": "learning_rate",
        "title": "Part 4: learning rate",
        "goal": "The learning rate is the step size of every update. **Expect** a rate "
                "far too high (1) to make the loss jump around or grow while accuracy stays "
                "low, and a rate far too low (0.0001) to make the loss crawl; 0.001 is "
                "Adam's usual default.",
        "write": "`run_learning_rate_experiment` in `experiments.py`.",
        "own": ["experiments.run_learning_rate_experiment"],
        "uses": ["training.train_run", "architecture.build_model"],
        "prepare": None,
        "experiment": "learning_rate_results = attempt(\n"
                      "    experiments.run_learning_rate_experiment,\n"
                      "    x_train, y_train, x_val, y_val, \"logs/learning_rate\",\n"
                      "    epochs=SIZE.epochs, **SIZE.sweep(\"learning_rates\"))",
        "plot": "plot_histories(learning_rate_results, \"learning_rate\")",
        "logdir": "logs/learning_rate",
    },
    {
        "part": "optimizer",
        "title": "Part 5: optimizers",
        "goal": "SGD takes one step size for every weight; Adam, RMSprop, Adagrad and Nadam "
                "adapt a step size per weight from the gradients seen so far. **Expect** "
                "plain SGD at 0.001 to lag far behind the adaptive optimizers after a few "
                "epochs. `best_setting` then picks the winner from the results.",
        "write": "`run_optimizer_experiment` and `best_setting` in `experiments.py`.",
        "own": ["experiments.run_optimizer_experiment", "experiments.best_setting"],
        "uses": ["training.train_run", "architecture.build_model"],
        "prepare": None,
        "experiment": "optimizer_results = attempt(\n"
                      "    experiments.run_optimizer_experiment,\n"
                      "    x_train, y_train, x_val, y_val, \"logs/optimizer\",\n"
                      "    epochs=SIZE.epochs, **SIZE.sweep(\"optimizers\"))\n"
                      "if optimizer_results:\n"
                      "    print(\"best optimizer:\", attempt(experiments.best_setting, optimizer_results))",
        "plot": "plot_histories(optimizer_results, \"optimizer\")",
        "logdir": "logs/optimizer",
    },
    {
        "part": "concepts",
        "title": "Part 6: check for understanding",
        "goal": "Gradient descent on y = (x - 3)^2, by hand: each step moves x by "
                "`learning_rate * 2 * (x - 3)`. **Expect** small rates to creep towards 3, "
                "rates near 1 to overshoot and oscillate, and rates above 1 to diverge: the "
                "same three behaviours as Part 4, on one weight. Then answer the three "
                "multiple-choice questions at the bottom of `concepts.py` (the course's "
                "written answers, auto-graded).",
        "write": "`gradient_descent`, `iterations_per_epoch` and the three answers in "
                 "`concepts.py`.",
        "own": ["concepts.gradient_descent", "concepts.iterations_per_epoch",
                "concepts.TOO_HIGH_LEARNING_RATE_SYMPTOM", "concepts.PER_PARAMETER_OPTIMIZER",
                "concepts.WHY_NORMALIZE"],
        "uses": [],
        "prepare": None,
        "experiment": "descents = {rate: attempt(concepts.gradient_descent, rate, 15)\n"
                      "            for rate in (0.05, 0.3, 0.95, 1.05)}\n"
                      "print(\"updates per epoch, 2,000 drawings in batches of 32:\",\n"
                      "      attempt(concepts.iterations_per_epoch, 2000, 32))",
        "plot": "plot_descent(descents)",
        "logdir": None,
    },
    {
        "part": "backprop",
        "title": "Part 7: backpropagation by hand",
        "goal": "Part 2's network written out in NumPy: `forward` (sigmoid hidden layer, "
                "softmax output), the mean sparse cross-entropy, and `backward`, the chain rule "
                "from the loss back to every weight and bias. Check `backward` as CS231n does, "
                "against finite differences of your own loss: **expect** relative errors of "
                "about 1e-7 or less (1e-2 means a bug). Then look at the sigmoid's derivative "
                "`hidden * (1 - hidden)`, one factor of every hidden-layer gradient: **expect** "
                "it near 0.25 on pixels scaled to [0, 1] and near 0 on raw 0-255 pixels, which "
                "is why Part 1's raw run learns so slowly. Then answer the two questions at the "
                "bottom of `backprop.py`.",
        "write": "`sigmoid`, `softmax`, `forward`, `sparse_cross_entropy`, `backward`, "
                 "`gradient_step` and the two answers in `backprop.py` (NumPy only).",
        "own": ["backprop.sigmoid", "backprop.softmax", "backprop.forward",
                "backprop.sparse_cross_entropy", "backprop.backward", "backprop.gradient_step",
                "backprop.SATURATED_FACTOR", "backprop.OUTPUT_GRADIENT"],
        "uses": [],
        "prepare": "import numpy as np\n"
                   "import backprop\n"
                   "params = backprop.init_params(784, 250, 10, seed=0)  # given\n"
                   "x_small, y_small = x_train_raw[:32] / 255.0, y_train[:32]  # float64 in [0, 1]",
        "experiment": "# Gradient check: your backward against (loss(w + eps) - loss(w - eps)) / (2 eps).\n"
                      "grads = attempt(backprop.backward, x_small, y_small, params)\n"
                      "if grads is not None:\n"
                      "    rng = np.random.default_rng(0)\n"
                      "    for name in backprop.PARAMETER_NAMES:\n"
                      "        errors = []\n"
                      "        for flat in rng.choice(params[name].size, 5, replace=False):\n"
                      "            position = np.unravel_index(flat, params[name].shape)\n"
                      "            losses = []\n"
                      "            for sign in (1.0, -1.0):\n"
                      "                moved = {key: value.copy() for key, value in params.items()}\n"
                      "                moved[name][position] += sign * 1e-5\n"
                      "                _, moved_probabilities = backprop.forward(x_small, moved)\n"
                      "                losses.append(backprop.sparse_cross_entropy(moved_probabilities, y_small))\n"
                      "            numerical = (losses[0] - losses[1]) / 2e-5\n"
                      "            analytic = grads[name][position]\n"
                      "            errors.append(abs(analytic - numerical) / max(1e-8, abs(analytic) + abs(numerical)))\n"
                      "        print(f\"{name}: largest relative error {max(errors):.1e}\")",
        "plot": "# The sigmoid's derivative, one factor of dL/dW1, on raw and on scaled pixels.\n"
                "import matplotlib.pyplot as plt\n"
                "raw_pass = attempt(backprop.forward, x_train_raw[:256].astype(np.float64), params)\n"
                "scaled_pass = attempt(backprop.forward, x_train_raw[:256] / 255.0, params)\n"
                "if raw_pass is None or scaled_pass is None:\n"
                "    print(\"nothing to plot yet: write forward in backprop.py\")\n"
                "else:\n"
                "    figure, axes = plt.subplots(figsize=(7, 4), layout=\"constrained\")\n"
                "    for label, (units, _) in ((\"raw pixels 0-255\", raw_pass), (\"pixels / 255\", scaled_pass)):\n"
                "        axes.hist((units * (1.0 - units)).ravel(), bins=50, range=(0.0, 0.25), alpha=0.6, label=label)\n"
                "    axes.set(xlabel=\"sigmoid derivative of each hidden unit\", ylabel=\"units x drawings\",\n"
                "             yscale=\"log\", title=\"saturation: where the hidden-layer gradient vanishes\")\n"
                "    axes.legend()",
        "logdir": None,
    },
    {
        "part": "descent_variants",
        "title": "Part 8: gradient descent variants and the loss landscape",
        "goal": "Fit a line y = w * x + b to 100 noisy points by minimising the mean squared "
                "error with one loop whose `batch_size` makes it batch (all 100 examples per "
                "update), stochastic (one) or mini-batch (16) gradient descent, then draw the "
                "loss landscape: the loss on a grid of (w, b), as contour lines, with the three"
                " paths on it. **Expect** the batch path to go smoothly downhill, across the "
                "contour lines, with one update per epoch; the stochastic path to zigzag (each "
                "update sees one example) but to make 100 updates per epoch; and the mini-batch"
                " path in between: 7 updates per epoch, less noise than stochastic. Then answer"
                " the two questions at the bottom of `descent.py`.",
        "write": "`mse_loss`, `mse_gradient`, `run_gradient_descent`, `loss_grid` and the two "
                 "answers in `descent.py` (NumPy only).",
        "own": ["descent.mse_loss", "descent.mse_gradient", "descent.run_gradient_descent",
                "descent.loss_grid", "descent.NOISY_PATH_REASON", "descent.WHY_MINI_BATCH"],
        "uses": [],
        "prepare": "import numpy as np\n"
                   "import descent\n"
                   "# 100 noisy points around a line (given: descent.make_line_data); every run starts at (-1, 3).\n"
                   "x_line, y_line = descent.make_line_data(100, seed=0)\n"
                   "DESCENT_SETTINGS = {  # label: (batch_size, learning_rate, epochs), as the grader runs them\n"
                   "    \"stochastic (batch_size=1)\": (1, 0.01, 10),\n"
                   "    \"mini-batch (batch_size=16)\": (16, 0.05, 40),\n"
                   "    \"batch (batch_size=100)\": (100, 0.1, 100),\n"
                   "}",
        "experiment": "descent_runs = {label: attempt(descent.run_gradient_descent, x_line, y_line, size,\n"
                      "                               learning_rate=rate, epochs=epochs, start=(-1.0, 3.0), seed=0)\n"
                      "                for label, (size, rate, epochs) in DESCENT_SETTINGS.items()}\n"
                      "w_values, b_values = np.linspace(-1.5, 3.5, 101), np.linspace(-2.5, 3.5, 81)\n"
                      "landscape = attempt(descent.loss_grid, x_line, y_line, w_values, b_values)",
        "plot": "# Left: contours of loss_grid (the loss landscape) with the three paths. Right: their losses.\n"
                "import matplotlib.pyplot as plt\n"
                "finished = {label: run for label, run in descent_runs.items() if run is not None}\n"
                "if landscape is None or not finished:\n"
                "    print(\"nothing to plot yet: write run_gradient_descent and loss_grid in descent.py\")\n"
                "else:\n"
                "    figure, (paths, curves) = plt.subplots(1, 2, figsize=(12, 4.5), layout=\"constrained\")\n"
                "    contours = paths.contour(w_values, b_values, np.asarray(landscape),\n"
                "                             levels=np.geomspace(0.3, 30, 12), cmap=\"viridis\", linewidths=0.7)\n"
                "    paths.clabel(contours, fontsize=\"x-small\", fmt=\"%.2g\")\n"
                "    for label, (path, losses) in finished.items():\n"
                "        path, losses = np.asarray(path), np.asarray(losses)\n"
                "        paths.plot(path[:, 0], path[:, 1], marker=\".\", markersize=2, linewidth=0.8, label=label)\n"
                "        epochs = np.arange(1, len(losses) + 1) * DESCENT_SETTINGS[label][2] / max(len(losses), 1)\n"
                "        curves.plot(epochs, losses, linewidth=0.8, label=label)\n"
                "    paths.set(xlabel=\"w\", ylabel=\"b\", title=\"the loss landscape and the paths from (-1, 3)\")\n"
                "    curves.set(xlabel=\"epoch\", ylabel=\"loss on the whole data set\", yscale=\"log\",\n"
                "               title=\"the loss after each update\")\n"
                "    paths.legend(fontsize=\"small\")\n"
                "    curves.legend(fontsize=\"small\")",
        "logdir": None,
    },
    {
        "part": "loss_functions",
        "title": "Part 9: loss functions",
        "goal": "Mean squared error for regression, binary cross-entropy for yes/no outputs "
                "and sparse categorical cross-entropy for one class out of k with integer "
                "labels (Part 2's model), in NumPy, as `keras.losses` computes them: one "
                "number, the mean over the batch. Probabilities of exactly 0 or 1 and logits "
                "of +-1000 are where naive formulas give NaN, inf or a wrong number. Then "
                "`logit_gradients` shows why classifiers are trained with cross-entropy: "
                "**expect**, as a wrong class's logit grows (the prediction more and more "
                "confidently wrong), the cross-entropy gradient to stay near 1 in size while "
                "MSE's, through the softmax, falls towards 0: MSE stops learning just when the "
                "model is most wrong. Then answer the two questions at the bottom of "
                "`losses.py`. Last, `run_loss_experiment` trains the same model twice with "
                "plain SGD: with cross-entropy on the integer labels, and with MSE on one-hot "
                "labels. **Expect** the MSE run's accuracy to stay far below the "
                "cross-entropy run's after the same epochs (the grader expects the gap the "
                "reference shows).",
        "write": "`mean_squared_error`, `binary_crossentropy`, "
                 "`sparse_categorical_crossentropy`, `logit_gradients` and the two answers in "
                 "`losses.py` (NumPy only); `one_hot` and `run_loss_experiment` in "
                 "`loss_experiment.py` (Keras allowed there).",
        "own": ["losses.mean_squared_error", "losses.binary_crossentropy",
                "losses.sparse_categorical_crossentropy", "losses.logit_gradients",
                "losses.LOSS_FOR_TASK", "losses.MSE_ON_SOFTMAX", "loss_experiment.one_hot",
                "loss_experiment.run_loss_experiment"],
        "uses": ["architecture.build_model"],
        "prepare": "import numpy as np\n"
                   "import loss_experiment, losses",
        "experiment": "# The numerical traps: each must print a finite number (keras.losses: 16.118, 0.0, 2000.0).\n"
                      "print(attempt(losses.binary_crossentropy, [1, 0], [0.0, 1.0]))\n"
                      "print(attempt(losses.binary_crossentropy, [1, 0], [1000.0, -1000.0], from_logits=True))\n"
                      "print(attempt(losses.sparse_categorical_crossentropy, [2], [[1000.0, 0.0, -1000.0]],\n"
                      "              from_logits=True))\n"
                      "# One example of class 1 whose class-0 logit grows: more and more confidently wrong.\n"
                      "wrong_logit = np.linspace(0.0, 10.0, 41)\n"
                      "first = attempt(losses.logit_gradients, [0.0, 0.0, 0.0], 1)",
        "plot": "import matplotlib.pyplot as plt\n"
                "if first is None:\n"
                "    print(\"nothing to plot yet: write logit_gradients in losses.py\")\n"
                "else:\n"
                "    gradients = [losses.logit_gradients([c, 0.0, 0.0], 1) for c in wrong_logit]\n"
                "    figure, axes = plt.subplots(figsize=(7, 4), layout=\"constrained\")\n"
                "    for key, label in ((\"cross_entropy\", \"cross-entropy\"), (\"mse\", \"MSE on the softmax outputs\")):\n"
                "        axes.plot(wrong_logit, [np.linalg.norm(g[key]) for g in gradients], label=label)\n"
                "    axes.set(xlabel=\"logit of the wrong class 0 (the true class 1 has logit 0)\",\n"
                "             ylabel=\"size of the gradient w.r.t. the logits\", yscale=\"log\",\n"
                "             title=\"a confidently wrong prediction: which loss still learns?\")\n"
                "    axes.legend()",
        "more": ["# The same model, data and SGD settings twice: cross-entropy on the labels, MSE on one-hot labels.\n"
                 "x_train_scaled = scaled(x_train_raw, normalization.normalize_pixels)\n"
                 "x_val_scaled = scaled(x_val_raw, normalization.normalize_pixels)\n"
                 "loss_results = attempt(loss_experiment.run_loss_experiment,\n"
                 "                       x_train_scaled, y_train, x_val_scaled, y_val, \"logs/loss_experiment\")",
                 "import matplotlib.pyplot as plt\n"
                 "if loss_results is None:\n"
                 "    print(\"nothing to plot yet: write one_hot and run_loss_experiment in loss_experiment.py\")\n"
                 "else:\n"
                 "    figure, axes = plt.subplots(figsize=(7, 4), layout=\"constrained\")\n"
                 "    for name, history in loss_results.items():\n"
                 "        history = getattr(history, \"history\", history)\n"
                 "        epochs = range(1, len(history[\"accuracy\"]) + 1)\n"
                 "        line, = axes.plot(epochs, history[\"val_accuracy\"], marker=\"o\", label=f\"{name} (validation)\")\n"
                 "        axes.plot(epochs, history[\"accuracy\"], \"--\", color=line.get_color(), label=f\"{name} (training)\")\n"
                 "    axes.set(xlabel=\"epoch\", ylabel=\"accuracy\", ylim=(0, 1),\n"
                 "             title=\"the same model and data: which loss learns?\")\n"
                 "    axes.legend(fontsize=\"small\")"],
        "logdir": "logs/loss_experiment",
    },
    {
        "part": "hyperparameter_search",
        "title": "Part 10: hyperparameter search",
        "goal": "Instead of trying learning rates by hand (Part 4), let keras-tuner try them "
                "together with the hidden layer's width: grid search tries every combination "
                "once, random search a budget of them drawn at random, Bayesian optimization "
                "a few random ones and then where a model of the scores so far expects the "
                "most improvement. Each *trial* builds a fresh model and fits it once; its "
                "score is its `val_accuracy`. **Expect** the same combination to score the "
                "same in every search (same seed, same data), the wide layer with the higher "
                "rate to win after one epoch, and random search to find it or miss it "
                "depending on its draws. Then, in a terminal, `tensorboard --logdir "
                "search/grid_logs` and open the *HPARAMS* tab: one session per trial. Answer "
                "the two questions at the bottom of `search.py`.",
        "write": "`build_tunable_model`, `make_tuner`, `trial_record`, `run_search` and the two "
                 "answers in `search.py`.",
        "own": ["search.build_tunable_model", "search.make_tuner", "search.trial_record",
                "search.run_search", "search.RANDOM_BEATS_GRID", "search.BAYESIAN_NEXT_TRIAL"],
        "uses": ["search.build_search_model"],
        "prepare": "import search\n"
                   "x_train_scaled = scaled(x_train_raw, normalization.normalize_pixels)\n"
                   "x_val_scaled = scaled(x_val_raw, normalization.normalize_pixels)",
        "experiment": "searches = {method: attempt(search.run_search, method, x_train_scaled, y_train,\n"
                      "                          x_val_scaled, y_val, \"search\", epochs=1, max_trials=3)\n"
                      "            for method in search.METHODS}\n"
                      "for method, found in searches.items():\n"
                      "    if found is not None:\n"
                      "        print(method, \"best:\", found[\"best\"])",
        "plot": "import matplotlib.pyplot as plt\n"
                "finished = {method: found for method, found in searches.items() if found is not None}\n"
                "if not finished:\n"
                "    print(\"nothing to plot yet: write run_search in search.py\")\n"
                "else:\n"
                "    figure, axes = plt.subplots(1, len(finished), figsize=(4 * len(finished), 3.5),\n"
                "                                layout=\"constrained\", squeeze=False)\n"
                "    for ax, (method, found) in zip(axes[0], finished.items()):\n"
                "        names = [f\"lr {t['hyperparameters']['learning_rate']:g}\\n\"\n"
                "                 f\"{t['hyperparameters']['hidden_units']} units\" for t in found[\"trials\"]]\n"
                "        ax.bar(range(len(names)), [t[\"val_accuracy\"] for t in found[\"trials\"]])\n"
                "        ax.set_xticks(range(len(names)), names, fontsize=\"small\")\n"
                "        ax.set(title=f\"{method}: trials in the order tried\", ylabel=\"val_accuracy\")",
        "logdir": None,
    },
    {
        "part": "regularization",
        "title": "Part 11: fighting overfitting and tuning the schedule",
        "goal": "On only 200 training drawings the required network learns them by heart: its "
                "training loss falls towards 0 while the validation loss stops falling after a "
                "few epochs and then rises. **Expect** the baseline's gap between the two to be "
                "the widest; L2 (smaller weights) and dropout (units dropped at random while "
                "training) to narrow it; early stopping to stop a few epochs after the best "
                "validation loss and keep that epoch's weights; the schedule's learning rate "
                "(TensorBoard's `epoch_learning_rate`) to shrink by `decay_rate` every epoch; "
                "and training on shifted copies of the drawings as well to help most on "
                "held-out drawings. In TensorBoard compare `epoch_loss` of `baseline` and `l2` "
                "(train and validation), and the `mlp/hidden/kernel` histograms if you log "
                "them. Then answer the four questions at the bottom of `regularization.py` "
                "(batch normalization and dropout at training vs inference).",
        "write": "`build_regularized_model`, `make_schedule`, `augment_drawings`, "
                 "`augmented_training_set`, `run_regularization_experiment` and the four "
                 "answers in `regularization.py`.",
        "own": ["regularization.build_regularized_model", "regularization.make_schedule",
                "regularization.augment_drawings", "regularization.augmented_training_set",
                "regularization.run_regularization_experiment", "regularization.WHEN_TO_STOP",
                "regularization.L2_EFFECT", "regularization.DROPOUT_AT_INFERENCE",
                "regularization.BATCH_NORM_AT_INFERENCE"],
        "uses": [],
        "prepare": "import regularization\n"
                   "# A deliberately small training set (as the grader's), where the model overfits.\n"
                   "x_small = scaled(x_train_raw[:200], normalization.normalize_pixels)\n"
                   "y_small = y_train[:200]\n"
                   "x_val_scaled = scaled(x_val_raw, normalization.normalize_pixels)",
        "experiment": "regularization_results = attempt(\n"
                      "    regularization.run_regularization_experiment,\n"
                      "    x_small, y_small, x_val_scaled, y_val, \"logs/regularization\")",
        "plot": "import matplotlib.pyplot as plt\n"
                "if regularization_results is None:\n"
                "    print(\"nothing to plot yet: write run_regularization_experiment in regularization.py\")\n"
                "else:\n"
                "    figure, (train, validation) = plt.subplots(1, 2, figsize=(11, 4), sharey=True,\n"
                "                                               layout=\"constrained\")\n"
                "    for name, history in regularization_results.items():\n"
                "        history = getattr(history, \"history\", history)\n"
                "        line, = train.plot(history[\"loss\"], label=name)\n"
                "        validation.plot(history[\"val_loss\"], color=line.get_color(), label=name)\n"
                "    train.set(title=\"training loss\", xlabel=\"epoch\", ylabel=\"loss\")\n"
                "    validation.set(title=\"validation loss: the gap is overfitting\", xlabel=\"epoch\")\n"
                "    validation.legend(fontsize=\"small\")",
        "logdir": "logs/regularization",
    },
]

INTRO = """\
# Module 2: Train (notebook edition)

You write the code in the `.py` modules next to this notebook (`README.md` lists which
module each part asks for); this notebook imports them, runs the experiments, plots the results and checks each part. `%autoreload 2` reloads
a module you edited each time a cell runs, so: edit the file, save, run the cell again.

**What is graded** is the `.py` modules, not this notebook: submit those (see `README.md`).
Each part ends with `check(...)`, the public tests of that part on a small data set
(`passed`, `not attempted yet`, or what to fix). `make check` runs them all at once and
draws your runs' curves into `feedback/index.html`.

Every run is logged to TensorBoard under `logs/`. Run the TensorBoard cells in Jupyter, or
`tensorboard --logdir logs` in a terminal.
"""

SETUP = """\
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up messages off

%load_ext autoreload
%autoreload 2
%matplotlib inline

import architecture, concepts, experiments, normalization, training
from grader.nbtools import (attempt, check, load_data, plot_descent, plot_histories, scaled,
                            show_drawings, size)

SIZE = size()  # TRAIN_NOTEBOOK_SIZE=check: the self-check's small size (quick)
data = load_data(SIZE)
(x_train_raw, y_train), (x_val_raw, y_val) = data["train"], data["val"]
print(f"{len(x_train_raw)} training and {len(x_val_raw)} validation drawings, "
      f"{x_train_raw.shape[1]} pixels each ({x_train_raw.dtype}, 0-255); {SIZE.epochs} epochs per run")"""

DATA = """\
## The data

28 x 28 drawings in 10 classes, one row of 784 raw pixel intensities per drawing (uint8,
0-255), labels 0-9. The package makes them itself (no download); set `TRAIN_QUICKDRAW_DATA`
to the course's `quickdraw10.npz` to use the real Quick, Draw! bitmaps."""

SHOW_DATA = "show_drawings(x_train_raw, y_train)"

OUTRO = """\
## Submit

Run `make check` in a terminal for every public test at once (and `feedback/index.html`),
then submit the `.py` modules (see `README.md`). The autograder re-runs your code on
more data, with hidden tests; the logs and this notebook are not graded."""


def _check_call(part):
    own = ", ".join(json.dumps(name) for name in part["own"])
    uses = ", ".join(json.dumps(name) for name in part["uses"])
    return (f"# Public tests of this part, on a small data set.\n"
            f"check({json.dumps(part['part'])},\n"
            f"      own=[{own}],\n"
            f"      uses=[{uses}])")


def _part_cells(number, part):
    title = part["title"] if part["title"].startswith("Part ") else f"Part {number}: {part['title']}"
    goal = f"{part['goal']}\n\n" if part.get("goal") else ""
    cells = [("markdown", f"## {title}\n\n{goal}**Write:** {part['write']} "
                          f"Then run the cells below.")]
    if part.get("prepare"):
        cells.append(("code", part["prepare"]))
    for key in ("experiment", "plot"):
        if part.get(key):
            cells.append(("code", part[key]))
    cells += [("code", source) for source in part.get("more", ())]
    if part.get("logdir"):
        cells.append(("tensorboard", f"# In Jupyter: TensorBoard for this experiment's runs.\n"
                                     f"%load_ext tensorboard\n"
                                     f"%tensorboard --logdir {part['logdir']}"))
    cells.append(("code", _check_call(part)))
    return cells


def notebook_cells(parts=PARTS):
    """``[(kind, source)]`` of the whole notebook; kind is markdown, code or tensorboard."""
    cells = [("markdown", INTRO), ("code", SETUP), ("markdown", DATA), ("code", SHOW_DATA)]
    for number, part in enumerate(parts, start=1):
        cells += _part_cells(number, part)
    cells.append(("markdown", OUTRO))
    return cells


def render_notebook(parts=PARTS):
    """The notebook as an ``nbformat.NotebookNode`` (validated)."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source) in enumerate(notebook_cells(parts)):
        cell_id = f"cell-{index:02d}"
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source, id=cell_id)
        else:
            cell = nbformat.v4.new_code_cell(source, id=cell_id)
            if kind == "tensorboard":
                cell.metadata["tags"] = [SKIP_TAG]
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def notebook_bytes(parts=PARTS):
    """The notebook file's bytes: the same on every build."""
    return (nbformat.writes(render_notebook(parts)) + "\n").encode("utf-8")


def cell_source_lines(data):
    """Every line of every cell of a notebook file (for the leak check), or None when
    ``data`` is not a notebook."""
    try:
        notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:  # not a notebook: nothing to add
        return None
    lines = []
    for cell in notebook.cells:
        lines += cell.source.splitlines()
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            lines += (text if isinstance(text, str) else "".join(text)).splitlines()
    return lines
