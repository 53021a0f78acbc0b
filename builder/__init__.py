"""``make dist``: student skeletons, public tests and reproducible bundles from solutions/ and grader/.

Pure standard library; nothing here imports tensorflow or the grader.

Run it with ``python -m builder dist`` (see ``builder/__main__.py``) or call `build_dist`.
"""

from .archive import write_zip
from .markers import MarkerError, solution_lines, strip_solutions
from .pipeline import STEPS, BuildError, BuildReport, LeakError, build_dist, stale_assignment_files
from .public_tests import HiddenTestError, hidden_test_names, strip_hidden_tests

__all__ = [
    "STEPS",
    "BuildError",
    "BuildReport",
    "HiddenTestError",
    "LeakError",
    "MarkerError",
    "build_dist",
    "hidden_test_names",
    "solution_lines",
    "stale_assignment_files",
    "strip_hidden_tests",
    "strip_solutions",
    "write_zip",
]
