"""Imports a submission makes that the grading environment cannot satisfy.

The grader runs the student's modules in the environment pinned by ``requirements.txt`` +
``constraints.txt``. A module that imports anything else (``seaborn``, ``torch``, a helper
file that is not submitted) works on the student's machine, passes nothing at grading,
and costs every part that imports it. The self-check calls :func:`find_problems` first
and prints one line per such import, naming the file, the line, the module and the fix.

What the grading environment has:

* the standard library (``sys.stdlib_module_names``);
* the distributions pinned in ``constraints.txt`` (and ``requirements.txt``), under the
  names they are imported by (``scikit-learn`` -> ``sklearn``, read from the installed
  distributions' metadata where they are installed);
* the submission's own modules (``normalization``, ``architecture``, ...).

Only import statements are read (``ast``), never executed; imports inside functions and
``try`` blocks count too (they fail at grading all the same), except those guarded by
``except ImportError`` / ``ModuleNotFoundError``, which the student has made optional.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import re
import sys
from pathlib import Path

from grader.config import PACKAGE_ROOT

PIN_FILES = ("requirements.txt", "constraints.txt")
#: Import names of pinned distributions that their metadata may not tell when the
#: distribution is not installed where the check runs.
KNOWN_IMPORT_NAMES = {
    "scikit-learn": ("sklearn",), "tensorflow-cpu": ("tensorflow",), "pillow": ("PIL",),
    "python-dateutil": ("dateutil",), "pyyaml": ("yaml",), "beautifulsoup4": ("bs4",),
    "absl-py": ("absl",), "protobuf": ("google",), "otter-grader": ("otter",),
    "ipython": ("IPython",), "jupyter-core": ("jupyter_core",), "jupyter-client": ("jupyter_client",),
    "matplotlib": ("matplotlib", "mpl_toolkits", "pylab"), "nest-asyncio2": ("nest_asyncio2",),
}
#: Packages a student may think of that are worth a specific hint.
SUGGESTIONS = {
    "seaborn": "plot with matplotlib (pinned) instead",
    "plotly": "plot with matplotlib (pinned) instead",
    "torch": "this assignment uses Keras (keras, tensorflow)",
    "tqdm": "print progress with print(), or leave it out",
    "cv2": "the images are NumPy arrays already: use numpy",
}


@dataclasses.dataclass(frozen=True)
class ImportProblem:
    """One import the grading environment cannot satisfy."""

    file: str
    line: int
    module: str
    #: The module is a file next to the submission's modules, which the grader does not take.
    local: bool = False

    def message(self):
        if self.local:
            return (f"{self.file} line {self.line} imports {self.module!r}, which sits next to "
                    f"your modules but is not one of the files the grader takes, so the import "
                    f"fails when graded and every part that uses {self.file} loses its points. "
                    f"Fix: move the code you need from {self.module!r} into {self.file}.")
        hint = SUGGESTIONS.get(self.module)
        fix = (f"remove the import ({hint})" if hint else
               "remove the import, or write that code yourself with the packages that are there")
        return (f"{self.file} line {self.line} imports {self.module!r}, which the grading "
                f"environment does not have: your module would fail to import when graded "
                f"and lose the points of every part that uses it. Fix: {fix}. The packages "
                f"you may import are the standard library and those in requirements.txt "
                f"and constraints.txt.")


def _normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_distributions(root=PACKAGE_ROOT):
    """Normalized names of the distributions in the pin files under ``root``."""
    names = set()
    for file_name in PIN_FILES:
        path = Path(root) / file_name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)", line)
            if match:
                names.add(_normalize(match.group(1)))
    return names


def allowed_modules(student_modules, root=PACKAGE_ROOT):
    """Top-level import names the grading environment provides."""
    pinned = pinned_distributions(root)
    allowed = set(sys.stdlib_module_names) | set(student_modules) | {"__future__"}
    for dist in pinned:
        allowed.add(dist.replace("-", "_"))
        allowed.update(KNOWN_IMPORT_NAMES.get(dist, ()))
    for module, dists in importlib.metadata.packages_distributions().items():
        if any(_normalize(d) in pinned for d in dists):
            allowed.add(module)
    return allowed


def _guarded(node, parents):
    """True when ``node`` sits in a ``try`` whose handlers catch ImportError."""
    for parent in parents:
        if isinstance(parent, ast.Try) and node in _walk_body(parent.body):
            for handler in parent.handlers:
                names = _handler_names(handler.type)
                if not names or names & {"ImportError", "ModuleNotFoundError", "Exception",
                                         "BaseException"}:
                    return True
    return False


def _walk_body(statements):
    for statement in statements:
        yield from ast.walk(statement)


def _handler_names(expression):
    if expression is None:
        return set()
    if isinstance(expression, ast.Tuple):
        return {n for element in expression.elts for n in _handler_names(element)}
    if isinstance(expression, ast.Name):
        return {expression.id}
    if isinstance(expression, ast.Attribute):
        return {expression.attr}
    return {"?"}


def imported_modules(source):
    """``[(line, top-level module)]`` of the absolute imports in ``source`` that are not
    guarded by ``except ImportError``. Raises SyntaxError for code that does not parse."""
    tree = ast.parse(source)
    parents_of = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents_of[child] = parent
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        parents, current = [], node
        while current in parents_of:
            current = parents_of[current]
            parents.append(current)
        if _guarded(node, parents):
            continue
        found += [(node.lineno, name.split(".", 1)[0]) for name in names]
    return found


def submission_modules():
    """The module names a submission holds (the assignment's parts name them)."""
    from grader.parts import student_modules
    return tuple(student_modules())


def find_problems(submission_dir, student_modules, root=PACKAGE_ROOT):
    """Every import of the submission's modules the grading environment lacks.

    Parameters
    ----------
    submission_dir : str or Path
        A folder holding the student's modules at its top level.
    student_modules : sequence of str
        The submission's module names (``"normalization"``, ...); they may import each other.
    root : Path
        Where ``requirements.txt`` and ``constraints.txt`` are.

    Returns
    -------
    list of ImportProblem
        In file and line order; empty when every import is available. Files that do not
        parse are left to the self-check, which reports the syntax error itself.
    """
    allowed = allowed_modules(student_modules, root)
    problems = []
    for module in student_modules:
        path = Path(submission_dir) / f"{module}.py"
        if not path.is_file():
            continue
        try:
            imports = imported_modules(path.read_text(encoding="utf-8", errors="replace"))
        except (SyntaxError, ValueError):
            continue
        seen = set()
        for line, name in imports:
            if name not in allowed and name not in seen:
                seen.add(name)
                local = (Path(submission_dir) / f"{name}.py").is_file() or \
                    (Path(submission_dir) / name / "__init__.py").is_file()
                problems.append(ImportProblem(path.name, line, name, local=local))
    return problems
