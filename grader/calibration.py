"""Thresholds earned by the reference solution.

``make calibrate`` grades the reference over several seeds and stores, per metric, the
mean, standard deviation, minimum and maximum (``grader/calibration.json``). Hidden tests
read their thresholds from it through one rule:

    lower(metric) = min - margin      upper(metric) = max + margin
    margin        = max(SPREAD_FACTOR * std, MARGIN_FLOOR)

so a correct submission is judged against the reference's own spread, never a guess.
"""

import dataclasses
import json
import math

from grader.config import CALIBRATION_FILE

SPREAD_FACTOR = 3.0
MARGIN_FLOOR = 0.03
RULE = (f"lower = min - margin, upper = max + margin, "
        f"margin = max({SPREAD_FACTOR:g} * std, {MARGIN_FLOOR:g})")


class CalibrationError(RuntimeError):
    """The calibration file is missing, malformed, or made for other data."""


def summarize(values):
    """mean, std (population), min, max and the values themselves."""
    values = [float(v) for v in values]
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return {"mean": round(mean, 6), "std": round(std, 6), "min": round(min(values), 6),
            "max": round(max(values), 6), "values": [round(v, 6) for v in values]}


@dataclasses.dataclass
class Thresholds:
    """Per-metric statistics of the reference, and the bounds the rule derives from them."""

    metrics: dict
    source: str = "calibration.json"

    def stats(self, metric):
        try:
            return self.metrics[metric]
        except KeyError:
            raise CalibrationError(f"{self.source} has no metric {metric!r}: run `make calibrate`") from None

    def margin(self, metric):
        return max(SPREAD_FACTOR * self.stats(metric)["std"], MARGIN_FLOOR)

    def lower(self, metric):
        return self.stats(metric)["min"] - self.margin(metric)

    def upper(self, metric):
        return self.stats(metric)["max"] + self.margin(metric)


def load(path=CALIBRATION_FILE, *, dataset_sha256=None, profile=None):
    """Read the calibration file and check it was made for this data and profile.

    Raises
    ------
    CalibrationError
        If the file is absent or malformed, or its dataset checksum or grading profile
        differs from the ones being graded with.
    """
    try:
        with open(path) as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise CalibrationError(f"{path} does not exist: run `make calibrate`") from None
    except (OSError, json.JSONDecodeError) as error:
        raise CalibrationError(f"{path} could not be read ({error}): run `make calibrate`") from None
    recorded = document.get("dataset", {}).get("sha256")
    if dataset_sha256 is not None and recorded != dataset_sha256:
        raise CalibrationError(
            f"{path} was calibrated on other data: {document.get('dataset', {}).get('description', '?')} "
            f"with sha256 {recorded}, but the data configured now has sha256 {dataset_sha256}. "
            f"Its thresholds do not apply; run `make calibrate` to recalibrate for this data.")
    if profile is not None:
        recorded_profile = {k: v for k, v in document.get("profile", {}).items() if k != "seed"}
        current = {k: v for k, v in profile.to_dict().items() if k != "seed"}
        if recorded_profile != current:
            raise CalibrationError(f"{path} was made for another grading profile: run `make calibrate`")
    return Thresholds(metrics=document["metrics"], source=str(path))
