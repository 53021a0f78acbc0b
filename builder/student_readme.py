"""The student's README.md and the notebook edition, for the student bundle.

``make dist`` calls :func:`student_docs` while it packs the student bundle: it renders
``builder/templates/student_README.md`` (the parts table and the points come from
`builder.notebook.PARTS` and the otter test files) and the notebook
(`builder.notebook.notebook_bytes`). Both are plain functions of the repository's files,
so the bundle stays byte-reproducible; the build's leak check reads them like every other
student file, and :func:`check_notebook_leaks` also reads the notebook's cells one line at a
time (in the notebook's JSON a line is quoted, which the line-by-line check would miss).
"""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath
from typing import Mapping

from .notebook import NOTEBOOK_NAME, PARTS, cell_source_lines, notebook_bytes

README_TEMPLATE = "student_README.md"
README_NAME = "README.md"


def _test_file(repo_root: Path, number: int, part: str) -> Path | None:
    """The otter test file of a part: grader/parts/<part>/tests.py, or grader/tests/part<N>_*.py."""
    candidate = repo_root / "grader" / "parts" / part / "tests.py"
    if candidate.is_file():
        return candidate
    found = sorted((repo_root / "grader" / "tests").glob(f"part{number}_*.py"))
    return found[0] if found else None


def test_points(source: str) -> tuple[float, float]:
    """``(all points, public points)`` of the ``@test_case(points=..., hidden=...)`` cases."""
    total = public = 0.0
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call)
                    and getattr(decorator.func, "id", getattr(decorator.func, "attr", None)) == "test_case"):
                continue
            values = {k.arg: k.value for k in decorator.keywords}
            points = values.get("points")
            points = float(points.value) if isinstance(points, ast.Constant) else 1.0
            hidden = values.get("hidden")
            total += points
            if not (isinstance(hidden, ast.Constant) and hidden.value):
                public += points
    return total, public


def assignment_parts(repo_root: Path, parts=PARTS) -> list[dict]:
    """The notebook table's parts, in the order of ``[parts]`` in grader/assignment.toml
    when it exists; a part the table does not describe gets a plain entry (name only)."""
    import tomllib
    config = Path(repo_root) / "grader" / "assignment.toml"
    if not config.is_file():
        return list(parts)
    with open(config, "rb") as handle:
        names = list(tomllib.load(handle).get("parts") or {})
    known = {part["part"]: part for part in parts}
    return [known.get(name) or {"part": name, "title": name.replace("_", " ").capitalize(),
                                "write": "see the docstrings of its module.", "own": [], "uses": []}
            for name in names]


def parts_table(repo_root: Path, parts=PARTS) -> tuple[str, float, float]:
    """The markdown table of the parts, the total points and the public points."""
    rows = ["| part | what you write | points (public + hidden) |", "|---|---|---|"]
    total_all = public_all = 0.0
    parts = assignment_parts(repo_root, parts)
    for number, part in enumerate(parts, start=1):
        path = _test_file(Path(repo_root), number, part["part"])
        total, public = test_points(path.read_text(encoding="utf-8")) if path else (0.0, 0.0)
        total_all, public_all = total_all + total, public_all + public
        title = part["title"] if part["title"].startswith("Part ") else f"Part {number}: {part['title']}"
        rows.append(f"| {title} | {part['write']} | {total:g} ({public:g} + {total - public:g}) |")
    return "\n".join(rows), total_all, public_all


def public_test_folders(files: Mapping[str, object], public_tests: Mapping[str, str]) -> str:
    """Where the bundle holds the public test files, e.g. "`grader/tests/`"."""
    texts = {text.encode("utf-8") for text in public_tests.values()}
    folders = sorted({str(PurePosixPath(name).parent) + "/" for name, content in files.items()
                      if isinstance(content, bytes) and content in texts})
    if len(folders) > 3:  # one folder per part: name their parent
        parents = sorted({str(PurePosixPath(f).parent) + "/" for f in folders})
        return ", ".join(f"`{p}<part>/`" for p in parents)
    return ", ".join(f"`{f}`" for f in folders) or "`grader/`"


def render_readme(repo_root: Path, templates_dir: Path, parts=PARTS, *,
                  public_tests_at: str = "`grader/tests/`") -> str:
    """The student README's text."""
    template = (Path(templates_dir) / README_TEMPLATE).read_text(encoding="utf-8")
    table, total, public = parts_table(repo_root, parts)
    return (template.replace("{notebook}", NOTEBOOK_NAME)
            .replace("{public_tests}", public_tests_at)
            .replace("{parts_table}", table)
            .replace("{total_points}", f"{total:g}")
            .replace("{public_points}", f"{public:g}"))


def student_docs(repo_root: Path, templates_dir: Path, files: Mapping[str, object] = {},
                 public_tests: Mapping[str, str] = {}) -> dict[str, bytes]:
    """``{"README.md": ..., "train_assignment.ipynb": ...}`` for the student bundle whose
    other files are ``files`` (bundle name -> bytes or path), with ``public_tests`` (the
    public test texts) among them."""
    where = public_test_folders(files, public_tests)
    return {
        README_NAME: render_readme(repo_root, templates_dir, public_tests_at=where).encode("utf-8"),
        NOTEBOOK_NAME: notebook_bytes(assignment_parts(repo_root)),
    }


def notebook_leaks(files: Mapping[str, object], forbidden: Mapping[str, str],
                   hidden_names: Mapping[str, str]) -> list[str]:
    """Solution lines and hidden test names in the cells of the bundle's notebooks.

    ``files`` maps bundle names to bytes or paths; ``forbidden`` is solution line -> its file,
    ``hidden_names`` hidden test name -> its file (as the build's leak check makes them).
    """
    import re
    pattern = (re.compile(r"\b(" + "|".join(map(re.escape, sorted(hidden_names))) + r")\b")
               if hidden_names else None)
    leaks = []
    for name, content in sorted(files.items()):
        if not name.endswith(".ipynb"):
            continue
        data = content if isinstance(content, bytes) else Path(content).read_bytes()
        for lineno, line in enumerate(cell_source_lines(data) or [], start=1):
            stripped = line.strip()
            if stripped in forbidden:
                leaks.append(f"{name}: cell line {lineno}: solution line from {forbidden[stripped]}: "
                             f"{stripped!r}")
            match = pattern.search(line) if pattern else None
            if match:
                leaks.append(f"{name}: cell line {lineno}: name of hidden test {match.group(1)!r} "
                             f"from {hidden_names[match.group(1)]}")
    return leaks


def check_notebook_leaks(ctx) -> None:
    """Build step: fail (and delete the student bundle) when a notebook cell leaks."""
    from . import pipeline
    forbidden = pipeline._forbidden_solution_lines(ctx.repo_root, ctx.skeletons)
    leaks = notebook_leaks(ctx.student_files, forbidden, pipeline._hidden_names(ctx.repo_root))
    if leaks:
        for path in (ctx.out_dir / pipeline.STUDENT_DIR, ctx.out_dir / pipeline.STUDENT_ZIP):
            if path.is_dir():
                import shutil
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        raise pipeline.LeakError("the notebook leaks:\n" + "\n".join(f"  {leak}" for leak in leaks))

