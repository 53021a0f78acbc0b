"""Part 5: the optimizer experiment and best_setting. Otter exception-based test file."""

from otter.test_files import test_case

from grader import experiment_checks as ex
from grader.checks import check, check_step

OK_FORMAT = False
name = "Part 5: optimizers"



def answer(best_setting, index):
    entry = best_setting.value["answers"][index]
    check(entry["ok"], "best_setting to return a setting",
          (entry.get("error") or {}).get("summary", "an error"), "see its docstring")
    return entry["key"].get("value")


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


@test_case(name="5.6 returned histories match the trained models", points=1, hidden=True)
def test_weights_match(optimizer_experiment):
    ex.check_weights_match_history(optimizer_experiment)


@test_case(name="5.7 each optimizer converges like the reference's (SGD slower)", points=3,
           hidden=True)
def test_convergence(optimizer_experiment, thresholds, profile):
    ex.check_convergence(optimizer_experiment, thresholds, "optimizer", profile, bounded_above=("sgd",))
    ex.check_loss_falls(optimizer_experiment, thresholds, "optimizer", profile)


@test_case(name="5.8 best_setting picks the highest final val_accuracy", points=2, hidden=False)
def test_best_setting_accuracy(best_setting):
    check_step(best_setting)
    found = answer(best_setting, 0)
    check(found == 32, "32 (final val_accuracy 0.8 beats 0.75 and 0.7)", repr(found),
          "compare the LAST epoch's value of the metric")


@test_case(name="5.9 best_setting: lower is better for losses, NaN is worst, ties go first",
           points=3, hidden=True)
def test_best_setting_rules(best_setting):
    check_step(best_setting)
    found = answer(best_setting, 1)
    check(found == "adam", "'adam' for metric='val_loss' (lowest final loss 0.4)", repr(found),
          "for metrics containing 'loss', lower is better")
    found = answer(best_setting, 2)
    check(found == 0.01, "0.01 (a NaN final value counts as worst; 0.6 ties go to the first)",
          repr(found), "treat NaN as the worst value and keep the first of equal settings")
    found = answer(best_setting, 3)
    check(found == 16, "16 for metric='loss' (0.30 < 0.31)", repr(found),
          "use the metric you are given")
    empty = best_setting.value["empty"]
    check(empty.get("is_value_error"), "best_setting({}) to raise ValueError",
          empty.get("raised") or "no error", "raise ValueError for empty results")
