"""Solution and prompt markers in ``solutions/*.py``, and the student version they produce.

A solution module marks what students must write::

    def relu(x):
        \"\"\"...\"\"\"
        # BEGIN SOLUTION
        return np.maximum(x, 0)
        # END SOLUTION

and may say what students see instead, in a PROMPT block that comes directly after the
``# END SOLUTION`` line. Its lines are commented out so that the solution file still runs::

    # BEGIN SOLUTION
    EPOCHS = 12
    # END SOLUTION
    # BEGIN PROMPT
    # EPOCHS = None  # TODO: pick a number of epochs
    # END PROMPT

`strip_solutions` turns such a file into the student version: a SOLUTION block followed by a
PROMPT block becomes the prompt's uncommented lines; a SOLUTION block without a PROMPT becomes a
stub that raises ``NotImplementedError`` naming the enclosing function. Bad markup is never
guessed at: every problem raises `MarkerError` naming the file and line.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

__all__ = [
    "BEGIN_SOLUTION",
    "END_SOLUTION",
    "BEGIN_PROMPT",
    "END_PROMPT",
    "MarkerError",
    "find_marker_errors",
    "strip_solutions",
    "solution_lines",
]

BEGIN_SOLUTION = "# BEGIN SOLUTION"
END_SOLUTION = "# END SOLUTION"
BEGIN_PROMPT = "# BEGIN PROMPT"
END_PROMPT = "# END PROMPT"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_PROMPT, END_PROMPT)

#: The stub that replaces a SOLUTION block without a PROMPT, at the BEGIN marker's indentation.
STUB_LINES = (
    "# YOUR CODE HERE",
    'raise NotImplementedError("{name}: not implemented yet (see its docstring)")',
)

# Anything that looks like a marker: "#begin solution", "### BEGIN SOLUTION", "# END_PROMPT",
# "# BEGIN SOLUTIONS", or a marker written after code on the same line. A line that matches but
# is not exactly one of MARKERS is an error, so a misspelled marker can never leak a solution.
_MARKER_LIKE = re.compile(r"#+\s*(BEGIN|END)[\s_-]*(SOLUTION|PROMPT)", re.IGNORECASE)

_OUTSIDE, _IN_SOLUTION, _IN_PROMPT = "outside", "solution", "prompt"


class MarkerError(ValueError):
    """Malformed solution markup, reported as ``FILE:LINE: reason``.

    Parameters
    ----------
    message : str
        The full message. Use `MarkerError.at` to build one from its parts.
    filename, lineno, reason : optional
        The parts of a single error.
    errors : sequence of MarkerError, optional
        When one exception reports several problems, the individual errors.
    """

    def __init__(self, message, *, filename=None, lineno=None, reason=None, errors=()):
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno
        self.reason = reason
        self.errors = list(errors) or [self]

    @classmethod
    def at(cls, filename: str, lineno: int, reason: str) -> "MarkerError":
        """Build the error for ``reason`` at ``filename:lineno``."""
        return cls(f"{filename}:{lineno}: {reason}", filename=filename, lineno=lineno, reason=reason)

    @classmethod
    def combine(cls, errors: list["MarkerError"]) -> "MarkerError":
        """One exception for several errors (the single error itself when there is only one)."""
        if len(errors) == 1:
            return errors[0]
        return cls("\n".join(str(error) for error in errors), errors=errors)


@dataclass
class _Parsed:
    """What one pass over a solution file found."""

    # (text, source line number) of every line of the student version, line endings kept.
    student_lines: list[tuple[str, int]] = field(default_factory=list)
    # The raw lines inside SOLUTION blocks.
    solution_lines: list[str] = field(default_factory=list)
    errors: list[MarkerError] = field(default_factory=list)


def _split_ending(line: str) -> tuple[str, str]:
    """Split ``line`` into its text and its line ending ('' on a last line without one)."""
    for ending in ("\r\n", "\n", "\r"):
        if line.endswith(ending):
            return line[: -len(ending)], ending
    return line, ""


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]


def _marker_of(text: str) -> str | None:
    stripped = text.strip()
    return stripped if stripped in MARKERS else None


def _uncomment(text: str, base_indent: str) -> str | None:
    """The uncommented form of a PROMPT content line, or None if it is not commented."""
    if not text.strip():
        return ""
    indent = _indent_of(text)
    rest = text[len(indent):]
    if not indent.startswith(base_indent):
        return None
    if rest == "#":
        return ""
    if rest.startswith("# "):
        return indent + rest[2:]
    return None


class _FunctionFinder:
    """Names the innermost ``def`` enclosing a line, from the solution file's syntax tree."""

    def __init__(self, tree: ast.Module):
        # Every statement starts a logical line; strings and continuation lines do not, which
        # makes indentation scanning over statements safe where scanning raw text is not.
        self._statements = sorted(
            ((node.lineno, node.col_offset, node) for node in ast.walk(tree) if isinstance(node, ast.stmt)),
            key=lambda item: (item[0], item[1]),
        )

    def enclosing_function(self, lineno: int, indent_width: int) -> str | None:
        """The innermost function around a line at ``indent_width``, or None (module or class body)."""
        limit = indent_width
        for stmt_line, col, node in reversed(self._statements):
            if stmt_line >= lineno or col >= limit:
                continue
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                return node.name
            if isinstance(node, ast.ClassDef):
                return None
            limit = col
            if limit == 0:
                break
        return None


def _parse(source: str, filename: str) -> _Parsed:
    """One pass over the markers of ``source``: the student version, solution lines and errors."""
    parsed = _Parsed()
    err = lambda lineno, reason: parsed.errors.append(MarkerError.at(filename, lineno, reason))  # noqa: E731

    try:
        finder = _FunctionFinder(ast.parse(source, filename=filename))
    except SyntaxError as exc:
        err(exc.lineno or 1, f"solution file is not valid Python: {exc.msg}")
        finder = None

    lines = source.splitlines(keepends=True)
    state = _OUTSIDE
    begin_line = begin_indent = None  # the open SOLUTION block
    prompt_line = None  # the open PROMPT block
    prompt_out: list[tuple[str, int]] = []

    def close_solution_with_stub(ending: str) -> None:
        name = finder.enclosing_function(begin_line, len(begin_indent)) if finder else "?"
        if name is None:
            where = "" if begin_indent == "" else " (it is not inside a function, so no stub can name one)"
            err(begin_line, f"module-level solution block needs a PROMPT block{where}")
            return
        for stub in STUB_LINES:
            parsed.student_lines.append((begin_indent + stub.format(name=name) + (ending or "\n"), begin_line))

    index = 0
    while index < len(lines):
        lineno = index + 1
        text, ending = _split_ending(lines[index])
        marker = _marker_of(text)
        indent = _indent_of(text)
        looks_like_marker = marker is None and _MARKER_LIKE.search(text)

        if looks_like_marker:
            err(lineno, f"{text.strip()!r} looks like a marker but is not exactly one of "
                        f"{', '.join(repr(m) for m in MARKERS)} (alone on its line)")
            index += 1
            continue

        if state == _OUTSIDE:
            if marker == BEGIN_SOLUTION:
                state, begin_line, begin_indent = _IN_SOLUTION, lineno, indent
            elif marker == END_SOLUTION:
                err(lineno, "END SOLUTION without a matching BEGIN SOLUTION")
            elif marker == BEGIN_PROMPT:
                err(lineno, "BEGIN PROMPT must come directly after an END SOLUTION line")
                state, prompt_line, prompt_out = _IN_PROMPT, lineno, []  # skip it, to limit follow-on errors
            elif marker == END_PROMPT:
                err(lineno, "END PROMPT without a matching BEGIN PROMPT")
            else:
                parsed.student_lines.append((lines[index], lineno))

        elif state == _IN_SOLUTION:
            if marker == BEGIN_SOLUTION:
                err(lineno, f"nested BEGIN SOLUTION (the block opened at line {begin_line} is still open)")
            elif marker == END_SOLUTION:
                if indent != begin_indent:
                    err(lineno, f"END SOLUTION is indented differently from its BEGIN SOLUTION at line {begin_line}")
                next_text = _split_ending(lines[index + 1])[0] if index + 1 < len(lines) else ""
                if _marker_of(next_text) == BEGIN_PROMPT:
                    if _indent_of(next_text) != begin_indent:
                        err(lineno + 1, f"BEGIN PROMPT is indented differently from its BEGIN SOLUTION at line {begin_line}")
                    state, prompt_line, prompt_out = _IN_PROMPT, lineno + 1, []
                    index += 2
                    continue
                close_solution_with_stub(ending)
                state = _OUTSIDE
            elif marker == BEGIN_PROMPT:
                err(lineno, f"BEGIN PROMPT inside the SOLUTION block opened at line {begin_line}; "
                            "a PROMPT block goes directly after END SOLUTION")
            elif marker == END_PROMPT:
                err(lineno, "END PROMPT without a matching BEGIN PROMPT")
            else:
                parsed.solution_lines.append(text)

        else:  # _IN_PROMPT
            if marker == END_PROMPT:
                if begin_indent is not None and indent != begin_indent:
                    err(lineno, f"END PROMPT is indented differently from its BEGIN SOLUTION at line {begin_line}")
                parsed.student_lines.extend(prompt_out)
                state, begin_line, begin_indent, prompt_line = _OUTSIDE, None, None, None
            elif marker is not None:
                err(lineno, f"{marker.lstrip('# ')} inside the PROMPT block opened at line {prompt_line}; "
                            "close it with '# END PROMPT' first")
                state, begin_line, begin_indent, prompt_line = _OUTSIDE, None, None, None
                continue  # handle this marker again, outside the prompt
            else:
                base = begin_indent if begin_indent is not None else ""
                uncommented = _uncomment(text, base)
                if uncommented is None:
                    err(lineno, f"PROMPT line is not commented out (each line of a PROMPT block starts "
                                f"with '# ' or is '#', at least as indented as the block): {text.strip()!r}")
                else:
                    prompt_out.append((uncommented + ending, lineno))
        index += 1

    if state == _IN_SOLUTION:
        err(begin_line, "BEGIN SOLUTION is never closed (no matching '# END SOLUTION')")
    elif state == _IN_PROMPT:
        err(prompt_line, "BEGIN PROMPT is never closed (no matching '# END PROMPT')")
    return parsed


def _check_student_version(parsed: _Parsed, filename: str) -> None:
    """Add an error if the student version is not valid Python, naming the source line."""
    text = "".join(line for line, _ in parsed.student_lines)
    try:
        ast.parse(text, filename=filename)
    except SyntaxError as exc:
        out_line = exc.lineno or 1
        src_line = parsed.student_lines[min(out_line, len(parsed.student_lines)) - 1][1] if parsed.student_lines else 1
        parsed.errors.append(MarkerError.at(
            filename, src_line,
            f"the student version is not valid Python: {exc.msg} (line {out_line} of the student "
            f"version, generated from this line; does a block end up empty?)",
        ))


def find_marker_errors(source: str, filename: str) -> list[MarkerError]:
    """Every marker problem in ``source`` (an empty list when it strips cleanly).

    Parameters
    ----------
    source : str
        The text of a solution module.
    filename : str
        The name used in messages, e.g. ``"solutions/normalization.py"``.
    """
    parsed = _parse(source, filename)
    if not parsed.errors:
        _check_student_version(parsed, filename)
    return parsed.errors


def strip_solutions(source: str, filename: str) -> str:
    """The student version of a solution module.

    Parameters
    ----------
    source : str
        The text of a solution module. Line endings and every line outside the markers are kept
        byte for byte.
    filename : str
        The name used in error messages.

    Returns
    -------
    str
        ``source`` with each SOLUTION block replaced by its PROMPT (uncommented) or by a
        ``NotImplementedError`` stub naming the enclosing function.

    Raises
    ------
    MarkerError
        For malformed markers, ``FILE:LINE: reason``; when there are several, one exception
        lists them all (see ``MarkerError.errors``).
    """
    parsed = _parse(source, filename)
    if not parsed.errors:
        _check_student_version(parsed, filename)
    if parsed.errors:
        raise MarkerError.combine(parsed.errors)
    return "".join(line for line, _ in parsed.student_lines)


def solution_lines(source: str, filename: str = "<solution>") -> list[str]:
    """The stripped, non-blank, non-comment lines inside SOLUTION blocks (for leak checks).

    Raises
    ------
    MarkerError
        If the markers are malformed.
    """
    parsed = _parse(source, filename)
    if parsed.errors:
        raise MarkerError.combine(parsed.errors)
    stripped = (line.strip() for line in parsed.solution_lines)
    return [line for line in stripped if line and not line.startswith("#")]
