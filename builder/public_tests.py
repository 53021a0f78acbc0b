"""Public versions of the parts' otter test files (``grader/parts/<name>/tests.py``).

A test file holds public and hidden cases side by side::

    @test_case(points=1, hidden=False)
    def test_shape(normalize): ...

    @test_case(points=2, hidden=True)
    def test_values_on_held_out_batch(normalize): ...

`strip_hidden_tests` removes every top-level function whose ``@test_case(...)`` says
``hidden=True`` (with its decorators and the comment lines directly above it) and keeps every
other line byte for byte: public cases, helpers, constants and comments. The hidden flag must be
a literal ``True`` or ``False``, so that what is hidden is decided by reading the file, never by
running it.
"""

from __future__ import annotations

import ast

__all__ = ["HiddenTestError", "strip_hidden_tests", "hidden_test_names", "public_test_names"]

TEST_CASE_DECORATOR = "test_case"
# otter's signature: test_case(name=None, points=None, hidden=False, ...)
_HIDDEN_POSITION = 2


class HiddenTestError(ValueError):
    """A test file whose hidden cases cannot be told apart statically, as ``FILE:LINE: reason``."""


def _test_case_call(decorator: ast.expr) -> ast.Call | ast.expr | None:
    """The decorator if it is ``test_case`` / ``test_case(...)`` (or ``x.test_case``), else None."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Name) and target.id == TEST_CASE_DECORATOR:
        return decorator
    if isinstance(target, ast.Attribute) and target.attr == TEST_CASE_DECORATOR:
        return decorator
    return None


def _is_hidden(decorator: ast.expr, filename: str) -> bool:
    """Whether a ``test_case`` decorator marks its case hidden; raises unless that is a literal."""
    if not isinstance(decorator, ast.Call):
        return False
    value = None
    if len(decorator.args) > _HIDDEN_POSITION:
        value = decorator.args[_HIDDEN_POSITION]
    for keyword in decorator.keywords:
        if keyword.arg is None:
            raise HiddenTestError(
                f"{filename}:{keyword.value.lineno}: test_case(**...) hides whether the case is "
                "hidden; write hidden=True or hidden=False"
            )
        if keyword.arg == "hidden":
            value = keyword.value
    if value is None:
        return False
    if isinstance(value, ast.Constant) and isinstance(value.value, bool):
        return value.value
    raise HiddenTestError(
        f"{filename}:{value.lineno}: hidden= must be the literal True or False, "
        f"found {ast.unparse(value)!r}"
    )


def _hidden_functions(tree: ast.Module, filename: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Top-level hidden test functions; a hidden case anywhere else is an error."""
    top_level = set()
    hidden = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            top_level.add(id(node))
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        calls = [d for d in node.decorator_list if _test_case_call(d) is not None]
        is_hidden = any([_is_hidden(d, filename) for d in calls])  # check every one (no short-circuit)
        if not is_hidden:
            continue
        if id(node) not in top_level:
            raise HiddenTestError(
                f"{filename}:{calls[0].lineno}: hidden test case {node.name!r} is not a top-level function; "
                "only top-level hidden cases can be removed from the public tests"
            )
        hidden.append(node)
    return hidden


def _parse(source: str, filename: str) -> ast.Module:
    try:
        return ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise HiddenTestError(f"{filename}:{exc.lineno or 1}: test file is not valid Python: {exc.msg}") from exc


def hidden_test_names(source: str, filename: str = "<tests>") -> list[str]:
    """Names of the hidden test functions in a test file, in file order."""
    return [node.name for node in _hidden_functions(_parse(source, filename), filename)]


def public_test_names(source: str, filename: str = "<tests>") -> list[str]:
    """Names of the top-level ``test_case`` functions that stay in the public file."""
    tree = _parse(source, filename)
    hidden = {node.name for node in _hidden_functions(tree, filename)}
    return [
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name not in hidden
        and any(_test_case_call(d) is not None for d in node.decorator_list)
    ]


def _is_blank(line: str) -> bool:
    return not line.strip()


def _removed_range(node: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str]) -> tuple[int, int]:
    """0-based [start, stop) of the lines to remove for a hidden function."""
    start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
    # Comment lines directly above (column 0, no blank line between) belong to the case.
    while start > 0 and lines[start - 1].startswith("#"):
        start -= 1
    stop = node.end_lineno
    # Indented comments after the last statement still belong to the function body.
    probe = stop
    while probe < len(lines) and (_is_blank(lines[probe]) or lines[probe][:1] in " \t"):
        if not _is_blank(lines[probe]):
            if not lines[probe].lstrip().startswith("#"):
                break
            stop = probe + 1
        probe += 1
    return start, stop


def strip_hidden_tests(source: str, filename: str) -> str:
    """The public version of an otter test file: hidden cases removed, everything else kept.

    Parameters
    ----------
    source : str
        The text of a part's test file (``grader/parts/<name>/tests.py``).
    filename : str
        The name used in error messages.

    Returns
    -------
    str
        ``source`` without the hidden cases. Blank lines left around a removed case are cut to
        two (none at the end of the file); all other lines are kept byte for byte.

    Raises
    ------
    HiddenTestError
        If a ``hidden=`` value is not a literal bool, a hidden case is not a top-level function,
        or the file (or its public version) is not valid Python.
    """
    tree = _parse(source, filename)
    lines = source.splitlines(keepends=True)
    remove = [False] * len(lines)
    for node in _hidden_functions(tree, filename):
        start, stop = _removed_range(node, lines)
        for i in range(start, stop):
            remove[i] = True

    # A sequence of kept lines with "cut" marks where something was removed.
    items: list[str | None] = []
    for i, line in enumerate(lines):
        if remove[i]:
            if items and items[-1] is None:
                continue
            items.append(None)
        else:
            items.append(line)

    out: list[str] = []
    i = 0
    while i < len(items):
        if items[i] is not None and not _is_blank(items[i]):
            out.append(items[i])
            i += 1
            continue
        # A run of blank lines and cuts.
        j = i
        while j < len(items) and (items[j] is None or _is_blank(items[j])):
            j += 1
        run = items[i:j]
        blanks = [line for line in run if line is not None]
        if None in run:
            keep = 0 if (i == 0 or j == len(items)) else min(len(blanks), 2)
            blanks = blanks[:keep]
        out.extend(blanks)
        i = j

    result = "".join(out)
    try:
        ast.parse(result, filename=filename)
    except SyntaxError as exc:  # pragma: no cover - removing whole top-level functions keeps syntax
        raise HiddenTestError(f"{filename}: the public version is not valid Python: {exc.msg}") from exc
    return result
