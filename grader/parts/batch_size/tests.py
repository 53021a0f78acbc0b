"""Part 3: the batch-size experiment. Otter exception-based test file."""

from otter.test_files import test_case

from grader import experiment_checks as ex

OK_FORMAT = False
name = "Part 3: batch size"


@test_case(name="3.1 one history per batch size", points=2, hidden=False)
def test_histories(batch_size_experiment):
    ex.check_histories(batch_size_experiment)


@test_case(name="3.2 a fresh model per batch size, trained with that batch size", points=3,
           hidden=False)
def test_settings(batch_size_experiment, profile):
    ex.check_fresh_models(batch_size_experiment)
    ex.check_settings(batch_size_experiment, learning_rate=profile.learning_rate,
                      optimizer=profile.optimizer)


@test_case(name="3.3 each run logged to log_dir/batch_size_<b>", points=2, hidden=False)
def test_run_dirs(batch_size_experiment):
    ex.check_run_dirs(batch_size_experiment)


@test_case(name="3.4 weight histograms recorded", points=1, hidden=False)
def test_histograms(batch_size_experiment):
    ex.check_histograms(batch_size_experiment)


@test_case(name="3.5 logged curves equal the returned histories", points=2, hidden=False)
def test_logs_match(batch_size_experiment):
    ex.check_logs_match_history(batch_size_experiment)


@test_case(name="3.6 returned histories match the trained models", points=2, hidden=True)
def test_weights_match(batch_size_experiment):
    ex.check_weights_match_history(batch_size_experiment)


@test_case(name="3.7 every batch size converges like the reference's", points=3, hidden=True)
def test_convergence(batch_size_experiment, thresholds, profile):
    ex.check_convergence(batch_size_experiment, thresholds, "batch_size", profile)
    ex.check_loss_falls(batch_size_experiment, thresholds, "batch_size", profile)
