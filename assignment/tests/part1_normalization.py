"""Part 1: normalization. Otter exception-based test file (hidden cases are stripped
from the student version by `make dist`)."""

import numpy as np
from otter.test_files import test_case

from grader import experiment_checks as ex
from grader.checks import check, check_step

OK_FORMAT = False
name = "Part 1: normalization"


@test_case(name="1.1 normalize_pixels returns float32 of the same shape", points=2, hidden=False)
def test_normalize_type(normalize_sample):
    check_step(normalize_sample)
    result, original = normalize_sample.arrays["result"], normalize_sample.arrays["input_after"]
    check(result.dtype == np.float32, "dtype float32", str(result.dtype),
          "convert with x.astype(np.float32) before dividing")
    check(result.shape == original.shape, f"shape {original.shape}", str(result.shape),
          "return one row of 784 values per input row")


@test_case(name="1.2 normalize_pixels leaves its input unchanged", points=1, hidden=False)
def test_normalize_no_mutation(normalize_sample, normalize_input):
    check_step(normalize_sample)
    after = normalize_sample.arrays["input_after"]
    check(after.dtype == np.uint8 and np.array_equal(after, normalize_input),
          "the uint8 input array to be unchanged after the call",
          f"an input array of dtype {after.dtype} with changed values",
          "build a new array (x / 255 or x.astype(...)) instead of dividing in place")


@test_case(name="1.3 normalize_pixels scales into [0, 1]", points=2, hidden=False)
def test_normalize_range(normalize_sample):
    check_step(normalize_sample)
    result = normalize_sample.arrays["result"]
    check(np.all(np.isfinite(result)), "finite values", "NaN or infinity", "divide by 255, not by 0")
    low, high = float(result.min()), float(result.max())
    check(low >= 0.0 and high <= 1.0 and high >= 0.99, "values from 0 to 1 (the brightest pixel -> 1.0)",
          f"values from {low:.4g} to {high:.4g}", "divide the 0-255 intensities by 255.0")
    between = float(np.mean((result > 0) & (result < 1)))
    check(between > 0.001, "grey levels strictly between 0 and 1",
          "only 0s and 1s", "use true division (/), not integer division (//)")


@test_case(name="1.5 experiment returns both runs' histories", points=2, hidden=False)
def test_experiment_histories(normalization_experiment):
    ex.check_histories(normalization_experiment)


@test_case(name="1.6 experiment trains a fresh model per run on its own inputs, same settings",
           points=2, hidden=False)
def test_experiment_settings(normalization_experiment, profile):
    ex.check_fresh_models(normalization_experiment)
    ex.check_settings(normalization_experiment, learning_rate=profile.learning_rate,
                      optimizer=profile.optimizer, batch_size=profile.batch_size)


@test_case(name="1.7 experiment logs raw/ and normalized/ runs to TensorBoard", points=2, hidden=False)
def test_experiment_run_dirs(normalization_experiment):
    ex.check_run_dirs(normalization_experiment)


@test_case(name="1.8 experiment records weight histograms", points=1, hidden=False)
def test_experiment_histograms(normalization_experiment):
    ex.check_histograms(normalization_experiment)


@test_case(name="1.9 logged curves equal the returned histories", points=1, hidden=False)
def test_experiment_logs_match(normalization_experiment):
    ex.check_logs_match_history(normalization_experiment)


def _only(experiment, setting):
    import dataclasses
    return dataclasses.replace(experiment, runs=[experiment.run(setting)])
