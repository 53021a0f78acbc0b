"""Tests for the ``builder`` package (``make dist``), on small fixture files only.

Nothing here reads the real solutions/ or grader/ trees: every repository is a tiny fake one
built in ``tmp_path``.
"""

from __future__ import annotations

import ast
import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from builder import archive, pipeline
from builder.markers import MarkerError, find_marker_errors, solution_lines, strip_solutions
from builder.public_tests import HiddenTestError, hidden_test_names, public_test_names, strip_hidden_tests

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = REPO_ROOT / "builder" / "templates"


def src(text: str) -> str:
    """Dedent a fixture and drop the leading newline."""
    return textwrap.dedent(text).lstrip("\n")


def strip(text: str, filename: str = "solutions/mod.py") -> str:
    return strip_solutions(src(text), filename)


def marker_error(text: str, filename: str = "solutions/mod.py") -> MarkerError:
    with pytest.raises(MarkerError) as info:
        strip_solutions(src(text), filename)
    return info.value


# =========================================================================== markers: output


def test_solution_without_prompt_becomes_stub_naming_the_function():
    """Does a SOLUTION block without a PROMPT become a stub that names its function?"""
    out = strip('''
        def relu(x):
            """Rectified linear unit."""
            # BEGIN SOLUTION
            return max(x, 0.0)
            # END SOLUTION
    ''')
    assert out == src('''
        def relu(x):
            """Rectified linear unit."""
            # YOUR CODE HERE
            raise NotImplementedError("relu: not implemented yet (see its docstring)")
    ''')


def test_stub_keeps_the_indentation_of_its_begin_marker():
    """Is the stub written at the BEGIN marker's indentation, inside nested blocks?"""
    out = strip('''
        class Layer:
            def call(self, x, training=False):
                if training:
                    # BEGIN SOLUTION
                    x = x * 2
                    # END SOLUTION
                return x
    ''')
    assert "            # YOUR CODE HERE\n" in out
    assert '            raise NotImplementedError("call: not implemented yet (see its docstring)")\n' in out
    assert "x * 2" not in out
    ast.parse(out)


def test_stub_names_the_innermost_function():
    """Does the stub name the innermost enclosing def, not an outer one?"""
    out = strip('''
        def build():
            def inner_loss(y, y_hat):
                # BEGIN SOLUTION
                return (y - y_hat) ** 2
                # END SOLUTION
            return inner_loss
    ''')
    assert 'NotImplementedError("inner_loss:' in out


def test_stub_names_an_async_function():
    """Is an ``async def`` recognised as the enclosing function?"""
    out = strip('''
        async def fetch():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
    ''')
    assert 'NotImplementedError("fetch:' in out


def test_function_lookup_is_not_fooled_by_multiline_strings():
    """Does a string with unindented lines inside the function not hide the enclosing def?"""
    out = strip('''
        def describe():
            text = """
        not code: def other():
        """
            # BEGIN SOLUTION
            return text.strip()
            # END SOLUTION
    ''')
    assert 'NotImplementedError("describe:' in out


def test_prompt_replaces_the_solution_uncommented():
    """Does a PROMPT block replace its SOLUTION block, with its lines uncommented?"""
    out = strip('''
        def mean(x):
            result = None
            # BEGIN SOLUTION
            result = sum(x) / len(x)
            # END SOLUTION
            # BEGIN PROMPT
            # result = ...  # TODO: average of x
            # for value in x:
            #     pass
            # END PROMPT
            return result
    ''')
    assert out == src('''
        def mean(x):
            result = None
            result = ...  # TODO: average of x
            for value in x:
                pass
            return result
    ''')


def test_bare_hash_and_blank_prompt_lines_become_blank_lines():
    """Does a prompt line that is just '#' (or blank) become an empty line?"""
    out = strip('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
            # BEGIN PROMPT
            # a = 1
            #

            # return a
            # END PROMPT
    ''')
    assert out == "def f():\n    a = 1\n\n\n    return a\n"


def test_module_level_block_with_prompt_is_allowed():
    """Can a module-level constant be hidden behind a PROMPT?"""
    out = strip('''
        # BEGIN SOLUTION
        LEARNING_RATE = 0.0125
        # END SOLUTION
        # BEGIN PROMPT
        # LEARNING_RATE = None  # TODO: choose a learning rate
        # END PROMPT
        EPOCHS = 3
    ''')
    assert out == "LEARNING_RATE = None  # TODO: choose a learning rate\nEPOCHS = 3\n"


def test_lines_outside_markers_are_kept_byte_for_byte():
    """Are comments, blank lines and CRLF line endings outside the markers left untouched?"""
    source = (
        "# -*- header -*-\r\n"
        "import math  # keep me\r\n"
        "\r\n"
        "\r\n"
        "def area(r):\r\n"
        "    # BEGIN SOLUTION\r\n"
        "    return math.pi * r * r\r\n"
        "    # END SOLUTION\r\n"
        "\t\r\n"
        "X = 1"
    )
    out = strip_solutions(source, "solutions/geometry.py")
    assert out == (
        "# -*- header -*-\r\n"
        "import math  # keep me\r\n"
        "\r\n"
        "\r\n"
        "def area(r):\r\n"
        "    # YOUR CODE HERE\r\n"
        '    raise NotImplementedError("area: not implemented yet (see its docstring)")\r\n'
        "\t\r\n"
        "X = 1"
    )


def test_file_without_markers_is_unchanged():
    """Is a solution file without markers passed through unchanged?"""
    text = src('''
        """Helpers."""
        def helper():
            return 1
    ''')
    assert strip_solutions(text, "solutions/helpers.py") == text


def test_student_version_always_parses():
    """Does every successful strip produce valid Python?"""
    out = strip('''
        import numpy as np

        class Net:
            def forward(self, x):
                # BEGIN SOLUTION
                h = np.maximum(x, 0)
                return h
                # END SOLUTION

        def loss(y):
            out = None
            # BEGIN SOLUTION
            out = y ** 2
            # END SOLUTION
            # BEGIN PROMPT
            # out = ...
            # END PROMPT
            return out
    ''')
    ast.parse(out)


def test_solution_lines_lists_code_inside_solution_blocks_only():
    """Does solution_lines return the stripped code lines of SOLUTION blocks, not comments or prompts?"""
    lines = solution_lines(src('''
        def f(x):
            y = 0
            # BEGIN SOLUTION
            # a comment inside

            y = x + 1
            return y
            # END SOLUTION
            # BEGIN PROMPT
            # y = ...
            # END PROMPT
            return y
    '''))
    assert lines == ["y = x + 1", "return y"]


# =========================================================================== markers: errors


def test_unclosed_begin_solution_is_reported_with_file_and_line():
    """Is an unclosed BEGIN SOLUTION reported with file and line (of the BEGIN)?"""
    error = marker_error('''
        def f():
            x = 1
            # BEGIN SOLUTION
            return x
    ''', "solutions/norm.py")
    assert str(error).startswith("solutions/norm.py:3: ")
    assert "never closed" in str(error)


def test_end_without_begin_is_an_error():
    """Is an END SOLUTION without a BEGIN SOLUTION reported with its line?"""
    error = marker_error('''
        def f():
            return 1
            # END SOLUTION
    ''')
    assert str(error) == "solutions/mod.py:3: END SOLUTION without a matching BEGIN SOLUTION"


def test_nested_begin_solution_is_an_error():
    """Is a BEGIN SOLUTION inside another SOLUTION block reported?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            x = 1
            # BEGIN SOLUTION
            return x
            # END SOLUTION
    ''')
    assert str(error).startswith("solutions/mod.py:4: nested BEGIN SOLUTION")
    assert "line 2" in str(error)


def test_prompt_separated_from_its_solution_by_a_blank_line_is_an_error():
    """Is a PROMPT that does not come directly after END SOLUTION reported?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION

            # BEGIN PROMPT
            # return None
            # END PROMPT
    ''')
    assert "solutions/mod.py:6: BEGIN PROMPT must come directly after an END SOLUTION line" in str(error)


def test_prompt_without_any_solution_block_is_an_error():
    """Is a PROMPT block with no SOLUTION block before it reported?"""
    error = marker_error('''
        # BEGIN PROMPT
        # x = 1
        # END PROMPT
    ''')
    assert str(error).startswith("solutions/mod.py:1: BEGIN PROMPT must come directly after")


def test_prompt_inside_a_solution_block_is_an_error():
    """Is a BEGIN PROMPT inside an open SOLUTION block reported?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            return 1
            # BEGIN PROMPT
            # END SOLUTION
    ''')
    assert "solutions/mod.py:4: BEGIN PROMPT inside the SOLUTION block opened at line 2" in str(error)


def test_unclosed_prompt_is_reported_at_its_begin_line():
    """Is an unclosed PROMPT block reported with the line of its BEGIN PROMPT?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
            # BEGIN PROMPT
            # return None
    ''')
    assert str(error) == "solutions/mod.py:5: BEGIN PROMPT is never closed (no matching '# END PROMPT')"


def test_marker_inside_a_prompt_is_an_error():
    """Is a new BEGIN SOLUTION before the open PROMPT is closed reported?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
            # BEGIN PROMPT
            # return None
            # BEGIN SOLUTION
            # END SOLUTION
    ''')
    assert "solutions/mod.py:7: BEGIN SOLUTION inside the PROMPT block opened at line 5" in str(error)


def test_end_prompt_without_begin_is_an_error():
    """Is a stray END PROMPT reported?"""
    error = marker_error('''
        x = 1
        # END PROMPT
    ''')
    assert str(error) == "solutions/mod.py:2: END PROMPT without a matching BEGIN PROMPT"


def test_uncommented_prompt_line_is_an_error():
    """Is a PROMPT content line that is not commented out reported with its line?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
            # BEGIN PROMPT
            #return None
            # END PROMPT
    ''')
    assert str(error).startswith("solutions/mod.py:6: PROMPT line is not commented out")


def test_prompt_line_less_indented_than_its_block_is_an_error():
    """Is a prompt line indented less than its block reported (it would leave the function)?"""
    error = marker_error('''
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
            # BEGIN PROMPT
        # return None
            # END PROMPT
    ''')
    assert str(error).startswith("solutions/mod.py:6: PROMPT line is not commented out")


@pytest.mark.parametrize(
    "lines, bad_line",
    [
        (["def f():", "    # BEGIN SOLUTION", "    return 1", "  # END SOLUTION"], 4),
        (["def f():", "    # BEGIN SOLUTION", "    return 1", "    # END SOLUTION",
          "  # BEGIN PROMPT", "    # return 2", "    # END PROMPT"], 5),
        (["def f():", "    # BEGIN SOLUTION", "    return 1", "    # END SOLUTION",
          "    # BEGIN PROMPT", "    # return 2", "# END PROMPT"], 7),
    ],
    ids=["end-solution", "begin-prompt", "end-prompt"],
)
def test_marker_indented_differently_from_its_begin_is_an_error(lines, bad_line):
    """Is a marker indented differently from its BEGIN SOLUTION reported with its line?"""
    with pytest.raises(MarkerError) as info:
        strip_solutions("\n".join(lines) + "\n", "solutions/mod.py")
    assert f"solutions/mod.py:{bad_line}: " in str(info.value)
    assert "indented differently" in str(info.value)


@pytest.mark.parametrize(
    "typo",
    [
        "# begin solution",
        "#BEGIN SOLUTION",
        "### BEGIN SOLUTION",
        "# BEGIN  SOLUTION",
        "# BEGIN_SOLUTION",
        "# BEGIN SOLUTIONS",
        "# Begin Prompt",
        "# END SOLUTION here",
        "x = 1  # END SOLUTION",
    ],
)
def test_marker_like_typos_are_errors(typo):
    """Is a comment that looks like a marker but is not exactly one reported, so it cannot leak code?"""
    source = f"def f():\n    {typo}\n    return 1\n"
    errors = find_marker_errors(source, "solutions/mod.py")
    assert errors, typo
    assert str(errors[0]).startswith("solutions/mod.py:2: ")
    assert "looks like a marker" in str(errors[0])


def test_module_level_solution_without_prompt_is_an_error():
    """Is a module-level SOLUTION block without a PROMPT reported (there is no function for a stub)?"""
    error = marker_error('''
        import math
        # BEGIN SOLUTION
        LEARNING_RATE = 0.01
        # END SOLUTION
    ''')
    assert str(error) == "solutions/mod.py:2: module-level solution block needs a PROMPT block"


def test_class_body_solution_without_prompt_is_an_error():
    """Is a SOLUTION block in a class body (not in a def) without a PROMPT reported?"""
    error = marker_error('''
        class Config:
            # BEGIN SOLUTION
            units = 64
            # END SOLUTION
    ''')
    assert str(error).startswith("solutions/mod.py:2: module-level solution block needs a PROMPT block")


def test_student_version_that_does_not_parse_is_an_error():
    """Is a PROMPT that leaves invalid Python (an empty block) reported with file and line?"""
    error = marker_error('''
        def f(x):
            if x:
                # BEGIN SOLUTION
                return 1
                # END SOLUTION
                # BEGIN PROMPT
                # END PROMPT
            return 0
    ''')
    assert str(error).startswith("solutions/mod.py:")
    assert "student version is not valid Python" in str(error)


def test_solution_file_that_does_not_parse_is_an_error():
    """Is a solution file that is not valid Python reported with its line?"""
    error = marker_error('''
        def f(:
            pass
    ''')
    assert str(error).startswith("solutions/mod.py:1: solution file is not valid Python")


def test_every_problem_in_a_file_is_reported_at_once():
    """Are several marker problems in one file all reported together?"""
    error = marker_error('''
        # END SOLUTION
        def f():
            # begin solution
            return 1
        # BEGIN SOLUTION
    ''')
    assert [e.lineno for e in error.errors] == [1, 3, 5]
    assert str(error).count("solutions/mod.py:") == 3


def test_solution_lines_rejects_malformed_markers():
    """Does solution_lines refuse a file with malformed markers instead of guessing?"""
    with pytest.raises(MarkerError):
        solution_lines("def f():\n    # BEGIN SOLUTION\n    return 1\n")


def test_marker_error_is_a_value_error():
    """Can callers catch MarkerError as a ValueError?"""
    assert issubclass(MarkerError, ValueError)


# =========================================================================== public tests

TEST_FILE = src('''
    """Tests for normalization."""
    OK_FORMAT = False

    from otter.test_files import test_case

    TOLERANCE = 1e-6


    def _reference(x):
        # helper used by public and hidden cases
        return x


    @test_case(points=1, hidden=False)
    def test_shape(standardize):
        """Output keeps the input shape."""
        assert standardize([1.0]) is not None


    # Hidden: the exact values on a held-out batch.
    @test_case(points=2, hidden=True)
    def test_held_out_values(standardize):
        assert standardize([2.0]) == [0.0]

        # trailing comment inside the hidden case


    @test_case(points=1)
    def test_default_is_public(standardize):
        assert _reference(1) == 1



    @test_case(name="secret", points=3, hidden=True,
               failure_message="no")
    def test_secret_edge_case(standardize):
        pass
''')


def test_hidden_cases_are_removed_and_everything_else_kept_byte_for_byte():
    """Does stripping remove only the hidden cases, leaving public tests and helpers identical?"""
    out = strip_hidden_tests(TEST_FILE, "grader/tests/test_norm.py")
    assert out == src('''
        """Tests for normalization."""
        OK_FORMAT = False

        from otter.test_files import test_case

        TOLERANCE = 1e-6


        def _reference(x):
            # helper used by public and hidden cases
            return x


        @test_case(points=1, hidden=False)
        def test_shape(standardize):
            """Output keeps the input shape."""
            assert standardize([1.0]) is not None


        @test_case(points=1)
        def test_default_is_public(standardize):
            assert _reference(1) == 1
    ''')


def test_hidden_and_public_names_are_listed():
    """Are hidden and public case names listed in file order?"""
    assert hidden_test_names(TEST_FILE) == ["test_held_out_values", "test_secret_edge_case"]
    assert public_test_names(TEST_FILE) == ["test_shape", "test_default_is_public"]


def test_file_without_hidden_cases_is_unchanged():
    """Is a test file with no hidden case returned exactly as it was (extra blank lines included)?"""
    text = "from otter.test_files import test_case\n\n\n\n@test_case(points=1)\ndef test_a():\n    pass\n"
    assert strip_hidden_tests(text, "grader/tests/t.py") == text


def test_hidden_flag_given_by_position_is_honoured():
    """Is hidden=True given as the third positional argument recognised?"""
    text = "from otter.test_files import test_case\n\n\n@test_case('n', 1, True)\ndef test_a():\n    pass\n"
    assert hidden_test_names(text) == ["test_a"]
    assert strip_hidden_tests(text, "grader/tests/t.py") == "from otter.test_files import test_case\n"


def test_attribute_decorator_is_recognised():
    """Is ``@otter.test_files.test_case(hidden=True)`` recognised too?"""
    text = "import otter\n\n\n@otter.test_files.test_case(hidden=True)\ndef test_a():\n    pass\n"
    assert hidden_test_names(text) == ["test_a"]


@pytest.mark.parametrize("value", ["HIDDEN", "1", "not False", "bool(1)"])
def test_non_literal_hidden_flag_is_an_error(value):
    """Is a hidden= value that is not a literal True/False reported with file and line?"""
    text = f"from otter.test_files import test_case\n\n\n@test_case(points=1,\n           hidden={value})\ndef test_a():\n    pass\n"
    with pytest.raises(HiddenTestError) as info:
        strip_hidden_tests(text, "grader/tests/test_x.py")
    assert str(info.value).startswith("grader/tests/test_x.py:5: hidden= must be the literal True or False")


def test_keyword_unpacking_in_test_case_is_an_error():
    """Is test_case(**options) reported, since it hides whether the case is hidden?"""
    text = "from otter.test_files import test_case\nOPTS = {}\n\n@test_case(**OPTS)\ndef test_a():\n    pass\n"
    with pytest.raises(HiddenTestError, match=r"grader/tests/t.py:4: test_case\(\*\*\.\.\.\)"):
        strip_hidden_tests(text, "grader/tests/t.py")


def test_hidden_case_that_is_not_top_level_is_an_error():
    """Is a hidden case nested in a class or function reported instead of silently kept?"""
    text = src('''
        from otter.test_files import test_case

        class Group:
            @test_case(hidden=True)
            def test_a(self):
                pass
    ''')
    with pytest.raises(HiddenTestError, match="grader/tests/t.py:4: hidden test case 'test_a' is not a top-level"):
        strip_hidden_tests(text, "grader/tests/t.py")


def test_hidden_case_at_the_end_leaves_no_trailing_blank_lines():
    """Does removing the last case leave the file ending right after the previous code?"""
    text = "x = 1\n\n\n@test_case(hidden=True)\ndef test_a():\n    pass\n"
    assert strip_hidden_tests(text, "t.py") == "x = 1\n"


def test_adjacent_hidden_cases_collapse_to_two_blank_lines():
    """Do several hidden cases in a row leave at most two blank lines behind?"""
    text = src('''
        x = 1


        @test_case(hidden=True)
        def test_a():
            pass


        @test_case(hidden=True)
        def test_b():
            pass


        y = 2
    ''')
    assert strip_hidden_tests(text, "t.py") == "x = 1\n\n\ny = 2\n"


# =========================================================================== archives


def _zip_files(tmp_path: Path) -> dict:
    script = tmp_path / "run_autograder"
    script.write_text("#!/bin/sh\n")
    return {"b/data.txt": b"data\n", "a.py": b"print(1)\n", "run_autograder": script}


def test_zip_is_byte_identical_across_builds(tmp_path):
    """Do two zips of the same files have identical bytes, even when file times differ?"""
    files = _zip_files(tmp_path)
    first = archive.write_zip(tmp_path / "one.zip", files)
    os.utime(files["run_autograder"], (1_700_000_000, 1_700_000_000))
    second = archive.write_zip(tmp_path / "two.zip", dict(reversed(list(files.items()))))
    assert first.read_bytes() == second.read_bytes()


def test_zip_entries_are_sorted_with_fixed_times_and_modes(tmp_path):
    """Are entries sorted, dated 1980-01-01, 0o644 (0o755 for run_autograder), deflated, no folders?"""
    path = archive.write_zip(tmp_path / "out.zip", _zip_files(tmp_path))
    with zipfile.ZipFile(path) as bundle:
        infos = bundle.infolist()
        assert [i.filename for i in infos] == ["a.py", "b/data.txt", "run_autograder"]
        assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in infos}
        assert modes == {"a.py": 0o644, "b/data.txt": 0o644, "run_autograder": 0o755}
        assert bundle.read("b/data.txt") == b"data\n"


def test_zip_of_a_folder_skips_caches(tmp_path):
    """Does zipping a folder skip __pycache__ and *.pyc, and name entries relative to it?"""
    root = tmp_path / "pkg"
    (root / "__pycache__").mkdir(parents=True)
    (root / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    (root / "m.py").write_text("x = 1\n")
    (root / "sub").mkdir()
    (root / "sub" / "n.py").write_text("y = 2\n")
    path = archive.write_zip(tmp_path / "pkg.zip", root)
    with zipfile.ZipFile(path) as bundle:
        assert bundle.namelist() == ["m.py", "sub/n.py"]


@pytest.mark.parametrize("name", ["/abs.py", "../up.py", "a/../b.py", ""])
def test_zip_rejects_unsafe_entry_names(tmp_path, name):
    """Is an absolute or parent-relative entry name refused?"""
    with pytest.raises(ValueError):
        archive.write_zip(tmp_path / "bad.zip", {name: b"x"})


# =========================================================================== fake repository

NORMALIZATION_SOLUTION = src('''
    """Normalization helpers."""
    import numpy as np

    EPSILON = 1e-5


    def standardize(x):
        """Standardize x over the batch axis."""
        # BEGIN SOLUTION
        centered = x - np.mean(x, axis=0)
        return centered / (np.std(x, axis=0) + EPSILON)
        # END SOLUTION


    def batch_mean(x):
        """Mean over axis 0, keeping dims."""
        result = None
        # BEGIN SOLUTION
        result = np.mean(x, axis=0, keepdims=True)
        # END SOLUTION
        # BEGIN PROMPT
        # result = ...  # TODO: mean over the batch axis
        # END PROMPT
        return result
''')

EXPERIMENTS_SOLUTION = src('''
    """Experiment settings."""
    # BEGIN SOLUTION
    LEARNING_RATE = 0.0125  # tuned on the validation split
    # END SOLUTION
    # BEGIN PROMPT
    # LEARNING_RATE = None  # TODO: choose a learning rate
    # END PROMPT
''')

GRADER_TEST = src('''
    OK_FORMAT = False

    from otter.test_files import test_case


    @test_case(points=1, hidden=False)
    def test_standardize_shape(standardize):
        assert standardize is not None


    @test_case(points=2, hidden=True)
    def test_standardize_held_out(standardize):
        assert standardize is not None
''')

GRADER_MAIN = src('''
    """Fake grader: writes a results file for `grade`."""
    import json, sys
    args = sys.argv[1:]
    if args and args[0] == "grade":
        with open(args[args.index("--results") + 1], "w") as handle:
            json.dump({"score": 7, "tests": []}, handle)
''')


PART_DECLARATION = src('''
    """Fake part: grades normalization.py and experiments.py."""
    PART = dict(graded_modules=("normalization",), needed_modules=("experiments",))
''')


def make_repo(root: Path) -> Path:
    """A tiny repository with everything ``make dist`` reads."""
    files = {
        "solutions/__init__.py": "",
        "solutions/normalization.py": NORMALIZATION_SOLUTION,
        "solutions/experiments.py": EXPERIMENTS_SOLUTION,
        "grader/__init__.py": '"""Fake grader."""\n',
        "grader/__main__.py": GRADER_MAIN,
        "grader/feedback.py": "def hint(message):\n    return f'Try: {message}'\n",
        "grader/calibration.json": '{"runtime_s": 3}\n',
        "grader/assignment.toml": "[parts]\nnormalization = {}\n",
        "grader/parts/__init__.py": "",
        "grader/parts/normalization/__init__.py": PART_DECLARATION,
        "grader/parts/normalization/tests.py": GRADER_TEST,
        "grader/__pycache__/feedback.cpython-311.pyc": "junk",
        "datasets/__init__.py": "",
        "datasets/tiny.csv": "x,y\n1,2\n",
        "datasets/__pycache__/__init__.cpython-311.pyc": "junk",
        "requirements.txt": "numpy==2.4.6\n",
        "constraints.txt": "numpy==2.4.6\n",
        "assignment/README.md": "# Assignment\nFill in the functions.\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def repo(tmp_path) -> Path:
    return make_repo(tmp_path / "repo")


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as bundle:
        return bundle.namelist()


def tree_names(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


STUDENT_LAYOUT = [
    "Makefile",
    "README.md",
    "constraints.txt",
    "datasets/__init__.py",
    "datasets/tiny.csv",
    "experiments.py",
    "grader/__init__.py",
    "grader/__main__.py",
    "grader/assignment.toml",
    "grader/feedback.py",
    "grader/parts/__init__.py",
    "grader/parts/normalization/__init__.py",
    "grader/parts/normalization/tests.py",
    "normalization.py",
    "requirements.txt",
    "train_assignment.ipynb",
]

AUTOGRADER_LAYOUT = [
    "constraints.txt",
    "datasets/__init__.py",
    "datasets/tiny.csv",
    "grader/__init__.py",
    "grader/__main__.py",
    "grader/assignment.toml",
    "grader/calibration.json",
    "grader/feedback.py",
    "grader/parts/__init__.py",
    "grader/parts/normalization/__init__.py",
    "grader/parts/normalization/tests.py",
    "requirements.txt",
    "run_autograder",
    "setup.sh",
]


# =========================================================================== pipeline


def test_steps_run_in_the_documented_order():
    """Are the build steps the documented ones, checks first and the leak check last?"""
    assert [step.__name__ for step in pipeline.STEPS] == [
        "check_inputs", "check_markers", "check_test_files", "write_skeletons",
        "write_public_tests", "build_student_bundle", "build_autograder", "check_no_leaks",
        "check_notebook_leaks",
    ]


def test_build_writes_skeletons_and_public_tests(repo):
    """Does a build write a headed skeleton per solution and a public test file per grader test?"""
    report = pipeline.build_dist(repo)
    assert report.steps == [step.__name__ for step in pipeline.STEPS]
    assert tree_names(repo / "assignment") == [
        "README.md", "experiments.py", "normalization.py", "tests/part1_normalization.py"]
    skeleton = (repo / "assignment/normalization.py").read_text()
    assert skeleton.startswith(
        "# Student version generated by make dist from solutions/normalization.py. Edit the marked regions.\n"
        '"""Normalization helpers."""\n')
    assert 'raise NotImplementedError("standardize: not implemented yet (see its docstring)")' in skeleton
    assert "result = ...  # TODO: mean over the batch axis" in skeleton
    assert "np.std" not in skeleton and "keepdims=True" not in skeleton
    ast.parse(skeleton)
    public = (repo / "assignment/tests/part1_normalization.py").read_text()
    assert "test_standardize_shape" in public and "held_out" not in public
    assert (repo / "assignment/README.md").read_text() == "# Assignment\nFill in the functions.\n"


def test_student_bundle_layout(repo):
    """Does the student folder and zip hold exactly skeletons, README, public tests, grader, data and Makefile?"""
    pipeline.build_dist(repo)
    dist = repo / "dist"
    assert tree_names(dist / "student") == STUDENT_LAYOUT
    assert zip_names(dist / "student.zip") == STUDENT_LAYOUT
    with zipfile.ZipFile(dist / "student.zip") as bundle:
        for name in STUDENT_LAYOUT:
            assert bundle.read(name) == (dist / "student" / name).read_bytes(), name
    assert (dist / "student/grader/parts/normalization/tests.py").read_bytes() == \
        (repo / "assignment/tests/part1_normalization.py").read_bytes()
    assert (dist / "student/Makefile").read_bytes() == (TEMPLATES / "student_Makefile").read_bytes()


def test_autograder_bundle_layout(repo):
    """Does the autograder zip hold setup.sh, run_autograder, pins, the full grader and data, and nothing else?"""
    pipeline.build_dist(repo)
    dist = repo / "dist"
    assert zip_names(dist / "autograder/autograder.zip") == AUTOGRADER_LAYOUT
    assert tree_names(dist / "autograder") == sorted(AUTOGRADER_LAYOUT + ["autograder.zip"])
    with zipfile.ZipFile(dist / "autograder/autograder.zip") as bundle:
        assert bundle.read("grader/parts/normalization/tests.py").decode() == GRADER_TEST
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in bundle.infolist()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert os.access(dist / "autograder/run_autograder", os.X_OK)


def test_build_is_leak_free(repo):
    """Does a clean build pass the leak check, with no calibration data or solutions for students?"""
    pipeline.build_dist(repo)
    assert pipeline.find_leaks(repo) == []
    assert "grader/calibration.json" not in zip_names(repo / "dist/student.zip")
    assert not any(name.startswith("solutions/") for name in zip_names(repo / "dist/autograder/autograder.zip"))


def test_two_builds_are_byte_identical(repo, tmp_path):
    """Do two builds (with the inputs touched in between) give identical files and zips?"""
    first = pipeline.build_dist(repo)
    digests = pipeline.output_digests(repo / "dist")
    for path in repo.rglob("*"):
        if path.is_file():
            os.utime(path, (1_800_000_000, 1_800_000_000))
    second = pipeline.build_dist(repo, tmp_path / "elsewhere")
    assert pipeline.output_digests(tmp_path / "elsewhere") == digests
    assert first.zip_sha256 == second.zip_sha256
    assert set(first.zip_sha256) == {"student.zip", "autograder/autograder.zip"}


def test_rebuild_leaves_unchanged_assignment_files_alone(repo):
    """Does a second build rewrite no assignment file whose content is unchanged?"""
    pipeline.build_dist(repo)
    report = pipeline.build_dist(repo)
    assert not [p for p in report.files_written if "assignment" in p.parts]


def test_stale_generated_files_are_removed(repo):
    """Are skeletons and public tests without a source removed, and README.md kept?"""
    pipeline.build_dist(repo)
    (repo / "solutions/experiments.py").unlink()
    (repo / "assignment/tests/test_old.py").write_text("x = 1\n")
    (repo / "dist/student/leftover.txt").write_text("old\n")
    report = pipeline.build_dist(repo)
    assert sorted(p.name for p in report.files_removed) == ["experiments.py", "test_old.py"]
    assert tree_names(repo / "assignment") == ["README.md", "normalization.py", "tests/part1_normalization.py"]
    assert "leftover.txt" not in tree_names(repo / "dist/student")


def test_marker_errors_in_several_files_are_all_reported_before_writing(repo):
    """Does a build with bad markers in two files list both, and write nothing?"""
    (repo / "solutions/experiments.py").write_text("X = 1\n# END SOLUTION\n")
    (repo / "solutions/normalization.py").write_text("def f():\n    # BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(MarkerError) as info:
        pipeline.build_dist(repo)
    assert "solutions/experiments.py:2: END SOLUTION without a matching BEGIN SOLUTION" in str(info.value)
    assert "solutions/normalization.py:2: BEGIN SOLUTION is never closed" in str(info.value)
    assert not (repo / "dist").exists()
    assert tree_names(repo / "assignment") == ["README.md"]


def test_non_literal_hidden_flag_fails_the_build(repo):
    """Does a test file with hidden=<expression> stop the build, naming file and line?"""
    (repo / "grader/parts/normalization/tests.py").write_text(
        "from otter.test_files import test_case\nH = True\n@test_case(hidden=H)\ndef test_a():\n    pass\n")
    with pytest.raises(HiddenTestError,
                       match="grader/parts/normalization/tests.py:3: hidden= must be the literal"):
        pipeline.build_dist(repo)


def test_missing_inputs_are_named(repo):
    """Does a repository without datasets/ or constraints.txt fail naming what is missing?"""
    (repo / "constraints.txt").unlink()
    with pytest.raises(pipeline.BuildError, match="missing constraints.txt"):
        pipeline.build_dist(repo)


def test_leak_check_catches_an_injected_solution_line(repo):
    """Does a solution line copied into a student-facing grader file fail the build, naming file:line?"""
    (repo / "grader/feedback.py").write_text(
        "def hint(message):\n    return message\n\n\n"
        "def reference(x):\n    return centered / (np.std(x, axis=0) + EPSILON)\n")
    with pytest.raises(pipeline.LeakError) as info:
        pipeline.build_dist(repo)
    message = str(info.value)
    assert "dist/student/grader/feedback.py:6: solution line from solutions/normalization.py" in message
    assert "dist/student.zip:grader/feedback.py:6:" in message
    assert not (repo / "dist/student").exists() and not (repo / "dist/student.zip").exists()


def test_leak_check_catches_a_hidden_test_name(repo):
    """Does a hidden test's name in a student-facing file count as a leak?"""
    pipeline.build_dist(repo)
    (repo / "dist/student/README.md").write_text("See test_standardize_held_out for details.\n")
    leaks = pipeline.find_leaks(repo)
    assert leaks == ["dist/student/README.md:1: name of hidden test 'test_standardize_held_out' "
                     "from grader/parts/normalization/tests.py"]


def test_leak_check_catches_calibration_data_and_solutions(repo):
    """Is grader/calibration.json or a solutions/ file in the student bundle reported?"""
    pipeline.build_dist(repo)
    (repo / "dist/student/grader/calibration.json").write_text("{}\n")
    (repo / "dist/student/solutions").mkdir()
    (repo / "dist/student/solutions/x.txt").write_text("hi\n")
    leaks = pipeline.find_leaks(repo)
    assert leaks == [
        "dist/student/grader/calibration.json: grader-only file in the student bundle",
        "dist/student/solutions/x.txt: grader-only file in the student bundle",
    ]


def test_leak_check_ignores_short_generic_and_public_lines(repo):
    """Are short lines, generic ones ("return centered") and lines also in a skeleton not leaks?"""
    solution = NORMALIZATION_SOLUTION.replace(
        "        return centered / (np.std(x, axis=0) + EPSILON)\n",
        "        return centered / (np.std(x, axis=0) + EPSILON)\n        return x\n"
        "        return centered\n        print('shared line here')\n",
    ) + "\n\nprint('shared line here')\n"
    (repo / "solutions/normalization.py").write_text(solution)
    (repo / "grader/feedback.py").write_text("def hint(centered):\n    return centered\n")
    pipeline.build_dist(repo)
    assert pipeline.find_leaks(repo) == []


def test_stale_check_reports_out_of_date_assignment(repo):
    """Does stale_assignment_files report missing, changed and orphaned files, and nothing after a build?"""
    assert "assignment/normalization.py is missing" in pipeline.stale_assignment_files(repo)
    pipeline.build_dist(repo)
    assert pipeline.stale_assignment_files(repo) == []
    (repo / "solutions/experiments.py").write_text(EXPERIMENTS_SOLUTION + "EPOCHS = 2\n")
    (repo / "assignment/orphan.py").write_text("x = 1\n")
    assert pipeline.stale_assignment_files(repo) == [
        "assignment/experiments.py is out of date",
        "assignment/orphan.py has no source any more",
    ]


# =========================================================================== command line


def run_builder(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_dist_prints_the_zip_digests(repo):
    """Does ``python -m builder dist --root`` build and print the sha256 of both zips?"""
    result = run_builder("dist", "--root", str(repo))
    assert result.returncode == 0, result.stderr
    digest = archive.sha256_file(repo / "dist/student.zip")
    assert f"sha256 {digest}  dist/student.zip" in result.stdout
    assert "dist/autograder/autograder.zip" in result.stdout


def test_cli_reports_marker_errors_without_a_traceback(repo):
    """Does a marker error exit with status 2 and a file:line message, not a traceback?"""
    (repo / "solutions/experiments.py").write_text("# BEGIN SOLUTION\nX = 1\n")
    result = run_builder("dist", "--root", str(repo))
    assert result.returncode == 2
    assert "solutions/experiments.py:1: BEGIN SOLUTION is never closed" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_check_stale_exit_status(repo):
    """Does ``check-stale`` exit 1 while assignment/ is out of date and 0 after a build?"""
    stale = run_builder("check-stale", "--root", str(repo))
    assert stale.returncode == 1
    assert "assignment/normalization.py is missing" in stale.stderr
    assert run_builder("dist", "--root", str(repo)).returncode == 0
    fresh = run_builder("check-stale", "--root", str(repo))
    assert fresh.returncode == 0, fresh.stderr


def test_builder_does_not_import_tensorflow():
    """Can the builder run without importing tensorflow or the grader?"""
    code = "import sys, builder, builder.__main__; print(sorted(m for m in ('tensorflow', 'grader', 'keras') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


# =========================================================================== templates


def autograder_root(repo: Path, tmp_path: Path) -> Path:
    """A fake /autograder with the built zip unpacked in source/ and a submission."""
    pipeline.build_dist(repo)
    root = tmp_path / "autograder"
    with zipfile.ZipFile(repo / "dist/autograder/autograder.zip") as bundle:
        bundle.extractall(root / "source")
    (root / "submission").mkdir()
    (root / "submission/normalization.py").write_text("x = 1\n")
    return root


def run_autograder(root: Path, python: str) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": python}
    subprocess.run(["bash", str(root / "source/run_autograder")], env=env, check=True, timeout=120)
    return json.loads((root / "results/results.json").read_text())


def test_run_autograder_runs_the_grader(repo, tmp_path):
    """Does run_autograder run ``python -m grader grade`` from source/ and keep its results?"""
    root = autograder_root(repo, tmp_path)
    assert run_autograder(root, sys.executable) == {"score": 7, "tests": []}


def test_run_autograder_writes_results_when_python_is_missing(repo, tmp_path):
    """Is a valid results.json with score 0 and an explanation written when the venv is missing?"""
    root = autograder_root(repo, tmp_path)
    results = run_autograder(root, str(tmp_path / "no-such-python"))
    assert results["score"] == 0
    assert "setup.sh did not finish" in results["output"]


def test_run_autograder_writes_results_when_the_grader_crashes(repo, tmp_path):
    """Is a valid results.json with score 0 written when the grader exits without one?"""
    root = autograder_root(repo, tmp_path)
    (root / "source/grader/__main__.py").write_text('raise SystemExit("boom \\"quoted\\"")\n')
    results = run_autograder(root, sys.executable)
    assert results["score"] == 0
    assert "exit status 1" in results["output"]


def test_setup_script_is_valid_bash_and_creates_the_sandbox_user():
    """Does setup.sh parse, install python3.11 with venv, pin packages, and add student_sandbox?"""
    subprocess.run(["bash", "-n", str(TEMPLATES / "setup.sh")], check=True)
    text = (TEMPLATES / "setup.sh").read_text()
    assert "python3.11" in text or 'python${PYTHON_VERSION}' in text
    assert "-venv" in text and "-r \"$SOURCE_DIR/requirements.txt\" -c \"$SOURCE_DIR/constraints.txt\"" in text
    assert "useradd --system --no-create-home" in text and "student_sandbox" in text


def test_student_makefile_has_install_and_check_targets():
    """Does the student Makefile define install (pinned venv) and check (grader check .), tab-indented?"""
    text = (TEMPLATES / "student_Makefile").read_text()
    assert "\ninstall:\n\t" in text and "\ncheck:\n\t" in text
    assert "pip install -r requirements.txt -c constraints.txt" in text
    assert "-m grader check ." in text
