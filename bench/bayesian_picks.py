"""Does the trusted side's replica of Bayesian optimization's pick equal keras-tuner's?

For 60 tuner seeds and both declaration orders of the Part 10 space, runs keras-tuner's own
``BayesianOptimizationOracle`` (2 random points, 3 trials) with made-up scores per
configuration, and compares its third trial with ``trials.bayesian_picks`` given the first
two. Then, with the reference's calibrated scores, counts the seeds at which a
``RandomSearch`` posing as Bayesian optimization (same first two draws, a random third)
is caught by 10.10, and how often the Gaussian process picks a tried configuration again.

Usage: python bench/bayesian_picks.py   (about 1 minute; figures go into README)
"""

import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from grader.parts.hyperparameter_search import trials  # noqa: E402
# keras-tuner's own oracle, run as the test of the replica runs it
from test_part_hyperparameter_search import keras_tuner_bayesian_trials  # noqa: E402

SPACE = [("learning_rate", [0.01, 0.001]), ("hidden_units", [32, 128])]
#: The reference's mean held-out accuracy per configuration (README's calibration table).
REFERENCE = {(0.01, 128): 0.835, (0.01, 32): 0.807, (0.001, 128): 0.757, (0.001, 32): 0.630}


def main():
    same = cases = 0
    seconds = 0.0
    for seed in range(1, 61):
        rng = random.Random(seed)
        table = {key: round(rng.uniform(0.5, 0.9), 4) for key in REFERENCE}

        def score_of(values):
            return table[(values["learning_rate"], values["hidden_units"])]
        for declared in (SPACE, SPACE[::-1]):
            made = keras_tuner_bayesian_trials(seed, declared, score_of)
            started = time.monotonic()
            picks = trials.bayesian_picks(seed, declared, [(v, score_of(v)) for v in made])
            seconds += time.monotonic() - started
            same += picks == made[2:]
            cases += 1
    caught = repeats = 0
    for seed in range(1, 61):
        for declared in (SPACE, SPACE[::-1]):
            drawn = trials.seeded_sequence(seed, declared, 3)
            observed = [(v, REFERENCE[(v["learning_rate"], v["hidden_units"])]) for v in drawn]
            pick = trials.bayesian_picks(seed, declared, observed[:2] + [observed[2]])[0]
            caught += pick != drawn[2]
            repeats += pick in drawn[:2]
    print(f"| replica's third trial equal to keras-tuner's | {same} of {cases} |")
    print(f"| replica's time per pick | {seconds / cases:.2f} s |")
    print(f"| RandomSearch posing as Bayesian caught by 10.10 | {caught} of {cases} |")
    print(f"| Gaussian process re-picks a tried configuration | {repeats} of {cases} |")


if __name__ == "__main__":
    main()
