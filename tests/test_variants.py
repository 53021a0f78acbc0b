"""Correct-but-different solutions (tests/variants/corpus.py) earn every point.

Each variant is graded on the parts its changed modules take part in (see
tests/mutants/grading.py; TRAIN_TEST_FULL_GRADES=1 grades every part)."""

import pytest

from grader.parts import total_points

from conftest import SOLUTIONS, make_submission
from mutants import grading
from variants.corpus import VARIANTS


def test_variants_are_well_formed():
    """Does every variant change real text of solutions/, each exactly once?"""
    assert len({v.name for v in VARIANTS}) == len(VARIANTS)
    for variant in VARIANTS:
        for module, old, new in variant.replacements:
            text = (SOLUTIONS / module).read_text()
            assert text.count(old) == 1, f"{variant.name}: {module} holds {old!r} {text.count(old)} times"
            assert old != new


BATCHES = grading.batches(VARIANTS)


@pytest.mark.slow
@pytest.mark.parametrize("batch", BATCHES, ids=["+".join(v.name for v in b) for b in BATCHES])
def test_variant_earns_every_point(tmp_path, batch):
    """Does each correct-but-different solution score full marks? (Variants whose parts do
    not overlap share one submission: see grading.batches.)"""
    submission = make_submission(tmp_path, [r for variant in batch for r in variant.replacements])
    outcome = grading.grade(submission, sorted({m for variant in batch for m in variant.modules}))
    assert outcome.failed == {} and outcome.score == outcome.max_score == total_points(), \
        outcome.describe()
