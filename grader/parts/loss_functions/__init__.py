"""Part 9: loss functions in NumPy (``losses.py``): mean squared error, binary and sparse
categorical cross-entropy (with ``from_logits``), the gradients of cross-entropy and of MSE
with respect to the logits, and two multiple-choice answers; then one experiment
(``loss_experiment.py``): the same model trained with cross-entropy and with MSE.

The NumPy functions are not trained: every probe calls a pure function on the grader's
fixed inputs below, and the test file computes the expected values itself from the same
constants (never from the record). The inputs include the numerical traps: probabilities
of exactly 0 and 1, and logits of +-1000.

The experiment (step ``loss_comparison``) calls ``run_loss_experiment`` with the grader's
normalized training and validation data and its recording builder, like the other training
parts: every run is replayed on the trusted side, and calibrated. The MSE run trains on
one-hot labels, a copy the recording builder saves; ``build_experiment`` judges on the
trusted side, from the saved arrays, that they encode the grader's labels row for row.
"""

import math

import numpy as np

from grader import probes
from grader.choices import every_question, questions, record_answers
from grader.parts import Part, Sweep, one_output_per_case
from grader.probes import student_traceback, value_record

#: ``(y_true, y_pred)`` pairs for ``mean_squared_error``.
MSE_CASES = (
    ((1.5, -0.5, 2.0, 0.0), (1.0, 0.0, 2.5, -1.0)),
    (((0.0, 1.0, 0.0), (1.0, 0.0, 0.0)), ((0.2, 0.7, 0.1), (0.5, 0.3, 0.2))),
    (((3.0,), (-1.0,), (0.5,)), ((2.0,), (-1.0,), (0.0,))),
)

#: ``(y_true, y_pred, from_logits, extreme)`` for ``binary_crossentropy``; ``extreme`` marks
#: the inputs where a naive formula gives NaN, inf or a wrong number.
BCE_CASES = (
    ((0, 1, 1, 0), (0.1, 0.8, 0.6, 0.3), False, False),
    (((1, 0), (0, 1), (1, 1)), ((0.9, 0.2), (0.4, 0.7), (0.55, 0.95)), False, False),
    ((1, 0, 1, 0), (1.0, 0.0, 0.0, 1.0), False, True),
    ((0, 1, 1), (0.0, 1.0, 0.5), False, True),
    ((0, 1, 1, 0), (-1.2, 2.0, 0.3, 0.8), True, False),
    (((1, 0), (0, 1), (1, 1)), ((2.5, -0.5), (0.1, -3.0), (4.0, 1.5)), True, False),
    ((1, 0, 1, 0), (1000.0, -1000.0, -1000.0, 1000.0), True, True),
    ((1, 0, 1), (-1000.0, 1000.0, 30.0), True, True),
)

#: ``(labels, y_pred, from_logits, extreme)`` for ``sparse_categorical_crossentropy``.
SCCE_CASES = (
    ((0, 2, 1), ((0.7, 0.2, 0.1), (0.1, 0.3, 0.6), (0.25, 0.5, 0.25)), False, False),
    ((3, 0), ((0.1, 0.2, 0.3, 0.4), (0.05, 0.05, 0.8, 0.1)), False, False),
    ((0, 1, 2), ((1.0, 0.0, 0.0), (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)), False, True),
    ((1, 1), ((0.0, 1.0), (0.5, 0.5)), False, True),
    ((1, 0, 3), ((0.5, 2.0, -1.0, 0.0), (3.0, 1.0, 0.2, -0.7), (-2.0, 0.0, 1.0, 1.5)), True,
     False),
    ((2, 0), ((1.0, 1.0, 1.0), (-0.3, 0.9, 0.4)), True, False),
    ((0, 1, 2), ((1000.0, 0.0, -1000.0), (1000.0, 0.0, -1000.0), (-1000.0, -1000.0, 1000.0)),
     True, True),
    ((0, 2), ((-1000.0, -1000.0, -1000.0), (-1000.0, 1000.0, 999.0)), True, True),
)

#: ``(logits, label)`` for ``logit_gradients``; ``CONFIDENTLY_WRONG`` indexes the cases
#: whose largest logit is not the label's.
GRADIENT_CASES = (
    ((8.0, 0.0, 0.0), 1),
    ((0.5, -1.0, 2.0, 0.0), 2),
    ((0.0, 0.0, 0.0, 0.0, 0.0), 4),
    ((-3.0, 9.0, 1.0), 0),
)

#: The examples of ``losses.py``'s docstrings, in the form of the cases above. They are
#: asked for with the rest (last in each tuple); the public tests judge them, so the
#: self-check catches every mistake a docstring's own example shows.
EXAMPLES = {
    "mean_squared_error": (((1.0, 2.0), (1.0, 4.0)),),
    "binary_crossentropy": (((1, 0), (0.9, 0.2), False, False),
                            ((0, 1), (1000.0, 1000.0), True, True)),
    "sparse_categorical_crossentropy": (((0, 1), ((0.5, 0.5), (0.2, 0.8)), False, False),
                                        ((1,), ((1000.0, 0.0),), True, True)),
    "logit_gradients": (((0.0, 0.0), 0),),
}
MSE_CASES += EXAMPLES["mean_squared_error"]
BCE_CASES += EXAMPLES["binary_crossentropy"]
SCCE_CASES += EXAMPLES["sparse_categorical_crossentropy"]
GRADIENT_CASES += EXAMPLES["logit_gradients"]
CONFIDENTLY_WRONG = (0, 3)



def _loss_record(value):
    """What one call returned: ``{"number": x}`` for a single number, else how it looks
    (an array's shape, or the value's type and repr)."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return value_record(value)
    if array.ndim == 0:
        return {"number": float(array)}
    return {"shape": list(array.shape), **value_record(value)}


def _calls(ctx, function, arguments):
    """One record per call of ``function(*args, **kwargs)``: its result or its error."""
    outputs = []
    for args, kwargs in arguments:
        try:
            outputs.append(_loss_record(function(*args, **kwargs)))
        except Exception as error:  # one failing case must not hide the others
            outputs.append({"error": student_traceback(error, ctx.submission_dir)})
    return outputs


def _float(values):
    return np.array(values, dtype=np.float64)


def step_squared_error_values(ctx):
    function = ctx.module("losses").mean_squared_error
    return {"outputs": _calls(ctx, function, [((_float(t), _float(p)), {})
                                              for t, p in MSE_CASES])}, {}


def _cross_entropy_calls(cases, labels_dtype):
    """Probabilities are passed without ``from_logits`` (its default must be False)."""
    return [((np.array(t, dtype=labels_dtype), _float(p)), {"from_logits": True} if logits else {})
            for t, p, logits, _ in cases]


def step_binary_ce_values(ctx):
    function = ctx.module("losses").binary_crossentropy
    return {"outputs": _calls(ctx, function, _cross_entropy_calls(BCE_CASES, np.float64))}, {}


def step_sparse_ce_values(ctx):
    function = ctx.module("losses").sparse_categorical_crossentropy
    return {"outputs": _calls(ctx, function, _cross_entropy_calls(SCCE_CASES, np.int64))}, {}


def step_logit_gradient_values(ctx):
    function = ctx.module("losses").logit_gradients
    outputs = []
    for logits, label in GRADIENT_CASES:
        try:
            result = function(_float(logits), label)
        except Exception as error:
            outputs.append({"error": student_traceback(error, ctx.submission_dir)})
            continue
        if not isinstance(result, dict):
            outputs.append({"not_a_dict": value_record(result)})
            continue
        record = {"keys": sorted(str(key)[:40] for key in list(result)[:10])}
        for key in ("cross_entropy", "mse"):
            if key not in result:
                continue
            try:
                array = np.asarray(result[key], dtype=np.float64)
                record[key] = {"shape": list(array.shape), "values": array.reshape(-1)[:64].tolist()}
            except (TypeError, ValueError):
                record[key] = value_record(result[key])
        outputs.append(record)
    return {"outputs": outputs}, {}


def step_loss_concept_answers(ctx):
    return record_answers(ctx.module("losses"), ctx.inputs.get("questions", [])), {}


# ------------------------------------------------------------------------ experiment

#: The runs of ``run_loss_experiment``, by name, and the loss each must compile with.
RUN_LOSSES = {"cross_entropy": "sparse_categorical_crossentropy",
              "mean_squared_error": "mean_squared_error"}
RUN_NAMES = tuple(RUN_LOSSES)
#: The labels each run must train and validate on: the grader's integer labels, or their
#: one-hot encoding (``grader.runs.label_encoding``).
RUN_LABELS = {"cross_entropy": "labels", "mean_squared_error": "one_hot"}
#: The experiment's optimizer. Plain SGD: Adam rescales each step by the gradient's own size,
#: which hides MSE's small gradients (at Adam 0.001 the two runs end within 0.01 of each
#: other); at SGD 0.5 MSE lags by 0.29-0.50 of held-out accuracy after 180-190 updates.
EXPERIMENT = {"optimizer": "sgd", "learning_rate": 0.5}
#: The fewest SGD updates each run makes, whatever the size of the data: the lesson needs
#: training time, not rows. At 14 updates (200 rows, 2 epochs) the cross-entropy run is
#: still at chance too; at 180-189 updates the gap was 0.29-0.49 with 200, 300 and 2,000
#: training rows (seeds 1-5 each). The grading profile's 3 epochs of 2,000 rows are 189.
MIN_UPDATES = 180


def experiment_settings(profile):
    """The keyword arguments ``run_loss_experiment`` is called with (but ``seed`` and
    ``build_fn``): the profile's batch size, and its epochs or as many more as make
    ``MIN_UPDATES`` updates."""
    updates_per_epoch = math.ceil(profile.n_train / profile.batch_size)
    epochs = max(profile.epochs, math.ceil(MIN_UPDATES / updates_per_epoch))
    return {"epochs": epochs, "batch_size": profile.batch_size, **EXPERIMENT}


def _student_maker(build_model):
    """The student's own ``build_model`` behind the recording builder (the self-check;
    grading uses the grader's reference builder), recompiled with the loss a run asks for."""
    def make_model(n_classes, *, loss=RUN_LOSSES["cross_entropy"], **options):
        model = build_model(n_classes, **options)
        if loss != RUN_LOSSES["cross_entropy"]:
            model.compile(optimizer=model.optimizer, loss=loss, metrics=["accuracy"])
        return model
    return make_model


def step_loss_comparison(ctx):
    maker = ctx.model_maker() if ctx.use_reference_model else \
        _student_maker(ctx.module("architecture").build_model)
    return probes.run_experiment(ctx, "loss_comparison", "loss_experiment",
                                 "run_loss_experiment", None, RUN_NAMES, ctx.normalized("train"),
                                 ctx.normalized("val"), make_model=maker,
                                 **experiment_settings(ctx.profile))


def model_loss(model):
    """The loss a recorded model was built with (the default when the call gave none)."""
    return (model or {}).get("loss", RUN_LOSSES["cross_entropy"])


def run_matches(name, fit, model):
    """Is this fit the run ``name``: its model compiled with that run's loss?"""
    return model_loss(model) == RUN_LOSSES[name]


def build_experiment(step, profile, data):
    """The experiment as the grader reads it: one run per loss.

    ``facts["labels"]`` and ``facts["val_labels"]`` say how each fit's labels encode the
    grader's (``"labels"``, ``"one_hot"`` or None), measured on this, the trusted, side on
    the arrays the replay trains on; ``facts["full_data"]`` (the shared checks' "trained on
    the whole data it was given") also requires the labels to be the grader's, in either
    encoding: one-hot labels of the grader's y_train count as its labels, anything else not."""
    from grader import runs  # trusted side only (its log reader must not load in a part)
    experiment = runs.build_experiment(step, "run", RUN_NAMES, data,
                                       epochs=experiment_settings(profile)["epochs"],
                                       label="the {} run".format, matches=run_matches)
    for run in experiment.runs:
        if run.fit is None:
            continue
        run.facts["labels"] = runs.label_encoding(run.fit.get("y"), step.arrays, data, "y_train")
        run.facts["val_labels"] = None if run.fit.get("y_val") is None else \
            runs.label_encoding(run.fit.get("y_val"), step.arrays, data, "y_val")
        run.facts["full_data"] = bool(run.facts.get("full_data")) and \
            run.facts["labels"] is not None and \
            (run.fit.get("y_val") is None or run.facts["val_labels"] is not None)
    return experiment


def accuracy_gap(experiment):
    """Held-out accuracy of the cross-entropy run minus the MSE run's (None if unknown)."""
    accuracy = {run.setting: run.held_out_accuracy for run in experiment.runs}
    if None in (accuracy.get("cross_entropy"), accuracy.get("mean_squared_error")):
        return None
    return accuracy["cross_entropy"] - accuracy["mean_squared_error"]


def _figures(env):
    """Calibrated figures beyond the per-run ones: how far MSE lags behind cross-entropy."""
    return {"loss_experiment.accuracy_gap": accuracy_gap(env["loss_comparison"])}


PART = Part(
    title="loss functions",
    graded_modules=("losses", "loss_experiment"),
    needed_modules=("architecture",),
    steps=(step_squared_error_values, step_binary_ce_values, step_sparse_ce_values,
           step_logit_gradient_values, step_loss_concept_answers, step_loss_comparison),
    experiments={"loss_comparison": Sweep(
        setting="run", settings=RUN_NAMES, label="the {} run", metrics="loss_experiment",
        build=build_experiment)},
    record_checks={"squared_error_values": one_output_per_case(len(MSE_CASES), each=dict),
                   "binary_ce_values": one_output_per_case(len(BCE_CASES), each=dict),
                   "sparse_ce_values": one_output_per_case(len(SCCE_CASES), each=dict),
                   "logit_gradient_values": one_output_per_case(len(GRADIENT_CASES), each=dict),
                   "loss_concept_answers": every_question},
    reference_builder=True,
    extra_metrics=_figures,
    inputs=questions,
)
