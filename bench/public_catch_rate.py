"""Which mistakes of the mutant corpus the student's self-check catches.

    python bench/public_catch_rate.py [--only NAME ...] [--markdown]

Grades every mutant of ``tests/mutants/`` the way ``python -m grader check`` does (the
``check`` profile, public tests only: ``include_hidden=False``), mutants of disjoint parts
sharing one graded submission (``tests/mutants/grading.py``'s batching; a part counts as
affected when it grades or only needs a changed module, since the self-check's experiments
build the student's own model), and prints one row
per mutant: is the mistake visible from a docstring (``Mutant.docstring``: the sentence that
shows it, or why none does), and which public tests fail. Then the figures README quotes:
caught / visible from a docstring / total, and the mistakes not caught with why.

A failing public test is put down to the mutant of its batch whose parts include the test
file's part (the parts of one batch are disjoint). The reference is graded first the same
way: a public test it fails would make every figure meaningless, so the bench stops.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import SOLUTIONS, make_submission  # noqa: E402
from mutants import grading  # noqa: E402
from mutants.corpus import MUTANTS  # noqa: E402


def test_owners():
    """{test id: part name} of every public test of the configured parts."""
    from grader import engine
    from grader.parts import PARTS
    owners = {}
    for name, part in PARTS.items():
        for case in engine.ExceptionTestFile.from_file(str(part.test_file)).test_cases:
            if not case.hidden:
                owners[grading.test_id(case.name)] = name
    return owners


def grade_public(submission, parts):
    """The self-check's grade of ``submission`` on the test files of ``parts`` (None: all)
    -> {test id: first line of the message} of every failed public test."""
    from grader import engine
    from grader.config import CHECK
    from grader.parts import PARTS
    chosen = [p for name, p in PARTS.items() if parts is None or name in parts]
    with tempfile.TemporaryDirectory(prefix="train-public-tests-") as tests_dir:
        for part in chosen:
            shutil.copy(part.test_file, os.path.join(tests_dir, f"{part.name}.py"))
        report = engine.grade(str(submission), profile=CHECK, include_hidden=False,
                              tests_dir=tests_dir)
    if report.infrastructure_failure:
        raise SystemExit(f"no grade of {submission}: {report.infrastructure_failure}")
    return {grading.test_id(r.name): (r.message or "").strip().splitlines()[0][:160]
            for r in report.results if not r.passed}


def measure(mutants):
    """{mutant name: {test id: message}} of the public tests each mutant fails."""
    owners = test_owners()
    caught = {mutant.name: {} for mutant in mutants}
    with tempfile.TemporaryDirectory(prefix="train-catch-rate-") as folder:
        every_part = set().union(*(grading.affected_parts(m.modules) for m in mutants))
        failed = grade_public(make_submission(folder, name="reference"), every_part)
        if failed:
            raise SystemExit(f"the reference fails public tests in the check profile: {failed}")
        for number, batch in enumerate(grading.batches(mutants, grading.affected_parts)):
            started = time.monotonic()
            replacements = [r for mutant in batch for r in mutant.replacements]
            submission = make_submission(folder, replacements, name=f"batch{number}")
            parts_of = {mutant.name: grading.affected_parts(mutant.modules) for mutant in batch}
            failed = grade_public(submission, set().union(*parts_of.values()))
            for test_id, message in failed.items():
                owner = [m for m, parts in parts_of.items() if owners.get(test_id) in parts]
                if len(owner) != 1:
                    raise SystemExit(f"batch {number}: public test {test_id} failed and belongs "
                                     f"to no single mutant of {sorted(parts_of)}: {message}")
                caught[owner[0]][test_id] = message
            print(f"batch {number + 1}: {', '.join(parts_of)} "
                  f"({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return caught


def check_variants():
    """{variant name: {test id: message}} of the public tests each correct-but-different
    solution (tests/variants/) fails in the self-check: every entry is a false alarm."""
    from variants.corpus import VARIANTS
    alarms = {}
    with tempfile.TemporaryDirectory(prefix="train-catch-rate-") as folder:
        for number, batch in enumerate(grading.batches(VARIANTS, grading.affected_parts)):
            replacements = [r for variant in batch for r in variant.replacements]
            submission = make_submission(folder, replacements, name=f"variants{number}")
            parts_of = {variant.name: grading.affected_parts(variant.modules) for variant in batch}
            failed = grade_public(submission, set().union(*parts_of.values()))
            for variant in batch:
                mine = {test_id: message for test_id, message in failed.items()
                        if test_owners().get(test_id) in parts_of[variant.name]}
                alarms[variant.name] = mine
                print(f"variant {variant.name}: "
                      f"{'passes every public test' if not mine else mine}", file=sys.stderr)
    return alarms


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def table(mutants, caught):
    lines = ["| mutant | visible from a docstring? | caught by the public tests? |",
             "|---|---|---|"]
    for mutant in mutants:
        visible = f"yes: {mutant.docstring}" if mutant.visible else f"no: {mutant.unseen}"
        found = caught[mutant.name]
        verdict = ("yes: " + ", ".join(sorted(found, key=grading._order))) if found else "**no**"
        lines.append(f"| `{mutant.name}` | {_cell(visible)} | {verdict} |")
    return "\n".join(lines)


def summary(mutants, caught):
    visible = [m for m in mutants if m.visible]
    lines = [f"caught by the public tests: {sum(bool(caught[m.name]) for m in mutants)} of "
             f"{len(mutants)} mutants; {sum(bool(caught[m.name]) for m in visible)} of the "
             f"{len(visible)} visible from a docstring"]
    missed = [m for m in mutants if not caught[m.name]]
    lines += [f"  not caught: {m.name} ({'VISIBLE: ' + m.docstring if m.visible else m.unseen})"
              for m in missed]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="names of the mutants to grade (default all)")
    parser.add_argument("--messages", action="store_true",
                        help="also print the first line of every failing public test's message")
    parser.add_argument("--variants", action="store_true",
                        help="instead: grade the correct-but-different solutions (tests/variants/) "
                             "the same way; each must pass every public test")
    args = parser.parse_args()
    if args.variants:
        alarms = check_variants()
        failing = {name: tests for name, tests in alarms.items() if tests}
        print(f"{len(alarms) - len(failing)} of {len(alarms)} variants pass every public test"
              + "".join(f"\n  {name}: {tests}" for name, tests in failing.items()))
        raise SystemExit(1 if failing else 0)
    mutants = [m for m in MUTANTS if not args.only or m.name in args.only]
    unknown = set(args.only or ()) - {m.name for m in mutants}
    if unknown:
        raise SystemExit(f"no mutant named {', '.join(sorted(unknown))}")
    unconfigured = [m.name for m in mutants if not grading.parts_of(m.modules)]
    if unconfigured:  # a part under development, not in the assignment being graded
        print(f"skipped (no configured part grades their modules): {', '.join(unconfigured)}",
              file=sys.stderr)
        mutants = [m for m in mutants if m.name not in unconfigured]
    started = time.monotonic()
    caught = measure(mutants)
    print(table(mutants, caught))
    print()
    print(summary(mutants, caught))
    if args.messages:
        for mutant in mutants:
            for test_id, message in sorted(caught[mutant.name].items(),
                                           key=lambda item: grading._order(item[0])):
                print(f"{mutant.name} {test_id}: {message}")
    print(f"({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
