"""Part 1: normalization. ``normalize_pixels`` on a sample of the grader's pixels, and the
raw-versus-normalized experiment (``run_normalization_experiment``)."""

import numpy as np

from grader import probes
from grader.parts import Part, Sweep

SAMPLE_ROWS = 200


def step_normalize_sample(ctx):
    sample = ctx.data["x_val"][:SAMPLE_ROWS].copy()
    result = ctx.module("normalization").normalize_pixels(sample)
    if not isinstance(result, np.ndarray):
        raise probes.StepError(f"normalize_pixels returned {type(result).__name__}, "
                               "expected a NumPy array")
    if result.dtype == object:
        raise probes.StepError("normalize_pixels returned an array of Python objects, "
                               "expected float32")
    return {"dtype": str(result.dtype), "shape": list(result.shape)}, \
        {"result": result, "input_after": sample}


def step_normalization_experiment(ctx):
    p = ctx.profile
    return probes.run_experiment(
        ctx, "normalization_experiment", "normalization", "run_normalization_experiment", None,
        ["raw", "normalized"], ctx.data["x_train"], ctx.data["x_val"],
        batch_size=p.batch_size, optimizer=p.optimizer, learning_rate=p.learning_rate)


def _sample_recorded(value, arrays, inputs):
    if not {"result", "input_after"} <= set(arrays):
        return "the normalized sample and the input after the call"
    return None


def _held_out_gap(env):
    experiment = env["normalization_experiment"]
    return {"normalization.gap.held_out_accuracy":
            experiment.run("normalized").held_out_accuracy - experiment.run("raw").held_out_accuracy}


PART = Part(
    title="normalization",
    graded_modules=("training", "normalization"),
    needed_modules=("architecture",),
    steps=(step_normalize_sample, step_normalization_experiment),
    experiments={"normalization_experiment": Sweep(
        setting="input", settings=("raw", "normalized"), label="the {} run",
        metrics="normalization")},
    record_checks={"normalize_sample": _sample_recorded},
    reference_builder=True,
    extra_metrics=_held_out_gap,
    provides={"normalize_input": lambda data: data["x_val"][:SAMPLE_ROWS]},
)
