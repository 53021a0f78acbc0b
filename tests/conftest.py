"""Shared fixtures and helpers for the package's own tests."""

import functools
import os
import shutil
import tempfile
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
REAL_QUICKDRAW = SHARED_DATA / "quickdraw-real"
SOLUTIONS = REPO / "solutions"
ASSIGNMENT = REPO / "assignment"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains models through the full grader (CI runs them)")
    # Replays of runs at seeds other than the shipped cache's go to a session cache, never
    # into grader/replay_cache/ (which `make dist` ships and must not change under tests).
    if "TRAIN_GRADER_REPLAY_CACHE" not in os.environ:
        os.environ["TRAIN_GRADER_REPLAY_CACHE"] = tempfile.mkdtemp(prefix="train-replays-")
        config._made_replay_cache = os.environ["TRAIN_GRADER_REPLAY_CACHE"]


def pytest_unconfigure(config):
    # The process that made the session's replay cache removes it (the xdist workers
    # inherit it from the controller; the folder held only the grader's own replays).
    made = getattr(config, "_made_replay_cache", None)
    if made:
        shutil.rmtree(made, ignore_errors=True)


@functools.lru_cache(maxsize=None)
def _cached_grade(path, seed, profile_name, include_hidden):
    from grader import engine
    from grader.config import PROFILES
    profile = PROFILES[profile_name]
    if seed is not None:
        profile = profile.with_seed(seed)
    return engine.grade(path, profile=profile, include_hidden=include_hidden)


def grade(path, *, seed=None, profile="grade", include_hidden=True, cache=True):
    """Grade a submission folder or zip with the real grader; cached per arguments."""
    if not cache:
        _cached_grade.cache_clear()
    return _cached_grade(str(path), seed, profile, include_hidden)


def scores_by_part(report):
    """{test file name: (score, max_score)}."""
    parts = {}
    for result in report.results:
        score, max_score = parts.get(result.file, (0.0, 0.0))
        parts[result.file] = (score + result.score, max_score + result.max_score)
    return parts


def make_submission(tmp_path, replacements=(), *, base=SOLUTIONS, name="submission"):
    """A whole submission: a copy of ``base`` with ``(module, old, new)`` text replacements.

    Each ``old`` must occur in the module, so a stale mutant fails loudly.
    """
    target = Path(tmp_path) / name
    shutil.copytree(base, target, ignore=shutil.ignore_patterns("__pycache__"))
    for module, old, new in replacements:
        path = target / module
        text = path.read_text()
        assert old in text, f"{module}: text to replace not found: {old!r}"
        path.write_text(text.replace(old, new))
    return target


@pytest.fixture(scope="session")
def reference_report():
    """The reference solution graded in the grading profile (default seed)."""
    return grade(SOLUTIONS)


@pytest.fixture(scope="session")
def skeleton_report():
    """The untouched student skeleton, graded."""
    return grade(ASSIGNMENT)
