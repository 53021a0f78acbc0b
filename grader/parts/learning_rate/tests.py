"""Part 4: the learning-rate experiment. Otter exception-based test file."""

from otter.test_files import test_case

from grader import experiment_checks as ex

OK_FORMAT = False
name = "Part 4: learning rate"


@test_case(name="4.1 one history per learning rate", points=2, hidden=False)
def test_histories(learning_rate_experiment):
    ex.check_histories(learning_rate_experiment)


@test_case(name="4.2 a fresh model per learning rate, built with that rate", points=3,
           hidden=False)
def test_settings(learning_rate_experiment, profile):
    ex.check_fresh_models(learning_rate_experiment)
    ex.check_settings(learning_rate_experiment, optimizer=profile.optimizer,
                      batch_size=profile.batch_size)


@test_case(name="4.3 each run logged to log_dir/learning_rate_<lr>", points=2, hidden=False)
def test_run_dirs(learning_rate_experiment):
    ex.check_run_dirs(learning_rate_experiment)


@test_case(name="4.4 weight histograms recorded", points=1, hidden=False)
def test_histograms(learning_rate_experiment):
    ex.check_histograms(learning_rate_experiment)


@test_case(name="4.5 logged curves equal the returned histories", points=2, hidden=False)
def test_logs_match(learning_rate_experiment):
    ex.check_logs_match_history(learning_rate_experiment)


@test_case(name="4.6 returned histories match the trained models", points=2, hidden=True)
def test_weights_match(learning_rate_experiment):
    ex.check_weights_match_history(learning_rate_experiment)


@test_case(name="4.7 each rate behaves like the reference's (1.0 unstable, 0.001 converges)",
           points=3, hidden=True)
def test_convergence(learning_rate_experiment, thresholds, profile):
    ex.check_convergence(learning_rate_experiment, thresholds, "learning_rate", profile,
                         bounded_above=(1.0,))
    ex.check_loss_falls(learning_rate_experiment, thresholds, "learning_rate", profile)
