"""The mutant corpus (tests/mutants/corpus.py): every realistic mistake loses exactly the
points of the tests it must fail, and the failing messages name the mistake.

Each mutant is graded on the parts its changed modules take part in (see
tests/mutants/grading.py; TRAIN_TEST_FULL_GRADES=1 grades every part)."""

import pytest

from grader.parts import total_points

from conftest import SOLUTIONS, make_submission
from mutants import grading
from mutants.corpus import EXPECTED_SCORES, MUTANTS, render, points_by_test


def test_corpus_is_well_formed():
    """Does every mutant name a real test it must fail, change each text exactly once, say
    which message names the mistake, and which docstring shows it? Are there at least 15,
    all different?"""
    points = points_by_test()
    assert len(MUTANTS) >= 15
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert len({m.replacements for m in MUTANTS}) == len(MUTANTS)
    for mutant in MUTANTS:
        assert mutant.fails and set(mutant.fails) <= set(points), mutant.name
        assert mutant.says and set(mutant.says) <= set(mutant.fails) | {"*"}, mutant.name
        assert set(mutant.never_says) <= set(mutant.fails) | {"*"}, mutant.name
        assert bool(mutant.docstring) != bool(mutant.unseen), \
            f"{mutant.name}: give the docstring sentence that shows the mistake, or (only if " \
            "none does) why it is unseen (bench/public_catch_rate.py counts them)"
        for module, old, new in mutant.replacements:
            text = (SOLUTIONS / module).read_text()
            assert text.count(old) == 1, f"{mutant.name}: {module} holds {old!r} {text.count(old)} times"
            assert old != new, mutant.name


def test_expected_score_table_is_current():
    """Is tests/mutants/expected_scores.md what the corpus and the live test files give?
    (Regenerate: python tests/mutants/corpus.py)"""
    assert EXPECTED_SCORES.read_text() == render()


BATCHES = grading.batches(MUTANTS)


@pytest.mark.slow
@pytest.mark.parametrize("batch", BATCHES, ids=["+".join(m.name for m in b) for b in BATCHES])
def test_mutant_loses_exactly_its_points(tmp_path, batch):
    """Does each mutant fail exactly its tests and lose exactly their points, with messages
    that name the mistake? (Mutants whose parts do not overlap share one submission: see
    grading.batches.)"""
    submission = make_submission(tmp_path, [r for mutant in batch for r in mutant.replacements])
    outcome = grading.grade(submission, sorted({m for mutant in batch for m in mutant.modules}))
    points = points_by_test()
    expected = {test_id for mutant in batch for test_id in mutant.fails}
    expected_score = outcome.max_score - sum(points[test_id][0] for test_id in expected)
    assert outcome.max_score == total_points()
    assert (sorted(outcome.failed), outcome.score) == (sorted(expected), expected_score), \
        outcome.describe()
    for mutant in batch:
        for test_id, text in mutant.says.items():
            for failed in (mutant.fails if test_id == "*" else [test_id]):
                assert text.lower() in outcome.failed[failed].lower(), \
                    f"{mutant.name}: {failed}'s message does not say {text!r}:\n{outcome.failed[failed]}"
        for test_id, text in mutant.never_says.items():
            for failed in (mutant.fails if test_id == "*" else [test_id]):
                assert text.lower() not in outcome.failed[failed].lower(), \
                    f"{mutant.name}: {failed}'s message says {text!r}, which misleads:\n" \
                    f"{outcome.failed[failed]}"
    for test_id, message in outcome.failed.items():
        assert message.strip() and "internal grader error" not in message, (test_id, message)
        # values are shown as the student wrote them, never as the grader's records
        assert "{'type':" not in message and "'repr':" not in message, (test_id, message)
