"""Part 5: the optimizer sweep (``run_optimizer_experiment``) and ``best_setting``."""

from grader import probes
from grader.parts import Part, Sweep
from grader.probes import key_to_json, student_traceback


def step_optimizer_experiment(ctx):
    p = ctx.profile
    return probes.run_experiment(
        ctx, "optimizer_experiment", "experiments", "run_optimizer_experiment", "optimizers",
        p.optimizers, ctx.normalized("train"), ctx.normalized("val"),
        batch_size=p.batch_size, learning_rate=p.learning_rate)


BEST_SETTING_CASES = (
    ("val_accuracy", {8: [0.5, 0.7], 32: [0.6, 0.8], 512: [0.7, 0.75]}),
    ("val_loss", {"sgd": [2.0, 1.2], "adam": [1.0, 0.4], "rmsprop": [0.9, 0.5]}),
    ("val_accuracy", {1.0: [0.2, float("nan")], 0.01: [0.5, 0.6], 0.001: [0.4, 0.6]}),
    ("loss", {16: [1.0, 0.30], 128: [1.0, 0.31]}),
    # the best epoch is not the last one: 8 peaked highest (0.9) but ended lowest
    ("val_accuracy", {8: [0.9, 0.6], 32: [0.5, 0.7], 512: [0.8, 0.65]}),
)


def step_best_setting_answers(ctx):
    best_setting = ctx.module("experiments").best_setting
    answers = []
    for metric, finals in BEST_SETTING_CASES:
        results = {key: {"loss": list(values), "val_loss": list(values),
                         "accuracy": list(values), "val_accuracy": list(values)}
                   for key, values in finals.items()}
        try:
            answers.append({"ok": True, "key": key_to_json(best_setting(results, metric=metric))})
        except Exception as error:
            answers.append({"ok": False, "error": student_traceback(error, ctx.submission_dir)})
    try:
        best_setting({}, metric="val_accuracy")
        empty = {"raised": None}
    except Exception as error:
        empty = {"raised": type(error).__name__, "is_value_error": isinstance(error, ValueError)}
    return {"answers": answers, "empty": empty}, {}




def _one_answer_per_case(value, arrays, inputs):
    answers = value.get("answers") if isinstance(value, dict) else None
    if not isinstance(answers, list) or len(answers) != len(BEST_SETTING_CASES):
        return f"{len(BEST_SETTING_CASES)} results, one per case the grader asked for"
    return None


PART = Part(
    title="optimizers",
    graded_modules=("training", "experiments"),
    needed_modules=("architecture",),
    steps=(step_optimizer_experiment, step_best_setting_answers),
    experiments={"optimizer_experiment": Sweep(
        setting="optimizer", settings="optimizers", label="optimizer {!r}", metrics="optimizer")},
    record_checks={"best_setting_answers": _one_answer_per_case},
    reference_builder=True,
)
