"""Part 5: the optimizer experiment and best_setting. Otter exception-based test file.

best_setting: each mistake costs its own test. 5.8 judges the last-epoch rule (one case's
best epoch is not its last) and is the one test that asks for the key alone; 5.9 judges
the other rules on the key best_setting chose, also when it returned a (key, history) pair.
The public 5.10 judges the two rules its docstring states most plainly (lower is better for
a loss; empty results raise ValueError), so the self-check catches them; 5.9 judges them
too, with NaN and ties.
"""

from otter.test_files import test_case

from grader import experiment_checks as ex
from grader.checks import check, check_step, shown

OK_FORMAT = False
name = "Part 5: optimizers"



class Returned:
    """What best_setting returned when it is not a key the grader records as a value
    (a ``(key, history)`` pair, a bool, ...): equal to no setting, shown as the student
    would see it."""

    def __init__(self, record):
        self.record = record

    def __repr__(self):
        text = str(self.record.get("repr", "?"))
        kind = self.record.get("class")
        if not kind:
            return text
        return shown({"type": kind, "repr": text})


def answer(best_setting_answers, index, *, pair_key=False):
    """best_setting's answer to case ``index``. With ``pair_key``, the key of a returned
    ``(key, history)`` pair is judged (5.8 alone says to return the key by itself)."""
    entry = best_setting_answers.value["answers"][index]
    check(entry["ok"], "best_setting to return a setting",
          (entry.get("error") or {}).get("summary", "an error"), "see its docstring")
    key = entry.get("key") or {}
    if pair_key and isinstance(key.get("pair_key"), dict):
        key = key["pair_key"]
    if "value" in key:
        return key["value"]
    found = Returned(key)
    check(False, "best_setting to return one key of results (the setting itself)", repr(found),
          "return the key alone, not a (key, history) pair" if key.get("class") == "tuple"
          else "return one of the keys of results")
    return found


@test_case(name="5.1 one history per optimizer", points=1, hidden=False)
def test_histories(optimizer_experiment):
    ex.check_histories(optimizer_experiment)


@test_case(name="5.2 a fresh model per optimizer, built with that optimizer", points=2,
           hidden=False)
def test_settings(optimizer_experiment, profile):
    ex.check_fresh_models(optimizer_experiment)
    ex.check_settings(optimizer_experiment, learning_rate=profile.learning_rate,
                      batch_size=profile.batch_size)


@test_case(name="5.3 each run logged to log_dir/optimizer_<name>", points=1, hidden=False)
def test_run_dirs(optimizer_experiment):
    ex.check_run_dirs(optimizer_experiment)


@test_case(name="5.4 weight histograms recorded", points=1, hidden=False)
def test_histograms(optimizer_experiment):
    ex.check_histograms(optimizer_experiment)


@test_case(name="5.5 logged curves equal the returned histories", points=1, hidden=False)
def test_logs_match(optimizer_experiment):
    ex.check_logs_match_history(optimizer_experiment)


@test_case(name="5.8 best_setting picks the highest final val_accuracy", points=2, hidden=False)
def test_best_setting_accuracy(best_setting_answers):
    check_step(best_setting_answers)
    found = answer(best_setting_answers, 0)
    check(found == 32, "32 (final val_accuracy 0.8 beats 0.75 and 0.7)", repr(found),
          "compare the LAST epoch's value of the metric")
    found = answer(best_setting_answers, 4)
    check(found == 32, "32 (final val_accuracy 0.7 beats 0.65 and 0.6, although batch size 8 "
          "peaked at 0.9 in its first epoch)", repr(found),
          "compare the value of the metric at the LAST epoch (history[metric][-1]), not each "
          "run's best epoch")


def _check_loss_direction(best_setting_answers):
    found = answer(best_setting_answers, 1, pair_key=True)
    check(found == "adam", "'adam' for metric='val_loss' (lowest final loss 0.4)", repr(found),
          "for metrics containing 'loss', lower is better")


def _check_empty_raises(best_setting_answers):
    empty = best_setting_answers.value["empty"]
    check(empty.get("is_value_error"), "best_setting({}) to raise ValueError",
          empty.get("raised") or "no error", "raise ValueError for empty results")


@test_case(name="5.10 best_setting as its docstring says: lower is better for a loss, empty "
                "results raise ValueError", points=1, hidden=False)
def test_best_setting_docstring(best_setting_answers):
    check_step(best_setting_answers)
    _check_loss_direction(best_setting_answers)
    _check_empty_raises(best_setting_answers)
