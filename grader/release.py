"""``make dist``: refuse to build an autograder that cannot grade, then build.

Like ``otter assign``, which grades the solution before it releases an assignment:

1. the calibration must fit: every calibrated part's fingerprint (``grader.calibrate``)
   must be the current one (its settings, the data, its reference modules, the reference
   model, the library versions) and the file must be for this profile and data;
2. the reference (``solutions/``) must earn every point with the real grader, hidden
   tests included;
3. the skeleton the builder renders from it must earn none;

then ``builder.build_dist`` writes ``assignment/`` and ``dist/``. On any failure nothing
is written and the message names what to do (``make calibrate``) or the tests that
disagree. ``dist/release.json`` records the two grades.
"""

import json
import tempfile
import time
from pathlib import Path

from grader import calibrate, calibration, engine
from grader.config import CALIBRATION_FILE, GRADE, PACKAGE_ROOT


class ReleaseError(RuntimeError):
    """The assignment cannot be released as it is; the message says why and what to do."""


def check_calibration(root=PACKAGE_ROOT, calibration_path=CALIBRATION_FILE, profile=GRADE):
    """Raise ReleaseError unless the calibration fits the profile, the data and the
    reference of every calibrated part."""
    data_sha = engine.load_data(profile)[1].sha256
    stale = calibrate.stale_parts(Path(root) / "solutions", calibration_path, profile, data_sha)
    try:
        calibration.load(calibration_path, dataset_sha256=data_sha, profile=profile)
    except calibration.CalibrationError as problem:
        stale.setdefault("(every part)", str(problem))
    if stale:
        lines = "\n".join(f"  {name}: {why}" for name, why in stale.items())
        raise ReleaseError(f"{calibration_path} does not fit the assignment as configured:\n"
                           f"{lines}\nRun `make calibrate` (it re-measures only these parts), "
                           "then `make dist` again.")


def _render_skeleton(root, folder):
    from builder.pipeline import render_skeletons
    for name, text in render_skeletons(Path(root)).items():
        (Path(folder) / Path(name).name).write_text(text)


def check_grades(root=PACKAGE_ROOT, profile=GRADE, progress=print):
    """Grade the reference and the rendered skeleton; raise ReleaseError unless they earn
    every point and none. Returns the two reports' summaries."""
    summaries, problems = {}, []
    with tempfile.TemporaryDirectory(prefix="train-release-skeleton-") as skeleton:
        _render_skeleton(root, skeleton)
        for label, folder in (("reference", Path(root) / "solutions"), ("skeleton", skeleton)):
            progress(f"grading the {label} with the real grader ...")
            started = time.monotonic()
            report = engine.grade(str(folder), profile=profile)
            summaries[label] = {"score": report.score, "max_score": report.max_score,
                                "seconds": round(time.monotonic() - started, 1)}
            if report.infrastructure_failure:
                problems.append(f"the {label} could not be graded: {report.infrastructure_failure}")
                continue
            wrong = [r for r in report.results if (r.score < r.max_score if label == "reference"
                                                   else r.score > 0)]
            for result in wrong:
                verb = "loses" if label == "reference" else "earns"
                problems.append(f"the {label} {verb} points in {result.name}: "
                                f"{result.message.splitlines()[0][:300]}")
            progress(f"  {label}: {report.score:g} / {report.max_score:g} "
                     f"in {summaries[label]['seconds']:.0f} s")
    if problems:
        raise ReleaseError("the autograder would not grade correctly (the reference must earn "
                           "every point, the skeleton none):\n  " + "\n  ".join(problems))
    return summaries


def release(root=PACKAGE_ROOT, out=None, *, grade=True, progress=print):
    """Check, then build. Returns the builder's report."""
    from builder.pipeline import build_dist
    check_calibration(root)
    summaries = check_grades(root, progress=progress) if grade else {}
    report = build_dist(Path(root), out)
    out_dir = Path(out) if out else Path(root) / "dist"
    if summaries:
        (out_dir / "release.json").write_text(json.dumps(summaries, indent=1, sort_keys=True) + "\n")
    return report
