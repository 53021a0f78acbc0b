"""Grading a submission that differs from solutions/ in a few modules, cheaply.

A submission built from ``solutions/`` by changing some modules is graded only on the
parts whose graded modules it changed (``grader.probes.PARTS``): the other parts run the
reference's own, unchanged code and earn their full points (``tests/test_seeds.py`` and
``tests/test_end_to_end.py`` hold the reference to that), so they are counted as earned
instead of being trained again. Set ``TRAIN_TEST_FULL_GRADES=1`` to grade every part.
"""

import dataclasses
import os
import shutil
import tempfile

FULL_GRADES = os.environ.get("TRAIN_TEST_FULL_GRADES", "") not in ("", "0")


@dataclasses.dataclass
class Outcome:
    """What grading found, over all the assignment's points."""

    report: object                 # grader.engine.GradeReport of the parts that were graded
    score: float                   # graded score + the full points of the parts not graded
    max_score: float
    failed: dict                   # {test id: message} of every failed test
    not_graded: list               # test files counted at full marks without running

    def describe(self):
        lines = [f"score {self.score:g}/{self.max_score:g}"]
        lines += [f"  FAILED {test_id}: {message.splitlines()[0][:300]}"
                  for test_id, message in sorted(self.failed.items(), key=lambda i: _order(i[0]))]
        return "\n".join(lines)


def _order(test_id):
    return tuple(int(part) for part in test_id.split("."))


def test_id(name):
    """'1.10 the normalized run ...' -> '1.10'."""
    return name.split()[0]


def parts_of(modules):
    """Names of the parts that grade one of ``modules``."""
    from grader.parts import PARTS
    return {name for name, part in PARTS.items() if set(part.graded_modules) & set(modules)}


def affected_parts(modules):
    """Names of the parts that grade or need one of ``modules`` (see ``batches``)."""
    from grader.parts import PARTS
    return {name for name, part in PARTS.items()
            if set(part.graded_modules + part.needed_modules) & set(modules)}


def batches(items, parts_of=parts_of):
    """``items`` (mutants or variants) packed, in corpus order, into batches whose changed
    modules are graded by disjoint sets of parts. One submission then holds a whole batch:
    each part runs in its own sandboxed process and reads only its own modules, so every
    item's tests fail or pass exactly as they would alone, and one grade serves several
    items (the grade's fixed cost, not the items, dominates ``make test``). ``parts_of``
    names the parts a set of changed modules affects (the self-check, which runs the
    experiments with the student's own model builder, also counts the parts that only
    need a module: ``affected_parts``)."""
    packed = []  # [(parts, [items])]
    for item in items:
        parts = parts_of(item.modules)
        for taken, members in packed:
            if parts and not taken & parts:
                taken |= parts
                members.append(item)
                break
        else:
            packed.append((set(parts), [item]))
    return [tuple(members) for _, members in packed]


def files_for(modules):
    """Paths of the grader test files whose steps run in a part grading one of ``modules``."""
    from grader import engine
    from grader.parts import PARTS
    parts = {name for name, part in PARTS.items() if set(part.graded_modules) & set(modules)}
    chosen, skipped = [], []
    for part in PARTS.values():
        path = part.test_file
        test_file = _load(path)
        needed = {engine.STEP_TO_PART[p] for case in test_file.test_cases
                  for p in engine.case_parameters(case) if p in engine.STEP_TO_PART}
        (chosen if needed & parts else skipped).append((path, test_file))
    return chosen, skipped


def _load(path):
    from otter.test_files.exception_test import ExceptionTestFile
    return ExceptionTestFile.from_file(str(path))


def grade(submission, modules, *, seed=None, full=FULL_GRADES):
    """Grade ``submission`` (which changes ``modules`` of solutions/) -> Outcome."""
    from grader import engine
    from grader.config import GRADE
    profile = GRADE if seed is None else GRADE.with_seed(seed)
    chosen, skipped = files_for(modules)
    if full:
        chosen, skipped = chosen + skipped, []
    with tempfile.TemporaryDirectory(prefix="train-partial-tests-") as tests_dir:
        for path, _ in chosen:
            shutil.copy(path, os.path.join(tests_dir, f"{path.parent.name}.py"))
        report = engine.grade(str(submission), profile=profile, tests_dir=tests_dir)
    free = sum(float(case.points or 0) for _, test_file in skipped for case in test_file.test_cases)
    failed = {test_id(r.name): r.message for r in report.results if not r.passed}
    return Outcome(report=report, score=round(report.score + free, 4),
                   max_score=round(report.max_score + free, 4), failed=failed,
                   not_graded=[test_file.name for _, test_file in skipped])
